/*
 * swap_blist (vm/swap_blist.h) against a plain bitmap: random runs of alloc, free and
 * fill over sizes from one block to a tree of several levels, checking after each step
 * that the allocator agrees with the model (an allocation fails exactly when the model
 * has no free run that long; what it hands out was free; the free count, the longest
 * run, range checks) and, every so often, that every summary in the tree is what its
 * bits say. Then fragmentation by hand, the bounds, and the double-free panic.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "vm/swap_blist.h"

static void setup(void)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
}

struct model {
	uint64_t n;
	uint8_t *used;      /* 1: allocated */
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return rng_state >> 33;
}

static uint64_t model_free(const struct model *m)
{
	uint64_t f = 0;

	for (uint64_t i = 0; i < m->n; i++)
		f += !m->used[i];
	return f;
}

static uint64_t model_maxrun(const struct model *m)
{
	uint64_t best = 0, run = 0;

	for (uint64_t i = 0; i < m->n; i++) {
		run = m->used[i] ? 0 : run + 1;
		if (run > best)
			best = run;
	}
	return best;
}

static bool model_range(const struct model *m, uint64_t b, uint64_t n, uint8_t v)
{
	for (uint64_t i = b; i < b + n; i++)
		if (m->used[i] != v)
			return false;
	return true;
}

/* One random step; checks the allocator against the model. */
static void step(struct swap_blist *bl, struct model *m, uint64_t maxn)
{
	uint64_t op = rnd() % 10;

	if (op < 5) {
		/* alloc: mostly short runs, sometimes long ones */
		uint64_t n = rnd() % 4 == 0 ? 1 + rnd() % maxn : 1 + rnd() % MIN(maxn, 8);
		uint64_t maxrun = model_maxrun(m);
		uint64_t b = swap_blist_alloc(bl, n);
		if (n > maxrun) {
			ck_assert_msg(b == SWAPBLK_NONE, "alloc(%llu) got %llu, longest run %llu",
			    (unsigned long long)n, (unsigned long long)b,
			    (unsigned long long)maxrun);
		} else {
			ck_assert_msg(b != SWAPBLK_NONE, "alloc(%llu) failed, longest run %llu",
			    (unsigned long long)n, (unsigned long long)maxrun);
			ck_assert(b + n <= m->n);
			ck_assert_msg(model_range(m, b, n, 0), "alloc(%llu) gave [%llu, +%llu) "
			    "which is not free", (unsigned long long)n, (unsigned long long)b,
			    (unsigned long long)n);
			memset(m->used + b, 1, n);
		}
	} else if (op < 9) {
		/* free an allocated run starting at a random allocated block */
		uint64_t b = rnd() % m->n;
		if (!m->used[b])
			return;
		uint64_t len = 1, want = 1 + rnd() % (rnd() % 3 == 0 ? maxn : 4);
		while (len < want && b + len < m->n && m->used[b + len])
			len++;
		ck_assert(swap_blist_isalloc(bl, b, len));
		swap_blist_free(bl, b, len);
		memset(m->used + b, 0, len);
		ck_assert(swap_blist_isfree(bl, b, len));
	} else {
		/* fill an arbitrary range */
		uint64_t b = rnd() % m->n, len = 1 + rnd() % MIN(maxn, m->n - b);
		uint64_t was = 0;
		for (uint64_t i = b; i < b + len; i++)
			was += !m->used[i];
		ck_assert_uint_eq(swap_blist_fill(bl, b, len), was);
		memset(m->used + b, 1, len);
	}
	ck_assert_uint_eq(swap_blist_avail(bl), model_free(m));
	ck_assert_uint_eq(swap_blist_maxrun(bl), model_maxrun(m));
	uint64_t b = rnd() % m->n, len = 1 + rnd() % MIN((uint64_t)16, m->n - b);
	ck_assert(swap_blist_isfree(bl, b, len) == model_range(m, b, len, 0));
	ck_assert(swap_blist_isalloc(bl, b, len) == model_range(m, b, len, 1));
}

static void run_model(uint64_t n, uint64_t seed, int steps)
{
	struct swap_blist *bl = swap_blist_create(n, M_WAITOK);
	struct model m = { n, calloc(n, 1) };

	ck_assert_ptr_nonnull(bl);
	ck_assert(swap_blist_empty(bl) && !swap_blist_full(bl));
	ck_assert_uint_eq(swap_blist_maxrun(bl), n);
	rng_state = seed;
	for (int i = 0; i < steps; i++) {
		step(bl, &m, MIN(n, (uint64_t)300));
		if (i % 97 == 0) {
			const char *why = swap_blist_verify(bl);
			ck_assert_msg(why == NULL, "n %llu seed %llu step %d: %s",
			    (unsigned long long)n, (unsigned long long)seed, i, why);
		}
	}
	/* Everything back: one run of all of it. */
	for (uint64_t i = 0; i < n; i++)
		if (m.used[i])
			swap_blist_free(bl, i, 1);
	ck_assert(swap_blist_empty(bl));
	ck_assert_ptr_null(swap_blist_verify(bl));
	ck_assert_uint_eq(swap_blist_alloc(bl, n), 0);
	ck_assert(swap_blist_full(bl));
	ck_assert_uint_eq(swap_blist_alloc(bl, 1), SWAPBLK_NONE);
	swap_blist_destroy(bl);
	free(m.used);
}

START_TEST(model_small)
{
	static const uint64_t sizes[] = { 1, 2, 5, 63, 64, 65, 127, 128, 200 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (uint64_t seed = 1; seed <= 3; seed++)
			run_model(sizes[i], seed * 7919 + sizes[i], 1500);
}
END_TEST

START_TEST(model_levels)
{
	/* 1024 blocks: one level of nodes; 1025 and 4113: padding children; 70000: three
	 * levels of nodes over 1094 leaves. */
	static const uint64_t sizes[] = { 1024, 1025, 4113, 70000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (uint64_t seed = 1; seed <= 2; seed++)
			run_model(sizes[i], seed * 104729 + sizes[i], 2500);
}
END_TEST

/* Runs that cross leaves and nodes, found in a tree whose free space is scattered. */
START_TEST(fragmentation)
{
	const uint64_t n = 4096;
	struct swap_blist *bl = swap_blist_create(n, M_WAITOK);

	for (uint64_t i = 0; i < n; i++)
		ck_assert_uint_eq(swap_blist_alloc(bl, 1), i);
	ck_assert(swap_blist_full(bl));
	/* Every other block free: 2048 free, no run of 2. */
	for (uint64_t i = 0; i < n; i += 2)
		swap_blist_free(bl, i, 1);
	ck_assert_uint_eq(swap_blist_avail(bl), n / 2);
	ck_assert_uint_eq(swap_blist_maxrun(bl), 1);
	ck_assert_uint_eq(swap_blist_alloc(bl, 2), SWAPBLK_NONE);
	/* A run of 101 (960 .. 1060) across the leaf and node boundary at 1024. */
	for (uint64_t i = 961; i < 1061; i += 2)
		swap_blist_free(bl, i, 1);
	ck_assert_uint_eq(swap_blist_maxrun(bl), 101);
	ck_assert_uint_eq(swap_blist_alloc(bl, 100), 960);
	ck_assert_uint_eq(swap_blist_alloc(bl, 2), SWAPBLK_NONE);
	ck_assert_ptr_null(swap_blist_verify(bl));
	/* Free all; the whole device is one run again. */
	for (uint64_t i = 1; i < n; i += 2)
		if (i < 960 || i >= 1060)
			swap_blist_free(bl, i, 1);
	swap_blist_free(bl, 960, 100);
	ck_assert(swap_blist_empty(bl));
	ck_assert_uint_eq(swap_blist_alloc(bl, n), 0);
	swap_blist_destroy(bl);
}
END_TEST

START_TEST(bounds)
{
	ck_assert_ptr_null(swap_blist_create(0, M_WAITOK));
	ck_assert_ptr_null(swap_blist_create(SWAP_BLIST_MAXBLOCKS + 1, M_WAITOK));
	/* 2^20 blocks: 16384 leaves, 4 levels of nodes. */
	struct swap_blist *bl = swap_blist_create(1u << 20, M_WAITOK);
	ck_assert_int_eq(bl->bl_levels, 5);
	ck_assert_uint_eq(swap_blist_alloc(bl, 0), SWAPBLK_NONE);
	ck_assert_uint_eq(swap_blist_alloc(bl, 5000), 0);
	ck_assert_uint_eq(swap_blist_alloc(bl, 64), 5000);
	swap_blist_free(bl, 100, 200);
	ck_assert_uint_eq(swap_blist_alloc(bl, 150), 100);
	ck_assert_uint_eq(swap_blist_fill(bl, (1u << 20) - 10, 10), 10);
	ck_assert_uint_eq(swap_blist_maxrun(bl), (1u << 20) - 10 - 5064);
	ck_assert_ptr_null(swap_blist_verify(bl));
	ck_assert_uint_eq(swap_blist_avail(bl), (1u << 20) - 10 - 5064 + 50);
	swap_blist_destroy(bl);
}
END_TEST

/* A block freed twice panics (SIGABRT in a child) naming the function. */
START_TEST(double_free_panics)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		struct swap_blist *bl = swap_blist_create(256, M_WAITOK);
		uint64_t b = swap_blist_alloc(bl, 8);
		swap_blist_free(bl, b, 8);
		swap_blist_free(bl, b + 3, 1);
		_exit(0);
	}
	close(fds[1]);
	char buf[512] = { 0 };
	size_t got = 0;
	ssize_t r;
	while (got < sizeof(buf) - 1 && (r = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x", status);
	ck_assert_msg(strstr(buf, "swap_blist_free: double free") != NULL, "stderr: %s", buf);
}
END_TEST

static Suite *swap_blist_suite(void)
{
	Suite *s = suite_create("swap_blist");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, model_small);
	tcase_add_test(tc, model_levels);
	tcase_add_test(tc, fragmentation);
	tcase_add_test(tc, bounds);
	tcase_add_test(tc, double_free_panics);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(swap_blist_suite);
