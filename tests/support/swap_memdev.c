/*
 * The memory swap device of tests/support/swap_memdev.h.
 *
 * Storage: the host build keeps the blocks in host memory (calloc: the simulated RAM
 * the tests count stays untouched); the guest's in kmalloc'd memory (tests keep such a
 * device small). Queued requests wait in a ring; the lock is the VM platform's mutex,
 * and the completion thread (host) sleeps with vm_sleep like any kernel thread.
 */
#include "tests/support/swap_memdev.h"
#include "vm/vm_errno.h"
#include "vm/vm_page.h"

#ifdef VM_HOST
#include <pthread.h>
#include <stdlib.h>
#include "tests/support/vm_host.h"
#else
#include "vm/malloc.h"
#endif

#define SMD_QMAX    256         /* queued requests */

struct smd_req {
	struct swap_bio *sr_bp;
	bool sr_fail;
};

struct swap_memdev {
	struct swap_dev smd_dev;
	struct mtx smd_mtx;
	uint8_t *smd_store;                 /* nblocks pages */
	uint8_t *smd_written;               /* per block: written */
	int smd_mode;                       /* smd_mtx */
	int smd_fail_every, smd_fail_cmds;  /* smd_mtx */
	uint64_t smd_fail_count;            /* smd_mtx: matching requests seen */
	int smd_refuse;                     /* smd_mtx */
	int smd_poll_stall;                 /* smd_mtx: polls left that end nothing */
	struct smd_req smd_q[SMD_QMAX];     /* smd_mtx: ring */
	int smd_qhead, smd_qlen;            /* smd_mtx */
	int smd_busy;                       /* smd_mtx: requests being ended outside it */
	bool smd_stop;                      /* smd_mtx: the thread leaves */
	struct swap_memdev_stats smd_st;    /* smd_mtx */
#ifdef VM_HOST
	pthread_t smd_thread;
	int smd_cpu;
#endif
};

static void *smd_alloc(size_t n)
{
#ifdef VM_HOST
	void *p = calloc(1, n);
	if (p == NULL)
		panic("swap_memdev: no host memory for %zu bytes", n);
	return p;
#else
	return kmalloc(n, M_DEVBUF, M_WAITOK | M_ZERO);
#endif
}

static void smd_free(void *p)
{
#ifdef VM_HOST
	free(p);
#else
	kfree(p, M_DEVBUF);
#endif
}

/* Move the data of bp (or fail it), then end it. => smd_mtx not held. */
static void smd_finish(struct swap_memdev *md, struct swap_bio *bp, bool fail)
{
	uint64_t bad = 0, fresh = 0;

	bp->sb_error = fail ? EIO : 0;
	for (int i = 0; i < bp->sb_npages && !fail; i++) {
		uint64_t blk = bp->sb_blkno + (uint64_t)i;
		uint8_t *b = md->smd_store + ptoa(blk);
		void *p = VM_PAGE_TO_DMAP(bp->sb_pages[i]);
		if (bp->sb_cmd == SWAP_BIO_WRITE) {
			memcpy(b, p, PAGE_SIZE);
			fresh += md->smd_written[blk] == 0;
			md->smd_written[blk] = 1;
		} else {
			bad += md->smd_written[blk] == 0;
			memcpy(p, b, PAGE_SIZE);
		}
	}
	mtx_lock(&md->smd_mtx);
	if (fail)
		md->smd_st.smd_failed++;
	else if (bp->sb_cmd == SWAP_BIO_WRITE)
		md->smd_st.smd_pages_written += (uint64_t)bp->sb_npages;
	else
		md->smd_st.smd_pages_read += (uint64_t)bp->sb_npages;
	md->smd_st.smd_bad_reads += bad;
	md->smd_st.smd_blocks_written += fresh;
	mtx_unlock(&md->smd_mtx);
	bp->sb_done(bp);
}

static int smd_strategy(struct swap_dev *sd, struct swap_bio *bp)
{
	struct swap_memdev *md = sd->sd_softc;
	bool fail = false;

	if (bp->sb_npages < 1 || bp->sb_npages > sd->sd_maxpages ||
	    bp->sb_blkno >= sd->sd_nblocks ||
	    (uint64_t)bp->sb_npages > sd->sd_nblocks - bp->sb_blkno ||
	    (bp->sb_cmd != SWAP_BIO_READ && bp->sb_cmd != SWAP_BIO_WRITE) ||
	    bp->sb_done == NULL || bp->sb_pages == NULL)
		panic("swap_memdev: bad request: cmd %d, blocks [%llu, +%d) of %llu, at most %d "
		    "pages", bp->sb_cmd, (unsigned long long)bp->sb_blkno, bp->sb_npages,
		    (unsigned long long)sd->sd_nblocks, sd->sd_maxpages);
	mtx_lock(&md->smd_mtx);
	md->smd_st.smd_requests++;
	if (md->smd_refuse != 0) {
		int e = md->smd_refuse;
		md->smd_st.smd_refused++;
		mtx_unlock(&md->smd_mtx);
		return e;
	}
	if (bp->sb_cmd == SWAP_BIO_WRITE)
		md->smd_st.smd_writes++;
	else
		md->smd_st.smd_reads++;
	if ((bp->sb_flags & SWAP_BIO_POLLED) != 0)
		md->smd_st.smd_polled++;
	md->smd_st.smd_max_npages = MAX(md->smd_st.smd_max_npages, (uint64_t)bp->sb_npages);
	if (md->smd_fail_every > 0 && (md->smd_fail_cmds &
	    (bp->sb_cmd == SWAP_BIO_WRITE ? SMD_FAIL_WRITE : SMD_FAIL_READ)) != 0)
		fail = ++md->smd_fail_count % (uint64_t)md->smd_fail_every == 0;
	if (md->smd_mode == SMD_SYNC) {
		mtx_unlock(&md->smd_mtx);
		smd_finish(md, bp, fail);
		return 0;
	}
	/* Queued: "may sleep while the device's queue is full" (the thread empties it). */
	while (md->smd_qlen == SMD_QMAX) {
		if (md->smd_mode != SMD_THREAD)
			panic("swap_memdev: %d requests queued and none ended", SMD_QMAX);
		vm_sleep(&md->smd_qlen, &md->smd_mtx, "smdfull", 0);
	}
	struct smd_req *r = &md->smd_q[(md->smd_qhead + md->smd_qlen) % SMD_QMAX];
	r->sr_bp = bp;
	r->sr_fail = fail;
	md->smd_qlen++;
	vm_wakeup(&md->smd_q);
	mtx_unlock(&md->smd_mtx);
	return 0;
}

/* The oldest queued request, taken off the ring. => smd_mtx held, one queued. */
static struct smd_req smd_pop(struct swap_memdev *md)
{
	struct smd_req r = md->smd_q[md->smd_qhead];

	md->smd_qhead = (md->smd_qhead + 1) % SMD_QMAX;
	md->smd_qlen--;
	md->smd_busy++;
	vm_wakeup(&md->smd_qlen);
	return r;
}

static void smd_done_one(struct swap_memdev *md)
{
	mtx_lock(&md->smd_mtx);
	md->smd_busy--;
	vm_wakeup(&md->smd_qlen);
	mtx_unlock(&md->smd_mtx);
}

int swap_memdev_complete(struct swap_memdev *md, int max)
{
	int n = 0;

	while (n < max) {
		mtx_lock(&md->smd_mtx);
		if (md->smd_qlen == 0) {
			mtx_unlock(&md->smd_mtx);
			break;
		}
		struct smd_req r = smd_pop(md);
		mtx_unlock(&md->smd_mtx);
		smd_finish(md, r.sr_bp, r.sr_fail);
		smd_done_one(md);
		n++;
	}
	return n;
}

static int smd_poll(struct swap_dev *sd)
{
	struct swap_memdev *md = sd->sd_softc;
	bool end;

	mtx_lock(&md->smd_mtx);
	md->smd_st.smd_polls++;
	end = md->smd_mode == SMD_POLL && md->smd_poll_stall == 0;
	if (md->smd_mode == SMD_POLL && md->smd_poll_stall > 0)
		md->smd_poll_stall--;
	mtx_unlock(&md->smd_mtx);
	if (!end)
		return 0;
	int n = swap_memdev_complete(md, SMD_QMAX);
	mtx_lock(&md->smd_mtx);
	md->smd_st.smd_poll_ended += (uint64_t)n;
	mtx_unlock(&md->smd_mtx);
	return n;
}

static void smd_poll_end(struct swap_dev *sd, struct swap_bio *bp)
{
	struct swap_memdev *md = sd->sd_softc;

	(void)bp;
	mtx_lock(&md->smd_mtx);
	md->smd_st.smd_poll_ends++;
	bool end = md->smd_mode == SMD_POLL;
	mtx_unlock(&md->smd_mtx);
	/* The interrupt a real device sends now that someone waits for it. */
	if (end)
		(void)swap_memdev_complete(md, SMD_QMAX);
}

void swap_memdev_poll_stall(struct swap_memdev *md, int n)
{
	mtx_lock(&md->smd_mtx);
	md->smd_poll_stall = n;
	mtx_unlock(&md->smd_mtx);
}

int swap_memdev_pending(struct swap_memdev *md)
{
	int n;

	mtx_lock(&md->smd_mtx);
	n = md->smd_qlen + md->smd_busy;
	mtx_unlock(&md->smd_mtx);
	return n;
}

void swap_memdev_drain(struct swap_memdev *md)
{
	mtx_lock(&md->smd_mtx);
	while (md->smd_qlen + md->smd_busy > 0)
		vm_sleep(&md->smd_qlen, &md->smd_mtx, "smddrain", 0);
	mtx_unlock(&md->smd_mtx);
}

#ifdef VM_HOST
static void *smd_thread_main(void *arg)
{
	struct swap_memdev *md = arg;

	vm_host_set_cpu(md->smd_cpu);
	mtx_lock(&md->smd_mtx);
	for (;;) {
		while (md->smd_qlen == 0 && !md->smd_stop)
			vm_sleep(&md->smd_q, &md->smd_mtx, "smdq", 0);
		if (md->smd_qlen == 0)
			break;
		struct smd_req r = smd_pop(md);
		mtx_unlock(&md->smd_mtx);
		smd_finish(md, r.sr_bp, r.sr_fail);
		mtx_lock(&md->smd_mtx);
		md->smd_busy--;
		vm_wakeup(&md->smd_qlen);
	}
	mtx_unlock(&md->smd_mtx);
	return NULL;
}
#endif

struct swap_memdev *swap_memdev_create(const struct swap_memdev_config *cfg)
{
	struct swap_memdev *md = smd_alloc(sizeof(*md));

	KASSERT(cfg->nblocks > 0 && cfg->maxpages > 0, ("swap_memdev_create: %llu blocks, "
	    "%d pages a request", (unsigned long long)cfg->nblocks, cfg->maxpages));
	mtx_init(&md->smd_mtx, "swap memdev");
	md->smd_store = smd_alloc(ptoa(cfg->nblocks));
	md->smd_written = smd_alloc(cfg->nblocks);
	md->smd_mode = cfg->mode;
	md->smd_dev.sd_name = "memdev";
	md->smd_dev.sd_nblocks = cfg->nblocks;
	md->smd_dev.sd_maxpages = cfg->maxpages;
	md->smd_dev.sd_strategy = smd_strategy;
	md->smd_dev.sd_poll = smd_poll;
	md->smd_dev.sd_poll_end = smd_poll_end;
	md->smd_dev.sd_softc = md;
	if (cfg->mode == SMD_THREAD) {
#ifdef VM_HOST
		md->smd_cpu = cfg->cpu;
		if (pthread_create(&md->smd_thread, NULL, smd_thread_main, md) != 0)
			panic("swap_memdev: pthread_create");
#else
		panic("swap_memdev: SMD_THREAD is the host's");
#endif
	}
	return md;
}

void swap_memdev_destroy(struct swap_memdev *md)
{
#ifdef VM_HOST
	if (md->smd_mode == SMD_THREAD) {
		mtx_lock(&md->smd_mtx);
		md->smd_stop = true;
		vm_wakeup(&md->smd_q);
		mtx_unlock(&md->smd_mtx);
		pthread_join(md->smd_thread, NULL);
	}
#endif
	KASSERT(md->smd_qlen == 0 && md->smd_busy == 0, ("swap_memdev_destroy: %d requests "
	    "queued", md->smd_qlen));
	mtx_destroy(&md->smd_mtx);
	smd_free(md->smd_written);
	smd_free(md->smd_store);
	smd_free(md);
}

struct swap_dev *swap_memdev_dev(struct swap_memdev *md)
{
	return &md->smd_dev;
}

void swap_memdev_set_mode(struct swap_memdev *md, int mode)
{
	KASSERT((mode == SMD_SYNC || mode == SMD_DEFER || mode == SMD_POLL) &&
	    md->smd_mode != SMD_THREAD,
	    ("swap_memdev_set_mode: %d -> %d", md->smd_mode, mode));
	mtx_lock(&md->smd_mtx);
	md->smd_mode = mode;
	mtx_unlock(&md->smd_mtx);
}

void swap_memdev_fail_every(struct swap_memdev *md, int n, int cmds)
{
	mtx_lock(&md->smd_mtx);
	md->smd_fail_every = n;
	md->smd_fail_cmds = cmds;
	md->smd_fail_count = 0;
	mtx_unlock(&md->smd_mtx);
}

void swap_memdev_refuse(struct swap_memdev *md, int error)
{
	mtx_lock(&md->smd_mtx);
	md->smd_refuse = error;
	mtx_unlock(&md->smd_mtx);
}

void swap_memdev_stats(struct swap_memdev *md, struct swap_memdev_stats *out)
{
	mtx_lock(&md->smd_mtx);
	*out = md->smd_st;
	mtx_unlock(&md->smd_mtx);
}

bool swap_memdev_written(struct swap_memdev *md, uint64_t blk)
{
	return blk < md->smd_dev.sd_nblocks && md->smd_written[blk] != 0;
}

const void *swap_memdev_block(struct swap_memdev *md, uint64_t blk)
{
	KASSERT(blk < md->smd_dev.sd_nblocks, ("swap_memdev_block: block %llu",
	    (unsigned long long)blk));
	return md->smd_store + ptoa(blk);
}
