/*
 * The guest's process: module 0 run as a static Linux program (kern/proc.h), its traps
 * from user mode, its end.
 *
 * The process's thread does its own exec (its address space active, so the copies into
 * user memory fault like any access of the program's), then enters user mode through
 * the return path every trap takes back (exception.S's trap_return_user). thread0 waits
 * for it and tears the address space down.
 */
#include "amd64/cpufunc.h"
#include "amd64/pmap_bootstrap.h"
#include "amd64/segments.h"
#include "amd64/specialreg.h"
#include "amd64/trap.h"
#include "amd64/tsc.h"
#include "amd64/vmparam.h"
#include "kern/console.h"
#include "kern/dump_layout.h"
#include "kern/kerrno.h"
#include "kern/ksignal.h"
#include "kern/proc.h"
#include "kern/swap.h"
#include "kern/vm_boot.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/malloc.h"
#include "vm/vm_fault.h"
#include "vm/vm_lowmem.h"
#include "vm/vm_sleepq.h"
#include "vm/vm_page.h"
#include "vm/vm_vmspace.h"

MALLOC_DEFINE(M_PROC, "proc");

int proc_exec_module0(struct proc *p, uint64_t *entry, uint64_t *sp, char *msg,
    size_t msglen);
void proc_enter_user(struct trapframe *tf) __attribute__((noreturn));
void syscall_tramp(void);

#define WNOHANG         1
#define WEXITED         4

static int proc_next_pid = 1;
static char proc_exec_msg[160];
static int proc_exec_status;
static struct proc *proc_init;          /* pid 1 */
struct proc *proc_all;                  /* P: every process, newest first (a dump
                                           reader starts here: kern/dump_layout.h) */
static uint32_t proc_lock_word;         /* P (kern/proc.h): a spin word, interrupts masked */

struct proc *curproc_get(void)
{
	return curthread->td_proc;
}

/* The process tree's lock; the sleep queues' is taken inside it. */
static bool proc_lock(void)
{
	bool intr = intr_save();

	while (__atomic_exchange_n(&proc_lock_word, 1, __ATOMIC_ACQUIRE) != 0)
		cpu_pause();
	return intr;
}

static void proc_unlock(bool intr)
{
	__atomic_store_n(&proc_lock_word, 0, __ATOMIC_RELEASE);
	intr_restore(intr);
}

/* The thread's user frame: at the top of its kernel stack, where trap_kentry_user
 * builds it (exception.S; pc_kstack_top is 8 below the stack's top). */
static struct trapframe *proc_frame(struct thread *td)
{
	return (struct trapframe *)(td->td_kstack + td->td_kstack_size - 8 -
	    sizeof(struct trapframe));
}

_Static_assert(sizeof(struct trapframe) == TF_SIZE, "struct trapframe is TF_SIZE bytes");

/* Back to user mode from the outermost trap, every forwarded frame has been copied and
 * its room given back (no switch happens while one is in flight: trap.c's kentry
 * window), so TSS.RSP0 is at the top of the CPL 0 stack again. */
static bool proc_rsp0_at_top(void)
{
	extern const char tss[], cpl0_stack[];
	uint64_t rsp0;

	memcpy(&rsp0, tss + 4, sizeof(rsp0));
	return rsp0 == (uint64_t)(uintptr_t)(cpl0_stack + CPL0STACK_SIZE);
}
_Static_assert(offsetof(struct trapframe, tf_rax) == TF_RAX &&
    offsetof(struct trapframe, tf_rdi) == TF_RDI && offsetof(struct trapframe, tf_rsi) == TF_RSI &&
    offsetof(struct trapframe, tf_rip) == TF_RIP && offsetof(struct trapframe, tf_cs) == TF_CS &&
    offsetof(struct trapframe, tf_rflags) == TF_RFLAGS &&
    offsetof(struct trapframe, tf_rsp) == TF_RSP && offsetof(struct trapframe, tf_ss) == TF_SS,
    "trap.h's TF_* offsets are struct trapframe's (exception.S uses them)");


/*
 * CPU time, user and system (getrusage). A process's thread is in user mode from its
 * return to user mode to its next entry into the kernel (trap_user): one rdtsc at each
 * end, native at CPL 3; the rest of its running time (td_runtime, which the scheduler
 * keeps at every switch) is system time. No switch happens in user mode without a
 * trap, but one can in the return path's last instructions (an interrupt there may
 * preempt): the user interval then starts at the switch in, not before it. The CPL 0
 * stubs on either side of trap_user (exception.S: the entry's and the return's, most
 * of a system call's cost on kvm_pvm) run outside the interval this measures, and
 * count as user time.
 */
static inline void proc_acct_kentry(struct thread *td)
{
	/* Masked (two native byte stores): a switch between the clock's read and
	 * td_switchin's would put off-CPU time in the interval, or make it negative. */
	disable_intr();
	uint64_t now = rdtsc(), from = MAX(td->td_uret, td->td_switchin);
	KASSERT(now >= from, ("proc_acct_kentry: the user interval ends before it begins"));
	td->td_uticks += now - from;
	enable_intr();
}

/* Not masked: a switch after the read only moves the next interval's start to the
 * switch in (proc_acct_kentry's MAX). */
static inline void proc_acct_kexit(struct thread *td)
{
	td->td_uret = rdtsc();
}

void proc_cputime(uint64_t *uticks, uint64_t *sticks)
{
	struct thread *td = curthread;
	bool intr = intr_save();        /* td_runtime and td_switchin: S */
	uint64_t run = td->td_runtime + (rdtsc() - td->td_switchin);
	intr_restore(intr);

	*uticks = td->td_uticks;
	/* Every user interval lies in a running one: user time never exceeds the whole. */
	KASSERT(run >= td->td_uticks, ("proc_cputime: user time %lu over running time %lu",
	    (unsigned long)td->td_uticks, (unsigned long)run));
	*sticks = run - td->td_uticks;
}

void proc_cputime_children(uint64_t *uticks, uint64_t *sticks)
{
	struct proc *p = curproc;
	bool intr = proc_lock();

	*uticks = p->p_cuticks;
	*sticks = p->p_csticks;
	proc_unlock(intr);
}

/* Into user mode for the first time, with the frame at the top of the kernel stack.
 * => the process's address space and FS base loaded (sched_switch does: td_pmap). */
static void __attribute__((noreturn)) proc_start_user(struct thread *td)
{
	struct trapframe *tf = proc_frame(td);

	disable_intr();
	KASSERT(pcpu_self()->pc_kstack_top == (uint64_t)(uintptr_t)tf + sizeof(*tf),
	    ("proc_start_user: the user frame is not where traps build it"));
	/* User mode runs with interrupts on: the kernel's mask is clear whenever it runs. */
	intr_soft_mask = 0;
	proc_acct_kexit(td);            /* exec or fork until here: system time */
	proc_enter_user(tf);
}

static void proc_thread_main(void *arg)
{
	struct proc *p = arg;
	struct thread *td = curthread;
	uint64_t entry, sp;

	proc_fd_init(p);
	proc_exec_status = proc_exec_module0(p, &entry, &sp, proc_exec_msg,
	    sizeof(proc_exec_msg));
	if (proc_exec_status != 0)
		thread_exit(proc_exec_status);
	struct trapframe *tf = proc_frame(td);
	memset(tf, 0, sizeof(*tf));
	tf->tf_rip = entry;
	tf->tf_rsp = sp;
	tf->tf_cs = GSEL_UCODE | SEL_UPL;
	tf->tf_ss = GSEL_UDATA | SEL_UPL;
	tf->tf_rflags = PSL_I | 0x2;
	proc_start_user(td);
}

/* A forked child's first run: its frame was copied from the parent's (rax 0). */
static void proc_child_main(void *arg)
{
	(void)arg;
	proc_start_user(curthread);
}

/* Free what a reaped (or never started) process holds but its thread. */
static void proc_free(struct proc *p)
{
	bool intr = proc_lock();
	for (struct proc **pp = &proc_all; *pp != NULL; pp = &(*pp)->p_allnext) {
		if (*pp == p) {
			*pp = p->p_allnext;
			break;
		}
	}
	proc_unlock(intr);
	vmspace_free(p->p_vmspace);
	kfree(p, M_PROC);
}

int proc_run_module0(void)
{
	trap_user_init();
	pmap_stub_init();
	thread_stack_warm();            /* the first stack's one-time cost out of free0 */
	uint64_t free0 = vm_free_pages_settled();
	struct proc *p = kmalloc(sizeof(*p), M_PROC, M_WAITOK | M_ZERO);
	p->p_pid = proc_next_pid++;
	p->p_vmspace = vmspace_alloc(PROC_VM_MIN, PROC_VM_MAX);
	if (p->p_vmspace == NULL) {
		printf("cannot run the program: no memory for its address space\n");
		kfree(p, M_PROC);
		return 71;
	}
	proc_init = p;
	proc_all = p;
	p->p_thread = thread_alloc_proc("init", PRI_USER, proc_thread_main, p,
	    vmspace_pmap(p->p_vmspace));
	/* The FPU's reset state: x87 control word 0x37f, MXCSR 0x1f80. */
	memset(p->p_thread->td_fpu, 0, sizeof(p->p_thread->td_fpu));
	p->p_thread->td_fpu[0] = 0x7f;
	p->p_thread->td_fpu[1] = 0x03;
	p->p_thread->td_fpu[24] = 0x80;
	p->p_thread->td_fpu[25] = 0x1f;
	thread_start_new(p->p_thread);
	(void)thread_join(p->p_thread);
	int st = proc_exec_status != 0 ? proc_exec_status : p->p_xstat;
	if (proc_exec_status != 0)
		printf("%s\n", proc_exec_msg);
	pmap_activate(kernel_pmap);
	/* Orphans still running when pid 1 ended are not waited for: the run ends. */
	proc_free(p);
	thread_reap_zombies();
	/* For "nothing leaked" checks (the integration tests run with -v to see it). */
	printf("proc: %lu pages free after pid 1, %lu before it\n",
	    (unsigned long)vm_free_pages_settled(), (unsigned long)free0);
	vm_daemons_report();
	swap_report();
	/* For the test of the system call's window (systramp). */
	printf("proc: traps in the system call's entry window: %lu\n",
	    (unsigned long)trap_window_count);
	return st;
}

/* The current process ends with wait status ws (and shell status xs). Its children go to
 * pid 1; its parent (or pid 1's waiter, its thread_join) hears of it. */
static void __attribute__((noreturn)) proc_end(int ws, int xs)
{
	struct proc *p = curproc;

	/* Its files first: a pipe's other end sees end of file or EPIPE now, not when the
	 * parent reaps it. */
	proc_fd_close_all(p);
	uint64_t ut, st;
	proc_cputime(&ut, &st);         /* what is left to its last switch: not counted */
	bool intr = proc_lock();
	p->p_uticks = ut;
	p->p_sticks = st;
	p->p_wstatus = ws;
	p->p_xstat = xs;
	p->p_zombie = true;
	while (p->p_children != NULL) {
		struct proc *c = p->p_children;
		p->p_children = c->p_sibling;
		if (p == proc_init) {
			c->p_parent = NULL;     /* the run ends: nobody will reap it */
			continue;
		}
		c->p_parent = proc_init;
		c->p_sibling = proc_init->p_children;
		proc_init->p_children = c;
	}
	struct proc *parent = p->p_parent;
	if (parent != NULL)             /* SIGCHLD: ignored unless it has a handler */
		sig_post(parent->p_thread, SIGCHLD);
	proc_unlock(intr);
	if (parent != NULL)
		(void)sleepq_wakeup(parent, false);
	thread_exit(0);
}

void proc_exit_current(int status)
{
	proc_end((status & 0xff) << 8, status & 0xff);
}

void proc_kill_current(int sig, const char *why, uint64_t addr, uint64_t rip)
{
	struct proc *p = curproc;

	console_printf("pid %d (%s): killed by signal %d (%s) at address %#lx, rip %#lx\n",
	    p->p_pid, p->p_comm, sig, why, (unsigned long)addr, (unsigned long)rip);
	proc_end(sig & 0x7f, 128 + sig);
}

long proc_fork(struct trapframe *tf)
{
	struct proc *p = curproc;
	struct proc *c = kmalloc(sizeof(*c), M_PROC, M_WAITOK | M_ZERO);

	if ((c->p_vmspace = vmspace_fork(p->p_vmspace)) == NULL) {
		kfree(c, M_PROC);
		return -ENOMEM;
	}
	memcpy(c->p_comm, p->p_comm, sizeof(c->p_comm));
	memcpy(c->p_sigact, p->p_sigact, sizeof(c->p_sigact));
	proc_fd_fork(c, p);
	c->p_brk = p->p_brk;
	bool intr = proc_lock();
	c->p_pid = proc_next_pid++;
	c->p_allnext = proc_all;
	proc_all = c;
	c->p_parent = p;
	c->p_sibling = p->p_children;
	p->p_children = c;
	proc_unlock(intr);
	struct thread *td = thread_alloc_proc("user", PRI_USER, proc_child_main, c,
	    vmspace_pmap(c->p_vmspace));
	td->td_fsbase = curthread->td_fsbase;
	td->td_sigmask = curthread->td_sigmask;
	__asm__ volatile("fxsave %0" : "=m"(td->td_fpu));     /* the parent's, live */
	struct trapframe *ctf = proc_frame(td);
	*ctf = *tf;
	ctf->tf_rax = 0;                /* fork returns 0 in the child */
	c->p_thread = td;
	thread_start_new(td);
	return c->p_pid;
}

/* Reap a child that ended (pid -1: any). => its pid with *ws its wait status, 0 with
 * WNOHANG and none ended, -ECHILD. */
static long proc_reap(int64_t pid, int options, int *ws)
{
	struct proc *p = curproc;
	struct vm_sleeper vs;
	int slept = SLEEPQ_WOKEN;

	for (;;) {
		bool any = false;
		struct proc *z = NULL;
		bool intr = proc_lock();
		for (struct proc **cp = &p->p_children; *cp != NULL; cp = &(*cp)->p_sibling) {
			if (pid != -1 && (*cp)->p_pid != pid)
				continue;
			any = true;
			if ((*cp)->p_zombie) {
				z = *cp;
				*cp = z->p_sibling;     /* reaped: no longer a child */
				/* Its time and its own reaped descendants' (Linux's
				 * RUSAGE_CHILDREN: every waited-for descendant). */
				p->p_cuticks += z->p_uticks + z->p_cuticks;
				p->p_csticks += z->p_sticks + z->p_csticks;
				break;
			}
		}
		if (z != NULL) {
			proc_unlock(intr);
			int cpid = z->p_pid;
			*ws = z->p_wstatus;
			(void)thread_join(z->p_thread);
			proc_free(z);
			return cpid;
		}
		if (!any || (options & WNOHANG) != 0) {
			proc_unlock(intr);
			return any ? 0 : -ECHILD;
		}
		/* A signal ended the sleep and no child ended meanwhile (a zombie wins,
		 * as on Linux: SIGCHLD's handler must not lose the child it reports). */
		if (slept == SLEEPQ_INTR) {
			proc_unlock(intr);
			return -ERESTARTSYS;
		}
		/* Sleep until a child ends (its proc_end wakes the parent's record) or a
		 * signal comes. */
		sleepq_lock();
		sleepq_insert(&vs, p, "wait4", 0, SLEEPQ_CATCH);
		sleepq_unlock();
		__atomic_store_n(&proc_lock_word, 0, __ATOMIC_RELEASE);
		slept = sleepq_block(&vs);
		intr_restore(intr);
	}
}

long proc_wait4(int64_t pid, uint64_t uwstatus, int options)
{
	int ws = 0;

	if ((options & ~WNOHANG) != 0 || pid == 0 || pid < -1)
		return -EINVAL;         /* process groups: not here */
	long cpid = proc_reap(pid, options, &ws);
	if (cpid > 0 && uwstatus != 0 && copyout(&ws, (void *)(uintptr_t)uwstatus, 4) != 0)
		return -EFAULT;
	return cpid;
}

long proc_waitid(int idtype, int64_t id, uint64_t uinfo, int options)
{
	int ws = 0;
	/* P_ALL 0, P_PID 1; WEXITED must be asked for (WSTOPPED, WCONTINUED: no job
	 * control), WNOHANG as in wait4. */
	if ((idtype != 0 && idtype != 1) || (options & WEXITED) == 0 ||
	    (options & ~(WEXITED | WNOHANG)) != 0)
		return -EINVAL;
	long cpid = proc_reap(idtype == 0 ? -1 : id, options & WNOHANG, &ws);
	if (cpid < 0)
		return cpid;
	/* siginfo: signo, errno, code, pad; then pid, uid, status. */
	int32_t info[32] = { 0 };
	if (cpid > 0) {
		info[0] = SIGCHLD;
		info[2] = (ws & 0x7f) != 0 ? 2 /* CLD_KILLED */ : 1 /* CLD_EXITED */;
		info[4] = (int32_t)cpid;
		info[6] = (ws & 0x7f) != 0 ? ws & 0x7f : (ws >> 8) & 0xff;
	}
	if (uinfo != 0 && copyout(info, (void *)(uintptr_t)uinfo, sizeof(info)) != 0)
		return -EFAULT;
	return 0;
}

struct thread *proc_thread_of(int pid)
{
	struct thread *td = NULL;
	bool intr = proc_lock();

	for (struct proc *p = proc_all; p != NULL; p = p->p_allnext) {
		if (p->p_pid == pid && !p->p_zombie) {
			td = p->p_thread;
			break;
		}
	}
	proc_unlock(intr);
	return td;
}

void proc_foreach(void (*each)(struct proc *, void *), void (*done)(void *), void *arg)
{
	bool intr = proc_lock();
	for (struct proc *p = proc_all; p != NULL; p = p->p_allnext)
		each(p, arg);
	done(arg);
	proc_unlock(intr);
}

int proc_getppid(void)
{
	struct proc *p = curproc;

	return p->p_parent != NULL ? p->p_parent->p_pid : 0;
}

/* vm_fault for the current process; the access type from the error code. */
static int proc_fault(uint64_t addr, uint64_t err)
{
	vm_prot_t type = (err & PGEX_W) != 0 ? VM_PROT_WRITE :
	    (err & PGEX_I) != 0 ? VM_PROT_EXECUTE : VM_PROT_READ;

	curproc->p_faults++;
	return vm_fault(vmspace_map(curproc->p_vmspace), addr, type, VM_FAULT_NORMAL);
}

/* A fault of the current thread waited for a page-in (vm/vm_platform.h). */
void vm_plat_fault_major(void)
{
	struct proc *p = curproc;

	if (p != NULL)
		p->p_majflt++;
}

bool proc_kernel_fault(struct trapframe *tf)
{
	struct thread *td = curthread;

	if (td->td_proc == NULL || tf->tf_cr2 >= VM_MAXUSER_ADDRESS)
		return false;
	/* The entry a user fault left for the return may be the one missing here. */
	pmap_flush_deferred();
	if (proc_fault(tf->tf_cr2, tf->tf_err) == VM_FAULT_OK)
		return true;
	if (td->td_onfault != 0) {
		tf->tf_rip = td->td_onfault;
		return true;
	}
	return false;
}

/* 48-bit canonical: bits 63..47 all equal. */
static inline bool proc_rip_canonical(uint64_t rip)
{
	return ((int64_t)rip >> 47) == 0 || ((int64_t)rip >> 47) == -1;
}

void trap_user(struct trapframe *tf)
{
	unsigned vector = (unsigned)tf->tf_vector;
	uint8_t insn[2];
	int rv;

	KASSERT(intr_enabled(), ("trap_user: interrupts masked in user mode"));
	/* A trap in the kernel's first instructions of a system call, still on the user's
	 * stack: its own business (an interrupt's), then the system call, which
	 * trap_user_window has rebuilt in tf. */
	bool in_window = trap_user_window(tf);
	proc_acct_kentry(curthread);
	if (in_window) {
		vector = (unsigned)tf->tf_vector;
		if (vector >= T_NEXCEPT)
			trap_intr(tf);
		vector = T_UD;
		tf->tf_vector = T_UD;
	}
	if (vector >= T_NEXCEPT) {
		trap_intr(tf);
	} else {
		switch (vector) {
		case T_PF:
			/* Its new entry may be left to the return (pmap_md_pte_defer). */
			pcpu_self()->pc_pte_defer = true;
			rv = proc_fault(tf->tf_cr2, tf->tf_err);
			pcpu_self()->pc_pte_defer = false;
			if (rv != VM_FAULT_OK)
				sig_fault(tf, vm_fault_signal(rv),
				    rv == VM_FAULT_PROT ? 2 /* SEGV_ACCERR */ : rv == VM_FAULT_NOMAP ?
				    1 /* SEGV_MAPERR */ : 2 /* BUS_ADRERR */, tf->tf_cr2,
				    rv == VM_FAULT_NOMAP ? "no mapping" : rv == VM_FAULT_PROT ?
				    "protection" : "pager error");
			break;
		case T_UD:
			/*
			 * syscall. EFER.SCE is clear: where the CPU honours it (VT-x, QEMU) the
			 * instruction raises #UD at itself; kvm_pvm jumps to LSTAR at CPL 3
			 * whatever SCE says, and LSTAR's trampoline raises #UD there, with the
			 * return address in rcx and the flags in r11 as syscall leaves them.
			 */
			if (tf->tf_rip == (uintptr_t)syscall_tramp) {
				tf->tf_rip = tf->tf_rcx;
				tf->tf_rflags = tf->tf_r11;
			} else if (copyin((const void *)(uintptr_t)tf->tf_rip, insn, 2) == 0 &&
			    insn[0] == 0x0f && insn[1] == 0x05) {
				tf->tf_rip += 2;
				tf->tf_rcx = tf->tf_rip;        /* as the instruction leaves them */
				tf->tf_r11 = tf->tf_rflags;
			} else {
				sig_fault(tf, SIGILL, 2 /* ILL_ILLOPN */, tf->tf_rip,
				    "invalid opcode");
				break;
			}
			curproc->p_nsyscalls++;
			syscall_dispatch(tf);
			break;
		case T_BP:
			sig_fault(tf, SIGTRAP, 1 /* TRAP_BRKPT */, tf->tf_rip, "breakpoint");
			break;
		case T_DB:
			sig_fault(tf, SIGTRAP, 2 /* TRAP_TRACE */, tf->tf_rip, "trace trap");
			break;
		case T_DE:
			sig_fault(tf, SIGFPE, 1 /* FPE_INTDIV */, tf->tf_rip, "divide error");
			break;
		default:
			sig_fault(tf, SIGSEGV, 0x80 /* SI_KERNEL */, 0, trap_name(vector));
			break;
		}
	}
	sig_deliver_pending(tf);
	/* A return address that is not canonical (a system call's rcx, sigreturn's rip, a
	 * handler's address) makes iretq fault at CPL 0 on hardware; it is the program's
	 * SIGSEGV instead, and if its handler is no better, its end. */
	if (!proc_rip_canonical(tf->tf_rip)) {
		sig_fault(tf, SIGSEGV, 0x80 /* SI_KERNEL */, 0, "non-canonical return address");
		if (!proc_rip_canonical(tf->tf_rip))
			proc_kill_current(SIGSEGV, "non-canonical handler address", 0, tf->tf_rip);
	}
	/* Back to user mode with the program's own selectors and flags only. */
	tf->tf_cs = GSEL_UCODE | SEL_UPL;
	tf->tf_ss = GSEL_UDATA | SEL_UPL;
	tf->tf_rflags = (tf->tf_rflags & PSL_USER_CHANGE) | PSL_I | 0x2;
	KASSERT(intr_enabled(), ("trap_user: returning to user mode masked"));
	KASSERT(pcpu_self()->pc_ucr3 == curproc->p_vmspace->vm_pmap.pm_ucr3,
	    ("trap_user: the stubs would load another root than the process's"));
	KASSERT(proc_rsp0_at_top(), ("trap_user: a forwarded frame is still in flight"));
	proc_acct_kexit(curthread);
}
