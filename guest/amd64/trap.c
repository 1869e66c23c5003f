/*
 * trap(): every exception and interrupt arrives here from exception.S, at CPL 3 (the
 * kernel's mode: docs/deprivileged-kernel.md).
 *
 *   vector < 32   an exception: resumed only when a test armed trap_expect() for this
 *                 vector and the faulting instruction has a TRAP_FIXUP entry; otherwise
 *                 the frame is printed on COM1 and the kernel panics.
 *   vector >= 32  an interrupt: its registered handler runs (it does the EOI);
 *                 an unregistered vector is counted and reported once, then ignored.
 */
#include "amd64/cpufunc.h"
#include "amd64/lapic.h"
#include "amd64/pcpu.h"
#include "amd64/segments.h"
#include "amd64/specialreg.h"
#include "amd64/kreq.h"
#include "amd64/trap.h"
#include "amd64/vmparam.h"
#include "dev/hostcall.h"
#include "kern/console.h"
#include "kern/systm.h"
#include "kern/thread.h"
#include "kern/proc.h"
#include "vm/memguard.h"

extern const struct trap_fixup __start_set_trapfix[], __stop_set_trapfix[];

static const char *const trap_names[T_NEXCEPT] = {
	[T_DE] = "divide error", [T_DB] = "debug", [T_NMI] = "NMI",
	[T_BP] = "breakpoint", [T_OF] = "overflow", [T_BR] = "bound range",
	[T_UD] = "invalid opcode", [T_NM] = "device not available",
	[T_DF] = "double fault", [9] = "coprocessor segment overrun",
	[T_TS] = "invalid TSS", [T_NP] = "segment not present",
	[T_SS] = "stack fault", [T_GP] = "general protection", [T_PF] = "page fault",
	[T_MF] = "x87 error", [T_AC] = "alignment check", [T_MC] = "machine check",
	[T_XM] = "SIMD exception", [T_VE] = "virtualization exception",
	[T_CP] = "control protection",
};

/* The armed expectation (one at a time: tests run one after another). */
static struct {
	bool armed;
	bool taken;
	unsigned vector;
	struct trap_record rec;
} trap_exp;

static intr_handler_t intr_handlers[256];
static uint64_t intr_counts[256];
uint64_t kreq_counts[KREQ_COUNT];

/* Masked until the boot unmasks: interrupts during start-up wait (amd64/trap.h). */
volatile uint8_t intr_soft_mask = 1;
volatile uint8_t intr_pending_any;
volatile uint64_t intr_pending[4];

const char *trap_name(unsigned vector)
{
	if (vector < T_NEXCEPT && trap_names[vector] != NULL)
		return trap_names[vector];
	return vector < T_NEXCEPT ? "reserved exception" : "interrupt";
}

void trap_expect(unsigned vector)
{
	trap_exp.vector = vector;
	trap_exp.taken = false;
	trap_exp.armed = true;
}

bool trap_expect_done(struct trap_record *rec)
{
	bool taken = trap_exp.taken;

	trap_exp.armed = false;
	trap_exp.taken = false;
	if (taken && rec != NULL)
		*rec = trap_exp.rec;
	return taken;
}

void intr_register(unsigned vector, intr_handler_t h)
{
	KASSERT(vector >= T_NEXCEPT && vector < 256,
	    ("intr_register: vector %u is not an interrupt", vector));
	intr_handlers[vector] = h;
}

uint64_t intr_count(unsigned vector)
{
	return vector < 256 ? intr_counts[vector] : 0;
}

static const struct trap_fixup *trap_find_fixup(uint64_t rip)
{
	for (const struct trap_fixup *f = __start_set_trapfix; f < __stop_set_trapfix; f++) {
		if (f->tfx_rip == rip)
			return f;
	}
	return NULL;
}

static void trap_print(const struct trapframe *tf, uint64_t cr2)
{
	console_printf("trap: vector %lu (%s), error code %#lx, rip %#lx\n",
	    (unsigned long)tf->tf_vector, trap_name(tf->tf_vector),
	    (unsigned long)tf->tf_err, (unsigned long)tf->tf_rip);
	if (tf->tf_vector == T_PF)
		console_printf("trap: cr2 %#lx (%s, %s, %s)\n", (unsigned long)cr2,
		    tf->tf_err & PGEX_P ? "protection" : "not present",
		    tf->tf_err & PGEX_W ? "write" : tf->tf_err & PGEX_I ? "fetch" : "read",
		    tf->tf_err & PGEX_U ? "CPL 3" : "CPL 0");
	console_printf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n"
	    "  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n"
	    "  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n"
	    "  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n"
	    "  cs %#lx ss %#lx rflags %#lx\n",
	    tf->tf_rax, tf->tf_rbx, tf->tf_rcx, tf->tf_rdx, tf->tf_rsi, tf->tf_rdi,
	    tf->tf_rbp, tf->tf_rsp, tf->tf_r8, tf->tf_r9, tf->tf_r10, tf->tf_r11,
	    tf->tf_r12, tf->tf_r13, tf->tf_r14, tf->tf_r15, tf->tf_cs, tf->tf_ss,
	    tf->tf_rflags);
}

static void trap_exception(struct trapframe *tf)
{
	uint64_t cr2 = tf->tf_vector == T_PF ? tf->tf_cr2 : 0;

	if (trap_exp.armed && !trap_exp.taken && tf->tf_vector == trap_exp.vector) {
		const struct trap_fixup *f = trap_find_fixup(tf->tf_rip);
		if (f != NULL) {
			trap_exp.rec = (struct trap_record){
				.tr_vector = tf->tf_vector, .tr_err = tf->tf_err,
				.tr_cr2 = cr2, .tr_rip = tf->tf_rip,
			};
			trap_exp.taken = true;
			tf->tf_rip = f->tfx_resume;
			return;
		}
	}
	console_set_panicking();
	trap_print(tf, cr2);
	/* A kernel access to a guard page or a freed range: MemGuard names the allocation
	 * (and panics); any other fault is the generic panic below. */
	/* Every fault is the kernel's until processes exist (its accesses carry PGEX_U:
	 * it runs at CPL 3). */
	if (tf->tf_vector == T_PF)
		memguard_fault(cr2, (tf->tf_err & PGEX_W) != 0);
	panic("trap: unexpected %s (vector %lu) at rip %#lx", trap_name(tf->tf_vector),
	    (unsigned long)tf->tf_vector, (unsigned long)tf->tf_rip);
}

/* One interrupt's handler. => soft-masked. */
static void intr_dispatch(unsigned vector, struct trapframe *tf)
{
	intr_counts[vector]++;
	if (intr_handlers[vector] != NULL) {
		intr_handlers[vector](tf);
		return;
	}
	if (vector == IDT_LAPIC_SPURIOUS)
		return;                 /* no EOI for a spurious interrupt */
	if (intr_counts[vector] == 1)
		printf("trap: stray interrupt vector %u\n", vector);
	lapic_eoi();
}

void intr_run_pending(void)
{
	KASSERT(intr_soft_mask == 0, ("intr_run_pending: interrupts masked"));
	intr_soft_mask = 1;
	while (intr_pending_any) {
		intr_pending_any = 0;
		for (unsigned w = 0; w < nitems(intr_pending); w++) {
			/* Taken word by word, atomically: the stub may set more meanwhile. */
			uint64_t bits = __atomic_exchange_n(&intr_pending[w], 0, __ATOMIC_ACQ_REL);
			for (; bits != 0; bits &= bits - 1)
				intr_dispatch(w * 64 + (unsigned)__builtin_ctzll(bits), NULL);
		}
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	intr_soft_mask = 0;
}

void intr_enable_slow(void)
{
	struct pcpu *pc = pcpu_self();

	for (;;) {
		if (intr_pending_any)
			intr_run_pending();
		if (!pc->pc_owepreempt || pc->pc_critnest != 0 || !sched_running())
			return;
		/* A better thread became runnable (a wakeup, a handler): switch now. */
		intr_soft_mask = 1;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		sched_preempt();
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		intr_soft_mask = 0;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (!intr_pending_any && !pc->pc_owepreempt)
			return;
	}
}

/* critical_exit found a switch due: take it now if interrupts allow, else enabling
 * them will. */
void critical_exit_preempt(void)
{
	if (intr_enabled()) {
		disable_intr();
		sched_preempt();
		enable_intr();
	}
}

void trap(struct trapframe *tf)
{
	unsigned vector = (unsigned)tf->tf_vector;

	if (vector < T_NEXCEPT) {
		/* The kernel's own access to a process's memory (copyin, copyout, exec):
		 * faulted in for it, or sent to the copy's fix-up. */
		if (vector == T_PF && proc_kernel_fault(tf))
			return;
		trap_exception(tf);
		return;
	}
	trap_intr(tf);
}

/*
 * Did the interrupt come in a kentry window: between the stub's iretq into trap_kentry
 * (or trap_kentry_user) and that code's copy of the forwarded frame? Such a frame still
 * holds its room below TSS.RSP0, and the rooms are given back in the order they were
 * taken: a switch to another thread now could take and keep one of its own above and
 * let the first be given back under it. So no switch there: the one owed happens when
 * the outer trap ends.
 */
static bool trap_in_kentry_window(uint64_t rip)
{
	extern const char trap_kentry[], trap_kentry_copied[], trap_kentry_user[],
	    trap_kentry_user_copied[], pf_kentry[], pf_kentry_copied[], syscall_kentry_end[],
	    syscall_kentry_copied[], trap_return_user[], trap_return_user_end[];

	/* pf_kentry's and syscall_kentry's also hold pc_xcr3 (the user's rax there), which
	 * the next entry into the kernel from user mode needs back; trap_return_user's
	 * the user's registers in this CPU's record, which another thread's return would
	 * overwrite. */
	return (rip >= (uintptr_t)trap_kentry && rip < (uintptr_t)trap_kentry_copied) ||
	    (rip >= (uintptr_t)trap_kentry_user && rip < (uintptr_t)trap_kentry_user_copied) ||
	    (rip >= (uintptr_t)pf_kentry && rip < (uintptr_t)pf_kentry_copied) ||
	    (rip >= (uintptr_t)syscall_kentry_end && rip < (uintptr_t)syscall_kentry_copied) ||
	    (rip >= (uintptr_t)trap_return_user && rip <= (uintptr_t)trap_return_user_end);
}

void trap_intr(struct trapframe *tf)
{
	unsigned vector = (unsigned)tf->tf_vector;

	/* Forwarded because the kernel was unmasked: masked while the handler runs, as an
	 * interrupt gate would clear IF; then a switch the handler made due (the
	 * interrupted thread resumes here later), then whatever arrived meanwhile. */
	KASSERT(intr_soft_mask == 0, ("trap: vector %u forwarded while masked", vector));
	intr_soft_mask = 1;
	intr_dispatch(vector, tf);
	if (trap_in_kentry_window(tf->tf_rip)) {
		/* Whatever arrived meanwhile, but no switch (above). */
		while (intr_pending_any) {
			intr_soft_mask = 0;
			intr_run_pending();
		}
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		intr_soft_mask = 0;
		return;
	}
	if (pcpu_self()->pc_owepreempt)
		sched_preempt();
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	intr_soft_mask = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (intr_pending_any || pcpu_self()->pc_owepreempt)
		intr_enable_slow();
}

uint64_t trap_window_count;

bool trap_user_window(struct trapframe *tf)
{
	extern const char syscall_kentry_sp[];
	struct pcpu *pc = pcpu_self();

	/* Only trap_kernel marks a vector, on the kernel's root, which no program can
	 * load: a program that jumps into syscall_kentry faults on its own root. */
	if ((tf->tf_vector & TRAP_WINDOW) == 0)
		return false;
	tf->tf_vector &= ~(uint64_t)TRAP_WINDOW;
	if (tf->tf_rip >= (uintptr_t)syscall_kentry_sp)
		tf->tf_rsp = pc->pc_ursp;
	/* ud_entry left the #UD's rip in rax; the flags are the #UD's still. */
	tf->tf_rip = tf->tf_rax;
	tf->tf_rax = pc->pc_xcr3;
	pc->pc_xcr3 = pc->pc_kcr3;
	trap_window_count++;
	return true;
}

void trap_user_init(void)
{
	extern const char syscall_tramp[], pf_kentry[];
	struct pcpu *pc = pcpu_self();

	wrmsr(MSR_LSTAR, (uintptr_t)syscall_tramp);    /* kvm_pvm's syscall lands there */
	wrmsr(MSR_SFMASK, SYSCALL_FMASK);
	pc->pc_pf_rip = (uintptr_t)pf_kentry;
	pc->pc_pf_cs = GSEL_UCODE | SEL_UPL;
	pc->pc_pf_rflags = KERNEL_RFLAGS;
	pc->pc_pf_ss = GSEL_UDATA | SEL_UPL;
	pc->pc_pf_framep = &pc->pc_pf_rip;
	pc->pc_retp = &pc->pc_ret_rax;
	pc->pc_retp_pte = &pc->pc_pte_val;
	KASSERT(pc->pc_xcr3 == pc->pc_kcr3, ("trap_user_init: pc_xcr3 is not the kernel's root"));
}

void trap_fatal_cpl0(struct trapframe *tf, uint64_t cr2)
{
	/* Masked: nothing below may run an interrupt handler, whose EOI would be a kernel
	 * request (int3), which kills the VM at CPL 0. */
	disable_intr();
	console_set_panicking();
	console_printf("trap: at CPL 0, in the stubs:\n");
	/* trap_print reads nothing past tf_ss. */
	trap_print(tf, cr2);
	static const char msg[] = "panic: trap at CPL 0, in the stubs";
	console_printf("%s\n", msg);
	/* Not panic(): its way out ends in a kernel request, and int3 at CPL 0 kills the
	 * VM. The report and the exit port work at any privilege. */
	hc_report(HC_OP_PANIC, msg, sizeof(msg) - 1);
	outl(EXIT_PORT, GUEST_EXIT_PANIC);
	for (;;)
		__asm__ volatile("cli; hlt");
}
