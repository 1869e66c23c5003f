/*
 * Guest-side benchmarks (`vmm run --ktest=bench`, run by `make bench`; `ktest=all`
 * skips suites named bench*). They print BENCH lines in the project's format and check
 * only what must hold whatever the timing: pages handed out zeroed really are zero.
 *
 * page.zero: microseconds per page handed out zeroed by vm_page_alloc_noobj(VM_ALLOC_ZERO)
 * (served from the pre-zeroed pool, which the host refills in batches through the
 * paravirtual port), against page.zero.stores: the same pages zeroed by the kernel with
 * stores (rep stosq through the direct map), measured in the same run.
 */
#include "vm/vm_page.h"

#include "amd64/tsc.h"
#include "kern/console.h"
#include "kern/ktest.h"
#include "kern/systm.h"

#define KBENCH_PAGES    64

static vm_page_t kbench_pages[KBENCH_PAGES];

static bool kbench_page_is_zero(vm_page_t m)
{
	const uint64_t *w = vm_phys_to_dmap(VM_PAGE_TO_PHYS(m));

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		if (w[i] != 0)
			return false;
	return true;
}

KTEST(bench, page_zero)
{
	/* Warm the allocator and the pool's refill path outside the timed loops. */
	vm_page_t warm = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_ZERO | VM_ALLOC_NOWAIT);
	KT_ASSERT(warm != NULL);
	vm_page_free(warm);

	uint64_t t0 = tsc_nanotime();
	for (int i = 0; i < KBENCH_PAGES; i++)
		kbench_pages[i] = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_ZERO |
		    VM_ALLOC_NOWAIT);
	uint64_t t1 = tsc_nanotime();

	/* The reference: the same pages dirtied, then zeroed by stores. */
	for (int i = 0; i < KBENCH_PAGES; i++) {
		KT_ASSERT(kbench_pages[i] != NULL);
		KT_ASSERT(kbench_page_is_zero(kbench_pages[i]));
		*(volatile uint64_t *)vm_phys_to_dmap(VM_PAGE_TO_PHYS(kbench_pages[i])) = 1;
	}
	uint64_t t2 = tsc_nanotime();
	for (int i = 0; i < KBENCH_PAGES; i++)
		memset(vm_phys_to_dmap(VM_PAGE_TO_PHYS(kbench_pages[i])), 0, PAGE_SIZE);
	uint64_t t3 = tsc_nanotime();

	for (int i = 0; i < KBENCH_PAGES; i++) {
		KT_ASSERT(kbench_page_is_zero(kbench_pages[i]));
		vm_page_free(kbench_pages[i]);
	}
	uint64_t pool_ns = (t1 - t0) / KBENCH_PAGES, store_ns = (t3 - t2) / KBENCH_PAGES;
	console_printf("BENCH name=page.zero value=%llu.%03llu unit=us ref=page.zero.stores "
	    "refvalue=%llu.%03llu ratio=%llu.%03llu\n",
	    (unsigned long long)(pool_ns / 1000), (unsigned long long)(pool_ns % 1000),
	    (unsigned long long)(store_ns / 1000), (unsigned long long)(store_ns % 1000),
	    (unsigned long long)(pool_ns / (store_ns ? store_ns : 1)),
	    (unsigned long long)((pool_ns * 1000 / (store_ns ? store_ns : 1)) % 1000));
}
