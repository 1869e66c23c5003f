/*
 * vm_radix: a path-compressed radix trie of pages keyed by pindex.
 *
 * Shape. A node splits the key space on one 4-bit digit (rn_shift: where it starts)
 * into 16 children; every key below it shares rn_owner, the key with that digit and all
 * lower digits cleared. A child is NULL, another node, or a page tagged with bit 0 (a
 * leaf: its key is the page's own pindex, so leaves cost no memory). Path compression:
 * a node exists only where two keys first differ, so every node has at least two
 * children, a trie of n pages has at most n - 1 nodes, and the depth is at most 16
 * digits whatever the keys (an object's pages cluster, so in practice 1 to 3).
 *
 * Why a radix trie and not a balanced tree (as vm_map uses):
 *   - a page has no room for tree links (struct vm_page is 96 bytes, vm_page.h), so a
 *     tree needs a node per page; the trie needs fewer than one per page, and for dense
 *     runs one 144-byte node holds 16 pages;
 *   - lookup, the fault's hot path, is a few shifts and loads with no comparisons
 *     against other keys and no rebalancing on update: insert adds at most one node,
 *     remove frees at most one, and neither moves more than two pointers;
 *   - neighbours (lookup_ge/le) come from the same descent, which vm_object_page_remove
 *     and collapse use to walk ranges.
 *
 * Memory. Insert needs at most one node and allocates it from UMA with M_NOWAIT
 * (UMA_ZONE_VM: it may take the last pages) because callers hold their object's mutex;
 * ENOMEM goes back to them and vm_radix_wait is their way to wait without the lock.
 */
#include "vm/vm_radix.h"
#include "vm/uma.h"

/* The node, the digit constants and the helpers the inline fast paths use are in
 * vm_radix.h. */

/* The node zone and how many tries use it (Z). A trie holds the zone alive, so code
 * holding a trie reads vm_radix_zone without the lock. */
static struct mtx vm_radix_zone_mtx;
static uma_zone_t vm_radix_zone;
static int vm_radix_ntries;

static inline uintptr_t vm_radix_leaf(vm_page_t m)
{
	return (uintptr_t)m | VM_RADIX_ISLEAF;
}

/* index with digit clev and all below cleared: the owner a node at clev would have.
 * The top digit's nodes own every key (a shift by 64 would be undefined). */
static inline vm_pindex_t vm_radix_trimkey(vm_pindex_t index, int clev)
{
	if (clev >= VM_RADIX_LIMIT)
		return 0;
	return index & ~((UINT64_C(1) << ((clev + 1) * VM_RADIX_WIDTH)) - 1);
}

/* The highest digit where two different keys differ. */
static inline int vm_radix_keydiff(vm_pindex_t a, vm_pindex_t b)
{
	KASSERT(a != b, ("vm_radix_keydiff: equal keys %#llx", (unsigned long long)a));
	return (63 - __builtin_clzll(a ^ b)) / VM_RADIX_WIDTH;
}

/* ---- the zone ------------------------------------------------------------------- */

/* A node is all-zero while it is free (in UMA's caches): made so once, when its slab is
 * made (this keg init), and left so by whoever frees it (vm_radix_node_free), so that
 * taking one needs no M_ZERO clearing of its 144 bytes. */
static int vm_radix_node_zinit(void *mem, int size, int flags)
{
	(void)flags;
	memset(mem, 0, (size_t)size);
	return 0;
}

/* Free rn, whose children are all 0 already; its owner, count and level are cleared
 * here: the zone's all-zero rule. */
static void vm_radix_node_free(struct vm_radix_node *rn)
{
	rn->rn_owner = 0;
	rn->rn_count = 0;
	rn->rn_shift = 0;
#ifdef INVARIANTS
	for (int i = 0; i < VM_RADIX_COUNT; i++)
		KASSERT(rn->rn_child[i] == 0, ("vm_radix_node_free: node %p has child %d",
		    (void *)rn, i));
#endif
	uma_zfree(vm_radix_zone, rn);
}

void vm_radix_init(struct vm_radix *rt)
{
	uma_zone_t z = NULL;

	mtx_lock(&vm_radix_zone_mtx);
	if (vm_radix_zone == NULL) {
		/* uma_zcreate may sleep: not under the mutex. Of two racing first tries one
		 * publishes its zone and the other destroys its own, which nobody saw. */
		mtx_unlock(&vm_radix_zone_mtx);
		z = uma_zcreate("VM RADIX NODE", sizeof(struct vm_radix_node), NULL, NULL,
		    vm_radix_node_zinit, NULL, UMA_ALIGN_PTR, UMA_ZONE_VM);
		mtx_lock(&vm_radix_zone_mtx);
		if (vm_radix_zone == NULL) {
			vm_radix_zone = z;
			z = NULL;
		}
	}
	vm_radix_ntries++;
	mtx_unlock(&vm_radix_zone_mtx);
	if (z != NULL)
		uma_zdestroy(z);
	rt->rt_root = 0;
	rt->rt_miss_slot = NULL;
	rt->rt_hint = NULL;
}

void vm_radix_fini(struct vm_radix *rt)
{
	uma_zone_t z = NULL;

	KASSERT(rt->rt_root == 0, ("vm_radix_fini: trie %p is not empty", (void *)rt));
	(void)rt;       /* only the assertion reads it: a build without INVARIANTS */
	mtx_lock(&vm_radix_zone_mtx);
	KASSERT(vm_radix_ntries > 0, ("vm_radix_fini: no trie left"));
	if (--vm_radix_ntries == 0) {
		z = vm_radix_zone;
		vm_radix_zone = NULL;
	}
	mtx_unlock(&vm_radix_zone_mtx);
	if (z != NULL)
		uma_zdestroy(z);        /* panics if a node leaked */
}

int vm_radix_nodes_allocated(void)
{
	int n;

	mtx_lock(&vm_radix_zone_mtx);
	n = vm_radix_zone != NULL ? uma_zone_get_cur(vm_radix_zone) : 0;
	mtx_unlock(&vm_radix_zone_mtx);
	return n;
}

void vm_radix_wait(void)
{
	KASSERT(vm_radix_zone != NULL, ("vm_radix_wait: no trie"));
	uma_zfree(vm_radix_zone, uma_zalloc(vm_radix_zone, M_WAITOK));
}

/* A node at clev over index, with no children yet; NULL when none without sleeping. */
static struct vm_radix_node *vm_radix_node_get(vm_pindex_t index, int clev)
{
	struct vm_radix_node *rn = uma_zalloc(vm_radix_zone, M_NOWAIT);     /* all-zero */

	if (rn != NULL) {
#ifdef INVARIANTS
		KASSERT(rn->rn_owner == 0 && rn->rn_count == 0 && rn->rn_shift == 0,
		    ("vm_radix_node_get: free node %p is not all-zero", (void *)rn));
		for (int i = 0; i < VM_RADIX_COUNT; i++)
			KASSERT(rn->rn_child[i] == 0, ("vm_radix_node_get: free node %p has "
			    "child %d", (void *)rn, i));
#endif
		rn->rn_owner = vm_radix_trimkey(index, clev);
		rn->rn_shift = (uint8_t)(clev * VM_RADIX_WIDTH);
	}
	return rn;
}

/* ---- insert, remove, lookup ------------------------------------------------------- */

int vm_radix_insert_walk(struct vm_radix *rt, vm_page_t m)
{
	vm_pindex_t index = m->pindex, other;
	uintptr_t *parentp = &rt->rt_root, child;
	struct vm_radix_node *rn, *nn;
	int clev;

	KASSERT(((uintptr_t)m & VM_RADIX_ISLEAF) == 0, ("vm_radix_insert: page %p unaligned",
	    (void *)m));
	if (rt->rt_miss_slot != NULL && rt->rt_miss_index == index) {
		/* The trie is as the lookup that missed index left it: the walk ended at
		 * this slot (empty, a leaf of another key, or a node index is not under). */
		parentp = rt->rt_miss_slot;
		rt->rt_miss_slot = NULL;
		child = *parentp;
		if (child == 0) {
			*parentp = vm_radix_leaf(m);
			if (rt->rt_miss_count != NULL)
				(*rt->rt_miss_count)++;
			return 0;
		}
	}
	rt->rt_miss_slot = NULL;
	for (;;) {
		child = *parentp;
		if (child == 0) {
			*parentp = vm_radix_leaf(m);
			return 0;
		}
		if (vm_radix_isleaf(child)) {
			other = vm_radix_topage(child)->pindex;
			if (other == index)
				return EEXIST;
			break;
		}
		rn = vm_radix_tonode(child);
		if (vm_radix_keybarr(rn, index)) {
			other = rn->rn_owner;
			break;
		}
		size_t s = vm_radix_node_slot(rn, index);
		if (rn->rn_child[s] == 0) {
			rn->rn_child[s] = vm_radix_leaf(m);
			rn->rn_count++;
			return 0;
		}
		parentp = &rn->rn_child[s];
	}
	/* The new key and the subtree at *parentp (a leaf, or a node whose owner is
	 * `other`) part at the highest digit where they differ: a node goes there. */
	clev = vm_radix_keydiff(index, other);
	nn = vm_radix_node_get(index, clev);
	if (nn == NULL)
		return ENOMEM;
	nn->rn_child[vm_radix_slot(index, clev)] = vm_radix_leaf(m);
	nn->rn_child[vm_radix_slot(other, clev)] = child;
	nn->rn_count = 2;
	*parentp = (uintptr_t)nn;
	/* The deepest node over index now: the next key of a run (a sequential fault's)
	 * is looked up from it without a walk. */
	rt->rt_hint = nn;
	return 0;
}

/* rn, reached through *parentp, has one child left: no split any more, so its child
 * takes its place and rn goes. */
static void vm_radix_collapse(struct vm_radix *rt, uintptr_t *parentp,
    struct vm_radix_node *rn)
{
	uintptr_t last = 0;

	for (int i = 0; i < VM_RADIX_COUNT; i++)
		if ((last = rn->rn_child[i]) != 0) {
			rn->rn_child[i] = 0;    /* freed all-zero */
			break;
		}
	KASSERT(last != 0, ("vm_radix_collapse: node %p has no child", (void *)rn));
	*parentp = last;
	if (rt->rt_hint == rn)
		rt->rt_hint = NULL;
	vm_radix_node_free(rn);
}

vm_page_t vm_radix_remove(struct vm_radix *rt, vm_pindex_t index)
{
	uintptr_t *parentp = NULL, *slotp = &rt->rt_root, child;
	struct vm_radix_node *rn = NULL;
	vm_page_t m;

	rt->rt_miss_slot = NULL;
	for (;;) {
		child = *slotp;
		if (child == 0)
			return NULL;
		if (vm_radix_isleaf(child))
			break;
		if (vm_radix_keybarr(vm_radix_tonode(child), index))
			return NULL;
		parentp = slotp;
		rn = vm_radix_tonode(child);
		slotp = &rn->rn_child[vm_radix_node_slot(rn, index)];
	}
	m = vm_radix_topage(child);
	if (m->pindex != index)
		return NULL;
	*slotp = 0;
	if (rn != NULL && --rn->rn_count == 1)
		vm_radix_collapse(rt, parentp, rn);
	return m;
}

void vm_radix_remove_pages(struct vm_radix *rt, vm_page_t *ma, int n)
{
	rt->rt_miss_slot = NULL;
	for (int i = 0; i < n;) {
		vm_pindex_t index = ma[i]->pindex;
		uintptr_t *parentp = NULL, *slotp = &rt->rt_root, child;
		struct vm_radix_node *rn = NULL;

		for (;;) {
			child = *slotp;
			KASSERT(child != 0, ("vm_radix_remove_pages: %#llx is not in the trie",
			    (unsigned long long)index));
			if (vm_radix_isleaf(child))
				break;
			rn = vm_radix_tonode(child);
			KASSERT(!vm_radix_keybarr(rn, index), ("vm_radix_remove_pages: %#llx "
			    "is not in the trie", (unsigned long long)index));
			parentp = slotp;
			slotp = &rn->rn_child[vm_radix_node_slot(rn, index)];
		}
		KASSERT(vm_radix_topage(child) == ma[i], ("vm_radix_remove_pages: %#llx holds "
		    "%p, not %p", (unsigned long long)index, (void *)vm_radix_topage(child),
		    (void *)ma[i]));
		*slotp = 0;
		i++;
		if (rn == NULL)
			continue;
		rn->rn_count--;
		/* The next pages whose leaves hang from rn itself go without a descent. */
		while (rn->rn_count > 1 && i < n && !vm_radix_keybarr(rn, ma[i]->pindex)) {
			slotp = &rn->rn_child[vm_radix_node_slot(rn, ma[i]->pindex)];
			if (*slotp != ((uintptr_t)ma[i] | VM_RADIX_ISLEAF))
				break;          /* below a child node: the next round descends */
			*slotp = 0;
			rn->rn_count--;
			i++;
		}
		if (rn->rn_count == 1)
			vm_radix_collapse(rt, parentp, rn);
	}
}

vm_page_t vm_radix_lookup(const struct vm_radix *rt, vm_pindex_t index)
{
	uintptr_t p = rt->rt_root;

	while (p != 0) {
		if (vm_radix_isleaf(p)) {
			vm_page_t m = vm_radix_topage(p);
			return m->pindex == index ? m : NULL;
		}
		const struct vm_radix_node *rn = vm_radix_tonode(p);
		if (vm_radix_keybarr(rn, index))
			return NULL;
		p = rn->rn_child[vm_radix_node_slot(rn, index)];
	}
	return NULL;
}

vm_page_t vm_radix_lookup_miss_walk(struct vm_radix *rt, vm_pindex_t index)
{
	uintptr_t *slotp = &rt->rt_root, p;
	struct vm_radix_node *rn = rt->rt_hint;

	if (rn != NULL && !vm_radix_keybarr(rn, index))
		slotp = &rn->rn_child[vm_radix_node_slot(rn, index)];
	else
		rn = NULL;
	while ((p = *slotp) != 0) {
		if (vm_radix_isleaf(p)) {
			vm_page_t m = vm_radix_topage(p);
			if (m->pindex == index) {
				rt->rt_hint = rn;
				return m;
			}
			break;
		}
		if (vm_radix_keybarr(vm_radix_tonode(p), index))
			break;
		rn = vm_radix_tonode(p);
		slotp = &rn->rn_child[vm_radix_node_slot(rn, index)];
	}
	rt->rt_miss_slot = slotp;
	rt->rt_miss_count = (p == 0 && rn != NULL) ? &rn->rn_count : NULL;
	rt->rt_miss_index = index;
	rt->rt_hint = rn;
	return NULL;
}

vm_page_t vm_radix_replace(struct vm_radix *rt, vm_page_t newm)
{
	uintptr_t *slotp = &rt->rt_root;
	vm_pindex_t index = newm->pindex;

	while (*slotp != 0 && !vm_radix_isleaf(*slotp)) {
		struct vm_radix_node *rn = vm_radix_tonode(*slotp);
		if (vm_radix_keybarr(rn, index))
			break;
		slotp = &rn->rn_child[vm_radix_node_slot(rn, index)];
	}
	KASSERT(vm_radix_isleaf(*slotp) && vm_radix_topage(*slotp)->pindex == index,
	    ("vm_radix_replace: no page at pindex %#llx", (unsigned long long)index));
	vm_page_t old = vm_radix_topage(*slotp);
	*slotp = vm_radix_leaf(newm);
	return old;
}

/* ---- neighbours ------------------------------------------------------------------ */

/* The least (ge) or greatest (!ge) page under p. */
static vm_page_t vm_radix_edge(uintptr_t p, bool ge)
{
	while (!vm_radix_isleaf(p)) {
		const struct vm_radix_node *rn = vm_radix_tonode(p);
		int i = ge ? 0 : VM_RADIX_COUNT - 1;
		while (rn->rn_child[i] == 0)
			i += ge ? 1 : -1;
		p = rn->rn_child[i];
	}
	return vm_radix_topage(p);
}

/*
 * The least page >= index (ge) or greatest <= index (!ge) under p. A descent that
 * remembers the nearest sibling subtree on the wanted side at each level: when the
 * path ends without an answer, that subtree's edge is it. At most 16 levels.
 */
static vm_page_t vm_radix_neighbour(uintptr_t p, vm_pindex_t index, bool ge)
{
	uintptr_t alt = 0;

	while (p != 0) {
		if (vm_radix_isleaf(p)) {
			vm_page_t m = vm_radix_topage(p);
			if (ge ? m->pindex >= index : m->pindex <= index)
				return m;
			break;
		}
		const struct vm_radix_node *rn = vm_radix_tonode(p);
		if (vm_radix_keybarr(rn, index)) {
			/* The whole subtree lies on one side of index. */
			bool above = rn->rn_owner > index;
			if (above == ge)
				return vm_radix_edge(p, ge);
			break;
		}
		int s = (int)vm_radix_node_slot(rn, index);     /* the scans go below 0 */
		if (ge) {
			for (int i = s + 1; i < VM_RADIX_COUNT; i++)
				if (rn->rn_child[i] != 0) {
					alt = rn->rn_child[i];
					break;
				}
		} else {
			for (int i = s - 1; i >= 0; i--)
				if (rn->rn_child[i] != 0) {
					alt = rn->rn_child[i];
					break;
				}
		}
		p = rn->rn_child[s];
	}
	return alt != 0 ? vm_radix_edge(alt, ge) : NULL;
}

vm_page_t vm_radix_lookup_ge(const struct vm_radix *rt, vm_pindex_t index)
{
	return vm_radix_neighbour(rt->rt_root, index, true);
}

vm_page_t vm_radix_lookup_le(const struct vm_radix *rt, vm_pindex_t index)
{
	return vm_radix_neighbour(rt->rt_root, index, false);
}

/* ---- teardown -------------------------------------------------------------------- */

static void vm_radix_reclaim_node(struct vm_radix_node *rn)
{
	for (int i = 0; i < VM_RADIX_COUNT; i++) {
		if (rn->rn_child[i] != 0 && !vm_radix_isleaf(rn->rn_child[i]))
			vm_radix_reclaim_node(vm_radix_tonode(rn->rn_child[i]));
		rn->rn_child[i] = 0;
	}
	vm_radix_node_free(rn);
}

void vm_radix_reclaim_allnodes(struct vm_radix *rt)
{
	if (rt->rt_root != 0 && !vm_radix_isleaf(rt->rt_root))
		vm_radix_reclaim_node(vm_radix_tonode(rt->rt_root));
	rt->rt_root = 0;
	rt->rt_miss_slot = NULL;
	rt->rt_hint = NULL;
}
