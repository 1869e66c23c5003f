/*
 * The block device under the swap pager. The VM core knows only this interface: in the
 * guest the virtio-blk driver (guest/dev) provides it, on the host the unit tests
 * provide a device over simulated memory. FreeBSD's swdevt with its sw_strategy is the
 * model: the pager hands a device a run of pages and a contiguous run of blocks, and is
 * told later, once, how it went.
 *
 * A block is one page (PAGE_SIZE bytes); block numbers are the device's, from 0 to
 * sd_nblocks - 1.
 */
#ifndef VM_SWAP_DEV_H
#define VM_SWAP_DEV_H

#include <stdint.h>

#include "vm/vm.h"

struct vm_page;

#define SWAP_BIO_READ   0
#define SWAP_BIO_WRITE  1

struct swap_bio {
	int sb_cmd;                     /* SWAP_BIO_READ or SWAP_BIO_WRITE */
	uint64_t sb_blkno;              /* first block */
	int sb_npages;                  /* 1 .. sd_maxpages */
	struct vm_page **sb_pages;      /* the pages, block sb_blkno + i <-> sb_pages[i];
	                                   the device moves data straight to or from their
	                                   physical addresses */
	int sb_error;                   /* 0, or a VM errno (EIO), set before sb_done */
	/*
	 * Called once when the I/O is over, from a kernel thread (never from an interrupt
	 * handler): it may take VM mutexes and wake sleepers, but must not sleep itself.
	 */
	void (*sb_done)(struct swap_bio *bp);
	void *sb_arg;                   /* the pager's */
};

struct swap_dev {
	const char *sd_name;
	uint64_t sd_nblocks;            /* capacity in blocks */
	int sd_maxpages;                /* most pages one swap_bio may carry */
	/*
	 * Start bp. => 0: sb_done will be called (perhaps before this returns); an errno:
	 * the device refused bp and will not call sb_done. May sleep while the device's
	 * queue is full.
	 */
	int (*sd_strategy)(struct swap_dev *sd, struct swap_bio *bp);
	void *sd_softc;                 /* the driver's */
};

#endif /* VM_SWAP_DEV_H */
