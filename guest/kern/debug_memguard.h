/*
 * debug.memguard=uaf|overrun|zone-uaf: prove MemGuard end to end, as debug.panic proves the
 * panic path. kmain calls it after boot; it never returns.
 */
#ifndef KERN_DEBUG_MEMGUARD_H
#define KERN_DEBUG_MEMGUARD_H

void debug_memguard(const char *how) __attribute__((noreturn));

#endif /* KERN_DEBUG_MEMGUARD_H */
