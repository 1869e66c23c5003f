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

static Suite *radix_suite(void)
{
	Suite *s = suite_create("vm_radix");
	TCase *tc = tcase_create("radix");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, model_seeds, 0, 6);
	tcase_add_test(tc, edges);
	tcase_add_test(tc, dense);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(radix_suite);
