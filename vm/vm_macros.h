/*
 * Arithmetic helpers of the BSD kind (sys/param.h's): the VM core's, and the guest
 * kernel's library takes them from here too, so that one definition serves both.
 * No dependencies: any header may include it.
 */
#ifndef VM_VM_MACROS_H
#define VM_VM_MACROS_H

#define nitems(a)       (sizeof(a) / sizeof((a)[0]))
#define roundup2(x, y)  (((x) + ((y) - 1)) & ~((__typeof__(x))(y) - 1))
#define rounddown2(x, y) ((x) & ~((__typeof__(x))(y) - 1))
#define powerof2(x)     ((((x) - 1) & (x)) == 0)
#ifndef MIN
#define MIN(a, b)       ((a) < (b) ? (a) : (b))
#define MAX(a, b)       ((a) > (b) ? (a) : (b))
#endif

#endif /* VM_VM_MACROS_H */
