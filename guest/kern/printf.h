/*
 * Kernel formatted output. printf() goes to the kernel log (the msgbuf ring, and COM1
 * when the command line says `verbose`); console_printf() (kern/console.h) always
 * reaches COM1 too.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%; flags '-', '0' and '#' (0x for %x);
 * a width (or '*');
 * a precision for %s (or '.*'); length modifiers hh h l ll z j t.
 */
#ifndef KERN_PRINTF_H
#define KERN_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Where formatted characters go: a buffer, flushed through po_flush when full (or, with
 * no po_flush, truncated). po_total counts every character produced. */
struct pf_out {
	char *po_buf;
	size_t po_cap;
	size_t po_len;
	size_t po_total;
	void (*po_flush)(struct pf_out *o);
	void *po_arg;
};

int kvformat(struct pf_out *o, const char *fmt, va_list ap);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif /* KERN_PRINTF_H */
