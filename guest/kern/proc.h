/*
 * Processes (kern/kern_proc.c, kern/kern_exec.c, kern/syscall.c): a static x86-64 Linux
 * program from PVH module 0, run as the guest's first process on an address space the
 * VM core manages, with the part of Linux's system-call ABI its workloads need.
 *
 * Processes have one thread each; module 0 is pid 1, which fork makes more of. A
 * process that ends stays a zombie, holding its wait status, until its parent's wait4
 * reaps it (thread, address space, record); its children go to pid 1. When pid 1 ends,
 * the run ends with its status.
 *
 * Field locking legend:
 *   C  constant after proc_exec or fork
 *   T  the process's own thread
 *   P  proc_lock (the process tree: parent, children, state)
 */
#ifndef KERN_PROC_H
#define KERN_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include "amd64/trap.h"
#include "vm/vm_mmap.h"

struct vmspace;
struct thread;

#define PROC_COMM_MAX   32

/* The user address space: above the null guard, below the canonical hole. */
#define PROC_VM_MIN         0x10000ul
#define PROC_VM_MAX         0x7ffffffff000ul
#define PROC_STACK_TOP      0x7ffffffde000ul    /* a gap below VM_MAX, as Linux leaves */
#define PROC_STACK_SIZE     (8ul << 20)         /* RLIMIT_STACK's usual 8 MiB */
#define PROC_PIE_BASE       0x555555554000ul    /* where Linux puts a static PIE */

#define PROC_NSIG   64
#define PROC_NFD    64

struct file;

/* A signal's disposition (rt_sigaction's struct, Linux x86-64). */
struct proc_sigaction {
	uint64_t handler;                       /* SIG_DFL 0, SIG_IGN 1, or the handler */
	uint64_t flags;                         /* SA_* */
	uint64_t restorer;                      /* sa_restorer: calls rt_sigreturn */
	uint64_t mask;                          /* blocked while the handler runs */
};

struct proc {
	int p_pid;                              /* C */
	char p_comm[PROC_COMM_MAX];             /* C: argv[0]'s last component */
	struct vmspace *p_vmspace;              /* C */
	struct thread *p_thread;                /* C: its one thread */
	struct vm_brk p_brk;                    /* T: the break (Linux's brk) */
	struct proc *p_parent;                  /* P: NULL for pid 1 */
	struct proc *p_children;                /* P: its children, newest first */
	struct proc *p_sibling;                 /* P: the parent's next child */
	bool p_zombie;                          /* P: ended, not reaped */
	int p_wstatus;                          /* P: wait4's status word (Linux's encoding) */
	int p_xstat;                            /* P: the same as a shell's $?: 128+N if killed */
	struct proc_sigaction p_sigact[PROC_NSIG + 1];  /* T: index by signal number */
	struct file *p_fd[PROC_NFD];            /* T: open files (kern/kern_file.c) */
	struct proc *p_allnext;                 /* P: every process, for kill */
	uint64_t p_nsyscalls;                   /* T */
	uint64_t p_faults;                      /* T: page faults taken for it */
	uint64_t p_majflt;                      /* T: those that waited for swap */
	/* P: CPU time in TSC ticks, user and system: its own, set as it ends; and its
	 * reaped descendants' (RUSAGE_CHILDREN), added at each reap. */
	uint64_t p_uticks, p_sticks;
	uint64_t p_cuticks, p_csticks;
};

/* The current thread's process, or NULL for a kernel thread. */
struct proc *curproc_get(void);
#define curproc     curproc_get()

/*
 * Run module 0 as a process: build its address space and stack from the ELF image and
 * its command line (argv and envp: devices/pvh_args.h), start its thread in user mode,
 * wait for it to end. => its exit status (0..255, or 128+N when signal N killed it). Bad
 * image or no memory: a one-line message and 66 or 71 (the VMM's statuses).
 */
int proc_run_module0(void);

/* The user-mode trap handler (amd64/exception.S's trap_kentry_user): page faults,
 * system calls (syscall arrives as #UD: EFER.SCE stays clear, so it lands in the kernel
 * the same way on every host), interrupts, signals. */
void trap_user(struct trapframe *tf);

/* Kill the current process with signal sig (a one-line report first). */
void proc_kill_current(int sig, const char *why, uint64_t addr, uint64_t rip)
    __attribute__((noreturn));
/* The current process exits with status (exit_group). */
void proc_exit_current(int status) __attribute__((noreturn));

/* fork: a copy of the current process (copy-on-write address space) whose thread
 * returns from the same system call with 0. => the child's pid, or -ENOMEM. */
long proc_fork(struct trapframe *tf);
/* wait4(pid, wstatus, options, rusage): -1 any child, else that pid; WNOHANG. => the
 * reaped child's pid, 0 (WNOHANG, none ended), -ECHILD, -EFAULT, -EINVAL. */
long proc_wait4(int64_t pid, uint64_t uwstatus, int options);

/* waitid(P_ALL or P_PID, id, siginfo, WEXITED [| WNOHANG]): as wait4, the child
 * described in a siginfo. => 0, -ECHILD, -EINVAL, -EFAULT. */
long proc_waitid(int idtype, int64_t id, uint64_t uinfo, int options);
/* The current thread's CPU time so far in TSC ticks: user, and system (the rest of its
 * running time: kernel work for it, this call's included). */
void proc_cputime(uint64_t *uticks, uint64_t *sticks);
/* The current process's reaped descendants' CPU time (RUSAGE_CHILDREN), TSC ticks. */
void proc_cputime_children(uint64_t *uticks, uint64_t *sticks);
/* getppid: the parent's pid, 0 for pid 1. */
int proc_getppid(void);
/* The thread of the live process pid, or NULL. */
struct thread *proc_thread_of(int pid);
/* each(p, arg) for every process, then done(arg), all under the process tree's lock
 * (interrupts masked: neither may sleep). For the out-of-memory killer (kern_oom.c). */
void proc_foreach(void (*each)(struct proc *, void *), void (*done)(void *), void *arg);

/* A system call that a signal interrupted and that Linux restarts when the handler
 * has SA_RESTART (or no handler runs) returns this; syscall_dispatch hands it to
 * sig_syscall_restart, so it never reaches user mode. Linux's value, as internal there. */
#define ERESTARTSYS 512

/* Signals (kern/kern_sig.c). A fault's signal: a handler's frame, or the process
 * killed (status 128+sig, the one-line report naming why). */
void sig_fault(struct trapframe *tf, int sig, int code, uint64_t addr, const char *why);
/* Signals sent to the current thread and not blocked, acted on at its return to user
 * mode. */
void sig_deliver_pending(struct trapframe *tf);
long sys_rt_sigaction(int sig, uint64_t uact, uint64_t uoact, uint64_t sigsetsize);
long sys_rt_sigprocmask(int how, uint64_t uset, uint64_t uoset, uint64_t sigsetsize);
long sys_rt_sigreturn(struct trapframe *tf);
long sys_kill(int64_t pid, int sig);
/* Send sig to td: pending, and td's interruptible sleep ended if td would act on it. */
void sig_post(struct thread *td, int sig);
/* Has td a signal pending that ends an interruptible sleep (not blocked, not ignored)?
 * Reads td's mask and dispositions unlocked: only td changes them, and it is not
 * running while another thread asks (one CPU; SMP will want the sleep queues' lock
 * around td's own changes). */
bool sig_interrupts(const struct thread *td);
/* The current thread's system call number nr returned -ERESTARTSYS: => -EINTR when the
 * signal about to be delivered has a handler without SA_RESTART, else nr with tf made
 * to run the call again (its rip back on the instruction). */
long sig_syscall_restart(struct trapframe *tf, uint64_t nr);

/* File descriptors (kern/kern_file.c): the console on 0, 1 and 2 at exec; a child's
 * table shares its parent's files; all closed when the process ends. */
void proc_fd_init(struct proc *p);
void proc_fd_fork(struct proc *child, const struct proc *parent);
void proc_fd_close_all(struct proc *p);
long sys_read(int fd, uint64_t ubuf, uint64_t len);
long sys_write(int fd, uint64_t ubuf, uint64_t len);
long sys_close(int fd);
long sys_dup(int fd);
long sys_dup3(int fd, int nfd, int flags, bool dup2);
long sys_pipe2(uint64_t ufds, int flags);
long sys_fcntl(int fd, int cmd, uint64_t arg);
/* len bytes of user memory at ubuf to the console. => len, or -EFAULT. */
long console_write_user(uint64_t ubuf, uint64_t len);

/* System calls (kern/syscall.c): tf's rax is the number, rdi, rsi, rdx, r10, r8, r9 the
 * arguments; the result (or -errno) goes back in rax. */
void syscall_dispatch(struct trapframe *tf);

/*
 * Copies between the kernel and the current process's user memory: 0, or -EFAULT when a
 * byte is outside the user range or cannot be faulted in. The kernel's own accesses to
 * user memory fault like the program's would and are resolved by vm_fault; one that
 * cannot be resumes at the copy's fix-up (curthread's td_onfault).
 */
int copyin(const void *uaddr, void *kaddr, uint64_t len);
int copyout(const void *kaddr, void *uaddr, uint64_t len);
/* A page fault of the kernel at a user address: resolve it for the current process.
 * => true when resolved (the access is retried), false otherwise. */
bool proc_kernel_fault(struct trapframe *tf);

#endif /* KERN_PROC_H */
