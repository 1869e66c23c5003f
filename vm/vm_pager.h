/*
 * vm_pager: how an object that is not plain anonymous memory gets its pages. Only the
 * part the fault handler needs so far: an object carries a table of operations
 * (vo_pager, NULL for anonymous zero-fill memory), and a fault that finds no resident
 * page in such an object asks it for one (getpages) or for a run around it (populate).
 * Swap (issue 7) and the device pager fill in tables of their own.
 *
 * Return values of the operations: VM_PAGER_*.
 */
#ifndef VM_VM_PAGER_H
#define VM_VM_PAGER_H

#include "vm/vm_page.h"

struct vm_object;

#define VM_PAGER_OK     0   /* done */
#define VM_PAGER_BAD    1   /* populate: not here, use getpages (FreeBSD's answer) */
#define VM_PAGER_FAIL   2   /* getpages: the pager has no such page */
#define VM_PAGER_ERROR  3   /* an I/O error: the fault answers SIGBUS */
#define VM_PAGER_PEND   4   /* putpages: the write is under way; its completion ends it */
#define VM_PAGER_AGAIN  5   /* putpages: not now (no swap space): the page stays dirty */

/* putpages flags */
#define VM_PAGER_PUT_SYNC   0x1 /* return only when the writes are over (swapoff, tests) */
#define VM_PAGER_PUT_RECLAIM 0x2 /* the laundry writes them to free them: on success the
                                  * completion hands them to vm_pageout_written */

struct vm_pager_ops {
	const char *pgo_name;
	/*
	 * Fill ma[0..count), pages the fault allocated in obj at consecutive indexes,
	 * exclusively busied and not valid yet.
	 * => obj locked on entry and on return (the pager may drop it while it waits for
	 *    I/O; obj has paging in progress meanwhile). VM_PAGER_OK: every page is filled;
	 *    VM_PAGER_FAIL or VM_PAGER_ERROR: none is (the fault frees them).
	 */
	int (*pgo_getpages)(struct vm_object *obj, vm_page_t *ma, int count);
	/*
	 * FreeBSD r309710's populate: install in obj a run of pages [*first, *last] that
	 * holds pindex, each resident, filled and exclusively busied; the fault maps the
	 * part of the run its entry covers and unbusies them all. fault_type and max_prot
	 * say how the pages will be used (a pager may refuse a write with VM_PAGER_ERROR).
	 * NULL, or VM_PAGER_BAD: the fault uses getpages for the one page.
	 * => obj locked on entry and on return (dropped meanwhile as for getpages).
	 */
	int (*pgo_populate)(struct vm_object *obj, vm_pindex_t pindex, vm_prot_t fault_type,
	    vm_prot_t max_prot, vm_pindex_t *first, vm_pindex_t *last);
	/*
	 * Write ma[0..count), dirty pages of obj in ascending index order (not necessarily
	 * consecutive), to backing store. The caller (the laundry) has exclusively busied
	 * each page and removed write access to it from every pmap (pmap_remove_write), so
	 * nothing can dirty it while the write is under way. rtvals[i] says what became of
	 * ma[i]:
	 *   VM_PAGER_OK / VM_PAGER_PEND  written, or being written: the pager ends the
	 *       write itself (now, or from the I/O completion): on success the page is
	 *       clean (dirty 0) and unbusied, and stays on its queue for the daemon to free
	 *       (with VM_PAGER_PUT_RECLAIM the pager may instead hand it, still busied, to
	 *       vm_pageout_written, which frees it or unbusies it);
	 *       on an I/O error it stays dirty, its swap block is not reused, and it is
	 *       unbusied and put back in the laundry queue.
	 *   VM_PAGER_AGAIN / VM_PAGER_ERROR  not started: the page is still busied by the
	 *       caller, still dirty, and the caller decides.
	 * => obj locked on entry and on return (dropped meanwhile; paging in progress held).
	 */
	void (*pgo_putpages)(struct vm_object *obj, vm_page_t *ma, int count, int flags,
	    int *rtvals);
	/*
	 * Does the pager hold a copy of pindex? => true, and in *before / *after (when not
	 * NULL) how many pages just below and just above it the pager also holds, such that
	 * one getpages could read them with it (read-around).
	 * => obj locked.
	 */
	bool (*pgo_haspage)(struct vm_object *obj, vm_pindex_t pindex, int *before,
	    int *after);
};

/*
 * The pager anonymous memory (objects with no vo_pager) is laundered to: the swap
 * pager while a swap device is attached, NULL while none is (dirty anonymous pages
 * then stay in memory).
 */
extern const struct vm_pager_ops *vm_pager_anon;

#endif /* VM_VM_PAGER_H */
