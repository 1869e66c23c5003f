/*
 * Live statistics (stats.h): the stats thread, the lines, the summary at exit.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "devices/hostcall.h"
#include "vmm/guest_mem.h"
#include "vmm/stats.h"
#include "vmm/vmm.h"
#include "vmm/vmmeter_read.h"

#define STATS_MIB   (1024.0 * 1024.0)

static uint64_t stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- formatting ---- */

static uint64_t stats_col(const struct vmmeter *vm, enum stats_col c)
{
	switch (c) {
	case STATS_FREE: return vm->v_free_count;
	case STATS_ACTIVE: return vm->v_active_count;
	case STATS_INACTIVE: return vm->v_inactive_count;
	case STATS_LAUNDRY: return vm->v_laundry_count;
	case STATS_WIRED: return vm->v_wire_count;
	case STATS_SWAP_USED: return vm->v_swap_used;
	case STATS_NCOLS: break;
	}
	return 0;
}

static const char *const stats_col_names[STATS_NCOLS] = {
	[STATS_FREE] = "free",
	[STATS_ACTIVE] = "active",
	[STATS_INACTIVE] = "inactive",
	[STATS_LAUNDRY] = "laundry",
	[STATS_WIRED] = "wired",
	[STATS_SWAP_USED] = "swap used",
};

/* A guest that says its pages have no size is wrong, not a reason to divide by 0. */
static double stats_mib(const struct vmmeter *vm, uint64_t pages)
{
	uint64_t ps = vm->v_page_size != 0 ? vm->v_page_size : 4096;

	return (double)pages * (double)ps / STATS_MIB;
}

static double stats_rate(uint64_t prev, uint64_t cur, uint64_t dt_ns)
{
	if (dt_ns == 0 || cur < prev)
		return 0.0;
	return (double)(cur - prev) * 1e9 / (double)dt_ns;
}

void stats_format_header(char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%7s %8s %8s %8s %8s %8s %8s %8s %8s %8s", "time_s", "free_M",
	    "active_M", "inact_M", "laund_M", "wired_M", "swap_M", "faults/s", "pgins/s",
	    "pgouts/s");
}

void stats_format_line(const struct vmmeter *prev, const struct vmmeter *cur, uint64_t dt_ns,
    uint64_t t_ns, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%7.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.0f %8.0f %8.0f",
	    (double)t_ns / 1e9, stats_mib(cur, cur->v_free_count),
	    stats_mib(cur, cur->v_active_count), stats_mib(cur, cur->v_inactive_count),
	    stats_mib(cur, cur->v_laundry_count), stats_mib(cur, cur->v_wire_count),
	    stats_mib(cur, cur->v_swap_used),
	    stats_rate(prev->v_faults, cur->v_faults, dt_ns),
	    stats_rate(prev->v_pageins, cur->v_pageins, dt_ns),
	    stats_rate(prev->v_pageouts, cur->v_pageouts, dt_ns));
}

uint64_t stats_hist_percentile(const uint64_t *hist, unsigned nbuckets, double p,
    uint64_t max)
{
	uint64_t total = 0, seen = 0;

	KASSERT(p > 0 && p <= 100, ("%s: percentile %g", __func__, p));
	for (unsigned i = 0; i < nbuckets; i++)
		total += hist[i];
	if (total == 0)
		return 0;
	/* The rank of the value: the smallest that has p% of the values at or below it. */
	double want = (double)total * p / 100.0;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want || rank == 0)
		rank++;
	for (unsigned i = 0; i < nbuckets; i++) {
		seen += hist[i];
		if (seen < rank)
			continue;
		if (i + 1 == nbuckets || i >= 63)
			return max;
		uint64_t upper = (2ull << i) - 1;
		return upper < max ? upper : max;
	}
	return max;
}

/* ---- reading the guest ---- */

static int stats_guest_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return guest_mem_read(ctx, gpa, buf, len);
}

enum pub_status stats_read_vmmeter(pub_read_fn readfn, void *ctx, uint64_t gpa,
    struct vmmeter *vm, struct hc_pub *hdr)
{
	struct vmmeter raw;
	size_t len, filled;

	memset(vm, 0, sizeof(*vm));
	enum pub_status ps = pub_read(readfn, ctx, gpa, hdr, &raw, sizeof(raw), &len);
	if (ps != PUB_OK)
		return ps;
	/* An older writer's prefix is enough; the fields it lacks stay 0. */
	if (vmmeter_read(&raw, len, vm, &filled) != VMMETER_READ_OK ||
	    filled < offsetof(struct vmmeter, v_page_count)) {
		memset(vm, 0, sizeof(*vm));
		return PUB_BAD;
	}
	return PUB_OK;
}

/* Where the guest publishes its vmmeter: the descriptor's field, read again each time
 * (the guest fills it in place after registering). 0 while there is none. */
static uint64_t stats_vmmeter_gpa(const struct stats *st)
{
	uint64_t desc = atomic_load_explicit(&st->st_desc_gpa, memory_order_acquire), gpa;

	if (desc == 0 || desc > UINT64_MAX - sizeof(struct hc_dump_desc) ||
	    guest_mem_read(st->st_gm, desc + offsetof(struct hc_dump_desc, vmmeter), &gpa,
	    sizeof(gpa)) != 0)
		return 0;
	return gpa;
}

/* Why there is no line, said once for each reason (not at the last sample: the summary
 * says it then). */
static void stats_say(struct stats *st, enum pub_status ps, bool quiet)
{
	if (quiet || st->st_said == ps)
		return;
	st->st_said = ps;
	if (ps == PUB_EMPTY || ps == PUB_TORN)
		fprintf(st->st_out, "vmm: stats: no snapshot from the guest yet (%s); lines "
		    "start when it publishes one\n", pub_status_str(ps));
	else
		fprintf(st->st_out, "vmm: stats: the guest's vmmeter snapshot is %s; no lines "
		    "while it is\n", pub_status_str(ps));
}

static void stats_print(struct stats *st, const char *line)
{
	char hdr[STATS_LINE_MAX];

	if (st->st_lines % STATS_HEADER_EVERY == 0) {
		stats_format_header(hdr, sizeof(hdr));
		fprintf(st->st_out, "%s\n", hdr);
		if (st->st_lines == 0 && st->st_log != NULL)
			fprintf(st->st_log, "# %s\n", hdr);
	}
	fprintf(st->st_out, "%s\n", line);
	fflush(st->st_out);
	st->st_lines++;
	if (st->st_log != NULL)
		fprintf(st->st_log, "%s\n", line);
}

static void stats_sample_quiet(struct stats *st, bool quiet)
{
	struct vmmeter cur;
	struct hc_pub hdr;
	char line[STATS_LINE_MAX];
	uint64_t gpa = stats_vmmeter_gpa(st);
	enum pub_status ps = gpa == 0 ? PUB_EMPTY :
	    stats_read_vmmeter(stats_guest_read, (void *)st->st_gm, gpa, &cur, &hdr);

	if (ps != PUB_OK) {
		stats_say(st, ps, quiet);
		return;
	}
	if (st->st_have_prev && hdr.pub_seq == st->st_prev_seq)
		return;         /* nothing new since the last line */
	static const struct vmmeter zero;
	const struct vmmeter *prev = st->st_have_prev ? &st->st_prev : &zero;
	/* The first line's rates are since boot. Guest time, as the counters are. */
	uint64_t since = st->st_have_prev ? st->st_prev_time_ns : 0;
	uint64_t dt = hdr.pub_time_ns > since ? hdr.pub_time_ns - since : 0;
	stats_format_line(prev, &cur, dt, stats_now_ns() - st->st_start_ns, line, sizeof(line));
	stats_print(st, line);
	for (unsigned c = 0; c < STATS_NCOLS; c++) {
		uint64_t v = stats_col(&cur, c);
		struct stats_range *r = &st->st_range[c];
		if (st->st_samples == 0 || v < r->sr_min)
			r->sr_min = v;
		if (st->st_samples == 0 || v > r->sr_max)
			r->sr_max = v;
	}
	st->st_samples++;
	st->st_prev = cur;
	st->st_prev_seq = hdr.pub_seq;
	st->st_prev_time_ns = hdr.pub_time_ns;
	st->st_have_prev = true;
}

void stats_sample(struct stats *st)
{
	stats_sample_quiet(st, false);
}

/* ---- the thread ---- */

static void *stats_thread(void *arg)
{
	struct stats *st = arg;
	uint64_t next = st->st_start_ns;

	pthread_mutex_lock(&st->st_lock);
	for (;;) {
		/* Deadlines from the start, so the lines do not drift by the time each takes. */
		next += st->st_interval_ns;
		struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
		while (!st->st_stop && stats_now_ns() < next)
			pthread_cond_timedwait(&st->st_cond, &st->st_lock, &ts);
		if (st->st_stop)
			break;
		pthread_mutex_unlock(&st->st_lock);
		stats_sample(st);
		pthread_mutex_lock(&st->st_lock);
	}
	pthread_mutex_unlock(&st->st_lock);
	return NULL;
}

int stats_init(struct stats *st, const struct guest_mem *gm, uint64_t interval_ms, FILE *out,
    FILE *log)
{
	pthread_condattr_t ca;

	memset(st, 0, sizeof(*st));
	st->st_gm = gm;
	st->st_interval_ns = interval_ms * 1000000ull;
	st->st_out = out;
	st->st_log = log;
	st->st_said = PUB_OK;
	atomic_init(&st->st_desc_gpa, 0);
	if (pthread_condattr_init(&ca) != 0)
		return -1;
	int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&st->st_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rc == 0 && (rc = pthread_mutex_init(&st->st_lock, NULL)) != 0)
		pthread_cond_destroy(&st->st_cond);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

void stats_set_desc(struct stats *st, uint64_t gpa)
{
	atomic_store_explicit(&st->st_desc_gpa, gpa, memory_order_release);
}

int stats_start(struct stats *st)
{
	sigset_t all, old;

	st->st_start_ns = stats_now_ns();
	/* The VMM's signals are for the vCPU thread, whose KVM_RUN they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&st->st_thread, NULL, stats_thread, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		st->st_started = true;
	return rc;
}

void stats_stop(struct stats *st)
{
	if (!st->st_started)
		return;
	pthread_mutex_lock(&st->st_lock);
	st->st_stop = true;
	pthread_cond_signal(&st->st_cond);
	pthread_mutex_unlock(&st->st_lock);
	pthread_join(st->st_thread, NULL);
	st->st_started = false;
	/* What the guest published last, which a short run may not have shown yet. */
	stats_sample_quiet(st, true);
}

void stats_destroy(struct stats *st)
{
	stats_stop(st);
	pthread_cond_destroy(&st->st_cond);
	pthread_mutex_destroy(&st->st_lock);
}

/* ---- the summary ---- */

static void stats_summary_guest(const struct stats *st, FILE *f)
{
	const struct vmmeter *vm = &st->st_prev;

	if (st->st_samples == 0) {
		fprintf(f, "  guest: no vmmeter snapshot (%s)\n",
		    pub_status_str(st->st_said != PUB_OK ? st->st_said : PUB_EMPTY));
		return;
	}
	fprintf(f, "  guest memory, MiB     last   lowest  highest   (%llu snapshots, the "
	    "last at %.1f s of guest time)\n", (unsigned long long)st->st_samples,
	    (double)st->st_prev_time_ns / 1e9);
	for (unsigned c = 0; c < STATS_NCOLS; c++)
		fprintf(f, "    %-16s %8.1f %8.1f %8.1f\n", stats_col_names[c],
		    stats_mib(vm, stats_col(vm, c)), stats_mib(vm, st->st_range[c].sr_min),
		    stats_mib(vm, st->st_range[c].sr_max));
	fprintf(f, "    %-16s %8.1f (%llu pages of %llu bytes)\n", "total",
	    stats_mib(vm, vm->v_page_count), (unsigned long long)vm->v_page_count,
	    (unsigned long long)vm->v_page_size);
	fprintf(f, "    %-16s %8.1f\n", "swap configured", stats_mib(vm, vm->v_swap_pages));
	fprintf(f, "  guest events since boot\n");
	fprintf(f, "    faults %llu (pages zero-filled %llu, copy-on-write %llu, waited for the pager "
	    "%llu); page-ins %llu, page-outs %llu\n", (unsigned long long)vm->v_faults,
	    (unsigned long long)vm->v_zfod, (unsigned long long)vm->v_cow_faults,
	    (unsigned long long)vm->v_majfaults, (unsigned long long)vm->v_pageins,
	    (unsigned long long)vm->v_pageouts);
	fprintf(f, "    page daemon: %llu passes, %llu scanned, %llu freed, %llu reactivated, "
	    "%llu laundered; %llu OOM kills, %llu failed allocations\n",
	    (unsigned long long)vm->v_pdpasses, (unsigned long long)vm->v_pdscanned,
	    (unsigned long long)vm->v_pdfreed, (unsigned long long)vm->v_pdreactivated,
	    (unsigned long long)vm->v_pdlaundered, (unsigned long long)vm->v_oom_kills,
	    (unsigned long long)vm->v_alloc_fails);
}

static void stats_summary_blk(const struct blk_stats *b, FILE *f)
{
	static const char *const kinds[BLK_LAT_KINDS] = {
		[BLK_LAT_READ] = "read", [BLK_LAT_WRITE] = "write", [BLK_LAT_OTHER] = "other",
	};
	uint64_t others = b->bs_discards + b->bs_write_zeroes + b->bs_get_ids;

	fprintf(f, "  swap device           requests      MiB\n");
	fprintf(f, "    %-16s %12llu %8.1f\n", "reads", (unsigned long long)b->bs_reads,
	    (double)b->bs_bytes_read / STATS_MIB);
	fprintf(f, "    %-16s %12llu %8.1f\n", "writes", (unsigned long long)b->bs_writes,
	    (double)b->bs_bytes_written / STATS_MIB);
	fprintf(f, "    %-16s %12llu\n", "flushes", (unsigned long long)b->bs_flushes);
	fprintf(f, "    %-16s %12llu   (discard, write-zeroes, get-id)\n", "other",
	    (unsigned long long)others);
	fprintf(f, "    %-16s %12llu   (answered with an error, or without a status)\n",
	    "errors", (unsigned long long)b->bs_errors);
	fprintf(f, "    %-16s %12.2f   (%llu requests in %llu io_uring submits)\n",
	    "per submit", b->bs_submits ? (double)b->bs_sqes / (double)b->bs_submits : 0.0,
	    (unsigned long long)b->bs_sqes, (unsigned long long)b->bs_submits);
	fprintf(f, "  swap latency, us         p50      p90      p99      max      count\n");
	for (unsigned k = 0; k < BLK_LAT_KINDS; k++) {
		uint64_t n = 0, max = b->bs_lat_max_ns[k];
		for (unsigned i = 0; i < BLK_LAT_BUCKETS; i++)
			n += b->bs_lat[k][i];
		if (n == 0) {
			fprintf(f, "    %-16s %8s %8s %8s %8s %10d\n", kinds[k], "-", "-", "-", "-",
			    0);
			continue;
		}
		fprintf(f, "    %-16s %8.1f %8.1f %8.1f %8.1f %10llu\n", kinds[k],
		    (double)stats_hist_percentile(b->bs_lat[k], BLK_LAT_BUCKETS, 50, max) / 1e3,
		    (double)stats_hist_percentile(b->bs_lat[k], BLK_LAT_BUCKETS, 90, max) / 1e3,
		    (double)stats_hist_percentile(b->bs_lat[k], BLK_LAT_BUCKETS, 99, max) / 1e3,
		    (double)max / 1e3, (unsigned long long)n);
	}
}

void stats_summary(const struct stats *st, const struct blk_stats *blk, FILE *f)
{
	fprintf(f, "vmm: stats summary\n");
	stats_summary_guest(st, f);
	if (blk != NULL)
		stats_summary_blk(blk, f);
	else
		fprintf(f, "  swap device: none (no -s)\n");
	fflush(f);
}
