/*
 * Per-CPU data, reached through %gs: GS base holds the CPU's struct pcpu, set once by
 * the boot's CPL 0 prologue (locore.S) and never changed (docs/deprivileged-kernel.md:
 * user programs use FS only). pc_self at offset 0 turns %gs-relative into a pointer.
 *
 * Field locking legend:
 *   C  constant after boot
 *   P  this CPU only, with interrupts (soft-)masked or in a critical section
 */
#ifndef AMD64_PCPU_H
#define AMD64_PCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/hostcall.h"

#define MAXCPU  16

struct thread;

struct pcpu {
	struct pcpu *pc_self;           /* C: %gs:0 */
	struct thread *pc_curthread;    /* P: %gs:8, what runs here */
	struct thread *pc_idlethread;   /* C */
	int pc_cpuid;                   /* C */
	int pc_critnest;                /* P: critical_enter nesting: no preemption */
	bool pc_owepreempt;             /* P: a switch is due when the nesting ends */
	/* This CPU's page-operation request block (kern/vm_platform_impl.h): in the
	 * kernel image, so below 4 GiB physical, and 16-byte aligned as the port wants. */
	struct hc_req pc_hcreq;
};

#define PC_SELF         0
#define PC_CURTHREAD    8
_Static_assert(__builtin_offsetof(struct pcpu, pc_self) == PC_SELF, "pc_self at %gs:0");
_Static_assert(__builtin_offsetof(struct pcpu, pc_curthread) == PC_CURTHREAD,
    "pc_curthread at %gs:8");

extern struct pcpu pcpu_array[MAXCPU];
extern int pcpu_count;

static inline struct pcpu *pcpu_self(void)
{
	struct pcpu *pc;

	__asm__("movq %%gs:0, %0" : "=r"(pc));
	return pc;
}

static inline struct thread *curthread_get(void)
{
	struct thread *td;

	__asm__ volatile("movq %%gs:8, %0" : "=r"(td));
	return td;
}
#define curthread   curthread_get()

#endif /* AMD64_PCPU_H */
