/*
 * systramp: system calls made by jumping to the kernel's syscall trampoline
 * (SYSCALL_TRAMP_VA, the one kernel page a process may run) instead of executing
 * `syscall`, as a program hunting for holes would. With rcx and r11 set as `syscall`
 * sets them it is a system call like any: getpid's pid comes back. With TF set the
 * program first gets its SIGTRAP at the trampoline; the handler leaves TF set, so the
 * kernel is entered with it, and its first #DB lands in the kernel's own entry, which
 * must still make the call and come back here without a trace of TF. Guest only: on
 * Linux that address is the host kernel's.
 *
 * A program's own invalid opcode (ud2) takes the same entry and must still be SIGILL at
 * its address, with TF set too (its #DB then lands in the kernel's entry).
 *
 * Then a call through the trampoline whose return address (rcx) is not canonical: the
 * kernel's return would fault at CPL 0; the program gets SIGSEGV instead, with si_code
 * SI_KERNEL, and the kernel is unharmed.
 *
 * systramp ADDR...: then a jump to each kernel address ADDR (the kernel's own entry
 * code, say), which must fault with SIGSEGV at ADDR and nothing else: a program that
 * lands there is not taken for the kernel's entry.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest/amd64/vmparam.h"
#include "guest/user/lib/wl.h"

const char wl_prog[] = "systramp";

#define PSL_T   0x100ul

static volatile sig_atomic_t st_traps;

static void st_on_trap(int sig)
{
	(void)sig;
	st_traps++;
}

/* getpid through the trampoline with RFLAGS = flags from the jump on (TF or not);
 * r11, the flags `syscall` would have saved, is the caller's without TF. => rax. */
static long st_call(unsigned long flags)
{
	unsigned long r11;
	long rax = SYS_getpid;

	__asm__ volatile("pushfq; popq %0" : "=r"(r11));
	r11 &= ~PSL_T;
	__asm__ volatile(
	    "leaq 1f(%%rip), %%rcx\n\t"
	    "pushq %[flags]\n\t"
	    "popfq\n\t"
	    "jmp *%[tramp]\n"
	    "1:"
	    : "+a"(rax), "+r"(r11)
	    : [flags] "r"(flags), [tramp] "r"((uintptr_t)SYSCALL_TRAMP_VA)
	    : "rcx", "memory", "cc");
	return rax;
}

/* The last fault signal a test provoked, caught and left with siglongjmp. */
static sigjmp_buf st_jmp;
static volatile int st_fault_sig, st_fault_code, st_faults;
static volatile uintptr_t st_fault_addr;

static void st_on_fault(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	st_fault_sig = sig;
	st_fault_code = si->si_code;
	st_fault_addr = (uintptr_t)si->si_addr;
	st_faults++;
	siglongjmp(st_jmp, 1);
}

static void st_catch(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = st_on_fault;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(sig, &sa, NULL) != 0)
		wl_fail("sigaction %d failed", sig);
}

/* A ud2 of the program's own, with TF set or not. => 1 when it was SIGILL at the ud2
 * and nothing else (no SIGTRAP). */
static int st_own_ud2(int tf)
{
	extern const char st_ud2_insn[];
	unsigned long flags;

	st_catch(SIGILL);
	int traps0 = st_traps, faults0 = st_faults;
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	if (tf)
		flags |= PSL_T;
	if (sigsetjmp(st_jmp, 1) == 0) {
		__asm__ volatile(
		    "pushq %0\n\t"
		    "popfq\n\t"
		    ".globl st_ud2_insn\n"
		    "st_ud2_insn:\n\t"
		    "ud2"
		    : : "r"(flags) : "memory", "cc");
		return 0;
	}
	return st_faults == faults0 + 1 && st_fault_sig == SIGILL && st_traps == traps0 &&
	    st_fault_addr == (uintptr_t)st_ud2_insn;
}

/* getpid through the trampoline, returning to a non-canonical address. => 1 when it
 * ended in SIGSEGV with si_code SI_KERNEL. */
static int st_noncanonical_return(void)
{
	st_catch(SIGSEGV);
	st_fault_sig = 0;
	if (sigsetjmp(st_jmp, 1) == 0) {
		__asm__ volatile(
		    "movl $39, %%eax\n\t"
		    "movabsq $0x0000800000000000, %%rcx\n\t"
		    "movq $0x202, %%r11\n\t"
		    "jmp *%0"
		    : : "r"((uintptr_t)SYSCALL_TRAMP_VA) : "rax", "rcx", "r11", "memory", "cc");
		return 0;
	}
	return st_fault_sig == SIGSEGV && st_fault_code == SI_KERNEL;
}

/* A jump to addr, with rax, rcx and r11 as a system call through the trampoline would
 * have them. => 1 when it faulted at addr. */
static int st_jump(uintptr_t addr)
{
	st_catch(SIGSEGV);
	st_fault_sig = 0;
	if (sigsetjmp(st_jmp, 1) == 0)
		__asm__ volatile(
		    "movl $39, %%eax\n\t"          /* getpid's number */
		    "leaq 1f(%%rip), %%rcx\n\t"
		    "movq $0x202, %%r11\n\t"
		    "jmp *%0\n"
		    "1:"
		    : : "r"(addr) : "rax", "rcx", "r11", "memory", "cc");
	return st_fault_sig == SIGSEGV && st_fault_addr == addr;
}

int main(int argc, char **argv)
{
	long pid = syscall(SYS_getpid);
	unsigned long flags;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = st_on_trap;
	if (sigaction(SIGTRAP, &sa, NULL) != 0)
		wl_fail("sigaction SIGTRAP failed");
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));

	long r = st_call(flags & ~PSL_T);
	if (r != pid)
		wl_fail("getpid through the trampoline gave %ld, not %ld", r, pid);
	if (st_traps != 0)
		wl_fail("%d SIGTRAPs without TF", (int)st_traps);

	r = st_call(flags | PSL_T);
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	if (r != pid)
		wl_fail("getpid through the trampoline with TF gave %ld, not %ld", r, pid);
	if (st_traps != 1)
		wl_fail("%d SIGTRAPs with TF, not 1 (the one at the trampoline)", (int)st_traps);
	if (flags & PSL_T)
		wl_fail("TF still set after the call");
	if (!st_own_ud2(0))
		wl_fail("ud2: not SIGILL at it (signal %d at %#lx, %d SIGTRAPs)",
		    (int)st_fault_sig, (unsigned long)st_fault_addr, (int)st_traps);
	if (!st_own_ud2(1))
		wl_fail("ud2 with TF: not SIGILL at it alone (signal %d at %#lx, %d SIGTRAPs)",
		    (int)st_fault_sig, (unsigned long)st_fault_addr, (int)st_traps);
	if (!st_noncanonical_return())
		wl_fail("a return to a non-canonical address: signal %d, si_code %d, not SIGSEGV"
		    " (SI_KERNEL)", (int)st_fault_sig, (int)st_fault_code);
	int jumps = 0;
	for (int i = 1; i < argc; i++) {
		char *end;
		errno = 0;
		unsigned long long a = strtoull(argv[i], &end, 0);
		if (*argv[i] == '\0' || *end != '\0' || errno != 0)
			wl_fail("address '%s': give a number, e.g. 0xffffffff80105000", argv[i]);
		if (!st_jump((uintptr_t)a))
			wl_fail("a jump to %#llx did not fault there (signal %d at %#lx)", a,
			    (int)st_fault_sig, (unsigned long)st_fault_addr);
		jumps++;
	}
	wl_say("pid=%ld traps=%d ud2=sigill noncanonical=segv jumps=%d ok", pid,
	    (int)st_traps, jumps);
	return 0;
}
