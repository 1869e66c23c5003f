/*
 * The guest kernel's half of vm/vm_platform.h (see there for the contract).
 *
 *   struct mtx     a spin lock taken with interrupts disabled: an atomic xchg lock, so
 *                  SMP needs no new lock; the outermost lock saves RFLAGS per CPU and
 *                  the matching unlock restores IF.
 *   critical_*     a per-CPU nesting counter; interrupts stay enabled. With one CPU and
 *                  no preemption yet, nothing can move the caller to another CPU.
 *   direct map     DMAP_BASE + pa, inline.
 */
#ifndef GUEST_KERN_VM_PLATFORM_IMPL_H
#define GUEST_KERN_VM_PLATFORM_IMPL_H

#include <stdint.h>

#include "amd64/pcpu.h"         /* MAXCPU, struct pcpu */
#include "amd64/vmparam.h"

typedef uint64_t vm_paddr_t;

struct mtx {
	volatile uint32_t mtx_lock;     /* 0 free, 1 held: xchg */
	int mtx_owner;                  /* cpuid + 1 of the holder, 0 when free */
	const char *mtx_name;
};

extern int pcpu_count;

#define VM_PLATFORM_INLINE_CRITICAL 1
#define VM_PLATFORM_INLINE_CURCPU   1
#define VM_PLATFORM_INLINE_DMAP     1

static inline void critical_enter(void)
{
	pcpu_self()->pc_critnest++;
	__asm__ volatile("" ::: "memory");
}

static inline void critical_exit(void)
{
	__asm__ volatile("" ::: "memory");
	pcpu_self()->pc_critnest--;
}

static inline int vm_curcpu(void)
{
	return pcpu_self()->pc_cpuid;
}

static inline int vm_ncpus(void)
{
	return pcpu_count;
}

static inline void *vm_phys_to_dmap(vm_paddr_t pa)
{
	return (void *)(uintptr_t)(DMAP_BASE + pa);
}

static inline vm_paddr_t vm_dmap_to_phys(const void *va)
{
	return (vm_paddr_t)(uintptr_t)va - DMAP_BASE;
}

#endif /* GUEST_KERN_VM_PLATFORM_IMPL_H */
