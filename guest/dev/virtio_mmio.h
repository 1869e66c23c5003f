/*
 * The virtio-mmio transport, version 2 (virtio 1.1 section 4.2): the devices the
 * command line announces in Linux's syntax, `virtio_mmio.device=SIZE@ADDRESS:IRQ`
 * (SIZE with an optional K, M or G; ADDRESS and IRQ in C's notation: 0x for hex), one
 * word per device. virtio_mmio_probe maps each window, checks it, and hands the
 * devices it has a driver for to that driver (virtio_blk_attach); an empty window
 * (device ID 0, as QEMU's microvm leaves its spare ones) is passed over.
 *
 * A driver then uses the calls below in the order of section 3.1.1: reset, status
 * ACKNOWLEDGE | DRIVER (virtio_mmio_reset_and_ack), features
 * (virtio_mmio_negotiate: FEATURES_OK set and read back), its configuration, queues
 * (virtio_mmio_queue_setup), interrupt (virtio_mmio_intr_setup), DRIVER_OK.
 *
 * Interrupts: the device's IRQ is an IOAPIC pin (amd64/ioapic.h), edge-triggered. The
 * handler reads InterruptStatus, writes the same bits to InterruptACK, then calls the
 * driver's vd_intr, which must only wake a thread (no VM mutex in interrupt context):
 * the thread scans the used ring after the ACK, so a completion that comes after the
 * ACK is either seen by that scan or raises the line again.
 */
#ifndef DEV_VIRTIO_MMIO_H
#define DEV_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio.h"

struct virtq;

#define VIRTIO_MMIO_MAX_DEVICES 8

struct virtio_mmio_dev {
	volatile uint8_t *vd_regs;      /* the window, mapped uncached */
	uint64_t vd_pa;
	uint64_t vd_size;
	unsigned vd_irq;                /* the IOAPIC pin */
	int vd_vector;                  /* its vector, -1 until virtio_mmio_intr_setup */
	uint32_t vd_device_id;
	uint64_t vd_features;           /* negotiated */
	void (*vd_intr)(struct virtio_mmio_dev *vd, uint32_t status);  /* the driver's */
	void *vd_softc;                 /* the driver's */
	uint64_t vd_nintr;              /* interrupts that found status bits set */
};

/*
 * Parse one `virtio_mmio.device=` value. => true and the window's size, physical
 * address and IRQ, or false when it is not SIZE@ADDRESS:IRQ (size 0, a window that
 * wraps, an IRQ beyond 255, trailing bytes).
 */
bool virtio_mmio_parse(const char *s, uint64_t *size, uint64_t *pa, unsigned *irq);

/*
 * Probe every device the command line names and attach the drivers. A word that does
 * not parse, a window without the magic or of another version, or a driver that
 * fails is reported on the console and passed over: the boot goes on without that
 * device. => the number of devices attached. Once, after the scheduler; may sleep.
 */
int virtio_mmio_probe(void);

static inline uint32_t virtio_mmio_read(const struct virtio_mmio_dev *vd, unsigned off)
{
	return *(volatile uint32_t *)(vd->vd_regs + off);
}

static inline void virtio_mmio_write(struct virtio_mmio_dev *vd, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(vd->vd_regs + off) = v;
}

/* Reset the device, then set ACKNOWLEDGE and DRIVER. => false when it does not read
 * back 0 after the reset. */
bool virtio_mmio_reset_and_ack(struct virtio_mmio_dev *vd);

/*
 * Accept what the device offers of wanted (VIRTIO_F_VERSION_1 must be offered),
 * set FEATURES_OK and check that it stays set. => true and vd_features set; false
 * (status FAILED set, a message printed) otherwise.
 */
bool virtio_mmio_negotiate(struct virtio_mmio_dev *vd, uint64_t wanted);

/* The device-specific configuration field of len bytes (1, 2, 4 or 8, naturally
 * aligned) at off, read consistently (the generation counter the same before and
 * after). */
void virtio_mmio_config_read(struct virtio_mmio_dev *vd, unsigned off, void *buf,
    unsigned len);

/* Queue index: the device's largest size for it. 0: no such queue. */
uint16_t virtio_mmio_queue_max(struct virtio_mmio_dev *vd, unsigned index);
/* Tell the device where queue index's rings are (vq made by virtq_init) and enable it.
 * => false when the queue is in use already or too small for vq. */
bool virtio_mmio_queue_setup(struct virtio_mmio_dev *vd, unsigned index,
    const struct virtq *vq);

/* Route the IRQ (IOAPIC) to the transport's handler, which calls intr. => false when
 * the pin cannot be routed. */
bool virtio_mmio_intr_setup(struct virtio_mmio_dev *vd,
    void (*intr)(struct virtio_mmio_dev *vd, uint32_t status));

/* OR bits into the device status (DRIVER_OK, FAILED). */
void virtio_mmio_set_status(struct virtio_mmio_dev *vd, uint32_t bits);

static inline void virtio_mmio_notify(struct virtio_mmio_dev *vd, unsigned index)
{
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_NOTIFY, index);
}

#endif /* DEV_VIRTIO_MMIO_H */
