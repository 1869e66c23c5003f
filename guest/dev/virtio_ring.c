/*
 * The split virtqueue (virtio_ring.h). Layout in one contigmalloc block, each ring at
 * its specification alignment:
 *
 *   desc[num]                          16 bytes each, 16-aligned
 *   avail: flags, idx, ring[num], used_event
 *   used:  flags, idx, ring[num] (8 bytes each), avail_event     4-aligned
 */
#include "dev/virtio_ring.h"
#include "kern/systm.h"

#include "vm/malloc.h"
#include "vm/vm.h"
#include "vm/vm_errno.h"
#include "vm/vm_macros.h"
#include "vm/vm_platform.h"

MALLOC_DEFINE(M_VIRTQ, "virtq");

/* A store must be visible before a later load (x86-64 may reorder that pair alone). */
static inline void virtq_store_load_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int virtq_init(struct virtq *vq, uint16_t num, bool event_idx)
{
	KASSERT(num >= 2 && (num & (num - 1)) == 0, ("virtq_init: %u entries", num));
	uint64_t avail_off = VIRTQ_DESC_BYTES(num);
	uint64_t used_off = roundup2(avail_off + VIRTQ_AVAIL_BYTES(num),
	    (uint64_t)VIRTQ_USED_ALIGN);
	uint64_t bytes = round_page(used_off + VIRTQ_USED_BYTES(num));

	*vq = (struct virtq){ .vq_num = num, .vq_event_idx = event_idx };
	/* Page-aligned, which covers every ring's alignment; anywhere in RAM (the
	 * device takes 64-bit addresses). */
	uint8_t *mem = contigmalloc(bytes, M_VIRTQ, M_WAITOK | M_ZERO, 0, ~(vm_paddr_t)0,
	    PAGE_SIZE, 0);
	if (mem == NULL)
		return ENOMEM;
	uint64_t pa = vm_dmap_to_phys(mem);
	vq->vq_mem = mem;
	vq->vq_mem_bytes = bytes;
	vq->vq_desc = (struct virtq_desc *)mem;
	vq->vq_avail = (struct virtq_avail *)(mem + avail_off);
	vq->vq_used = (struct virtq_used *)(mem + used_off);
	vq->vq_used_event = &vq->vq_avail->ring[num];
	vq->vq_avail_event = (uint16_t *)&vq->vq_used->ring[num];
	vq->vq_desc_pa = pa;
	vq->vq_avail_pa = pa + avail_off;
	vq->vq_used_pa = pa + used_off;
	for (uint16_t i = 0; i < num - 1; i++)
		vq->vq_desc[i].next = i + 1;
	vq->vq_free_head = 0;
	vq->vq_nfree = num;
	return 0;
}

void virtq_fini(struct virtq *vq)
{
	if (vq->vq_mem != NULL)
		contigfree(vq->vq_mem, vq->vq_mem_bytes, M_VIRTQ);
	*vq = (struct virtq){ 0 };
}

int virtq_add(struct virtq *vq, const struct virtq_seg *segs, unsigned n)
{
	KASSERT(n >= 1, ("virtq_add: an empty chain"));
	if (n > vq->vq_nfree)
		return -1;
	uint16_t head = vq->vq_free_head, d = head;
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *desc = &vq->vq_desc[d];
		KASSERT(i == 0 || !segs[i - 1].vs_device_writes || segs[i].vs_device_writes,
		    ("virtq_add: a device-readable buffer after a writable one"));
		desc->addr = segs[i].vs_pa;
		desc->len = segs[i].vs_len;
		desc->flags = (segs[i].vs_device_writes ? VIRTQ_DESC_F_WRITE : 0) |
		    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		if (i + 1 < n)
			d = desc->next;
	}
	vq->vq_free_head = vq->vq_desc[d].next;
	vq->vq_nfree -= (uint16_t)n;
	vq->vq_avail->ring[vq->vq_avail_shadow & (vq->vq_num - 1)] = head;
	vq->vq_avail_shadow++;
	return head;
}

bool virtq_kick_prepare(struct virtq *vq)
{
	uint16_t old = vq->vq_avail_kicked, new_idx = vq->vq_avail_shadow;

	if (old == new_idx)
		return false;
	/* The descriptors and ring entries before the index that makes them the
	 * device's (a release store: x86-64 needs only the compiler kept in order). */
	__atomic_store_n(&vq->vq_avail->idx, new_idx, __ATOMIC_RELEASE);
	vq->vq_avail_kicked = new_idx;
	/* The device reads our index, then writes its event word and re-checks our
	 * index: we must read its event word after our index is visible. */
	virtq_store_load_fence();
	bool kick;
	if (vq->vq_event_idx)
		kick = virtq_need_event(__atomic_load_n(vq->vq_avail_event, __ATOMIC_ACQUIRE),
		    new_idx, old);
	else
		kick = (__atomic_load_n(&vq->vq_used->flags, __ATOMIC_ACQUIRE) &
		    VIRTQ_USED_F_NO_NOTIFY) == 0;
	if (kick)
		vq->vq_nkicks++;
	else
		vq->vq_nkick_skips++;
	return kick;
}

bool virtq_used_next(struct virtq *vq, uint32_t *head, uint32_t *len)
{
	uint16_t used_idx = __atomic_load_n(&vq->vq_used->idx, __ATOMIC_ACQUIRE);

	if (used_idx == vq->vq_used_last)
		return false;
	/* The entry is read after the index that published it (the acquire above). */
	const struct virtq_used_elem *e = &vq->vq_used->ring[vq->vq_used_last &
	    (vq->vq_num - 1)];
	*head = e->id;
	*len = e->len;
	vq->vq_used_last++;
	return true;
}

unsigned virtq_free_chain(struct virtq *vq, uint16_t head)
{
	KASSERT(head < vq->vq_num, ("virtq_free_chain: head %u of %u", head, vq->vq_num));
	unsigned n = 1;
	uint16_t d = head;
	while (vq->vq_desc[d].flags & VIRTQ_DESC_F_NEXT) {
		d = vq->vq_desc[d].next;
		n++;
		KASSERT(n <= vq->vq_num, ("virtq_free_chain: a loop from head %u", head));
	}
	vq->vq_desc[d].next = vq->vq_free_head;
	vq->vq_free_head = head;
	vq->vq_nfree += (uint16_t)n;
	KASSERT(vq->vq_nfree <= vq->vq_num, ("virtq_free_chain: %u free of %u",
	    vq->vq_nfree, vq->vq_num));
	return n;
}

void virtq_intr_disable(struct virtq *vq)
{
	if (vq->vq_event_idx)
		__atomic_store_n(vq->vq_used_event, (uint16_t)(vq->vq_used_last - 1),
		    __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->vq_avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT,
		    __ATOMIC_RELAXED);
}

bool virtq_intr_enable(struct virtq *vq)
{
	if (vq->vq_event_idx)
		__atomic_store_n(vq->vq_used_event, vq->vq_used_last, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&vq->vq_avail->flags, 0, __ATOMIC_RELEASE);
	/* The device writes a used entry, then reads our event word: it must see the
	 * word before we look at its index again, or both would wait for the other. */
	virtq_store_load_fence();
	return virtq_used_pending(vq);
}
