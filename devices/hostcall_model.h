/*
 * The host side of the paravirtual port (protocol in devices/pvport.h). The model
 * reads requests through the guest-memory accessor only and reports what the VMM must
 * act on (milestones, panic text, "stopped") through callbacks, so the unit tests
 * drive it with a guest_mem and no KVM.
 */
#ifndef DEVICES_PVPORT_MODEL_H
#define DEVICES_PVPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/hostcall.h"

struct guest_mem;

#define PVPORT_MSG_MAX      4096    /* panic message / stop reason, bytes */

struct pvport_ops {
	void (*po_milestone)(void *ctx, enum pv_milestone ms);
	void (*po_panic)(void *ctx, const char *msg, size_t len);
	void (*po_stopped)(void *ctx, const char *reason, size_t len);
	/* PV_OP_USAGE: msg is one printable line (control bytes are '?', no newline). */
	void (*po_usage)(void *ctx, const char *msg, size_t len);
};

enum pvport_result {
	PVPORT_CONTINUE,            /* the guest runs on */
	PVPORT_STOP,                /* the guest said it will never run again */
	PVPORT_USAGE,               /* the guest refused its input: exit as a usage error */
};

struct pvport {
	struct guest_mem *pv_gm;
	const struct pvport_ops *pv_ops;    /* any callback may be NULL */
	void *pv_ctx;
	uint64_t pv_zero_madvise_min;   /* runs this long (bytes) are zeroed by discarding */

	bool pv_panicked;
	size_t pv_panic_len;
	char pv_panic_msg[PVPORT_MSG_MAX + 1];
	size_t pv_stop_len;
	char pv_stop_reason[PVPORT_MSG_MAX + 1];
	size_t pv_usage_len;
	char pv_usage_msg[PVPORT_MSG_MAX + 1];
	bool pv_have_dump_desc;
	struct pv_dump_desc pv_dump_desc;   /* as validated at registration */
	uint64_t pv_dump_desc_gpa;          /* where to read it again when dumping */

	/* Statistics for -v. */
	uint64_t pv_nreq;           /* requests handled */
	uint64_t pv_nimm;           /* immediate commands handled */
	uint64_t pv_nbad;           /* OUTs the host could not use: a request block that is
	                               misaligned or not RAM, an unknown immediate command */
	uint64_t pv_pages_zeroed, pv_pages_discarded, pv_pages_copied;

	/* A private copy of the guest's list, so the guest cannot change it under us. */
	union {
		struct pv_page_run pvl_runs[PV_MAX_LIST];
		struct pv_page_copy pvl_copies[PV_MAX_LIST];
	} pv_list;
};

/* The default threshold above which PV_OP_PAGE_ZERO discards instead of storing. */
#define PVPORT_ZERO_MADVISE_MIN     (8ull << 20)

void pvport_init(struct pvport *pv, struct guest_mem *gm, const struct pvport_ops *ops,
    void *ctx);

/* A guest IN of size bytes (1, 2 or 4) from PV_PORT. */
uint32_t pvport_in(struct pvport *pv, unsigned size);

/* A guest OUT of size bytes to PV_PORT: a 32-bit one is a request's address (a multiple
 * of 16) or an immediate command (PV_IMM). */
enum pvport_result pvport_out(struct pvport *pv, unsigned size, uint32_t val);

/*
 * Handle the request at guest-physical gpa: validate everything, then act, then write
 * status (and done) back into the request block. A block that is misaligned or not in
 * RAM cannot be answered and is only counted in pv_nbad.
 */
enum pvport_result pvport_request(struct pvport *pv, uint64_t gpa);

#endif /* DEVICES_PVPORT_MODEL_H */
