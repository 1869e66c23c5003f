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

/* sb_flags */
#define SWAP_BIO_POLLED 0x1     /* its submitter polls for it (sd_poll) until it ends or
                                   sd_poll_end: the device need not interrupt for it */

struct swap_bio {
	int sb_cmd;                     /* SWAP_BIO_READ or SWAP_BIO_WRITE */
	uint64_t sb_blkno;              /* first block */
	int sb_npages;                  /* 1 .. sd_maxpages */
	int sb_flags;                   /* SWAP_BIO_*; the device's while it is under way */
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
	/*
	 * Optional (NULL: the device cannot be polled; then sd_poll_end is NULL too).
	 * End the requests the device has finished, calling their sb_done on this thread.
	 * => how many. A submitter waiting for a SWAP_BIO_POLLED request spins on this:
	 * where the device answers within microseconds that costs no interrupt, no wakeup
	 * and no thread switch, each a trap or more in the deprivileged guest. => no VM
	 * locks held (sb_done takes them).
	 */
	int (*sd_poll)(struct swap_dev *sd);
	/*
	 * The submitter of SWAP_BIO_POLLED bp stops polling for it (it goes to sleep): its
	 * end comes from then on as any other request's. bp may have ended already (its
	 * sb_done called or about to be).
	 */
	void (*sd_poll_end)(struct swap_dev *sd, struct swap_bio *bp);
	void *sd_softc;                 /* the driver's */
};

#endif /* VM_SWAP_DEV_H */
