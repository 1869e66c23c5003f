/*
 * Interrupt lines that device threads raise without the vCPU thread: KVM_IRQFD on the
 * GSI of the line's IOAPIC pin, whose MSI route (KVM_SET_GSI_ROUTING) follows the
 * pin's redirection entry as the guest writes it. Masked: no route, so nothing is
 * delivered; unmasked with the device's interrupt pending (it asks the device): delivered
 * at once. The IOAPIC model stays the vCPU thread's alone; a device thread only writes
 * the line's eventfd.
 *
 * The lines are edge-triggered (an MSI): the contract with the guest's virtio driver
 * (docs/virtio.md). A pin the guest programs level-triggered is delivered as an edge all
 * the same. Neither KVM_IRQFD nor the routes add to the VM's exit time (measured: the
 * close stays ~0.08 ms; KVM_IOEVENTFD is what costs, vmm/kvm.c).
 */
#ifndef VMM_IRQ_H
#define VMM_IRQ_H

#include <stdbool.h>
#include <stddef.h>

struct machine;

struct irq_line {
	struct machine *il_mc;
	unsigned il_pin;
	int il_fd;                          /* the eventfd KVM_IRQFD listens on */
	bool il_routed;                     /* the pin is unmasked: a route exists */
	bool (*il_pending)(void *ctx);      /* is the device's interrupt up? */
	void *il_ctx;
};

/*
 * A line on IOAPIC pin (masked until the guest unmasks it). => 0, or 71 with a message
 * (this KVM has no irqfd). Call before the vCPU runs, from the vCPU thread.
 */
int irq_line_create(struct machine *mc, struct irq_line *l, unsigned pin,
    bool (*pending)(void *ctx), void *ctx, char *err, size_t errlen);
void irq_line_destroy(struct irq_line *l);

/* Any thread: an edge on the line. */
void irq_line_raise(struct irq_line *l);

/* The IOAPIC model's hook (vCPU thread): the guest wrote pin's redirection entry. */
void irq_rte_changed(void *ctx, unsigned pin, uint64_t rte);

#endif /* VMM_IRQ_H */
