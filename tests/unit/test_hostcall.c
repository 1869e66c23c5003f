/*
 * The hostcall port's host side against a plain guest_mem (no KVM): the probe, each
 * operation, and every way a request can be wrong, checking that a bad request changes
 * no guest page and is answered with the right status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "devices/hostcall_model.h"
#include "vmm/guest_mem.h"

#define TP_RAM      (4ull << 20)
#define TP_REQ      0x1000ull       /* the request block */
#define TP_LIST     0x2000ull       /* the entry list */
#define TP_MSG      0x3000ull
#define TP_PAGE(n)  (0x100000ull + (uint64_t)(n) * HC_PAGE_SIZE)

static struct guest_mem tp_gm;
static struct hostcall *tp_hc;
static int tp_milestones[HC_MS_MAX], tp_panics, tp_stops, tp_usages;
static char tp_last_msg[64];

static void tp_milestone(void *ctx, enum hc_milestone ms)
{
	ck_assert_ptr_eq(ctx, &tp_gm);
	tp_milestones[ms]++;
}

static void tp_panic(void *ctx, const char *msg, size_t len)
{
	(void)ctx;
	tp_panics++;
	snprintf(tp_last_msg, sizeof(tp_last_msg), "%.*s", (int)len, msg);
}

static void tp_stopped(void *ctx, const char *msg, size_t len)
{
	(void)ctx;
	tp_stops++;
	snprintf(tp_last_msg, sizeof(tp_last_msg), "%.*s", (int)len, msg);
}

static void tp_usage(void *ctx, const char *msg, size_t len)
{
	(void)ctx;
	tp_usages++;
	ck_assert_uint_eq(strlen(msg), len);    /* the line ends where it says */
	snprintf(tp_last_msg, sizeof(tp_last_msg), "%.*s", (int)len, msg);
}

static const struct hostcall_ops tp_ops = { tp_milestone, tp_panic, tp_stopped, tp_usage };

static void tp_setup(void)
{
	ck_assert_int_eq(guest_mem_init(&tp_gm, TP_RAM), 0);
	tp_hc = malloc(sizeof(*tp_hc));
	ck_assert_ptr_nonnull(tp_hc);
	hostcall_init(tp_hc, &tp_gm, &tp_ops, &tp_gm);
	memset(tp_milestones, 0, sizeof(tp_milestones));
	tp_panics = tp_stops = tp_usages = 0;
	/* Pages 0..15 hold a recognisable pattern: page n is filled with n + 1. */
	for (unsigned n = 0; n < 16; n++)
		memset(tp_gm.gm_base + TP_PAGE(n), n + 1, HC_PAGE_SIZE);
}

static void tp_teardown(void)
{
	free(tp_hc);
	guest_mem_destroy(&tp_gm);
}

/* Write a request at TP_REQ, submit it with a 32-bit OUT, read it back. */
static struct hc_req tp_submit(uint32_t op, uint64_t arg0, uint64_t arg1, uint64_t count,
    uint64_t list, enum hostcall_result *res)
{
	struct hc_req r = { .op = op, .status = 0xdead, .arg0 = arg0, .arg1 = arg1,
		.count = count, .list = list, .done = 0xbeef };
	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_REQ, &r, sizeof(r)), 0);
	enum hostcall_result rr = hostcall_out(tp_hc, 4, (uint32_t)TP_REQ);
	if (res != NULL)
		*res = rr;
	else
		ck_assert_int_eq(rr, HOSTCALL_CONTINUE);
	ck_assert_int_eq(guest_mem_read(&tp_gm, TP_REQ, &r, sizeof(r)), 0);
	return r;
}

static void tp_runs(const struct hc_page_run *runs, unsigned n)
{
	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_LIST, runs, n * sizeof(*runs)), 0);
}

/* Page n still holds its pattern (or all zeros when zero is set). */
static void tp_assert_page(unsigned n, bool zero)
{
	const uint8_t *p = tp_gm.gm_base + TP_PAGE(n);
	uint8_t want = zero ? 0 : (uint8_t)(n + 1);

	for (unsigned i = 0; i < HC_PAGE_SIZE; i += 511)
		ck_assert_msg(p[i] == want, "page %u byte %u = %u, want %u", n, i, p[i], want);
	ck_assert_uint_eq(p[HC_PAGE_SIZE - 1], want);
}

START_TEST(probe)
{
	ck_assert_uint_eq(hostcall_in(tp_hc, 4), HC_MAGIC);
	ck_assert_uint_eq(hostcall_in(tp_hc, 1), 0xff);
	ck_assert_uint_eq(hostcall_in(tp_hc, 2), 0xffff);
}
END_TEST

START_TEST(nop_and_unknown)
{
	struct hc_req r = tp_submit(HC_OP_NOP, 0, 0, 0, 0, NULL);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert_uint_eq(r.done, 0xbeef);      /* not a page op: done untouched */
	r = tp_submit(HC_OP_MAX, 0, 0, 0, 0, NULL);
	ck_assert_uint_eq(r.status, HC_E_INVAL);
	r = tp_submit(0xffffffffu, 0, 0, 0, 0, NULL);
	ck_assert_uint_eq(r.status, HC_E_INVAL);
	ck_assert_uint_eq(tp_hc->hc_nreq, 3);
}
END_TEST

/* A request block the host cannot use is counted and otherwise ignored. */
START_TEST(bad_request_block)
{
	struct hc_req r = { .op = HC_OP_MILESTONE, .arg0 = HC_MS_ENTRY, .status = 77 };

	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_REQ + 8, &r, sizeof(r)), 0);
	ck_assert_int_eq(hostcall_out(tp_hc, 4, TP_REQ + 8), HOSTCALL_CONTINUE);    /* misaligned */
	ck_assert_int_eq(hostcall_out(tp_hc, 4, TP_RAM - 16), HOSTCALL_CONTINUE);   /* straddles */
	ck_assert_int_eq(hostcall_out(tp_hc, 4, 0xfffffff0u), HOSTCALL_CONTINUE);   /* no RAM */
	ck_assert_int_eq(hostcall_out(tp_hc, 2, TP_REQ), HOSTCALL_CONTINUE);        /* 16-bit */
	ck_assert_int_eq(hostcall_out(tp_hc, 1, TP_REQ), HOSTCALL_CONTINUE);
	ck_assert_uint_eq(tp_hc->hc_nbad, 5);
	ck_assert_uint_eq(tp_hc->hc_nreq, 0);
	ck_assert_int_eq(tp_milestones[HC_MS_ENTRY], 0);
	ck_assert_int_eq(guest_mem_read(&tp_gm, TP_REQ + 8, &r, sizeof(r)), 0);
	ck_assert_uint_eq(r.status, 77);
}
END_TEST

START_TEST(milestones)
{
	for (unsigned ms = HC_MS_ENTRY; ms < HC_MS_MAX; ms++)
		ck_assert_uint_eq(tp_submit(HC_OP_MILESTONE, ms, 0, 0, 0, NULL).status, HC_OK);
	for (unsigned ms = HC_MS_ENTRY; ms < HC_MS_MAX; ms++)
		ck_assert_int_eq(tp_milestones[ms], 1);
	ck_assert_uint_eq(tp_submit(HC_OP_MILESTONE, 0, 0, 0, 0, NULL).status, HC_E_INVAL);
	ck_assert_uint_eq(tp_submit(HC_OP_MILESTONE, HC_MS_MAX, 0, 0, 0, NULL).status,
	    HC_E_INVAL);
	ck_assert_uint_eq(tp_submit(HC_OP_MILESTONE, 1ull << 40, 0, 0, 0, NULL).status,
	    HC_E_INVAL);
	ck_assert_int_eq(tp_milestones[0], 0);
}
END_TEST

/* Immediate milestones: one OUT, nothing read or written in guest memory. */
START_TEST(milestones_immediate)
{
	uint8_t before[64], after[64];

	ck_assert_int_eq(guest_mem_read(&tp_gm, 0, before, sizeof(before)), 0);
	for (unsigned ms = HC_MS_ENTRY; ms < HC_MS_MAX; ms++)
		ck_assert_int_eq(hostcall_out(tp_hc, 4, HC_IMM(HC_IMM_MILESTONE, ms)),
		    HOSTCALL_CONTINUE);
	for (unsigned ms = HC_MS_ENTRY; ms < HC_MS_MAX; ms++)
		ck_assert_int_eq(tp_milestones[ms], 1);
	ck_assert_uint_eq(tp_hc->hc_nimm, HC_MS_MAX - HC_MS_ENTRY);
	ck_assert_uint_eq(tp_hc->hc_nreq, 0);
	ck_assert_uint_eq(tp_hc->hc_nbad, 0);
	/* The values are small: taken for request addresses they would point into the
	 * first page, which must be untouched (no status written back). */
	ck_assert_int_eq(guest_mem_read(&tp_gm, 0, after, sizeof(after)), 0);
	ck_assert_mem_eq(before, after, sizeof(before));
	for (unsigned n = 0; n < 16; n++)
		tp_assert_page(n, false);
}
END_TEST

/* Immediate values the host does not understand are counted and change nothing. */
START_TEST(immediate_bad)
{
	ck_assert_int_eq(hostcall_out(tp_hc, 4, HC_IMM(HC_IMM_MILESTONE, 0)), HOSTCALL_CONTINUE);
	ck_assert_int_eq(hostcall_out(tp_hc, 4, HC_IMM(HC_IMM_MILESTONE, HC_MS_MAX)),
	    HOSTCALL_CONTINUE);
	ck_assert_int_eq(hostcall_out(tp_hc, 4, HC_IMM(HC_IMM_MILESTONE, 0x0fffffffu)),
	    HOSTCALL_CONTINUE);
	ck_assert_int_eq(hostcall_out(tp_hc, 4, HC_IMM(0xf, HC_MS_READY)), HOSTCALL_CONTINUE);
	ck_assert_int_eq(hostcall_out(tp_hc, 4, HC_IMM(0x2, HC_MS_READY)), HOSTCALL_CONTINUE);
	/* Narrower than 32 bits: not a command at all. */
	ck_assert_int_eq(hostcall_out(tp_hc, 2, HC_IMM(HC_IMM_MILESTONE, HC_MS_READY)),
	    HOSTCALL_CONTINUE);
	ck_assert_int_eq(hostcall_out(tp_hc, 1, HC_IMM(HC_IMM_MILESTONE, HC_MS_READY)),
	    HOSTCALL_CONTINUE);
	ck_assert_uint_eq(tp_hc->hc_nbad, 7);
	ck_assert_uint_eq(tp_hc->hc_nimm, 0);
	ck_assert_uint_eq(tp_hc->hc_nreq, 0);
	for (unsigned ms = 0; ms < HC_MS_MAX; ms++)
		ck_assert_int_eq(tp_milestones[ms], 0);
}
END_TEST

/* The ENTRY report's form: a milestone request that also names the dump descriptor. */
START_TEST(milestone_registers_dump_desc)
{
	struct hc_dump_desc d = { .magic = HC_DUMP_MAGIC, .version = HC_DUMP_VERSION,
		.kernel_cr3 = 0x5000, .msgbuf = 0x9000 };

	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG, &d, sizeof(d)), 0);
	ck_assert_uint_eq(tp_submit(HC_OP_MILESTONE, HC_MS_ENTRY, TP_MSG, 0, 0, NULL).status,
	    HC_OK);
	ck_assert_int_eq(tp_milestones[HC_MS_ENTRY], 1);
	ck_assert(tp_hc->hc_have_dump_desc);
	ck_assert_uint_eq(tp_hc->hc_dump_desc_gpa, TP_MSG);
	ck_assert_uint_eq(tp_hc->hc_dump_desc.kernel_cr3, 0x5000);
	ck_assert_uint_eq(tp_hc->hc_dump_desc.msgbuf, 0x9000);

	/* A bad descriptor is refused, the milestone still counts, the good one stays. */
	d.magic = 0;
	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG + 0x100, &d, sizeof(d)), 0);
	ck_assert_uint_eq(tp_submit(HC_OP_MILESTONE, HC_MS_KMAIN, TP_MSG + 0x100, 0, 0,
	    NULL).status, HC_E_INVAL);
	ck_assert_uint_eq(tp_submit(HC_OP_MILESTONE, HC_MS_READY, TP_RAM - 8, 0, 0,
	    NULL).status, HC_E_FAULT);
	ck_assert_int_eq(tp_milestones[HC_MS_KMAIN], 1);
	ck_assert_int_eq(tp_milestones[HC_MS_READY], 1);
	ck_assert_uint_eq(tp_hc->hc_dump_desc_gpa, TP_MSG);
	ck_assert_uint_eq(tp_hc->hc_dump_desc.kernel_cr3, 0x5000);
	/* A bad milestone registers nothing. */
	d.magic = HC_DUMP_MAGIC;
	d.kernel_cr3 = 0x7000;
	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG + 0x200, &d, sizeof(d)), 0);
	ck_assert_uint_eq(tp_submit(HC_OP_MILESTONE, 0, TP_MSG + 0x200, 0, 0, NULL).status,
	    HC_E_INVAL);
	ck_assert_uint_eq(tp_hc->hc_dump_desc.kernel_cr3, 0x5000);
}
END_TEST

START_TEST(panic_message)
{
	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG, "panic: oops", 11), 0);
	struct hc_req r = tp_submit(HC_OP_PANIC, TP_MSG, 11, 0, 0, NULL);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert(tp_hc->hc_panicked);
	ck_assert_int_eq(tp_panics, 1);
	ck_assert_str_eq(tp_hc->hc_panic_msg, "panic: oops");
	ck_assert_str_eq(tp_last_msg, "panic: oops");

	ck_assert_uint_eq(tp_submit(HC_OP_PANIC, TP_MSG, HOSTCALL_MSG_MAX + 1, 0, 0, NULL).status,
	    HC_E_INVAL);
	ck_assert_uint_eq(tp_submit(HC_OP_PANIC, TP_RAM - 4, 8, 0, 0, NULL).status, HC_E_FAULT);
	ck_assert_uint_eq(tp_submit(HC_OP_PANIC, UINT64_MAX - 2, 8, 0, 0, NULL).status,
	    HC_E_FAULT);
	ck_assert_int_eq(tp_panics, 1);

	/* The longest message is kept whole, made one printable line: its trailing newline
	 * goes, a control byte becomes '?', so stderr gets exactly one line. */
	static char big[HOSTCALL_MSG_MAX];
	memset(big, 'a', sizeof(big));
	big[10] = '\033';
	big[sizeof(big) - 1] = '\n';
	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG, big, sizeof(big)), 0);
	ck_assert_uint_eq(tp_submit(HC_OP_PANIC, TP_MSG, HOSTCALL_MSG_MAX, 0, 0, NULL).status,
	    HC_OK);
	ck_assert_uint_eq(tp_hc->hc_panic_len, HOSTCALL_MSG_MAX - 1);
	ck_assert_int_eq(tp_hc->hc_panic_msg[10], '?');
	ck_assert_ptr_null(strchr(tp_hc->hc_panic_msg, '\n'));
	ck_assert_uint_eq(strlen(tp_hc->hc_panic_msg), HOSTCALL_MSG_MAX - 1);
}
END_TEST

START_TEST(stopped)
{
	enum hostcall_result res;

	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG, "no init", 7), 0);
	tp_submit(HC_OP_STOPPED, TP_MSG, 7, 0, 0, &res);
	ck_assert_int_eq(res, HOSTCALL_STOP);
	ck_assert_int_eq(tp_stops, 1);
	ck_assert_str_eq(tp_last_msg, "no init");
	/* An unreadable reason still stops the VM. */
	tp_submit(HC_OP_STOPPED, TP_RAM, 7, 0, 0, &res);
	ck_assert_int_eq(res, HOSTCALL_STOP);
	ck_assert_ptr_nonnull(strstr(tp_last_msg, "unreadable"));
}
END_TEST

/* A usage report ends the run as a usage error with one printable line. */
START_TEST(usage_message)
{
	enum hostcall_result res;
	static const char msg[] = "bad\tword\x1b[2J\x80\r\n";

	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG, msg, sizeof(msg) - 1), 0);
	struct hc_req r = tp_submit(HC_OP_USAGE, TP_MSG, sizeof(msg) - 1, 0, 0, &res);
	ck_assert_int_eq(res, HOSTCALL_USAGE);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert_int_eq(tp_usages, 1);
	/* The trailing newline ends the line; other control bytes are replaced. */
	ck_assert_str_eq(tp_last_msg, "bad?word?[2J?");
	ck_assert_str_eq(tp_hc->hc_usage_msg, "bad?word?[2J?");

	/* A NUL ends the message: what follows it is not printed. */
	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG, "ab\0cd", 5), 0);
	tp_submit(HC_OP_USAGE, TP_MSG, 5, 0, 0, &res);
	ck_assert_int_eq(res, HOSTCALL_USAGE);
	ck_assert_str_eq(tp_last_msg, "ab");

	/* The longest message is taken whole. */
	memset(tp_gm.gm_base + TP_PAGE(0), 'x', HOSTCALL_MSG_MAX);
	r = tp_submit(HC_OP_USAGE, TP_PAGE(0), HOSTCALL_MSG_MAX, 0, 0, &res);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert_uint_eq(tp_hc->hc_usage_len, HOSTCALL_MSG_MAX);
	ck_assert_int_eq(tp_usages, 3);
}
END_TEST

/* A message outside RAM or too long is not read, and the run still ends as a usage
 * error: the guest has refused its input and will not run on. */
START_TEST(usage_message_bounds)
{
	static const struct { uint64_t gpa, len; uint32_t st; } cases[] = {
		{ TP_MSG, HOSTCALL_MSG_MAX + 1, HC_E_INVAL },
		{ TP_MSG, UINT64_MAX, HC_E_INVAL },
		{ TP_RAM - 4, 8, HC_E_FAULT },
		{ TP_RAM, 1, HC_E_FAULT },
		{ UINT64_MAX - 2, 8, HC_E_FAULT },
	};
	enum hostcall_result res;

	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG, "secret", 6), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tp_last_msg[0] = '\0';
		struct hc_req r = tp_submit(HC_OP_USAGE, cases[i].gpa, cases[i].len, 0, 0, &res);
		ck_assert_int_eq(res, HOSTCALL_USAGE);
		ck_assert_uint_eq(r.status, cases[i].st);
		ck_assert_int_eq(tp_usages, (int)i + 1);
		ck_assert_msg(strstr(tp_last_msg, "unreadable") != NULL, "case %zu: '%s'", i,
		    tp_last_msg);
	}
	ck_assert_int_eq(tp_panics + tp_stops, 0);
}
END_TEST

START_TEST(dump_desc)
{
	struct hc_dump_desc d = { .magic = HC_DUMP_MAGIC, .version = HC_DUMP_VERSION,
		.kernel_cr3 = 0x5000, .msgbuf = 0x9000 };

	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG, &d, sizeof(d)), 0);
	ck_assert_uint_eq(tp_submit(HC_OP_DUMP_DESC, TP_MSG, 0, 0, 0, NULL).status, HC_OK);
	ck_assert(tp_hc->hc_have_dump_desc);
	ck_assert_uint_eq(tp_hc->hc_dump_desc.kernel_cr3, 0x5000);
	ck_assert_uint_eq(tp_hc->hc_dump_desc.msgbuf, 0x9000);

	d.magic = 0;
	d.kernel_cr3 = 0x6000;
	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_MSG, &d, sizeof(d)), 0);
	ck_assert_uint_eq(tp_submit(HC_OP_DUMP_DESC, TP_MSG, 0, 0, 0, NULL).status, HC_E_INVAL);
	ck_assert_uint_eq(tp_submit(HC_OP_DUMP_DESC, TP_MSG + 4, 0, 0, 0, NULL).status,
	    HC_E_INVAL);
	ck_assert_uint_eq(tp_submit(HC_OP_DUMP_DESC, TP_RAM - 8, 0, 0, 0, NULL).status,
	    HC_E_FAULT);
	ck_assert_uint_eq(tp_hc->hc_dump_desc.kernel_cr3, 0x5000);  /* kept the good one */
}
END_TEST

START_TEST(page_zero)
{
	const struct hc_page_run runs[] = { { TP_PAGE(1), 2 }, { TP_PAGE(5), 1 } };

	tp_runs(runs, 2);
	struct hc_req r = tp_submit(HC_OP_PAGE_ZERO, 0, 0, 2, TP_LIST, NULL);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert_uint_eq(r.done, 3);
	tp_assert_page(0, false);
	tp_assert_page(1, true);
	tp_assert_page(2, true);
	tp_assert_page(3, false);
	tp_assert_page(4, false);
	tp_assert_page(5, true);
	tp_assert_page(6, false);
	ck_assert_uint_eq(tp_hc->hc_pages_zeroed, 3);

	/* Zero entries is a valid empty batch. */
	r = tp_submit(HC_OP_PAGE_ZERO, 0, 0, 0, TP_LIST, NULL);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert_uint_eq(r.done, 0);
}
END_TEST

/* Long runs are zeroed by discarding; the result must be the same. */
START_TEST(page_zero_by_discard)
{
	tp_hc->hc_zero_madvise_min = 2 * HC_PAGE_SIZE;
	const struct hc_page_run runs[] = { { TP_PAGE(2), 3 }, { TP_PAGE(8), 1 } };

	tp_runs(runs, 2);
	struct hc_req r = tp_submit(HC_OP_PAGE_ZERO, 0, 0, 2, TP_LIST, NULL);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert_uint_eq(r.done, 4);
	tp_assert_page(1, false);
	for (unsigned n = 2; n < 5; n++)
		tp_assert_page(n, true);
	tp_assert_page(5, false);
	tp_assert_page(8, true);
	tp_assert_page(9, false);
}
END_TEST

START_TEST(page_discard)
{
	const struct hc_page_run runs[] = { { TP_PAGE(3), 4 } };

	tp_runs(runs, 1);
	struct hc_req r = tp_submit(HC_OP_PAGE_DISCARD, 0, 0, 1, TP_LIST, NULL);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert_uint_eq(r.done, 4);
	tp_assert_page(2, false);
	for (unsigned n = 3; n < 7; n++)
		tp_assert_page(n, true);
	tp_assert_page(7, false);
	ck_assert_uint_eq(tp_hc->hc_pages_discarded, 4);
}
END_TEST

/* One bad entry anywhere: the right status, done = 0, and no page touched. */
START_TEST(page_runs_validated_first)
{
	static const struct {
		struct hc_page_run bad;
		uint32_t status;
	} cases[] = {
		{ { TP_PAGE(4) + 8, 1 }, HC_E_INVAL },          /* misaligned */
		{ { TP_PAGE(4), 0 }, HC_E_INVAL },              /* empty run */
		{ { TP_RAM - HC_PAGE_SIZE, 2 }, HC_E_FAULT },   /* runs off the end */
		{ { TP_RAM, 1 }, HC_E_FAULT },
		{ { 0xfffffffffffff000ull, 2 }, HC_E_FAULT },   /* wraps */
		{ { TP_PAGE(4), UINT64_MAX / 2 }, HC_E_FAULT }, /* npages * 4096 overflows */
		{ { TP_PAGE(4), 1ull << 52 }, HC_E_FAULT },
	};
	for (unsigned op = HC_OP_PAGE_ZERO; op <= HC_OP_PAGE_DISCARD; op++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct hc_page_run runs[] = { { TP_PAGE(1), 2 }, cases[i].bad };
			tp_runs(runs, 2);
			struct hc_req r = tp_submit(op, 0, 0, 2, TP_LIST, NULL);
			ck_assert_msg(r.status == cases[i].status, "op %u case %zu: status %u",
			    op, i, r.status);
			ck_assert_uint_eq(r.done, 0);
			tp_assert_page(1, false);
			tp_assert_page(2, false);
		}
	}
}
END_TEST

START_TEST(page_list_checks)
{
	const struct hc_page_run runs[] = { { TP_PAGE(1), 1 } };

	tp_runs(runs, 1);
	ck_assert_uint_eq(tp_submit(HC_OP_PAGE_ZERO, 0, 0, HC_MAX_LIST + 1, TP_LIST,
	    NULL).status, HC_E_INVAL);
	ck_assert_uint_eq(tp_submit(HC_OP_PAGE_ZERO, 0, 0, UINT64_MAX, TP_LIST, NULL).status,
	    HC_E_INVAL);
	ck_assert_uint_eq(tp_submit(HC_OP_PAGE_ZERO, 0, 0, 1, TP_LIST + 4, NULL).status,
	    HC_E_INVAL);
	ck_assert_uint_eq(tp_submit(HC_OP_PAGE_ZERO, 0, 0, 1, TP_RAM, NULL).status, HC_E_FAULT);
	ck_assert_uint_eq(tp_submit(HC_OP_PAGE_ZERO, 0, 0, 2, TP_RAM - 16, NULL).status,
	    HC_E_FAULT);
	tp_assert_page(1, false);
	/* The largest list is accepted: HC_MAX_LIST one-page runs over the same page. */
	static struct hc_page_run many[HC_MAX_LIST];
	for (unsigned i = 0; i < HC_MAX_LIST; i++)
		many[i] = (struct hc_page_run){ TP_PAGE(1), 1 };
	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_PAGE(32), many, sizeof(many)), 0);
	struct hc_req r = tp_submit(HC_OP_PAGE_ZERO, 0, 0, HC_MAX_LIST, TP_PAGE(32), NULL);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert_uint_eq(r.done, HC_MAX_LIST);
	tp_assert_page(1, true);
}
END_TEST

START_TEST(page_copy)
{
	const struct hc_page_copy cp[] = { { TP_PAGE(10), TP_PAGE(1) },
		{ TP_PAGE(11), TP_PAGE(2) } };

	ck_assert_int_eq(guest_mem_write(&tp_gm, TP_LIST, cp, sizeof(cp)), 0);
	struct hc_req r = tp_submit(HC_OP_PAGE_COPY, 0, 0, 2, TP_LIST, NULL);
	ck_assert_uint_eq(r.status, HC_OK);
	ck_assert_uint_eq(r.done, 2);
	ck_assert_int_eq(memcmp(tp_gm.gm_base + TP_PAGE(10), tp_gm.gm_base + TP_PAGE(1),
	    HC_PAGE_SIZE), 0);
	ck_assert_int_eq(memcmp(tp_gm.gm_base + TP_PAGE(11), tp_gm.gm_base + TP_PAGE(2),
	    HC_PAGE_SIZE), 0);
	tp_assert_page(1, false);
	tp_assert_page(12, false);
	ck_assert_uint_eq(tp_hc->hc_pages_copied, 2);
}
END_TEST

START_TEST(page_copy_validated_first)
{
	static const struct {
		struct hc_page_copy bad;
		uint32_t status;
	} cases[] = {
		{ { TP_PAGE(4), TP_PAGE(4) }, HC_E_INVAL },         /* same page */
		{ { TP_PAGE(4) + 1, TP_PAGE(3) }, HC_E_INVAL },
		{ { TP_PAGE(4), TP_PAGE(3) + 0x800 }, HC_E_INVAL },
		{ { TP_RAM, TP_PAGE(3) }, HC_E_FAULT },
		{ { TP_PAGE(4), TP_RAM }, HC_E_FAULT },
		{ { TP_PAGE(4), 0xfffffffffffff000ull }, HC_E_FAULT },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hc_page_copy cp[] = { { TP_PAGE(10), TP_PAGE(1) }, cases[i].bad };
		ck_assert_int_eq(guest_mem_write(&tp_gm, TP_LIST, cp, sizeof(cp)), 0);
		struct hc_req r = tp_submit(HC_OP_PAGE_COPY, 0, 0, 2, TP_LIST, NULL);
		ck_assert_msg(r.status == cases[i].status, "case %zu: status %u", i, r.status);
		ck_assert_uint_eq(r.done, 0);
		tp_assert_page(10, false);
	}
}
END_TEST

/* The host reads the list once: the list buffer is a private copy. */
START_TEST(list_is_copied)
{
	const struct hc_page_run runs[] = { { TP_PAGE(1), 1 } };

	tp_runs(runs, 1);
	ck_assert_uint_eq(tp_submit(HC_OP_PAGE_ZERO, 0, 0, 1, TP_LIST, NULL).status, HC_OK);
	ck_assert_uint_eq(tp_hc->hc_list.hcl_runs[0].gpa, TP_PAGE(1));
	ck_assert_ptr_ne((void *)tp_hc->hc_list.hcl_runs, guest_mem_ptr(&tp_gm, TP_LIST, 16));
}
END_TEST

static Suite *hostcall_suite(void)
{
	Suite *s = suite_create("vmm.hostcall");
	TCase *tc = tcase_create("hostcall");

	tcase_add_checked_fixture(tc, tp_setup, tp_teardown);
	tcase_add_test(tc, probe);
	tcase_add_test(tc, nop_and_unknown);
	tcase_add_test(tc, bad_request_block);
	tcase_add_test(tc, milestones);
	tcase_add_test(tc, milestones_immediate);
	tcase_add_test(tc, immediate_bad);
	tcase_add_test(tc, milestone_registers_dump_desc);
	tcase_add_test(tc, panic_message);
	tcase_add_test(tc, stopped);
	tcase_add_test(tc, usage_message);
	tcase_add_test(tc, usage_message_bounds);
	tcase_add_test(tc, dump_desc);
	tcase_add_test(tc, page_zero);
	tcase_add_test(tc, page_zero_by_discard);
	tcase_add_test(tc, page_discard);
	tcase_add_test(tc, page_runs_validated_first);
	tcase_add_test(tc, page_list_checks);
	tcase_add_test(tc, page_copy);
	tcase_add_test(tc, page_copy_validated_first);
	tcase_add_test(tc, list_is_copied);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(hostcall_suite);
