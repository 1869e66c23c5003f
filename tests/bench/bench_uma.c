/*
 * UMA benchmarks on the host build of the VM core (no sanitizers).
 *
 *   bench_uma                 prints the BENCH lines (DESIGN.md format):
 *     uma.pair     ns per uma_zalloc + uma_zfree of a 128-byte item on a warm per-CPU
 *                  cache, beside glibc.pair (malloc + free of 128 bytes, same run)
 *     malloc.pair  ns per kmalloc + kfree of 128 bytes, beside the same glibc.pair
 *   bench_uma --insn NAME N   runs exactly N pairs of NAME (uma.pair, malloc.pair or
 *                  glibc.pair) inside bench_insn_loop, after a warm-up outside it, for
 *                  valgrind --tool=callgrind --collect-atstart=no
 *                  --toggle-collect=bench_insn_loop; instructions / N = per pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/vm_host.h"
#include "vm/malloc.h"
#include "vm/uma.h"

#define BENCH_SIZE  128
#define BENCH_ITERS 20000000L
#define BENCH_REPS  5

MALLOC_DEFINE(M_BENCH, "bench");

/* Every pointer goes through here, so no compiler can drop an alloc/free pair. */
static void *volatile bench_sink;

enum bench_kind { BENCH_UMA, BENCH_MALLOC, BENCH_GLIBC };

static uma_zone_t bench_zone;

static inline void bench_pair(enum bench_kind kind)
{
	void *p;

	switch (kind) {
	case BENCH_UMA:
		p = uma_zalloc(bench_zone, M_NOWAIT);
		bench_sink = p;
		uma_zfree(bench_zone, p);
		break;
	case BENCH_MALLOC:
		p = kmalloc(BENCH_SIZE, M_BENCH, M_NOWAIT);
		bench_sink = p;
		kfree(p, M_BENCH);
		break;
	case BENCH_GLIBC:
		p = malloc(BENCH_SIZE);
		bench_sink = p;
		free(p);
		break;
	}
}

/* The measured loop: callgrind collects only inside this function. */
__attribute__((noinline)) void bench_insn_loop(enum bench_kind kind, long n);
__attribute__((noinline)) void bench_insn_loop(enum bench_kind kind, long n)
{
	for (long i = 0; i < n; i++)
		bench_pair(kind);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Best of BENCH_REPS runs, in ns per pair. */
static double bench_time(enum bench_kind kind)
{
	double best = 1e30;

	bench_insn_loop(kind, 100000);      /* warm the caches */
	for (int r = 0; r < BENCH_REPS; r++) {
		double t0 = now_ns();
		bench_insn_loop(kind, BENCH_ITERS);
		double ns = (now_ns() - t0) / (double)BENCH_ITERS;
		if (ns < best)
			best = ns;
	}
	return best;
}

static bool bench_kind_of(const char *name, enum bench_kind *kind)
{
	if (strcmp(name, "uma.pair") == 0)
		*kind = BENCH_UMA;
	else if (strcmp(name, "malloc.pair") == 0)
		*kind = BENCH_MALLOC;
	else if (strcmp(name, "glibc.pair") == 0)
		*kind = BENCH_GLIBC;
	else
		return false;
	return true;
}

static void bench_print(const char *name, double v, const char *ref, double rv)
{
	printf("BENCH name=%s value=%.2f unit=ns ref=%s refvalue=%.2f ratio=%.3f\n", name, v,
	    ref, rv, v / rv);
}

int main(int argc, char **argv)
{
	enum bench_kind kind;

	vm_host_boot_default();
	vm_host_set_cpu(0);
	bench_zone = uma_zcreate("bench-128", BENCH_SIZE, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);

	if (argc == 4 && strcmp(argv[1], "--insn") == 0) {
		char *end;
		long n = strtol(argv[3], &end, 10);
		if (!bench_kind_of(argv[2], &kind) || *end != '\0' || n <= 0) {
			fprintf(stderr, "bench_uma: --insn wants uma.pair|malloc.pair|glibc.pair "
			    "and a positive count, got '%s %s'\n", argv[2], argv[3]);
			return 64;
		}
		bench_insn_loop(kind, 1000);        /* warm-up, not collected */
		bench_insn_loop(kind, n);
		printf("bench_uma: ran %ld pairs of %s in bench_insn_loop\n", n, argv[2]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: bench_uma [--insn uma.pair|malloc.pair|glibc.pair N]\n");
		return 64;
	}
	double glibc = bench_time(BENCH_GLIBC);
	double uma = bench_time(BENCH_UMA);
	double km = bench_time(BENCH_MALLOC);
	bench_print("uma.pair", uma, "glibc.pair", glibc);
	bench_print("malloc.pair", km, "glibc.pair", glibc);
	return 0;
}
