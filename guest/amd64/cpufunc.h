/*
 * Single-instruction helpers. Every one is a privileged or special instruction that the
 * emulator runs (PLATFORM.md lists what it cannot run: nothing here is on that list).
 */
#ifndef AMD64_CPUFUNC_H
#define AMD64_CPUFUNC_H

#include <stdbool.h>
#include <stdint.h>

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

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	    : "memory");
}

static inline uint64_t rcr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t rcr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void load_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint64_t rcr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void load_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline uint64_t read_rflags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void write_rflags(uint64_t f)
{
	__asm__ volatile("pushq %0; popfq" : : "r"(f) : "memory", "cc");
}

#define PSL_I   0x200   /* RFLAGS.IF */

/* Running at CPL 3: inside a boot_user_call (amd64/boot_user.S), where cli, sti and
 * port accesses fault. */
static inline bool cpu_at_cpl3(void)
{
	uint16_t cs;

	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	return (cs & 3) != 0;
}

static inline void disable_intr(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline void enable_intr(void)
{
	__asm__ volatile("sti" : : : "memory");
}

/* Enable interrupts and halt with no window between them (the STI shadow). */
static inline void enable_intr_and_halt(void)
{
	__asm__ volatile("sti; hlt" : : : "memory");
}

static inline void halt(void)
{
	__asm__ volatile("hlt" : : : "memory");
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause");
}

static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* Flush every TLB entry, global ones included, by toggling CR4.PGE. */
static inline void invltlb_glob(void)
{
	uint64_t cr4 = rcr4();

	load_cr4(cr4 & ~(uint64_t)0x80);
	load_cr4(cr4);
}

#endif /* AMD64_CPUFUNC_H */
