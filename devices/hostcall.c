/*
 * The hostcall port's host side. Requests are handled synchronously inside the
 * vCPU's exit, so "one exit per batch" holds by construction. The guest may change its
 * memory at any time (other vCPUs, later), so every field is read exactly once into a
 * private copy and all entries are validated before the first is acted on: a bad list
 * changes nothing.
 */
#include <string.h>

#include "devices/hostcall_model.h"
#include "vmm/guest_mem.h"
#include "vmm/vmm.h"

void hostcall_init(struct hostcall *hc, struct guest_mem *gm,
    const struct hostcall_ops *ops, void *ctx)
{
	memset(hc, 0, sizeof(*hc));
	hc->hc_gm = gm;
	hc->hc_ops = ops;
	hc->hc_ctx = ctx;
	hc->hc_zero_madvise_min = HOSTCALL_ZERO_MADVISE_MIN;
}

uint32_t hostcall_in(struct hostcall *hc, unsigned size)
{
	(void)hc;
	if (size == 4)
		return HC_MAGIC;
	return size == 2 ? 0xffff : 0xff;
}

/* An immediate command: nothing to read from guest memory, nothing to answer. */
static void hostcall_immediate(struct hostcall *hc, uint32_t cmd, uint32_t arg)
{
	switch (cmd) {
	case HC_IMM_MILESTONE:
		if (arg == 0 || arg >= HC_MS_MAX)
			break;
		hc->hc_nimm++;
		if (hc->hc_ops != NULL && hc->hc_ops->hco_milestone != NULL)
			hc->hc_ops->hco_milestone(hc->hc_ctx, (enum hc_milestone)arg);
		return;
	default:
		break;
	}
	hc->hc_nbad++;
}

enum hostcall_result hostcall_out(struct hostcall *hc, unsigned size, uint32_t val)
{
	if (size != 4) {
		hc->hc_nbad++;
		return HOSTCALL_CONTINUE;
	}
	if ((val & HC_IMM_MASK) != 0) {
		hostcall_immediate(hc, val & HC_IMM_MASK, val >> HC_IMM_SHIFT);
		return HOSTCALL_CONTINUE;
	}
	return hostcall_request(hc, val);
}

/* Copy a guest string of len bytes (<= HOSTCALL_MSG_MAX) into dst, NUL-terminated. */
static enum hc_status hostcall_copy_msg(struct hostcall *hc, uint64_t gpa, uint64_t len,
    char *dst, size_t *dst_len)
{
	if (len > HOSTCALL_MSG_MAX)
		return HC_E_INVAL;
	if (guest_mem_read(hc->hc_gm, gpa, dst, len) != 0)
		return HC_E_FAULT;
	dst[len] = '\0';
	*dst_len = (size_t)len;
	return HC_OK;
}

/*
 * A guest message made one printable line in place: a trailing newline ends it, other
 * control bytes (and anything after a NUL) cannot reach the user's terminal as they
 * are. => its new length.
 */
static size_t hostcall_one_line(char *m, size_t n)
{
	n = strnlen(m, n);
	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)m[i] < 0x20 || (unsigned char)m[i] >= 0x7f)
			m[i] = '?';
	m[n] = '\0';
	return n;
}

/* The guest's usage message as one line in hc_usage_msg. An unreadable message still
 * ends the run as a usage error. */
static enum hc_status hostcall_usage(struct hostcall *hc, uint64_t gpa, uint64_t len)
{
	static const char unreadable[] = "the guest refused its input (its message is "
	    "unreadable)";
	char *m = hc->hc_usage_msg;
	size_t n;
	enum hc_status st = hostcall_copy_msg(hc, gpa, len, m, &n);

	if (st != HC_OK) {
		memcpy(m, unreadable, sizeof(unreadable));
		hc->hc_usage_len = sizeof(unreadable) - 1;
		return st;
	}
	hc->hc_usage_len = hostcall_one_line(m, n);
	return HC_OK;
}

static enum hc_status hostcall_dump_desc(struct hostcall *hc, uint64_t gpa)
{
	struct hc_dump_desc d;

	if (gpa % 8 != 0)
		return HC_E_INVAL;
	if (guest_mem_read(hc->hc_gm, gpa, &d, sizeof(d)) != 0)
		return HC_E_FAULT;
	if (d.magic != HC_DUMP_MAGIC || d.version != HC_DUMP_VERSION)
		return HC_E_INVAL;
	hc->hc_dump_desc = d;
	hc->hc_dump_desc_gpa = gpa;
	hc->hc_have_dump_desc = true;
	return HC_OK;
}

/* Is [gpa, gpa + npages pages) a page-aligned run of RAM? */
static enum hc_status hostcall_check_run(struct hostcall *hc, uint64_t gpa, uint64_t npages)
{
	if (gpa % HC_PAGE_SIZE != 0 || npages == 0)
		return HC_E_INVAL;
	if (npages > UINT64_MAX / HC_PAGE_SIZE)
		return HC_E_FAULT;
	if (guest_mem_ptr(hc->hc_gm, gpa, npages * HC_PAGE_SIZE) == NULL)
		return HC_E_FAULT;
	return HC_OK;
}

/* Fetch and validate a page-operation list. => HC_OK with the list in hc->hc_list. */
static enum hc_status hostcall_fetch_list(struct hostcall *hc, const struct hc_req *r,
    size_t entsize)
{
	if (r->count > HC_MAX_LIST || r->list % 8 != 0)
		return HC_E_INVAL;
	if (guest_mem_read(hc->hc_gm, r->list, &hc->hc_list, r->count * entsize) != 0)
		return HC_E_FAULT;
	return HC_OK;
}

static enum hc_status hostcall_page_runs(struct hostcall *hc, const struct hc_req *r,
    uint64_t *done)
{
	enum hc_status st = hostcall_fetch_list(hc, r, sizeof(struct hc_page_run));
	const struct hc_page_run *runs = hc->hc_list.hcl_runs;

	for (uint64_t i = 0; st == HC_OK && i < r->count; i++)
		st = hostcall_check_run(hc, runs[i].gpa, runs[i].npages);
	if (st != HC_OK)
		return st;
	for (uint64_t i = 0; i < r->count; i++) {
		uint64_t len = runs[i].npages * HC_PAGE_SIZE;

		/*
		 * Zeroing by discarding frees host memory but costs the guest a fresh fault
		 * per page on the next touch, so only long runs are zeroed that way.
		 */
		if (r->op == HC_OP_PAGE_DISCARD ||
		    (len >= hc->hc_zero_madvise_min && hc->hc_zero_madvise_min != 0)) {
			if (guest_mem_discard(hc->hc_gm, runs[i].gpa, len) == 0) {
				*done += runs[i].npages;
				continue;
			}
			/* madvise cannot fail on a range we mapped; zero it anyway. */
		}
		memset(guest_mem_ptr(hc->hc_gm, runs[i].gpa, len), 0, len);
		*done += runs[i].npages;
	}
	if (r->op == HC_OP_PAGE_DISCARD)
		hc->hc_pages_discarded += *done;
	else
		hc->hc_pages_zeroed += *done;
	return HC_OK;
}

static enum hc_status hostcall_page_copies(struct hostcall *hc, const struct hc_req *r,
    uint64_t *done)
{
	enum hc_status st = hostcall_fetch_list(hc, r, sizeof(struct hc_page_copy));
	const struct hc_page_copy *cp = hc->hc_list.hcl_copies;

	for (uint64_t i = 0; st == HC_OK && i < r->count; i++) {
		if (cp[i].dst == cp[i].src)
			st = HC_E_INVAL;
		else if ((st = hostcall_check_run(hc, cp[i].dst, 1)) == HC_OK)
			st = hostcall_check_run(hc, cp[i].src, 1);
	}
	if (st != HC_OK)
		return st;
	for (uint64_t i = 0; i < r->count; i++) {
		memcpy(guest_mem_ptr(hc->hc_gm, cp[i].dst, HC_PAGE_SIZE),
		    guest_mem_ptr(hc->hc_gm, cp[i].src, HC_PAGE_SIZE), HC_PAGE_SIZE);
		(*done)++;
	}
	hc->hc_pages_copied += *done;
	return HC_OK;
}

enum hostcall_result hostcall_request(struct hostcall *hc, uint64_t gpa)
{
	struct hc_req r;
	enum hostcall_result res = HOSTCALL_CONTINUE;
	enum hc_status st = HC_OK;
	uint64_t done = 0;

	if (gpa % 16 != 0 || guest_mem_read(hc->hc_gm, gpa, &r, sizeof(r)) != 0) {
		hc->hc_nbad++;
		return HOSTCALL_CONTINUE;
	}
	hc->hc_nreq++;
	switch (r.op) {
	case HC_OP_NOP:
		break;
	case HC_OP_MILESTONE:
		if (r.arg0 == 0 || r.arg0 >= HC_MS_MAX) {
			st = HC_E_INVAL;
			break;
		}
		if (r.arg1 != 0)
			st = hostcall_dump_desc(hc, r.arg1);
		if (hc->hc_ops != NULL && hc->hc_ops->hco_milestone != NULL)
			hc->hc_ops->hco_milestone(hc->hc_ctx, (enum hc_milestone)r.arg0);
		break;
	case HC_OP_PANIC:
		st = hostcall_copy_msg(hc, r.arg0, r.arg1, hc->hc_panic_msg, &hc->hc_panic_len);
		if (st != HC_OK)
			break;
		hc->hc_panic_len = hostcall_one_line(hc->hc_panic_msg, hc->hc_panic_len);
		hc->hc_panicked = true;
		if (hc->hc_ops != NULL && hc->hc_ops->hco_panic != NULL)
			hc->hc_ops->hco_panic(hc->hc_ctx, hc->hc_panic_msg, hc->hc_panic_len);
		break;
	case HC_OP_STOPPED:
		/* Stop even when the reason is unreadable: the guest will not run again. */
		if (hostcall_copy_msg(hc, r.arg0, r.arg1, hc->hc_stop_reason,
		    &hc->hc_stop_len) != HC_OK) {
			strcpy(hc->hc_stop_reason, "(reason unreadable)");
			hc->hc_stop_len = strlen(hc->hc_stop_reason);
		}
		hc->hc_stop_len = hostcall_one_line(hc->hc_stop_reason, hc->hc_stop_len);
		if (hc->hc_ops != NULL && hc->hc_ops->hco_stopped != NULL)
			hc->hc_ops->hco_stopped(hc->hc_ctx, hc->hc_stop_reason, hc->hc_stop_len);
		res = HOSTCALL_STOP;
		break;
	case HC_OP_USAGE:
		st = hostcall_usage(hc, r.arg0, r.arg1);
		if (hc->hc_ops != NULL && hc->hc_ops->hco_usage != NULL)
			hc->hc_ops->hco_usage(hc->hc_ctx, hc->hc_usage_msg, hc->hc_usage_len);
		res = HOSTCALL_USAGE;
		break;
	case HC_OP_DUMP_DESC:
		st = hostcall_dump_desc(hc, r.arg0);
		break;
	case HC_OP_PAGE_ZERO:
	case HC_OP_PAGE_DISCARD:
		st = hostcall_page_runs(hc, &r, &done);
		break;
	case HC_OP_PAGE_COPY:
		st = hostcall_page_copies(hc, &r, &done);
		break;
	default:
		st = HC_E_INVAL;
		break;
	}

	/* Write back only the two fields the host owns. */
	struct hc_req *g = guest_mem_ptr(hc->hc_gm, gpa, sizeof(r));
	KASSERT(g != NULL, ("%s: request block vanished", __func__));
	g->status = st;
	if (r.op >= HC_OP_PAGE_ZERO && r.op <= HC_OP_PAGE_COPY)
		g->done = done;
	return res;
}
