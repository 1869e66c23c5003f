/*
 * vm_page_zero: the pre-zeroed page pool and the per-CPU zeroed runs.
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
 * The allocator's entry points are vm_page.c's; the fast paths that take a zeroed
 * page (vm_page_zero_mark, vm_page_zrun_take) are inlines in vm_page_int.h.
 *
 * Lock order: per-CPU cache flag -> F (vm_phys free lock).
 */
#include "vm/vm_page.h"
#include "vm/vm_page_int.h"
#include "vm/vm_phys.h"
#include "vm/vm_startup.h"

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

/* A run of zeroed pages: adjacent vm_pages of one segment, so physically contiguous. */
struct vm_page_zrun {
	vm_page_t zr_first;
	uint64_t zr_npages;
};

static struct vm_page_zrun vm_page_zpool[VM_PAGE_ZERO_NRUNS];  /* F: a stack */
static int vm_page_zpool_nruns;             /* F */
uint64_t vm_page_zero_count;                /* F: pages in vm_page_zpool */
static uint64_t vm_page_zero_filling;       /* F: pages being zeroed for the pool */
static int vm_page_zero_filling_runs;       /* F: the pool slots they will take */
uint64_t vm_page_zero_max;                  /* boot */
uint64_t vm_page_zero_low;                  /* boot: a CPU fills the pool below this */
uint32_t vm_page_pcpu_zmax;                 /* boot: pages a CPU's zeroed run takes */
uint64_t vm_page_zero_hits, vm_page_zero_misses;                         /* atomic */
static uint64_t vm_page_plat_zeroed;                                     /* atomic */
static uint64_t vm_page_zero_fills, vm_page_zero_discards;               /* atomic */
static uint64_t vm_page_zero_fresh;                                      /* atomic */
/* Pages that entered per-CPU zeroed runs, and that a drain took back unused: the pages
 * that left them otherwise were handed out, each a hit (v_zero_hits). */
static uint64_t vm_page_zrun_in, vm_page_zrun_out;                        /* F */

/* ---- boot ------------------------------------------------------------------------ */

/* Host re-boots (vm_startup_reset): back to the all-zero state of a fresh kernel. */
void vm_page_zero_reset(void)
{
	memset(vm_page_zpool, 0, sizeof(vm_page_zpool));
	vm_page_zpool_nruns = 0;
	vm_page_zero_count = vm_page_zero_filling = vm_page_zero_max = vm_page_zero_low = 0;
	vm_page_pcpu_zmax = 0;
	vm_page_zero_filling_runs = 0;
	vm_page_zero_hits = vm_page_zero_misses = 0;
	vm_page_plat_zeroed = 0;
	vm_page_zero_fills = vm_page_zero_discards = vm_page_zero_fresh = 0;
	vm_page_zrun_in = vm_page_zrun_out = 0;
}

/* The pool's bounds, from the number of pages managed. O(1). */
void vm_page_zero_startup(uint64_t npages)
{
	/* At most 1/32 of RAM waits zeroed; refilled when half of it is gone, so each
	 * fill zeroes at least half the pool in one page operation. */
	vm_page_zero_max = MIN((uint64_t)VM_PAGE_ZERO_MAX, npages / 32);
	if (vm_page_zero_max >= VM_PAGE_ZERO_MIN_RUN)   /* a full fill: whole runs */
		vm_page_zero_max = rounddown2(vm_page_zero_max, VM_PAGE_ZERO_MIN_RUN);
	vm_page_zero_low = vm_page_zero_max / 2;
	vm_page_pcpu_zmax = (uint32_t)MIN((uint64_t)VM_PAGE_PCPU_ZMAX, vm_page_zero_max / 2);
}

/* The pre-zeroed pool's fields of a vm_page_counts snapshot; zcached: the pages left in
 * the CPUs' zeroed runs. => F held. */
void vm_page_zero_counts_locked(struct vm_page_counts *out, uint64_t zcached)
{
	out->v_zero_count = vm_page_zero_count;
	out->v_pcpu_zero_count = zcached;
	out->v_zero_max = vm_page_zero_max;
	out->v_zero_runs = (uint64_t)vm_page_zpool_nruns;
	out->v_zero_hits = vm_page_zero_hits + vm_page_zrun_in - vm_page_zrun_out - zcached;
	out->v_zero_misses = vm_page_zero_misses;
	out->v_zero_fills = vm_page_zero_fills;
	out->v_zero_fresh = vm_page_zero_fresh;
	out->v_zero_discards = vm_page_zero_discards;
	out->v_plat_zeroed = vm_page_plat_zeroed;
}

/* ---- page operations: zero, by the platform when it can --------------------------- */

/* Zero runs[0..n): the platform's page operation first, stores for what it left. */
void vm_page_zero_runs(struct vm_page_run *runs, unsigned n)
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
vm_page_t vm_page_zpool_get(uint32_t max, uint32_t *np)
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

/* Pages [m, m + n) the platform discarded (they read as zero) into the pool, as many as
 * it has room for: returns how many, a prefix. => F held. */
uint64_t vm_page_zpool_put_discarded(vm_page_t m, uint64_t n)
{
	n = vm_page_zpool_put(m, n);
	vm_page_count_add(&vm_page_zero_discards, (int64_t)n);
	return n;
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

/* Return the pool's pages to the buddy lists. */
void vm_page_zpool_drain(void)
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

/* Return pc's zeroed run to the buddy lists. => pc locked, F held. */
void vm_page_zrun_drain_locked(struct vm_page_pcpu *pc)
{
	if (pc->pc_znext < pc->pc_zend) {
		uint64_t n = (uint64_t)(pc->pc_zend - pc->pc_znext);
		vm_phys_free_run(pc->pc_znext, n, VM_FREEPOOL_DIRECT);
		vm_page_zrun_out += n;
	}
	__atomic_store_n(&pc->pc_znext, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&pc->pc_zend, NULL, __ATOMIC_RELAXED);
}

/* ---- zeroed pages for the allocator ------------------------------------------------ */

/*
 * The next n pages of this CPU's zeroed run (consecutive, unmarked). A run with fewer
 * than n pages goes back to the pool (as one run: it is contiguous), and an empty run
 * is refilled from the pool first. NULL when the run still has fewer than n.
 */
vm_page_t vm_page_zrun_take_n(uint64_t n)
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

/*
 * A zeroed page for a request that found this CPU's zeroed run empty: the run refilled
 * from the pool (the pool filled first when it is low and 'fill' allows), else one page
 * of the pool within the request's class. Returns the page marked PG_ZERO for pool, or
 * NULL: the caller then zeroes a plain page.
 */
vm_page_t vm_page_zero_alloc_slow(int req, int pool, bool fill)
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
 * A ZERO run from the pre-zeroed pool: the last npages pages of the topmost of its
 * runs whose end meets the request's range, alignment and boundary (at most
 * VM_PAGE_ZERO_NRUNS looked at, whatever npages). The pages
 * are not marked PG_ZERO: the caller asked for zeroed memory and gets it, and a store
 * per page would cost more than the rest of the hand-out (the flag is how a one-page
 * caller learns whether it must zero). Fills the pool first when it is low, as a
 * one-page request does. NULL when no run fits; the caller then zeroes a run from the
 * buddy lists with one page operation.
 */
vm_page_t vm_page_zpool_get_contig(int req, const struct vm_page_contig_args *a)
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
