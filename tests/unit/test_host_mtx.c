/*
 * The host platform's mutex (tests/support: a compare-exchange word, futex(2) when
 * contended). Everything the VM core's threaded tests prove rests on it: mutual
 * exclusion under real contention (more threads than CPUs, so holders are preempted and
 * waiters sleep in the kernel), trylock against a holder, vm_sleep's release and retake,
 * and the ownership checks.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "vm/vm.h"

#define HMTX_THREADS    8
#define HMTX_ROUNDS     20000

static struct mtx hmtx_lock;
static uint64_t hmtx_counter;       /* under hmtx_lock, updated non-atomically */
static int hmtx_inside;             /* threads inside the section: must stay 0 or 1 */
static int hmtx_overlaps;

static void *hmtx_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < HMTX_ROUNDS; i++) {
		mtx_lock(&hmtx_lock);
		if (__atomic_add_fetch(&hmtx_inside, 1, __ATOMIC_RELAXED) != 1)
			__atomic_add_fetch(&hmtx_overlaps, 1, __ATOMIC_RELAXED);
		/* A read, a yield now and then (the holder preempted, the others made to
		 * sleep), a write: a lost update shows as a short count. */
		uint64_t v = hmtx_counter;
		if (i % 512 == 0)
			sched_yield();
		hmtx_counter = v + 1;
		ck_assert(mtx_owned(&hmtx_lock));
		__atomic_sub_fetch(&hmtx_inside, 1, __ATOMIC_RELAXED);
		mtx_unlock(&hmtx_lock);
	}
	return NULL;
}

START_TEST(mtx_contended_exclusion)
{
	pthread_t t[HMTX_THREADS];

	mtx_init(&hmtx_lock, "hmtx");
	hmtx_counter = 0;
	hmtx_overlaps = 0;
	for (int i = 0; i < HMTX_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hmtx_worker, NULL), 0);
	for (int i = 0; i < HMTX_THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(hmtx_counter, (uint64_t)HMTX_THREADS * HMTX_ROUNDS);
	ck_assert_int_eq(hmtx_overlaps, 0);
	ck_assert_uint_eq(__atomic_load_n(&hmtx_lock.mtx_state, __ATOMIC_RELAXED),
	    VM_HOST_MTX_FREE);
	ck_assert(!mtx_owned(&hmtx_lock));
	mtx_destroy(&hmtx_lock);
}
END_TEST

static void *hmtx_try_other(void *arg)
{
	return (void *)(uintptr_t)mtx_trylock(arg);
}

START_TEST(mtx_trylock_against_holder)
{
	struct mtx m = { 0 };       /* all-zero: a valid free mutex */
	pthread_t t;
	void *got;

	ck_assert(mtx_trylock(&m));
	ck_assert(mtx_owned(&m));
	ck_assert_int_eq(pthread_create(&t, NULL, hmtx_try_other, &m), 0);
	pthread_join(t, &got);
	ck_assert_ptr_null(got);
	mtx_unlock(&m);
	ck_assert_int_eq(pthread_create(&t, NULL, hmtx_try_other, &m), 0);
	pthread_join(t, &got);
	ck_assert_ptr_nonnull(got);
	ck_assert(!mtx_owned(&m));  /* the other thread holds it now, not this one */
	/* It exited holding it; free the word by hand to destroy it. */
	m.mtx_state = VM_HOST_MTX_FREE;
	m.mtx_owner = 0;
	mtx_destroy(&m);
}
END_TEST

/* vm_sleep drops the mutex for the sleep and takes it back, and a wakeup sent after
 * the sleeper checked its condition under the mutex is not lost. */
static struct mtx hmtx_sleep_lock;
static int hmtx_flag;

static void *hmtx_waker(void *arg)
{
	(void)arg;
	mtx_lock(&hmtx_sleep_lock);     /* only once the sleeper let go of it */
	hmtx_flag = 1;
	vm_wakeup(&hmtx_flag);
	mtx_unlock(&hmtx_sleep_lock);
	return NULL;
}

START_TEST(mtx_sleep_handoff)
{
	for (int round = 0; round < 200; round++) {
		pthread_t t;
		mtx_init(&hmtx_sleep_lock, "hmtx sleep");
		hmtx_flag = 0;
		mtx_lock(&hmtx_sleep_lock);
		ck_assert_int_eq(pthread_create(&t, NULL, hmtx_waker, NULL), 0);
		while (hmtx_flag == 0)
			vm_sleep(&hmtx_flag, &hmtx_sleep_lock, "hmtx", 0);
		ck_assert(mtx_owned(&hmtx_sleep_lock));
		mtx_unlock(&hmtx_sleep_lock);
		pthread_join(t, NULL);
		mtx_destroy(&hmtx_sleep_lock);
	}
}
END_TEST

/* The ownership checks: each in a child, which must die of panic's abort. */
static void hmtx_expect_abort(void (*fn)(void))
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 2);
		fn();
		_exit(0);
	}
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

static void hmtx_recurse(void)
{
	struct mtx m = { 0 };

	mtx_lock(&m);
	mtx_lock(&m);
}

static void hmtx_unlock_free(void)
{
	struct mtx m = { 0 };

	mtx_unlock(&m);
}

START_TEST(mtx_ownership_checks)
{
	hmtx_expect_abort(hmtx_recurse);
	hmtx_expect_abort(hmtx_unlock_free);
}
END_TEST

static Suite *host_mtx_suite(void)
{
	Suite *s = suite_create("host.mtx");
	TCase *tc = tcase_create("mtx");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mtx_contended_exclusion);
	tcase_add_test(tc, mtx_trylock_against_holder);
	tcase_add_test(tc, mtx_sleep_handoff);
	tcase_add_test(tc, mtx_ownership_checks);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(host_mtx_suite);
