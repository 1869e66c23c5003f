/*
 * Per-CPU data. One CPU for now: pcpu_self() is the boot CPU's record. When SMP arrives
 * it becomes a %gs-relative load (GS base = the CPU's struct pcpu); callers need not
 * change.
 */
#ifndef AMD64_PCPU_H
#define AMD64_PCPU_H

#include <stdint.h>

#define MAXCPU  16

struct pcpu {
	int pc_cpuid;
	int pc_critnest;            /* critical_enter nesting */
	int pc_spinlocks;           /* spin mutexes held */
	uint64_t pc_spin_rflags;    /* RFLAGS before the outermost spin mutex */
};

extern struct pcpu pcpu_array[MAXCPU];
extern int pcpu_count;

static inline struct pcpu *pcpu_self(void)
{
	return &pcpu_array[0];
}

#endif /* AMD64_PCPU_H */
