/*
 * Reading a snapshot the guest publishes (struct hc_pub, devices/hostcall.h) from live
 * guest memory or from a dump: through a read callback, with the seqlock retry.
 */
#ifndef VMM_PUB_READ_H
#define VMM_PUB_READ_H

#include <stddef.h>
#include <stdint.h>

#include "devices/hostcall.h"

/* Copy len bytes at guest-physical gpa into buf. => 0, or -1 when not readable. */
typedef int (*pub_read_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

enum pub_status {
	PUB_OK = 0,
	PUB_UNREADABLE = 1,     /* the header or data is outside what readfn can read */
	PUB_BAD = 2,            /* no HC_PUB_MAGIC, or pub_len > pub_cap */
	PUB_EMPTY = 3,          /* never written (pub_seq 0) */
	PUB_TORN = 4,           /* being rewritten every time we looked */
};

/*
 * Read the snapshot at gpa: its header into *hdr and min(pub_len, buflen) bytes of data
 * into buf (*len: how many). The guest may be running: a copy taken while pub_seq was
 * odd or changed is retried a few times. => enum pub_status.
 */
enum pub_status pub_read(pub_read_fn readfn, void *ctx, uint64_t gpa, struct hc_pub *hdr,
    void *buf, size_t buflen, size_t *len);

/* A word for a status other than PUB_OK, for messages: "not readable", "torn"... */
const char *pub_status_str(enum pub_status st);

#endif /* VMM_PUB_READ_H */
