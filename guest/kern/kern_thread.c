/*
 * Kernel threads: creation, exit, join (thread.h has the contract).
 *
 * A thread's kernel stack is KSTACK_SIZE of wired pages in the kernel map with an
 * unmapped guard page below it, so an overflow faults (and the fault names the
 * address) instead of running into the neighbour. thread0 is the boot thread on the
 * boot stack. A thread that exits is freed by someone else (its stack is in use until
 * its last switch): thread_join for a joinable one, else the next thread_create or
 * thread_reap_zombies.
 */
#include "amd64/cpufunc.h"
#include "amd64/trap.h"
#include "amd64/vmparam.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/malloc.h"
#include "vm/vm_kern.h"
#include "vm/vm_map.h"
#include "vm/vm_sleepq.h"

MALLOC_DEFINE(M_THREAD, "thread");

extern char boot_stack[];
extern void thread_tramp(void);

struct thread thread0 = {
	.td_state = TDS_RUNNING,
	.td_pri = PRI_KERN,
	.td_name = "thread0",
	.td_kstack = (uintptr_t)boot_stack,
	.td_kstack_size = KSTACK_SIZE,
};

static struct thread *thread_all = &thread0;    /* S */
static struct thread *thread_zombies;           /* S: exited, not joinable, to free */
static int thread_next_tid = 1;                 /* S */
static unsigned thread_count = 1;               /* S: made and not yet freed */

void thread_init(void)
{
	KASSERT(pcpu_self()->pc_curthread == &thread0,
	    ("thread_init: not on thread0"));
}

unsigned sched_nthreads(void)
{
	return thread_count;
}

void cpu_thread_setup(struct thread *td)
{
	/* Below the user frame a trap from user mode builds at the top (pc_kstack_top,
	 * exception.S): the thread's own frames never share those bytes. 16-aligned. */
	uint64_t *sp = (uint64_t *)(td->td_kstack + td->td_kstack_size - 8 - TF_SIZE);

	/* What cpu_switch pops (swtch.S): r15, r14, r13, r12 (= td), rbx, rbp, then the
	 * return into thread_tramp, whose call leaves the ABI's alignment for
	 * thread_start. */
	*--sp = (uint64_t)(uintptr_t)thread_tramp;
	*--sp = 0;                              /* rbp */
	*--sp = 0;                              /* rbx */
	*--sp = (uint64_t)(uintptr_t)td;        /* r12 */
	*--sp = 0;                              /* r13 */
	*--sp = 0;                              /* r14 */
	*--sp = 0;                              /* r15 */
	td->td_rsp = (uint64_t)(uintptr_t)sp;
}

/* The stack and its guard: 0, or ENOMEM (flags M_NOWAIT). */
static int thread_stack_alloc(struct thread *td, int flags)
{
	vm_offset_t base = KMEM_MIN_ADDRESS;

	if (vm_map_find(kmem_map(), NULL, 0, &base, PAGE_SIZE + KSTACK_SIZE,
	    KMEM_MAX_ADDRESS, 0, VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE,
	    0) != 0)
		return ENOMEM;
	/* Not zeroed: a stack is written before it is read, and zeroed pages would fill
	 * the pre-zeroed pool at boot for the idle thread's (a host exchange). */
	if (kmem_back(base + PAGE_SIZE, KSTACK_SIZE, flags & (M_WAITOK | M_NOWAIT)) != 0) {
		vm_map_remove(kmem_map(), base, base + PAGE_SIZE + KSTACK_SIZE);
		return ENOMEM;
	}
	td->td_kstack = base + PAGE_SIZE;
	td->td_kstack_size = KSTACK_SIZE;
	return 0;
}

static void thread_free(struct thread *td)
{
	KASSERT(td->td_state == TDS_DEAD && td != curthread && td != &thread0,
	    ("thread_free: thread %d (%s) in state %d", td->td_tid, td->td_name,
	    td->td_state));
	bool intr = intr_save();
	for (struct thread **pp = &thread_all; *pp != NULL; pp = &(*pp)->td_all_next) {
		if (*pp == td) {
			*pp = td->td_all_next;
			break;
		}
	}
	thread_count--;
	intr_restore(intr);
	kmem_unback(td->td_kstack, td->td_kstack_size);
	vm_map_remove(kmem_map(), td->td_kstack - PAGE_SIZE,
	    td->td_kstack + td->td_kstack_size);
	kfree(td, M_THREAD);
}

void thread_stack_warm(void)
{
	struct thread td;

	if (thread_stack_alloc(&td, M_WAITOK) == 0) {
		kmem_unback(td.td_kstack, td.td_kstack_size);
		vm_map_remove(kmem_map(), td.td_kstack - PAGE_SIZE,
		    td.td_kstack + td.td_kstack_size);
	}
}

void thread_reap_zombies(void)
{
	for (;;) {
		bool intr = intr_save();
		struct thread *td = thread_zombies;
		if (td != NULL)
			thread_zombies = td->td_runq_next;
		intr_restore(intr);
		if (td == NULL)
			return;
		thread_free(td);
	}
}

static void thread_setup(struct thread *td, const char *name, int pri, void (*fn)(void *),
    void *arg, bool joinable);

static struct thread *thread_alloc(const char *name, int pri, void (*fn)(void *),
    void *arg, bool joinable, int flags)
{
	struct thread *td = kmalloc(sizeof(*td), M_THREAD, (flags & (M_WAITOK | M_NOWAIT)) |
	    M_ZERO);

	if (td == NULL)
		return NULL;
	if (thread_stack_alloc(td, flags) != 0) {
		kfree(td, M_THREAD);
		return NULL;
	}
	thread_setup(td, name, pri, fn, arg, joinable);
	return td;
}

/* A made thread's fields, its first frame, its place in the list. */
static void thread_setup(struct thread *td, const char *name, int pri, void (*fn)(void *),
    void *arg, bool joinable)
{
	strlcpy(td->td_name, name, sizeof(td->td_name));
	td->td_pri = pri;
	td->td_fn = fn;
	td->td_arg = arg;
	td->td_joinable = joinable;
	td->td_state = TDS_INACTIVE;
	cpu_thread_setup(td);
	bool intr = intr_save();
	td->td_tid = thread_next_tid++;
	td->td_all_next = thread_all;
	thread_all = td;
	thread_count++;
	intr_restore(intr);
}

struct thread *thread_create(const char *name, int pri, void (*fn)(void *), void *arg,
    bool joinable, int flags)
{
	KASSERT(pri >= PRI_MIN && pri < PRI_IDLE, ("thread_create: priority %d", pri));
	KASSERT(sched_running(), ("thread_create: before sched_init"));
	thread_reap_zombies();
	struct thread *td = thread_alloc(name, pri, fn, arg, joinable, flags);
	if (td == NULL)
		return NULL;
	bool intr = intr_save();
	sched_add(td);
	intr_restore(intr);             /* a better thread runs now */
	return td;
}

struct thread *thread_alloc_proc(const char *name, int pri, void (*fn)(void *),
    struct proc *p, struct pmap *pmap)
{
	KASSERT(sched_running(), ("thread_alloc_proc: before sched_init"));
	thread_reap_zombies();
	struct thread *td = thread_alloc(name, pri, fn, p, true, M_WAITOK);
	td->td_proc = p;
	td->td_pmap = pmap;
	return td;
}

void thread_start_new(struct thread *td)
{
	KASSERT(td->td_state == TDS_INACTIVE, ("thread_start_new: thread %d started",
	    td->td_tid));
	bool intr = intr_save();
	sched_add(td);
	intr_restore(intr);
}

/* The idle thread is static, its stack in the image like the boot stack's: the boot
 * makes it with no allocation (a kernel stack from the kernel map would cost the boot
 * its first page-table pages and a pre-zeroed pool fill, ~0.3 ms here). */
static struct thread thread_idle;
static uint8_t thread_idle_stack[KSTACK_SIZE] __attribute__((aligned(16)));

struct thread *thread_create_idle(const char *name, void (*fn)(void *))
{
	struct thread *td = &thread_idle;

	td->td_kstack = (uintptr_t)thread_idle_stack;
	td->td_kstack_size = sizeof(thread_idle_stack);
	thread_setup(td, name, PRI_IDLE, fn, NULL, false);
	td->td_state = TDS_RUNQ;        /* never queued: the scheduler's last resort */
	return td;
}

void thread_start(struct thread *td)
{
	/* From sched_switch's cpu_switch: the switcher left interrupts masked. */
	KASSERT(td == curthread, ("thread_start: thread %d is not curthread", td->td_tid));
	enable_intr();
	td->td_fn(td->td_arg);
	thread_exit(0);
}

void thread_exit(int val)
{
	struct thread *td = curthread;

	KASSERT(td != &thread0 && td != pcpu_self()->pc_idlethread,
	    ("thread_exit: thread %d (%s) cannot exit", td->td_tid, td->td_name));
	disable_intr();
	td->td_exitval = val;
	td->td_state = TDS_DEAD;
	if (td->td_joinable) {
		sleepq_wakeup(td, false);
	} else {
		td->td_runq_next = thread_zombies;
		thread_zombies = td;
	}
	sched_switch();
	panic("thread_exit: thread %d ran again", td->td_tid);
}

int thread_join(struct thread *td)
{
	struct vm_sleeper vs;

	KASSERT(td->td_joinable && td != curthread, ("thread_join: thread %d (%s)",
	    td->td_tid, td->td_name));
	bool intr = intr_save();
	for (;;) {
		sleepq_lock();
		if (td->td_state == TDS_DEAD) {
			sleepq_unlock();
			break;
		}
		sleepq_insert(&vs, td, "join", 0, 0);
		sleepq_unlock();
		(void)sleepq_block(&vs);
	}
	intr_restore(intr);
	int val = td->td_exitval;
	thread_free(td);
	return val;
}

/* For the boot suite and dumps: the thread with tid, or NULL. => S held. */
struct thread *thread_find(int tid)
{
	for (struct thread *td = thread_all; td != NULL; td = td->td_all_next)
		if (td->td_tid == tid)
			return td;
	return NULL;
}
