/*
 * A PVH kernel that triple-faults on purpose: with an empty IDT, ud2 raises #UD, whose
 * delivery fails (#GP), whose delivery fails (#DF), which cannot be delivered either.
 * The VMM must report the shutdown with a register dump and exit 70.
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
	movl $0x7e57, %eax      /* a recognisable value in the register dump */
	lidt tf_empty_idt
	ud2

	.balign 8
tf_empty_idt:
	.word 0
	.long 0
