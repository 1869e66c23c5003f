/*
 * kmalloc and contigmalloc on the host only: per-CPU type counters under threads, and
 * contigmalloc on a machine small enough that UMA's caches stand in the way. The checks
 * that hold on any VM core are in tests/vmtests/malloc_tests.c.
 */
#include <pthread.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "vm/malloc.h"
#include "vm/uma.h"
#include "vm/vm_page.h"

MALLOC_DEFINE(M_UTEST, "utest");

#define NTHREADS 4
#define PER_THREAD 20000

static void boot4(void)
{
	vm_host_boot_default();
}

static void boot_small(void)
{
	struct vm_host_config cfg = { .ram_bytes = 8ull << 20, .ncpus = 2 };

	vm_host_boot(&cfg);
}

struct mthread {
	int cpu;
	int bad;
};

static void *malloc_thread(void *vp)
{
	struct mthread *t = vp;
	uint32_t *held[64];

	vm_host_set_cpu(t->cpu);
	for (int i = 0; i < PER_THREAD; i++) {
		int slot = i % 64;
		if (i >= 64) {
			if (held[slot][0] != (uint32_t)(t->cpu << 24 | (i - 64)))
				t->bad++;
			kfree(held[slot], M_UTEST);
		}
		size_t sz = 8 + (size_t)(i * 37 % 3000);
		held[slot] = kmalloc(sz, M_UTEST, M_WAITOK);
		held[slot][0] = (uint32_t)(t->cpu << 24 | i);
	}
	for (int slot = 0; slot < 64; slot++)
		kfree(held[slot], M_UTEST);
	return NULL;
}

START_TEST(type_counters_per_cpu)
{
	pthread_t th[NTHREADS];
	struct mthread args[NTHREADS];
	struct malloc_type_summary s;

	for (int i = 0; i < NTHREADS; i++) {
		args[i] = (struct mthread){ .cpu = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, malloc_thread, &args[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(args[i].bad, 0);
		/* Each thread ran on its own CPU and counted there. */
		ck_assert_uint_eq(M_UTEST->ks_stats[i].mts_numallocs, PER_THREAD);
		ck_assert_uint_eq(M_UTEST->ks_stats[i].mts_numfrees, PER_THREAD);
	}
	malloc_type_summary(M_UTEST, &s);
	ck_assert_uint_eq(s.mtsu_numallocs, (uint64_t)NTHREADS * PER_THREAD);
	ck_assert_uint_eq(s.mtsu_inuse, 0);
	ck_assert_uint_eq(s.mtsu_inuse_bytes, 0);
	ck_assert_uint_eq(s.mtsu_failures, 0);
	/* Sizes 8 .. 3007 touch every class from 16 to 4096. */
	for (int c = 0; c < MALLOC_NCLASSES; c++)
		ck_assert_msg(s.mtsu_size & (1ull << c), "class %d unused", c);
}
END_TEST

/* contigmalloc(M_WAITOK) makes UMA give back cached pages when they are in the way. */
START_TEST(contig_reclaims_uma_caches)
{
	static void *items[4096];
	uma_zone_t z = uma_zcreate("contig-hog", 4096, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    0);
	int n = 0;

	while (n < 4096 && (items[n] = uma_zalloc(z, M_NOWAIT)) != NULL)
		n++;
	for (int i = 0; i < n; i++)
		uma_zfree(z, items[i]);
	struct uma_zone_stat zs;
	uma_zone_stats(z, &zs, NULL, 0);
	ck_assert_uint_gt(zs.uzs_pages, 1000);
	/* 2 MiB in one run: only there once UMA let go of its pages. */
	void *p = contigmalloc(2 << 20, M_UTEST, M_WAITOK, 0, ~(vm_paddr_t)0, 2 << 20, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(vm_dmap_to_phys(p) % (2 << 20), 0);
	contigfree(p, 2 << 20, M_UTEST);
	uma_zdestroy(z);
}
END_TEST

/* kfree finds large allocations by their pages' tags, even between slab pages. */
START_TEST(large_and_small_interleaved)
{
	void *small[100], *large[20];

	for (int i = 0; i < 20; i++) {
		for (int k = 0; k < 5; k++)
			small[i * 5 + k] = kmalloc(100, M_UTEST, M_WAITOK);
		large[i] = kmalloc(PAGE_SIZE * (size_t)(1 + i % 4) + 1, M_UTEST, M_WAITOK);
		ck_assert_uint_eq(kmalloc_usable_size(large[i]), PAGE_SIZE * (2 + i % 4));
	}
	for (int i = 0; i < 20; i++)
		kfree(large[i], M_UTEST);
	for (int i = 0; i < 100; i++)
		kfree(small[i], M_UTEST);
	struct malloc_type_summary s;
	malloc_type_summary(M_UTEST, &s);
	ck_assert_uint_eq(s.mtsu_inuse_bytes, 0);
	ck_assert(s.mtsu_size & MALLOC_SIZE_LARGE);
}
END_TEST

static Suite *malloc_suite(void)
{
	Suite *s = suite_create("malloc");
	TCase *tc = tcase_create("threads");

	tcase_add_checked_fixture(tc, boot4, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, type_counters_per_cpu);
	tcase_add_test(tc, large_and_small_interleaved);
	suite_add_tcase(s, tc);

	tc = tcase_create("pressure");
	tcase_add_checked_fixture(tc, boot_small, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, contig_reclaims_uma_caches);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(malloc_suite);
