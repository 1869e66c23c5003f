/*
 * The guest kernel's half of vm/vm_platform.h (see there for the contract).
 *
 *   struct mtx     a sleep-context mutex (FreeBSD's MTX_DEF, not MTX_SPIN): one word, 0
 *                  when free, else the holder's cpuid + 1, taken with one lock cmpxchg
 *                  (so SMP needs no new lock) and left with a store; the fast paths are
 *                  inline. Interrupts stay as they are: interrupt handlers never enter
 *                  the VM core (they may only vm_wakeup), and saving, clearing and
 *                  restoring IF around every lock cost as much as the rest of a lock
 *                  and unlock together here (pushf, cli and popf are emulated).
 *   critical_*     a per-CPU nesting counter; interrupts stay enabled. With one CPU and
 *                  no preemption yet, nothing can move the caller to another CPU.
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
	volatile uint32_t mtx_lock;     /* 0 free, else the holder's cpuid + 1 */
	const char *mtx_name;
};

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

static inline void critical_exit(void)
{
	__asm__ volatile("" ::: "memory");
	pcpu_self()->pc_critnest--;
}

/* The out-of-line halves: recursion checked, then spin until free; and the panic of an
 * unlock by a CPU that does not hold the mutex. */
void mtx_lock_contested(struct mtx *m, uint32_t self);
void mtx_unlock_unowned(struct mtx *m) __attribute__((noreturn, cold));

static inline void mtx_lock(struct mtx *m)
{
	uint32_t self = (uint32_t)pcpu_self()->pc_cpuid + 1, old = 0;

	if (__builtin_expect(!__atomic_compare_exchange_n(&m->mtx_lock, &old, self, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED), 0))
		mtx_lock_contested(m, self);
}

static inline void mtx_unlock(struct mtx *m)
{
#ifdef INVARIANTS
	if (__builtin_expect(m->mtx_lock != (uint32_t)pcpu_self()->pc_cpuid + 1, 0))
		mtx_unlock_unowned(m);
#endif
	__atomic_store_n(&m->mtx_lock, 0, __ATOMIC_RELEASE);
}

static inline _Bool mtx_owned(struct mtx *m)
{
	return m->mtx_lock == (uint32_t)pcpu_self()->pc_cpuid + 1;
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
