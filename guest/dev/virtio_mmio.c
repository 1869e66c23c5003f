/*
 * The virtio-mmio transport (virtio_mmio.h). Every register access is an exit to the
 * hypervisor (~10-20 us on kvm_pvm), so the set-up reads each register once and the
 * hot paths touch three: QueueNotify (when EVENT_IDX says so), InterruptStatus and
 * InterruptACK (once an interrupt).
 */
#include "amd64/devmap.h"
#include "amd64/ioapic.h"
#include "amd64/lapic.h"
#include "amd64/trap.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_mmio.h"
#include "dev/virtio_ring.h"
#include "kern/bootinfo.h"
#include "kern/systm.h"

static struct virtio_mmio_dev virtio_mmio_devs[VIRTIO_MMIO_MAX_DEVICES];
static unsigned virtio_mmio_ndevs;

/* The most an address or size may be: 52 bits of physical address. */
#define VIRTIO_MMIO_PA_LIMIT    (1ull << 52)

/* A number in C's notation with an optional K, M or G (scaled) when scale is set.
 * => false when there are no digits or it is out of range. */
static bool virtio_mmio_number(const char **sp, bool scale, uint64_t *v)
{
	const char *s = *sp, *end;
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;

	/* At most 13 hex or 16 decimal digits: nothing that could overflow 64 bits. */
	*v = strtou64(s, &end, 0);
	if (end == digits || end - digits > (hex ? 13 : 16))
		return false;
	if (scale) {
		unsigned shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' ||
		    *end == 'm' ? 20 : *end == 'G' || *end == 'g' ? 30 : 0;
		if (shift != 0) {
			end++;
			if (*v >= VIRTIO_MMIO_PA_LIMIT >> shift)
				return false;
			*v <<= shift;
		}
	}
	if (*v >= VIRTIO_MMIO_PA_LIMIT)
		return false;
	*sp = end;
	return true;
}

bool virtio_mmio_parse(const char *s, uint64_t *size, uint64_t *pa, unsigned *irq)
{
	uint64_t n;

	if (!virtio_mmio_number(&s, true, size) || *size == 0 || *s++ != '@')
		return false;
	if (!virtio_mmio_number(&s, false, pa) || *pa + *size > VIRTIO_MMIO_PA_LIMIT ||
	    *s++ != ':')
		return false;
	if (!virtio_mmio_number(&s, false, &n) || n > 255 || *s != '\0')
		return false;
	*irq = (unsigned)n;
	return true;
}

bool virtio_mmio_reset_and_ack(struct virtio_mmio_dev *vd)
{
	virtio_mmio_write(vd, VIRTIO_MMIO_STATUS, 0);
	if (virtio_mmio_read(vd, VIRTIO_MMIO_STATUS) != 0)
		return false;
	virtio_mmio_write(vd, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_mmio_write(vd, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	    VIRTIO_STATUS_DRIVER);
	return true;
}

void virtio_mmio_set_status(struct virtio_mmio_dev *vd, uint32_t bits)
{
	virtio_mmio_write(vd, VIRTIO_MMIO_STATUS, virtio_mmio_read(vd, VIRTIO_MMIO_STATUS) |
	    bits);
}

bool virtio_mmio_negotiate(struct virtio_mmio_dev *vd, uint64_t wanted)
{
	virtio_mmio_write(vd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t offered = virtio_mmio_read(vd, VIRTIO_MMIO_DEVICE_FEATURES);
	virtio_mmio_write(vd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)virtio_mmio_read(vd, VIRTIO_MMIO_DEVICE_FEATURES) << 32;

	if ((offered & (1ull << VIRTIO_F_VERSION_1)) == 0) {
		printf("virtio_mmio: device at %#llx does not offer VIRTIO_F_VERSION_1 "
		    "(features %#llx)\n", (unsigned long long)vd->vd_pa,
		    (unsigned long long)offered);
		virtio_mmio_set_status(vd, VIRTIO_STATUS_FAILED);
		return false;
	}
	uint64_t accepted = offered & (wanted | 1ull << VIRTIO_F_VERSION_1);
	virtio_mmio_write(vd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	virtio_mmio_write(vd, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)accepted);
	virtio_mmio_write(vd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	virtio_mmio_write(vd, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(accepted >> 32));
	virtio_mmio_set_status(vd, VIRTIO_STATUS_FEATURES_OK);
	/* The device clears FEATURES_OK when it cannot work with what was accepted. */
	if ((virtio_mmio_read(vd, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) == 0) {
		printf("virtio_mmio: device at %#llx refused features %#llx\n",
		    (unsigned long long)vd->vd_pa, (unsigned long long)accepted);
		virtio_mmio_set_status(vd, VIRTIO_STATUS_FAILED);
		return false;
	}
	vd->vd_features = accepted;
	return true;
}

void virtio_mmio_config_read(struct virtio_mmio_dev *vd, unsigned off, void *buf,
    unsigned len)
{
	volatile uint8_t *cfg = vd->vd_regs + VIRTIO_MMIO_CONFIG + off;
	uint32_t gen, lo, hi = 0;

	KASSERT((len == 1 || len == 2 || len == 4 || len == 8) && off % (len > 4 ? 4 : len)
	    == 0 && off + len <= vd->vd_size - VIRTIO_MMIO_CONFIG,
	    ("virtio_mmio_config_read: %u bytes at %u", len, off));
	do {
		gen = virtio_mmio_read(vd, VIRTIO_MMIO_CONFIG_GENERATION);
		/* Accesses of the field's width (section 4.2.2.2); a 64-bit field as its
		 * two 32-bit halves, which the generation check keeps consistent. */
		switch (len) {
		case 1:
			lo = *cfg;
			break;
		case 2:
			lo = *(volatile uint16_t *)cfg;
			break;
		default:
			lo = *(volatile uint32_t *)cfg;
			if (len == 8)
				hi = *(volatile uint32_t *)(cfg + 4);
			break;
		}
	} while (virtio_mmio_read(vd, VIRTIO_MMIO_CONFIG_GENERATION) != gen);
	uint64_t v = (uint64_t)hi << 32 | lo;
	memcpy(buf, &v, len);           /* little-endian: the low bytes first */
}

uint16_t virtio_mmio_queue_max(struct virtio_mmio_dev *vd, unsigned index)
{
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_SEL, index);
	uint32_t max = virtio_mmio_read(vd, VIRTIO_MMIO_QUEUE_NUM_MAX);
	return max > VIRTQ_MAX_SIZE ? VIRTQ_MAX_SIZE : (uint16_t)max;
}

bool virtio_mmio_queue_setup(struct virtio_mmio_dev *vd, unsigned index,
    const struct virtq *vq)
{
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_SEL, index);
	if (virtio_mmio_read(vd, VIRTIO_MMIO_QUEUE_READY) != 0 ||
	    virtio_mmio_read(vd, VIRTIO_MMIO_QUEUE_NUM_MAX) < vq->vq_num)
		return false;
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_NUM, vq->vq_num);
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)vq->vq_desc_pa);
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(vq->vq_desc_pa >> 32));
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)vq->vq_avail_pa);
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
	    (uint32_t)(vq->vq_avail_pa >> 32));
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)vq->vq_used_pa);
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(vq->vq_used_pa >> 32));
	virtio_mmio_write(vd, VIRTIO_MMIO_QUEUE_READY, 1);
	return virtio_mmio_read(vd, VIRTIO_MMIO_QUEUE_READY) == 1;
}

/*
 * Every virtio vector comes here. The handler cannot tell which device raised it (an
 * interrupt recorded while the kernel was masked runs later without its frame), so it
 * asks each device with an interrupt set up: one read each, and there is one device
 * on a pin in practice. The ACK comes before the driver's wakeup, so that the scan the
 * wakeup starts sees everything this ACK covered.
 */
static void virtio_mmio_intr(struct trapframe *tf)
{
	(void)tf;
	for (unsigned i = 0; i < virtio_mmio_ndevs; i++) {
		struct virtio_mmio_dev *vd = &virtio_mmio_devs[i];
		if (vd->vd_vector < 0)
			continue;
		uint32_t status = virtio_mmio_read(vd, VIRTIO_MMIO_INTERRUPT_STATUS);
		if (status == 0)
			continue;
		virtio_mmio_write(vd, VIRTIO_MMIO_INTERRUPT_ACK, status);
		vd->vd_nintr++;
		vd->vd_intr(vd, status);
	}
	lapic_eoi();
}

bool virtio_mmio_intr_setup(struct virtio_mmio_dev *vd,
    void (*intr)(struct virtio_mmio_dev *vd, uint32_t status))
{
	if (vd->vd_irq >= 256 - IOAPIC_VECTOR_BASE)
		return false;
	vd->vd_intr = intr;
	/* The handler before the pin: an edge with none would be lost. */
	intr_register(IOAPIC_VECTOR_BASE + vd->vd_irq, virtio_mmio_intr);
	int vector = ioapic_route_edge(vd->vd_irq);
	if (vector < 0)
		return false;
	vd->vd_vector = vector;
	return true;
}

/* Map, check and attach the device one command-line word names. */
static void virtio_mmio_probe_one(const char *spec)
{
	uint64_t size, pa;
	unsigned irq;

	if (!virtio_mmio_parse(spec, &size, &pa, &irq)) {
		printf("virtio_mmio: '%s' is not SIZE@ADDRESS:IRQ (such as 4K@0xd0000000:5): "
		    "passed over\n", spec);
		return;
	}
	if (size < VIRTIO_MMIO_CONFIG) {
		printf("virtio_mmio: window %s is smaller than the registers (%#x bytes): "
		    "passed over\n", spec, VIRTIO_MMIO_CONFIG);
		return;
	}
	if (virtio_mmio_ndevs == VIRTIO_MMIO_MAX_DEVICES) {
		printf("virtio_mmio: more than %u devices: %s passed over\n",
		    VIRTIO_MMIO_MAX_DEVICES, spec);
		return;
	}
	volatile void *regs = devmap_map(pa, size);
	if (regs == NULL) {
		printf("virtio_mmio: cannot map %s: passed over\n", spec);
		return;
	}
	struct virtio_mmio_dev *vd = &virtio_mmio_devs[virtio_mmio_ndevs];
	*vd = (struct virtio_mmio_dev){ .vd_regs = regs, .vd_pa = pa, .vd_size = size,
	    .vd_irq = irq, .vd_vector = -1 };
	uint32_t magic = virtio_mmio_read(vd, VIRTIO_MMIO_MAGIC_VALUE);
	uint32_t version = virtio_mmio_read(vd, VIRTIO_MMIO_VERSION);
	if (magic != VIRTIO_MMIO_MAGIC || version != VIRTIO_MMIO_VERSION_2) {
		printf("virtio_mmio: %s: magic %#x version %u, want %#x version %u: "
		    "passed over\n", spec, magic, version, VIRTIO_MMIO_MAGIC,
		    VIRTIO_MMIO_VERSION_2);
		return;
	}
	vd->vd_device_id = virtio_mmio_read(vd, VIRTIO_MMIO_DEVICE_ID);
	if (vd->vd_device_id == 0)
		return;                 /* an empty slot: no device behind the window */
	virtio_mmio_ndevs++;
	switch (vd->vd_device_id) {
	case VIRTIO_ID_BLOCK:
		if (virtio_blk_attach(vd) != 0)
			virtio_mmio_set_status(vd, VIRTIO_STATUS_FAILED);
		break;
	default:
		printf("virtio_mmio: %s: no driver for device ID %u\n", spec,
		    vd->vd_device_id);
		break;
	}
}

int virtio_mmio_probe(void)
{
	static const char key[] = "virtio_mmio.device=";
	int before = virtio_blk_count();

	for (unsigned i = 0; i < bootinfo.bi_argc; i++) {
		const char *a = bootinfo.bi_argv[i];
		if (strncmp(a, key, sizeof(key) - 1) == 0)
			virtio_mmio_probe_one(a + sizeof(key) - 1);
	}
	return virtio_blk_count() - before;
}
