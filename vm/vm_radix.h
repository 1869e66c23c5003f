/*
 * vm_radix: an object's resident pages indexed by pindex, a path-compressed radix trie
 * (the shape of FreeBSD's pctrie/vm_radix; the reasons are in vm/vm_radix.c).
 *
 * The trie stores pages, keyed by their own m->pindex, which must not change while the
 * page is in a trie. Internal nodes come from a UMA zone that lives while any trie is
 * initialised (vm_radix_init .. vm_radix_fini), so the boot makes no zone and a leaked
 * node is caught by uma_zdestroy.
 *
 * Locking: a trie has no lock of its own; its owner's lock (the object's, O) covers
 * every call. Inserting allocates at most one node and never sleeps, so it may be called
 * with the owner's mutex held; when no node is available without sleeping it fails with
 * ENOMEM and the caller drops its locks, calls vm_radix_wait() and tries again.
 */
#ifndef VM_VM_RADIX_H
#define VM_VM_RADIX_H

#include "vm/vm_errno.h"
#include "vm/vm_page.h"

#define VM_RADIX_WIDTH  4
#define VM_RADIX_COUNT  (1 << VM_RADIX_WIDTH)
#define VM_RADIX_MASK   (VM_RADIX_COUNT - 1)
#define VM_RADIX_LIMIT  (64 / VM_RADIX_WIDTH - 1)  /* highest digit */
#define VM_RADIX_ISLEAF 0x1ul

/* A node (vm_radix.c says why this shape). Here only for the inline fast paths below:
 * nothing outside vm_radix looks inside one. */
struct vm_radix_node {
	vm_pindex_t rn_owner;                       /* keys below share these digits */
	uint16_t rn_count;                          /* non-NULL children (>= 2) */
	uint8_t rn_shift;                           /* the digit this node splits on,
	                                               times VM_RADIX_WIDTH: the bit
	                                               where it starts (digit 0 lowest) */
	uintptr_t rn_child[VM_RADIX_COUNT];         /* node, tagged page, or 0 */
};

static inline bool vm_radix_isleaf(uintptr_t p)
{
	return (p & VM_RADIX_ISLEAF) != 0;
}

static inline vm_page_t vm_radix_topage(uintptr_t p)
{
	return (vm_page_t)(p & ~VM_RADIX_ISLEAF);
}

static inline struct vm_radix_node *vm_radix_tonode(uintptr_t p)
{
	return (struct vm_radix_node *)p;
}

/* A size_t: an index into rn_child that needs no widening from int at each use. */
static inline size_t vm_radix_slot(vm_pindex_t index, int clev)
{
	return (size_t)((index >> (clev * VM_RADIX_WIDTH)) & VM_RADIX_MASK);
}

/* The index is not below node: their digits differ above node's. (Two shifts, the
 * second by the digit's width, so that the top digit's nodes need no special case and
 * no branch: the same as vm_radix_trimkey(index, clev) != rn_owner.) */
static inline bool vm_radix_keybarr(const struct vm_radix_node *rn, vm_pindex_t index)
{
	return ((index ^ rn->rn_owner) >> rn->rn_shift) >> VM_RADIX_WIDTH != 0;
}

/* vm_radix_slot of index in rn (from its stored shift). */
static inline size_t vm_radix_node_slot(const struct vm_radix_node *rn, vm_pindex_t index)
{
	return (size_t)((index >> rn->rn_shift) & VM_RADIX_MASK);
}

struct vm_radix {
	uintptr_t rt_root;          /* O: a node, a tagged page (a leaf) or 0 (empty) */
	/* O: where the last vm_radix_lookup_miss of rt_miss_index stopped (the slot, and
	 * the node holding it or NULL for the root), so that the insert which usually
	 * follows a miss starts there instead of walking again. Any change to the trie
	 * forgets it (rt_miss_slot NULL). */
	uintptr_t *rt_miss_slot;
	uint16_t *rt_miss_count;    /* the child count of the node holding it, or NULL */
	vm_pindex_t rt_miss_index;
	/* O: the deepest node the last vm_radix_lookup_miss went through, or the node the
	 * last insert made (the deepest over its key), or NULL. Every key under a node's
	 * prefix lives below that node while it is in the trie, so the next lookup of a
	 * key under its prefix (faults come in runs) starts there rather than at the
	 * root. Forgotten when that node is freed. */
	struct vm_radix_node *rt_hint;
};

/* Make an empty trie (and the node zone with the first trie). => may sleep. */
void vm_radix_init(struct vm_radix *rt);
/* The trie must be empty (vm_radix_reclaim_allnodes empties one without looking at the
 * pages). The last trie destroys the node zone. => may sleep. */
void vm_radix_fini(struct vm_radix *rt);

static inline bool vm_radix_is_empty(const struct vm_radix *rt)
{
	return rt->rt_root == 0;
}

/*
 * Insert m under m->pindex. Returns 0, EEXIST when a page with that pindex is already in
 * the trie (nothing changed: the double-insert check), or ENOMEM when a node was needed
 * and none could be had without sleeping (nothing changed).
 * => owner locked; never sleeps.
 */
int vm_radix_insert_walk(struct vm_radix *rt, vm_page_t m);
/* vm_radix_insert's case without a walk: right after a lookup that missed this index at
 * an empty slot (a fault's lookup then its page's insert), the leaf goes there. false:
 * not that case, nothing changed. => owner locked. */
static inline bool vm_radix_insert_hinted(struct vm_radix *rt, vm_page_t m)
{
	uintptr_t *slot = rt->rt_miss_slot;

	if (slot == NULL || rt->rt_miss_index != m->pindex || *slot != 0)
		return false;
	*slot = (uintptr_t)m | VM_RADIX_ISLEAF;
	if (rt->rt_miss_count != NULL)
		(*rt->rt_miss_count)++;
	rt->rt_miss_slot = NULL;
	return true;
}
static inline int vm_radix_insert(struct vm_radix *rt, vm_page_t m)
{
	if (vm_radix_insert_hinted(rt, m))
		return 0;
	return vm_radix_insert_walk(rt, m);
}
/* Remove and return the page with this pindex (NULL: none). Frees at most one node.
 * => owner locked; never sleeps. */
vm_page_t vm_radix_remove(struct vm_radix *rt, vm_pindex_t index);
/*
 * Remove ma[0..n), each in rt at its pindex: what n calls of vm_radix_remove would do,
 * with one descent for each stretch of them whose leaves hang from one node (up to 16
 * consecutive keys, in ascending order). The page daemon frees laundered runs so.
 */
void vm_radix_remove_pages(struct vm_radix *rt, vm_page_t *ma, int n);
/* The page with this pindex, or NULL. => owner locked. */
vm_page_t vm_radix_lookup(const struct vm_radix *rt, vm_pindex_t index);
/* vm_radix_lookup that, on a miss, remembers where the walk stopped: an insert of that
 * index before any other change to the trie continues from there (one walk for a
 * lookup and the insert that fills the hole). => owner locked (exclusively: it writes). */
vm_page_t vm_radix_lookup_miss_walk(struct vm_radix *rt, vm_pindex_t index);
static inline vm_page_t vm_radix_lookup_miss(struct vm_radix *rt, vm_pindex_t index)
{
	struct vm_radix_node *rn = rt->rt_hint;

	/* Inline when the hint's child for index is the end of the walk (empty, or a
	 * leaf): the next page of a run, or a page of the same run again. The hint
	 * stays (still the deepest node on the way). */
	if (rn != NULL && !vm_radix_keybarr(rn, index)) {
		uintptr_t *slotp = &rn->rn_child[vm_radix_node_slot(rn, index)];
		uintptr_t p = *slotp;
		if (p == 0 || vm_radix_isleaf(p)) {
			if (p != 0 && vm_radix_topage(p)->pindex == index)
				return vm_radix_topage(p);
			rt->rt_miss_slot = slotp;
			rt->rt_miss_count = p == 0 ? &rn->rn_count : NULL;
			rt->rt_miss_index = index;
			return NULL;
		}
	}
	return vm_radix_lookup_miss_walk(rt, index);
}
/*
 * vm_radix_lookup_miss for an insert that follows under the same hold of the owner's
 * lock (the fault's lookup, then its page's insert), where the slot goes from one to
 * the other in registers instead of through rt: on a miss, *slotp is the empty slot
 * the page's leaf goes into and *countp the child count of the node holding it; *slotp
 * NULL where the insert needs a node, or goes into the empty trie's root (the general
 * vm_radix_insert).
 * The trie must not change before vm_radix_insert_slot. => owner locked (exclusively).
 */
static inline __attribute__((always_inline)) vm_page_t vm_radix_lookup_slot(
    struct vm_radix *rt, vm_pindex_t index, uintptr_t **slotp, uint16_t **countp)
{
	struct vm_radix_node *rn = rt->rt_hint;
	vm_page_t m;

	if (rn != NULL && !vm_radix_keybarr(rn, index)) {
		uintptr_t *slot = &rn->rn_child[vm_radix_node_slot(rn, index)];
		uintptr_t p = *slot;
		if (p == 0) {
			*slotp = slot;
			*countp = &rn->rn_count;
			return NULL;
		}
		if (vm_radix_isleaf(p)) {
			*slotp = NULL;
			*countp = NULL;
			if (vm_radix_topage(p)->pindex == index)
				return vm_radix_topage(p);
			/* A split: vm_radix_insert_walk starts from here. */
			rt->rt_miss_slot = slot;
			rt->rt_miss_count = NULL;
			rt->rt_miss_index = index;
			return NULL;
		}
	}
	m = vm_radix_lookup_miss_walk(rt, index);
	/* Not the empty trie's root slot, which has no count (its insert is the
	 * general one: an object's first page). */
	*slotp = m == NULL && *rt->rt_miss_slot == 0 && rt->rt_miss_count != NULL ?
	    rt->rt_miss_slot : NULL;
	*countp = rt->rt_miss_count;
	return m;
}
/* Insert m into slot, the empty slot vm_radix_lookup_slot gave for m->pindex (count:
 * what it gave with it, never NULL). => owner locked; the trie unchanged since that
 * lookup. */
static inline void vm_radix_insert_slot(struct vm_radix *rt, uintptr_t *slot,
    uint16_t *count, vm_page_t m)
{
	KASSERT(*slot == 0 && count != NULL, ("vm_radix_insert_slot: slot %p is taken "
	    "or the root", (void *)slot));
	*slot = (uintptr_t)m | VM_RADIX_ISLEAF;
	(*count)++;
	rt->rt_miss_slot = NULL;    /* the trie changed */
}
/* The page with the least pindex >= index / the greatest pindex <= index, or NULL.
 * Iteration in order: m = lookup_ge(rt, 0), then lookup_ge(rt, m->pindex + 1) until
 * NULL (vm_radix_iter_next does that, stopping at the largest pindex). => owner locked. */
vm_page_t vm_radix_lookup_ge(const struct vm_radix *rt, vm_pindex_t index);
vm_page_t vm_radix_lookup_le(const struct vm_radix *rt, vm_pindex_t index);
static inline vm_page_t vm_radix_iter_next(const struct vm_radix *rt, vm_page_t prev)
{
	if (prev == NULL)
		return vm_radix_lookup_ge(rt, 0);
	if (prev->pindex == UINT64_MAX)
		return NULL;
	return vm_radix_lookup_ge(rt, prev->pindex + 1);
}
/* Replace the page at newm->pindex with newm and return the old one (which must be
 * there). => owner locked; never sleeps, never allocates. */
vm_page_t vm_radix_replace(struct vm_radix *rt, vm_page_t newm);
/* Free every node and leave the trie empty; the pages are not touched (the caller has
 * them on its own list). => owner locked, or the trie unreachable; never sleeps. */
void vm_radix_reclaim_allnodes(struct vm_radix *rt);

/* Wait until a node can probably be had without sleeping (one allocated and freed back
 * to this CPU's cache). => no locks held; may sleep. */
void vm_radix_wait(void);

/* Nodes allocated now in all tries (tests: a trie of n pages holds at most n - 1). */
int vm_radix_nodes_allocated(void);

#endif /* VM_VM_RADIX_H */
