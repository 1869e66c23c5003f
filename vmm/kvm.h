/*
 * The VM and its vCPUs through raw ioctls on /dev/kvm: creation, memory slots, CPUID,
 * the PVH entry state, interrupt lines. Errors come back as a one-line message and an
 * exit status (71: the host cannot do it).
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;

/* Above the PCI hole's devices and below 4 GiB: where VMX keeps its private pages. */
#define KVM_TSS_GPA             0xfffbd000ull
#define KVM_IDENTITY_MAP_GPA    0xfffbc000ull

struct kvm_vm {
	int kv_sys_fd;              /* /dev/kvm */
	int kv_vm_fd;
	size_t kv_run_size;         /* bytes of each vCPU's kvm_run mapping */
};

struct kvm_vcpu {
	int kc_fd;
	unsigned kc_id;
	struct kvm_run *kc_run;
};

/*
 * Open /dev/kvm, check its API, create the VM. => 0, or VMM_EXIT_HOST with a message.
 * Then, in this order: kvm_vm_set_memory, kvm_vm_create_irqchip, kvm_vcpu_create.
 */
int kvm_vm_create(struct kvm_vm *vm, char *err, size_t errlen);

/*
 * The in-kernel local APICs with the IOAPIC left to the VMM (split irqchip; no PIC, no
 * PIT). Before the first vCPU.
 */
int kvm_vm_create_irqchip(struct kvm_vm *vm, char *err, size_t errlen);
void kvm_vm_destroy(struct kvm_vm *vm);

/* One memory slot per RAM range of gm. */
int kvm_vm_set_memory(struct kvm_vm *vm, const struct guest_mem *gm, char *err,
    size_t errlen);

/* Create vCPU id with the host's supported CPUID, adjusted for this id. */
int kvm_vcpu_create(struct kvm_vm *vm, struct kvm_vcpu *vc, unsigned id, char *err,
    size_t errlen);
void kvm_vcpu_destroy(struct kvm_vm *vm, struct kvm_vcpu *vc);

/* The PVH entry state (devices/pvh.h): 32-bit flat protected mode at entry, EBX = info. */
/* Make every guest instruction exit with KVM_EXIT_DEBUG (KVM_GUESTDBG_SINGLESTEP). */
int kvm_vcpu_single_step(struct kvm_vcpu *vc, char *err, size_t errlen);

int kvm_vcpu_set_pvh_entry(struct kvm_vcpu *vc, uint32_t entry, uint32_t start_info,
    char *err, size_t errlen);

/*
 * A vCPU's registers, for a dump: KVM_GET_REGS, KVM_GET_SREGS and MSR_KERNEL_GS_BASE
 * (0 when KVM will not say). Only from the vCPU's own thread, out of KVM_RUN. => 0, or
 * -1 with errno set when the registers are unavailable.
 */
int kvm_vcpu_get_state(struct kvm_vcpu *vc, struct kvm_regs *regs, struct kvm_sregs *sregs,
    uint64_t *kernel_gs_base);

/* Send an MSI to the local APICs. => 0, or -1 when KVM refused it. */
int kvm_vm_signal_msi(struct kvm_vm *vm, uint64_t addr, uint32_t data);

#endif /* VMM_KVM_H */
