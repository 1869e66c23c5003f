/*
 * virtio-blk's engine: the device thread and its io_uring (virtio_blk.h).
 *
 * The thread waits in one place, io_uring_submit_and_wait: an eventfd read (the kick:
 * KVM's ioeventfd on QueueNotify, the VMM's own write for a QueueNotify that exited, or a
 * control change) and the requests' completions all land on the one completion ring.
 * Each turn:
 *   1. control: start on the queues the transport handed over, or stop (reset, exit):
 *      wait for the I/O in flight, then touch the queue no more;
 *   2. take every available chain (up to a request slot each), parse it (the model),
 *      answer the ones that need no I/O, queue one SQE for each of the others;
 *      with EVENT_IDX, re-arm avail_event and look again, so no request is missed;
 *   3. submit the batch and wait for at least one completion, in one system call;
 *   4. reap every completion there is, write status bytes and used entries, publish
 *      used->idx once and interrupt once if the driver asked (used_event).
 * Before it sleeps in 3, the thread polls for vb_poll_ns (VIRTIO_BLK_POLL_NS): the
 * available ring for new requests (with notifications off, so the driver does not exit
 * to send one) and the completion ring. A guest paging in one page after another sends
 * its next read within that time: the read costs it no exit, and no wake-up of this
 * thread.
 * The thread is the only one that touches the queue, the slots and vb_stats while it
 * runs; vb_lock and vb_cond hand the queue over (virtio_blk.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio_blk.h"

#define BLK_SLOTS       VIRTIO_BLK_QUEUE_NUM_MAX
#define BLK_RING_SQES   (2 * BLK_SLOTS)
#define BLK_TAG_KICK    UINT64_MAX

struct blk_engine {
	struct io_uring be_ring;
	struct blk_req *be_slots;           /* BLK_SLOTS of them */
	uint16_t be_free[BLK_SLOTS];
	unsigned be_nfree;
	unsigned be_inflight;               /* SQEs queued or submitted, not yet reaped */
	unsigned be_queued;                 /* SQEs queued since the last submit */
	uint64_t be_kick_buf;
	bool be_kick_armed;
	bool be_running;
	bool be_broken;                     /* the ring broke: take nothing until reset */
	bool be_pushed;                     /* used entries pushed, not yet published */
	struct virtq *be_vq;
	struct virtq_chain be_chain;        /* the chain being parsed */
};

static uint64_t blk_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void blk_kick(struct virtio_blk *b)
{
	uint64_t one = 1;

	/* Only fails when the counter would overflow, and then the thread is awake. */
	if (write(b->vb_kick_fd, &one, sizeof(one)) < 0)
		return;
}

/* A control change (start, reset, end) for the thread: flagged for its poll, which
 * reads no kick, then kicked for its sleep. */
static void blk_control_kick(struct virtio_blk *b)
{
	__atomic_store_n(&b->vb_ctl_changed, true, __ATOMIC_RELEASE);
	blk_kick(b);
}

/* What was queued went in with one submit call (rv its answer): counted, and no longer
 * queued. */
static void blk_submitted(struct virtio_blk *b, struct blk_engine *e, int rv)
{
	if (rv >= 0 && e->be_queued > 0) {
		b->vb_stats.bs_submits++;
		b->vb_stats.bs_sqes += e->be_queued;
		e->be_queued = 0;
	}
}

/* A free SQE, submitting what is queued if the ring is full. */
static struct io_uring_sqe *blk_sqe(struct virtio_blk *b, struct blk_engine *e)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->be_ring);

	if (sqe == NULL) {
		int n = io_uring_submit(&e->be_ring);
		if (n > 0)
			blk_submitted(b, e, n);
		sqe = io_uring_get_sqe(&e->be_ring);
	}
	return sqe;
}

static void blk_arm_kick(struct virtio_blk *b, struct blk_engine *e)
{
	if (e->be_kick_armed)
		return;
	struct io_uring_sqe *sqe = blk_sqe(b, e);
	if (sqe == NULL)
		return;         /* retried next turn; the ring has room once something is reaped */
	io_uring_prep_read(sqe, b->vb_kick_fd, &e->be_kick_buf, sizeof(e->be_kick_buf), 0);
	io_uring_sqe_set_data64(sqe, BLK_TAG_KICK);
	e->be_kick_armed = true;
}

/* Queue the I/O of request slot i. => 0, or -1 when no SQE could be had. */
static int blk_prep(struct virtio_blk *b, struct blk_engine *e, unsigned i)
{
	struct blk_req *r = &e->be_slots[i];
	struct io_uring_sqe *sqe = blk_sqe(b, e);
	int fd = b->vb_fd;

	if (sqe == NULL)
		return -1;
	if ((r->br_op == BLK_OP_READ || r->br_op == BLK_OP_WRITE) && b->vb_direct_fd >= 0) {
		if (r->br_direct)
			fd = b->vb_direct_fd;
		else
			b->vb_stats.bs_unaligned++;
	}
	switch (r->br_op) {
	case BLK_OP_READ:
		io_uring_prep_readv(sqe, fd, r->br_iov, r->br_niov, r->br_off);
		break;
	case BLK_OP_WRITE:
		io_uring_prep_writev(sqe, fd, r->br_iov, r->br_niov, r->br_off);
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, fd, r->br_fl_mode, r->br_off, r->br_len);
		break;
	case BLK_OP_NONE:
		break;
	}
	io_uring_sqe_set_data64(sqe, i);
	e->be_inflight++;
	e->be_queued++;
	return 0;
}

static void blk_slot_free(struct blk_engine *e, unsigned i)
{
	e->be_free[e->be_nfree++] = (uint16_t)i;
}

/* Answer slot i's request on the used ring (if the queue is still ours) and free it. */
static void blk_finish(struct virtio_blk *b, struct blk_engine *e, unsigned i)
{
	if (e->be_running) {
		virtio_blk_complete(b, e->be_vq, &e->be_slots[i]);
		e->be_pushed = true;
	}
	blk_slot_free(e, i);
}

/* Step 2: take what the driver made available. rearm: notifications on again when
 * the ring is empty (the caller sleeps next); else left off (the caller polls). */
static void blk_take(struct virtio_blk *b, struct blk_engine *e, bool rearm)
{
	struct virtq *vq = e->be_vq;

	if (!e->be_running || e->be_broken || vq == NULL || vq->vq_num == 0)
		return;
	virtq_disable_notify(vq);
	for (;;) {
		while (e->be_nfree > 0) {
			const char *why;
			enum virtq_pop_result pr = virtq_pop(vq, &e->be_chain, &why);
			if (pr == VIRTQ_POP_EMPTY)
				break;
			if (pr == VIRTQ_POP_BROKEN) {
				virtio_blk_broken(b, why);
				e->be_broken = true;
				return;
			}
			unsigned i = e->be_free[--e->be_nfree];
			struct blk_req *r = &e->be_slots[i];
			virtio_blk_parse(b, &e->be_chain, r);
			if (r->br_op != BLK_OP_NONE)
				r->br_start_ns = blk_now_ns();
			if (r->br_op == BLK_OP_NONE || blk_prep(b, e, i) != 0)
				blk_finish(b, e, i);
		}
		/* Out of slots: completions free some, and this runs again after them. */
		if (e->be_nfree == 0 || !rearm)
			return;
		if (!virtq_enable_notify(vq))
			return;
		virtq_disable_notify(vq);
	}
}

/* One completion. */
static void blk_reaped(struct virtio_blk *b, struct blk_engine *e, uint64_t tag, int res)
{
	if (tag == BLK_TAG_KICK) {
		e->be_kick_armed = false;
		if (res == (int)sizeof(e->be_kick_buf))
			b->vb_stats.bs_notifies += e->be_kick_buf;
		return;
	}
	if (tag >= BLK_SLOTS)
		return;
	unsigned i = (unsigned)tag;
	struct blk_req *r = &e->be_slots[i];
	e->be_inflight--;
	/* A file system without ZERO_RANGE (tmpfs): punching a hole reads back as zeroes. */
	if (r->br_op == BLK_OP_WRITE_ZEROES && (res == -EOPNOTSUPP || res == -EINVAL) &&
	    (r->br_fl_mode & FALLOC_FL_ZERO_RANGE)) {
		r->br_fl_mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
		if (blk_prep(b, e, i) == 0)
			return;
	}
	virtio_blk_lat_record(b, r, blk_now_ns() - r->br_start_ns);
	virtio_blk_io_done(b, r, res);
	blk_finish(b, e, i);
}

/* Reap every completion there is. */
static void blk_reap(struct virtio_blk *b, struct blk_engine *e)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&e->be_ring, head, cqe) {
		blk_reaped(b, e, io_uring_cqe_get_data64(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(&e->be_ring, n);
}

/* Publish what was pushed; interrupt if the driver wants to hear of it. */
static void blk_publish(struct virtio_blk *b, struct blk_engine *e)
{
	if (!e->be_pushed || !e->be_running)
		return;
	e->be_pushed = false;
	virtq_publish(e->be_vq);
	if (virtq_need_interrupt(e->be_vq)) {
		b->vb_stats.bs_interrupts++;
		virtio_mmio_interrupt(&b->vb_tr, VIRTIO_MMIO_INT_VRING);
	}
}

/*
 * Before sleeping: submit what is queued, then for up to vb_poll_ns since the last
 * thing found, reap completions as they come and watch the available ring, with
 * notifications off. => true when there are requests to take (notifications still
 * off: blk_take turns them on when it empties the ring), or when a control change came
 * (flagged by blk_control_kick: a kick this poll reaps says nothing); false when the time ran out with nothing new
 * (notifications on: sleep).
 */
static bool blk_poll(struct virtio_blk *b, struct blk_engine *e)
{
	struct virtq *vq = e->be_vq;

	if (!e->be_running || e->be_broken || vq == NULL || vq->vq_num == 0)
		return false;
	if (e->be_queued > 0)
		blk_submitted(b, e, io_uring_submit(&e->be_ring));
	uint64_t until = blk_now_ns() + b->vb_poll_ns;
	for (;;) {
		if (io_uring_cq_ready(&e->be_ring) > 0) {
			blk_reap(b, e);
			blk_publish(b, e);
			until = blk_now_ns() + b->vb_poll_ns;
		}
		if (__atomic_load_n(&b->vb_ctl_changed, __ATOMIC_ACQUIRE))
			return true;
		if (e->be_nfree > 0 && virtq_has_avail(vq)) {
			b->vb_stats.bs_polled++;
			return true;
		}
		if (blk_now_ns() >= until)
			break;
		__builtin_ia32_pause();
	}
	return virtq_enable_notify(vq);
}

/* Submit what is queued and wait for one completion. */
static void blk_submit_wait(struct virtio_blk *b, struct blk_engine *e)
{
	blk_submitted(b, e, io_uring_submit_and_wait(&e->be_ring, 1));
}

/* Wait until nothing is in flight; completions are dropped if the queue is gone. */
static void blk_drain(struct virtio_blk *b, struct blk_engine *e)
{
	while (e->be_inflight > 0) {
		blk_submit_wait(b, e);
		blk_reap(b, e);
	}
	blk_publish(b, e);
}

/* Step 1. => false when the thread should end. */
static bool blk_control(struct virtio_blk *b, struct blk_engine *e)
{
	__atomic_store_n(&b->vb_ctl_changed, false, __ATOMIC_RELAXED);
	pthread_mutex_lock(&b->vb_lock);
	bool run = b->vb_run && !b->vb_exit, exit = b->vb_exit;
	struct virtq *vq = b->vb_vq;
	pthread_mutex_unlock(&b->vb_lock);

	if (e->be_running && !run) {
		/* Wait for what is in flight, answering none of it: a reset discards the
		 * requests, and the ring is the driver's again once this returns. */
		e->be_running = false;
		blk_drain(b, e);
		e->be_vq = NULL;
	} else if (!e->be_running && run) {
		e->be_running = true;
		e->be_broken = false;
		e->be_pushed = false;
		e->be_vq = vq;
	}
	pthread_mutex_lock(&b->vb_lock);
	b->vb_running = e->be_running;
	pthread_cond_broadcast(&b->vb_cond);
	pthread_mutex_unlock(&b->vb_lock);
	return !exit;
}

static void *blk_thread(void *arg)
{
	struct virtio_blk *b = arg;
	struct blk_engine *e = b->vb_engine;

	for (;;) {
		if (!blk_control(b, e))
			break;
		blk_take(b, e, false);
		blk_publish(b, e);
		if (blk_poll(b, e))
			continue;
		blk_arm_kick(b, e);
		blk_submit_wait(b, e);
		blk_reap(b, e);
		blk_publish(b, e);
	}
	blk_drain(b, e);
	return NULL;
}

/* ---- the transport's callbacks (vCPU thread, transport lock held) ---- */

static void blk_start(void *dev, struct virtq *vqs, unsigned n, uint64_t features)
{
	struct virtio_blk *b = dev;

	pthread_mutex_lock(&b->vb_lock);
	b->vb_vq = n > 0 && vqs[0].vq_num != 0 ? &vqs[0] : NULL;
	b->vb_features = features;
	b->vb_run = true;
	pthread_mutex_unlock(&b->vb_lock);
	blk_control_kick(b);
}

static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;

	pthread_mutex_lock(&b->vb_lock);
	b->vb_run = false;
	blk_control_kick(b);
	while (b->vb_running && b->vb_thread_started)
		pthread_cond_wait(&b->vb_cond, &b->vb_lock);
	b->vb_vq = NULL;
	pthread_mutex_unlock(&b->vb_lock);
}

static void blk_notify(void *dev, unsigned queue)
{
	(void)queue;
	blk_kick(dev);
}

const struct virtio_dev_ops virtio_blk_ops = {
	.vdo_device_id = VIRTIO_ID_BLOCK,
	.vdo_nqueues = 1,
	.vdo_queue_num_max = VIRTIO_BLK_QUEUE_NUM_MAX,
	.vdo_start = blk_start,
	.vdo_reset = blk_reset,
	.vdo_notify = blk_notify,
};

/* ---- life cycle ---- */

int blk_uring_create(struct virtio_blk *b, char *err, size_t errlen)
{
	struct blk_engine *e = calloc(1, sizeof(*e));

	if (e == NULL || (e->be_slots = calloc(BLK_SLOTS, sizeof(*e->be_slots))) == NULL) {
		free(e);
		snprintf(err, errlen, "virtio-blk: out of memory");
		return -1;
	}
	e->be_ring.ring_fd = -1;
	b->vb_engine = e;
	for (unsigned i = 0; i < BLK_SLOTS; i++)
		blk_slot_free(e, BLK_SLOTS - 1 - i);
	b->vb_kick_fd = eventfd(0, EFD_CLOEXEC);
	if (b->vb_kick_fd < 0) {
		snprintf(err, errlen, "virtio-blk: eventfd: %s", strerror(errno));
		return -1;
	}
	int rc = io_uring_queue_init(BLK_RING_SQES, &e->be_ring, 0);
	if (rc < 0) {
		snprintf(err, errlen, "virtio-blk: io_uring_queue_init: %s (the swap device "
		    "needs io_uring; is it disabled, e.g. kernel.io_uring_disabled?)",
		    strerror(-rc));
		return -1;
	}
	return 0;
}

int virtio_blk_start(struct virtio_blk *b, char *err, size_t errlen)
{
	sigset_t all, old;

	/*
	 * Every signal blocked in the device thread: the VMM's are process-directed (the
	 * stop signals, the watchdog's SIGALRM) and must reach the vCPU thread, whose
	 * KVM_RUN they interrupt; the new thread inherits this mask.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&b->vb_thread, NULL, blk_thread, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (rc != 0) {
		snprintf(err, errlen, "virtio-blk: cannot start the device thread: %s",
		    strerror(rc));
		return -1;
	}
	b->vb_thread_started = true;
	return 0;
}

void blk_uring_destroy(struct virtio_blk *b)
{
	struct blk_engine *e = b->vb_engine;

	if (e == NULL)
		return;
	if (e->be_ring.ring_fd >= 0)
		io_uring_queue_exit(&e->be_ring);
	free(e->be_slots);
	free(e);
	b->vb_engine = NULL;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (b->vb_thread_started) {
		pthread_mutex_lock(&b->vb_lock);
		b->vb_exit = true;
		pthread_mutex_unlock(&b->vb_lock);
		blk_control_kick(b);
		pthread_join(b->vb_thread, NULL);
		b->vb_thread_started = false;
	}
	blk_uring_destroy(b);
	if (b->vb_kick_fd >= 0)
		close(b->vb_kick_fd);
	b->vb_kick_fd = -1;
	virtio_mmio_destroy(&b->vb_tr);
	pthread_cond_destroy(&b->vb_cond);
	pthread_mutex_destroy(&b->vb_lock);
}
