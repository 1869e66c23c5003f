/*
 * vm_mmap: the kernel-internal system-call layer over a process's vm_map: mmap, munmap,
 * mprotect, madvise, minherit, mlock, munlock and brk, with Linux's argument semantics
 * and Linux's errno values. The system calls themselves (a later issue) pass their
 * arguments through unchanged and hand the result back to the program.
 *
 * Results are Linux's: 0 (or the address, or the break) for success, -errno for
 * failure (vm/vm_errno.h). vm_mmap returns an address or -errno in one long, as Linux's
 * mmap does: user addresses are below 2^47, so no address is in [-4095, -1].
 *
 * The constants are Linux's x86-64 values, named LINUX_* (as FreeBSD's Linux emulation
 * names them) so that they never clash with a host's <sys/mman.h> in the unit tests.
 *
 * Locking: every call takes and drops the map's lock itself.
 * => map unlocked on entry and on return; may sleep (entry allocation).
 */
#ifndef VM_VM_MMAP_H
#define VM_VM_MMAP_H

#include "vm/vm_map.h"

/* prot */
#define LINUX_PROT_NONE             0x0
#define LINUX_PROT_READ             0x1
#define LINUX_PROT_WRITE            0x2
#define LINUX_PROT_EXEC             0x4
#define LINUX_PROT_SEM              0x8         /* accepted, no effect (as on x86) */
#define LINUX_PROT_GROWSDOWN        0x01000000  /* mprotect only */
#define LINUX_PROT_GROWSUP          0x02000000  /* mprotect only */

/* flags */
#define LINUX_MAP_SHARED            0x01
#define LINUX_MAP_PRIVATE           0x02
#define LINUX_MAP_SHARED_VALIDATE   0x03
#define LINUX_MAP_TYPE              0x0f
#define LINUX_MAP_FIXED             0x10
#define LINUX_MAP_ANONYMOUS         0x20
#define LINUX_MAP_32BIT             0x40        /* refused (vm_mmap.c) */
#define LINUX_MAP_GROWSDOWN         0x0100      /* refused */
#define LINUX_MAP_DENYWRITE         0x0800      /* ignored, as Linux does */
#define LINUX_MAP_EXECUTABLE        0x1000      /* ignored, as Linux does */
#define LINUX_MAP_LOCKED            0x2000
#define LINUX_MAP_NORESERVE         0x4000      /* accepted: nothing is reserved anyway */
#define LINUX_MAP_POPULATE          0x8000
#define LINUX_MAP_NONBLOCK          0x10000     /* with POPULATE: do not populate */
#define LINUX_MAP_STACK             0x20000     /* accepted, a hint */
#define LINUX_MAP_HUGETLB           0x40000     /* refused */
#define LINUX_MAP_SYNC              0x80000     /* refused */
#define LINUX_MAP_FIXED_NOREPLACE   0x100000
#define LINUX_MAP_UNINITIALIZED     0x4000000   /* refused */

/* madvise advice (the first six are vm_map's VM_MADV_* values) */
#define LINUX_MADV_NORMAL           VM_MADV_NORMAL
#define LINUX_MADV_RANDOM           VM_MADV_RANDOM
#define LINUX_MADV_SEQUENTIAL       VM_MADV_SEQUENTIAL
#define LINUX_MADV_WILLNEED         VM_MADV_WILLNEED
#define LINUX_MADV_DONTNEED         VM_MADV_DONTNEED
#define LINUX_MADV_FREE             VM_MADV_FREE
#define LINUX_MADV_DONTFORK         10
#define LINUX_MADV_DOFORK           11
#define LINUX_MADV_WIPEONFORK       18
#define LINUX_MADV_KEEPONFORK       19

/*
 * Map len bytes of anonymous memory (MAP_ANONYMOUS with MAP_PRIVATE or MAP_SHARED: there
 * are no file descriptors yet) at addr (MAP_FIXED, MAP_FIXED_NOREPLACE) or near it (a
 * hint, honoured when [addr, addr + len) is free, else ignored), with protection prot.
 * vm_mmap's maximum protection is read, write and execute, as for every anonymous
 * mapping on Linux; vm_mmap_max lets the kernel (exec, later file mappings) give less.
 * => map unlocked. The address; -EINVAL, -ENOMEM, -EEXIST, -EPERM, -EACCES, -EBADF (no
 *    MAP_ANONYMOUS: Linux's answer for fd -1).
 */
long vm_mmap(struct vm_map *map, vm_offset_t addr, vm_size_t len, int prot, int flags);
long vm_mmap_max(struct vm_map *map, vm_offset_t addr, vm_size_t len, int prot,
    vm_prot_t maxprot, int flags);

/* => map unlocked. 0 (an unmapped range too); -EINVAL. */
int vm_munmap(struct vm_map *map, vm_offset_t addr, vm_size_t len);

/* All or nothing (vm_mmap.c says how that differs from Linux).
 * => map unlocked. 0; -EINVAL, -ENOMEM (a hole), -EACCES (beyond a maximum). */
int vm_mprotect(struct vm_map *map, vm_offset_t addr, vm_size_t len, int prot);

/* => map unlocked. 0; -EINVAL, -ENOMEM (a hole: the advice still applies to what is
 *    mapped, as on Linux). */
int vm_madvise(struct vm_map *map, vm_offset_t addr, vm_size_t len, int advice);

/*
 * FreeBSD's minherit (VM_INHERIT_SHARE, _COPY, _NONE, _ZERO) with madvise's argument
 * checks. Linux has no minherit: its programs say the same with madvise's DONTFORK,
 * DOFORK, WIPEONFORK and KEEPONFORK, which vm_madvise maps onto the inheritance.
 * => map unlocked. 0; -EINVAL (also ZERO on a shared mapping), -ENOMEM (a hole).
 */
int vm_minherit(struct vm_map *map, vm_offset_t addr, vm_size_t len, int inherit);

/* User wiring. => map unlocked. 0; -EINVAL (overflow), -ENOMEM (a hole or outside the
 *    map), -EAGAIN (could not fault the pages in: later, vm_fault). */
int vm_mlock(struct vm_map *map, vm_offset_t addr, vm_size_t len);
int vm_munlock(struct vm_map *map, vm_offset_t addr, vm_size_t len);

/*
 * A process's break: the heap is [vb_start, round_page(vb_brk)), one entry (or more,
 * if the program changed part of it), grown and shrunk by vm_brk between vb_start and
 * vb_limit (Linux: start_brk and start_brk + RLIMIT_DATA).
 *   vb_start   C  page-aligned start of the heap
 *   vb_limit   C  the highest break allowed
 *   vb_brk     M  the break (not page-aligned: the program's own value)
 */
struct vm_brk {
	vm_offset_t vb_start;
	vm_offset_t vb_limit;
	vm_offset_t vb_brk;
};

/* An empty heap at start (page-aligned) that may grow up to limit. */
void vm_brk_init(struct vm_brk *brk, vm_offset_t start, vm_offset_t limit);

/*
 * Move the break to newbrk. Returns the new break, or the current one when the move is
 * refused (below the start, beyond the limit, into a mapping or its guard page), as
 * Linux's brk does: it has no error return.
 * => map unlocked; brk serialised by the caller (the process's own lock, later).
 */
vm_offset_t vm_brk(struct vm_map *map, struct vm_brk *brk, vm_offset_t newbrk);

#endif /* VM_VM_MMAP_H */
