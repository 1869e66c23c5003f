/*
 * The split virtqueue as the device sees it (virtio 1.1 section 2.6): ring set-up, taking
 * descriptor chains off the available ring, returning them on the used ring, and the
 * EVENT_IDX bookkeeping for notifications and interrupts. No I/O and no event handling
 * here (Firecracker's split): the device model decides what a chain means, its engine
 * does the I/O, its thread waits.
 *
 * Everything in the rings is the guest's and untrusted. The rings are found through the
 * one guest-memory accessor (vmm/guest_mem.h) once, when the driver makes the queue
 * ready, and every buffer a descriptor names goes through it again; a chain is copied
 * out of the descriptor table before anything uses it, so a guest rewriting the table
 * meanwhile changes nothing. Two kinds of trouble:
 *  - the ring itself is unusable (an avail index that ran more than the queue size ahead,
 *    a head or next index out of range, a chain longer than the queue (a loop), an
 *    indirect descriptor (never offered)): virtq_pop answers VIRTQ_POP_BROKEN and the
 *    device should mark itself NEEDS_RESET;
 *  - the chain is well formed but a request cannot be served from it (a buffer outside
 *    guest RAM or wrapping 2^64, a zero-length buffer, a readable buffer after a writable
 *    one): the chain is returned with vc_err set, so the device can fail just that
 *    request and hand the head back.
 * Owned by one thread at a time (the device thread while the device runs).
 */
#ifndef DEVICES_VIRTQ_H
#define DEVICES_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio.h"

struct guest_mem;

/* The largest queue a device here offers; a chain holds at most this many descriptors. */
#define VIRTQ_NUM_MAX   256

struct virtq {
	const struct guest_mem *vq_gm;
	uint16_t vq_num;                    /* entries, a power of 2, 0 when not set up */
	bool vq_event_idx;                  /* VIRTIO_F_EVENT_IDX negotiated */
	volatile struct virtq_desc *vq_desc;    /* host addresses of the validated rings */
	volatile struct virtq_avail *vq_avail;
	volatile struct virtq_used *vq_used;
	uint64_t vq_desc_gpa, vq_avail_gpa, vq_used_gpa;
	uint16_t vq_last_avail;             /* the next available entry to take */
	uint32_t vq_taken;                  /* chains taken since used->idx was published */
	uint16_t vq_used_idx;               /* used->idx once published */
	uint16_t vq_signalled;              /* vq_used_idx at the last interrupt decision */
};

/* One buffer of a chain: device-readable or device-writable. */
struct virtq_seg {
	uint64_t vs_gpa;
	uint32_t vs_len;
	bool vs_write;
	uint8_t *vs_host;                   /* NULL when [gpa, gpa + len) is not guest RAM */
};

enum virtq_chain_err {
	VIRTQ_CHAIN_OK,
	VIRTQ_CHAIN_ERANGE,     /* a buffer outside guest RAM (or wrapping 2^64) */
	VIRTQ_CHAIN_EZERO,      /* a zero-length buffer */
	VIRTQ_CHAIN_EORDER,     /* a device-readable buffer after a device-writable one */
};

/* A chain, copied out of the descriptor table. */
struct virtq_chain {
	uint16_t vc_head;
	uint16_t vc_nseg;
	uint16_t vc_nread;                  /* vc_seg[0 .. vc_nread) are device-readable */
	enum virtq_chain_err vc_err;        /* the first problem found, or VIRTQ_CHAIN_OK */
	uint64_t vc_read_bytes, vc_write_bytes;
	struct virtq_seg vc_seg[VIRTQ_NUM_MAX];
};

enum virtq_pop_result {
	VIRTQ_POP_EMPTY,        /* nothing available */
	VIRTQ_POP_CHAIN,        /* *c holds a chain (check vc_err); it must be pushed back */
	VIRTQ_POP_BROKEN,       /* the ring is unusable: *why says how; nothing was taken */
};

/*
 * Set vq up on the rings the driver named: num a power of 2 up to VIRTQ_NUM_MAX, each
 * ring aligned and wholly in guest RAM (EVENT_IDX's trailing words included). => NULL,
 * or why not (vq is then left with vq_num 0).
 */
const char *virtq_setup(struct virtq *vq, const struct guest_mem *gm, uint16_t num,
    uint64_t desc, uint64_t avail, uint64_t used, bool event_idx);

/* Take the next available chain into *c. */
enum virtq_pop_result virtq_pop(struct virtq *vq, struct virtq_chain *c, const char **why);

/* Is there an available chain not yet taken? (A hint: the guest may add more.) */
bool virtq_has_avail(const struct virtq *vq);

/* Put head back on the used ring with len bytes written; seen by the guest at publish. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/* Make the pushed entries visible (used->idx), after the data and the entries. */
void virtq_publish(struct virtq *vq);

/*
 * After a publish: does the driver want an interrupt for what was published since the
 * last call? (used_event with EVENT_IDX, else the NO_INTERRUPT flag.)
 */
bool virtq_need_interrupt(struct virtq *vq);

/*
 * About to sleep: ask the driver to notify at its next available entry (avail_event, or
 * clearing NO_NOTIFY). => true when entries arrived meanwhile (do not sleep).
 */
bool virtq_enable_notify(struct virtq *vq);

/* Busy: notifications are not needed (without EVENT_IDX: NO_NOTIFY). */
void virtq_disable_notify(struct virtq *vq);

#endif /* DEVICES_VIRTQ_H */
