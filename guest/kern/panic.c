/*
 * panic and the ways out of the VM. Order matters for whoever watches: the message on
 * COM1 first (a human or a test reads it), then the published statistics refreshed
 * (kern/dump_pub.h), then the HC_OP_PANIC report (the host may dump), then the EXIT
 * milestone and the exit port.
 */
#include "amd64/cpufunc.h"
#include "dev/hostcall.h"
#include "kern/console.h"
#include "kern/dump_pub.h"
#include "kern/vm_boot.h"
#include "kern/systm.h"

void (*panic_hook)(void);

static char panic_msg[512];
static int panic_depth;

void guest_stop(const char *why)
{
	disable_intr();
	hc_report(HC_OP_STOPPED, why, strlen(why));
	cpu_stop();
}

void guest_exit(int status)
{
	disable_intr();
	hc_milestone(HC_MS_EXIT);
	outl(EXIT_PORT, (uint32_t)status);
	/* Still here: no exit device (QEMU without isa-debug-exit). */
	guest_stop("guest_exit: no exit port");
}


void panic(const char *fmt, ...)
{
	va_list ap;
	int n;
	disable_intr();
	if (++panic_depth > 1) {
		/* Panic while panicking: say so without formatting and leave. */
		static const char again[] = "panic: recursive panic\n";
		console_write(CONS_TTY, again, sizeof(again) - 1);
		guest_exit(GUEST_EXIT_PANIC);
	}
	console_set_panicking();
	if (panic_hook != NULL)
		panic_hook();

	n = snprintf(panic_msg, sizeof(panic_msg), "panic: ");
	va_start(ap, fmt);
	n += vsnprintf(panic_msg + n, sizeof(panic_msg) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(panic_msg) - 2)
		n = sizeof(panic_msg) - 2;
	panic_msg[n++] = '\n';
	panic_msg[n] = '\0';
	console_write(CONS_TTY, panic_msg, n);
	/* The statistics as they are now, for the dump the report may trigger: without
	 * waiting for any lock (this thread may hold any) and without sleeping. */
	if (vm_booted())
		dump_pub_refresh(true);
	hc_report(HC_OP_PANIC, panic_msg, (size_t)n);
	guest_exit(GUEST_EXIT_PANIC);
}
