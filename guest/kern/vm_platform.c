/*
 * The guest platform for the VM core: spin mutexes, sleep/wakeup without threads, time,
 * and the bulk page operations through the paravirtual port.
 *
 * Sleep without threads: until a scheduler exists the only code that can end a sleep is
 * an interrupt handler calling vm_wakeup, or the sleep's own timeout. So vm_sleep waits
 * for either (halting between clock ticks when interrupts are on and the clock runs,
 * spinning on the TSC otherwise), and a sleep with no timeout, which nothing could ever
 * end, panics "vm_sleep: no scheduler yet".
 */
#include "vm/vm_platform.h"

#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/kva.h"
#include "amd64/pcpu.h"
#include "amd64/tsc.h"
#include "dev/pv.h"
#include "kern/systm.h"

struct pcpu pcpu_array[MAXCPU];
int pcpu_count = 1;

/* ---- mutexes ------------------------------------------------------------------ */

void mtx_init(struct mtx *m, const char *name)
{
	m->mtx_lock = 0;
	m->mtx_owner = 0;
	m->mtx_name = name;
}

void mtx_destroy(struct mtx *m)
{
	KASSERT(m->mtx_lock == 0, ("mtx_destroy: %s is held", m->mtx_name));
	m->mtx_name = NULL;
}

void mtx_lock(struct mtx *m)
{
	uint64_t rflags = read_rflags();

	disable_intr();
	struct pcpu *pc = pcpu_self();
	KASSERT(m->mtx_owner != pc->pc_cpuid + 1,
	    ("mtx_lock: recursing on %s", m->mtx_name));
	if (pc->pc_spinlocks++ == 0)
		pc->pc_spin_rflags = rflags;
	while (__atomic_exchange_n(&m->mtx_lock, 1, __ATOMIC_ACQUIRE) != 0) {
		while (m->mtx_lock != 0)
			cpu_pause();
	}
	m->mtx_owner = pc->pc_cpuid + 1;
}

void mtx_unlock(struct mtx *m)
{
	struct pcpu *pc = pcpu_self();

	KASSERT(m->mtx_owner == pc->pc_cpuid + 1,
	    ("mtx_unlock: %s not owned", m->mtx_name));
	m->mtx_owner = 0;
	__atomic_store_n(&m->mtx_lock, 0, __ATOMIC_RELEASE);
	if (--pc->pc_spinlocks == 0 && (pc->pc_spin_rflags & PSL_I) != 0)
		enable_intr();
}

bool mtx_owned(struct mtx *m)
{
	return m->mtx_lock != 0 && m->mtx_owner == pcpu_self()->pc_cpuid + 1;
}

/* ---- sleep and wakeup ------------------------------------------------------------ */

/* The one possible sleeper (one thread of control) and whether it was woken. */
static void *volatile vmp_sleep_chan;
static volatile bool vmp_sleep_woken;

int vm_sleep(void *chan, struct mtx *m, const char *wmesg, uint64_t timeout_ns)
{
	struct pcpu *pc = pcpu_self();

	mtx_assert_owned(m);
	KASSERT(chan != NULL, ("vm_sleep: no wait channel (%s)", wmesg));
	if (timeout_ns == 0)
		panic("vm_sleep: no scheduler yet: nothing could end a sleep on %s", wmesg);

	/* Interrupts will be on once m is released only if it is the last spin mutex
	 * and they were on before it. */
	bool intr = pc->pc_spinlocks == 1 && (pc->pc_spin_rflags & PSL_I) != 0;
	uint64_t deadline = tsc_nanotime() + timeout_ns;

	vmp_sleep_woken = false;
	vmp_sleep_chan = chan;
	mtx_unlock(m);
	while (!vmp_sleep_woken && tsc_nanotime() < deadline) {
		if (intr && clock_running()) {
			disable_intr();
			if (!vmp_sleep_woken)
				enable_intr_and_halt();     /* until the next interrupt */
			enable_intr();
		} else {
			cpu_pause();
		}
	}
	bool woken = vmp_sleep_woken;
	vmp_sleep_chan = NULL;
	mtx_lock(m);
	return woken ? 0 : -1;
}

void vm_wakeup(void *chan)
{
	if (chan != NULL && chan == vmp_sleep_chan)
		vmp_sleep_woken = true;
}

void vm_wakeup_one(void *chan)
{
	vm_wakeup(chan);
}

/* ---- time ----------------------------------------------------------------------- */

uint64_t vm_nanotime(void)
{
	return tsc_nanotime();
}

/* ---- bulk page operations ---------------------------------------------------------- */

_Static_assert(sizeof(struct vm_page_run) == sizeof(struct pv_page_run) &&
    offsetof(struct vm_page_run, pa) == offsetof(struct pv_page_run, gpa) &&
    offsetof(struct vm_page_run, npages) == offsetof(struct pv_page_run, npages),
    "struct vm_page_run must be struct pv_page_run: the list goes to the host as is");

static struct mtx vmp_pv_lock = { .mtx_name = "pv page ops" };
static struct pv_req vmp_req;
/* For run lists the host cannot find by physical address (not in the kernel image or
 * the direct map): copied here first. Only touched when used. */
static struct pv_page_run vmp_list[PV_MAX_LIST];

/*
 * One exit per PV_MAX_LIST runs. The host handles the runs in order and reports how
 * many pages it did; on the first failed request we stop, so the pages done are always
 * a prefix of the list, which the caller's store fallback relies on.
 */
static uint64_t vmp_page_op(enum pv_op op, const struct vm_page_run *runs, unsigned nruns)
{
	uint64_t done = 0;

	if (nruns == 0 || !pv_available())
		return 0;
	uint64_t list_pa = kvtop(runs);
	mtx_lock(&vmp_pv_lock);
	for (unsigned off = 0; off < nruns;) {
		unsigned n = MIN(nruns - off, PV_MAX_LIST);
		uint64_t pa;
		if (list_pa != KVTOP_NONE) {
			pa = list_pa + (uint64_t)off * sizeof(*runs);
		} else {
			memcpy(vmp_list, &runs[off], n * sizeof(*runs));
			pa = kvtop(vmp_list);
		}
		vmp_req.op = op;
		vmp_req.status = PV_OK;
		vmp_req.count = n;
		vmp_req.list = pa;
		vmp_req.done = 0;
		uint32_t status = pv_submit(&vmp_req);
		done += vmp_req.done;
		if (status != PV_OK) {
			printf("vm_plat: page op %d failed with status %u after %lu pages\n",
			    (int)op, status, (unsigned long)done);
			break;
		}
		off += n;
	}
	mtx_unlock(&vmp_pv_lock);
	return done;
}

uint64_t vm_plat_zero_pages(const struct vm_page_run *runs, unsigned nruns)
{
	return vmp_page_op(PV_OP_PAGE_ZERO, runs, nruns);
}

uint64_t vm_plat_discard_pages(const struct vm_page_run *runs, unsigned nruns)
{
	return vmp_page_op(PV_OP_PAGE_DISCARD, runs, nruns);
}

bool vm_plat_has_page_ops(void)
{
	return pv_available();
}
