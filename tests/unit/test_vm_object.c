/*
 * vm_object on the host: page membership (insert, lookup, rename, remove, range
 * removal), the double-insert panic, a grab that sleeps on a busy page until another
 * thread unbusies it, and the shadow-chain model (tests/vmtests/object_model.h) over
 * many seeds, with collapses and bypasses both seen.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "tests/vmtests/object_model.h"
#include "vm/vm_object.h"

static void setup(void)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
}

START_TEST(insert_rename_remove)
{
	struct vm_object *a = vm_object_allocate(OBJT_DEFAULT, 64);
	struct vm_object *b = vm_object_allocate(OBJT_SWAP, 64);
	vm_page_t m[8];

	vm_object_lock(a);
	vm_object_lock(b);
	for (int i = 0; i < 8; i++) {
		m[i] = vm_page_alloc(a, (vm_pindex_t)(7 - i) * 3, VM_ALLOC_SYSTEM);
		ck_assert_ptr_nonnull(m[i]);
		ck_assert(vm_page_xbusied(m[i]));
		vm_page_xunbusy(m[i]);
	}
	ck_assert_uint_eq(a->vo_resident_page_count, 8);
	/* In pindex order on the list whatever the insertion order. */
	vm_pindex_t want = 0;
	for (vm_page_t p = vm_page_find_least(a, 0); p != NULL; p = vm_page_next(p), want += 3)
		ck_assert_uint_eq(p->pindex, want);
	ck_assert_ptr_eq(vm_page_lookup(a, 9), m[4]);
	ck_assert_ptr_null(vm_page_lookup(a, 10));
	ck_assert_int_eq(vm_page_rename(m[4], b, 40), 0);
	ck_assert_ptr_null(vm_page_lookup(a, 9));
	ck_assert_ptr_eq(vm_page_lookup(b, 40), m[4]);
	ck_assert(m[4]->object == b && m[4]->pindex == 40);
	ck_assert_uint_eq(a->vo_resident_page_count, 7);
	ck_assert_uint_eq(b->vo_resident_page_count, 1);
	/* grab finds the resident page, and makes the missing one. */
	ck_assert_ptr_eq(vm_page_grab(b, 40, VM_ALLOC_SYSTEM), m[4]);
	vm_page_xunbusy(m[4]);
	vm_page_t g = vm_page_grab(b, 41, VM_ALLOC_SYSTEM | VM_ALLOC_WAITOK);
	ck_assert(g != NULL && vm_page_next(m[4]) == g);
	vm_page_xunbusy(g);
	vm_object_page_remove(a, 6, 18);          /* 6, 9 (gone), 12, 15 */
	ck_assert_uint_eq(a->vo_resident_page_count, 4);
	ck_assert_ptr_null(vm_page_lookup(a, 12));
	ck_assert_ptr_nonnull(vm_page_lookup(a, 18));
	vm_page_remove(m[0]);                     /* pindex 21: now no object's */
	ck_assert(m[0]->object == NULL && m[0]->listq.pl_next == NULL);
	vm_page_free(m[0]);
	vm_object_unlock(b);
	vm_object_unlock(a);
	vm_object_deallocate(a);
	vm_object_deallocate(b);
	ck_assert_int_eq(vm_object_count(), 0);
	ck_assert_int_eq(vm_radix_nodes_allocated(), 0);
}
END_TEST

/* vm_page_alloc's fault case (a page at hand, the slot the lookup missed, the memq
 * append, no busy) and each way out of it to the general insert (a lower index, no
 * lookup before, a busy request, WIRED), all leaving the same object. */
START_TEST(alloc_fast_and_fallbacks)
{
	struct vm_object *a = vm_object_allocate(OBJT_DEFAULT, 64);
	const int nb = VM_ALLOC_NORMAL | VM_ALLOC_NOBUSY;
	vm_page_t m;

	vm_object_lock(a);
	for (vm_pindex_t i = 10; i < 20; i++) {
		ck_assert_ptr_null(vm_page_lookup(a, i));
		m = vm_page_alloc(a, i, nb | (i % 2 == 0 ? VM_ALLOC_ZERO : 0));
		ck_assert_ptr_nonnull(m);
		ck_assert(m->object == a && m->pindex == i && !vm_page_busied(m));
		if (i % 2 == 0) {
			const uint64_t *w = (const uint64_t *)VM_PAGE_TO_DMAP(m);
			for (unsigned k = 0; k < PAGE_SIZE / 8; k++)
				ck_assert_uint_eq(w[k], 0);
		}
	}
	ck_assert_ptr_null(vm_page_lookup(a, 3));
	ck_assert_ptr_nonnull(vm_page_alloc(a, 3, nb | VM_ALLOC_ZERO));    /* below the last */
	ck_assert_ptr_nonnull(vm_page_alloc(a, 30, nb));                   /* no lookup first */
	ck_assert_ptr_null(vm_page_lookup(a, 31));
	m = vm_page_alloc(a, 31, VM_ALLOC_NORMAL);                          /* busy */
	ck_assert(m != NULL && vm_page_xbusied(m));
	vm_page_xunbusy(m);
	ck_assert_ptr_null(vm_page_lookup(a, 5));
	m = vm_page_alloc(a, 5, nb | VM_ALLOC_WIRED);
	ck_assert(m != NULL && m->ref_count == 1 && m->object == a);
	vm_page_unwire_noq(m);
	ck_assert_uint_eq(a->vo_resident_page_count, 14);
	vm_pindex_t want[] = { 3, 5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 30, 31 };
	int n = 0;
	for (vm_page_t p = vm_page_find_least(a, 0); p != NULL; p = vm_page_next(p), n++) {
		ck_assert_uint_eq(p->pindex, want[n]);
		ck_assert_ptr_eq(vm_page_lookup(a, want[n]), p);
	}
	ck_assert_int_eq(n, 14);
	vm_object_unlock(a);
	vm_object_deallocate(a);
	ck_assert_int_eq(vm_object_count(), 0);
	ck_assert_int_eq(vm_radix_nodes_allocated(), 0);
}
END_TEST

/* The double-insert check panics (SIGABRT in a child) naming the function. */
START_TEST(double_insert_panics)
{
	int pfd[2], status;
	char buf[1024] = "";

	ck_assert_int_eq(pipe(pfd), 0);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		struct vm_object *o = vm_object_allocate(OBJT_DEFAULT, 4);
		vm_object_lock(o);
		vm_page_alloc(o, 2, VM_ALLOC_SYSTEM);
		vm_page_insert(vm_page_alloc_noobj(VM_ALLOC_SYSTEM), o, 2);
		_exit(0);
	}
	close(pfd[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x", status);
	ck_assert_msg(strstr(buf, "panic: vm_page_insert: object") != NULL &&
	    strstr(buf, "already has page") != NULL, "stderr: %s", buf);
}
END_TEST

static struct vm_object *busy_obj;
static vm_page_t busy_page;
static volatile int busy_state;

/* Another CPU: grab sleeps on the busy page and comes back with it. */
static void *busy_grabber(void *arg)
{
	(void)arg;
	vm_host_set_cpu(1);
	vm_object_lock(busy_obj);
	busy_state = 1;
	vm_page_t m = vm_page_grab(busy_obj, 5, VM_ALLOC_SYSTEM | VM_ALLOC_WAITOK);
	ck_assert_ptr_eq(m, busy_page);
	busy_state = 2;
	vm_page_xunbusy(m);
	vm_object_unlock(busy_obj);
	return NULL;
}

START_TEST(grab_sleeps_on_busy)
{
	pthread_t t;

	busy_obj = vm_object_allocate(OBJT_DEFAULT, 8);
	vm_object_lock(busy_obj);
	busy_page = vm_page_alloc(busy_obj, 5, VM_ALLOC_SYSTEM);    /* xbusy, ours */
	vm_object_unlock(busy_obj);
	ck_assert_int_eq(pthread_create(&t, NULL, busy_grabber, NULL), 0);
	while (busy_state == 0)
		usleep(1000);
	/* The grabber sleeps (waiter bit set) until we unbusy. */
	for (int i = 0; i < 2000 && (busy_page->busy_lock & VPB_WAITERS) == 0; i++)
		usleep(1000);
	ck_assert(busy_page->busy_lock & VPB_WAITERS);
	ck_assert_int_eq(busy_state, 1);
	vm_page_xunbusy(busy_page);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(busy_state, 2);
	vm_object_deallocate(busy_obj);
	ck_assert_int_eq(vm_object_count(), 0);
}
END_TEST

START_TEST(chain_seeds)
{
	char err[256];
	uint64_t c0 = vm_object_collapses(), b0 = vm_object_bypasses();

	for (int depth = 1; depth <= 4; depth++)
		for (uint64_t seed = 1; seed <= 200; seed++) {
			const char *why = vmt_object_chain_run(seed * 31 + (uint64_t)_i, depth, err,
			    sizeof(err));
			ck_assert_msg(why == NULL, "depth %d seed %llu: %s", depth,
			    (unsigned long long)seed, why);
		}
	ck_assert_uint_gt(vm_object_collapses() - c0, 0);
	ck_assert_uint_gt(vm_object_bypasses() - b0, 0);
}
END_TEST

static Suite *object_suite(void)
{
	Suite *s = suite_create("vm_object");
	TCase *tc = tcase_create("object");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, insert_rename_remove);
	tcase_add_test(tc, alloc_fast_and_fallbacks);
	tcase_add_test(tc, double_insert_panics);
	tcase_add_test(tc, grab_sleeps_on_busy);
	tcase_add_loop_test(tc, chain_seeds, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(object_suite);
