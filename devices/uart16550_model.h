/*
 * The host model of the COM1 16550A (register bits in devices/uart16550.h). Enough of
 * the chip for Linux's 8250 driver: its probe (scratch, IER, loopback MSR and FIFO
 * tests) passes, and transmit is instant, so THR is always empty. The model does no
 * I/O itself: bytes go out through tx, the interrupt line through irq.
 */
#ifndef DEVICES_UART16550_MODEL_H
#define DEVICES_UART16550_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define UART_RX_FIFO    16

struct uart16550 {
	uint8_t u_ier, u_lcr, u_mcr, u_lsr, u_msr, u_scr, u_fcr, u_dll, u_dlm;
	bool u_thr_ipending;        /* THR-empty interrupt pending (cleared by IIR read) */
	bool u_irq_level;           /* last level driven on the interrupt line */
	uint8_t u_rx[UART_RX_FIFO];
	unsigned u_rx_head, u_rx_count;
	void (*u_tx)(void *ctx, uint8_t ch);
	void (*u_irq)(void *ctx, bool level);   /* may be NULL */
	void *u_ctx;
};

void uart16550_init(struct uart16550 *u, void (*tx)(void *, uint8_t),
    void (*irq)(void *, bool), void *ctx);

/* A guest access to register offset off (0..7). */
uint8_t uart16550_read(struct uart16550 *u, unsigned off);
void uart16550_write(struct uart16550 *u, unsigned off, uint8_t val);

/* A byte arriving on the line. => false when the receive FIFO is full (overrun). */
bool uart16550_receive(struct uart16550 *u, uint8_t ch);

#endif /* DEVICES_UART16550_MODEL_H */
