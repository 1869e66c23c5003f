/*
 * Per-CPU data, reached through %gs: GS base holds the CPU's struct pcpu, set once by
 * the boot's CPL 0 prologue (locore.S) and never changed (docs/deprivileged-kernel.md:
 * user programs use FS only). pc_self at offset 0 turns %gs-relative into a pointer.
 *
 * Field locking legend:
 *   C  constant after boot
 *   P  this CPU only, with interrupts (soft-)masked or in a critical section
 */
#ifndef AMD64_PCPU_H
#define AMD64_PCPU_H

/* %gs offsets, for the stubs (exception.S). */
#define PC_SELF         0
#define PC_CURTHREAD    8
#define PC_KCR3         16
#define PC_UCR3         24
#define PC_XCR3         32
#define PC_URSP         40
#define PC_PF_FRAMEP    48
#define PC_PF_FRAME     56
#define PC_KSTACK_TOP   80      /* the rsp of that frame */
#define PC_RETP         96
#define PC_RETP_PTE     104
#define PC_PTE_VAL      112
#define PC_RET_RDI      120
#define PC_RET_RAX      128
#define PC_RET_RIP      136     /* then cs, rflags, rsp, ss */
#define PC_PTE_ADDR     176

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stdint.h>

#include "devices/hostcall.h"

#define MAXCPU  16

struct thread;

struct pcpu {
	struct pcpu *pc_self;           /* C: %gs:0 */
	struct thread *pc_curthread;    /* P: %gs:8, what runs here */
	uint64_t pc_kcr3;               /* P: %gs:16, the root the kernel runs on here: a
	                                   trap from user mode loads it */
	uint64_t pc_ucr3;               /* P: %gs:24, that pmap's user root: the return to
	                                   user mode loads it (0: no user mode) */
	uint64_t pc_xcr3;               /* P: %gs:32, pc_kcr3 again, for the hot entries to
	                                   take with one xchg, which leaves the user's rax
	                                   here until the kernel puts pc_kcr3 back */
	uint64_t pc_ursp;               /* P: %gs:40, the user's rsp while a system call
	                                   enters (exception.S: syscall_kentry) */
	uint64_t *pc_pf_framep;         /* C: %gs:48, &pc_pf_rip */
	struct {                        /* %gs:56: the iret frame pf_entry takes into the
	                                   kernel: pf_kentry on curthread's kernel stack */
		uint64_t pc_pf_rip;     /* C */
		uint64_t pc_pf_cs;      /* C */
		uint64_t pc_pf_rflags;  /* C */
		uint64_t pc_kstack_top; /* P: %gs:80, curthread's kernel stack top: where a
		                           trap from user mode lands (exception.S) */
		uint64_t pc_pf_ss;      /* C */
	};
	uint64_t *pc_retp;              /* C: %gs:96, &pc_ret_rax */
	uint64_t *pc_retp_pte;          /* C: %gs:104, &pc_pte_val */
	/* P: %gs:112, what the return to user mode pops (trap_return_user writes it,
	 * de_entry or gp_entry pops it): here, not on the CPL 0 stack, where a trap in
	 * between would push over it. gp_entry's store first: a page-table entry's value
	 * that pmap left for the return (pmap_md_pte_defer), then the user's registers. */
	uint64_t pc_pte_val;
	uint64_t pc_ret_rdi, pc_ret_rax;
	uint64_t pc_ret_rip, pc_ret_cs, pc_ret_rflags, pc_ret_rsp, pc_ret_ss;
	/* P: %gs:176, that entry's address, or 0 for none. */
	uint64_t pc_pte_addr;
	bool pc_pte_defer;              /* P: a user fault is being resolved: its entry
	                                   may be left for the return (trap_user) */
	uint64_t pc_fsbase;             /* P: FS base as loaded (a thread's td_fsbase) */
	struct thread *pc_idlethread;   /* C */
	int pc_cpuid;                   /* C */
	int pc_critnest;                /* P: critical_enter nesting: no preemption */
	bool pc_owepreempt;             /* P: a switch is due when the nesting ends */
	/* This CPU's page-operation request block (kern/vm_platform_impl.h): in the
	 * kernel image, so below 4 GiB physical, and 16-byte aligned as the port wants. */
	struct hc_req pc_hcreq;
	/* The VM core's per-CPU event counters (vm_platform.h, vm_pcpu_counter_add): each
	 * added to with one %gs-relative instruction, read racily from pcpu_array. */
	uint64_t pc_vmcounters[8];
};

_Static_assert(__builtin_offsetof(struct pcpu, pc_self) == PC_SELF, "pc_self at %gs:0");
_Static_assert(__builtin_offsetof(struct pcpu, pc_curthread) == PC_CURTHREAD,
    "pc_curthread at %gs:8");
_Static_assert(__builtin_offsetof(struct pcpu, pc_kcr3) == PC_KCR3, "pc_kcr3 at %gs:16");
_Static_assert(__builtin_offsetof(struct pcpu, pc_ucr3) == PC_UCR3, "pc_ucr3 at %gs:24");
_Static_assert(__builtin_offsetof(struct pcpu, pc_xcr3) == PC_XCR3, "pc_xcr3 at %gs:32");
_Static_assert(__builtin_offsetof(struct pcpu, pc_ursp) == PC_URSP, "pc_ursp at %gs:40");
_Static_assert(__builtin_offsetof(struct pcpu, pc_pf_framep) == PC_PF_FRAMEP,
    "pc_pf_framep at %gs:48");
_Static_assert(__builtin_offsetof(struct pcpu, pc_pf_rip) == PC_PF_FRAME, "pc_pf_rip at %gs:56");
_Static_assert(__builtin_offsetof(struct pcpu, pc_kstack_top) == PC_KSTACK_TOP,
    "pc_kstack_top at %gs:80");
_Static_assert(__builtin_offsetof(struct pcpu, pc_retp) == PC_RETP &&
    __builtin_offsetof(struct pcpu, pc_retp_pte) == PC_RETP_PTE &&
    __builtin_offsetof(struct pcpu, pc_pte_val) == PC_PTE_VAL &&
    __builtin_offsetof(struct pcpu, pc_ret_rdi) == PC_RET_RDI &&
    __builtin_offsetof(struct pcpu, pc_ret_rax) == PC_RET_RAX &&
    __builtin_offsetof(struct pcpu, pc_ret_rip) == PC_RET_RIP &&
    __builtin_offsetof(struct pcpu, pc_ret_ss) == PC_RET_RIP + 32,
    "the return area at %gs:96..176");
_Static_assert(__builtin_offsetof(struct pcpu, pc_pte_addr) == PC_PTE_ADDR,
    "pc_pte_addr at %gs:176");

extern struct pcpu pcpu_array[MAXCPU];
extern int pcpu_count;

static inline struct pcpu *pcpu_self(void)
{
	struct pcpu *pc;

	__asm__("movq %%gs:0, %0" : "=r"(pc));
	return pc;
}

static inline struct thread *curthread_get(void)
{
	struct thread *td;

	__asm__ volatile("movq %%gs:8, %0" : "=r"(td));
	return td;
}
#define curthread   curthread_get()

#endif /* !__ASSEMBLY__ */
#endif /* AMD64_PCPU_H */
