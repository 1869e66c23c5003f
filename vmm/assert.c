/*
 * Where a failed VMM invariant ends: a message naming the function (KASSERT's format
 * string starts with it), then abort.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmm/vmm.h"

void vmm_assert_failed(const char *fmt, ...)
{
	va_list ap;

	fputs("vmm: internal error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (a VMM bug; please report it)\n", stderr);
	abort();
}
