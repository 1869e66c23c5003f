/*
 * MemGuard: allocations that fault when they are overrun or used after free, for
 * finding memory corruption (FreeBSD's memguard(9), written anew for this kernel).
 *
 * A guarded allocation gets pages of its own in MemGuard's part of the kernel map
 * (vm/vm_kern.h) with an unmapped guard page after them; the object ends where its last
 * page ends (rounded to MEMGUARD_ALIGN), so writing past it touches the guard page. A
 * freed allocation's pages are unmapped and freed at once, but its address range stays
 * reserved in a FIFO of the last MEMGUARD_FIFO_DEPTH freed ranges: a use after free
 * touches an unmapped page for as long as the range is in the FIFO. The page-fault
 * handler asks memguard_fault, which panics naming the allocation's malloc type or zone.
 *
 * What it costs: every guarded allocation takes at least one page and a page of address
 * space (plus the guard), two page-table updates and a TLB invalidation, so it is for
 * the one type being hunted (`vm.memguard=NAME` on the kernel command line, or
 * memguard_select), never for everything. When nothing is selected, kmalloc pays one
 * load and branch, and kfree a range test. A UMA zone of the selected name hands out
 * guarded items from uma_zalloc (keg and zone init, M_ZERO, ctor around them) and takes
 * them back in uma_zfree (dtor, fini); other zones pay one branch on a bit of uz_fast
 * (vm/uma_core.c, uma_memguard_select).
 *
 * Underruns (MEMGUARD_OPT_GUARD_AROUND, FreeBSD's MG_GUARD_AROUND): allocations made
 * while the option is on get a guard page before their pages as well and start at a
 * page boundary, so a write before the object faults (one more page of address space
 * each, no more memory); the overrun guard then catches only what passes the end of the
 * last page.
 *
 * Not caught: an underrun without the option (the bytes before the object share its
 * first page), an overrun by less than the rounding to MEMGUARD_ALIGN (or, with the
 * option, to the page), and a use after free once the range has left the FIFO and been
 * handed out again.
 *
 * Field locking legend (memguard.c):
 *   G  memguard_mtx
 *   C  constant once MemGuard's arena is made
 *   A  atomic operations
 */
#ifndef VM_MEMGUARD_H
#define VM_MEMGUARD_H

#include "vm/vm.h"

#define MEMGUARD_NAME_MAX   32          /* a selected name, its NUL included */
#define MEMGUARD_ALIGN      16          /* a guarded object's alignment (x86-64's
                                           fundamental one; malloc's larger size-class
                                           alignment does not hold for guarded types) */
#define MEMGUARD_MAPSIZE    (1ul << 30) /* address space reserved in the kernel map */
#define MEMGUARD_FIFO_DEPTH 64          /* freed ranges kept unmapped before reuse */

/* memguard_set_options */
#define MEMGUARD_OPT_GUARD_AROUND   0x1     /* a guard page before the object too */
#define MEMGUARD_OPT_MASK           0x1

/* What the name of a guarded allocation names. */
#define MEMGUARD_KIND_MALLOC    0       /* a malloc type (kmalloc) */
#define MEMGUARD_KIND_ZONE      1       /* a UMA zone */

enum memguard_fault_type {
	MEMGUARD_FAULT_NONE = 0,        /* not a guarded or recently freed range */
	MEMGUARD_FAULT_OVERRUN,         /* the guard page after a live allocation */
	MEMGUARD_FAULT_USE_AFTER_FREE,  /* any page of a freed range still in the FIFO */
	MEMGUARD_FAULT_UNDERRUN,        /* the guard page before a live allocation */
};

struct memguard_fault_info {
	enum memguard_fault_type mfi_type;
	vm_offset_t mfi_addr;           /* the allocation's address */
	size_t mfi_size;                /* the size asked for */
	const char *mfi_name;           /* its malloc type's or zone's name */
	int mfi_kind;                   /* MEMGUARD_KIND_* */
};

struct memguard_stats {
	uint64_t mgs_allocs;            /* guarded allocations made */
	uint64_t mgs_frees;
	uint64_t mgs_live;              /* allocs - frees */
	uint64_t mgs_fifo;              /* freed ranges waiting in the FIFO */
	uint64_t mgs_fallbacks;         /* selected, but not guarded: no record, address
	                                   space or page (the caller's usual path served it) */
	uint64_t mgs_around;            /* of the live ones, with a guard page before */
};

/* Hot-path state, read without the lock (A, C). */
extern bool memguard_enabled;       /* a name is selected */
extern vm_offset_t memguard_base;   /* MemGuard's address range; size 0 until made */
extern vm_size_t memguard_size;

/*
 * Guard the malloc type or UMA zone called name from now on (allocations made before
 * stay as they are); NULL or "" selects nothing. One name at a time, as FreeBSD's
 * vm.memguard.desc. => 0, or EINVAL for a name of MEMGUARD_NAME_MAX bytes or more
 * (nothing changed).
 * Never sleeps, allocates nothing: the boot calls it (vm.memguard=) at CPL 3.
 */
int memguard_select(const char *name);
/*
 * MEMGUARD_OPT_* for the guarded allocations made from now on (FreeBSD's
 * vm.memguard.options); those made before keep their layout. => 0, or EINVAL for an
 * unknown bit (nothing changed). Never sleeps.
 */
int memguard_set_options(int options);
int memguard_get_options(void);
/* Is name the selected one? => memguard_enabled was seen true. */
bool memguard_cmp_name(const char *name);

/* Is addr in MemGuard's range (a guarded allocation, live or freed)? */
static inline bool memguard_owns(const void *addr)
{
	return (vm_offset_t)(uintptr_t)addr - __atomic_load_n(&memguard_base, __ATOMIC_RELAXED) <
	    __atomic_load_n(&memguard_size, __ATOMIC_ACQUIRE);
}

/*
 * A guarded allocation of size bytes, for the type or zone called name (kind), or NULL
 * when there is no record, address space or page for one (the caller then serves the
 * request the usual way; M_WAITOK waits for pages, not for address space). M_ZERO
 * zeroes. The first call makes MemGuard's arena.
 * => may sleep (map entries, the first call's arena) even with M_NOWAIT.
 */
void *memguard_alloc(size_t size, int flags, const char *name, int kind);
/*
 * Free a guarded allocation: unmap and free its pages, put its range in the FIFO (the
 * oldest range leaves it and becomes reusable). => the usable size it had; panics on an
 * address that is not a live guarded allocation's (a double free names the type).
 */
size_t memguard_free(void *addr);
/* The usable size of a live guarded allocation: its size rounded to MEMGUARD_ALIGN. */
size_t memguard_usable_size(const void *addr);

/*
 * What a fault at va hit: an overrun of a live allocation, a use of a freed one, or
 * nothing of MemGuard's. => never sleeps; MEMGUARD_FAULT_NONE when the caller holds
 * MemGuard's lock (a fault inside MemGuard itself is not a guarded access).
 */
enum memguard_fault_type memguard_fault_lookup(vm_offset_t va,
    struct memguard_fault_info *fi);
/* The page-fault handler's question: panics with the allocation's type or zone when va
 * is an overrun, an underrun or a use after free; returns otherwise. */
void memguard_fault(vm_offset_t va, bool write);
/* The message memguard_fault panics with, in buf: true when va is MemGuard's (tests
 * check the words without panicking). => never sleeps. */
bool memguard_fault_describe(vm_offset_t va, bool write, char *buf, size_t len);

void memguard_get_stats(struct memguard_stats *st);

/* Host re-boots only (vm_startup_reset): forget everything (UMA and the map are gone). */
void memguard_reset(void);

#endif /* VM_MEMGUARD_H */
