/*
 * vm_page: one struct per page of managed RAM, the page allocator with its classes and
 * reserves, busy/wire/hold, and the page queues (vm_pagequeue.h).
 *
 * A vm_page whose bytes are all zero is a free, unused page that is not the head of a
 * free block: no field needs a non-zero initial value, so boot never touches the page
 * array, and a freed page is put back to zeros (except the free-list fields of a block
 * head, which vm_phys owns). The physical address is not stored: it follows from the
 * page's index in its segment's array (fictitious pages, which live outside the arrays,
 * keep it in phys_fict).
 *
 * Field locking legend:
 *   F  vm_phys free lock (only while the page is free)
 *   Q  the lock of the page queue named by 'queue'
 *   A  atomic operations
 *   O  the owning object's lock (a later module); unowned pages: the page's owner
 *   P  pmap (the machine's pv list lock of the page)
 *   K  the kernel allocator that owns the page (UMA, malloc); never read by vm_page
 *   C  constant between allocation and free
 */
#ifndef VM_VM_PAGE_H
#define VM_VM_PAGE_H

#include "vm/vm.h"

struct vm_object;
struct vm_page;
typedef struct vm_page *vm_page_t;

/* Links of a page on a free list or a page queue (never both at once). */
struct vm_plinks {
	struct vm_plinks *pl_next;
	struct vm_plinks *pl_prev;
};

struct vm_page {
	struct vm_plinks plinks;    /* F/Q: free list (block heads) or page queue; 1st field */
	struct vm_object *object;   /* O: owning object, NULL for no-object pages */
	vm_pindex_t pindex;         /* O: index in the object */
	/* O: the object's list of its resident pages in pindex order (FreeBSD's listq on
	 * the object's memq): vm_radix finds a page by pindex, this walks them in order
	 * and finds a neighbour in O(1). Links point at other pages' listq (not at
	 * plinks), and both are NULL on a page in no object. */
	struct vm_plinks listq;
	struct md_page md;          /* P: the machine's per-page data (<vm_platform_impl.h>) */
	union {
		uintptr_t kmem_owner;   /* K: UMA slab / malloc large-allocation tag; 0 when free */
		vm_paddr_t phys_fict;   /* C: physical address of a fictitious page */
	};
	uint32_t ref_count;         /* A: wirings */
	uint32_t busy_lock;         /* A: VPB_* busy state; 0 is unbusied */
	uint16_t hold_count;        /* A: holds (page may not be freed while held) */
	/* flags, pool and aflags are adjacent so that handing out a pre-zeroed page
	 * sets the three with one store (vm_page_zero_mark). */
	uint16_t flags;             /* C+A: PG_* (PG_ZERO immutable between alloc and free) */
	uint8_t pool;               /* F: free pool of the block head; pool to free back to */
	uint8_t aflags;             /* A: PGA_* */
	uint8_t queue;              /* Q: PQ_* the page is on */
	uint8_t order;              /* F: free block head: order + 1; otherwise 0 */
	uint8_t valid;              /* O: valid 512-byte blocks (later modules) */
	uint8_t dirty;              /* O: dirty 512-byte blocks (later modules) */
	uint8_t psind;              /* O: superpage size index (later modules) */
	uint8_t vp_spare;
};
/*
 * kmem_owner: who in the kernel allocator owns the page. It is vm_page's field and
 * three allocators share it (UMA, kmalloc's large allocations, contigmalloc), so its
 * encoding lives here rather than in any one of them.
 * 0: not a kernel-memory page. Bit 0 clear: a UMA slab header pointer. Bit 0 set: a
 * tag: bits 1-2 the kind, bits 3.. the run's length in pages (on the run's first page).
 */
#define KMEM_OWNER_TAGGED       0x1ul
#define KMEM_OWNER_KIND(o)      (((o) >> 1) & 0x3)
#define KMEM_OWNER_NPAGES(o)    ((o) >> 3)
#define KMEM_OWNER_TAG(kind, npages) (((uintptr_t)(npages) << 3) | ((kind) << 1) | 1)
#define KMEM_KIND_LARGE         0   /* kmalloc of more than MALLOC_MAX_ZONE_SIZE */
#define KMEM_KIND_CONTIG        1   /* contigmalloc */
#define KMEM_KIND_UMA_BOOT      2   /* UMA's bootstrap pages */

/*
 * Size policy: 112 bytes exactly, a multiple of 16, so that turning a page-array offset
 * into an index (vm_page_to_phys, vm_page_lockptr) is a shift and one multiply by a
 * constant. 96 until pmap's md_page took the page's first mapping in (32 bytes, where
 * it had 16: a page mapped once needs no pv allocation). Measured with callgrind on the
 * host build (docs/vm-core.md): a vm_phys alloc+free pair costs 108 instructions at 96
 * bytes, 110 at 112 and 112 at 128 (a power of two: vm_page_to_phys a shift, but more
 * to clear on free); a zero-fill fault 324.5 at 112 and 320.4 at 128, a COW fault
 * 473.8 and 467.4. Padding to 128 would buy those few instructions with 0.4% more of
 * RAM in page arrays (112 bytes are 2.7% of RAM); storing the physical address would
 * break the all-zero rule (boot would write every page). A new field takes vp_spare
 * first; growing past 112 needs a new measurement and this assert changed with it.
 */
_Static_assert(sizeof(struct vm_page) == 112,
    "struct vm_page: 112 bytes (size policy above); measure before growing it");
_Static_assert(sizeof(struct md_page) <= 32,
    "struct md_page: the machine's part of vm_page has 32 bytes (vm_platform.h)");

/* Intrusive circular lists of pages; a list head is a sentinel vm_plinks. */
static inline void vm_plinks_init(struct vm_plinks *head)
{
	head->pl_next = head->pl_prev = head;
}
static inline bool vm_plinks_empty(const struct vm_plinks *head)
{
	return head->pl_next == head;
}
static inline void vm_plinks_insert_head(struct vm_plinks *head, vm_page_t m)
{
	struct vm_plinks *pl = &m->plinks;

	pl->pl_next = head->pl_next;
	pl->pl_prev = head;
	head->pl_next->pl_prev = pl;
	head->pl_next = pl;
}
static inline void vm_plinks_insert_tail(struct vm_plinks *head, vm_page_t m)
{
	struct vm_plinks *pl = &m->plinks;

	pl->pl_prev = head->pl_prev;
	pl->pl_next = head;
	head->pl_prev->pl_next = pl;
	head->pl_prev = pl;
}
static inline void vm_plinks_insert_after(struct vm_plinks *pos, vm_page_t m)
{
	struct vm_plinks *pl = &m->plinks;

	pl->pl_prev = pos;
	pl->pl_next = pos->pl_next;
	pos->pl_next->pl_prev = pl;
	pos->pl_next = pl;
}
/* Unlinks m and leaves its links zero, as a page off every list must be. */
static inline void vm_plinks_remove(vm_page_t m)
{
	struct vm_plinks *pl = &m->plinks;

	pl->pl_prev->pl_next = pl->pl_next;
	pl->pl_next->pl_prev = pl->pl_prev;
	pl->pl_next = pl->pl_prev = NULL;
}
/* The page whose links are pl (plinks is the first field). */
static inline vm_page_t vm_plinks_page(struct vm_plinks *pl)
{
	return (vm_page_t)(void *)pl;
}

/* flags */
#define PG_ZERO         0x0001  /* handed out known zero (pre-zeroed pool or run) */
#define PG_FICTITIOUS   0x0002  /* not RAM: a device page outside the arrays */
#define PG_UNMANAGED    0x0004  /* no pv tracking, never on a page queue by the daemon */
#define PG_BLACKLISTED  0x0008  /* bad page from vm.blacklist: never allocated */
#define PG_UNHOLDFREE   0x0010  /* freed while held: the last unhold frees it */
#define PG_NODUMP       0x0020  /* leave out of dumps */
#define PG_MARKER       0x0040  /* not a page: a scan's place in a queue (vm_pageout.c) */

/* dirty: all eight 512-byte blocks (pmap's PMAP_PAGE_DIRTY). */
#define VM_PAGE_BITS_ALL 0xff

/* aflags */
#define PGA_REFERENCED  0x01
#define PGA_WRITEABLE   0x02

/* queue: PQ_NONE must be 0 so a zeroed page is on no queue. */
#define PQ_NONE         0
#define PQ_INACTIVE     1
#define PQ_ACTIVE       2
#define PQ_LAUNDRY      3
#define PQ_COUNT        4

/* busy_lock: exclusive owner bit, waiter bit, and a count of shared holders. */
#define VPB_EXCLUSIVE   0x1u
#define VPB_WAITERS     0x2u
#define VPB_ONE_SHARER  0x4u
#define VPB_UNBUSIED    0x0u

/*
 * Allocation requests. The class (low two bits) picks how deep into the free-page
 * reserves a request may go:
 *   NORMAL     fails (or waits) when the free count would drop below free_reserved
 *   SYSTEM     may go down to interrupt_free_min (kernel allocations that must progress)
 *   INTERRUPT  may take the very last page (cannot wait)
 */
#define VM_ALLOC_NORMAL     0x0000
#define VM_ALLOC_INTERRUPT  0x0001
#define VM_ALLOC_SYSTEM     0x0002
#define VM_ALLOC_CLASS_MASK 0x0003
#define VM_ALLOC_NOWAIT     0x0004  /* fail at once (also the default) */
#define VM_ALLOC_WAITOK     0x0008  /* sleep until a page is free; never NULL */
#define VM_ALLOC_WAITFAIL   0x0010  /* sleep once, then fail */
#define VM_ALLOC_WIRED      0x0020  /* returned with ref_count 1 (counted in v_wire_count) */
#define VM_ALLOC_ZERO       0x0040  /* contents zeroed (PG_ZERO when it was pre-zeroed) */
#define VM_ALLOC_NOBUSY     0x0200  /* accepted; no-object pages are never busied */
#define VM_ALLOC_NODUMP     0x1000  /* PG_NODUMP */

/* malloc/UMA flags -> page request: kernel memory is SYSTEM class, M_USE_RESERVE
 * goes to the interrupt reserve. */
static inline int malloc2vm_flags(int malloc_flags)
{
	int pflags = (malloc_flags & M_USE_RESERVE) ? VM_ALLOC_INTERRUPT : VM_ALLOC_SYSTEM;

	if (malloc_flags & M_ZERO)
		pflags |= VM_ALLOC_ZERO;
	pflags |= (malloc_flags & M_WAITOK) ? VM_ALLOC_WAITOK : VM_ALLOC_NOWAIT;
	return pflags;
}

/*
 * Page counts. Keep them here, beside the allocator; vm_meter (a later module) reads a
 * snapshot with vm_page_counts_snapshot().
 */
struct vm_page_counts {
	uint64_t v_page_count;          /* managed pages (have a vm_page) */
	uint64_t v_free_count;          /* buddy lists + pre-zeroed pool + per-CPU caches */
	uint64_t v_zero_count;          /* of which in the pre-zeroed pool (counted free for
	                                   the class limits) */
	uint64_t v_pcpu_count;          /* of which in per-CPU caches (set aside: the class
	                                   limits apply to the rest, the low-memory handler
	                                   returns them) */
	uint64_t v_pcpu_zero_count;     /* of v_pcpu_count, in per-CPU zeroed runs */
	uint64_t v_zero_max;            /* most pages the pre-zeroed pool holds */
	uint64_t v_zero_runs;           /* runs of contiguous pages in the pool now */
	uint64_t v_wire_count;          /* wired pages */
	uint64_t v_active_count;
	uint64_t v_inactive_count;
	uint64_t v_laundry_count;
	uint64_t v_bootstrap_count;     /* pages taken at boot (the page arrays) */
	uint64_t v_blacklist_count;     /* bad pages kept off the free lists */
	uint64_t v_free_reserved;       /* NORMAL stops here */
	uint64_t v_interrupt_free_min;  /* SYSTEM stops here */
	uint64_t v_free_waiters;        /* threads asleep for free pages now */
	uint64_t v_zero_hits;           /* VM_ALLOC_ZERO served pre-zeroed */
	uint64_t v_zero_misses;         /* VM_ALLOC_ZERO zeroed on the spot */
	uint64_t v_zero_fills;          /* pool fills (one batch of page operations each) */
	uint64_t v_zero_fresh;          /* pages fills took never used since boot: zero
	                                   without a page operation */
	uint64_t v_zero_discards;       /* freed pages the pool took because a discard
	                                   zeroed them */
	uint64_t v_alloc_fails;         /* requests that returned NULL */
	uint64_t v_plat_zeroed;         /* pages zeroed by the platform's page ops */
	uint64_t v_plat_discarded;      /* pages discarded by the platform's page ops */
	/* The page daemon and the laundry (vm_pageout.h): targets and counters. */
	uint64_t v_free_min;            /* below it the daemon runs at once */
	uint64_t v_free_target;         /* the daemon frees up to here */
	uint64_t v_inactive_target;     /* the active scan keeps this many inactive */
	uint64_t v_pdpasses;            /* daemon passes */
	uint64_t v_pdscanned;           /* pages the scans and the laundry looked at */
	uint64_t v_pdreactivated;       /* referenced pages sent back to the active queue */
	uint64_t v_pddeactivated;       /* active -> inactive */
	uint64_t v_pdfreed;             /* clean pages freed */
	uint64_t v_pdtolaundry;         /* dirty pages moved to the laundry queue */
	uint64_t v_pdlaundered;         /* pages the pager took to write */
	uint64_t v_pdunlaunderable;     /* dirty pages no pager could take (no swap, full) */
	uint64_t v_oom_kills;           /* processes killed for want of memory */
};
void vm_page_counts_snapshot(struct vm_page_counts *out);
/* The same without waiting for the free lock (the panic path, vm_meter): under it when
 * it is free, else racy reads of the same words. */
void vm_page_counts_snapshot_nowait(struct vm_page_counts *out);
uint64_t vm_page_free_count(void);  /* v_free_count (all free pages), racy */
uint64_t vm_page_wire_count(void);

/* One line on the console: pages managed, segments, page-array pages, bad pages.
 * Boot does not print it (a formatted line is hundreds of emulated instructions). */
void vm_page_boot_report(void);

/* The reserves (pages). vm_page_startup sets defaults from the RAM size. */
void vm_page_set_reserves(uint64_t free_reserved, uint64_t interrupt_free_min);

/* ---- allocation --------------------------------------------------------------- */

/*
 * One page that belongs to no object, from the direct pool (page tables, UMA slabs).
 * Returned unbusied, not on a queue, wired when VM_ALLOC_WIRED, zeroed when
 * VM_ALLOC_ZERO. Before failing or sleeping it fires the low-memory handlers.
 * => may sleep with VM_ALLOC_WAITOK/WAITFAIL; no locks held then.
 */
vm_page_t vm_page_alloc_noobj(int req);

/*
 * Up to npages no-object pages into ma[0..), as vm_page_alloc_noobj would hand them out
 * one by one (same classes and reserves, WIRED, NODUMP, ZERO with PG_ZERO on the pages
 * that were pre-zeroed), at a few instructions a page: a ZERO request takes a whole
 * slice of this CPU's zeroed run at once, others a slice of its page cache, then blocks
 * of the buddy lists within the class limit. Returns the number of pages handed out:
 * with NOWAIT possibly fewer than npages (0 when the class allows none); with WAITOK
 * always npages (it sleeps for the rest, keeping what it has); WAITFAIL sleeps once.
 * The pages are in no particular order and need not be contiguous.
 * => may sleep with VM_ALLOC_WAITOK/WAITFAIL; no locks held then.
 */
int vm_page_alloc_noobj_batch(int req, int npages, vm_page_t *ma);

/* npages contiguous no-object pages (see vm_phys_alloc_contig for the constraints).
 * Every page is set up as vm_page_alloc_noobj sets one up. */
vm_page_t vm_page_alloc_noobj_contig(int req, unsigned long npages, vm_paddr_t low,
    vm_paddr_t high, unsigned long alignment, vm_paddr_t boundary);

/*
 * Free a page. It must not be busied by others, mapped, or owned by an object; a page
 * wired only by its allocation (ref_count 1, VM_ALLOC_WIRED) is unwired here. kmem_owner
 * must be 0 again. A held page is freed by its last vm_page_unhold.
 */
void vm_page_free(vm_page_t m);
/* vm_page_free of each of ma[0..n), into this CPU's cache under one critical section
 * and flag hold, what overflows to the buddy lists under one lock. ma is the callee's
 * scratch: its contents are undefined on return. */
void vm_page_free_pages(vm_page_t *ma, int n);
/* vm_page_free_obj of each of ma[0..n), pages of one object (locked): off their
 * queues, out of the object, freed as vm_page_free_pages frees them (wired ones left
 * to their wirer, unbusied). ma is the callee's scratch, as there. */
void vm_page_free_obj_pages(vm_page_t *ma, int n);
/* Free a run (none of its pages held). A run of 16 pages or more is discarded through
 * the platform (its memory goes back to the host and reads as zero), and the pre-zeroed
 * pool takes what it has room for. */
void vm_page_free_contig(vm_page_t m, unsigned long npages);

/*
 * Fill the pre-zeroed pool with up to npages pages (bounded by the pool's room and by
 * half the free pages above the NORMAL reserve), as a few large runs zeroed by one batch
 * of page operations; returns the number added. The pool refills itself this way when a
 * CPU refilling its zeroed run finds it below half full (and the platform has page
 * operations: with stores there is nothing to gain by zeroing ahead).
 * => no locks held; may take as long as zeroing npages pages.
 */
uint64_t vm_page_zero_pool_fill(uint64_t npages);
/* Return every page in per-CPU caches (zeroed runs included) and the pre-zeroed pool to
 * the buddy lists. The low-memory handler does this. */
void vm_page_drain_caches(void);

/* ---- wire / hold ------------------------------------------------------------- */
void vm_page_wire(vm_page_t m);
bool vm_page_unwire_noq(vm_page_t m);       /* true when the last wiring went */
void vm_page_unwire(vm_page_t m, int queue); /* last wiring: put the page on queue */
static inline bool vm_page_wired(vm_page_t m)
{
	return __atomic_load_n(&m->ref_count, __ATOMIC_RELAXED) != 0;
}
void vm_page_hold(vm_page_t m);
void vm_page_unhold(vm_page_t m);

/* ---- busy ---------------------------------------------------------------------- */
bool vm_page_tryxbusy(vm_page_t m);
bool vm_page_trysbusy(vm_page_t m);
void vm_page_xbusy(vm_page_t m);            /* sleeps until it can */
void vm_page_sbusy(vm_page_t m);            /* sleeps until it can */
void vm_page_xunbusy(vm_page_t m);
void vm_page_sunbusy(vm_page_t m);
/* Sleep until m is not busied in a way that conflicts with (exclusive ? x : s). */
void vm_page_busy_sleep(vm_page_t m, bool exclusive);
/* The same for a page the caller found busy under interlock (its object's lock):
 * => interlock held on entry, released on return (the page may be gone then: look it up
 *    again); may sleep. */
void vm_page_busy_sleep_unlocked(vm_page_t m, struct mtx *interlock, bool exclusive);
static inline bool vm_page_xbusied(vm_page_t m)
{
	return (__atomic_load_n(&m->busy_lock, __ATOMIC_ACQUIRE) & VPB_EXCLUSIVE) != 0;
}
static inline bool vm_page_sbusied(vm_page_t m)
{
	return __atomic_load_n(&m->busy_lock, __ATOMIC_ACQUIRE) >= VPB_ONE_SHARER;
}
static inline bool vm_page_busied(vm_page_t m)
{
	return (__atomic_load_n(&m->busy_lock, __ATOMIC_ACQUIRE) & ~VPB_WAITERS) != 0;
}

/* ---- page queues (vm_pagequeue.h has the queues themselves) --------------------- */
void vm_page_enqueue(vm_page_t m, int queue);   /* m must be on no queue */
void vm_page_dequeue(vm_page_t m);              /* no-op when on no queue */
void vm_page_requeue(vm_page_t m);              /* to the tail of its queue */
void vm_page_activate(vm_page_t m);
void vm_page_deactivate(vm_page_t m);
/* vm_page_deactivate of each of ma[0..n), with the inactive and laundry queues' locks
 * taken once for the run (the laundry's cluster): those pages in run order at the
 * inactive queue's tail, then the others (active, pending, on no queue) one by one. */
void vm_page_deactivate_pages(vm_page_t *ma, int n);
/* vm_page_launder of each of ma[0..n), the same way (the inactive scan's pages of one
 * object). */
void vm_page_launder_pages(vm_page_t *ma, int n);
/* vm_page_dequeue of each of ma[0..n), one lock round trip per run of pages on one
 * queue. */
void vm_page_dequeue_pages(vm_page_t *ma, int n);
void vm_page_launder(vm_page_t m);

/* ---- an object's pages in pindex order (listq) ---------------------------------- */
/* The page after or before m on its object's list, whose head is memq (the object's
 * vo_memq), or NULL at either end: a neighbour in O(1), no trie walk. => the object
 * locked. */
static inline vm_page_t vm_page_memq_next(vm_page_t m, const struct vm_plinks *memq)
{
	struct vm_plinks *pl = m->listq.pl_next;

	return pl == memq ? NULL :
	    (vm_page_t)(void *)((char *)pl - offsetof(struct vm_page, listq));
}
static inline vm_page_t vm_page_memq_prev(vm_page_t m, const struct vm_plinks *memq)
{
	struct vm_plinks *pl = m->listq.pl_prev;

	return pl == memq ? NULL :
	    (vm_page_t)(void *)((char *)pl - offsetof(struct vm_page, listq));
}

/* ---- fictitious pages ------------------------------------------------------------ */
void vm_page_initfake(vm_page_t m, vm_paddr_t pa);

/* ---- physical address <-> page --------------------------------------------------- */
#include "vm/vm_phys.h"

/* The table walks behind the fast paths below (vm_phys.c). */
vm_paddr_t vm_page_to_phys_slow(vm_page_t m);
vm_page_t vm_phys_to_page_slow(vm_paddr_t pa);

/* Pages of the largest segment (vm_phys_hint) take a subtraction and a compare. */
static inline vm_paddr_t vm_page_to_phys(vm_page_t m)
{
	uintptr_t off = (uintptr_t)m - (uintptr_t)vm_phys_hint.ph_pages;

	if (__predict_true(off < vm_phys_hint.ph_array_bytes))
		return vm_phys_hint.ph_start + ptoa(off / sizeof(struct vm_page));
	return vm_page_to_phys_slow(m);
}

/* NULL when pa is not managed RAM. */
static inline vm_page_t vm_phys_to_page(vm_paddr_t pa)
{
	uint64_t off = pa - vm_phys_hint.ph_start;

	if (__predict_true(off < vm_phys_hint.ph_bytes))
		return &vm_phys_hint.ph_pages[atop(off)];
	return vm_phys_to_page_slow(pa);
}

#define VM_PAGE_TO_PHYS(m)  vm_page_to_phys(m)
#define PHYS_TO_VM_PAGE(pa) vm_phys_to_page(pa)
#define VM_PAGE_TO_DMAP(m)  vm_phys_to_dmap(VM_PAGE_TO_PHYS(m))

#endif /* VM_VM_PAGE_H */
