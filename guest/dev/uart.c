/*
 * The COM1 16550 driver: transmit only, programmed on first use so that a boot that
 * prints nothing to COM1 pays no port I/O for it.
 */
#include <stdbool.h>

#include "amd64/cpufunc.h"
#include "dev/uart.h"
#include "devices/uart16550.h"

static bool uart_ready;

/* 8 data bits, no parity, 1 stop bit, 115200 baud, interrupts off (IER is 0 at reset). */
static void uart_setup(void)
{
	outb(UART_COM1_BASE + UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	outb(UART_COM1_BASE + UART_DLL, 1);
	outb(UART_COM1_BASE + UART_DLM, 0);
	outb(UART_COM1_BASE + UART_LCR, UART_LCR_WLEN8);
	uart_ready = true;
}

void uart_write(const char *buf, size_t n)
{
	if (!uart_ready)
		uart_setup();
	outsb(UART_COM1_BASE + UART_THR, buf, n);
}
