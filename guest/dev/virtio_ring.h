/*
 * The split virtqueue, the driver's side (virtio 1.1 section 2.6): the three rings in
 * physically contiguous kernel memory, the free-descriptor list, publishing chains
 * in the available ring, reaping the used ring, and the EVENT_IDX decisions of when
 * to notify the device and when to ask it for an interrupt. Transport-neutral: the
 * transport (virtio_mmio.c) tells the device where the rings are and delivers the
 * notifications this module decides on.
 *
 * Locking is the caller's: the available side (virtq_add, virtq_kick_prepare,
 * virtq_free_chain: the free list) under the driver's mutex; the used side
 * (virtq_used_next, virtq_intr_enable, virtq_used_pending) by one consumer at a time.
 * x86-64 keeps stores in order and loads in order, so the ring protocol needs a
 * compiler barrier where the order of stores matters and a full fence only where a
 * store must be seen before a later load (the two EVENT_IDX checks).
 */
#ifndef DEV_VIRTIO_RING_H
#define DEV_VIRTIO_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio.h"

/* One buffer of a chain: guest-physical, len bytes; device_writes: the device fills it. */
struct virtq_seg {
	uint64_t vs_pa;
	uint32_t vs_len;
	bool vs_device_writes;
};

struct virtq {
	uint16_t vq_num;                /* entries: a power of 2 */
	bool vq_event_idx;              /* VIRTIO_F_EVENT_IDX negotiated */
	uint16_t vq_nfree;              /* descriptors on the free list */
	uint16_t vq_free_head;          /* first free descriptor, linked through next */
	uint16_t vq_avail_shadow;       /* avail->idx as it will be published */
	uint16_t vq_avail_kicked;       /* avail->idx at the last notify decision */
	uint16_t vq_used_last;          /* the next used entry to reap */
	struct virtq_desc *vq_desc;
	struct virtq_avail *vq_avail;
	struct virtq_used *vq_used;
	uint16_t *vq_used_event;        /* after avail->ring[num]: interrupt me at this */
	uint16_t *vq_avail_event;       /* after used->ring[num]: notify the device at this */
	void *vq_mem;                   /* the rings' memory (contigmalloc) */
	uint64_t vq_mem_bytes;
	uint64_t vq_desc_pa, vq_avail_pa, vq_used_pa;
	uint64_t vq_nkicks;             /* notifications the device asked for */
	uint64_t vq_nkick_skips;        /* publications EVENT_IDX let go without one */
};

/* Rings for num entries (a power of 2, 2..VIRTQ_MAX_SIZE), zeroed, every descriptor
 * free. => 0, or ENOMEM. May sleep. */
int virtq_init(struct virtq *vq, uint16_t num, bool event_idx);
void virtq_fini(struct virtq *vq);

/* The descriptor the next virtq_add will use as its chain's head, so that the caller
 * can key per-request memory (a header, a status byte) by it. => -1 when none free. */
static inline int virtq_next_head(const struct virtq *vq)
{
	return vq->vq_nfree > 0 ? vq->vq_free_head : -1;
}

/*
 * Chain segs[0..n) (n >= 1) from the free list, device-readable ones first as the
 * specification wants, and append its head to the available ring (not yet published:
 * virtq_kick_prepare does that for every chain added since).
 * => the head (what virtq_next_head named), or -1 when fewer than n are free.
 */
int virtq_add(struct virtq *vq, const struct virtq_seg *segs, unsigned n);

/* Publish the chains added since the last call; => true when the device must be
 * notified (EVENT_IDX: it asked to hear of an index now passed; otherwise unless it
 * said VIRTQ_USED_F_NO_NOTIFY). */
bool virtq_kick_prepare(struct virtq *vq);

/* The next used entry: its head and the bytes the device wrote. => false when the
 * used ring holds nothing new. */
bool virtq_used_next(struct virtq *vq, uint32_t *head, uint32_t *len);

/* Give the chain at head back to the free list. => its length in descriptors. */
unsigned virtq_free_chain(struct virtq *vq, uint16_t head);

/* Anything in the used ring not reaped yet? */
static inline bool virtq_used_pending(const struct virtq *vq)
{
	return __atomic_load_n(&vq->vq_used->idx, __ATOMIC_ACQUIRE) != vq->vq_used_last;
}

/* Ask for an interrupt at the next used entry (EVENT_IDX: used_event = what is reaped;
 * otherwise clear VIRTQ_AVAIL_F_NO_INTERRUPT). => true when entries arrived meanwhile:
 * reap them, since their interrupt may have been decided before the request. */
bool virtq_intr_enable(struct virtq *vq);

/* Ask for no interrupt (EVENT_IDX: used_event one behind what is reaped, which no new
 * entry crosses; otherwise set VIRTQ_AVAIL_F_NO_INTERRUPT, a hint). The entries still
 * arrive: whoever disables them polls (virtq_used_pending). */
void virtq_intr_disable(struct virtq *vq);

#endif /* DEV_VIRTIO_RING_H */
