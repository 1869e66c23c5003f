/*
 * boot_user_call(fn, arg): run fn(arg) at CPL 3 and come back.
 *
 * Why: on hosts whose KVM emulates guest kernel mode an instruction at a time (PLATFORM.md:
 * ~1.6 us each) while guest user mode runs natively, the boot's pure computation (the
 * start_info parser, the VM core's start-up) costs a millisecond at CPL 0 and microseconds
 * at CPL 3. Before any process exists, the kernel image and the first GiB it maps at
 * KERNBASE are made user-accessible for the call, and only they: pmap opens that
 * window (pmap_boot_user_grant; amd64/pmap_bootstrap_tables.S says which entries and
 * why) and closes it again (pmap_boot_user_revoke); this file writes no page-table
 * entry.
 * RFLAGS.IOPL = 3 lets fn reach the console and the hostcall port; interrupts stay off.
 *
 * fn returns into boot_user_return, a ud2: its #UD (trap_ud in exception.S) comes back to
 * boot_user_resume on the kernel stack saved here, which closes the window before
 * returning to the caller.
 * Any other trap during the call is fatal as at CPL 0: trap() prints the frame and panics.
 *
 * Only code that touches nothing but the kernel image and physical memory below 1 GiB
 * through KERNBASE, and uses no privileged instruction, may run this way.
 */
#include "amd64/vmparam.h"
#include "amd64/segments.h"

#define PSL_IOPL3       0x3000
#define PSL_RESERVED1   0x0002

	.text
	.globl boot_user_call
boot_user_call:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushfq
	pushq tss+4(%rip)                       /* rsp0 as it was, put back on return */
	movq %rsp, boot_user_ksp(%rip)
	movq %rsp, tss+4(%rip)                  /* rsp0: the return trap's frame */
	call pmap_boot_user_grant               /* keeps rdi, rsi: fn, arg */
	leaq -512(%rsp), %rax                   /* fn's stack, below the trap frame's */
	andq $-16, %rax
	pushq $(GSEL_UDATA | SEL_UPL)
	pushq %rax
	pushq $(PSL_IOPL3 | PSL_RESERVED1)
	pushq $(GSEL_UCODE | SEL_UPL)
	leaq boot_user_tramp(%rip), %rax
	pushq %rax
	iretq

boot_user_tramp:                                /* CPL 3 */
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	.globl boot_user_return
boot_user_return:
	ud2

/* panic() at CPL 3, its message formatted: trap_exception finishes it at CPL 0. */
	.globl boot_user_panic
boot_user_panic:
	ud2

	.globl boot_user_resume
boot_user_resume:                               /* CPL 0, from trap_ud */
	movq boot_user_ksp(%rip), %rsp
	call pmap_boot_user_revoke
	popq tss+4(%rip)
	popfq
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.bss
	.balign 8
boot_user_ksp:
	.quad 0

	.section .note.GNU-stack, "", @progbits
