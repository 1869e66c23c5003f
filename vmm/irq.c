/*
 * irqfd lines whose routes follow the IOAPIC's redirection entries (irq.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/ioapic_model.h"
#include "vmm/irq.h"
#include "vmm/machine.h"
#include "vmm/trace.h"
#include "vmm/vmm.h"

int irq_line_create(struct machine *mc, struct irq_line *l, unsigned pin,
    bool (*pending)(void *ctx), void *ctx, char *err, size_t errlen)
{
	KASSERT(pin < IOAPIC_NPINS && mc->mc_irq_lines[pin] == NULL,
	    ("%s: pin %u taken or out of range", __func__, pin));
	memset(l, 0, sizeof(*l));
	l->il_mc = mc;
	l->il_pin = pin;
	l->il_pending = pending;
	l->il_ctx = ctx;
	l->il_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->il_fd < 0)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "eventfd for IRQ %u: %s", pin,
		    strerror(errno));
	struct kvm_irqfd f = { .fd = (uint32_t)l->il_fd, .gsi = pin };
	if (ioctl(mc->mc_vm.kv_vm_fd, KVM_IRQFD, &f) < 0) {
		int e = errno;
		close(l->il_fd);
		l->il_fd = -1;
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "KVM_IRQFD for IRQ %u: %s (the "
		    "swap device needs irqfd)", pin, strerror(e));
	}
	mc->mc_irq_lines[pin] = l;
	return 0;
}

void irq_line_destroy(struct irq_line *l)
{
	if (l->il_fd < 0)
		return;
	struct kvm_irqfd f = { .fd = (uint32_t)l->il_fd, .gsi = l->il_pin,
		.flags = KVM_IRQFD_FLAG_DEASSIGN };
	ioctl(l->il_mc->mc_vm.kv_vm_fd, KVM_IRQFD, &f);
	close(l->il_fd);
	l->il_fd = -1;
	l->il_mc->mc_irq_lines[l->il_pin] = NULL;
}

void irq_line_raise(struct irq_line *l)
{
	uint64_t one = 1;

	/* EAGAIN only when the counter is full, and then an edge is pending anyway. */
	if (write(l->il_fd, &one, sizeof(one)) < 0)
		return;
}

/* KVM_SET_GSI_ROUTING: one MSI route per unmasked pin that has a line. */
static int irq_set_routes(struct machine *mc)
{
	static _Alignas(struct kvm_irq_routing_entry) uint8_t buf[sizeof(struct kvm_irq_routing) +
	    IOAPIC_NPINS * sizeof(struct kvm_irq_routing_entry)];
	struct kvm_irq_routing *rt = (struct kvm_irq_routing *)buf;
	unsigned n = 0;

	memset(buf, 0, sizeof(buf));
	for (unsigned pin = 0; pin < IOAPIC_NPINS; pin++) {
		struct irq_line *l = mc->mc_irq_lines[pin];
		if (l == NULL || !l->il_routed)
			continue;
		uint64_t addr;
		uint32_t data;
		ioapic_rte_to_msi(mc->mc_ioapic.io_rte[pin], &addr, &data);
		/* An edge, whatever the entry says (irq.h). */
		data &= ~(MSI_DATA_TRIGGER_LEVEL | MSI_DATA_LEVEL_ASSERT);
		struct kvm_irq_routing_entry *e = &rt->entries[n++];
		e->gsi = pin;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)addr;
		e->u.msi.address_hi = (uint32_t)(addr >> 32);
		e->u.msi.data = data;
	}
	rt->nr = n;
	return ioctl(mc->mc_vm.kv_vm_fd, KVM_SET_GSI_ROUTING, rt);
}

void irq_rte_changed(void *ctx, unsigned pin, uint64_t rte)
{
	struct machine *mc = ctx;
	struct irq_line *l = pin < IOAPIC_NPINS ? mc->mc_irq_lines[pin] : NULL;

	if (l == NULL)
		return;
	l->il_routed = !(rte & IOAPIC_RTE_MASKED);
	if (irq_set_routes(mc) != 0) {
		/* The route is the old one; the guest's next write tries again. */
		fprintf(stderr, "vmm: KVM_SET_GSI_ROUTING for IRQ %u: %s\n", pin,
		    strerror(errno));
		return;
	}
	TRACE("irq %u: %s", pin, l->il_routed ? "routed" : "masked");
	/* An interrupt that came while masked is delivered now (the route is in place
	 * first, so one raised from here on is delivered by KVM itself). */
	if (l->il_routed && l->il_pending != NULL && l->il_pending(l->il_ctx))
		irq_line_raise(l);
}
