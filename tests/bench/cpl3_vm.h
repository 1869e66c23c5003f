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
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

struct cpl3_vm_layout {
	uint64_t pml4_pa, idt_pa, gdt_pa, tss_pa, rsp0;
	uint64_t rip, rsp, rflags;
	uint64_t cr4, efer;
};

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
