/*
 * The console: every message goes to the msgbuf ring; to COM1 as well when the
 * destination is CONS_TTY (panics, trap reports, ktest output), when the command line
 * has `verbose`, or once the kernel panics.
 */
#ifndef KERN_CONSOLE_H
#define KERN_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum cons_dest {
	CONS_LOG = 0,   /* the kernel log: msgbuf, COM1 only when verbose */
	CONS_TTY = 1,   /* msgbuf and COM1 */
};

void console_init(bool verbose);
void console_set_panicking(void);
void console_write(enum cons_dest dest, const char *buf, size_t n);
int console_vprintf(enum cons_dest dest, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
int console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* KERN_CONSOLE_H */
