/*
 * vm_page's private header: what vm/vm_page.c (page arrays, allocator, per-CPU caches,
 * free) and vm/vm_page_zero.c (the pre-zeroed pool, the per-CPU zeroed runs) share.
 * Only those two include it, and vm_page_obj.c, vm_page_alloc_inline.h (for vm_fault.c)
 * and vm_pagequeue.c for vm_page_alloc's fast path and the active queue's batches it
 * fills. The fast paths that cross the line
 * are inlines here: a call into the other file would cost emulated instructions on
 * every page.
 *
 * Locking: F the vm_phys free lock; pc_busy a CPU's cache flag (vm_page.c's comment);
 * boot: written by vm_page_startup only; atomic: updated with atomics.
 */
#ifndef VM_VM_PAGE_INT_H
#define VM_VM_PAGE_INT_H

#include "vm/vm_page.h"
#include "vm/vm_pagequeue.h"
#include "vm/vm_phys.h"

#define VM_PAGE_PCPU_BATCH_ORDER 5
#define VM_PAGE_PCPU_BATCH  (1 << VM_PAGE_PCPU_BATCH_ORDER) /* pages moved to or from
                                       the buddy lists at once: one block, when whole */
#define VM_PAGE_PCPU_MAX    60      /* pages a CPU caches per pool (struct vm_page_pcpu
                                       is then 1 KiB: finding the CPU's is a shift) */

struct vm_page_pcpu {
	uint32_t pc_busy;                           /* atomic: the cache is in use */
	uint32_t pc_count[VM_NFREEPOOL];            /* pc_busy */
	uint32_t pc_qcount;                         /* pc_busy (read racily): pages in the
	                                               batch for the active queue */
	vm_page_t pc_znext;                         /* pc_busy: the zeroed run's next page */
	vm_page_t pc_zend;                          /* pc_busy: and its end */
	vm_page_t pc_rnext;                         /* pc_busy: the plain run's next page */
	vm_page_t pc_rend;                          /* pc_busy: and its end */
	vm_page_t pc_qtail;                         /* pc_busy: the batch's last page */
	vm_page_t pc_pages[VM_NFREEPOOL][VM_PAGE_PCPU_MAX]; /* pc_busy */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct vm_page_pcpu) == 1024,
    "struct vm_page_pcpu: keep it a power of two in size");

extern struct vm_page_pcpu vm_page_pcpu[MAXCPU];

/* vm_page.c */
extern uint64_t vm_page_free_reserved;      /* F */
extern uint64_t vm_page_interrupt_free_min; /* F */
extern uint64_t vm_page_free_waiters;       /* F (read racily by the free fast path) */
/* vm_page_zero.c */
extern uint64_t vm_page_zero_count;         /* F: pages in the pre-zeroed pool */
extern uint64_t vm_page_zero_max;           /* boot: the pool's bound */
extern uint64_t vm_page_zero_low;           /* boot: a CPU fills the pool below this */
extern uint32_t vm_page_pcpu_zmax;          /* boot: pages a CPU's zeroed run takes */
extern uint64_t vm_page_zero_hits, vm_page_zero_misses;     /* atomic */

static inline void vm_page_count_add(uint64_t *c, int64_t v)
{
	__atomic_add_fetch(c, (uint64_t)v, __ATOMIC_RELAXED);
}

static inline uint64_t vm_page_avail_locked(void)
{
	return vm_phys_nfree + vm_page_zero_count;
}

/* Pages left in pc's zeroed run. Racy unless pc is locked: a refill between the two
 * loads may pair ends of different runs, so the result is clamped to a run's size. */
static inline uint64_t vm_page_pcpu_zleft(struct vm_page_pcpu *pc)
{
	vm_page_t next = __atomic_load_n(&pc->pc_znext, __ATOMIC_RELAXED);
	vm_page_t end = __atomic_load_n(&pc->pc_zend, __ATOMIC_RELAXED);

	return end > next ? MIN((uint64_t)(end - next), (uint64_t)vm_page_pcpu_zmax) : 0;
}

/* The free count a request of this class must leave behind. => F held. */
static inline uint64_t vm_page_class_min(int req)
{
	switch (req & VM_ALLOC_CLASS_MASK) {
	case VM_ALLOC_INTERRUPT:
		return 0;
	case VM_ALLOC_SYSTEM:
		return vm_page_interrupt_free_min;
	default:
		return vm_page_free_reserved;
	}
}

/* Whether npages may be taken now by a request of this class. => F held. */
static inline bool vm_page_class_allows(int req, uint64_t npages)
{
	uint64_t avail = vm_page_avail_locked();

	return avail >= npages && avail - npages >= vm_page_class_min(req);
}

/* Wake allocations sleeping for pages. => F held. */
static inline void vm_page_free_wakeup_locked(void)
{
	if (vm_page_free_waiters != 0)
		vm_wakeup(&vm_page_free_waiters);
}

/* A bit test-and-set (lock bts): two instructions with the branch, where an exchange
 * needs a register loaded first and a test after. */
static inline bool vm_page_pcpu_trylock(struct vm_page_pcpu *pc)
{
	return (__atomic_fetch_or(&pc->pc_busy, 1u, __ATOMIC_ACQUIRE) & 1u) == 0;
}

static inline void vm_page_pcpu_unlock(struct vm_page_pcpu *pc)
{
	__atomic_store_n(&pc->pc_busy, 0, __ATOMIC_RELEASE);
}

/* Take pc's flag from outside its owner's critical section (a flush, a drain), however
 * long its holder keeps it. => may sleep; no critical section, no spin lock held. */
void vm_page_pcpu_wait(struct vm_page_pcpu *pc);

/* A page taken from the pool or a CPU's zeroed run, as it is handed out: flags =
 * PG_ZERO, pool, aflags = 0 (zero already, as a free page's vm_page is) in one 32-bit
 * store over the three adjacent fields (x86 is little-endian; the asserts below pin
 * the layout), where field stores cost two or three emulated instructions. */
_Static_assert(offsetof(struct vm_page, pool) == offsetof(struct vm_page, flags) + 2 &&
    offsetof(struct vm_page, aflags) == offsetof(struct vm_page, flags) + 3,
    "vm_page_zero_mark: flags, pool and aflags must be adjacent");
static inline void vm_page_zero_mark(vm_page_t m, int pool)
{
	uint32_t w = PG_ZERO | (uint32_t)(uint8_t)pool << 16;

	__builtin_memcpy((char *)m + offsetof(struct vm_page, flags), &w, sizeof(w));
}

/* A free page as the allocator hands it out (vm_page_alloc_setup's entry check). */
#define VM_PAGE_ASSERT_FREE(m, who) \
	KASSERT((m)->order == 0 && (m)->queue == PQ_NONE && (m)->ref_count == 0 && \
	    (m)->busy_lock == 0 && (m)->kmem_owner == 0 && (m)->object == NULL, \
	    ("%s: page %p is not free", (who), (void *)(m)))

/*
 * The next page of this CPU's zeroed run, marked PG_ZERO for the direct pool, or NULL
 * (the run is empty or the cache busy): a ZERO request's one-page fast path, inline in
 * vm_page_alloc_noobj and in vm_page_alloc, which so skips a call and its frame.
 */
static inline __attribute__((always_inline)) vm_page_t vm_page_zrun_next_locked(
    struct vm_page_pcpu *pc)
{
	vm_page_t m = pc->pc_znext;

	if (__predict_false(m == pc->pc_zend))
		return NULL;
	pc->pc_znext = m + 1;
	return m;
}

static inline __attribute__((always_inline)) vm_page_t vm_page_zrun_next(void)
{
	struct vm_page_pcpu *pc;
	vm_page_t m = NULL;

	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (__predict_true(vm_page_pcpu_trylock(pc))) {
		m = vm_page_zrun_next_locked(pc);
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
	if (__predict_true(m != NULL))
		vm_page_zero_mark(m, VM_FREEPOOL_DIRECT);
	return m;
}

/*
 * A page of this CPU's direct-pool cache, or NULL (empty or busy): a plain request's
 * one-page fast path, inline in vm_page_alloc as in vm_page_alloc_noobj. The cache is
 * the array of freed pages first (recently used), then the plain run, a block the
 * refill took whole: a pointer step where handing its pages into the array took a
 * loop. A run's pages carry no pool mark (a free block's other pages do not): the mark
 * goes on here, for either source, outside the critical section.
 */
static inline __attribute__((always_inline)) vm_page_t vm_page_pcpu_next_locked(
    struct vm_page_pcpu *pc)
{
	if (pc->pc_count[VM_FREEPOOL_DIRECT] > 0)
		return pc->pc_pages[VM_FREEPOOL_DIRECT][--pc->pc_count[VM_FREEPOOL_DIRECT]];
	if (__predict_true(pc->pc_rnext != pc->pc_rend))
		return pc->pc_rnext++;
	return NULL;
}

static inline __attribute__((always_inline)) vm_page_t vm_page_pcpu_next(void)
{
	struct vm_page_pcpu *pc;
	vm_page_t m = NULL;

	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (__predict_true(vm_page_pcpu_trylock(pc))) {
		m = vm_page_pcpu_next_locked(pc);
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
	if (__predict_true(m != NULL))
		m->pool = VM_FREEPOOL_DIRECT;
	return m;
}

/*
 * m, a page new in an anonymous object, joins pc's batch for the active queue
 * (vm_pagequeue.h): pending, its queue field PQ_ACTIVE, its pl_next NULL, chained to
 * the page before it through pl_prev (NULL for the first), so that the flush is a walk
 * back and one splice under the queue's lock, where an array of pages took a list
 * insert each. True when the batch is full and wants vm_pqbatch_flush.
 * => pc locked (which a flush takes too: nobody sees the chain half made).
 */
static inline __attribute__((always_inline)) bool vm_page_pcpu_qadd(struct vm_page_pcpu *pc,
    vm_page_t m)
{
	__atomic_store_n(&m->queue, PQ_ACTIVE, __ATOMIC_RELAXED);
	m->plinks.pl_prev = (struct vm_plinks *)(void *)pc->pc_qtail; /* plinks is first */
	pc->pc_qtail = m;
	return ++pc->pc_qcount >= VM_PQBATCH_SIZE;
}

/* Pages left in pc's plain run: racy as vm_page_pcpu_zleft, clamped to a refill. */
static inline uint64_t vm_page_pcpu_rleft(struct vm_page_pcpu *pc)
{
	vm_page_t next = __atomic_load_n(&pc->pc_rnext, __ATOMIC_RELAXED);
	vm_page_t end = __atomic_load_n(&pc->pc_rend, __ATOMIC_RELAXED);

	return end > next ? MIN((uint64_t)(end - next), (uint64_t)VM_PAGE_PCPU_BATCH) : 0;
}

/* Fill the pool when it is below half full and zeroing ahead pays (page operations). */
static inline void vm_page_zpool_maybe_fill(void)
{
	if (__atomic_load_n(&vm_page_zero_count, __ATOMIC_RELAXED) < vm_page_zero_low &&
	    vm_plat_has_page_ops())
		vm_page_zero_pool_fill(vm_page_zero_max);
}

/*
 * Take up to n pages of this CPU's zeroed run into ma, marked PG_ZERO for the direct
 * pool; returns how many. The whole slice leaves the run with one pointer step inside
 * the critical section; marking and storing them is two stores a page outside it,
 * unrolled because every instruction here is emulated in the guest. The pages of a run
 * are free and all-zero by the run's invariant; the first of each slice is checked.
 */
static inline int vm_page_zrun_take(int n, vm_page_t *ma)
{
	struct vm_page_pcpu *pc;
	vm_page_t m = NULL;
	int i = 0, k = 0;

	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (__predict_true(vm_page_pcpu_trylock(pc))) {
		m = pc->pc_znext;
		k = (int)MIN((uint64_t)n, (uint64_t)(pc->pc_zend - m));
		pc->pc_znext = m + k;
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
	if (k == 0)
		return 0;
	KASSERT(m->order == 0 && m->flags == 0 && m->ref_count == 0 && m->object == NULL,
	    ("vm_page_zrun_take: page %p of a zeroed run is not free", (void *)m));
	for (; i + 4 <= k; i += 4, m += 4, ma += 4) {
		vm_page_zero_mark(&m[0], VM_FREEPOOL_DIRECT);
		vm_page_zero_mark(&m[1], VM_FREEPOOL_DIRECT);
		vm_page_zero_mark(&m[2], VM_FREEPOOL_DIRECT);
		vm_page_zero_mark(&m[3], VM_FREEPOOL_DIRECT);
		ma[0] = &m[0];
		ma[1] = &m[1];
		ma[2] = &m[2];
		ma[3] = &m[3];
	}
	for (; i < k; i++, m++, ma++) {
		vm_page_zero_mark(m, VM_FREEPOOL_DIRECT);
		*ma = m;
	}
	return k;
}

struct vm_page_contig_args {
	unsigned long vca_npages;
	vm_paddr_t vca_low, vca_high;
	unsigned long vca_alignment;
	vm_paddr_t vca_boundary;
};

/* ---- vm_pagequeue.c ---- */
/* pc's batch onto the active queue. => no queue lock, pc not locked. */
void vm_pqbatch_flush(struct vm_page_pcpu *pc);
/* vm_page_alloc's end when its page filled pc's batch: pc unlocked, the critical
 * section left, the batch flushed; returns m. => pc locked, in a critical section. */
vm_page_t vm_pqbatch_flush_full(struct vm_page_pcpu *pc, vm_page_t m);

/* ---- vm_page_zero.c ---- */
void vm_page_zero_startup(uint64_t npages);
void vm_page_zero_counts_locked(struct vm_page_counts *out, uint64_t zcached);
/* Zero runs[0..n): the platform's page operation first, stores for what it left. */
void vm_page_zero_runs(struct vm_page_run *runs, unsigned n);
vm_page_t vm_page_zpool_get(uint32_t max, uint32_t *np);
uint64_t vm_page_zpool_put_discarded(vm_page_t m, uint64_t n);
void vm_page_zpool_drain(void);
void vm_page_zrun_drain_locked(struct vm_page_pcpu *pc);
vm_page_t vm_page_zrun_take_n(uint64_t n);
vm_page_t vm_page_zero_alloc_slow(int req, int pool, bool fill);
vm_page_t vm_page_zpool_get_contig(int req, const struct vm_page_contig_args *a);

#endif /* VM_VM_PAGE_INT_H */
