/*
 * Virtio 1.x as the host's device models (devices/) and the guest's drivers (guest/dev)
 * both speak it: the virtio-mmio version 2 register window, the split virtqueue, and
 * virtio-blk's configuration and requests. Shared verbatim by host and guest; every
 * multi-byte field is little-endian, as on x86-64. Numbers from the OASIS virtio 1.1
 * specification (sections 2.6, 4.2.2, 5.2).
 *
 * Where the devices sit: DESIGN.md fixes 4 KiB windows from VIRTIO_MMIO_BASE, one IRQ
 * each from VIRTIO_MMIO_IRQ0 on, announced to the guest on its command line as
 * virtio_mmio.device=4K@0xd0000000:5 (Linux's syntax).
 */
#ifndef DEVICES_VIRTIO_H
#define DEVICES_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_MMIO_BASE        0xd0000000u
#define VIRTIO_MMIO_SIZE        0x1000u
#define VIRTIO_MMIO_IRQ0        5

/* ---- virtio-mmio version 2 registers (offsets in the window; 32-bit accesses) ---- */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000   /* "virt" */
#define VIRTIO_MMIO_VERSION             0x004   /* 2 */
#define VIRTIO_MMIO_DEVICE_ID           0x008
#define VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090   /* the available ring */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0   /* the used ring */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100   /* device-specific configuration */

#define VIRTIO_MMIO_MAGIC               0x74726976u
#define VIRTIO_MMIO_VERSION_2           2
#define VIRTIO_VENDOR_ID                0x554d4551u  /* what QEMU reports; any value works */

/* InterruptStatus / InterruptACK bits. */
#define VIRTIO_MMIO_INT_VRING           0x1     /* the used ring changed */
#define VIRTIO_MMIO_INT_CONFIG          0x2     /* the configuration changed */

/* Device status bits (section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE       0x01
#define VIRTIO_STATUS_DRIVER            0x02
#define VIRTIO_STATUS_DRIVER_OK         0x04
#define VIRTIO_STATUS_FEATURES_OK       0x08
#define VIRTIO_STATUS_NEEDS_RESET       0x40
#define VIRTIO_STATUS_FAILED            0x80

/* Device IDs (section 5). */
#define VIRTIO_ID_BLOCK                 2

/* Feature bits common to every device (section 6). */
#define VIRTIO_F_INDIRECT_DESC          28
#define VIRTIO_F_EVENT_IDX              29
#define VIRTIO_F_VERSION_1              32

/* ---- split virtqueue (section 2.6) ---- */
#define VIRTQ_DESC_F_NEXT               0x1
#define VIRTQ_DESC_F_WRITE              0x2     /* device writes (else reads) the buffer */
#define VIRTQ_DESC_F_INDIRECT           0x4
#define VIRTQ_AVAIL_F_NO_INTERRUPT      0x1     /* without EVENT_IDX: a hint only */
#define VIRTQ_USED_F_NO_NOTIFY          0x1
#define VIRTQ_MAX_SIZE                  32768   /* queue sizes are powers of 2 up to this */

struct virtq_desc {
	uint64_t addr;          /* guest-physical */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Followed, with EVENT_IDX, by used_event (uint16_t) after ring[num]. */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;            /* head of the chain */
	uint32_t len;           /* bytes the device wrote into the chain */
};

/* Followed, with EVENT_IDX, by avail_event (uint16_t) after ring[num]. */
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

/* Ring sizes in bytes for a queue of num entries (EVENT_IDX's trailing word included). */
#define VIRTQ_DESC_BYTES(num)   ((uint64_t)(num) * sizeof(struct virtq_desc))
#define VIRTQ_AVAIL_BYTES(num)  (4 + 2 * (uint64_t)(num) + 2)
#define VIRTQ_USED_BYTES(num)   (4 + 8 * (uint64_t)(num) + 2)
/* Alignments the rings need (section 2.6). */
#define VIRTQ_DESC_ALIGN        16
#define VIRTQ_AVAIL_ALIGN       2
#define VIRTQ_USED_ALIGN        4

/*
 * EVENT_IDX: having moved an index from old to new_idx, notify (or interrupt) only if
 * the other side asked to hear of event_idx and it lies in [old, new_idx).
 */
static inline int virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

/* ---- virtio-blk (section 5.2) ---- */
#define VIRTIO_BLK_F_SIZE_MAX           1
#define VIRTIO_BLK_F_SEG_MAX            2
#define VIRTIO_BLK_F_RO                 5
#define VIRTIO_BLK_F_BLK_SIZE           6
#define VIRTIO_BLK_F_FLUSH              9
#define VIRTIO_BLK_F_DISCARD            13
#define VIRTIO_BLK_F_WRITE_ZEROES       14

#define VIRTIO_BLK_SECTOR_SIZE          512     /* request sectors are always 512 bytes */
#define VIRTIO_BLK_ID_BYTES             20      /* GET_ID's answer */

struct virtio_blk_config {
	uint64_t capacity;              /* in 512-byte sectors */
	uint32_t size_max;              /* largest segment (SIZE_MAX) */
	uint32_t seg_max;               /* most data segments a request (SEG_MAX) */
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} geometry;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
};

#define VIRTIO_BLK_T_IN                 0
#define VIRTIO_BLK_T_OUT                1
#define VIRTIO_BLK_T_FLUSH              4
#define VIRTIO_BLK_T_GET_ID             8
#define VIRTIO_BLK_T_DISCARD            11
#define VIRTIO_BLK_T_WRITE_ZEROES       13

#define VIRTIO_BLK_S_OK                 0
#define VIRTIO_BLK_S_IOERR              1
#define VIRTIO_BLK_S_UNSUPP             2

/* A request: this header (device-readable), the data, then one status byte (writable). */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* DISCARD and WRITE_ZEROES carry these as their data. */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;                 /* bit 0: unmap (WRITE_ZEROES may deallocate) */
};
#define VIRTIO_BLK_WZ_F_UNMAP           0x1

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem is 8 bytes");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56,
    "virtio_blk_config has the specification's layout");
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "virtio_blk_outhdr is 16 bytes");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16,
    "virtio_blk_discard_write_zeroes is 16 bytes");

#endif /* DEVICES_VIRTIO_H */
