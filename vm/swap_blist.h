/*
 * swap_blist: the swap-space allocator, a radix tree of bitmaps that hands out
 * contiguous runs of blocks (FreeBSD's subr_blist.c is the prior art: the same job, a
 * different summary).
 *
 * Blocks 0 .. nblocks - 1. The leaves are 64-bit words, one bit a block (1: free). Above
 * them, levels of nodes with SWAP_BLIST_FANOUT children each, up to one root. Every leaf
 * and node keeps an exact summary of its span: the free run at its start (prefix), the
 * one at its end (suffix) and the longest one anywhere in it (max). So:
 *
 *   alloc(n)   the root's max says at once whether a run of n exists; if it does, a
 *              descent finds one: at each node, left to right, either the run that ends
 *              at the previous children and goes on into this child's prefix is long
 *              enough (the run crosses children), or this child's max is (go down).
 *              O(depth * fanout); the run found is the lowest one a left-to-right walk
 *              meets (first fit, up to runs that straddle children). Fragmentation is
 *              handled by the exactness: a run of n is found whenever one exists.
 *   free, fill the bits of the range change, then each level's summaries over the range
 *              are recomputed from their children, going up only while a summary
 *              changed. O(depth * fanout + n / 64).
 *
 * A run may span leaves and nodes; n is at most nblocks. The bits past nblocks, and the
 * padding children of the last nodes, are allocated forever (they summarise as full).
 *
 * Memory: nblocks / 8 bytes of bits and 12 bytes of summary per leaf (under 1.5% of a
 * bit per block more for the nodes): 32 KiB + 48 KiB for 1 GiB of swap.
 *
 * Locking: none of its own; the owner (the swap pager's sw_mtx) serialises every call.
 */
#ifndef VM_SWAP_BLIST_H
#define VM_SWAP_BLIST_H

#include "vm/vm.h"

#define SWAPBLK_NONE            UINT64_MAX      /* "no block": alloc failed, no entry */
#define SWAP_BLIST_MAXBLOCKS    ((uint64_t)UINT32_MAX - 1)  /* summaries are 32-bit */
#define SWAP_BLIST_FANOUT       16              /* children of a node */
#define SWAP_BLIST_MAXLEVELS    8               /* leaves + 7 node levels > 2^32 blocks */

struct swap_blist_sum {
	uint32_t bs_prefix;         /* free blocks at the span's start */
	uint32_t bs_suffix;         /* free blocks at the span's end */
	uint32_t bs_max;            /* the longest free run in the span */
};

struct swap_blist {
	uint64_t bl_nblocks;        /* blocks managed */
	uint64_t bl_free;           /* of which free */
	int bl_levels;              /* levels of summaries: [0] the leaves', the last the root */
	uint64_t bl_nleaves;        /* leaf words, padded to a multiple of the fanout */
	uint64_t *bl_bits;          /* bl_nleaves words, bit i of word w: block 64 w + i */
	uint64_t bl_count[SWAP_BLIST_MAXLEVELS];    /* entries at each level (padded) */
	uint64_t bl_real[SWAP_BLIST_MAXLEVELS];     /* of which over blocks (the rest 0) */
	uint64_t bl_span[SWAP_BLIST_MAXLEVELS];     /* blocks under one entry of the level */
	struct swap_blist_sum *bl_sum[SWAP_BLIST_MAXLEVELS];
};

/*
 * A new allocator of nblocks (1 .. SWAP_BLIST_MAXBLOCKS) blocks, all free.
 * => may sleep (M_WAITOK) or return NULL (M_NOWAIT, or nblocks out of range).
 */
struct swap_blist *swap_blist_create(uint64_t nblocks, int mflags);
/* Give its memory back (whatever is still allocated in it). => never sleeps. */
void swap_blist_destroy(struct swap_blist *bl);

/* The first block of a run of n free blocks, now allocated; SWAPBLK_NONE when there is
 * no such run (or n is 0). */
uint64_t swap_blist_alloc(struct swap_blist *bl, uint64_t n);
/* Free [blk, blk + n): every block must be allocated (a double free panics). */
void swap_blist_free(struct swap_blist *bl, uint64_t blk, uint64_t n);
/* Allocate [blk, blk + n) whatever it was; returns how many of its blocks were free. */
uint64_t swap_blist_fill(struct swap_blist *bl, uint64_t blk, uint64_t n);

/* Free blocks now. */
static inline uint64_t swap_blist_avail(const struct swap_blist *bl)
{
	return bl->bl_free;
}
/* The longest free run now (an allocation of more fails). */
uint64_t swap_blist_maxrun(const struct swap_blist *bl);
/* Is every block of [blk, blk + n) free / allocated? */
bool swap_blist_isfree(const struct swap_blist *bl, uint64_t blk, uint64_t n);
bool swap_blist_isalloc(const struct swap_blist *bl, uint64_t blk, uint64_t n);
/* Are all blocks free (nothing allocated) / allocated (nothing free)? */
static inline bool swap_blist_empty(const struct swap_blist *bl)
{
	return bl->bl_free == bl->bl_nblocks;
}
static inline bool swap_blist_full(const struct swap_blist *bl)
{
	return bl->bl_free == 0;
}

/* Recompute every summary and the free count from the bits and compare (tests):
 * NULL, or what is wrong. */
const char *swap_blist_verify(const struct swap_blist *bl);

#endif /* VM_SWAP_BLIST_H */
