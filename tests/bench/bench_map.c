/*
 * vm_map benchmarks on the host build of the VM core (no sanitizers).
 *
 *   bench_map      prints the BENCH lines (DESIGN.md format):
 *     map.churn.1k    ns per vm_map_find + vm_map_remove pair (what mmap + munmap do to
 *                     the map) with 1000 live entries
 *     map.churn.100k  the same with 100000 live entries, beside map.churn.1k: the ratio
 *                     is what 100 times more entries cost (goal: at most 2.0)
 *
 *     map.churn.rand.1k, map.churn.rand.100k
 *                     the same with a random hint: the stress case (see below)
 *
 * The live entries are 1..4 pages with free gaps of 1..8 pages between them, so that
 * gaps of every size are spread over the whole map. Each pair asks for 1..8 pages
 * (precomputed, so the loop times the map alone), as mmap(NULL, ...) does: the lowest
 * fit in the map; the remove puts the map back as it was. The .rand figures ask at or
 * above a random address among the entries instead, so every pair descends to a
 * different part of the tree: with 100k entries (12.8 MB) that descent misses the
 * caches and the TLB, which is what its ratio measures more than the tree.
 *
 *   bench_map [PAIRS [1000|100000]]   PAIRS per run, one size alone (for callgrind:
 *                     --collect-atstart=no --toggle-collect=bench_insn_loop)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "tests/support/vm_host.h"
#include "vm/vm_map.h"

#define BENCH_BASE   0x10000000000ul
#define BENCH_SPAN   (1ul << 40)
#define BENCH_PAIRS  500000L     /* per run; bench_map N runs N (callgrind) */

static long bench_pairs = BENCH_PAIRS;
#define BENCH_REPS   7
#define BENCH_NREQ   4096            /* precomputed requests, a power of two */

struct bench_req {
	vm_offset_t br_hint;
	vm_size_t br_len;
};

static struct bench_req bench_reqs[BENCH_NREQ];
static uint64_t bench_rng = 0x2545f4914f6cdd1dull;

static uint64_t bench_rand(void)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 7;
	bench_rng ^= bench_rng << 17;
	return bench_rng;
}

static double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* n pairs of find + remove, cycling through the requests. */
__attribute__((noinline)) void bench_insn_loop(struct vm_map *map, long n);
__attribute__((noinline)) void bench_insn_loop(struct vm_map *map, long n)
{
	for (long i = 0; i < n; i++) {
		const struct bench_req *r = &bench_reqs[i & (BENCH_NREQ - 1)];
		vm_offset_t a = r->br_hint;
		if (vm_map_find(map, NULL, 0, &a, r->br_len, ~0ul, 0, VM_PROT_READ | VM_PROT_WRITE,
		    VM_PROT_READ | VM_PROT_WRITE, 0) != 0 ||
		    vm_map_remove(map, a, a + r->br_len) != 0) {
			fprintf(stderr, "bench_map: find or remove failed at pair %ld\n", i);
			exit(1);
		}
	}
}

/* How the requests pick their addresses. */
enum bench_mode {
	BENCH_NOHINT,   /* mmap(NULL, ...): the lowest fit in the map */
	BENCH_RANDOM,   /* a hint anywhere among the live entries */
	BENCH_NMODES
};

struct bench_churn {
	struct vm_map bc_map;
	int bc_live;
	struct bench_req bc_reqs[BENCH_NMODES][BENCH_NREQ];
	double bc_best[BENCH_NMODES];   /* ns per pair, best run */
};

/* A map of `live` entries and its requests. */
static void bench_churn_setup(struct bench_churn *bc, int live)
{
	struct vm_map *map = &bc->bc_map;
	vm_offset_t at = BENCH_BASE;

	bc->bc_live = live;
	bc->bc_best[BENCH_NOHINT] = bc->bc_best[BENCH_RANDOM] = 1e30;
	vm_map_init(map, NULL, BENCH_BASE, BENCH_BASE + BENCH_SPAN);
	vm_map_lock(map);
	for (int i = 0; i < live; i++) {
		vm_size_t len = (1 + bench_rand() % 4) * PAGE_SIZE;
		/* Alternate protections so that no two neighbours could merge. */
		vm_prot_t prot = i % 2 ? VM_PROT_READ : VM_PROT_READ | VM_PROT_WRITE;
		if (vm_map_insert(map, NULL, 0, at, at + len, prot, prot | VM_PROT_WRITE, 0) != 0) {
			fprintf(stderr, "bench_map: populating entry %d failed\n", i);
			exit(1);
		}
		at += len + (1 + bench_rand() % 8) * PAGE_SIZE;
	}
	vm_map_unlock(map);
	for (int i = 0; i < BENCH_NREQ; i++) {
		vm_size_t len = (1 + bench_rand() % 8) * PAGE_SIZE;
		bc->bc_reqs[BENCH_NOHINT][i] = (struct bench_req){ BENCH_BASE, len };
		bc->bc_reqs[BENCH_RANDOM][i] = (struct bench_req){
		    BENCH_BASE + trunc_page(bench_rand() % (at - BENCH_BASE)), len };
	}
}

/* One timed run; keeps the best. */
static void bench_churn_run(struct bench_churn *bc, enum bench_mode mode)
{
	memcpy(bench_reqs, bc->bc_reqs[mode], sizeof(bench_reqs));
	bench_insn_loop(&bc->bc_map, BENCH_NREQ);       /* warm up */
	double t0 = bench_now_ns();
	bench_insn_loop(&bc->bc_map, bench_pairs);
	double ns = (bench_now_ns() - t0) / (double)bench_pairs;
	if (ns < bc->bc_best[mode])
		bc->bc_best[mode] = ns;
}

static void bench_churn_teardown(struct bench_churn *bc)
{
	if (bc->bc_map.vmap_nentries != bc->bc_live) {
		fprintf(stderr, "bench_map: %d entries after the churn, not %d\n",
		    bc->bc_map.vmap_nentries, bc->bc_live);
		exit(1);
	}
	vm_map_destroy(&bc->bc_map);
}

static struct bench_churn bench_small, bench_big;

/*
 * The reference for the 1k figures: the host kernel's own mmap + munmap of one anonymous
 * page (nothing touched), the same map-level work done by Linux's VMA tree in the same
 * run. Best of BENCH_REPS runs of bench_pairs / 10 pairs (a system call each way).
 */
static double bench_host_mmap_pair_ns(void)
{
	long pairs = bench_pairs / 10 > 0 ? bench_pairs / 10 : 1;
	double best = 1e30;

	for (int r = 0; r < BENCH_REPS; r++) {
		double t0 = bench_now_ns();
		for (long i = 0; i < pairs; i++) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED || munmap(p, 4096) != 0) {
				perror("bench_map: host mmap/munmap");
				exit(1);
			}
		}
		double ns = (bench_now_ns() - t0) / (double)pairs;
		if (ns < best)
			best = ns;
	}
	return best;
}

int main(int argc, char **argv)
{
	int only = 0;

	if (argc >= 2)
		bench_pairs = atol(argv[1]);
	if (argc >= 3)
		only = atoi(argv[2]);           /* 1000 or 100000: that size alone */
	vm_host_boot_default();
	vm_host_set_cpu(0);

	bench_churn_setup(&bench_small, 1000);
	bench_churn_setup(&bench_big, 100000);
	/* Interleaved, best of each: a busy machine slows both alike. */
	for (int r = 0; r < BENCH_REPS; r++) {
		for (int m = 0; m < BENCH_NMODES; m++) {
			if (only != 100000)
				bench_churn_run(&bench_small, (enum bench_mode)m);
			if (only != 1000)
				bench_churn_run(&bench_big, (enum bench_mode)m);
		}
	}
	bench_churn_teardown(&bench_small);
	bench_churn_teardown(&bench_big);
	double host = bench_host_mmap_pair_ns();
	for (int m = 0; m < BENCH_NMODES; m++) {
		const char *name = m == BENCH_NOHINT ? "map.churn" : "map.churn.rand";
		double small = bench_small.bc_best[m], big = bench_big.bc_best[m];
		printf("BENCH name=%s.1k value=%.2f unit=ns ref=host.mmap.pair refvalue=%.2f "
		    "ratio=%.3f\n", name, small, host, small / host);
		printf("BENCH name=%s.100k value=%.2f unit=ns ref=%s.1k refvalue=%.2f "
		    "ratio=%.3f\n", name, big, name, small, big / small);
	}
	return 0;
}
