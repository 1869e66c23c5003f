/*
 * The host's side of the publication protocol of devices/hostcall.h (struct hc_pub).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "vmm/pub_read.h"

#define PUB_TRIES   64

enum pub_status pub_read(pub_read_fn readfn, void *ctx, uint64_t gpa, struct hc_pub *hdr,
    void *buf, size_t buflen, size_t *len)
{
	*len = 0;
	for (int i = 0; i < PUB_TRIES; i++) {
		struct hc_pub again;

		if (readfn(ctx, gpa, hdr, sizeof(*hdr)) != 0)
			return PUB_UNREADABLE;
		if (hdr->pub_magic != HC_PUB_MAGIC || hdr->pub_len > hdr->pub_cap)
			return PUB_BAD;
		if (hdr->pub_seq == 0)
			return PUB_EMPTY;
		if (hdr->pub_seq & 1)
			continue;
		size_t n = hdr->pub_len < buflen ? (size_t)hdr->pub_len : buflen;
		atomic_thread_fence(memory_order_acquire);
		if (n > 0 && (gpa > UINT64_MAX - sizeof(*hdr) ||
		    readfn(ctx, gpa + sizeof(*hdr), buf, n) != 0))
			return PUB_UNREADABLE;
		atomic_thread_fence(memory_order_acquire);
		/* The whole header again, not pub_seq alone: the first copy is one memcpy
		 * in no promised order, so its pub_len and pub_time_ns may have been read
		 * before its pub_seq, from the snapshot before. */
		if (readfn(ctx, gpa, &again, sizeof(again)) != 0)
			return PUB_UNREADABLE;
		if (memcmp(&again, hdr, sizeof(again)) == 0) {
			*len = n;
			return PUB_OK;
		}
	}
	return PUB_TORN;
}

const char *pub_status_str(enum pub_status st)
{
	switch (st) {
	case PUB_OK:
		return "ok";
	case PUB_UNREADABLE:
		return "not readable";
	case PUB_BAD:
		return "not a snapshot (bad magic or length)";
	case PUB_EMPTY:
		return "never written";
	case PUB_TORN:
		return "torn (being rewritten)";
	}
	return "unknown";
}
