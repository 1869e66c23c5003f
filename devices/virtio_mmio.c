/*
 * The virtio-mmio version 2 register window (virtio_mmio.h). What a driver may write
 * when, as the specification's "driver requirements" say; anything else is ignored and
 * counted (tr_nbad), never fatal: a hostile driver gets a device that does nothing.
 */
#include <string.h>

#include "devices/virtio_mmio.h"

#define TR_DRIVER_BITS  (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
	VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED)

void virtio_mmio_init(struct virtio_mmio *tr, const struct guest_mem *gm,
    const struct virtio_dev_ops *ops, void *dev, uint64_t features, const void *config,
    uint32_t config_len, void (*irq)(void *ctx), void *irq_ctx)
{
	memset(tr, 0, sizeof(*tr));
	pthread_mutex_init(&tr->tr_lock, NULL);
	tr->tr_gm = gm;
	tr->tr_ops = ops;
	tr->tr_dev = dev;
	tr->tr_dev_features = features | 1ull << VIRTIO_F_VERSION_1;
	tr->tr_config = config;
	tr->tr_config_len = config_len;
	tr->tr_irq = irq;
	tr->tr_irq_ctx = irq_ctx;
	atomic_init(&tr->tr_isr, 0);
	atomic_init(&tr->tr_needs_reset, false);
}

void virtio_mmio_destroy(struct virtio_mmio *tr)
{
	pthread_mutex_destroy(&tr->tr_lock);
}

static void tr_bad(struct virtio_mmio *tr, const char *what)
{
	tr->tr_nbad++;
	tr->tr_last_bad = what;
}

/* Back to the reset state; the device stopped first. */
static void tr_reset(struct virtio_mmio *tr)
{
	if (tr->tr_started) {
		tr->tr_ops->vdo_reset(tr->tr_dev);
		tr->tr_started = false;
	}
	tr->tr_status = 0;
	tr->tr_dev_feat_sel = tr->tr_drv_feat_sel = tr->tr_queue_sel = 0;
	tr->tr_drv_features = 0;
	memset(tr->tr_q, 0, sizeof(tr->tr_q));
	memset(tr->tr_vq, 0, sizeof(tr->tr_vq));
	atomic_store(&tr->tr_isr, 0);
	atomic_store(&tr->tr_needs_reset, false);
}

static struct virtio_mmio_queue *tr_sel_queue(struct virtio_mmio *tr)
{
	return tr->tr_queue_sel < tr->tr_ops->vdo_nqueues ? &tr->tr_q[tr->tr_queue_sel] : NULL;
}

/* The driver's new status: bits are only ever added, one step at a time; 0 resets. */
static void tr_write_status(struct virtio_mmio *tr, uint32_t val)
{
	if (val == 0) {
		tr_reset(tr);
		return;
	}
	uint32_t old = tr->tr_status, add = val & ~old;
	if ((val & old) != old || (val & ~TR_DRIVER_BITS) != 0) {
		tr_bad(tr, "status bits cleared without a reset, or unknown bits");
		val = old | (val & TR_DRIVER_BITS);
		add = val & ~old;
	}
	if (add & VIRTIO_STATUS_FEATURES_OK) {
		/* Only what was offered, and the modern interface (section 6.1). */
		if (!(old & VIRTIO_STATUS_DRIVER) ||
		    (tr->tr_drv_features & ~tr->tr_dev_features) != 0 ||
		    !(tr->tr_drv_features & (1ull << VIRTIO_F_VERSION_1))) {
			tr_bad(tr, "FEATURES_OK with features not offered or without VERSION_1");
			val &= ~VIRTIO_STATUS_FEATURES_OK;
			add &= ~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	if (add & VIRTIO_STATUS_DRIVER_OK) {
		if (!(val & VIRTIO_STATUS_FEATURES_OK)) {
			tr_bad(tr, "DRIVER_OK before FEATURES_OK");
			val &= ~VIRTIO_STATUS_DRIVER_OK;
			add &= ~VIRTIO_STATUS_DRIVER_OK;
		}
	}
	tr->tr_status = val;
	if ((add & VIRTIO_STATUS_DRIVER_OK) && !tr->tr_started &&
	    !(val & VIRTIO_STATUS_FAILED)) {
		tr->tr_started = true;
		tr->tr_ops->vdo_start(tr->tr_dev, tr->tr_vq, tr->tr_ops->vdo_nqueues,
		    tr->tr_drv_features);
	}
}

/* QueueReady = 1: check the rings and set the queue up, or refuse. */
static void tr_queue_ready(struct virtio_mmio *tr, struct virtio_mmio_queue *q, unsigned n)
{
	if (!(tr->tr_status & VIRTIO_STATUS_FEATURES_OK) ||
	    (tr->tr_status & VIRTIO_STATUS_DRIVER_OK)) {
		tr_bad(tr, "QueueReady outside feature negotiation's end and DRIVER_OK");
		return;
	}
	if (q->mq_num > tr->tr_ops->vdo_queue_num_max) {
		tr_bad(tr, "QueueNum above QueueNumMax");
		return;
	}
	bool event_idx = (tr->tr_drv_features & (1ull << VIRTIO_F_EVENT_IDX)) != 0;
	const char *why = virtq_setup(&tr->tr_vq[n], tr->tr_gm, q->mq_num, q->mq_desc,
	    q->mq_driver, q->mq_device, event_idx);
	if (why != NULL) {
		tr_bad(tr, why);
		return;
	}
	q->mq_ready = true;
}

/* A 32-bit half of a 64-bit ring address; only while the queue is not ready. */
static void tr_queue_addr(struct virtio_mmio *tr, uint64_t *reg, bool high, uint32_t val)
{
	struct virtio_mmio_queue *q = tr_sel_queue(tr);

	if (q == NULL || q->mq_ready || (tr->tr_status & VIRTIO_STATUS_DRIVER_OK)) {
		tr_bad(tr, "ring address written to a ready or absent queue");
		return;
	}
	(void)q;
	if (high)
		*reg = (*reg & 0xffffffffull) | (uint64_t)val << 32;
	else
		*reg = (*reg & ~0xffffffffull) | val;
}

static uint64_t tr_config_read(struct virtio_mmio *tr, uint64_t off, unsigned len)
{
	uint64_t v = 0;

	if (off > tr->tr_config_len || len > tr->tr_config_len - off) {
		tr_bad(tr, "configuration read beyond the device's configuration");
		return 0;
	}
	memcpy(&v, (const uint8_t *)tr->tr_config + off, len);
	return v;
}

uint64_t virtio_mmio_read(struct virtio_mmio *tr, uint64_t off, unsigned len)
{
	uint64_t v = 0;

	pthread_mutex_lock(&tr->tr_lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (len == 1 || len == 2 || len == 4 || len == 8)
			v = tr_config_read(tr, off - VIRTIO_MMIO_CONFIG, len);
		else
			tr_bad(tr, "configuration read of an odd width");
		goto out;
	}
	if (len != 4 || off % 4 != 0) {
		tr_bad(tr, "register read not 32 bits wide and aligned");
		goto out;
	}
	struct virtio_mmio_queue *q = tr_sel_queue(tr);
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		v = VIRTIO_MMIO_MAGIC;
		break;
	case VIRTIO_MMIO_VERSION:
		v = VIRTIO_MMIO_VERSION_2;
		break;
	case VIRTIO_MMIO_DEVICE_ID:
		v = tr->tr_ops->vdo_device_id;
		break;
	case VIRTIO_MMIO_VENDOR_ID:
		v = VIRTIO_VENDOR_ID;
		break;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		v = tr->tr_dev_feat_sel == 0 ? (uint32_t)tr->tr_dev_features :
		    tr->tr_dev_feat_sel == 1 ? (uint32_t)(tr->tr_dev_features >> 32) : 0;
		break;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		v = q != NULL ? tr->tr_ops->vdo_queue_num_max : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		v = q != NULL && q->mq_ready;
		break;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		v = atomic_load(&tr->tr_isr);
		break;
	case VIRTIO_MMIO_STATUS:
		v = tr->tr_status |
		    (atomic_load(&tr->tr_needs_reset) ? VIRTIO_STATUS_NEEDS_RESET : 0);
		break;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		v = tr->tr_config_gen;
		break;
	default:
		/* Write-only registers and holes read as 0 (section 4.2.2). */
		tr_bad(tr, "read of a write-only or unknown register");
		break;
	}
out:
	pthread_mutex_unlock(&tr->tr_lock);
	return v;
}

void virtio_mmio_write(struct virtio_mmio *tr, uint64_t off, unsigned len, uint64_t val64)
{
	uint32_t val = (uint32_t)val64;
	unsigned notify = ~0u;

	pthread_mutex_lock(&tr->tr_lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		/* virtio-blk's configuration is read-only for us (no writeback toggle). */
		tr_bad(tr, "configuration write");
		goto out;
	}
	if (len != 4 || off % 4 != 0) {
		tr_bad(tr, "register write not 32 bits wide and aligned");
		goto out;
	}
	struct virtio_mmio_queue *q = tr_sel_queue(tr);
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		tr->tr_dev_feat_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		tr->tr_drv_feat_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(tr->tr_status & VIRTIO_STATUS_DRIVER) ||
		    (tr->tr_status & VIRTIO_STATUS_FEATURES_OK) || tr->tr_drv_feat_sel > 1) {
			tr_bad(tr, "DriverFeatures written outside negotiation");
			break;
		}
		if (tr->tr_drv_feat_sel == 0)
			tr->tr_drv_features = (tr->tr_drv_features & ~0xffffffffull) | val;
		else
			tr->tr_drv_features = (tr->tr_drv_features & 0xffffffffull) |
			    (uint64_t)val << 32;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		tr->tr_queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q == NULL || q->mq_ready || val > 0xffff) {
			tr_bad(tr, "QueueNum written to a ready or absent queue, or too large");
			break;
		}
		q->mq_num = (uint16_t)val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q == NULL) {
			tr_bad(tr, "QueueReady written to an absent queue");
		} else if (val == 1 && !q->mq_ready) {
			tr_queue_ready(tr, q, tr->tr_queue_sel);
		} else if (val == 0 && q->mq_ready && !(tr->tr_status & VIRTIO_STATUS_DRIVER_OK)) {
			q->mq_ready = false;
			memset(&tr->tr_vq[tr->tr_queue_sel], 0, sizeof(struct virtq));
		} else if (val != q->mq_ready) {
			tr_bad(tr, "QueueReady changed while the device runs");
		}
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (q != NULL)
			tr_queue_addr(tr, &q->mq_desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		else
			tr_bad(tr, "ring address written to an absent queue");
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (q != NULL)
			tr_queue_addr(tr, &q->mq_driver, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, val);
		else
			tr_bad(tr, "ring address written to an absent queue");
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (q != NULL)
			tr_queue_addr(tr, &q->mq_device, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, val);
		else
			tr_bad(tr, "ring address written to an absent queue");
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (val < tr->tr_ops->vdo_nqueues && tr->tr_started)
			notify = val;
		else if (val >= tr->tr_ops->vdo_nqueues)
			tr_bad(tr, "QueueNotify for an absent queue");
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		atomic_fetch_and(&tr->tr_isr, ~val);
		break;
	case VIRTIO_MMIO_STATUS:
		tr_write_status(tr, val);
		break;
	default:
		tr_bad(tr, "write to a read-only or unknown register");
		break;
	}
out:
	pthread_mutex_unlock(&tr->tr_lock);
	/* Outside the lock: the device only kicks its thread. */
	if (notify != ~0u)
		tr->tr_ops->vdo_notify(tr->tr_dev, notify);
}

void virtio_mmio_interrupt(struct virtio_mmio *tr, uint32_t why)
{
	atomic_fetch_or(&tr->tr_isr, why);
	if (tr->tr_irq != NULL)
		tr->tr_irq(tr->tr_irq_ctx);
}

void virtio_mmio_needs_reset(struct virtio_mmio *tr)
{
	if (atomic_exchange(&tr->tr_needs_reset, true))
		return;
	/* Section 2.1.2: NEEDS_RESET comes with a configuration change notification. */
	virtio_mmio_interrupt(tr, VIRTIO_MMIO_INT_CONFIG);
}

bool virtio_mmio_irq_pending(struct virtio_mmio *tr)
{
	return atomic_load(&tr->tr_isr) != 0;
}
