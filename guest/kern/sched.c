/*
 * The scheduler: one run queue per CPU (one CPU today), 64 priorities, FIFO within
 * each, found through a bitmap; the idle thread when it is empty. thread.h has the
 * contract and the locking ("S": this CPU with interrupts soft-masked).
 *
 * Time: a thread that runs while another of its priority or better waits gets a slice
 * of sched_slice_ns; the event timer (amd64/clock.h, TSC deadline) is armed only for
 * that and for sleep deadlines, so a lone or idle CPU takes no timer interrupt (a tick
 * costs ~100 us here when it traps into CPL 0: PLATFORM.md).
 */
#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/tsc.h"
#include "kern/systm.h"
#include "kern/thread.h"
#include "vm/pmap.h"

#define MSR_FSBASE  0xc0000100

uint64_t sched_slice_ns = 10000000;    /* 10 ms: FreeBSD's kern.sched.slice, a tunable */

struct runq {
	uint64_t rq_bits;                       /* bit p: queue p is not empty */
	struct thread *rq_head[NRUNQ];
	struct thread **rq_tailp[NRUNQ];
};

static struct runq sched_runq;                  /* S */
static bool sched_started;                      /* S */
static uint64_t sched_switches;                 /* S */
static uint64_t sched_armed;                    /* S: the deadline the timer holds (TSC),
                                                   0 for none; never later than what is
                                                   due (sched_timer_update) */

static void runq_add(struct runq *rq, struct thread *td, bool head)
{
	int p = td->td_pri;

	if (rq->rq_head[p] == NULL) {
		rq->rq_head[p] = td;
		rq->rq_tailp[p] = &td->td_runq_next;
		td->td_runq_next = NULL;
		rq->rq_bits |= 1ull << p;
	} else if (head) {
		td->td_runq_next = rq->rq_head[p];
		rq->rq_head[p] = td;
	} else {
		td->td_runq_next = NULL;
		*rq->rq_tailp[p] = td;
		rq->rq_tailp[p] = &td->td_runq_next;
	}
}

/* The most urgent queued thread's priority, or NRUNQ when none. */
static inline int runq_best(const struct runq *rq)
{
	return rq->rq_bits == 0 ? NRUNQ : __builtin_ctzll(rq->rq_bits);
}

static struct thread *runq_take(struct runq *rq)
{
	int p = runq_best(rq);

	if (p == NRUNQ)
		return NULL;
	struct thread *td = rq->rq_head[p];
	rq->rq_head[p] = td->td_runq_next;
	if (rq->rq_head[p] == NULL)
		rq->rq_bits &= ~(1ull << p);
	td->td_runq_next = NULL;
	return td;
}

bool sched_running(void)
{
	return sched_started;
}

uint64_t sched_nswitches(void)
{
	return sched_switches;
}

void sched_add(struct thread *td)
{
	struct thread *cur = curthread;

	KASSERT(!intr_enabled(), ("sched_add: interrupts enabled"));
	KASSERT(td->td_state != TDS_RUNQ && td->td_state != TDS_DEAD && td != cur,
	    ("sched_add: thread %d (%s) in state %d", td->td_tid, td->td_name, td->td_state));
	td->td_state = TDS_RUNQ;
	runq_add(&sched_runq, td, false);
	if (td->td_pri < cur->td_pri)
		pcpu_self()->pc_owepreempt = true;
	sched_timer_update();
}

/* next's address space, FS base and FPU state, where they differ from this CPU's.
 * => S held. */
static void sched_switch_user(struct thread *next)
{
	struct pcpu *pc = pcpu_self();

	__asm__ volatile("fxrstor %0" : : "m"(next->td_fpu));
	pmap_activate(next->td_pmap);
	if (pc->pc_fsbase != next->td_fsbase) {
		pc->pc_fsbase = next->td_fsbase;
		wrmsr(MSR_FSBASE, next->td_fsbase);
	}
}

void sched_switch(void)
{
	struct pcpu *pc = pcpu_self();
	struct thread *cur = pc->pc_curthread, *next;

	KASSERT(!intr_enabled(), ("sched_switch: interrupts enabled"));
	KASSERT(pc->pc_critnest == 0, ("sched_switch: in a critical section (%d)",
	    pc->pc_critnest));
	KASSERT(cur->td_state != TDS_RUNNING || cur == pc->pc_idlethread,
	    ("sched_switch: thread %d (%s) still running", cur->td_tid, cur->td_name));
	pc->pc_owepreempt = false;
	next = runq_take(&sched_runq);
	if (next == NULL)
		next = pc->pc_idlethread;
	if (next == cur) {
		cur->td_state = TDS_RUNNING;
		sched_timer_update();
		return;
	}
	if (cur->td_pmap != NULL)
		__asm__ volatile("fxsave %0" : "=m"(cur->td_fpu));
	pmap_flush_deferred();          /* cur's, before anyone else walks its tables */
	uint64_t now = rdtsc();
	cur->td_runtime += now - cur->td_switchin;
	next->td_switchin = now;
	next->td_state = TDS_RUNNING;
	next->td_slice_end = rdtsc() + tsc_ns_to_ticks(sched_slice_ns);
	next->td_switches++;
	sched_switches++;
	pc->pc_curthread = next;
	/* Where a trap from user mode lands: 8 below the stack's 16-byte top, so that the
	 * user frame built there leaves %rsp aligned for C (exception.S). */
	pc->pc_kstack_top = next->td_kstack + next->td_kstack_size - 8;
	/* A process's thread runs on its own address space; kernel threads on whichever
	 * is loaded (they use only the kernel half, which every root shares). */
	if (next->td_pmap != NULL)
		sched_switch_user(next);
	sched_timer_update();
	cpu_switch(cur, next);
	/* cur runs again: whoever switched to it left S held. */
}

void sched_preempt(void)
{
	struct pcpu *pc = pcpu_self();
	struct thread *cur = pc->pc_curthread;

	KASSERT(!intr_enabled(), ("sched_preempt: interrupts enabled"));
	if (!pc->pc_owepreempt || pc->pc_critnest != 0 || !sched_started)
		return;
	pc->pc_owepreempt = false;
	if (cur == pc->pc_idlethread) {
		if (sched_runq.rq_bits != 0)
			sched_switch();
		return;
	}
	/* A better thread came: cur goes back first in its queue; a slice that ended: last. */
	bool expired = rdtsc() >= cur->td_slice_end;
	cur->td_state = TDS_RUNQ;
	runq_add(&sched_runq, cur, !expired);
	sched_switch();
}

void thread_yield(void)
{
	bool intr = intr_save();
	struct thread *cur = curthread;

	if (runq_best(&sched_runq) <= cur->td_pri) {
		cur->td_state = TDS_RUNQ;
		runq_add(&sched_runq, cur, false);
		sched_switch();
	}
	intr_restore(intr);
}

void sched_clock(void)
{
	struct pcpu *pc = pcpu_self();
	struct thread *cur = pc->pc_curthread;

	KASSERT(!intr_enabled(), ("sched_clock: interrupts enabled"));
	sched_armed = 0;                /* one-shot: it fired */
	sleepq_expire(tsc_nanotime());
	if (cur != pc->pc_idlethread && runq_best(&sched_runq) <= cur->td_pri &&
	    rdtsc() >= cur->td_slice_end)
		pc->pc_owepreempt = true;
	sched_timer_update();
}

void sched_timer_update(void)
{
	struct pcpu *pc = pcpu_self();
	struct thread *cur = pc->pc_curthread;
	uint64_t when = 0, ns = sleepq_next_deadline();

	if (!sched_started)
		return;
	if (ns != 0)
		when = tsc_nanotime_to_tsc(ns);
	/* The slice's end, unless the switch it would ask for is owed already (held back
	 * by a critical section): re-armed in the past, the timer would fire again at
	 * every return and starve the section it waits for. */
	if (cur != pc->pc_idlethread && !pc->pc_owepreempt &&
	    runq_best(&sched_runq) <= cur->td_pri &&
	    (when == 0 || cur->td_slice_end < when))
		when = cur->td_slice_end;
	/* Only an earlier deadline is armed. A later one, or none, leaves the armed one to
	 * fire early, once: sched_clock then finds nothing due and arms what is. Arming is
	 * a WRMSR, which in this deprivileged kernel is a trap into CPL 0 (~25 us on
	 * kvm_pvm), and every switch moves the slice's end: it used to cost a switch one
	 * or two of them; an early firing costs about as much, once a slice. */
	if (when == sched_armed || (sched_armed != 0 && (when == 0 || when > sched_armed)))
		return;
	sched_armed = when;
	clock_set_deadline(when);
}

/* The idle thread: halt until an interrupt makes something runnable. */
static void sched_idle(void *arg)
{
	(void)arg;
	for (;;) {
		disable_intr();
		if (sched_runq.rq_bits == 0)
			enable_intr_and_halt();         /* runs what woke it, unmasked */
		else
			enable_intr();
		disable_intr();
		if (sched_runq.rq_bits != 0)
			sched_switch();
		enable_intr();
	}
}

void sched_init(void)
{
	struct pcpu *pc = pcpu_self();

	if (sched_started)
		return;
	thread_init();
	pc->pc_idlethread = thread_create_idle("idle", sched_idle);
	disable_intr();
	sched_started = true;
	/* The boot ran masked (trap.c); from here interrupts and preemption are on. */
	enable_intr();
}
