/*
 * The TSS and the GDT, complete at build time. The TSS sits at the fixed address TSS_VA
 * (guest/kernel.ld places section .tss there and checks it), so the assembler can split
 * its base into the descriptor's fields.
 */
#include "amd64/vmparam.h"
#include "amd64/segments.h"

	.section .tss, "aw"
	.globl tss
tss:                                    /* 64-bit TSS, 104 bytes */
	.long 0
	.quad 0                         /* rsp0: set when user mode exists */
	.quad 0, 0                      /* rsp1, rsp2 */
	.quad 0
	.quad ist_df_stack + ISTSTACK_SIZE      /* ist1 */
	.quad ist_nmi_stack + ISTSTACK_SIZE     /* ist2 */
	.quad ist_mc_stack + ISTSTACK_SIZE      /* ist3 */
	.quad 0, 0, 0, 0                /* ist4..7 */
	.quad 0
	.word 0
	.word TSS_LIMIT + 1             /* I/O bitmap offset past the limit: none */
	.if . - tss != TSS_LIMIT + 1
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

	.bss
	.balign 4096
	.globl ist_df_stack, ist_nmi_stack, ist_mc_stack
ist_df_stack:
	.space ISTSTACK_SIZE
ist_nmi_stack:
	.space ISTSTACK_SIZE
ist_mc_stack:
	.space ISTSTACK_SIZE

	.section .note.GNU-stack, "", @progbits
