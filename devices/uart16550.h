/*
 * The 16550A UART at COM1: register offsets and bits, shared by the host model
 * (devices/uart16550.c) and the guest driver (guest/dev/). The names follow the
 * National Semiconductor data sheet so either side can be checked against it and
 * against Linux's 8250 driver, which expects exactly this register set.
 *
 * Offsets are from the base port. With LCR.DLAB set, offsets 0 and 1 are the divisor
 * latch (DLL/DLM) instead of RBR/THR and IER.
 */
#ifndef DEVICES_UART16550_H
#define DEVICES_UART16550_H

#define UART_COM1_BASE      0x3f8
#define UART_COM1_IRQ       4
#define UART_NR_PORTS       8
#define UART_CLOCK_HZ       1843200u    /* crystal; baud = clock / (16 * divisor) */
#define UART_DIVISOR_9600   12          /* what firmware leaves in DLL/DLM at boot */

/* Register offsets. */
#define UART_RBR    0   /* in:  receive buffer (DLAB=0) */
#define UART_THR    0   /* out: transmit holding (DLAB=0) */
#define UART_DLL    0   /* divisor latch low (DLAB=1) */
#define UART_IER    1   /* interrupt enable (DLAB=0) */
#define UART_DLM    1   /* divisor latch high (DLAB=1) */
#define UART_IIR    2   /* in:  interrupt identification */
#define UART_FCR    2   /* out: FIFO control */
#define UART_LCR    3   /* line control */
#define UART_MCR    4   /* modem control */
#define UART_LSR    5   /* line status */
#define UART_MSR    6   /* modem status */
#define UART_SCR    7   /* scratch */

/* IER */
#define UART_IER_RDI    0x01    /* receive data available */
#define UART_IER_THRI   0x02    /* transmit holding register empty */
#define UART_IER_RLSI   0x04    /* receiver line status */
#define UART_IER_MSI    0x08    /* modem status */

/* IIR: the low nibble names the highest-priority pending interrupt. */
#define UART_IIR_NO_INT     0x01
#define UART_IIR_ID_MASK    0x0e
#define UART_IIR_MSI        0x00
#define UART_IIR_THRI       0x02
#define UART_IIR_RDI        0x04
#define UART_IIR_RLSI       0x06
#define UART_IIR_CTI        0x0c    /* character timeout (FIFO mode) */
#define UART_IIR_FIFO_ON    0xc0    /* both bits set when FIFOs are enabled */

/* FCR */
#define UART_FCR_ENABLE     0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_CLEAR_XMIT 0x04
#define UART_FCR_DMA        0x08
#define UART_FCR_TRIG_MASK  0xc0

/* LCR */
#define UART_LCR_WLEN_MASK  0x03    /* 0..3: 5..8 data bits */
#define UART_LCR_WLEN8      0x03
#define UART_LCR_STOP       0x04
#define UART_LCR_PARITY     0x08
#define UART_LCR_EPAR       0x10
#define UART_LCR_SPAR       0x20
#define UART_LCR_SBC        0x40    /* set break */
#define UART_LCR_DLAB       0x80    /* divisor latch access */

/* MCR */
#define UART_MCR_DTR    0x01
#define UART_MCR_RTS    0x02
#define UART_MCR_OUT1   0x04
#define UART_MCR_OUT2   0x08    /* gates the IRQ line on PC hardware */
#define UART_MCR_LOOP   0x10
#define UART_MCR_MASK   0x1f

/* LSR */
#define UART_LSR_DR     0x01    /* data ready */
#define UART_LSR_OE     0x02
#define UART_LSR_PE     0x04
#define UART_LSR_FE     0x08
#define UART_LSR_BI     0x10
#define UART_LSR_THRE   0x20    /* transmit holding register empty */
#define UART_LSR_TEMT   0x40    /* transmitter empty */
#define UART_LSR_FIFOE  0x80

/* MSR: low nibble = deltas, high nibble = line states. */
#define UART_MSR_DCTS   0x01
#define UART_MSR_DDSR   0x02
#define UART_MSR_TERI   0x04
#define UART_MSR_DDCD   0x08
#define UART_MSR_CTS    0x10
#define UART_MSR_DSR    0x20
#define UART_MSR_RI     0x40
#define UART_MSR_DCD    0x80

#endif /* DEVICES_UART16550_H */
