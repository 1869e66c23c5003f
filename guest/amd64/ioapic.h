/*
 * The I/O APIC at IOAPIC_BASE (devices/ioapic_model.h has its registers: the same
 * header the VMM's model uses). Only what device drivers need: route one input pin,
 * edge-triggered and active high, to a vector on the boot CPU. Nothing touches the
 * IOAPIC until the first driver routes a pin, so a boot without devices pays nothing.
 */
#ifndef AMD64_IOAPIC_H
#define AMD64_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Pin p's vector: IOAPIC_VECTOR_BASE + p, above the exceptions and below the LAPIC's
 * own (amd64/trap.h's IDT_LAPIC_*), one per pin so that no two pins share a handler. */
#define IOAPIC_VECTOR_BASE  0x30

/*
 * Route input pin to vector IOAPIC_VECTOR_BASE + pin: fixed delivery, physical
 * destination the boot CPU's local APIC, edge-triggered, active high, unmasked. The
 * local APIC is enabled first (lapic_init). => the vector, or -1 (a message printed)
 * when the IOAPIC has no such pin or its registers could not be mapped. The handler
 * should be registered (intr_register) before: an edge that finds none is lost.
 * => after pmap_init; may sleep (the first call maps the registers).
 */
int ioapic_route_edge(unsigned pin);

/* Mask pin (its entry otherwise kept). */
void ioapic_mask(unsigned pin);

/* Redirection entry of pin as the IOAPIC holds it (for tests and reports). */
uint64_t ioapic_rte_read(unsigned pin);

#endif /* AMD64_IOAPIC_H */
