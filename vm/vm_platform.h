/*
 * What the VM core needs from the machine it runs on, and nothing more. vm/ includes
 * this header, never a guest or host header. Two implementations provide
 * <vm_platform_impl.h> (found through the include path) and the functions below:
 *
 *   guest kernel:  guest/kern/vm_platform_impl.h + guest/kern/vm_platform.c
 *   host tests:    tests/support/vm_platform_impl.h + tests/support/ sources (pthreads,
 *                  simulated physical memory)
 *
 * The impl header must define:
 *   struct mtx                 a sleepable-context mutex (never taken by interrupt
 *                              handlers: they may only call vm_wakeup)
 *   MAXCPU                     the most CPUs per-CPU arrays are sized for
 *   vm_paddr_t                 (uint64_t)
 *   struct md_page             the machine's per-page data (pmap's pv list head and the
 *                              like), embedded in struct vm_page: all-zero must mean "no
 *                              mappings", and it must fit in 32 bytes (vm_page.h)
 * and may define the inline functions below as static inlines (it sets
 * VM_PLATFORM_INLINE_* to say which), so fast paths cost no call.
 */
#ifndef VM_VM_PLATFORM_H
#define VM_VM_PLATFORM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vm_platform_impl.h>

#define __predict_true(e)   __builtin_expect(!!(e), 1)
#define __predict_false(e)  __builtin_expect(!!(e), 0)

/* C library subset: both worlds provide these with the standard signatures. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* panic and KASSERT: one definition shared with the guest kernel's kern/systm.h. */
#include "kassert.h"

/* Mutexes. A mutex may be held across a critical section but not across a sleep
 * except the one it is passed to. A struct mtx of all-zero bytes is a valid, unlocked
 * (unnamed) mutex, so static mutexes work before their mtx_init: the boot skips the
 * calls it cannot afford (vm_startup.h). mtx_init on an unlocked mutex names it. */
void mtx_init(struct mtx *m, const char *name);
void mtx_destroy(struct mtx *m);
void mtx_lock(struct mtx *m);          /* may be inline (VM_PLATFORM_INLINE_MTX) */
void mtx_unlock(struct mtx *m);
/* Take m if it is free, without waiting: for a lock taken against the lock order
 * (vm_object_deallocate's shadow, locked under its backing object). */
bool mtx_trylock(struct mtx *m);
bool mtx_owned(struct mtx *m);
/* mtx_trylock for the panic path, whose thread may hold any lock, m included (where
 * mtx_trylock would assert against the recursion): false then too. */
static inline bool mtx_trylock_unowned(struct mtx *m)
{
	return !mtx_owned(m) && mtx_trylock(m);
}
#define mtx_assert_owned(m) KASSERT(mtx_owned(m), ("%s: %s not owned", __func__, #m))

/*
 * Sleep on a wait channel: atomically releases m, sleeps until vm_wakeup(chan) (or
 * timeout_ns > 0 elapses; 0 means forever), re-acquires m. Returns 0 when woken,
 * -1 on timeout. Spurious wakeups are allowed: callers re-check their condition.
 * Any number of sleepers may wait, on one channel or many, each with its own timeout.
 * vm_wakeup wakes every sleeper on chan, vm_wakeup_one at least its oldest (the host
 * may wake more: spurious). Both are cheap when nobody sleeps (called on every unbusy)
 * and may be called from interrupt handlers. The guest keeps its sleepers in a
 * sleep-queue table (vm/vm_sleepq.h); until it has a scheduler an untimed sleep panics
 * naming its wmesg, since nothing could end it.
 */
int vm_sleep(void *chan, struct mtx *m, const char *wmesg, uint64_t timeout_ns);
void vm_wakeup(void *chan);         /* all sleepers on chan */
void vm_wakeup_one(void *chan);     /* the oldest sleeper on chan (at least) */

/*
 * Critical sections pin the caller to its CPU: per-CPU data (UMA caches, counters) may
 * be used without a lock between enter and exit. They nest. They do not block
 * interrupts on the guest unless the impl says so. Interrupt handlers do not enter the
 * VM core (no mutex is safe against them); they may call vm_wakeup.
 */
void critical_enter(void);
void critical_exit(void);
int vm_curcpu(void);                /* 0 .. vm_ncpus() - 1, stable inside a critical section */
int vm_ncpus(void);

/*
 * Per-CPU event counters for statistics (vm_fault's, struct vm_fault_stats):
 * VM_PCPU_NCOUNTERS slots per CPU. vm_pcpu_counter_add(i, n) adds to this CPU's slot i
 * (a constant) without a lock; vm_pcpu_counter_read(cpu, i)
 * reads one racily. A platform that does the add in one instruction that cannot be
 * split by a migration (the guest: `addq n, %gs:slot`) defines VM_PLATFORM_PCPU_COUNTER
 * and both in its impl header. Elsewhere (the host build) every count goes to the first
 * CPU's row with one atomic add: exact whatever the threads do, and one instruction as
 * on the guest, so that callgrind's counts of the fault path stay the guest's.
 */
#define VM_PCPU_NCOUNTERS   8
#ifndef VM_PLATFORM_PCPU_COUNTER
extern uint64_t vm_pcpu_counters[MAXCPU][VM_PCPU_NCOUNTERS];
#define vm_pcpu_counter_add(i, n) \
	((void)__atomic_fetch_add(&vm_pcpu_counters[0][(i)], (n), __ATOMIC_RELAXED))
#define vm_pcpu_counter_read(cpu, i) \
	__atomic_load_n(&vm_pcpu_counters[(cpu)][(i)], __ATOMIC_RELAXED)
#endif

/* The direct map: every physical page of RAM at a fixed kernel virtual address. */
void *vm_phys_to_dmap(vm_paddr_t pa);
vm_paddr_t vm_dmap_to_phys(const void *va);

/* Monotonic nanoseconds. */
uint64_t vm_nanotime(void);

/*
 * Bulk page operations the machine may do faster than stores (the guest hands them to
 * the VMM through the hostcall port in one exit; the host test platform does them
 * directly). Each returns the number of pages it handled; the caller does the rest with
 * stores. Runs are in physical pages.
 */
struct vm_page_run {
	vm_paddr_t pa;
	uint64_t npages;
};
uint64_t vm_plat_zero_pages(const struct vm_page_run *runs, unsigned nruns);
uint64_t vm_plat_discard_pages(const struct vm_page_run *runs, unsigned nruns);
bool vm_plat_has_page_ops(void);    /* false: the fallbacks are stores, do fewer of them */

/*
 * Can anything but the caller free memory while it sleeps? true where other threads run
 * (host tests, a guest with a scheduler); false where the caller is the only thread of
 * control and interrupt handlers free nothing (the guest today). A request that would
 * sleep for memory or for a zone item then panics, naming what it waited for, instead
 * of waiting for ever; one that may fail (VM_ALLOC_WAITFAIL) fails without sleeping.
 */
bool vm_plat_others_can_free(void);

/*
 * Out of memory: the page daemon freed and cleaned nothing through several passes
 * while allocations waited (no swap, or swap full). The VM core knows no processes:
 * the platform kills the one holding the most memory (the guest: SIGKILL to the
 * process with the most resident pages, whose memory it then releases; host tests:
 * a recorder). => true when something was killed, false when nothing could be (the
 * allocations keep waiting). Called by the page daemon with no lock held; may sleep.
 */
bool vm_plat_oom_kill(void);

/*
 * The current thread's fault waited for a page to be read in (from swap): a major
 * fault, which the platform charges to whoever it runs for (the guest: the process's
 * getrusage ru_majflt). Called with no lock held.
 */
void vm_plat_fault_major(void);

#endif /* VM_VM_PLATFORM_H */
