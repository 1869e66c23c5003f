/*
 * The page daemon and the laundry on the host build of the VM core (no sanitizers, no
 * INVARIANTS): what paging a page out costs them, pager aside.
 *
 *   bench_pageout  prints BENCH lines (DESIGN.md format):
 *     pageout.ns   ns per page from the inactive queue to free (below), beside
 *                  page.pair: one vm_page_alloc_noobj(ZERO) + vm_page_free.
 *   bench_pageout --insn OP N
 *                  OP over N pages inside bench_insn_loop, for callgrind
 *                  (--toggle-collect=bench_insn_loop; scripts/bench.sh divides by N):
 *     pageout      N dirty anonymous pages, mapped and on the inactive queue, paged
 *                  out: the inactive scan sends them to the laundry, the laundry
 *                  unmaps them and hands them to the pager in clustered runs, the next
 *                  inactive scan frees them (passes until every page is free)
 *     swapout      the same through the real swap pager (vm/swap_pager.c) on an
 *                  in-memory device (tests/support/swap_memdev.c, ending each request
 *                  inside its strategy call): swap.out.insn, once the device's page
 *                  copies (its "DMA") are taken out
 *     page.pair    N vm_page_alloc_noobj(NORMAL | ZERO) + vm_page_free pairs
 *
 * The pager is a stand-in for swap as vm_pager_anon that does no I/O: it ends each
 * write at once as vm_pager.h's putpages contract says (VM_PAGER_OK, the page clean and
 * unbusied) and records the page's index, so that pgo_haspage says the copy is there
 * and the daemon may free the page. The figure is so the daemon's and the laundry's
 * work alone (issue 9's goal for swap.out.insn, 120 a page, includes the swap pager
 * and its driver as well).
 *
 * The pages are N write faults' (bench_fault.c's region, without MADV_RANDOM: they
 * come in fault-around runs, mapped dirty as a program's writes leave them), then aged
 * down to the inactive queue by two active scans (the first clears the accessed bits
 * the faults set), outside the count. Memory is short while they go (the free target
 * above the free count), as it is whenever the daemon pages out for real: a write's
 * completion frees its pages (vm_pageout_written) with no second scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/swap_memdev.h"
#include "tests/support/vm_host.h"
#include "vm/swap_pager.h"
#include "vm/vm_fault.h"
#include "vm/vm_mmap.h"
#include "vm/vm_object.h"
#include "vm/vm_page.h"
#include "vm/vm_pageout.h"
#include "vm/vm_pagequeue.h"
#include "vm/vm_pager.h"
#include "vm/vm_vmspace.h"

#define BP_MIN      0x10000000ul
#define BP_MAX      0x800000000000ul
#define BP_BASE     0x40000000ul    /* 1 GiB: 2 MiB-aligned */
#define BP_PAGES    1024            /* 4 MiB */
#define BP_REPS     21
#define BP_PASSES   8               /* more than paging out takes: a bug, not slowness */

enum bp_op { BP_PAGEOUT, BP_SWAPOUT, BP_PAIR };

/* The pager's record: which indexes of its one object have a copy. */
static struct {
	struct vm_object *bpp_obj;
	bool bpp_has[BP_PAGES];
	uint64_t bpp_written;
} bp_pager_state;

static void bp_die(const char *what)
{
	fprintf(stderr, "bench_pageout: %s\n", what);
	exit(71);
}

/* Each page written at once: clean, unbusied, left on its queue for the daemon. */
static void bp_putpages(struct vm_object *obj, vm_page_t *ma, int count, int flags,
    int *rtvals)
{
	for (int i = 0; i < count; i++) {
		if (obj != bp_pager_state.bpp_obj || ma[i]->pindex >= BP_PAGES)
			bp_die("putpages: a page of another object");
		bp_pager_state.bpp_has[ma[i]->pindex] = true;
		ma[i]->dirty = 0;
		if ((flags & VM_PAGER_PUT_RECLAIM) == 0)
			vm_page_xunbusy(ma[i]);
		rtvals[i] = VM_PAGER_OK;
	}
	bp_pager_state.bpp_written += (uint64_t)count;
	/* As the swap pager's completion does. */
	if ((flags & VM_PAGER_PUT_RECLAIM) != 0)
		vm_pageout_written(obj, ma, count);
}

static bool bp_haspage(struct vm_object *obj, vm_pindex_t pindex, int *before, int *after)
{
	if (before != NULL)
		*before = 0;
	if (after != NULL)
		*after = 0;
	return obj == bp_pager_state.bpp_obj && pindex < BP_PAGES &&
	    bp_pager_state.bpp_has[pindex];
}

static const struct vm_pager_ops bp_pager = {
	.pgo_name = "bench-null", .pgo_putpages = bp_putpages, .pgo_haspage = bp_haspage,
};

struct bp_state {
	struct vmspace *vm;
	uint64_t freed0;
	struct vm_pageout_targets tgt0;
	struct swap_memdev *md;         /* BP_SWAPOUT's device */
};

static double bp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t bp_freed(void)
{
	struct vm_pageout_stats s;

	vm_pageout_stats(&s);
	return s.ps_freed;
}

/* n pages written by faults and aged down to the inactive queue; the pager set. */
static void bp_setup(struct bp_state *s, enum bp_op op, int n)
{
	memset(s, 0, sizeof(*s));
	if (op == BP_PAIR)
		return;
	s->vm = vmspace_alloc(BP_MIN, BP_MAX);
	if (s->vm == NULL)
		bp_die("vmspace_alloc failed");
	struct vm_map *map = vmspace_map(s->vm);
	long a = vm_mmap(map, BP_BASE, ptoa(n), LINUX_PROT_READ | LINUX_PROT_WRITE,
	    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED);
	if (a != (long)BP_BASE)
		bp_die("mmap failed");
	for (int i = 0; i < n; i++)
		if (vm_fault(map, BP_BASE + ptoa(i), VM_PROT_WRITE, 0) != VM_FAULT_OK)
			bp_die("populating fault failed");
	/* The region's object: the one object on the active queue holding our pages. */
	vm_pqbatch_flush_all();
	struct vm_pagequeue *pq = &vm_pagequeues[PQ_ACTIVE];
	vm_pagequeue_lock(pq);
	vm_page_t m = vm_pagequeue_first(pq);
	bp_pager_state.bpp_obj = m != NULL ? m->object : NULL;
	vm_pagequeue_unlock(pq);
	if (bp_pager_state.bpp_obj == NULL ||
	    bp_pager_state.bpp_obj->vo_resident_page_count != (uint64_t)n)
		bp_die("the faults left no object of n pages");
	memset(bp_pager_state.bpp_has, 0, sizeof(bp_pager_state.bpp_has));
	bp_pager_state.bpp_written = 0;
	if (op == BP_SWAPOUT) {
		struct swap_memdev_config cfg = { .nblocks = 2 * BP_PAGES,
		    .maxpages = SWAP_PAGER_MAXRUN, .mode = SMD_SYNC };
		if ((s->md = swap_memdev_create(&cfg)) == NULL ||
		    swap_pager_attach(swap_memdev_dev(s->md)) != 0)
			bp_die("no swap device");
	} else
		vm_pager_anon = &bp_pager;
	uint64_t act = vm_pagequeues[PQ_ACTIVE].pq_cnt;
	(void)vm_pageout_scan_active(act, act);     /* accessed bits cleared: requeued */
	(void)vm_pageout_scan_active(act, act);     /* now inactive */
	if (vm_pagequeues[PQ_INACTIVE].pq_cnt < (uint64_t)n)
		bp_die("the pages did not age down to the inactive queue");
	vm_pageout_get_targets(&s->tgt0);
	struct vm_pageout_targets t = s->tgt0;
	t.free_target = vm_page_free_count() + 2 * (uint64_t)n;
	t.inactive_target = MAX(t.inactive_target, t.free_target);
	vm_pageout_set_targets(&t);
	s->freed0 = bp_freed();
}

static void bp_teardown(struct bp_state *s)
{
	if (s->vm != NULL)
		vm_pageout_set_targets(&s->tgt0);
	if (s->vm != NULL) {
		if (bp_pager_state.bpp_obj->vo_resident_page_count != 0)
			bp_die("pages were left resident");
		vmspace_free(s->vm);
	}
	if (s->md != NULL) {
		/* Nothing is on swap once the region is gone: swapoff only detaches. */
		if (swap_pager_swapoff() != 0)
			bp_die("swapoff failed");
		swap_memdev_destroy(s->md);
	}
	vm_pager_anon = NULL;
	bp_pager_state.bpp_obj = NULL;
}

/* Page the n pages out: inactive scan, laundry, inactive scan, as often as it takes. */
static __attribute__((noinline)) void bp_run(struct bp_state *s, enum bp_op op, int n)
{
	switch (op) {
	case BP_PAGEOUT:
	case BP_SWAPOUT: {
		int pass = 0;
		while (bp_freed() - s->freed0 < (uint64_t)n) {
			if (++pass > BP_PASSES)
				bp_die("the pages are not out after 8 passes");
			uint64_t inact = vm_pagequeues[PQ_INACTIVE].pq_cnt;
			(void)vm_pageout_scan_inactive(inact, inact);
			uint64_t laundry = vm_pagequeues[PQ_LAUNDRY].pq_cnt;
			if (laundry > 0)
				(void)vm_pageout_launder(laundry, laundry);
		}
		if (op == BP_SWAPOUT) {
			struct swap_memdev_stats st;
			swap_memdev_stats(s->md, &st);
			if (st.smd_pages_written != (uint64_t)n)
				bp_die("the swap pager did not write each page once");
		} else if (bp_pager_state.bpp_written != (uint64_t)n)
			bp_die("the pager did not write each page once");
		break;
	}
	case BP_PAIR:
		for (int i = 0; i < n; i++)
			vm_page_free(vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_ZERO));
		break;
	}
}

/* The measured part (callgrind counts inside this function only). */
__attribute__((noinline)) void bench_insn_loop(struct bp_state *s, enum bp_op op, int n);
__attribute__((noinline)) void bench_insn_loop(struct bp_state *s, enum bp_op op, int n)
{
	bp_run(s, op, n);
}

/* ns per page for one set-up of op (not counted by callgrind). */
static double bp_once(enum bp_op op, int n)
{
	struct bp_state s;

	bp_setup(&s, op, n);
	double t0 = bp_now_ns();
	bp_run(&s, op, n);
	double t = bp_now_ns() - t0;
	bp_teardown(&s);
	return t / n;
}

static int bp_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bp_median(enum bp_op op)
{
	double t[BP_REPS];

	for (int i = 0; i < BP_REPS; i++)
		t[i] = bp_once(op, BP_PAGES);
	qsort(t, BP_REPS, sizeof(t[0]), bp_cmp);
	return t[BP_REPS / 2];
}

int main(int argc, char **argv)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
	pmap_init();
	if (argc == 4 && strcmp(argv[1], "--insn") == 0) {
		enum bp_op op;
		if (strcmp(argv[2], "pageout") == 0)
			op = BP_PAGEOUT;
		else if (strcmp(argv[2], "swapout") == 0)
			op = BP_SWAPOUT;
		else if (strcmp(argv[2], "page.pair") == 0)
			op = BP_PAIR;
		else
			bp_die("OP: pageout, swapout or page.pair");
		int n = atoi(argv[3]);
		/* The whole region is paged out: its size is N. */
		if (n != BP_PAGES && op != BP_PAIR)
			bp_die("pageout, swapout: N must be 1024");
		if (n < 1 || n > BP_PAGES)
			bp_die("N must be 1..1024");
		/* Zones, caches and the allocator warm first, outside the counted function. */
		(void)bp_once(op, n);
		struct bp_state s;
		bp_setup(&s, op, n);
		bench_insn_loop(&s, op, n);
		bp_teardown(&s);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: bench_pageout [--insn pageout|swapout|page.pair N]\n");
		return 64;
	}
	(void)bp_once(BP_PAGEOUT, BP_PAGES);
	double po = bp_median(BP_PAGEOUT), pair = bp_median(BP_PAIR);
	printf("BENCH name=pageout.ns value=%.1f unit=ns ref=page.pair refvalue=%.1f "
	    "ratio=%.3f\n", po, pair, po / pair);
	return 0;
}
