/*
 * The one way the VMM's set-up code reports a failure to its caller: a one-line message
 * in the caller's buffer (main prints it after "vmm: ") and the exit status it means.
 * Functions return it directly, so a check and its message stay on one statement. The
 * message is one printable line whatever bytes the user's arguments held.
 */
#include <stdarg.h>
#include <stdio.h>

#include "vmm/vmm.h"

int vmm_errf(char *err, size_t errlen, int status, const char *fmt, ...)
{
	va_list ap;

	KASSERT(status > 0, ("%s: status %d is not a failure", __func__, status));
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* Paths and arguments are the user's bytes: a newline in one must not make the
	 * message two lines, nor an escape sequence reach the terminal. */
	for (char *p = err; errlen > 0 && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return status;
}
