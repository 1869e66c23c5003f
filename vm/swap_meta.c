/*
 * swap_meta: page index -> swap block for one object, clusters of SWAP_META_PAGES
 * indexes (struct swblk) in a path-compressed radix trie keyed by cluster number
 * (vm/swap_meta.h).
 *
 * The trie is vm_radix's (vm/vm_radix.c has the shape and its reasons) with swblks for
 * leaves: a node splits the key space on one 4-bit digit into 16 children, every key
 * below it shares rn_owner, and a node exists only where two keys first differ, so a
 * trie of n swblks has at most n - 1 nodes. A leaf is a swblk pointer tagged with bit
 * 0; its key is its own swb_key. (vm_radix reads its keys from vm_page's pindex and
 * so cannot hold these.)
 */
#include "vm/swap_meta.h"
#include "vm/uma.h"

#define SM_WIDTH        4
#define SM_COUNT        (1 << SM_WIDTH)
#define SM_MASK         (SM_COUNT - 1)
#define SM_LIMIT        (64 / SM_WIDTH - 1)     /* highest digit */
#define SM_ISLEAF       0x1ul
#define SM_NONE32       UINT32_MAX              /* a slot without a block */

struct swblk {
	uint64_t swb_key;                       /* pindex / SWAP_META_PAGES */
	uint32_t swb_n;                         /* slots with a block (>= 1 in a trie) */
	uint32_t swb_blk[SWAP_META_PAGES];      /* block, or SM_NONE32 */
};

struct sm_node {
	uint64_t rn_owner;                      /* keys below share these digits */
	uint16_t rn_count;                      /* non-NULL children (>= 2) */
	uint8_t rn_clev;                        /* the digit this node splits on */
	uintptr_t rn_child[SM_COUNT];           /* node, tagged swblk, or 0 */
};

static struct mtx swap_meta_zone_mtx;
static int swap_meta_zrefs;                 /* swap_meta_zone_mtx */
static uma_zone_t swap_meta_swblk_zone;     /* live while zrefs > 0 */
static uma_zone_t swap_meta_node_zone;

/* ---- zones -------------------------------------------------------------------------- */

void swap_meta_zinit(void)
{
	uma_zone_t zs = NULL, zn = NULL;

	mtx_lock(&swap_meta_zone_mtx);
	if (swap_meta_zrefs == 0) {
		/* uma_zcreate may sleep: not under the mutex (as vm_radix_init). */
		mtx_unlock(&swap_meta_zone_mtx);
		/* Type-stable (slabs stay when drained): the laundry must find metadata to
		 * write pages out when memory is gone (swap_meta_reserve). */
		zs = uma_zcreate("SWAPMETA", sizeof(struct swblk), NULL, NULL, NULL, NULL,
		    UMA_ALIGN_PTR, UMA_ZONE_VM | UMA_ZONE_NOFREE);
		zn = uma_zcreate("SWAPMETA NODE", sizeof(struct sm_node), NULL, NULL, NULL,
		    NULL, UMA_ALIGN_PTR, UMA_ZONE_VM | UMA_ZONE_NOFREE);
		mtx_lock(&swap_meta_zone_mtx);
		if (swap_meta_swblk_zone == NULL) {
			swap_meta_swblk_zone = zs;
			swap_meta_node_zone = zn;
			zs = zn = NULL;
		}
	}
	swap_meta_zrefs++;
	mtx_unlock(&swap_meta_zone_mtx);
	if (zs != NULL) {
		uma_zdestroy(zs);
		uma_zdestroy(zn);
	}
}

void swap_meta_reserve(uint64_t nblocks)
{
	/* Every block in its own cluster at worst would need a swblk a block; laundered
	 * runs share them, so one a cluster, plus room for the radix nodes above. */
	uint64_t swblks = MIN(nblocks / SWAP_META_PAGES + 64, SWAP_META_RESERVE_MAX);

	uma_prealloc(swap_meta_swblk_zone, (int)swblks);
	uma_prealloc(swap_meta_node_zone, (int)(swblks / 8 + 16));
}

void swap_meta_zfini(void)
{
	uma_zone_t zs = NULL, zn = NULL;

	mtx_lock(&swap_meta_zone_mtx);
	KASSERT(swap_meta_zrefs > 0, ("swap_meta_zfini: no zones"));
	if (--swap_meta_zrefs == 0) {
		zs = swap_meta_swblk_zone;
		zn = swap_meta_node_zone;
		swap_meta_swblk_zone = swap_meta_node_zone = NULL;
	}
	mtx_unlock(&swap_meta_zone_mtx);
	if (zs != NULL) {
		uma_zdestroy(zs);       /* panics if a swblk or a node leaked */
		uma_zdestroy(zn);
	}
}

void swap_meta_wait(void)
{
	uma_zone_t zs, zn;

	/* The zones held meanwhile: a swapoff may end, and drop its hold, while we sleep
	 * (then nothing needs the memory any more). */
	mtx_lock(&swap_meta_zone_mtx);
	if (swap_meta_zrefs == 0) {
		mtx_unlock(&swap_meta_zone_mtx);
		return;
	}
	swap_meta_zrefs++;
	zs = swap_meta_swblk_zone;
	zn = swap_meta_node_zone;
	mtx_unlock(&swap_meta_zone_mtx);
	uma_zfree(zs, uma_zalloc(zs, M_WAITOK));
	uma_zfree(zn, uma_zalloc(zn, M_WAITOK));
	swap_meta_zfini();
}

static int swap_meta_zone_cur(uma_zone_t *zp)
{
	int n;

	mtx_lock(&swap_meta_zone_mtx);
	n = *zp != NULL ? uma_zone_get_cur(*zp) : 0;
	mtx_unlock(&swap_meta_zone_mtx);
	return n;
}

void swap_meta_reset(void)
{
	memset(&swap_meta_zone_mtx, 0, sizeof(swap_meta_zone_mtx));
	swap_meta_zrefs = 0;
	swap_meta_swblk_zone = swap_meta_node_zone = NULL;
}

int swap_meta_nswblks(void)
{
	return swap_meta_zone_cur(&swap_meta_swblk_zone);
}

int swap_meta_nnodes(void)
{
	return swap_meta_zone_cur(&swap_meta_node_zone);
}

/* ---- the trie ----------------------------------------------------------------------- */

static inline bool sm_isleaf(uintptr_t p)
{
	return (p & SM_ISLEAF) != 0;
}

static inline struct swblk *sm_toleaf(uintptr_t p)
{
	return (struct swblk *)(p & ~SM_ISLEAF);
}

static inline struct sm_node *sm_tonode(uintptr_t p)
{
	return (struct sm_node *)p;
}

static inline int sm_slot(uint64_t key, int clev)
{
	return (int)((key >> (clev * SM_WIDTH)) & SM_MASK);
}

/* key with digit clev and all below cleared (the top digit's nodes own every key). */
static inline uint64_t sm_trimkey(uint64_t key, int clev)
{
	if (clev >= SM_LIMIT)
		return 0;
	return key & ~((UINT64_C(1) << ((clev + 1) * SM_WIDTH)) - 1);
}

/* key is not below rn: their digits differ above rn's. */
static inline bool sm_keybarr(const struct sm_node *rn, uint64_t key)
{
	return ((key ^ rn->rn_owner) >> (rn->rn_clev * SM_WIDTH)) >> SM_WIDTH != 0;
}

static inline int sm_keydiff(uint64_t a, uint64_t b)
{
	KASSERT(a != b, ("swap_meta: equal keys %#llx", (unsigned long long)a));
	return (63 - __builtin_clzll(a ^ b)) / SM_WIDTH;
}

static struct swblk *sm_lookup(const struct swap_meta *sm, uint64_t key)
{
	uintptr_t p = sm->sm_root;

	while (p != 0) {
		if (sm_isleaf(p)) {
			struct swblk *sb = sm_toleaf(p);
			return sb->swb_key == key ? sb : NULL;
		}
		const struct sm_node *rn = sm_tonode(p);
		if (sm_keybarr(rn, key))
			return NULL;
		p = rn->rn_child[sm_slot(key, rn->rn_clev)];
	}
	return NULL;
}

/* Insert sb (its key absent). 0 or ENOMEM (nothing changed). */
static int sm_insert(struct swap_meta *sm, struct swblk *sb)
{
	uint64_t key = sb->swb_key, other;
	uintptr_t *parentp = &sm->sm_root, child;
	struct sm_node *rn, *nn;

	for (;;) {
		child = *parentp;
		if (child == 0) {
			*parentp = (uintptr_t)sb | SM_ISLEAF;
			return 0;
		}
		if (sm_isleaf(child)) {
			other = sm_toleaf(child)->swb_key;
			KASSERT(other != key, ("swap_meta: cluster %#llx inserted twice",
			    (unsigned long long)key));
			break;
		}
		rn = sm_tonode(child);
		if (sm_keybarr(rn, key)) {
			other = rn->rn_owner;
			break;
		}
		int s = sm_slot(key, rn->rn_clev);
		if (rn->rn_child[s] == 0) {
			rn->rn_child[s] = (uintptr_t)sb | SM_ISLEAF;
			rn->rn_count++;
			return 0;
		}
		parentp = &rn->rn_child[s];
	}
	int clev = sm_keydiff(key, other);
	nn = uma_zalloc(swap_meta_node_zone, M_NOWAIT | M_USE_RESERVE | M_ZERO);
	if (nn == NULL)
		return ENOMEM;
	nn->rn_owner = sm_trimkey(key, clev);
	nn->rn_clev = (uint8_t)clev;
	nn->rn_child[sm_slot(key, clev)] = (uintptr_t)sb | SM_ISLEAF;
	nn->rn_child[sm_slot(other, clev)] = child;
	nn->rn_count = 2;
	*parentp = (uintptr_t)nn;
	return 0;
}

/* Take the swblk of key out of the trie (it must be there). Frees at most one node. */
static void sm_remove(struct swap_meta *sm, uint64_t key)
{
	uintptr_t *parentp = NULL, *slotp = &sm->sm_root, child;
	struct sm_node *rn = NULL;

	for (;;) {
		child = *slotp;
		KASSERT(child != 0 && (sm_isleaf(child) || !sm_keybarr(sm_tonode(child), key)),
		    ("swap_meta: no cluster %#llx to remove", (unsigned long long)key));
		if (sm_isleaf(child))
			break;
		parentp = slotp;
		rn = sm_tonode(child);
		slotp = &rn->rn_child[sm_slot(key, rn->rn_clev)];
	}
	KASSERT(sm_toleaf(child)->swb_key == key, ("swap_meta: no cluster %#llx to remove",
	    (unsigned long long)key));
	*slotp = 0;
	if (rn == NULL)
		return;
	/* A node with one child left is no split any more: its child takes its place. */
	if (--rn->rn_count == 1) {
		uintptr_t last = 0;
		for (int i = 0; i < SM_COUNT && last == 0; i++)
			last = rn->rn_child[i];
		*parentp = last;
		uma_zfree(swap_meta_node_zone, rn);
	}
}

/* The least swblk under p. */
static struct swblk *sm_least(uintptr_t p)
{
	while (!sm_isleaf(p)) {
		const struct sm_node *rn = sm_tonode(p);
		int i = 0;
		while (rn->rn_child[i] == 0)
			i++;
		p = rn->rn_child[i];
	}
	return sm_toleaf(p);
}

/* The swblk with the least key >= key, or NULL: a descent remembering the nearest
 * sibling subtree to the right at each level (vm_radix_neighbour's way). */
static struct swblk *sm_lookup_ge(const struct swap_meta *sm, uint64_t key)
{
	uintptr_t p = sm->sm_root, alt = 0;

	while (p != 0) {
		if (sm_isleaf(p)) {
			struct swblk *sb = sm_toleaf(p);
			if (sb->swb_key >= key)
				return sb;
			break;
		}
		const struct sm_node *rn = sm_tonode(p);
		if (sm_keybarr(rn, key)) {
			if (rn->rn_owner > key)
				return sm_least(p);
			break;
		}
		int s = sm_slot(key, rn->rn_clev);
		for (int i = s + 1; i < SM_COUNT; i++)
			if (rn->rn_child[i] != 0) {
				alt = rn->rn_child[i];
				break;
			}
		p = rn->rn_child[s];
	}
	return alt != 0 ? sm_least(alt) : NULL;
}

/* ---- entries ------------------------------------------------------------------------ */

uint64_t swap_meta_lookup(const struct swap_meta *sm, vm_pindex_t pindex)
{
	const struct swblk *sb;
	uint32_t b;

	if (sm->sm_count == 0)
		return SWAPBLK_NONE;
	sb = sm_lookup(sm, pindex >> SWAP_META_SHIFT);
	if (sb == NULL)
		return SWAPBLK_NONE;
	b = sb->swb_blk[pindex & (SWAP_META_PAGES - 1)];
	return b == SM_NONE32 ? SWAPBLK_NONE : b;
}

void swap_meta_lookup_run(const struct swap_meta *sm, vm_pindex_t pindex, int n,
    uint64_t *blks)
{
	int done = 0;

	while (done < n) {
		vm_pindex_t p = pindex + (vm_pindex_t)done;
		unsigned i = (unsigned)(p & (SWAP_META_PAGES - 1));
		int k = MIN(n - done, (int)(SWAP_META_PAGES - i));
		const struct swblk *sb = sm->sm_count != 0 ?
		    sm_lookup(sm, p >> SWAP_META_SHIFT) : NULL;
		for (int j = 0; j < k; j++) {
			uint32_t b = sb != NULL ? sb->swb_blk[i + (unsigned)j] : SM_NONE32;
			blks[done + j] = b == SM_NONE32 ? SWAPBLK_NONE : b;
		}
		done += k;
	}
}

/* The swblk of key, made (empty) when there is none; NULL when it could not be had
 * without sleeping. */
static struct swblk *sm_get(struct swap_meta *sm, uint64_t key)
{
	struct swblk *sb = sm_lookup(sm, key);

	if (sb != NULL)
		return sb;
	sb = uma_zalloc(swap_meta_swblk_zone, M_NOWAIT | M_USE_RESERVE);
	if (sb == NULL)
		return NULL;
	sb->swb_key = key;
	sb->swb_n = 0;
	memset(sb->swb_blk, 0xff, sizeof(sb->swb_blk));
	if (sm_insert(sm, sb) != 0) {
		uma_zfree(swap_meta_swblk_zone, sb);
		return NULL;
	}
	return sb;
}

int swap_meta_insert_run(struct swap_meta *sm, vm_pindex_t pindex, uint64_t blk, int n,
    void (*fn)(void *arg, vm_pindex_t pindex, uint64_t old), void *arg)
{
	int done = 0;

	KASSERT(n >= 0 && blk + (uint64_t)n <= SWAP_META_MAXBLK,
	    ("swap_meta_insert_run: blocks [%llu, +%d) too large", (unsigned long long)blk, n));
	while (done < n) {
		vm_pindex_t p = pindex + (vm_pindex_t)done;
		struct swblk *sb = sm_get(sm, p >> SWAP_META_SHIFT);
		if (sb == NULL)
			break;
		unsigned i = (unsigned)(p & (SWAP_META_PAGES - 1));
		int k = MIN(n - done, (int)(SWAP_META_PAGES - i));
		uint32_t b = (uint32_t)(blk + (uint64_t)done), *slot = &sb->swb_blk[i];
		unsigned fresh = 0;
		for (int j = 0; j < k; j++) {
			uint32_t old = slot[j];
			slot[j] = b + (uint32_t)j;
			if (__predict_true(old == SM_NONE32))
				fresh++;
			else
				fn(arg, p + (vm_pindex_t)j, old);
		}
		sb->swb_n += fresh;
		sm->sm_count += fresh;
		done += k;
	}
	return done;
}

int swap_meta_insert(struct swap_meta *sm, vm_pindex_t pindex, uint64_t blk,
    uint64_t *oldp)
{
	unsigned i = (unsigned)(pindex & (SWAP_META_PAGES - 1));
	struct swblk *sb;

	KASSERT(blk < SWAP_META_MAXBLK, ("swap_meta_insert: block %llu too large",
	    (unsigned long long)blk));
	if ((sb = sm_get(sm, pindex >> SWAP_META_SHIFT)) == NULL)
		return ENOMEM;
	uint32_t old = sb->swb_blk[i];
	sb->swb_blk[i] = (uint32_t)blk;
	if (old == SM_NONE32) {
		sb->swb_n++;
		sm->sm_count++;
		*oldp = SWAPBLK_NONE;
	} else
		*oldp = old;
	return 0;
}

/* Clear slot i of sb (which has a block); sb leaves the trie when it empties. */
static uint64_t sm_clear(struct swap_meta *sm, struct swblk *sb, unsigned i)
{
	uint32_t old = sb->swb_blk[i];

	sb->swb_blk[i] = SM_NONE32;
	sm->sm_count--;
	if (--sb->swb_n == 0) {
		sm_remove(sm, sb->swb_key);
		uma_zfree(swap_meta_swblk_zone, sb);
	}
	return old;
}

uint64_t swap_meta_remove(struct swap_meta *sm, vm_pindex_t pindex)
{
	unsigned i = (unsigned)(pindex & (SWAP_META_PAGES - 1));
	struct swblk *sb;

	if (sm->sm_count == 0)
		return SWAPBLK_NONE;
	sb = sm_lookup(sm, pindex >> SWAP_META_SHIFT);
	if (sb == NULL || sb->swb_blk[i] == SM_NONE32)
		return SWAPBLK_NONE;
	return sm_clear(sm, sb, i);
}

bool swap_meta_first(const struct swap_meta *sm, vm_pindex_t from, vm_pindex_t *pindexp,
    uint64_t *blkp)
{
	uint64_t key = from >> SWAP_META_SHIFT;
	unsigned i = (unsigned)(from & (SWAP_META_PAGES - 1));

	if (sm->sm_count == 0)
		return false;
	for (const struct swblk *sb = sm_lookup_ge(sm, key); sb != NULL;
	    sb = sm_lookup_ge(sm, sb->swb_key + 1)) {
		if (sb->swb_key != key)
			i = 0;
		for (; i < SWAP_META_PAGES; i++)
			if (sb->swb_blk[i] != SM_NONE32) {
				*pindexp = (sb->swb_key << SWAP_META_SHIFT) + i;
				*blkp = sb->swb_blk[i];
				return true;
			}
		if (sb->swb_key == UINT64_MAX >> SWAP_META_SHIFT)
			break;
	}
	return false;
}

uint64_t swap_meta_remove_range(struct swap_meta *sm, vm_pindex_t start, vm_pindex_t end,
    void (*fn)(void *arg, vm_pindex_t pindex, uint64_t blk), void *arg)
{
	uint64_t key = start >> SWAP_META_SHIFT, n = 0;
	struct swblk *sb;

	while (sm->sm_count != 0 && (sb = sm_lookup_ge(sm, key)) != NULL) {
		vm_pindex_t base = sb->swb_key << SWAP_META_SHIFT;
		if (end != 0 && base >= end)
			break;
		bool last = sb->swb_key == UINT64_MAX >> SWAP_META_SHIFT;
		key = sb->swb_key + 1;
		for (unsigned i = 0; i < SWAP_META_PAGES; i++) {
			vm_pindex_t p = base + i;
			if (sb->swb_blk[i] == SM_NONE32 || p < start || (end != 0 && p >= end))
				continue;
			bool gone = sb->swb_n == 1;
			uint64_t blk = sm_clear(sm, sb, i);
			n++;
			if (fn != NULL)
				fn(arg, p, blk);
			if (gone)
				break;  /* sb was freed with its last block */
		}
		if (last)
			break;
	}
	return n;
}
