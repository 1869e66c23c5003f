/*
 * KASSERT: the one definition for the whole guest kernel and for the VM core's host
 * build. It lives in vm/ because vm/ includes nothing from guest/, while the guest
 * kernel may include vm/ headers: kern/systm.h includes this header and vm/vm_platform.h
 * does too, so either may come first in a file. (The VMM, vmm/vmm.h, is another program
 * and keeps its own.)
 *
 * INVARIANTS is on in every build that runs tests (guest and host); the message names
 * the function: KASSERT(x != NULL, ("%s: no x", __func__)).
 */
#ifndef VM_KASSERT_H
#define VM_KASSERT_H

/* Stop the machine (guest: report to the host, exit 70) or abort the test process
 * (host). Never returns. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#ifdef INVARIANTS
#define KASSERT(exp, msg)   do { if (__builtin_expect(!(exp), 0)) panic msg; } while (0)
#else
#define KASSERT(exp, msg)   do { } while (0)
#endif

#endif /* VM_KASSERT_H */
