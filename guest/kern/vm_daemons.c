/*
 * The page daemon and the laundry as kernel threads: thin loops around the passes of
 * vm/vm_pageout.c, which does all the work (host tests call the passes directly).
 */
#include "kern/systm.h"
#include "kern/thread.h"
#include "kern/vm_boot.h"

#include "vm/vm_pageout.h"

/* While memory stays short, the daemon looks again this soon even if nobody asks
 * (allocations that wait ask every time they retry, vm_page.c). */
#define VM_DAEMON_RETRY_NS      10000000ull     /* 10 ms */

static bool vm_daemons_started;

static void vm_pagedaemon_main(void *arg)
{
	bool more = false;

	(void)arg;
	for (;;) {
		vm_pageout_daemon_wait(more ? VM_DAEMON_RETRY_NS : 0);
		more = vm_pageout_daemon_pass();
	}
}

static void vm_laundry_main(void *arg)
{
	bool more = false;

	(void)arg;
	for (;;) {
		if (!more)
			vm_pageout_laundry_wait(0);
		more = vm_pageout_laundry_pass();
	}
}

void vm_daemons_report(void)
{
	struct vm_pageout_stats s;

	vm_pageout_stats(&s);
	printf("vm_pageout: passes=%lu scanned=%lu reactivated=%lu deactivated=%lu "
	    "freed=%lu to_laundry=%lu laundered=%lu unlaunderable=%lu oom_kills=%lu\n",
	    (unsigned long)s.ps_passes, (unsigned long)s.ps_scanned,
	    (unsigned long)s.ps_reactivated, (unsigned long)s.ps_deactivated,
	    (unsigned long)s.ps_freed, (unsigned long)s.ps_to_laundry,
	    (unsigned long)s.ps_laundered, (unsigned long)s.ps_unlaunderable,
	    (unsigned long)s.ps_oom_kills);
}

void vm_daemons_start(void)
{
	if (vm_daemons_started)
		return;
	vm_daemons_started = true;
	/* Above user threads: a program that allocates must not starve the threads that
	 * make its memory. */
	(void)thread_create("pagedaemon", PRI_KERN, vm_pagedaemon_main, NULL, false,
	    M_WAITOK);
	(void)thread_create("laundry", PRI_KERN, vm_laundry_main, NULL, false, M_WAITOK);
}
