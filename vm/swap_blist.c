/*
 * swap_blist: contiguous runs of swap blocks from a radix tree of bitmaps with exact
 * per-subtree summaries (vm/swap_blist.h has the shape and the costs).
 *
 * Why exact summaries rather than FreeBSD's hints: blist keeps, per subtree, an upper
 * bound on its largest free run (bighint) that an allocation lowers when it finds less,
 * and its leaves are searched bit by bit for runs that cross them. Keeping prefix,
 * suffix and max exact costs a recomputation of the nodes over a changed range (up to
 * the first level where nothing changed), and buys a search that never descends into a
 * subtree in vain and a runs-across-children case that is one addition; and the tests
 * can compare the whole tree with a model. At 16 children a node and 64 blocks a leaf,
 * 1 GiB of swap (262144 blocks) is a tree of depth 4.
 */
#include "vm/swap_blist.h"
#include "vm/malloc.h"

MALLOC_DEFINE(M_SWAPBLIST, "swap blist");

#define BL_LEAF_BITS    64

/* ---- one leaf word ----------------------------------------------------------------- */

/* x_k(w): bit i set when blocks i .. i + k - 1 are all free (and inside the word).
 * x_{a+b} = x_a & (x_b >> a); the powers of two come by doubling. */
struct bl_runs {
	uint64_t r[6];              /* x_1, x_2, x_4, x_8, x_16, x_32 */
};

static inline void bl_runs_make(uint64_t w, struct bl_runs *rs)
{
	rs->r[0] = w;
	for (int k = 1; k < 6; k++)
		rs->r[k] = rs->r[k - 1] & (rs->r[k - 1] >> (1 << (k - 1)));
}

/* The longest run of ones in w. */
static uint32_t bl_leaf_max(uint64_t w)
{
	struct bl_runs rs;
	uint64_t cur = ~(uint64_t)0;
	uint32_t n = 0;

	if (w == ~(uint64_t)0)
		return BL_LEAF_BITS;
	if (w == 0)
		return 0;
	bl_runs_make(w, &rs);
	/* Greedy from the largest power: cur holds the starts of runs of at least n. */
	for (int k = 5; k >= 0; k--) {
		uint64_t t = cur & (rs.r[k] >> n);
		if (t != 0) {
			cur = t;
			n += 1u << k;
		}
	}
	return n;
}

/* The lowest bit where a run of n (1..64) ones starts in w; w has one. */
static unsigned bl_leaf_find(uint64_t w, uint64_t n)
{
	struct bl_runs rs;
	uint64_t cur = ~(uint64_t)0;
	unsigned acc = 0;

	if (n == BL_LEAF_BITS)
		return 0;
	bl_runs_make(w, &rs);
	for (int k = 5; k >= 0; k--) {
		if (n - acc >= (1u << k)) {
			cur &= rs.r[k] >> acc;
			acc += 1u << k;
		}
	}
	KASSERT(cur != 0, ("swap_blist_alloc: leaf %#llx has no run of %llu",
	    (unsigned long long)w, (unsigned long long)n));
	return (unsigned)__builtin_ctzll(cur);
}

static inline void bl_leaf_sum(uint64_t w, struct swap_blist_sum *s)
{
	if (w == ~(uint64_t)0) {
		s->bs_prefix = s->bs_suffix = s->bs_max = BL_LEAF_BITS;
		return;
	}
	s->bs_prefix = (uint32_t)__builtin_ctzll(~w);
	s->bs_suffix = (uint32_t)__builtin_clzll(~w);
	s->bs_max = bl_leaf_max(w);
}

/* ---- nodes --------------------------------------------------------------------------- */

/* The summary of node idx at level (>= 1), from its children's. */
static void bl_node_sum(const struct swap_blist *bl, int level, uint64_t idx,
    struct swap_blist_sum *out)
{
	const struct swap_blist_sum *c = &bl->bl_sum[level - 1][idx * SWAP_BLIST_FANOUT];
	uint64_t cspan = bl->bl_span[level - 1], run = 0, max = 0, prefix = 0;
	bool open = true;       /* every child so far entirely free */

	for (int i = 0; i < SWAP_BLIST_FANOUT; i++) {
		bool full = c[i].bs_prefix == cspan;
		max = MAX(max, MAX((uint64_t)c[i].bs_max, run + c[i].bs_prefix));
		run = full ? run + cspan : c[i].bs_suffix;
		if (open) {
			prefix += c[i].bs_prefix;
			open = full;
		}
	}
	out->bs_prefix = (uint32_t)prefix;
	out->bs_suffix = (uint32_t)run;
	out->bs_max = (uint32_t)max;
}

static inline bool bl_sum_eq(const struct swap_blist_sum *a, const struct swap_blist_sum *b)
{
	return a->bs_prefix == b->bs_prefix && a->bs_suffix == b->bs_suffix &&
	    a->bs_max == b->bs_max;
}

/* Leaves lo..hi changed: their summaries, then each level's over them, up while
 * something changed. */
static void bl_update(struct swap_blist *bl, uint64_t lo, uint64_t hi)
{
	for (uint64_t i = lo; i <= hi; i++)
		bl_leaf_sum(bl->bl_bits[i], &bl->bl_sum[0][i]);
	for (int level = 1; level < bl->bl_levels; level++) {
		uint64_t nlo = UINT64_MAX, nhi = 0;
		lo /= SWAP_BLIST_FANOUT;
		hi /= SWAP_BLIST_FANOUT;
		for (uint64_t i = lo; i <= hi; i++) {
			struct swap_blist_sum s;
			bl_node_sum(bl, level, i, &s);
			if (!bl_sum_eq(&s, &bl->bl_sum[level][i])) {
				bl->bl_sum[level][i] = s;
				nlo = MIN(nlo, i);
				nhi = MAX(nhi, i);
			}
		}
		if (nlo == UINT64_MAX)
			return;
		lo = nlo;
		hi = nhi;
	}
}

/* The mask of [blk, end) within leaf word w (blk in that word). */
static inline uint64_t bl_mask(uint64_t w, uint64_t blk, uint64_t end)
{
	uint64_t first = w * BL_LEAF_BITS;
	unsigned a = (unsigned)(blk > first ? blk - first : 0);
	unsigned b = (unsigned)MIN(end - first, (uint64_t)BL_LEAF_BITS);
	uint64_t hi = b == BL_LEAF_BITS ? ~(uint64_t)0 : ((uint64_t)1 << b) - 1;

	return hi & ~(((uint64_t)1 << a) - 1);
}

/* ---- create, destroy ------------------------------------------------------------------ */

void swap_blist_destroy(struct swap_blist *bl)
{
	if (bl == NULL)
		return;
	for (int l = 0; l < SWAP_BLIST_MAXLEVELS; l++)
		kfree(bl->bl_sum[l], M_SWAPBLIST);
	kfree(bl->bl_bits, M_SWAPBLIST);
	kfree(bl, M_SWAPBLIST);
}

struct swap_blist *swap_blist_create(uint64_t nblocks, int mflags)
{
	struct swap_blist *bl;
	uint64_t n;

	if (nblocks == 0 || nblocks > SWAP_BLIST_MAXBLOCKS)
		return NULL;
	bl = kmalloc(sizeof(*bl), M_SWAPBLIST, mflags | M_ZERO);
	if (bl == NULL)
		return NULL;
	bl->bl_nblocks = nblocks;
	/* The levels: leaf words, then nodes of FANOUT children, up to one root; each
	 * level below the root padded to whole nodes. */
	n = (nblocks + BL_LEAF_BITS - 1) / BL_LEAF_BITS;
	bl->bl_span[0] = BL_LEAF_BITS;
	bl->bl_levels = 1;
	while (n > 1) {
		bl->bl_real[bl->bl_levels - 1] = n;
		bl->bl_count[bl->bl_levels - 1] = roundup2(n, (uint64_t)SWAP_BLIST_FANOUT);
		n = (n + SWAP_BLIST_FANOUT - 1) / SWAP_BLIST_FANOUT;
		bl->bl_span[bl->bl_levels] = bl->bl_span[bl->bl_levels - 1] * SWAP_BLIST_FANOUT;
		bl->bl_levels++;
	}
	bl->bl_real[bl->bl_levels - 1] = bl->bl_count[bl->bl_levels - 1] = 1;
	KASSERT(bl->bl_levels <= SWAP_BLIST_MAXLEVELS, ("swap_blist_create: %d levels",
	    bl->bl_levels));
	bl->bl_nleaves = bl->bl_count[0];
	bl->bl_bits = kmalloc(bl->bl_nleaves * sizeof(uint64_t), M_SWAPBLIST, mflags | M_ZERO);
	if (bl->bl_bits == NULL)
		goto fail;
	for (int l = 0; l < bl->bl_levels; l++) {
		bl->bl_sum[l] = kmalloc(bl->bl_count[l] * sizeof(struct swap_blist_sum),
		    M_SWAPBLIST, mflags | M_ZERO);
		if (bl->bl_sum[l] == NULL)
			goto fail;
	}
	/* Everything free, the padding allocated for good (its bits and summaries 0). */
	for (uint64_t w = 0; w < nblocks / BL_LEAF_BITS; w++)
		bl->bl_bits[w] = ~(uint64_t)0;
	if (nblocks % BL_LEAF_BITS != 0)
		bl->bl_bits[nblocks / BL_LEAF_BITS] = ((uint64_t)1 << (nblocks % BL_LEAF_BITS)) - 1;
	bl->bl_free = nblocks;
	for (uint64_t i = 0; i < bl->bl_nleaves; i++)
		bl_leaf_sum(bl->bl_bits[i], &bl->bl_sum[0][i]);
	for (int l = 1; l < bl->bl_levels; l++)
		for (uint64_t i = 0; i < bl->bl_real[l]; i++)
			bl_node_sum(bl, l, i, &bl->bl_sum[l][i]);
	return bl;
fail:
	swap_blist_destroy(bl);
	return NULL;
}

/* ---- alloc, free, fill --------------------------------------------------------------- */

/* The start of a run of n under entry idx of level, whose max is at least n. */
static uint64_t bl_find(const struct swap_blist *bl, int level, uint64_t idx, uint64_t n)
{
	while (level > 0) {
		const struct swap_blist_sum *c = &bl->bl_sum[level - 1][idx * SWAP_BLIST_FANOUT];
		uint64_t cspan = bl->bl_span[level - 1], run = 0, first = idx * SWAP_BLIST_FANOUT;
		int i;

		for (i = 0; i < SWAP_BLIST_FANOUT; i++) {
			/* The free run that ends where child i starts, and goes on into it. */
			if (run + c[i].bs_prefix >= n)
				return (first + i) * cspan - run;
			if (c[i].bs_max >= n)
				break;
			run = c[i].bs_prefix == cspan ? run + cspan : c[i].bs_suffix;
		}
		KASSERT(i < SWAP_BLIST_FANOUT, ("swap_blist_alloc: level %d node %llu has no "
		    "run of %llu", level, (unsigned long long)idx, (unsigned long long)n));
		idx = first + i;
		level--;
	}
	return idx * BL_LEAF_BITS + bl_leaf_find(bl->bl_bits[idx], n);
}

/* Set [blk, blk + n) free or allocated; returns how many blocks changed. A free of a
 * block already free panics (double free). */
static uint64_t bl_set(struct swap_blist *bl, uint64_t blk, uint64_t n, bool free,
    const char *who)
{
	uint64_t end = blk + n, lo = blk / BL_LEAF_BITS, hi = (end - 1) / BL_LEAF_BITS;
	uint64_t changed = 0;

	(void)who;      /* the assertions' */
	KASSERT(n > 0 && blk < bl->bl_nblocks && n <= bl->bl_nblocks - blk,
	    ("%s: [%llu, +%llu) outside the %llu blocks", who, (unsigned long long)blk,
	    (unsigned long long)n, (unsigned long long)bl->bl_nblocks));
	for (uint64_t w = lo; w <= hi; w++) {
		uint64_t mask = bl_mask(w, blk, end);
		if (free) {
			KASSERT((bl->bl_bits[w] & mask) == 0, ("%s: double free: block %llu of "
			    "[%llu, +%llu) is free", who, (unsigned long long)(w * BL_LEAF_BITS +
			    (unsigned)__builtin_ctzll(bl->bl_bits[w] & mask)),
			    (unsigned long long)blk, (unsigned long long)n));
			changed += (uint64_t)__builtin_popcountll(~bl->bl_bits[w] & mask);
			bl->bl_bits[w] |= mask;
		} else {
			changed += (uint64_t)__builtin_popcountll(bl->bl_bits[w] & mask);
			bl->bl_bits[w] &= ~mask;
		}
	}
	bl_update(bl, lo, hi);
	return changed;
}

uint64_t swap_blist_alloc(struct swap_blist *bl, uint64_t n)
{
	uint64_t blk;

	if (n == 0 || n > bl->bl_sum[bl->bl_levels - 1][0].bs_max)
		return SWAPBLK_NONE;
	blk = bl_find(bl, bl->bl_levels - 1, 0, n);
	KASSERT(swap_blist_isfree(bl, blk, n), ("swap_blist_alloc: [%llu, +%llu) found is "
	    "not free", (unsigned long long)blk, (unsigned long long)n));
	bl_set(bl, blk, n, false, "swap_blist_alloc");
	bl->bl_free -= n;
	return blk;
}

void swap_blist_free(struct swap_blist *bl, uint64_t blk, uint64_t n)
{
	if (n == 0)
		return;
	bl->bl_free += bl_set(bl, blk, n, true, "swap_blist_free");
}

uint64_t swap_blist_fill(struct swap_blist *bl, uint64_t blk, uint64_t n)
{
	uint64_t was;

	if (n == 0)
		return 0;
	was = bl_set(bl, blk, n, false, "swap_blist_fill");
	bl->bl_free -= was;
	return was;
}

uint64_t swap_blist_maxrun(const struct swap_blist *bl)
{
	return bl->bl_sum[bl->bl_levels - 1][0].bs_max;
}

/* Do the bits of [blk, blk + n) all read `free`? */
static bool bl_range_is(const struct swap_blist *bl, uint64_t blk, uint64_t n, bool free)
{
	uint64_t end = blk + n;

	if (n == 0)
		return true;
	if (blk >= bl->bl_nblocks || n > bl->bl_nblocks - blk)
		return false;
	for (uint64_t w = blk / BL_LEAF_BITS; w <= (end - 1) / BL_LEAF_BITS; w++) {
		uint64_t mask = bl_mask(w, blk, end);
		if ((bl->bl_bits[w] & mask) != (free ? mask : 0))
			return false;
	}
	return true;
}

bool swap_blist_isfree(const struct swap_blist *bl, uint64_t blk, uint64_t n)
{
	return bl_range_is(bl, blk, n, true);
}

bool swap_blist_isalloc(const struct swap_blist *bl, uint64_t blk, uint64_t n)
{
	return bl_range_is(bl, blk, n, false);
}

/* ---- verification -------------------------------------------------------------------- */

const char *swap_blist_verify(const struct swap_blist *bl)
{
	uint64_t nfree = 0;

	for (uint64_t w = 0; w < bl->bl_nleaves; w++) {
		uint64_t first = w * BL_LEAF_BITS, valid;
		struct swap_blist_sum s;
		if (first >= bl->bl_nblocks)
			valid = 0;
		else if (bl->bl_nblocks - first >= BL_LEAF_BITS)
			valid = ~(uint64_t)0;
		else
			valid = ((uint64_t)1 << (bl->bl_nblocks - first)) - 1;
		if ((bl->bl_bits[w] & ~valid) != 0)
			return "a block past the end is free";
		nfree += (uint64_t)__builtin_popcountll(bl->bl_bits[w]);
		bl_leaf_sum(bl->bl_bits[w], &s);
		if (!bl_sum_eq(&s, &bl->bl_sum[0][w]))
			return "a leaf's summary is wrong";
	}
	if (nfree != bl->bl_free)
		return "the free count is wrong";
	for (int l = 1; l < bl->bl_levels; l++)
		for (uint64_t i = 0; i < bl->bl_count[l]; i++) {
			struct swap_blist_sum s = { 0, 0, 0 };
			if (i < bl->bl_real[l])
				bl_node_sum(bl, l, i, &s);
			if (!bl_sum_eq(&s, &bl->bl_sum[l][i]))
				return "a node's summary is wrong";
		}
	return NULL;
}
