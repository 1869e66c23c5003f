/*
 * What every part of the host VMM shares: its exit statuses (DESIGN.md: usage 64,
 * unreadable input 66, guest panic 70, host failure 71) and its assertion macro.
 */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include <stddef.h>

#define VMM_EXIT_OK         0
#define VMM_EXIT_USAGE      64  /* bad command line */
#define VMM_EXIT_INPUT      66  /* an input file is missing, unreadable or malformed */
#define VMM_EXIT_GUEST      70  /* guest panic, triple fault, guest stopped for good */
#define VMM_EXIT_HOST       71  /* the host cannot do what we need (KVM, memory) */
#define VMM_EXIT_SIGINT     130
#define VMM_EXIT_SIGTERM    143

#define VMM_VERSION         "0.1"

/*
 * Format a one-line error message (no "vmm: " prefix, no newline) into err[errlen].
 * => status, so that `return vmm_errf(err, errlen, VMM_EXIT_INPUT, ...)` reports and
 * fails in one statement.
 */
int vmm_errf(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Our own invariants; a failed one is a VMM bug, never the guest's doing. */
void vmm_assert_failed(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

#ifndef KASSERT
#define KASSERT(exp, msg)                                                          \
	do {                                                                       \
		if (__builtin_expect(!(exp), 0))                                   \
			vmm_assert_failed msg;                                     \
	} while (0)
#endif

#define VMM_ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))

#endif /* VMM_VMM_H */
