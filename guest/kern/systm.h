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

/* panic (prints "panic: ..." on COM1, reports to the host, exits with GUEST_EXIT_PANIC)
 * and KASSERT: one definition for the kernel and its VM core. */
#include "vm/kassert.h"

/* Leave the VM with this status (milestone EXIT, then the exit port); if the machine
 * has no exit port, report HC_OP_STOPPED and halt for good. */
void guest_exit(int status) __attribute__((noreturn));
/* Stop for good without an exit port: report to the host and halt with interrupts off. */
void guest_stop(const char *why) __attribute__((noreturn));

/* A hook panic calls first (ktest names the test that was running). */
extern void (*panic_hook)(void);

#endif /* KERN_SYSTM_H */
