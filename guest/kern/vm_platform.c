/*
 * The guest platform for the VM core: per-CPU records, mutex set-up, time, and the bulk
 * page operations through the hostcall port. Sleep, wakeup and the mutexes' slow paths
 * are the scheduler's (kern/kern_synch.c).
 */
#include "vm/vm_platform.h"

#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/kva.h"
#include "amd64/pcpu.h"
#include "amd64/tsc.h"
#include "dev/hostcall.h"
#include "kern/systm.h"
#include "kern/thread.h"

/* CPU 0's record is complete before the boot's first instruction reads it (%gs:0,
 * %gs:8: locore.S sets GS base before the kernel runs). */
struct pcpu pcpu_array[MAXCPU] = {
	[0] = { .pc_self = &pcpu_array[0], .pc_curthread = &thread0 },
};
int pcpu_count = 1;

/* ---- mutexes: kern/kern_synch.c; the rest here ------------------------------------ */

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

/* Interrupt handlers free nothing; other threads may, once there are some (the VM
 * core panics instead of sleeping for memory when nobody could free any). */
bool vm_plat_others_can_free(void)
{
	return sched_running() && sched_nthreads() > 2;        /* more than thread0, idle */
}
