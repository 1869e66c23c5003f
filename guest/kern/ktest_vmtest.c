/*
 * The guest side of tests/vmtests/vmtest.h: VMTEST failures and logs go to ktest.
 */
#include "kern/console.h"
#include "kern/ktest.h"
#include "kern/systm.h"
#include "tests/vmtests/vmtest.h"

void vmtest_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ktest_fail(file, line, "%s", msg);
}

void vmtest_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vprintf(CONS_TTY, fmt, ap);
	va_end(ap);
}
