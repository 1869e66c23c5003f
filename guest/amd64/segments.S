/*
 * The TSS and the GDT, complete at build time. The TSS sits at the fixed address TSS_VA
 * (guest/kernel.ld places section .tss there and checks it), so the assembler can split
 * its base into the descriptor's fields.
 *
 * The TSS's I/O permission bitmap, on a page of its own, is what lets the kernel reach
 * its ports from CPL 3: kvm_pvm runs CPL 3 with IOPL 0 whatever an iretq asks for, and
 * honours the bitmap (scripts/probes/cpl3-insn.c's neighbours showed both). A process's
 * root will map a page that denies every port at that address instead.
 */
#include "amd64/vmparam.h"
#include "amd64/segments.h"

	.section .tss, "aw"
	.globl tss
tss:                                    /* 64-bit TSS, TSS_SIZE bytes */
	.long 0
	.quad cpl0_stack + CPL0STACK_SIZE       /* rsp0: traps from CPL 3 (exception.S
	                                           lowers it while a frame is forwarded) */
	.quad 0, 0                      /* rsp1, rsp2 */
	.quad 0
	.quad ist_df_stack + ISTSTACK_SIZE      /* ist1 */
	.quad ist_nmi_stack + ISTSTACK_SIZE     /* ist2 */
	.quad ist_mc_stack + ISTSTACK_SIZE      /* ist3 */
	.quad ist_pf_stack + ISTSTACK_SIZE      /* ist4 */
	.quad 0, 0, 0                   /* ist5..7 */
	.quad 0
	.word 0
	.word TSS_IOMAP_OFF             /* the I/O bitmap, below */
	.if . - tss != TSS_SIZE
	.error "TSS size"
	.endif

	.balign 16
	.globl gdt
gdt:
	.quad 0                         /* GSEL_NULL */
	.quad 0x00af9a000000ffff        /* GSEL_KCODE: 64-bit, DPL 0 */
	.quad 0x00cf92000000ffff        /* GSEL_KDATA */
	.quad 0x00cffa000000ffff        /* GSEL_UCODE32 */
	.quad 0x00cff2000000ffff        /* GSEL_UDATA */
	.quad 0x00affa000000ffff        /* GSEL_UCODE: 64-bit, DPL 3 */
	/* GSEL_TSS: available 64-bit TSS (type 9), present. */
	.quad (TSS_LIMIT & 0xffff) | ((TSS_VA & 0xffffff) << 16) | (0x89 << 40) | \
	    (((TSS_VA >> 24) & 0xff) << 56)
	.quad (TSS_VA >> 32) & 0xffffffff
	.if . - gdt != GDT_SIZE
	.error "GDT size"
	.endif

/* Bit n clear: port n allowed at CPL 3. The kernel's ports: the 8259s' masks (0x21,
 * 0xa1), the PIT (0x40, 0x43), the exit port (32-bit at 0xf4), COM1 (0x3f8..0x3ff), the
 * hostcall port (32-bit at 0x600). Anything beyond the TSS limit is refused. */
#define IOMAP_ALLOWED(p) ((((p) == 0x21) || ((p) == 0xa1) || ((p) == 0x40) || \
	((p) == 0x43) || ((p) >= 0xf4 && (p) <= 0xf7) || ((p) >= 0x3f8 && (p) <= 0x3ff) || \
	((p) >= 0x600 && (p) <= 0x603)) & 1)
	.org TSS_IOMAP_OFF, 0           /* tss is the section's start (kernel.ld) */
	.globl tss_iomap
tss_iomap:
	iob = 0
	.rept TSS_IOMAP_BYTES
	.byte 0xff & ~(IOMAP_ALLOWED(iob * 8) | (IOMAP_ALLOWED(iob * 8 + 1) << 1) | \
	    (IOMAP_ALLOWED(iob * 8 + 2) << 2) | (IOMAP_ALLOWED(iob * 8 + 3) << 3) | \
	    (IOMAP_ALLOWED(iob * 8 + 4) << 4) | (IOMAP_ALLOWED(iob * 8 + 5) << 5) | \
	    (IOMAP_ALLOWED(iob * 8 + 6) << 6) | (IOMAP_ALLOWED(iob * 8 + 7) << 7))
	iob = iob + 1
	.endr
	.byte 0xff                      /* the CPU may read one byte past the last port */

	.bss
	.balign 4096
	.globl cpl0_stack, ist_df_stack, ist_nmi_stack, ist_mc_stack, ist_pf_stack
/* The stubs' stack: each forwarded trap holds 80 bytes of it until the kernel copied its
 * frame, so nesting is bounded by how many traps can arrive during trap_kentry's first
 * instructions; the rest is the stubs' own pushes. */
cpl0_stack:
	.space CPL0STACK_SIZE
ist_df_stack:
	.space ISTSTACK_SIZE
ist_nmi_stack:
	.space ISTSTACK_SIZE
ist_mc_stack:
	.space ISTSTACK_SIZE
/* #PF's: a page fault's frame waits here, where no interrupt pushes (they use RSP0),
 * until the kernel copied it (pf_kentry, trap_kentry). Nothing faults in between. */
ist_pf_stack:
	.space ISTSTACK_SIZE

	.section .note.GNU-stack, "", @progbits
