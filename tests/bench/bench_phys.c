/*
 * Benchmarks of the physical page allocator on the host build of the VM core (no
 * sanitizers), each printed as a BENCH line (DESIGN.md):
 *
 *   phys.order0.pair    ns per vm_page_alloc_noobj + vm_page_free of one page, warm
 *                       (the path page tables and UMA slabs use); ref glibc.page =
 *                       malloc + free of 4096 bytes in the same run
 *   phys.order9.pair    ns per 2 MiB buddy block alloc + free (vm_phys, with its lock)
 *   contig.64           ns per 64-page contiguous alloc + free in a fragmented 1 GiB
 *                       machine (warm: the run just freed is found first), and
 *                       contig.64.inspected: the vm_page entries the first (cold) search
 *                       read
 *
 *   bench_phys --insn NAME N   run exactly N pairs of NAME (phys.order0, phys.order9,
 *                              contig.64) inside bench_insn_loop, after a warm-up outside
 *                              it, for: valgrind --tool=callgrind --collect-atstart=no
 *                              --toggle-collect=bench_insn_loop build/tests/bench_phys ...
 *
 *   bench_phys --insn page.zero N
 *                              N single-page vm_page_alloc_noobj(VM_ALLOC_ZERO) calls (N a
 *                              multiple of 32), in rounds of 64: only the allocations run inside
 *                              bench_insn_loop (the fast path and the per-CPU zeroed run's
 *                              refills from the pool); each round's pages are freed, and
 *                              the pool topped up, outside it. The top-up is where the
 *                              platform zeroes pages (the host's work in the guest, a
 *                              memset of every byte here) and is checked not to happen
 *                              inside a round. Value: instructions per zeroed page.
 *   bench_phys --insn page.zero.batch N
 *                              the page.zero rounds with each 32 pages handed out by one
 *                              vm_page_alloc_noobj_batch(VM_ALLOC_ZERO) call (slices of
 *                              the per-CPU zeroed run and its refills), the pool topped
 *                              up outside the count as for page.zero. Value: instructions
 *                              per zeroed page.
 *   bench_phys --insn page.zero.refill N
 *                              the same with the pool left to fill itself inside the
 *                              counted rounds, as in the guest. The total then counts the
 *                              platform's memset (valgrind counts each byte of it); take
 *                              the inclusive count of vm_plat_zero_pages off the total
 *                              (callgrind_annotate --inclusive=yes) to get page.zero plus
 *                              the pool fill's own bookkeeping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/vm_page.h"
#include "vm/vm_phys.h"
#include "tests/support/vm_host.h"

typedef void bench_pair_fn(void);

static void bench_order0_pair(void)
{
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | VM_ALLOC_NOWAIT);

	if (m == NULL)
		abort();
	vm_page_free(m);
}

static void bench_order9_pair(void)
{
	vm_phys_lock();
	vm_page_t m = vm_phys_alloc_pages(VM_FREEPOOL_DEFAULT, 9);
	vm_phys_unlock();
	if (m == NULL)
		abort();
	vm_phys_lock();
	vm_phys_free_pages(m, 9);
	vm_phys_unlock();
}

/* What page.zero measures in the guest: pages handed out zeroed, then freed, a batch of
 * 64 at a time (the free is not part of the guest's figure, but it is what refills
 * the buddy lists the pool draws from). */
#define BENCH_ZERO_BATCH 64
static void bench_zero_batch(void)
{
	vm_page_t ma[BENCH_ZERO_BATCH];

	for (int i = 0; i < BENCH_ZERO_BATCH; i++)
		if ((ma[i] = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_ZERO |
		    VM_ALLOC_NOWAIT)) == NULL)
			abort();
	for (int i = 0; i < BENCH_ZERO_BATCH; i++)
		vm_page_free(ma[i]);
}

/* page.zero: 32 zeroed pages per call, unrolled (so the harness costs a call and a
 * store per allocation, as any caller pays), kept until the round ends and checked
 * then, outside the count. */
#define BENCH_ZERO_ROUND 64
#define BENCH_ZERO_PER_CALL 32
static vm_page_t bench_zero_held[BENCH_ZERO_ROUND];
static int bench_zero_nheld;

static void bench_zero_alloc32(void)
{
	vm_page_t *ma = &bench_zero_held[bench_zero_nheld];
	const int req = VM_ALLOC_NORMAL | VM_ALLOC_ZERO | VM_ALLOC_NOWAIT;

#pragma GCC unroll 32
	for (int i = 0; i < BENCH_ZERO_PER_CALL; i++)
		ma[i] = vm_page_alloc_noobj(req);
	bench_zero_nheld += BENCH_ZERO_PER_CALL;
}

static void bench_zero_batch32(void)
{
	vm_page_t *ma = &bench_zero_held[bench_zero_nheld];
	const int req = VM_ALLOC_NORMAL | VM_ALLOC_ZERO | VM_ALLOC_NOWAIT;

	if (vm_page_alloc_noobj_batch(req, BENCH_ZERO_PER_CALL, ma) != BENCH_ZERO_PER_CALL)
		abort();
	bench_zero_nheld += BENCH_ZERO_PER_CALL;
}

static void bench_zero_release(void)
{
	while (bench_zero_nheld > 0) {
		vm_page_t m = bench_zero_held[--bench_zero_nheld];
		if (m == NULL || (m->flags & PG_ZERO) == 0) {
			fprintf(stderr, "bench_phys: page.zero: a page came without PG_ZERO\n");
			exit(70);
		}
		vm_page_free(m);
	}
}

static uint64_t bench_contig_inspected;

static void bench_contig64_pair(void)
{
	vm_phys_lock();
	vm_page_t m = vm_phys_alloc_contig(64, 0, ~0ull, PAGE_SIZE, 0);
	if (bench_contig_inspected == 0)     /* the first, cold search */
		bench_contig_inspected = vm_phys_contig_inspected;
	if (m == NULL)
		abort();
	vm_phys_free_contig(m, 64);
	vm_phys_unlock();
}

static void bench_glibc_pair(void)
{
	void *volatile p = malloc(4096);

	free(p);
}

static void bench_boot(uint64_t ram)
{
	struct vm_host_config cfg = { .ram_bytes = ram, .ncpus = 1 };

	vm_host_boot(&cfg);
}

/*
 * A fragmented 1 GiB machine: every page allocated, then in each 128-page period the
 * pages [0, 40) freed (a run too short for 64), except every 64th period, which frees
 * [16, 96) (80 pages: room for 64, but in no single aligned 64-page block).
 */
static void bench_fragment(void)
{
	bench_boot(1ull << 30);
	vm_page_drain_caches();
	vm_phys_lock();
	uint64_t n = vm_phys_nfree;
	vm_page_t *all = malloc(n * sizeof(*all));
	if (all == NULL || vm_phys_alloc_npages(VM_FREEPOOL_DEFAULT, (int)n, all) != (int)n)
		abort();
	/* Freed in address order, so the free lists hold the runs in a known order: the
	 * search meets runs too short before one that fits. */
	struct vm_phys_seg *seg = &vm_phys_segs[0];
	for (vm_paddr_t pa = seg->ps_start; pa < seg->ps_end; pa += PAGE_SIZE) {
		uint64_t k = atop(pa) / 128, off = atop(pa) % 128;
		bool freeit = (k % 64 == 31) ? (off >= 16 && off < 96) : off < 40;
		if (freeit) {
			vm_page_t m = PHYS_TO_VM_PAGE(pa);
			m->pool = VM_FREEPOOL_DEFAULT;
			vm_phys_free_pages(m, 0);
		}
	}
	vm_phys_unlock();
	free(all);
}

static double bench_ns(bench_pair_fn *fn, uint64_t n)
{
	for (uint64_t i = 0; i < n / 10 + 100; i++)     /* warm */
		fn();
	uint64_t t0 = vm_nanotime();
	for (uint64_t i = 0; i < n; i++)
		fn();
	return (double)(vm_nanotime() - t0) / (double)n;
}

/* Best of a few rounds: the figure is the allocator's, not the machine's noise. */
static double bench_best(bench_pair_fn *fn, uint64_t n)
{
	double best = 1e30;

	for (int r = 0; r < 5; r++) {
		double v = bench_ns(fn, n);
		if (v < best)
			best = v;
	}
	return best;
}

__attribute__((noinline)) void bench_insn_loop(bench_pair_fn *fn, uint64_t n);
__attribute__((noinline)) void bench_insn_loop(bench_pair_fn *fn, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		fn();
	__asm__ volatile("" ::: "memory");
}

/*
 * The --insn page.zero modes: n allocations in rounds, each round counted by
 * bench_insn_loop and its pages freed outside it. prefill: top the pool up before each
 * round (outside the count) and insist that no platform zeroing ran inside one.
 */
static void bench_insn_page_zero(uint64_t n, bool prefill, bench_pair_fn *alloc32)
{
	struct vm_host_page_ops o0, o1;

	if (n % BENCH_ZERO_PER_CALL != 0) {
		fprintf(stderr, "bench_phys: page.zero: N must be a multiple of %d\n",
		    BENCH_ZERO_PER_CALL);
		exit(64);
	}
	bench_boot(256ull << 20);               /* the guest's page.zero machine */
	for (int i = 0; i < 1000; i++) {        /* warm: pool, per-CPU caches, buddy lists */
		if (bench_zero_nheld == BENCH_ZERO_ROUND)
			bench_zero_release();
		alloc32();
	}
	bench_zero_release();
	for (uint64_t done = 0; done < n;) {
		uint64_t k = n - done < BENCH_ZERO_ROUND ? n - done : BENCH_ZERO_ROUND;
		if (prefill)
			vm_page_zero_pool_fill(UINT64_MAX);
		vm_host_page_ops_counts(&o0);
		bench_insn_loop(alloc32, k / BENCH_ZERO_PER_CALL);
		vm_host_page_ops_counts(&o1);
		if (prefill && o1.hpo_zero_calls != o0.hpo_zero_calls) {
			fprintf(stderr, "bench_phys: page.zero: the pool was filled inside a "
			    "counted round; the figure would count the platform's memset\n");
			exit(70);
		}
		bench_zero_release();
		done += k;
	}
}

static bench_pair_fn *bench_setup(const char *name)
{
	if (strcmp(name, "phys.order0") == 0) {
		bench_boot(64ull << 20);
		return bench_order0_pair;
	}
	if (strcmp(name, "phys.order9") == 0) {
		bench_boot(64ull << 20);
		return bench_order9_pair;
	}
	if (strcmp(name, "page.zero.batch64") == 0) {
		bench_boot(64ull << 20);
		return bench_zero_batch;
	}
	if (strcmp(name, "contig.64") == 0) {
		bench_fragment();
		return bench_contig64_pair;
	}
	fprintf(stderr, "bench_phys: unknown benchmark '%s' (phys.order0, phys.order9, "
	    "page.zero.batch64, contig.64; with --insn also page.zero, page.zero.batch, "
	    "page.zero.refill)\n",
	    name);
	exit(64);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--insn") == 0) {
		uint64_t n = strtoull(argv[3], NULL, 0);
		if (strcmp(argv[2], "page.zero") == 0 ||
		    strcmp(argv[2], "page.zero.refill") == 0) {
			bench_insn_page_zero(n, strcmp(argv[2], "page.zero") == 0,
			    bench_zero_alloc32);
			return 0;
		}
		if (strcmp(argv[2], "page.zero.batch") == 0) {
			bench_insn_page_zero(n, true, bench_zero_batch32);
			return 0;
		}
		bench_pair_fn *fn = bench_setup(argv[2]);
		for (int i = 0; i < 1000; i++)
			fn();
		bench_insn_loop(fn, n);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: bench_phys [--insn NAME N]\n");
		return 64;
	}
	/* The boot messages go to stderr: stdout is for BENCH lines. */
	fflush(stdout);
	int saved = dup(1);
	dup2(2, 1);

	bench_pair_fn *fn = bench_setup("phys.order0");
	double order0 = bench_best(fn, 2000000);
	double glibc = bench_best(bench_glibc_pair, 2000000);
	fn = bench_setup("phys.order9");
	double order9 = bench_best(fn, 1000000);
	fn = bench_setup("contig.64");
	double contig = bench_best(fn, 20000);

	fflush(stdout);
	dup2(saved, 1);
	printf("BENCH name=phys.order0.pair value=%.1f unit=ns ref=glibc.page refvalue=%.1f "
	    "ratio=%.2f\n", order0, glibc, order0 / glibc);
	printf("BENCH name=phys.order9.pair value=%.1f unit=ns ref=glibc.page refvalue=%.1f "
	    "ratio=%.2f\n", order9, glibc, order9 / glibc);
	printf("BENCH name=contig.64 value=%.1f unit=ns\n", contig);
	printf("BENCH name=contig.64.inspected value=%llu unit=pages\n",
	    (unsigned long long)bench_contig_inspected);
	return 0;
}
