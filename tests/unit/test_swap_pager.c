/*
 * The swap pager with other threads (host only; the single-threaded cases are the
 * VMTESTs of tests/vmtests/swap_tests.c): a device whose completions come from its own
 * thread, as the contract's "kernel thread" (asynchronous page-outs ended there, a
 * fault's read and a synchronous page-out waiting for them); an evicting thread and a
 * thread reading and writing the pages at once, then a swapoff under the accesses, with
 * every byte checked; and swapoff refused for want of memory.
 *
 * CPUs: the test's thread 0, the evictor 1, the mutator 2, the device's thread 3.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "tests/vmtests/swap_util.h"

static void setup(void)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
}

/* Asynchronous page-outs ended by the device's thread; faults and a synchronous
 * page-out that sleep until it ends their requests. */
START_TEST(completion_thread)
{
	const int n = 64;
	struct swap_pager_stats s;
	struct swt t;
	vm_pindex_t pi;
	int putn;

	ck_assert_ptr_null(swt_begin_mode(&t, 256, 16, SMD_THREAD, 3));
	ck_assert_int_eq(swt_mmap(t.vm, SWT_VA, n), (long)SWT_VA);
	ck_assert(swt_fill(&t, t.vm, SWT_VA, n, 0x21));
	struct vm_object *obj = swt_object(t.vm, SWT_VA, &pi);
	ck_assert_int_eq(swt_evict(&t, obj, pi, pi + n, 0, &putn, NULL), n);
	ck_assert_int_eq(putn, n);
	swap_pager_stats(&s);
	ck_assert_uint_eq(s.sps_used, (uint64_t)n);
	ck_assert_uint_eq(s.sps_inflight, 0);
	ck_assert(swt_is(&t, t.vm, SWT_VA, n, 0x21));
	/* Dirty half of them, then out synchronously: putpages sleeps for the thread. */
	ck_assert(swt_fill(&t, t.vm, SWT_VA, n / 2, 0x22));
	ck_assert_int_eq(swt_evict(&t, obj, pi, pi + n, VM_PAGER_PUT_SYNC, &putn, NULL), n);
	ck_assert_int_eq(putn, n / 2);
	ck_assert(swt_is(&t, t.vm, SWT_VA, n / 2, 0x22));
	ck_assert(swt_is(&t, t.vm, SWT_VA + ptoa(n / 2), n / 2, 0x21));
	const char *why = swt_end(&t, NULL);
	ck_assert_msg(why == NULL, "%s", why);
}
END_TEST

/* ---- two threads at once ---------------------------------------------------------------- */

#define ST_PAGES    96

struct stress {
	struct swt *t;
	struct vm_object *obj;
	vm_pindex_t pi;
	uint8_t tag[ST_PAGES];      /* the mutator's: each page's tag, 0: never written */
	int stop_evictor;           /* atomic */
	int stop_mutator;           /* atomic */
	int phase2;                 /* atomic: the swapoff began */
	const char *why;            /* the first failure (atomic) */
	uint64_t evictions, accesses, checks;
	uint64_t seed_e, seed_m;
};

static uint64_t st_rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static void st_fail(struct stress *st, const char *why)
{
	const char *none = NULL;

	__atomic_compare_exchange_n(&st->why, &none, why, false, __ATOMIC_SEQ_CST,
	    __ATOMIC_SEQ_CST);
}

/*
 * One access of the page at va as a CPU makes it: under the pmap's lock the leaf entry
 * cannot change (pmap_remove_write and pmap_remove_all wait for it), as a TLB entry holds
 * for one instruction; a fault when the entry does not allow it, outside that lock. A
 * write fills the page with tag's pattern; a read checks it (zero for tag 0).
 */
static bool st_access(struct stress *st, vm_offset_t va, bool write, uint8_t tag)
{
	struct vmspace *vm = st->t->vm;
	pmap_t pmap = vmspace_pmap(vm);
	uint64_t need = PG_V | (write ? PG_RW : 0);

	for (int tries = 0; tries < 1000; tries++) {
		mtx_lock(&pmap->pm_mtx);
		uint64_t *pte = swt_ptep(vm, va);
		if (pte != NULL && (*pte & need) == need) {
			uint64_t *w = vm_phys_to_dmap(*pte & PG_FRAME);
			bool ok = true;
			*pte |= PG_A | (write ? PG_M : 0);
			for (size_t k = 0; k < PAGE_SIZE / 8; k++) {
				if (write)
					w[k] = swt_word(tag, va, k);
				else if (w[k] != (tag == 0 ? 0 : swt_word(tag, va, k)))
					ok = false;
			}
			mtx_unlock(&pmap->pm_mtx);
			if (!ok)
				st_fail(st, "a page read back wrong");
			return ok;
		}
		mtx_unlock(&pmap->pm_mtx);
		int rv = vm_fault(vmspace_map(vm), va, write ? VM_PROT_WRITE : VM_PROT_READ, 0);
		if (rv != VM_FAULT_OK) {
			st_fail(st, "a fault failed");
			return false;
		}
	}
	st_fail(st, "an access never found its page mapped");
	return false;
}

static void *st_evictor(void *arg)
{
	struct stress *st = arg;

	vm_host_set_cpu(1);
	while (!__atomic_load_n(&st->stop_evictor, __ATOMIC_ACQUIRE)) {
		int s = (int)(st_rnd(&st->seed_e) % ST_PAGES);
		int k = 1 + (int)(st_rnd(&st->seed_e) % 24);
		int flags = st_rnd(&st->seed_e) % 2 ? VM_PAGER_PUT_SYNC : 0;
		swt_evict(st->t, st->obj, st->pi + (vm_pindex_t)s,
		    st->pi + (vm_pindex_t)MIN(s + k, ST_PAGES), flags, NULL, NULL);
		st->evictions++;
		usleep(20);     /* the mutator's turn */
	}
	return NULL;
}

static void *st_mutator(void *arg)
{
	struct stress *st = arg;

	vm_host_set_cpu(2);
	while (!__atomic_load_n(&st->stop_mutator, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&st->why, __ATOMIC_ACQUIRE) == NULL) {
		int i = (int)(st_rnd(&st->seed_m) % ST_PAGES);
		vm_offset_t va = SWT_VA + ptoa(i);
		if (st_rnd(&st->seed_m) % 10 < 3) {
			uint8_t tag = (uint8_t)(1 + st_rnd(&st->seed_m) % 250);
			if (st_access(st, va, true, tag))
				st->tag[i] = tag;
		} else {
			st_access(st, va, false, st->tag[i]);
			st->checks++;
		}
		st->accesses++;
	}
	return NULL;
}

static void st_run(int mode, uint64_t seed)
{
	static struct stress st;
	struct swap_pager_stats s;
	struct swt t;
	pthread_t te, tm;

	memset(&st, 0, sizeof(st));
	st.t = &t;
	st.seed_e = seed;
	st.seed_m = seed * 31 + 7;
	ck_assert_ptr_null(swt_begin_mode(&t, 512, 16, mode, 3));
	ck_assert_int_eq(swt_mmap(t.vm, SWT_VA, ST_PAGES), (long)SWT_VA);
	/* The object exists once the first page is there; pages never written read 0. */
	ck_assert(st_access(&st, SWT_VA, true, 1));
	st.tag[0] = 1;
	st.obj = swt_object(t.vm, SWT_VA, &st.pi);
	ck_assert_ptr_nonnull(st.obj);

	ck_assert_int_eq(pthread_create(&te, NULL, st_evictor, &st), 0);
	ck_assert_int_eq(pthread_create(&tm, NULL, st_mutator, &st), 0);
	/* Phase 1: both at it until a thousand pages went each way (or 5 seconds). */
	for (int i = 0; i < 5000 && __atomic_load_n(&st.why, __ATOMIC_ACQUIRE) == NULL; i++) {
		swap_pager_stats(&s);
		if (s.sps_pageouts >= 1000 && s.sps_pageins >= 1000)
			break;
		usleep(1000);
	}
	__atomic_store_n(&st.stop_evictor, 1, __ATOMIC_RELEASE);
	pthread_join(te, NULL);
	/* Phase 2: swapoff under the mutator's accesses. */
	swap_pager_stats(&s);
	ck_assert_msg(st.why == NULL, "%s", st.why);
	ck_assert_uint_ge(s.sps_pageouts, 1000);
	ck_assert_uint_ge(s.sps_pageins, 1000);
	ck_assert_int_eq(swap_pager_swapoff(), 0);
	uint64_t a = st.accesses;
	while (st.accesses < a + 500 && __atomic_load_n(&st.why, __ATOMIC_ACQUIRE) == NULL)
		usleep(1000);
	__atomic_store_n(&st.stop_mutator, 1, __ATOMIC_RELEASE);
	pthread_join(tm, NULL);
	ck_assert_msg(st.why == NULL, "%s (%llu evictions, %llu accesses)", st.why,
	    (unsigned long long)st.evictions, (unsigned long long)st.accesses);
	swap_pager_stats(&s);
	vmtest_log("swap_pager stress: %llu evictions, %llu accesses (%llu checks), %llu "
	    "page-outs, %llu page-ins\n", (unsigned long long)st.evictions,
	    (unsigned long long)st.accesses, (unsigned long long)st.checks,
	    (unsigned long long)s.sps_pageouts, (unsigned long long)s.sps_pageins);
	/* Every page: resident (swapoff), its bytes the mutator's last. */
	for (int i = 0; i < ST_PAGES; i++)
		ck_assert_msg(st_access(&st, SWT_VA + ptoa(i), false, st.tag[i]), "page %d", i);
	ck_assert_ptr_null(swap_pager_device());
	const char *why = swt_end(&t, NULL);
	ck_assert_msg(why == NULL, "%s", why);
}

START_TEST(evict_and_access_then_swapoff)
{
	st_run(_i == 0 ? SMD_THREAD : SMD_SYNC, 1000 + (uint64_t)_i);
}
END_TEST

/* swapoff with too little memory for the pages on swap: ENOMEM, still attached and
 * paging out; with the memory back, it goes through. */
START_TEST(swapoff_enomem)
{
	const int n = 300;
	static vm_page_t eaten[20000];
	struct vm_page_counts vc;
	struct swap_pager_stats s;
	struct swt t;
	vm_pindex_t pi;
	int neaten = 0;

	ck_assert_ptr_null(swt_begin(&t, 512, 16));
	ck_assert_int_eq(swt_mmap(t.vm, SWT_VA, n), (long)SWT_VA);
	ck_assert(swt_fill(&t, t.vm, SWT_VA, n, 0x31));
	struct vm_object *obj = swt_object(t.vm, SWT_VA, &pi);
	ck_assert_int_eq(swt_evict(&t, obj, pi, pi + 100, VM_PAGER_PUT_SYNC, NULL, NULL), 100);
	ck_assert_int_eq(swt_evict(&t, obj, pi + 100, pi + 200, VM_PAGER_PUT_SYNC, NULL, NULL),
	    100);
	ck_assert_int_eq(swt_evict(&t, obj, pi + 200, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL),
	    100);
	for (;;) {
		vm_page_counts_snapshot(&vc);
		if (vc.v_free_count < vc.v_free_reserved + (uint64_t)n / 2 ||
		    neaten == (int)(sizeof(eaten) / sizeof(eaten[0])))
			break;
		vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);
		if (m == NULL)
			break;
		eaten[neaten++] = m;
	}
	ck_assert_int_eq(swap_pager_swapoff(), ENOMEM);
	swap_pager_stats(&s);
	ck_assert_ptr_eq(swap_pager_device(), swap_memdev_dev(t.md));
	ck_assert_uint_eq(s.sps_used, (uint64_t)n);
	/* Still paging out: a page dirtied goes out again. */
	while (neaten > 0)
		vm_page_free(eaten[--neaten]);
	ck_assert(swt_fill(&t, t.vm, SWT_VA, 1, 0x32));
	ck_assert_int_eq(swt_evict(&t, obj, pi, pi + 1, VM_PAGER_PUT_SYNC, NULL, NULL), 1);
	ck_assert_int_eq(swap_pager_swapoff(), 0);
	ck_assert(swt_is(&t, t.vm, SWT_VA, 1, 0x32));
	ck_assert(swt_is(&t, t.vm, SWT_VA + PAGE_SIZE, n - 1, 0x31));
	const char *why = swt_end(&t, NULL);
	ck_assert_msg(why == NULL, "%s", why);
}
END_TEST

static Suite *swap_pager_suite(void)
{
	Suite *s = suite_create("swap_pager");
	TCase *tc = tcase_create("threads");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, completion_thread);
	tcase_add_loop_test(tc, evict_and_access_then_swapoff, 0, 2);
	tcase_add_test(tc, swapoff_enomem);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(swap_pager_suite);
