/*
 * The host test platform's half of vm/vm_platform.h: pthread mutexes, a current-CPU id
 * per thread, and critical sections that check that no two threads ever use the same
 * CPU's per-CPU data at once (the guarantee the guest gets from pinning).
 */
#ifndef TESTS_SUPPORT_VM_PLATFORM_IMPL_H
#define TESTS_SUPPORT_VM_PLATFORM_IMPL_H

#include <pthread.h>
#include <stdint.h>

/* struct md_page: the x86-64 one, as pmap builds on the host too. */
#include "guest/amd64/md_page.h"

#define MAXCPU 64

typedef uint64_t vm_paddr_t;

struct mtx {
	pthread_mutex_t mtx_pm;
	uintptr_t mtx_owner;        /* atomic: vm_host_thread_id() of the holder, or 0 */
	const char *mtx_name;
};

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

#define VM_PLATFORM_INLINE_CRITICAL 1
#define VM_PLATFORM_INLINE_CURCPU   1

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

/* struct pmap, the machine's half of vm/pmap.h: after struct mtx, which it embeds. */
#include "guest/amd64/pmap_md.h"

#endif /* TESTS_SUPPORT_VM_PLATFORM_IMPL_H */
