/*
 * --stats without KVM (vmm/stats.c, the option in vmm/cli.c): the option's values, a
 * line from two snapshots (rates over the guest's time), percentiles from a log2
 * histogram, reading a published vmmeter (empty, bad, an older writer's prefix), the
 * sampling against guest memory a test thread publishes into, with the header every 20
 * lines and the log file, and the summary.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "devices/hostcall.h"
#include "devices/pvh.h"
#include "vm/vm_meter.h"
#include "vmm/cli.h"
#include "vmm/guest_mem.h"
#include "vmm/pub_read.h"
#include "vmm/stats.h"
#include "vmm/vmm.h"
#include "vmm/vmmeter_read.h"

#define TS_MAXARGS  16

static struct cli_opts ts_opts;
static char ts_err[CLI_ERR_MAX];

/* Parse "vmm run" and the given words (NULL-terminated). => cli_parse's result. */
static int ts_parse(const char *first, ...)
{
	static char *argv[TS_MAXARGS + 1];
	va_list ap;
	int argc = 0;

	argv[argc++] = "vmm";
	argv[argc++] = "run";
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
		ck_assert_int_lt(argc, TS_MAXARGS);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	int rc = cli_parse(argc, argv, &ts_opts, ts_err, sizeof(ts_err));
	if (rc != 0)
		ck_assert_msg(ts_err[0] != '\0' && strchr(ts_err, '\n') == NULL,
		    "not one line: '%s'", ts_err);
	return rc;
}

static void ts_usage_error(int rc, const char *needle)
{
	ck_assert_int_eq(rc, VMM_EXIT_USAGE);
	ck_assert_msg(strstr(ts_err, needle) != NULL, "'%s' not in '%s'", needle, ts_err);
}

START_TEST(stats_option)
{
	ck_assert_int_eq(ts_parse("--ktest", NULL), 0);
	ck_assert_uint_eq(ts_opts.co_stats_ms, 0);
	ck_assert_int_eq(ts_parse("--stats", "--ktest", NULL), 0);
	ck_assert_uint_eq(ts_opts.co_stats_ms, 1000);
	ck_assert_int_eq(ts_parse("--stats=0.5", "--ktest", NULL), 0);
	ck_assert_uint_eq(ts_opts.co_stats_ms, 500);
	ck_assert_int_eq(ts_parse("--stats=2", "--ktest", NULL), 0);
	ck_assert_uint_eq(ts_opts.co_stats_ms, 2000);
	ck_assert_int_eq(ts_parse("--stats=.25", "--ktest", NULL), 0);
	ck_assert_uint_eq(ts_opts.co_stats_ms, 250);
	ck_assert_int_eq(ts_parse("--stats=0.1", "--ktest", NULL), 0);
	ck_assert_uint_eq(ts_opts.co_stats_ms, 100);
	ck_assert_int_eq(ts_parse("--stats=3600", "--ktest", NULL), 0);
	ck_assert_uint_eq(ts_opts.co_stats_ms, 3600000);
	ck_assert_int_eq(ts_parse("--stats=1.2345", "--ktest", NULL), 0);
	ck_assert_uint_eq(ts_opts.co_stats_ms, 1234);

	ts_usage_error(ts_parse("--stats=0", "--ktest", NULL), "from 0.1 to 3600");
	ts_usage_error(ts_parse("--stats=0.09", "--ktest", NULL), "from 0.1 to 3600");
	ts_usage_error(ts_parse("--stats=3600.5", "--ktest", NULL), "from 0.1 to 3600");
	ts_usage_error(ts_parse("--stats=99999999999999999999999", "--ktest", NULL),
	    "from 0.1 to 3600");
	ts_usage_error(ts_parse("--stats=abc", "--ktest", NULL), "in seconds");
	ts_usage_error(ts_parse("--stats=", "--ktest", NULL), "in seconds");
	ts_usage_error(ts_parse("--stats=1s", "--ktest", NULL), "in seconds");
	ts_usage_error(ts_parse("--stats=-1", "--ktest", NULL), "in seconds");
	ts_usage_error(ts_parse("--stats=1.", "--ktest", NULL), "in seconds");
	ts_usage_error(ts_parse("--stats=1e3", "--ktest", NULL), "in seconds");
	ts_usage_error(ts_parse("--stats=1,5", "--ktest", NULL), "in seconds");
	ts_usage_error(ts_parse("--stats=99999x", "--ktest", NULL), "in seconds");
	/* A spaced value would be the PROGRAM. */
	ts_usage_error(ts_parse("--ktest", "--stats", "0.5", NULL), "--stats=0.5");
	ts_usage_error(ts_parse("--stats=1", "--stats=2", "--ktest", NULL), "given twice");
	ts_usage_error(ts_parse("--stats-log", "/tmp/x", "--ktest", NULL), "give --stats too");
	ts_usage_error(ts_parse("--stats", "--stats-log=", "--ktest", NULL), "file name");
	ck_assert_int_eq(ts_parse("--stats", "--stats-log", "/tmp/x", "--ktest", NULL), 0);
	ck_assert_str_eq(ts_opts.co_stats_log, "/tmp/x");
}
END_TEST

/* The guest is told to publish at half the interval, unless --append says otherwise. */
START_TEST(stats_guest_cmdline)
{
	char line[PVH_CMDLINE_MAX];

	ck_assert_int_eq(ts_parse("--stats=0.5", "--ktest", NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&ts_opts, line, sizeof(line), ts_err,
	    sizeof(ts_err)), 0);
	ck_assert_str_eq(line, "ktest=all vm.stats_ms=250");
	ck_assert_int_eq(ts_parse("--stats", "--ktest", "--append", "vm.stats_ms=7", NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&ts_opts, line, sizeof(line), ts_err,
	    sizeof(ts_err)), 0);
	ck_assert_str_eq(line, "ktest=all vm.stats_ms=7");
	ck_assert_int_eq(ts_parse("--ktest", NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&ts_opts, line, sizeof(line), ts_err,
	    sizeof(ts_err)), 0);
	ck_assert_ptr_null(strstr(line, "stats"));
	ck_assert_uint_eq(cli_stats_guest_ms(100), 50);
}
END_TEST

#define TS_PAGE 4096ull
#define TS_MIB  (1048576ull / TS_PAGE)      /* pages in a MiB */

static void ts_meter(struct vmmeter *vm, uint64_t faults, uint64_t pageins,
    uint64_t pageouts)
{
	memset(vm, 0, sizeof(*vm));
	vm->vm_magic = VMMETER_MAGIC;
	vm->vm_version = VMMETER_VERSION;
	vm->vm_size = sizeof(*vm);
	vm->v_page_size = TS_PAGE;
	vm->v_page_count = 32 * TS_MIB;
	vm->v_free_count = 10 * TS_MIB;
	vm->v_active_count = TS_MIB;
	vm->v_inactive_count = 2 * TS_MIB;
	vm->v_laundry_count = TS_MIB / 2;
	vm->v_wire_count = 5 * TS_MIB;
	vm->v_swap_pages = 128 * TS_MIB;
	vm->v_swap_used = 100 * TS_MIB;
	vm->v_faults = faults;
	vm->v_pageins = pageins;
	vm->v_pageouts = pageouts;
}

/* The ten numbers of a line. */
static void ts_fields(const char *line, double f[10])
{
	ck_assert_msg(sscanf(line, "%lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &f[0], &f[1],
	    &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]) == 10, "line '%s'", line);
}

START_TEST(stats_line_rates)
{
	struct vmmeter a, b;
	char line[STATS_LINE_MAX], hdr[STATS_LINE_MAX], word[10][16];
	double f[10];

	ts_meter(&a, 100, 10, 20);
	ts_meter(&b, 1100, 510, 20);
	stats_format_line(&a, &b, 500000000ull, 1500000000ull, line, sizeof(line));
	ts_fields(line, f);
	ck_assert_double_eq_tol(f[0], 1.5, 1e-9);
	ck_assert_double_eq_tol(f[1], 10.0, 1e-9);     /* free */
	ck_assert_double_eq_tol(f[2], 1.0, 1e-9);      /* active */
	ck_assert_double_eq_tol(f[3], 2.0, 1e-9);      /* inactive */
	ck_assert_double_eq_tol(f[4], 0.5, 1e-9);      /* laundry */
	ck_assert_double_eq_tol(f[5], 5.0, 1e-9);      /* wired */
	ck_assert_double_eq_tol(f[6], 100.0, 1e-9);    /* swap used */
	ck_assert_double_eq_tol(f[7], 2000.0, 1e-9);   /* 1000 faults in 0.5 s */
	ck_assert_double_eq_tol(f[8], 1000.0, 1e-9);
	ck_assert_double_eq_tol(f[9], 0.0, 1e-9);
	/* Over 4 s instead: a quarter of that. */
	stats_format_line(&a, &b, 4000000000ull, 0, line, sizeof(line));
	ts_fields(line, f);
	ck_assert_double_eq_tol(f[7], 250.0, 1e-9);
	ck_assert_double_eq_tol(f[8], 125.0, 1e-9);
	/* A counter that went backwards, and no time at all: 0, not garbage. */
	stats_format_line(&b, &a, 500000000ull, 0, line, sizeof(line));
	ts_fields(line, f);
	ck_assert_double_eq_tol(f[7], 0.0, 1e-9);
	stats_format_line(&a, &b, 0, 0, line, sizeof(line));
	ts_fields(line, f);
	ck_assert_double_eq_tol(f[7], 0.0, 1e-9);
	/* A guest that gives no page size: 4 KiB pages. */
	b.v_page_size = 0;
	stats_format_line(&a, &b, 1, 0, line, sizeof(line));
	ts_fields(line, f);
	ck_assert_double_eq_tol(f[1], 10.0, 1e-9);
	/* The header has a word for each column. */
	stats_format_header(hdr, sizeof(hdr));
	ck_assert_int_eq(sscanf(hdr, "%15s %15s %15s %15s %15s %15s %15s %15s %15s %15s",
	    word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7], word[8],
	    word[9]), 10);
	ck_assert_str_eq(word[0], "time_s");
	ck_assert_str_eq(word[7], "faults/s");
}
END_TEST

START_TEST(stats_percentiles)
{
	uint64_t h[BLK_LAT_BUCKETS] = { 0 };

	ck_assert_uint_eq(stats_hist_percentile(h, BLK_LAT_BUCKETS, 50, 0), 0);
	h[3] = 50;              /* 8..15 ns */
	h[10] = 40;             /* 1024..2047 */
	h[20] = 10;             /* 1 Mi .. 2 Mi - 1 */
	uint64_t max = 1500000;
	ck_assert_uint_eq(stats_hist_percentile(h, BLK_LAT_BUCKETS, 50, max), 15);
	ck_assert_uint_eq(stats_hist_percentile(h, BLK_LAT_BUCKETS, 50.5, max), 2047);
	ck_assert_uint_eq(stats_hist_percentile(h, BLK_LAT_BUCKETS, 90, max), 2047);
	ck_assert_uint_eq(stats_hist_percentile(h, BLK_LAT_BUCKETS, 91, max), max);
	ck_assert_uint_eq(stats_hist_percentile(h, BLK_LAT_BUCKETS, 99, max), max);
	ck_assert_uint_eq(stats_hist_percentile(h, BLK_LAT_BUCKETS, 100, max), max);
	/* The largest value caps the bucket's upper end. */
	ck_assert_uint_eq(stats_hist_percentile(h, BLK_LAT_BUCKETS, 1, 12), 12);
	/* One value in bucket 0; one in the last, open-ended bucket: the largest. */
	uint64_t one[BLK_LAT_BUCKETS] = { [0] = 1 };
	ck_assert_uint_eq(stats_hist_percentile(one, BLK_LAT_BUCKETS, 99, 1), 1);
	uint64_t top[BLK_LAT_BUCKETS] = { [BLK_LAT_BUCKETS - 1] = 1 };
	ck_assert_uint_eq(stats_hist_percentile(top, BLK_LAT_BUCKETS, 50, 1ull << 45),
	    1ull << 45);
	/* Small counts: p99 of 3 values is the third. */
	uint64_t three[BLK_LAT_BUCKETS] = { [4] = 2, [6] = 1 };
	ck_assert_uint_eq(stats_hist_percentile(three, BLK_LAT_BUCKETS, 50, 100), 31);
	ck_assert_uint_eq(stats_hist_percentile(three, BLK_LAT_BUCKETS, 99, 100), 100);
	ck_assert_uint_eq(stats_hist_percentile(three, BLK_LAT_BUCKETS, 66, 100), 31);
	ck_assert_uint_eq(stats_hist_percentile(three, BLK_LAT_BUCKETS, 67, 100), 100);
}
END_TEST

/* ---- a published snapshot, as the guest lays it out ---- */

struct ts_pub {
	struct hc_pub hdr;
	struct vmmeter vm;
};

static int ts_buf_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	const struct ts_pub *p = ctx;

	if (gpa > sizeof(*p) || len > sizeof(*p) - gpa)
		return -1;
	memcpy(buf, (const char *)p + gpa, len);
	return 0;
}

/* The one reading of a vmmeter the live statistics and vmm dump share. */
START_TEST(vmmeter_read_prefix_and_version)
{
	struct vmmeter w, vm;
	size_t filled;

	ts_meter(&w, 7, 8, 9);
	ck_assert_int_eq(vmmeter_read(&w, sizeof(w), &vm, &filled), VMMETER_READ_OK);
	ck_assert_uint_eq(filled, sizeof(w));
	ck_assert_uint_eq(vm.v_swap_used, w.v_swap_used);
	/* The writer's vm_size, not the bytes published, says where its fields end. */
	w.vm_size = offsetof(struct vmmeter, v_pageins) + 4;
	ck_assert_int_eq(vmmeter_read(&w, sizeof(w), &vm, &filled), VMMETER_READ_OK);
	ck_assert_uint_eq(filled, offsetof(struct vmmeter, v_pageins));
	ck_assert_uint_eq(vm.v_faults, 7);
	ck_assert_uint_eq(vm.v_pageins, 0);
	ck_assert_uint_eq(vm.v_swap_used, 0);
	/* Fewer bytes than it claims: only those. */
	w.vm_size = sizeof(w) + 4096;
	ck_assert_int_eq(vmmeter_read(&w, offsetof(struct vmmeter, v_pageouts), &vm, &filled),
	    VMMETER_READ_OK);
	ck_assert_uint_eq(filled, offsetof(struct vmmeter, v_pageouts));
	ck_assert_uint_eq(vm.v_pageouts, 0);
	ck_assert_uint_eq(vm.v_pageins, 8);
	/* Another version is another layout (vmm dump took newer ones before). */
	w.vm_version = VMMETER_VERSION + 1;
	ck_assert_int_eq(vmmeter_read(&w, sizeof(w), &vm, &filled), VMMETER_READ_FOREIGN);
	ck_assert_uint_eq(vm.vm_version, VMMETER_VERSION + 1);
	ck_assert_uint_eq(vm.v_faults, 0);
	ck_assert_uint_eq(filled, 0);
	w.vm_version = VMMETER_VERSION;
	ck_assert_int_eq(vmmeter_read(&w, VMMETER_READ_HDR - 1, &vm, &filled),
	    VMMETER_READ_SHORT);
}
END_TEST

/*
 * A header copied with its pub_len from the snapshot before its pub_seq (one memcpy,
 * fields in any order) while the guest published a whole new one in between: the
 * reader must not take the new data with the old length.
 */
struct ts_script {
	struct ts_pub ts_mem[2];        /* what guest memory holds: before, after */
	unsigned ts_reads;
};

static int ts_script_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct ts_script *sc = ctx;
	const struct ts_pub *m = &sc->ts_mem[sc->ts_reads++ == 0 ? 0 : 1];

	if (gpa > sizeof(*m) || len > sizeof(*m) - gpa)
		return -1;
	memcpy(buf, (const uint8_t *)m + gpa, len);
	return 0;
}

START_TEST(pub_read_header_from_one_snapshot)
{
	struct ts_script sc = { .ts_reads = 0 };
	struct vmmeter vm;
	struct hc_pub hdr;
	size_t len;

	for (int i = 0; i < 2; i++) {
		sc.ts_mem[i].hdr = (struct hc_pub){ HC_PUB_MAGIC, sizeof(struct vmmeter), 4,
			sizeof(struct vmmeter), 200 };
		ts_meter(&sc.ts_mem[i].vm, 7, 8, 9);
	}
	/* The first look: pub_seq already the new snapshot's, pub_len and time the old's. */
	sc.ts_mem[0].hdr.pub_len = offsetof(struct vmmeter, v_faults);
	sc.ts_mem[0].hdr.pub_time_ns = 100;
	ck_assert_int_eq(pub_read(ts_script_read, &sc, 0, &hdr, &vm, sizeof(vm), &len),
	    PUB_OK);
	ck_assert_uint_eq(len, sizeof(struct vmmeter));
	ck_assert_uint_eq(hdr.pub_time_ns, 200);
	ck_assert_uint_eq(vm.v_faults, 7);
}
END_TEST

START_TEST(stats_read_snapshot)
{
	struct ts_pub p = { { HC_PUB_MAGIC, sizeof(struct vmmeter), 0, 0, 0 }, { 0 } };
	struct vmmeter vm;
	struct hc_pub hdr;

	ck_assert_int_eq(stats_read_vmmeter(ts_buf_read, &p, 0, &vm, &hdr), PUB_EMPTY);
	ts_meter(&p.vm, 7, 8, 9);
	p.hdr.pub_seq = 4;
	p.hdr.pub_len = sizeof(p.vm);
	p.hdr.pub_time_ns = 123;
	ck_assert_int_eq(stats_read_vmmeter(ts_buf_read, &p, 0, &vm, &hdr), PUB_OK);
	ck_assert_uint_eq(vm.v_faults, 7);
	ck_assert_uint_eq(vm.v_swap_used, 100 * TS_MIB);
	ck_assert_uint_eq(hdr.pub_time_ns, 123);
	/* An older writer: only the prefix it knows; the rest reads as 0. */
	p.hdr.pub_len = offsetof(struct vmmeter, v_swap_pages);
	ck_assert_int_eq(stats_read_vmmeter(ts_buf_read, &p, 0, &vm, &hdr), PUB_OK);
	ck_assert_uint_eq(vm.v_swap_used, 0);
	ck_assert_uint_eq(vm.v_alloc_fails, p.vm.v_alloc_fails);
	ck_assert_uint_eq(vm.v_pageouts, 9);
	/* Too short to say what it is; not a vmmeter; a version we do not know. */
	p.hdr.pub_len = 8;
	ck_assert_int_eq(stats_read_vmmeter(ts_buf_read, &p, 0, &vm, &hdr), PUB_BAD);
	p.hdr.pub_len = sizeof(p.vm);
	p.vm.vm_magic = 0x12345678;
	ck_assert_int_eq(stats_read_vmmeter(ts_buf_read, &p, 0, &vm, &hdr), PUB_BAD);
	ck_assert_uint_eq(vm.v_faults, 0);
	p.vm.vm_magic = VMMETER_MAGIC;
	p.vm.vm_version = VMMETER_VERSION + 1;
	ck_assert_int_eq(stats_read_vmmeter(ts_buf_read, &p, 0, &vm, &hdr), PUB_BAD);
	/* Always being rewritten; outside what can be read. */
	p.vm.vm_version = VMMETER_VERSION;
	p.hdr.pub_seq = 5;
	ck_assert_int_eq(stats_read_vmmeter(ts_buf_read, &p, 0, &vm, &hdr), PUB_TORN);
	ck_assert_int_eq(stats_read_vmmeter(ts_buf_read, &p, sizeof(p), &vm, &hdr),
	    PUB_UNREADABLE);
}
END_TEST

/* ---- sampling guest memory ---- */

#define TS_RAM      (1u << 20)
#define TS_DESC     0x1000u
#define TS_PUB      0x2000u

static struct guest_mem ts_gm;
static struct stats ts_st;
static char *ts_out_buf, *ts_log_buf;
static size_t ts_out_len, ts_log_len;
static FILE *ts_out, *ts_log;
static uint64_t ts_seq;

static void ts_setup(void)
{
	ck_assert_int_eq(guest_mem_init(&ts_gm, TS_RAM), 0);
	ts_out = open_memstream(&ts_out_buf, &ts_out_len);
	ts_log = open_memstream(&ts_log_buf, &ts_log_len);
	ck_assert(ts_out != NULL && ts_log != NULL);
	ts_seq = 0;
}

static void ts_teardown(void)
{
	fclose(ts_out);
	fclose(ts_log);
	free(ts_out_buf);
	free(ts_log_buf);
	guest_mem_destroy(&ts_gm);
}

/* The guest's side: the descriptor names the snapshot; header at TS_PUB. */
static void ts_guest_register(void)
{
	struct hc_dump_desc d = { .magic = HC_DUMP_MAGIC, .version = HC_DUMP_VERSION,
		.vmmeter = TS_PUB };
	struct hc_pub h = { HC_PUB_MAGIC, sizeof(struct vmmeter), 0, 0, 0 };

	ck_assert_int_eq(guest_mem_write(&ts_gm, TS_DESC, &d, sizeof(d)), 0);
	ck_assert_int_eq(guest_mem_write(&ts_gm, TS_PUB, &h, sizeof(h)), 0);
}

/* Publish vm at guest time t_ns, as the guest's seqlock writer does. */
static void ts_guest_publish(const struct vmmeter *vm, uint64_t t_ns)
{
	struct hc_pub *h = guest_mem_ptr(&ts_gm, TS_PUB, sizeof(*h) + sizeof(*vm));

	ck_assert_ptr_nonnull(h);
	__atomic_store_n(&h->pub_seq, ++ts_seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(h + 1, vm, sizeof(*vm));
	h->pub_len = sizeof(*vm);
	h->pub_time_ns = t_ns;
	__atomic_store_n(&h->pub_seq, ++ts_seq, __ATOMIC_RELEASE);
}

static unsigned ts_count(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The n-th line of s (0-based) into buf. */
static void ts_line(const char *s, unsigned n, char *buf, size_t buflen)
{
	for (unsigned i = 0; i < n && s != NULL; i++)
		s = strchr(s, '\n') != NULL ? strchr(s, '\n') + 1 : NULL;
	ck_assert_ptr_nonnull(s);
	size_t l = strcspn(s, "\n");
	ck_assert_uint_lt(l, buflen);
	memcpy(buf, s, l);
	buf[l] = '\0';
}

/* The numbers after the row named name (a line "    name  n n n ..."). => how many. */
static int ts_row(const char *s, const char *name, double *v, int n)
{
	size_t nl = strlen(name);

	for (const char *p = s; p != NULL && *p != '\0'; p = strchr(p, '\n') != NULL ?
	    strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "    ", 4) != 0 || strncmp(p + 4, name, nl) != 0 ||
		    p[4 + nl] != ' ')
			continue;
		const char *q = p + 4 + nl;
		int got = 0;
		for (int used; got < n && sscanf(q, "%lf%n", &v[got], &used) == 1; got++)
			q += used;
		return got;
	}
	ck_abort_msg("no row '%s' in:\n%s", name, s);
	return -1;
}

START_TEST(stats_sampling)
{
	struct vmmeter vm;
	char line[STATS_LINE_MAX];
	double f[10];

	ck_assert_int_eq(stats_init(&ts_st, &ts_gm, 1000, ts_out, ts_log), 0);
	/* No descriptor yet, then one whose snapshot was never written: said once. */
	stats_sample(&ts_st);
	ts_guest_register();
	stats_set_desc(&ts_st, TS_DESC);
	stats_sample(&ts_st);
	fflush(ts_out);
	ck_assert_uint_eq(ts_count(ts_out_buf, "no snapshot from the guest yet"), 1);
	ck_assert_uint_eq(ts_st.st_lines, 0);

	/* The first line's rates are since boot: 1000 faults in 2 s of guest time. */
	ts_meter(&vm, 1000, 0, 0);
	ts_guest_publish(&vm, 2000000000ull);
	stats_sample(&ts_st);
	ck_assert_uint_eq(ts_st.st_lines, 1);
	/* The same snapshot again: no line. */
	stats_sample(&ts_st);
	ck_assert_uint_eq(ts_st.st_lines, 1);
	/* 500 more faults and 100 page-outs in 0.25 s; less free memory, more swap. */
	ts_meter(&vm, 1500, 0, 100);
	vm.v_free_count = TS_MIB;
	vm.v_swap_used = 120 * TS_MIB;
	ts_guest_publish(&vm, 2250000000ull);
	stats_sample(&ts_st);
	ck_assert_uint_eq(ts_st.st_lines, 2);
	fflush(ts_out);
	fflush(ts_log);
	/* stderr: the note, a header, two lines. */
	ts_line(ts_out_buf, 1, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "time_s"));
	ts_line(ts_out_buf, 2, line, sizeof(line));
	ts_fields(line, f);
	ck_assert_double_eq_tol(f[7], 500.0, 1e-9);
	ts_line(ts_out_buf, 3, line, sizeof(line));
	ts_fields(line, f);
	ck_assert_double_eq_tol(f[1], 1.0, 1e-9);
	ck_assert_double_eq_tol(f[6], 120.0, 1e-9);
	ck_assert_double_eq_tol(f[7], 2000.0, 1e-9);
	ck_assert_double_eq_tol(f[9], 400.0, 1e-9);
	/* The log: the header as a comment, then the same lines. */
	ts_line(ts_log_buf, 0, line, sizeof(line));
	ck_assert_msg(line[0] == '#' && strstr(line, "time_s") != NULL, "'%s'", line);
	ts_line(ts_log_buf, 2, line, sizeof(line));
	ts_fields(line, f);
	ck_assert_double_eq_tol(f[9], 400.0, 1e-9);

	/* 20 more lines: the header again on stderr after 20, never again in the log. */
	for (unsigned i = 0; i < 20; i++) {
		ts_meter(&vm, 2000 + i, 0, 100);
		vm.v_free_count = (3 + i) * TS_MIB;
		ts_guest_publish(&vm, 3000000000ull + i * 1000000ull);
		stats_sample(&ts_st);
	}
	fflush(ts_out);
	fflush(ts_log);
	ck_assert_uint_eq(ts_st.st_lines, 22);
	ck_assert_uint_eq(ts_count(ts_out_buf, "time_s"), 2);
	ck_assert_uint_eq(ts_count(ts_log_buf, "time_s"), 1);
	ts_line(ts_out_buf, 1 + 21, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "time_s"));

	/* The summary: the last snapshot, the lowest and highest seen. */
	char *sum = NULL;
	size_t sumlen = 0;
	FILE *sf = open_memstream(&sum, &sumlen);
	struct blk_stats bs = { .bs_reads = 3, .bs_writes = 5, .bs_bytes_written = 5 << 20,
		.bs_submits = 2, .bs_sqes = 8 };
	bs.bs_lat[BLK_LAT_READ][10] = 3;
	bs.bs_lat_max_ns[BLK_LAT_READ] = 1500;
	stats_summary(&ts_st, &bs, sf);
	fclose(sf);
	ck_assert_ptr_nonnull(strstr(sum, "vmm: stats summary"));
	ck_assert_ptr_nonnull(strstr(sum, "22 snapshots"));
	/* free: last 22, lowest 1, highest 22 MiB; swap used 100, 100, 120. */
	double v[5];
	ck_assert_int_eq(ts_row(sum, "free", v, 3), 3);
	ck_assert_double_eq_tol(v[0], 22.0, 1e-9);
	ck_assert_double_eq_tol(v[1], 1.0, 1e-9);
	ck_assert_double_eq_tol(v[2], 22.0, 1e-9);
	ck_assert_int_eq(ts_row(sum, "swap used", v, 3), 3);
	ck_assert_double_eq_tol(v[0], 100.0, 1e-9);
	ck_assert_double_eq_tol(v[1], 100.0, 1e-9);
	ck_assert_double_eq_tol(v[2], 120.0, 1e-9);
	ck_assert_int_eq(ts_row(sum, "reads", v, 2), 2);
	ck_assert_double_eq_tol(v[0], 3.0, 1e-9);
	ck_assert_int_eq(ts_row(sum, "writes", v, 2), 2);
	ck_assert_double_eq_tol(v[0], 5.0, 1e-9);
	ck_assert_double_eq_tol(v[1], 5.0, 1e-9);      /* MiB */
	ck_assert_int_eq(ts_row(sum, "per submit", v, 1), 1);
	ck_assert_double_eq_tol(v[0], 4.0, 1e-9);
	/* p50 = p90 = p99: bucket 10's upper end, capped by the largest, 1.5 us; 3 of them. */
	ck_assert_int_eq(ts_row(sum, "read", v, 5), 5);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_double_eq_tol(v[i], 1.5, 1e-9);
	ck_assert_double_eq_tol(v[4], 3.0, 1e-9);
	/* No write latencies: dashes, and a count of 0. */
	ck_assert_msg(ts_row(sum, "write", v, 5) == 0, "%s", sum);
	free(sum);
	stats_destroy(&ts_st);
}
END_TEST

/* A summary with nothing published says so, and none of a device that is absent. */
START_TEST(stats_summary_empty)
{
	char *sum = NULL;
	size_t sumlen = 0;

	ck_assert_int_eq(stats_init(&ts_st, &ts_gm, 1000, ts_out, NULL), 0);
	stats_sample(&ts_st);
	FILE *sf = open_memstream(&sum, &sumlen);
	stats_summary(&ts_st, NULL, sf);
	fclose(sf);
	ck_assert_ptr_nonnull(strstr(sum, "no vmmeter snapshot (never written)"));
	ck_assert_ptr_nonnull(strstr(sum, "swap device: none"));
	free(sum);
	stats_destroy(&ts_st);
}
END_TEST

/* The thread: lines come while the "guest" publishes, and stop ends it promptly. */
START_TEST(stats_thread_lines)
{
	struct vmmeter vm;
	struct timespec d = { 0, 20000000 };

	ck_assert_int_eq(stats_init(&ts_st, &ts_gm, 100, ts_out, NULL), 0);
	ts_guest_register();
	stats_set_desc(&ts_st, TS_DESC);
	ck_assert_int_eq(stats_start(&ts_st), 0);
	/* Publish a new snapshot every 20 ms until the thread printed three lines. */
	unsigned i;
	for (i = 0; i < 500 && __atomic_load_n(&ts_st.st_lines, __ATOMIC_RELAXED) < 3; i++) {
		ts_meter(&vm, 100 * i, i, 0);
		ts_guest_publish(&vm, (i + 1) * 20000000ull);
		nanosleep(&d, NULL);
	}
	ck_assert_uint_lt(i, 500);
	stats_stop(&ts_st);
	fflush(ts_out);
	ck_assert_uint_ge(ts_count(ts_out_buf, "\n"), 4);
	ck_assert_uint_eq(ts_count(ts_out_buf, "time_s"), 1);
	stats_destroy(&ts_st);
}
END_TEST

/* Stopping wakes the thread: it does not sleep out its interval (an hour here). */
START_TEST(stats_thread_stops_promptly)
{
	struct timespec t0, t1;

	ck_assert_int_eq(stats_init(&ts_st, &ts_gm, 3600000, ts_out, NULL), 0);
	ck_assert_int_eq(stats_start(&ts_st), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stats_stop(&ts_st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 10);
	fflush(ts_out);
	ck_assert_uint_eq(ts_out_len, 0);       /* and the last sample is quiet */
	stats_destroy(&ts_st);
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, stats_option);
	tcase_add_test(tc, stats_guest_cmdline);
	tcase_add_test(tc, stats_line_rates);
	tcase_add_test(tc, stats_percentiles);
	tcase_add_test(tc, stats_read_snapshot);
	tcase_add_test(tc, pub_read_header_from_one_snapshot);
	tcase_add_test(tc, vmmeter_read_prefix_and_version);
	suite_add_tcase(s, tc);
	TCase *gm = tcase_create("guest_mem");
	tcase_add_checked_fixture(gm, ts_setup, ts_teardown);
	tcase_set_timeout(gm, 30);
	tcase_add_test(gm, stats_sampling);
	tcase_add_test(gm, stats_summary_empty);
	tcase_add_test(gm, stats_thread_lines);
	tcase_add_test(gm, stats_thread_stops_promptly);
	suite_add_tcase(s, gm);
	return s;
}

UNIT_SUITE(stats_suite);
