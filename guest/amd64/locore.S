/*
 * PVH entry: from 32-bit protected mode with paging off (devices/pvh.h) to kmain() in
 * long mode at the high-half link address.
 *
 * Everything the switch needs is built by the assembler: the boot page tables are
 * pmap's static data (amd64/pmap_bootstrap_tables.S says what they map), so the 32-bit
 * path is a straight line of about twenty instructions (each one is emulated at ~1 us).
 * This file only loads their root, boot_pml4, into CR3; it writes no page-table entry.
 */
#include "amd64/vmparam.h"
#include "amd64/specialreg.h"
#include "amd64/segments.h"

/* devices/hostcall.h is C only: its port number, checked against the header by a
 * _Static_assert in dev/hostcall.c. */
#define LOCORE_HC_PORT          0x600

#define PHYS(x)     ((x) - KERNBASE)

/* The PVH note: owner "Xen", type PHYS32_ENTRY, an 8-byte physical entry address (QEMU
 * reads eight bytes whatever the size; readers of four bytes get the same value). */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4
	.long 8
	.long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.quad PHYS(pvh_entry32)

	.section .boot.text, "ax"
	.code32
	.globl pvh_entry32
pvh_entry32:
	/* Milestone ENTRY, which also registers the dump descriptor: a request built at
	 * link time (dev/hostcall.c). Unconditional: under QEMU nothing listens at HC_PORT and
	 * the OUT is dropped. */
	movl $PHYS(hc_entry_req), %eax
	movw $LOCORE_HC_PORT, %dx
	outl %eax, %dx

	movl %ebx, %esi                 /* hvm_start_info pa, kept for kmain */

	lgdt PHYS(gdt_desc32)
	movl $GSEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss

	movl $(CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax   /* SSE for processes */
	movl %eax, %cr4
	movl $PHYS(boot_pml4), %eax
	movl %eax, %cr3
	/* EFER is 0 at entry: write it without reading it. */
	movl $MSR_EFER, %ecx
	movl $(EFER_LME | EFER_NXE), %eax
	xorl %edx, %edx
	wrmsr
	movl $(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG), %eax
	movl %eax, %cr0
	ljmp $GSEL_KCODE, $PHYS(entry64_low)

	.code64
entry64_low:
	movabsq $entry64, %rax
	jmp *%rax

	.section .cpl0.text, "ax"
entry64:
	/* The GDT register still holds the physical address; the identity map goes soon. */
	lgdt gdt_desc64(%rip)
	lidt idt_desc(%rip)
	movw $GSEL_TSS, %ax
	ltr %ax
	xorl %eax, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	/* Into the kernel's own mode for good: CPL 3 on the boot stack, interrupts on (the
	 * soft mask decides: docs/deprivileged-kernel.md), its ports through the TSS's I/O
	 * bitmap. TSS.RSP0 (segments.S) takes traps back to the stubs. */
	/* GS base: CPU 0's struct pcpu, for good (pcpu.h). */
	movl $MSR_GSBASE, %ecx
	leaq pcpu_array(%rip), %rax
	movq %rax, %rdx
	shrq $32, %rdx
	wrmsr
	leaq cpl0_stack + CPL0STACK_SIZE(%rip), %rsp   /* for the iretq frame */
	pushq $(GSEL_UDATA | SEL_UPL)
	leaq boot_stack_top(%rip), %rax
	pushq %rax
	pushq $0x202
	pushq $(GSEL_UCODE | SEL_UPL)
	leaq entry_cpl3(%rip), %rax
	pushq %rax
	movl %esi, %edi
	iretq

	.text
entry_cpl3:
	xorl %ebp, %ebp
	call kmain
	ud2

	.data
	.balign 8
gdt_desc32:
	.word GDT_SIZE - 1
	.long PHYS(gdt)
	.balign 8
	.word 0, 0, 0
gdt_desc64:
	.word GDT_SIZE - 1
	.quad gdt

/* The boot stack; the ELF loader zeroes .bss (p_memsz beyond p_filesz), so nothing
 * here is cleared at run time. */
	.bss
	.balign 4096
	.globl boot_stack, boot_stack_top
boot_stack:
	.space KSTACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
