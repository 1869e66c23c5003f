/*
 * The host test platform's half of vm/vm_platform.h: mutexes of the guest's shape (one
 * compare-exchange to take, inline; futex(2) when contended), a current-CPU id per
 * thread, and critical sections that check that no two threads ever use the same CPU's
 * per-CPU data at once (the guarantee the guest gets from pinning).
 */
#ifndef TESTS_SUPPORT_VM_PLATFORM_IMPL_H
#define TESTS_SUPPORT_VM_PLATFORM_IMPL_H

#include <pthread.h>
#include <stdint.h>

/* struct md_page: the x86-64 one, as pmap builds on the host too. */
#include "guest/amd64/md_page.h"

#define MAXCPU 64

typedef uint64_t vm_paddr_t;

/*
 * mtx_state is the futex word: VM_HOST_MTX_FREE, _HELD (nobody waits) or _WAITERS (some
 * thread may sleep in futex_wait: the unlock must wake one). mtx_owner says who holds
 * it, for the recursion and ownership checks and mtx_owned; it is written by the holder
 * only, after taking and before leaving. All-zero bytes are a free, unnamed mutex.
 */
struct mtx {
	uint32_t mtx_state;         /* atomic */
	uintptr_t mtx_owner;        /* atomic: vm_host_thread_id() of the holder, or 0 */
	const char *mtx_name;
};

#define VM_HOST_MTX_FREE    0u
#define VM_HOST_MTX_HELD    1u
#define VM_HOST_MTX_WAITERS 2u

/* Per thread: the CPU it runs "on" and its critical-section nesting. */
extern _Thread_local int vm_host_td_cpu;
extern _Thread_local int vm_host_td_critnest;
/* Per CPU: the thread inside a critical section on it (0 when none). */
extern uintptr_t vm_host_cpu_crit_owner[MAXCPU];
extern int vm_host_ncpu;

void vm_host_crit_conflict(int cpu, uintptr_t other)
    __attribute__((noreturn, cold));

/* A unique non-zero id of the calling thread. */
static inline uintptr_t vm_host_thread_id(void)
{
	return (uintptr_t)&vm_host_td_critnest;
}

#define VM_PLATFORM_INLINE_MTX      1
#define VM_PLATFORM_INLINE_CRITICAL 1
#define VM_PLATFORM_INLINE_CURCPU   1
#define VM_PLATFORM_INLINE_DMAP     1

/* The out-of-line halves (vm_host_sync.c): wait for a held mutex; wake a waiter; the
 * panics of a recursive lock or an unlock by a thread that does not hold it. */
void vm_host_mtx_lock_contested(struct mtx *m);
void vm_host_mtx_wake(struct mtx *m);
void vm_host_mtx_recursed(struct mtx *m, const char *op) __attribute__((noreturn, cold));
void vm_host_mtx_unowned(struct mtx *m) __attribute__((noreturn, cold));

static inline void mtx_lock(struct mtx *m)
{
	uint32_t old = VM_HOST_MTX_FREE;

#ifdef INVARIANTS
	if (__builtin_expect(__atomic_load_n(&m->mtx_owner, __ATOMIC_RELAXED) ==
	    vm_host_thread_id(), 0))
		vm_host_mtx_recursed(m, "mtx_lock");
#endif
	if (__builtin_expect(!__atomic_compare_exchange_n(&m->mtx_state, &old,
	    VM_HOST_MTX_HELD, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED), 0))
		vm_host_mtx_lock_contested(m);
	__atomic_store_n(&m->mtx_owner, vm_host_thread_id(), __ATOMIC_RELAXED);
}

static inline void mtx_unlock(struct mtx *m)
{
#ifdef INVARIANTS
	if (__builtin_expect(__atomic_load_n(&m->mtx_owner, __ATOMIC_RELAXED) !=
	    vm_host_thread_id(), 0))
		vm_host_mtx_unowned(m);
#endif
	__atomic_store_n(&m->mtx_owner, 0, __ATOMIC_RELAXED);
	/* An exchange, not a store as on the guest: the old state says whether a thread
	 * sleeps in the kernel and needs the wake, which a spinning CPU would not. */
	if (__builtin_expect(__atomic_exchange_n(&m->mtx_state, VM_HOST_MTX_FREE,
	    __ATOMIC_RELEASE) == VM_HOST_MTX_WAITERS, 0))
		vm_host_mtx_wake(m);
}

static inline _Bool mtx_owned(struct mtx *m)
{
	return __atomic_load_n(&m->mtx_owner, __ATOMIC_RELAXED) == vm_host_thread_id();
}

/*
 * With INVARIANTS the CPU records which thread is inside a critical section on it, and
 * a second thread entering one on the same CPU panics. Without (benchmarks), entering is
 * a counter, as on the guest, so instruction counts match what the guest pays.
 */
static inline void critical_enter(void)
{
#ifdef INVARIANTS
	if (vm_host_td_critnest++ == 0) {
		int cpu = vm_host_td_cpu;
		uintptr_t other = __atomic_load_n(&vm_host_cpu_crit_owner[cpu],
		    __ATOMIC_RELAXED);
		if (__builtin_expect(other != 0, 0))
			vm_host_crit_conflict(cpu, other);
		__atomic_store_n(&vm_host_cpu_crit_owner[cpu], vm_host_thread_id(),
		    __ATOMIC_RELAXED);
	}
#else
	vm_host_td_critnest++;
#endif
	__asm__ volatile("" ::: "memory");
}

static inline void critical_exit(void)
{
	__asm__ volatile("" ::: "memory");
#ifdef INVARIANTS
	if (--vm_host_td_critnest == 0)
		__atomic_store_n(&vm_host_cpu_crit_owner[vm_host_td_cpu], 0,
		    __ATOMIC_RELEASE);
#else
	vm_host_td_critnest--;
#endif
}

static inline int vm_curcpu(void)
{
	return vm_host_td_cpu;
}

static inline int vm_ncpus(void)
{
	return vm_host_ncpu;
}

/* The direct map is the RAM's host mapping: one offset, as the guest's is DMAP_BASE
 * (inline, so pmap's walks cost here what they cost there). With INVARIANTS an address
 * outside the machine panics (vm_host_mem.c). */
extern uintptr_t vm_host_dmap_delta;
#ifdef INVARIANTS
void vm_host_dmap_check_pa(vm_paddr_t pa);
void vm_host_dmap_check_va(const void *va);
#endif

static inline void *vm_phys_to_dmap(vm_paddr_t pa)
{
#ifdef INVARIANTS
	vm_host_dmap_check_pa(pa);
#endif
	return (void *)(uintptr_t)(pa + vm_host_dmap_delta);
}

static inline vm_paddr_t vm_dmap_to_phys(const void *va)
{
#ifdef INVARIANTS
	vm_host_dmap_check_va(va);
#endif
	return (vm_paddr_t)((uintptr_t)va - vm_host_dmap_delta);
}

/* struct pmap, the machine's half of vm/pmap.h: after struct mtx, which it embeds. */
#include "guest/amd64/pmap_md.h"

#endif /* TESTS_SUPPORT_VM_PLATFORM_IMPL_H */
