/*
 * The host side of the hostcall port (protocol in devices/hostcall.h). The model
 * reads requests through the guest-memory accessor only and reports what the VMM must
 * act on (milestones, panic text, "stopped") through callbacks, so the unit tests
 * drive it with a guest_mem and no KVM.
 */
#ifndef DEVICES_HOSTCALL_MODEL_H
#define DEVICES_HOSTCALL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/hostcall.h"

struct guest_mem;

#define HOSTCALL_MSG_MAX    4096    /* panic message / stop reason, bytes */

struct hostcall_ops {
	void (*hco_milestone)(void *ctx, enum hc_milestone ms);
	void (*hco_panic)(void *ctx, const char *msg, size_t len);
	void (*hco_stopped)(void *ctx, const char *reason, size_t len);
	/* HC_OP_USAGE: msg is one printable line (control bytes are '?', no newline). */
	void (*hco_usage)(void *ctx, const char *msg, size_t len);
};

enum hostcall_result {
	HOSTCALL_CONTINUE,          /* the guest runs on */
	HOSTCALL_STOP,              /* the guest said it will never run again */
	HOSTCALL_USAGE,             /* the guest refused its input: exit as a usage error */
};

struct hostcall {
	struct guest_mem *hc_gm;
	const struct hostcall_ops *hc_ops;  /* any callback may be NULL */
	void *hc_ctx;
	uint64_t hc_zero_madvise_min;   /* runs this long (bytes) are zeroed by discarding */

	bool hc_panicked;
	size_t hc_panic_len;
	char hc_panic_msg[HOSTCALL_MSG_MAX + 1];
	size_t hc_stop_len;
	char hc_stop_reason[HOSTCALL_MSG_MAX + 1];
	size_t hc_usage_len;
	char hc_usage_msg[HOSTCALL_MSG_MAX + 1];
	bool hc_have_dump_desc;
	struct hc_dump_desc hc_dump_desc;   /* as validated at registration */
	uint64_t hc_dump_desc_gpa;          /* where to read it again when dumping */

	/* Statistics for -v. */
	uint64_t hc_nreq;           /* requests handled */
	uint64_t hc_nimm;           /* immediate commands handled */
	uint64_t hc_nbad;           /* OUTs the host could not use: a request block that is
	                               misaligned or not RAM, an unknown immediate command */
	uint64_t hc_pages_zeroed, hc_pages_discarded, hc_pages_copied;

	/* A private copy of the guest's list, so the guest cannot change it under us. */
	union {
		struct hc_page_run hcl_runs[HC_MAX_LIST];
		struct hc_page_copy hcl_copies[HC_MAX_LIST];
	} hc_list;
};

/* The default threshold above which HC_OP_PAGE_ZERO discards instead of storing. */
#define HOSTCALL_ZERO_MADVISE_MIN   (8ull << 20)

void hostcall_init(struct hostcall *hc, struct guest_mem *gm,
    const struct hostcall_ops *ops, void *ctx);

/* A guest IN of size bytes (1, 2 or 4) from HC_PORT. */
uint32_t hostcall_in(struct hostcall *hc, unsigned size);

/* A guest OUT of size bytes to HC_PORT: a 32-bit one is a request's address (a multiple
 * of 16) or an immediate command (HC_IMM). */
enum hostcall_result hostcall_out(struct hostcall *hc, unsigned size, uint32_t val);

/*
 * Handle the request at guest-physical gpa: validate everything, then act, then write
 * status (and done) back into the request block. A block that is misaligned or not in
 * RAM cannot be answered and is only counted in hc_nbad.
 */
enum hostcall_result hostcall_request(struct hostcall *hc, uint64_t gpa);

#endif /* DEVICES_HOSTCALL_MODEL_H */
