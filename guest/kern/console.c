/*
 * Console output. Writers are serialised by disabling interrupts around the msgbuf and
 * COM1 writes, so an interrupt handler's message never lands inside another one's
 * (single CPU; a spin lock joins this when SMP arrives).
 */
#include "amd64/cpufunc.h"
#include "dev/uart.h"
#include "kern/console.h"
#include "kern/msgbuf.h"
#include "kern/printf.h"
#include "kern/systm.h"

static bool cons_verbose;
static bool cons_panicking;

#define CONS_LINE   160     /* bytes formatted before a flush */

void console_init(bool verbose)
{
	cons_verbose = verbose;
}

void console_set_panicking(void)
{
	cons_panicking = true;
}

void console_write(enum cons_dest dest, const char *buf, size_t n)
{
	bool intr = intr_save();

	msgbuf_write(buf, n);
	if (dest == CONS_TTY || cons_verbose || cons_panicking)
		uart_write(buf, n);
	intr_restore(intr);
}

static void cons_flush(struct pf_out *o)
{
	console_write((enum cons_dest)(uintptr_t)o->po_arg, o->po_buf, o->po_len);
	o->po_len = 0;
}

int console_vprintf(enum cons_dest dest, const char *fmt, va_list ap)
{
	char line[CONS_LINE];
	struct pf_out o = {
		.po_buf = line, .po_cap = sizeof(line),
		.po_flush = cons_flush, .po_arg = (void *)(uintptr_t)dest,
	};
	int n = kvformat(&o, fmt, ap);

	if (o.po_len > 0)
		cons_flush(&o);
	return n;
}

int console_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = console_vprintf(CONS_TTY, fmt, ap);
	va_end(ap);
	return n;
}
