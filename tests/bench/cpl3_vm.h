/*
 * A vCPU put straight into 64-bit long mode at CPL 3 by KVM_SET_SREGS, with no guest
 * boot code: for the probes that measure what user mode may do and cost under this
 * host's /dev/kvm (tests/bench/floor_probe.c, scripts/probes/cpl3-insn.c). The caller
 * builds the page tables and IDT; this fills the GDT (the Linux selector layout, user CS
 * 0x33 and SS 0x2b, which kvm_pvm's switcher expects) and a TSS whose RSP0 takes traps
 * to CPL 0, and loads the registers.
 */
#ifndef TESTS_BENCH_CPL3_VM_H
#define TESTS_BENCH_CPL3_VM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct cpl3_vm_layout {
	uint64_t pml4_pa, idt_pa, gdt_pa, tss_pa, rsp0;
	uint64_t rip, rsp, rflags;
	uint64_t cr4, efer;
};

/* A VM with size bytes of guest memory at guest physical 0 (mapped at mem) and one
 * vCPU, its kvm_run mapped. */
struct cpl3_vm {
	int vm, vcpu;
	uint8_t *mem;
	size_t size;
	struct kvm_run *run;
	size_t run_size;
};

/* => NULL, or the step that failed (errno set; what was made is left to the exit). */
static inline const char *cpl3_vm_open(int kvm, size_t size, struct cpl3_vm *v)
{
	v->size = size;
	if ((v->vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		return "KVM_CREATE_VM";
	v->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		return "mmap guest memory";
	struct kvm_userspace_memory_region region = { .memory_size = size,
	    .userspace_addr = (uint64_t)(uintptr_t)v->mem };
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region) != 0)
		return "KVM_SET_USER_MEMORY_REGION";
	int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0)) < 0 || sz <= 0)
		return "KVM_CREATE_VCPU";
	v->run_size = (size_t)sz;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	return v->run == MAP_FAILED ? "mmap kvm_run" : NULL;
}

static inline void cpl3_vm_close(struct cpl3_vm *v)
{
	munmap(v->run, v->run_size);
	munmap(v->mem, v->size);
	close(v->vcpu);
	close(v->vm);
}

/* The GDT (0x10 kernel code, 0x18 kernel data, 0x2b user data, 0x33 user code, 0x38 the
 * TSS) and the TSS's RSP0, in guest memory m. */
static inline void cpl3_vm_build_gdt(uint8_t *m, const struct cpl3_vm_layout *l)
{
	uint64_t *gdt = (uint64_t *)(m + l->gdt_pa);

	gdt[2] = 0x00209a0000000000ull;
	gdt[3] = 0x00cf92000000ffffull;
	gdt[5] = 0x00cff2000000ffffull;
	gdt[6] = 0x0020fa0000000000ull;
	gdt[7] = 0x67 | ((l->tss_pa & 0xffffff) << 16) | (0x89ull << 40) |
	    ((l->tss_pa >> 24 & 0xff) << 56);
	gdt[8] = 0;
	memcpy(m + l->tss_pa + 4, &l->rsp0, 8);
}

/* Segments, tables, control registers and the entry. => 0, or -1 (errno set). */
static inline int cpl3_vm_enter(int vcpu, const struct cpl3_vm_layout *l)
{
	struct kvm_sregs s;

	if (ioctl(vcpu, KVM_GET_SREGS, &s) != 0)
		return -1;
	struct kvm_segment cs = { .limit = 0xffffffff, .selector = 0x33, .type = 11,
	    .present = 1, .dpl = 3, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment ds = { .limit = 0xffffffff, .selector = 0x2b, .type = 3,
	    .present = 1, .dpl = 3, .db = 1, .s = 1, .g = 1 };
	struct kvm_segment tr = { .base = l->tss_pa, .limit = 0x67, .selector = 0x38,
	    .type = 11, .present = 1 };
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	s.tr = tr;
	s.idt.base = l->idt_pa;
	s.idt.limit = 4095;
	s.gdt.base = l->gdt_pa;
	s.gdt.limit = 9 * 8 - 1;
	s.cr0 = 0x80050033;                     /* PG, WP, NE, ET, MP, PE */
	s.cr3 = l->pml4_pa;
	s.cr4 = l->cr4;
	s.efer = l->efer;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) != 0)
		return -1;
	struct kvm_regs r = { .rip = l->rip, .rsp = l->rsp, .rflags = l->rflags };
	return ioctl(vcpu, KVM_SET_REGS, &r);
}

#endif /* TESTS_BENCH_CPL3_VM_H */
