/*
 * A swap device in memory, for tests of the swap pager (vm/swap_dev.h's interface):
 * sd_strategy copies pages to or from a buffer of nblocks pages, through the direct
 * map, as a device would move them by DMA. Written in the VM core's terms only, so the
 * same file serves the host tests (tests/support, built with them) and the guest's
 * ktests (tests/vmtests/swap_tests.c includes it there: the guest build does not
 * compile tests/support).
 *
 * When requests end:
 *   SMD_SYNC    inside sd_strategy, before it returns (the contract allows it)
 *   SMD_DEFER   queued; the test ends them with swap_memdev_complete, so it can look at
 *               the pages and the pager while requests are under way. The data moves at
 *               completion, as a device's DMA would, so a page changed meanwhile would
 *               show. A caller that waits for a request itself (getpages, a synchronous
 *               putpages) would wait for ever: tests set SMD_SYNC around those.
 *   SMD_THREAD  queued; a completion thread of the device ends them, on its own CPU id
 *               (the contract's "kernel thread"). Host builds only (pthreads).
 *   SMD_POLL    queued; sd_poll ends them (a submitter polling for its request), or
 *               sd_poll_end does when a poller gives up (as an interrupt would come),
 *               or swap_memdev_complete. swap_memdev_poll_stall makes polls find
 *               nothing, as of a slow device. In the other modes sd_poll ends nothing.
 *
 * Fault injection: every Nth request of the chosen kinds fails with EIO (no data moved:
 * a failed write leaves the block as it was, a failed read leaves the pages); or the
 * device refuses requests (sd_strategy returns an errno, no completion).
 *
 * Checks: a request outside the device, of no pages or more than sd_maxpages, or
 * without sb_done panics; a read of a block never written is counted (smd_bad_reads).
 */
#ifndef TESTS_SUPPORT_SWAP_MEMDEV_H
#define TESTS_SUPPORT_SWAP_MEMDEV_H

#include "vm/swap_dev.h"

#define SMD_SYNC        0
#define SMD_DEFER       1
#define SMD_THREAD      2
#define SMD_POLL        3

/* fail_every's kinds */
#define SMD_FAIL_READ   0x1
#define SMD_FAIL_WRITE  0x2

struct swap_memdev;

struct swap_memdev_config {
	uint64_t nblocks;           /* capacity */
	int maxpages;               /* sd_maxpages */
	int mode;                   /* SMD_* */
	int cpu;                    /* SMD_THREAD: the completion thread's CPU id */
};

struct swap_memdev_stats {
	uint64_t smd_requests;      /* sd_strategy calls */
	uint64_t smd_reads;         /* read requests accepted */
	uint64_t smd_writes;        /* write requests accepted */
	uint64_t smd_pages_read;    /* pages moved (requests that did not fail) */
	uint64_t smd_pages_written;
	uint64_t smd_failed;        /* requests ended with EIO */
	uint64_t smd_refused;       /* requests refused */
	uint64_t smd_bad_reads;     /* blocks read that were never written */
	uint64_t smd_max_npages;    /* the largest request */
	uint64_t smd_blocks_written;/* distinct blocks ever written */
	uint64_t smd_polls;         /* sd_poll calls */
	uint64_t smd_poll_ended;    /* requests sd_poll ended */
	uint64_t smd_poll_ends;     /* sd_poll_end calls */
	uint64_t smd_polled;        /* requests that came SWAP_BIO_POLLED */
};

/* => no locks held; may sleep. */
struct swap_memdev *swap_memdev_create(const struct swap_memdev_config *cfg);
/* => nothing queued (swap_memdev_complete first), not attached. */
void swap_memdev_destroy(struct swap_memdev *md);
struct swap_dev *swap_memdev_dev(struct swap_memdev *md);

/* SMD_SYNC <-> SMD_DEFER <-> SMD_POLL (requests already queued stay queued). */
void swap_memdev_set_mode(struct swap_memdev *md, int mode);
/* End up to max queued requests (oldest first); returns how many. => no VM locks held
 * (the completions take object locks). */
int swap_memdev_complete(struct swap_memdev *md, int max);
/* Requests queued and not ended. */
int swap_memdev_pending(struct swap_memdev *md);
/* Wait until nothing is queued (SMD_THREAD). */
void swap_memdev_drain(struct swap_memdev *md);

/* Fail every nth request (0: none) of the kinds in cmds (SMD_FAIL_*), counting from the
 * next one: n = 1 fails all of them. */
void swap_memdev_fail_every(struct swap_memdev *md, int n, int cmds);
/* SMD_POLL: the next n polls end nothing (0: polls work again). */
void swap_memdev_poll_stall(struct swap_memdev *md, int n);
/* Refuse every request with error (0: accept again). */
void swap_memdev_refuse(struct swap_memdev *md, int error);

void swap_memdev_stats(struct swap_memdev *md, struct swap_memdev_stats *out);
/* Has block blk been written (and by a request that did not fail)? */
bool swap_memdev_written(struct swap_memdev *md, uint64_t blk);
/* The device's copy of block blk (PAGE_SIZE bytes). */
const void *swap_memdev_block(struct swap_memdev *md, uint64_t blk);

#endif /* TESTS_SUPPORT_SWAP_MEMDEV_H */
