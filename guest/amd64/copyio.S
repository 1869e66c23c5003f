/*
 * copyin(uaddr, kaddr, len) and copyout(kaddr, uaddr, len): the kernel's accesses to the
 * current process's memory (kern/proc.h). At CPL 3 like the rest of the kernel, with
 * rep movsb; the user range is checked first, and a fault the kernel cannot resolve
 * for the process (trap.c: proc_kernel_fault) resumes at copyio_fault through
 * curthread's td_onfault. Leaf functions: nothing is pushed, so the fault's %rsp is
 * the function's own and copyio_fault can simply return.
 */
#include "amd64/pcpu.h"
#include "kern/thread.h"

#define EFAULT              14
#define VM_MAXUSER_ADDRESS  0x0000800000000000

/* => %rdi user address, %rdx length: ZF clear (and a jump to 9f) when the range is not
 * entirely below VM_MAXUSER_ADDRESS. Clobbers %rax, %r8. */
.macro CHECK_USER_RANGE
	movq %rdi, %rax
	addq %rdx, %rax
	jc 9f
	movabsq $VM_MAXUSER_ADDRESS, %r8
	cmpq %r8, %rax
	ja 9f
.endm

	.text
	.globl copyin
copyin:                                 /* (const void *uaddr, void *kaddr, len) */
	CHECK_USER_RANGE
	xchgq %rdi, %rsi                /* from the user, to the kernel */
	jmp copyio_move

	.globl copyout
copyout:                                /* (const void *kaddr, void *uaddr, len) */
	xchgq %rdi, %rsi                /* %rdi: the user address, as the check wants */
	CHECK_USER_RANGE
copyio_move:                            /* %rdx bytes from %rsi to %rdi, under the fix-up */
	movq %gs:PC_CURTHREAD, %rax
	leaq copyio_fault(%rip), %r8
	movq %r8, TD_ONFAULT(%rax)
	movq %rdx, %rcx
	cld
	rep movsb
	movq $0, TD_ONFAULT(%rax)
	xorl %eax, %eax
	ret
9:	movl $-EFAULT, %eax             /* both checks' refusal */
	ret

copyio_fault:
	movq %gs:PC_CURTHREAD, %rax
	movq $0, TD_ONFAULT(%rax)
	movl $-EFAULT, %eax
	ret

	.section .note.GNU-stack, "", @progbits
