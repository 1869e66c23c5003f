/*
 * Single-instruction helpers and what stands in for the privileged ones at CPL 3. Port
 * I/O runs at CPL 3 (the kernel's ports are allowed in the TSS's I/O bitmap), one exit
 * each as at CPL 0.
 */
#ifndef AMD64_CPUFUNC_H
#define AMD64_CPUFUNC_H

#include <stdbool.h>
#include <stdint.h>

#include "amd64/kreq.h"
#include "amd64/pcpu.h"
#include "amd64/trap.h"

/* Port I/O clobbers memory: the host reads and writes guest memory a port request names
 * (the page-operations port), so stores before it and loads after it must stay there. */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

/* Write n bytes to one port with a single string instruction. */
static inline void outsb(uint16_t port, const void *buf, uint64_t n)
{
	__asm__ volatile("rep outsb" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}

static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	    : "a"(leaf), "c"(sub));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * Below, what needs CPL 0. The kernel runs at CPL 3 (docs/deprivileged-kernel.md): each
 * of these is a kernel request, one trap (amd64/kreq.h). Only the stubs in
 * amd64/exception.S and the boot's CPL 0 prologue in locore.S execute the instructions.
 */
static inline uint64_t rdmsr(uint32_t msr)
{
	return kreq(KREQ_RDMSR, msr, 0);
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	kreq(KREQ_WRMSR, msr, v);
}

static inline uint64_t rcr3(void)
{
	return kreq(KREQ_RCR3, 0, 0);
}

static inline void load_cr3(uint64_t v)
{
	kreq(KREQ_LOAD_CR3, v, 0);
}

/* The TLB entries of [sva, eva) on this CPU: one request for the range. */
static inline void invlpg_range(uint64_t sva, uint64_t eva)
{
	kreq(KREQ_INVL_RANGE, sva, eva);
}

static inline void invlpg(uint64_t va)
{
	invlpg_range(va, va + 4096);
}

/* Every TLB entry, global ones included (CR4.PGE toggled by the stub). */
static inline void invltlb_glob(void)
{
	kreq(KREQ_FLUSH, 1, 0);
}

/* Every non-global TLB entry (a CR3 reload). */
static inline void invltlb(void)
{
	kreq(KREQ_FLUSH, 0, 0);
}

static inline uint64_t read_rflags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline bool cpu_at_cpl3(void)
{
	uint16_t cs;

	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	return (cs & 3) != 0;
}

/*
 * Interrupts. At CPL 3 cli and sti fault on kvm_pvm (scripts/probes/cpl3-insn.c), so
 * masking is in software: the stubs record an interrupt that arrives while
 * intr_soft_mask is set, and enable_intr runs what was recorded (amd64/trap.h).
 */
static inline void disable_intr(void)
{
	intr_soft_mask = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* What enabling found to do: recorded interrupts, a switch that came due. */
void intr_enable_slow(void);

static inline void enable_intr(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	intr_soft_mask = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (__builtin_expect(intr_pending_any || pcpu_self()->pc_owepreempt, 0))
		intr_enable_slow();
}

static inline bool intr_enabled(void)
{
	return intr_soft_mask == 0;
}

/* disable_intr, returning whether interrupts were enabled, for intr_restore. */
static inline bool intr_save(void)
{
	bool was = intr_enabled();

	disable_intr();
	return was;
}

static inline void intr_restore(bool was_enabled)
{
	if (was_enabled)
		enable_intr();
}

/* Sleep until an interrupt, then run it with interrupts enabled. => disabled (so that a
 * wakeup between the caller's check and the halt is not lost: the stub does not halt
 * when one is recorded). */
static inline void enable_intr_and_halt(void)
{
	kreq(KREQ_HALT, 0, 0);
	enable_intr();
}

/* Stop this CPU for good, interrupts off (what the VMM's watchdog recognises). */
static inline void __attribute__((noreturn)) cpu_stop(void)
{
	for (;;)
		kreq(KREQ_STOP, 0, 0);
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause");
}

#endif /* AMD64_CPUFUNC_H */
