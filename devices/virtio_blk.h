/*
 * virtio-blk (virtio 1.1 section 5.2) over a host file, behind the virtio-mmio transport.
 * Three parts, each knowing only the one below it:
 *   virtio_blk.c   the model: features and configuration, and what a descriptor chain
 *                  asks for: every request checked (directions, sizes, sector ranges
 *                  against the capacity) and turned into a struct blk_req, or failed;
 *                  completion: the status byte, the used ring, the interrupt;
 *   blk_uring.c    the engine and the device thread: queue notifications from an eventfd
 *                  (KVM's ioeventfd, or the VMM's QueueNotify exit), one readv/writev,
 *                  fsync or fallocate per request at the sector offset, submitted in
 *                  batches through io_uring; completions reaped in batches;
 *   devices/virtq.c the ring parser.
 *
 * A bad request gets VIRTIO_BLK_S_IOERR (VIRTIO_BLK_S_UNSUPP for an unknown type) when
 * its chain has a usable status byte, else it goes back with nothing written; a broken
 * ring marks the device NEEDS_RESET. Each is counted, the first of each kind said on
 * stderr. docs/virtio.md has the whole story.
 *
 * Fault injection for tests: VMM_BLK_FAIL_EVERY=N fails every Nth read or write request
 * with IOERR without doing it; VMM_BLK_FAIL_OP=read or write counts only those.
 */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/virtio.h"
#include "devices/virtio_mmio.h"
#include "devices/virtq.h"

struct guest_mem;

#define VIRTIO_BLK_QUEUE_NUM_MAX    VIRTQ_NUM_MAX
#define VIRTIO_BLK_SEG_MAX_VALUE    (VIRTIO_BLK_QUEUE_NUM_MAX - 2)  /* header and status */
#define VIRTIO_BLK_SIZE_MAX_VALUE   (1u << 20)      /* largest data buffer */
#define VIRTIO_BLK_BLK_SIZE_VALUE   4096u           /* the block size the guest should use */
#define VIRTIO_BLK_DISCARD_MAX      (1u << 22)      /* sectors in one DISCARD (2 GiB) */
#define VIRTIO_BLK_ID               "vmm-swap"      /* GET_ID's answer (NUL padded) */

enum blk_op {
	BLK_OP_NONE,            /* answered at parse time (GET_ID, errors) */
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,         /* fallocate PUNCH_HOLE */
	BLK_OP_WRITE_ZEROES,    /* fallocate ZERO_RANGE, or PUNCH_HOLE when unmap is allowed */
};

/* One request, from parse to completion. Its iovecs point into guest RAM. */
struct blk_req {
	uint16_t br_head;
	uint32_t br_type;           /* VIRTIO_BLK_T_* as the guest sent it */
	enum blk_op br_op;
	uint8_t br_status;          /* the answer, when br_op is BLK_OP_NONE or done */
	uint8_t *br_status_host;    /* the status byte in guest RAM, NULL when unusable */
	uint32_t br_written;        /* data bytes the device writes on success */
	uint64_t br_off, br_len;    /* bytes in the file */
	int br_fl_mode;             /* fallocate mode */
	bool br_direct;             /* buffers aligned for the O_DIRECT descriptor */
	uint64_t br_start_ns;       /* CLOCK_MONOTONIC when the engine queued its I/O */
	unsigned br_niov;
	struct iovec br_iov[VIRTQ_NUM_MAX];
};

/* Kinds of bad request, each warned about once. */
enum blk_bad {
	BLK_BAD_RING,           /* the ring is broken: NEEDS_RESET */
	BLK_BAD_CHAIN,          /* a buffer outside RAM, zero length, order of directions */
	BLK_BAD_LAYOUT,         /* header, data or status of the wrong size or direction */
	BLK_BAD_RANGE,          /* sectors beyond the capacity */
	BLK_BAD_RO,             /* a write to a read-only device */
	BLK_BAD_TYPE,           /* unknown request type */
	BLK_BAD_IO,             /* the host's I/O failed */
	BLK_BAD_INJECTED,       /* VMM_BLK_FAIL_EVERY */
	BLK_BAD_MAX
};

/*
 * How long the device thread looks for work before it sleeps (blk_uring.c). A page-in
 * on kvm_pvm leaves ~90 us of the guest's time between reads; a notification costs the
 * guest an exit and this thread a wake-up (swapbench: 88 -> 83 us a page-in, swapstress
 * 45 -> 54 MiB/s with the poll). The price is the thread spinning on a host CPU while
 * the guest pages, never longer than this after the last thing it found.
 */
#define VIRTIO_BLK_POLL_NS      200000ull

/*
 * Latency of the requests that went to the host (every kind but the ones answered at
 * parse time), from when the engine queued the I/O to when it reaped the completion:
 * a log2 histogram in ns, bucket i holding [2^i, 2^(i+1)) (bucket 0 also 0), the last
 * bucket everything from 2^(BLK_LAT_BUCKETS-1) ns (~4.6 min) up. One clock_gettime per
 * request is the whole cost on the device thread.
 */
#define BLK_LAT_BUCKETS     39

enum blk_lat_kind {
	BLK_LAT_READ,
	BLK_LAT_WRITE,
	BLK_LAT_OTHER,          /* flush, discard, write-zeroes */
	BLK_LAT_KINDS
};

struct blk_stats {
	uint64_t bs_requests;       /* requests completed, every kind */
	uint64_t bs_reads, bs_writes, bs_flushes, bs_discards, bs_write_zeroes, bs_get_ids;
	uint64_t bs_bytes_read, bs_bytes_written;
	uint64_t bs_errors;         /* requests answered IOERR or UNSUPP, or with no status */
	uint64_t bs_bad[BLK_BAD_MAX];
	uint64_t bs_submits;        /* io_uring_submit calls that submitted something */
	uint64_t bs_sqes;           /* requests submitted */
	uint64_t bs_interrupts;
	uint64_t bs_notifies;        /* device thread wake-ups (kicks: notifies, control) */
	uint64_t bs_polled;         /* times the thread's poll found requests (no kick) */
	uint64_t bs_unaligned;      /* --swap-direct requests served by the buffered fd */
	uint64_t bs_lat[BLK_LAT_KINDS][BLK_LAT_BUCKETS];    /* counts, by kind */
	uint64_t bs_lat_max_ns[BLK_LAT_KINDS];
};

struct virtio_blk {
	struct virtio_mmio vb_tr;
	const struct guest_mem *vb_gm;
	struct virtio_blk_config vb_config;
	int vb_fd;                  /* the file: buffered (or the only one) */
	int vb_direct_fd;           /* the same file with O_DIRECT, or -1 */
	uint64_t vb_capacity;       /* sectors */
	bool vb_ro;
	uint64_t vb_features;       /* negotiated, at start */
	bool vb_warned[BLK_BAD_MAX];
	bool vb_quiet;              /* no stderr warnings (tests) */
	uint64_t vb_poll_ns;        /* VIRTIO_BLK_POLL_NS; tests change it before start */

	/* Fault injection (VMM_BLK_FAIL_EVERY / VMM_BLK_FAIL_OP). */
	uint64_t vb_fail_every;
	int vb_fail_op;             /* 0 both, else BLK_OP_READ or BLK_OP_WRITE */
	uint64_t vb_fail_count;

	/* The device thread (blk_uring.c); vb_lock guards vb_run/vb_running/vb_exit and
	 * the hand-over of vb_vq. */
	pthread_mutex_t vb_lock;
	pthread_cond_t vb_cond;
	pthread_t vb_thread;
	bool vb_thread_started;
	int vb_kick_fd;             /* eventfd: queue notifications and control changes */
	bool vb_run;                /* wanted: process the queue (DRIVER_OK .. reset) */
	bool vb_running;            /* the thread's state, which vb_run asks for */
	bool vb_exit;
	bool vb_ctl_changed;        /* atomic: vb_run or vb_exit changed since the thread
	                               last looked (its poll reads no kick) */
	struct virtq *vb_vq;        /* queue 0, the thread's while vb_running */
	void *vb_engine;            /* blk_uring.c's state */

	struct blk_stats vb_stats;  /* the device thread's; read after it stopped */
};

/*
 * Set up a device on fd (size bytes; read-only if ro), with direct_fd the same file
 * opened O_DIRECT or -1; irq raises its interrupt. => 0, or -1 with a message in err.
 * Reads VMM_BLK_FAIL_EVERY and VMM_BLK_FAIL_OP. The thread starts at virtio_blk_start.
 */
int virtio_blk_init(struct virtio_blk *b, const struct guest_mem *gm, int fd, int direct_fd,
    uint64_t size, bool ro, void (*irq)(void *ctx), void *irq_ctx, char *err,
    size_t errlen);

/* Start the device thread. => 0, or -1 with a message. */
int virtio_blk_start(struct virtio_blk *b, char *err, size_t errlen);

/* Stop the device thread (I/O in flight finishes first) and free everything but fds. */
void virtio_blk_destroy(struct virtio_blk *b);

/* The eventfd that wakes the device thread: KVM_IOEVENTFD's target. */
int virtio_blk_kick_fd(const struct virtio_blk *b);

/* One line of counters for -v, into buf. */
void virtio_blk_summary(const struct virtio_blk *b, char *buf, size_t buflen);

/* ---- between the model (virtio_blk.c) and the engine (blk_uring.c) ---- */

/* Turn a chain into a request: br_op BLK_OP_NONE means answered already (br_status). */
void virtio_blk_parse(struct virtio_blk *b, const struct virtq_chain *c, struct blk_req *r);

/* The host I/O of r ended with res (bytes, or -errno): set its status. */
void virtio_blk_io_done(struct virtio_blk *b, struct blk_req *r, int64_t res);

/* Write r's status byte and push it on the used ring (not yet published). */
void virtio_blk_complete(struct virtio_blk *b, struct virtq *vq, struct blk_req *r);

/* r's host I/O took ns nanoseconds: one entry in its kind's latency histogram. */
void virtio_blk_lat_record(struct virtio_blk *b, const struct blk_req *r, uint64_t ns);

/* The latency histogram's bucket for ns. */
unsigned virtio_blk_lat_bucket(uint64_t ns);

/* A broken ring: count, warn, NEEDS_RESET. */
void virtio_blk_broken(struct virtio_blk *b, const char *why);

/* Count a bad request of kind k; the first of its kind is said on stderr. */
void virtio_blk_bad(struct virtio_blk *b, enum blk_bad k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The engine's transport callbacks. */
extern const struct virtio_dev_ops virtio_blk_ops;
int blk_uring_create(struct virtio_blk *b, char *err, size_t errlen);
void blk_uring_destroy(struct virtio_blk *b);

#endif /* DEVICES_VIRTIO_BLK_H */
