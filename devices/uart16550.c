/*
 * The 16550A model. Interrupt sources in priority order: line status, received data,
 * THR empty, modem status; IIR names the highest pending one, and reading IIR while it
 * names THR empty acknowledges that one (as the data sheet says). In loopback mode
 * (MCR.LOOP) transmitted bytes come back as received ones and the modem inputs mirror
 * the modem outputs, which is how Linux's probe tells a real 16550 from nothing.
 */
#include <string.h>

#include "devices/uart16550.h"
#include "devices/uart16550_model.h"

/* Modem lines of an idle terminal that is present: carrier, DSR, CTS. */
#define UART_MSR_IDLE   (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS)

static uint8_t uart16550_iir(const struct uart16550 *u)
{
	uint8_t fifo = (u->u_fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO_ON : 0;

	if ((u->u_ier & UART_IER_RLSI) &&
	    (u->u_lsr & (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)))
		return fifo | UART_IIR_RLSI;
	if ((u->u_ier & UART_IER_RDI) && (u->u_lsr & UART_LSR_DR))
		return fifo | UART_IIR_RDI;
	if ((u->u_ier & UART_IER_THRI) && u->u_thr_ipending)
		return fifo | UART_IIR_THRI;
	if ((u->u_ier & UART_IER_MSI) && (u->u_msr & 0x0f))
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

static void uart16550_update_irq(struct uart16550 *u)
{
	bool level = !(uart16550_iir(u) & UART_IIR_NO_INT);

	if (level != u->u_irq_level) {
		u->u_irq_level = level;
		if (u->u_irq != NULL)
			u->u_irq(u->u_ctx, level);
	}
}

/* The modem inputs: mirrored from MCR in loopback, an idle line otherwise. */
static void uart16550_set_modem_inputs(struct uart16550 *u)
{
	uint8_t lines = UART_MSR_IDLE;

	if (u->u_mcr & UART_MCR_LOOP) {
		lines = 0;
		if (u->u_mcr & UART_MCR_RTS)
			lines |= UART_MSR_CTS;
		if (u->u_mcr & UART_MCR_DTR)
			lines |= UART_MSR_DSR;
		if (u->u_mcr & UART_MCR_OUT1)
			lines |= UART_MSR_RI;
		if (u->u_mcr & UART_MCR_OUT2)
			lines |= UART_MSR_DCD;
	}
	uint8_t old = u->u_msr & 0xf0, delta = u->u_msr & 0x0f;
	uint8_t changed = old ^ lines;
	if (changed & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(lines & UART_MSR_RI))
		delta |= UART_MSR_TERI;     /* trailing edge only */
	if (changed & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	u->u_msr = lines | delta;
}

void uart16550_init(struct uart16550 *u, void (*tx)(void *, uint8_t),
    void (*irq)(void *, bool), void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->u_tx = tx;
	u->u_irq = irq;
	u->u_ctx = ctx;
	u->u_lsr = UART_LSR_THRE | UART_LSR_TEMT;
	u->u_msr = UART_MSR_IDLE;
	u->u_lcr = UART_LCR_WLEN8;
	u->u_dll = UART_DIVISOR_9600;
}

bool uart16550_receive(struct uart16550 *u, uint8_t ch)
{
	if (u->u_rx_count == UART_RX_FIFO) {
		u->u_lsr |= UART_LSR_OE;
		uart16550_update_irq(u);
		return false;
	}
	u->u_rx[(u->u_rx_head + u->u_rx_count++) % UART_RX_FIFO] = ch;
	u->u_lsr |= UART_LSR_DR;
	uart16550_update_irq(u);
	return true;
}

uint8_t uart16550_read(struct uart16550 *u, unsigned off)
{
	uint8_t v = 0;
	bool dlab = u->u_lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_RBR:
		if (dlab) {
			v = u->u_dll;
			break;
		}
		if (u->u_rx_count > 0) {
			v = u->u_rx[u->u_rx_head];
			u->u_rx_head = (u->u_rx_head + 1) % UART_RX_FIFO;
			if (--u->u_rx_count == 0)
				u->u_lsr &= ~UART_LSR_DR;
		}
		break;
	case UART_IER:
		v = dlab ? u->u_dlm : u->u_ier;
		break;
	case UART_IIR:
		v = uart16550_iir(u);
		if ((v & UART_IIR_ID_MASK) == UART_IIR_THRI && !(v & UART_IIR_NO_INT))
			u->u_thr_ipending = false;
		break;
	case UART_LCR:
		v = u->u_lcr;
		break;
	case UART_MCR:
		v = u->u_mcr;
		break;
	case UART_LSR:
		v = u->u_lsr;
		u->u_lsr &= ~(UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI);
		break;
	case UART_MSR:
		v = u->u_msr;
		u->u_msr &= 0xf0;
		break;
	case UART_SCR:
		v = u->u_scr;
		break;
	default:
		v = 0xff;
		break;
	}
	uart16550_update_irq(u);
	return v;
}

void uart16550_write(struct uart16550 *u, unsigned off, uint8_t val)
{
	bool dlab = u->u_lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_THR:
		if (dlab) {
			u->u_dll = val;
			break;
		}
		if (u->u_mcr & UART_MCR_LOOP)
			uart16550_receive(u, val);
		else if (u->u_tx != NULL)
			u->u_tx(u->u_ctx, val);
		/* Transmission is instant: THR is empty again at once. */
		u->u_thr_ipending = true;
		break;
	case UART_IER:
		if (dlab) {
			u->u_dlm = val;
			break;
		}
		/* Enabling THRI while THR is empty raises it at once (8250 probes this). */
		if ((val & UART_IER_THRI) && !(u->u_ier & UART_IER_THRI))
			u->u_thr_ipending = true;
		u->u_ier = val & 0x0f;
		break;
	case UART_FCR:
		if ((val ^ u->u_fcr) & UART_FCR_ENABLE || (val & UART_FCR_CLEAR_RCVR)) {
			u->u_rx_count = 0;
			u->u_rx_head = 0;
			u->u_lsr &= ~UART_LSR_DR;
		}
		u->u_fcr = val & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIG_MASK);
		break;
	case UART_LCR:
		u->u_lcr = val;
		break;
	case UART_MCR:
		u->u_mcr = val & UART_MCR_MASK;
		uart16550_set_modem_inputs(u);
		break;
	case UART_SCR:
		u->u_scr = val;
		break;
	default:
		break;  /* LSR and MSR are read-only */
	}
	uart16550_update_irq(u);
}
