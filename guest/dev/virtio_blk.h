/*
 * The virtio-blk driver (virtio 1.1 section 5.2) over virtio-mmio: the swap device.
 *
 * One request queue with many requests in flight. A request is one descriptor chain
 * built straight from the pages' physical addresses: the header, one descriptor per
 * physically contiguous run of pages, the status byte (no bounce copies). Requests
 * complete by interrupt: the handler only acknowledges the device and wakes the
 * driver's completion thread, which reaps the used ring and calls each swap_bio's
 * sb_done (vm/swap_dev.h: from a kernel thread). docs/virtio-guest.md has the whole
 * picture.
 *
 * The kernel finds the swap device with virtio_blk_swapdev(): NULL when the command
 * line announced no virtio-blk device (or it failed to attach).
 */
#ifndef DEV_VIRTIO_BLK_H
#define DEV_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "kern/kerrno.h"

struct swap_dev;
struct vm_page;
struct virtio_mmio_dev;

/* The most pages one request carries (sd_maxpages is at most this): 256 KiB. */
#define VIRTIO_BLK_MAX_PAGES    64
/* The most descriptors the queue is given: more would only cost memory. */
#define VIRTIO_BLK_QUEUE_MAX    256
/* Completions one reap takes under the driver's lock before it calls their sb_done. */
#define VIRTIO_BLK_REAP_BATCH   32

/* Attach the driver to vd (a block device): negotiate, set up the queue, the
 * interrupt and the completion thread, then DRIVER_OK. => 0, or an errno (a message
 * printed; the device is left FAILED by the caller). */
int virtio_blk_attach(struct virtio_mmio_dev *vd);

/* Devices attached so far (0 or 1: the first one is the swap device, more are
 * refused). */
int virtio_blk_count(void);

/* The swap device (vm/swap_dev.h), or NULL when there is none. */
struct swap_dev *virtio_blk_swapdev(void);

/*
 * For tests: npages pages at block blkno, read (SWAP_BIO_READ) or written
 * (SWAP_BIO_WRITE), and wait. Unlike sd_strategy the range is not checked here, so
 * that a test can see what the device answers to a request beyond its end.
 * => 0, EIO (the device said IOERR or UNSUPP), ETIMEDOUT (no completion within 30 s:
 *    the request stays in flight and may still write the pages), ENXIO (no device).
 */
int virtio_blk_rw_sync(int cmd, uint64_t blkno, struct vm_page **pages, int npages);

/* Ask the device to make what it has written durable, and wait. => 0 (at once when
 * the device offers no FLUSH: it has no write cache to flush), EIO, ETIMEDOUT,
 * ENXIO. */
int virtio_blk_flush(void);

struct virtio_blk_stats {
	uint64_t vbs_requests;          /* chains submitted */
	uint64_t vbs_completions;       /* reaped from the used ring */
	uint64_t vbs_errors;            /* completions with a status other than OK */
	uint64_t vbs_notifies;          /* QueueNotify writes (EVENT_IDX keeps them few) */
	uint64_t vbs_intr_wakeups;      /* interrupts that woke the completion thread */
	uint64_t vbs_full_waits;        /* submissions that slept for free descriptors */
	uint64_t vbs_polled;            /* requests submitted SWAP_BIO_POLLED */
	uint64_t vbs_poll_ends;         /* of those, given back to the interrupt unfinished */
	int vbs_vector;                 /* the interrupt's vector */
	bool vbs_event_idx;             /* negotiated */
	bool vbs_flush;
	uint16_t vbs_queue_size;
};

/* A snapshot of the swap device's counters. => false when there is no device. */
bool virtio_blk_stats(struct virtio_blk_stats *st);

/* For tests: completions the device has published in the used ring that nobody has
 * reaped yet (read without the driver's lock: a moment's view). 0 without a device. */
unsigned virtio_blk_unreaped(void);

#endif /* DEV_VIRTIO_BLK_H */
