/*
 * The guest platform for the VM core: mutexes, sleep/wakeup without threads, time,
 * and the bulk page operations through the hostcall port.
 *
 * Sleep without threads: sleepers are records in a sleep-queue table (vm/vm_sleepq.h:
 * a hash of channels to FIFOs, each record with its channel, woken flag and deadline),
 * so any number may wait on the same or different channels; vm_wakeup wakes all of a
 * channel's, vm_wakeup_one its oldest. Until a scheduler exists the only code that can
 * end a sleep is an interrupt handler calling vm_wakeup, or the sleep's own timeout. So
 * vm_sleep waits for either (halting between clock ticks when interrupts are on and the
 * clock runs, spinning on the TSC otherwise), and a sleep with no timeout, which nothing
 * could ever end, panics "vm_sleep: no scheduler yet".
 */
#include "vm/vm_platform.h"

#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/kva.h"
#include "amd64/pcpu.h"
#include "amd64/tsc.h"
#include "dev/hostcall.h"
#include "kern/systm.h"
#include "vm/vm_sleepq.h"

struct pcpu pcpu_array[MAXCPU];
int pcpu_count = 1;

/* ---- mutexes ------------------------------------------------------------------ */

void mtx_init(struct mtx *m, const char *name)
{
	m->mtx_lock = 0;
	m->mtx_name = name;
}

void mtx_destroy(struct mtx *m)
{
	KASSERT(m->mtx_lock == 0, ("mtx_destroy: %s is held", m->mtx_name));
	m->mtx_name = NULL;
}

void mtx_lock_contested(struct mtx *m, uint32_t self)
{
	KASSERT(m->mtx_lock != self, ("mtx_lock: recursing on %s", m->mtx_name));
	for (;;) {
		uint32_t old = 0;
		while (m->mtx_lock != 0)
			cpu_pause();
		if (__atomic_compare_exchange_n(&m->mtx_lock, &old, self, false,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
	}
}

void mtx_unlock_unowned(struct mtx *m)
{
	panic("mtx_unlock: %s not owned (lock word %u)", m->mtx_name, m->mtx_lock);
}

bool mtx_trylock(struct mtx *m)
{
	uint32_t old = 0, self = (uint32_t)pcpu_self()->pc_cpuid + 1;

	KASSERT(m->mtx_lock != self, ("mtx_trylock: recursing on %s", m->mtx_name));
	return __atomic_compare_exchange_n(&m->mtx_lock, &old, self, false, __ATOMIC_ACQUIRE,
	    __ATOMIC_RELAXED);
}

/* ---- sleep and wakeup ------------------------------------------------------------ */

/*
 * The sleepers (vm/vm_sleepq.h): a hash of channels to FIFOs of records in the
 * sleepers' frames. vmp_sleepq_lock is a spin lock taken with interrupts off, since an
 * interrupt handler's vm_wakeup takes it too. Today the only thread of control is the
 * one sleeper at most; the table is already what threads (a later issue) will sleep in.
 */
static struct vm_sleepq_table vmp_sleepq;
static uint32_t vmp_sleepq_lock;

/* => whether interrupts were enabled, for vmp_sq_unlock. */
static bool vmp_sq_lock(void)
{
	bool intr = intr_save();

	while (__atomic_exchange_n(&vmp_sleepq_lock, 1, __ATOMIC_ACQUIRE) != 0)
		cpu_pause();
	return intr;
}

static void vmp_sq_unlock(bool intr)
{
	__atomic_store_n(&vmp_sleepq_lock, 0, __ATOMIC_RELEASE);
	intr_restore(intr);
}

int vm_sleep(void *chan, struct mtx *m, const char *wmesg, uint64_t timeout_ns)
{
	struct vm_sleeper vs;
	bool f;

	mtx_assert_owned(m);
	KASSERT(chan != NULL, ("vm_sleep: no wait channel (%s)", wmesg));
	if (timeout_ns == 0)
		panic("vm_sleep: no scheduler yet: nothing could end a sleep on %s", wmesg);

	/* Mutexes leave interrupts as they were: a tick can end the wait only if they
	 * are on. */
	bool intr = intr_enabled();
	uint64_t deadline = tsc_nanotime() + timeout_ns;

	/* Linked before m is dropped: a wakeup after the caller's check under m finds it. */
	f = vmp_sq_lock();
	vm_sleepq_insert(&vmp_sleepq, &vs, chan, wmesg, deadline);
	vmp_sq_unlock(f);
	mtx_unlock(m);
	while (!vs.vs_woken && tsc_nanotime() < deadline) {
		if (intr && clock_running()) {
			disable_intr();
			if (!vs.vs_woken)
				enable_intr_and_halt();     /* until the next interrupt */
			enable_intr();
		} else {
			cpu_pause();
		}
	}
	/* Still linked: timed out (a wakeup unlinks what it wakes). */
	f = vmp_sq_lock();
	bool woken = !vm_sleepq_remove(&vmp_sleepq, &vs);
	vmp_sq_unlock(f);
	mtx_lock(m);
	return woken ? 0 : -1;
}

static void __attribute__((noinline)) vmp_wakeup_slow(void *chan, bool one)
{
	bool f = vmp_sq_lock();

	vm_sleepq_wakeup(&vmp_sleepq, chan, one);
	vmp_sq_unlock(f);
}

/* Called on every page unbusy: with nobody asleep, one load and a branch. */
void vm_wakeup(void *chan)
{
	if (__predict_false(!vm_sleepq_empty(&vmp_sleepq)))
		vmp_wakeup_slow(chan, false);
}

void vm_wakeup_one(void *chan)
{
	if (__predict_false(!vm_sleepq_empty(&vmp_sleepq)))
		vmp_wakeup_slow(chan, true);
}

/* ---- time ----------------------------------------------------------------------- */

uint64_t vm_nanotime(void)
{
	return tsc_nanotime();
}

/* ---- bulk page operations ---------------------------------------------------------- */

_Static_assert(sizeof(struct vm_page_run) == sizeof(struct hc_page_run) &&
    offsetof(struct vm_page_run, pa) == offsetof(struct hc_page_run, gpa) &&
    offsetof(struct vm_page_run, npages) == offsetof(struct hc_page_run, npages),
    "struct vm_page_run must be struct hc_page_run: the list goes to the host as is");

static struct mtx vmp_hc_lock = { .mtx_name = "hostcall page ops" };
static struct hc_req vmp_req;
/* For run lists the host cannot find by physical address (not in the kernel image or
 * the direct map): copied here first. Only touched when used. */
static struct hc_page_run vmp_list[HC_MAX_LIST];

/*
 * The page operations vmp_page_op (vm_platform_impl.h) does not do inline: the probe
 * first, no port, long lists (one exit per HC_MAX_LIST runs), lists the host cannot
 * address (copied here first). The host handles the runs in order and reports how many
 * pages it did; on the first failed request we stop, so the pages done are always a
 * prefix of the list, which the caller's store fallback relies on.
 */
uint64_t vmp_page_op_slow(uint32_t op, const struct vm_page_run *runs, unsigned nruns)
{
	uint64_t done = 0;

	if (nruns == 0 || !hc_available())
		return 0;
	uint64_t list_pa = kvtop(runs);
	mtx_lock(&vmp_hc_lock);
	for (unsigned off = 0; off < nruns;) {
		unsigned n = MIN(nruns - off, HC_MAX_LIST);
		uint64_t pa;
		if (list_pa != KVTOP_NONE) {
			pa = list_pa + (uint64_t)off * sizeof(*runs);
		} else {
			memcpy(vmp_list, &runs[off], n * sizeof(*runs));
			pa = kvtop(vmp_list);
		}
		vmp_req.op = op;
		vmp_req.status = HC_OK;
		vmp_req.count = n;
		vmp_req.list = pa;
		vmp_req.done = 0;
		uint32_t status = hc_submit(&vmp_req);
		done += vmp_req.done;
		if (status != HC_OK) {
			vmp_page_op_failed(op, status, done);
			break;
		}
		off += n;
	}
	mtx_unlock(&vmp_hc_lock);
	return done;
}

void vmp_page_op_failed(uint32_t op, uint32_t status, uint64_t done)
{
	printf("vm_plat: page op %u failed with status %u after %lu pages\n", op, status,
	    (unsigned long)done);
}

bool vm_plat_has_page_ops(void)
{
	return hc_available();
}

/* One thread of control and no scheduler: interrupt handlers free nothing, so a wait
 * for memory could never end (the VM core panics instead of sleeping). */
bool vm_plat_others_can_free(void)
{
	return false;
}
