/*
 * Processes (kern/kern_proc.c, kern/kern_exec.c, kern/syscall.c): a static x86-64 Linux
 * program from PVH module 0, run as the guest's first process on an address space the
 * VM core manages, with the part of Linux's system-call ABI its workloads need.
 *
 * Today: one process with one thread; its address space shares the kernel half of the
 * page tables (docs/deprivileged-kernel.md, "Order of work" step 2 gives each process a
 * user root that maps none of the kernel: until then a process could read and write
 * kernel memory, so only the programs given on the command line run).
 *
 * Field locking legend:
 *   C  constant after proc_exec
 *   T  the process's own thread
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
#define PROC_ARGV_MAX   64

/* The user address space: above the null guard, below the canonical hole. */
#define PROC_VM_MIN         0x10000ul
#define PROC_VM_MAX         0x7ffffffff000ul
#define PROC_STACK_TOP      0x7ffffffde000ul    /* a gap below VM_MAX, as Linux leaves */
#define PROC_STACK_SIZE     (8ul << 20)         /* RLIMIT_STACK's usual 8 MiB */
#define PROC_PIE_BASE       0x555555554000ul    /* where Linux puts a static PIE */

struct proc {
	int p_pid;                              /* C */
	char p_comm[PROC_COMM_MAX];             /* C: argv[0]'s last component */
	struct vmspace *p_vmspace;              /* C */
	struct thread *p_thread;                /* C: its one thread */
	struct vm_brk p_brk;                    /* T: the break (Linux's brk) */
	uint64_t p_fsbase;                      /* T: arch_prctl(ARCH_SET_FS) */
	int p_xstat;                            /* T: exit status, 128+N when killed by N */
	bool p_exited;                          /* T */
	uint64_t p_nsyscalls;                   /* T */
	uint64_t p_faults;                      /* T: page faults taken for it */
};

/* The current thread's process, or NULL for a kernel thread. */
struct proc *curproc_get(void);
#define curproc     curproc_get()

/*
 * Run module 0 as a process: build its address space and stack from the ELF image and
 * its command line (argv: its words; envp: none), start its thread in user mode, wait
 * for it to end. => its exit status (0..255, or 128+N when signal N killed it). Bad
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
