/*
 * vm_object: what backs a mapping: anonymous memory (default and swap: the same to
 * the VM, either may have pages on swap), physical memory (phys) and device memory
 * (device). An object holds its resident pages, indexed by pindex in a vm_radix trie
 * and listed in pindex order on vo_memq (through each page's listq), and the swap
 * blocks of its pages that were paged out (vo_swap, vm/swap_meta.h: an anonymous object
 * "has" a page when it is resident or on swap); it may shadow a backing object for
 * copy-on-write: a page missing here is looked up in the backing object at pindex +
 * backing offset, and so on down the chain.
 *
 * Field locking legend:
 *   O  the object's own lock (vo_lock)
 *   B  the backing object's lock (links on its list of shadows)
 *   A  atomic; the count goes to 0 only under O (see vm_object_deallocate)
 *   C  constant from vm_object_allocate to the object's free
 *
 * Lock order: a shadow before its backing object (down the chain), object locks before
 * page locks (busy sleeps) and UMA's. The one lock taken against that order, a shadow
 * under its backing object, is taken with mtx_trylock.
 */
#ifndef VM_VM_OBJECT_H
#define VM_VM_OBJECT_H

#include "vm/vm_page.h"
#include "vm/vm_radix.h"
#include "vm/swap_meta.h"

struct vm_pager_ops;

/* vo_type */
#define OBJT_DEFAULT    0   /* anonymous, zero-fill */
#define OBJT_SWAP       1   /* anonymous with a swap pager (issue 7) */
#define OBJT_PHYS       2   /* physical pages that are never paged out */
#define OBJT_DEVICE     3   /* device memory (fictitious pages) */

/* vo_flags */
#define OBJ_DEAD        0x0001  /* being terminated: no new references, no collapse */
#define OBJ_PIPWNT      0x0002  /* someone waits for paging_in_progress to drop to 0 */

struct vm_object {
	struct mtx vo_lock;
	struct vm_radix vo_rtree;               /* O: resident pages by pindex */
	struct vm_plinks vo_memq;               /* O: resident pages in pindex order */
	vm_pindex_t vo_size;                    /* O: pages the object spans */
	uint64_t vo_resident_page_count;        /* O */
	struct vm_object *vo_backing_object;    /* O: what this object shadows, or NULL */
	vm_ooffset_t vo_backing_object_offset;  /* O: bytes; page-aligned */
	struct swap_meta vo_swap;               /* O: pages on swap (anonymous objects; its
	                                           list links: the swap pager's lock) */
	struct vm_object *vo_shadow_head;       /* O: the objects shadowing this one */
	struct vm_object *vo_shadow_next;       /* B: links on the backing object's list */
	struct vm_object *vo_shadow_prev;       /* B */
	uint32_t vo_ref_count;                  /* A: references (a shadow holds one) */
	uint32_t vo_shadow_count;               /* O: length of vo_shadow_head's list */
	uint32_t vo_paging_in_progress;         /* O: pager I/O or collapse under way */
	uint16_t vo_flags;                      /* O: OBJ_* */
	uint8_t vo_type;                        /* C: OBJT_* */
	vm_paddr_t vo_phys_base;                /* C: OBJT_DEVICE: physical address of
	                                           pindex 0 (for the device pager) */
	const struct vm_pager_ops *vo_pager;    /* C: set before the object is shared;
	                                           NULL: anonymous zero-fill (vm_pager.h) */
};

static inline void vm_object_lock(struct vm_object *obj)
{
	mtx_lock(&obj->vo_lock);
}
static inline void vm_object_unlock(struct vm_object *obj)
{
	mtx_unlock(&obj->vo_lock);
}
#define vm_object_assert_locked(obj)  mtx_assert_owned(&(obj)->vo_lock)

/* Anonymous objects: default and swap, the only ones that shadow and collapse. */
static inline bool vm_object_anon(const struct vm_object *obj)
{
	return obj->vo_type == OBJT_DEFAULT || obj->vo_type == OBJT_SWAP;
}

/*
 * A new object of `type` spanning `size` pages with one reference.
 * => no locks held; may sleep (the first object makes the zones).
 */
struct vm_object *vm_object_allocate(int type, vm_pindex_t size);
/* One more reference. => the caller holds a reference already. */
void vm_object_reference(struct vm_object *obj);
/* One more reference unless the count already reached zero (obj is being terminated):
 * for a caller that found obj on a list of its own without a reference (the swap
 * pager's swapoff). => obj not freed meanwhile (the list's lock says so). */
bool vm_object_reference_live(struct vm_object *obj);
/*
 * Drop a reference. The last one terminates the object (its pages freed, or left to
 * their wirers) and drops its reference on the backing object, and so on down. When
 * the references left are only the one shadow's, that shadow is collapsed into this
 * object's place (vm_object_collapse).
 * => obj unlocked; no locks held; may sleep (busy pages, paging in progress).
 */
void vm_object_deallocate(struct vm_object *obj);

/*
 * Copy-on-write: *objp becomes a new anonymous object of length bytes that shadows the
 * old *objp at *offset, and *offset becomes 0. The caller's reference on the old object
 * passes to the new one (which comes with one reference, the caller's).
 * => no locks held; may sleep.
 */
void vm_object_shadow(struct vm_object **objp, vm_ooffset_t *offset, vm_size_t length);

/*
 * Collapse obj's backing chain as far as the rules allow (vm_object.c's opening
 * comment): a backing object only obj refers to is merged into obj; one that others
 * refer to but that obj hides entirely is bypassed.
 * => obj locked on entry and on return (dropped meanwhile while a page is busy).
 */
void vm_object_collapse(struct vm_object *obj);

/*
 * Free the resident pages in [start, end) (pindexes; end 0: to the end), and the swap
 * blocks of the range. Wired pages are taken out of the object and left to their
 * wirers. Busy pages are waited for.
 * => obj locked on entry and on return (dropped meanwhile while a page is busy).
 */
void vm_object_page_remove(struct vm_object *obj, vm_pindex_t start, vm_pindex_t end);

/* Paging in progress: while non-zero the object is neither collapsed nor terminated.
 * => obj locked. pip_wait may sleep (and drops the lock meanwhile). */
void vm_object_pip_add(struct vm_object *obj, uint32_t n);
void vm_object_pip_wakeup(struct vm_object *obj);
void vm_object_pip_wait(struct vm_object *obj, const char *wmesg);

/* Objects now allocated (tests: none leaked). */
int vm_object_count(void);
/* Collapses and bypasses done since boot (racy). */
uint64_t vm_object_collapses(void);
uint64_t vm_object_bypasses(void);

/* ---- resident pages (vm/vm_page_obj.c) -------------------------------------------- */

/*
 * Put m (no object's) into obj at pindex, in vm_radix and on vo_memq. A page already at
 * pindex panics (the double-insert check). Returns 0, or ENOMEM when the index had no
 * node without sleeping (nothing changed; vm_radix_wait without the lock, then retry).
 * => obj locked; never sleeps.
 */
int vm_page_insert(vm_page_t m, struct vm_object *obj, vm_pindex_t pindex);
/* Take m out of its object. => m's object locked. */
void vm_page_remove(vm_page_t m);
/*
 * Move m to new_obj at new_pindex (a page already there panics). Returns 0, or ENOMEM
 * as vm_page_insert (m stays where it was). => both objects locked; never sleeps.
 */
int vm_page_rename(vm_page_t m, struct vm_object *new_obj, vm_pindex_t new_pindex);
/* The resident page at pindex, or NULL. => obj locked. */
static inline vm_page_t vm_page_lookup(struct vm_object *obj, vm_pindex_t pindex)
{
	vm_object_assert_locked(obj);
	return vm_radix_lookup_miss(&obj->vo_rtree, pindex);
}
/* vm_page_lookup for the fault, whose page's insert follows: vm_radix_lookup_slot.
 * => obj locked. */
static inline __attribute__((always_inline)) vm_page_t vm_page_lookup_slot(
    struct vm_object *obj, vm_pindex_t pindex, uintptr_t **slotp, uint16_t **countp)
{
	vm_object_assert_locked(obj);
	return vm_radix_lookup_slot(&obj->vo_rtree, pindex, slotp, countp);
}
/* Does obj hold the page at pindex itself: resident, or on swap? => obj locked. */
static inline bool vm_object_has_page(struct vm_object *obj, vm_pindex_t pindex)
{
	return vm_page_lookup(obj, pindex) != NULL ||
	    swap_meta_lookup(&obj->vo_swap, pindex) != SWAPBLK_NONE;
}

/* The resident page after m in pindex order, or NULL. => obj locked. */
vm_page_t vm_page_next(vm_page_t m);
/* The first resident page at or after pindex, or NULL. => obj locked. */
vm_page_t vm_page_find_least(struct vm_object *obj, vm_pindex_t pindex);

/*
 * A new page in obj at pindex, exclusively busied (unless VM_ALLOC_NOBUSY), as
 * vm_page_alloc_noobj sets one up (req: class, ZERO, WIRED). NULL when none: with
 * VM_ALLOC_NOWAIT at once; with WAITOK or WAITFAIL the object lock was dropped while
 * waiting once for memory (look again: another thread may have filled pindex).
 * => obj locked on entry and on return; may sleep (WAITOK/WAITFAIL).
 */
vm_page_t vm_page_alloc(struct vm_object *obj, vm_pindex_t pindex, int req);
/*
 * The page at pindex, exclusively busied, allocated when not resident. A busy page is
 * slept on (until unbusied) and looked up again with WAITOK; NOWAIT returns NULL
 * instead, WAITFAIL sleeps once then returns NULL.
 * => obj locked on entry and on return; may sleep (WAITOK/WAITFAIL).
 */
vm_page_t vm_page_grab(struct vm_object *obj, vm_pindex_t pindex, int req);
/* Take m out of its object and free it (unless wired: then only out of the object).
 * => m's object locked; m not busied by others. */
void vm_page_free_obj(vm_page_t m);

#endif /* VM_VM_OBJECT_H */
