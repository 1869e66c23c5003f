/*
 * vm_fault: resolve a page fault in a map: find or make the page (zero-fill,
 * copy-on-write, the pager) and enter it into the map's pmap. Also the faults made on
 * purpose: wiring a range (mlock), populating one (MAP_POPULATE, MADV_WILLNEED).
 *
 * A fault never panics on a bad address: it returns why it could not be satisfied, and
 * the trap handler turns that into a signal (vm_fault_signal).
 */
#ifndef VM_VM_FAULT_H
#define VM_VM_FAULT_H

#include "vm/vm_map.h"

/* vm_fault results */
#define VM_FAULT_OK         0
#define VM_FAULT_NOMAP      1   /* nothing mapped there: SIGSEGV (SEGV_MAPERR) */
#define VM_FAULT_PROT       2   /* the mapping forbids the access: SIGSEGV (SEGV_ACCERR) */
#define VM_FAULT_PAGER      3   /* the pager could not supply the page: SIGBUS */

/* vm_fault flags */
#define VM_FAULT_NORMAL     0x0
#define VM_FAULT_WIRE       0x1     /* wire the page and its mapping (mlock) */
#define VM_FAULT_NOAROUND   0x2     /* this page alone: no fault-around, no prefault */

/* Signal numbers (Linux x86-64's) for a result other than VM_FAULT_OK. */
#define VM_FAULT_SIGSEGV    11
#define VM_FAULT_SIGBUS     7
static inline int vm_fault_signal(int rv)
{
	return rv == VM_FAULT_PAGER ? VM_FAULT_SIGBUS : VM_FAULT_SIGSEGV;
}

/*
 * Resolve a fault at vaddr for an access of fault_type (VM_PROT_READ, _WRITE or
 * _EXECUTE) in map, whose pmap is map->vmap_pmap.
 * => no locks held; may sleep (memory, busy pages, the pager). VM_FAULT_*.
 */
int vm_fault(struct vm_map *map, vm_offset_t vaddr, vm_prot_t fault_type, int flags);

/*
 * Fault in and wire every page of [start, end) with its entry's protection (a
 * copy-on-write entry gets its private copies), or unwire them. A page and its mapping
 * are wired once however often the range is wired (the pmap's wiring says so).
 * => map unlocked; may sleep. 0; EFAULT: a page that cannot be had (a hole, PROT_NONE,
 *    a pager error): the pages before it stay wired; ENOMEM.
 */
int vm_fault_wire(struct vm_map *map, vm_offset_t start, vm_offset_t end);
void vm_fault_unwire(struct vm_map *map, vm_offset_t start, vm_offset_t end);

/*
 * Fault in [start, end) (read, or write where the entry is writable and private) so
 * that the first touches do not trap; holes and PROT_NONE are skipped.
 * => map unlocked; may sleep. The number of pages that could not be faulted in.
 */
vm_size_t vm_fault_populate_range(struct vm_map *map, vm_offset_t start, vm_offset_t end);

/* Counters since boot (racy). */
struct vm_fault_stats {
	uint64_t vfs_faults;        /* vm_fault calls */
	uint64_t vfs_zero;          /* pages zero-filled by a fault */
	uint64_t vfs_cow;           /* pages copied for copy-on-write */
	uint64_t vfs_around;        /* pages mapped ahead by fault-around */
	uint64_t vfs_prefault;      /* resident neighbours mapped */
	uint64_t vfs_pager;         /* pager calls */
	uint64_t vfs_major;         /* faults that waited for a page-in from swap */
	uint64_t vfs_retry;         /* faults started again (slept, or the map changed) */
};
void vm_fault_stats(struct vm_fault_stats *out);

#endif /* VM_VM_FAULT_H */
