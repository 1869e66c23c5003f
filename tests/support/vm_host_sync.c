/*
 * Locks, sleep/wakeup and critical sections of the host test platform.
 *
 * Mutexes have the guest's shape (one compare-exchange to take), so the VM core's
 * instruction counts on the host are the guest's; contention sleeps in futex(2).
 *
 * Sleep queues: a wait channel hashes to one of VM_HOST_SLEEPQ buckets, each a pthread
 * mutex and condition variable of its own (a condition variable may only be waited on
 * with one mutex at a time, so the caller's mutex cannot be used with it). A sleeper
 * takes its bucket before it drops the caller's mutex, and a waker takes the bucket to
 * broadcast, so a wakeup issued after the sleeper checked its condition under the
 * caller's mutex cannot be lost. Every sleeper of the bucket wakes (spurious wakeups are
 * part of the contract).
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vm/vm.h"
#include "tests/support/vm_host.h"

_Thread_local int vm_host_td_cpu;
_Thread_local int vm_host_td_critnest;
uintptr_t vm_host_cpu_crit_owner[MAXCPU];
int vm_host_ncpu = 1;

void vm_host_crit_conflict(int cpu, uintptr_t other)
{
	panic("critical_enter: cpu %d already in a critical section of thread %#lx "
	    "(this thread %#lx): two threads share a CPU id", cpu, (unsigned long)other,
	    (unsigned long)vm_host_thread_id());
}

void vm_host_set_cpu(int cpu)
{
	if (cpu < 0 || cpu >= vm_host_ncpu)
		panic("vm_host_set_cpu: cpu %d out of range (%d cpus)", cpu, vm_host_ncpu);
	if (vm_host_td_critnest != 0)
		panic("vm_host_set_cpu: called inside a critical section");
	vm_host_td_cpu = cpu;
}

/* Mutexes: the fast paths are inline (vm_platform_impl.h); these are the rest. The
 * contended lock spins briefly (a holder on another CPU usually leaves within a few
 * hundred instructions), then marks the word VM_HOST_MTX_WAITERS and sleeps in
 * futex_wait until it can take the word from FREE. It takes it as WAITERS, not HELD:
 * other sleepers may remain, and its unlock must wake one (at worst a spurious wake). */
#define VM_HOST_MTX_SPINS   100

void mtx_init(struct mtx *m, const char *name)
{
	__atomic_store_n(&m->mtx_state, VM_HOST_MTX_FREE, __ATOMIC_RELAXED);
	m->mtx_owner = 0;
	m->mtx_name = name;
}

void mtx_destroy(struct mtx *m)
{
	(void)m;
	KASSERT(__atomic_load_n(&m->mtx_state, __ATOMIC_RELAXED) == VM_HOST_MTX_FREE,
	    ("mtx_destroy: %s is held", m->mtx_name));
}

void vm_host_mtx_recursed(struct mtx *m, const char *op)
{
	panic("%s: %s already held by this thread", op, m->mtx_name);
}

void vm_host_mtx_unowned(struct mtx *m)
{
	panic("mtx_unlock: %s not held by this thread", m->mtx_name);
}

static void vm_host_futex_wait(uint32_t *word, uint32_t val)
{
	/* EAGAIN (the word moved) and EINTR return to the caller's re-check; without
	 * futex(2) (some sandboxes) yielding is the slow but correct stand-in. */
	if (syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0) == -1 &&
	    errno == ENOSYS)
		sched_yield();
}

void vm_host_mtx_lock_contested(struct mtx *m)
{
	/* Without INVARIANTS the inline path does not check: a recursion would sleep
	 * forever here, so say so instead. */
	if (__atomic_load_n(&m->mtx_owner, __ATOMIC_RELAXED) == vm_host_thread_id())
		vm_host_mtx_recursed(m, "mtx_lock");
	for (int i = 0; i < VM_HOST_MTX_SPINS; i++) {
		uint32_t old = VM_HOST_MTX_FREE;
		if (__atomic_load_n(&m->mtx_state, __ATOMIC_RELAXED) == VM_HOST_MTX_FREE &&
		    __atomic_compare_exchange_n(&m->mtx_state, &old, VM_HOST_MTX_HELD, false,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		__builtin_ia32_pause();
	}
	while (__atomic_exchange_n(&m->mtx_state, VM_HOST_MTX_WAITERS, __ATOMIC_ACQUIRE) !=
	    VM_HOST_MTX_FREE)
		vm_host_futex_wait(&m->mtx_state, VM_HOST_MTX_WAITERS);
}

void vm_host_mtx_wake(struct mtx *m)
{
	syscall(SYS_futex, &m->mtx_state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

bool mtx_trylock(struct mtx *m)
{
	uint32_t old = VM_HOST_MTX_FREE;

	KASSERT(__atomic_load_n(&m->mtx_owner, __ATOMIC_RELAXED) != vm_host_thread_id(),
	    ("mtx_trylock: %s already held by this thread", m->mtx_name));
	if (!__atomic_compare_exchange_n(&m->mtx_state, &old, VM_HOST_MTX_HELD, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&m->mtx_owner, vm_host_thread_id(), __ATOMIC_RELAXED);
	return true;
}

#define VM_HOST_SLEEPQ  64

struct vm_host_sleepq {
	pthread_mutex_t sq_mtx;
	pthread_cond_t sq_cv;
};

static struct vm_host_sleepq vm_host_sleepqs[VM_HOST_SLEEPQ];
static pthread_once_t vm_host_sleepq_once = PTHREAD_ONCE_INIT;

static void vm_host_sleepq_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	for (int i = 0; i < VM_HOST_SLEEPQ; i++) {
		pthread_mutex_init(&vm_host_sleepqs[i].sq_mtx, NULL);
		pthread_cond_init(&vm_host_sleepqs[i].sq_cv, &attr);
	}
	pthread_condattr_destroy(&attr);
}

static struct vm_host_sleepq *vm_host_sleepq_of(const void *chan)
{
	uintptr_t h = (uintptr_t)chan;

	pthread_once(&vm_host_sleepq_once, vm_host_sleepq_init);
	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return &vm_host_sleepqs[(h >> 32) % VM_HOST_SLEEPQ];
}

int vm_sleep(void *chan, struct mtx *m, const char *wmesg, uint64_t timeout_ns)
{
	struct vm_host_sleepq *sq = vm_host_sleepq_of(chan);
	int error = 0;

	(void)wmesg;
	KASSERT(mtx_owned(m), ("vm_sleep: %s: %s not held", wmesg, m->mtx_name));
	KASSERT(vm_host_td_critnest == 0, ("vm_sleep: %s: in a critical section", wmesg));
	pthread_mutex_lock(&sq->sq_mtx);
	mtx_unlock(m);
	if (timeout_ns == 0) {
		pthread_cond_wait(&sq->sq_cv, &sq->sq_mtx);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + timeout_ns;
		ts.tv_sec += (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		error = pthread_cond_timedwait(&sq->sq_cv, &sq->sq_mtx, &ts);
	}
	pthread_mutex_unlock(&sq->sq_mtx);
	mtx_lock(m);
	return error == ETIMEDOUT ? -1 : 0;
}

void vm_wakeup(void *chan)
{
	struct vm_host_sleepq *sq = vm_host_sleepq_of(chan);

	pthread_mutex_lock(&sq->sq_mtx);
	pthread_cond_broadcast(&sq->sq_cv);
	pthread_mutex_unlock(&sq->sq_mtx);
}

/* The bucket may hold other channels' sleepers, so waking one could wake the wrong
 * thread: wake them all and let them re-check. */
void vm_wakeup_one(void *chan)
{
	vm_wakeup(chan);
}

uint64_t vm_nanotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "panic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	abort();
}
