/*
 * Suite "sleepq": the sleep-queue table (vm/vm_sleepq.h) the guest's vm_sleep and
 * vm_wakeup keep their sleepers in, driven here with simulated sleepers (records linked
 * as vm_sleep links them, a fake clock for the deadlines): many channels, many sleepers
 * on one channel, wakeup_one's order, timeouts, channels that share a bucket.
 */
#include <string.h>

#include "tests/unit/unit.h"
#include "vm/vm_sleepq.h"

static struct vm_sleepq_table sqt;

static void sqt_setup(void)
{
	memset(&sqt, 0, sizeof(sqt));
}

START_TEST(empty_table_wakes_nothing)
{
	int chan;

	ck_assert(vm_sleepq_empty(&sqt));
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &chan, false), 0);
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &chan, true), 0);
	ck_assert_uint_eq(vm_sleepq_expire(&sqt, UINT64_MAX), 0);
	ck_assert_uint_eq(vm_sleepq_next_deadline(&sqt), 0);
}
END_TEST

/* 200 sleepers on 100 channels (two each: more channels than buckets, so buckets are
 * shared): waking one channel wakes its two and nobody else's. */
START_TEST(many_channels)
{
	enum { NCHAN = 100 };
	static char chans[NCHAN];
	static struct vm_sleeper vs[NCHAN * 2];

	for (int i = 0; i < NCHAN * 2; i++)
		vm_sleepq_insert(&sqt, &vs[i], &chans[i % NCHAN], "many", 0);
	ck_assert_uint_eq(sqt.sq_count, NCHAN * 2);
	for (int c = 0; c < NCHAN; c++)
		ck_assert_uint_eq(vm_sleepq_count(&sqt, &chans[c]), 2);
	for (int c = 0; c < NCHAN; c += 3) {
		ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &chans[c], false), 2);
		ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &chans[c], false), 0);
	}
	for (int i = 0; i < NCHAN * 2; i++) {
		bool woken = (i % NCHAN) % 3 == 0;
		ck_assert_msg(vs[i].vs_woken == woken, "sleeper %d woken %d", i, vs[i].vs_woken);
		ck_assert(vs[i].vs_queued == !woken);
	}
	/* The rest leave by themselves (as a timed-out vm_sleep does). */
	for (int i = 0; i < NCHAN * 2; i++)
		ck_assert(vm_sleepq_remove(&sqt, &vs[i]) == !vs[i].vs_woken);
	ck_assert(vm_sleepq_empty(&sqt));
	for (int i = 0; i < VM_SLEEPQ_HASH; i++)
		ck_assert_ptr_null(sqt.sq_buckets[i].sb_head);
}
END_TEST

/* wakeup_one wakes the oldest sleeper of the channel, in order; others interleaved on
 * another channel are passed over. */
START_TEST(wakeup_one_oldest_first)
{
	int a, b;
	struct vm_sleeper va[4], vb[3];

	for (int i = 0; i < 4; i++) {
		vm_sleepq_insert(&sqt, &va[i], &a, "a", 0);
		if (i < 3)
			vm_sleepq_insert(&sqt, &vb[i], &b, "b", 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &a, true), 1);
		for (int j = 0; j < 4; j++)
			ck_assert(va[j].vs_woken == (j <= i));
	}
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &a, true), 0);
	for (int j = 0; j < 3; j++)
		ck_assert(!vb[j].vs_woken);
	/* A sleeper that left (timed out) is not the oldest any more; a newcomer queues
	 * behind the ones left. */
	ck_assert(vm_sleepq_remove(&sqt, &vb[0]));
	vm_sleepq_insert(&sqt, &va[0], &b, "b again", 0);
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &b, true), 1);
	ck_assert(vb[1].vs_woken && !vb[2].vs_woken && !va[0].vs_woken);
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &b, false), 2);
	ck_assert(vb[2].vs_woken && va[0].vs_woken);
	ck_assert(vm_sleepq_empty(&sqt));
}
END_TEST

/* Removing the tail keeps the bucket's FIFO whole: later inserts are still found. */
START_TEST(remove_tail_then_insert)
{
	int a;
	struct vm_sleeper v[3];

	vm_sleepq_insert(&sqt, &v[0], &a, "a", 0);
	vm_sleepq_insert(&sqt, &v[1], &a, "a", 0);
	ck_assert(vm_sleepq_remove(&sqt, &v[1]));
	ck_assert(!vm_sleepq_remove(&sqt, &v[1]));
	vm_sleepq_insert(&sqt, &v[2], &a, "a", 0);
	ck_assert_uint_eq(vm_sleepq_count(&sqt, &a), 2);
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &a, false), 2);
	ck_assert(v[0].vs_woken && !v[1].vs_woken && v[2].vs_woken);
	ck_assert(vm_sleepq_empty(&sqt));
}
END_TEST

/* Each sleeper's own deadline: expiry at a time removes exactly those due, unmarked
 * (timed out, not woken); the untimed one stays until woken. */
START_TEST(timeouts)
{
	int a, b;
	struct vm_sleeper v[5];
	const uint64_t dl[5] = { 300, 100, 0, 200, 100 };

	for (int i = 0; i < 5; i++)
		vm_sleepq_insert(&sqt, &v[i], i % 2 ? &a : &b, "t", dl[i]);
	ck_assert_uint_eq(vm_sleepq_next_deadline(&sqt), 100);
	ck_assert_uint_eq(vm_sleepq_expire(&sqt, 99), 0);
	ck_assert_uint_eq(vm_sleepq_expire(&sqt, 100), 2);          /* v[1], v[4] */
	ck_assert(!v[1].vs_queued && !v[4].vs_queued && !v[1].vs_woken && !v[4].vs_woken);
	ck_assert_uint_eq(vm_sleepq_next_deadline(&sqt), 200);
	/* A wakeup before its deadline wins: v[3] is woken, not timed out. */
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &a, false), 1);
	ck_assert(v[3].vs_woken);
	ck_assert_uint_eq(vm_sleepq_next_deadline(&sqt), 300);
	ck_assert_uint_eq(vm_sleepq_expire(&sqt, 1000), 1);         /* v[0] */
	ck_assert(!v[0].vs_woken && v[2].vs_queued);
	ck_assert_uint_eq(vm_sleepq_next_deadline(&sqt), 0);
	ck_assert_uint_eq(vm_sleepq_expire(&sqt, UINT64_MAX), 0);
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &b, true), 1);
	ck_assert(v[2].vs_woken);
	ck_assert(vm_sleepq_empty(&sqt));
}
END_TEST

/* The platform's hook sees each record a wakeup or an expiry unlinks, once, already
 * unlinked, in the order they were unlinked. */
static struct vm_sleeper *sq_seen[8];
static int sq_nseen;

static void sq_record(struct vm_sleeper *vs)
{
	ck_assert(!vs->vs_queued);
	ck_assert_int_lt(sq_nseen, 8);
	sq_seen[sq_nseen++] = vs;
}

START_TEST(wake_hook)
{
	static struct vm_sleeper vs[4];
	int a, b;

	sq_nseen = 0;
	sqt.sq_wake = sq_record;
	vm_sleepq_insert(&sqt, &vs[0], &a, "hook", 0);
	vm_sleepq_insert(&sqt, &vs[1], &a, "hook", 0);
	vm_sleepq_insert(&sqt, &vs[2], &b, "hook", 50);
	vm_sleepq_insert(&sqt, &vs[3], &b, "hook", 0);
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &a, true), 1);
	ck_assert_int_eq(sq_nseen, 1);
	ck_assert_ptr_eq(sq_seen[0], &vs[0]);
	ck_assert_uint_eq(vm_sleepq_expire(&sqt, 49), 0);
	ck_assert_uint_eq(vm_sleepq_expire(&sqt, 50), 1);
	ck_assert_int_eq(sq_nseen, 2);
	ck_assert_ptr_eq(sq_seen[1], &vs[2]);
	ck_assert(!vs[2].vs_woken);                     /* expired, not woken */
	/* A sleeper that leaves by itself is not reported. */
	ck_assert(vm_sleepq_remove(&sqt, &vs[3]));
	ck_assert_uint_eq(vm_sleepq_wakeup(&sqt, &a, false), 1);
	ck_assert_int_eq(sq_nseen, 3);
	ck_assert_ptr_eq(sq_seen[2], &vs[1]);
	ck_assert(vm_sleepq_empty(&sqt));
}
END_TEST

static Suite *sleepq_suite(void)
{
	Suite *s = suite_create("sleepq");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, sqt_setup, NULL);
	tcase_add_test(tc, empty_table_wakes_nothing);
	tcase_add_test(tc, many_channels);
	tcase_add_test(tc, wakeup_one_oldest_first);
	tcase_add_test(tc, remove_tail_then_insert);
	tcase_add_test(tc, timeouts);
	tcase_add_test(tc, wake_hook);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(sleepq_suite);
