/*
 * System calls with Linux x86-64 numbers and errno values (kern/proc.h). What is here is
 * what the static musl workloads use first; an unknown call returns -ENOSYS and is
 * counted and reported once per number. Every user pointer goes through copyin/copyout:
 * a bad one is -EFAULT, never a kernel fault.
 */
#include "amd64/cpufunc.h"
#include "amd64/tsc.h"
#include "kern/console.h"
#include "kern/kerrno.h"
#include "kern/proc.h"
#include "kern/swap.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/vm_mmap.h"
#include "vm/vm_sleepq.h"
#include "vm/vm_vmspace.h"

#define SYS_read            0
#define SYS_write           1
#define SYS_close           3
#define SYS_pipe            22
#define SYS_dup             32
#define SYS_dup2            33
#define SYS_fcntl           72
#define SYS_dup3            292
#define SYS_pipe2           293
#define SYS_mmap            9
#define SYS_mprotect        10
#define SYS_munmap          11
#define SYS_brk             12
#define SYS_rt_sigaction    13
#define SYS_rt_sigprocmask  14
#define SYS_rt_sigreturn    15
#define SYS_ioctl           16
#define SYS_readv           19
#define SYS_writev          20
#define SYS_mremap          25
#define SYS_nanosleep       35
#define SYS_gettimeofday    96
#define SYS_getrusage       98
#define SYS_mlock           149
#define SYS_munlock         150
#define SYS_set_robust_list 273
#define SYS_clock_nanosleep 230
#define SYS_prlimit64       302
#define SYS_getrandom       318
#define SYS_sched_yield     24
#define SYS_madvise         28
#define SYS_getpid          39
#define SYS_clone           56
#define SYS_fork            57
#define SYS_vfork           58
#define SYS_wait4           61
#define SYS_kill            62
#define SYS_exit            60
#define SYS_uname           63
#define SYS_getuid          102
#define SYS_getgid          104
#define SYS_geteuid         107
#define SYS_getegid         108
#define SYS_getppid         110
#define SYS_arch_prctl      158
#define SYS_swapon          167
#define SYS_swapoff         168
#define SYS_gettid          186
#define SYS_set_tid_address 218
#define SYS_clock_gettime   228
#define SYS_exit_group      231
#define SYS_tgkill          234
#define SYS_waitid          247
#define SYS_NMAX            512


#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define MSR_FSBASE  0xc0000100

#define SYSCALL_IOV_MAX     1024
#define SYSCALL_CHUNK       256

static uint64_t syscall_unknown_seen[SYS_NMAX / 64];
static uint64_t syscall_unknown_count;

long console_write_user(uint64_t ubuf, uint64_t len)
{
	char chunk[SYSCALL_CHUNK];
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = MIN(len - done, (uint64_t)sizeof(chunk));
		if (copyin((const void *)(uintptr_t)(ubuf + done), chunk, n) != 0)
			return done > 0 ? (long)done : -EFAULT;
		console_write(CONS_TTY, chunk, n);
		done += n;
	}
	return (long)done;
}

/* readv and writev: each of iovcnt (base, length) pairs at uiov through read or write,
 * in order; a short transfer ends it, as on Linux. */
static long sys_iov(int fd, uint64_t uiov, uint64_t iovcnt,
    long (*io)(int, uint64_t, uint64_t))
{
	uint64_t iov[2];
	long total = 0;

	if (iovcnt > SYSCALL_IOV_MAX)
		return -EINVAL;
	for (uint64_t i = 0; i < iovcnt; i++) {
		if (copyin((const void *)(uintptr_t)(uiov + i * 16), iov, sizeof(iov)) != 0)
			return total > 0 ? total : -EFAULT;
		long n = io(fd, iov[0], iov[1]);
		if (n < 0)
			return total > 0 ? total : n;
		total += n;
		if ((uint64_t)n < iov[1])
			break;
	}
	return total;
}

/* nanosleep and clock_nanosleep (relative): a sleep nobody wakes, ended by its
 * deadline through the scheduler's event timer, or by a signal: then -EINTR and what
 * was left of it at urem (when given). Never restarted, whatever SA_RESTART says, as
 * on Linux (whose restart block only serves stopped-and-continued sleepers). */
static long sys_nanosleep(uint64_t ureq, uint64_t urem)
{
	int64_t ts[2];
	struct vm_sleeper vs;

	if (copyin((const void *)(uintptr_t)ureq, ts, sizeof(ts)) != 0)
		return -EFAULT;
	if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
		return -EINVAL;
	uint64_t ns = (uint64_t)ts[0] * 1000000000u + (uint64_t)ts[1];
	if (ns == 0)
		return 0;
	uint64_t end = tsc_nanotime() + ns;
	bool intr = intr_save();
	sleepq_lock();
	sleepq_insert(&vs, &vs, "nanosleep", ns, SLEEPQ_CATCH);    /* its own channel */
	sleepq_unlock();
	int rv = sleepq_block(&vs);
	intr_restore(intr);
	if (rv != SLEEPQ_INTR)
		return 0;
	uint64_t now = tsc_nanotime(), left = end > now ? end - now : 0;
	int64_t rem[2] = { (int64_t)(left / 1000000000u), (int64_t)(left % 1000000000u) };
	if (urem != 0 && copyout(rem, (void *)(uintptr_t)urem, sizeof(rem)) != 0)
		return -EFAULT;
	return -EINTR;
}

/* TSC ticks as a struct timeval at tv[0], tv[1]. */
static void syscall_ticks_to_tv(uint64_t ticks, uint64_t *tv)
{
	uint64_t us = tsc_ticks_to_ns(ticks) / 1000;

	tv[0] = us / 1000000;
	tv[1] = us % 1000000;
}

/* RUSAGE_SELF (and RUSAGE_THREAD: one thread a process): user and system time, minor
 * faults, resident size; RUSAGE_CHILDREN: the reaped descendants' times. */
static long sys_getrusage(int who, uint64_t uru)
{
	uint64_t ru[18] = { 0 }, ut, st;

	switch (who) {
	case 0:                         /* RUSAGE_SELF */
	case 1:                         /* RUSAGE_THREAD */
		proc_cputime(&ut, &st);
		ru[4] = vmspace_resident_count(curproc->p_vmspace) * 4;        /* maxrss, KiB */
		ru[8] = curproc->p_faults - curproc->p_majflt;                  /* minflt */
		ru[9] = curproc->p_majflt;                                      /* majflt */
		break;
	case -1:                        /* RUSAGE_CHILDREN */
		proc_cputime_children(&ut, &st);
		break;
	default:
		return -EINVAL;
	}
	syscall_ticks_to_tv(ut, &ru[0]);
	syscall_ticks_to_tv(st, &ru[2]);
	return copyout(ru, (void *)(uintptr_t)uru, sizeof(ru)) == 0 ? 0 : -EFAULT;
}

static long sys_getrandom(uint64_t ubuf, uint64_t len)
{
	static uint64_t state;
	uint8_t chunk[64];
	uint64_t done = 0;

	/* Not cryptographic: a xorshift stream stirred by the TSC at each call. */
	state ^= rdtsc() * 0x9e3779b97f4a7c15ull;
	while (done < len) {
		uint64_t n = MIN(len - done, (uint64_t)sizeof(chunk));
		for (uint64_t i = 0; i < n; i += 8) {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			memcpy(chunk + i, &state, MIN((uint64_t)8, n - i));
		}
		if (copyout(chunk, (void *)(uintptr_t)(ubuf + done), n) != 0)
			return done > 0 ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

static long sys_prlimit64(uint64_t resource, uint64_t uold)
{
	uint64_t lim[2] = { ~0ull, ~0ull };     /* RLIM_INFINITY */

	if (resource == 3)                      /* RLIMIT_STACK: the stack exec made */
		lim[0] = lim[1] = PROC_STACK_SIZE;
	if (resource > 15)
		return -EINVAL;
	/* New limits are accepted and not enforced yet. */
	return uold == 0 || copyout(lim, (void *)(uintptr_t)uold, sizeof(lim)) == 0 ? 0 :
	    -EFAULT;
}

static long sys_clock_gettime(uint64_t clk, uint64_t uts)
{
	uint64_t ns = tsc_nanotime(), ts[2] = { ns / 1000000000u, ns % 1000000000u };

	(void)clk;              /* REALTIME counts from boot too: no wall clock yet */
	return copyout(ts, (void *)(uintptr_t)uts, sizeof(ts)) == 0 ? 0 : -EFAULT;
}

static long sys_uname(uint64_t ubuf)
{
	static const char fields[6][65] = { "Linux", "vmm", "6.1.0-vmm", "#1", "x86_64",
	    "(none)" };

	return copyout(fields, (void *)(uintptr_t)ubuf, sizeof(fields)) == 0 ? 0 : -EFAULT;
}

static long sys_arch_prctl(uint64_t code, uint64_t addr)
{
	struct thread *td = curthread;

	switch (code) {
	case ARCH_SET_FS: {
		if (addr >= VM_MAXUSER_ADDRESS)
			return -EPERM;
		bool intr = intr_save();        /* td_fsbase and this CPU's copy together */
		td->td_fsbase = addr;
		pcpu_self()->pc_fsbase = addr;
		wrmsr(MSR_FSBASE, addr);
		intr_restore(intr);
		return 0;
	}
	case ARCH_GET_FS:
		return copyout(&td->td_fsbase, (void *)(uintptr_t)addr, 8) == 0 ? 0 : -EFAULT;
	default:
		return -EINVAL;     /* ARCH_SET_GS too: GS base is the kernel's (pcpu.h) */
	}
}

static long sys_unknown(uint64_t nr)
{
	syscall_unknown_count++;
	if (nr < SYS_NMAX && (syscall_unknown_seen[nr / 64] & (1ull << (nr % 64))) == 0) {
		syscall_unknown_seen[nr / 64] |= 1ull << (nr % 64);
		printf("pid %d (%s): system call %lu is not implemented: ENOSYS\n",
		    curproc->p_pid, curproc->p_comm, (unsigned long)nr);
	} else if (nr >= SYS_NMAX && syscall_unknown_count == 1) {
		printf("pid %d (%s): system call %lu does not exist: ENOSYS\n",
		    curproc->p_pid, curproc->p_comm, (unsigned long)nr);
	}
	return -ENOSYS;
}

void syscall_dispatch(struct trapframe *tf)
{
	struct proc *p = curproc;
	struct vm_map *map = vmspace_map(p->p_vmspace);
	uint64_t a0 = tf->tf_rdi, a1 = tf->tf_rsi, a2 = tf->tf_rdx, a3 = tf->tf_r10;
	long rv;

	switch (tf->tf_rax) {
	case SYS_read:
		rv = sys_read((int)a0, a1, a2);
		break;
	case SYS_write:
		rv = sys_write((int)a0, a1, a2);
		break;
	case SYS_close:
		rv = sys_close((int)a0);
		break;
	case SYS_dup:
		rv = sys_dup((int)a0);
		break;
	case SYS_dup2:
		rv = sys_dup3((int)a0, (int)a1, 0, true);
		break;
	case SYS_dup3:
		rv = sys_dup3((int)a0, (int)a1, (int)a2, false);
		break;
	case SYS_pipe:
		rv = sys_pipe2(a0, 0);
		break;
	case SYS_pipe2:
		rv = sys_pipe2(a0, (int)a1);
		break;
	case SYS_fcntl:
		rv = sys_fcntl((int)a0, (int)a1, a2);
		break;
	case SYS_writev:
		rv = sys_iov((int)a0, a1, a2, sys_write);
		break;
	case SYS_readv:
		rv = sys_iov((int)a0, a1, a2, sys_read);
		break;
	case SYS_mremap:
		rv = -ENOMEM;           /* not moved or grown: Linux's answer when it cannot */
		break;
	case SYS_mlock:
		rv = vm_mlock(map, a0, a1);
		break;
	case SYS_munlock:
		rv = vm_munlock(map, a0, a1);
		break;
	case SYS_nanosleep:
		rv = sys_nanosleep(a0, a1);
		break;
	case SYS_clock_nanosleep:
		rv = a1 != 0 ? -EINVAL : sys_nanosleep(a2, a3);        /* relative only */
		break;
	case SYS_gettimeofday: {
		uint64_t ns = tsc_nanotime(), tv[2] = { ns / 1000000000u, ns % 1000000000u / 1000 };
		rv = a0 == 0 || copyout(tv, (void *)(uintptr_t)a0, sizeof(tv)) == 0 ? 0 : -EFAULT;
		break;
	}
	case SYS_getrusage:
		rv = sys_getrusage((int)a0, a1);
		break;
	case SYS_getrandom:
		rv = sys_getrandom(a0, a1);
		break;
	case SYS_prlimit64:
		rv = sys_prlimit64(a1, a3);
		break;
	case SYS_set_robust_list:
		rv = 0;                 /* one thread a process: nothing to clean up */
		break;
	case SYS_mmap:
		rv = (int64_t)tf->tf_r8 != -1 && (a3 & LINUX_MAP_ANONYMOUS) == 0 ? -EBADF :
		    vm_mmap(map, a0, a1, (int)a2, (int)a3);
		break;
	case SYS_munmap:
		rv = vm_munmap(map, a0, a1);
		break;
	case SYS_mprotect:
		rv = vm_mprotect(map, a0, a1, (int)a2);
		break;
	case SYS_madvise:
		rv = vm_madvise(map, a0, a1, (int)a2);
		break;
	case SYS_brk:
		rv = (long)vm_brk(map, &p->p_brk, a0);
		break;
	case SYS_rt_sigaction:
		rv = sys_rt_sigaction((int)a0, a1, a2, a3);
		break;
	case SYS_rt_sigprocmask:
		rv = sys_rt_sigprocmask((int)a0, a1, a2, a3);
		break;
	case SYS_rt_sigreturn:
		/* The interrupted code's own rax comes back, whatever it holds: not a
		 * result to restart on (Linux clears orig_ax for the same reason). */
		tf->tf_rax = (uint64_t)sys_rt_sigreturn(tf);
		return;
	case SYS_kill:
		rv = sys_kill((int64_t)a0, (int)a1);
		break;
	case SYS_tgkill:
		rv = sys_kill((int64_t)a1, (int)a2);    /* one thread a process */
		break;
	case SYS_ioctl:
		rv = -ENOTTY;
		break;
	case SYS_sched_yield:
		thread_yield();
		rv = 0;
		break;
	case SYS_getpid:
	case SYS_gettid:
	case SYS_set_tid_address:
		rv = p->p_pid;
		break;
	case SYS_getppid:
		rv = proc_getppid();
		break;
	case SYS_fork:
	case SYS_vfork:
		rv = proc_fork(tf);
		break;
	case SYS_clone:
		/* fork as musl does it (SIGCHLD, no new stack); threads are not here yet. */
		rv = (a0 & ~0xffull) == 0 && a1 == 0 ? proc_fork(tf) : -EINVAL;
		break;
	case SYS_wait4:
		rv = proc_wait4((int64_t)a0, a1, (int)a2);
		break;
	case SYS_waitid:
		rv = proc_waitid((int)a0, (int64_t)a1, a2, (int)a3);
		break;
	case SYS_getuid:
	case SYS_getgid:
	case SYS_geteuid:
	case SYS_getegid:
		rv = 0;
		break;
	case SYS_uname:
		rv = sys_uname(a0);
		break;
	case SYS_arch_prctl:
		rv = sys_arch_prctl(a0, a1);
		break;
	case SYS_clock_gettime:
		rv = sys_clock_gettime(a0, a1);
		break;
	case SYS_swapon:
		rv = sys_swapon(a0, (int)a1);
		break;
	case SYS_swapoff:
		rv = sys_swapoff(a0);
		break;
	case SYS_exit:
	case SYS_exit_group:
		proc_exit_current((int)a0);
	default:
		rv = sys_unknown(tf->tf_rax);
		break;
	}
	if (__builtin_expect(rv == -ERESTARTSYS, 0))
		rv = sig_syscall_restart(tf, tf->tf_rax);       /* EINTR, or again */
	tf->tf_rax = (uint64_t)rv;
}
