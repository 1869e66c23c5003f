/*
 * The split virtqueue, device side (virtq.h says what is checked and why). Memory order:
 * the guest writes ring entries and then the index, so the index is read first and
 * everything after it behind an acquire fence; we write used entries and then used->idx
 * behind a release fence; an index published or an event word written is followed by a
 * full fence before the other side's word is read (the EVENT_IDX handshake).
 */
#include <string.h>

#include "devices/virtq.h"
#include "vmm/guest_mem.h"

/* The EVENT_IDX words after each ring (validated with the rings at set-up). */
#define VQ_AVAIL_EVENT(vq)  ((volatile uint16_t *)((uintptr_t)(vq)->vq_used + \
	VIRTQ_USED_BYTES((vq)->vq_num) - 2))
#define VQ_USED_EVENT(vq)   (&(vq)->vq_avail->ring[(vq)->vq_num])

const char *virtq_setup(struct virtq *vq, const struct guest_mem *gm, uint16_t num,
    uint64_t desc, uint64_t avail, uint64_t used, bool event_idx)
{
	memset(vq, 0, sizeof(*vq));
	if (num == 0 || num > VIRTQ_NUM_MAX || (num & (num - 1)) != 0)
		return "queue size is not a power of 2 up to QueueNumMax";
	if (desc % VIRTQ_DESC_ALIGN != 0 || avail % VIRTQ_AVAIL_ALIGN != 0 ||
	    used % VIRTQ_USED_ALIGN != 0)
		return "a ring is misaligned";
	void *d = guest_mem_ptr(gm, desc, VIRTQ_DESC_BYTES(num));
	void *a = guest_mem_ptr(gm, avail, VIRTQ_AVAIL_BYTES(num));
	void *u = guest_mem_ptr(gm, used, VIRTQ_USED_BYTES(num));
	if (d == NULL || a == NULL || u == NULL)
		return "a ring is not in guest RAM";
	vq->vq_gm = gm;
	vq->vq_num = num;
	vq->vq_event_idx = event_idx;
	vq->vq_desc = d;
	vq->vq_avail = a;
	vq->vq_used = u;
	vq->vq_desc_gpa = desc;
	vq->vq_avail_gpa = avail;
	vq->vq_used_gpa = used;
	/* The device starts where a fresh ring starts (section 2.6.14.1: idx 0). */
	vq->vq_last_avail = 0;
	vq->vq_taken = 0;
	vq->vq_used_idx = 0;
	vq->vq_signalled = 0;
	return NULL;
}

/* Chains virtq_pop would take now: offered, and within a queue's worth a publication. */
static bool virtq_takeable(const struct virtq *vq)
{
	return vq->vq_avail->idx != vq->vq_last_avail && vq->vq_taken < vq->vq_num;
}

bool virtq_has_avail(const struct virtq *vq)
{
	return vq->vq_num != 0 && virtq_takeable(vq);
}

/* Copy one descriptor out of the table (index already checked). */
static struct virtq_desc virtq_read_desc(const struct virtq *vq, uint16_t i)
{
	volatile struct virtq_desc *d = &vq->vq_desc[i];
	struct virtq_desc c = { .addr = d->addr, .len = d->len, .flags = d->flags,
		.next = d->next };

	return c;
}

enum virtq_pop_result virtq_pop(struct virtq *vq, struct virtq_chain *c, const char **why)
{
	static const char *const none = "";

	*why = none;
	if (vq->vq_num == 0)
		return VIRTQ_POP_EMPTY;
	/* No honest driver offers more than a queue's worth without seeing any back: more
	 * can only be a ring that feeds itself (a used ring laid over the available one,
	 * so that the device's own writes move the index), and taking on would never end. */
	if (vq->vq_taken >= vq->vq_num)
		return VIRTQ_POP_EMPTY;
	uint16_t avail_idx = vq->vq_avail->idx;
	uint16_t pending = (uint16_t)(avail_idx - vq->vq_last_avail);
	if (pending == 0)
		return VIRTQ_POP_EMPTY;
	if (pending > vq->vq_num) {
		*why = "the available index ran more than the queue size ahead";
		return VIRTQ_POP_BROKEN;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint16_t head = vq->vq_avail->ring[vq->vq_last_avail & (vq->vq_num - 1)];
	if (head >= vq->vq_num) {
		*why = "an available entry names a descriptor beyond the queue size";
		return VIRTQ_POP_BROKEN;
	}

	c->vc_head = head;
	c->vc_nseg = 0;
	c->vc_nread = 0;
	c->vc_err = VIRTQ_CHAIN_OK;
	c->vc_read_bytes = c->vc_write_bytes = 0;
	uint16_t i = head;
	for (;;) {
		/* A chain of more descriptors than the table has visits one twice: a loop. */
		if (c->vc_nseg == vq->vq_num) {
			*why = "a descriptor chain is longer than the queue (a loop)";
			return VIRTQ_POP_BROKEN;
		}
		struct virtq_desc d = virtq_read_desc(vq, i);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			*why = "an indirect descriptor (VIRTIO_F_INDIRECT_DESC is not offered)";
			return VIRTQ_POP_BROKEN;
		}
		struct virtq_seg *s = &c->vc_seg[c->vc_nseg++];
		s->vs_gpa = d.addr;
		s->vs_len = d.len;
		s->vs_write = (d.flags & VIRTQ_DESC_F_WRITE) != 0;
		/* The accessor compares offsets, never addr + len: no sum can wrap. */
		s->vs_host = guest_mem_ptr(vq->vq_gm, d.addr, d.len);
		if (c->vc_err == VIRTQ_CHAIN_OK) {
			if (d.len == 0)
				c->vc_err = VIRTQ_CHAIN_EZERO;
			else if (s->vs_host == NULL)
				c->vc_err = VIRTQ_CHAIN_ERANGE;
			else if (!s->vs_write && c->vc_write_bytes != 0)
				c->vc_err = VIRTQ_CHAIN_EORDER;
		}
		if (s->vs_write) {
			c->vc_write_bytes += d.len;
		} else {
			c->vc_read_bytes += d.len;
			if (c->vc_write_bytes == 0)
				c->vc_nread = c->vc_nseg;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= vq->vq_num) {
			*why = "a descriptor's next index is beyond the queue size";
			return VIRTQ_POP_BROKEN;
		}
		i = d.next;
	}
	vq->vq_last_avail++;
	vq->vq_taken++;
	return VIRTQ_POP_CHAIN;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	volatile struct virtq_used_elem *e = &vq->vq_used->ring[vq->vq_used_idx &
	    (vq->vq_num - 1)];

	e->id = head;
	e->len = len;
	vq->vq_used_idx++;
}

void virtq_publish(struct virtq *vq)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->vq_used->idx = vq->vq_used_idx;
	vq->vq_taken = 0;
}

bool virtq_need_interrupt(struct virtq *vq)
{
	uint16_t old = vq->vq_signalled, now = vq->vq_used_idx;

	/* Our used->idx store before the driver's used_event or flags load. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->vq_signalled = now;
	if (old == now)
		return false;
	if (vq->vq_event_idx)
		return virtq_need_event(*VQ_USED_EVENT(vq), now, old);
	return !(vq->vq_avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (vq->vq_num == 0)
		return false;
	if (vq->vq_event_idx)
		*VQ_AVAIL_EVENT(vq) = vq->vq_last_avail;
	else
		vq->vq_used->flags = 0;
	/* Our event word before the driver's avail->idx: else a request added just now
	 * would be seen by neither side. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_takeable(vq);
}

void virtq_disable_notify(struct virtq *vq)
{
	if (vq->vq_num != 0 && !vq->vq_event_idx)
		vq->vq_used->flags = VIRTQ_USED_F_NO_NOTIFY;
}
