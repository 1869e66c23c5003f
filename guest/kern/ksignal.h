/*
 * The signal numbers the kernel sends itself, and a signal's bit in a thread's pending
 * and blocked sets (td_sigpending, td_sigmask). Linux x86-64's numbers: the programs the
 * kernel runs are Linux's.
 */
#ifndef KERN_KSIGNAL_H
#define KERN_KSIGNAL_H

#include <stdint.h>

#define SIGILL          4
#define SIGTRAP         5
#define SIGFPE          8
#define SIGKILL         9
#define SIGSEGV         11
#define SIGPIPE         13
#define SIGCHLD         17
#define SIGSTOP         19

static inline uint64_t sig_bit(int sig)
{
	return 1ull << (sig - 1);
}

#endif /* KERN_KSIGNAL_H */
