/*
 * swap_meta (vm/swap_meta.h) against a model: random inserts (new and replacing),
 * removes, lookups, first-at-or-after and range removals over a universe of indexes that
 * mixes dense runs, sparse ones and keys near the top of the 64-bit space (deep splits
 * in the trie), checking every answer and the count; at the end every swblk and node is
 * gone. Then the clusters and the trie's node count by hand.
 */
#include <stdlib.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "vm/swap_meta.h"

#define UNIVERSE    1500

static vm_pindex_t uni[UNIVERSE];       /* sorted, distinct */
static uint64_t model[UNIVERSE];        /* block, or SWAPBLK_NONE */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return rng_state >> 33;
}

static int cmp_pindex(const void *a, const void *b)
{
	vm_pindex_t x = *(const vm_pindex_t *)a, y = *(const vm_pindex_t *)b;
	return x < y ? -1 : x > y;
}

static void make_universe(void)
{
	int n = 0;

	for (int i = 0; i < 600; i++)                   /* dense: 0 .. 599 */
		uni[n++] = (vm_pindex_t)i;
	for (int i = 0; i < 300; i++)                   /* sparse */
		uni[n++] = 1000 + (vm_pindex_t)i * 97;
	for (int i = 0; i < 300; i++)                   /* a far run */
		uni[n++] = (1ull << 40) + (vm_pindex_t)i;
	for (int i = 0; i < 299; i++)                   /* near the top */
		uni[n++] = UINT64_MAX - 1000 + (vm_pindex_t)i * 3;
	uni[n++] = UINT64_MAX;
	qsort(uni, UNIVERSE, sizeof(uni[0]), cmp_pindex);
	for (int i = 0; i < UNIVERSE; i++)
		model[i] = SWAPBLK_NONE;
}

static void setup(void)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
	swap_meta_zinit();
}

static uint64_t model_count(void)
{
	uint64_t n = 0;

	for (int i = 0; i < UNIVERSE; i++)
		n += model[i] != SWAPBLK_NONE;
	return n;
}

struct removed {
	vm_pindex_t p[UNIVERSE];
	uint64_t b[UNIVERSE];
	int n;
};

static void collect(void *arg, vm_pindex_t p, uint64_t b)
{
	struct removed *r = arg;

	ck_assert_int_lt(r->n, UNIVERSE);
	r->p[r->n] = p;
	r->b[r->n++] = b;
}

START_TEST(model_random)
{
	static struct removed rm;
	struct swap_meta sm = { 0 };

	make_universe();
	rng_state = 12345 + (uint64_t)_i;
	for (int step = 0; step < 20000; step++) {
		int i = (int)(rnd() % UNIVERSE), op = (int)(rnd() % 100);
		/* Mostly within a window, so that clusters fill and empty. */
		if (rnd() % 2)
			i = (int)(rnd() % 700);
		if (op < 45) {
			uint64_t blk = rnd() % 1000000, old;
			ck_assert_int_eq(swap_meta_insert(&sm, uni[i], blk, &old), 0);
			ck_assert_uint_eq(old, model[i]);
			model[i] = blk;
		} else if (op < 75) {
			ck_assert_uint_eq(swap_meta_remove(&sm, uni[i]), model[i]);
			model[i] = SWAPBLK_NONE;
		} else if (op < 90) {
			ck_assert_uint_eq(swap_meta_lookup(&sm, uni[i]), model[i]);
			/* An index outside the universe has nothing. */
			if (uni[i] > 0 && (i == 0 || uni[i - 1] != uni[i] - 1))
				ck_assert_uint_eq(swap_meta_lookup(&sm, uni[i] - 1), SWAPBLK_NONE);
		} else if (op < 97) {
			vm_pindex_t from = rnd() % 3 ? uni[i] : uni[i] - (uni[i] > 0);
			vm_pindex_t p;
			uint64_t b;
			int j = 0;
			while (j < UNIVERSE && (uni[j] < from || model[j] == SWAPBLK_NONE))
				j++;
			bool found = swap_meta_first(&sm, from, &p, &b);
			ck_assert(found == (j < UNIVERSE));
			if (found) {
				ck_assert_uint_eq(p, uni[j]);
				ck_assert_uint_eq(b, model[j]);
			}
		} else {
			int k = i + (int)(rnd() % 80);
			vm_pindex_t start = uni[i];
			vm_pindex_t end = k >= UNIVERSE || rnd() % 5 == 0 ? 0 : uni[k];
			rm.n = 0;
			uint64_t n = swap_meta_remove_range(&sm, start, end, collect, &rm);
			ck_assert_uint_eq(n, (uint64_t)rm.n);
			int r = 0;
			for (int j = 0; j < UNIVERSE; j++) {
				if (uni[j] < start || (end != 0 && uni[j] >= end) ||
				    model[j] == SWAPBLK_NONE)
					continue;
				ck_assert_int_lt(r, rm.n);
				ck_assert_uint_eq(rm.p[r], uni[j]);
				ck_assert_uint_eq(rm.b[r], model[j]);
				r++;
				model[j] = SWAPBLK_NONE;
			}
			ck_assert_int_eq(r, rm.n);
		}
		ck_assert_uint_eq(sm.sm_count, model_count());
		ck_assert(swap_meta_empty(&sm) == (sm.sm_count == 0));
		ck_assert((sm.sm_root == 0) == (sm.sm_count == 0));
	}
	swap_meta_remove_range(&sm, 0, 0, NULL, NULL);
	ck_assert(swap_meta_empty(&sm) && sm.sm_root == 0);
	ck_assert_int_eq(swap_meta_nswblks(), 0);
	ck_assert_int_eq(swap_meta_nnodes(), 0);
	swap_meta_zfini();
}
END_TEST

/* One swblk per cluster of SWAP_META_PAGES indexes, freed with its last block; at most
 * one node fewer than swblks. */
START_TEST(clusters_and_nodes)
{
	struct swap_meta sm = { 0 };
	uint64_t old;

	for (vm_pindex_t p = 0; p < 4 * SWAP_META_PAGES; p++)
		ck_assert_int_eq(swap_meta_insert(&sm, p, 1000 + p, &old), 0);
	ck_assert_int_eq(swap_meta_nswblks(), 4);
	ck_assert_int_le(swap_meta_nnodes(), 3);
	ck_assert_uint_eq(sm.sm_count, 4 * SWAP_META_PAGES);
	/* Replacing keeps the count. */
	ck_assert_int_eq(swap_meta_insert(&sm, 5, 77, &old), 0);
	ck_assert_uint_eq(old, 1005);
	ck_assert_uint_eq(sm.sm_count, 4 * SWAP_META_PAGES);
	/* Emptying the second cluster frees its swblk. */
	for (vm_pindex_t p = SWAP_META_PAGES; p < 2 * SWAP_META_PAGES; p++)
		ck_assert_uint_eq(swap_meta_remove(&sm, p), 1000 + p);
	ck_assert_int_eq(swap_meta_nswblks(), 3);
	ck_assert_uint_eq(swap_meta_remove(&sm, SWAP_META_PAGES), SWAPBLK_NONE);
	vm_pindex_t p;
	uint64_t b;
	ck_assert(swap_meta_first(&sm, SWAP_META_PAGES, &p, &b));
	ck_assert_uint_eq(p, 2 * SWAP_META_PAGES);
	ck_assert_uint_eq(b, 1000 + 2 * SWAP_META_PAGES);
	/* A range from the middle of one cluster to the middle of another. */
	ck_assert_uint_eq(swap_meta_remove_range(&sm, 10, 3 * SWAP_META_PAGES + 3, NULL, NULL),
	    (SWAP_META_PAGES - 10) + SWAP_META_PAGES + 3);
	ck_assert_uint_eq(swap_meta_lookup(&sm, 9), 1009);
	ck_assert_uint_eq(swap_meta_lookup(&sm, 3 * SWAP_META_PAGES + 3),
	    1000 + 3 * SWAP_META_PAGES + 3);
	ck_assert_int_eq(swap_meta_nswblks(), 2);
	swap_meta_remove_range(&sm, 0, 0, NULL, NULL);
	ck_assert_int_eq(swap_meta_nswblks(), 0);
	ck_assert_int_eq(swap_meta_nnodes(), 0);
	swap_meta_zfini();
}
END_TEST

static Suite *swap_meta_suite(void)
{
	Suite *s = suite_create("swap_meta");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, model_random, 0, 4);
	tcase_add_test(tc, clusters_and_nodes);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(swap_meta_suite);
