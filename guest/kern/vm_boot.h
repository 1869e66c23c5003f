/*
 * Start-up of the VM core (vm/vm_startup.h) over the RAM bootinfo found. Not on the boot
 * path yet: ktest calls it before the first VMTEST suite, so `ktest=none` pays nothing.
 * When the kernel needs its allocators from boot on, kmain calls it right after
 * console_init (the direct map exists by then).
 */
#ifndef KERN_VM_BOOT_H
#define KERN_VM_BOOT_H

#include <stdbool.h>

void vm_boot(void);
bool vm_booted(void);
/* The page daemon and the laundry threads (kern/vm_daemons.c); once, when the
 * scheduler runs, before the first process. */
void vm_daemons_start(void);
/* One line of the daemon's counters (verbose runs print it when the program ends). */
void vm_daemons_report(void);

#endif /* KERN_VM_BOOT_H */
