/*
 * Per-CPU data. One CPU for now: pcpu_self() is the boot CPU's record. When SMP arrives
 * it becomes a %gs-relative load (GS base = the CPU's struct pcpu); callers need not
 * change.
 */
#ifndef AMD64_PCPU_H
#define AMD64_PCPU_H

#include <stdint.h>

#include "devices/hostcall.h"

#define MAXCPU  16

struct pcpu {
	int pc_cpuid;
	int pc_critnest;            /* critical_enter nesting */
	/* This CPU's page-operation request block (kern/vm_platform_impl.h): in the
	 * kernel image, so below 4 GiB physical, and 16-byte aligned as the port wants. */
	struct hc_req pc_hcreq;
};

extern struct pcpu pcpu_array[MAXCPU];
extern int pcpu_count;

static inline struct pcpu *pcpu_self(void)
{
	return &pcpu_array[0];
}

#endif /* AMD64_PCPU_H */
