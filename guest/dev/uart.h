/*
 * COM1 output. Both this VMM's 16550 model and QEMU's accept a byte in THR at any time,
 * so output is one string OUT per buffer with no LSR polling (each port access is an
 * exit, ~10 us).
 */
#ifndef DEV_UART_H
#define DEV_UART_H

#include <stddef.h>

void uart_write(const char *buf, size_t n);

#endif /* DEV_UART_H */
