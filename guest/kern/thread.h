/*
 * Kernel threads and the scheduler (docs/threads.md).
 *
 * A thread is a kernel stack and the registers cpu_switch saves on it. Threads run at
 * CPL 3 like the rest of the kernel (docs/deprivileged-kernel.md), so a switch is a
 * native call: no CPL 0. One run queue per CPU (one CPU today), 64 priorities, FIFO
 * within one; the idle thread runs when the queue is empty and halts through a kernel
 * request. Preemption: an interrupt handler or a wakeup that finds a thread that should
 * run before curthread sets pc_owepreempt; the switch happens when the interrupt
 * returns, or at critical_exit, or when interrupts are unmasked. Time slices end by
 * the event timer (TSC deadline, one-shot), armed only when another thread waits for
 * the CPU or a sleep has a timeout: an idle or lone thread takes no timer interrupts.
 *
 * Field locking legend:
 *   C  constant after thread_create
 *   S  the scheduler: this CPU with interrupts (soft-)masked
 *   Q  the sleep queues' lock (sleepq_lock), which implies S
 *   T  the thread itself
 */
#ifndef KERN_THREAD_H
#define KERN_THREAD_H

/* struct thread offsets for the assembler (swtch.S, copyio.S). */
#define TD_RSP          0
#define TD_ONFAULT      8

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amd64/pcpu.h"

#define TD_NAME_MAX     24
#define PRI_MIN         0               /* the most urgent */
#define PRI_KERN        16              /* kernel threads' default */
#define PRI_USER        32
#define PRI_IDLE        63              /* the idle thread only */
#define NRUNQ           64

enum td_state {
	TDS_INACTIVE,                   /* made, not started */
	TDS_RUNQ,                       /* on a run queue */
	TDS_RUNNING,
	TDS_SLEEPING,
	TDS_DEAD,                       /* exited, waiting for thread_join */
};

struct proc;

struct thread {
	uint64_t td_rsp;                /* S: saved by cpu_switch (offset 0: swtch.S) */
	uint64_t td_onfault;            /* T: where a failed access to user memory resumes
	                                   (copyio.S), 0 when none */
	struct proc *td_proc;           /* C: its process, NULL for a kernel thread */
	struct pmap *td_pmap;           /* C: its process's pmap: loaded when it runs */
	uint64_t td_fsbase;             /* T: FS base in user mode (arch_prctl) */
	uint64_t td_sigmask;            /* T: blocked signals, bit N-1 for signal N */
	uint64_t td_sigpending;         /* A: sent, not acted on yet */
	/* S: a user thread's FPU/SSE state (FXSAVE) while it is switched out: the kernel
	 * never touches those registers (-mgeneral-regs-only), so they hold the running
	 * process's, saved and restored at each switch (fxsave/fxrstor run natively at
	 * CPL 3). */
	uint8_t td_fpu[512] __attribute__((aligned(16)));
	enum td_state td_state;         /* S */
	int td_pri;                     /* S */
	int td_tid;                     /* C */
	char td_name[TD_NAME_MAX];      /* C */
	struct thread *td_runq_next;    /* S: run queue link */
	struct thread *td_all_next;     /* S: every thread, for ps and dumps */
	void *td_wchan;                 /* S: what it sleeps on, NULL when not asleep */
	const char *td_wmesg;           /* S */
	/* Q (the sleep queues' lock): the record of its interruptible sleep (SLEEPQ_CATCH)
	 * while it is queued, so that a signal can find and end it; NULL otherwise. */
	struct vm_sleeper *td_catch;
	bool td_sleepintr;              /* Q: its last sleep was ended by a signal */
	uint64_t td_slice_end;          /* S: TSC when its slice ends */
	uint64_t td_switches;           /* S: times switched in */
	uint64_t td_runtime;            /* S: TSC ticks it ran, until its last switch out */
	uint64_t td_switchin;           /* S: TSC at its last switch in */
	/* T: a process's thread: TSC ticks it ran in user mode, until its last entry
	 * into the kernel (the rest of td_runtime is system time), and the TSC at its
	 * last return to user mode (kern_proc.c's proc_acct_*). */
	uint64_t td_uticks;
	uint64_t td_uret;
	uintptr_t td_kstack;            /* C: lowest address of the stack (a guard below) */
	size_t td_kstack_size;          /* C */
	void (*td_fn)(void *);          /* C */
	void *td_arg;                   /* C */
	int td_exitval;                 /* S: for thread_join */
	bool td_joinable;               /* C */
	struct thread *td_joiner;       /* S: sleeping in thread_join */
};

/* The boot thread (thread 0, on the boot stack) and the idle thread; before anything
 * else that schedules. */
void sched_init(void);
bool sched_running(void);
void thread_init(void);
struct thread *thread_create_idle(const char *name, void (*fn)(void *));
/* A joinable thread of process p running fn(p) on pmap (kern/kern_proc.c), made but
 * not started (its frame may be set up first); thread_start_new queues it. */
struct pmap;
struct thread *thread_alloc_proc(const char *name, int pri, void (*fn)(void *),
    struct proc *p, struct pmap *pmap);
void thread_start_new(struct thread *td);
/* Make and free one kernel stack: what the first one costs for good (the kernel map's
 * page tables, its entry zone) is paid, so that a count of free pages taken after it
 * sees only what threads hold. */
void thread_stack_warm(void);
/* Free the threads that exited unjoinable (thread_create does it too). */
void thread_reap_zombies(void);
/* The thread with tid, or NULL. => S held. */
struct thread *thread_find(int tid);
extern struct thread thread0;

/* A kernel thread running fn(arg) at priority pri; started at once (on the run queue).
 * joinable: thread_join must reap it, else it is freed when it exits. NULL when no
 * memory (flags M_NOWAIT) or never (M_WAITOK). */
struct thread *thread_create(const char *name, int pri, void (*fn)(void *), void *arg,
    bool joinable, int flags);
/* End the calling thread (fn's return comes here too). */
void thread_exit(int val) __attribute__((noreturn));
/* Wait for td (joinable) to exit, free it. => its exit value. */
int thread_join(struct thread *td);
/* Give the CPU to another thread of the same or better priority, if any. */
void thread_yield(void);

/* Put td (not running, not queued) on the run queue. => S held. */
void sched_add(struct thread *td);
/* Switch to the best runnable thread (curthread, already taken off the CPU's books as
 * its state says: RUNQ to go on running later, SLEEPING, DEAD). => S held, no critical
 * section; returns when curthread runs again (never for DEAD). */
void sched_switch(void);
/* The switch pc_owepreempt asked for, if it still applies. => S held. */
void sched_preempt(void);
/* The event timer fired: expire sleeps, end the slice. => S held. */
void sched_clock(void);
/* Arm the event timer for the next thing that needs it, or disarm it. => S held. */
void sched_timer_update(void);
/* The time slice (ns), read at each switch. */
extern uint64_t sched_slice_ns;
/* Threads made and not yet freed; context switches so far. */
unsigned sched_nthreads(void);
uint64_t sched_nswitches(void);

/*
 * Sleep and wakeup (kern_synch.c), on the VM core's sleep-queue table (vm/vm_sleepq.h):
 * vm_sleep/vm_wakeup and the mutexes' slow paths are built on them. A sleeper takes the
 * sleep queues' lock, checks its condition, queues its record (sleepq_insert: the
 * record lives in its frame), drops the lock, and blocks (sleepq_block) until a wakeup
 * or its deadline. A waker changes the condition, then calls sleepq_wakeup, which takes
 * the lock: it cannot come between the check and the queueing. A wakeup between the
 * queueing and the block only marks the record woken; the block then returns at once.
 * => sleepq_insert: the lock and S held. sleepq_block: S held, the lock not; returns
 *    with S held; SLEEPQ_WOKEN, SLEEPQ_TIMEDOUT when the deadline passed, SLEEPQ_INTR
 *    when a signal ended it (SLEEPQ_CATCH only).
 *
 * Interruptible sleeps (FreeBSD's PCATCH): a sleep inserted with SLEEPQ_CATCH ends early
 * when its thread has a signal to act on (kern_sig.c's sig_interrupts: pending, not
 * blocked, not ignored; SIGKILL always), whether the signal came before the sleep (the
 * insert sees it and queues nothing) or during it (the sender's sleepq_abort). Only
 * the system calls' waits for an event a signal may stand in for ask for it (pipes,
 * wait4, nanosleep); the kernel's own sleeps (a busy page, a mutex, a zombie's last
 * switch) must finish what they started and stay deaf to signals. The caller of an
 * interrupted sleep unwinds and returns -ERESTARTSYS or -EINTR (kern_sig.c's
 * sig_syscall_restart turns the first into Linux's SA_RESTART rule).
 */
#define SLEEPQ_CATCH        0x1         /* sleepq_insert's flags: a signal ends it */
#define SLEEPQ_WOKEN        0
#define SLEEPQ_TIMEDOUT     (-1)
#define SLEEPQ_INTR         (-2)

struct vm_sleeper;
struct mtx;
void sleepq_lock(void);
void sleepq_unlock(void);
void sleepq_insert(struct vm_sleeper *vs, void *chan, const char *wmesg,
    uint64_t timeout_ns, int flags);
int sleepq_block(struct vm_sleeper *vs);
/* td has a signal to act on (sig_interrupts(td) says so): end its interruptible sleep,
 * if it is in one. => S held or not, the lock not. */
void sleepq_abort(struct thread *td);
/* vm_sleep with flags (SLEEPQ_CATCH): FreeBSD's msleep. => SLEEPQ_WOKEN,
 * SLEEPQ_TIMEDOUT or SLEEPQ_INTR, m held again. */
int msleep(void *chan, struct mtx *m, int flags, const char *wmesg, uint64_t timeout_ns);
/* => S held or not; how many were woken. */
unsigned sleepq_wakeup(void *chan, bool one);
/* The earliest sleep deadline (nanotime), 0 when none; expire those passed. => S. */
uint64_t sleepq_next_deadline(void);
void sleepq_expire(uint64_t now);

/* cpu_switch (amd64/swtch.S): save callee-saved registers and rsp in from, load to's. */
void cpu_switch(struct thread *from, struct thread *to);
/* Lay out a new thread's stack so that its first cpu_switch-in enters
 * thread_start(td). */
void cpu_thread_setup(struct thread *td);
void thread_start(struct thread *td) __attribute__((noreturn));

_Static_assert(__builtin_offsetof(struct thread, td_rsp) == TD_RSP, "td_rsp");
_Static_assert(__builtin_offsetof(struct thread, td_onfault) == TD_ONFAULT, "td_onfault");

#endif /* !__ASSEMBLY__ */
#endif /* KERN_THREAD_H */
