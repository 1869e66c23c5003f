/*
 * vm_pageout: the page daemon and the laundry (docs/vm-core.md, "Page daemon and
 * laundry").
 *
 * The daemon keeps free memory between free_min and free_target: it ages the active
 * queue down into the inactive queue, frees the clean pages of the inactive queue,
 * sends its dirty pages to the laundry queue, and when nothing can be freed or cleaned
 * while allocations wait, asks the platform to kill a process (vm_plat_oom_kill). The
 * laundry writes laundry-queue pages through their pager (vm/vm_pager.h), clustered.
 *
 * Every pass is a function of its own, callable one at a time (host tests drive them
 * so); the two threads (guest/kern/vm_daemons.c) are thin loops around
 * vm_pageout_daemon_pass and vm_pageout_laundry_pass.
 *
 * Lock order: an object's lock before a page queue's (vm_page_free_obj dequeues under
 * the object's lock), so a scan holding a queue lock only trylocks objects. A page on a
 * queue whose object field is not NULL is in that object, and the object is alive: its
 * object changes only while it is on no queue (vm_page_obj.c), and leaving a queue
 * takes the queue's lock.
 *
 * Locking: targets are written at boot (vm_pageout_startup) or by a test
 * (vm_pageout_set_targets) and read racily; counters are atomic; the daemon's own
 * state (D) belongs to whoever runs the daemon pass (one thread).
 */
#ifndef VM_VM_PAGEOUT_H
#define VM_VM_PAGEOUT_H

#include "vm/vm_page.h"

/* Pages gathered into one putpages at most (FreeBSD's vm_pageout_page_count). */
#define VM_PAGEOUT_CLUSTER      32
/* Futile daemon passes in a row, short of memory, before a process is killed (and
 * they must span the OOM delay, half a second unless a test sets it). */
#define VM_PAGEOUT_OOM_PASSES   3

struct vm_pageout_targets {
	uint64_t free_min;          /* below it allocations are short: a pass now */
	uint64_t free_target;       /* a pass frees up to here */
	uint64_t inactive_target;   /* the active scan keeps this many pages inactive */
};

/* Boot (vm_page_startup): the targets from the number of managed pages and the NORMAL
 * class's reserve. */
void vm_pageout_startup(uint64_t npages, uint64_t free_reserved);
/* Host re-boots (vm_startup_reset): counters and state back to zero. */
void vm_pageout_reset(void);
/* The targets for npages pages of RAM (the formulas: vm_pageout.c). */
void vm_pageout_targets_for(uint64_t npages, uint64_t free_reserved,
    struct vm_pageout_targets *out);
void vm_pageout_get_targets(struct vm_pageout_targets *out);
/* free_target alone, for the allocator's check when it refills a cache (racy). */
uint64_t vm_pageout_free_target(void);
/* Tests: other targets (each at least the one before it). */
void vm_pageout_set_targets(const struct vm_pageout_targets *t);
/* Tests: how long futile passes must go on before a kill (vm_pageout.c). */
void vm_pageout_set_oom_delay(uint64_t ns);

/*
 * One inactive-queue scan: look at up to max pages from the head; referenced pages go
 * back to the active queue, clean ones (a copy in their pager, nothing modified) are
 * unmapped and freed, dirty ones go to the laundry queue, or back to the active queue
 * when their pager cannot take them (no swap). Stops when target pages were freed.
 * => no locks held. The number of pages freed.
 */
uint64_t vm_pageout_scan_inactive(uint64_t target, uint64_t max);
/*
 * One active-queue scan: look at up to max pages from the head; referenced ones go to
 * the tail again, the others to the inactive queue, until target were deactivated.
 * => no locks held. The number of pages deactivated.
 */
uint64_t vm_pageout_scan_active(uint64_t target, uint64_t max);
/*
 * One laundry pass: up to target pages of the laundry queue (looking at up to max) are
 * handed to their pager in clustered runs of consecutive dirty pages of one object,
 * each run after vm_pager.h's putpages contract. Pages whose pager is missing (no swap)
 * or refuses (VM_PAGER_AGAIN: no swap space) go back to the active queue, dirty, so
 * that no pass looks at them again at once; a refusal ends the pass.
 * => no locks held. The number of pages the pager took (OK or PEND).
 */
uint64_t vm_pageout_launder(uint64_t target, uint64_t max);

/*
 * The end of a successful laundry write (VM_PAGER_PUT_RECLAIM): ma[0..n), clean pages
 * of obj still busied by the laundry. While memory is short (below free_target) each
 * one nobody used or mapped since it was sent is freed at once: an allocation that
 * waits gets it now, not after the daemon's next pass. The others are unbusied and
 * stay on their queue. ma is the callee's scratch (vm_page_free_obj_pages). => obj
 * locked.
 */
void vm_pageout_written(struct vm_object *obj, vm_page_t *ma, int n);

/*
 * One pass of the daemon as its thread runs it: low-memory handlers when below
 * free_min, the inactive scan up to free_target, the active scan up to
 * inactive_target, the laundry woken for what it was given, and the out-of-memory
 * judgement: VM_PAGEOUT_OOM_PASSES passes in a row below free_min, over the OOM delay,
 * that freed nothing and gave the laundry nothing, while it cleaned nothing either,
 * kill a process. A pass nobody asked for with shortage that achieved nothing is not
 * repeated for 100 ms (calls meanwhile return at once).
 * => no locks held; true when another pass soon could do more (the caller runs it
 * instead of sleeping).
 */
bool vm_pageout_daemon_pass(void);
/* One pass of the laundry thread: as much as the daemon asked for. => true when there
 * is more it could do now. */
bool vm_pageout_laundry_pass(void);

/*
 * Wake the daemon: from the allocator when free memory fell below free_target (a
 * background pass) and, with shortage, when a request failed or is about to sleep.
 * Cheap when it is awake already. => any context but an interrupt handler.
 */
void vm_pageout_wakeup(bool shortage);
/* The threads' sleeps: until woken, or timeout_ns. */
void vm_pageout_daemon_wait(uint64_t timeout_ns);
void vm_pageout_laundry_wait(uint64_t timeout_ns);

/* Counters since boot (also in struct vm_page_counts). */
struct vm_pageout_stats {
	uint64_t ps_passes;         /* daemon passes */
	uint64_t ps_scanned;        /* pages looked at by the scans and the laundry */
	uint64_t ps_reactivated;    /* inactive or laundry -> active: referenced */
	uint64_t ps_deactivated;    /* active -> inactive */
	uint64_t ps_freed;          /* clean pages freed by the inactive scan */
	uint64_t ps_to_laundry;     /* dirty pages moved to the laundry queue */
	uint64_t ps_laundered;      /* pages the pager took (OK or PEND) */
	uint64_t ps_unlaunderable;  /* dirty pages with no pager to take them, or refused */
	uint64_t ps_oom_kills;      /* processes killed for want of memory */
};
void vm_pageout_stats(struct vm_pageout_stats *out);

#endif /* VM_VM_PAGEOUT_H */
