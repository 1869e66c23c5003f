/*
 * vm_radix on the host: the brute-force model (tests/vmtests/radix_model.h) over many
 * seeds, and the trie's edge cases one by one.
 */
#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "tests/vmtests/radix_model.h"
#include "vm/vm_radix.h"

static void setup(void)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
}

START_TEST(model_seeds)
{
	char err[256];
	const char *why = vmt_radix_model_run((uint64_t)_i + 100, 6000, err, sizeof(err));

	ck_assert_msg(why == NULL, "seed %d: %s", _i + 100, why);
	ck_assert_int_eq(vm_radix_nodes_allocated(), 0);
}
END_TEST

/* Keys that differ only in the top digit, then in the bottom one: the deepest and the
 * shallowest split, and a node replaced by its last child on removal. */
START_TEST(edges)
{
	static struct vm_page p[4];
	struct vm_radix rt;

	p[0].pindex = 0;
	p[1].pindex = UINT64_C(1) << 63;
	p[2].pindex = 1;
	p[3].pindex = UINT64_MAX;
	vm_radix_init(&rt);
	ck_assert(vm_radix_lookup_ge(&rt, 0) == NULL && vm_radix_lookup_le(&rt, UINT64_MAX) == NULL);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(vm_radix_insert(&rt, &p[i]), 0);
	ck_assert_int_eq(vm_radix_insert(&rt, &p[2]), EEXIST);
	ck_assert_int_eq(vm_radix_nodes_allocated(), 2);  /* top digit: 0, 8, 15; digit 0 under 0 */
	ck_assert(vm_radix_lookup_ge(&rt, 2) == &p[1]);
	ck_assert(vm_radix_lookup_le(&rt, (UINT64_C(1) << 63) - 1) == &p[2]);
	ck_assert(vm_radix_lookup_ge(&rt, UINT64_MAX) == &p[3]);
	ck_assert(vm_radix_lookup_le(&rt, 0) == &p[0]);
	static struct vm_page q = { .pindex = 1 };
	ck_assert(vm_radix_replace(&rt, &q) == &p[2]);
	ck_assert(vm_radix_lookup(&rt, 1) == &q);
	ck_assert(vm_radix_remove(&rt, 0) == &p[0]);
	ck_assert(vm_radix_remove(&rt, 0) == NULL);
	ck_assert(vm_radix_remove(&rt, 1) == &q);
	ck_assert_int_eq(vm_radix_nodes_allocated(), 1);
	ck_assert(vm_radix_iter_next(&rt, NULL) == &p[1]);
	ck_assert(vm_radix_iter_next(&rt, &p[1]) == &p[3]);
	ck_assert(vm_radix_iter_next(&rt, &p[3]) == NULL);
	ck_assert(vm_radix_remove(&rt, UINT64_MAX) == &p[3]);
	ck_assert_int_eq(vm_radix_nodes_allocated(), 0);
	ck_assert(vm_radix_lookup(&rt, UINT64_C(1) << 63) == &p[1]);
	ck_assert(vm_radix_remove(&rt, UINT64_C(1) << 63) == &p[1]);
	ck_assert(vm_radix_is_empty(&rt));
	vm_radix_fini(&rt);
}
END_TEST

/* A dense run of 4096 pages: about one node per 16 pages, every lookup found. */
START_TEST(dense)
{
	enum { N = 4096 };
	static struct vm_page p[N];
	struct vm_radix rt;

	vm_radix_init(&rt);
	for (int i = 0; i < N; i++) {
		p[i].pindex = (vm_pindex_t)i;
		ck_assert_int_eq(vm_radix_insert(&rt, &p[i]), 0);
	}
	ck_assert_int_le(vm_radix_nodes_allocated(), N / 16 + N / 256 + N / 4096 + 1);
	for (int i = 0; i < N; i++)
		ck_assert(vm_radix_lookup(&rt, (vm_pindex_t)i) == &p[i]);
	vm_radix_reclaim_allnodes(&rt);
	vm_radix_fini(&rt);
	ck_assert_int_eq(vm_radix_nodes_allocated(), 0);
}
END_TEST

/* vm_radix_lookup_miss then insert from the slot it remembered: every shape a walk can
 * stop at (the empty root, a root leaf, an empty slot in a node, a leaf of another key,
 * a node the key is not under), and the slot forgotten when the trie changes between
 * the miss and the insert (a removal that frees the node, another key's insert). Each
 * step checked against a list of the keys present. */
START_TEST(miss_then_insert)
{
	enum { N = 512 };
	static struct vm_page p[N];
	static bool in[N];
	struct vm_radix rt;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	vm_radix_init(&rt);
	for (int i = 0; i < N; i++) {
		/* Clusters near 0, near 1 << 40 and a few in the top digit. */
		p[i].pindex = (vm_pindex_t)(i % 3 == 0 ? (uint64_t)i * 7 : i % 3 == 1 ?
		    (UINT64_C(1) << 40) + (uint64_t)i : UINT64_MAX - (uint64_t)i * 977);
		in[i] = false;
	}
	for (int step = 0; step < 20000; step++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int i = (int)(x % N), j = (int)((x >> 20) % N), what = (int)((x >> 40) % 8);
		vm_page_t m = vm_radix_lookup_miss(&rt, p[i].pindex);
		ck_assert(m == (in[i] ? &p[i] : NULL));
		if (in[i]) {
			ck_assert(vm_radix_remove(&rt, p[i].pindex) == &p[i]);
			in[i] = false;
			continue;
		}
		/* Between the miss and its insert: sometimes another change. */
		if (what == 0 && in[j]) {
			ck_assert(vm_radix_remove(&rt, p[j].pindex) == &p[j]);
			in[j] = false;
		} else if (what == 1 && !in[j] && j != i) {
			ck_assert_int_eq(vm_radix_insert(&rt, &p[j]), 0);
			in[j] = true;
		}
		ck_assert_int_eq(vm_radix_insert(&rt, &p[i]), 0);
		in[i] = true;
		if (step % 64 == 0)
			for (int k = 0; k < N; k++)
				ck_assert(vm_radix_lookup(&rt, p[k].pindex) == (in[k] ? &p[k] : NULL));
	}
	for (int k = 0; k < N; k++)
		if (in[k])
			ck_assert(vm_radix_remove(&rt, p[k].pindex) == &p[k]);
	ck_assert(vm_radix_is_empty(&rt));
	ck_assert_int_eq(vm_radix_nodes_allocated(), 0);
	vm_radix_fini(&rt);
}
END_TEST

/* vm_radix_lookup_slot then the insert it prepares (the fault's pair): where it gives a
 * slot, the slot is the key's own (an insert into it makes the key found and leaves
 * every other key as it was) and a following vm_radix_insert_hinted finds nothing to
 * reuse (the slot was handed out, not remembered, or forgotten by the insert); where it
 * gives none (a split or a node in the way), vm_radix_insert does the job. Sequential,
 * strided and scattered keys, so that every branch (the hint's empty slot, its leaf of
 * another key, the walk) is taken; every branch is counted to prove it. */
START_TEST(lookup_slot_then_insert)
{
	enum { N = 600 };
	static struct vm_page p[N];
	static bool in[N];
	struct vm_radix rt;
	int slots = 0, none = 0, found = 0;

	vm_radix_init(&rt);
	for (int i = 0; i < N; i++) {
		uint64_t k = (uint64_t)i;
		p[i].pindex = (vm_pindex_t)(i < 300 ? k : i < 450 ?
		    (UINT64_C(1) << 20) + k * 5 : k * 0x10001ull * 977);
		in[i] = false;
	}
	/* In order; then all removed, scattered; then all in again, scattered. */
	for (int round = 0; round < 3; round++)
		for (int k = 0; k < N; k++) {
			int i = round == 0 ? k : (k * 7) % N;
			vm_pindex_t key = p[i].pindex;
			uintptr_t *slot = (uintptr_t *)1;
			uint16_t *count = (uint16_t *)1;
			vm_page_t m = vm_radix_lookup_slot(&rt, key, &slot, &count);
			if (in[i]) {
				ck_assert(m == &p[i]);
				ck_assert_ptr_null(slot);
				found++;
				if (round == 1) {
					ck_assert(vm_radix_remove(&rt, key) == &p[i]);
					in[i] = false;
				}
				continue;
			}
			ck_assert_ptr_null(m);
			if (slot != NULL) {
				ck_assert(*slot == 0);
				vm_radix_insert_slot(&rt, slot, count, &p[i]);
				ck_assert(!vm_radix_insert_hinted(&rt, &p[i]));
				slots++;
			} else {
				ck_assert_int_eq(vm_radix_insert(&rt, &p[i]), 0);
				none++;
			}
			in[i] = true;
			if (k % 32 == 0)
				for (int j = 0; j < N; j++)
					ck_assert(vm_radix_lookup(&rt, p[j].pindex) ==
					    (in[j] ? &p[j] : NULL));
		}
	ck_assert_int_gt(slots, N / 2);
	ck_assert_int_gt(none, 10);
	ck_assert_int_gt(found, 10);
	for (int j = 0; j < N; j++)
		if (in[j])
			ck_assert(vm_radix_remove(&rt, p[j].pindex) == &p[j]);
	ck_assert(vm_radix_is_empty(&rt));
	ck_assert_int_eq(vm_radix_nodes_allocated(), 0);
	vm_radix_fini(&rt);
}
END_TEST

/* The lookup hint (rt_hint, the deepest node the last miss went through): the node it
 * names freed by removals, its memory handed out again as another node elsewhere, then
 * lookups under the old node's prefix and elsewhere must still find exactly what is in
 * the trie (a stale hint would start them in the wrong subtree). */
START_TEST(hint_node_freed)
{
	enum { N = 256, M = 64 };
	static struct vm_page p[N], q[M];
	struct vm_radix rt;

	vm_radix_init(&rt);
	for (int i = 0; i < N; i++) {
		p[i].pindex = (vm_pindex_t)i;
		ck_assert_int_eq(vm_radix_insert(&rt, &p[i]), 0);
	}
	/* The hint: the node over keys 0..15. */
	ck_assert(vm_radix_lookup_miss(&rt, 5) == &p[5]);
	/* All of 0..15 but 15 go: that node is freed (its last child takes its place). */
	for (int i = 0; i < 15; i++)
		ck_assert(vm_radix_remove(&rt, (vm_pindex_t)i) == &p[i]);
	/* New nodes far away: UMA hands the freed node's memory out again. */
	for (int i = 0; i < M; i++) {
		q[i].pindex = (vm_pindex_t)(UINT64_C(1) << 32) + (vm_pindex_t)i * 3;
		ck_assert_ptr_null(vm_radix_lookup_miss(&rt, q[i].pindex));
		ck_assert_int_eq(vm_radix_insert(&rt, &q[i]), 0);
	}
	for (int i = 0; i < 15; i++)
		ck_assert_ptr_null(vm_radix_lookup_miss(&rt, (vm_pindex_t)i));
	for (int i = 15; i < N; i++)
		ck_assert(vm_radix_lookup_miss(&rt, (vm_pindex_t)i) == &p[i]);
	for (int i = 0; i < M; i++)
		ck_assert(vm_radix_lookup_miss(&rt, q[i].pindex) == &q[i]);
	/* And a miss then insert back under the old prefix. */
	ck_assert_ptr_null(vm_radix_lookup_miss(&rt, 7));
	ck_assert_int_eq(vm_radix_insert(&rt, &p[7]), 0);
	ck_assert(vm_radix_lookup(&rt, 7) == &p[7]);
	ck_assert(vm_radix_lookup(&rt, 15) == &p[15]);
	vm_radix_reclaim_allnodes(&rt);
	ck_assert_ptr_null(vm_radix_lookup_miss(&rt, 7));
	vm_radix_fini(&rt);
	ck_assert_int_eq(vm_radix_nodes_allocated(), 0);
}
END_TEST

static Suite *radix_suite(void)
{
	Suite *s = suite_create("vm_radix");
	TCase *tc = tcase_create("radix");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, model_seeds, 0, 6);
	tcase_add_test(tc, edges);
	tcase_add_test(tc, dense);
	tcase_add_test(tc, miss_then_insert);
	tcase_add_test(tc, lookup_slot_then_insert);
	tcase_add_test(tc, hint_node_freed);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(radix_suite);
