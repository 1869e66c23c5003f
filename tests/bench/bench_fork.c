/*
 * vmspace_fork on the host build of the VM core (no sanitizers).
 *
 *   bench_fork     prints the BENCH line (DESIGN.md format):
 *     fork.ns.per.page   ns per resident page for vmspace_fork of a 16 MiB private
 *                        anonymous region, every page resident and mapped writable (the
 *                        pages are put in the object and pmap_entered directly: faults
 *                        are vm_fault's), against the same fork of an empty map.
 *   bench_fork --insn fork.16m N | fork.empty N
 *                  one fork (N is the number it is divided by: the region's pages, or
 *                  1), inside bench_insn_loop for callgrind (scripts/bench.sh prints
 *                  fork.insn.per.page from it; goal: at most 40).
 *
 * What a fork costs per page is the parent's write-protection: one pmap_protect over
 * the entry; the child's pmap starts empty, and no page is copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/vm_host.h"
#include "tests/vmtests/vmspace_util.h"

#define BF_MIN      0x10000000ul
#define BF_MAX      0x800000000000ul
#define BF_PAGES    4096            /* 16 MiB */
#define BF_REPS     21

static double bf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The parent: a 16 MiB resident region (npages 0: an empty map). */
static struct vmspace *bf_parent(int npages)
{
	struct vmspace *vm = vmspace_alloc(BF_MIN, BF_MAX);

	if (vm == NULL || (npages > 0 &&
	    vmspace_util_populate(vm, BF_MIN, npages, VM_PROT_READ | VM_PROT_WRITE, 0, NULL) != 0)) {
		fprintf(stderr, "bench_fork: cannot set up a parent of %d pages\n", npages);
		exit(71);
	}
	return vm;
}

/* The measured part: the fork alone (callgrind counts inside this function). */
__attribute__((noinline)) struct vmspace *bench_insn_loop(struct vmspace *parent);
__attribute__((noinline)) struct vmspace *bench_insn_loop(struct vmspace *parent)
{
	return vmspace_fork(parent);
}

/* One fork of a fresh parent: ns of the fork. Each rep needs a writable parent again. */
static double bf_once(int npages)
{
	struct vmspace *parent = bf_parent(npages), *child;
	double t0 = bf_now_ns(), t;

	child = bench_insn_loop(parent);
	t = bf_now_ns() - t0;
	if (child == NULL) {
		fprintf(stderr, "bench_fork: vmspace_fork failed\n");
		exit(71);
	}
	vmspace_free(child);
	vmspace_free(parent);
	return t;
}

static int bf_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bf_median(int npages)
{
	double t[BF_REPS];

	for (int i = 0; i < BF_REPS; i++)
		t[i] = bf_once(npages);
	qsort(t, BF_REPS, sizeof(t[0]), bf_cmp);
	return t[BF_REPS / 2];
}

int main(int argc, char **argv)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
	pmap_init();
	if (argc == 4 && strcmp(argv[1], "--insn") == 0) {
		int npages = strcmp(argv[2], "fork.empty") == 0 ? 0 : BF_PAGES;
		/* Zones and caches warm first, outside the counted function. */
		struct vmspace *parent = bf_parent(npages);
		vmspace_free(vmspace_fork(parent));
		vmspace_free(parent);
		(void)bf_once(npages);
		return 0;
	}
	(void)bf_once(BF_PAGES);
	double full = bf_median(BF_PAGES), empty = bf_median(0);
	printf("BENCH name=fork.ns.per.page value=%.2f unit=ns ref=fork.empty refvalue=%.0f "
	    "ratio=%.3f\n", full / BF_PAGES, empty, full / empty);
	return 0;
}
