/*
 * Guest-side benchmarks (`vmm run --ktest=bench`, run by `make bench`; `ktest=all`
 * skips suites named bench*). They print BENCH lines in the project's format and check
 * only what must hold whatever the timing: pages handed out zeroed really are zero.
 *
 * page.zero: microseconds per page handed out zeroed by
 * vm_page_alloc_noobj(VM_ALLOC_ZERO), in the steady state: after a warm-up round,
 * KBENCH_ROUNDS rounds of KBENCH_ROUND allocations are timed, and each round's pages are
 * checked, zeroed by stores and freed outside the timed part. The rounds add up to a
 * full pre-zeroed pool and several per-CPU run refills, so the figure includes the
 * refills (and the pool fills: their exits, and the host zeroing the pages meanwhile)
 * amortised over the pages, not only the fast path.
 * page.zero.stores, the reference: the same pages, dirtied, zeroed by the kernel with
 * stores (memset: rep stosq through the direct map), timed in the same rounds.
 *
 * page.zero.batch: the same, each round's pages handed out by one
 * vm_page_alloc_noobj_batch(VM_ALLOC_ZERO) call (slices of the per-CPU zeroed run, the
 * refills and pool fills amortised the same way), beside its own page.zero.stores
 * reference measured in its rounds.
 *
 * page.zero.contig: the same with one vm_page_alloc_noobj_contig(VM_ALLOC_ZERO) call a
 * round (a 64-page run), pages freed one by one as in the other two.
 */
#include "vm/vm_page.h"

#include "amd64/tsc.h"
#include "kern/console.h"
#include "kern/ktest.h"
#include "kern/systm.h"

#define KBENCH_ROUND    64
#define KBENCH_ROUNDS   16

static vm_page_t kbench_pages[KBENCH_ROUND];

/* KT_ASSERT for a helper that reports failure to its test by returning false. */
#define KBENCH_CHECK(cond) do {                                                    \
	if (!(cond)) { ktest_fail(__FILE__, __LINE__, "%s", #cond); return false; } \
} while (0)

/* OR of every word: one emulated instruction per word, the check must not take longer
 * than the benchmark. */
static bool kbench_page_is_zero(vm_page_t m)
{
	const uint64_t *w = vm_phys_to_dmap(VM_PAGE_TO_PHYS(m));
	uint64_t acc = 0;

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i += 8)
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] |
		    w[i + 6] | w[i + 7];
	return acc == 0;
}

/* One round of zeroed allocations, one call per page; returns the nanoseconds they
 * took. */
static uint64_t kbench_zero_round(void)
{
	const int req = VM_ALLOC_NORMAL | VM_ALLOC_ZERO | VM_ALLOC_NOWAIT;
	uint64_t t0 = tsc_nanotime();

	for (int i = 0; i < KBENCH_ROUND; i++)
		kbench_pages[i] = vm_page_alloc_noobj(req);
	return tsc_nanotime() - t0;
}

/* The same round in one batch call; a short batch leaves NULLs, which the checks catch. */
static uint64_t kbench_zero_batch_round(void)
{
	const int req = VM_ALLOC_NORMAL | VM_ALLOC_ZERO | VM_ALLOC_NOWAIT;
	uint64_t t0 = tsc_nanotime();
	int got = vm_page_alloc_noobj_batch(req, KBENCH_ROUND, kbench_pages);
	uint64_t t = tsc_nanotime() - t0;

	for (int i = got; i < KBENCH_ROUND; i++)
		kbench_pages[i] = NULL;
	return t;
}

/* The same round as one run of contiguous pages, vm_page_alloc_noobj_contig(VM_ALLOC_ZERO)
 * without constraints; a failure leaves NULLs, which the checks catch. */
static uint64_t kbench_zero_contig_round(void)
{
	const int req = VM_ALLOC_NORMAL | VM_ALLOC_ZERO | VM_ALLOC_NOWAIT;
	uint64_t t0 = tsc_nanotime();
	vm_page_t m = vm_page_alloc_noobj_contig(req, KBENCH_ROUND, 0, ~(vm_paddr_t)0, 0, 0);
	uint64_t t = tsc_nanotime() - t0;

	for (int i = 0; i < KBENCH_ROUND; i++)
		kbench_pages[i] = m != NULL ? &m[i] : NULL;
	return t;
}

static void kbench_print(const char *name, uint64_t ns, uint64_t ref_ns)
{
	console_printf("BENCH name=%s value=%llu.%03llu unit=us ref=page.zero.stores "
	    "refvalue=%llu.%03llu ratio=%llu.%03llu\n", name,
	    (unsigned long long)(ns / 1000), (unsigned long long)(ns % 1000),
	    (unsigned long long)(ref_ns / 1000), (unsigned long long)(ref_ns % 1000),
	    (unsigned long long)(ns / (ref_ns ? ref_ns : 1)),
	    (unsigned long long)((ns * 1000 / (ref_ns ? ref_ns : 1)) % 1000));
}

/*
 * A warm-up round, then KBENCH_ROUNDS timed rounds of 'round', each one's pages checked
 * zero, dirtied, zeroed by stores (timed: the reference), checked and freed. The
 * figures are nanoseconds per page in *ns and *ref_ns. Returns false when a check
 * failed (ktest has recorded it).
 */
static bool kbench_zero_measure(uint64_t (*round)(void), uint64_t *ns, uint64_t *ref_ns)
{
	uint64_t pool_ns = 0, store_ns = 0;

	/* Warm-up: the first pool fill and run refill happen here, not in a timed round. */
	(void)round();
	for (int i = 0; i < KBENCH_ROUND; i++) {
		KBENCH_CHECK(kbench_pages[i] != NULL);
		vm_page_free(kbench_pages[i]);
	}

	for (int r = 0; r < KBENCH_ROUNDS; r++) {
		pool_ns += round();
		for (int i = 0; i < KBENCH_ROUND; i++) {
			KBENCH_CHECK(kbench_pages[i] != NULL);
			KBENCH_CHECK(kbench_page_is_zero(kbench_pages[i]));
			*(volatile uint64_t *)vm_phys_to_dmap(VM_PAGE_TO_PHYS(kbench_pages[i])) = 1;
		}
		/* The reference: the same pages zeroed by stores. */
		uint64_t t0 = tsc_nanotime();
		for (int i = 0; i < KBENCH_ROUND; i++)
			memset(vm_phys_to_dmap(VM_PAGE_TO_PHYS(kbench_pages[i])), 0, PAGE_SIZE);
		store_ns += tsc_nanotime() - t0;
		KBENCH_CHECK(kbench_page_is_zero(kbench_pages[0]));
		KBENCH_CHECK(kbench_page_is_zero(kbench_pages[KBENCH_ROUND - 1]));
		for (int i = 0; i < KBENCH_ROUND; i++)
			vm_page_free(kbench_pages[i]);
	}
	*ns = pool_ns / (KBENCH_ROUND * KBENCH_ROUNDS);
	*ref_ns = store_ns / (KBENCH_ROUND * KBENCH_ROUNDS);
	return true;
}

KTEST(bench, page_zero)
{
	uint64_t ns, ref_ns;

	if (!kbench_zero_measure(kbench_zero_round, &ns, &ref_ns))
		return;
	kbench_print("page.zero", ns, ref_ns);
	if (!kbench_zero_measure(kbench_zero_batch_round, &ns, &ref_ns))
		return;
	kbench_print("page.zero.batch", ns, ref_ns);
	if (!kbench_zero_measure(kbench_zero_contig_round, &ns, &ref_ns))
		return;
	kbench_print("page.zero.contig", ns, ref_ns);
}
