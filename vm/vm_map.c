/*
 * vm_map: the entries of an address space, in an augmented AVL tree.
 *
 * The tree. Each entry records the free gap after it (vme_adj_free: up to the next
 * entry's start, or the map's end after the last) and the largest such gap in its
 * subtree (vme_max_free), as FreeBSD's map did from 2004 (adj_free/max_free). Finding
 * the lowest gap of at least `length` is then one descent: go left while the left
 * subtree has a gap that large, else take this entry's gap, else go right.
 *
 * Why AVL and not a splay tree (FreeBSD's) or a red-black tree:
 *   - A splay tree's bound is amortised: one lookup may walk the whole map, and every
 *     lookup writes the tree (rotations), so a read-mostly fault path dirties shared
 *     cache lines. We want O(log n) worst case per operation, and reads that write
 *     nothing.
 *   - Red-black trees rotate less on update and store no height: inserting and then
 *     removing a leaf (an mmap and its munmap) usually touches only the path's largest
 *     gaps, which stop early. AVL's heights change up the whole path when the tree is
 *     nearly perfect, as sequential mmaps make it (measured: the fixup walks are about
 *     45% of the instructions of bench_map's churn). We take that for AVL's tighter
 *     balance (height <= 1.44 log2 n against 2 log2 n): every fault is a lookup, and
 *     lookups outnumber map changes.
 * Every update ends with one walk from the lowest changed node towards the root that
 * rebalances and recomputes height and vme_max_free; it stops at the first subtree whose
 * two fields come out as they were (nothing above can change then), so the augmentation
 * cannot go stale after a rotation.
 *
 * Alignment. vme_max_free knows sizes, not where an aligned block would start, so a gap
 * at least `length` long may still not hold an aligned block. find-space checks each
 * candidate gap in address order: with alignment PAGE_SIZE (every mmap without a hint
 * of alignment) the first candidate fits and the search is one descent; a larger
 * alignment costs another O(log n) step per gap that was long enough but misaligned (as
 * FreeBSD's vm_map_alignspace retries), and a gap of length + align - PAGE_SIZE always
 * fits.
 *
 * Entries and spares. Entries come from a UMA zone made by the first vm_map_init and
 * destroyed by the last vm_map_destroy: the VM core's boot makes no zone (boot cost,
 * vm/vm_startup.h), and a host re-boot finds no zone of the previous machine unless a
 * map of that machine was leaked. The map's lock is a mutex, under which UMA may not
 * sleep, so vm_map_lock first tops up VM_MAP_NSPARE spare entries (sleeping without the
 * lock); an operation splits at most two entries before it frees any, and freed entries
 * refill the spares first, so a churn of mmap and munmap touches UMA not at all.
 *
 * Objects and the pmap. An entry holds one reference on its object (vm_map_insert takes
 * the caller's; a clip takes another for the new half). Taking a reference never sleeps,
 * but dropping one may (the last one frees pages, waiting for busy ones), and the map's
 * lock is a mutex: so an entry that leaves the map with an object goes on the map's
 * deferred list, and vm_map_unlock drops the references after releasing the lock (as
 * FreeBSD's vm_map_process_deferred). Mappings go first: vm_map_delete pmap_removes an
 * entry's range before the entry leaves, vm_map_protect lowers them when rights shrink.
 * An entry without an object has never been faulted (the fault gives it one before
 * entering a page), so it has no mappings and neither call looks at the pmap for it.
 *
 * Lock order: the map's lock, then an object's, then pmap's, then UMA's (entry
 * allocation without sleeping). vm_map_zone_mtx is taken alone.
 */
#include "vm/vm_map.h"
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_object.h"

#define VM_MAP_PROT_ALL (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE)

/* The entry zone and how many maps use it (Z). A map holds the zone alive, so code
 * holding a map reads vm_map_entry_zone without the lock. */
static struct mtx vm_map_zone_mtx;
static uma_zone_t vm_map_entry_zone;
static int vm_map_nmaps;

/* ---- the augmented AVL tree --------------------------------------------------------- */

static inline int vm_map_tree_height(const struct vm_map_entry *e)
{
	return e != NULL ? e->vme_height : 0;
}

static inline vm_size_t vm_map_tree_max_free(const struct vm_map_entry *e)
{
	return e != NULL ? e->vme_max_free : 0;
}

/* Recompute e's height and largest gap from its children. => map locked. */
static inline void vm_map_tree_fix(struct vm_map_entry *e)
{
	int hl = vm_map_tree_height(e->vme_left), hr = vm_map_tree_height(e->vme_right);
	vm_size_t mf = e->vme_adj_free, ml = vm_map_tree_max_free(e->vme_left),
	    mr = vm_map_tree_max_free(e->vme_right);

	e->vme_height = (int8_t)(1 + MAX(hl, hr));
	mf = MAX(mf, ml);
	e->vme_max_free = MAX(mf, mr);
}

/* Put new where old hangs (under old's parent, or as the root). => map locked. */
static inline void vm_map_tree_replace(struct vm_map *map, struct vm_map_entry *old,
    struct vm_map_entry *new)
{
	struct vm_map_entry *p = old->vme_parent;

	if (p == NULL)
		map->vmap_root = new;
	else if (p->vme_left == old)
		p->vme_left = new;
	else
		p->vme_right = new;
	if (new != NULL)
		new->vme_parent = p;
}

/* x's right child takes x's place, x becomes its left child. => the new subtree root. */
static struct vm_map_entry *vm_map_tree_rotate_left(struct vm_map *map, struct vm_map_entry *x)
{
	struct vm_map_entry *y = x->vme_right;

	vm_map_tree_replace(map, x, y);
	x->vme_right = y->vme_left;
	if (y->vme_left != NULL)
		y->vme_left->vme_parent = x;
	y->vme_left = x;
	x->vme_parent = y;
	vm_map_tree_fix(x);
	vm_map_tree_fix(y);
	return y;
}

static struct vm_map_entry *vm_map_tree_rotate_right(struct vm_map *map, struct vm_map_entry *x)
{
	struct vm_map_entry *y = x->vme_left;

	vm_map_tree_replace(map, x, y);
	x->vme_left = y->vme_right;
	if (y->vme_right != NULL)
		y->vme_right->vme_parent = x;
	y->vme_right = x;
	x->vme_parent = y;
	vm_map_tree_fix(x);
	vm_map_tree_fix(y);
	return y;
}

/*
 * From e up to the root: restore AVL balance (children differ in height by at most one)
 * and recompute heights and largest gaps. A parent depends only on its children's
 * height and largest gap, so the walk stops at the first subtree whose two came out as
 * they were; but not below `keep` (a node that moved and whose fields are stale: it
 * must be recomputed whatever its descendants say).
 * => map locked; e's children are balanced subtrees with correct fields.
 */
static void vm_map_tree_fixup(struct vm_map *map, struct vm_map_entry *e,
    struct vm_map_entry *keep)
{
	while (e != NULL) {
		struct vm_map_entry *l = e->vme_left, *r = e->vme_right;
		int hl = vm_map_tree_height(l), hr = vm_map_tree_height(r);
		int8_t oh = e->vme_height;
		vm_size_t omf = e->vme_max_free;

		if (hl - hr > 1) {
			if (vm_map_tree_height(l->vme_left) < vm_map_tree_height(l->vme_right))
				vm_map_tree_rotate_left(map, l);
			e = vm_map_tree_rotate_right(map, e);
		} else if (hr - hl > 1) {
			if (vm_map_tree_height(r->vme_right) < vm_map_tree_height(r->vme_left))
				vm_map_tree_rotate_right(map, r);
			e = vm_map_tree_rotate_left(map, e);
		} else {
			/* The common case, inline: most walks end here, often on the first
			 * node whose fields come out unchanged. */
			vm_size_t mf = MAX(e->vme_adj_free, vm_map_tree_max_free(l));
			int8_t h = (int8_t)(1 + MAX(hl, hr));
			mf = MAX(mf, vm_map_tree_max_free(r));
			if (h == oh && mf == omf && keep == NULL)
				return;
			e->vme_height = h;
			e->vme_max_free = mf;
		}
		if (keep == e)
			keep = NULL;
		else if (keep == NULL && e->vme_height == oh && e->vme_max_free == omf)
			return;
		e = e->vme_parent;
	}
}

/*
 * Only vme_adj_free of e changed (the shape did not): refresh vme_max_free upwards,
 * stopping where it no longer changes. => map locked; e in the tree (not the header).
 */
static void vm_map_tree_gap_changed(struct vm_map_entry *e)
{
	for (; e != NULL; e = e->vme_parent) {
		vm_size_t old = e->vme_max_free;
		vm_map_tree_fix(e);
		if (e->vme_max_free == old)
			break;
	}
}

/* Set the gap after e (the header's is the gap before the first entry). => map locked. */
static inline void vm_map_entry_set_gap(struct vm_map *map, struct vm_map_entry *e)
{
	vm_size_t gap = e->vme_next->vme_start - e->vme_end;

	if (e->vme_adj_free == gap)
		return;
	e->vme_adj_free = gap;
	if (e != &map->vmap_header)
		vm_map_tree_gap_changed(e);
}

/*
 * Put e in the tree right after prev (the header: first) in address order, without a
 * descent: as prev's right child when it has none, else as the left child of prev's
 * successor, which then is the leftmost node of prev's right subtree.
 * => map locked; e linked in the list after prev already.
 */
static void vm_map_tree_insert_after(struct vm_map *map, struct vm_map_entry *prev,
    struct vm_map_entry *e)
{
	struct vm_map_entry *parent, *next = e->vme_next;

	e->vme_left = e->vme_right = NULL;
	e->vme_height = 1;
	e->vme_max_free = e->vme_adj_free;
	if (prev != &map->vmap_header && prev->vme_right == NULL) {
		parent = prev;
		parent->vme_right = e;
	} else if (next != &map->vmap_header) {
		parent = next;
		KASSERT(parent->vme_left == NULL, ("vm_map_tree_insert_after: %#lx has a left "
		    "child", (unsigned long)parent->vme_start));
		parent->vme_left = e;
	} else {
		parent = NULL;          /* the map was empty */
		map->vmap_root = e;
	}
	e->vme_parent = parent;
	vm_map_tree_fixup(map, parent, NULL);
}

static void vm_map_tree_remove(struct vm_map *map, struct vm_map_entry *e)
{
	struct vm_map_entry *from;

	if (e->vme_left != NULL && e->vme_right != NULL) {
		/* The tree successor is the list successor: it has no left child. It takes
		 * e's place; its right child takes its old one. */
		struct vm_map_entry *s = e->vme_next;
		KASSERT(s->vme_left == NULL, ("vm_map_tree_remove: successor %#lx has a left child",
		    (unsigned long)s->vme_start));
		if (s->vme_parent == e) {
			from = s;
		} else {
			from = s->vme_parent;
			from->vme_left = s->vme_right;
			if (s->vme_right != NULL)
				s->vme_right->vme_parent = from;
			s->vme_right = e->vme_right;
			e->vme_right->vme_parent = s;
		}
		s->vme_left = e->vme_left;
		e->vme_left->vme_parent = s;
		vm_map_tree_replace(map, e, s);
		/* s's own fields are those of its old place: recompute them whatever. */
		vm_map_tree_fixup(map, from, s);
	} else {
		from = e->vme_parent;
		vm_map_tree_replace(map, e, e->vme_left != NULL ? e->vme_left : e->vme_right);
		vm_map_tree_fixup(map, from, NULL);
	}
}

/* ---- the list and the tree together ------------------------------------------------ */

/* Link e after prev (the header for "first") in both structures. => map locked. */
static void vm_map_entry_link(struct vm_map *map, struct vm_map_entry *prev,
    struct vm_map_entry *e)
{
	e->vme_prev = prev;
	e->vme_next = prev->vme_next;
	e->vme_next->vme_prev = e;
	prev->vme_next = e;
	e->vme_adj_free = e->vme_next->vme_start - e->vme_end;
	vm_map_tree_insert_after(map, prev, e);
	vm_map_entry_set_gap(map, prev);
	map->vmap_nentries++;
	map->vmap_timestamp++;
}

/* Take e out of both structures; the gap before it joins its predecessor's. */
static void vm_map_entry_unlink(struct vm_map *map, struct vm_map_entry *e)
{
	struct vm_map_entry *prev = e->vme_prev;

	vm_map_tree_remove(map, e);
	prev->vme_next = e->vme_next;
	e->vme_next->vme_prev = prev;
	vm_map_entry_set_gap(map, prev);
	map->vmap_nentries--;
	map->vmap_timestamp++;
	if (map->vmap_hint == e)
		map->vmap_hint = NULL;
}

/* ---- entries and spares ------------------------------------------------------------- */

/* A spare entry, or a new one without sleeping. => map locked; NULL if none. */
static struct vm_map_entry *vm_map_entry_get(struct vm_map *map)
{
	vm_map_assert_locked(map);
	if (map->vmap_nspare > 0)
		return map->vmap_spare[--map->vmap_nspare];
	return uma_zalloc(vm_map_entry_zone, M_NOWAIT);
}

/* An entry no longer in the map: back to the spares, or to the zone. => map locked. */
static void vm_map_entry_put(struct vm_map *map, struct vm_map_entry *e)
{
	if (map->vmap_nspare < VM_MAP_MAXSPARE)
		map->vmap_spare[map->vmap_nspare++] = e;
	else
		uma_zfree(vm_map_entry_zone, e);
}

/*
 * An entry taken out of the map for good: one without an object is reused at once; one
 * with an object waits on the deferred list for vm_map_unlock to drop its reference
 * (vm_object_deallocate may sleep). => map locked; e unlinked.
 */
static void vm_map_entry_dispose(struct vm_map *map, struct vm_map_entry *e)
{
	if (e->vme_object == NULL) {
		vm_map_entry_put(map, e);
		return;
	}
	e->vme_next = map->vmap_deferred;
	map->vmap_deferred = e;
}

/* Drop the object references of a deferred list and free its entries. => no lock held. */
static void vm_map_process_deferred(struct vm_map_entry *e)
{
	struct vm_map_entry *next;

	for (; e != NULL; e = next) {
		next = e->vme_next;
		vm_object_deallocate(e->vme_object);
		uma_zfree(vm_map_entry_zone, e);
	}
}

void vm_map_lock(struct vm_map *map)
{
	mtx_lock(&map->vmap_lock);
	while (map->vmap_nspare < VM_MAP_NSPARE) {
		/* UMA may not sleep under a mutex: allocate without it, then re-check (another
		 * thread may have filled the spares meanwhile). */
		mtx_unlock(&map->vmap_lock);
		struct vm_map_entry *e = uma_zalloc(vm_map_entry_zone, M_WAITOK);
		mtx_lock(&map->vmap_lock);
		vm_map_entry_put(map, e);
	}
}

void vm_map_unlock(struct vm_map *map)
{
	struct vm_map_entry *deferred = map->vmap_deferred;

	vm_map_assert_locked(map);
	map->vmap_deferred = NULL;
	mtx_unlock(&map->vmap_lock);
	if (deferred != NULL)
		vm_map_process_deferred(deferred);
}

int vm_map_entries_allocated(void)
{
	int n;

	mtx_lock(&vm_map_zone_mtx);
	n = vm_map_entry_zone != NULL ? uma_zone_get_cur(vm_map_entry_zone) : 0;
	mtx_unlock(&vm_map_zone_mtx);
	return n;
}

/* ---- init and destroy --------------------------------------------------------------- */

/* Host re-boots only (vm_startup_reset): the entry zone lived in the old UMA, and a map
 * that was never destroyed (the kernel map) left its count behind. */
void vm_map_reset(void)
{
	memset(&vm_map_zone_mtx, 0, sizeof(vm_map_zone_mtx));
	vm_map_entry_zone = NULL;
	vm_map_nmaps = 0;
}

void vm_map_init(struct vm_map *map, struct pmap *pmap, vm_offset_t min, vm_offset_t max)
{
	uma_zone_t z = NULL;

	KASSERT(min < max && ((min | max) & PAGE_MASK) == 0,
	    ("vm_map_init: bad bounds [%#lx, %#lx)", (unsigned long)min, (unsigned long)max));
	mtx_lock(&vm_map_zone_mtx);
	if (vm_map_entry_zone == NULL) {
		/* uma_zcreate may sleep: not under the mutex. Of two racing first maps one
		 * publishes its zone and the other destroys its own, which nobody saw. */
		mtx_unlock(&vm_map_zone_mtx);
		z = uma_zcreate("VM MAP ENTRY", sizeof(struct vm_map_entry), NULL, NULL, NULL,
		    NULL, UMA_ALIGN_CACHE, 0);
		mtx_lock(&vm_map_zone_mtx);
		if (vm_map_entry_zone == NULL) {
			vm_map_entry_zone = z;
			z = NULL;
		}
	}
	vm_map_nmaps++;
	mtx_unlock(&vm_map_zone_mtx);
	if (z != NULL)
		uma_zdestroy(z);

	memset(map, 0, sizeof(*map));
	mtx_init(&map->vmap_lock, "vm map");
	map->vmap_header.vme_next = map->vmap_header.vme_prev = &map->vmap_header;
	map->vmap_header.vme_end = min;
	map->vmap_header.vme_start = max;
	map->vmap_header.vme_adj_free = max - min;
	map->vmap_pmap = pmap;
}

void vm_map_destroy(struct vm_map *map)
{
	uma_zone_t z = NULL;

	KASSERT(!mtx_owned(&map->vmap_lock), ("vm_map_destroy: map %p is locked", (void *)map));
	KASSERT(map->vmap_deferred == NULL, ("vm_map_destroy: map %p has deferred entries",
	    (void *)map));
	/* Nobody looks at the map any more: free the entries without unlinking them. Their
	 * mappings are the owner's to remove first (vmspace_free does). */
	for (struct vm_map_entry *e = vm_map_first(map), *next; e != &map->vmap_header;
	    e = next) {
		next = e->vme_next;
		if (e->vme_object != NULL)
			vm_object_deallocate(e->vme_object);
		uma_zfree(vm_map_entry_zone, e);
	}
	while (map->vmap_nspare > 0)
		uma_zfree(vm_map_entry_zone, map->vmap_spare[--map->vmap_nspare]);
	map->vmap_root = NULL;
	map->vmap_nentries = 0;
	map->vmap_hint = NULL;
	mtx_destroy(&map->vmap_lock);

	mtx_lock(&vm_map_zone_mtx);
	KASSERT(vm_map_nmaps > 0, ("vm_map_destroy: no map left to destroy"));
	if (--vm_map_nmaps == 0) {
		z = vm_map_entry_zone;
		vm_map_entry_zone = NULL;
	}
	mtx_unlock(&vm_map_zone_mtx);
	if (z != NULL)
		uma_zdestroy(z);        /* panics if an entry leaked */
}

/* ---- lookup and find-space ---------------------------------------------------------- */

bool vm_map_lookup_entry(struct vm_map *map, vm_offset_t addr, struct vm_map_entry **entry)
{
	struct vm_map_entry *cur = map->vmap_root, *best = &map->vmap_header;

	vm_map_assert_locked(map);
	while (cur != NULL) {
		if (addr < cur->vme_start) {
			cur = cur->vme_left;
		} else if (addr < cur->vme_end) {
			*entry = cur;
			return true;
		} else {
			best = cur;
			cur = cur->vme_right;
		}
	}
	*entry = best;
	return false;
}

/* ---- lookup for a fault ------------------------------------------------------------ */

/* Keep obj's reference for vm_map_fault_done (after the map is unlocked): dropping it
 * may sleep. With both slots taken (the map changed under the lookup more than once) it
 * is dropped now, without the map's lock. => map locked; the caller looks up again. */
static void vm_map_fault_defer(struct vm_map *map, struct vm_map_fault *vmf,
    struct vm_object *obj)
{
	for (int i = 0; i < 2; i++)
		if (vmf->vmf_drop[i] == NULL) {
			vmf->vmf_drop[i] = obj;
			return;
		}
	vm_map_unlock(map);
	vm_object_deallocate(obj);
	vm_map_lock(map);
}

int vm_map_lookup_fault(struct vm_map *map, vm_offset_t va, vm_prot_t fault_type,
    struct vm_map_fault *vmf)
{
	struct vm_map_entry *e;
	struct vm_object *obj, *spare = NULL;
	vm_ooffset_t off;
	vm_size_t len;

	vm_map_assert_locked(map);
	vmf->vmf_drop[0] = vmf->vmf_drop[1] = NULL;
	for (;;) {
		/* Faults come in runs within one entry: the last one found first (an entry
		 * clipped since then still has its own bounds). */
		e = map->vmap_hint;
		if (e != NULL && va >= e->vme_start && va < e->vme_end)
			;
		else if (vm_map_lookup_entry(map, va, &e))
			map->vmap_hint = e;
		else {
			if (spare != NULL)
				vm_map_fault_defer(map, vmf, spare);
			return EFAULT;
		}
		if ((fault_type & ~e->vme_protection) != 0) {
			if (spare != NULL)
				vm_map_fault_defer(map, vmf, spare);
			return EACCES;
		}
		len = e->vme_end - e->vme_start;
		obj = e->vme_object;
		if (obj == NULL) {
			/* Anonymous memory's object comes with its first fault. */
			if (spare == NULL) {
				vm_map_unlock(map);
				spare = vm_object_allocate(OBJT_DEFAULT, atop(len));
				vm_map_lock(map);
				continue;       /* the entry may have changed meanwhile */
			}
			spare->vo_size = atop(len);     /* still ours alone: no lock */
			e->vme_object = spare;
			e->vme_offset = 0;
			spare = NULL;
			map->vmap_timestamp++;
			continue;
		}
		if ((e->vme_eflags & VME_NEEDS_COPY) != 0 && (fault_type & VM_PROT_WRITE)) {
			/* Nobody else can see the object's pages: it is already private. A
			 * count of one under the object's lock stays one (vm_object.c). */
			vm_object_lock(obj);
			bool alone = obj->vo_ref_count == 1 && vm_object_anon(obj);
			vm_object_unlock(obj);
			if (alone) {
				e->vme_eflags &= ~VME_NEEDS_COPY;
				map->vmap_timestamp++;
				continue;
			}
			if (spare != NULL) {
				/* A shadow made for this entry while the map was unlocked: still
				 * the right one when the entry is what it was. */
				if (spare->vo_backing_object == obj &&
				    spare->vo_backing_object_offset == e->vme_offset &&
				    spare->vo_size == atop(len)) {
					e->vme_object = spare;
					e->vme_offset = 0;
					e->vme_eflags &= ~VME_NEEDS_COPY;
					spare = NULL;
					map->vmap_timestamp++;
					/* The entry's reference on obj, now the shadow's. */
					vm_map_fault_defer(map, vmf, obj);
					continue;
				}
				vm_map_fault_defer(map, vmf, spare);
				spare = NULL;
				continue;
			}
			/* Our own reference on obj passes to the shadow. */
			vm_object_reference(obj);
			off = e->vme_offset;
			vm_map_unlock(map);
			spare = obj;
			vm_object_shadow(&spare, &off, len);
			vm_map_lock(map);
			continue;
		}
		if (spare != NULL)
			vm_map_fault_defer(map, vmf, spare);
		vmf->vmf_entry = e;
		vmf->vmf_object = obj;
		vmf->vmf_pindex = atop(e->vme_offset + (va - e->vme_start));
		vmf->vmf_prot = e->vme_protection;
		if ((e->vme_eflags & VME_NEEDS_COPY) != 0)
			vmf->vmf_prot &= ~VM_PROT_WRITE;
		vmf->vmf_timestamp = map->vmap_timestamp;
		return 0;
	}
}

void vm_map_fault_done(struct vm_map_fault *vmf)
{
	for (int i = 0; i < 2; i++)
		if (vmf->vmf_drop[i] != NULL) {
			vm_object_deallocate(vmf->vmf_drop[i]);
			vmf->vmf_drop[i] = NULL;
		}
}

/* The lowest multiple of align in [max(gs, min), ge) that starts length free bytes
 * before ge. => true with *addr. */
static inline bool vm_map_gap_fits(vm_offset_t gs, vm_offset_t ge, vm_offset_t min,
    vm_size_t length, vm_size_t align, vm_offset_t *addr)
{
	vm_offset_t a;

	if (gs < min)
		gs = min;
	a = roundup2(gs, align);
	if (a < gs || a >= ge || ge - a < length)      /* a < gs: wrapped */
		return false;
	*addr = a;
	return true;
}

/*
 * The lowest fit in the gaps after e's subtree's entries, in address order: the entry
 * whose gap holds it, or NULL. A subtree whose largest gap is too small is skipped
 * whole; the left subtree of an entry that ends at or below min holds only gaps that
 * end below min. With align PAGE_SIZE, any subtree entered above min holds a fit, so
 * this is the path towards min plus one descent. Recursion depth is the tree height
 * (about 1.44 log2 n).
 * => map locked.
 */
static struct vm_map_entry *vm_map_find_gap(struct vm_map_entry *e, vm_offset_t min,
    vm_size_t length, vm_size_t align, vm_offset_t *addr)
{
	struct vm_map_entry *found;

	while (e != NULL && e->vme_max_free >= length) {
		if (e->vme_end > min &&
		    (found = vm_map_find_gap(e->vme_left, min, length, align, addr)) != NULL)
			return found;
		if (e->vme_adj_free >= length && vm_map_gap_fits(e->vme_end,
		    e->vme_end + e->vme_adj_free, min, length, align, addr))
			return e;
		e = e->vme_right;       /* the tail call, as a loop */
	}
	return NULL;
}

/* vm_map_find_space, also saying which entry the space follows (for the insert). */
static int vm_map_find_space_prev(struct vm_map *map, vm_offset_t min, vm_offset_t max,
    vm_size_t length, vm_size_t align, vm_offset_t *addr, struct vm_map_entry **prev)
{
	struct vm_map_entry *h = &map->vmap_header, *p = h;
	vm_offset_t a;

	vm_map_assert_locked(map);
	if (align == 0)
		align = PAGE_SIZE;
	if (length == 0 || (length & PAGE_MASK) != 0 || align < PAGE_SIZE || !powerof2(align))
		return EINVAL;
	min = MAX(min, vm_map_min(map));
	max = MIN(max, vm_map_max(map));
	if (min >= max || max - min < length)
		return ENOMEM;
	/* The header's gap (before the first entry) is not in the tree. */
	if (!vm_map_gap_fits(h->vme_end, h->vme_end + h->vme_adj_free, min, length, align, &a) &&
	    (p = vm_map_find_gap(map->vmap_root, min, length, align, &a)) == NULL)
		return ENOMEM;
	/* The lowest fit at or above min: if it ends beyond max, every other one does. */
	if (a + length > max)
		return ENOMEM;
	*addr = a;
	*prev = p;
	return 0;
}

int vm_map_find_space(struct vm_map *map, vm_offset_t min, vm_offset_t max, vm_size_t length,
    vm_size_t align, vm_offset_t *addr)
{
	struct vm_map_entry *prev;

	return vm_map_find_space_prev(map, min, max, length, align, addr, &prev);
}

/* ---- insert, clip, delete ------------------------------------------------------------ */

/* Check vm_map_insert's arguments but for the overlap. => 0 or the errno. */
static int vm_map_insert_check(struct vm_map *map, vm_offset_t start, vm_offset_t end,
    vm_prot_t prot, vm_prot_t maxprot, int eflags)
{
	if (((start | end) & PAGE_MASK) != 0 || start >= end || start < vm_map_min(map) ||
	    end > vm_map_max(map) || (eflags & ~VME_PUBLIC_MASK) != 0 ||
	    ((prot | maxprot) & ~VM_MAP_PROT_ALL) != 0)
		return EINVAL;
	if ((prot & ~maxprot) != 0)
		return EACCES;
	return 0;
}

/* Make the entry and link it after prev. => map locked; [start, end) free after prev. */
static int vm_map_insert_after(struct vm_map *map, struct vm_map_entry *prev,
    struct vm_object *object, vm_ooffset_t offset, vm_offset_t start, vm_offset_t end,
    vm_prot_t prot, vm_prot_t maxprot, int eflags)
{
	struct vm_map_entry *e;

	if ((e = vm_map_entry_get(map)) == NULL)
		return ENOMEM;
	memset(e, 0, sizeof(*e));
	e->vme_start = start;
	e->vme_end = end;
	e->vme_object = object;
	e->vme_offset = offset;
	e->vme_protection = prot;
	e->vme_max_protection = maxprot;
	e->vme_eflags = (uint16_t)eflags;
	e->vme_inheritance = VM_INHERIT_DEFAULT;
	e->vme_advice = VM_MADV_NORMAL;
	vm_map_entry_link(map, prev, e);
	map->vmap_size += end - start;
	return 0;
}

int vm_map_insert(struct vm_map *map, struct vm_object *object, vm_ooffset_t offset,
    vm_offset_t start, vm_offset_t end, vm_prot_t prot, vm_prot_t maxprot, int eflags)
{
	struct vm_map_entry *prev;
	int rv;

	vm_map_assert_locked(map);
	if ((rv = vm_map_insert_check(map, start, end, prot, maxprot, eflags)) != 0)
		return rv;
	if (vm_map_lookup_entry(map, start, &prev) || prev->vme_next->vme_start < end)
		return EEXIST;
	return vm_map_insert_after(map, prev, object, offset, start, end, prot, maxprot, eflags);
}

int vm_map_find(struct vm_map *map, struct vm_object *object, vm_ooffset_t offset,
    vm_offset_t *addr, vm_size_t length, vm_offset_t max, vm_size_t align, vm_prot_t prot,
    vm_prot_t maxprot, int eflags)
{
	struct vm_map_entry *prev;
	vm_offset_t a;
	int rv;

	vm_map_lock(map);
	rv = vm_map_find_space_prev(map, *addr, max, length, align, &a, &prev);
	/* The space follows prev: no second lookup to insert it. */
	if (rv == 0 && (rv = vm_map_insert_check(map, a, a + length, prot, maxprot,
	    eflags)) == 0)
		rv = vm_map_insert_after(map, prev, object, offset, a, a + length, prot, maxprot,
		    eflags);
	vm_map_unlock(map);
	if (rv == 0)
		*addr = a;
	return rv;
}

/* An entry for a split: a spare, or one from UMA without sleeping. */
static struct vm_map_entry *vm_map_entry_split(struct vm_map *map, struct vm_map_entry *entry,
    const char *who)
{
	struct vm_map_entry *e = vm_map_entry_get(map);

	if (e == NULL)
		panic("%s: no entry to split [%#lx, %#lx): more splits under one vm_map_lock "
		    "than its %d spares, and UMA has no item without sleeping", who,
		    (unsigned long)entry->vme_start, (unsigned long)entry->vme_end, VM_MAP_NSPARE);
	*e = *entry;
	/* Both halves map the same object (at their own offsets): one reference each. */
	if (e->vme_object != NULL)
		vm_object_reference(e->vme_object);
	return e;
}

void vm_map_clip_start(struct vm_map *map, struct vm_map_entry *entry, vm_offset_t addr)
{
	struct vm_map_entry *front;

	vm_map_assert_locked(map);
	if (addr <= entry->vme_start || addr >= entry->vme_end)
		return;
	KASSERT((addr & PAGE_MASK) == 0, ("vm_map_clip_start: unaligned %#lx",
	    (unsigned long)addr));
	front = vm_map_entry_split(map, entry, "vm_map_clip_start");
	front->vme_end = addr;
	/* entry keeps its place in the tree: its key grows but stays above front's and
	 * below its successor's. */
	entry->vme_offset += addr - entry->vme_start;
	entry->vme_start = addr;
	vm_map_entry_link(map, entry->vme_prev, front);
}

void vm_map_clip_end(struct vm_map *map, struct vm_map_entry *entry, vm_offset_t addr)
{
	struct vm_map_entry *back;

	vm_map_assert_locked(map);
	if (addr <= entry->vme_start || addr >= entry->vme_end)
		return;
	KASSERT((addr & PAGE_MASK) == 0, ("vm_map_clip_end: unaligned %#lx",
	    (unsigned long)addr));
	back = vm_map_entry_split(map, entry, "vm_map_clip_end");
	back->vme_offset += addr - entry->vme_start;
	back->vme_start = addr;
	entry->vme_end = addr;
	vm_map_entry_link(map, entry, back);   /* entry's gap becomes 0 there */
}

/* Check and clamp a range to the map. => EINVAL when unaligned or reversed. */
static int vm_map_range_check(struct vm_map *map, vm_offset_t *start, vm_offset_t *end)
{
	if (((*start | *end) & PAGE_MASK) != 0 || *start > *end)
		return EINVAL;
	*start = MAX(*start, vm_map_min(map));
	*end = MIN(*end, vm_map_max(map));
	if (*start > *end)
		*start = *end;          /* wholly outside: an empty range */
	return 0;
}

/* The first entry of [start, end), clipped to begin at start; the header or an entry at
 * or beyond end when none. => map locked. */
static struct vm_map_entry *vm_map_range_first(struct vm_map *map, vm_offset_t start)
{
	struct vm_map_entry *e;

	if (vm_map_lookup_entry(map, start, &e)) {
		vm_map_clip_start(map, e, start);
		return e;
	}
	return e->vme_next;
}

/*
 * The page wirings a wired entry's mappings hold (vm_fault_wire wired each page once,
 * with its wired mapping) are dropped before the mappings go, so that the object's
 * teardown frees the pages instead of leaving them to a wirer who is gone (FreeBSD's
 * vm_map_entry_unwire from vm_map_delete). => map locked; e has an object.
 */
static void vm_map_entry_unwire_pages(struct vm_map *map, struct vm_map_entry *e)
{
	enum { CHUNK = 64 };
	vm_page_t ma[CHUNK];

	for (vm_offset_t va = e->vme_start, next; va < e->vme_end; va = next) {
		next = MIN(va + ptoa(CHUNK), e->vme_end);
		int n = pmap_unwire(map->vmap_pmap, va, next, ma, CHUNK);
		for (int i = 0; i < n; i++)
			vm_page_unwire_noq(ma[i]);
	}
}

int vm_map_delete(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	struct vm_map_entry *e, *next;
	int rv;

	vm_map_assert_locked(map);
	if ((rv = vm_map_range_check(map, &start, &end)) != 0)
		return rv;
	for (e = vm_map_range_first(map, start); e != &map->vmap_header &&
	    e->vme_start < end; e = next) {
		vm_map_clip_end(map, e, end);
		next = e->vme_next;
		/* Mappings before the reference: a page may be freed once it goes. One call
		 * per entry; pmap batches the invalidations of the range. Wirings go with the
		 * entry, and so do its pages' (munmap of locked memory, a process's exit). */
		if (e->vme_object != NULL && map->vmap_pmap != NULL) {
			if (vm_map_entry_wired(e))
				vm_map_entry_unwire_pages(map, e);
			pmap_remove(map->vmap_pmap, e->vme_start, e->vme_end);
		}
		map->vmap_size -= e->vme_end - e->vme_start;
		vm_map_entry_unlink(map, e);
		vm_map_entry_dispose(map, e);
	}
	return 0;
}

int vm_map_remove(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	int rv;

	vm_map_lock(map);
	rv = vm_map_delete(map, start, end);
	vm_map_unlock(map);
	return rv;
}

bool vm_map_range_mapped(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	struct vm_map_entry *e;

	vm_map_assert_locked(map);
	if (start >= end)
		return true;
	if (!vm_map_lookup_entry(map, start, &e))
		return false;
	while (e->vme_end < end) {
		if (e->vme_next->vme_start != e->vme_end)
			return false;   /* a hole, or the header after the last entry */
		e = e->vme_next;
	}
	return true;
}

/* ---- simplify --------------------------------------------------------------------- */

/* Could a and b (a just before b) be one entry? */
static bool vm_map_mergeable(const struct vm_map_entry *a, const struct vm_map_entry *b)
{
	return a->vme_end == b->vme_start && a->vme_object == b->vme_object &&
	    (a->vme_object == NULL ||
	    a->vme_offset + (a->vme_end - a->vme_start) == b->vme_offset) &&
	    a->vme_protection == b->vme_protection &&
	    a->vme_max_protection == b->vme_max_protection &&
	    a->vme_inheritance == b->vme_inheritance && a->vme_advice == b->vme_advice &&
	    a->vme_eflags == b->vme_eflags && a->vme_wired_count == b->vme_wired_count &&
	    a->vme_user_wired == b->vme_user_wired;
}

struct vm_map_entry *vm_map_simplify_entry(struct vm_map *map, struct vm_map_entry *entry)
{
	struct vm_map_entry *prev = entry->vme_prev, *next = entry->vme_next;

	vm_map_assert_locked(map);
	if (prev != &map->vmap_header && vm_map_mergeable(prev, entry)) {
		/* entry takes prev's start first, so that unlinking prev gives the entry
		 * before prev the right gap; the tree order holds once prev is out. */
		entry->vme_start = prev->vme_start;
		entry->vme_offset = prev->vme_offset;
		vm_map_entry_unlink(map, prev);
		vm_map_entry_dispose(map, prev);   /* entry keeps its own reference */
	}
	if (next != &map->vmap_header && vm_map_mergeable(entry, next)) {
		entry->vme_end = next->vme_end;
		vm_map_entry_unlink(map, next);   /* entry's gap becomes next's */
		vm_map_entry_dispose(map, next);
	}
	return entry;
}

/* Merge what can be merged from the entry before start to the one after end. */
static void vm_map_simplify_locked(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	struct vm_map_entry *e;

	vm_map_lookup_entry(map, start, &e);
	if (e == &map->vmap_header)
		e = e->vme_next;
	while (e != &map->vmap_header && e->vme_start <= end) {
		e = vm_map_simplify_entry(map, e);
		e = e->vme_next;
	}
}

void vm_map_simplify(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	vm_map_lock(map);
	if (vm_map_range_check(map, &start, &end) == 0)
		vm_map_simplify_locked(map, start, end);
	vm_map_unlock(map);
}

/* ---- attributes: protect, inherit, madvise --------------------------------------------- */

int vm_map_protect(struct vm_map *map, vm_offset_t start, vm_offset_t end, vm_prot_t prot,
    bool set_max)
{
	int rv;

	vm_map_lock(map);
	rv = vm_map_protect_locked(map, start, end, prot, set_max);
	vm_map_unlock(map);
	return rv;
}

int vm_map_protect_locked(struct vm_map *map, vm_offset_t start, vm_offset_t end,
    vm_prot_t prot, bool set_max)
{
	struct vm_map_entry *e, *first;
	int rv;

	vm_map_assert_locked(map);
	if ((prot & ~VM_MAP_PROT_ALL) != 0)
		return EINVAL;
	if ((rv = vm_map_range_check(map, &start, &end)) != 0)
		return rv;
	/* First check every entry, so that a refusal changes nothing. */
	if (!vm_map_lookup_entry(map, start, &e))
		e = e->vme_next;
	for (first = e; e != &map->vmap_header && e->vme_start < end; e = e->vme_next) {
		if ((prot & ~e->vme_max_protection) != 0)
			return EACCES;
	}
	if (first != &map->vmap_header)
		vm_map_clip_start(map, first, start);
	for (e = first; e != &map->vmap_header && e->vme_start < end; e = e->vme_next) {
		vm_prot_t old = e->vme_protection;

		vm_map_clip_end(map, e, end);
		if (set_max) {
			/* The new maximum bounds the current protection at once. */
			e->vme_max_protection = prot;
			e->vme_protection &= prot;
		} else {
			e->vme_protection = prot;
		}
		/* Lower the mappings when a right went (pmap_protect never adds one: a right
		 * granted comes with the next fault). Without an object nothing is mapped. */
		if ((old & ~e->vme_protection) != 0 && e->vme_object != NULL &&
		    map->vmap_pmap != NULL)
			pmap_protect(map->vmap_pmap, e->vme_start, e->vme_end, e->vme_protection);
	}
	map->vmap_timestamp++;
	vm_map_simplify_locked(map, start, end);
	return 0;
}

/* Set an attribute over [start, end), clipping: what inherit and madvise share. */
enum vm_map_attr { VM_MAP_ATTR_INHERIT, VM_MAP_ATTR_ADVICE };

static int vm_map_set_attr(struct vm_map *map, vm_offset_t start, vm_offset_t end,
    enum vm_map_attr attr, uint8_t value)
{
	struct vm_map_entry *e;
	int rv;

	vm_map_lock(map);
	if ((rv = vm_map_range_check(map, &start, &end)) != 0)
		goto out;
	for (e = vm_map_range_first(map, start); e != &map->vmap_header &&
	    e->vme_start < end; e = e->vme_next) {
		vm_map_clip_end(map, e, end);
		if (attr == VM_MAP_ATTR_INHERIT)
			e->vme_inheritance = value;
		else
			e->vme_advice = value;
	}
	map->vmap_timestamp++;
	vm_map_simplify_locked(map, start, end);
out:
	vm_map_unlock(map);
	return rv;
}

int vm_map_inherit(struct vm_map *map, vm_offset_t start, vm_offset_t end, vm_inherit_t inh)
{
	if (inh != VM_INHERIT_SHARE && inh != VM_INHERIT_COPY && inh != VM_INHERIT_NONE &&
	    inh != VM_INHERIT_ZERO)
		return EINVAL;
	return vm_map_set_attr(map, start, end, VM_MAP_ATTR_INHERIT, inh);
}

/*
 * DONTNEED and FREE: the range's mappings go (pmap_remove, one call per entry), and the
 * resident pages of a private anonymous object that only this entry refers to (no
 * other entry, no shadow, no backing object whose pages would show through, no copy
 * pending) are freed, so that the range zero-fills on its next fault. Shared pages stay
 * in their object (Linux reads the shared object again). Wired entries are skipped: the
 * mmap layer refuses them, and the kernel's wirings keep their pages.
 *
 * DONTNEED on a private range whose object another reference can see (the other side
 * of a fork, a shadow of it) or that shadows a backing object must still read zeros
 * afterwards (Linux's zap of private anonymous memory), while the other side keeps its
 * bytes. Freeing pages cannot do that: the pages below would show through. The range
 * gets a fresh state instead, as if never faulted: its entry is clipped to the range
 * and lets go of its object (reference dropped after the map's lock), so the next
 * fault gives it a new, empty anonymous object. Why not a new empty shadow in front:
 * a shadow reads through where it has no page, so hiding the pages below would need a
 * "zero here" mark per page that objects do not have; an entry without an object is
 * a state the map and the fault handler know already. When the object was this
 * entry's alone (a private shadow made by an earlier copy-on-write), its pages in the
 * range are freed first: nothing else could reach them once the entry lets go.
 * FREE keeps the old rule (Linux frees only pages mapped once; old bytes may stay).
 */
#define VM_MAP_DISCARD_BATCH    8

/*
 * The references e and its pieces hold on e's object: the neighbours that continue it
 * (the same object at contiguous offsets), as an mprotect, mlock or madvise of part of
 * a mapping leaves it. When that is the object's whole count, nobody else can see its
 * pages at e's offsets, and discarding can free them instead of detaching. Pieces
 * farther apart (a hole unmapped between them) are not counted: the entry is then
 * detached, which is right, only slower to give memory back. => map locked.
 */
static uint32_t vm_map_entry_piece_refs(struct vm_map *map, struct vm_map_entry *e)
{
	struct vm_map_entry *a, *b;
	uint32_t n = 1;

	for (a = e, b = e->vme_prev; b != &map->vmap_header && b->vme_object == e->vme_object &&
	    b->vme_end == a->vme_start &&
	    b->vme_offset + (b->vme_end - b->vme_start) == a->vme_offset; a = b, b = b->vme_prev)
		n++;
	for (a = e, b = e->vme_next; b != &map->vmap_header && b->vme_object == e->vme_object &&
	    b->vme_start == a->vme_end &&
	    a->vme_offset + (a->vme_end - a->vme_start) == b->vme_offset; a = b, b = b->vme_next)
		n++;
	return n;
}

static int vm_map_madvise_discard(struct vm_map *map, vm_offset_t start, vm_offset_t end,
    bool dontneed)
{
	struct vm_object *drop[VM_MAP_DISCARD_BATCH];
	struct vm_map_entry *e;
	struct vm_object *obj;
	vm_offset_t s, t, at = start;
	int ndrop, rv;

again:
	ndrop = 0;
	vm_map_lock(map);
	if ((rv = vm_map_range_check(map, &at, &end)) != 0)
		goto out;
	if (!vm_map_lookup_entry(map, at, &e))
		e = e->vme_next;
	for (; e != &map->vmap_header && e->vme_start < end; e = e->vme_next) {
		if ((obj = e->vme_object) == NULL || vm_map_entry_wired(e))
			continue;       /* never faulted: nothing mapped, nothing resident */
		s = MAX(at, e->vme_start);
		t = MIN(end, e->vme_end);
		if (map->vmap_pmap != NULL)
			pmap_remove(map->vmap_pmap, s, t);
		if ((e->vme_eflags & VME_SHARED) != 0 || !vm_object_anon(obj))
			continue;
		vm_object_lock(obj);
		/* Under the map's and the object's locks, a count equal to the references
		 * of this entry and its pieces is all there is, and stays so. */
		bool alone = obj->vo_ref_count == vm_map_entry_piece_refs(map, e);
		bool below = obj->vo_backing_object != NULL ||
		    (e->vme_eflags & VME_NEEDS_COPY) != 0;
		bool detach = dontneed && (!alone || below);
		/* Without detaching, freeing pages that hide a backing object would bring
		 * back bytes older than the last write. */
		if (alone && (detach || !below))
			vm_object_page_remove(obj, atop(e->vme_offset + (s - e->vme_start)),
			    atop(e->vme_offset + (t - e->vme_start)));
		vm_object_unlock(obj);
		if (!detach)
			continue;
		if (ndrop == VM_MAP_DISCARD_BATCH) {
			/* The references wait for the unlock; go on from here after it. */
			vm_map_simplify_locked(map, at, s);
			at = s;
			vm_map_unlock(map);
			for (int i = 0; i < ndrop; i++)
				vm_object_deallocate(drop[i]);
			goto again;
		}
		/* Two clips at most per pass: s is inside only the first entry, t only
		 * the last (vm_map_lock's spares). */
		vm_map_clip_start(map, e, s);
		vm_map_clip_end(map, e, t);
		drop[ndrop++] = e->vme_object;
		e->vme_object = NULL;
		e->vme_offset = 0;
		e->vme_eflags &= (uint16_t)~(VME_COW | VME_NEEDS_COPY);
		e->vme_fault_window = 0;
		e->vme_fault_next = 0;
		map->vmap_timestamp++;
	}
	if (ndrop > 0)
		vm_map_simplify_locked(map, at, end);
out:
	vm_map_unlock(map);
	for (int i = 0; i < ndrop; i++)
		vm_object_deallocate(drop[i]);
	return rv;
}

int vm_map_madvise(struct vm_map *map, vm_offset_t start, vm_offset_t end, int advice)
{
	switch (advice) {
	case VM_MADV_NORMAL:
	case VM_MADV_RANDOM:
	case VM_MADV_SEQUENTIAL:
		/* Read by the fault handler (fault-around: off under RANDOM, wider under
		 * SEQUENTIAL), so it lives on the entry. */
		return vm_map_set_attr(map, start, end, VM_MAP_ATTR_ADVICE, (uint8_t)advice);
	case VM_MADV_DONTNEED:
	case VM_MADV_FREE:
		return vm_map_madvise_discard(map, start, end, advice == VM_MADV_DONTNEED);
	case VM_MADV_WILLNEED:
		/* Read-ahead into the range's objects and pmap_enter of resident pages: the
		 * fault layer's (vm_fault's prefault); accepted, the range checked. */
		if (((start | end) & PAGE_MASK) != 0 || start > end)
			return EINVAL;
		return 0;
	default:
		return EINVAL;
	}
}

/* ---- wiring accounting --------------------------------------------------------------- */

/* Can e be (un)wired as flags say? 0, or the errno. Entries an unwire with HOLESOK
 * skips answer -1. */
static int vm_map_wire_check(const struct vm_map_entry *e, int flags, bool wire)
{
	bool user = (flags & VM_MAP_WIRE_USER) != 0;

	if (wire)
		return !user && e->vme_wired_count == UINT32_MAX ? EAGAIN : 0;
	if (user ? e->vme_user_wired != 0 : e->vme_wired_count != 0)
		return 0;
	return (flags & VM_MAP_WIRE_HOLESOK) != 0 ? -1 : EINVAL;
}

static int vm_map_wiring(struct vm_map *map, vm_offset_t start, vm_offset_t end, int flags,
    bool wire)
{
	struct vm_map_entry *e, *first;
	vm_offset_t at;
	int rv;

	if ((flags & ~(VM_MAP_WIRE_USER | VM_MAP_WIRE_HOLESOK)) != 0)
		return EINVAL;
	vm_map_lock(map);
	if ((rv = vm_map_range_check(map, &start, &end)) != 0)
		goto out;
	/* First check the whole range (holes, each entry), so that a failure changes
	 * nothing. */
	if (!vm_map_lookup_entry(map, start, &e))
		e = e->vme_next;
	at = start;
	for (first = e; e != &map->vmap_header && e->vme_start < end; e = e->vme_next) {
		if (e->vme_start > at && (flags & VM_MAP_WIRE_HOLESOK) == 0) {
			rv = ENOMEM;
			goto out;
		}
		at = e->vme_end;
		int c = vm_map_wire_check(e, flags, wire);
		if (c > 0) {
			rv = c;
			goto out;
		}
	}
	if (at < end && (flags & VM_MAP_WIRE_HOLESOK) == 0) {
		rv = ENOMEM;
		goto out;
	}
	if (first != &map->vmap_header)
		vm_map_clip_start(map, first, start);
	for (e = first; e != &map->vmap_header && e->vme_start < end; e = e->vme_next) {
		if (vm_map_wire_check(e, flags, wire) != 0)
			continue;       /* an unwire with HOLESOK skips it */
		vm_map_clip_end(map, e, end);
		if ((flags & VM_MAP_WIRE_USER) != 0)
			e->vme_user_wired = wire ? 1 : 0;
		else if (wire)
			e->vme_wired_count++;
		else
			e->vme_wired_count--;
		/* The accounting only: the mmap layer faults the pages in and wires them
		 * (vm_fault_wire), or unwires them (vm_fault_unwire), after this call,
		 * with the map unlocked. */
	}
	map->vmap_timestamp++;
	vm_map_simplify_locked(map, start, end);
out:
	vm_map_unlock(map);
	return rv;
}

int vm_map_wire(struct vm_map *map, vm_offset_t start, vm_offset_t end, int flags)
{
	return vm_map_wiring(map, start, end, flags, true);
}

int vm_map_unwire(struct vm_map *map, vm_offset_t start, vm_offset_t end, int flags)
{
	return vm_map_wiring(map, start, end, flags, false);
}

/* ---- fork ------------------------------------------------------------------------------ */

/*
 * Give the first VM_INHERIT_SHARE entry without an object one, so that parent and child
 * share what either faults in. => map locked on entry and on return (dropped to allocate:
 * vm_object_allocate may sleep). Returns false when there was none left to give.
 */
static bool vm_map_fork_share_object(struct vm_map *map)
{
	struct vm_map_entry *e;
	struct vm_object *obj;
	uint32_t ts;

	for (e = vm_map_first(map); e != &map->vmap_header; e = e->vme_next)
		if (e->vme_inheritance == VM_INHERIT_SHARE && e->vme_object == NULL)
			break;
	if (e == &map->vmap_header)
		return false;
	ts = map->vmap_timestamp;
	vm_map_unlock(map);
	obj = vm_object_allocate(OBJT_DEFAULT, atop(e->vme_end - e->vme_start));
	vm_map_lock(map);
	if (map->vmap_timestamp != ts) {
		/* e may be gone: the next call looks again. A fresh object has no pages, so
		 * dropping it does not sleep on any; still, not under the mutex. */
		vm_map_unlock(map);
		vm_object_deallocate(obj);
		vm_map_lock(map);
		return true;
	}
	e->vme_object = obj;
	e->vme_offset = 0;
	map->vmap_timestamp++;  /* a fault that slept must not give it an object of its own */
	return true;
}

/*
 * Copy the page at pindex of src's chain into dst, as a fault would find it (src, the
 * first object, stays locked while the backing objects are searched hand over hand, so
 * a collapse cannot move the page past the search). => false when no object of the
 * chain has it: an anonymous page nobody wrote reads as zero. => no locks held; may
 * sleep (a page busy being filled).
 */
static bool vm_map_fork_copy_page(struct vm_object *src, vm_pindex_t pindex, vm_page_t dst)
{
	struct vm_object *obj, *next;
	vm_pindex_t pi;
	vm_page_t m;

again:
	vm_object_lock(src);
	for (obj = src, pi = pindex;;) {
		if ((m = vm_page_lookup(obj, pi)) != NULL) {
			if (vm_page_xbusied(m)) {
				/* Not filled yet: wait for it with only its object held. */
				if (obj != src)
					vm_object_unlock(src);
				vm_page_busy_sleep_unlocked(m, &obj->vo_lock, false);
				goto again;
			}
			pmap_copy_page(m, dst);
			break;
		}
		if ((next = obj->vo_backing_object) == NULL)
			break;
		pi += atop(obj->vo_backing_object_offset);
		vm_object_lock(next);
		if (obj != src)
			vm_object_unlock(obj);
		obj = next;
	}
	if (obj != src)
		vm_object_unlock(obj);
	vm_object_unlock(src);
	return m != NULL;
}

/*
 * The second half of a fork's wired COPY entries (VME_FORK_COPYING): each such entry of
 * the child still holds a reference on its parent's object; it gets a new anonymous
 * object of its own with a copy of every page the parent can see in the range, and
 * drops that reference. The parent kept its pages and its wired, writable mappings, so
 * nothing of the parent waits on this: it runs with no lock held, and may sleep for
 * pages. A page the parent's chain does not have stays absent (zero-fill, as there).
 * => new is nobody else's yet (vm_map_fork's child); no lock held; may sleep.
 */
static void vm_map_fork_copy_wired(struct vm_map *new)
{
	for (struct vm_map_entry *e = vm_map_first(new); e != &new->vmap_header;
	    e = e->vme_next) {
		if ((e->vme_eflags & VME_FORK_COPYING) == 0)
			continue;
		struct vm_object *src = e->vme_object, *dst;
		vm_pindex_t first = atop(e->vme_offset), n = atop(e->vme_end - e->vme_start);
		vm_page_t m;

		dst = vm_object_allocate(OBJT_DEFAULT, n);
		for (vm_pindex_t i = 0; i < n; i++) {
			vm_object_lock(dst);
			/* NULL after a sleep only: dst is ours, so i is still empty. */
			while ((m = vm_page_alloc(dst, i, VM_ALLOC_NORMAL | VM_ALLOC_NOBUSY |
			    VM_ALLOC_WAITOK)) == NULL)
				;
			vm_object_unlock(dst);
			/* Nobody else reaches dst: its page needs no lock while it is filled. */
			if (!vm_map_fork_copy_page(src, first + i, m)) {
				vm_object_lock(dst);
				vm_page_free_obj(m);
				vm_object_unlock(dst);
			}
		}
		mtx_lock(&new->vmap_lock);
		e->vme_object = dst;
		e->vme_offset = 0;
		e->vme_eflags &= (uint16_t)~(VME_FORK_COPYING | VME_COW | VME_NEEDS_COPY);
		new->vmap_timestamp++;
		mtx_unlock(&new->vmap_lock);
		vm_object_deallocate(src);
	}
}

void vm_map_fork(struct vm_map *old, struct vm_map *new)
{
	struct vm_map_entry *reserve = NULL, *e, *ne;
	int nreserve = 0, ncopy = 0;

	KASSERT(new->vmap_nentries == 0 && vm_map_min(new) == vm_map_min(old) &&
	    vm_map_max(new) == vm_map_max(old), ("vm_map_fork: new map %p not empty or not "
	    "over the same range", (void *)new));
	vm_map_lock(old);
	for (;;) {
		if (vm_map_fork_share_object(old))
			continue;
		/* One entry per entry of old, allocated without the lock; enough if old has
		 * no more entries once it is locked again. */
		if (nreserve >= old->vmap_nentries)
			break;
		int want = old->vmap_nentries;
		vm_map_unlock(old);
		for (; nreserve < want; nreserve++) {
			ne = uma_zalloc(vm_map_entry_zone, M_WAITOK);
			ne->vme_next = reserve;
			reserve = ne;
		}
		vm_map_lock(old);
	}
	/* new is nobody else's yet: its lock is for the assertions, taken without
	 * vm_map_lock's spares (which could sleep under old's lock). */
	mtx_lock(&new->vmap_lock);
	for (e = vm_map_first(old); e != &old->vmap_header; e = e->vme_next) {
		if (e->vme_inheritance == VM_INHERIT_NONE)
			continue;
		ne = reserve;
		reserve = ne->vme_next;
		nreserve--;
		*ne = *e;
		/* Wiring is the parent's: the child's pages fault in like any others. */
		ne->vme_user_wired = 0;
		ne->vme_wired_count = 0;
		switch (e->vme_inheritance) {
		case VM_INHERIT_SHARE:
			vm_object_reference(ne->vme_object);
			break;
		case VM_INHERIT_COPY:
			if (e->vme_object == NULL)
				break;  /* nothing faulted yet: each side zero-fills its own */
			vm_object_reference(e->vme_object);
			if (vm_map_entry_wired(e) && vm_object_anon(e->vme_object)) {
				/* Copied eagerly once the locks are gone (allocations
				 * sleep): the parent's entry is left private and its
				 * mappings writable. */
				ne->vme_eflags |= VME_FORK_COPYING;
				ncopy++;
				break;
			}
			/* Copy-on-write, no page copied: both sides will shadow the object on
			 * their next write fault. An entry already needing a copy has no
			 * writable mapping (vm_map.h), so its pmap is left alone. */
			if ((e->vme_eflags & VME_NEEDS_COPY) == 0 &&
			    (e->vme_protection & VM_PROT_WRITE) != 0 && old->vmap_pmap != NULL)
				pmap_protect(old->vmap_pmap, e->vme_start, e->vme_end,
				    e->vme_protection & ~VM_PROT_WRITE);
			e->vme_eflags |= VME_COW | VME_NEEDS_COPY;
			ne->vme_eflags |= VME_COW | VME_NEEDS_COPY;
			break;
		case VM_INHERIT_ZERO:
			ne->vme_object = NULL;
			ne->vme_offset = 0;
			ne->vme_eflags &= (uint16_t)~(VME_COW | VME_NEEDS_COPY);
			break;
		default:
			panic("vm_map_fork: entry [%#lx, %#lx) has inheritance %d",
			    (unsigned long)e->vme_start, (unsigned long)e->vme_end,
			    e->vme_inheritance);
		}
		vm_map_entry_link(new, new->vmap_header.vme_prev, ne);
		new->vmap_size += ne->vme_end - ne->vme_start;
	}
	old->vmap_timestamp++;  /* the parent's entries need a copy now */
	mtx_unlock(&new->vmap_lock);
	vm_map_unlock(old);
	for (; reserve != NULL; reserve = ne) {
		ne = reserve->vme_next;
		uma_zfree(vm_map_entry_zone, reserve);
	}
	if (ncopy > 0)
		vm_map_fork_copy_wired(new);
}
