/*
 * vm_page: boot of the page arrays, the page allocator (classes, reserves, per-CPU page
 * caches, the pre-zeroed pool, waiting for memory), free, wire, hold and busy.
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
 * Pre-zeroed pages (FreeBSD's PG_ZERO, with the host as the zeroing thread). Zeroing a
 * page with stores costs the guest kernel as much as forty exits here, and every kernel
 * instruction is emulated, so VM_ALLOC_ZERO is served from pages zeroed ahead of demand
 * at a cost of a few instructions each:
 *  - The pool is a short stack of runs of physically contiguous pages, at most
 *    vm_page_zero_max pages. When a CPU finds it below half full, it fills it up with a
 *    few large buddy blocks zeroed by one platform page operation (one exit for hundreds
 *    of pages: a block is one entry of the operation's list). vm_page_free_contig also
 *    puts the runs it discarded there: discarding returned their memory to the host and
 *    made them read as zero.
 *  - Each CPU caches one run taken from the pool, [pc_znext, pc_zend). Handing out a
 *    zeroed page is taking the run's next vm_page inside the critical section: a
 *    compare and a pointer step, no list and no counter (the hits are counted when
 *    runs are refilled and drained).
 * A page in the pool or a CPU's run has an all-zero vm_page like any page off the free
 * lists; PG_ZERO is set as it is handed out (vm_page_zero_mark) and cleared when it is
 * freed. Only pages the platform reports zeroed or discarded, or that stores zeroed,
 * enter the pool, so a page is never handed out as zeroed that is not. Pool pages count
 * as free for the class limits; a CPU's run is set aside like its other caches; the
 * low-memory handler returns both to the buddy lists. Without page operations (QEMU)
 * nothing is zeroed ahead: stores at allocation cost the same and waste nothing.
 *
 * Lock order: page queue locks -> per-CPU cache flag -> F (vm_phys free lock).
 * Page locks (hashed, vm_page_lockptr) serialise busy sleeps and hold/free; they are
 * taken with nothing else held.
 */
#include "vm/vm_lowmem.h"
#include "vm/vm_page.h"
#include "vm/vm_pagequeue.h"
#include "vm/vm_phys.h"
#include "vm/vm_startup.h"

#define VM_PAGE_PCPU_MAX    60      /* pages a CPU caches per pool (struct vm_page_pcpu
                                       is then 1 KiB: finding the CPU's is a shift) */
#define VM_PAGE_PCPU_BATCH  32      /* pages moved to or from the buddy lists at once */
#define VM_PAGE_PCPU_ZMAX   256     /* most zeroed pages a CPU takes from the pool at once
                                       (and at most half the pool's bound) */
#define VM_PAGE_ZERO_MAX    2048    /* most pages the pre-zeroed pool keeps (8 MiB) */
#define VM_PAGE_ZERO_NRUNS  32      /* most runs the pool holds */
#define VM_PAGE_ZERO_FILL_RUNS 8    /* most runs one fill zeroes (one page operation) */
#define VM_PAGE_ZERO_MIN_RUN 64     /* a fill's runs after its first are no shorter */
/* Largest run a fill takes: 2 MiB, so that a fill of half the pool is one buddy block.
 * The VMM zeroes runs below 8 MiB with stores; longer ones it zeroes by dropping their
 * memory, which would cost a host fault per page at its first touch. */
#define VM_PAGE_ZERO_ORDER  9
#define VM_PAGE_DISCARD_MIN 16      /* contiguous frees from this size are discarded */
#define VM_PAGE_WAIT_NS     20000000ull /* re-check period of a sleeping allocation */
#define VM_PAGE_NLOCKS      64

struct vm_page_pcpu {
	uint32_t pc_busy;                           /* atomic: the cache is in use */
	uint32_t pc_count[VM_NFREEPOOL];            /* pc_busy */
	vm_page_t pc_znext;                         /* pc_busy: the zeroed run's next page */
	vm_page_t pc_zend;                          /* pc_busy: and its end */
	vm_page_t pc_pages[VM_NFREEPOOL][VM_PAGE_PCPU_MAX]; /* pc_busy */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct vm_page_pcpu) == 1024,
    "struct vm_page_pcpu: keep it a power of two in size");

static struct vm_page_pcpu vm_page_pcpu[MAXCPU];

/* A run of zeroed pages: adjacent vm_pages of one segment, so physically contiguous. */
struct vm_page_zrun {
	vm_page_t zr_first;
	uint64_t zr_npages;
};

static struct vm_page_zrun vm_page_zpool[VM_PAGE_ZERO_NRUNS];  /* F: a stack */
static int vm_page_zpool_nruns;             /* F */
static uint64_t vm_page_zero_count;         /* F: pages in vm_page_zpool */
static uint64_t vm_page_zero_filling;       /* F: pages being zeroed for the pool */
static int vm_page_zero_filling_runs;       /* F: the pool slots they will take */
static uint64_t vm_page_zero_max;           /* boot */
static uint64_t vm_page_zero_low;           /* boot: a CPU fills the pool below this */
static uint32_t vm_page_pcpu_zmax;          /* boot: pages a CPU's zeroed run takes */
static uint64_t vm_page_free_reserved;      /* F */
static uint64_t vm_page_interrupt_free_min; /* F */
static uint64_t vm_page_free_waiters;       /* F (read racily by the free fast path) */

static uint64_t vm_page_npages;             /* boot */
static uint64_t vm_page_bootstrap;          /* boot */
static uint64_t vm_page_nwired;             /* atomic */
static uint64_t vm_page_zero_hits, vm_page_zero_misses, vm_page_alloc_fails; /* atomic */
static uint64_t vm_page_plat_zeroed, vm_page_plat_discarded;             /* atomic */
static uint64_t vm_page_zero_fills, vm_page_zero_discards;               /* atomic */
static uint64_t vm_page_zero_fresh;                                      /* atomic */
/* Pages that entered per-CPU zeroed runs, and that a drain took back unused: the pages
 * that left them otherwise were handed out, each a hit (v_zero_hits). */
static uint64_t vm_page_zrun_in, vm_page_zrun_out;                        /* F */

static struct mtx vm_page_locks[VM_PAGE_NLOCKS];

static void vm_page_lowmem(void *arg, int flags);

static struct mtx *vm_page_lockptr(vm_page_t m)
{
	uintptr_t h = (uintptr_t)m / sizeof(struct vm_page);

	return &vm_page_locks[(h ^ (h >> 6)) % VM_PAGE_NLOCKS];
}

static inline void vm_page_count_add(uint64_t *c, int64_t v)
{
	__atomic_add_fetch(c, (uint64_t)v, __ATOMIC_RELAXED);
}

/* ---- boot ------------------------------------------------------------------------ */

/*
 * Host re-boots (tests/support): every global of vm_phys, vm_lowmem and vm_page back to
 * the all-zero state a freshly loaded kernel finds in its .bss, so that the startup
 * functions below see the same machine either way. A guest boots once and skips this.
 */
void vm_startup_reset(void)
{
	vm_phys_reset();
	vm_lowmem_reset();
	memset(vm_page_pcpu, 0, sizeof(vm_page_pcpu));
	memset(vm_page_zpool, 0, sizeof(vm_page_zpool));
	vm_page_zpool_nruns = 0;
	vm_pagequeue_reset();
	vm_page_zero_count = vm_page_zero_filling = vm_page_zero_max = vm_page_zero_low = 0;
	vm_page_pcpu_zmax = 0;
	vm_page_zero_filling_runs = 0;
	vm_page_free_reserved = vm_page_interrupt_free_min = 0;
	vm_page_free_waiters = 0;
	vm_page_npages = vm_page_bootstrap = vm_page_nwired = 0;
	vm_page_zero_hits = vm_page_zero_misses = vm_page_alloc_fails = 0;
	vm_page_plat_zeroed = vm_page_plat_discarded = 0;
	vm_page_zero_fills = vm_page_zero_discards = vm_page_zero_fresh = 0;
	vm_page_zrun_in = vm_page_zrun_out = 0;
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
	vm_page_bootstrap = vm_phys_startup();
	for (int i = 0; i < vm_phys_nsegs; i++)
		vm_page_npages += vm_phys_segs[i].ps_npages;
	/* Interrupts may take the last pages; the system reserve is what kernel memory
	 * (page tables, UMA) needs to make progress while user allocations wait. */
	vm_page_free_reserved = 8 + vm_page_npages / 256;   /* alone: no lock yet */
	vm_page_interrupt_free_min = 8;
	/* At most 1/32 of RAM waits zeroed; refilled when half of it is gone, so each
	 * fill zeroes at least half the pool in one page operation. */
	vm_page_zero_max = MIN((uint64_t)VM_PAGE_ZERO_MAX, vm_page_npages / 32);
	if (vm_page_zero_max >= VM_PAGE_ZERO_MIN_RUN)   /* a full fill: whole runs */
		vm_page_zero_max = rounddown2(vm_page_zero_max, VM_PAGE_ZERO_MIN_RUN);
	vm_page_zero_low = vm_page_zero_max / 2;
	vm_page_pcpu_zmax = (uint32_t)MIN((uint64_t)VM_PAGE_PCPU_ZMAX, vm_page_zero_max / 2);
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

/* Pages in per-CPU caches (racy); *zeroed gets those of them in zeroed runs. */
static uint64_t vm_page_pcpu_cached(uint64_t *zeroed)
{
	uint64_t cached = 0, z = 0;

	for (int c = 0; c < vm_ncpus(); c++) {
		for (int p = 0; p < VM_NFREEPOOL; p++)
			cached += __atomic_load_n(&vm_page_pcpu[c].pc_count[p],
			    __ATOMIC_RELAXED);
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

void vm_page_counts_snapshot(struct vm_page_counts *out)
{
	uint64_t zcached, cached = vm_page_pcpu_cached(&zcached);

	vm_phys_lock();
	*out = (struct vm_page_counts){
		.v_page_count = vm_page_npages,
		.v_free_count = vm_page_avail_locked() + cached,
		.v_zero_count = vm_page_zero_count,
		.v_pcpu_count = cached,
		.v_pcpu_zero_count = zcached,
		.v_zero_max = vm_page_zero_max,
		.v_zero_runs = (uint64_t)vm_page_zpool_nruns,
		.v_wire_count = vm_page_wire_count(),
		.v_active_count = vm_pagequeues[PQ_ACTIVE].pq_cnt,
		.v_inactive_count = vm_pagequeues[PQ_INACTIVE].pq_cnt,
		.v_laundry_count = vm_pagequeues[PQ_LAUNDRY].pq_cnt,
		.v_bootstrap_count = vm_page_bootstrap,
		.v_blacklist_count = (uint64_t)vm_phys_blacklist_count(),
		.v_free_reserved = vm_page_free_reserved,
		.v_interrupt_free_min = vm_page_interrupt_free_min,
		.v_free_waiters = vm_page_free_waiters,
		.v_zero_hits = vm_page_zero_hits + vm_page_zrun_in - vm_page_zrun_out - zcached,
		.v_zero_misses = vm_page_zero_misses,
		.v_zero_fills = vm_page_zero_fills,
		.v_zero_fresh = vm_page_zero_fresh,
		.v_zero_discards = vm_page_zero_discards,
		.v_alloc_fails = vm_page_alloc_fails,
		.v_plat_zeroed = vm_page_plat_zeroed,
		.v_plat_discarded = vm_page_plat_discarded,
	};
	vm_phys_unlock();
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

/* ---- page operations: zero and discard, by the platform when it can --------------- */

/* Zero runs[0..n): the platform's page operation first, stores for what it left. */
static void vm_page_zero_runs(struct vm_page_run *runs, unsigned n)
{
	uint64_t done = vm_plat_zero_pages(runs, n);

	vm_page_count_add(&vm_page_plat_zeroed, (int64_t)done);
	for (unsigned i = 0; i < n; i++) {
		if (done >= runs[i].npages) {
			done -= runs[i].npages;
			continue;
		}
		memset((char *)vm_phys_to_dmap(runs[i].pa + ptoa(done)), 0,
		    ptoa(runs[i].npages - done));
		done = 0;
	}
}

/* ---- the pre-zeroed pool ------------------------------------------------------------ */

/* Pages the pool may still take, leaving room for the fills in flight. => F held. */
static inline uint64_t vm_page_zpool_room(void)
{
	uint64_t used = vm_page_zero_count + vm_page_zero_filling;

	return used < vm_page_zero_max ? vm_page_zero_max - used : 0;
}

/*
 * Add the zeroed pages [m, m + n) (all-zero vm_pages) to the pool, as many as its bounds
 * allow, and return how many it took: always a prefix of the run. A run that continues
 * the top run joins it (adjacent vm_pages are adjacent pages of one segment: each
 * segment's array lies at the end of its own RAM, so two arrays never touch).
 * => F held.
 */
static uint64_t vm_page_zpool_put(vm_page_t m, uint64_t n)
{
	struct vm_page_zrun *top = vm_page_zpool_nruns > 0 ?
	    &vm_page_zpool[vm_page_zpool_nruns - 1] : NULL;

	n = MIN(n, vm_page_zpool_room());
	if (n == 0)
		return 0;
	if (top != NULL && top->zr_first + top->zr_npages == m) {
		top->zr_npages += n;
	} else {
		if (vm_page_zpool_nruns + vm_page_zero_filling_runs >= VM_PAGE_ZERO_NRUNS)
			return 0;
		vm_page_zpool[vm_page_zpool_nruns++] = (struct vm_page_zrun){ m, n };
	}
	vm_page_zero_count += n;
	return n;
}

/* Up to max pages from the end of the pool's top run: their first vm_page, the count in
 * *np; NULL (and 0) when the pool is empty. => F held. */
static vm_page_t vm_page_zpool_get(uint32_t max, uint32_t *np)
{
	struct vm_page_zrun *top;
	uint64_t n;

	if (vm_page_zpool_nruns == 0) {
		*np = 0;
		return NULL;
	}
	top = &vm_page_zpool[vm_page_zpool_nruns - 1];
	if (top->zr_npages < max) {
		/* A short top run (a fill's last, small one): the longest run instead, moved
		 * to the top (the stack's order does not matter), so a refill takes a whole
		 * slice. At most VM_PAGE_ZERO_NRUNS looked at, once per slice. */
		struct vm_page_zrun *best = top;
		for (int i = vm_page_zpool_nruns - 2; i >= 0 && best->zr_npages < max; i--)
			if (vm_page_zpool[i].zr_npages > best->zr_npages)
				best = &vm_page_zpool[i];
		if (best != top) {
			struct vm_page_zrun t = *best;
			*best = *top;
			*top = t;
		}
	}
	n = MIN(top->zr_npages, (uint64_t)max);
	top->zr_npages -= n;
	if (top->zr_npages == 0)
		vm_page_zpool_nruns--;
	vm_page_zero_count -= n;
	*np = (uint32_t)n;
	return top->zr_first + top->zr_npages;
}

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

uint64_t vm_page_zero_pool_fill(uint64_t npages)
{
	struct vm_page_run runs[VM_PAGE_ZERO_FILL_RUNS], dirty[VM_PAGE_ZERO_FILL_RUNS];
	uint64_t want, got = 0, fresh = 0;
	unsigned nruns = 0, ndirty = 0;
	int order;

	vm_phys_lock();
	want = MIN(npages, vm_page_zpool_room());
	/* The pages leave every free count while they are zeroed: take at most half of
	 * what lies above the NORMAL reserve, so a fill never starves an allocation. */
	want = vm_phys_nfree > vm_page_free_reserved ?
	    MIN(want, (vm_phys_nfree - vm_page_free_reserved) / 2) : 0;
	/* No tail of small runs after the first: each would cost a buddy allocation and a
	 * pool slot for a few pages. */
	while (want > got && (got == 0 || want - got >= VM_PAGE_ZERO_MIN_RUN) &&
	    nruns < VM_PAGE_ZERO_FILL_RUNS && vm_page_zpool_nruns +
	    vm_page_zero_filling_runs + (int)nruns < VM_PAGE_ZERO_NRUNS) {
		int maxorder = MIN(VM_PAGE_ZERO_ORDER, 63 - __builtin_clzll(want - got));
		bool isfresh;
		vm_page_t m = vm_phys_alloc_run(VM_FREEPOOL_DIRECT, maxorder, &order, &isfresh);
		if (m == NULL)
			break;
		if (got != 0 && (1ull << order) < VM_PAGE_ZERO_MIN_RUN) {
			/* Fragmented: the largest block left is short, and so are the rest. */
			vm_phys_free_pages(m, order);
			break;
		}
		m->pool = 0;                /* a pool page's vm_page is all zero */
		runs[nruns++] = (struct vm_page_run){ VM_PAGE_TO_PHYS(m), 1ull << order };
		got += 1ull << order;
		/* Never handed out since boot: zero already (vm_startup.h). */
		if (isfresh)
			fresh += 1ull << order;
		else
			dirty[ndirty++] = runs[nruns - 1];
	}
	vm_page_zero_filling += got;
	vm_page_zero_filling_runs += (int)nruns;
	vm_phys_unlock();
	if (nruns == 0)
		return 0;

	if (ndirty > 0)
		vm_page_zero_runs(dirty, ndirty);
	vm_page_count_add(&vm_page_zero_fills, 1);
	if (fresh != 0)
		vm_page_count_add(&vm_page_zero_fresh, (int64_t)fresh);

	vm_phys_lock();
	vm_page_zero_filling -= got;
	vm_page_zero_filling_runs -= (int)nruns;
	for (unsigned i = 0; i < nruns; i++) {
		uint64_t put = vm_page_zpool_put(PHYS_TO_VM_PAGE(runs[i].pa), runs[i].npages);
		KASSERT(put == runs[i].npages, ("vm_page_zero_pool_fill: pool took %llu of "
		    "%llu reserved pages", (unsigned long long)put,
		    (unsigned long long)runs[i].npages));
		(void)put;
	}
	vm_page_free_wakeup_locked();
	vm_phys_unlock();
	return got;
}

/* ---- the per-CPU caches ------------------------------------------------------------ */

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

/* Empty every CPU's caches, zeroed run included, into the buddy lists; the owner of a
 * cache never holds its flag for long. */
static void vm_page_pcpu_drain_all(void)
{
	for (int c = 0; c < vm_ncpus(); c++) {
		struct vm_page_pcpu *pc = &vm_page_pcpu[c];
		if ((__atomic_load_n(&pc->pc_count[0], __ATOMIC_RELAXED) |
		    __atomic_load_n(&pc->pc_count[1], __ATOMIC_RELAXED)) == 0 &&
		    vm_page_pcpu_zleft(pc) == 0)
			continue;
		while (!vm_page_pcpu_trylock(pc))
			__asm__ volatile("pause");
		vm_phys_lock();
		for (int p = 0; p < VM_NFREEPOOL; p++)
			vm_page_pcpu_release(pc, p, 0);
		if (pc->pc_znext < pc->pc_zend) {
			uint64_t n = (uint64_t)(pc->pc_zend - pc->pc_znext);
			vm_phys_free_run(pc->pc_znext, n, VM_FREEPOOL_DIRECT);
			vm_page_zrun_out += n;
		}
		__atomic_store_n(&pc->pc_znext, NULL, __ATOMIC_RELAXED);
		__atomic_store_n(&pc->pc_zend, NULL, __ATOMIC_RELAXED);
		vm_page_free_wakeup_locked();
		vm_phys_unlock();
		vm_page_pcpu_unlock(pc);
	}
}

/* Return the pool's pages to the buddy lists. */
static void vm_page_zpool_drain(void)
{
	vm_phys_lock();
	while (vm_page_zpool_nruns > 0) {
		struct vm_page_zrun *zr = &vm_page_zpool[--vm_page_zpool_nruns];
		vm_phys_free_run(zr->zr_first, zr->zr_npages, VM_FREEPOOL_DIRECT);
		vm_page_zero_count -= zr->zr_npages;
	}
	KASSERT(vm_page_zero_count == 0, ("vm_page_zpool_drain: %llu pages in no run",
	    (unsigned long long)vm_page_zero_count));
	vm_page_free_wakeup_locked();
	vm_phys_unlock();
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
 * A zeroed page for a request that found this CPU's zeroed run empty: the run refilled
 * from the pool (the pool filled first when it is low and 'fill' allows), else one page
 * of the pool within the request's class. Returns the page marked PG_ZERO for pool, or
 * NULL: the caller then zeroes a plain page.
 */
/* Fill the pool when it is below half full and zeroing ahead pays (page operations). */
static inline void vm_page_zpool_maybe_fill(void)
{
	if (__atomic_load_n(&vm_page_zero_count, __ATOMIC_RELAXED) < vm_page_zero_low &&
	    vm_plat_has_page_ops())
		vm_page_zero_pool_fill(vm_page_zero_max);
}

/*
 * The next n pages of this CPU's zeroed run (consecutive, unmarked). A run with fewer
 * than n pages goes back to the pool (as one run: it is contiguous), and an empty run
 * is refilled from the pool first. NULL when the run still has fewer than n.
 */
static vm_page_t vm_page_zrun_take_n(uint64_t n)
{
	struct vm_page_pcpu *pc;
	vm_page_t m = NULL;

	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (vm_page_pcpu_trylock(pc)) {
		uint64_t left = (uint64_t)(pc->pc_zend - pc->pc_znext);
		if (left < n && n <= vm_page_pcpu_zmax) {
			vm_phys_lock();
			/* The pool takes a prefix of what it has room for. */
			uint64_t put = left > 0 ? vm_page_zpool_put(pc->pc_znext, left) : 0;
			pc->pc_znext += put;
			vm_page_zrun_out += put;
			left -= put;
			if (left == 0 &&
			    vm_page_avail_locked() > vm_page_free_reserved + vm_page_pcpu_zmax) {
				uint32_t got;
				vm_page_t first = vm_page_zpool_get(vm_page_pcpu_zmax, &got);
				if (first != NULL) {
					__atomic_store_n(&pc->pc_znext, first, __ATOMIC_RELAXED);
					__atomic_store_n(&pc->pc_zend, first + got, __ATOMIC_RELAXED);
					vm_page_zrun_in += got;
				}
			} else if (left == 0) {
				__atomic_store_n(&pc->pc_znext, NULL, __ATOMIC_RELAXED);
				__atomic_store_n(&pc->pc_zend, NULL, __ATOMIC_RELAXED);
			}
			vm_phys_unlock();
		}
		if ((uint64_t)(pc->pc_zend - pc->pc_znext) >= n) {
			m = pc->pc_znext;
			pc->pc_znext = m + n;
		}
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
	return m;
}

static vm_page_t vm_page_zero_alloc_slow(int req, int pool, bool fill)
{
	vm_page_t m;

	if (fill)
		vm_page_zpool_maybe_fill();
	m = vm_page_zrun_take_n(1);
	if (m == NULL) {
		uint32_t n;
		vm_phys_lock();
		if (vm_page_class_allows(req, 1))
			m = vm_page_zpool_get(1, &n);
		vm_phys_unlock();
		if (m == NULL)
			return NULL;
		vm_page_count_add(&vm_page_zero_hits, 1);
	}
	vm_page_zero_mark(m, pool);
	return m;
}

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

	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (vm_page_pcpu_trylock(pc)) {
		if (pc->pc_count[pool] == 0) {
			vm_phys_lock();
			uint64_t avail = vm_page_avail_locked();
			if (avail > vm_page_free_reserved + VM_PAGE_PCPU_BATCH)
				pc->pc_count[pool] = (uint32_t)vm_phys_alloc_npages(pool,
				    VM_PAGE_PCPU_BATCH, pc->pc_pages[pool]);
			vm_phys_unlock();
		}
		if (pc->pc_count[pool] > 0)
			m = pc->pc_pages[pool][--pc->pc_count[pool]];
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
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
	struct vm_page_pcpu *pc;
	vm_page_t m = NULL;

	if ((req & VM_ALLOC_ZERO) != 0)
		return vm_page_alloc_noobj_zero(req);
	/* The fast path: a page from this CPU's cache. */
	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (__predict_true(vm_page_pcpu_trylock(pc))) {
		if (__predict_true(pc->pc_count[VM_FREEPOOL_DIRECT] > 0))
			m = pc->pc_pages[VM_FREEPOOL_DIRECT]
			    [--pc->pc_count[VM_FREEPOOL_DIRECT]];
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
	if (__predict_false(m == NULL))
		return vm_page_alloc_noobj_slow(req);
	return vm_page_alloc_setup(m, req);
}

/* ---- batch allocation ------------------------------------------------------------ */

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

struct vm_page_contig_args {
	unsigned long vca_npages;
	vm_paddr_t vca_low, vca_high;
	unsigned long vca_alignment;
	vm_paddr_t vca_boundary;
};

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

/*
 * A ZERO run from the pre-zeroed pool: the last npages pages of the topmost of its
 * runs whose end meets the request's range, alignment and boundary (at most
 * VM_PAGE_ZERO_NRUNS looked at, whatever npages). The pages
 * are not marked PG_ZERO: the caller asked for zeroed memory and gets it, and a store
 * per page would cost more than the rest of the hand-out (the flag is how a one-page
 * caller learns whether it must zero). Fills the pool first when it is low, as a
 * one-page request does. NULL when no run fits; the caller then zeroes a run from the
 * buddy lists with one page operation.
 */
static vm_page_t vm_page_zpool_get_contig(int req, const struct vm_page_contig_args *a)
{
	vm_page_t m = NULL;

	vm_phys_lock();
	if (!vm_page_class_allows(req, a->vca_npages))
		goto out;
	for (int i = vm_page_zpool_nruns - 1; i >= 0; i--) {
		struct vm_page_zrun *zr = &vm_page_zpool[i];
		if (zr->zr_npages < a->vca_npages)
			continue;
		vm_page_t first = zr->zr_first + (zr->zr_npages - a->vca_npages);
		vm_paddr_t pa = VM_PAGE_TO_PHYS(first), end = pa + ptoa(a->vca_npages);
		if (pa < a->vca_low || end > a->vca_high ||
		    (pa & (MAX(a->vca_alignment, PAGE_SIZE) - 1)) != 0 ||
		    (a->vca_boundary != 0 &&
		    ((pa ^ (end - 1)) & ~(a->vca_boundary - 1)) != 0))
			continue;
		zr->zr_npages -= a->vca_npages;
		vm_page_zero_count -= a->vca_npages;
		if (zr->zr_npages == 0)     /* the stack's order does not matter */
			*zr = vm_page_zpool[--vm_page_zpool_nruns];
		KASSERT(first->order == 0 && first->flags == 0 && first->object == NULL,
		    ("vm_page_zpool_get_contig: page %p of the pool is not free",
		    (void *)first));
		m = first;
		break;
	}
out:
	vm_phys_unlock();
	if (m != NULL)
		vm_page_count_add(&vm_page_zero_hits, (int64_t)a->vca_npages);
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

static inline bool vm_page_free_prep(vm_page_t m)
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
	if (zeroed != 0) {
		zeroed = vm_page_zpool_put(m, zeroed);
		vm_page_count_add(&vm_page_zero_discards, (int64_t)zeroed);
	}
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

void vm_page_busy_sleep(vm_page_t m, bool exclusive)
{
	struct mtx *lk = vm_page_lockptr(m);
	uint32_t x;

	mtx_lock(lk);
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
