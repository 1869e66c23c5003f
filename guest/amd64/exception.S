/*
 * Trap entry. The kernel runs at CPL 3 (docs/deprivileged-kernel.md); what runs at CPL 0
 * is here, every path short and counted, because each instruction at CPL 0 is emulated
 * on kvm_pvm (~2 us).
 *
 * Two IDTs at one address: the CPU reads the IDT through the root that is loaded, and
 * user mode's root maps idt_user where the kernel's maps idt (pmap_stub_init). So the
 * gate a trap takes says which mode it interrupted. Each IDT's gates lead to a table of
 * 256 stubs at a fixed address, TRAP_STUB_SIZE bytes apart (the assembler computes every
 * gate: no run-time setup), or straight to a hot entry (CPL0_ENTRY_VA): the system call
 * (ud_entry), the user page fault (pf_entry), the returns to user mode (de_entry,
 * gp_entry). A stub pushes a zero error code when the CPU pushes none, then its vector.
 *
 * trap_kernel, from the kernel (CPL 3), an exception or an interrupt the kernel has not
 * masked: "forwarding". The CPU has pushed its frame on the CPL 0 stack (TSS.RSP0); the
 * stub adds %rax and %cr2 to it, lowers TSS.RSP0 below it (a trap before the kernel has
 * copied the frame pushes below, not over it) and irets to trap_kentry at CPL 3 with
 * %rax pointing at the frame and %rsp at the interrupted stack. trap_kentry copies the
 * frame to the kernel stack as struct trapframe, gives TSS.RSP0 back, calls trap(), and
 * resumes the interrupted code without CPL 0: its return address goes onto its own stack
 * and popfq; popq %rsp; ret take it there.
 *
 * An interrupt the kernel has masked (intr_soft_mask: the kernel cannot cli at CPL 3
 * here) or one that arrives at CPL 0 (inside KREQ_HALT) is only recorded in
 * intr_pending, without EOI; the kernel runs it when it unmasks.
 *
 * From user mode every trap is forwarded by trap_from_user, to trap_kentry_user on the
 * thread's kernel stack (pc_kstack_top) rather than on the interrupted stack; its return
 * to user mode is a divide error at kret_insn (de_entry). A user int3 is forwarded as
 * #BP.
 *
 * An exception at CPL 0 is a bug in this file: trap_fatal_cpl0 prints it and stops.
 *
 * The forwarded frame, at %rax in trap_kentry (FWD_* offsets):
 *   cr2, rax, vector, error code, rip, cs, rflags, rsp, ss
 */
#include "amd64/vmparam.h"
#include "amd64/segments.h"
#include "amd64/trap.h"
#include "amd64/kreq.h"
#include "amd64/pcpu.h"

/* struct trapframe's general registers but rax, in its order (r15 lowest). */
.macro PUSH_RBX_TO_R15
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
.endm

.macro POP_R15_TO_RBX
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
.endm

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
	(v) == 29 || (v) == 30)

#define FWD_CR2         0
#define FWD_RAX         8
#define FWD_VECTOR      16


/*
 * Two stub tables, one per IDT: the kernel's (TRAP_STUBS_VA) lead to trap_kernel, user
 * mode's (UTRAP_STUBS_VA) to trap_from_user. The IDT is read through the root that is
 * loaded when a trap comes, and user mode's root maps its own (idt_user) at the IDT's
 * address (pmap_stub_init): so a stub knows the mode it interrupted from which table it
 * is in, and no per-CPU mode word is written at any switch or read at any trap.
 */
.macro STUB_TABLE target, bp, db, direct0, direct1
	vec = 0
	.rept 256
	.balign TRAP_STUB_SIZE
	.if vec == T_BP
	jmp \bp
	.elseif vec == T_DB
	pushq $0
	pushq $vec
	jmp \db
	.elseif vec == \direct0 || vec == \direct1
	ud2                             /* the IDT points elsewhere (CPL0_ENTRY_VA) */
	.else
	.if !HAS_ERR(vec)
	pushq $0
	.endif
	pushq $vec
	jmp \target
	.endif
	vec = vec + 1
	.endr
.endm

	.section .trapstubs, "ax"
	.globl trap_stubs
trap_stubs:
	STUB_TABLE trap_kernel, kreq_entry, trap_db, T_DE, T_GP
	/* kernel.ld checks that the stubs fit their page (jmp sizes are known only then). */

	.section .utrapstubs, "ax"
	.globl utrap_stubs
utrap_stubs:
	STUB_TABLE trap_from_user, user_breakpoint, trap_from_user, T_UD, T_PF

	.section .cpl0.text, "ax"
/* A trap on the kernel's root: from the kernel, or from CPL 0 (inside KREQ_HALT). Stack:
 * vector, error code, rip, cs, rflags, rsp, ss. */
	.p2align 4
trap_kernel:
	testb $3, 24(%rsp)
	jz trap_cpl0                    /* 2 instructions to here */
	cmpq $T_NEXCEPT, (%rsp)
	jb trap_forward                 /* 4 to here for an exception */
	/* An interrupt in syscall_kentry's first instructions, still on the user's stack:
	 * taken as the user's (trap_from_user), the vector marked so that trap_user_window
	 * finishes the system call; nothing runs on the user's stack. Only interrupts:
	 * those instructions raise no exception (a TF is cleared by SFMASK, or is a
	 * program's own jump to the trampoline: see trap_db). */
	cmpq $syscall_kentry_end, 16(%rsp)
	jae 1f
	cmpq $syscall_kentry, 16(%rsp)
	jae trap_syscall_window
1:	cmpb $0, intr_soft_mask(%rip)
	jne intr_defer                  /* 10 to here for an interrupt */
trap_forward:                           /* 11 more */
	subq $FWD_SIZE, tss+4(%rip)
	pushq %rax
	movq %cr2, %rax
	pushq %rax
	movq %rsp, %rax
	pushq $(GSEL_UDATA | SEL_UPL)
	pushq 64(%rsp)                  /* the interrupted rsp (address taken before the push) */
	pushq $KERNEL_RFLAGS
	pushq $(GSEL_UCODE | SEL_UPL)
	pushq $trap_kentry
	iretq

/* #DB on the kernel's root: in syscall_kentry's first instructions it is the TF of a
 * program that jumped to the trampoline itself (SFMASK clears it for `syscall`), the
 * user's as trap_kernel's interrupts there are. */
trap_db:
	cmpq $syscall_kentry_end, 16(%rsp)
	jae trap_kernel
	cmpq $syscall_kentry, 16(%rsp)
	jb trap_kernel
trap_syscall_window:
	orq $TRAP_WINDOW, (%rsp)
	jmp trap_from_user_cpl3

/* User mode to the kernel (user mode's IDT): the kernel's root, then trap_kentry_user on
 * the thread's kernel stack. 16 instructions. Until the root is switched only what
 * user mode's root maps for the stubs may be touched (pmap_stub_init): this code, the
 * TSS, the CPL 0 stacks, the per-CPU records. A trap at CPL 0 on user mode's root (the
 * return's last instructions: a bug) takes the kernel's root and is fatal. */
trap_from_user:
	testb $3, 24(%rsp)
	jz trap_cpl0_uroot
trap_from_user_cpl3:
	subq $FWD_SIZE, tss+4(%rip)
	pushq %rax
	movq %gs:PC_KCR3, %rax          /* the kernel's root: user mode's maps only these stubs */
	movq %rax, %cr3
	movq %cr2, %rax
	pushq %rax
	movq %rsp, %rax
	pushq $(GSEL_UDATA | SEL_UPL)
	pushq %gs:PC_KSTACK_TOP
	pushq $KERNEL_RFLAGS
	pushq $(GSEL_UCODE | SEL_UPL)
	pushq $trap_kentry_user
	iretq

/* The hot entries, at the fixed addresses the IDT names (vmparam.h: CPL0_ENTRY_VA). */
	.section .cpl0.entry, "ax"
/*
 * #DE, the kernel's IDT. At kret_insn it is the kernel's return to user mode
 * (trap_return_user): %rax holds the user's root, and the kernel left the user's rax
 * and iret frame in this CPU's record (pc_ret_rax..). 6 instructions. Anything else is
 * the kernel's divide error.
 */
	.org DE_ENTRY_VA - CPL0_ENTRY_VA
	.globl de_entry
de_entry:
	cmpq $kret_insn, (%rsp)
	jne 1f
	movq %rax, %cr3
	movq %gs:PC_RETP, %rsp
	popq %rax
	iretq
1:	pushq $0
	pushq $T_DE
	jmp trap_kernel

/*
 * #UD, user mode's IDT: a system call (kvm_pvm's `syscall` lands at LSTAR at CPL 3,
 * PLATFORM.md, and the trampoline's ud2 raises this; elsewhere `syscall` raises it at
 * itself), or a program's own invalid opcode. This is the whole of the entry at CPL 0:
 * one xchg gives the kernel's root and leaves the user's rax in pc_xcr3, and an iretq to
 * syscall_kentry on the frame the CPU pushed, which holds the user's rsp and flags, with
 * the #UD's rip in rax: the kernel tells the cases apart (trap_user). 5 instructions (the
 * IDT's gate leads here directly). The trampoline's flags are the user's less what
 * SFMASK clears (TF, DF, AC, NT: trap.c); a program's own #UD may bring TF, whose #DB
 * then lands in syscall_kentry's first instructions, which are the user's for a trap
 * (trap_kernel, trap_db), and AC or DF, which syscall_kentry clears.
 */
	.org UD_ENTRY_VA - CPL0_ENTRY_VA
	.globl ud_entry
ud_entry:
	xchgq %rax, %gs:PC_XCR3
	movq %rax, %cr3
	movq (%rsp), %rax
	movq $syscall_kentry, (%rsp)
	iretq

/*
 * #PF, user mode's IDT, on its own stack (IST_PF), where the CPU's frame waits for
 * pf_kentry to copy it without any interrupt pushing over it: the kernel's root (one
 * xchg, as ud_entry), CR2 in rax, and an iretq through the per-CPU frame to pf_kentry
 * on the thread's kernel stack. 5 instructions. (The kernel's own page faults go
 * through its stub table.)
 */
	.org PF_ENTRY_VA - CPL0_ENTRY_VA
	.globl pf_entry
pf_entry:
	xchgq %rax, %gs:PC_XCR3
	movq %rax, %cr3
	movq %cr2, %rax
	movq %gs:PC_PF_FRAMEP, %rsp
	iretq

/*
 * #GP, the kernel's IDT. At kret_pte_insn (a hlt) it is the return to user mode with one
 * page-table entry
 * to store first (pmap_md_pte_defer: a user fault's new entry): the entry's kernel
 * address in %rdi; in this CPU's record, the value (pc_pte_val), then the user's rdi,
 * rax and iret frame, popped in that order, the first into the entry. A store made
 * here, at CPL 0 (emulated), costs KVM no write-protection fault of the page table,
 * which the kernel's own store after a root switch does. 8 instructions. Anything else
 * is the kernel's general-protection fault.
 */
	.org GP_ENTRY_VA - CPL0_ENTRY_VA
	.globl gp_entry
gp_entry:
	cmpq $kret_pte_insn, 8(%rsp)
	jne 1f
	movq %gs:PC_RETP_PTE, %rsp
	popq (%rdi)                     /* the entry, through the kernel's root */
	movq %rax, %cr3
	popq %rdi
	popq %rax
	iretq
1:	pushq $T_GP
	jmp trap_kernel

	.section .cpl0.text, "ax"

/* int3 in user mode: a breakpoint trap like any (the kernel sends SIGTRAP). */
user_breakpoint:
	pushq $0
	pushq $T_BP
	jmp trap_from_user

/* An interrupt the kernel will run when it unmasks. 7 instructions. Not atomic: this CPU
 * is the only writer while the kernel is interrupted, and the kernel clears bits with
 * locked instructions. */
intr_defer:
	pushq %rax
	movq 8(%rsp), %rax
	btsq %rax, intr_pending(%rip)
	movb $1, intr_pending_any(%rip)
	popq %rax
	addq $16, %rsp
	iretq

/* A trap at CPL 0 on user mode's root: the kernel's root for trap_cpl0's C half. */
trap_cpl0_uroot:
	pushq %rax
	movq %gs:PC_KCR3, %rax
	movq %rax, %cr3
	popq %rax
trap_cpl0:
	cmpq $T_NEXCEPT, (%rsp)
	jae intr_defer                  /* woke KREQ_HALT: the kernel runs it after */
	pushq %rax
	PUSH_RBX_TO_R15
	cld
	movq %rsp, %rdi
	movq %cr2, %rsi
	andq $-16, %rsp
	call trap_fatal_cpl0            /* does not return */
	ud2

/*
 * int3 on the kernel's IDT: a kernel request (amd64/kreq.h). Stack: rip, cs, rflags,
 * rsp, ss. Op in %rax, arguments in %rdi, %rsi; the result in %rax. 3 instructions and
 * the op's. (The return to user mode is not a request: de_entry, without the op's
 * dispatch.)
 */
	.p2align 4
kreq_entry:
	cmpq $KREQ_COUNT, %rax
	jae kreq_bad
	jmp *kreq_table(, %rax, 8)

kreq_halt:                              /* 6 */
	cmpb $0, intr_pending_any(%rip)
	jne 1f
	sti
	hlt                             /* in the STI shadow: no wakeup lost before it */
	cli
1:	iretq

kreq_stop:
	cli
1:	hlt
	jmp 1b

kreq_invl_range:                        /* 4 a page */
1:	invlpg (%rdi)
	addq $PAGE_SIZE_4K, %rdi
	cmpq %rsi, %rdi
	jb 1b
	iretq

kreq_flush:
	testq %rdi, %rdi
	jnz 1f
	movq %cr3, %rax                 /* 4 */
	movq %rax, %cr3
	iretq
1:	movq %cr4, %rax                 /* 8: CR4.PGE off and on drops global entries too */
	movq %rax, %rsi
	andq $~0x80, %rax
	movq %rax, %cr4
	movq %rsi, %cr4
	iretq

kreq_load_cr3:
	movq %rdi, %cr3
	iretq

kreq_rcr3:
	movq %cr3, %rax
	iretq

kreq_rdmsr:                             /* 9 */
	pushq %rcx
	pushq %rdx
	movl %edi, %ecx
	rdmsr
	shlq $32, %rdx
	orq %rdx, %rax
	popq %rdx
	popq %rcx
	iretq

kreq_wrmsr:                             /* 10 */
	pushq %rcx
	pushq %rdx
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
	wrmsr
	popq %rdx
	popq %rcx
	iretq

/* An op out of range: a kernel bug. Stop where the VMM's watchdog sees it (halted with
 * interrupts off). */
kreq_bad:
	jmp kreq_stop

	.section .rodata
	.balign 8
kret_zero:                              /* the divisor of kret_insn */
	.quad 0
kreq_table:
	.quad kreq_halt, kreq_stop, kreq_invl_range, kreq_flush, kreq_load_cr3, kreq_rcr3
	.quad kreq_rdmsr, kreq_wrmsr
	.if (. - kreq_table) != KREQ_COUNT * 8
	.error "kreq_table does not match KREQ_COUNT"
	.endif

/*
 * CPL 3 from here: the kernel's half of a forwarded trap. %rax: the forwarded frame;
 * %rsp: the interrupted stack; every other register as interrupted.
 */
/* trap_kentry's and trap_kentry_user's first half: the forwarded frame (at %rax) to a
 * struct trapframe at %rsp, TSS.RSP0 given back. */
.macro KENTRY_FRAME copied
	subq $(TF_SIZE - TF_VECTOR), %rsp       /* vector .. cr2 */
	pushq FWD_RAX(%rax)
	PUSH_RBX_TO_R15
	cld
	leaq FWD_VECTOR(%rax), %rsi
	leaq TF_VECTOR(%rsp), %rdi
	movl $7, %ecx                   /* vector, error code, rip, cs, rflags, rsp, ss */
	rep movsq
	movq FWD_CR2(%rax), %rcx
	movq %rcx, TF_CR2(%rsp)
	addq $FWD_SIZE, tss+4(%rip)     /* the frame is copied: give the room back */
	.globl \copied
\copied:                                /* trap.c: no switch before this (the window) */
.endm

	.text
	.p2align 4
	.globl trap_kentry
trap_kentry:
	KENTRY_FRAME trap_kentry_copied
	movq %rsp, %rbx
	andq $-16, %rsp
	movq %rbx, %rdi
	call trap
	movq %rbx, %rsp
	/* Back to tf_rip on tf_rsp at CPL 3: the return address goes just below tf_rsp
	 * (over tf_cr2, the top of this frame, no longer needed). */
	movq TF_RSP(%rsp), %rax
	subq $8, %rax
	movq TF_RIP(%rsp), %rcx
	movq %rcx, (%rax)
	movq %rax, TF_RSP(%rsp)
	POP_R15_TO_RBX
	popq %rax
	addq $(TF_RFLAGS - TF_VECTOR), %rsp     /* vector, error code, rip, cs */
	popfq
	popq %rsp
	ret

/* From user mode, on the thread's kernel stack (its top: the frame is the thread's user
 * frame, curthread's td_frame). trap_user() decides; back to user mode through
 * de_entry with every register as the frame says. */
	.p2align 4
	.globl trap_kentry_user
trap_kentry_user:
	KENTRY_FRAME trap_kentry_user_copied
	movq %rsp, %rdi
	call trap_user                  /* aligned: pc_kstack_top is 8 below a 16-byte line */
	.globl trap_return_user
trap_return_user:                       /* => %rsp: a user trapframe */
	/* The iret frame and rax where de_entry and gp_entry pop them. Up to the trap, a
	 * trap window (trap.c): no switch, so no other thread's return writes them. */
	movq TF_RIP(%rsp), %rcx
	movq %rcx, %gs:PC_RET_RIP
	movq TF_CS(%rsp), %rcx
	movq %rcx, %gs:PC_RET_RIP+8
	movq TF_RFLAGS(%rsp), %rcx
	movq %rcx, %gs:PC_RET_RIP+16
	movq TF_RSP(%rsp), %rcx
	movq %rcx, %gs:PC_RET_RIP+24
	movq TF_SS(%rsp), %rcx
	movq %rcx, %gs:PC_RET_RIP+32
	movq TF_RAX(%rsp), %rcx
	movq %rcx, %gs:PC_RET_RAX
	cmpq $0, %gs:PC_PTE_ADDR
	jne 1f
	POP_R15_TO_RBX
	movq %gs:PC_UCR3, %rax
	.globl kret_insn
kret_insn:                              /* de_entry: the return to user mode */
	divq kret_zero(%rip)
	ud2
1:	movq TF_RDI(%rsp), %rcx                 /* with an entry to store (gp_entry) */
	movq %rcx, %gs:PC_RET_RDI
	POP_R15_TO_RBX
	movq %gs:PC_PTE_ADDR, %rdi
	movq $0, %gs:PC_PTE_ADDR
	movq %gs:PC_UCR3, %rax
	.globl kret_pte_insn, trap_return_user_end
kret_pte_insn:
	hlt
trap_return_user_end:
	ud2

/*
 * A user #UD (ud_entry): a system call, from the trampoline or (VT-x, QEMU) at the
 * `syscall` itself, or a program's own. At CPL 3 on the kernel's root, on the user's
 * stack; the #UD's rip in rax, the user's rax in pc_xcr3. Until the kernel stack is taken a trap here
 * is the user's (trap_kernel, trap_db): it lands on the kernel stack and trap_user
 * finishes the entry (trap.c: trap_user_window), so no trap ever runs on the user's
 * stack.
 * Then the frame trap_kentry_user would have built for the #UD.
 */
	.p2align 4
	.globl syscall_kentry, syscall_kentry_sp, syscall_kentry_end
syscall_kentry:
	movq %rsp, %gs:PC_URSP
syscall_kentry_sp:
	movq %gs:PC_KSTACK_TOP, %rsp
syscall_kentry_end:
	subq $(TF_SIZE - TF_VECTOR), %rsp       /* vector .. cr2 */
	pushq %gs:PC_XCR3
	PUSH_RBX_TO_R15
	movq %rax, TF_RIP(%rsp)                 /* where the #UD was */
	/* The flags the #UD left: a program's own where it was not the trampoline's (then
	 * AC or DF may be set: the kernel's are put back before any C). */
	pushfq
	popq TF_RFLAGS(%rsp)
	pushq $KERNEL_RFLAGS
	popfq
	movq %gs:PC_KCR3, %rax                  /* pc_xcr3 ready for the next entry */
	movq %rax, %gs:PC_XCR3
	.globl syscall_kentry_copied
syscall_kentry_copied:                          /* trap.c: no switch before this */
	movq $T_UD, TF_VECTOR(%rsp)
	movq $0, TF_ERR(%rsp)
	movq $(GSEL_UCODE | SEL_UPL), TF_CS(%rsp)
	movq %gs:PC_URSP, %rax
	movq %rax, TF_RSP(%rsp)
	movq $(GSEL_UDATA | SEL_UPL), TF_SS(%rsp)
	movq $0, TF_CR2(%rsp)
	movq %rsp, %rdi
	call trap_user
	jmp trap_return_user

/*
 * A user page fault (pf_entry), at CPL 3 on the kernel's root and on the thread's kernel
 * stack (its top); CR2 in rax, the user's rax in pc_xcr3, the CPU's frame (error code,
 * rip, cs, rflags, rsp, ss) at the top of ist_pf_stack. Up to pf_kentry_copied, a trap
 * window as trap_kentry_user's (trap.c).
 */
	.p2align 4
	.globl pf_kentry, pf_kentry_copied
pf_kentry:
	cld
	subq $(TF_SIZE - TF_VECTOR), %rsp       /* vector .. cr2 */
	pushq %gs:PC_XCR3
	PUSH_RBX_TO_R15
	movq %rax, TF_CR2(%rsp)
	movq %gs:PC_KCR3, %rax                  /* pc_xcr3 ready for the next entry */
	movq %rax, %gs:PC_XCR3
	leaq ist_pf_stack+ISTSTACK_SIZE-48(%rip), %rsi  /* the CPU's frame */
	leaq TF_ERR(%rsp), %rdi
	movl $6, %ecx                           /* error code, rip, cs, rflags, rsp, ss */
	rep movsq
pf_kentry_copied:
	movq $T_PF, TF_VECTOR(%rsp)
	movq %rsp, %rdi
	call trap_user
	jmp trap_return_user

/* LSTAR: where kvm_pvm's syscall lands, at CPL 3 in user mode (PLATFORM.md). Its #UD
 * is how the kernel hears of the call (kern/kern_proc.c: trap_user). Elsewhere syscall
 * raises #UD itself (EFER.SCE is clear) and never comes here. */
	.section .usertramp, "ax"
	.globl syscall_tramp
syscall_tramp:
	ud2
	.text

/* A new process's first entry into user mode: %rdi is its user frame, at the top of
 * its kernel stack (kern/kern_proc.c). */
	.globl proc_enter_user
proc_enter_user:
	movq %rdi, %rsp
	jmp trap_return_user

/* The IDTs: interrupt gates (IF cleared on entry to CPL 0), DPL 0 except #BP (the
 * kernel's int3 requests come from CPL 3; a program's int3 is SIGTRAP), IST stacks for
 * #DF, NMI, #MC and #PF. The kernel's (idt) and user mode's (idt_user, mapped at idt's
 * address in user mode's root) differ in their stubs and direct entries only. */
.macro IDT_TABLE stubs, dv0, da0, dv1, da1
	vec = 0
	.rept 256
	addr = \stubs + vec * TRAP_STUB_SIZE
	.if vec == \dv0
	addr = \da0
	.elseif vec == \dv1
	addr = \da1
	.endif
	.if vec == T_DF
	ist = IST_DF
	.elseif vec == T_NMI
	ist = IST_NMI
	.elseif vec == T_MC
	ist = IST_MC
	.elseif vec == T_PF
	ist = IST_PF
	.else
	ist = 0
	.endif
	.if vec == T_BP
	type = 0xee
	.else
	type = 0x8e
	.endif
	.quad (addr & 0xffff) | (GSEL_KCODE << 16) | (ist << 32) | (type << 40) | \
	    (((addr >> 16) & 0xffff) << 48)
	.quad (addr >> 32) & 0xffffffff
	vec = vec + 1
	.endr
.endm

	.section .rodata
	.balign 4096
	.globl idt, idt_user
idt:
	IDT_TABLE TRAP_STUBS_VA, T_DE, DE_ENTRY_VA, T_GP, GP_ENTRY_VA
	.balign 4096
idt_user:
	IDT_TABLE UTRAP_STUBS_VA, T_UD, UD_ENTRY_VA, T_PF, PF_ENTRY_VA

	.balign 8
	.word 0, 0, 0
	.globl idt_desc
idt_desc:
	.word 256 * 16 - 1
	.quad idt

	.section .note.GNU-stack, "", @progbits
