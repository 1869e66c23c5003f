/*
 * Sleep, wakeup and the mutexes' slow paths (thread.h has the contract).
 *
 * Sleepers are records in the VM core's sleep-queue table (vm/vm_sleepq.h: a hash of
 * channels to FIFOs), one per sleeping thread, in the sleeper's frame; the table's hook
 * makes a woken or expired sleeper runnable. sleepq_spin is a spin word taken with
 * interrupts masked (an interrupt handler's wakeup takes it too): with one CPU it is
 * never contended, and it is what SMP will need.
 *
 * A sleep inserted with SLEEPQ_CATCH is also ended by a signal (thread.h): the thread's
 * td_catch names its record while it is queued, for sleepq_abort to unlink; both are
 * changed only under sleepq_spin.
 *
 * Before the scheduler runs (early boot) there is no other thread to switch to: a
 * sleep waits for an interrupt handler's wakeup or its deadline, halting between
 * interrupts, and one with no deadline that nothing could end panics.
 *
 * Mutexes (vm_platform_impl.h): the lock word holds the owner thread, bit 0 set when
 * someone sleeps for it. A contender sets that bit and sleeps on the mutex under
 * sleepq_spin; the owner's unlock, finding the bit, clears the word under sleepq_spin
 * and wakes them all (they race again; the losers set the bit again).
 */
#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/tsc.h"
#include "kern/proc.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/vm_platform.h"
#include "vm/vm_sleepq.h"

static void sleepq_hook(struct vm_sleeper *vs);

static struct vm_sleepq_table sleepq_table = { .sq_wake = sleepq_hook };
static uint32_t sleepq_spin;

void sleepq_lock(void)
{
	KASSERT(!intr_enabled(), ("sleepq_lock: interrupts enabled"));
	while (__atomic_exchange_n(&sleepq_spin, 1, __ATOMIC_ACQUIRE) != 0)
		cpu_pause();
}

void sleepq_unlock(void)
{
	__atomic_store_n(&sleepq_spin, 0, __ATOMIC_RELEASE);
}

/* A record left the table (woken, expired or aborted): its thread runs again. => the
 * lock. */
static void sleepq_hook(struct vm_sleeper *vs)
{
	struct thread *td = vs->vs_owner;

	if (td == NULL)
		return;
	/* Out of the table, the record is no longer a signal's to end: it lives in the
	 * sleeper's frame, which is gone once sleepq_block returns. */
	if (td->td_catch == vs)
		td->td_catch = NULL;
	if (td->td_state == TDS_SLEEPING)
		sched_add(td);
	/* Else it has not blocked yet: sleepq_block sees the record gone. */
}

void sleepq_insert(struct vm_sleeper *vs, void *chan, const char *wmesg,
    uint64_t timeout_ns, int flags)
{
	struct thread *td = curthread;

	KASSERT(sleepq_spin != 0, ("sleepq_insert: the sleep queues are not locked"));
	KASSERT(td->td_catch == NULL, ("sleepq_insert: thread %d sleeps twice", td->td_tid));
	vs->vs_owner = td;
	td->td_sleepintr = false;
	if ((flags & SLEEPQ_CATCH) != 0 && sig_interrupts(td)) {
		/* A signal came before the sleep: not queued, so sleepq_block returns at
		 * once. Checked under the lock after td_catch was NULL: a sender that set
		 * its bit later finds td_catch set below and aborts the sleep instead. */
		*vs = (struct vm_sleeper){ .vs_chan = chan, .vs_wmesg = wmesg, .vs_owner = td };
		td->td_sleepintr = true;
		return;
	}
	vm_sleepq_insert(&sleepq_table, vs, chan, wmesg,
	    timeout_ns == 0 ? 0 : tsc_nanotime() + timeout_ns);
	if ((flags & SLEEPQ_CATCH) != 0)
		td->td_catch = vs;
}

void sleepq_abort(struct thread *td)
{
	bool intr = intr_save();

	sleepq_lock();
	struct vm_sleeper *vs = td->td_catch;
	if (vs != NULL) {
		KASSERT(vs->vs_owner == td && vs->vs_queued,
		    ("sleepq_abort: thread %d's record is not its own or not queued", td->td_tid));
		(void)vm_sleepq_remove(&sleepq_table, vs);
		td->td_sleepintr = true;
		sleepq_hook(vs);        /* td_catch cleared, td runnable */
	}
	sleepq_unlock();
	intr_restore(intr);             /* a better thread made runnable runs now */
}

/* Before the scheduler: wait for the record to leave the table by an interrupt's
 * wakeup or by its deadline. */
static void sleepq_block_early(struct vm_sleeper *vs)
{
	if (vs->vs_deadline == 0 && !clock_running())
		panic("sleepq_block: before the scheduler, nothing could end a sleep on %s",
		    vs->vs_wmesg);
	while (vs->vs_queued) {
		if (vs->vs_deadline != 0 && tsc_nanotime() >= vs->vs_deadline) {
			sleepq_lock();
			(void)vm_sleepq_remove(&sleepq_table, vs);
			sleepq_unlock();
			break;
		}
		if (clock_running())
			enable_intr_and_halt();         /* the periodic clock wakes it */
		else
			cpu_pause();
		disable_intr();
	}
}

int sleepq_block(struct vm_sleeper *vs)
{
	struct thread *td = curthread;

	KASSERT(!intr_enabled(), ("sleepq_block: interrupts enabled"));
	if (!sched_running()) {
		KASSERT(td->td_catch == NULL, ("sleepq_block: a signal's sleep before the "
		    "scheduler"));
		sleepq_block_early(vs);
		return vs->vs_woken ? SLEEPQ_WOKEN : SLEEPQ_TIMEDOUT;
	}
	KASSERT(td != pcpu_self()->pc_idlethread, ("sleepq_block: the idle thread sleeps"));
	if (vs->vs_queued) {
		td->td_state = TDS_SLEEPING;
		td->td_wchan = vs->vs_chan;
		td->td_wmesg = vs->vs_wmesg;
		if (vs->vs_deadline != 0)
			sched_timer_update();
		sched_switch();
		td->td_wchan = NULL;
		td->td_wmesg = NULL;
	}
	KASSERT(!vs->vs_queued, ("sleepq_block: thread %d ran while queued on %s",
	    td->td_tid, vs->vs_wmesg));
	KASSERT(td->td_catch != vs, ("sleepq_block: thread %d left %s with its record "
	    "still a signal's to end", td->td_tid, vs->vs_wmesg));
	return td->td_sleepintr ? SLEEPQ_INTR : vs->vs_woken ? SLEEPQ_WOKEN :
	    SLEEPQ_TIMEDOUT;
}

unsigned sleepq_wakeup(void *chan, bool one)
{
	if (vm_sleepq_empty(&sleepq_table))
		return 0;
	bool intr = intr_save();
	sleepq_lock();
	unsigned n = vm_sleepq_wakeup(&sleepq_table, chan, one);
	sleepq_unlock();
	intr_restore(intr);             /* a better thread woken runs now */
	return n;
}

uint64_t sleepq_next_deadline(void)
{
	return vm_sleepq_next_deadline(&sleepq_table);
}

void sleepq_expire(uint64_t now)
{
	sleepq_lock();
	(void)vm_sleepq_expire(&sleepq_table, now);
	sleepq_unlock();
}

/* ---- the VM core's sleep and wakeup (vm/vm_platform.h) -------------------------- */

int msleep(void *chan, struct mtx *m, int flags, const char *wmesg, uint64_t timeout_ns)
{
	struct vm_sleeper vs;

	mtx_assert_owned(m);
	KASSERT(chan != NULL, ("msleep: no wait channel (%s)", wmesg));
	bool intr = intr_save();
	/* Queued before m is dropped: a wakeup after the caller's check under m finds it. */
	sleepq_lock();
	sleepq_insert(&vs, chan, wmesg, timeout_ns, flags);
	sleepq_unlock();
	mtx_unlock(m);
	int rv = sleepq_block(&vs);
	intr_restore(intr);
	mtx_lock(m);
	return rv;
}

/* The VM core's sleeps are never interrupted: a fault or an allocation that waits for
 * a page finishes what it started. */
int vm_sleep(void *chan, struct mtx *m, const char *wmesg, uint64_t timeout_ns)
{
	return msleep(chan, m, 0, wmesg, timeout_ns) == SLEEPQ_WOKEN ? 0 : -1;
}

/* Called on every page unbusy: with nobody asleep, one load and a branch. */
void vm_wakeup(void *chan)
{
	(void)sleepq_wakeup(chan, false);
}

void vm_wakeup_one(void *chan)
{
	(void)sleepq_wakeup(chan, true);
}

/* ---- mutexes ------------------------------------------------------------------ */

void mtx_lock_contested(struct mtx *m, uintptr_t self)
{
	struct vm_sleeper vs;

	KASSERT((m->mtx_lock & ~MTX_CONTESTED) != self, ("mtx_lock: recursing on %s",
	    m->mtx_name));
	for (;;) {
		uintptr_t v = 0;
		if (__atomic_compare_exchange_n(&m->mtx_lock, &v, self, false,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if (!sched_running()) {
			/* Only threads hold mutexes across a switch; before the scheduler
			 * there is one. */
			panic("mtx_lock: %s held by %#lx before the scheduler runs", m->mtx_name,
			    (unsigned long)v);
		}
		bool intr = intr_save();
		sleepq_lock();
		v = __atomic_load_n(&m->mtx_lock, __ATOMIC_RELAXED);
		if (v != 0 && ((v & MTX_CONTESTED) != 0 ||
		    __atomic_compare_exchange_n(&m->mtx_lock, &v, v | MTX_CONTESTED, false,
		    __ATOMIC_RELAXED, __ATOMIC_RELAXED))) {
			sleepq_insert(&vs, m, m->mtx_name, 0, 0);
			sleepq_unlock();
			/* A critical section that must wait sets its nesting aside while it
			 * sleeps: the count is the CPU's, and the CPU runs other threads
			 * meanwhile (FreeBSD keeps it per thread). The page allocator takes
			 * the buddy lists' mutex inside its per-CPU cache's section. */
			int critnest = pcpu_self()->pc_critnest;
			pcpu_self()->pc_critnest = 0;
			(void)sleepq_block(&vs);
			pcpu_self()->pc_critnest = critnest;
		} else {
			sleepq_unlock();
		}
		intr_restore(intr);
	}
}

void mtx_unlock_contested(struct mtx *m)
{
	bool intr = intr_save();

	sleepq_lock();
	__atomic_store_n(&m->mtx_lock, 0, __ATOMIC_RELEASE);
	sleepq_unlock();
	(void)sleepq_wakeup(m, false);
	intr_restore(intr);
}

void mtx_unlock_unowned(struct mtx *m)
{
	panic("mtx_unlock: %s not owned by thread %d (lock word %#lx)", m->mtx_name,
	    curthread->td_tid, (unsigned long)m->mtx_lock);
}

bool mtx_trylock(struct mtx *m)
{
	uintptr_t old = 0, self = (uintptr_t)curthread;

	KASSERT((m->mtx_lock & ~MTX_CONTESTED) != self, ("mtx_trylock: recursing on %s",
	    m->mtx_name));
	return __atomic_compare_exchange_n(&m->mtx_lock, &old, self, false, __ATOMIC_ACQUIRE,
	    __ATOMIC_RELAXED);
}
