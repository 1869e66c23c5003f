/*
 * swap_pager: anonymous memory's backing store. One block device (struct swap_dev,
 * vm/swap_dev.h) is attached at a time; while it is, vm_pager_anon points at this
 * pager, so the laundry writes dirty anonymous pages out through pgo_putpages, and the
 * fault handler reads them back in when an anonymous object's swap metadata has the
 * page (vm/vm_fault.c, case 7).
 *
 *   space      vm/swap_blist.h: contiguous runs of blocks, one run per write request
 *   metadata   vm/swap_meta.h: per object (vo_swap), page index -> block; freed when
 *              the object dies or a range of it is removed, moved or freed when a
 *              backing object collapses into its shadow, and a page's block freed when
 *              the page is written again (the copy on swap is stale then)
 *   page-out   putpages: each run of consecutive indexes (up to the device's and
 *              SWAP_PAGER_MAXRUN pages) gets a contiguous run of blocks and one write
 *              request; asynchronous (VM_PAGER_PEND, the completion ends it) unless
 *              VM_PAGER_PUT_SYNC
 *   page-in    getpages: the fault's run (the page and its neighbours that haspage
 *              reported, contiguous on swap) in one read request; the pages come in
 *              clean, their blocks kept
 *   errors     a write error leaves the page dirty and back in the laundry queue, and
 *              its block is never handed out again (counted bad); a read error is
 *              VM_PAGER_ERROR (the fault's SIGBUS), the block kept for another try
 *   swapoff    every page on swap read back in, dirty, its block freed; then detach
 *
 * docs/vm-core.md, "Swap pager", has the busy/dirty protocol with the laundry.
 *
 * Locking: the pager's state (device, allocator, counters, the list of objects with
 * swap metadata) is under one mutex, sw_mtx, taken after object locks and after
 * nothing else (a leaf, but for the UMA and page-queue locks under it). An object's
 * metadata is under the object's lock. I/O completions (sb_done, from a kernel thread)
 * take the object's lock.
 */
#ifndef VM_SWAP_PAGER_H
#define VM_SWAP_PAGER_H

#include "vm/swap_dev.h"
#include "vm/vm_pager.h"

struct vm_object;

#define SWAP_PAGER_MAXRUN       64  /* most pages in one request (256 KiB) */
#define SWAP_PAGER_READAROUND   16  /* most pages one fault reads: the page, neighbours */
#define SWAP_PAGE_BITS_ALL      0xff /* m->valid, m->dirty: all eight 512-byte blocks */
/* With fewer than 1/SWAP_PAGER_RESERVE_DIV of the blocks free, pages read in give their
 * blocks up (and stay dirty): swap then holds only what memory does not. Half, as Linux
 * frees a swapped-in page's slot once swap is half full: a resident page that keeps its
 * block holds it until it is laundered again, and a page dirtied through a writable
 * clean mapping (no fault to free it) does so for as long as it stays resident; with
 * a smaller margin those stale blocks alone filled a device sized to the workload. */
#define SWAP_PAGER_RESERVE_DIV  2
/* Requests set aside at attach for page-outs when memory is gone. */
#define SWAP_PAGER_BIO_RESERVE  32

extern const struct vm_pager_ops swap_pager_ops;

/*
 * Attach sd as the swap device: its first min(sd_nblocks, SWAP_META_MAXBLK) blocks are
 * free swap space, and vm_pager_anon becomes this pager.
 * => no locks held; may sleep. 0; EBUSY: a device is attached already; EINVAL: sd is
 *    not usable (no blocks, no strategy, sd_maxpages < 1).
 */
int swap_pager_attach(struct swap_dev *sd);
/*
 * swapoff: stop paging out, read every page on swap back in (dirty, its block freed),
 * wait for the requests under way, detach the device (vm_pager_anon NULL).
 * => no locks held; may sleep. 0; EINVAL: no device attached; EBUSY: a swapoff runs;
 *    ENOMEM: memory is short (the free pages above the reserve cannot hold the pages
 *    on swap, or a page could not be had); EIO: a page could not be read. On an error
 *    the device stays attached and paging out resumes; pages already read stay in.
 */
int swap_pager_swapoff(void);
/* The attached device, or NULL (racy: for reports and tests). */
struct swap_dev *swap_pager_device(void);

/* Counters: since boot, but the block counts, which are the attached device's. */
struct swap_pager_stats {
	uint64_t sps_total;         /* blocks of the attached device (0: none) */
	uint64_t sps_free;          /* blocks free: total - used - bad */
	uint64_t sps_used;          /* blocks holding a page */
	uint64_t sps_bad;           /* blocks a write failed on: never handed out again */
	uint64_t sps_inflight;      /* requests under way */
	uint64_t sps_pageouts;      /* pages written */
	uint64_t sps_pageins;       /* pages read */
	uint64_t sps_writes;        /* write requests (each one run) */
	uint64_t sps_reads;         /* read requests */
	uint64_t sps_write_errors;  /* pages whose write failed (or the device refused) */
	uint64_t sps_read_errors;   /* pages whose read failed */
	uint64_t sps_nospace;       /* putpages runs that found no swap space (or memory) */
	uint64_t sps_objects;       /* objects with swap metadata now */
};
void swap_pager_stats(struct swap_pager_stats *out);
/* The same without waiting for the pager's lock (the panic path, vm_meter). */
void swap_pager_stats_nowait(struct swap_pager_stats *out);
/* Host re-boots (tests/support): back to the all-zero state, nothing attached. */
void swap_pager_reset(void);

/* ---- the pager's operations (vm_pager.h has their contracts) ------------------------ */
int swap_pager_getpages(struct vm_object *obj, vm_page_t *ma, int count);
void swap_pager_putpages(struct vm_object *obj, vm_page_t *ma, int count, int flags,
    int *rtvals);
bool swap_pager_haspage(struct vm_object *obj, vm_pindex_t pindex, int *before,
    int *after);

/* ---- hooks of vm_object and vm_fault ------------------------------------------------- */

/* m is being written (a write fault maps it dirty): its block, if any, is stale: free
 * it. => m's object locked. */
void swap_pager_unswapped(vm_page_t m);
/* Free the blocks of obj's indexes [start, end) (end 0: to the end); no page of the
 * range may be resident and busy (the range's pages are gone: removal, termination).
 * => obj locked. */
void swap_pager_freespace(struct vm_object *obj, vm_pindex_t start, vm_pindex_t end);
/*
 * Collapse (vm_object.c): bo's block for index p becomes obj's for q (obj has none
 * there). 0, or ENOMEM (nothing changed). => both locked.
 */
int swap_pager_transfer(struct vm_object *bo, vm_pindex_t p, struct vm_object *obj,
    vm_pindex_t q);
/*
 * Collapse, after bo's resident pages went: each of bo's remaining blocks, at p, is
 * freed when p - off lies outside obj or obj has that index (resident or on swap), and
 * moved to obj at p - off otherwise. 0: bo has no block left; ENOMEM: the ones done
 * are done, call again after swap_meta_wait. => both locked.
 */
int swap_pager_collapse(struct vm_object *obj, struct vm_object *bo, vm_pindex_t off);

#endif /* VM_SWAP_PAGER_H */
