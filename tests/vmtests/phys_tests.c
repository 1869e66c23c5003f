/*
 * vm_phys checks that hold on any running VM core (host simulation or the guest's RAM):
 * every result is judged against the free state found at the start, which each test
 * restores before it returns.
 */
#include "vm/vm_page.h"
#include "vm/vm_phys.h"
#include "tests/vmtests/vmtest.h"

/*
 * The free lists' invariants, with the pages inside free blocks and lazy tails sampled:
 * every head and count is checked, but only about PHYS_VERIFY_PAGES of the other pages
 * (a full walk is O(RAM): 8 s per call at 1 GiB where the guest's kernel mode is
 * emulated). The host's own suite (tests/unit/test_vm_phys.c) walks every page.
 * => F held.
 */
#define PHYS_VERIFY_PAGES 2048

static uint64_t phys_verify(void)
{
	return vm_phys_verify_sample(PHYS_VERIFY_PAGES);
}

/* Free blocks per order over all pools. => F held. */
static void phys_snapshot_orders(uint64_t out[VM_NFREEORDER])
{
	for (int o = 0; o < VM_NFREEORDER; o++) {
		out[o] = 0;
		for (int p = 0; p < VM_NFREEPOOL; p++)
			out[o] += vm_phys_free_blocks(p, o);
	}
}

/* Small deterministic generator: the same sequence on host and guest. */
static uint64_t phys_rand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

VMTEST(phys, free_lists_consistent)
{
	vm_phys_lock();
	uint64_t bad = phys_verify();
	vm_phys_unlock();
	VMT_ASSERT_EQ(bad, 0);
	VMT_ASSERT(vm_phys_nsegs > 0);
}

VMTEST(phys, page_phys_roundtrip)
{
	for (int i = 0; i < vm_phys_nsegs; i++) {
		struct vm_phys_seg *seg = &vm_phys_segs[i];
		vm_paddr_t pas[3] = { seg->ps_start, seg->ps_start + ptoa(seg->ps_npages / 2),
		    seg->ps_end - PAGE_SIZE };
		for (int j = 0; j < 3; j++) {
			vm_page_t m = PHYS_TO_VM_PAGE(pas[j] + 123);
			VMT_ASSERT(m != NULL);
			VMT_ASSERT_EQ(VM_PAGE_TO_PHYS(m), pas[j]);
		}
		VMT_ASSERT(PHYS_TO_VM_PAGE(seg->ps_end) == NULL ||
		    (i + 1 < vm_phys_nsegs && vm_phys_segs[i + 1].ps_start == seg->ps_end));
	}
	VMT_ASSERT(PHYS_TO_VM_PAGE(0) == NULL || vm_phys_segs[0].ps_start == 0);
}

VMTEST(phys, alloc_each_order_aligned)
{
	vm_phys_lock();
	uint64_t before = vm_phys_nfree;
	for (int o = 0; o <= 9; o++) {
		vm_page_t m = vm_phys_alloc_pages(VM_FREEPOOL_DEFAULT, o);
		if (m == NULL) {
			vm_phys_unlock();
			VMT_ASSERT_MSG(0, "no free block of order %d", o);
		}
		vm_paddr_t pa = VM_PAGE_TO_PHYS(m);
		struct vm_phys_seg *seg = vm_phys_paddr_to_seg(pa);
		bool aligned = (pa & ((PAGE_SIZE << o) - 1)) == 0;
		bool inside = seg != NULL && pa + (PAGE_SIZE << o) <= seg->ps_end;
		bool counted = vm_phys_nfree == before - (1ull << o);
		vm_phys_free_pages(m, o);
		if (!aligned || !inside || !counted) {
			vm_phys_unlock();
			VMT_ASSERT_MSG(0, "order %d block %#llx: aligned %d inside %d counted %d",
			    o, (unsigned long long)pa, aligned, inside, counted);
		}
	}
	uint64_t after = vm_phys_nfree, bad = phys_verify();
	vm_phys_unlock();
	VMT_ASSERT_EQ(after, before);
	VMT_ASSERT_EQ(bad, 0);
}

/* Blocks live at once and steps: enough to split and coalesce every order many times;
 * each step scans the slots (emulated in the guest: 128 slots x 4000 steps took 6 s). */
#define PHYS_MODEL_SLOTS 64
#define PHYS_MODEL_STEPS 2000

struct phys_model_block {
	vm_page_t pmb_m;
	vm_paddr_t pmb_pa;
	int pmb_order;
};

/*
 * Random allocations and frees of orders 0..6 against a model of what is allocated:
 * no block overlaps another live one (no page handed out twice), each block still
 * carries the stamp written at allocation when freed, and after everything is freed
 * the free lists are exactly as found: same count per order (maximal coalescing makes
 * the decomposition of a free set unique), and consistent. Memory still in lazy tails is
 * queued first, so that the counts before and after describe the same free set (the
 * host's model test covers carving in the middle of such a run).
 */
VMTEST(phys, random_against_model)
{
	static struct phys_model_block live[PHYS_MODEL_SLOTS];
	uint64_t orders_before[VM_NFREEORDER], orders_after[VM_NFREEORDER];
	uint64_t seed = 0x9e3779b97f4a7c15ull, before, after, bad, lazy_left;
	const char *err = NULL;
	vm_paddr_t err_pa = 0;

	memset(live, 0, sizeof(live));
	vm_phys_lock();
	vm_phys_carve_all();
	lazy_left = vm_phys_lazy_count();
	before = vm_phys_nfree;
	phys_snapshot_orders(orders_before);
	for (int step = 0; step < PHYS_MODEL_STEPS && err == NULL; step++) {
		struct phys_model_block *b = &live[phys_rand(&seed) % PHYS_MODEL_SLOTS];
		if (b->pmb_m != NULL) {
			uint64_t *stamp = vm_phys_to_dmap(b->pmb_pa);
			if (*stamp != (b->pmb_pa ^ 0x5a5a5a5a5a5a5a5aull)) {
				err = "stamp overwritten: page handed out twice";
				err_pa = b->pmb_pa;
			}
			vm_phys_free_pages(b->pmb_m, b->pmb_order);
			b->pmb_m = NULL;
			continue;
		}
		int order = (int)(phys_rand(&seed) % 7);
		vm_page_t m = vm_phys_alloc_pages(phys_rand(&seed) & 1 ? VM_FREEPOOL_DIRECT :
		    VM_FREEPOOL_DEFAULT, order);
		if (m == NULL)
			continue;       /* a small guest may run short: not an error */
		vm_paddr_t pa = VM_PAGE_TO_PHYS(m), end = pa + (PAGE_SIZE << order);
		for (int i = 0; i < PHYS_MODEL_SLOTS; i++) {
			struct phys_model_block *o = &live[i];
			if (o->pmb_m != NULL && pa < o->pmb_pa + (PAGE_SIZE << o->pmb_order) &&
			    o->pmb_pa < end) {
				err = "block overlaps a live block";
				err_pa = pa;
			}
		}
		*(uint64_t *)vm_phys_to_dmap(pa) = pa ^ 0x5a5a5a5a5a5a5a5aull;
		*b = (struct phys_model_block){ m, pa, order };
	}
	for (int i = 0; i < PHYS_MODEL_SLOTS; i++)
		if (live[i].pmb_m != NULL)
			vm_phys_free_pages(live[i].pmb_m, live[i].pmb_order);
	after = vm_phys_nfree;
	phys_snapshot_orders(orders_after);
	bad = phys_verify();
	vm_phys_unlock();
	VMT_ASSERT_EQ(lazy_left, 0);
	VMT_ASSERT_MSG(err == NULL, "%s at %#llx", err, (unsigned long long)err_pa);
	VMT_ASSERT_EQ(after, before);
	VMT_ASSERT_EQ(bad, 0);
	for (int o = 0; o < VM_NFREEORDER; o++)
		VMT_ASSERT_MSG(orders_after[o] == orders_before[o],
		    "order %d: %llu free blocks after, %llu before", o,
		    (unsigned long long)orders_after[o], (unsigned long long)orders_before[o]);
}

/* Check one contiguous allocation against its constraints, then free it. */
static const char *phys_contig_case(unsigned long npages, vm_paddr_t low, vm_paddr_t high,
    unsigned long align, vm_paddr_t boundary)
{
	vm_page_t m = vm_phys_alloc_contig(npages, low, high, align, boundary);
	if (m == NULL)
		return "allocation failed";
	vm_paddr_t pa = VM_PAGE_TO_PHYS(m), end = pa + ptoa(npages);
	const char *err = NULL;
	if (pa < low || end > high)
		err = "outside [low, high)";
	else if ((pa & (align - 1)) != 0)
		err = "misaligned";
	else if (boundary != 0 && (pa & ~(boundary - 1)) != ((end - 1) & ~(boundary - 1)))
		err = "crosses the boundary";
	else if (PHYS_TO_VM_PAGE(end - PAGE_SIZE) != m + npages - 1)
		err = "pages not consecutive in one segment";
	for (unsigned long i = 0; err == NULL && i < npages; i++)
		if (m[i].order != 0)
			err = "a page of the run is still a free head";
	vm_phys_free_contig(m, npages);
	return err;
}

VMTEST(phys, contig_constraints)
{
	struct vm_phys_seg *seg = &vm_phys_segs[0];
	vm_paddr_t lo = seg->ps_start, hi = seg->ps_end;
	static const struct { unsigned long n, align; vm_paddr_t boundary; } cases[] = {
		{ 1, PAGE_SIZE, 0 }, { 3, PAGE_SIZE, 0 }, { 17, 0x10000, 0 },
		{ 64, PAGE_SIZE, 0x40000 }, { 100, 0x200000, 0 }, { 16, PAGE_SIZE, 0x10000 },
		{ 513, PAGE_SIZE, 0 }, { 5, 0x8000, 0x8000 },
	};

	vm_phys_lock();
	uint64_t before = vm_phys_nfree;
	for (unsigned i = 0; i < nitems(cases); i++) {
		if (ptoa(cases[i].n) * 4 > hi - lo)
			continue;
		const char *err = phys_contig_case(cases[i].n, lo, hi, cases[i].align,
		    cases[i].boundary);
		if (err == NULL)    /* the same inside a window in the middle of the segment */
			err = phys_contig_case(cases[i].n, lo + (hi - lo) / 4,
			    lo + (hi - lo) / 4 * 3, cases[i].align, cases[i].boundary);
		if (err != NULL) {
			vm_phys_unlock();
			VMT_ASSERT_MSG(0, "case %u (%lu pages align %#lx boundary %#llx): %s", i,
			    cases[i].n, cases[i].align, (unsigned long long)cases[i].boundary,
			    err);
		}
	}
	uint64_t after = vm_phys_nfree, bad = phys_verify();
	vm_phys_unlock();
	VMT_ASSERT_EQ(after, before);
	VMT_ASSERT_EQ(bad, 0);
}

VMTEST(phys, contig_impossible_fails)
{
	struct vm_phys_seg *seg = &vm_phys_segs[vm_phys_nsegs - 1];

	vm_phys_lock();
	uint64_t before = vm_phys_nfree;
	/* Larger than its boundary; a window of 3 pages for 4; nothing above RAM. */
	vm_page_t a = vm_phys_alloc_contig(4, 0, ~0ull, PAGE_SIZE, 2 * PAGE_SIZE);
	vm_page_t b = vm_phys_alloc_contig(4, seg->ps_start, seg->ps_start + 3 * PAGE_SIZE,
	    PAGE_SIZE, 0);
	vm_page_t c = vm_phys_alloc_contig(1, seg->ps_end, ~0ull, PAGE_SIZE, 0);
	/* More than all free memory together. */
	vm_page_t d = vm_phys_alloc_contig(vm_phys_nfree + 1, 0, ~0ull, PAGE_SIZE, 0);
	uint64_t after = vm_phys_nfree;
	vm_phys_unlock();
	VMT_ASSERT(a == NULL);
	VMT_ASSERT(b == NULL);
	VMT_ASSERT(c == NULL || vm_phys_nsegs > 1);
	VMT_ASSERT(d == NULL);
	VMT_ASSERT_EQ(after, before);
}

VMTEST(phys, pools_return_to_their_lists)
{
	vm_phys_lock();
	uint64_t before = vm_phys_nfree;
	vm_page_t m = vm_phys_alloc_pages(VM_FREEPOOL_DIRECT, 0);
	bool pool_ok = m != NULL && m->pool == VM_FREEPOOL_DIRECT;
	if (m != NULL)
		vm_phys_free_pages(m, 0);
	uint64_t after = vm_phys_nfree, bad = phys_verify();
	vm_phys_unlock();
	VMT_ASSERT(pool_ok);
	VMT_ASSERT_EQ(after, before);
	VMT_ASSERT_EQ(bad, 0);
}

/* Runs for the pre-zeroed pool: a whole aligned block of the largest order asked for
 * (a fresh machine has 1 MiB blocks), in the pool asked for, given back to any pool. */
VMTEST(phys, alloc_run_and_free_run)
{
	static const int maxorder[3] = { 0, 4, 8 };
	int order[3] = { -1, -1, -1 };
	vm_page_t m[3];
	vm_paddr_t pa[3] = { 0 };
	bool fields_ok = true;

	vm_phys_lock();
	uint64_t before = vm_phys_nfree;
	for (int i = 0; i < 3; i++) {
		m[i] = vm_phys_alloc_run(VM_FREEPOOL_DIRECT, maxorder[i], &order[i], NULL);
		if (m[i] == NULL)
			continue;
		pa[i] = VM_PAGE_TO_PHYS(m[i]);
		fields_ok &= m[i]->pool == VM_FREEPOOL_DIRECT && m[i]->order == 0 &&
		    m[i]->plinks.pl_next == NULL;
	}
	uint64_t mid = vm_phys_nfree;
	for (int i = 0; i < 3; i++)
		if (m[i] != NULL)
			vm_phys_free_run(m[i], 1ul << order[i],
			    i == 1 ? VM_FREEPOOL_DEFAULT : VM_FREEPOOL_DIRECT);
	uint64_t after = vm_phys_nfree, bad = phys_verify();
	vm_phys_unlock();
	for (int i = 0; i < 3; i++) {
		VMT_ASSERT(m[i] != NULL);
		VMT_ASSERT_EQ(order[i], maxorder[i]);
		VMT_ASSERT_EQ(pa[i] & (ptoa(1ull << order[i]) - 1), 0);
	}
	VMT_ASSERT(fields_ok);
	VMT_ASSERT_EQ(before - mid, 1 + 16 + 256);
	VMT_ASSERT_EQ(after, before);
	VMT_ASSERT_EQ(bad, 0);
}

VMTEST(phys, blacklisted_pages_never_free)
{
	int n = vm_phys_blacklist_count();

	vmtest_log("phys: %d blacklisted pages\n", n);
	for (int i = 0; i < n; i++) {
		vm_page_t m = PHYS_TO_VM_PAGE(vm_phys_blacklist_page(i));
		if (m == NULL)
			continue;       /* outside managed RAM: ignored at boot */
		VMT_ASSERT((m->flags & PG_BLACKLISTED) != 0);
		VMT_ASSERT(m->order == 0);
	}
	/* vm_phys_verify (free_lists_consistent) checks no free block holds one. */
	vm_phys_lock();
	uint64_t bad = phys_verify();
	vm_phys_unlock();
	VMT_ASSERT_EQ(bad, 0);
}
