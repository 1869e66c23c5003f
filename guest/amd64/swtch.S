/*
 * cpu_switch(from, to): the context switch. At CPL 3 like the rest of the kernel
 * (docs/deprivileged-kernel.md), so it is a plain call: the callee-saved registers go
 * onto from's stack, from's stack pointer into from->td_rsp (offset 0 of struct
 * thread), and to's come back the same way. The rest of a thread's state (caller-saved
 * registers, flags) is its own business at a call boundary. No FPU state: the kernel
 * is built -mgeneral-regs-only.
 *
 * A new thread's stack (cpu_thread_setup in kern/kern_thread.c) holds the same six
 * registers, r12 = the thread, then the address of thread_tramp for the ret.
 */
	.text
	.globl cpu_switch
	.p2align 4
cpu_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq (%rsi), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* A new thread's first instruction: thread_start(td) never returns. */
	.globl thread_tramp
thread_tramp:
	movq %r12, %rdi
	xorl %ebp, %ebp
	call thread_start
	ud2

	.section .note.GNU-stack, "", @progbits
