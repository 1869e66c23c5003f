/*
 * vm_page: boot of the page arrays, the page allocator (classes, reserves, per-CPU page
 * caches, waiting for memory), free, wire, hold and busy.
 *
 * Where a free page can be (all but the first counted in v_free_count):
 *   buddy lists (vm_phys)           counted in vm_phys_nfree              F
 *   the pre-zeroed pool             vm_page_zpool: runs of zeroed pages   F
 *   a per-CPU cache                 vm_page_pcpu[cpu], set aside          pc_busy flag
 * Per-CPU caches hold single pages already taken from the buddy lists within the
 * NORMAL class limit; they make the common one-page alloc and free a few stores inside
 * a critical section. A CPU's cache is guarded by a flag taken with an atomic exchange
 * inside the critical section, only so that the low-memory handler can empty the caches
 * of other CPUs (the owner never waits for it: when it finds the flag taken it goes to
 * the buddy lists instead).
 *
 * Pre-zeroed pages: the pool and each CPU's zeroed run are vm/vm_page_zero.c's; what
 * the two files share (the per-CPU caches, the class limits, the zeroed-run fast paths)
 * is in vm/vm_page_int.h.
 *
 * Lock order: page queue locks -> per-CPU cache flag -> F (vm_phys free lock).
 * Page locks (hashed, vm_page_lockptr) serialise busy sleeps and hold/free; they are
 * taken with nothing else held, or under an object's lock by a busy sleep that then
 * drops it (vm_page_busy_sleep_unlocked): object lock -> page lock.
 */
#include "vm/vm_lowmem.h"
#include "vm/vm_page.h"
#include "vm/vm_page_int.h"
#include "vm/vm_pagequeue.h"
#include "vm/vm_pageout.h"
#include "vm/vm_phys.h"
#include "vm/vm_startup.h"

#define VM_PAGE_DISCARD_MIN 16      /* contiguous frees from this size are discarded */
#define VM_PAGE_FREE_RUN_MIN 8      /* vm_page_free_pages: consecutive pages from this
                                       many go to the buddy lists as a run */
#define VM_PAGE_WAIT_NS     20000000ull /* re-check period of a sleeping allocation */
#define VM_PAGE_NLOCKS      64

struct vm_page_pcpu vm_page_pcpu[MAXCPU];

uint64_t vm_page_free_reserved;             /* F */
uint64_t vm_page_interrupt_free_min;        /* F */
uint64_t vm_page_free_waiters;              /* F (read racily by the free fast path) */

static uint64_t vm_page_npages;             /* boot */
static uint64_t vm_page_bootstrap;          /* boot */
static uint64_t vm_page_nwired;             /* atomic */
static uint64_t vm_page_alloc_fails;        /* atomic */
static uint64_t vm_page_plat_discarded;     /* atomic */

static struct mtx vm_page_locks[VM_PAGE_NLOCKS];

static void vm_page_lowmem(void *arg, int flags);

static struct mtx *vm_page_lockptr(vm_page_t m)
{
	uintptr_t h = (uintptr_t)m / sizeof(struct vm_page);

	return &vm_page_locks[(h ^ (h >> 6)) % VM_PAGE_NLOCKS];
}

static struct mtx vm_page_pcpu_wait_mtx;    /* only for vm_page_pcpu_wait's naps */

/* ---- boot ------------------------------------------------------------------------ */

/* Host re-boots (vm_startup_reset): vm_page's globals back to the all-zero state a
 * freshly loaded kernel finds in its .bss. */
void vm_page_reset(void)
{
	memset(vm_page_pcpu, 0, sizeof(vm_page_pcpu));
	vm_page_free_reserved = vm_page_interrupt_free_min = 0;
	vm_page_free_waiters = 0;
	vm_page_npages = vm_page_bootstrap = vm_page_nwired = 0;
	vm_page_alloc_fails = vm_page_plat_discarded = 0;
	vm_pageout_reset();
	/* Unlocked and zero already in a fresh kernel (see vm_platform.h); named here
	 * because 64 calls are not worth their time at a guest boot. */
	for (int i = 0; i < VM_PAGE_NLOCKS; i++)
		mtx_init(&vm_page_locks[i], "vm_page");
}

/*
 * Everything boot must write is O(segments): the segment table and a few counters. The
 * list heads and queues are empty by static initialisation, the page arrays stay
 * untouched, the free lists empty (vm_phys carves the segments as pages are asked for),
 * the per-CPU caches and the pre-zeroed pool empty until first used.
 */
void vm_page_startup(void)
{
	if (vm_phys_nsegs == 0)
		panic("vm_page_startup: no physical memory segments");
	vm_lowmem_startup();
	mtx_init(&vm_page_pcpu_wait_mtx, "pcpuflag");
	vm_page_bootstrap = vm_phys_startup();
	for (int i = 0; i < vm_phys_nsegs; i++)
		vm_page_npages += vm_phys_segs[i].ps_npages;
	/* Interrupts may take the last pages; the system reserve is what kernel memory
	 * (page tables, UMA) needs to make progress while user allocations wait. */
	vm_page_free_reserved = 8 + vm_page_npages / 256;   /* alone: no lock yet */
	vm_page_interrupt_free_min = 8;
	vm_pageout_startup(vm_page_npages, vm_page_free_reserved);
	vm_page_zero_startup(vm_page_npages);
	vm_lowmem_register_startup(vm_page_lowmem, NULL);
}

void vm_page_boot_report(void)
{
	printf("vm_page: %llu pages managed in %d segments, %llu for the page arrays, "
	    "%d blacklisted\n", (unsigned long long)vm_page_npages, vm_phys_nsegs,
	    (unsigned long long)vm_page_bootstrap, vm_phys_blacklist_count());
}

void vm_page_set_reserves(uint64_t free_reserved, uint64_t interrupt_free_min)
{
	KASSERT(interrupt_free_min <= free_reserved,
	    ("vm_page_set_reserves: interrupt_free_min %llu > free_reserved %llu",
	    (unsigned long long)interrupt_free_min, (unsigned long long)free_reserved));
	vm_phys_lock();
	vm_page_free_reserved = free_reserved;
	vm_page_interrupt_free_min = interrupt_free_min;
	vm_phys_unlock();
}

/* ---- counts ---------------------------------------------------------------------- */

/* Pages in per-CPU caches (racy); *zeroed gets those of them in zeroed runs. */
static uint64_t vm_page_pcpu_cached(uint64_t *zeroed)
{
	uint64_t cached = 0, z = 0;

	for (int c = 0; c < vm_ncpus(); c++) {
		for (int p = 0; p < VM_NFREEPOOL; p++)
			cached += __atomic_load_n(&vm_page_pcpu[c].pc_count[p],
			    __ATOMIC_RELAXED);
		cached += vm_page_pcpu_rleft(&vm_page_pcpu[c]);
		z += vm_page_pcpu_zleft(&vm_page_pcpu[c]);
	}
	if (zeroed != NULL)
		*zeroed = z;
	return cached + z;
}

uint64_t vm_page_free_count(void)
{
	return __atomic_load_n(&vm_phys_nfree, __ATOMIC_RELAXED) +
	    __atomic_load_n(&vm_page_zero_count, __ATOMIC_RELAXED) + vm_page_pcpu_cached(NULL);
}

uint64_t vm_page_wire_count(void)
{
	return __atomic_load_n(&vm_page_nwired, __ATOMIC_RELAXED);
}

static void vm_page_counts_fill(struct vm_page_counts *out);

void vm_page_counts_snapshot(struct vm_page_counts *out)
{
	vm_phys_lock();
	vm_page_counts_fill(out);
	vm_phys_unlock();
}

void vm_page_counts_snapshot_nowait(struct vm_page_counts *out)
{
	/* Held by someone (the panicking thread, maybe): the counts are words, read them
	 * as they are. */
	bool locked = mtx_trylock_unowned(&vm_phys_free_mtx);

	vm_page_counts_fill(out);
	if (locked)
		vm_phys_unlock();
}

/* The counts, consistent with each other when the free lock is held. */
static void vm_page_counts_fill(struct vm_page_counts *out)
{
	uint64_t zcached, cached = vm_page_pcpu_cached(&zcached);
	struct vm_pageout_targets t;
	struct vm_pageout_stats ps;

	vm_pageout_get_targets(&t);
	vm_pageout_stats(&ps);

	*out = (struct vm_page_counts){
		.v_page_count = vm_page_npages,
		.v_free_count = vm_page_avail_locked() + cached,
		.v_pcpu_count = cached,
		.v_wire_count = vm_page_wire_count(),
		.v_active_count = vm_pagequeues[PQ_ACTIVE].pq_cnt + vm_pqbatch_pending(),
		.v_inactive_count = vm_pagequeues[PQ_INACTIVE].pq_cnt,
		.v_laundry_count = vm_pagequeues[PQ_LAUNDRY].pq_cnt,
		.v_bootstrap_count = vm_page_bootstrap,
		.v_blacklist_count = (uint64_t)vm_phys_blacklist_count(),
		.v_free_reserved = vm_page_free_reserved,
		.v_interrupt_free_min = vm_page_interrupt_free_min,
		.v_free_waiters = vm_page_free_waiters,
		.v_alloc_fails = vm_page_alloc_fails,
		.v_plat_discarded = vm_page_plat_discarded,
		.v_free_min = t.free_min,
		.v_free_target = t.free_target,
		.v_inactive_target = t.inactive_target,
		.v_pdpasses = ps.ps_passes,
		.v_pdscanned = ps.ps_scanned,
		.v_pdreactivated = ps.ps_reactivated,
		.v_pddeactivated = ps.ps_deactivated,
		.v_pdfreed = ps.ps_freed,
		.v_pdtolaundry = ps.ps_to_laundry,
		.v_pdlaundered = ps.ps_laundered,
		.v_pdunlaunderable = ps.ps_unlaunderable,
		.v_oom_kills = ps.ps_oom_kills,
	};
	vm_page_zero_counts_locked(out, zcached);
}

/* ---- the per-CPU caches ------------------------------------------------------------ */

/*
 * Return cached pages of pool above keep to the buddy lists. Pages freed in address
 * order (a run handed out and given back, the common case) sit next to each other in
 * the cache: each such stretch is freed as one run, a buddy merge per block instead of
 * a merge chain per page. Adjacent vm_pages are adjacent pages of one segment (each
 * segment's array lies at the end of its own RAM, so two arrays never touch).
 * => pc locked, F held.
 */
static void vm_page_pcpu_release(struct vm_page_pcpu *pc, int pool, uint32_t keep)
{
	const uintptr_t sz = sizeof(struct vm_page);

	while (pc->pc_count[pool] > keep) {
		vm_page_t m = pc->pc_pages[pool][--pc->pc_count[pool]];
		uintptr_t lo = (uintptr_t)m, hi = lo + sz;

		while (pc->pc_count[pool] > keep) {
			uintptr_t n = (uintptr_t)pc->pc_pages[pool][pc->pc_count[pool] - 1];
			if (n + sz == lo)
				lo = n;
			else if (n == hi)
				hi = n + sz;
			else
				break;
			((vm_page_t)n)->pool = 0;   /* a free block's other pages are zero */
			pc->pc_count[pool]--;
		}
		if (hi - lo == sz) {
			vm_phys_free_pages(m, 0);
		} else {
			m->pool = 0;
			vm_phys_free_run((vm_page_t)lo, (hi - lo) / sz, pool);
		}
	}
}

/* Return pc's plain run to the buddy lists. => pc locked, F held. */
static void vm_page_pcpu_rdrain_locked(struct vm_page_pcpu *pc)
{
	if (pc->pc_rnext < pc->pc_rend)
		vm_phys_free_run(pc->pc_rnext, (uint64_t)(pc->pc_rend - pc->pc_rnext),
		    VM_FREEPOOL_DIRECT);
	__atomic_store_n(&pc->pc_rnext, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&pc->pc_rend, NULL, __ATOMIC_RELAXED);
}

/*
 * A flag's holder keeps it for a short while, but that while may include a sleep: in
 * its critical section it may wait for a contested mutex (the buddy lock), and mtx_lock
 * then sets the section aside. Spinning for the flag would, on one CPU, never let the
 * holder finish when the spinner's priority is the better (the scheduler runs nothing
 * of lower priority), so after a few tries the waiter sleeps a moment between tries.
 * Nobody wakes the channel: the holder's unlock stays two instructions.
 */
#define VM_PAGE_PCPU_SPINS      64
#define VM_PAGE_PCPU_NAP_NS     50000

void vm_page_pcpu_wait(struct vm_page_pcpu *pc)
{
	for (int tries = 0; !vm_page_pcpu_trylock(pc); tries++) {
		if (tries < VM_PAGE_PCPU_SPINS) {
			__asm__ volatile("pause");
			continue;
		}
		mtx_lock(&vm_page_pcpu_wait_mtx);
		(void)vm_sleep(&vm_page_pcpu_wait_mtx, &vm_page_pcpu_wait_mtx, "pcpuflag",
		    VM_PAGE_PCPU_NAP_NS);
		mtx_unlock(&vm_page_pcpu_wait_mtx);
	}
}

/* Empty every CPU's caches, zeroed run included, into the buddy lists; the owner of a
 * cache never holds its flag for long. */
static void vm_page_pcpu_drain_all(void)
{
	for (int c = 0; c < vm_ncpus(); c++) {
		struct vm_page_pcpu *pc = &vm_page_pcpu[c];
		if ((__atomic_load_n(&pc->pc_count[0], __ATOMIC_RELAXED) |
		    __atomic_load_n(&pc->pc_count[1], __ATOMIC_RELAXED)) == 0 &&
		    vm_page_pcpu_rleft(pc) == 0 && vm_page_pcpu_zleft(pc) == 0)
			continue;
		vm_page_pcpu_wait(pc);
		vm_phys_lock();
		for (int p = 0; p < VM_NFREEPOOL; p++)
			vm_page_pcpu_release(pc, p, 0);
		vm_page_pcpu_rdrain_locked(pc);
		vm_page_zrun_drain_locked(pc);
		vm_page_free_wakeup_locked();
		vm_phys_unlock();
		vm_page_pcpu_unlock(pc);
	}
}

void vm_page_drain_caches(void)
{
	vm_page_pcpu_drain_all();
	vm_page_zpool_drain();
}

/* Short of memory: everything cached, zeroed pages too, back to the buddy lists, where
 * single pages and contiguous runs can use it. */
static void vm_page_lowmem(void *arg, int flags)
{
	(void)arg;
	(void)flags;
	vm_page_drain_caches();
}

/* ---- allocation ------------------------------------------------------------------ */

/*
 * One page without sleeping: the caller's cache, refilled from the buddy lists within
 * the NORMAL limit, then a single page within the request's class limit, from the
 * buddy lists or, when they are empty, the pre-zeroed pool. Returns NULL when the class
 * allows nothing.
 */
static vm_page_t vm_page_alloc_one(int req, int pool)
{
	struct vm_page_pcpu *pc;
	vm_page_t m = NULL;
	bool low = false;

	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (vm_page_pcpu_trylock(pc)) {
		/* The direct pool's cache refills its run with one whole block when the
		 * pool has one that large; the array, page by page, otherwise. */
		bool run = pool == VM_FREEPOOL_DIRECT;
		if (pc->pc_count[pool] == 0 && (!run || pc->pc_rnext == pc->pc_rend)) {
			vm_phys_lock();
			uint64_t avail = vm_page_avail_locked();
			/* A refill is one in VM_PAGE_PCPU_BATCH allocations: where free memory
			 * is watched for the daemon at no cost to the others. */
			low = avail < vm_pageout_free_target();
			if (avail > vm_page_free_reserved + VM_PAGE_PCPU_BATCH) {
				vm_page_t b = run ? vm_phys_alloc_block(pool,
				    VM_PAGE_PCPU_BATCH_ORDER) : NULL;
				if (b != NULL) {
					pc->pc_rnext = b;
					pc->pc_rend = b + VM_PAGE_PCPU_BATCH;
				} else {
					pc->pc_count[pool] = (uint32_t)vm_phys_alloc_npages(pool,
					    VM_PAGE_PCPU_BATCH, pc->pc_pages[pool]);
				}
			}
			vm_phys_unlock();
		}
		if (pc->pc_count[pool] > 0)
			m = pc->pc_pages[pool][--pc->pc_count[pool]];
		else if (run && pc->pc_rnext != pc->pc_rend)
			m = pc->pc_rnext++;
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
	if (low)
		vm_pageout_wakeup(false);
	if (m != NULL)
		m->pool = (uint8_t)pool;
	if (m != NULL)
		return m;

	vm_phys_lock();
	if (vm_page_class_allows(req, 1)) {
		m = vm_phys_alloc_pages(pool, 0);
		if (m == NULL) {    /* the buddy lists are empty: the zero pool is not */
			uint32_t n;
			if ((m = vm_page_zpool_get(1, &n)) != NULL) {
				vm_page_zero_mark(m, pool);
				if ((req & VM_ALLOC_ZERO) != 0)
					vm_page_count_add(&vm_page_zero_hits, 1);
			}
		}
	}
	vm_phys_unlock();
	return m;
}

/*
 * A sleeping request nothing can satisfy: the caller is the only thread of control, the
 * low-memory handlers have given back what they had, and sleeping would spin for ever.
 */
static __attribute__((noinline, noreturn)) void vm_page_alloc_wait_hopeless(int req,
    unsigned long npages)
{
	uint64_t free, reserved;

	vm_phys_lock();
	free = vm_phys_nfree;
	reserved = vm_page_free_reserved;
	vm_phys_unlock();
	panic("vm_page_alloc: out of memory: a sleeping request for %lu %s page%s "
	    "(class %s) waits for pages to be freed, and nothing else runs to free them "
	    "(%llu pages free, %llu reserved)", npages, npages > 1 ? "contiguous" : "free",
	    npages > 1 ? "s" : "",
	    (req & VM_ALLOC_CLASS_MASK) == VM_ALLOC_INTERRUPT ? "interrupt" :
	    (req & VM_ALLOC_CLASS_MASK) == VM_ALLOC_SYSTEM ? "system" : "normal",
	    (unsigned long long)free, (unsigned long long)reserved);
}

/*
 * When the request cannot be met now: fire the low-memory handlers (they return cached
 * pages), try again, then fail or sleep as the request says. 'try' is retried.
 */
static vm_page_t vm_page_alloc_wait(int req, unsigned long npages,
    vm_page_t (*try)(int, void *), void *arg)
{
	vm_page_t m;
	bool slept = false;

	for (;;) {
		vm_lowmem_fire(VM_LOW_PAGES);
		if ((m = try(req, arg)) != NULL)
			return m;
		/* The daemon makes pages free; each failure tells it memory is short
		 * (its out-of-memory judgement counts the passes that follow). */
		vm_pageout_wakeup(true);
		bool alone = !vm_plat_others_can_free();
		if ((req & (VM_ALLOC_WAITOK | VM_ALLOC_WAITFAIL)) == 0 ||
		    ((slept || alone) && (req & VM_ALLOC_WAITOK) == 0)) {
			vm_page_count_add(&vm_page_alloc_fails, 1);
			return NULL;
		}
		if (alone)
			vm_page_alloc_wait_hopeless(req, npages);
		/* Pages freed to the buddy lists wake us at once; pages freed into a
		 * cache meanwhile, or a contiguous run that needs more than a free page,
		 * are found by the periodic re-check. */
		vm_phys_lock();
		vm_page_free_waiters++;
		vm_sleep(&vm_page_free_waiters, &vm_phys_free_mtx, "pfault", VM_PAGE_WAIT_NS);
		vm_page_free_waiters--;
		vm_phys_unlock();
		slept = true;
	}
}

/* Make a freshly taken page what the request asked for. A page from the pre-zeroed pool
 * or a zeroed run carries PG_ZERO already (vm_page_zero_mark), its hit counted where it
 * was taken. */
static __attribute__((noinline)) vm_page_t vm_page_alloc_setup_slow(vm_page_t m, int req);

/* Returns m, so that callers end in a tail call and the fast paths keep no register. */
static inline vm_page_t vm_page_alloc_setup(vm_page_t m, int req)
{
	KASSERT(m->order == 0 && m->queue == PQ_NONE && m->ref_count == 0 &&
	    m->busy_lock == 0 && m->kmem_owner == 0 && m->object == NULL,
	    ("vm_page_alloc_setup: page %p is not free", (void *)m));
	if (__predict_false((req & (VM_ALLOC_WIRED | VM_ALLOC_NODUMP | VM_ALLOC_ZERO)) != 0))
		return vm_page_alloc_setup_slow(m, req);
	return m;
}

static vm_page_t vm_page_alloc_setup_slow(vm_page_t m, int req)
{
	if ((req & VM_ALLOC_WIRED) != 0) {
		m->ref_count = 1;
		vm_page_count_add(&vm_page_nwired, 1);
	}
	if ((req & VM_ALLOC_NODUMP) != 0)
		m->flags |= PG_NODUMP;
	if ((req & VM_ALLOC_ZERO) != 0 && (m->flags & PG_ZERO) == 0) {
		struct vm_page_run run = { VM_PAGE_TO_PHYS(m), 1 };
		vm_page_zero_runs(&run, 1);
		vm_page_count_add(&vm_page_zero_misses, 1);
	}
	return m;
}

/* arg non-NULL: the caller is short of memory, do not fill the pre-zeroed pool. */
static vm_page_t vm_page_alloc_noobj_try(int req, void *arg)
{
	vm_page_t m;

	if ((req & VM_ALLOC_ZERO) != 0 &&
	    (m = vm_page_zero_alloc_slow(req, VM_FREEPOOL_DIRECT, arg == NULL)) != NULL)
		return m;
	return vm_page_alloc_one(req, VM_FREEPOOL_DIRECT);
}

/* vm_page_alloc_noobj when this CPU's cache or zeroed run had nothing for it. */
static __attribute__((noinline)) vm_page_t vm_page_alloc_noobj_slow(int req)
{
	static char short_of_memory;
	vm_page_t m;

	m = vm_page_alloc_noobj_try(req, NULL);
	if (m == NULL) {
		m = vm_page_alloc_wait(req, 1, vm_page_alloc_noobj_try, &short_of_memory);
		if (m == NULL)
			return NULL;
	}
	if ((m->flags & PG_ZERO) != 0)      /* nothing left to do about ZERO */
		req &= ~VM_ALLOC_ZERO;
	return vm_page_alloc_setup(m, req);
}

/*
 * The fast path of a ZERO request: the next page of this CPU's zeroed run. Marked
 * PG_ZERO, it leaves the setup nothing to do about ZERO.
 */
static inline vm_page_t vm_page_alloc_noobj_zero(int req)
{
	struct vm_page_pcpu *pc;
	vm_page_t m;

	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (__predict_true(vm_page_pcpu_trylock(pc))) {
		m = pc->pc_znext;
		if (__predict_true(m != pc->pc_zend)) {
			pc->pc_znext++;
			vm_page_pcpu_unlock(pc);
			critical_exit();
			vm_page_zero_mark(m, VM_FREEPOOL_DIRECT);
			return vm_page_alloc_setup(m, req & ~VM_ALLOC_ZERO);
		}
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
	return vm_page_alloc_noobj_slow(req);
}

vm_page_t vm_page_alloc_noobj(int req)
{
	vm_page_t m;

	if ((req & VM_ALLOC_ZERO) != 0)
		return vm_page_alloc_noobj_zero(req);
	/* The fast path: a page from this CPU's cache. */
	m = vm_page_pcpu_next();
	if (__predict_false(m == NULL))
		return vm_page_alloc_noobj_slow(req);
	return vm_page_alloc_setup(m, req);
}

/* ---- batch allocation ------------------------------------------------------------ */

/*
 * Up to n plain pages into ma without sleeping: a slice of this CPU's direct-pool cache
 * (set aside already, as the one-page path takes it), then blocks of the buddy lists
 * and, when those are dry, runs of the pre-zeroed pool (marked PG_ZERO), as many as the
 * request's class leaves. Returns how many.
 */
static int vm_page_batch_plain(int req, int n, vm_page_t *ma)
{
	const int pool = VM_FREEPOOL_DIRECT;
	struct vm_page_pcpu *pc;
	int k = 0;

	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (vm_page_pcpu_trylock(pc)) {
		uint32_t c = pc->pc_count[pool];
		k = (int)MIN((uint32_t)n, c);
		for (int i = 0; i < k; i++)
			ma[i] = pc->pc_pages[pool][c - 1 - (uint32_t)i];
		pc->pc_count[pool] = c - (uint32_t)k;
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
	if (k == n)
		return k;

	vm_phys_lock();
	uint64_t avail = vm_page_avail_locked(), min = vm_page_class_min(req);
	int want = avail > min ? (int)MIN((uint64_t)(n - k), avail - min) : 0;
	int got = vm_phys_alloc_npages(pool, want, ma + k);
	while (got < want) {    /* the buddy lists are dry: the zero pool is not */
		uint32_t z;
		vm_page_t m = vm_page_zpool_get((uint32_t)(want - got), &z);
		if (m == NULL)
			break;
		if ((req & VM_ALLOC_ZERO) != 0)
			vm_page_count_add(&vm_page_zero_hits, z);
		for (uint32_t j = 0; j < z; j++) {
			vm_page_zero_mark(&m[j], pool);
			ma[k + got++] = &m[j];
		}
	}
	vm_phys_unlock();
	return k + got;
}

/*
 * Make ma[0..n) what the request asked for: wired, no-dump, and zeroed where PG_ZERO is
 * not set, the pages to zero gathered into runs so the platform zeroes many with one
 * page operation.
 */
static void vm_page_batch_setup(int req, int n, vm_page_t *ma)
{
	struct vm_page_run runs[16];
	unsigned nruns = 0;

	for (int i = 0; i < n; i++) {
		vm_page_t m = ma[i];
		KASSERT(m->order == 0 && m->queue == PQ_NONE && m->ref_count == 0 &&
		    m->busy_lock == 0 && m->kmem_owner == 0 && m->object == NULL,
		    ("vm_page_batch_setup: page %p is not free", (void *)m));
		if ((req & VM_ALLOC_WIRED) != 0)
			m->ref_count = 1;
		if ((req & VM_ALLOC_NODUMP) != 0)
			m->flags |= PG_NODUMP;
		if ((req & VM_ALLOC_ZERO) == 0 || (m->flags & PG_ZERO) != 0)
			continue;
		vm_paddr_t pa = VM_PAGE_TO_PHYS(m);
		vm_page_count_add(&vm_page_zero_misses, 1);
		if (nruns > 0 && runs[nruns - 1].pa + ptoa(runs[nruns - 1].npages) == pa) {
			runs[nruns - 1].npages++;
			continue;
		}
		if (nruns == sizeof(runs) / sizeof(runs[0])) {
			vm_page_zero_runs(runs, nruns);
			nruns = 0;
		}
		runs[nruns++] = (struct vm_page_run){ pa, 1 };
	}
	if (nruns > 0)
		vm_page_zero_runs(runs, nruns);
	if ((req & VM_ALLOC_WIRED) != 0)
		vm_page_count_add(&vm_page_nwired, n);
}

/* The batch when this CPU's zeroed run did not cover it, or for plain pages. */
static __attribute__((noinline)) int vm_page_alloc_noobj_batch_slow(int req, int npages,
    vm_page_t *ma)
{
	int got = 0;

	for (;;) {
		/* Without sleeping: zeroed runs (each refill from the pool, which fills
		 * itself when low, gives one page and a fresh run), then plain pages. */
		int z = got;
		while ((req & VM_ALLOC_ZERO) != 0 && got < npages) {
			vm_page_t m = vm_page_zero_alloc_slow(req, VM_FREEPOOL_DIRECT, true);
			if (m == NULL)
				break;
			ma[got++] = m;
			got += vm_page_zrun_take(npages - got, ma + got);
		}
		/* Zeroed-run pages carry PG_ZERO: only WIRED and NODUMP are left. */
		if ((req & (VM_ALLOC_WIRED | VM_ALLOC_NODUMP)) != 0)
			vm_page_batch_setup(req & ~VM_ALLOC_ZERO, got - z, ma + z);
		if (got < npages) {
			int p = vm_page_batch_plain(req, npages - got, ma + got);
			vm_page_batch_setup(req, p, ma + got);
			got += p;
		}
		if (got == npages)
			return got;
		/* Short: one page the way a single request gets it (the low-memory
		 * handlers fired, then failing or sleeping as req says), and if one came,
		 * the rest again in bulk. */
		vm_page_t m = vm_page_alloc_noobj(req);
		if (m == NULL)
			return got;
		ma[got++] = m;
		if (got == npages)
			return got;
	}
}

int vm_page_alloc_noobj_batch(int req, int npages, vm_page_t *ma)
{
	int got;

	KASSERT(npages >= 0, ("vm_page_alloc_noobj_batch: npages %d", npages));
	if ((req & VM_ALLOC_ZERO) != 0) {
		got = vm_page_zrun_take(npages, ma);
		if (__predict_true(got == npages &&
		    (req & (VM_ALLOC_WIRED | VM_ALLOC_NODUMP)) == 0))
			return got;
		/* Zeroed-run pages carry PG_ZERO: only WIRED and NODUMP are left. */
		if ((req & (VM_ALLOC_WIRED | VM_ALLOC_NODUMP)) != 0)
			vm_page_batch_setup(req & ~VM_ALLOC_ZERO, got, ma);
		if (got == npages)
			return got;
		return vm_page_alloc_noobj_batch_slow(req, npages - got, ma + got) + got;
	}
	return vm_page_alloc_noobj_batch_slow(req, npages, ma);
}

static vm_page_t vm_page_alloc_contig_try(int req, void *arg)
{
	struct vm_page_contig_args *a = arg;
	vm_page_t m = NULL;

	vm_phys_lock();
	if (vm_page_class_allows(req, a->vca_npages))
		m = vm_phys_alloc_contig(a->vca_npages, a->vca_low, a->vca_high,
		    a->vca_alignment, a->vca_boundary);
	vm_phys_unlock();
	return m;
}

vm_page_t vm_page_alloc_noobj_contig(int req, unsigned long npages, vm_paddr_t low,
    vm_paddr_t high, unsigned long alignment, vm_paddr_t boundary)
{
	struct vm_page_contig_args a = { npages, low, high, alignment, boundary };
	vm_page_t m;

	if (npages == 0)
		return NULL;
	/* A ZERO run: a slice of this CPU's zeroed run, without a lock, when the request
	 * has no constraint (kernel memory, the common case); else a pool run that fits. */
	if ((req & VM_ALLOC_ZERO) != 0 && npages <= UINT32_MAX) {
		vm_page_zpool_maybe_fill();
		m = NULL;
		if (low == 0 && high == ~(vm_paddr_t)0 && alignment <= PAGE_SIZE && boundary == 0)
			m = vm_page_zrun_take_n(npages);
		if (m == NULL)
			m = vm_page_zpool_get_contig(req, &a);
	} else {
		m = NULL;
	}
	if (m != NULL) {
		/* Zero and free by the pool's invariant, which the first page checks. */
		KASSERT(m->order == 0 && m->flags == 0 && m->ref_count == 0 &&
		    m->object == NULL, ("vm_page_alloc_noobj_contig: pre-zeroed page %p is "
		    "not free", (void *)m));
		if ((req & (VM_ALLOC_WIRED | VM_ALLOC_NODUMP)) != 0)
			for (unsigned long i = 0; i < npages; i++)
				vm_page_alloc_setup(&m[i], req & ~VM_ALLOC_ZERO);
		return m;
	}
	m = vm_page_alloc_contig_try(req, &a);
	if (m == NULL) {
		/* Fragmentation is not cured by waiting for one page: WAITOK sleeps and
		 * retries like a one-page request, which is as good as it gets here. */
		vm_page_drain_caches();
		m = vm_page_alloc_wait(req, npages, vm_page_alloc_contig_try, &a);
		if (m == NULL)
			return NULL;
	}
	if ((req & (VM_ALLOC_WIRED | VM_ALLOC_NODUMP)) != 0) {
		for (unsigned long i = 0; i < npages; i++)
			vm_page_alloc_setup(&m[i], req & ~VM_ALLOC_ZERO);
	} else {
		/* Nothing to set: the run's pages are free and all-zero by the buddy
		 * lists' invariant, which its two ends check (a loop over every page costs
		 * emulated instructions per page in the guest). */
		(void)vm_page_alloc_setup(&m[0], 0);
		(void)vm_page_alloc_setup(&m[npages - 1], 0);
	}
	if ((req & VM_ALLOC_ZERO) != 0) {
		struct vm_page_run run = { VM_PAGE_TO_PHYS(m), npages };
		vm_page_zero_runs(&run, 1);
	}
	return m;
}

/* ---- free -------------------------------------------------------------------------- */

/*
 * Put m back to the all-zero state of a free page, except the pool it frees to.
 * Returns false when the page is held: its last unhold frees it.
 */
static bool vm_page_free_prep_slow(vm_page_t m, uint8_t pool);

static inline __attribute__((always_inline)) bool vm_page_free_prep(vm_page_t m)
{
	uint8_t pool = m->pool;

	KASSERT((m->flags & (PG_FICTITIOUS | PG_BLACKLISTED)) == 0,
	    ("vm_page_free_prep: page %p is fictitious or blacklisted", (void *)m));
	KASSERT(m->order == 0, ("vm_page_free_prep: page %p is already free", (void *)m));
	KASSERT(m->object == NULL, ("vm_page_free_prep: page %p still in object %p",
	    (void *)m, (void *)m->object));
	KASSERT(m->kmem_owner == 0, ("vm_page_free_prep: page %p has kmem_owner %#lx",
	    (void *)m, (unsigned long)m->kmem_owner));
	KASSERT((m->busy_lock & ~(VPB_EXCLUSIVE | VPB_WAITERS)) == 0,
	    ("vm_page_free_prep: page %p is shared busy", (void *)m));
	if (__predict_false((__atomic_load_n(&m->hold_count, __ATOMIC_ACQUIRE) |
	    m->queue | (m->busy_lock & VPB_WAITERS) | m->ref_count) != 0))
		return vm_page_free_prep_slow(m, pool);
	*m = (struct vm_page){ .pool = pool };
	return true;
}

static bool vm_page_free_prep_slow(vm_page_t m, uint8_t pool)
{
	if (__atomic_load_n(&m->hold_count, __ATOMIC_ACQUIRE) != 0) {
		struct mtx *lk = vm_page_lockptr(m);
		mtx_lock(lk);
		if (m->hold_count != 0) {
			__atomic_or_fetch(&m->flags, PG_UNHOLDFREE, __ATOMIC_RELAXED);
			mtx_unlock(lk);
			return false;
		}
		mtx_unlock(lk);
	}
	if (__predict_false(m->queue != PQ_NONE))
		vm_page_dequeue(m);
	if (m->ref_count != 0) {
		KASSERT(m->ref_count == 1, ("vm_page_free_prep: page %p wired %u times",
		    (void *)m, m->ref_count));
		vm_page_count_add(&vm_page_nwired, -1);
	}
	if (__predict_false(m->busy_lock & VPB_WAITERS)) {
		struct mtx *lk = vm_page_lockptr(m);
		mtx_lock(lk);
		vm_wakeup(m);
		mtx_unlock(lk);
	}
	*m = (struct vm_page){ .pool = pool };
	return true;
}

void vm_page_free(vm_page_t m)
{
	struct vm_page_pcpu *pc;
	int pool;

	if (!vm_page_free_prep(m))
		return;
	pool = m->pool;
	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (__predict_true(vm_page_pcpu_trylock(pc))) {
		/* Someone sleeps for memory: a page in a cache would not wake them. */
		if (__predict_true(pc->pc_count[pool] < VM_PAGE_PCPU_MAX &&
		    __atomic_load_n(&vm_page_free_waiters, __ATOMIC_RELAXED) == 0)) {
			pc->pc_pages[pool][pc->pc_count[pool]++] = m;
			vm_page_pcpu_unlock(pc);
			critical_exit();
			return;
		}
		vm_phys_lock();
		vm_page_pcpu_release(pc, pool, VM_PAGE_PCPU_MAX - VM_PAGE_PCPU_BATCH);
		vm_phys_free_pages(m, 0);
		vm_page_free_wakeup_locked();
		vm_phys_unlock();
		vm_page_pcpu_unlock(pc);
		critical_exit();
		return;
	}
	critical_exit();
	vm_phys_lock();
	vm_phys_free_pages(m, 0);
	vm_page_free_wakeup_locked();
	vm_phys_unlock();
}

void vm_page_free_pages(vm_page_t *ma, int n)
{
	struct vm_page_pcpu *pc;
	bool phys = false;
	int k = 0;

	/* Each made free first, outside the critical section (a held page's takes a page
	 * lock), the ones really freed kept in ma. */
	for (int i = 0; i < n; i++)
		if (vm_page_free_prep(ma[i]))
			ma[k++] = ma[i];
	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (__predict_false(!vm_page_pcpu_trylock(pc))) {
		critical_exit();
		vm_phys_lock();
		for (int i = 0; i < k; i++)
			vm_phys_free_pages(ma[i], 0);
		vm_page_free_wakeup_locked();
		vm_phys_unlock();
		return;
	}
	for (int i = 0; i < k; i++) {
		vm_page_t m = ma[i];
		int pool = m->pool;
		/* A stretch of physically consecutive pages (an object's pages often are:
		 * they came from one zeroed run) goes to the buddy lists as one run: the
		 * cache would only hold it until its release coalesced it again. */
		int j = i + 1;
		while (j < k && ma[j] == ma[j - 1] + 1 && ma[j]->pool == pool)
			j++;
		if (j - i >= VM_PAGE_FREE_RUN_MIN) {
			if (!phys) {
				vm_phys_lock();
				phys = true;
			}
			for (int l = i; l < j; l++)
				ma[l]->pool = 0;    /* a free block's other pages are zero */
			vm_phys_free_run(m, (unsigned long)(j - i), pool);
			i = j - 1;
			continue;
		}
		/* Someone sleeps for memory: a page in a cache would not wake them. */
		if (__predict_true(pc->pc_count[pool] < VM_PAGE_PCPU_MAX &&
		    __atomic_load_n(&vm_page_free_waiters, __ATOMIC_RELAXED) == 0)) {
			pc->pc_pages[pool][pc->pc_count[pool]++] = m;
			continue;
		}
		if (!phys) {
			vm_phys_lock();
			phys = true;
		}
		vm_page_pcpu_release(pc, pool, VM_PAGE_PCPU_MAX - VM_PAGE_PCPU_BATCH);
		vm_phys_free_pages(m, 0);
	}
	if (phys) {
		vm_page_free_wakeup_locked();
		vm_phys_unlock();
	}
	vm_page_pcpu_unlock(pc);
	critical_exit();
}

void vm_page_free_contig(vm_page_t m, unsigned long npages)
{
	unsigned long i;

	KASSERT(npages > 0, ("vm_page_free_contig: no pages"));
	for (i = 0; i < npages; i++) {
		bool freed = vm_page_free_prep(&m[i]);
		KASSERT(freed, ("vm_page_free_contig: page %p of the run is held",
		    (void *)&m[i]));
		(void)freed;
		m[i].pool = 0;
	}
	uint64_t zeroed = 0;
	if (npages >= VM_PAGE_DISCARD_MIN) {
		/* A large run goes back to the machine: memory returns to the host, and
		 * the pages read as zero when next used, so the pre-zeroed pool takes
		 * what it has room for instead of zeroing other pages later. The pages
		 * done are a prefix of the run. */
		struct vm_page_run run = { VM_PAGE_TO_PHYS(m), npages };
		zeroed = vm_plat_discard_pages(&run, 1);
		vm_page_count_add(&vm_page_plat_discarded, (int64_t)zeroed);
	}
	vm_phys_lock();
	if (zeroed != 0)
		zeroed = vm_page_zpool_put_discarded(m, zeroed);
	if (zeroed < npages)
		vm_phys_free_contig(m + zeroed, npages - zeroed);
	vm_page_free_wakeup_locked();
	vm_phys_unlock();
}

/* ---- wire and hold --------------------------------------------------------------- */

void vm_page_wire(vm_page_t m)
{
	uint32_t old = __atomic_fetch_add(&m->ref_count, 1, __ATOMIC_ACQ_REL);

	KASSERT(m->order == 0, ("vm_page_wire: free page %p", (void *)m));
	KASSERT(old != UINT32_MAX, ("vm_page_wire: page %p wire count overflow", (void *)m));
	if (old == 0)
		vm_page_count_add(&vm_page_nwired, 1);
}

bool vm_page_unwire_noq(vm_page_t m)
{
	uint32_t old = __atomic_fetch_sub(&m->ref_count, 1, __ATOMIC_ACQ_REL);

	KASSERT(old != 0, ("vm_page_unwire_noq: page %p is not wired", (void *)m));
	if (old != 1)
		return false;
	vm_page_count_add(&vm_page_nwired, -1);
	return true;
}

void vm_page_unwire(vm_page_t m, int queue)
{
	if (!vm_page_unwire_noq(m))
		return;
	switch (queue) {
	case PQ_NONE:
		break;
	case PQ_ACTIVE:
		vm_page_activate(m);
		break;
	case PQ_INACTIVE:
		vm_page_deactivate(m);
		break;
	case PQ_LAUNDRY:
		vm_page_launder(m);
		break;
	default:
		panic("vm_page_unwire: bad queue %d", queue);
	}
}

void vm_page_hold(vm_page_t m)
{
	uint16_t old = __atomic_fetch_add(&m->hold_count, 1, __ATOMIC_ACQ_REL);

	KASSERT(m->order == 0, ("vm_page_hold: free page %p", (void *)m));
	KASSERT(old != UINT16_MAX, ("vm_page_hold: page %p hold overflow", (void *)m));
	(void)old;
}

void vm_page_unhold(vm_page_t m)
{
	struct mtx *lk = vm_page_lockptr(m);
	bool free_it = false;

	mtx_lock(lk);
	KASSERT(m->hold_count > 0, ("vm_page_unhold: page %p is not held", (void *)m));
	if (__atomic_sub_fetch(&m->hold_count, 1, __ATOMIC_ACQ_REL) == 0 &&
	    (m->flags & PG_UNHOLDFREE) != 0) {
		__atomic_and_fetch(&m->flags, (uint16_t)~PG_UNHOLDFREE, __ATOMIC_RELAXED);
		free_it = true;
	}
	mtx_unlock(lk);
	if (free_it)
		vm_page_free(m);
}

/* ---- busy ------------------------------------------------------------------------------ */

bool vm_page_tryxbusy(vm_page_t m)
{
	uint32_t x = VPB_UNBUSIED;

	return __atomic_compare_exchange_n(&m->busy_lock, &x, VPB_EXCLUSIVE, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

bool vm_page_trysbusy(vm_page_t m)
{
	uint32_t x = __atomic_load_n(&m->busy_lock, __ATOMIC_RELAXED);

	for (;;) {
		if ((x & VPB_EXCLUSIVE) != 0)
			return false;
		if (__atomic_compare_exchange_n(&m->busy_lock, &x, x + VPB_ONE_SHARER, false,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	}
}

/* Wake sleepers of m. The page lock orders this after a sleeper's check-and-sleep. */
static void vm_page_busy_wakeup(vm_page_t m)
{
	struct mtx *lk = vm_page_lockptr(m);

	mtx_lock(lk);
	vm_wakeup(m);
	mtx_unlock(lk);
}

void vm_page_xunbusy(vm_page_t m)
{
	uint32_t x = __atomic_exchange_n(&m->busy_lock, VPB_UNBUSIED, __ATOMIC_RELEASE);

	KASSERT((x & VPB_EXCLUSIVE) != 0, ("vm_page_xunbusy: page %p not xbusy",
	    (void *)m));
	if ((x & VPB_WAITERS) != 0)
		vm_page_busy_wakeup(m);
}

void vm_page_sunbusy(vm_page_t m)
{
	uint32_t x = __atomic_load_n(&m->busy_lock, __ATOMIC_RELAXED), nx;

	for (;;) {
		KASSERT(x >= VPB_ONE_SHARER && (x & VPB_EXCLUSIVE) == 0,
		    ("vm_page_sunbusy: page %p not sbusy (%#x)", (void *)m, x));
		/* The last sharer clears the waiter bit with its share. */
		nx = (x & ~VPB_WAITERS) == VPB_ONE_SHARER ? VPB_UNBUSIED : x - VPB_ONE_SHARER;
		if (__atomic_compare_exchange_n(&m->busy_lock, &x, nx, false,
		    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			break;
	}
	if (nx == VPB_UNBUSIED && (x & VPB_WAITERS) != 0)
		vm_page_busy_wakeup(m);
}

/*
 * Sleep on m (its address is the wait channel, its hashed page lock the sleep's mutex)
 * until its busy state stops conflicting. With an interlock (the owning object's lock)
 * the page lock is taken first and the interlock dropped under it: an unbusy that
 * comes after the caller saw the page busy either finds the waiter bit and wakes us
 * through the page lock, or changed busy_lock before we set the bit (the CAS fails and
 * we see the new state), so no wakeup is lost.
 */
static void vm_page_busy_sleep_impl(vm_page_t m, struct mtx *interlock, bool exclusive)
{
	struct mtx *lk = vm_page_lockptr(m);
	uint32_t x;

	mtx_lock(lk);
	if (interlock != NULL)
		mtx_unlock(interlock);
	x = __atomic_load_n(&m->busy_lock, __ATOMIC_ACQUIRE);
	for (;;) {
		bool conflict = exclusive ? (x & ~VPB_WAITERS) != 0 :
		    (x & VPB_EXCLUSIVE) != 0;
		if (!conflict)
			break;
		if ((x & VPB_WAITERS) != 0 || __atomic_compare_exchange_n(&m->busy_lock, &x,
		    x | VPB_WAITERS, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			vm_sleep(m, lk, "pgbusy", 0);
			break;
		}
	}
	mtx_unlock(lk);
}

void vm_page_busy_sleep(vm_page_t m, bool exclusive)
{
	vm_page_busy_sleep_impl(m, NULL, exclusive);
}

void vm_page_busy_sleep_unlocked(vm_page_t m, struct mtx *interlock, bool exclusive)
{
	mtx_assert_owned(interlock);
	vm_page_busy_sleep_impl(m, interlock, exclusive);
}

void vm_page_xbusy(vm_page_t m)
{
	while (!vm_page_tryxbusy(m))
		vm_page_busy_sleep(m, true);
}

void vm_page_sbusy(vm_page_t m)
{
	while (!vm_page_trysbusy(m))
		vm_page_busy_sleep(m, false);
}

/* ---- fictitious pages -------------------------------------------------------------- */

void vm_page_initfake(vm_page_t m, vm_paddr_t pa)
{
	KASSERT((pa & PAGE_MASK) == 0, ("vm_page_initfake: pa %#llx unaligned",
	    (unsigned long long)pa));
	*m = (struct vm_page){ .flags = PG_FICTITIOUS | PG_UNMANAGED, .phys_fict = pa,
	    .ref_count = 1 };
}
