/*
 * swap_meta: an object's swap metadata, page index -> swap block.
 *
 * FreeBSD's swblk shape: the indexes are grouped in clusters of SWAP_META_PAGES
 * consecutive pindexes, one struct swblk per cluster that has a block, holding the
 * cluster's blocks (SWAPBLK_NONE where a page has none). The clusters are the leaves of
 * a path-compressed radix trie keyed by cluster number (pindex / SWAP_META_PAGES), the
 * shape of vm_radix (vm/vm_radix.c says why a trie): lookup is a few shifts and loads,
 * insert adds at most one node and one swblk, remove frees at most one of each, and
 * lookup_ge walks the entries in order for ranges (termination, collapse, swapoff).
 *
 * Memory. A swblk is 144 bytes for 32 pages (4.5 bytes a page on swap), a node 144
 * bytes; both come from UMA zones made by the first swap_meta_zinit and destroyed by the
 * last swap_meta_zfini (the swap pager's attach and detach), UMA_ZONE_VM and M_NOWAIT |
 * M_USE_RESERVE under the object's lock: the laundry records a block when memory is
 * short. ENOMEM goes back to the caller, who drops its locks and calls swap_meta_wait.
 *
 * Locking: struct swap_meta is embedded in its object (vo_swap) and covered by the
 * object's lock (O), but for the links of the swap pager's list of objects with swap
 * (L: that list's lock, vm/swap_pager.c).
 */
#ifndef VM_SWAP_META_H
#define VM_SWAP_META_H

#include "vm/vm.h"
#include "vm/vm_errno.h"
#include "vm/swap_blist.h"      /* SWAPBLK_NONE */

struct vm_object;

#define SWAP_META_SHIFT     5
#define SWAP_META_PAGES     (1 << SWAP_META_SHIFT)     /* pindexes per swblk */
#define SWAP_META_MAXBLK    ((uint64_t)UINT32_MAX - 1)  /* blocks are stored in 32 bits */

struct swap_meta {
	uintptr_t sm_root;              /* O: a node, a tagged swblk, or 0 (none) */
	uint64_t sm_count;              /* O: pindexes with a block */
	struct vm_object *sm_next;      /* L: on the swap pager's list while sm_count > 0 */
	struct vm_object *sm_prev;      /* L */
	bool sm_listed;                 /* L+O: on that list */
};

/* Make / destroy the zones (counted: the last fini destroys them; a leaked swblk or
 * node panics there). => may sleep. */
void swap_meta_zinit(void);
void swap_meta_zfini(void);
/*
 * Set aside metadata for a device of nblocks blocks (up to SWAP_META_RESERVE_MAX
 * clusters): the zones are type-stable, so what the laundry's writes need stays there
 * when memory runs out, the moment it is needed most. => zones made; may sleep.
 */
#define SWAP_META_RESERVE_MAX   8192
void swap_meta_reserve(uint64_t nblocks);
/* Host re-boots (swap_pager_reset): back to no zones. */
void swap_meta_reset(void);
/* Wait until a swblk and a node can probably be had without sleeping. => no locks
 * held; may sleep. */
void swap_meta_wait(void);
/* swblks and nodes allocated now (tests). */
int swap_meta_nswblks(void);
int swap_meta_nnodes(void);

static inline bool swap_meta_empty(const struct swap_meta *sm)
{
	return sm->sm_count == 0;
}

/* The block of pindex, or SWAPBLK_NONE. => O. */
uint64_t swap_meta_lookup(const struct swap_meta *sm, vm_pindex_t pindex);
/* The blocks of pindex .. pindex + n - 1 into blks[0..n) (SWAPBLK_NONE where none),
 * one trie walk a cluster. => O. */
void swap_meta_lookup_run(const struct swap_meta *sm, vm_pindex_t pindex, int n,
    uint64_t *blks);
/*
 * Record blk (< SWAP_META_MAXBLK) for pindex; *oldp gets the block it replaces (or
 * SWAPBLK_NONE), which the caller frees. 0, or ENOMEM when a swblk or node was needed
 * and none could be had without sleeping (nothing changed). => O; never sleeps.
 */
int swap_meta_insert(struct swap_meta *sm, vm_pindex_t pindex, uint64_t blk,
    uint64_t *oldp);
/*
 * Record blk + i for pindex + i, i in [0, n), as n swap_meta_insert calls would, a
 * cluster at a time (the laundry's run); each block replaced goes to fn(arg, pindex,
 * old). Returns how many were recorded, from the front: fewer than n only when a swblk
 * or node could not be had (the rest unchanged). => O; never sleeps.
 */
int swap_meta_insert_run(struct swap_meta *sm, vm_pindex_t pindex, uint64_t blk, int n,
    void (*fn)(void *arg, vm_pindex_t pindex, uint64_t old), void *arg);
/* Forget pindex's block and return it (SWAPBLK_NONE: had none). Never allocates. => O. */
uint64_t swap_meta_remove(struct swap_meta *sm, vm_pindex_t pindex);
/* The entry with the least pindex >= from: true and *pindexp, *blkp; false: none. => O. */
bool swap_meta_first(const struct swap_meta *sm, vm_pindex_t from, vm_pindex_t *pindexp,
    uint64_t *blkp);
/*
 * Forget every entry in [start, end) (end 0: to the end), calling fn(arg, pindex, blk)
 * for each in pindex order, after it is gone; returns how many. => O; never sleeps.
 */
uint64_t swap_meta_remove_range(struct swap_meta *sm, vm_pindex_t start, vm_pindex_t end,
    void (*fn)(void *arg, vm_pindex_t pindex, uint64_t blk), void *arg);

#endif /* VM_SWAP_META_H */
