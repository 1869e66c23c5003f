/*
 * Kernel requests: what the kernel, running at CPL 3 (docs/deprivileged-kernel.md),
 * asks of the CPL 0 stubs. The kernel puts the op in %rax and its arguments in %rdi,
 * %rsi and executes int3; the #BP stub (amd64/exception.S) performs the op and returns
 * its result in %rax. Each request is one trap into CPL 0 and back (~13 us on kvm_pvm
 * plus the op's emulated instructions), so callers batch: one request a range, not one
 * a page.
 */
#ifndef AMD64_KREQ_H
#define AMD64_KREQ_H

#define KREQ_HALT           0   /* sti; hlt; cli, unless an interrupt is pending */
#define KREQ_STOP           1   /* cli; hlt for good */
#define KREQ_INVL_RANGE     2   /* invlpg each page of [rdi, rsi) */
#define KREQ_FLUSH          3   /* the whole TLB: rdi != 0 with global entries */
#define KREQ_LOAD_CR3       4   /* CR3 = rdi */
#define KREQ_RCR3           5   /* -> CR3 */
#define KREQ_RDMSR          6   /* -> MSR rdi */
#define KREQ_WRMSR          7   /* MSR rdi = rsi */
#define KREQ_COUNT          8

#ifndef __ASSEMBLY__
#include <stdint.h>

/* Requests made, by op, on every CPU (ktest kreq counts them). */
extern uint64_t kreq_counts[KREQ_COUNT];

/* One request. Never at CPL 0: int3 there kills the VM on kvm_pvm (PLATFORM.md). */
static inline uint64_t kreq(uint64_t op, uint64_t a, uint64_t b)
{
	uint64_t r = op;

	if (op < KREQ_COUNT)
		__atomic_fetch_add(&kreq_counts[op], 1, __ATOMIC_RELAXED);
	__asm__ volatile("int3" : "+a"(r), "+D"(a), "+S"(b) : : "memory");
	return r;
}
#endif

#endif /* AMD64_KREQ_H */
