/*
 * The guest kernel's half of vm/vm_platform.h (see there for the contract).
 *
 *   struct mtx     a sleep mutex owned by a thread (FreeBSD's MTX_DEF): one word, 0
 *                  when free, else the owner thread with bit 0 set when someone sleeps
 *                  for it; taken and left with one lock cmpxchg each, the fast paths
 *                  inline. A contender sleeps (kern/kern_synch.c). Interrupts stay as
 *                  they are: interrupt handlers never enter the VM core (they may only
 *                  vm_wakeup).
 *   critical_*     a per-CPU nesting counter: no preemption inside; a switch that
 *                  came due meanwhile happens at the last critical_exit.
 *   direct map     DMAP_BASE + pa, inline.
 *   page ops       inline: this CPU's request block filled with three stores and handed
 *                  to the port; no lock. Lists the host cannot address (outside the
 *                  kernel image and the direct map), longer than one request, before
 *                  the probe or without the port take vmp_page_op_slow (kern/
 *                  vm_platform.c). The call chain and lock this replaces cost more
 *                  emulated time than the exit.
 */
#ifndef GUEST_KERN_VM_PLATFORM_IMPL_H
#define GUEST_KERN_VM_PLATFORM_IMPL_H

#include <stdint.h>

#include "amd64/cpufunc.h"
#include "amd64/kva.h"
#include "amd64/md_page.h"     /* struct md_page, pmap's part of vm_page */
#include "amd64/pcpu.h"         /* MAXCPU, struct pcpu */
#include "amd64/vmparam.h"
#include "dev/hostcall.h"

typedef uint64_t vm_paddr_t;

struct mtx {
	volatile uintptr_t mtx_lock;    /* 0 free, else the owner thread | MTX_CONTESTED */
	const char *mtx_name;
};
#define MTX_CONTESTED   ((uintptr_t)1)

extern int pcpu_count;

#define VM_PLATFORM_INLINE_MTX      1
#define VM_PLATFORM_INLINE_CRITICAL 1
#define VM_PLATFORM_INLINE_CURCPU   1
#define VM_PLATFORM_INLINE_DMAP     1
#define VM_PLATFORM_INLINE_PAGE_OPS 1

static inline void critical_enter(void)
{
	pcpu_self()->pc_critnest++;
	__asm__ volatile("" ::: "memory");
}

void critical_exit_preempt(void);

static inline void critical_exit(void)
{
	struct pcpu *pc = pcpu_self();

	__asm__ volatile("" ::: "memory");
	if (--pc->pc_critnest == 0 && __builtin_expect(pc->pc_owepreempt, 0))
		critical_exit_preempt();
}

/* The out-of-line halves (kern/kern_synch.c): recursion checked, then sleep until
 * free; the unlock that wakes sleepers; the panic of an unlock by a thread that does
 * not hold the mutex. */
void mtx_lock_contested(struct mtx *m, uintptr_t self);
void mtx_unlock_contested(struct mtx *m);
void mtx_unlock_unowned(struct mtx *m) __attribute__((noreturn, cold));

static inline void mtx_lock(struct mtx *m)
{
	uintptr_t self = (uintptr_t)curthread, old = 0;

	if (__builtin_expect(!__atomic_compare_exchange_n(&m->mtx_lock, &old, self, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED), 0))
		mtx_lock_contested(m, self);
}

static inline void mtx_unlock(struct mtx *m)
{
	uintptr_t self = (uintptr_t)curthread;

#ifdef INVARIANTS
	if (__builtin_expect((m->mtx_lock & ~MTX_CONTESTED) != self, 0))
		mtx_unlock_unowned(m);
#endif
	if (__builtin_expect(!__atomic_compare_exchange_n(&m->mtx_lock, &self, 0, false,
	    __ATOMIC_RELEASE, __ATOMIC_RELAXED), 0))
		mtx_unlock_contested(m);
}

static inline _Bool mtx_owned(struct mtx *m)
{
	return (m->mtx_lock & ~MTX_CONTESTED) == (uintptr_t)curthread;
}

/* The VM core's per-CPU counters (vm/vm_platform.h): one instruction, which neither a
 * preemption nor a migration can split, so no increment is lost. */
#define VM_PLATFORM_PCPU_COUNTER
#define vm_pcpu_counter_add(i, n)                                                   \
	__asm__ volatile("addq %1, %%gs:%c0"                                        \
	    : : "i"(__builtin_offsetof(struct pcpu, pc_vmcounters) + 8 * (i)),      \
	    "er"((uint64_t)(n)) : "cc")
#define vm_pcpu_counter_read(cpu, i) \
	__atomic_load_n(&pcpu_array[(cpu)].pc_vmcounters[(i)], __ATOMIC_RELAXED)

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

struct vm_page_run;
uint64_t vmp_page_op_slow(uint32_t op, const struct vm_page_run *runs, unsigned nruns);
void vmp_page_op_failed(uint32_t op, uint32_t status, uint64_t done) __attribute__((cold));

/* struct vm_page_run is struct hc_page_run (checked in vm_platform.c): the caller's
 * list goes to the host as it is. Returns the pages done, a prefix of the list. */
static inline uint64_t vmp_page_op(uint32_t op, const struct vm_page_run *runs,
    unsigned nruns)
{
	uint64_t list = kvtop(runs), done;
	uint32_t status;

	if (__builtin_expect(hc_probed <= 0 || list == KVTOP_NONE || nruns - 1 >= HC_MAX_LIST,
	    0))
		return vmp_page_op_slow(op, runs, nruns);
	critical_enter();
	struct hc_req *r = &pcpu_self()->pc_hcreq;
	/* The host writes status and done back: only the request's own fields. */
	r->op = op;
	r->count = nruns;
	r->list = list;
	outl(HC_PORT, (uint32_t)kvtop(r));
	status = r->status;
	done = r->done;
	critical_exit();
	if (__builtin_expect(status != HC_OK, 0))
		vmp_page_op_failed(op, status, done);
	return done;
}

static inline uint64_t vm_plat_zero_pages(const struct vm_page_run *runs, unsigned nruns)
{
	return vmp_page_op(HC_OP_PAGE_ZERO, runs, nruns);
}

static inline uint64_t vm_plat_discard_pages(const struct vm_page_run *runs,
    unsigned nruns)
{
	return vmp_page_op(HC_OP_PAGE_DISCARD, runs, nruns);
}

/* struct pmap, the machine's half of vm/pmap.h: after struct mtx, which it embeds. */
#include "amd64/pmap_md.h"

#endif /* GUEST_KERN_VM_PLATFORM_IMPL_H */
