/*
 * Suite "pageout": the page daemon's scans and the laundry (vm/vm_pageout.h), one pass
 * at a time, on pages of an anonymous object of the test's own, mapped in a pmap of its
 * own (never loaded): the accessed and modified bits a CPU would set are set in the
 * real page-table entries pmap wrote. Where a page needs a pager, a test pager stands
 * in for swap as vm_pager_anon: it records the runs it is given and ends each write as
 * vm_pager.h's putpages contract says. Every test ends with the free page count back at
 * its start value and no object left.
 */
#include <string.h>

#include "vm/pmap.h"
#include "vm/vm_object.h"
#include "vm/vm_pageout.h"
#include "vm/vm_pagequeue.h"
#include "vm/vm_pager.h"
#include "tests/vmtests/vmtest.h"
#include "tests/vmtests/vmt_pmap.h"

#define POT_VA      0x40000000ul
#define POT_MAXPG   64
#define POT_MAXRUNS 16

struct pot_run {
	vm_pindex_t pr_first;
	int pr_count;
	bool pr_consecutive;        /* ascending, one index apart, all in the object */
};

/* The test pager's state (one test at a time). */
static struct {
	struct vm_object *pp_obj;
	int pp_answer;              /* VM_PAGER_OK or VM_PAGER_AGAIN */
	int pp_nruns;
	struct pot_run pp_runs[POT_MAXRUNS];
	bool pp_has[POT_MAXPG];     /* a copy of that index was written */
	vm_page_t pp_pend[POT_MAXPG];   /* VM_PAGER_PEND: writes the test ends later */
	int pp_npend;
	int pp_haspage_calls;
} pot_pager_state;

/* The end of the PEND writes, as an I/O completion would end them (vm_pager.h):
 * success leaves each page clean and unbusied where it is; an error leaves it dirty,
 * unbusied, back in the laundry queue. */
static void pot_pend_complete(struct vm_object *obj, bool error)
{
	vm_object_lock(obj);
	for (int i = 0; i < pot_pager_state.pp_npend; i++) {
		vm_page_t m = pot_pager_state.pp_pend[i];
		if (error) {
			vm_page_launder(m);
		} else {
			pot_pager_state.pp_has[m->pindex] = true;
			m->dirty = 0;
		}
		vm_page_xunbusy(m);
	}
	pot_pager_state.pp_npend = 0;
	vm_object_unlock(obj);
}

static void pot_putpages(struct vm_object *obj, vm_page_t *ma, int count, int flags,
    int *rtvals)
{
	struct pot_run r = { ma[0]->pindex, count, true };

	(void)flags;
	vm_object_assert_locked(obj);
	for (int i = 0; i < count; i++) {
		if (ma[i]->object != obj || ma[i]->pindex != r.pr_first + (vm_pindex_t)i ||
		    !vm_page_xbusied(ma[i]) || ma[i]->dirty == 0)
			r.pr_consecutive = false;
	}
	if (pot_pager_state.pp_nruns < POT_MAXRUNS)
		pot_pager_state.pp_runs[pot_pager_state.pp_nruns] = r;
	pot_pager_state.pp_nruns++;
	for (int i = 0; i < count; i++) {
		rtvals[i] = pot_pager_state.pp_answer;
		if (rtvals[i] == VM_PAGER_PEND && pot_pager_state.pp_npend < POT_MAXPG)
			pot_pager_state.pp_pend[pot_pager_state.pp_npend++] = ma[i];
		if (rtvals[i] != VM_PAGER_OK)
			continue;
		/* Written at once: clean, unbusied, left on its queue. */
		if (ma[i]->pindex < POT_MAXPG)
			pot_pager_state.pp_has[ma[i]->pindex] = true;
		ma[i]->dirty = 0;
		vm_page_xunbusy(ma[i]);
	}
}

static bool pot_haspage(struct vm_object *obj, vm_pindex_t pindex, int *before, int *after)
{
	pot_pager_state.pp_haspage_calls++;
	if (before != NULL)
		*before = 0;
	if (after != NULL)
		*after = 0;
	return obj == pot_pager_state.pp_obj && pindex < POT_MAXPG &&
	    pot_pager_state.pp_has[pindex];
}

static const struct vm_pager_ops pot_pager = {
	.pgo_name = "pageout-test", .pgo_putpages = pot_putpages,
	.pgo_haspage = pot_haspage,
};

struct pot_env {
	struct pmap pmap;
	struct vm_object *obj;
	vm_page_t m[POT_MAXPG];     /* by pindex; NULL where none was made */
	uint64_t free0;
	int nobj0;
	const struct vm_pager_ops *anon0;
	struct vm_pageout_stats s0;
};

/*
 * An anonymous object with a page at each index i < npages where present(i), each
 * mapped read-write at POT_VA + i pages (accessed, not modified), and the test pager as
 * vm_pager_anon when pager is true (none when false).
 */
static bool pot_begin(struct pot_env *env, int npages, bool (*present)(int), bool pager)
{
	pmap_init();
	memset(env, 0, sizeof(*env));
	memset(&pot_pager_state, 0, sizeof(pot_pager_state));
	pot_pager_state.pp_answer = VM_PAGER_OK;
	env->free0 = vmt_free_pages();
	env->nobj0 = vm_object_count();
	env->anon0 = vm_pager_anon;
	vm_pager_anon = pager ? &pot_pager : NULL;
	if (pmap_pinit(&env->pmap) != 0)
		return false;
	env->obj = vm_object_allocate(OBJT_DEFAULT, (vm_pindex_t)npages);
	pot_pager_state.pp_obj = env->obj;
	vm_object_lock(env->obj);
	for (int i = 0; i < npages; i++) {
		if (present != NULL && !present(i))
			continue;
		vm_page_t m = vm_page_alloc(env->obj, (vm_pindex_t)i, VM_ALLOC_NORMAL |
		    VM_ALLOC_ZERO);
		if (m == NULL)
			break;
		vm_page_xunbusy(m);
		env->m[i] = m;
		if (pmap_enter(&env->pmap, POT_VA + ptoa(i), m, VM_PROT_READ | VM_PROT_WRITE,
		    VM_PROT_READ) != 0)
			break;
	}
	vm_object_unlock(env->obj);
	vm_pqbatch_flush_all();         /* counted on the active queue from here */
	vm_pageout_stats(&env->s0);
	for (int i = 0; i < npages; i++)
		if ((present == NULL || present(i)) && env->m[i] == NULL)
			return false;
	return true;
}

/* Mappings, object, pmap gone; vm_pager_anon as it was; nothing leaked. */
static bool pot_end(struct pot_env *env)
{
	pmap_remove(&env->pmap, POT_VA, POT_VA + ptoa(POT_MAXPG));
	pmap_release(&env->pmap);
	vm_object_deallocate(env->obj);
	vm_pager_anon = env->anon0;
	uint64_t f = vmt_free_pages();
	if (f != env->free0 || vm_object_count() != env->nobj0)
		vmtest_log("pageout: %lld pages and %d objects leaked\n",
		    (long long)(env->free0 - f), vm_object_count() - env->nobj0);
	return f == env->free0 && vm_object_count() == env->nobj0;
}

/* The leaf entry of va, for setting what a CPU's access would set in it. */
static uint64_t *pot_leaf(struct pot_env *env, vm_offset_t va)
{
	uint64_t *t = vm_phys_to_dmap(env->pmap.pm_cr3);

	for (int shift = 39; shift >= 21; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];
		if ((e & PG_V) == 0)
			return NULL;
		t = vm_phys_to_dmap(e & PG_FRAME);
	}
	return &t[(va >> PAGE_SHIFT) & 511];
}

/* A CPU's read (accessed) or write (accessed and modified) of page i. */
static bool pot_touch(struct pot_env *env, int i, bool write)
{
	uint64_t *pte = pot_leaf(env, POT_VA + ptoa(i));

	if (pte == NULL || (*pte & PG_V) == 0 || (write && (*pte & PG_RW) == 0))
		return false;
	__atomic_fetch_or(pte, PG_A | (write ? PG_M : 0), __ATOMIC_RELAXED);
	return true;
}

/* Time passes: nothing referenced since now. */
static void pot_forget(struct pot_env *env, int npages)
{
	for (int i = 0; i < npages; i++)
		if (env->m[i] != NULL)
			(void)pmap_ts_referenced(env->m[i]);
}

static uint64_t pot_qcount(int q)
{
	return vm_pagequeues[q].pq_cnt;
}

static void pot_stats_delta(const struct pot_env *env, struct vm_pageout_stats *d)
{
	struct vm_pageout_stats s;
	const uint64_t *a = (const uint64_t *)&env->s0, *b = (const uint64_t *)&s;
	uint64_t *o = (uint64_t *)d;

	vm_pageout_stats(&s);
	for (size_t i = 0; i < sizeof(s) / sizeof(uint64_t); i++)
		o[i] = b[i] - a[i];
}

VMTEST(pageout, targets_from_ram)
{
	struct vm_pageout_targets t, b;
	struct vm_page_counts c;

	/* The formulas of vm_pageout.c for a 32 MiB guest (reserve 8 + 8192/256). */
	vm_pageout_targets_for(8192, 40, &t);
	VMT_ASSERT_EQ(t.free_min, 96);
	VMT_ASSERT_EQ(t.free_target, 264);
	VMT_ASSERT_EQ(t.inactive_target, 396);
	/* They grow with RAM and keep their order. */
	uint64_t prev = 0;
	for (uint64_t npages = 256; npages <= (1ull << 22); npages *= 4) {
		vm_pageout_targets_for(npages, 8 + npages / 256, &t);
		VMT_ASSERT(t.free_min > 8 + npages / 256);
		VMT_ASSERT(t.free_min < t.free_target && t.free_target < t.inactive_target);
		VMT_ASSERT(t.inactive_target < npages);
		VMT_ASSERT(t.free_min > prev);
		prev = t.free_min;
	}
	/* The running core's are those of its RAM, and the page counts show them. */
	vm_page_counts_snapshot(&c);
	vm_pageout_targets_for(c.v_page_count, c.v_free_reserved, &t);
	vm_pageout_get_targets(&b);
	VMT_ASSERT_EQ(b.free_min, t.free_min);
	VMT_ASSERT_EQ(b.free_target, t.free_target);
	VMT_ASSERT_EQ(c.v_free_min, t.free_min);
	VMT_ASSERT_EQ(c.v_free_target, t.free_target);
	VMT_ASSERT_EQ(c.v_inactive_target, t.inactive_target);
}

/* Anonymous pages go on the active queue when they enter their object, and leave the
 * queues when they leave it. */
VMTEST(pageout, object_pages_queued)
{
	struct pot_env env;
	uint64_t active0 = pot_qcount(PQ_ACTIVE);

	VMT_ASSERT(pot_begin(&env, 8, NULL, false));
	VMT_ASSERT_EQ(pot_qcount(PQ_ACTIVE), active0 + 8);
	for (int i = 0; i < 8; i++)
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_ACTIVE);
	vm_page_deactivate(env.m[3]);
	VMT_ASSERT(pot_end(&env));
	VMT_ASSERT_EQ(pot_qcount(PQ_ACTIVE), active0);

	/* New pages wait in their CPU's batch (a batch and a half here: one flush on the
	 * way); the counts see them, and freeing, moving or scanning them finds each in
	 * its place. */
	struct vm_page_counts c0, c1;
	vm_page_counts_snapshot(&c0);
	struct vm_object *obj = vm_object_allocate(OBJT_DEFAULT, 2 * VM_PQBATCH_SIZE);
	vm_page_t m[VM_PQBATCH_SIZE + VM_PQBATCH_SIZE / 2];
	int n = (int)(sizeof(m) / sizeof(m[0]));
	vm_object_lock(obj);
	for (int i = 0; i < n; i++) {
		m[i] = vm_page_alloc(obj, (vm_pindex_t)i, VM_ALLOC_NORMAL | VM_ALLOC_NOBUSY);
		VMT_ASSERT(m[i] != NULL);
		VMT_ASSERT_EQ(m[i]->queue, PQ_ACTIVE);
	}
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_active_count, c0.v_active_count + (uint64_t)n);
	vm_page_deactivate(m[n - 1]);               /* pending until now */
	/* Each batch is spliced on whole, in the order its pages came: the queue's tail
	 * is m[0..n-1) in allocation order, linked both ways. */
	struct vm_pagequeue *apq = &vm_pagequeues[PQ_ACTIVE];
	vm_pagequeue_lock(apq);
	struct vm_plinks *pl = apq->pq_pl.pl_prev;
	bool linked = true;
	for (int i = n - 2; i >= 0 && linked; i--, pl = pl->pl_prev)
		linked = pl == &m[i]->plinks && pl->pl_next->pl_prev == pl &&
		    pl->pl_prev->pl_next == pl;
	vm_pagequeue_unlock(apq);
	VMT_ASSERT(linked);
	VMT_ASSERT_EQ(m[n - 1]->queue, PQ_INACTIVE);
	vm_object_unlock(obj);
	vm_object_deallocate(obj);                  /* frees pages that may be pending */
	VMT_ASSERT_EQ(vm_pqbatch_pending(), 0);
	VMT_ASSERT_EQ(pot_qcount(PQ_ACTIVE), active0);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_active_count, c0.v_active_count);
	VMT_ASSERT_EQ(c1.v_inactive_count, c0.v_inactive_count);
}

/* Referenced pages back to the active queue, clean ones (a copy in the pager, nothing
 * modified) unmapped and freed, modified ones to the laundry. */
VMTEST(pageout, inactive_scan)
{
	struct pot_env env;
	struct vm_pageout_stats d;
	enum { N = 8 };

	VMT_ASSERT(pot_begin(&env, N, NULL, true));
	for (int i = 0; i < N; i++) {
		pot_pager_state.pp_has[i] = true;       /* as if written out before */
		vm_page_deactivate(env.m[i]);
	}
	pot_forget(&env, N);
	VMT_ASSERT(pot_touch(&env, 0, false));
	VMT_ASSERT(pot_touch(&env, 1, false));
	VMT_ASSERT(pot_touch(&env, 6, true));       /* accessed and modified */
	/* Modified without a new access: the scan must still see the modified bit. */
	VMT_ASSERT(pot_touch(&env, 7, true));
	(void)pmap_ts_referenced(env.m[7]);

	uint64_t inactive0 = pot_qcount(PQ_INACTIVE);
	uint64_t freed = vm_pageout_scan_inactive(UINT64_MAX, inactive0);
	VMT_ASSERT_EQ(freed, 4);
	pot_stats_delta(&env, &d);
	VMT_ASSERT_EQ(d.ps_freed, 4);
	VMT_ASSERT_EQ(d.ps_reactivated, 3);         /* 0, 1 and 6 (used) */
	VMT_ASSERT_EQ(d.ps_to_laundry, 1);          /* 7 */
	VMT_ASSERT_EQ(pot_qcount(PQ_INACTIVE), inactive0 - N);
	vm_object_lock(env.obj);
	VMT_ASSERT_EQ(env.obj->vo_resident_page_count, 4);
	for (int i = 2; i <= 5; i++) {
		VMT_ASSERT(vm_page_lookup(env.obj, (vm_pindex_t)i) == NULL);
		VMT_ASSERT_EQ(pmap_extract(&env.pmap, POT_VA + ptoa(i)), 0);
	}
	VMT_ASSERT_EQ(env.m[0]->queue, PQ_ACTIVE);
	VMT_ASSERT_EQ(env.m[1]->queue, PQ_ACTIVE);
	VMT_ASSERT_EQ(env.m[6]->queue, PQ_ACTIVE);
	VMT_ASSERT_EQ(env.m[7]->queue, PQ_LAUNDRY);
	VMT_ASSERT(env.m[7]->dirty != 0);
	VMT_ASSERT(pmap_extract(&env.pmap, POT_VA + ptoa(7)) != 0);  /* still mapped */
	for (int i = 0; i < N; i++)
		if (i < 2 || i > 5)
			VMT_ASSERT(!vm_page_busied(env.m[i]));
	vm_object_unlock(env.obj);
	VMT_ASSERT(pot_end(&env));
}

/* Without swap anonymous pages have no copy anywhere: none is freed, none goes to the
 * laundry (nobody could clean it), all go back to the active queue. */
VMTEST(pageout, no_swap_keeps_anonymous_pages)
{
	struct pot_env env;
	struct vm_pageout_stats d;
	enum { N = 6 };

	VMT_ASSERT(pot_begin(&env, N, NULL, false));
	for (int i = 0; i < N; i++)
		vm_page_deactivate(env.m[i]);
	pot_forget(&env, N);
	uint64_t laundry0 = pot_qcount(PQ_LAUNDRY);
	VMT_ASSERT_EQ(vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE)), 0);
	pot_stats_delta(&env, &d);
	VMT_ASSERT_EQ(d.ps_freed, 0);
	VMT_ASSERT_EQ(d.ps_unlaunderable, N);
	VMT_ASSERT_EQ(pot_qcount(PQ_LAUNDRY), laundry0);
	for (int i = 0; i < N; i++) {
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_ACTIVE);
		VMT_ASSERT(pmap_extract(&env.pmap, POT_VA + ptoa(i)) != 0);
	}
	/* A page in the laundry queue all the same goes back too: no spinning on it. */
	vm_page_launder(env.m[0]);
	VMT_ASSERT_EQ(vm_pageout_launder(UINT64_MAX, pot_qcount(PQ_LAUNDRY)), 0);
	VMT_ASSERT_EQ(env.m[0]->queue, PQ_ACTIVE);
	VMT_ASSERT(pot_end(&env));
}

/* Second chance: pages used since the last look stay active (at the tail), the others
 * go inactive; at the next look those are unused too. */
/* A run deactivated at once (the laundry's cluster): pages from the inactive and the
 * laundry queue, an active one, one pending in its CPU's batch and one on no queue all
 * end at the inactive queue's tail, the first two kinds in run order, then the others;
 * the counts follow and the referenced flags are gone. */
VMTEST(pageout, deactivate_run)
{
	struct pot_env env;

	VMT_ASSERT(pot_begin(&env, 6, NULL, false));
	vm_page_deactivate(env.m[0]);
	vm_page_deactivate(env.m[3]);
	vm_page_launder(env.m[1]);
	vm_page_dequeue(env.m[4]);
	vm_object_lock(env.obj);
	vm_page_t pend = vm_page_alloc(env.obj, 6, VM_ALLOC_NORMAL | VM_ALLOC_NOBUSY);
	vm_object_unlock(env.obj);
	VMT_ASSERT(pend != NULL);
	VMT_ASSERT_EQ(pend->queue, PQ_ACTIVE);
	vm_page_t run[6] = { env.m[4], env.m[1], env.m[0], env.m[2], pend, env.m[3] };
	for (int i = 0; i < 6; i++)
		__atomic_fetch_or(&run[i]->aflags, PGA_REFERENCED, __ATOMIC_RELAXED);
	struct vm_page_counts c0, c1;
	vm_page_counts_snapshot(&c0);
	vm_page_deactivate_pages(run, 6);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_inactive_count, c0.v_inactive_count + 4);
	VMT_ASSERT_EQ(c1.v_laundry_count, c0.v_laundry_count - 1);
	VMT_ASSERT_EQ(c1.v_active_count, c0.v_active_count - 2);
	const int order[6] = { 1, 2, 5, 0, 3, 4 };     /* indexes into run, tail last */
	struct vm_pagequeue *ipq = &vm_pagequeues[PQ_INACTIVE];
	vm_pagequeue_lock(ipq);
	struct vm_plinks *pl = ipq->pq_pl.pl_prev;
	bool tail = true;
	for (int i = 5; i >= 0 && tail; i--, pl = pl->pl_prev)
		tail = pl == &run[order[i]]->plinks && pl->pl_next->pl_prev == pl;
	vm_pagequeue_unlock(ipq);
	VMT_ASSERT(tail);
	for (int i = 0; i < 6; i++) {
		VMT_ASSERT_EQ(run[i]->queue, PQ_INACTIVE);
		VMT_ASSERT_EQ(run[i]->aflags & PGA_REFERENCED, 0);
	}
	VMT_ASSERT(pot_end(&env));
}

/* The inactive scan's runs done at once: vm_page_launder_pages (inactive, active and
 * pending pages all at the laundry tail, in order) and vm_page_free_obj_pages (pages on
 * different queues, one pending, one wired: all out of the object and off the queues,
 * the wired one left to its wirer, the others free). */
VMTEST(pageout, launder_and_free_runs)
{
	struct pot_env env;

	VMT_ASSERT(pot_begin(&env, 8, NULL, false));
	/* Unmapped first: the pages freed below must have no mapping. */
	pmap_remove(&env.pmap, POT_VA, POT_VA + ptoa(8));
	vm_page_deactivate(env.m[0]);
	vm_page_deactivate(env.m[1]);
	vm_object_lock(env.obj);
	vm_page_t pend = vm_page_alloc(env.obj, 8, VM_ALLOC_NORMAL | VM_ALLOC_NOBUSY);
	vm_object_unlock(env.obj);
	VMT_ASSERT(pend != NULL);
	vm_page_t run[4] = { env.m[1], env.m[2], pend, env.m[0] };
	struct vm_page_counts c0, c1;
	vm_page_counts_snapshot(&c0);
	vm_page_launder_pages(run, 4);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_laundry_count, c0.v_laundry_count + 4);
	VMT_ASSERT_EQ(c1.v_inactive_count, c0.v_inactive_count - 2);
	VMT_ASSERT_EQ(c1.v_active_count, c0.v_active_count - 2);
	const int order[4] = { 0, 3, 1, 2 };
	struct vm_pagequeue *lpq = &vm_pagequeues[PQ_LAUNDRY];
	vm_pagequeue_lock(lpq);
	struct vm_plinks *pl = lpq->pq_pl.pl_prev;
	bool tail = true;
	for (int i = 3; i >= 0 && tail; i--, pl = pl->pl_prev)
		tail = pl == &run[order[i]]->plinks && pl->pl_next->pl_prev == pl;
	vm_pagequeue_unlock(lpq);
	VMT_ASSERT(tail);

	/* Freed as a run: laundry, inactive, active, a pending page and a wired one. */
	vm_page_deactivate(env.m[3]);
	vm_page_wire(env.m[4]);
	vm_object_lock(env.obj);
	vm_page_t pend2 = vm_page_alloc(env.obj, 9, VM_ALLOC_NORMAL | VM_ALLOC_NOBUSY);
	VMT_ASSERT(pend2 != NULL);
	VMT_ASSERT_EQ(vm_pqbatch_pending(), 1);
	vm_page_t wired = env.m[4];
	vm_page_t fr[7] = { env.m[0], env.m[1], env.m[3], env.m[5], pend, pend2, wired };
	uint64_t res0 = env.obj->vo_resident_page_count;
	uint64_t free0 = vm_page_free_count();
	vm_page_counts_snapshot(&c0);
	vm_page_free_obj_pages(fr, 7);
	VMT_ASSERT_EQ(env.obj->vo_resident_page_count, res0 - 7);
	VMT_ASSERT_EQ(vm_page_free_count(), free0 + 6);
	VMT_ASSERT(vm_page_lookup(env.obj, 0) == NULL && vm_page_lookup(env.obj, 9) == NULL);
	vm_object_unlock(env.obj);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_laundry_count, c0.v_laundry_count - 3);
	VMT_ASSERT_EQ(c1.v_inactive_count, c0.v_inactive_count - 1);
	VMT_ASSERT_EQ(c1.v_active_count, c0.v_active_count - 3);   /* m[5], pend2, wired */
	VMT_ASSERT_EQ(vm_pqbatch_pending(), 0);
	VMT_ASSERT(wired->object == NULL && wired->queue == PQ_NONE && !vm_page_busied(wired));
	vm_page_unwire_noq(wired);
	vm_page_free(wired);
	for (int i = 0; i < 8; i++)
		if (i != 2 && i != 6 && i != 7)
			env.m[i] = NULL;
	VMT_ASSERT(pot_end(&env));
}

/* Whole stretches of a run that lie in run order on their queue are spliced over at
 * once: both queues stay well linked, counted and in the order asked, whether the
 * stretch ends its queue or not, and pages in reverse order move one by one. */
VMTEST(pageout, run_moves_splice)
{
	struct pot_env env;
	vm_page_t *m = env.m;

	VMT_ASSERT(pot_begin(&env, 10, NULL, false));
	for (int i = 0; i < 10; i++)
		vm_page_deactivate(m[i]);             /* inactive tail: m0 .. m9 */
	/* m2..m4 in the middle of the inactive queue, then m9 (its tail), then m7, m6
	 * against their order, then m8 (after m7 in the queue, no longer after m6). */
	vm_page_t run[7] = { m[2], m[3], m[4], m[9], m[7], m[6], m[8] };
	struct vm_page_counts c0, c1;
	vm_page_counts_snapshot(&c0);
	vm_page_launder_pages(run, 7);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_laundry_count, c0.v_laundry_count + 7);
	VMT_ASSERT_EQ(c1.v_inactive_count, c0.v_inactive_count - 7);
	/* And back: m0 m1 m5 stayed, the whole laundry run returns in one stretch. */
	bool ok = true;
	for (int q = PQ_INACTIVE; q <= PQ_LAUNDRY; q += PQ_LAUNDRY - PQ_INACTIVE) {
		struct vm_pagequeue *pq = &vm_pagequeues[q];
		vm_pagequeue_lock(pq);
		uint64_t n = 0;
		for (struct vm_plinks *pl = pq->pq_pl.pl_next; pl != &pq->pq_pl; pl = pl->pl_next) {
			ok = ok && pl->pl_next->pl_prev == pl && pl->pl_prev->pl_next == pl &&
			    vm_plinks_page(pl)->queue == q;
			n++;
		}
		ok = ok && n == pq->pq_cnt;
		if (q == PQ_LAUNDRY) {
			struct vm_plinks *pl = pq->pq_pl.pl_prev;
			for (int i = 6; i >= 0 && ok; i--, pl = pl->pl_prev)
				ok = pl == &run[i]->plinks;
		} else {
			const int stay[3] = { 0, 1, 5 };
			struct vm_plinks *pl = pq->pq_pl.pl_prev;
			for (int i = 2; i >= 0 && ok; i--, pl = pl->pl_prev)
				ok = pl == &m[stay[i]]->plinks;
		}
		vm_pagequeue_unlock(pq);
	}
	VMT_ASSERT(ok);
	vm_page_deactivate_pages(run, 7);
	vm_page_counts_snapshot(&c1);
	VMT_ASSERT_EQ(c1.v_laundry_count, c0.v_laundry_count);
	VMT_ASSERT_EQ(c1.v_inactive_count, c0.v_inactive_count);
	struct vm_pagequeue *ipq = &vm_pagequeues[PQ_INACTIVE];
	vm_pagequeue_lock(ipq);
	struct vm_plinks *pl = ipq->pq_pl.pl_prev;
	for (int i = 6; i >= 0 && ok; i--, pl = pl->pl_prev)
		ok = pl == &run[i]->plinks && pl->pl_next->pl_prev == pl;
	vm_pagequeue_unlock(ipq);
	VMT_ASSERT(ok);
	VMT_ASSERT(pot_end(&env));
}

/* The inactive scan takes a page's queue neighbours of the same object along under
 * one hold of the queue's lock: pages of two objects interleaved on the queue, and a
 * run longer than an object's lock is kept for, are each handled under their own
 * object's lock: the first object's clean pages freed, the other's (no copy in the
 * pager) sent to the laundry. */
VMTEST(pageout, scan_gathers_per_object)
{
	struct pot_env env;
	struct vm_pageout_stats d;
	enum { NA = 40, NB = 4 };
	vm_page_t b[NB];

	VMT_ASSERT(pot_begin(&env, NA, NULL, true));
	struct vm_object *ob = vm_object_allocate(OBJT_DEFAULT, NB);
	vm_object_lock(ob);
	for (int i = 0; i < NB; i++) {
		b[i] = vm_page_alloc(ob, (vm_pindex_t)i, VM_ALLOC_NORMAL | VM_ALLOC_NOBUSY);
		VMT_ASSERT(b[i] != NULL);
	}
	vm_object_unlock(ob);
	vm_pqbatch_flush_all();
	pot_forget(&env, NA);
	/* Queue order: a0..a5 b0 b1 a6..a39 b2 b3. */
	for (int i = 0; i < NA; i++) {
		pot_pager_state.pp_has[i] = true;
		vm_page_deactivate(env.m[i]);
		if (i == 5) {
			vm_page_deactivate(b[0]);
			vm_page_deactivate(b[1]);
		}
	}
	vm_page_deactivate(b[2]);
	vm_page_deactivate(b[3]);
	uint64_t freed = vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE));
	VMT_ASSERT_EQ(freed, NA);
	pot_stats_delta(&env, &d);
	VMT_ASSERT_EQ(d.ps_freed, NA);
	VMT_ASSERT_EQ(d.ps_to_laundry, NB);
	VMT_ASSERT_EQ(env.obj->vo_resident_page_count, 0);
	for (int i = 0; i < NB; i++) {
		VMT_ASSERT_EQ(b[i]->queue, PQ_LAUNDRY);
		VMT_ASSERT(b[i]->object == ob && !vm_page_busied(b[i]));
	}
	for (int i = 0; i < NA; i++)
		env.m[i] = NULL;
	vm_object_deallocate(ob);
	VMT_ASSERT(pot_end(&env));
}

/* vm_page_free_pages: a stretch of consecutive pages goes to the buddy lists as a run,
 * the rest one by one (through the CPU's cache); every page is free again and the free
 * lists stay sound. */
VMTEST(pageout, free_pages_runs)
{
	enum { N = 12 };
	vm_page_t ma[N + 3];

	pmap_init();
	(void)vmt_free_pages();
	uint64_t free0 = vmt_count_free_pages();
	vm_page_t run = vm_page_alloc_noobj_contig(VM_ALLOC_SYSTEM, N, 0, ~0ull, PAGE_SIZE, 0);
	VMT_ASSERT(run != NULL);
	for (int i = 0; i < 3; i++) {
		ma[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);
		VMT_ASSERT(ma[i] != NULL);
	}
	/* Three singles, then the run of N, its last two pages out of order. */
	for (int i = 0; i < N; i++)
		ma[3 + i] = &run[i];
	ma[3 + N - 1] = &run[N - 2];
	ma[3 + N - 2] = &run[N - 1];
	vm_page_free_pages(ma, N + 3);
	VMT_ASSERT_EQ(vmt_count_free_pages(), free0);
	vm_phys_lock();
	uint64_t bad = vm_phys_verify_sample(2048);
	vm_phys_unlock();
	VMT_ASSERT_EQ(bad, 0);
	for (int i = 0; i < N; i++)
		VMT_ASSERT(run[i].object == NULL && run[i].ref_count == 0);
}

/* A page the inactive scan finds without a copy in its pager goes to the laundry
 * dirty (it must be written whatever its mappings say), so the laundry and its
 * clustering do not ask the pager about it again. */
VMTEST(pageout, laundry_trusts_scan_dirty)
{
	struct pot_env env;
	enum { N = 4 };

	VMT_ASSERT(pot_begin(&env, N, NULL, true));
	for (int i = 0; i < N; i++)
		vm_page_deactivate(env.m[i]);
	pot_forget(&env, N);
	(void)vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE));
	for (int i = 0; i < N; i++) {
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_LAUNDRY);
		VMT_ASSERT_EQ(env.m[i]->dirty, VM_PAGE_BITS_ALL);
	}
	pot_pager_state.pp_haspage_calls = 0;
	VMT_ASSERT_EQ(vm_pageout_launder(N, pot_qcount(PQ_LAUNDRY)), N);
	VMT_ASSERT_EQ(pot_pager_state.pp_nruns, 1);
	VMT_ASSERT_EQ(pot_pager_state.pp_runs[0].pr_count, N);
	VMT_ASSERT_EQ(pot_pager_state.pp_haspage_calls, 0);
	VMT_ASSERT(pot_end(&env));
}

VMTEST(pageout, active_ages_down)
{
	struct pot_env env;
	enum { N = 8 };

	VMT_ASSERT(pot_begin(&env, N, NULL, false));
	pot_forget(&env, N);
	for (int i = 0; i < 3; i++)
		VMT_ASSERT(pot_touch(&env, i, i == 2));
	uint64_t inactive0 = pot_qcount(PQ_INACTIVE);
	VMT_ASSERT_EQ(vm_pageout_scan_active(UINT64_MAX, pot_qcount(PQ_ACTIVE)), N - 3);
	VMT_ASSERT_EQ(pot_qcount(PQ_INACTIVE), inactive0 + N - 3);
	for (int i = 0; i < N; i++)
		VMT_ASSERT_EQ(env.m[i]->queue, i < 3 ? PQ_ACTIVE : PQ_INACTIVE);
	/* A target stops the scan: one page, then the rest. */
	VMT_ASSERT_EQ(vm_pageout_scan_active(1, pot_qcount(PQ_ACTIVE)), 1);
	VMT_ASSERT_EQ(vm_pageout_scan_active(UINT64_MAX, pot_qcount(PQ_ACTIVE)), 2);
	for (int i = 0; i < N; i++)
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_INACTIVE);
	VMT_ASSERT(pot_end(&env));
}

static bool pot_cluster_present(int i)
{
	return i < 40 || (i >= 45 && i < 49);
}

/* The laundry hands the pager runs of consecutive dirty pages of one object, in index
 * order, at most VM_PAGEOUT_CLUSTER long, unmapped; the pages come back clean,
 * unbusied, on the inactive queue, where the next scan frees them. */
VMTEST(pageout, laundry_clusters)
{
	struct pot_env env;
	struct vm_pageout_stats d;
	enum { N = 49, NPRESENT = 44 };

	VMT_ASSERT(pot_begin(&env, N, pot_cluster_present, true));
	for (int i = 0; i < N; i++)
		if (env.m[i] != NULL)
			vm_page_launder(env.m[i]);
	pot_forget(&env, N);
	VMT_ASSERT(pot_touch(&env, 3, true));       /* written just before: still dirty */
	(void)pmap_ts_referenced(env.m[3]);
	uint64_t took = vm_pageout_launder(UINT64_MAX, pot_qcount(PQ_LAUNDRY));
	VMT_ASSERT_EQ(took, NPRESENT);
	VMT_ASSERT_EQ(pot_pager_state.pp_nruns, 3);
	const struct pot_run want[3] = { { 0, 32, true }, { 32, 8, true }, { 45, 4, true } };
	for (int r = 0; r < 3; r++) {
		VMT_ASSERT_EQ(pot_pager_state.pp_runs[r].pr_first, want[r].pr_first);
		VMT_ASSERT_EQ(pot_pager_state.pp_runs[r].pr_count, want[r].pr_count);
		VMT_ASSERT(pot_pager_state.pp_runs[r].pr_consecutive);
	}
	pot_stats_delta(&env, &d);
	VMT_ASSERT_EQ(d.ps_laundered, NPRESENT);
	for (int i = 0; i < N; i++) {
		if (env.m[i] == NULL)
			continue;
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_INACTIVE);
		VMT_ASSERT_EQ(env.m[i]->dirty, 0);
		VMT_ASSERT(!vm_page_busied(env.m[i]));
		/* Unmapped for the write (more than the write protection the contract
		 * asks): any access now would fault first. */
		VMT_ASSERT_EQ(pmap_extract(&env.pmap, POT_VA + ptoa(i)), 0);
		VMT_ASSERT(!pmap_page_is_mapped(env.m[i]));
	}
	/* Clean now, with their copies in the pager: the daemon frees every one. */
	VMT_ASSERT_EQ(vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE)),
	    NPRESENT);
	vm_object_lock(env.obj);
	VMT_ASSERT_EQ(env.obj->vo_resident_page_count, 0);
	vm_object_unlock(env.obj);
	VMT_ASSERT(pot_end(&env));
}

/* A pager that says AGAIN (swap full): the pages stay dirty and in memory, leave the
 * laundry for the active queue, the pass ends at the first refusal, and the daemon
 * stops sending pages to the laundry until the pager takes some again. */
VMTEST(pageout, laundry_again_not_spun)
{
	struct pot_env env;
	enum { N = 8 };

	VMT_ASSERT(pot_begin(&env, N, NULL, true));
	for (int i = 0; i < N; i++)
		vm_page_launder(env.m[i]);
	/* Two runs would be two calls: a page in the middle that is in use (wired)
	 * splits them. */
	vm_page_wire(env.m[4]);
	pot_forget(&env, N);
	pot_pager_state.pp_answer = VM_PAGER_AGAIN;
	VMT_ASSERT_EQ(vm_pageout_launder(UINT64_MAX, pot_qcount(PQ_LAUNDRY)), 0);
	VMT_ASSERT_EQ(pot_pager_state.pp_nruns, 1);
	VMT_ASSERT_EQ(pot_pager_state.pp_runs[0].pr_count, 4);
	for (int i = 0; i < 4; i++) {
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_ACTIVE);
		VMT_ASSERT(env.m[i]->dirty != 0);
		VMT_ASSERT(!vm_page_busied(env.m[i]));
	}
	/* The pass ended: the rest wait in the laundry. */
	for (int i = 5; i < N; i++)
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_LAUNDRY);
	vm_page_unwire(env.m[4], PQ_NONE);
	/* While the pager refuses, the inactive scan keeps dirty pages out of the
	 * laundry. */
	for (int i = 0; i < 4; i++)
		vm_page_deactivate(env.m[i]);
	uint64_t laundry0 = pot_qcount(PQ_LAUNDRY);
	VMT_ASSERT_EQ(vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE)), 0);
	VMT_ASSERT_EQ(pot_qcount(PQ_LAUNDRY), laundry0);
	for (int i = 0; i < 4; i++)
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_ACTIVE);
	/* Space again: the laundry's next success lets the daemon send pages again. */
	pot_pager_state.pp_answer = VM_PAGER_OK;
	for (int i = 0; i < N; i++)
		vm_page_launder(env.m[i]);
	VMT_ASSERT_EQ(vm_pageout_launder(UINT64_MAX, pot_qcount(PQ_LAUNDRY)), N);
	env.m[0]->dirty = VM_PAGE_BITS_ALL;         /* written again since */
	laundry0 = pot_qcount(PQ_LAUNDRY);
	VMT_ASSERT_EQ(vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE)), N - 1);
	VMT_ASSERT_EQ(pot_qcount(PQ_LAUNDRY), laundry0 + 1);
	VMT_ASSERT_EQ(env.m[0]->queue, PQ_LAUNDRY);
	VMT_ASSERT(pot_end(&env));
}

/* Writes the pager ends later (PEND): the pages stay busy, the daemon passes over them
 * meanwhile; after a failed write they are dirty in the laundry again (and written once
 * more by the next pass); after a good one the daemon frees them. */
VMTEST(pageout, laundry_pend_then_complete)
{
	struct pot_env env;
	enum { N = 6 };

	VMT_ASSERT(pot_begin(&env, N, NULL, true));
	for (int i = 0; i < N; i++)
		vm_page_launder(env.m[i]);
	pot_forget(&env, N);
	pot_pager_state.pp_answer = VM_PAGER_PEND;
	VMT_ASSERT_EQ(vm_pageout_launder(UINT64_MAX, pot_qcount(PQ_LAUNDRY)), N);
	VMT_ASSERT_EQ(pot_pager_state.pp_npend, N);
	for (int i = 0; i < N; i++) {
		VMT_ASSERT(vm_page_xbusied(env.m[i]));
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_INACTIVE);
	}
	/* In flight: nothing to free, nothing moved. */
	VMT_ASSERT_EQ(vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE)), 0);
	for (int i = 0; i < N; i++)
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_INACTIVE);
	/* The write failed: dirty, in the laundry, and the next pass writes them again. */
	pot_pend_complete(env.obj, true);
	for (int i = 0; i < N; i++) {
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_LAUNDRY);
		VMT_ASSERT(env.m[i]->dirty != 0 && !vm_page_busied(env.m[i]));
	}
	pot_pager_state.pp_answer = VM_PAGER_OK;
	int runs0 = pot_pager_state.pp_nruns;
	VMT_ASSERT_EQ(vm_pageout_launder(UINT64_MAX, pot_qcount(PQ_LAUNDRY)), N);
	VMT_ASSERT_EQ(pot_pager_state.pp_nruns, runs0 + 1);
	VMT_ASSERT_EQ(vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE)), N);
	vm_object_lock(env.obj);
	VMT_ASSERT_EQ(env.obj->vo_resident_page_count, 0);
	vm_object_unlock(env.obj);
	VMT_ASSERT(pot_end(&env));
}

/* A dying object's pages are its terminator's to free: the scans leave them alone. */
VMTEST(pageout, dying_object_passed_over)
{
	struct pot_env env;
	enum { N = 4 };

	VMT_ASSERT(pot_begin(&env, N, NULL, true));
	for (int i = 0; i < N; i++) {
		pot_pager_state.pp_has[i] = true;
		vm_page_deactivate(env.m[i]);
	}
	pot_forget(&env, N);
	vm_object_lock(env.obj);
	env.obj->vo_flags |= OBJ_DEAD;
	vm_object_unlock(env.obj);
	VMT_ASSERT_EQ(vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE)), 0);
	for (int i = 0; i < N; i++)
		VMT_ASSERT_EQ(env.m[i]->queue, PQ_INACTIVE);
	vm_object_lock(env.obj);
	env.obj->vo_flags &= (uint16_t)~OBJ_DEAD;
	vm_object_unlock(env.obj);
	VMT_ASSERT_EQ(vm_pageout_scan_inactive(UINT64_MAX, pot_qcount(PQ_INACTIVE)), N);
	VMT_ASSERT(pot_end(&env));
}
