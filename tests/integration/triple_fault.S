/*
 * A PVH kernel that triple-faults on purpose: with an empty IDT, ud2 raises #UD, whose
 * delivery fails (#GP), whose delivery fails (#DF), which cannot be delivered either.
 * The VMM must report the shutdown with a register dump and exit 70.
 *
 * With "int3" anywhere on its command line it runs int3 instead: this machine's KVM
 * cannot emulate it in kernel mode (PLATFORM.md), so the VMM gets an emulation failure
 * and must print the instruction bytes; where int3 is emulated, the empty IDT turns it
 * into a triple fault as above. Either way the VMM exits 70.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4                 /* name size: "Xen\0" */
	.long 4                 /* desc size */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long tf_entry

	.text
	.code32
	.globl tf_entry
tf_entry:
	movl 24(%ebx), %esi     /* hvm_start_info.cmdline_paddr, low half (below 4 GiB) */
	testl %esi, %esi
	jz tf_triple
tf_scan:
	cmpb $0, (%esi)
	je tf_triple
	cmpl $0x33746e69, (%esi) /* "int3", little-endian */
	je tf_int3
	incl %esi
	jmp tf_scan
tf_int3:
	movl $0x1e57, %eax
	lidt tf_empty_idt
	int3
tf_triple:
	movl $0x7e57, %eax      /* a recognisable value in the register dump */
	lidt tf_empty_idt
	ud2

	.balign 8
tf_empty_idt:
	.word 0
	.long 0
