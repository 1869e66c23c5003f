/*
 * vm_page_alloc's fast path as an inline, for the one caller whose every instruction
 * counts: the fault (vm_fault.c), where a call would cost its arguments, its frame and
 * the tests a constant request folds away. vm_page_obj.c's vm_page_alloc is the same
 * code out of line for everyone else. Private to vm/: vm_page_int.h's per-CPU cache.
 */
#ifndef VM_VM_PAGE_ALLOC_INLINE_H
#define VM_VM_PAGE_ALLOC_INLINE_H

#include "vm/vm_object.h"
#include "vm/vm_page_int.h"
#include "vm/vm_radix.h"

/* listq links point at other pages' listq; the page of a listq link. */
static inline vm_page_t vm_page_of_listq(struct vm_plinks *pl)
{
	return (vm_page_t)(void *)((char *)pl - offsetof(struct vm_page, listq));
}

/* vm_page_alloc through the allocator: the requests the fast path does not serve, and
 * those when this CPU had no page at hand. => obj locked. */
vm_page_t vm_page_alloc_general(struct vm_object *obj, vm_pindex_t pindex, int req);
/* vm_page_alloc's end for m, a page the fast path took but could not insert: into obj
 * at pindex by the general insert, then busied as req says. => obj locked. */
vm_page_t vm_page_alloc_insert(struct vm_object *obj, vm_pindex_t pindex, int req,
    vm_page_t m);

/*
 * The fault's case in one piece: vm_page_alloc_noobj's two one-page fast paths (a ZERO
 * request from this CPU's zeroed run, a plain one from its cache), the trie's store
 * into the slot its lookup just missed, the memq append after the last page, no busy,
 * and for anonymous memory the page into this CPU's batch for the active queue, all
 * under the one hold of the CPU's cache flag (vm_pagequeue.h). Anything else leaves by
 * a tail call with nothing changed but the page taken (then handed on). slot, count:
 * the empty slot for pindex and its node's count (vm_radix_lookup_slot), or slot NULL
 * (the general insert). anon: the caller knows obj anonymous (true), or not (false:
 * tested here).
 * => obj locked; its trie unchanged since slot was found.
 */
static inline __attribute__((always_inline)) vm_page_t vm_page_alloc_slot_anon(
    struct vm_object *obj, vm_pindex_t pindex, int req, uintptr_t *slot, uint16_t *count,
    bool anon)
{
	struct vm_page_pcpu *pc;
	vm_page_t m;

	vm_object_assert_locked(obj);
	KASSERT(vm_page_lookup(obj, pindex) == NULL, ("vm_page_alloc: object %p has a page "
	    "at pindex %#llx", (void *)obj, (unsigned long long)pindex));
	KASSERT((obj->vo_flags & OBJ_DEAD) == 0, ("vm_page_insert: object %p is dead",
	    (void *)obj));
	int setup = req & (VM_ALLOC_ZERO | VM_ALLOC_WIRED | VM_ALLOC_NODUMP);
	if (__predict_false(setup != VM_ALLOC_ZERO && setup != 0))
		return vm_page_alloc_general(obj, pindex, req);
	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	__asm__("" : "+r"(pc));     /* computed once, kept: not again at the queueing */
	if (__predict_false(!vm_page_pcpu_trylock(pc))) {
		critical_exit();
		return vm_page_alloc_general(obj, pindex, req);
	}
	if (setup == VM_ALLOC_ZERO) {
		m = pc->pc_znext;
		if (__predict_false(m == pc->pc_zend))
			goto none;
		pc->pc_znext = m + 1;
		vm_page_zero_mark(m, VM_FREEPOOL_DIRECT);
	} else {
		/* vm_page_pcpu_next_locked's two sources, each its own way out: no test
		 * of the page got for NULL. */
		uint32_t *n = &pc->pc_count[VM_FREEPOOL_DIRECT];
		if (*n > 0)
			m = pc->pc_pages[VM_FREEPOOL_DIRECT][--*n];
		else if (__predict_true(pc->pc_rnext != pc->pc_rend))
			m = pc->pc_rnext++;
		else
			goto none;
		m->pool = VM_FREEPOOL_DIRECT;
	}
	VM_PAGE_ASSERT_FREE(m, "vm_page_alloc");
	struct vm_plinks *prev = obj->vo_memq.pl_prev;
	m->pindex = pindex;
	if (__predict_false((req & VM_ALLOC_NOBUSY) == 0 || slot == NULL ||
	    (prev != &obj->vo_memq && vm_page_of_listq(prev)->pindex > pindex))) {
		m->pindex = 0;
		vm_page_pcpu_unlock(pc);
		critical_exit();
		return vm_page_alloc_insert(obj, pindex, req, m);
	}
	vm_radix_insert_slot(&obj->vo_rtree, slot, count, m);
	m->object = obj;
	m->listq.pl_prev = prev;
	m->listq.pl_next = prev->pl_next;
	prev->pl_next->pl_prev = &m->listq;
	prev->pl_next = &m->listq;
	obj->vo_resident_page_count++;
	/* (The fault's F is anonymous, tested before: the caller's constant.) */
	if ((anon || vm_object_anon(obj)) && __predict_false(vm_page_pcpu_qadd(pc, m)))
		return vm_pqbatch_flush_full(pc, m);   /* a tail call: no frame here */
	vm_page_pcpu_unlock(pc);
	critical_exit();
	return m;
none:
	vm_page_pcpu_unlock(pc);
	critical_exit();
	return vm_page_alloc_general(obj, pindex, req);
}

/* vm_page_alloc's whole fast path: the slot from the trie's last miss when it was
 * pindex's and is empty in a node (vm_radix_insert_hinted's case but the root's).
 * => obj locked. */
static inline __attribute__((always_inline)) vm_page_t vm_page_alloc_inline(
    struct vm_object *obj, vm_pindex_t pindex, int req)
{
	struct vm_radix *rt = &obj->vo_rtree;
	uintptr_t *slot = rt->rt_miss_slot;

	if (slot != NULL && (rt->rt_miss_index != pindex || *slot != 0 ||
	    rt->rt_miss_count == NULL))     /* the empty trie's root: no count */
		slot = NULL;
	return vm_page_alloc_slot_anon(obj, pindex, req, slot, rt->rt_miss_count, false);
}

#endif /* VM_VM_PAGE_ALLOC_INLINE_H */
