/*
 * What every kernel file needs: panic, guest_exit, KASSERT, the printf family and the
 * C library subset.
 */
#ifndef KERN_SYSTM_H
#define KERN_SYSTM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern/libkern.h"
#include "kern/printf.h"

/* Print "panic: ..." on COM1, report to the host, exit with GUEST_EXIT_PANIC. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Leave the VM with this status (milestone EXIT, then the exit port); if the machine
 * has no exit port, report HC_OP_STOPPED and halt for good. */
void guest_exit(int status) __attribute__((noreturn));
/* Stop for good without an exit port: report to the host and halt with interrupts off. */
void guest_stop(const char *why) __attribute__((noreturn));

/* A hook panic calls first (ktest names the test that was running). */
extern void (*panic_hook)(void);

#ifndef KASSERT
#ifdef INVARIANTS
#define KASSERT(exp, msg)   do { if (__builtin_expect(!(exp), 0)) panic msg; } while (0)
#else
#define KASSERT(exp, msg)   do { } while (0)
#endif
#endif

#endif /* KERN_SYSTM_H */
