/*
 * The I/O APIC: one indirect register window (IOREGSEL selects, IOWIN reads or
 * writes), mapped uncached on first use. Its registers are reached from the kernel at
 * CPL 3 like any device memory (amd64/devmap.h); each access is one exit to the
 * hypervisor, so a pin is routed with the fewest: the version once, then the high
 * half of the entry (the destination) and the low half (vector, mode, unmask) last,
 * so that the pin is never live with a half-written entry.
 */
#include "amd64/devmap.h"
#include "amd64/ioapic.h"
#include "amd64/lapic.h"
#include "amd64/trap.h"
#include "devices/ioapic_model.h"
#include "kern/systm.h"

static volatile uint32_t *ioapic_regs;  /* NULL until the first route */
static unsigned ioapic_npins;           /* from the version register */

static uint32_t ioapic_read(uint32_t index)
{
	ioapic_regs[IOAPIC_REG_SELECT / 4] = index;
	return ioapic_regs[IOAPIC_REG_WINDOW / 4];
}

static void ioapic_write(uint32_t index, uint32_t value)
{
	ioapic_regs[IOAPIC_REG_SELECT / 4] = index;
	ioapic_regs[IOAPIC_REG_WINDOW / 4] = value;
}

/* Map the registers and read how many pins there are. => false when unmapped. */
static bool ioapic_attach(void)
{
	if (ioapic_regs != NULL)
		return true;
	volatile void *va = devmap_map(IOAPIC_BASE, IOAPIC_SIZE);
	if (va == NULL) {
		printf("ioapic: cannot map the registers at %#llx\n",
		    (unsigned long long)IOAPIC_BASE);
		return false;
	}
	ioapic_regs = va;
	uint32_t ver = ioapic_read(IOAPIC_IDX_VER);
	ioapic_npins = ((ver >> IOAPIC_VER_MAXREDIR_SHIFT) & 0xff) + 1;
	return true;
}

uint64_t ioapic_rte_read(unsigned pin)
{
	if (!ioapic_attach() || pin >= ioapic_npins)
		return IOAPIC_RTE_MASKED;
	uint32_t lo = ioapic_read(IOAPIC_IDX_REDTBL + 2 * pin);
	uint32_t hi = ioapic_read(IOAPIC_IDX_REDTBL + 2 * pin + 1);
	return (uint64_t)hi << 32 | lo;
}

void ioapic_mask(unsigned pin)
{
	if (!ioapic_attach() || pin >= ioapic_npins)
		return;
	uint32_t lo = ioapic_read(IOAPIC_IDX_REDTBL + 2 * pin);
	ioapic_write(IOAPIC_IDX_REDTBL + 2 * pin, lo | (uint32_t)IOAPIC_RTE_MASKED);
}

int ioapic_route_edge(unsigned pin)
{
	if (!ioapic_attach())
		return -1;
	if (pin >= ioapic_npins) {
		printf("ioapic: no pin %u (the IOAPIC has %u)\n", pin, ioapic_npins);
		return -1;
	}
	unsigned vector = IOAPIC_VECTOR_BASE + pin;
	KASSERT(vector < IDT_LAPIC_TIMER, ("ioapic_route_edge: vector %#x for pin %u "
	    "collides with the LAPIC's", vector, pin));
	lapic_init();
	/* The physical destination field is 8 bits: the boot CPU's id in either mode
	 * (x2APIC reads it whole, xAPIC in bits 31:24). */
	uint32_t apic_id = lapic_x2apic ? lapic_read(LAPIC_ID) : lapic_read(LAPIC_ID) >> 24;
	KASSERT(apic_id < 256, ("ioapic_route_edge: APIC id %u beyond an IOAPIC's reach",
	    apic_id));
	/* Fixed delivery, physical destination, active high, edge: all zero bits. */
	ioapic_write(IOAPIC_IDX_REDTBL + 2 * pin + 1,
	    (uint32_t)((uint64_t)apic_id << IOAPIC_RTE_DEST_SHIFT >> 32));
	ioapic_write(IOAPIC_IDX_REDTBL + 2 * pin, vector);
	return (int)vector;
}
