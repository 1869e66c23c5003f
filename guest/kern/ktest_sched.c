/*
 * Suite "sched": kernel threads, the run queue, sleep and wakeup, thread-owned mutexes,
 * preemption by priority and by time slice (kern/thread.h). The tests run on thread0.
 */
#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/trap.h"
#include "amd64/tsc.h"
#include "kern/ktest.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/vm_kern.h"
#include "vm/vm_platform.h"

#define KS_LOG_MAX  64

static struct {
	int log[KS_LOG_MAX];
	int nlog;
} ks;

static void ks_note(int v)
{
	bool intr = intr_save();
	if (ks.nlog < KS_LOG_MAX)
		ks.log[ks.nlog++] = v;
	intr_restore(intr);
}

static void ks_reset(void)
{
	memset(&ks, 0, sizeof(ks));
}

KTEST(sched, pcpu_through_gs)
{
	KT_ASSERT(sched_running());
	KT_ASSERT(pcpu_self() == &pcpu_array[0]);
	KT_ASSERT(pcpu_self()->pc_self == &pcpu_array[0]);
	KT_ASSERT(curthread == &thread0);
	KT_ASSERT(pcpu_self()->pc_idlethread != NULL);
	KT_ASSERT_EQ(pcpu_self()->pc_idlethread->td_pri, PRI_IDLE);
}

static void ks_return_arg(void *arg)
{
	ks_note((int)(uintptr_t)arg);
	thread_exit((int)(uintptr_t)arg + 1);
}

/* A joinable thread runs, exits with a value, and leaves nothing behind. */
KTEST(sched, create_join_free)
{
	uint64_t kp0 = kmem_pages();
	unsigned n0 = sched_nthreads();

	ks_reset();
	struct thread *td = thread_create("ks-join", PRI_KERN, ks_return_arg,
	    (void *)(uintptr_t)41, true, M_WAITOK);
	KT_ASSERT(td != NULL);
	KT_ASSERT_EQ(sched_nthreads(), n0 + 1);
	KT_ASSERT(kmem_pages() > kp0);                  /* its stack */
	KT_ASSERT_EQ(thread_join(td), 42);
	KT_ASSERT_EQ(ks.nlog, 1);
	KT_ASSERT_EQ(ks.log[0], 41);
	KT_ASSERT_EQ(sched_nthreads(), n0);
	KT_ASSERT_EQ(kmem_pages(), kp0);
}

/* A thread of better priority runs at once: before thread_create returns. */
KTEST(sched, better_priority_runs_first)
{
	ks_reset();
	struct thread *td = thread_create("ks-urgent", PRI_KERN - 4, ks_return_arg,
	    (void *)(uintptr_t)7, true, M_WAITOK);
	ks_note(100);
	KT_ASSERT_EQ(thread_join(td), 8);
	KT_ASSERT_EQ(ks.nlog, 2);
	KT_ASSERT_EQ(ks.log[0], 7);
	KT_ASSERT_EQ(ks.log[1], 100);
}

static void ks_yielder(void *arg)
{
	for (int i = 0; i < 3; i++) {
		ks_note((int)(uintptr_t)arg);
		thread_yield();
	}
}

/* Equal priorities take turns at each yield, in the order they queued. Slices are made
 * long for it: a host that stalls this vCPU for 10 ms would otherwise end one between a
 * note and its yield, which is right but not this test's order. */
KTEST(sched, yield_round_robin)
{
	struct thread *td[3];
	uint64_t slice = sched_slice_ns;

	ks_reset();
	sched_slice_ns = 100000000000ull;
	for (int i = 0; i < 3; i++)
		td[i] = thread_create("ks-yield", PRI_KERN + 1, ks_yielder,
		    (void *)(uintptr_t)(i + 1), true, M_WAITOK);
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(thread_join(td[i]), 0);
	sched_slice_ns = slice;
	KT_ASSERT_EQ(ks.nlog, 9);
	for (int i = 0; i < 9; i++)
		KT_ASSERT_MSG(ks.log[i] == i % 3 + 1, "turn %d went to %d", i, ks.log[i]);
}

/* Switches do not re-arm the timer: each move of the slice's end is later than the
 * deadline armed already (sched_timer_update arms only earlier ones; arming is a trap
 * into CPL 0 here). 200 switches between two yielding threads arm it a few times at
 * most: once for the first slice, then once each time that one fires early. */
static void ks_yield_many(void *arg)
{
	for (int i = 0; i < 100; i++)
		thread_yield();
	(void)arg;
}

KTEST(sched, switches_leave_the_timer)
{
	struct thread *td[2];
	uint64_t sw0 = sched_nswitches(), arms0 = clock_narms();

	for (int i = 0; i < 2; i++)
		td[i] = thread_create("ks-yield", PRI_KERN + 1, ks_yield_many, NULL, true,
		    M_WAITOK);
	for (int i = 0; i < 2; i++)
		KT_ASSERT_EQ(thread_join(td[i]), 0);
	uint64_t sw = sched_nswitches() - sw0, arms = clock_narms() - arms0;
	ktest_log("sched: %lu switches armed the timer %lu times\n", (unsigned long)sw,
	    (unsigned long)arms);
	KT_ASSERT(sw >= 200);
	KT_ASSERT_MSG(arms <= 8, "%lu arms for %lu switches", (unsigned long)arms,
	    (unsigned long)sw);
}

/* ---- sleep and wakeup ------------------------------------------------------------ */

static struct mtx ks_mtx = { .mtx_name = "ks" };
static int ks_cond;

static void ks_sleeper(void *arg)
{
	mtx_lock(&ks_mtx);
	while (ks_cond == 0)
		(void)vm_sleep(&ks_cond, &ks_mtx, "ks-cond", 0);
	ks_cond--;
	mtx_unlock(&ks_mtx);
	ks_note((int)(uintptr_t)arg);
}

/* Three sleepers on one channel: wakeup_one wakes the oldest only; wakeup the rest.
 * Long slices, as in yield_round_robin: the order is the wakeups', not a stalled host's. */
KTEST(sched, sleep_wakeup_one_fifo)
{
	struct thread *td[3];
	uint64_t slice = sched_slice_ns;

	ks_reset();
	sched_slice_ns = 100000000000ull;
	ks_cond = 0;
	for (int i = 0; i < 3; i++)
		td[i] = thread_create("ks-sleep", PRI_KERN - 1, ks_sleeper,
		    (void *)(uintptr_t)(i + 1), true, M_WAITOK);
	/* Better priority: each ran at its creation and is asleep now. */
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(td[i]->td_state, TDS_SLEEPING);
	KT_ASSERT_EQ(ks.nlog, 0);
	mtx_lock(&ks_mtx);
	ks_cond = 1;
	vm_wakeup_one(&ks_cond);
	mtx_unlock(&ks_mtx);            /* the woken one runs now (better priority) */
	KT_ASSERT_EQ(ks.nlog, 1);
	KT_ASSERT_EQ(ks.log[0], 1);
	KT_ASSERT_EQ(td[1]->td_state, TDS_SLEEPING);
	KT_ASSERT_EQ(td[2]->td_state, TDS_SLEEPING);
	mtx_lock(&ks_mtx);
	ks_cond = 2;
	vm_wakeup(&ks_cond);
	mtx_unlock(&ks_mtx);
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(thread_join(td[i]), 0);
	sched_slice_ns = slice;
	KT_ASSERT_EQ(ks.nlog, 3);
	KT_ASSERT_EQ(ks.log[1], 2);
	KT_ASSERT_EQ(ks.log[2], 3);
	KT_ASSERT_EQ(ks_cond, 0);
}

/* A sleep with nobody to wake it ends at its deadline: the idle thread halted in
 * between and the event timer brought it back. */
KTEST(sched, sleep_timeout)
{
	uint64_t ev0 = clock_nevents(), t0 = tsc_nanotime();
	int chan;

	mtx_lock(&ks_mtx);
	int rv = vm_sleep(&chan, &ks_mtx, "ks-timeout", 20000000);
	mtx_unlock(&ks_mtx);
	uint64_t dt = tsc_nanotime() - t0;
	KT_ASSERT_EQ(rv, -1);
	KT_ASSERT_MSG(dt >= 20000000 && dt < 200000000, "a 20 ms sleep took %lu ns",
	    (unsigned long)dt);
	KT_ASSERT(clock_nevents() > ev0);
	KT_ASSERT_EQ(curthread->td_wchan, NULL);
}

/* ---- mutexes ------------------------------------------------------------------ */

static struct mtx ks_count_mtx = { .mtx_name = "ks-count" };
static volatile int ks_count;

static void ks_incrementer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		mtx_lock(&ks_count_mtx);
		int v = ks_count;
		if (i % 10 == 0)
			thread_yield();         /* holding it: the others must sleep for it */
		ks_count = v + 1;
		mtx_unlock(&ks_count_mtx);
	}
}

/* Four threads increment one counter under a mutex, yielding while they hold it: no
 * increment is lost, the holders sleep and are woken, the mutex ends free. */
KTEST(sched, mutex_contention)
{
	struct thread *td[4];
	uint64_t sw0 = sched_nswitches();

	ks_count = 0;
	for (int i = 0; i < 4; i++)
		td[i] = thread_create("ks-mtx", PRI_KERN + 1, ks_incrementer, NULL, true,
		    M_WAITOK);
	for (int i = 0; i < 4; i++)
		KT_ASSERT_EQ(thread_join(td[i]), 0);
	KT_ASSERT_EQ(ks_count, 800);
	KT_ASSERT_EQ(ks_count_mtx.mtx_lock, 0u);
	KT_ASSERT(sched_nswitches() - sw0 >= 80);
	mtx_lock(&ks_count_mtx);
	KT_ASSERT(mtx_owned(&ks_count_mtx));
	KT_ASSERT_EQ(ks_count_mtx.mtx_lock, (uintptr_t)curthread);
	mtx_unlock(&ks_count_mtx);
}

/* ---- preemption ---------------------------------------------------------------- */

struct ks_spin {
	uint64_t until;                 /* TSC */
	uint64_t first, last;           /* TSC of its first and last iteration */
	uint64_t loops;
};

static void ks_spinner(void *arg)
{
	struct ks_spin *s = arg;

	s->first = rdtsc();
	while ((s->last = rdtsc()) < s->until)
		s->loops++;
}

/* Two threads that never yield share the CPU: the event timer ends each slice (10 ms),
 * so over 80 ms their runs interleave. */
KTEST(sched, timeslice_preempts)
{
	static struct ks_spin s[2];
	struct thread *td[2];
	uint64_t sw0 = sched_nswitches();

	uint64_t until = rdtsc() + tsc_ns_to_ticks(80000000);
	for (int i = 0; i < 2; i++) {
		s[i] = (struct ks_spin){ .until = until };
		td[i] = thread_create("ks-spin", PRI_KERN + 2, ks_spinner, &s[i], true,
		    M_WAITOK);
	}
	for (int i = 0; i < 2; i++)
		KT_ASSERT_EQ(thread_join(td[i]), 0);
	KT_ASSERT(s[0].loops > 0 && s[1].loops > 0);
	/* Interleaved: the second started before the first finished, and both ran to the
	 * common deadline. */
	KT_ASSERT_MSG(s[1].first < s[0].last, "the second spinner started only after the "
	    "first ended: no time slices");
	KT_ASSERT(s[0].last >= until && s[1].last >= until);
	KT_ASSERT(sched_nswitches() - sw0 >= 6);
}

static void ks_urgent(void *arg)
{
	(void)arg;
	ks_note(2);
}

/* A better thread made runnable inside a critical section runs at its end, not
 * before. */
KTEST(sched, critical_section_defers_preemption)
{
	ks_reset();
	critical_enter();
	struct thread *td = thread_create("ks-crit", PRI_KERN - 2, ks_urgent, NULL, true,
	    M_WAITOK);
	ks_note(1);
	KT_ASSERT(pcpu_self()->pc_owepreempt);
	critical_exit();
	ks_note(3);
	KT_ASSERT_EQ(thread_join(td), 0);
	KT_ASSERT_EQ(ks.nlog, 3);
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(ks.log[i], i + 1);
}

static struct mtx ks_crit_mtx = { .mtx_name = "ks-crit" };

/* In a critical section, takes a mutex thread0 holds: it must wait for it. */
static void ks_crit_locker(void *arg)
{
	(void)arg;
	critical_enter();
	ks_note(2);
	mtx_lock(&ks_crit_mtx);
	ks_note(4);
	KT_ASSERT_EQ(pcpu_self()->pc_critnest, 1);
	mtx_unlock(&ks_crit_mtx);
	critical_exit();
}

/* A thread that waits for a mutex inside a critical section (the page allocator takes
 * the buddy lists' mutex so, from the laundry's completion and a fault at once) sleeps
 * with its nesting set aside: the CPU runs others outside any critical section, and the
 * waiter has its nesting back when it gets the mutex. */
KTEST(sched, mutex_wait_in_critical_section)
{
	ks_reset();
	mtx_lock(&ks_crit_mtx);
	ks_note(1);
	struct thread *td = thread_create("ks-critmtx", PRI_KERN - 2, ks_crit_locker, NULL,
	    true, M_WAITOK);
	/* It ran (better priority) and waits for the mutex. */
	ks_note(3);
	KT_ASSERT_EQ(pcpu_self()->pc_critnest, 0);
	mtx_unlock(&ks_crit_mtx);
	KT_ASSERT_EQ(thread_join(td), 0);
	KT_ASSERT_EQ(pcpu_self()->pc_critnest, 0);
	KT_ASSERT_EQ(ks.nlog, 4);
	for (int i = 0; i < 4; i++)
		KT_ASSERT_EQ(ks.log[i], i + 1);
}

static void ks_park(void *arg)
{
	struct mtx *m = arg;

	mtx_lock(m);
	mtx_unlock(m);
}

/* Below each kernel stack is an unmapped guard page. */
KTEST(sched, kstack_guard)
{
	static struct mtx park = { .mtx_name = "ks-park" };
	struct trap_record rec;
	uint64_t v = 0;

	mtx_lock(&park);
	struct thread *td = thread_create("ks-guard", PRI_KERN - 1, ks_park, &park, true,
	    M_WAITOK);
	KT_ASSERT_EQ(td->td_state, TDS_SLEEPING);       /* waits for park */
	uintptr_t below = td->td_kstack - 8;
	trap_expect(T_PF);
	__asm__ volatile(TRAP_FIXUP("movq (%1), %0") : "+r"(v) : "r"(below) : "memory");
	KT_ASSERT(trap_expect_done(&rec));
	KT_ASSERT_EQ(rec.tr_cr2, below);
	/* The stack itself is there. */
	KT_ASSERT_EQ(*(volatile uint64_t *)td->td_kstack, 0u);
	mtx_unlock(&park);
	KT_ASSERT_EQ(thread_join(td), 0);
}
