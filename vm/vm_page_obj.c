/*
 * vm_page's object side: a page's membership of an object (insert, remove, rename),
 * looking pages up, and allocating or grabbing a page at an index. Kept apart from
 * vm_page.c, the allocator, which knows nothing of objects.
 *
 * Every resident page is both in the object's vm_radix (found by pindex) and on its
 * vo_memq (walked in pindex order, neighbour in O(1)); each function here changes the
 * two and vo_resident_page_count together, under the object's lock.
 */
#include "vm/vm_object.h"
#include "vm/vm_page_alloc_inline.h"
#include "vm/vm_page_int.h"
#include "vm/vm_pagequeue.h"

/* Link m into obj's vo_memq after its predecessor in pindex order. => obj locked,
 * m already in the trie. Inline: the append is a few stores, less than a call. */
static inline __attribute__((always_inline)) void vm_page_memq_link(struct vm_object *obj,
    vm_page_t m)
{
	struct vm_plinks *prev = obj->vo_memq.pl_prev;     /* the last page, or the head */

	/* After the last page (pages come in in address order: first touches, copies,
	 * read-ahead) or into an empty list, without a lookup; else after the page with
	 * the largest index below m's. */
	if (prev != &obj->vo_memq && vm_page_of_listq(prev)->pindex > m->pindex) {
		vm_page_t mpred = m->pindex == 0 ? NULL :
		    vm_radix_lookup_le(&obj->vo_rtree, m->pindex - 1);
		prev = mpred != NULL ? &mpred->listq : &obj->vo_memq;
	}

	m->listq.pl_prev = prev;
	m->listq.pl_next = prev->pl_next;
	prev->pl_next->pl_prev = &m->listq;
	prev->pl_next = &m->listq;
}

/* A page new in obj goes on the active queue when the page daemon may take it back:
 * anonymous memory. Returns m. */
static inline vm_page_t vm_page_alloc_enqueue(struct vm_object *obj, vm_page_t m)
{
	if (vm_object_anon(obj))
		vm_page_enqueue_new(m);
	return m;
}

static void vm_page_memq_unlink(vm_page_t m)
{
	m->listq.pl_prev->pl_next = m->listq.pl_next;
	m->listq.pl_next->pl_prev = m->listq.pl_prev;
	m->listq.pl_next = m->listq.pl_prev = NULL;
}

static void vm_page_double_insert(vm_page_t m, struct vm_object *obj, vm_pindex_t pindex,
    const char *who) __attribute__((noreturn, cold));
static void vm_page_double_insert(vm_page_t m, struct vm_object *obj, vm_pindex_t pindex,
    const char *who)
{
	panic("%s: object %p already has page %p at pindex %#llx (inserting page %p)", who,
	    (void *)obj, (void *)vm_radix_lookup(&obj->vo_rtree, pindex),
	    (unsigned long long)pindex, (void *)m);
}

/* vm_page_insert, inline into vm_page_alloc (a fault's page: the trie's store into the
 * slot its lookup missed, the memq append and the count, without three calls). */
static inline __attribute__((always_inline)) int vm_page_insert_inline(vm_page_t m,
    struct vm_object *obj, vm_pindex_t pindex)
{
	vm_object_assert_locked(obj);
	KASSERT(m->object == NULL, ("vm_page_insert: page %p already in object %p",
	    (void *)m, (void *)m->object));
	KASSERT((obj->vo_flags & OBJ_DEAD) == 0, ("vm_page_insert: object %p is dead",
	    (void *)obj));
	m->pindex = pindex;
	int rv = vm_radix_insert(&obj->vo_rtree, m);
	if (rv == EEXIST)
		vm_page_double_insert(m, obj, pindex, "vm_page_insert");
	if (rv != 0) {
		m->pindex = 0;
		return rv;
	}
	m->object = obj;
	vm_page_memq_link(obj, m);
	obj->vo_resident_page_count++;
	return 0;
}

int vm_page_insert(vm_page_t m, struct vm_object *obj, vm_pindex_t pindex)
{
	return vm_page_insert_inline(m, obj, pindex);
}

/* Take ma[0..n), pages of obj (locked), out of it: the trie (one descent for each
 * stretch of neighbours), the list, the count. */
static void vm_page_remove_pages(struct vm_object *obj, vm_page_t *ma, int n)
{
	vm_object_assert_locked(obj);
	vm_radix_remove_pages(&obj->vo_rtree, ma, n);
	for (int i = 0; i < n; i++) {
		vm_page_t m = ma[i];
		KASSERT(m->object == obj, ("vm_page_remove_pages: page %p is in %p, not %p",
		    (void *)m, (void *)m->object, (void *)obj));
		vm_page_memq_unlink(m);
		m->object = NULL;
		m->pindex = 0;
	}
	obj->vo_resident_page_count -= (uint64_t)n;
}

void vm_page_remove(vm_page_t m)
{
	KASSERT(m->object != NULL, ("vm_page_remove: page %p in no object", (void *)m));
	vm_page_remove_pages(m->object, &m, 1);
}

int vm_page_rename(vm_page_t m, struct vm_object *new_obj, vm_pindex_t new_pindex)
{
	struct vm_object *old_obj = m->object;
	vm_pindex_t old_pindex = m->pindex;

	KASSERT(old_obj != NULL, ("vm_page_rename: page %p in no object", (void *)m));
	vm_object_assert_locked(old_obj);
	vm_object_assert_locked(new_obj);
	/* Off its queue while its object changes, for the page daemon (vm_pageout.h). */
	int queue = __atomic_load_n(&m->queue, __ATOMIC_ACQUIRE);
	vm_page_dequeue(m);
	/* Into the new trie first, so that a failure changes nothing. Each trie reads the
	 * key from m->pindex, so it holds the key that trie knows at each call. */
	m->pindex = new_pindex;
	int rv = vm_radix_insert(&new_obj->vo_rtree, m);
	if (rv == EEXIST)
		vm_page_double_insert(m, new_obj, new_pindex, "vm_page_rename");
	m->pindex = old_pindex;
	if (rv != 0) {
		if (queue != PQ_NONE)
			vm_page_enqueue(m, queue);
		return rv;
	}
	vm_page_t r = vm_radix_remove(&old_obj->vo_rtree, old_pindex);
	KASSERT(r == m, ("vm_page_rename: page %p not at its pindex", (void *)m));
	(void)r;
	vm_page_memq_unlink(m);
	old_obj->vo_resident_page_count--;
	m->pindex = new_pindex;
	m->object = new_obj;
	vm_page_memq_link(new_obj, m);
	new_obj->vo_resident_page_count++;
	if (queue != PQ_NONE)
		vm_page_enqueue(m, queue);
	return 0;
}

vm_page_t vm_page_next(vm_page_t m)
{
	vm_object_assert_locked(m->object);
	if (m->listq.pl_next == &m->object->vo_memq)
		return NULL;
	return vm_page_of_listq(m->listq.pl_next);
}

vm_page_t vm_page_find_least(struct vm_object *obj, vm_pindex_t pindex)
{
	vm_object_assert_locked(obj);
	return vm_radix_lookup_ge(&obj->vo_rtree, pindex);
}

void vm_page_free_obj(vm_page_t m)
{
	/* Off its queue before it leaves the object: the page daemon trusts the object of
	 * a queued page to be alive (vm_pageout.h). */
	vm_page_dequeue(m);
	vm_page_remove(m);
	if (!vm_page_wired(m))
		vm_page_free(m);
	else if (vm_page_xbusied(m))
		vm_page_xunbusy(m);     /* its wirer frees it; it must not find it busy */
}

void vm_page_free_obj_pages(vm_page_t *ma, int n)
{
	int k = 0;

	if (n == 0)
		return;
	/* Off the queues before out of the object, as vm_page_free_obj. */
	vm_page_dequeue_pages(ma, n);
	vm_page_remove_pages(ma[0]->object, ma, n);
	for (int i = 0; i < n; i++) {
		vm_page_t m = ma[i];
		if (!vm_page_wired(m))
			ma[k++] = m;
		else if (vm_page_xbusied(m))
			vm_page_xunbusy(m);     /* its wirer frees it; it must not find it busy */
	}
	vm_page_free_pages(ma, k);
}

/* m, just allocated, could not go into obj for want of a trie node: give it back and
 * (if req may sleep) wait for a node without the object's lock. => obj locked on entry
 * and on return; NULL. */
static __attribute__((noinline)) vm_page_t vm_page_alloc_nonode(struct vm_object *obj,
    vm_page_t m, int req)
{
	vm_page_free(m);
	if ((req & (VM_ALLOC_WAITOK | VM_ALLOC_WAITFAIL)) != 0) {
		vm_object_unlock(obj);
		vm_radix_wait();
		vm_object_lock(obj);
	}
	return NULL;
}

/* vm_page_alloc when no page could be had at once: sleep for one (if req allows)
 * without the object's lock. => obj locked on entry and on return. */
static __attribute__((noinline)) vm_page_t vm_page_alloc_sleep(struct vm_object *obj,
    vm_pindex_t pindex, int req)
{
	vm_page_t m;

	if ((req & (VM_ALLOC_WAITOK | VM_ALLOC_WAITFAIL)) == 0)
		return NULL;
	/* The allocator panics where nothing could free any; then check that pindex is
	 * still ours to fill. */
	vm_object_unlock(obj);
	m = vm_page_alloc_noobj(req);
	vm_object_lock(obj);
	if (m != NULL && (vm_page_lookup(obj, pindex) != NULL ||
	    (obj->vo_flags & OBJ_DEAD) != 0)) {
		vm_page_free(m);
		return NULL;
	}
	if (m != NULL && vm_page_insert_inline(m, obj, pindex) != 0)
		return vm_page_alloc_nonode(obj, m, req);
	return m != NULL ? vm_page_alloc_enqueue(obj, m) : NULL;
}

/* vm_page_alloc's end for m, a page just taken: into obj at pindex by the general
 * insert, then busied as req says. => obj locked. */
__attribute__((noinline)) vm_page_t vm_page_alloc_insert(struct vm_object *obj,
    vm_pindex_t pindex, int req, vm_page_t m)
{
	if (__predict_false(vm_page_insert_inline(m, obj, pindex) != 0))
		return vm_page_alloc_nonode(obj, m, req);
	if ((req & VM_ALLOC_NOBUSY) == 0) {
		bool busied = vm_page_tryxbusy(m);
		KASSERT(busied, ("vm_page_alloc: new page %p is busy", (void *)m));
		(void)busied;
	}
	return vm_page_alloc_enqueue(obj, m);
}

/* vm_page_alloc through the allocator: the requests its fast path does not serve, and
 * those when this CPU had no page at hand. => obj locked. */
__attribute__((noinline)) vm_page_t vm_page_alloc_general(struct vm_object *obj,
    vm_pindex_t pindex, int req)
{
	vm_page_t m;

	m = vm_page_alloc_noobj((req & ~(VM_ALLOC_WAITOK | VM_ALLOC_WAITFAIL)) |
	    VM_ALLOC_NOWAIT);
	if (__predict_false(m == NULL)) {
		if ((m = vm_page_alloc_sleep(obj, pindex, req)) == NULL)
			return NULL;
		if ((req & VM_ALLOC_NOBUSY) == 0) {
			bool busied = vm_page_tryxbusy(m);
			KASSERT(busied, ("vm_page_alloc: new page %p is busy", (void *)m));
			(void)busied;
		}
		return m;
	}
	return vm_page_alloc_insert(obj, pindex, req, m);
}

/* The fault's case inline (vm_page_alloc_inline.h); everything else by its calls. */
vm_page_t vm_page_alloc(struct vm_object *obj, vm_pindex_t pindex, int req)
{
	return vm_page_alloc_inline(obj, pindex, req);
}

vm_page_t vm_page_grab(struct vm_object *obj, vm_pindex_t pindex, int req)
{
	vm_page_t m;

	vm_object_assert_locked(obj);
	for (;;) {
		m = vm_page_lookup(obj, pindex);
		if (m != NULL) {
			if (vm_page_tryxbusy(m))
				return m;
			if ((req & (VM_ALLOC_WAITOK | VM_ALLOC_WAITFAIL)) == 0)
				return NULL;
			/* Sleep until it is unbusied, then look again: it may be gone. */
			vm_page_busy_sleep_unlocked(m, &obj->vo_lock, true);
			vm_object_lock(obj);
			if ((req & VM_ALLOC_WAITFAIL) != 0)
				return NULL;
			continue;
		}
		m = vm_page_alloc(obj, pindex, req & ~VM_ALLOC_NOBUSY);
		if (m != NULL || (req & VM_ALLOC_WAITOK) == 0)
			return m;
	}
}
