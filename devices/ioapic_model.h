/*
 * The I/O APIC, modelled by the VMM (KVM runs only the local APICs: a "split
 * irqchip", see vmm/kvm.c for why). A standard 82093AA-style IOAPIC at the usual
 * address: IOREGSEL at base + 0x00, IOWIN at base + 0x10, EOI at base + 0x40; 24 pins,
 * all masked at reset. An unmasked pin becomes an MSI to the local APICs.
 */
#ifndef DEVICES_IOAPIC_MODEL_H
#define DEVICES_IOAPIC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_BASE         0xfec00000ull
#define IOAPIC_SIZE         0x1000u
#define IOAPIC_NPINS        24
#define IOAPIC_REG_SELECT   0x00
#define IOAPIC_REG_WINDOW   0x10
#define IOAPIC_REG_EOI      0x40

#define IOAPIC_IDX_ID       0x00
#define IOAPIC_IDX_VER      0x01
#define IOAPIC_IDX_ARB      0x02
#define IOAPIC_IDX_REDTBL   0x10    /* pin n: low dword at 0x10 + 2n, high at + 1 */
#define IOAPIC_VERSION      0x20    /* has the EOI register */
#define IOAPIC_VER_MAXREDIR_SHIFT 16    /* IOAPIC_IDX_VER: highest pin number */
#define IOAPIC_ID_MASK      0x0f000000u /* IOAPIC_IDX_ID: the writable id bits */

/* Redirection entry bits. */
#define IOAPIC_RTE_VECTOR       0xffull
#define IOAPIC_RTE_DELMODE      (7ull << 8)
#define IOAPIC_RTE_DESTLOG      (1ull << 11)
#define IOAPIC_RTE_DELIVS       (1ull << 12)    /* read-only */
#define IOAPIC_RTE_POLARITY     (1ull << 13)    /* active low */
#define IOAPIC_RTE_REMOTE_IRR   (1ull << 14)    /* read-only */
#define IOAPIC_RTE_LEVEL        (1ull << 15)
#define IOAPIC_RTE_MASKED       (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT   56

/* The MSI an entry becomes (Intel SDM vol. 3, "Message Signalled Interrupts"). */
#define MSI_ADDR_BASE           0xfee00000ull
#define MSI_ADDR_DEST_SHIFT     12          /* destination APIC id, bits 19:12 */
#define MSI_ADDR_DEST_LOGICAL   (1u << 2)
#define MSI_DATA_LEVEL_ASSERT   (1u << 14)
#define MSI_DATA_TRIGGER_LEVEL  (1u << 15)

struct ioapic {
	uint32_t io_id;
	uint32_t io_select;
	uint64_t io_rte[IOAPIC_NPINS];
	uint32_t io_levels;         /* bit n: input line n asserted (after polarity) */
	/* Send an MSI; => 0, or -1 when the host refused (counted). */
	int (*io_msi)(void *ctx, uint64_t addr, uint32_t data);
	void *io_ctx;
	/* Told of every redirection entry the guest writes (for routes KVM delivers
	 * itself, vmm/irq.c), or NULL. */
	void (*io_rte_changed)(void *ctx, unsigned pin, uint64_t rte);
	uint64_t io_ndelivered, io_nfailed;
};

void ioapic_init(struct ioapic *io, int (*msi)(void *, uint64_t, uint32_t), void *ctx);

/* A 32-bit guest access at offset off of the MMIO window (others read as ones). */
uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t off, unsigned len);
void ioapic_mmio_write(struct ioapic *io, uint64_t off, unsigned len, uint32_t val);

/* A device drives input pin to level (true = asserted). */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);

/* The local APIC acknowledged vector: level-triggered pins with it may fire again. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* The MSI address and data an entry turns into. */
void ioapic_rte_to_msi(uint64_t rte, uint64_t *addr, uint32_t *data);

#endif /* DEVICES_IOAPIC_MODEL_H */
