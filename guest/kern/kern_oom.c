/*
 * Out of memory (vm/vm_platform.h's vm_plat_oom_kill): the page daemon found nothing to
 * free or clean while allocations waited. The process with the most resident pages is
 * sent SIGKILL, and its address space is emptied at once, from here: it may be the very
 * process waiting for memory in a fault, which could not exit before its own allocation
 * succeeded. Its next access to user memory then fails, and the pending SIGKILL, which
 * wins over the fault's own signal (kern_sig.c), ends it with status 137.
 */
#include "kern/ksignal.h"
#include "kern/systm.h"
#include "kern/console.h"
#include "kern/proc.h"
#include "kern/thread.h"

#include "vm/vm_vmspace.h"

struct oom_choice {
	struct proc *oc_best;           /* under proc_lock only */
	uint64_t oc_resident;
	/* Copied under the lock, used after it. */
	int oc_pid;
	char oc_comm[PROC_COMM_MAX];
	struct vmspace *oc_vmspace;     /* a reference of ours */
};

/* The largest live process not already being killed. => proc_lock held. */
static void oom_consider(struct proc *p, void *arg)
{
	struct oom_choice *oc = arg;

	if (p->p_zombie || p->p_vmspace == NULL || p->p_thread == NULL ||
	    (__atomic_load_n(&p->p_thread->td_sigpending, __ATOMIC_RELAXED) & sig_bit(SIGKILL)) != 0)
		return;
	uint64_t r = vmspace_resident_count(p->p_vmspace);
	if (oc->oc_best == NULL || r > oc->oc_resident) {
		oc->oc_best = p;
		oc->oc_resident = r;
	}
}

/* Kill the choice while it cannot go away. => proc_lock held. */
static void oom_strike(void *arg)
{
	struct oom_choice *oc = arg;
	struct proc *p = oc->oc_best;

	if (p == NULL)
		return;
	oc->oc_pid = p->p_pid;
	memcpy(oc->oc_comm, p->p_comm, sizeof(oc->oc_comm));
	vmspace_ref(p->p_vmspace);
	oc->oc_vmspace = p->p_vmspace;
	sig_post(p->p_thread, SIGKILL);
}

bool vm_plat_oom_kill(void)
{
	struct oom_choice oc = { 0 };

	proc_foreach(oom_consider, oom_strike, &oc);
	if (oc.oc_vmspace == NULL)
		return false;
	console_printf("out of memory: killed pid %d (%s), %lu resident pages\n", oc.oc_pid,
	    oc.oc_comm, (unsigned long)oc.oc_resident);
	struct vm_map *map = vmspace_map(oc.oc_vmspace);
	(void)vm_map_remove(map, vm_map_min(map), vm_map_max(map));
	vmspace_free(oc.oc_vmspace);
	return true;
}
