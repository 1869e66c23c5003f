/*
 * vm_page checks that hold on any running VM core: allocation flags, the pre-zeroed
 * pool, busy, wire, hold, the page queues and the counters, judged against the state
 * found at the start and restored before returning.
 */
#include "vm/vm_page.h"
#include "vm/vm_pagequeue.h"
#include "tests/vmtests/vmtest.h"

/* Every byte of m is zero. Eight words per step: in the guest each instruction is
 * emulated, and these tests check hundreds of pages. */
static bool page_is_zero(vm_page_t m)
{
	const uint64_t *p = VM_PAGE_TO_DMAP(m);
	uint64_t acc = 0;

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*p); i += 8)
		acc |= p[i] | p[i + 1] | p[i + 2] | p[i + 3] | p[i + 4] | p[i + 5] | p[i + 6] |
		    p[i + 7];
	return acc == 0;
}

VMTEST(page, alloc_free_counts)
{
	struct vm_page_counts c0, c1, c2;
	vm_page_t m[8];

	vm_page_counts_snapshot(&c0);
	for (int i = 0; i < 8; i++) {
		m[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | (i & 1 ? VM_ALLOC_WIRED : 0));
		VMT_ASSERT(m[i] != NULL);
		VMT_ASSERT(PHYS_TO_VM_PAGE(VM_PAGE_TO_PHYS(m[i])) == m[i]);
		VMT_ASSERT(!vm_page_busied(m[i]));
		VMT_ASSERT(m[i]->queue == PQ_NONE && m[i]->object == NULL &&
		    m[i]->kmem_owner == 0);
		VMT_ASSERT_EQ(m[i]->ref_count, i & 1);
		for (int j = 0; j < i; j++)
			VMT_ASSERT(m[j] != m[i]);
	}
	vm_page_counts_snapshot(&c1);
	/* Single-threaded: the free count (caches included) moves by exactly 8. */
	VMT_ASSERT_EQ(c0.v_free_count - c1.v_free_count, 8);
	VMT_ASSERT_EQ(c1.v_wire_count - c0.v_wire_count, 4);
	for (int i = 0; i < 8; i++)
		vm_page_free(m[i]);
	vm_page_counts_snapshot(&c2);
	VMT_ASSERT_EQ(c2.v_free_count, c0.v_free_count);
	VMT_ASSERT_EQ(c2.v_wire_count, c0.v_wire_count);
	VMT_ASSERT(c2.v_free_count <= c2.v_page_count);
	VMT_ASSERT(c2.v_pcpu_count + c2.v_zero_count <= c2.v_free_count);
}

/*
 * VM_ALLOC_ZERO pages are zero whether they came from the pool (PG_ZERO) or not; the
 * flag survives everything done to the page until it is freed. More pages than one
 * refill batch, so both sources are used.
 */
VMTEST(page, zero_pages_are_zero)
{
	enum { N = 80 };
	static vm_page_t m[N];
	static uint16_t flags_at_alloc[N];
	struct vm_page_counts c0, c1;
	int npgzero = 0;

	vm_page_counts_snapshot(&c0);
	for (int i = 0; i < N; i++) {
		m[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO);
		VMT_ASSERT(m[i] != NULL);
		VMT_ASSERT_MSG(page_is_zero(m[i]), "page %d (%#llx, flags %#x) not zero", i,
		    (unsigned long long)VM_PAGE_TO_PHYS(m[i]), m[i]->flags);
		flags_at_alloc[i] = m[i]->flags;
		npgzero += (m[i]->flags & PG_ZERO) != 0;
		memset(VM_PAGE_TO_DMAP(m[i]), 0xa5, PAGE_SIZE);
		vm_page_wire(m[i]);
		VMT_ASSERT(vm_page_tryxbusy(m[i]));
		vm_page_xunbusy(m[i]);
		vm_page_unwire_noq(m[i]);
	}
	for (int i = 0; i < N; i++) {
		VMT_ASSERT_EQ(m[i]->flags, flags_at_alloc[i]);
		vm_page_free(m[i]);
	}
	vmtest_log("page: %d of %d zero pages came pre-zeroed\n", npgzero, N);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_zero_hits + c1.v_zero_misses - c0.v_zero_hits - c0.v_zero_misses,
	    N);
	/* Dirtied pages came back: a new ZERO page must still be zero. */
	vm_page_t z = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO);
	VMT_ASSERT(z != NULL);
	bool zero = page_is_zero(z);
	vm_page_free(z);
	VMT_ASSERT(zero);
}

/*
 * Zeroed pages through several per-CPU runs and a pool fill, twice over the same
 * memory: every page all zero when handed out, dirtied and freed after. With page
 * operations each one comes pre-zeroed (PG_ZERO); without (QEMU) none does, as nothing
 * is zeroed ahead. Hits and misses count every request.
 */
VMTEST(page, zero_runs_honest)
{
	enum { N = 300 };
	static vm_page_t m[N];
	struct vm_page_counts c0, c1;
	int npgzero = 0;

	vm_page_counts_snapshot(&c0);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++) {
			m[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO);
			VMT_ASSERT(m[i] != NULL);
			VMT_ASSERT_MSG(page_is_zero(m[i]), "pass %d page %d (%#llx, flags %#x) "
			    "not zero", pass, i, (unsigned long long)VM_PAGE_TO_PHYS(m[i]),
			    m[i]->flags);
			npgzero += (m[i]->flags & PG_ZERO) != 0;
			memset(VM_PAGE_TO_DMAP(m[i]), 0x5c, PAGE_SIZE);
		}
		for (int i = 0; i < N; i++) {
			vm_page_free(m[i]);
			VMT_ASSERT_EQ(m[i]->flags & PG_ZERO, 0);
		}
	}
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_zero_hits + c1.v_zero_misses - c0.v_zero_hits - c0.v_zero_misses,
	    2 * N);
	VMT_ASSERT_EQ(c1.v_zero_hits - c0.v_zero_hits, npgzero);
	VMT_ASSERT_EQ(npgzero, vm_plat_has_page_ops() ? 2 * N : 0);
	VMT_ASSERT(c1.v_zero_count <= c1.v_zero_max);
	VMT_ASSERT_EQ(c1.v_free_count, c0.v_free_count);
}

/* The pool's bound and counts: a fill never passes v_zero_max and its pages stay counted
 * free; a drain returns the pool and every zeroed run to the buddy lists. */
VMTEST(page, zero_pool_fill_and_drain)
{
	struct vm_page_counts c0, c1, c2;

	vm_page_counts_snapshot(&c0);
	uint64_t added = vm_page_zero_pool_fill(UINT64_MAX);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT(c1.v_zero_count <= c1.v_zero_max);
	VMT_ASSERT_EQ(c1.v_zero_count, c0.v_zero_count + added);
	VMT_ASSERT_EQ(c1.v_free_count, c0.v_free_count);
	VMT_ASSERT(c1.v_zero_runs <= c1.v_zero_count);
	if (c1.v_zero_count == c1.v_zero_max)
		VMT_ASSERT_EQ(vm_page_zero_pool_fill(UINT64_MAX), 0);
	vm_page_drain_caches();
	vm_page_counts_snapshot(&c2);
	VMT_ASSERT_EQ(c2.v_zero_count, 0);
	VMT_ASSERT_EQ(c2.v_zero_runs, 0);
	VMT_ASSERT_EQ(c2.v_pcpu_zero_count, 0);
	VMT_ASSERT_EQ(c2.v_pcpu_count, 0);
	VMT_ASSERT_EQ(c2.v_free_count, c0.v_free_count);
}

/* A run freed in bulk is discarded through the platform, reads as zero though it was
 * dirtied, and the pool takes it (with page operations; without, it goes back to the
 * buddy lists as it was). */
VMTEST(page, bulk_free_feeds_zero_pool)
{
	enum { N = 32 };
	struct vm_page_counts c0, c1;

	vm_page_drain_caches();             /* an empty pool has room */
	vm_page_counts_snapshot(&c0);
	vm_page_t m = vm_page_alloc_noobj_contig(VM_ALLOC_SYSTEM, N, 0, ~0ull, PAGE_SIZE, 0);
	VMT_ASSERT(m != NULL);
	for (int i = 0; i < N; i++)
		memset(VM_PAGE_TO_DMAP(&m[i]), 0x3c, PAGE_SIZE);
	vm_page_free_contig(m, N);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_free_count, c0.v_free_count);
	if (vm_plat_has_page_ops()) {
		uint64_t taken = MIN((uint64_t)N, c1.v_zero_max);
		VMT_ASSERT_EQ(c1.v_zero_discards - c0.v_zero_discards, taken);
		VMT_ASSERT_EQ(c1.v_zero_count, taken);
		for (int i = 0; i < N; i++)
			VMT_ASSERT_MSG(page_is_zero(&m[i]), "discarded page %d not zero", i);
	} else {
		VMT_ASSERT_EQ(c1.v_zero_discards, c0.v_zero_discards);
		VMT_ASSERT_EQ(c1.v_zero_count, 0);
	}
	vm_page_drain_caches();
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_zero_count, 0);
	VMT_ASSERT_EQ(c1.v_free_count, c0.v_free_count);
}

VMTEST(page, busy_exclusive_shared)
{
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);

	VMT_ASSERT(m != NULL);
	VMT_ASSERT(vm_page_tryxbusy(m));
	VMT_ASSERT(vm_page_xbusied(m) && vm_page_busied(m) && !vm_page_sbusied(m));
	VMT_ASSERT(!vm_page_tryxbusy(m));
	VMT_ASSERT(!vm_page_trysbusy(m));
	vm_page_xunbusy(m);
	VMT_ASSERT(!vm_page_busied(m));
	VMT_ASSERT(vm_page_trysbusy(m));
	VMT_ASSERT(vm_page_trysbusy(m));
	VMT_ASSERT(vm_page_sbusied(m) && !vm_page_xbusied(m));
	VMT_ASSERT(!vm_page_tryxbusy(m));
	vm_page_sunbusy(m);
	VMT_ASSERT(vm_page_sbusied(m));
	VMT_ASSERT(!vm_page_tryxbusy(m));
	vm_page_sunbusy(m);
	VMT_ASSERT(!vm_page_busied(m));
	VMT_ASSERT_EQ(m->busy_lock, VPB_UNBUSIED);
	/* Uncontended sleeping forms succeed at once. */
	vm_page_xbusy(m);
	VMT_ASSERT(vm_page_xbusied(m));
	vm_page_xunbusy(m);
	vm_page_sbusy(m);
	VMT_ASSERT(vm_page_sbusied(m));
	vm_page_sunbusy(m);
	vm_page_free(m);
}

VMTEST(page, wire_counts)
{
	uint64_t w0 = vm_page_wire_count();
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | VM_ALLOC_WIRED);

	VMT_ASSERT(m != NULL);
	VMT_ASSERT(vm_page_wired(m));
	VMT_ASSERT_EQ(vm_page_wire_count(), w0 + 1);
	vm_page_wire(m);
	VMT_ASSERT_EQ(m->ref_count, 2);
	VMT_ASSERT_EQ(vm_page_wire_count(), w0 + 1);   /* pages, not wirings */
	VMT_ASSERT(!vm_page_unwire_noq(m));
	VMT_ASSERT(vm_page_unwire_noq(m));
	VMT_ASSERT(!vm_page_wired(m));
	VMT_ASSERT_EQ(vm_page_wire_count(), w0);
	vm_page_wire(m);
	VMT_ASSERT_EQ(vm_page_wire_count(), w0 + 1);
	vm_page_free(m);                                /* drops the last wiring */
	VMT_ASSERT_EQ(vm_page_wire_count(), w0);
}

VMTEST(page, hold_defers_free)
{
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);

	VMT_ASSERT(m != NULL);
	uint64_t f0 = vm_page_free_count();
	vm_page_hold(m);
	vm_page_hold(m);
	vm_page_free(m);
	VMT_ASSERT((m->flags & PG_UNHOLDFREE) != 0);
	VMT_ASSERT_EQ(vm_page_free_count(), f0);        /* still held: not free */
	vm_page_unhold(m);
	VMT_ASSERT_EQ(vm_page_free_count(), f0);
	vm_page_unhold(m);                              /* the last hold frees it */
	VMT_ASSERT_EQ(vm_page_free_count(), f0 + 1);
}

static uint64_t page_queue_len(int q)
{
	struct vm_pagequeue *pq = &vm_pagequeues[q];
	uint64_t n = 0;

	vm_pagequeue_lock(pq);
	for (vm_page_t m = vm_pagequeue_first(pq); m != NULL; m = vm_pagequeue_next(pq, m))
		n++;
	vm_pagequeue_unlock(pq);
	return n;
}

VMTEST(page, queues_and_counters)
{
	enum { N = 12 };
	vm_page_t m[N];
	struct vm_page_counts c0, c1, c2;
	uint64_t len0[PQ_COUNT];

	for (int q = PQ_INACTIVE; q < PQ_COUNT; q++)
		len0[q] = page_queue_len(q);
	vm_page_counts_snapshot(&c0);
	for (int i = 0; i < N; i++) {
		m[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);
		VMT_ASSERT(m[i] != NULL);
	}
	for (int i = 0; i < 4; i++)
		vm_page_enqueue(m[i], PQ_INACTIVE);
	for (int i = 4; i < 8; i++)
		vm_page_activate(m[i]);
	for (int i = 8; i < N; i++)
		vm_page_launder(m[i]);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_inactive_count - c0.v_inactive_count, 4);
	VMT_ASSERT_EQ(c1.v_active_count - c0.v_active_count, 4);
	VMT_ASSERT_EQ(c1.v_laundry_count - c0.v_laundry_count, 4);
	for (int q = PQ_INACTIVE; q < PQ_COUNT; q++)
		VMT_ASSERT_EQ(page_queue_len(q), len0[q] + 4);
	VMT_ASSERT_EQ(m[0]->queue, PQ_INACTIVE);
	VMT_ASSERT_EQ(m[5]->queue, PQ_ACTIVE);
	VMT_ASSERT_EQ(m[9]->queue, PQ_LAUNDRY);

	/* Moves: active -> inactive, inactive -> laundry, laundry -> active. */
	vm_page_deactivate(m[4]);
	vm_page_launder(m[0]);
	vm_page_activate(m[8]);
	VMT_ASSERT_EQ(m[4]->queue, PQ_INACTIVE);
	VMT_ASSERT_EQ(m[0]->queue, PQ_LAUNDRY);
	VMT_ASSERT_EQ(m[8]->queue, PQ_ACTIVE);
	vm_page_counts_snapshot(&c2);
	VMT_ASSERT_EQ(c2.v_inactive_count + c2.v_active_count + c2.v_laundry_count,
	    c1.v_inactive_count + c1.v_active_count + c1.v_laundry_count);

	/* Requeue puts a page at the tail: the last of the queue. */
	vm_page_requeue(m[1]);
	struct vm_pagequeue *pq = &vm_pagequeues[PQ_INACTIVE];
	vm_pagequeue_lock(pq);
	vm_page_t last = NULL;
	for (vm_page_t p = vm_pagequeue_first(pq); p != NULL; p = vm_pagequeue_next(pq, p))
		last = p;
	vm_pagequeue_unlock(pq);
	VMT_ASSERT(last == m[1]);

	/* Dequeue half, free the rest while queued (free takes them off). */
	for (int i = 0; i < N / 2; i++) {
		vm_page_dequeue(m[i]);
		VMT_ASSERT_EQ(m[i]->queue, PQ_NONE);
		vm_page_dequeue(m[i]);      /* a no-op */
	}
	for (int i = 0; i < N; i++)
		vm_page_free(m[i]);
	vm_page_counts_snapshot(&c2);
	VMT_ASSERT_EQ(c2.v_inactive_count, c0.v_inactive_count);
	VMT_ASSERT_EQ(c2.v_active_count, c0.v_active_count);
	VMT_ASSERT_EQ(c2.v_laundry_count, c0.v_laundry_count);
	VMT_ASSERT_EQ(c2.v_free_count, c0.v_free_count);
}

VMTEST(page, unwire_to_queue)
{
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | VM_ALLOC_WIRED);

	VMT_ASSERT(m != NULL);
	vm_page_wire(m);
	vm_page_unwire(m, PQ_ACTIVE);
	VMT_ASSERT_EQ(m->queue, PQ_NONE);       /* still wired once */
	vm_page_unwire(m, PQ_ACTIVE);
	VMT_ASSERT_EQ(m->queue, PQ_ACTIVE);
	vm_page_free(m);
	VMT_ASSERT_EQ(m->queue, PQ_NONE);
}

VMTEST(page, contig_noobj_zero_wired)
{
	struct vm_page_counts c0, c1;
	const unsigned long n = 64;

	vm_page_counts_snapshot(&c0);
	vm_page_t m = vm_page_alloc_noobj_contig(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO |
	    VM_ALLOC_WIRED, n, 0, ~0ull, 0x40000, 0);
	VMT_ASSERT(m != NULL);
	vm_paddr_t pa = VM_PAGE_TO_PHYS(m);
	VMT_ASSERT_EQ(pa & 0x3ffff, 0);
	for (unsigned long i = 0; i < n; i++) {
		VMT_ASSERT_EQ(VM_PAGE_TO_PHYS(&m[i]), pa + ptoa(i));
		VMT_ASSERT_EQ(m[i].ref_count, 1);
		VMT_ASSERT(page_is_zero(&m[i]));
		memset(VM_PAGE_TO_DMAP(&m[i]), 0x3c, PAGE_SIZE);
	}
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_wire_count - c0.v_wire_count, n);
	VMT_ASSERT(c0.v_free_count - c1.v_free_count >= n);
	vm_page_free_contig(m, n);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_wire_count, c0.v_wire_count);
	/* Contig allocation may have emptied the caches into the buddy lists; the pages
	 * are all still free. */
	VMT_ASSERT_EQ(c1.v_free_count, c0.v_free_count);
}

/*
 * A ZERO contiguous run is taken from the pre-zeroed pages (this CPU's zeroed run or a
 * pool run whose end meets the request: a hit per page, no platform zeroing, no PG_ZERO
 * marks), and from the buddy lists, zeroed on the spot, when none fits (range,
 * alignment or length); the pages are zero and contiguous either way, and everything
 * comes back.
 */
VMTEST(page, contig_zero_from_pool)
{
	struct vm_page_counts c0, c1, c2;
	const unsigned long n = 16;

	vm_page_drain_caches();
	if (!vm_plat_has_page_ops() || vm_page_zero_pool_fill(UINT64_MAX) < n)
		return;                 /* no pool here: the buddy path is tested above */
	vm_page_counts_snapshot(&c0);
	vm_page_t m = vm_page_alloc_noobj_contig(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO, n, 0, ~0ull,
	    0, 0);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT(m != NULL);
	VMT_ASSERT_EQ(c1.v_zero_hits - c0.v_zero_hits, n);
	VMT_ASSERT_EQ(c0.v_zero_count + c0.v_pcpu_zero_count -
	    (c1.v_zero_count + c1.v_pcpu_zero_count), n);
	VMT_ASSERT_EQ(c1.v_plat_zeroed, c0.v_plat_zeroed);
	VMT_ASSERT_EQ(c0.v_free_count - c1.v_free_count, n);
	for (unsigned long i = 0; i < n; i++) {
		VMT_ASSERT_EQ(VM_PAGE_TO_PHYS(&m[i]), VM_PAGE_TO_PHYS(m) + ptoa(i));
		VMT_ASSERT(page_is_zero(&m[i]));
		VMT_ASSERT_EQ(m[i].flags & PG_ZERO, 0);
		memset(VM_PAGE_TO_DMAP(&m[i]), 0x5a, PAGE_SIZE);
	}
	/* Above every pool run: the buddy lists, zeroed by one page operation. */
	vm_paddr_t low = VM_PAGE_TO_PHYS(m) + ptoa(n);
	vm_page_t b = vm_page_alloc_noobj_contig(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO, n, low,
	    ~0ull, 0, 0);
	vm_page_counts_snapshot(&c2);
	if (b != NULL) {
		VMT_ASSERT(VM_PAGE_TO_PHYS(b) >= low);
		VMT_ASSERT(c2.v_zero_count <= c1.v_zero_count);
		for (unsigned long i = 0; i < n; i++)
			VMT_ASSERT(page_is_zero(&b[i]));
		vm_page_free_contig(b, n);
	}
	/* An alignment no run end has (larger than the pool): the buddy lists too. */
	vm_paddr_t big = (vm_paddr_t)PAGE_SIZE << 20;
	vm_page_t a = vm_page_alloc_noobj_contig(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO, n, 0, ~0ull,
	    (unsigned long)big, 0);
	if (a != NULL) {
		VMT_ASSERT_EQ(VM_PAGE_TO_PHYS(a) & (big - 1), 0);
		for (unsigned long i = 0; i < n; i++)
			VMT_ASSERT(page_is_zero(&a[i]));
		vm_page_free_contig(a, n);
	}
	vm_page_free_contig(m, n);
	vm_page_drain_caches();
	vm_page_counts_snapshot(&c2);
	VMT_ASSERT_EQ(c2.v_zero_count, 0);
}

VMTEST(page, malloc_flags_map)
{
	VMT_ASSERT_EQ(malloc2vm_flags(M_WAITOK), VM_ALLOC_SYSTEM | VM_ALLOC_WAITOK);
	VMT_ASSERT_EQ(malloc2vm_flags(M_NOWAIT | M_ZERO),
	    VM_ALLOC_SYSTEM | VM_ALLOC_NOWAIT | VM_ALLOC_ZERO);
	VMT_ASSERT_EQ(malloc2vm_flags(M_NOWAIT | M_USE_RESERVE),
	    VM_ALLOC_INTERRUPT | VM_ALLOC_NOWAIT);
}

/*
 * vm_page_alloc_noobj_batch: a ZERO batch larger than a per-CPU zeroed run gives
 * distinct pages, every byte zero, PG_ZERO exactly when page operations zero ahead, each
 * a hit or a miss; WIRED and NODUMP are set on every page; a plain batch gives distinct
 * pages; everything comes back.
 */
VMTEST(page, batch_zero_wired_nodump)
{
	enum { N = 300 };
	static vm_page_t m[N];
	struct vm_page_counts c0, c1;
	int npgzero = 0;

	vm_page_counts_snapshot(&c0);
	VMT_ASSERT_EQ(vm_page_alloc_noobj_batch(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO, N, m), N);
	for (int i = 0; i < N; i++) {
		VMT_ASSERT(m[i]->object == NULL && m[i]->queue == PQ_NONE &&
		    m[i]->ref_count == 0 && !vm_page_busied(m[i]));
		VMT_ASSERT_MSG(page_is_zero(m[i]), "page %d (%#llx, flags %#x) not zero", i,
		    (unsigned long long)VM_PAGE_TO_PHYS(m[i]), m[i]->flags);
		npgzero += (m[i]->flags & PG_ZERO) != 0;
		/* Distinct: each page is marked once, a duplicate would find the mark. */
		VMT_ASSERT(m[i]->hold_count == 0);
		vm_page_hold(m[i]);
	}
	for (int i = 0; i < N; i++) {
		vm_page_unhold(m[i]);
		memset(VM_PAGE_TO_DMAP(m[i]), 0x3c, PAGE_SIZE);
	}
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c0.v_free_count - c1.v_free_count, N);
	VMT_ASSERT_EQ(c1.v_zero_hits + c1.v_zero_misses - c0.v_zero_hits - c0.v_zero_misses,
	    N);
	VMT_ASSERT_EQ(c1.v_zero_hits - c0.v_zero_hits, npgzero);
	VMT_ASSERT_EQ(npgzero, vm_plat_has_page_ops() ? N : 0);
	for (int i = 0; i < N; i++)
		vm_page_free(m[i]);

	/* The dirtied pages came back: WIRED | NODUMP | ZERO, zero again. */
	enum { W = 70 };
	VMT_ASSERT_EQ(vm_page_alloc_noobj_batch(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO |
	    VM_ALLOC_WIRED | VM_ALLOC_NODUMP, W, m), W);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_wire_count - c0.v_wire_count, W);
	for (int i = 0; i < W; i++) {
		VMT_ASSERT_EQ(m[i]->ref_count, 1);
		VMT_ASSERT((m[i]->flags & PG_NODUMP) != 0);
		VMT_ASSERT(page_is_zero(m[i]));
	}
	/* A plain batch beside it: no page of either handed out twice. */
	VMT_ASSERT_EQ(vm_page_alloc_noobj_batch(VM_ALLOC_SYSTEM, N - W, m + W), N - W);
	for (int i = W; i < N; i++) {
		VMT_ASSERT_EQ(m[i]->ref_count, 0);
		VMT_ASSERT_EQ(m[i]->flags & (PG_ZERO | PG_NODUMP), 0);
		vm_page_wire(m[i]);
	}
	for (int i = 0; i < N; i++) {
		VMT_ASSERT_EQ(m[i]->ref_count, 1);  /* wired once: seen once */
		vm_page_free(m[i]);
	}
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_free_count, c0.v_free_count);
	VMT_ASSERT_EQ(c1.v_wire_count, c0.v_wire_count);
}
