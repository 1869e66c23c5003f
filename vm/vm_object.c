/*
 * vm_object: references, resident pages, shadow chains and their collapse.
 *
 * Shadow chains. vm_object_shadow puts a new anonymous object in front of an object for
 * copy-on-write; the new one holds a reference on the one behind it (its backing
 * object) and is on that one's list of shadows. A chain only grows, so it must be
 * shortened when objects in it stop being needed:
 *
 *   collapse  the backing object B of O has one reference, O's: nothing but O can see
 *             B's pages, so B is merged into O and freed. Each page of B at pindex p
 *             (O's index p - off, off = O's backing offset in pages) is
 *               - freed when p - off lies outside O (p < off or p - off >= O's size):
 *                 nobody can see it;
 *               - freed when O has a page at p - off: O's copy hides it;
 *               - otherwise renamed into O at p - off.
 *             O then backs onto B's backing object at the sum of the two offsets.
 *   bypass    B has other references, but every page of B inside O's window is hidden
 *             by a page of O: O skips B, backing onto B's backing object directly
 *             (taking a reference on it and dropping its reference on B).
 *
 * The rules (the FreeBSD collapse fixes): neither object may be dead (OBJ_DEAD: being
 * terminated, its pages being freed) nor have paging in progress (a pager reading into
 * or writing from its pages: renaming or freeing them under the pager would lose the
 * I/O); both must be anonymous (default or swap). A busy page of B stops the scan: the
 * collapse drops both locks, sleeps until the page is unbusied, and starts again (the
 * pages moved so far are O's already, which no one can tell apart).
 *
 * Swap. A page of an anonymous object may be resident or on swap (its block in
 * vo_swap, vm/swap_meta.h), and "O has a page" means either. In a collapse, a page of B
 * renamed into O takes its block with it (a clean page's block is its copy); B's
 * blocks left once its resident pages are gone are freed by the same rules as pages
 * (outside O's window, or hidden by O's page or block) or moved into O
 * (swap_pager_collapse). A bypass needs B's blocks inside the window hidden too. When
 * the metadata cannot grow without sleeping the collapse waits (swap_meta_wait) and
 * starts again; a renamed page whose block could not follow is dirtied instead and its
 * block freed, so no clean page is left without its copy.
 *
 * When does it happen? vm_object_deallocate collapses when an object's references drop
 * to its one shadow's (that shadow is then the only one that can see its pages), and
 * vm_object_collapse may be called by anyone holding a reference (the fault handler
 * after a copy-on-write, later).
 *
 * References are counted atomically so that the collapse in vm_object_deallocate can
 * take a reference on the shadow it found (if it is not already on its way out) while
 * holding only the backing object's lock and a trylock on the shadow; the count reaches
 * zero only under the object's lock, so under the lock a count above one stays so.
 *
 * Objects come from a UMA zone made by the first vm_object_allocate and destroyed with
 * the last object (as vm_map's entries: boot makes no zone, and uma_zdestroy catches a
 * leaked object).
 */
#include "vm/vm_object.h"
#include "vm/vm_pager.h"
#include "vm/swap_pager.h"
#include "vm/uma.h"

/* Set by the swap pager while a swap device is attached (vm_pager.h). */
const struct vm_pager_ops *vm_pager_anon;

static struct mtx vm_object_zone_mtx;
static uma_zone_t vm_object_zone;           /* Z */
static int vm_object_nobjects;              /* Z */
static uint64_t vm_object_ncollapses;       /* atomic */
static uint64_t vm_object_nbypasses;        /* atomic */

/* ---- allocation and the zone -------------------------------------------------------- */

struct vm_object *vm_object_allocate(int type, vm_pindex_t size)
{
	uma_zone_t z = NULL;
	struct vm_object *obj;

	KASSERT(type >= OBJT_DEFAULT && type <= OBJT_DEVICE,
	    ("vm_object_allocate: bad type %d", type));
	mtx_lock(&vm_object_zone_mtx);
	if (vm_object_zone == NULL) {
		/* uma_zcreate may sleep: not under the mutex (as vm_map_init). */
		mtx_unlock(&vm_object_zone_mtx);
		z = uma_zcreate("VM OBJECT", sizeof(struct vm_object), NULL, NULL, NULL, NULL,
		    UMA_ALIGN_CACHE, 0);
		mtx_lock(&vm_object_zone_mtx);
		if (vm_object_zone == NULL) {
			vm_object_zone = z;
			z = NULL;
		}
	}
	vm_object_nobjects++;
	mtx_unlock(&vm_object_zone_mtx);
	if (z != NULL)
		uma_zdestroy(z);

	obj = uma_zalloc(vm_object_zone, M_WAITOK | M_ZERO);
	mtx_init(&obj->vo_lock, "vm object");
	vm_radix_init(&obj->vo_rtree);
	vm_plinks_init(&obj->vo_memq);
	obj->vo_size = size;
	obj->vo_type = (uint8_t)type;
	obj->vo_ref_count = 1;
	return obj;
}

/* Give an unreachable object back. => obj unlocked, empty, no references. */
static void vm_object_free(struct vm_object *obj)
{
	uma_zone_t z = NULL;

	KASSERT(obj->vo_resident_page_count == 0 && vm_plinks_empty(&obj->vo_memq),
	    ("vm_object_free: object %p has %llu pages", (void *)obj,
	    (unsigned long long)obj->vo_resident_page_count));
	KASSERT(obj->vo_shadow_count == 0 && obj->vo_backing_object == NULL,
	    ("vm_object_free: object %p still in a chain", (void *)obj));
	KASSERT(swap_meta_empty(&obj->vo_swap) && !obj->vo_swap.sm_listed,
	    ("vm_object_free: object %p has %llu pages on swap", (void *)obj,
	    (unsigned long long)obj->vo_swap.sm_count));
	vm_radix_fini(&obj->vo_rtree);
	mtx_destroy(&obj->vo_lock);
	uma_zfree(vm_object_zone, obj);
	mtx_lock(&vm_object_zone_mtx);
	KASSERT(vm_object_nobjects > 0, ("vm_object_free: no object left"));
	if (--vm_object_nobjects == 0) {
		z = vm_object_zone;
		vm_object_zone = NULL;
	}
	mtx_unlock(&vm_object_zone_mtx);
	if (z != NULL)
		uma_zdestroy(z);        /* panics if an object leaked */
}

int vm_object_count(void)
{
	int n;

	mtx_lock(&vm_object_zone_mtx);
	n = vm_object_nobjects;
	mtx_unlock(&vm_object_zone_mtx);
	return n;
}

uint64_t vm_object_collapses(void)
{
	return __atomic_load_n(&vm_object_ncollapses, __ATOMIC_RELAXED);
}

uint64_t vm_object_bypasses(void)
{
	return __atomic_load_n(&vm_object_nbypasses, __ATOMIC_RELAXED);
}

/* ---- paging in progress ------------------------------------------------------------- */

void vm_object_pip_add(struct vm_object *obj, uint32_t n)
{
	vm_object_assert_locked(obj);
	obj->vo_paging_in_progress += n;
}

void vm_object_pip_wakeup(struct vm_object *obj)
{
	vm_object_assert_locked(obj);
	KASSERT(obj->vo_paging_in_progress > 0, ("vm_object_pip_wakeup: object %p has no "
	    "paging in progress", (void *)obj));
	if (--obj->vo_paging_in_progress == 0 && (obj->vo_flags & OBJ_PIPWNT) != 0) {
		obj->vo_flags &= ~OBJ_PIPWNT;
		vm_wakeup(&obj->vo_paging_in_progress);
	}
}

void vm_object_pip_wait(struct vm_object *obj, const char *wmesg)
{
	vm_object_assert_locked(obj);
	while (obj->vo_paging_in_progress > 0) {
		obj->vo_flags |= OBJ_PIPWNT;
		vm_sleep(&obj->vo_paging_in_progress, &obj->vo_lock, wmesg, 0);
	}
}

/* ---- shadow lists ------------------------------------------------------------------- */

/* => bo locked. */
static void vm_object_shadow_link(struct vm_object *bo, struct vm_object *shadow)
{
	vm_object_assert_locked(bo);
	shadow->vo_shadow_prev = NULL;
	shadow->vo_shadow_next = bo->vo_shadow_head;
	if (bo->vo_shadow_head != NULL)
		bo->vo_shadow_head->vo_shadow_prev = shadow;
	bo->vo_shadow_head = shadow;
	bo->vo_shadow_count++;
}

/* => bo locked. */
static void vm_object_shadow_unlink(struct vm_object *bo, struct vm_object *shadow)
{
	vm_object_assert_locked(bo);
	KASSERT(bo->vo_shadow_count > 0, ("vm_object_shadow_unlink: object %p has no "
	    "shadows", (void *)bo));
	if (shadow->vo_shadow_prev != NULL)
		shadow->vo_shadow_prev->vo_shadow_next = shadow->vo_shadow_next;
	else
		bo->vo_shadow_head = shadow->vo_shadow_next;
	if (shadow->vo_shadow_next != NULL)
		shadow->vo_shadow_next->vo_shadow_prev = shadow->vo_shadow_prev;
	shadow->vo_shadow_next = shadow->vo_shadow_prev = NULL;
	bo->vo_shadow_count--;
}

void vm_object_shadow(struct vm_object **objp, vm_ooffset_t *offset, vm_size_t length)
{
	struct vm_object *src = *objp, *res;

	KASSERT((*offset & PAGE_MASK) == 0 && (length & PAGE_MASK) == 0 && length > 0,
	    ("vm_object_shadow: bad offset %#llx or length %#llx",
	    (unsigned long long)*offset, (unsigned long long)length));
	res = vm_object_allocate(OBJT_DEFAULT, atop(length));
	/* res is nobody else's yet: its fields need no lock. */
	res->vo_backing_object = src;
	res->vo_backing_object_offset = *offset;
	if (src != NULL) {
		vm_object_lock(src);
		KASSERT((src->vo_flags & OBJ_DEAD) == 0, ("vm_object_shadow: object %p is dead",
		    (void *)src));
		vm_object_shadow_link(src, res);
		vm_object_unlock(src);
	}
	*objp = res;
	*offset = 0;
}

/* ---- references --------------------------------------------------------------------- */

void vm_object_reference(struct vm_object *obj)
{
	uint32_t old = __atomic_fetch_add(&obj->vo_ref_count, 1, __ATOMIC_RELAXED);

	KASSERT(old > 0, ("vm_object_reference: object %p has no references", (void *)obj));
	(void)old;
}

bool vm_object_reference_live(struct vm_object *obj)
{
	uint32_t old = __atomic_load_n(&obj->vo_ref_count, __ATOMIC_RELAXED);

	do {
		if (old == 0)
			return false;
	} while (!__atomic_compare_exchange_n(&obj->vo_ref_count, &old, old + 1, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return true;
}

/*
 * obj's references just dropped to one: if that one is its only shadow's, return that
 * shadow locked and with a reference of ours, for it to be collapsed into obj's place.
 * => obj locked. The shadow is locked against the lock order, hence the trylock (on
 *    failure the collapse is left for another time).
 */
static struct vm_object *vm_object_lone_shadow(struct vm_object *obj)
{
	struct vm_object *robj = obj->vo_shadow_head;

	if (obj->vo_shadow_count != 1 || !vm_object_anon(obj) ||
	    (obj->vo_flags & OBJ_DEAD) != 0)
		return NULL;
	if (!mtx_trylock(&robj->vo_lock))
		return NULL;
	if ((robj->vo_flags & OBJ_DEAD) != 0 || !vm_object_anon(robj) ||
	    !vm_object_reference_live(robj)) {
		vm_object_unlock(robj);
		return NULL;
	}
	return robj;
}

/*
 * The last reference went: free the pages (wired ones are left to their wirers), leave
 * the backing object's list of shadows, free the object. Returns the backing object,
 * whose reference (obj's) the caller drops next.
 * => obj locked on entry, gone on return; may sleep (paging in progress, busy pages).
 */
static struct vm_object *vm_object_terminate(struct vm_object *obj)
{
	struct vm_object *bo;
	vm_page_t m;

	vm_object_assert_locked(obj);
	KASSERT(obj->vo_shadow_count == 0, ("vm_object_terminate: object %p has %u shadows "
	    "and no references", (void *)obj, obj->vo_shadow_count));
	obj->vo_flags |= OBJ_DEAD;
	vm_object_pip_wait(obj, "objtrm");
	while (!vm_plinks_empty(&obj->vo_memq)) {
		m = vm_page_find_least(obj, 0);
		if (vm_page_busied(m)) {
			vm_page_busy_sleep_unlocked(m, &obj->vo_lock, true);
			vm_object_lock(obj);
			continue;
		}
		vm_page_free_obj(m);
	}
	if (!swap_meta_empty(&obj->vo_swap))
		swap_pager_freespace(obj, 0, 0);
	bo = obj->vo_backing_object;
	if (bo != NULL) {
		vm_object_lock(bo);
		vm_object_shadow_unlink(bo, obj);
		vm_object_unlock(bo);
		obj->vo_backing_object = NULL;
	}
	vm_object_unlock(obj);
	vm_object_free(obj);
	return bo;
}

void vm_object_deallocate(struct vm_object *obj)
{
	while (obj != NULL) {
		vm_object_lock(obj);
		uint32_t left = __atomic_sub_fetch(&obj->vo_ref_count, 1, __ATOMIC_ACQ_REL);
		KASSERT(left != UINT32_MAX, ("vm_object_deallocate: object %p had no references",
		    (void *)obj));
		if (left == 0) {
			obj = vm_object_terminate(obj);
			continue;
		}
		struct vm_object *robj = left == 1 ? vm_object_lone_shadow(obj) : NULL;
		vm_object_unlock(obj);
		if (robj == NULL)
			return;
		/* robj is locked and ours: collapse obj into it, then drop our reference. */
		vm_object_collapse(robj);
		vm_object_unlock(robj);
		obj = robj;
	}
}

/* ---- collapse ----------------------------------------------------------------------- */

/*
 * Move or free every page of bo, and its swap blocks (see the opening comment). Returns
 * false when it had to sleep (a busy page, or no trie node or swap metadata without
 * sleeping): both locks were dropped, obj is locked again and the caller starts over.
 * => obj and bo locked; bo has one reference, obj's.
 */
static bool vm_object_collapse_scan(struct vm_object *obj, struct vm_object *bo)
{
	vm_pindex_t off = atop(obj->vo_backing_object_offset);
	vm_page_t m, next;

	for (m = vm_page_find_least(bo, 0); m != NULL; m = next) {
		next = vm_page_next(m);
		if (vm_page_busied(m)) {
			vm_object_unlock(obj);
			vm_page_busy_sleep_unlocked(m, &bo->vo_lock, true);
			vm_object_lock(obj);
			return false;
		}
		vm_pindex_t p = m->pindex;
		if (p < off || p - off >= obj->vo_size || vm_object_has_page(obj, p - off)) {
			vm_page_free_obj(m);
			continue;
		}
		if (vm_page_rename(m, obj, p - off) != 0) {
			vm_object_unlock(bo);
			vm_object_unlock(obj);
			vm_radix_wait();
			vm_object_lock(obj);
			return false;
		}
		/* Its block goes with it; when the metadata cannot take it now, the page
		 * becomes its only copy. */
		if (swap_meta_lookup(&bo->vo_swap, p) != SWAPBLK_NONE &&
		    swap_pager_transfer(bo, p, obj, p - off) != 0) {
			m->dirty = SWAP_PAGE_BITS_ALL;
			swap_pager_freespace(bo, p, p + 1);
		}
	}
	if (!swap_meta_empty(&bo->vo_swap) && swap_pager_collapse(obj, bo, off) != 0) {
		vm_object_unlock(bo);
		vm_object_unlock(obj);
		swap_meta_wait();
		vm_object_lock(obj);
		return false;
	}
	return true;
}

/* Every page of bo inside obj's window, resident or on swap, is hidden by one of obj's
 * (resident or on swap). => both locked. */
static bool vm_object_all_shadowed(struct vm_object *obj, struct vm_object *bo)
{
	vm_pindex_t off = atop(obj->vo_backing_object_offset), p;
	uint64_t blk;

	for (vm_page_t m = vm_page_find_least(bo, off); m != NULL && m->pindex - off <
	    obj->vo_size; m = vm_page_next(m))
		if (!vm_object_has_page(obj, m->pindex - off))
			return false;
	for (vm_pindex_t from = off; swap_meta_first(&bo->vo_swap, from, &p, &blk) &&
	    p - off < obj->vo_size; from = p + 1)
		if (!vm_object_has_page(obj, p - off))
			return false;
	return true;
}

/* obj now backs onto bo's backing object instead of bo. => obj, bo locked. */
static struct vm_object *vm_object_skip(struct vm_object *obj, struct vm_object *bo)
{
	struct vm_object *bb = bo->vo_backing_object;

	vm_object_shadow_unlink(bo, obj);
	obj->vo_backing_object = bb;
	obj->vo_backing_object_offset += bo->vo_backing_object_offset;
	return bb;
}

void vm_object_collapse(struct vm_object *obj)
{
	struct vm_object *bo, *bb;

	vm_object_assert_locked(obj);
	for (;;) {
		bo = obj->vo_backing_object;
		if (bo == NULL || !vm_object_anon(obj) || (obj->vo_flags & OBJ_DEAD) != 0 ||
		    obj->vo_paging_in_progress != 0)
			return;
		vm_object_lock(bo);
		if (!vm_object_anon(bo) || (bo->vo_flags & OBJ_DEAD) != 0 ||
		    bo->vo_paging_in_progress != 0) {
			vm_object_unlock(bo);
			return;
		}
		if (__atomic_load_n(&bo->vo_ref_count, __ATOMIC_ACQUIRE) == 1) {
			KASSERT(bo->vo_shadow_count == 1 && bo->vo_shadow_head == obj,
			    ("vm_object_collapse: object %p has one reference and %u shadows",
			    (void *)bo, bo->vo_shadow_count));
			if (!vm_object_collapse_scan(obj, bo))
				continue;
			/* obj takes bo's place in the chain, and bo's reference on bb. */
			bb = vm_object_skip(obj, bo);
			if (bb != NULL) {
				vm_object_lock(bb);
				vm_object_shadow_unlink(bb, bo);
				vm_object_shadow_link(bb, obj);
				vm_object_unlock(bb);
			}
			bo->vo_backing_object = NULL;
			bo->vo_ref_count = 0;
			bo->vo_flags |= OBJ_DEAD;
			vm_object_unlock(bo);
			vm_object_free(bo);
			__atomic_add_fetch(&vm_object_ncollapses, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (!vm_object_all_shadowed(obj, bo)) {
			vm_object_unlock(bo);
			return;
		}
		bb = vm_object_skip(obj, bo);
		if (bb != NULL) {
			vm_object_lock(bb);
			vm_object_reference(bb);
			vm_object_shadow_link(bb, obj);
			vm_object_unlock(bb);
		}
		/* bo had another reference under its lock, which only its holder can drop
		 * (under this lock): ours is not the last. */
		uint32_t left = __atomic_sub_fetch(&bo->vo_ref_count, 1, __ATOMIC_ACQ_REL);
		KASSERT(left > 0, ("vm_object_collapse: bypassed object %p lost its last "
		    "reference", (void *)bo));
		(void)left;
		vm_object_unlock(bo);
		__atomic_add_fetch(&vm_object_nbypasses, 1, __ATOMIC_RELAXED);
	}
}

/* ---- page removal ------------------------------------------------------------------- */

void vm_object_page_remove(struct vm_object *obj, vm_pindex_t start, vm_pindex_t end)
{
	vm_page_t m, next;

	vm_object_assert_locked(obj);
again:
	for (m = vm_page_find_least(obj, start); m != NULL && (end == 0 || m->pindex < end);
	    m = next) {
		next = vm_page_next(m);
		if (vm_page_busied(m)) {
			vm_page_busy_sleep_unlocked(m, &obj->vo_lock, true);
			vm_object_lock(obj);
			goto again;
		}
		vm_page_free_obj(m);
	}
	/* No page of the range is left to be under I/O: its blocks can go. */
	if (!swap_meta_empty(&obj->vo_swap))
		swap_pager_freespace(obj, start, end);
}
