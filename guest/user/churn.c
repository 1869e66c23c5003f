/*
 * churn [MAPPINGS] [OPS]: many small mappings. Maps MAPPINGS (default 10,000) anonymous
 * mappings of 1 to 4 pages, stamps each page, then OPS times (default 20,000) picks one
 * at random, checks it, unmaps it and maps a new one of another size in its place.
 * Every mapping is checked again at the end: each page holds its own stamp and zeros
 * elsewhere, so a page given to two mappings, lost, or not zero-filled is caught.
 * Prints the time per operation (one munmap, one mmap, its first touches).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "churn";

#define CHURN_MAX       100000
#define CHURN_PAGES_MAX 4

struct churn_map {
	uint64_t *cm_base;
	unsigned cm_pages;
	uint64_t cm_stamp;      /* unique to this mapping, for its whole life */
};

static struct churn_map churn_maps[CHURN_MAX];
static uint64_t churn_next_stamp = 1;

/* The stamp goes in the first and the last word of each page; the rest stays zero. */
static void churn_make(struct churn_map *cm, uint64_t *rng)
{
	unsigned pages = 1 + (unsigned)(wl_rand(rng) % CHURN_PAGES_MAX);
	void *p = mmap(NULL, pages * WL_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_fail("mmap of %u pages after %lu mmaps: %s", pages,
		    (unsigned long)(churn_next_stamp - 1), strerror(errno));
	cm->cm_base = p;
	cm->cm_pages = pages;
	cm->cm_stamp = churn_next_stamp++ << 8;
	for (unsigned pg = 0; pg < pages; pg++) {
		uint64_t *w = cm->cm_base + pg * (WL_PAGE / 8);
		w[0] = cm->cm_stamp | pg;
		w[WL_PAGE / 8 - 1] = ~(cm->cm_stamp | pg);
	}
}

static void churn_check(const struct churn_map *cm, size_t slot)
{
	for (unsigned pg = 0; pg < cm->cm_pages; pg++) {
		const volatile uint64_t *w = cm->cm_base + pg * (WL_PAGE / 8);
		if (w[0] != (cm->cm_stamp | pg) || w[WL_PAGE / 8 - 1] != ~(cm->cm_stamp | pg))
			wl_fail("mapping %zu (%p, stamp 0x%llx) page %u holds stamps 0x%llx, "
			    "0x%llx", slot, (void *)cm->cm_base,
			    (unsigned long long)cm->cm_stamp, pg, (unsigned long long)w[0],
			    (unsigned long long)~w[WL_PAGE / 8 - 1]);
		for (size_t i = 1; i < WL_PAGE / 8 - 1; i++)
			if (w[i] != 0)
				wl_fail("mapping %zu page %u word %zu is 0x%llx, not zero", slot, pg,
				    i, (unsigned long long)w[i]);
	}
}

static void churn_unmap(struct churn_map *cm)
{
	if (munmap(cm->cm_base, cm->cm_pages * WL_PAGE) != 0)
		wl_fail("munmap %p: %s", (void *)cm->cm_base, strerror(errno));
	cm->cm_base = NULL;
}

int main(int argc, char **argv)
{
	size_t n = wl_arg_ulong(argc, argv, 1, "MAPPINGS", 1, CHURN_MAX, 10000);
	unsigned long ops = wl_arg_ulong(argc, argv, 2, "OPS", 0, 100000000, 20000);
	uint64_t rng = 0x13198a2e03707344ull;

	if (argc > 3)
		wl_fail("usage: churn [MAPPINGS] [OPS]");
	double t0 = wl_now_us();
	for (size_t i = 0; i < n; i++)
		churn_make(&churn_maps[i], &rng);
	double map_us = wl_now_us() - t0;
	for (size_t i = 0; i < n; i++)
		churn_check(&churn_maps[i], i);

	t0 = wl_now_us();
	for (unsigned long op = 0; op < ops; op++) {
		size_t slot = (size_t)(wl_rand(&rng) % n);
		churn_check(&churn_maps[slot], slot);
		churn_unmap(&churn_maps[slot]);
		churn_make(&churn_maps[slot], &rng);
	}
	double churn_us = wl_now_us() - t0;

	for (size_t i = 0; i < n; i++)
		churn_check(&churn_maps[i], i);
	for (size_t i = 0; i < n; i++)
		churn_unmap(&churn_maps[i]);
	wl_say("mappings=%zu ops=%lu map_us_per_mapping=%.2f churn_us_per_op=%.2f", n, ops,
	    map_us / (double)n, ops > 0 ? churn_us / (double)ops : 0.0);
	return 0;
}
