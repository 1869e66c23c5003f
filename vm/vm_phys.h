/*
 * vm_phys: the buddy allocator over the physical memory segments.
 *
 * Free memory is kept as blocks of 2^order pages, aligned to their size in physical
 * address, on free lists indexed by pool and order. Only the first page of a free block
 * (its head) carries free-list state (plinks, order, pool); every other page of a free
 * block is all zero. That is what lets boot skip per-page initialisation: fresh RAM is a
 * page array of zeros, and vm_page_startup enqueues whole max-order blocks.
 *
 * Boot does not put RAM on the free lists either: each segment keeps a cursor, ps_lazy,
 * and [ps_lazy, ps_end) is free memory that no list holds yet (its page array is still
 * untouched zeros). When a pool and the other pool's lists have no block for a request,
 * the next block of a lazy tail is carved off the cursor and queued; the cursor only
 * moves up, so the carved blocks are exactly the ones a whole-segment enqueue would have
 * made, and coalescing never reaches into a lazy tail (its pages have order 0). Boot thus
 * costs a few stores per segment whatever the RAM size; vm_phys_nfree counts the lazy
 * pages with the rest.
 *
 * Pools separate long-lived kernel pages (page tables, UMA slabs: VM_FREEPOOL_DIRECT)
 * from everything else, so the kernel's pages cluster together instead of pinning
 * scattered 2 MiB regions. A pool that runs dry takes a large block from the other.
 *
 * Locking: one lock, vm_phys_lock()/vm_phys_unlock() (F below), protects the free lists,
 * the free-page counts and the free-list fields of every page head. It is a leaf lock:
 * nothing else is taken while it is held. Functions marked "=> F held" require it.
 * The segment table is written only during boot and read without a lock afterwards.
 */
#ifndef VM_VM_PHYS_H
#define VM_VM_PHYS_H

#include "vm/vm.h"

struct vm_page;
typedef struct vm_page *vm_page_t;

#define VM_NFREEORDER       11      /* orders 0 .. 10: the largest block is 4 MiB */
#define VM_MAXORDER         (VM_NFREEORDER - 1)
#define VM_FREEPOOL_DEFAULT 0       /* must be 0: a zeroed page head belongs here */
#define VM_FREEPOOL_DIRECT  1       /* page tables and UMA slabs */
#define VM_NFREEPOOL        2

#define VM_PHYSSEG_MAX      8
#define VM_PHYS_BLACKLIST_MAX 32

/*
 * A segment of RAM the VM core manages. [ps_start, ps_end) is the managed part, one
 * vm_page per page at ps_pages[]; the page array itself was taken from the tail of the
 * range the platform added ([ps_start, ps_ram_end)). [ps_lazy, ps_end) is free memory
 * not yet carved into blocks on the free lists.
 */
struct vm_phys_seg {
	vm_paddr_t ps_start;        /* first managed byte (page aligned) */
	vm_paddr_t ps_end;          /* end of the managed bytes */
	vm_paddr_t ps_ram_end;      /* end of the range the platform added */
	struct vm_page *ps_pages;   /* vm_page of ps_start */
	uint64_t ps_npages;         /* (ps_end - ps_start) / PAGE_SIZE */
	vm_paddr_t ps_lazy;         /* F: start of the lazy tail (ps_end: none left) */
};

/* Boot-time tables, read-only once vm_page_startup has returned (but ps_lazy: F). */
extern struct vm_phys_seg vm_phys_segs[VM_PHYSSEG_MAX];
extern int vm_phys_nsegs;

/*
 * The largest segment, copied where the address <-> page lookups find it with a load or
 * two: almost every address falls in it, so PHYS_TO_VM_PAGE and VM_PAGE_TO_PHYS cost a
 * subtraction and a compare, and walk the segment table only for the others. All zero
 * (matching nothing) until vm_page_startup. Read-only afterwards.
 */
struct vm_phys_hint {
	vm_paddr_t ph_start;        /* ps_start */
	uint64_t ph_bytes;          /* ps_end - ps_start */
	struct vm_page *ph_pages;   /* ps_pages */
	uint64_t ph_array_bytes;    /* ps_npages * sizeof(struct vm_page) */
	struct vm_phys_seg *ph_seg;
};
extern struct vm_phys_hint vm_phys_hint;

/* F: free pages: on the buddy free lists (all pools, all orders) or in a lazy tail. */
extern uint64_t vm_phys_nfree;

/* F, the free lock. vm_page sleeps on it while waiting for free pages. */
extern struct mtx vm_phys_free_mtx;
static inline void vm_phys_lock(void) { mtx_lock(&vm_phys_free_mtx); }
static inline void vm_phys_unlock(void) { mtx_unlock(&vm_phys_free_mtx); }
static inline bool vm_phys_locked(void) { return mtx_owned(&vm_phys_free_mtx); }

/* Boot (vm_startup.h): vm_phys_reset returns vm_phys to its all-zero load-time state
 * (host re-boots only). vm_phys_startup, from vm_page_startup, carves each segment's
 * page array out of its tail and leaves the rest as the segment's lazy tail: no block is
 * queued and no vm_page written but those of blacklisted pages. Returns the pages taken
 * for the arrays. */
void vm_phys_reset(void);
uint64_t vm_phys_startup(void);

/* Pages in lazy tails (part of vm_phys_nfree). => F held. */
uint64_t vm_phys_lazy_count(void);
/* Queue every lazy tail's blocks now (tests that compare the free lists block by
 * block). => F held. */
void vm_phys_carve_all(void);

/*
 * Allocate one block of 2^order pages from pool (or, when it is empty, from another
 * pool). Returns its first page, with all free-list fields cleared, or NULL.
 * => F held.
 */
vm_page_t vm_phys_alloc_pages(int pool, int order);

/* Up to npages single pages into ma[]; returns how many. => F held. */
int vm_phys_alloc_npages(int pool, int npages, vm_page_t ma[]);

/* The first page of one block of 2^order pages of pool, when pool has a block that
 * large (a larger one is split), every page's pool mark zero; NULL with nothing changed
 * without one. => F held. */
vm_page_t vm_phys_alloc_block(int pool, int order);

/*
 * Return the block of 2^order pages starting at m to the free lists of m->pool,
 * coalescing it with its free buddies. The block's pages other than m must be all
 * zero (what allocation leaves them as). => F held.
 */
void vm_phys_free_pages(vm_page_t m, int order);

/*
 * Allocate npages physically contiguous pages inside [low, high), starting at a
 * multiple of alignment (a power of two, >= PAGE_SIZE) and not crossing a multiple of
 * boundary (a power of two, or 0 for none). The search walks the free blocks large
 * enough to be part of such a run, so it costs time in the free blocks it examines, not
 * in the size of RAM. Returns the first page or NULL. => F held.
 */
vm_page_t vm_phys_alloc_contig(unsigned long npages, vm_paddr_t low, vm_paddr_t high,
    unsigned long alignment, vm_paddr_t boundary);

/*
 * One block of 2^order pages, order as large as free memory allows up to maxorder: a
 * block of exactly maxorder when pool, a lazy tail or another pool has one that large
 * (split from a larger one if need be), else the largest smaller free block of any pool.
 * For callers that want many pages as few runs (the pre-zeroed pool: one run is one
 * entry of a page-operation list). Returns the first page (pool set to pool, like
 * vm_phys_alloc_pages) and its order in *orderp, or NULL when no page is free.
 * *freshp (when not NULL) says whether the block came whole from a lazy tail: memory
 * never handed out since boot, which reads as zero (vm_startup.h).
 * => F held.
 */
vm_page_t vm_phys_alloc_run(int pool, int maxorder, int *orderp, bool *freshp);

/* Free npages contiguous pages from m (any run, not just a buddy block) to the default
 * pool; vm_phys_free_run frees them to pool. The pages' pool fields are ignored.
 * => F held. */
void vm_phys_free_contig(vm_page_t m, unsigned long npages);
void vm_phys_free_run(vm_page_t m, unsigned long npages, int pool);

/* Free blocks on the list of (pool, order), counted by walking it; lazy tails are not
 * counted (tests and statistics). => F held. */
uint64_t vm_phys_free_blocks(int pool, int order);

/* Check every free-list invariant (alignment, segment, head fields, maximal
 * coalescing, no blacklisted page, lazy tails all zero and counted); returns the number
 * of violations, printing the first few. Walks every free page: for tests. => F held. */
uint64_t vm_phys_verify(void);

/* vm_phys_verify checking about max_pages of the pages inside free blocks and lazy
 * tails (every stride-th of each segment, and each block's last) and all of the rest:
 * heads, coalescing, masks, counts, the blacklist. Its cost grows with the free blocks,
 * not with RAM: for tests in the guest, where each page checked costs microseconds.
 * => F held. */
uint64_t vm_phys_verify_sample(uint64_t max_pages);

/* Free pages the last vm_phys_alloc_contig examined (the contig.64 figure). */
extern uint64_t vm_phys_contig_inspected;

/* Whether pa lies in a page of the blacklist given at boot. */
bool vm_phys_blacklisted(vm_paddr_t pa);
int vm_phys_blacklist_count(void);
vm_paddr_t vm_phys_blacklist_page(int i);

/* The segment holding pa (or the page m), or NULL: the table walk behind the hint. */
struct vm_phys_seg *vm_phys_paddr_to_seg_slow(vm_paddr_t pa);
struct vm_phys_seg *vm_phys_page_to_seg_slow(const struct vm_page *m);

/* The segment holding pa, or NULL. */
static inline struct vm_phys_seg *vm_phys_paddr_to_seg(vm_paddr_t pa)
{
	if (__predict_true(pa - vm_phys_hint.ph_start < vm_phys_hint.ph_bytes))
		return vm_phys_hint.ph_seg;
	return vm_phys_paddr_to_seg_slow(pa);
}

/* The segment whose page array holds m, or NULL (fictitious pages). */
static inline struct vm_phys_seg *vm_phys_page_to_seg(const struct vm_page *m)
{
	if (__predict_true((uintptr_t)m - (uintptr_t)vm_phys_hint.ph_pages <
	    vm_phys_hint.ph_array_bytes))
		return vm_phys_hint.ph_seg;
	return vm_phys_page_to_seg_slow(m);
}

#endif /* VM_VM_PHYS_H */
