/*
 * swap_pager: anonymous pages to and from one swap device (vm/swap_pager.h).
 *
 * Page-out (the laundry calls putpages through vm_pager_anon):
 *
 *   laundry: xbusy m, pmap_remove_write(m) (m->dirty gets the modified bits)
 *   putpages: for each run of consecutive indexes (at most the device's and
 *             SWAP_PAGER_MAXRUN pages): a bio, a contiguous run of blocks (fewer pages
 *             when only a shorter run is free), each page's block recorded in the
 *             object's metadata (the block it had before, now stale, freed), one
 *             write request, the object unlocked around sd_strategy
 *   completion (sb_done, a kernel thread): the object locked; success: each page clean
 *             (dirty 0) and unbusied, left on its queue for the daemon to free; error:
 *             each page's block taken out of the metadata and counted bad (never
 *             handed out again: it is not freed), the page still dirty, unbusied and
 *             put back in the laundry queue
 *
 * Nothing can dirty a page while its write is under way: it is busy (a fault on it
 * sleeps) and mapped read-only. Paging in progress keeps the object from being
 * terminated or collapsed until the completion is over, and a busy page keeps its
 * metadata still: every block under I/O belongs to a busy page.
 *
 * Page-in (the fault, vm/vm_fault.c case 7): haspage reports the page's block and the
 * neighbours whose blocks continue the run (at most SWAP_PAGER_READAROUND pages in
 * all); the fault allocates the pages it wants (busy, not resident before) and
 * getpages reads each run of contiguous blocks with one request, the object unlocked,
 * and waits for the bios: polling the device for up to SWAP_PAGER_POLL_NS where it can
 * be polled, then asleep until their completion. The pages come in valid and clean: their
 * blocks stay, so a page paged out again unchanged costs no write. Its block is freed
 * when it is written (swap_pager_unswapped from the write fault), when its object dies
 * or the range is removed (swap_pager_freespace), or at its next page-out.
 *
 * Where a block can be freed while the page is resident, the page must be dirty, or the
 * daemon could free a clean page whose only copy was that block: a write fault dirties
 * it (PG_M), swapoff and the collapse's fallback set m->dirty.
 */
#include "vm/swap_pager.h"
#include "vm/swap_blist.h"
#include "vm/swap_meta.h"
#include "vm/uma.h"
#include "vm/vm_object.h"
#include "vm/vm_pageout.h"

/* A request: the swap_bio the device sees, and the pager's side. */
struct sp_bio {
	struct swap_bio spb_bio;                /* first: sb_done gets its address */
	struct vm_object *spb_obj;              /* the pages' object (paging in progress) */
	struct sp_bio *spb_next;                /* getpages' requests of one call */
	int spb_flags;                          /* spb_obj's lock (SPB_DONE atomic): SPB_* */
	vm_page_t spb_pages[SWAP_PAGER_MAXRUN];
};
#define SPB_SYNC        0x1     /* a waiter frees it (a read, or a synchronous write) */
#define SPB_DONE        0x2     /* its completion is over */
#define SPB_RECLAIM     0x4     /* written pages go to vm_pageout_written */

/*
 * How long a page-in polls the device before it sleeps until the completion. The
 * VMM's device answers a read from the host's page cache in tens of microseconds; the
 * interrupt, wakeup and two thread switches that end a sleep cost ~150 us of kvm_pvm's
 * traps (swapbench: 236 us a page-in asleep). Spinning longer than the sleep's own
 * cost gains nothing.
 */
#define SWAP_PAGER_POLL_NS      150000ull

/* The pager's state. S: sw_mtx. */
static struct mtx sw_mtx;
static struct swap_dev *sw_dev;             /* S: attached device, or NULL */
static struct swap_blist *sw_blist;         /* S */
static int sw_maxrun;                       /* S: pages per request; read without the lock
                                               by holders (sp_hold) */
static bool sw_closing;                     /* S: swapoff runs: no new blocks */
static uma_zone_t sw_bio_zone;              /* S: live while attached or held */
static uint64_t sw_holds;                   /* S: calls in the pager, bios under way */
static uint64_t sw_nbios;                   /* S: bios under way */
static uint64_t sw_used;                    /* S: blocks holding a page */
static uint64_t sw_bad;                     /* S: blocks lost to write errors */
static struct vm_object *sw_objects;        /* S: objects with metadata (vo_swap links) */
static uint64_t sw_nobjects;                /* S */

/* Counters since boot (atomic). */
static uint64_t sw_pageouts, sw_pageins, sw_writes, sw_reads;
static uint64_t sw_write_errors, sw_read_errors, sw_nospace;

#define SW_COUNT(c, n)  __atomic_add_fetch(&(c), (uint64_t)(n), __ATOMIC_RELAXED)
#define SW_READ(c)      __atomic_load_n(&(c), __ATOMIC_RELAXED)

const struct vm_pager_ops swap_pager_ops = {
	.pgo_name = "swap",
	.pgo_getpages = swap_pager_getpages,
	.pgo_putpages = swap_pager_putpages,
	.pgo_haspage = swap_pager_haspage,
};

/* ---- holding the pager, bios ---------------------------------------------------------- */

/* Enter the pager for one call: the device and the bio zone stay until sp_unhold.
 * NULL: no device attached, or (for a page-out) a swapoff runs. */
static struct swap_dev *sp_hold(bool pageout)
{
	struct swap_dev *sd;

	mtx_lock(&sw_mtx);
	sd = sw_dev;
	if (sd == NULL || (pageout && sw_closing))
		sd = NULL;
	else
		sw_holds++;
	mtx_unlock(&sw_mtx);
	return sd;
}

static void sp_unhold_locked(void)
{
	mtx_assert_owned(&sw_mtx);
	KASSERT(sw_holds > 0, ("sp_unhold: the pager is not held"));
	/* A swapoff waits for its own hold to be the last. */
	if (--sw_holds <= 1 && sw_closing)
		vm_wakeup(&sw_holds);
}

static void sp_unhold(void)
{
	mtx_lock(&sw_mtx);
	sp_unhold_locked();
	mtx_unlock(&sw_mtx);
}

/* A bio (zeroed); it holds the pager until sp_bio_free. => the caller holds it. */
static struct sp_bio *sp_bio_alloc(int mflags)
{
	struct sp_bio *bp = uma_zalloc(sw_bio_zone, mflags | M_ZERO);

	if (bp != NULL) {
		mtx_lock(&sw_mtx);
		sw_holds++;
		sw_nbios++;
		mtx_unlock(&sw_mtx);
	}
	return bp;
}

static void sp_bio_free(struct sp_bio *bp)
{
	uma_zfree(sw_bio_zone, bp);
	mtx_lock(&sw_mtx);
	sw_nbios--;
	sp_unhold_locked();
	mtx_unlock(&sw_mtx);
}

/* ---- blocks and metadata ------------------------------------------------------------- */

/* Blocks to free, gathered into one run while they are contiguous (object death frees
 * runs: one allocator update a run instead of one a block). */
struct sp_freerun {
	uint64_t fr_start;
	uint64_t fr_n;
};

static void sp_free_flush(struct sp_freerun *fr)
{
	if (fr->fr_n == 0)
		return;
	mtx_lock(&sw_mtx);
	KASSERT(sw_used >= fr->fr_n, ("sp_free_flush: %llu blocks used, %llu freed",
	    (unsigned long long)sw_used, (unsigned long long)fr->fr_n));
	swap_blist_free(sw_blist, fr->fr_start, fr->fr_n);
	sw_used -= fr->fr_n;
	mtx_unlock(&sw_mtx);
	fr->fr_n = 0;
}

static void sp_free_add(struct sp_freerun *fr, uint64_t blk)
{
	if (fr->fr_n != 0 && blk == fr->fr_start + fr->fr_n) {
		fr->fr_n++;
		return;
	}
	if (fr->fr_n != 0 && blk + 1 == fr->fr_start) {
		fr->fr_start--;
		fr->fr_n++;
		return;
	}
	sp_free_flush(fr);
	fr->fr_start = blk;
	fr->fr_n = 1;
}

static void sp_free_cb(void *arg, vm_pindex_t pindex, uint64_t blk)
{
	(void)pindex;
	sp_free_add(arg, blk);
}

/* obj's list membership after its metadata changed. => obj locked. */
static void sp_list_update(struct vm_object *obj)
{
	struct swap_meta *sm = &obj->vo_swap;
	bool want = !swap_meta_empty(sm);

	vm_object_assert_locked(obj);
	if (want == sm->sm_listed)
		return;
	mtx_lock(&sw_mtx);
	if (want) {
		sm->sm_prev = NULL;
		sm->sm_next = sw_objects;
		if (sw_objects != NULL)
			sw_objects->vo_swap.sm_prev = obj;
		sw_objects = obj;
		sw_nobjects++;
	} else {
		if (sm->sm_prev != NULL)
			sm->sm_prev->vo_swap.sm_next = sm->sm_next;
		else
			sw_objects = sm->sm_next;
		if (sm->sm_next != NULL)
			sm->sm_next->vo_swap.sm_prev = sm->sm_prev;
		sm->sm_next = sm->sm_prev = NULL;
		sw_nobjects--;
	}
	sm->sm_listed = want;
	mtx_unlock(&sw_mtx);
}

/* Record blk for pindex; the block it replaces goes to fr. 0 or ENOMEM. => obj locked. */
static int sp_meta_insert(struct vm_object *obj, vm_pindex_t pindex, uint64_t blk,
    struct sp_freerun *fr)
{
	uint64_t old;
	int rv = swap_meta_insert(&obj->vo_swap, pindex, blk, &old);

	if (rv != 0)
		return rv;
	if (old != SWAPBLK_NONE && fr != NULL)
		sp_free_add(fr, old);
	KASSERT(old == SWAPBLK_NONE || fr != NULL, ("sp_meta_insert: block %llu lost",
	    (unsigned long long)old));
	sp_list_update(obj);
	return 0;
}

/* Forget pindex's block and return it. => obj locked. */
static uint64_t sp_meta_remove(struct vm_object *obj, vm_pindex_t pindex)
{
	uint64_t blk = swap_meta_remove(&obj->vo_swap, pindex);

	if (blk != SWAPBLK_NONE)
		sp_list_update(obj);
	return blk;
}

/* Fewer than 1/SWAP_PAGER_RESERVE_DIV of the blocks free. => sw_mtx not held. */
static bool sp_almost_full(void)
{
	mtx_lock(&sw_mtx);
	bool full = sw_blist != NULL &&
	    swap_blist_avail(sw_blist) < sw_blist->bl_nblocks / SWAP_PAGER_RESERVE_DIV;
	mtx_unlock(&sw_mtx);
	return full;
}

/* ---- haspage ------------------------------------------------------------------------- */

bool swap_pager_haspage(struct vm_object *obj, vm_pindex_t pindex, int *before, int *after)
{
	struct swap_meta *sm = &obj->vo_swap;
	uint64_t blk;
	int win, a = 0, b = 0;

	vm_object_assert_locked(obj);
	blk = swap_meta_lookup(sm, pindex);
	if (blk == SWAPBLK_NONE)
		return false;
	/* Metadata exists: a device is attached and sw_maxrun is its. */
	win = MIN(SWAP_PAGER_READAROUND, __atomic_load_n(&sw_maxrun, __ATOMIC_RELAXED));
	if (after != NULL) {
		uint64_t blks[SWAP_PAGER_READAROUND];
		int k = (int)MIN((vm_pindex_t)(win - 1), UINT64_MAX - pindex);
		swap_meta_lookup_run(sm, pindex + 1, k, blks);
		while (a < k && blks[a] == blk + (uint64_t)a + 1)
			a++;
		*after = a;
	}
	if (before != NULL) {
		uint64_t blks[SWAP_PAGER_READAROUND];
		int k = (int)MIN((vm_pindex_t)(win - 1 - a), MIN(pindex, blk));
		swap_meta_lookup_run(sm, pindex - (vm_pindex_t)k, k, blks);
		while (b < k && blks[k - 1 - b] == blk - (uint64_t)b - 1)
			b++;
		*before = b;
	}
	return true;
}

/* ---- getpages ----------------------------------------------------------------------- */

static void sp_read_done(struct swap_bio *sb)
{
	struct sp_bio *bp = (struct sp_bio *)sb;
	struct vm_object *obj = bp->spb_obj;

	vm_object_lock(obj);
	/* Atomic: a polling reader looks at it without the lock (sp_poll_wait). */
	__atomic_or_fetch(&bp->spb_flags, SPB_DONE, __ATOMIC_RELEASE);
	vm_object_pip_wakeup(obj);
	vm_wakeup(bp);
	vm_object_unlock(obj);
}

/* Hand bp to the device, obj unlocked around it and its paging in progress held until
 * the completion (or the refusal) lets go. => obj locked; sd_strategy's answer. */
static int sp_strategy(struct swap_dev *sd, struct vm_object *obj, struct sp_bio *bp)
{
	vm_object_pip_add(obj, 1);
	vm_object_unlock(obj);
	int rv = sd->sd_strategy(sd, &bp->spb_bio);
	vm_object_lock(obj);
	return rv;
}

/* Are all of the list's bios over? => no lock needed. */
static bool sp_all_done(struct sp_bio *head)
{
	for (struct sp_bio *bp = head; bp != NULL; bp = bp->spb_next)
		if ((__atomic_load_n(&bp->spb_flags, __ATOMIC_ACQUIRE) & SPB_DONE) == 0)
			return false;
	return true;
}

/*
 * Poll sd for the reads of the list (all SWAP_BIO_POLLED) until they are over or
 * SWAP_PAGER_POLL_NS has passed; then the ones still under way are handed back to the
 * device's interrupt (sd_poll_end). => obj locked on entry and on return.
 */
static void sp_poll_wait(struct swap_dev *sd, struct vm_object *obj, struct sp_bio *head)
{
	uint64_t deadline = vm_nanotime() + SWAP_PAGER_POLL_NS;

	vm_object_unlock(obj);
	while (!sp_all_done(head)) {
		if (sd->sd_poll(sd) == 0 && vm_nanotime() >= deadline)
			break;
	}
	for (struct sp_bio *bp = head; bp != NULL; bp = bp->spb_next)
		if ((__atomic_load_n(&bp->spb_flags, __ATOMIC_ACQUIRE) & SPB_DONE) == 0)
			sd->sd_poll_end(sd, &bp->spb_bio);
	vm_object_lock(obj);
}

/*
 * Read ma[0..count) (consecutive indexes, busy, every one on swap): one request per
 * run of contiguous blocks, all started, then all waited for.
 */
int swap_pager_getpages(struct vm_object *obj, vm_page_t *ma, int count)
{
	struct sp_bio *head = NULL, **tailp = &head, *bp, *next;
	struct swap_dev *sd;
	int error = 0, maxrun;
	bool polled;

	uint64_t blks[SWAP_PAGER_MAXRUN];

	vm_object_assert_locked(obj);
	KASSERT(count > 0, ("swap_pager_getpages: no pages"));
	/* Every page on swap, or none is read. */
	for (int i = 0, k; i < count; i += k) {
		k = MIN(count - i, SWAP_PAGER_MAXRUN);
		swap_meta_lookup_run(&obj->vo_swap, ma[i]->pindex, k, blks);
		for (int j = 0; j < k; j++) {
			KASSERT(ma[i + j]->object == obj && vm_page_xbusied(ma[i + j]) &&
			    ma[i + j]->pindex == ma[i]->pindex + (vm_pindex_t)j,
			    ("swap_pager_getpages: page %d (%p) of %d is not obj %p's next, "
			    "busied", i + j, (void *)ma[i + j], count, (void *)obj));
			if (blks[j] == SWAPBLK_NONE)
				return VM_PAGER_FAIL;
		}
	}
	if ((sd = sp_hold(false)) == NULL)
		return VM_PAGER_FAIL;
	maxrun = sw_maxrun;
	polled = sd->sd_poll != NULL;
	vm_object_pip_add(obj, 1);
	for (int i = 0, n; i < count; i += n) {
		int k = MIN(count - i, maxrun);
		swap_meta_lookup_run(&obj->vo_swap, ma[i]->pindex, k, blks);
		uint64_t blk = blks[0];
		for (n = 1; n < k && blks[n] == blk + (uint64_t)n; n++)
			;
		if ((bp = sp_bio_alloc(M_NOWAIT)) == NULL) {
			/* The pages are busy: nothing of theirs changes while we sleep. */
			vm_object_unlock(obj);
			bp = sp_bio_alloc(M_WAITOK);
			vm_object_lock(obj);
		}
		bp->spb_bio.sb_cmd = SWAP_BIO_READ;
		bp->spb_bio.sb_blkno = blk;
		bp->spb_bio.sb_npages = n;
		bp->spb_bio.sb_flags = polled ? SWAP_BIO_POLLED : 0;
		bp->spb_bio.sb_pages = bp->spb_pages;
		bp->spb_bio.sb_done = sp_read_done;
		bp->spb_bio.sb_arg = bp;
		bp->spb_obj = obj;
		bp->spb_flags = SPB_SYNC;
		for (int j = 0; j < n; j++)
			bp->spb_pages[j] = ma[i + j];
		*tailp = bp;
		tailp = &bp->spb_next;
	}
	for (bp = head; bp != NULL; bp = bp->spb_next) {
		int rv = sp_strategy(sd, obj, bp);
		SW_COUNT(sw_reads, 1);
		if (rv != 0) {
			/* Refused: no completion will come. */
			bp->spb_bio.sb_error = rv;
			__atomic_or_fetch(&bp->spb_flags, SPB_DONE, __ATOMIC_RELEASE);
			vm_object_pip_wakeup(obj);
		}
	}
	if (polled && !sp_all_done(head))
		sp_poll_wait(sd, obj, head);
	for (bp = head; bp != NULL; bp = next) {
		while ((bp->spb_flags & SPB_DONE) == 0)
			vm_sleep(bp, &obj->vo_lock, "swread", 0);
		if (bp->spb_bio.sb_error != 0)
			error = bp->spb_bio.sb_error;
		next = bp->spb_next;
		sp_bio_free(bp);
	}
	vm_object_pip_wakeup(obj);
	sp_unhold();
	if (error != 0) {
		SW_COUNT(sw_read_errors, count);
		return VM_PAGER_ERROR;
	}
	/*
	 * Swap almost full: what comes back keeps no block. The copy in memory becomes the
	 * only one (dirty: laundered again before it is freed), so swap holds what memory
	 * does not, and a guest whose pages fit in memory and swap together does not run
	 * out of blocks that resident pages sit on (a 4x-RAM workload on a 4x-RAM swap
	 * device filled it and was killed).
	 */
	bool keep = !sp_almost_full();
	struct sp_freerun fr = { 0, 0 };
	for (int i = 0; i < count; i++) {
		ma[i]->valid = SWAP_PAGE_BITS_ALL;
		ma[i]->dirty = keep ? 0 : SWAP_PAGE_BITS_ALL;
		uint64_t blk;
		/* swapoff takes the blocks of what it reads itself. */
		if (!keep && (blk = sp_meta_remove(obj, ma[i]->pindex)) != SWAPBLK_NONE)
			sp_free_add(&fr, blk);
	}
	sp_free_flush(&fr);
	SW_COUNT(sw_pageins, count);
	return VM_PAGER_OK;
}

/* ---- putpages ----------------------------------------------------------------------- */

static void sp_write_done(struct swap_bio *sb)
{
	struct sp_bio *bp = (struct sp_bio *)sb;
	struct vm_object *obj = bp->spb_obj;
	int n = sb->sb_npages;
	bool sync = (bp->spb_flags & SPB_SYNC) != 0;
	bool reclaim = (bp->spb_flags & SPB_RECLAIM) != 0 && sb->sb_error == 0;

	vm_object_lock(obj);
	for (int i = 0; i < n; i++) {
		vm_page_t m = bp->spb_pages[i];
		KASSERT(m->object == obj && vm_page_xbusied(m), ("sp_write_done: page %p is "
		    "not busied in object %p", (void *)m, (void *)obj));
		if (sb->sb_error == 0) {
			m->dirty = 0;
			m->valid = SWAP_PAGE_BITS_ALL;
			if (!reclaim)
				vm_page_xunbusy(m);
			continue;
		}
		/* The block may hold anything now: out of the metadata, and out of use
		 * for good (not freed). The page keeps the only copy. */
		uint64_t blk = sp_meta_remove(obj, m->pindex);
		KASSERT(blk == sb->sb_blkno + (uint64_t)i, ("sp_write_done: page %p at %#llx "
		    "had block %llu, not %llu", (void *)m, (unsigned long long)m->pindex,
		    (unsigned long long)blk, (unsigned long long)(sb->sb_blkno + i)));
		(void)blk;
		m->dirty = SWAP_PAGE_BITS_ALL;
		vm_page_launder(m);
		vm_page_xunbusy(m);
	}
	if (sb->sb_error != 0) {
		SW_COUNT(sw_write_errors, n);
		mtx_lock(&sw_mtx);
		sw_used -= (uint64_t)n;
		sw_bad += (uint64_t)n;
		mtx_unlock(&sw_mtx);
	} else
		SW_COUNT(sw_pageouts, n);
	if (reclaim)
		vm_pageout_written(obj, bp->spb_pages, n);
	vm_object_pip_wakeup(obj);
	if (sync) {
		bp->spb_flags |= SPB_DONE;
		vm_wakeup(bp);
		vm_object_unlock(obj);
	} else {
		vm_object_unlock(obj);
		sp_bio_free(bp);
	}
}

/*
 * A run of n blocks, or fewer when no run of n is free (the longest one there is);
 * *np says how many. SWAPBLK_NONE: no space, or a swapoff began. => sw_mtx held.
 */
static uint64_t sp_blocks_alloc(int *np)
{
	uint64_t blk, max;

	mtx_assert_owned(&sw_mtx);
	if (sw_closing)
		return SWAPBLK_NONE;
	blk = swap_blist_alloc(sw_blist, (uint64_t)*np);
	if (blk == SWAPBLK_NONE && (max = swap_blist_maxrun(sw_blist)) > 0) {
		*np = (int)MIN(max, (uint64_t)*np);
		blk = swap_blist_alloc(sw_blist, (uint64_t)*np);
	}
	if (blk != SWAPBLK_NONE)
		sw_used += (uint64_t)*np;
	return blk;
}

void swap_pager_putpages(struct vm_object *obj, vm_page_t *ma, int count, int flags,
    int *rtvals)
{
	struct sp_freerun fr = { 0, 0 };
	struct swap_dev *sd;
	bool sync = (flags & VM_PAGER_PUT_SYNC) != 0;
	int maxrun, i = 0, n;

	vm_object_assert_locked(obj);
	KASSERT(vm_object_anon(obj), ("swap_pager_putpages: object %p is not anonymous",
	    (void *)obj));
#ifdef INVARIANTS
	for (int k = 0; k < count; k++)
		KASSERT(ma[k]->object == obj && vm_page_xbusied(ma[k]) &&
		    (k == 0 || ma[k]->pindex > ma[k - 1]->pindex),
		    ("swap_pager_putpages: page %d (%p) of %d is not obj %p's, busied, in "
		    "order", k, (void *)ma[k], count, (void *)obj));
#endif
	if (count == 0 || (sd = sp_hold(true)) == NULL)
		goto again;
	maxrun = sw_maxrun;
	vm_object_pip_add(obj, 1);
	for (; i < count; i += n) {
		struct sp_bio *bp;
		uint64_t blk;
		int j;

		/* The bio first (nothing to undo if it cannot be had), then the run of
		 * consecutive indexes into it, then the blocks. */
		if ((bp = uma_zalloc(sw_bio_zone, M_NOWAIT | M_USE_RESERVE)) == NULL) {
			SW_COUNT(sw_nospace, 1);
			break;
		}
		int lim = MIN(count - i, maxrun);
		vm_pindex_t next = ma[i]->pindex + 1;
		bp->spb_pages[0] = ma[i];
		for (n = 1; n < lim && ma[i + n]->pindex == next; n++, next++)
			bp->spb_pages[n] = ma[i + n];
		mtx_lock(&sw_mtx);
		blk = sp_blocks_alloc(&n);
		if (blk != SWAPBLK_NONE) {
			sw_holds++;             /* the bio's (sp_bio_free) */
			sw_nbios++;
		}
		mtx_unlock(&sw_mtx);
		if (blk == SWAPBLK_NONE) {
			SW_COUNT(sw_nospace, 1);
			uma_zfree(sw_bio_zone, bp);
			break;
		}
		/* Each page's block into the metadata; the ones they had are stale. */
		j = swap_meta_insert_run(&obj->vo_swap, ma[i]->pindex, blk, n, sp_free_cb, &fr);
		sp_list_update(obj);
		if (j < n) {
			/* No memory for the metadata: the rest of the run waits. */
			mtx_lock(&sw_mtx);
			swap_blist_free(sw_blist, blk + (uint64_t)j, (uint64_t)(n - j));
			sw_used -= (uint64_t)(n - j);
			mtx_unlock(&sw_mtx);
			SW_COUNT(sw_nospace, 1);
			if (j == 0) {
				sp_bio_free(bp);
				break;
			}
			n = j;
		}
		bp->spb_bio.sb_cmd = SWAP_BIO_WRITE;
		bp->spb_bio.sb_flags = 0;
		bp->spb_bio.sb_blkno = blk;
		bp->spb_bio.sb_npages = n;
		bp->spb_bio.sb_pages = bp->spb_pages;
		bp->spb_bio.sb_error = 0;
		bp->spb_bio.sb_done = sp_write_done;
		bp->spb_bio.sb_arg = bp;
		bp->spb_obj = obj;
		bp->spb_next = NULL;
		bp->spb_flags = (sync ? SPB_SYNC : 0) |
		    ((flags & VM_PAGER_PUT_RECLAIM) != 0 ? SPB_RECLAIM : 0);
		int rt = sync ? VM_PAGER_OK : VM_PAGER_PEND;
		for (j = 0; j < n; j++)
			rtvals[i + j] = rt;
		/* From here the completion owns the pages (and an asynchronous bp). */
		int rv = sp_strategy(sd, obj, bp);
		SW_COUNT(sw_writes, 1);
		if (rv != 0) {
			/* Refused, nothing written, no completion: the blocks go back, the
			 * pages stay the caller's, busied and dirty. */
			for (j = 0; j < n; j++) {
				vm_page_t m = ma[i + j];
				uint64_t b = sp_meta_remove(obj, m->pindex);
				KASSERT(b == blk + (uint64_t)j, ("swap_pager_putpages: page %p lost "
				    "block %llu", (void *)m, (unsigned long long)(blk + j)));
				(void)b;
				m->dirty = SWAP_PAGE_BITS_ALL;
				rtvals[i + j] = VM_PAGER_ERROR;
			}
			mtx_lock(&sw_mtx);
			swap_blist_free(sw_blist, blk, (uint64_t)n);
			sw_used -= (uint64_t)n;
			mtx_unlock(&sw_mtx);
			SW_COUNT(sw_write_errors, n);
			vm_object_pip_wakeup(obj);
			sp_bio_free(bp);
		} else if (sync) {
			while ((bp->spb_flags & SPB_DONE) == 0)
				vm_sleep(bp, &obj->vo_lock, "swwrite", 0);
			sp_bio_free(bp);
		}
	}
	sp_free_flush(&fr);
	vm_object_pip_wakeup(obj);
	sp_unhold();
again:
	/* What was not started: the caller's still (no space, no memory, no device). */
	for (; i < count; i++)
		rtvals[i] = VM_PAGER_AGAIN;
}

/* ---- hooks of vm_object and vm_fault -------------------------------------------------- */

void swap_pager_unswapped(vm_page_t m)
{
	struct vm_object *obj = m->object;
	struct sp_freerun fr = { 0, 0 };
	uint64_t blk;

	vm_object_assert_locked(obj);
	blk = sp_meta_remove(obj, m->pindex);
	if (blk == SWAPBLK_NONE)
		return;
	sp_free_add(&fr, blk);
	sp_free_flush(&fr);
}

void swap_pager_freespace(struct vm_object *obj, vm_pindex_t start, vm_pindex_t end)
{
	struct sp_freerun fr = { 0, 0 };

	vm_object_assert_locked(obj);
	if (swap_meta_empty(&obj->vo_swap))
		return;
	swap_meta_remove_range(&obj->vo_swap, start, end, sp_free_cb, &fr);
	sp_free_flush(&fr);
	sp_list_update(obj);
}

int swap_pager_transfer(struct vm_object *bo, vm_pindex_t p, struct vm_object *obj,
    vm_pindex_t q)
{
	uint64_t blk = swap_meta_lookup(&bo->vo_swap, p);

	vm_object_assert_locked(bo);
	vm_object_assert_locked(obj);
	KASSERT(blk != SWAPBLK_NONE, ("swap_pager_transfer: object %p has no block at %#llx",
	    (void *)bo, (unsigned long long)p));
	KASSERT(swap_meta_lookup(&obj->vo_swap, q) == SWAPBLK_NONE,
	    ("swap_pager_transfer: object %p has a block at %#llx", (void *)obj,
	    (unsigned long long)q));
	if (sp_meta_insert(obj, q, blk, NULL) != 0)
		return ENOMEM;
	sp_meta_remove(bo, p);
	return 0;
}

int swap_pager_collapse(struct vm_object *obj, struct vm_object *bo, vm_pindex_t off)
{
	struct sp_freerun fr = { 0, 0 };
	vm_pindex_t p, from = 0;
	uint64_t blk;
	int rv = 0;

	vm_object_assert_locked(obj);
	vm_object_assert_locked(bo);
	while (swap_meta_first(&bo->vo_swap, from, &p, &blk)) {
		from = p + 1;
		vm_pindex_t q = p - off;
		if (p < off || q >= obj->vo_size || vm_page_lookup(obj, q) != NULL ||
		    swap_meta_lookup(&obj->vo_swap, q) != SWAPBLK_NONE) {
			/* Nobody can see it, or obj's own page hides it. */
			sp_meta_remove(bo, p);
			sp_free_add(&fr, blk);
			continue;
		}
		if ((rv = swap_pager_transfer(bo, p, obj, q)) != 0)
			break;
	}
	sp_free_flush(&fr);
	return rv;
}

/* ---- attach, swapoff ------------------------------------------------------------------ */

int swap_pager_attach(struct swap_dev *sd)
{
	struct swap_blist *bl;
	uma_zone_t z;

	if (sd == NULL || sd->sd_nblocks == 0 || sd->sd_maxpages < 1 ||
	    sd->sd_strategy == NULL || (sd->sd_poll == NULL) != (sd->sd_poll_end == NULL))
		return EINVAL;
	bl = swap_blist_create(MIN(sd->sd_nblocks, SWAP_META_MAXBLK), M_WAITOK);
	if (bl == NULL)
		return EINVAL;
	swap_meta_zinit();
	swap_meta_reserve(MIN(sd->sd_nblocks, SWAP_META_MAXBLK));
	/* Type-stable, some set aside: a page-out must not wait for the memory it is there
	 * to free. */
	z = uma_zcreate("SWAP BIO", sizeof(struct sp_bio), NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_VM | UMA_ZONE_NOFREE);
	uma_prealloc(z, SWAP_PAGER_BIO_RESERVE);
	mtx_lock(&sw_mtx);
	if (sw_dev != NULL || sw_holds != 0) {
		mtx_unlock(&sw_mtx);
		uma_zdestroy(z);
		swap_meta_zfini();
		swap_blist_destroy(bl);
		return EBUSY;
	}
	sw_dev = sd;
	sw_blist = bl;
	sw_bio_zone = z;
	sw_maxrun = MIN(sd->sd_maxpages, SWAP_PAGER_MAXRUN);
	sw_closing = false;
	sw_used = sw_bad = 0;
	__atomic_store_n(&vm_pager_anon, &swap_pager_ops, __ATOMIC_RELEASE);
	mtx_unlock(&sw_mtx);
	return 0;
}

/* Bring every page of obj on swap back in, dirty, and free its blocks. 0, ENOMEM or
 * EIO. => obj locked (dropped meanwhile), referenced by the caller. */
static int sp_swapoff_object(struct vm_object *obj)
{
	struct sp_freerun fr = { 0, 0 };
	vm_page_t ma[SWAP_PAGER_MAXRUN];
	vm_pindex_t p;
	uint64_t blk;
	int error = 0;

	while (error == 0 && swap_meta_first(&obj->vo_swap, 0, &p, &blk)) {
		vm_page_t m = vm_page_lookup(obj, p);
		if (m != NULL) {
			if (vm_page_busied(m)) {
				sp_free_flush(&fr);
				vm_page_busy_sleep_unlocked(m, &obj->vo_lock, true);
				vm_object_lock(obj);
				continue;
			}
			/* Resident (clean, the block its copy): its only copy from now on. */
			m->dirty = SWAP_PAGE_BITS_ALL;
			sp_meta_remove(obj, p);
			sp_free_add(&fr, blk);
			continue;
		}
		int n = 0;
		do {
			if ((ma[n] = vm_page_alloc(obj, p + (vm_pindex_t)n, VM_ALLOC_NORMAL)) == NULL)
				break;
			n++;
		} while (n < sw_maxrun && p + (vm_pindex_t)n != 0 &&
		    swap_meta_lookup(&obj->vo_swap, p + (vm_pindex_t)n) == blk + (uint64_t)n &&
		    vm_page_lookup(obj, p + (vm_pindex_t)n) == NULL);
		if (n == 0) {
			error = ENOMEM;
			break;
		}
		sp_free_flush(&fr);
		int rv = swap_pager_getpages(obj, ma, n);
		for (int i = 0; i < n; i++) {
			if (rv == VM_PAGER_OK) {
				ma[i]->dirty = SWAP_PAGE_BITS_ALL;
				/* Gone already when getpages found swap almost full. */
				uint64_t blk = sp_meta_remove(obj, ma[i]->pindex);
				if (blk != SWAPBLK_NONE)
					sp_free_add(&fr, blk);
				vm_page_xunbusy(ma[i]);
			} else {
				vm_page_xunbusy(ma[i]);
				vm_page_free_obj(ma[i]);
			}
		}
		if (rv != VM_PAGER_OK)
			error = EIO;
	}
	sp_free_flush(&fr);
	return error;
}

/* The first live object on the list, with a reference of ours; NULL: none (*dying:
 * some are being terminated, their blocks about to go). */
static struct vm_object *sp_next_object(bool *dying)
{
	struct vm_object *obj;

	*dying = false;
	mtx_lock(&sw_mtx);
	for (obj = sw_objects; obj != NULL; obj = obj->vo_swap.sm_next) {
		/* On the list means not freed yet: termination and collapse empty the
		 * metadata (and leave the list) before the object goes. */
		if (vm_object_reference_live(obj))
			break;
		*dying = true;
	}
	mtx_unlock(&sw_mtx);
	return obj;
}

int swap_pager_swapoff(void)
{
	struct vm_page_counts vc;
	struct swap_blist *bl;
	struct vm_object *obj;
	uma_zone_t z;
	bool dying;
	int error = 0;

	vm_page_counts_snapshot(&vc);
	mtx_lock(&sw_mtx);
	if (sw_dev == NULL) {
		mtx_unlock(&sw_mtx);
		return EINVAL;
	}
	if (sw_closing) {
		mtx_unlock(&sw_mtx);
		return EBUSY;
	}
	if (sw_used + vc.v_free_reserved > vc.v_free_count) {
		mtx_unlock(&sw_mtx);
		return ENOMEM;
	}
	sw_closing = true;
	sw_holds++;             /* ours: the device stays while we read from it */
	mtx_unlock(&sw_mtx);

	for (;;) {
		while (error == 0 && (obj = sp_next_object(&dying)) != NULL) {
			vm_object_lock(obj);
			error = sp_swapoff_object(obj);
			vm_object_unlock(obj);
			vm_object_deallocate(obj);
		}
		if (error != 0)
			break;
		mtx_lock(&sw_mtx);
		/* Done when no object has a block and nothing is under way: a page-out that
		 * began before the swapoff leaves blocks when it ends. */
		if (sw_objects == NULL && sw_holds == 1)
			break;          /* with sw_mtx */
		if (sw_objects == NULL || dying)
			vm_sleep(&sw_holds, &sw_mtx, "swapoff", 1000000);
		mtx_unlock(&sw_mtx);
	}
	if (error != 0) {
		mtx_lock(&sw_mtx);
		sw_closing = false;
		sp_unhold_locked();
		mtx_unlock(&sw_mtx);
		return error;
	}
	KASSERT(sw_used == 0 && sw_nbios == 0, ("swap_pager_swapoff: %llu blocks used, "
	    "%llu requests under way with no object on swap", (unsigned long long)sw_used,
	    (unsigned long long)sw_nbios));
	__atomic_store_n(&vm_pager_anon, NULL, __ATOMIC_RELEASE);
	bl = sw_blist;
	z = sw_bio_zone;
	sw_dev = NULL;
	sw_blist = NULL;
	sw_bio_zone = NULL;
	sw_closing = false;
	sw_holds = 0;
	sw_maxrun = 0;
	sw_bad = 0;
	mtx_unlock(&sw_mtx);
	uma_zdestroy(z);
	swap_meta_zfini();
	swap_blist_destroy(bl);
	return 0;
}

struct swap_dev *swap_pager_device(void)
{
	return __atomic_load_n(&sw_dev, __ATOMIC_RELAXED);
}

static void swap_pager_stats_fill(struct swap_pager_stats *out);

void swap_pager_stats(struct swap_pager_stats *out)
{
	mtx_lock(&sw_mtx);
	swap_pager_stats_fill(out);
	mtx_unlock(&sw_mtx);
}

void swap_pager_stats_nowait(struct swap_pager_stats *out)
{
	/* Racy when the lock is taken: every field is a word; the device's size is read
	 * through a pointer that only swapoff clears (and frees after). */
	bool locked = mtx_trylock_unowned(&sw_mtx);

	swap_pager_stats_fill(out);
	if (locked)
		mtx_unlock(&sw_mtx);
}

static void swap_pager_stats_fill(struct swap_pager_stats *out)
{
	struct swap_blist *bl = __atomic_load_n(&sw_blist, __ATOMIC_ACQUIRE);

	out->sps_total = bl != NULL ? bl->bl_nblocks : 0;
	out->sps_free = bl != NULL ? swap_blist_avail(bl) : 0;
	out->sps_used = sw_used;
	out->sps_bad = sw_bad;
	out->sps_inflight = sw_nbios;
	out->sps_objects = sw_nobjects;
	out->sps_pageouts = SW_READ(sw_pageouts);
	out->sps_pageins = SW_READ(sw_pageins);
	out->sps_writes = SW_READ(sw_writes);
	out->sps_reads = SW_READ(sw_reads);
	out->sps_write_errors = SW_READ(sw_write_errors);
	out->sps_read_errors = SW_READ(sw_read_errors);
	out->sps_nospace = SW_READ(sw_nospace);
}

void swap_pager_reset(void)
{
	memset(&sw_mtx, 0, sizeof(sw_mtx));
	sw_dev = NULL;
	sw_blist = NULL;
	sw_maxrun = 0;
	sw_closing = false;
	sw_bio_zone = NULL;
	sw_holds = sw_nbios = sw_used = sw_bad = sw_nobjects = 0;
	sw_objects = NULL;
	sw_pageouts = sw_pageins = sw_writes = sw_reads = 0;
	sw_write_errors = sw_read_errors = sw_nospace = 0;
	vm_pager_anon = NULL;
	swap_meta_reset();
}
