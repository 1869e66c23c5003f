/*
 * libFuzzer target: virtqueues from a hostile driver. The input is a small guest RAM as
 * the driver left it (descriptor table, available ring, headers, buffers: anything),
 * preceded by where the rings are and how large the queue is. The device side takes
 * every chain it can (devices/virtq.c), makes a virtio-blk request of each
 * (devices/virtio_blk.c's checks; the I/O itself is not done), answers it on the used
 * ring, and runs the EVENT_IDX handshake. The host must touch nothing but guest RAM
 * (ASan), never loop (libFuzzer's timeout), never crash, and take at most a queue's
 * worth of chains per available index.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_blk.h"
#include "devices/virtq.h"
#include "vmm/guest_mem.h"

#define FUZZ_RAM    (256u << 10)
#define FUZZ_HDR    8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static struct virtio_blk *b;
	static struct virtq_chain chain;
	static struct blk_req req;

	if (b == NULL) {
		if (guest_mem_init(&gm, FUZZ_RAM) != 0)
			abort();
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			abort();
	}
	if (size < FUZZ_HDR)
		return 0;
	/* Where the rings are: mostly sane, sometimes anywhere. */
	uint16_t num = (uint16_t)(1u << (data[0] % 10));       /* 1 .. 512 */
	bool event_idx = data[1] & 1;
	uint64_t desc = (uint64_t)data[2] << 8, avail = (uint64_t)data[3] << 8;
	uint64_t used = (uint64_t)data[4] << 8 | (data[5] & 0x0f);
	if (data[1] & 0x80)
		desc |= (uint64_t)data[6] << 56;
	unsigned rounds = data[7] % 4 + 1;
	bool ro = data[5] & 0x10;
	unsigned fail_every = data[7] >> 4;
	data += FUZZ_HDR;
	size -= FUZZ_HDR;
	memset(gm.gm_base, 0, FUZZ_RAM);
	memcpy(gm.gm_base, data, size < FUZZ_RAM ? size : FUZZ_RAM);

	memset(b, 0, sizeof(*b));
	b->vb_gm = &gm;
	b->vb_capacity = 1024;
	b->vb_ro = ro;
	b->vb_quiet = true;
	b->vb_fail_every = fail_every;

	struct virtq vq;
	if (virtq_setup(&vq, &gm, num, desc, avail, used, event_idx) != NULL)
		return 0;
	for (unsigned r = 0; r < rounds; r++) {
		unsigned taken = 0;
		for (;;) {
			const char *why;
			enum virtq_pop_result pr = virtq_pop(&vq, &chain, &why);
			if (pr != VIRTQ_POP_CHAIN)
				break;
			if (++taken > vq.vq_num)
				abort();        /* more chains than the guest could have offered */
			virtio_blk_parse(b, &chain, &req);
			if (req.br_op != BLK_OP_NONE)
				virtio_blk_io_done(b, &req, (int64_t)req.br_len);
			virtio_blk_complete(b, &vq, &req);
		}
		virtq_publish(&vq);
		(void)virtq_need_interrupt(&vq);
		if (!virtq_enable_notify(&vq))
			break;
		virtq_disable_notify(&vq);
	}
	return 0;
}
