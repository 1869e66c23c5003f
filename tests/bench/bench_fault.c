/*
 * vm_fault on the host build of the VM core (no sanitizers, no INVARIANTS).
 *
 *   bench_fault    prints BENCH lines (DESIGN.md format), ns per fault:
 *     fault.zero.ns   a first-touch write fault of a private anonymous page (zero-fill),
 *     fault.cow.ns    a write fault on a page that vmspace_fork made copy-on-write (the
 *                     4 KiB copy included here),
 *                     each beside page.pair: one vm_page_alloc_noobj(ZERO) + vm_page_free.
 *   bench_fault --insn OP N
 *                  N operations inside bench_insn_loop, for callgrind
 *                  (--toggle-collect=bench_insn_loop). scripts/bench.sh takes out of the count,
 *                  by callgrind's inclusive cost per function: vm_plat_zero_pages (the
 *                  platform's zeroing for the pre-zeroed pool: the VMM's work, one
 *                  exit per fill on the guest) and, for fault.cow, pmap_copy_page (the
 *                  goal excludes the copy: the memcpy and its two addresses, the
 *                  code inlined into the function included); by its self cost, bf_run (the loop around
 *                  the calls: the figure is vm_fault's, not the caller's; page.pair
 *                  loses its loop alike); and prints apart what the host mutexes'
 *                  out-of-line parts cost (their fast paths are inline, the guest's
 *                  shape, and counted in the figure as on the guest).
 *     fault.zero   N first-touch write faults, one page each
 *     fault.cow    N copy-on-write write faults (the parent's, after one vmspace_fork)
 *     page.pair    N vm_page_alloc_noobj(NORMAL | ZERO) + vm_page_free pairs
 *
 * The reference, page.pair: the cheapest thing a fault must at least do, take one page
 * from the allocator (and here give it back), counted the same way in the same run. The
 * host kernel's own page fault would be the natural comparison but callgrind cannot
 * count instructions inside the host kernel; fault.zero / page.pair says how much of a
 * fault is more than getting its page.
 *
 * The region is MADV_RANDOM, so fault-around and prefault stay off: one fault maps one
 * page. Its 1024 pages span two page tables: the first fault in each allocates the
 * table (2 in 1024: amortized into the figure). The vmspace is never activated (no CPU
 * has it loaded): no invalidation, as for a fresh mapping on the guest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/vm_host.h"
#include "vm/vm_fault.h"
#include "vm/vm_mmap.h"
#include "vm/vm_page.h"
#include "vm/vm_vmspace.h"

#define BF_MIN      0x10000000ul
#define BF_MAX      0x800000000000ul
#define BF_BASE     0x40000000ul    /* 1 GiB: 2 MiB-aligned, two page tables below */
#define BF_PAGES    1024            /* 4 MiB */
#define BF_REPS     21

enum bf_op { BF_ZERO, BF_COW, BF_PAIR };

struct bf_state {
	struct vmspace *vm, *child;
};

static double bf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bf_die(const char *what)
{
	fprintf(stderr, "bench_fault: %s\n", what);
	exit(71);
}

/* A vmspace with BF_PAGES of private anonymous memory at BF_BASE, MADV_RANDOM; for
 * fault.cow every page resident (zero-filled by faults) and the vmspace forked. */
static void bf_setup(struct bf_state *s, enum bf_op op)
{
	memset(s, 0, sizeof(*s));
	if (op == BF_PAIR)
		return;
	s->vm = vmspace_alloc(BF_MIN, BF_MAX);
	if (s->vm == NULL)
		bf_die("vmspace_alloc failed");
	struct vm_map *map = vmspace_map(s->vm);
	long a = vm_mmap(map, BF_BASE, ptoa(BF_PAGES), LINUX_PROT_READ | LINUX_PROT_WRITE,
	    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED);
	if (a != (long)BF_BASE || vm_madvise(map, BF_BASE, ptoa(BF_PAGES), LINUX_MADV_RANDOM) != 0)
		bf_die("mmap or madvise failed");
	if (op == BF_COW) {
		for (int i = 0; i < BF_PAGES; i++)
			if (vm_fault(map, BF_BASE + ptoa(i), VM_PROT_WRITE, 0) != VM_FAULT_OK)
				bf_die("populating fault failed");
		s->child = vmspace_fork(s->vm);
		if (s->child == NULL)
			bf_die("vmspace_fork failed");
	}
}

static void bf_teardown(struct bf_state *s)
{
	if (s->child != NULL)
		vmspace_free(s->child);
	if (s->vm != NULL)
		vmspace_free(s->vm);
}

/* n operations. */
static __attribute__((noinline)) void bf_run(struct bf_state *s, enum bf_op op, int n)
{
	switch (op) {
	case BF_ZERO:
	case BF_COW: {
		struct vm_map *map = vmspace_map(s->vm);
		for (int i = 0; i < n; i++)
			if (vm_fault(map, BF_BASE + ptoa(i), VM_PROT_WRITE, 0) != VM_FAULT_OK)
				bf_die("fault failed");
		break;
	}
	case BF_PAIR:
		for (int i = 0; i < n; i++)
			vm_page_free(vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_ZERO));
		break;
	}
}

/* The measured part (callgrind counts inside this function only): warm-ups call
 * bf_run directly. */
__attribute__((noinline)) void bench_insn_loop(struct bf_state *s, enum bf_op op, int n);
__attribute__((noinline)) void bench_insn_loop(struct bf_state *s, enum bf_op op, int n)
{
	bf_run(s, op, n);
}

/* ns per operation for one set-up of op (not counted by callgrind). */
static double bf_once(enum bf_op op)
{
	struct bf_state s;

	bf_setup(&s, op);
	double t0 = bf_now_ns();
	bf_run(&s, op, BF_PAGES);
	double t = bf_now_ns() - t0;
	bf_teardown(&s);
	return t / BF_PAGES;
}

static int bf_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bf_median(enum bf_op op)
{
	double t[BF_REPS];

	for (int i = 0; i < BF_REPS; i++)
		t[i] = bf_once(op);
	qsort(t, BF_REPS, sizeof(t[0]), bf_cmp);
	return t[BF_REPS / 2];
}

static bool bf_op_named(const char *name, enum bf_op *op)
{
	static const char *const names[] = { "fault.zero", "fault.cow", "page.pair" };

	for (int i = 0; i < 3; i++)
		if (strcmp(name, names[i]) == 0) {
			*op = (enum bf_op)i;
			return true;
		}
	return false;
}

int main(int argc, char **argv)
{
	enum bf_op op;

	vm_host_boot_default();
	vm_host_set_cpu(0);
	pmap_init();
	if (argc == 4 && strcmp(argv[1], "--insn") == 0 && bf_op_named(argv[2], &op)) {
		int n = atoi(argv[3]);
		if (n < 1 || n > BF_PAGES)
			bf_die("N must be 1..1024");
		/* Zones, caches and the allocator warm first, outside the counted function. */
		(void)bf_once(op);
		struct bf_state s;
		bf_setup(&s, op);
		bench_insn_loop(&s, op, n);
		bf_teardown(&s);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: bench_fault [--insn fault.zero|fault.cow|page.pair N]\n");
		return 64;
	}
	(void)bf_once(BF_ZERO);
	double zero = bf_median(BF_ZERO), cow = bf_median(BF_COW), pair = bf_median(BF_PAIR);
	printf("BENCH name=fault.zero.ns value=%.1f unit=ns ref=page.pair refvalue=%.1f "
	    "ratio=%.3f\n", zero, pair, zero / pair);
	printf("BENCH name=fault.cow.ns value=%.1f unit=ns ref=page.pair refvalue=%.1f "
	    "ratio=%.3f\n", cow, pair, cow / pair);
	return 0;
}
