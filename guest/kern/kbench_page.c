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
 */
#include "vm/vm_page.h"

#include "amd64/tsc.h"
#include "kern/console.h"
#include "kern/ktest.h"
#include "kern/systm.h"

#define KBENCH_ROUND    64
#define KBENCH_ROUNDS   16

static vm_page_t kbench_pages[KBENCH_ROUND];

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

/* One round of zeroed allocations; returns the nanoseconds they took. */
static uint64_t kbench_zero_round(void)
{
	const int req = VM_ALLOC_NORMAL | VM_ALLOC_ZERO | VM_ALLOC_NOWAIT;
	uint64_t t0 = tsc_nanotime();

	for (int i = 0; i < KBENCH_ROUND; i++)
		kbench_pages[i] = vm_page_alloc_noobj(req);
	return tsc_nanotime() - t0;
}

KTEST(bench, page_zero)
{
	uint64_t pool_ns = 0, store_ns = 0;

	/* Warm-up: the first pool fill and run refill happen here, not in a timed round. */
	(void)kbench_zero_round();
	for (int i = 0; i < KBENCH_ROUND; i++) {
		KT_ASSERT(kbench_pages[i] != NULL);
		vm_page_free(kbench_pages[i]);
	}

	for (int r = 0; r < KBENCH_ROUNDS; r++) {
		pool_ns += kbench_zero_round();
		for (int i = 0; i < KBENCH_ROUND; i++) {
			KT_ASSERT(kbench_pages[i] != NULL);
			KT_ASSERT(kbench_page_is_zero(kbench_pages[i]));
			*(volatile uint64_t *)vm_phys_to_dmap(VM_PAGE_TO_PHYS(kbench_pages[i])) = 1;
		}
		/* The reference: the same pages zeroed by stores. */
		uint64_t t0 = tsc_nanotime();
		for (int i = 0; i < KBENCH_ROUND; i++)
			memset(vm_phys_to_dmap(VM_PAGE_TO_PHYS(kbench_pages[i])), 0, PAGE_SIZE);
		store_ns += tsc_nanotime() - t0;
		KT_ASSERT(kbench_page_is_zero(kbench_pages[0]));
		KT_ASSERT(kbench_page_is_zero(kbench_pages[KBENCH_ROUND - 1]));
		for (int i = 0; i < KBENCH_ROUND; i++)
			vm_page_free(kbench_pages[i]);
	}

	pool_ns /= KBENCH_ROUND * KBENCH_ROUNDS;
	store_ns /= KBENCH_ROUND * KBENCH_ROUNDS;
	console_printf("BENCH name=page.zero value=%llu.%03llu unit=us ref=page.zero.stores "
	    "refvalue=%llu.%03llu ratio=%llu.%03llu\n",
	    (unsigned long long)(pool_ns / 1000), (unsigned long long)(pool_ns % 1000),
	    (unsigned long long)(store_ns / 1000), (unsigned long long)(store_ns % 1000),
	    (unsigned long long)(pool_ns / (store_ns ? store_ns : 1)),
	    (unsigned long long)((pool_ns * 1000 / (store_ns ? store_ns : 1)) % 1000));
}
