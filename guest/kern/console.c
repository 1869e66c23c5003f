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

/* COM1 output made at CPL 3 (a boot_user_call: no cli, no port access there), written
 * out by console_flush_deferred at CPL 0. The msgbuf gets it at once. */
static char cons_deferred[1024];
static size_t cons_ndeferred;
static size_t cons_ndropped;    /* did not fit: in the msgbuf only */

#define CONS_LINE   160     /* bytes formatted before a flush */

void console_init(bool verbose)
{
	cons_verbose = verbose;
}

void console_set_panicking(void)
{
	cons_panicking = true;
}

static void cons_defer(const char *buf, size_t n)
{
	size_t room = sizeof(cons_deferred) - cons_ndeferred;

	if (n > room) {
		cons_ndropped += n - room;
		n = room;               /* the msgbuf has the whole of it */
	}
	memcpy(cons_deferred + cons_ndeferred, buf, n);
	cons_ndeferred += n;
}

size_t console_flush_deferred(void)
{
	size_t dropped = cons_ndropped;

	if (cons_ndeferred == 0)
		return 0;
	uint64_t rflags = read_rflags();
	disable_intr();
	uart_write(cons_deferred, cons_ndeferred);
	cons_ndeferred = 0;
	cons_ndropped = 0;
	write_rflags(rflags);
	if (dropped > 0)
		console_printf("\nconsole: %zu bytes of CPL 3 output did not reach COM1; the msgbuf has "
		    "them\n", dropped);
	return dropped;
}

void console_write(enum cons_dest dest, const char *buf, size_t n)
{
	if (__builtin_expect(cpu_at_cpl3(), 0)) {
		msgbuf_write(buf, n);
		if (dest == CONS_TTY || cons_verbose || cons_panicking)
			cons_defer(buf, n);
		return;
	}
	uint64_t rflags = read_rflags();

	disable_intr();
	msgbuf_write(buf, n);
	if (dest == CONS_TTY || cons_verbose || cons_panicking)
		uart_write(buf, n);
	write_rflags(rflags);
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
