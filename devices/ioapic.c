/*
 * The IOAPIC model. Edge pins fire on a rising input; level pins fire while asserted
 * unless remote IRR says the previous interrupt has not been acknowledged, and fire
 * again at EOI if still asserted (from the EOI register, or KVM's IOAPIC_EOI exit).
 */
#include <string.h>

#include "devices/ioapic_model.h"

/* Fields the guest may write in a redirection entry. */
#define IOAPIC_RTE_WRITABLE     (~(IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR))

void ioapic_init(struct ioapic *io, int (*msi)(void *, uint64_t, uint32_t), void *ctx)
{
	memset(io, 0, sizeof(*io));
	for (unsigned i = 0; i < IOAPIC_NPINS; i++)
		io->io_rte[i] = IOAPIC_RTE_MASKED;
	io->io_msi = msi;
	io->io_ctx = ctx;
}

void ioapic_rte_to_msi(uint64_t rte, uint64_t *addr, uint32_t *data)
{
	uint64_t dest = (rte >> IOAPIC_RTE_DEST_SHIFT) & 0xff;

	*addr = MSI_ADDR_BASE | dest << MSI_ADDR_DEST_SHIFT |
	    ((rte & IOAPIC_RTE_DESTLOG) ? MSI_ADDR_DEST_LOGICAL : 0);
	/* Vector and delivery mode sit at the same bits in an RTE and in MSI data. */
	*data = (uint32_t)(rte & (IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMODE));
	if (rte & IOAPIC_RTE_LEVEL)
		*data |= MSI_DATA_TRIGGER_LEVEL | MSI_DATA_LEVEL_ASSERT;
}

static void ioapic_fire(struct ioapic *io, unsigned pin)
{
	uint64_t *rte = &io->io_rte[pin], addr;
	uint32_t data;

	if (*rte & IOAPIC_RTE_MASKED)
		return;
	if (*rte & IOAPIC_RTE_LEVEL) {
		if (*rte & IOAPIC_RTE_REMOTE_IRR)
			return;
		*rte |= IOAPIC_RTE_REMOTE_IRR;
	}
	ioapic_rte_to_msi(*rte, &addr, &data);
	if (io->io_msi != NULL && io->io_msi(io->io_ctx, addr, data) != 0)
		io->io_nfailed++;
	else
		io->io_ndelivered++;
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	if (pin >= IOAPIC_NPINS)
		return;
	uint32_t bit = 1u << pin;
	bool was = io->io_levels & bit;

	if (level)
		io->io_levels |= bit;
	else
		io->io_levels &= ~bit;
	if (!level)
		return;
	if ((io->io_rte[pin] & IOAPIC_RTE_LEVEL) || !was)
		ioapic_fire(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < IOAPIC_NPINS; pin++) {
		uint64_t *rte = &io->io_rte[pin];

		if ((*rte & IOAPIC_RTE_VECTOR) != vector || !(*rte & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
		if (io->io_levels & (1u << pin))
			ioapic_fire(io, pin);
	}
}

static uint32_t ioapic_read_index(const struct ioapic *io, uint32_t idx)
{
	switch (idx) {
	case IOAPIC_IDX_ID:
	case IOAPIC_IDX_ARB:
		return io->io_id;
	case IOAPIC_IDX_VER:
		return (IOAPIC_NPINS - 1) << IOAPIC_VER_MAXREDIR_SHIFT | IOAPIC_VERSION;
	default:
		break;
	}
	if (idx >= IOAPIC_IDX_REDTBL && idx < IOAPIC_IDX_REDTBL + 2 * IOAPIC_NPINS) {
		uint64_t rte = io->io_rte[(idx - IOAPIC_IDX_REDTBL) / 2];
		return (idx & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
	}
	return 0xffffffffu;
}

static void ioapic_write_index(struct ioapic *io, uint32_t idx, uint32_t val)
{
	if (idx == IOAPIC_IDX_ID) {
		io->io_id = val & IOAPIC_ID_MASK;
		return;
	}
	if (idx < IOAPIC_IDX_REDTBL || idx >= IOAPIC_IDX_REDTBL + 2 * IOAPIC_NPINS)
		return;
	unsigned pin = (idx - IOAPIC_IDX_REDTBL) / 2;
	uint64_t *rte = &io->io_rte[pin], nv;
	if (idx & 1)
		nv = (*rte & 0xffffffffull) | (uint64_t)val << 32;
	else
		nv = (*rte & ~0xffffffffull) | val;
	*rte = (*rte & ~IOAPIC_RTE_WRITABLE) | (nv & IOAPIC_RTE_WRITABLE);
	if (!(*rte & IOAPIC_RTE_LEVEL))
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
	if (io->io_rte_changed != NULL)
		io->io_rte_changed(io->io_ctx, pin, *rte);
	/* Unmasking a level pin that is asserted delivers it now. */
	if ((*rte & IOAPIC_RTE_LEVEL) && (io->io_levels & (1u << pin)))
		ioapic_fire(io, pin);
}

uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t off, unsigned len)
{
	if (len != 4)
		return 0xffffffffu;
	switch (off) {
	case IOAPIC_REG_SELECT:
		return io->io_select;
	case IOAPIC_REG_WINDOW:
		return ioapic_read_index(io, io->io_select);
	default:
		return 0xffffffffu;
	}
}

void ioapic_mmio_write(struct ioapic *io, uint64_t off, unsigned len, uint32_t val)
{
	if (len != 4)
		return;
	switch (off) {
	case IOAPIC_REG_SELECT:
		io->io_select = val & 0xff;
		break;
	case IOAPIC_REG_WINDOW:
		ioapic_write_index(io, io->io_select, val);
		break;
	case IOAPIC_REG_EOI:
		ioapic_eoi(io, (uint8_t)val);
		break;
	default:
		break;
	}
}
