/*
 * The virtio-blk driver (virtio_blk.h).
 *
 *   sd_strategy / virtio_blk_rw_sync / virtio_blk_flush
 *     -> vblk_submit: chain = header, page runs, status; under sc_mtx: wait for free
 *        descriptors, add, publish, notify if EVENT_IDX says the device wants it
 *   device -> used ring -> IRQ (IOAPIC pin, edge)
 *     -> virtio_mmio_intr: InterruptStatus, InterruptACK -> vblk_intr: wake
 *   vblk_done_thread: reap the used ring under sc_mtx (free the chains, wake waiting
 *     submitters), then call each sb_done outside the lock; re-arm the interrupt
 *     (used_event); sleep until the next one.
 *   sd_poll (a submitter waiting for a SWAP_BIO_POLLED request): reap as the thread
 *     does, on the caller's thread, until the interrupt's re-arm finds nothing more.
 *     While every request in flight is polled for (and no submitter sleeps for
 *     descriptors), the interrupt is off (vblk_intr_update): a page-in then costs no
 *     interrupt, wakeup or thread switch, each a trap or more here.
 *   The rule that keeps a completion from being lost: whoever re-arms the interrupt
 *   and finds entries published already (the device may have passed the event index
 *   with them, and will not interrupt for them) reaps them or wakes the thread to.
 *
 * Per-request memory is keyed by the chain's head descriptor: sc_hdrs[head] holds the
 * request header and status byte (physically contiguous, the device reads and writes
 * them), sc_bios[head] the swap_bio. A head is in use exactly while its chain is.
 *
 * Locking:
 *   M  sc_mtx: the queue's available side and free list, sc_hdrs/sc_bios of free
 *      heads, the counters but vbs_intr_wakeups
 *      and the used side (virtq_used_next, virtq_intr_enable/disable)
 *   I  written by the interrupt handler only
 *   C  constant after attach
 */
#include "amd64/cpufunc.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_mmio.h"
#include "dev/virtio_ring.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/malloc.h"
#include "vm/swap_dev.h"
#include "vm/vm.h"
#include "vm/vm_page.h"
#include "vm/vm_platform.h"
#include "vm/vm_sleepq.h"

/* The driver's own commands beside SWAP_BIO_READ and SWAP_BIO_WRITE. */
#define VBLK_CMD_FLUSH          2

#define VBLK_SECTORS_PER_PAGE   (PAGE_SIZE / VIRTIO_BLK_SECTOR_SIZE)
#define VBLK_SYNC_TIMEOUT_NS    30000000000ull
#define VBLK_REAP_BATCH         VIRTIO_BLK_REAP_BATCH
/* A status byte the device has not written: any value it may write differs. */
#define VBLK_STATUS_NONE        0xff

/* The device-visible part of a request: 32 bytes, so two never share a cache line's
 * half and the status byte's address is the header's + 16. */
struct vblk_hdr {
	struct virtio_blk_outhdr vh_out;
	uint8_t vh_status;
	uint8_t vh_pad[15];
};
_Static_assert(sizeof(struct vblk_hdr) == 32, "vblk_hdr is 32 bytes");

struct vblk_softc {
	struct virtio_mmio_dev *sc_vd;          /* C */
	struct swap_dev sc_swapdev;             /* C */
	struct mtx sc_mtx;
	struct virtq sc_vq;                     /* M */
	struct vblk_hdr *sc_hdrs;               /* C: the array; entries M or in flight */
	uint64_t sc_hdrs_pa;                    /* C */
	uint64_t sc_hdrs_bytes;                 /* C */
	struct swap_bio **sc_bios;              /* C: the array; entries as sc_hdrs */
	uint64_t sc_sectors;                    /* C: capacity */
	unsigned sc_seg_max;                    /* C: data segments a request may have */
	uint32_t sc_size_max;                   /* C: bytes a segment may have */
	bool sc_ro;                             /* C */
	int sc_full_waiters;                    /* M: submitters asleep for descriptors */
	unsigned sc_inflight;                   /* M: requests submitted, not reaped */
	unsigned sc_polled;                     /* M: those a submitter polls for */
	struct virtio_blk_stats sc_stats;       /* M, but vbs_intr_wakeups: I */
	struct thread *sc_td;                   /* C: the completion thread */
	char sc_name[16];                       /* C */
};

static struct vblk_softc *vblk_sc;     /* the swap device; NULL until attached */

MALLOC_DEFINE(M_VBLK, "virtio_blk");

/* The interrupt's wait channel: the completion thread sleeps on it. */
static inline void *vblk_intr_chan(struct vblk_softc *sc)
{
	return &sc->sc_td;
}

/* ---- interrupt suppression ------------------------------------------------------- */

/*
 * The interrupt is wanted while a request nobody polls for is in flight, or a
 * submitter sleeps for descriptors (a poller asleep there polls for nothing: with only
 * polled requests in flight, none would ever end). => sc_mtx; true when entries
 * arrived that the interrupt may have been decided against (the caller sees they are
 * reaped).
 */
static bool vblk_intr_update(struct vblk_softc *sc)
{
	if (sc->sc_inflight > sc->sc_polled || sc->sc_full_waiters > 0)
		return virtq_intr_enable(&sc->sc_vq);
	virtq_intr_disable(&sc->sc_vq);
	return virtq_used_pending(&sc->sc_vq);
}

/* ---- submission ------------------------------------------------------------------ */

/*
 * The data segments of npages pages: one per physically contiguous run, cut at
 * size_max. => the number of segments, or -1 when more than max are needed.
 */
static int vblk_data_segs(const struct vblk_softc *sc, struct vm_page **pages,
    int npages, bool device_writes, struct virtq_seg *segs, unsigned max)
{
	unsigned n = 0;

	for (int i = 0; i < npages; i++) {
		uint64_t pa = VM_PAGE_TO_PHYS(pages[i]);
		if (n > 0 && segs[n - 1].vs_pa + segs[n - 1].vs_len == pa &&
		    segs[n - 1].vs_len + PAGE_SIZE <= sc->sc_size_max) {
			segs[n - 1].vs_len += PAGE_SIZE;
			continue;
		}
		if (n == max)
			return -1;
		segs[n++] = (struct virtq_seg){ .vs_pa = pa, .vs_len = PAGE_SIZE,
		    .vs_device_writes = device_writes };
	}
	return (int)n;
}

/*
 * Start bp as command cmd (SWAP_BIO_READ, SWAP_BIO_WRITE, VBLK_CMD_FLUSH); sb_done
 * is called from the completion thread. => 0, or an errno when the request could not
 * be built (sb_done not called). May sleep for free descriptors.
 */
static int vblk_submit(struct vblk_softc *sc, struct swap_bio *bp, int cmd)
{
	struct virtq_seg segs[VIRTIO_BLK_MAX_PAGES + 2];
	int ndata = 0;

	if (cmd != VBLK_CMD_FLUSH) {
		ndata = vblk_data_segs(sc, bp->sb_pages, bp->sb_npages, cmd == SWAP_BIO_READ,
		    segs + 1, MIN(sc->sc_seg_max, (unsigned)VIRTIO_BLK_MAX_PAGES));
		if (ndata < 0)
			return EINVAL;
	}
	unsigned nsegs = (unsigned)ndata + 2;

	mtx_lock(&sc->sc_mtx);
	while (sc->sc_vq.vq_nfree < nsegs) {
		/* Only the completion thread frees descriptors: if it slept here (a
		 * sb_done that starts I/O, which vm/swap_dev.h forbids to sleep), nothing
		 * would ever wake it. */
		KASSERT(curthread != sc->sc_td, ("vblk_submit: the completion thread waits "
		    "for descriptors only it can free"));
		sc->sc_stats.vbs_full_waits++;
		sc->sc_full_waiters++;
		/* The interrupt on while we sleep; what came before it is the thread's. */
		if (vblk_intr_update(sc))
			vm_wakeup(vblk_intr_chan(sc));
		(void)vm_sleep(&sc->sc_full_waiters, &sc->sc_mtx, "vblkfull", 0);
		sc->sc_full_waiters--;
	}
	int head = virtq_next_head(&sc->sc_vq);
	struct vblk_hdr *h = &sc->sc_hdrs[head];
	uint64_t hpa = sc->sc_hdrs_pa + (uint64_t)head * sizeof(*h);
	h->vh_out = (struct virtio_blk_outhdr){
		.type = cmd == SWAP_BIO_READ ? VIRTIO_BLK_T_IN : cmd == SWAP_BIO_WRITE ?
		    VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH,
		.sector = cmd == VBLK_CMD_FLUSH ? 0 : bp->sb_blkno * VBLK_SECTORS_PER_PAGE,
	};
	h->vh_status = VBLK_STATUS_NONE;
	segs[0] = (struct virtq_seg){ .vs_pa = hpa, .vs_len = sizeof(h->vh_out) };
	segs[nsegs - 1] = (struct virtq_seg){ .vs_pa = hpa +
	    __builtin_offsetof(struct vblk_hdr, vh_status), .vs_len = 1,
	    .vs_device_writes = true };
	sc->sc_bios[head] = bp;
	int added = virtq_add(&sc->sc_vq, segs, nsegs);
	KASSERT(added == head, ("vblk_submit: chain at %d, not at the free head %d", added,
	    head));
	sc->sc_stats.vbs_requests++;
	sc->sc_inflight++;
	if ((bp->sb_flags & SWAP_BIO_POLLED) != 0) {
		sc->sc_polled++;
		sc->sc_stats.vbs_polled++;
	}
	/* Before the publication: the device decides on the interrupt after it. Entries
	 * published already are not this submitter's to reap: they came while the
	 * interrupt was off (polled reads, whose pollers reap) or after the last reaper's
	 * re-arm (which looked again), so someone is at them already. */
	(void)vblk_intr_update(sc);
	bool kick = virtq_kick_prepare(&sc->sc_vq);
	if (kick)
		sc->sc_stats.vbs_notifies++;
	mtx_unlock(&sc->sc_mtx);
	/* After the lock: another submitter's chains published meanwhile are covered
	 * too, and the exit is not paid with the lock held. */
	if (kick)
		virtio_mmio_notify(sc->sc_vd, 0);
	return 0;
}

static int vblk_strategy(struct swap_dev *sd, struct swap_bio *bp)
{
	struct vblk_softc *sc = sd->sd_softc;

	if (bp->sb_npages < 1 || bp->sb_npages > sd->sd_maxpages ||
	    (bp->sb_cmd != SWAP_BIO_READ && bp->sb_cmd != SWAP_BIO_WRITE) ||
	    bp->sb_blkno >= sd->sd_nblocks ||
	    (uint64_t)bp->sb_npages > sd->sd_nblocks - bp->sb_blkno)
		return EINVAL;
	if (bp->sb_cmd == SWAP_BIO_WRITE && sc->sc_ro)
		return EROFS;
	return vblk_submit(sc, bp, bp->sb_cmd);
}

/* ---- completion ------------------------------------------------------------------ */

/* From the transport's interrupt handler: no lock, only the wakeup. */
static void vblk_intr(struct virtio_mmio_dev *vd, uint32_t status)
{
	struct vblk_softc *sc = vd->vd_softc;

	if ((status & VIRTIO_MMIO_INT_VRING) == 0)
		return;                 /* a configuration change: nothing to reap */
	sc->sc_stats.vbs_intr_wakeups++;
	vm_wakeup(vblk_intr_chan(sc));
}

/*
 * Reap up to VBLK_REAP_BATCH completions into done[]. => how many; *more: whether the
 * interrupt's re-arm after them found more published (then the caller reaps again:
 * the device may have passed the new event index with them, and sent no interrupt).
 */
static int vblk_reap(struct vblk_softc *sc, struct swap_bio **done, bool *more)
{
	uint32_t head, len;
	int n = 0;

	mtx_lock(&sc->sc_mtx);
	while (n < VBLK_REAP_BATCH && virtq_used_next(&sc->sc_vq, &head, &len)) {
		KASSERT(head < sc->sc_vq.vq_num && sc->sc_bios[head] != NULL,
		    ("vblk_reap: the device completed head %u, which is not in flight", head));
		struct swap_bio *bp = sc->sc_bios[head];
		uint8_t status = __atomic_load_n(&sc->sc_hdrs[head].vh_status,
		    __ATOMIC_RELAXED);
		sc->sc_bios[head] = NULL;
		(void)virtq_free_chain(&sc->sc_vq, (uint16_t)head);
		sc->sc_inflight--;
		if ((bp->sb_flags & SWAP_BIO_POLLED) != 0) {
			bp->sb_flags &= ~SWAP_BIO_POLLED;
			sc->sc_polled--;
		}
		bp->sb_error = status == VIRTIO_BLK_S_OK ? 0 : EIO;
		if (bp->sb_error != 0)
			sc->sc_stats.vbs_errors++;
		sc->sc_stats.vbs_completions++;
		done[n++] = bp;
	}
	if (n > 0 && sc->sc_full_waiters > 0)
		vm_wakeup(&sc->sc_full_waiters);
	/* The last request nobody polls for may be gone: off again for the others. */
	*more = n > 0 && vblk_intr_update(sc);
	mtx_unlock(&sc->sc_mtx);
	return n;
}

/* Sleep until the interrupt handler wakes the thread, unless completions are there
 * already. The check and the queueing happen with interrupts masked and the sleep
 * queues locked, so the handler's wakeup cannot fall between them. */
static void vblk_wait_intr(struct vblk_softc *sc)
{
	struct vm_sleeper vs;
	bool intr = intr_save();

	sleepq_lock();
	if (virtq_used_pending(&sc->sc_vq)) {
		sleepq_unlock();
	} else {
		sleepq_insert(&vs, vblk_intr_chan(sc), "vblkdone", 0, 0);
		sleepq_unlock();
		(void)sleepq_block(&vs);
	}
	intr_restore(intr);
}

static void vblk_done_thread(void *arg)
{
	struct vblk_softc *sc = arg;
	struct swap_bio *done[VBLK_REAP_BATCH];

	for (;;) {
		bool unused;    /* the re-arm below, after the sb_done calls, looks again */
		int n = vblk_reap(sc, done, &unused);
		for (int i = 0; i < n; i++)
			done[i]->sb_done(done[i]);
		mtx_lock(&sc->sc_mtx);
		bool more = vblk_intr_update(sc);
		mtx_unlock(&sc->sc_mtx);
		if (n == VBLK_REAP_BATCH || more)
			continue;       /* more than a batch, or some came before the re-arm */
		vblk_wait_intr(sc);
	}
}

/*
 * sd_poll: what the device finished, ended here: all of it, until the interrupt's
 * re-arm finds nothing more. Stopping after one batch, or with entries published
 * between the reap's last look and the re-arm, would leave completions no interrupt
 * announces (the device passed the event index with them) to nobody: the caller stops
 * polling once its own request has ended, and the completion thread sleeps. Those
 * requests never ended; under swap the guest stopped with every thread asleep.
 */
static int vblk_poll(struct swap_dev *sd)
{
	struct vblk_softc *sc = sd->sd_softc;
	struct swap_bio *done[VBLK_REAP_BATCH];
	bool more = virtq_used_pending(&sc->sc_vq);
	int total = 0;

	while (more) {
		int n = vblk_reap(sc, done, &more);
		for (int i = 0; i < n; i++)
			done[i]->sb_done(done[i]);
		total += n;
	}
	return total;
}

/* sd_poll_end: bp's end is the interrupt's again (if it is still to come). */
static void vblk_poll_end(struct swap_dev *sd, struct swap_bio *bp)
{
	struct vblk_softc *sc = sd->sd_softc;
	bool pending = false;

	mtx_lock(&sc->sc_mtx);
	if ((bp->sb_flags & SWAP_BIO_POLLED) != 0) {
		bp->sb_flags &= ~SWAP_BIO_POLLED;
		sc->sc_polled--;
		sc->sc_stats.vbs_poll_ends++;
		pending = vblk_intr_update(sc);
	}
	mtx_unlock(&sc->sc_mtx);
	/* Finished before the interrupt was back on: the thread ends it. */
	if (pending)
		vm_wakeup(vblk_intr_chan(sc));
}

/* ---- synchronous requests (tests, flush) ------------------------------------------ */

struct vblk_sync {
	struct swap_bio vs_bio;
	struct mtx vs_mtx;
	bool vs_done;
	bool vs_abandoned;      /* the waiter timed out: sb_done frees the record */
};

static void vblk_sync_done(struct swap_bio *bp)
{
	struct vblk_sync *w = bp->sb_arg;

	mtx_lock(&w->vs_mtx);
	if (w->vs_abandoned) {
		mtx_unlock(&w->vs_mtx);
		kfree(w, M_VBLK);
		return;
	}
	w->vs_done = true;
	vm_wakeup(w);
	mtx_unlock(&w->vs_mtx);
}

static int vblk_sync(int cmd, uint64_t blkno, struct vm_page **pages, int npages)
{
	struct vblk_softc *sc = vblk_sc;

	if (sc == NULL)
		return ENXIO;
	/* On the heap: a request that outlives its waiter's timeout still has it. */
	struct vblk_sync *w = kmalloc(sizeof(*w), M_VBLK, M_WAITOK | M_ZERO);
	mtx_init(&w->vs_mtx, "vblksync");
	w->vs_bio = (struct swap_bio){ .sb_cmd = cmd, .sb_blkno = blkno,
	    .sb_npages = npages, .sb_pages = pages, .sb_done = vblk_sync_done, .sb_arg = w };
	int error = vblk_submit(sc, &w->vs_bio, cmd);
	if (error != 0) {
		kfree(w, M_VBLK);
		return error;
	}
	uint64_t deadline = vm_nanotime() + VBLK_SYNC_TIMEOUT_NS;
	mtx_lock(&w->vs_mtx);
	while (!w->vs_done) {
		uint64_t now = vm_nanotime();
		if (now >= deadline ||
		    (vm_sleep(w, &w->vs_mtx, "vblksync", deadline - now) != 0 && !w->vs_done &&
		    vm_nanotime() >= deadline)) {
			w->vs_abandoned = true;
			mtx_unlock(&w->vs_mtx);
			printf("virtio_blk: %s: no completion in %llu s\n", sc->sc_name,
			    (unsigned long long)(VBLK_SYNC_TIMEOUT_NS / 1000000000ull));
			return ETIMEDOUT;
		}
	}
	mtx_unlock(&w->vs_mtx);
	error = w->vs_bio.sb_error;
	kfree(w, M_VBLK);
	return error;
}

int virtio_blk_rw_sync(int cmd, uint64_t blkno, struct vm_page **pages, int npages)
{
	KASSERT(cmd == SWAP_BIO_READ || cmd == SWAP_BIO_WRITE,
	    ("virtio_blk_rw_sync: command %d", cmd));
	if (vblk_sc == NULL)
		return ENXIO;
	if (npages < 1 || npages > vblk_sc->sc_swapdev.sd_maxpages)
		return EINVAL;
	return vblk_sync(cmd, blkno, pages, npages);
}

int virtio_blk_flush(void)
{
	if (vblk_sc == NULL)
		return ENXIO;
	if ((vblk_sc->sc_vd->vd_features & (1ull << VIRTIO_BLK_F_FLUSH)) == 0)
		return 0;
	return vblk_sync(VBLK_CMD_FLUSH, 0, NULL, 0);
}

/* ---- attach ---------------------------------------------------------------------- */

int virtio_blk_count(void)
{
	return vblk_sc != NULL ? 1 : 0;
}

struct swap_dev *virtio_blk_swapdev(void)
{
	return vblk_sc != NULL ? &vblk_sc->sc_swapdev : NULL;
}

bool virtio_blk_stats(struct virtio_blk_stats *st)
{
	struct vblk_softc *sc = vblk_sc;

	if (sc == NULL)
		return false;
	mtx_lock(&sc->sc_mtx);
	*st = sc->sc_stats;
	st->vbs_intr_wakeups = __atomic_load_n(&sc->sc_stats.vbs_intr_wakeups,
	    __ATOMIC_RELAXED);
	mtx_unlock(&sc->sc_mtx);
	return true;
}

unsigned virtio_blk_unreaped(void)
{
	struct vblk_softc *sc = vblk_sc;

	if (sc == NULL)
		return 0;
	return (uint16_t)(__atomic_load_n(&sc->sc_vq.vq_used->idx, __ATOMIC_ACQUIRE) -
	    __atomic_load_n(&sc->sc_vq.vq_used_last, __ATOMIC_RELAXED));
}

/* The queue size: the device's largest, at most VIRTIO_BLK_QUEUE_MAX, a power of 2. */
static uint16_t vblk_queue_size(uint16_t max)
{
	uint16_t num = 1;

	while ((unsigned)num * 2 <= MIN(max, (uint16_t)VIRTIO_BLK_QUEUE_MAX))
		num *= 2;
	return num;
}

int virtio_blk_attach(struct virtio_mmio_dev *vd)
{
	if (vblk_sc != NULL) {
		printf("virtio_blk: a second device at %#llx: only one swap device is "
		    "supported; passed over\n", (unsigned long long)vd->vd_pa);
		return EEXIST;
	}
	struct vblk_softc *sc = kmalloc(sizeof(*sc), M_VBLK, M_WAITOK | M_ZERO);
	int error = EINVAL;
	sc->sc_vd = vd;
	vd->vd_softc = sc;
	snprintf(sc->sc_name, sizeof(sc->sc_name), "vblk@%llx",
	    (unsigned long long)vd->vd_pa);
	mtx_init(&sc->sc_mtx, "virtio_blk");

	if (!virtio_mmio_reset_and_ack(vd)) {
		printf("virtio_blk: %s: the device does not reset\n", sc->sc_name);
		goto fail;
	}
	if (!virtio_mmio_negotiate(vd, 1ull << VIRTIO_F_EVENT_IDX |
	    1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_SIZE_MAX |
	    1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_RO))
		goto fail;

	/* The configuration fields the features accepted make valid. */
	virtio_mmio_config_read(vd, __builtin_offsetof(struct virtio_blk_config, capacity),
	    &sc->sc_sectors, sizeof(sc->sc_sectors));
	sc->sc_size_max = UINT32_MAX;
	if (vd->vd_features & (1ull << VIRTIO_BLK_F_SIZE_MAX)) {
		virtio_mmio_config_read(vd, __builtin_offsetof(struct virtio_blk_config,
		    size_max), &sc->sc_size_max, sizeof(sc->sc_size_max));
		if (sc->sc_size_max < PAGE_SIZE) {
			printf("virtio_blk: %s: size_max %u is below a page\n", sc->sc_name,
			    sc->sc_size_max);
			goto fail;
		}
	}
	uint16_t qmax = virtio_mmio_queue_max(vd, 0);
	if (qmax < 4) {
		printf("virtio_blk: %s: queue 0 has %u entries, a request needs 3\n",
		    sc->sc_name, qmax);
		goto fail;
	}
	uint16_t num = vblk_queue_size(qmax);
	sc->sc_seg_max = num - 2u;
	if (vd->vd_features & (1ull << VIRTIO_BLK_F_SEG_MAX)) {
		uint32_t seg_max;
		virtio_mmio_config_read(vd, __builtin_offsetof(struct virtio_blk_config,
		    seg_max), &seg_max, sizeof(seg_max));
		if (seg_max == 0) {
			printf("virtio_blk: %s: seg_max is 0\n", sc->sc_name);
			goto fail;
		}
		sc->sc_seg_max = MIN(sc->sc_seg_max, seg_max);
	}
	sc->sc_ro = (vd->vd_features & (1ull << VIRTIO_BLK_F_RO)) != 0;

	error = ENOMEM;
	bool event_idx = (vd->vd_features & (1ull << VIRTIO_F_EVENT_IDX)) != 0;
	if (virtq_init(&sc->sc_vq, num, event_idx) != 0)
		goto fail;
	sc->sc_hdrs_bytes = round_page((uint64_t)num * sizeof(struct vblk_hdr));
	sc->sc_hdrs = contigmalloc(sc->sc_hdrs_bytes, M_VBLK, M_WAITOK | M_ZERO, 0,
	    ~(vm_paddr_t)0, PAGE_SIZE, 0);
	if (sc->sc_hdrs == NULL)
		goto fail;
	sc->sc_hdrs_pa = vm_dmap_to_phys(sc->sc_hdrs);
	sc->sc_bios = kmalloc(num * sizeof(*sc->sc_bios), M_VBLK, M_WAITOK | M_ZERO);

	error = EIO;
	if (!virtio_mmio_queue_setup(vd, 0, &sc->sc_vq)) {
		printf("virtio_blk: %s: queue 0 refused its rings\n", sc->sc_name);
		goto fail;
	}
	/* Worst case one segment a page, so every request fits the device's limit; the
	 * data segments plus header and status fit the queue. */
	sc->sc_swapdev = (struct swap_dev){
		.sd_name = sc->sc_name,
		.sd_nblocks = sc->sc_sectors / VBLK_SECTORS_PER_PAGE,
		.sd_maxpages = (int)MIN(sc->sc_seg_max, (unsigned)VIRTIO_BLK_MAX_PAGES),
		.sd_strategy = vblk_strategy,
		.sd_poll = vblk_poll,
		.sd_poll_end = vblk_poll_end,
		.sd_softc = sc,
	};
	sc->sc_td = thread_create("vblkdone", PRI_KERN, vblk_done_thread, sc, false,
	    M_WAITOK);
	if (!virtio_mmio_intr_setup(vd, vblk_intr)) {
		printf("virtio_blk: %s: IRQ %u cannot be routed\n", sc->sc_name, vd->vd_irq);
		/* The thread sleeps for good on an interrupt that never comes. */
		goto fail_running;
	}
	virtio_mmio_set_status(vd, VIRTIO_STATUS_DRIVER_OK);
	sc->sc_stats.vbs_vector = vd->vd_vector;
	sc->sc_stats.vbs_event_idx = event_idx;
	sc->sc_stats.vbs_flush = (vd->vd_features & (1ull << VIRTIO_BLK_F_FLUSH)) != 0;
	sc->sc_stats.vbs_queue_size = num;
	vblk_sc = sc;
	printf("virtio_blk: %s: %llu KiB%s, queue %u, %d pages a request, irq %u, "
	    "features %#llx\n", sc->sc_name,
	    (unsigned long long)(sc->sc_sectors * VIRTIO_BLK_SECTOR_SIZE >> 10),
	    sc->sc_ro ? " read-only" : "", num, sc->sc_swapdev.sd_maxpages, vd->vd_irq,
	    (unsigned long long)vd->vd_features);
	return 0;

fail_running:
	/* The completion thread holds sc: it stays, idle, with the device FAILED. */
	return error;
fail:
	if (sc->sc_bios != NULL)
		kfree(sc->sc_bios, M_VBLK);
	if (sc->sc_hdrs != NULL)
		contigfree(sc->sc_hdrs, sc->sc_hdrs_bytes, M_VBLK);
	virtq_fini(&sc->sc_vq);
	vd->vd_softc = NULL;
	kfree(sc, M_VBLK);
	return error;
}
