/*
 * The page daemon's pass as its thread runs it (vm_pageout_daemon_pass): waiting
 * allocations woken by the pages it frees, and the out-of-memory judgement, with the
 * host platform's vm_plat_oom_kill as a recorder whose "kill" gives back the memory a
 * test hoarded (as a killed process's would be). Host only: the recorder and the
 * threads are the host platform's.
 */
#include <pthread.h>
#include <time.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "vm/vm_object.h"
#include "vm/vm_pageout.h"
#include "vm/vm_pagequeue.h"
#include "vm/vm_pager.h"

#define TPO_MAXHOARD    8192

/* Pages taken to bring free memory down to the NORMAL class's reserve. */
struct tpo_hoard {
	vm_page_t th_pages[TPO_MAXHOARD];
	int th_n;
};
static struct tpo_hoard tpo_hoard;

static void tpo_boot(void)
{
	struct vm_host_config cfg = { .ram_bytes = 8u << 20, .ncpus = 2 };

	vm_host_boot(&cfg);
	vm_host_set_cpu(0);
	vm_pageout_set_oom_delay(0);    /* passes alone decide; the delay has its test */
}

static void tpo_take_all_normal(struct tpo_hoard *h)
{
	vm_page_t m;

	while (h->th_n < TPO_MAXHOARD &&
	    (m = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_NOWAIT)) != NULL)
		h->th_pages[h->th_n++] = m;
	ck_assert_int_lt(h->th_n, TPO_MAXHOARD);
}

/* The recorder's "kill": the victim's memory comes back. */
static void tpo_release(void *arg)
{
	struct tpo_hoard *h = arg;

	while (h->th_n > 0)
		vm_page_free(h->th_pages[--h->th_n]);
}

/* An anonymous object with npages pages, unmapped, on the inactive queue. */
static struct vm_object *tpo_object(int npages)
{
	struct vm_object *obj = vm_object_allocate(OBJT_DEFAULT, (vm_pindex_t)npages);

	vm_object_lock(obj);
	for (int i = 0; i < npages; i++) {
		vm_page_t m = vm_page_alloc(obj, (vm_pindex_t)i, VM_ALLOC_NORMAL);
		ck_assert_ptr_nonnull(m);
		vm_page_xunbusy(m);
		vm_page_deactivate(m);
	}
	vm_object_unlock(obj);
	return obj;
}

/* A pager that holds a copy of everything: every unmodified page is clean. */
static bool tpo_has_all(struct vm_object *obj, vm_pindex_t pindex, int *before, int *after)
{
	(void)obj;
	(void)pindex;
	if (before != NULL)
		*before = 0;
	if (after != NULL)
		*after = 0;
	return true;
}
static const struct vm_pager_ops tpo_pager_all = {
	.pgo_name = "has-all", .pgo_haspage = tpo_has_all,
};

static uint64_t tpo_free_min(void)
{
	struct vm_pageout_targets t;

	vm_pageout_get_targets(&t);
	return t.free_min;
}

/* No swap, dirty anonymous memory only, allocations failing: the third futile pass in
 * a row kills, once; the memory that comes back ends the shortage. */
START_TEST(oom_after_futile_passes)
{
	struct vm_page_counts c;

	tpo_boot();
	vm_pager_anon = NULL;
	struct vm_object *obj = tpo_object(64);
	tpo_take_all_normal(&tpo_hoard);
	ck_assert_uint_lt(vm_page_free_count(), tpo_free_min());
	vm_host_oom_set(true, tpo_release, &tpo_hoard);
	for (int pass = 1; pass <= VM_PAGEOUT_OOM_PASSES; pass++) {
		ck_assert_uint_eq(vm_host_oom_calls_made(), 0);
		vm_pageout_wakeup(true);                /* an allocation failed */
		(void)vm_pageout_daemon_pass();
	}
	ck_assert_uint_eq(vm_host_oom_calls_made(), 1);
	ck_assert_int_eq(tpo_hoard.th_n, 0);
	ck_assert_uint_ge(vm_page_free_count(), tpo_free_min());
	for (int pass = 0; pass < 10; pass++) {
		vm_pageout_wakeup(true);
		(void)vm_pageout_daemon_pass();
	}
	ck_assert_uint_eq(vm_host_oom_calls_made(), 1);
	vm_page_counts_snapshot(&c);
	ck_assert_uint_eq(c.v_oom_kills, 1);
	ck_assert_uint_eq(c.v_pdfreed, 0);          /* nothing was clean */
	ck_assert_uint_ge(c.v_pdpasses, VM_PAGEOUT_OOM_PASSES + 10);
	vm_object_deallocate(obj);
}
END_TEST

/*
 * Thrashing is not progress: swap full, and all the daemon finds to free is a handful of
 * clean pages the process faults straight back in (its text, its stack: their copies
 * are on swap). Each pass frees a few pages, far fewer than it wants, and the shortage
 * stays: that is futile too, and the kill comes as when nothing at all is freed.
 */
START_TEST(oom_while_thrashing)
{
	const int nws = 8;      /* the working set the process keeps faulting back */

	tpo_boot();
	vm_pager_anon = &tpo_pager_all;
	struct vm_object *obj = vm_object_allocate(OBJT_DEFAULT, (vm_pindex_t)nws);
	tpo_take_all_normal(&tpo_hoard);
	vm_host_oom_set(true, tpo_release, &tpo_hoard);
	for (int pass = 1; pass <= VM_PAGEOUT_OOM_PASSES; pass++) {
		ck_assert_uint_eq(vm_host_oom_calls_made(), 0);
		/* The working set faulted back in, from pages the last pass freed (below
		 * the NORMAL class's reserve: SYSTEM may have them). */
		for (int i = 0; i < nws; i++)
			vm_page_free(tpo_hoard.th_pages[--tpo_hoard.th_n]);
		vm_object_lock(obj);
		for (int i = 0; i < nws; i++) {
			vm_page_t m = vm_page_alloc(obj, (vm_pindex_t)i, VM_ALLOC_SYSTEM);
			ck_assert_ptr_nonnull(m);
			vm_page_xunbusy(m);
			vm_page_deactivate(m);
		}
		vm_object_unlock(obj);
		vm_pageout_wakeup(true);                /* an allocation failed */
		(void)vm_pageout_daemon_pass();
		if (vm_host_oom_calls_made() != 0)
			break;
		vm_object_lock(obj);
		ck_assert_ptr_null(vm_page_lookup(obj, 0));     /* the pass freed them */
		vm_object_unlock(obj);
		tpo_take_all_normal(&tpo_hoard);        /* and the process took them again */
	}
	ck_assert_uint_eq(vm_host_oom_calls_made(), 1);
	ck_assert_int_eq(tpo_hoard.th_n, 0);
	vm_object_deallocate(obj);
	vm_pager_anon = NULL;
}
END_TEST

/* Swap full: the pager refuses every write and holds no page. */
static void tpo_put_refuse(struct vm_object *obj, vm_page_t *ma, int count, int flags,
    int *rtvals)
{
	(void)obj;
	(void)ma;
	(void)flags;
	for (int i = 0; i < count; i++)
		rtvals[i] = VM_PAGER_AGAIN;
}
static bool tpo_has_none(struct vm_object *obj, vm_pindex_t pindex, int *before, int *after)
{
	(void)obj;
	(void)pindex;
	(void)before;
	(void)after;
	return false;
}
static const struct vm_pager_ops tpo_pager_full = {
	.pgo_name = "full", .pgo_putpages = tpo_put_refuse, .pgo_haspage = tpo_has_none,
};

/*
 * Swap full, the laundry let try the pager again every few passes (and refused again):
 * the pages it is sent are no progress. Futile passes spanning the delay kill, though
 * each retry moved pages to the laundry; here the retries come faster than the delay.
 */
START_TEST(oom_when_swap_full)
{
	struct timespec ms = { .tv_nsec = 1000000 };

	tpo_boot();
	vm_pageout_set_oom_delay(40000000);             /* 40 ms: over 16 passes of 1 ms */
	vm_pager_anon = &tpo_pager_full;
	struct vm_object *obj = tpo_object(256);
	tpo_take_all_normal(&tpo_hoard);
	vm_host_oom_set(true, tpo_release, &tpo_hoard);
	for (int pass = 0; pass < 2000 && vm_host_oom_calls_made() == 0; pass++) {
		vm_pageout_wakeup(true);                /* an allocation failed */
		(void)vm_pageout_daemon_pass();
		(void)vm_pageout_laundry_pass();
		nanosleep(&ms, NULL);
	}
	ck_assert_uint_eq(vm_host_oom_calls_made(), 1);
	vm_object_deallocate(obj);
	vm_pager_anon = NULL;
}
END_TEST

/* Futile passes over less than the delay kill nobody: writes in flight may still end
 * the shortage. */
START_TEST(no_kill_before_the_delay)
{
	tpo_boot();
	vm_pageout_set_oom_delay(60ull * 1000000000);
	vm_pager_anon = NULL;
	struct vm_object *obj = tpo_object(64);
	tpo_take_all_normal(&tpo_hoard);
	vm_host_oom_set(true, tpo_release, &tpo_hoard);
	for (int pass = 0; pass < 5 * VM_PAGEOUT_OOM_PASSES; pass++) {
		vm_pageout_wakeup(true);
		(void)vm_pageout_daemon_pass();
	}
	ck_assert_uint_eq(vm_host_oom_calls_made(), 0);
	vm_pageout_set_oom_delay(0);
	for (int pass = 0; pass < VM_PAGEOUT_OOM_PASSES; pass++) {
		vm_pageout_wakeup(true);
		(void)vm_pageout_daemon_pass();
	}
	ck_assert_uint_eq(vm_host_oom_calls_made(), 1);
	vm_object_deallocate(obj);
}
END_TEST

/* A pass nobody asked for that achieved nothing is not repeated at once: without swap
 * a full RAM has nothing to free, and every scan would cost the program refaults. */
START_TEST(idle_background_passes_limited)
{
	struct vm_page_counts c0, c1, c2;

	tpo_boot();
	vm_pager_anon = NULL;
	struct vm_object *obj = tpo_object(64);
	tpo_take_all_normal(&tpo_hoard);
	ck_assert(vm_pageout_daemon_pass());        /* the last failed allocation asked */
	vm_page_counts_snapshot(&c0);
	ck_assert(!vm_pageout_daemon_pass());       /* nothing to do: no retry soon */
	vm_page_counts_snapshot(&c1);
	ck_assert_uint_eq(c1.v_pdpasses, c0.v_pdpasses + 1);
	ck_assert_uint_gt(c1.v_pdscanned, c0.v_pdscanned);
	for (int i = 0; i < 5; i++)
		ck_assert(!vm_pageout_daemon_pass());
	vm_page_counts_snapshot(&c2);
	ck_assert_uint_eq(c2.v_pdpasses, c1.v_pdpasses);
	ck_assert_uint_eq(c2.v_pdscanned, c1.v_pdscanned);
	vm_pageout_wakeup(true);                    /* an allocation failed: at once */
	ck_assert(vm_pageout_daemon_pass());
	vm_page_counts_snapshot(&c2);
	ck_assert_uint_eq(c2.v_pdpasses, c1.v_pdpasses + 1);
	tpo_release(&tpo_hoard);
	vm_object_deallocate(obj);
}
END_TEST

/* Below free_min but nobody waiting: nothing to judge. */
START_TEST(no_kill_without_waiters)
{
	tpo_boot();
	vm_pager_anon = NULL;
	struct vm_object *obj = tpo_object(64);
	tpo_take_all_normal(&tpo_hoard);
	vm_host_oom_set(true, tpo_release, &tpo_hoard);
	for (int pass = 0; pass < 3 * VM_PAGEOUT_OOM_PASSES; pass++)
		(void)vm_pageout_daemon_pass();
	ck_assert_uint_eq(vm_host_oom_calls_made(), 0);
	tpo_release(&tpo_hoard);
	vm_object_deallocate(obj);
}
END_TEST

/* Clean pages to free: the passes make progress, nobody is killed. */
START_TEST(no_kill_while_freeing)
{
	struct vm_page_counts c;

	tpo_boot();
	vm_pager_anon = &tpo_pager_all;
	struct vm_object *obj = tpo_object(512);
	tpo_take_all_normal(&tpo_hoard);
	vm_host_oom_set(true, NULL, NULL);
	for (int pass = 0; pass < 3 * VM_PAGEOUT_OOM_PASSES; pass++) {
		vm_pageout_wakeup(true);
		(void)vm_pageout_daemon_pass();
	}
	ck_assert_uint_eq(vm_host_oom_calls_made(), 0);
	vm_page_counts_snapshot(&c);
	ck_assert_uint_gt(c.v_pdfreed, 0);
	ck_assert_uint_ge(vm_page_free_count(), tpo_free_min());
	tpo_release(&tpo_hoard);
	vm_object_deallocate(obj);
	vm_pager_anon = NULL;
}
END_TEST

/* The daemon's thread, as guest/kern/vm_daemons.c runs it, until told to stop. */
static bool tpo_stop;

static void *tpo_daemon(void *arg)
{
	bool more = false;

	(void)arg;
	vm_host_set_cpu(1);
	while (!__atomic_load_n(&tpo_stop, __ATOMIC_ACQUIRE)) {
		vm_pageout_daemon_wait(more ? 1000000 : 50000000);
		more = vm_pageout_daemon_pass();
	}
	return NULL;
}

static void tpo_daemon_stop(pthread_t td)
{
	__atomic_store_n(&tpo_stop, true, __ATOMIC_RELEASE);
	vm_pageout_wakeup(false);
	ck_assert_int_eq(pthread_join(td, NULL), 0);
}

/* An allocation that must sleep is woken by the pages the daemon frees. */
START_TEST(waiter_woken_by_daemon)
{
	pthread_t td;
	struct vm_page_counts c;

	tpo_boot();
	vm_pager_anon = &tpo_pager_all;
	struct vm_object *obj = tpo_object(512);
	tpo_take_all_normal(&tpo_hoard);
	ck_assert_int_eq(pthread_create(&td, NULL, tpo_daemon, NULL), 0);
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_WAITOK);
	ck_assert_ptr_nonnull(m);
	tpo_daemon_stop(td);
	vm_page_counts_snapshot(&c);
	ck_assert_uint_gt(c.v_pdfreed, 0);
	ck_assert_uint_gt(c.v_pdpasses, 0);
	vm_page_free(m);
	tpo_release(&tpo_hoard);
	vm_object_deallocate(obj);
	vm_pager_anon = NULL;
}
END_TEST

/* Out of memory with a waiter: the daemon kills, the victim's memory comes back, the
 * waiting allocation gets its page. */
START_TEST(waiter_woken_after_oom_kill)
{
	pthread_t td;

	tpo_boot();
	vm_pager_anon = NULL;
	struct vm_object *obj = tpo_object(64);
	tpo_take_all_normal(&tpo_hoard);
	vm_host_oom_set(true, tpo_release, &tpo_hoard);
	ck_assert_int_eq(pthread_create(&td, NULL, tpo_daemon, NULL), 0);
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_WAITOK);
	ck_assert_ptr_nonnull(m);
	tpo_daemon_stop(td);
	ck_assert_uint_eq(vm_host_oom_calls_made(), 1);
	vm_page_free(m);
	vm_object_deallocate(obj);
}
END_TEST

static Suite *vm_pageout_suite(void)
{
	Suite *s = suite_create("vm_pageout");
	TCase *tc = tcase_create("daemon");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, oom_after_futile_passes);
	tcase_add_test(tc, oom_while_thrashing);
	tcase_add_test(tc, oom_when_swap_full);
	tcase_add_test(tc, no_kill_before_the_delay);
	tcase_add_test(tc, no_kill_without_waiters);
	tcase_add_test(tc, idle_background_passes_limited);
	tcase_add_test(tc, no_kill_while_freeing);
	tcase_add_test(tc, waiter_woken_by_daemon);
	tcase_add_test(tc, waiter_woken_after_oom_kill);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vm_pageout_suite);
