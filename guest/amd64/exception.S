/*
 * Trap entry: 256 stubs at the fixed address TRAP_STUBS_VA, TRAP_STUB_SIZE bytes apart,
 * and an IDT whose gates the assembler computes from that address (no run-time setup).
 * Each stub pushes a zero error code when the CPU pushes none, then its vector, and
 * jumps to the common entry, which saves every GPR as struct trapframe (amd64/trap.h)
 * and calls trap(frame).
 *
 * Kernel mode only for now: the common entry does no swapgs; user mode adds it.
 */
#include "amd64/vmparam.h"
#include "amd64/segments.h"
#include "amd64/trap.h"

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
	(v) == 29 || (v) == 30)

	.section .trapstubs, "ax"
	.globl trap_stubs
trap_stubs:
	vec = 0
	.rept 256
	.balign TRAP_STUB_SIZE
	.if !HAS_ERR(vec)
	pushq $0
	.endif
	pushq $vec
	.if vec == T_UD
	jmp trap_ud
	.else
	jmp trap_common
	.endif
	vec = vec + 1
	.endr
	/* kernel.ld checks that the stubs fit their page (jmp sizes are known only then). */

	.text
/* #UD at boot_user_return is the end of a boot_user_call (amd64/boot_user.S). */
	.p2align 4
trap_ud:
	cmpq $boot_user_return, 16(%rsp)
	je boot_user_resume
	jmp trap_common

	.p2align 4
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp                  /* vector, error code */
	iretq

/* The IDT: interrupt gates (IF cleared on entry), DPL 0, IST stacks for #DF, NMI, #MC. */
	.section .rodata
	.balign 4096
	.globl idt
idt:
	vec = 0
	.rept 256
	addr = TRAP_STUBS_VA + vec * TRAP_STUB_SIZE
	.if vec == T_DF
	ist = IST_DF
	.elseif vec == T_NMI
	ist = IST_NMI
	.elseif vec == T_MC
	ist = IST_MC
	.else
	ist = 0
	.endif
	.quad (addr & 0xffff) | (GSEL_KCODE << 16) | (ist << 32) | (0x8e << 40) | \
	    (((addr >> 16) & 0xffff) << 48)
	.quad (addr >> 32) & 0xffffffff
	vec = vec + 1
	.endr

	.balign 8
	.word 0, 0, 0
	.globl idt_desc
idt_desc:
	.word 256 * 16 - 1
	.quad idt

	.section .note.GNU-stack, "", @progbits
