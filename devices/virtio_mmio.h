/*
 * The virtio-mmio version 2 transport (virtio 1.1 section 4.2.2), generic over a device:
 * the register window, feature negotiation (DeviceFeaturesSel / DriverFeaturesSel, then
 * FEATURES_OK), the device status and reset, queue set-up (QueueSel, QueueNumMax,
 * QueueNum, the three ring addresses, QueueReady), the device's configuration space with
 * ConfigGeneration, and InterruptStatus / InterruptACK. The device model supplies the
 * numbers and the configuration bytes, and is handed its queues at DRIVER_OK.
 *
 * Threads: register accesses come from a vCPU thread and are serialised by tr_lock. The
 * device's own thread touches only tr_isr and tr_needs_reset (atomics) through
 * virtio_mmio_interrupt and virtio_mmio_needs_reset, and the queues between
 * vdo_start and vdo_reset, which the device must honour: after vdo_reset returns it
 * touches neither the queues nor guest memory. Lock order: tr_lock, then the device's;
 * the device thread never takes tr_lock.
 */
#ifndef DEVICES_VIRTIO_MMIO_H
#define DEVICES_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio.h"
#include "devices/virtq.h"

struct guest_mem;

#define VIRTIO_MMIO_MAX_QUEUES  2

struct virtio_dev_ops {
	uint32_t vdo_device_id;
	unsigned vdo_nqueues;               /* at most VIRTIO_MMIO_MAX_QUEUES */
	uint16_t vdo_queue_num_max;         /* at most VIRTQ_NUM_MAX */
	/* DRIVER_OK: the negotiated features and the queues (vq_num 0: not made ready).
	 * The device owns vqs[0 .. n) from now until vdo_reset returns. */
	void (*vdo_start)(void *dev, struct virtq *vqs, unsigned n, uint64_t features);
	/* The driver reset the device: stop touching the queues and guest memory (wait for
	 * I/O in flight) before returning. Called only after vdo_start. */
	void (*vdo_reset)(void *dev);
	/* A QueueNotify write that reached the VMM (not one KVM turned into an eventfd). */
	void (*vdo_notify)(void *dev, unsigned queue);
};

/* The registers of one queue, as the driver wrote them. */
struct virtio_mmio_queue {
	uint16_t mq_num;
	bool mq_ready;
	uint64_t mq_desc, mq_driver, mq_device;
};

struct virtio_mmio {
	pthread_mutex_t tr_lock;            /* every register below */
	const struct virtio_dev_ops *tr_ops;
	void *tr_dev;
	const struct guest_mem *tr_gm;
	uint64_t tr_dev_features;           /* what the device offers */
	const void *tr_config;              /* its configuration space */
	uint32_t tr_config_len;
	uint32_t tr_config_gen;

	uint32_t tr_status;                 /* without NEEDS_RESET (tr_needs_reset) */
	uint32_t tr_dev_feat_sel, tr_drv_feat_sel, tr_queue_sel;
	uint64_t tr_drv_features;           /* what the driver accepted */
	bool tr_started;                    /* vdo_start was called, vdo_reset not yet */
	struct virtio_mmio_queue tr_q[VIRTIO_MMIO_MAX_QUEUES];
	struct virtq tr_vq[VIRTIO_MMIO_MAX_QUEUES];

	_Atomic uint32_t tr_isr;            /* InterruptStatus */
	atomic_bool tr_needs_reset;
	void (*tr_irq)(void *ctx);          /* raise the device's interrupt (an edge) */
	void *tr_irq_ctx;

	/* Register accesses refused (wrong width, wrong time, bad value), for -v. */
	uint64_t tr_nbad;
	const char *tr_last_bad;            /* what the last refusal was */
};

/*
 * A transport for ops/dev offering features (VIRTIO_F_VERSION_1 is added), with config
 * bytes (constant: generation 0) and an interrupt callback.
 */
void virtio_mmio_init(struct virtio_mmio *tr, const struct guest_mem *gm,
    const struct virtio_dev_ops *ops, void *dev, uint64_t features, const void *config,
    uint32_t config_len, void (*irq)(void *ctx), void *irq_ctx);
void virtio_mmio_destroy(struct virtio_mmio *tr);

/* A guest access at offset off of the window, len 1, 2, 4 or 8 bytes. */
uint64_t virtio_mmio_read(struct virtio_mmio *tr, uint64_t off, unsigned len);
void virtio_mmio_write(struct virtio_mmio *tr, uint64_t off, unsigned len, uint64_t val);

/* Device thread: set InterruptStatus bits and raise the interrupt. */
void virtio_mmio_interrupt(struct virtio_mmio *tr, uint32_t why);

/* Device thread: the device hit an error it cannot recover from without a reset. */
void virtio_mmio_needs_reset(struct virtio_mmio *tr);

/* Is the interrupt line up (InterruptStatus not zero)? */
bool virtio_mmio_irq_pending(struct virtio_mmio *tr);

#endif /* DEVICES_VIRTIO_MMIO_H */
