/*
 * Signals, Linux's x86-64 ABI: rt_sigaction, rt_sigprocmask, rt_sigreturn, kill and
 * tgkill; a fault's signal delivered at once, others when the thread next returns to
 * user mode. A handler runs on the user stack below a frame laid out as Linux lays it
 * out (the restorer's address, a ucontext with the interrupted registers and signal
 * mask, a siginfo, the FPU state), so musl's sigreturn, siglongjmp and SA_SIGINFO
 * handlers work unchanged. Default actions: terminate (status 128+N, the one-line
 * report for faults), ignore (SIGCHLD, SIGURG, SIGWINCH), stop and continue are
 * ignored for now (no job control). A fault's signal that is blocked, ignored or
 * handled by a handler whose own frame faults kills the process, as on Linux.
 *
 * A sent signal the target would act on ends its interruptible sleep (sig_post,
 * kern_synch.c's sleepq_abort); the system call it was in returns -ERESTARTSYS, which
 * sig_syscall_restart turns into -EINTR or a restart by Linux's SA_RESTART rule, or a
 * call's own -EINTR (nanosleep). A default action that terminates then kills it as it
 * leaves the call.
 */
#include "amd64/cpufunc.h"
#include "amd64/segments.h"
#include "amd64/specialreg.h"
#include "kern/console.h"
#include "kern/kerrno.h"
#include "kern/ksignal.h"
#include "kern/proc.h"
#include "kern/systm.h"
#include "kern/thread.h"

#define SIG_DFL         0
#define SIG_IGN         1
#define SA_SIGINFO      0x4
#define SA_RESTART      0x10000000
#define SA_ONSTACK      0x08000000
#define SA_RESTORER     0x04000000
#define SA_NODEFER      0x40000000
#define SA_RESETHAND    0x80000000
#define SIG_BLOCK       0
#define SIG_UNBLOCK     1
#define SIG_SETMASK     2

/* The kernel's view of struct sigaction (Linux x86-64). */
struct k_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* Linux's struct sigcontext for x86-64: musl's mcontext_t, gregs in this order. */
struct sig_mcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx;
	uint64_t rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;                       /* user address of the FXSAVE area */
	uint64_t reserved[8];
};

struct sig_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	uint64_t ss_sp;
	int32_t ss_flags, ss_pad;
	uint64_t ss_size;
	struct sig_mcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct sig_info {
	int32_t si_signo, si_errno, si_code, si_pad;
	uint64_t si_addr;                       /* faults: the address; kill: pid, uid */
	uint8_t rest[128 - 24];
};

/* What the handler's stack holds, lowest first (rsp at the handler's entry points at
 * pretcode, as after a call). */
struct sig_frame {
	uint64_t pretcode;                      /* the restorer: rt_sigreturn */
	struct sig_ucontext uc;
	struct sig_info info;
};

_Static_assert(sizeof(struct sig_mcontext) == 256, "sigcontext is Linux's 256 bytes");
_Static_assert(sizeof(struct sig_info) == 128, "siginfo is Linux's 128 bytes");

static bool sig_default_ignores(int sig)
{
	return sig == 17 || sig == 23 || sig == 28 || sig == 18;   /* CHLD URG WINCH CONT */
}

/* Would acting on sig do nothing (sig_act's two ignoring cases, for a sent signal)? */
static bool sig_ignored(const struct proc *p, int sig)
{
	uint64_t h = p->p_sigact[sig].handler;

	return h == SIG_IGN || (h == SIG_DFL && sig_default_ignores(sig));
}

/*
 * Does td have a signal pending that it would act on: not blocked, not ignored? Then an
 * interruptible sleep must end (thread.h), as Linux's signal_pending() after its
 * send-time discard of ignored signals. SIGKILL is never blocked (the masks drop it)
 * nor ignored (rt_sigaction refuses it). td's mask and dispositions are read unlocked
 * (kern/proc.h says why that holds).
 */
bool sig_interrupts(const struct thread *td)
{
	const struct proc *p = td->td_proc;
	uint64_t ready = __atomic_load_n(&td->td_sigpending, __ATOMIC_ACQUIRE) &
	    ~td->td_sigmask;

	if (p == NULL)
		return false;           /* a kernel thread: no signals */
	for (; ready != 0; ready &= ready - 1) {
		if (!sig_ignored(p, __builtin_ctzll(ready) + 1))
			return true;
	}
	return false;
}

void sig_post(struct thread *td, int sig)
{
	KASSERT(sig >= 1 && sig <= PROC_NSIG, ("sig_post: signal %d", sig));
	__atomic_fetch_or(&td->td_sigpending, sig_bit(sig), __ATOMIC_RELEASE);
	/* After the bit: a sleep inserted from here on sees it (sleepq_insert). */
	if (sig_interrupts(td))
		sleepq_abort(td);
}

long sig_syscall_restart(struct trapframe *tf, uint64_t nr)
{
	struct thread *td = curthread;
	const struct proc *p = td->td_proc;
	uint64_t ready = __atomic_load_n(&td->td_sigpending, __ATOMIC_ACQUIRE) &
	    ~td->td_sigmask;

	/* The signal sig_deliver_pending will act on first (it goes in the same order,
	 * skipping the ignored ones, at this very return): a handler without SA_RESTART
	 * sees EINTR; a handler with it, or a default action (one that kills makes the
	 * choice moot), gets the call again, as on Linux. */
	for (; ready != 0; ready &= ready - 1) {
		int sig = __builtin_ctzll(ready) + 1;
		if (sig_ignored(p, sig))
			continue;
		const struct proc_sigaction *sa = &p->p_sigact[sig];
		if (sa->handler != SIG_DFL && (sa->flags & SA_RESTART) == 0)
			return -EINTR;
		break;
	}
	/* Again: back onto the syscall instruction (2 bytes: 0f 05; tf_rip is past it on
	 * both entries, trap_user's T_UD) with its number in rax; the arguments are
	 * untouched in their registers. The handler's frame, pushed next, saves this. */
	tf->tf_rip -= 2;
	return (long)nr;
}

long sys_rt_sigaction(int sig, uint64_t uact, uint64_t uoact, uint64_t sigsetsize)
{
	struct proc *p = curproc;
	struct k_sigaction act;

	if (sig < 1 || sig > PROC_NSIG || sigsetsize != 8)
		return -EINVAL;
	if (uoact != 0 && copyout(&p->p_sigact[sig], (void *)(uintptr_t)uoact,
	    sizeof(act)) != 0)
		return -EFAULT;
	if (uact == 0)
		return 0;
	if (sig == SIGKILL || sig == SIGSTOP)
		return -EINVAL;
	if (copyin((const void *)(uintptr_t)uact, &act, sizeof(act)) != 0)
		return -EFAULT;
	p->p_sigact[sig] = (struct proc_sigaction){ act.handler, act.flags, act.restorer,
	    act.mask & ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP)) };
	return 0;
}

long sys_rt_sigprocmask(int how, uint64_t uset, uint64_t uoset, uint64_t sigsetsize)
{
	struct thread *td = curthread;
	uint64_t set;

	if (sigsetsize != 8)
		return -EINVAL;
	if (uoset != 0 && copyout(&td->td_sigmask, (void *)(uintptr_t)uoset, 8) != 0)
		return -EFAULT;
	if (uset == 0)
		return 0;
	if (copyin((const void *)(uintptr_t)uset, &set, 8) != 0)
		return -EFAULT;
	set &= ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP));
	switch (how) {
	case SIG_BLOCK:
		td->td_sigmask |= set;
		break;
	case SIG_UNBLOCK:
		td->td_sigmask &= ~set;
		break;
	case SIG_SETMASK:
		td->td_sigmask = set;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/*
 * Build the handler's frame on the user stack and point tf at the handler. => false
 * when the frame could not be written (the caller kills the process).
 */
static bool sig_push_frame(struct trapframe *tf, int sig, int code, uint64_t addr,
    const struct proc_sigaction *sa)
{
	struct thread *td = curthread;
	struct sig_frame f;
	uint8_t fpu[512] __attribute__((aligned(16)));

	/* Below the red zone; the FXSAVE area 64-aligned, the frame so that rsp + 8 is
	 * 16-aligned at the handler's entry, as after a call. */
	uint64_t sp = (tf->tf_rsp - 128 - sizeof(fpu)) & ~63ull;
	uint64_t fp = sp;
	sp = ((sp - sizeof(f)) & ~15ull) - 8;
	__asm__ volatile("fxsave %0" : "=m"(fpu));
	memset(&f, 0, sizeof(f));
	f.pretcode = sa->restorer;
	struct sig_mcontext *mc = &f.uc.uc_mcontext;
	mc->r8 = tf->tf_r8; mc->r9 = tf->tf_r9; mc->r10 = tf->tf_r10; mc->r11 = tf->tf_r11;
	mc->r12 = tf->tf_r12; mc->r13 = tf->tf_r13; mc->r14 = tf->tf_r14;
	mc->r15 = tf->tf_r15; mc->rdi = tf->tf_rdi; mc->rsi = tf->tf_rsi;
	mc->rbp = tf->tf_rbp; mc->rbx = tf->tf_rbx; mc->rdx = tf->tf_rdx;
	mc->rax = tf->tf_rax; mc->rcx = tf->tf_rcx; mc->rsp = tf->tf_rsp;
	mc->rip = tf->tf_rip; mc->eflags = tf->tf_rflags; mc->cs = (uint16_t)tf->tf_cs;
	mc->ss = (uint16_t)tf->tf_ss; mc->err = tf->tf_err; mc->trapno = tf->tf_vector;
	mc->oldmask = td->td_sigmask; mc->cr2 = addr; mc->fpstate = fp;
	f.uc.uc_sigmask = td->td_sigmask;
	f.info.si_signo = sig;
	f.info.si_code = code;
	f.info.si_addr = addr;
	if (copyout(fpu, (void *)(uintptr_t)fp, sizeof(fpu)) != 0 ||
	    copyout(&f, (void *)(uintptr_t)sp, sizeof(f)) != 0)
		return false;
	tf->tf_rsp = sp;
	tf->tf_rip = sa->handler;
	tf->tf_rdi = (uint64_t)sig;
	tf->tf_rsi = sp + offsetof(struct sig_frame, info);
	tf->tf_rdx = sp + offsetof(struct sig_frame, uc);
	tf->tf_rax = 0;
	/* No single-step into the handler, and DF clear as the ABI has it at a call. */
	tf->tf_rflags &= ~(uint64_t)(PSL_T | PSL_D);
	td->td_sigmask |= sa->mask | ((sa->flags & SA_NODEFER) != 0 ? 0 : sig_bit(sig));
	return true;
}

/* Act on sig for the current thread at this trap: a handler, ignore, or the default. */
static void sig_act(struct trapframe *tf, int sig, int code, uint64_t addr, bool fault,
    const char *why)
{
	struct proc *p = curproc;
	struct proc_sigaction *sa = &p->p_sigact[sig];
	bool blocked = (curthread->td_sigmask & sig_bit(sig)) != 0;

	if (sa->handler == SIG_IGN && !fault)
		return;
	if (sa->handler != SIG_DFL && sa->handler != SIG_IGN && !blocked &&
	    (sa->flags & SA_RESTORER) != 0) {
		struct proc_sigaction act = *sa;
		if ((sa->flags & SA_RESETHAND) != 0)
			sa->handler = SIG_DFL;
		if (sig_push_frame(tf, sig, code, addr, &act))
			return;
		why = "its signal frame could not be written";
	} else if (sa->handler == SIG_DFL && !fault && sig_default_ignores(sig)) {
		return;
	}
	proc_kill_current(sig, why, addr, tf->tf_rip);
}

void sig_fault(struct trapframe *tf, int sig, int code, uint64_t addr, const char *why)
{
	/* A SIGKILL already sent wins over the fault, which it may have caused: the
	 * out-of-memory killer empties the address space of the process it kills
	 * (kern_oom.c). */
	if ((__atomic_load_n(&curthread->td_sigpending, __ATOMIC_ACQUIRE) &
	    sig_bit(SIGKILL)) != 0)
		proc_kill_current(SIGKILL, "sent", 0, tf->tf_rip);
	sig_act(tf, sig, code, addr, true, why);
}

void sig_deliver_pending(struct trapframe *tf)
{
	struct thread *td = curthread;

	for (;;) {
		uint64_t ready = __atomic_load_n(&td->td_sigpending, __ATOMIC_ACQUIRE) &
		    ~td->td_sigmask;
		if (ready == 0)
			return;
		int sig = __builtin_ctzll(ready) + 1;
		__atomic_fetch_and(&td->td_sigpending, ~sig_bit(sig), __ATOMIC_RELEASE);
		sig_act(tf, sig, 0 /* SI_USER */, 0, false, "sent");
	}
}

long sys_rt_sigreturn(struct trapframe *tf)
{
	struct thread *td = curthread;
	struct sig_ucontext uc;
	uint8_t fpu[512] __attribute__((aligned(16)));

	/* The handler returned into the restorer: the frame's pretcode is popped, rsp is
	 * at the ucontext. */
	if (copyin((const void *)(uintptr_t)tf->tf_rsp, &uc, sizeof(uc)) != 0) {
		sig_fault(tf, 11, 0, tf->tf_rsp, "bad signal frame");
		return 0;
	}
	const struct sig_mcontext *mc = &uc.uc_mcontext;
	tf->tf_r8 = mc->r8; tf->tf_r9 = mc->r9; tf->tf_r10 = mc->r10; tf->tf_r11 = mc->r11;
	tf->tf_r12 = mc->r12; tf->tf_r13 = mc->r13; tf->tf_r14 = mc->r14;
	tf->tf_r15 = mc->r15; tf->tf_rdi = mc->rdi; tf->tf_rsi = mc->rsi;
	tf->tf_rbp = mc->rbp; tf->tf_rbx = mc->rbx; tf->tf_rdx = mc->rdx;
	tf->tf_rcx = mc->rcx; tf->tf_rsp = mc->rsp; tf->tf_rip = mc->rip;
	tf->tf_rflags = (mc->eflags & PSL_USER_CHANGE) | PSL_I | 0x2;
	td->td_sigmask = uc.uc_sigmask & ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP));
	if (mc->fpstate != 0 && copyin((const void *)(uintptr_t)mc->fpstate, fpu,
	    sizeof(fpu)) == 0) {
		/* MXCSR's reserved bits set would fault fxrstor: keep the defined ones. */
		uint32_t mxcsr;
		memcpy(&mxcsr, fpu + 24, 4);
		mxcsr &= 0xffff;
		memcpy(fpu + 24, &mxcsr, 4);
		__asm__ volatile("fxrstor %0" : : "m"(fpu));
	}
	return (long)mc->rax;           /* the interrupted code's rax, untouched */
}

long sys_kill(int64_t pid, int sig)
{
	if (sig < 0 || sig > PROC_NSIG)
		return -EINVAL;
	struct thread *td = proc_thread_of((int)pid);
	if (td == NULL)
		return -ESRCH;
	if (sig == 0)
		return 0;
	/* The target acts on it when it returns to user mode; one asleep in a system call
	 * is woken for it first (EINTR, or the call restarted). */
	sig_post(td, sig);
	return 0;
}
