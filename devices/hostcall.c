/*
 * The paravirtual port's host side. Requests are handled synchronously inside the
 * vCPU's exit, so "one exit per batch" holds by construction. The guest may change its
 * memory at any time (other vCPUs, later), so every field is read exactly once into a
 * private copy and all entries are validated before the first is acted on: a bad list
 * changes nothing.
 */
#include <string.h>

#include "devices/hostcall_model.h"
#include "vmm/guest_mem.h"
#include "vmm/vmm.h"

void pvport_init(struct pvport *pv, struct guest_mem *gm, const struct pvport_ops *ops,
    void *ctx)
{
	memset(pv, 0, sizeof(*pv));
	pv->pv_gm = gm;
	pv->pv_ops = ops;
	pv->pv_ctx = ctx;
	pv->pv_zero_madvise_min = PVPORT_ZERO_MADVISE_MIN;
}

uint32_t pvport_in(struct pvport *pv, unsigned size)
{
	(void)pv;
	if (size == 4)
		return PV_MAGIC;
	return size == 2 ? 0xffff : 0xff;
}

/* An immediate command: nothing to read from guest memory, nothing to answer. */
static void pvport_immediate(struct pvport *pv, uint32_t cmd, uint32_t arg)
{
	switch (cmd) {
	case PV_IMM_MILESTONE:
		if (arg == 0 || arg >= PV_MS_MAX)
			break;
		pv->pv_nimm++;
		if (pv->pv_ops != NULL && pv->pv_ops->po_milestone != NULL)
			pv->pv_ops->po_milestone(pv->pv_ctx, (enum pv_milestone)arg);
		return;
	default:
		break;
	}
	pv->pv_nbad++;
}

enum pvport_result pvport_out(struct pvport *pv, unsigned size, uint32_t val)
{
	if (size != 4) {
		pv->pv_nbad++;
		return PVPORT_CONTINUE;
	}
	if ((val & PV_IMM_MASK) != 0) {
		pvport_immediate(pv, val & PV_IMM_MASK, val >> PV_IMM_SHIFT);
		return PVPORT_CONTINUE;
	}
	return pvport_request(pv, val);
}

/* Copy a guest string of len bytes (<= PVPORT_MSG_MAX) into dst, NUL-terminated. */
static enum pv_status pvport_copy_msg(struct pvport *pv, uint64_t gpa, uint64_t len,
    char *dst, size_t *dst_len)
{
	if (len > PVPORT_MSG_MAX)
		return PV_E_INVAL;
	if (guest_mem_read(pv->pv_gm, gpa, dst, len) != 0)
		return PV_E_FAULT;
	dst[len] = '\0';
	*dst_len = (size_t)len;
	return PV_OK;
}

/*
 * A guest message made one printable line in place: a trailing newline ends it, other
 * control bytes (and anything after a NUL) cannot reach the user's terminal as they
 * are. => its new length.
 */
static size_t pvport_one_line(char *m, size_t n)
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

/* The guest's usage message as one line in pv_usage_msg. An unreadable message still
 * ends the run as a usage error. */
static enum pv_status pvport_usage(struct pvport *pv, uint64_t gpa, uint64_t len)
{
	static const char unreadable[] = "the guest refused its input (its message is "
	    "unreadable)";
	char *m = pv->pv_usage_msg;
	size_t n;
	enum pv_status st = pvport_copy_msg(pv, gpa, len, m, &n);

	if (st != PV_OK) {
		memcpy(m, unreadable, sizeof(unreadable));
		pv->pv_usage_len = sizeof(unreadable) - 1;
		return st;
	}
	pv->pv_usage_len = pvport_one_line(m, n);
	return PV_OK;
}

static enum pv_status pvport_dump_desc(struct pvport *pv, uint64_t gpa)
{
	struct pv_dump_desc d;

	if (gpa % 8 != 0)
		return PV_E_INVAL;
	if (guest_mem_read(pv->pv_gm, gpa, &d, sizeof(d)) != 0)
		return PV_E_FAULT;
	if (d.magic != PV_DUMP_MAGIC || d.version != PV_VERSION)
		return PV_E_INVAL;
	pv->pv_dump_desc = d;
	pv->pv_dump_desc_gpa = gpa;
	pv->pv_have_dump_desc = true;
	return PV_OK;
}

/* Is [gpa, gpa + npages pages) a page-aligned run of RAM? */
static enum pv_status pvport_check_run(struct pvport *pv, uint64_t gpa, uint64_t npages)
{
	if (gpa % PV_PAGE_SIZE != 0 || npages == 0)
		return PV_E_INVAL;
	if (npages > UINT64_MAX / PV_PAGE_SIZE)
		return PV_E_FAULT;
	if (guest_mem_ptr(pv->pv_gm, gpa, npages * PV_PAGE_SIZE) == NULL)
		return PV_E_FAULT;
	return PV_OK;
}

/* Fetch and validate a page-operation list. => PV_OK with the list in pv->pv_list. */
static enum pv_status pvport_fetch_list(struct pvport *pv, const struct pv_req *r,
    size_t entsize)
{
	if (r->count > PV_MAX_LIST || r->list % 8 != 0)
		return PV_E_INVAL;
	if (guest_mem_read(pv->pv_gm, r->list, &pv->pv_list, r->count * entsize) != 0)
		return PV_E_FAULT;
	return PV_OK;
}

static enum pv_status pvport_page_runs(struct pvport *pv, const struct pv_req *r,
    uint64_t *done)
{
	enum pv_status st = pvport_fetch_list(pv, r, sizeof(struct pv_page_run));
	const struct pv_page_run *runs = pv->pv_list.pvl_runs;

	for (uint64_t i = 0; st == PV_OK && i < r->count; i++)
		st = pvport_check_run(pv, runs[i].gpa, runs[i].npages);
	if (st != PV_OK)
		return st;
	for (uint64_t i = 0; i < r->count; i++) {
		uint64_t len = runs[i].npages * PV_PAGE_SIZE;

		/*
		 * Zeroing by discarding frees host memory but costs the guest a fresh fault
		 * per page on the next touch, so only long runs are zeroed that way.
		 */
		if (r->op == PV_OP_PAGE_DISCARD ||
		    (len >= pv->pv_zero_madvise_min && pv->pv_zero_madvise_min != 0)) {
			if (guest_mem_discard(pv->pv_gm, runs[i].gpa, len) == 0) {
				*done += runs[i].npages;
				continue;
			}
			/* madvise cannot fail on a range we mapped; zero it anyway. */
		}
		memset(guest_mem_ptr(pv->pv_gm, runs[i].gpa, len), 0, len);
		*done += runs[i].npages;
	}
	if (r->op == PV_OP_PAGE_DISCARD)
		pv->pv_pages_discarded += *done;
	else
		pv->pv_pages_zeroed += *done;
	return PV_OK;
}

static enum pv_status pvport_page_copies(struct pvport *pv, const struct pv_req *r,
    uint64_t *done)
{
	enum pv_status st = pvport_fetch_list(pv, r, sizeof(struct pv_page_copy));
	const struct pv_page_copy *cp = pv->pv_list.pvl_copies;

	for (uint64_t i = 0; st == PV_OK && i < r->count; i++) {
		if (cp[i].dst == cp[i].src)
			st = PV_E_INVAL;
		else if ((st = pvport_check_run(pv, cp[i].dst, 1)) == PV_OK)
			st = pvport_check_run(pv, cp[i].src, 1);
	}
	if (st != PV_OK)
		return st;
	for (uint64_t i = 0; i < r->count; i++) {
		memcpy(guest_mem_ptr(pv->pv_gm, cp[i].dst, PV_PAGE_SIZE),
		    guest_mem_ptr(pv->pv_gm, cp[i].src, PV_PAGE_SIZE), PV_PAGE_SIZE);
		(*done)++;
	}
	pv->pv_pages_copied += *done;
	return PV_OK;
}

enum pvport_result pvport_request(struct pvport *pv, uint64_t gpa)
{
	struct pv_req r;
	enum pvport_result res = PVPORT_CONTINUE;
	enum pv_status st = PV_OK;
	uint64_t done = 0;

	if (gpa % 16 != 0 || guest_mem_read(pv->pv_gm, gpa, &r, sizeof(r)) != 0) {
		pv->pv_nbad++;
		return PVPORT_CONTINUE;
	}
	pv->pv_nreq++;
	switch (r.op) {
	case PV_OP_NOP:
		break;
	case PV_OP_MILESTONE:
		if (r.arg0 == 0 || r.arg0 >= PV_MS_MAX) {
			st = PV_E_INVAL;
			break;
		}
		if (r.arg1 != 0)
			st = pvport_dump_desc(pv, r.arg1);
		if (pv->pv_ops != NULL && pv->pv_ops->po_milestone != NULL)
			pv->pv_ops->po_milestone(pv->pv_ctx, (enum pv_milestone)r.arg0);
		break;
	case PV_OP_PANIC:
		st = pvport_copy_msg(pv, r.arg0, r.arg1, pv->pv_panic_msg, &pv->pv_panic_len);
		if (st != PV_OK)
			break;
		pv->pv_panic_len = pvport_one_line(pv->pv_panic_msg, pv->pv_panic_len);
		pv->pv_panicked = true;
		if (pv->pv_ops != NULL && pv->pv_ops->po_panic != NULL)
			pv->pv_ops->po_panic(pv->pv_ctx, pv->pv_panic_msg, pv->pv_panic_len);
		break;
	case PV_OP_STOPPED:
		/* Stop even when the reason is unreadable: the guest will not run again. */
		if (pvport_copy_msg(pv, r.arg0, r.arg1, pv->pv_stop_reason,
		    &pv->pv_stop_len) != PV_OK) {
			strcpy(pv->pv_stop_reason, "(reason unreadable)");
			pv->pv_stop_len = strlen(pv->pv_stop_reason);
		}
		pv->pv_stop_len = pvport_one_line(pv->pv_stop_reason, pv->pv_stop_len);
		if (pv->pv_ops != NULL && pv->pv_ops->po_stopped != NULL)
			pv->pv_ops->po_stopped(pv->pv_ctx, pv->pv_stop_reason, pv->pv_stop_len);
		res = PVPORT_STOP;
		break;
	case PV_OP_USAGE:
		st = pvport_usage(pv, r.arg0, r.arg1);
		if (pv->pv_ops != NULL && pv->pv_ops->po_usage != NULL)
			pv->pv_ops->po_usage(pv->pv_ctx, pv->pv_usage_msg, pv->pv_usage_len);
		res = PVPORT_USAGE;
		break;
	case PV_OP_DUMP_DESC:
		st = pvport_dump_desc(pv, r.arg0);
		break;
	case PV_OP_PAGE_ZERO:
	case PV_OP_PAGE_DISCARD:
		st = pvport_page_runs(pv, &r, &done);
		break;
	case PV_OP_PAGE_COPY:
		st = pvport_page_copies(pv, &r, &done);
		break;
	default:
		st = PV_E_INVAL;
		break;
	}

	/* Write back only the two fields the host owns. */
	struct pv_req *g = guest_mem_ptr(pv->pv_gm, gpa, sizeof(r));
	KASSERT(g != NULL, ("%s: request block vanished", __func__));
	g->status = st;
	if (r.op >= PV_OP_PAGE_ZERO && r.op <= PV_OP_PAGE_COPY)
		g->done = done;
	return res;
}
