/*
 * A PVH kernel that misbehaves on purpose, for the integration tests: each way a guest
 * can die or stop must reach the user as exit 70 and a report. The first of these words
 * on its command line picks the way:
 *
 *   int3    runs int3: this machine's KVM cannot emulate it in kernel mode
 *           (PLATFORM.md), so the VMM gets an emulation failure and must print the
 *           instruction bytes; where int3 is emulated, the empty IDT triple-faults.
 *   halt    cli; hlt: stopped for good without saying so. With KVM's in-kernel local
 *           APIC the HLT never reaches the VMM, which must notice by itself.
 *   spin    cli, then a jump to itself: no exit, no progress, ever (the watchdog).
 *   idle    sti; hlt with no interrupt source: waits for something that never comes.
 *   poke    reads an absent port and absent MMIO forever: exits that no device claims
 *           are no progress.
 *   flood   writes "y\n" to COM1 forever: the VMM must still stop promptly on a signal
 *           when nobody reads its stdout.
 *   (none)  ud2 with an empty IDT: #UD, whose delivery fails (#GP), whose delivery
 *           fails (#DF), which cannot be delivered either: a triple fault.
 *
 * eax holds a recognisable value in each case, for the register dumps.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4                 /* name size: "Xen\0" */
	.long 4                 /* desc size */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long bg_entry

	.text
	.code32
	.globl bg_entry
bg_entry:
	movl 24(%ebx), %esi     /* hvm_start_info.cmdline_paddr, low half (below 4 GiB) */
	testl %esi, %esi
	jz bg_triple
bg_scan:
	movl (%esi), %eax
	cmpl $0x33746e69, %eax  /* "int3", little-endian */
	je bg_int3
	cmpl $0x746c6168, %eax  /* "halt" */
	je bg_hlt
	cmpl $0x6e697073, %eax  /* "spin" */
	je bg_spin
	cmpl $0x656c6469, %eax  /* "idle" */
	je bg_idle
	cmpl $0x656b6f70, %eax  /* "poke" */
	je bg_poke
	cmpl $0x6f6f6c66, %eax  /* "floo" */
	je bg_flood
	cmpb $0, (%esi)
	je bg_triple
	incl %esi
	jmp bg_scan
bg_int3:
	movl $0x1e57, %eax
	lidt bg_empty_idt
	int3
bg_hlt:
	movl $0x4a17, %eax
	cli
1:	hlt
	jmp 1b                  /* only an NMI gets here, and it would find no IDT */
bg_spin:
	movl $0x5919, %eax
	cli
1:	jmp 1b
bg_idle:
	movl $0x1d1e, %eax
	sti
1:	hlt
	jmp 1b
bg_poke:
	movl $0x9043, %eax
1:	inb $0x80, %al          /* the POST port: nobody there */
	movl 0xfed00000, %ebx   /* where an HPET would be: nobody there either */
	jmp 1b
bg_flood:
	movw $0x3f8, %dx        /* COM1's transmit register */
1:	movb $'y', %al
	outb %al, %dx
	movb $'\n', %al
	outb %al, %dx
	jmp 1b
bg_triple:
	movl $0x7e57, %eax      /* a recognisable value in the register dump */
	lidt bg_empty_idt
	ud2

	.balign 8
bg_empty_idt:
	.word 0
	.long 0
