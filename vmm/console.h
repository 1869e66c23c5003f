/*
 * The guest console's host end: bytes the guest sends on COM1, buffered and written to
 * stdout at each newline, when the buffer fills, and at exit.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stdint.h>

#define CONSOLE_BUF_SIZE    4096

struct console {
	int cons_fd;
	unsigned cons_len;
	char cons_buf[CONSOLE_BUF_SIZE];
};

void console_init(struct console *c, int fd);
void console_putc(struct console *c, uint8_t ch);
void console_flush(struct console *c);

#endif /* VMM_CONSOLE_H */
