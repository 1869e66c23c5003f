/*
 * KVM set-up. The order matters to KVM: the TSS and identity-map addresses and the
 * irqchip before the first vCPU; CPUID before the vCPU first runs.
 *
 * Why a split irqchip (local APICs in KVM, the IOAPIC in devices/ioapic.c) rather than
 * KVM_CREATE_IRQCHIP: every device KVM registers on its I/O bus (the irqchip's PIC and
 * IOAPIC, and any KVM_IOEVENTFD) queues an SRCU callback, and closing the VM waits in
 * kvm_destroy_vm -> srcu_barrier for that grace period: measured here, ~15 ms at exit
 * for a VM that lived 1 ms (0.08 ms with the split irqchip), and a memory slot added
 * after KVM_CREATE_IRQCHIP took ~5 ms. That alone was ten times the rest of a boot.
 * The LAPIC timer, IPIs and irqfd (with MSI routes) work the same with either. Measured
 * again for the swap disk: one KVM_IOEVENTFD still costs ~15.7 ms at close, while
 * KVM_IRQFD and KVM_SET_GSI_ROUTING cost nothing there; vmm/swap.c registers its
 * ioeventfd only once a guest has notified enough for it to pay (docs/virtio.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/ioapic_model.h"
#include "vmm/guest_mem.h"
#include "vmm/input_file.h"
#include "vmm/kvm.h"
#include "vmm/vmm.h"

#define KVM_MSR_KERNEL_GS_BASE  0xc0000102u

#define KVM_API_EXPECTED    12

/* Every failure here means the same exit status. */
#define kvm_fail(err, errlen, ...)  vmm_errf(err, errlen, VMM_EXIT_HOST, __VA_ARGS__)

/* The host resource errno e names, else the likely cause. */
static const char *kvm_why(int e, const char *otherwise)
{
	const char *res = vmm_errno_resource(e);

	return res != NULL ? res : otherwise;
}

int kvm_vm_create(struct kvm_vm *vm, char *err, size_t errlen)
{
	vm->kv_vm_fd = -1;
	vm->kv_sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kv_sys_fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENXIO || e == ENODEV)
			return kvm_fail(err, errlen, "/dev/kvm: %s (is KVM enabled? try "
			    "modprobe kvm)", strerror(e));
		if (vmm_errno_resource(e) != NULL)
			return kvm_fail(err, errlen, "/dev/kvm: %s: %s", strerror(e),
			    vmm_errno_resource(e));
		return kvm_fail(err, errlen, "/dev/kvm: %s (add yourself to the kvm group or "
		    "check its permissions)", strerror(e));
	}
	int api = ioctl(vm->kv_sys_fd, KVM_GET_API_VERSION, 0);
	if (api < 0)
		return kvm_fail(err, errlen, "/dev/kvm: not a KVM device (%s); is KVM enabled? "
		    "try modprobe kvm", strerror(errno));
	if (api != KVM_API_EXPECTED)
		return kvm_fail(err, errlen, "/dev/kvm: API version %d, expected %d; this "
		    "kernel's KVM is unusable", api, KVM_API_EXPECTED);
	int sz = ioctl(vm->kv_sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return kvm_fail(err, errlen, "/dev/kvm: KVM_GET_VCPU_MMAP_SIZE failed: %s",
		    strerror(errno));
	vm->kv_run_size = (size_t)sz;

	vm->kv_vm_fd = ioctl(vm->kv_sys_fd, KVM_CREATE_VM, 0);
	if (vm->kv_vm_fd < 0)
		return kvm_fail(err, errlen, "/dev/kvm: cannot create a VM: %s; %s",
		    strerror(errno), kvm_why(errno, "is KVM usable here?"));
	if (ioctl(vm->kv_vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
		return kvm_fail(err, errlen, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	/* Only VMX without unrestricted guest needs it; absent elsewhere is fine. */
	if (ioctl(vm->kv_sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t map = KVM_IDENTITY_MAP_GPA;
		if (ioctl(vm->kv_vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &map) < 0)
			return kvm_fail(err, errlen, "KVM_SET_IDENTITY_MAP_ADDR: %s",
			    strerror(errno));
	}
	return 0;
}

int kvm_vm_create_irqchip(struct kvm_vm *vm, char *err, size_t errlen)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args = { IOAPIC_NPINS },       /* routes reserved for the IOAPIC's pins */
	};

	if (ioctl(vm->kv_vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return kvm_fail(err, errlen, "KVM_CAP_SPLIT_IRQCHIP: %s (this VMM needs the "
		    "in-kernel local APIC)", strerror(errno));
	return 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->kv_vm_fd >= 0)
		close(vm->kv_vm_fd);
	if (vm->kv_sys_fd >= 0)
		close(vm->kv_sys_fd);
	vm->kv_vm_fd = vm->kv_sys_fd = -1;
}

int kvm_vm_set_memory(struct kvm_vm *vm, const struct guest_mem *gm, char *err,
    size_t errlen)
{
	for (unsigned i = 0; i < gm->gm_nslots; i++) {
		const struct guest_mem_slot *s = &gm->gm_slots[i];
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = s->gms_gpa,
			.memory_size = s->gms_size,
			.userspace_addr = (uint64_t)(uintptr_t)s->gms_host,
		};
		if (ioctl(vm->kv_vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return kvm_fail(err, errlen, "KVM_SET_USER_MEMORY_REGION (slot %u, "
			    "%llu MiB at 0x%llx): %s", i,
			    (unsigned long long)(s->gms_size >> 20),
			    (unsigned long long)s->gms_gpa, strerror(errno));
	}
	return 0;
}

/* The supported CPUID, told who this vCPU is. */
static int kvm_vcpu_set_cpuid(struct kvm_vm *vm, struct kvm_vcpu *vc, char *err,
    size_t errlen)
{
	struct kvm_cpuid2 *cpuid = NULL;
	int rc = 0;

	/* Each call runs every CPUID leaf on the host (~55 us here): start with room for
	 * all of them (65 entries on these machines) rather than probing for E2BIG. */
	for (unsigned n = 256;; n *= 2) {
		free(cpuid);
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (cpuid == NULL)
			return kvm_fail(err, errlen, "out of memory for CPUID");
		cpuid->nent = n;
		if (ioctl(vm->kv_sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG || n >= 4096) {
			rc = kvm_fail(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			goto out;
		}
	}
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC id in EBX[31:24]; we are a guest, say so (ECX[31]). */
			e->ebx = (e->ebx & 0x00ffffffu) | (vc->kc_id << 24);
			e->ecx |= 1u << 31;
			break;
		case 0xb:
		case 0x1f:
			e->edx = vc->kc_id;     /* x2APIC id of this vCPU */
			break;
		default:
			break;
		}
	}
	if (ioctl(vc->kc_fd, KVM_SET_CPUID2, cpuid) < 0)
		rc = kvm_fail(err, errlen, "KVM_SET_CPUID2: %s", strerror(errno));
out:
	free(cpuid);
	return rc;
}

int kvm_vcpu_create(struct kvm_vm *vm, struct kvm_vcpu *vc, unsigned id, char *err,
    size_t errlen)
{
	vc->kc_id = id;
	vc->kc_run = NULL;
	vc->kc_fd = ioctl(vm->kv_vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vc->kc_fd < 0)
		return kvm_fail(err, errlen, "KVM_CREATE_VCPU %u: %s; %s", id, strerror(errno),
		    kvm_why(errno, "this KVM refused a vCPU"));
	void *run = mmap(NULL, vm->kv_run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    vc->kc_fd, 0);
	if (run == MAP_FAILED)
		return kvm_fail(err, errlen, "cannot map vCPU %u's run area: %s; %s", id,
		    strerror(errno), kvm_why(errno, "this KVM is unusable"));
	vc->kc_run = run;
	return kvm_vcpu_set_cpuid(vm, vc, err, errlen);
}

void kvm_vcpu_destroy(struct kvm_vm *vm, struct kvm_vcpu *vc)
{
	if (vc->kc_run != NULL)
		munmap(vc->kc_run, vm->kv_run_size);
	if (vc->kc_fd >= 0)
		close(vc->kc_fd);
	vc->kc_run = NULL;
	vc->kc_fd = -1;
}

int kvm_vcpu_single_step(struct kvm_vcpu *vc, char *err, size_t errlen)
{
	struct kvm_guest_debug dbg = {
		.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP,
	};

	if (ioctl(vc->kc_fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		return kvm_fail(err, errlen, "this KVM cannot single-step the guest "
		    "(KVM_SET_GUEST_DEBUG: %s)", strerror(errno));
	return 0;
}

static void kvm_flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

int kvm_vcpu_set_pvh_entry(struct kvm_vcpu *vc, uint32_t entry, uint32_t start_info,
    char *err, size_t errlen)
{
	struct kvm_sregs sr;

	/* Start from the reset state so TR, LDT, GDT/IDT and the APIC base stay sane. */
	if (ioctl(vc->kc_fd, KVM_GET_SREGS, &sr) < 0)
		return kvm_fail(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
	kvm_flat_segment(&sr.cs, 0x10, 0xb);            /* code, execute/read, accessed */
	kvm_flat_segment(&sr.ds, 0x18, 0x3);            /* data, read/write, accessed */
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.cr0 = 0x11;                                  /* PE | ET */
	sr.cr3 = 0;
	sr.cr4 = 0;
	sr.efer = 0;
	if (ioctl(vc->kc_fd, KVM_SET_SREGS, &sr) < 0)
		return kvm_fail(err, errlen, "KVM_SET_SREGS: %s", strerror(errno));

	struct kvm_regs r = { .rip = entry, .rbx = start_info, .rflags = 0x2 };
	if (ioctl(vc->kc_fd, KVM_SET_REGS, &r) < 0)
		return kvm_fail(err, errlen, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

int kvm_vm_signal_msi(struct kvm_vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	/* => 1 delivered, 0 blocked by the guest (masked LAPIC), -1 error. */
	return ioctl(vm->kv_vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -1 : 0;
}

int kvm_vcpu_get_state(struct kvm_vcpu *vc, struct kvm_regs *regs, struct kvm_sregs *sregs,
    uint64_t *kernel_gs_base)
{
	/* struct kvm_msrs ends in a flexible array: room for one entry after it. */
	_Alignas(struct kvm_msr_entry) uint8_t buf[sizeof(struct kvm_msrs) +
	    sizeof(struct kvm_msr_entry)];
	struct kvm_msrs *msrs = (struct kvm_msrs *)buf;

	if (ioctl(vc->kc_fd, KVM_GET_REGS, regs) < 0 ||
	    ioctl(vc->kc_fd, KVM_GET_SREGS, sregs) < 0)
		return -1;
	memset(buf, 0, sizeof(buf));
	msrs->nmsrs = 1;
	msrs->entries[0].index = KVM_MSR_KERNEL_GS_BASE;
	/* KVM_GET_MSRS answers how many it read: the one, or none. */
	*kernel_gs_base = ioctl(vc->kc_fd, KVM_GET_MSRS, msrs) == 1 ? msrs->entries[0].data : 0;
	return 0;
}
