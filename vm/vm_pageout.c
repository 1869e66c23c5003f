/*
 * The page daemon and the laundry (vm_pageout.h; docs/vm-core.md, "Page daemon and
 * laundry").
 *
 * Targets, in pages of managed RAM (npages), above the NORMAL class's reserve
 * free_reserved (8 + npages/256, vm_page.c), after FreeBSD's vm_pageout_init:
 *   free_min         free_reserved + 16 + npages/200   (about 0.5% of RAM above the
 *                    reserve: the daemon starts before NORMAL requests start failing)
 *   free_target      free_reserved + 4 * (free_min - free_reserved)
 *   inactive_target  free_target * 3 / 2   (enough inactive pages to meet the target
 *                    from one scan when most of them are clean)
 * A 32 MiB guest (8192 pages): reserve 40, free_min 96, free_target 264, inactive 396.
 *
 * A page is clean, and may be freed, when nothing modified it (m->dirty 0 and no
 * modified mapping) and its pager holds a copy (pgo_haspage). Anonymous memory has no
 * copy until the laundry wrote it, so without swap its pages are never freed: they go
 * back to the active queue instead of the laundry, and if allocations still wait the
 * out-of-memory judgement kills a process.
 */
#include "vm/pmap.h"
#include "vm/vm_lowmem.h"
#include "vm/vm_object.h"
#include "vm/vm_fault.h"
#include "vm/vm_pageout.h"
#include "vm/vm_pagequeue.h"
#include "vm/vm_pager.h"

/* Passes after a kill before the next one may be judged: the victim's memory is
 * freed as it exits. */
#define VM_PAGEOUT_OOM_QUIET    10
/* Futile passes must also span this long before a kill: a pager's writes in flight
 * free nothing until they end, and a pass comes every few milliseconds while memory is
 * short (vm_pageout_set_oom_delay changes it, for tests). */
#define VM_PAGEOUT_OOM_DELAY_NS 500000000ull
/* A pass nobody asked for (no allocation failed) that achieved nothing is not
 * repeated sooner than this: without swap a full RAM has nothing to free, and each scan
 * clears accessed bits the program then refaults to set. */
#define VM_PAGEOUT_IDLE_NS      100000000ull
/* Daemon passes a refusing pager (VM_PAGER_AGAIN: swap full) is left alone for before
 * the laundry tries it again. */
#define VM_PAGEOUT_FULL_PASSES  16

static struct vm_pageout_targets vm_pageout_tgt;   /* boot or tests; read racily */
static struct vm_pageout_stats vm_pageout_counts;  /* atomic */

static struct mtx vm_pageout_mtx;   /* the two threads' sleeps and wakeups */
static bool vm_pageout_wanted;      /* atomic: the daemon is asked for a pass */
static bool vm_pageout_short;       /* atomic: an allocation failed since the last pass */
static uint64_t vm_laundry_request; /* atomic: pages the daemon asks the laundry for */
static uint32_t vm_pageout_full;    /* atomic: passes left before the pager is tried
                                       again after it refused (swap full) */

static int vm_pageout_futile;               /* D: futile short passes in a row */
static uint64_t vm_pageout_futile_since;    /* D: when the first of them ended */
static uint64_t vm_pageout_oom_delay = VM_PAGEOUT_OOM_DELAY_NS; /* boot or tests */
static int vm_pageout_quiet;                /* D: passes left after a kill */
static uint64_t vm_pageout_laundered_seen;  /* D: ps_laundered at the last pass */
static uint64_t vm_pageout_majflt_seen;     /* D: vm_fault's vfs_major at the last pass */
static uint64_t vm_pageout_idle_until;      /* D: no background pass before this */

#define PS_ADD(field, n) \
	__atomic_add_fetch(&vm_pageout_counts.field, (uint64_t)(n), __ATOMIC_RELAXED)

/* ---- targets ------------------------------------------------------------------------ */

void vm_pageout_targets_for(uint64_t npages, uint64_t free_reserved,
    struct vm_pageout_targets *out)
{
	out->free_min = free_reserved + 16 + npages / 200;
	out->free_target = free_reserved + 4 * (out->free_min - free_reserved);
	out->inactive_target = out->free_target * 3 / 2;
}

void vm_pageout_startup(uint64_t npages, uint64_t free_reserved)
{
	vm_pageout_targets_for(npages, free_reserved, &vm_pageout_tgt);
}

void vm_pageout_reset(void)
{
	mtx_init(&vm_pageout_mtx, "vm_pageout");
	memset(&vm_pageout_tgt, 0, sizeof(vm_pageout_tgt));
	memset(&vm_pageout_counts, 0, sizeof(vm_pageout_counts));
	vm_pageout_wanted = vm_pageout_short = false;
	vm_laundry_request = 0;
	vm_pageout_full = 0;
	vm_pageout_futile = vm_pageout_quiet = 0;
	vm_pageout_futile_since = 0;
	vm_pageout_oom_delay = VM_PAGEOUT_OOM_DELAY_NS;
	vm_pageout_laundered_seen = 0;
	vm_pageout_majflt_seen = 0;
	vm_pageout_idle_until = 0;
}

void vm_pageout_set_oom_delay(uint64_t ns)
{
	vm_pageout_oom_delay = ns;
}

void vm_pageout_get_targets(struct vm_pageout_targets *out)
{
	*out = vm_pageout_tgt;
}

void vm_pageout_set_targets(const struct vm_pageout_targets *t)
{
	KASSERT(t->free_min <= t->free_target && t->free_target <= t->inactive_target,
	    ("vm_pageout_set_targets: %llu > %llu or > %llu",
	    (unsigned long long)t->free_min, (unsigned long long)t->free_target,
	    (unsigned long long)t->inactive_target));
	vm_pageout_tgt = *t;
}

uint64_t vm_pageout_free_target(void)
{
	return __atomic_load_n(&vm_pageout_tgt.free_target, __ATOMIC_RELAXED);
}

void vm_pageout_stats(struct vm_pageout_stats *out)
{
	const uint64_t *src = (const uint64_t *)&vm_pageout_counts;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- wakeups -------------------------------------------------------------------------- */

/* The flag is set before the lock is taken, and the sleeper tests it under the lock:
 * a wakeup between its test and its sleep waits for the sleep to release the lock. */
void vm_pageout_wakeup(bool shortage)
{
	if (shortage)
		__atomic_store_n(&vm_pageout_short, true, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&vm_pageout_wanted, true, __ATOMIC_ACQ_REL))
		return;
	mtx_lock(&vm_pageout_mtx);
	vm_wakeup(&vm_pageout_wanted);
	mtx_unlock(&vm_pageout_mtx);
}

void vm_pageout_daemon_wait(uint64_t timeout_ns)
{
	mtx_lock(&vm_pageout_mtx);
	if (!__atomic_load_n(&vm_pageout_wanted, __ATOMIC_ACQUIRE))
		(void)vm_sleep(&vm_pageout_wanted, &vm_pageout_mtx, "pgdaemon", timeout_ns);
	mtx_unlock(&vm_pageout_mtx);
}

static void vm_pageout_laundry_ask(uint64_t npages)
{
	__atomic_add_fetch(&vm_laundry_request, npages, __ATOMIC_ACQ_REL);
	mtx_lock(&vm_pageout_mtx);
	vm_wakeup(&vm_laundry_request);
	mtx_unlock(&vm_pageout_mtx);
}

void vm_pageout_laundry_wait(uint64_t timeout_ns)
{
	mtx_lock(&vm_pageout_mtx);
	if (__atomic_load_n(&vm_laundry_request, __ATOMIC_ACQUIRE) == 0)
		(void)vm_sleep(&vm_laundry_request, &vm_pageout_mtx, "laundry", timeout_ns);
	mtx_unlock(&vm_pageout_mtx);
}

/* ---- the scans' cursor ----------------------------------------------------------------- */

/*
 * A scan walks its queue with a marker page behind the page it works on, so that it
 * can drop the queue's lock for each page (the object's lock comes first in the lock
 * order) and carry on from the marker. Markers are skipped by every scan and counted in
 * no queue. The object of the last page stays locked for the next one when that is in
 * the same object (pages of one object come in runs), up to VM_PAGEOUT_OBJ_RUN pages,
 * so that a fault on the object never waits long.
 */
#define VM_PAGEOUT_OBJ_RUN      32
/* Pages of the object just locked that follow its first page on the queue, taken under
 * the same hold of the queue's lock (a lock round trip and a marker move a page less). */
#define VM_PAGEOUT_GATHER       16

struct vm_pageout_cursor {
	struct vm_page pc_marker;
	struct vm_pagequeue *pc_pq;
	struct vm_object *pc_obj;       /* locked: the last page's object, or NULL */
	int pc_run;                     /* pages in a row pc_obj stayed locked for */
	/* Pages of pc_obj the inactive scan decided on, busied, done all at once when
	 * pc_obj is let go of (one queue lock round trip and one free for the run):
	 * clean and unmapped, to free; dirty, to launder. */
	int pc_nfree, pc_nlaunder;
	vm_page_t pc_free[VM_PAGEOUT_OBJ_RUN];
	vm_page_t pc_launder[VM_PAGEOUT_OBJ_RUN];
	/* Pages of pc_obj gathered behind the last one returned, still to return (the
	 * marker is past them; each is looked at again by its caller, who finds it moved
	 * if it was). */
	int pc_igot, pc_ngot;
	vm_page_t pc_got[VM_PAGEOUT_GATHER];
};

/* The decisions waiting on c, made. => their object locked, no queue lock held. */
static void vm_pageout_cursor_flush(struct vm_pageout_cursor *c)
{
	if (c->pc_nfree > 0) {
		vm_page_free_obj_pages(c->pc_free, c->pc_nfree);
		c->pc_nfree = 0;
	}
	if (c->pc_nlaunder > 0) {
		vm_page_launder_pages(c->pc_launder, c->pc_nlaunder);
		for (int i = 0; i < c->pc_nlaunder; i++)
			vm_page_xunbusy(c->pc_launder[i]);
		c->pc_nlaunder = 0;
	}
}

/* Let go of c's object, its decisions made first. => no queue lock held. */
static void vm_pageout_cursor_release(struct vm_pageout_cursor *c, struct vm_object *obj)
{
	vm_pageout_cursor_flush(c);
	vm_object_unlock(obj);
}

static void vm_pageout_cursor_start(struct vm_pageout_cursor *c, int queue)
{
	vm_pqbatch_flush_all();         /* new pages, pending in batches, join first */
	memset(c, 0, sizeof(*c));
	c->pc_marker.flags = PG_MARKER;
	c->pc_pq = &vm_pagequeues[queue];
	vm_pagequeue_lock(c->pc_pq);
	vm_plinks_insert_head(&c->pc_pq->pq_pl, &c->pc_marker);
	vm_pagequeue_unlock(c->pc_pq);
}

static void vm_pageout_cursor_end(struct vm_pageout_cursor *c)
{
	if (c->pc_obj != NULL)
		vm_pageout_cursor_release(c, c->pc_obj);
	c->pc_obj = NULL;
	vm_pagequeue_lock(c->pc_pq);
	vm_plinks_remove(&c->pc_marker);
	vm_pagequeue_unlock(c->pc_pq);
}

/*
 * The next page after the marker, which moves past it, with its object locked (in
 * c->pc_obj), or NULL at the queue's end. Pages in no object are not the daemon's (a
 * wirer's page its object let go of): they leave the queue. Pages whose object is
 * locked by someone else, or dying, are passed over.
 * => the queue unlocked on entry and on return; c->pc_obj locked or NULL.
 */
static vm_page_t vm_pageout_cursor_next(struct vm_pageout_cursor *c)
{
	struct vm_pagequeue *pq = c->pc_pq;
	/* The object whose decisions wait, let go of when the queue's lock is (the
	 * flush takes queue locks). */
	struct vm_object *done = NULL;

	/* pc_obj stayed locked since they were gathered: they are still in it. */
	if (c->pc_igot < c->pc_ngot) {
		c->pc_run++;
		return c->pc_got[c->pc_igot++];
	}
	c->pc_igot = c->pc_ngot = 0;
	if (c->pc_obj != NULL && ++c->pc_run >= VM_PAGEOUT_OBJ_RUN) {
		vm_pageout_cursor_release(c, c->pc_obj);
		c->pc_obj = NULL;
	}
	vm_pagequeue_lock(pq);
	for (;;) {
		struct vm_plinks *pl = c->pc_marker.plinks.pl_next;
		if (pl == &pq->pq_pl) {
			vm_pagequeue_unlock(pq);
			if (done != NULL)
				vm_pageout_cursor_release(c, done);
			return NULL;
		}
		vm_page_t m = vm_plinks_page(pl);
		vm_plinks_remove(&c->pc_marker);
		vm_plinks_insert_after(&m->plinks, &c->pc_marker);
		if ((m->flags & PG_MARKER) != 0)
			continue;
		struct vm_object *obj = __atomic_load_n(&m->object, __ATOMIC_ACQUIRE);
		if (obj == NULL || (m->flags & (PG_UNMANAGED | PG_FICTITIOUS)) != 0) {
			vm_pagequeue_remove(pq, m);
			continue;
		}
		if (obj != c->pc_obj) {
			/* Alive while m is on the queue in it (vm_pageout.h): the trylock is
			 * safe; a trylock, as the queue's lock is held (and the last object's:
			 * trylocks never wait, so two object locks are no deadlock). */
			if (!mtx_trylock(&obj->vo_lock))
				continue;
			if (c->pc_obj != NULL) {
				/* Only the object the call began with has decisions. */
				if (done == NULL && c->pc_nfree + c->pc_nlaunder > 0)
					done = c->pc_obj;
				else
					vm_object_unlock(c->pc_obj);
			}
			c->pc_obj = obj;
			c->pc_run = 0;
		}
		/* A dying object's pages are freed by its end: nothing to write or move. */
		if ((obj->vo_flags & OBJ_DEAD) != 0)
			continue;
		/* Its neighbours on the queue in the same object come along, within the
		 * object's run (pc_run stays below VM_PAGEOUT_OBJ_RUN while they are
		 * returned). */
		int room = MIN(VM_PAGEOUT_GATHER, VM_PAGEOUT_OBJ_RUN - 1 - c->pc_run);
		for (pl = c->pc_marker.plinks.pl_next; c->pc_ngot < room && pl != &pq->pq_pl;
		    pl = pl->pl_next) {
			vm_page_t p = vm_plinks_page(pl);
			if ((p->flags & (PG_MARKER | PG_UNMANAGED | PG_FICTITIOUS)) != 0 ||
			    p->object != obj)
				break;
			c->pc_got[c->pc_ngot++] = p;
		}
		if (c->pc_ngot > 0) {
			vm_plinks_remove(&c->pc_marker);
			vm_plinks_insert_after(&c->pc_got[c->pc_ngot - 1]->plinks,
			    &c->pc_marker);
		}
		vm_pagequeue_unlock(pq);
		if (done != NULL)
			vm_pageout_cursor_release(c, done);
		return m;
	}
}

/* ---- what a page is ---------------------------------------------------------------- */

/* The pmap calls below are made only for a page that has a mapping (a written page
 * has none: the laundry unmapped it). No mapping can appear meanwhile: every fault
 * that maps a page holds its object's lock, as the daemon does (pmap_page_is_mapped
 * may still say yes for one going away: the call then finds nothing). */

/* The pager that would take obj's pages: its own, or for anonymous memory the swap
 * pager while one is attached. */
static const struct vm_pager_ops *vm_pageout_pager(struct vm_object *obj)
{
	if (obj->vo_pager != NULL)
		return obj->vo_pager;
	return vm_object_anon(obj) ? __atomic_load_n(&vm_pager_anon, __ATOMIC_ACQUIRE) :
	    NULL;
}

/* Was m used since the last look? Its referenced bits are cleared (the next look asks
 * about the time from now). => m's object locked. */
static bool vm_pageout_referenced(vm_page_t m)
{
	bool ref = (__atomic_fetch_and(&m->aflags, (uint8_t)~PGA_REFERENCED,
	    __ATOMIC_RELAXED) & PGA_REFERENCED) != 0;

	if (pmap_page_is_mapped(m) && pmap_ts_referenced(m) > 0)
		ref = true;
	return ref;
}

/* Has m been modified (its dirty bits, or a mapping's)? The mappings' answer moves to
 * m->dirty. => m's object locked. */
static bool vm_pageout_modified(vm_page_t m)
{
	if (m->dirty == 0 && pmap_page_is_mapped(m) && pmap_is_modified(m))
		m->dirty = VM_PAGE_BITS_ALL;
	return m->dirty != 0;
}

/* May m be freed: a copy of it in its pager, and unmodified since? Cheapest first:
 * its dirty bits, then the pager (a page never written out needs no look at its
 * mappings), then the mappings. => obj locked. */
static bool vm_pageout_clean(vm_page_t m, struct vm_object *obj)
{
	const struct vm_pager_ops *ops = vm_pageout_pager(obj);

	if (m->dirty != 0 || ops == NULL || ops->pgo_haspage == NULL ||
	    !ops->pgo_haspage(obj, m->pindex, NULL, NULL))
		return false;
	return !vm_pageout_modified(m);
}

/* Can m's pager write it now? Not without one, and not while it refuses. */
static bool vm_pageout_launderable(struct vm_object *obj)
{
	const struct vm_pager_ops *ops = vm_pageout_pager(obj);

	return ops != NULL && ops->pgo_putpages != NULL &&
	    __atomic_load_n(&vm_pageout_full, __ATOMIC_RELAXED) == 0;
}

/* ---- the inactive scan ----------------------------------------------------------------- */

/* One inactive page: => true when it was freed (or is to be, with the cursor's
 * object). => obj locked. */
static bool vm_pageout_inactive_one(struct vm_pageout_cursor *c, vm_page_t m,
    struct vm_object *obj)
{
	if (m->queue != PQ_INACTIVE || vm_page_wired(m) ||
	    __atomic_load_n(&m->hold_count, __ATOMIC_RELAXED) != 0 || !vm_page_tryxbusy(m))
		return false;
	if (vm_pageout_referenced(m)) {
		vm_page_activate(m);
		PS_ADD(ps_reactivated, 1);
	} else if (vm_pageout_clean(m, obj)) {
		/* The last mappings go; a store through one of them until then shows in
		 * m->dirty (pmap moves the modified bit over), and the page stays. */
		if (pmap_page_is_mapped(m))
			pmap_remove_all(m);
		if (m->dirty == 0) {
			c->pc_free[c->pc_nfree++] = m;      /* still busied */
			PS_ADD(ps_freed, 1);
			return true;
		}
		vm_page_launder(m);
		PS_ADD(ps_to_laundry, 1);
	} else if (vm_pageout_launderable(obj)) {
		/* Not clean means its pager must write it: dirty from here, so that the
		 * laundry (and its neighbours' clustering) need not ask the pager again. */
		m->dirty = VM_PAGE_BITS_ALL;
		c->pc_launder[c->pc_nlaunder++] = m;    /* unbusied once moved */
		PS_ADD(ps_to_laundry, 1);
		return false;
	} else {
		/* No pager would take it: off this queue until it ages down again, so that
		 * the scan does not come back to it at once. */
		vm_page_activate(m);
		PS_ADD(ps_unlaunderable, 1);
	}
	vm_page_xunbusy(m);
	return false;
}

uint64_t vm_pageout_scan_inactive(uint64_t target, uint64_t max)
{
	struct vm_pageout_cursor c;
	uint64_t freed = 0, scanned = 0;
	vm_page_t m;

	vm_pageout_cursor_start(&c, PQ_INACTIVE);
	while (freed < target && scanned < max && (m = vm_pageout_cursor_next(&c)) != NULL) {
		scanned++;
		if (vm_pageout_inactive_one(&c, m, c.pc_obj))
			freed++;
	}
	vm_pageout_cursor_end(&c);
	PS_ADD(ps_scanned, scanned);
	return freed;
}

/* ---- the active scan ----------------------------------------------------------------- */

uint64_t vm_pageout_scan_active(uint64_t target, uint64_t max)
{
	struct vm_pageout_cursor c;
	uint64_t moved = 0, scanned = 0;
	vm_page_t m;

	/* Second chance: a page used since the last look goes round again. */
	vm_pageout_cursor_start(&c, PQ_ACTIVE);
	while (moved < target && scanned < max && (m = vm_pageout_cursor_next(&c)) != NULL) {
		scanned++;
		if (m->queue == PQ_ACTIVE && !vm_page_wired(m) && !vm_page_busied(m)) {
			if (vm_pageout_referenced(m)) {
				vm_page_requeue(m);
			} else {
				vm_page_deactivate(m);
				moved++;
			}
		}
	}
	vm_pageout_cursor_end(&c);
	PS_ADD(ps_scanned, scanned);
	PS_ADD(ps_deactivated, moved);
	return moved;
}

/* ---- the laundry ------------------------------------------------------------------------ */

/* May p join a run being laundered: resident, not in use, on a queue the daemon
 * works, and needing a write? Busied (exclusively, by us) when it may. => obj locked. */
static bool vm_pageout_cluster_take(vm_page_t p, struct vm_object *obj)
{
	if (p == NULL || (p->queue != PQ_LAUNDRY && p->queue != PQ_INACTIVE) ||
	    vm_page_wired(p) || __atomic_load_n(&p->hold_count, __ATOMIC_RELAXED) != 0 ||
	    !vm_page_tryxbusy(p))
		return false;
	if (vm_pageout_clean(p, obj)) {
		vm_page_xunbusy(p);
		return false;
	}
	return true;
}

/*
 * Write m and its dirty neighbours at consecutive indexes (up to VM_PAGEOUT_CLUSTER
 * pages, in index order) with one putpages. m is busied by the caller. Each page is
 * unmapped first (vm_pager.h asks for write protection at least) and put on the
 * inactive queue, where the daemon frees it once the pager has made it clean.
 * *refused: the pager said AGAIN.
 * => obj locked (dropped meanwhile by the pager). The number of pages it took.
 */
static uint64_t vm_pageout_cluster(vm_page_t m, struct vm_object *obj,
    const struct vm_pager_ops *ops, bool *refused)
{
	vm_page_t ma[VM_PAGEOUT_CLUSTER], back[VM_PAGEOUT_CLUSTER];
	int rtvals[VM_PAGEOUT_CLUSTER];
	int nback = 0, n = 0;
	uint64_t took = 0;

	/* Neighbours by the object's list in pindex order (each one step from the last),
	 * not the trie: a run is consecutive indexes, so the next page on the list is the
	 * next index or the run's end. */
	vm_page_t p = m;
	for (vm_pindex_t pi = m->pindex; nback < VM_PAGEOUT_CLUSTER / 2 && pi > 0; pi--) {
		p = vm_page_memq_prev(p, &obj->vo_memq);
		if (p == NULL || p->pindex != pi - 1 || !vm_pageout_cluster_take(p, obj))
			break;
		back[nback++] = p;
	}
	while (nback > 0)
		ma[n++] = back[--nback];
	ma[n++] = m;
	p = m;
	for (vm_pindex_t pi = m->pindex + 1; n < VM_PAGEOUT_CLUSTER; pi++) {
		p = vm_page_memq_next(p, &obj->vo_memq);
		if (p == NULL || p->pindex != pi || !vm_pageout_cluster_take(p, obj))
			break;
		ma[n++] = p;
	}
	/* Unmapped, not only write-protected (which the contract asks for): the page is
	 * on its way out, and once written the daemon frees it with its unmapping,
	 * referenced and modified checks on no mapping at all (host callgrind, daemon and
	 * laundry with a null pager: 1984 instructions a page with pmap_remove_write, 1658
	 * with this; vm-core.md has the rest). The run in one call: one lock round trip and
	 * invalidation per pmap, neighbours' entries side by side. A use meanwhile is a
	 * fault that finds it resident. */
	pmap_remove_all_pages(ma, n);
	for (int i = 0; i < n; i++) {
		/* Anonymous memory with no copy elsewhere is dirty whatever the mappings
		 * say: the pager is told to write all of it. */
		ma[i]->dirty = VM_PAGE_BITS_ALL;
		rtvals[i] = VM_PAGER_ERROR;
	}
	vm_page_deactivate_pages(ma, n);
	vm_object_pip_add(obj, 1);
	ops->pgo_putpages(obj, ma, n, VM_PAGER_PUT_RECLAIM, rtvals);
	vm_object_pip_wakeup(obj);
	for (int i = 0; i < n; i++) {
		switch (rtvals[i]) {
		case VM_PAGER_OK:
		case VM_PAGER_PEND:
			took++;         /* the pager ends it: unbusied, clean or relaundered */
			break;
		case VM_PAGER_AGAIN:
			*refused = true;
			/* FALLTHROUGH */
		default:
			/* Not started: still ours, still dirty. Away from the laundry, so that
			 * nothing tries it again before it has aged down once more. */
			vm_page_activate(ma[i]);
			vm_page_xunbusy(ma[i]);
			PS_ADD(ps_unlaunderable, 1);
			break;
		}
	}
	PS_ADD(ps_laundered, took);
	return took;
}

/* One laundry page. => obj locked; the number of pages the pager took. */
static uint64_t vm_pageout_launder_one(vm_page_t m, struct vm_object *obj, bool *refused)
{
	const struct vm_pager_ops *ops = vm_pageout_pager(obj);

	/* A page gathered before a putpages dropped obj's lock may have been written,
	 * freed and taken by another object since. */
	if (m->object != obj || m->queue != PQ_LAUNDRY || vm_page_wired(m) ||
	    __atomic_load_n(&m->hold_count, __ATOMIC_RELAXED) != 0 || !vm_page_tryxbusy(m))
		return 0;
	if (vm_pageout_referenced(m)) {
		vm_page_activate(m);
		PS_ADD(ps_reactivated, 1);
	} else if (vm_pageout_clean(m, obj)) {
		vm_page_deactivate(m);      /* the daemon frees it */
	} else if (ops == NULL || ops->pgo_putpages == NULL) {
		vm_page_activate(m);
		PS_ADD(ps_unlaunderable, 1);
	} else {
		return vm_pageout_cluster(m, obj, ops, refused);
	}
	vm_page_xunbusy(m);
	return 0;
}

void vm_pageout_written(struct vm_object *obj, vm_page_t *ma, int n)
{
	bool short_now = vm_page_free_count() < vm_pageout_tgt.free_target &&
	    (obj->vo_flags & OBJ_DEAD) == 0;
	int nfr = 0;

	vm_object_assert_locked(obj);
	for (int i = 0; i < n; i++) {
		vm_page_t m = ma[i];
		KASSERT(m->object == obj && vm_page_xbusied(m) && m->dirty == 0,
		    ("vm_pageout_written: page %p is not a clean busied page of %p",
		    (void *)m, (void *)obj));
		/* Left where the laundry put it (a use reactivates it; a fault waits on
		 * the busy page and finds it again), unmapped, unreferenced. */
		if (short_now && m->queue == PQ_INACTIVE && !vm_page_wired(m) &&
		    __atomic_load_n(&m->hold_count, __ATOMIC_RELAXED) == 0 &&
		    (__atomic_load_n(&m->aflags, __ATOMIC_RELAXED) & PGA_REFERENCED) == 0 &&
		    !pmap_page_is_mapped(m))
			ma[nfr++] = m;          /* behind i: the ones to free, gathered in ma */
		else
			vm_page_xunbusy(m);
	}
	if (nfr > 0) {
		vm_page_free_obj_pages(ma, nfr);
		PS_ADD(ps_freed, nfr);
	}
}

uint64_t vm_pageout_launder(uint64_t target, uint64_t max)
{
	struct vm_pageout_cursor c;
	uint64_t took = 0, scanned = 0;
	bool refused = false;
	vm_page_t m;

	vm_pageout_cursor_start(&c, PQ_LAUNDRY);
	while (took < target && scanned < max && !refused &&
	    (m = vm_pageout_cursor_next(&c)) != NULL) {
		scanned++;
		took += vm_pageout_launder_one(m, c.pc_obj, &refused);
	}
	vm_pageout_cursor_end(&c);
	PS_ADD(ps_scanned, scanned);
	if (refused)
		__atomic_store_n(&vm_pageout_full, VM_PAGEOUT_FULL_PASSES, __ATOMIC_RELAXED);
	else if (took > 0)
		__atomic_store_n(&vm_pageout_full, 0, __ATOMIC_RELAXED);
	return took;
}

bool vm_pageout_laundry_pass(void)
{
	uint64_t want = __atomic_exchange_n(&vm_laundry_request, 0, __ATOMIC_ACQ_REL);

	if (want == 0)
		return false;
	(void)vm_pageout_launder(want, vm_pagequeues[PQ_LAUNDRY].pq_cnt);
	return false;
}

/* ---- the daemon's pass --------------------------------------------------------------- */

/* Short of memory with nothing to show for the pass: after enough of those in a row,
 * over long enough, a process goes. */
static void vm_pageout_oom_judge(bool progress)
{
	uint64_t now = vm_nanotime();

	if (progress) {
		vm_pageout_futile = 0;
		return;
	}
	if (vm_pageout_futile++ == 0)
		vm_pageout_futile_since = now;
	if (vm_pageout_futile < VM_PAGEOUT_OOM_PASSES ||
	    now - vm_pageout_futile_since < vm_pageout_oom_delay)
		return;
	vm_pageout_futile = 0;
	if (vm_plat_oom_kill()) {
		PS_ADD(ps_oom_kills, 1);
		vm_pageout_quiet = VM_PAGEOUT_OOM_QUIET;
	}
}

bool vm_pageout_daemon_pass(void)
{
	const struct vm_pageout_targets t = vm_pageout_tgt;
	struct vm_pageout_stats s0, s1;
	uint64_t free, want, freed = 0;
	uint32_t full;

	__atomic_store_n(&vm_pageout_wanted, false, __ATOMIC_RELEASE);
	bool shortage = __atomic_exchange_n(&vm_pageout_short, false, __ATOMIC_ACQ_REL);
	uint64_t now = vm_nanotime();
	if (!shortage && now < vm_pageout_idle_until)
		return false;
	PS_ADD(ps_passes, 1);
	vm_pageout_stats(&s0);
	full = __atomic_load_n(&vm_pageout_full, __ATOMIC_RELAXED);
	if (full > 0)
		__atomic_store_n(&vm_pageout_full, full - 1, __ATOMIC_RELAXED);

	vm_pqbatch_flush_all();         /* the queue counts below include new pages */
	free = vm_page_free_count();
	if (free < t.free_min || shortage) {
		/* Caches first: UMA's and the per-CPU page caches give back at once. */
		vm_lowmem_fire(VM_LOW_PAGES);
		free = vm_page_free_count();
	}
	want = free < t.free_target ? t.free_target - free : 0;
	if (want == 0 && !shortage) {
		vm_pageout_futile = 0;
		return false;
	}
	if (want > 0)
		freed = vm_pageout_scan_inactive(want, vm_pagequeues[PQ_INACTIVE].pq_cnt);
	/* Refill the inactive queue to its target, and for what this pass could not free
	 * (the next pass finds those pages inactive). */
	uint64_t inactive = vm_pagequeues[PQ_INACTIVE].pq_cnt;
	uint64_t deficit = (inactive < t.inactive_target ? t.inactive_target - inactive : 0) +
	    (want > freed ? want - freed : 0);
	if (deficit > 0)
		(void)vm_pageout_scan_active(deficit, vm_pagequeues[PQ_ACTIVE].pq_cnt);
	vm_pageout_stats(&s1);
	uint64_t laundry = vm_pagequeues[PQ_LAUNDRY].pq_cnt;
	full = __atomic_load_n(&vm_pageout_full, __ATOMIC_RELAXED);
	if (laundry > 0 && want > freed && full == 0)
		vm_pageout_laundry_ask(MIN(laundry, want - freed));

	/* Progress: the pages wanted freed, or the pager took some since the last pass.
	 * Not progress, though they look like it, with swap full:
	 *  - a few pages freed of many wanted: the clean pages of the very process that
	 *    waits (its text, its stack), faulted straight back in;
	 *  - pages sent to the laundry when it may try the pager again: it is refused
	 *    again.
	 * Counting either kept a thrashing guest from the out-of-memory kill for good.
	 * Pages read back from swap are progress: with swap almost full each gives its
	 * block up (swap_pager.c), which is how a guest whose pages fit in memory and swap
	 * together gets room on a full device, one page at a time.
	 * Writes under way are not lost by this: the kill waits for futile passes
	 * spanning vm_pageout_oom_delay, longer than a write takes. */
	struct vm_fault_stats fst;
	vm_fault_stats(&fst);
	bool progress = (want > 0 ? freed >= want : freed > 0) ||
	    s1.ps_laundered != vm_pageout_laundered_seen ||
	    fst.vfs_major != vm_pageout_majflt_seen;
	vm_pageout_majflt_seen = fst.vfs_major;
	vm_pageout_laundered_seen = s1.ps_laundered;
	if (!progress && !shortage)
		vm_pageout_idle_until = now + VM_PAGEOUT_IDLE_NS;
	free = vm_page_free_count();
	if (free >= t.free_min) {
		vm_pageout_futile = 0;
		vm_pageout_quiet = 0;
		return progress && free < t.free_target;
	}
	if (!shortage)
		return progress;
	if (vm_pageout_quiet > 0) {
		vm_pageout_quiet--;
		return true;
	}
	vm_pageout_oom_judge(progress);
	return true;
}
