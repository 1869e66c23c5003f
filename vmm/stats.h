/*
 * `vmm run --stats[=SECONDS]`: live statistics of a running guest, read by a host thread
 * straight out of guest RAM, without an exit. The guest publishes its struct vmmeter
 * (vm/vm_meter.h) every vm.stats_ms milliseconds as a struct hc_pub (devices/hostcall.h)
 * at the dump descriptor's vmmeter address; the stats thread copies it with the seqlock
 * retry (vmm/pub_read.h) every interval and prints a vmstat-like line on stderr (and in
 * the --stats-log file). At exit, a summary: the guest's last counters, the lowest and
 * highest page counts seen, and the swap device's counters and latency percentiles.
 *
 * Threads: the stats thread owns everything here but st_desc_gpa (the vCPU thread
 * stores it when the guest registers its descriptor) and st_stop (under st_lock);
 * stats_summary runs after stats_stop joined the thread. The vCPU thread never waits
 * for the stats thread: all it does is one atomic store.
 * docs/stats.md has the columns and the summary.
 */
#ifndef VMM_STATS_H
#define VMM_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/virtio_blk.h"
#include "vm/vm_meter.h"
#include "vmm/pub_read.h"

struct guest_mem;

#define STATS_HEADER_EVERY      20          /* lines between headers on stderr */
#define STATS_LINE_MAX          160

/* The lowest and highest of a page count over the samples. */
struct stats_range {
	uint64_t sr_min, sr_max;
};

enum stats_col { STATS_FREE, STATS_ACTIVE, STATS_INACTIVE, STATS_LAUNDRY, STATS_WIRED,
	STATS_SWAP_USED, STATS_NCOLS };

struct stats {
	const struct guest_mem *st_gm;
	uint64_t st_interval_ns;
	FILE *st_out;                   /* the lines: stderr */
	FILE *st_log;                   /* --stats-log, or NULL */
	_Atomic uint64_t st_desc_gpa;   /* the dump descriptor, 0 until registered */

	pthread_mutex_t st_lock;
	pthread_cond_t st_cond;
	bool st_stop;                   /* st_lock */
	pthread_t st_thread;
	bool st_started;

	/* The stats thread's (then stats_summary's, after the join). */
	uint64_t st_start_ns;           /* CLOCK_MONOTONIC at stats_start */
	bool st_have_prev;
	struct vmmeter st_prev;         /* the snapshot of the last line */
	uint64_t st_prev_seq, st_prev_time_ns;      /* its pub_seq and guest time */
	unsigned st_lines;              /* lines printed, for the header */
	uint64_t st_samples;            /* distinct snapshots seen */
	enum pub_status st_said;        /* the last status said on stderr, or PUB_OK */
	struct stats_range st_range[STATS_NCOLS];   /* in pages */
};

/*
 * Set up (no thread yet). out is where the lines go, log the --stats-log file or NULL.
 * => 0, or -1 (errno) when the lock cannot be made.
 */
int stats_init(struct stats *st, const struct guest_mem *gm, uint64_t interval_ms, FILE *out,
    FILE *log);

/* The guest registered its dump descriptor at gpa (vCPU thread: one atomic store). */
void stats_set_desc(struct stats *st, uint64_t gpa);

/* Start the thread, every signal blocked in it. => 0, or an errno. */
int stats_start(struct stats *st);

/* End the thread (prompt: it sleeps on a condition variable) and take one last sample
 * (the guest has stopped). Safe when never started. */
void stats_stop(struct stats *st);

/* One sample now, on the caller's thread: read, print a line if the snapshot is new. */
void stats_sample(struct stats *st);

/*
 * The summary table on f: the last snapshot and the ranges seen, and blk's counters
 * (NULL: no swap device). Call after stats_stop.
 */
void stats_summary(const struct stats *st, const struct blk_stats *blk, FILE *f);

void stats_destroy(struct stats *st);

/* ---- pure parts, for the unit tests ---- */

/* Read a vmmeter snapshot through readfn (pub_read's callback) at the hc_pub at gpa.
 * => PUB_OK with *vm (fields the writer did not fill are 0), or why not. A snapshot
 * with the wrong magic or version is PUB_BAD. */
enum pub_status stats_read_vmmeter(pub_read_fn readfn, void *ctx, uint64_t gpa,
    struct vmmeter *vm, struct hc_pub *hdr);

/* The header line (no newline). */
void stats_format_header(char *buf, size_t buflen);

/*
 * One line (no newline): t_ns since the run started; page counts of cur in MiB; rates
 * per second of the events between prev and cur over dt_ns (guest time). A counter that
 * went backwards counts as 0; dt_ns 0 gives rates of 0.
 */
void stats_format_line(const struct vmmeter *prev, const struct vmmeter *cur, uint64_t dt_ns,
    uint64_t t_ns, char *buf, size_t buflen);

/*
 * The p-th percentile (0 < p <= 100) of a log2 histogram (bucket i: [2^i, 2^(i+1)),
 * bucket 0 also 0, the last bucket everything above): the upper end of the bucket that
 * holds it, no more than max (the largest value recorded). => 0 when the histogram is
 * empty.
 */
uint64_t stats_hist_percentile(const uint64_t *hist, unsigned nbuckets, double p,
    uint64_t max);

#endif /* VMM_STATS_H */
