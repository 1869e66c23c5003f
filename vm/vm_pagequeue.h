/*
 * The page queues the page daemon scans: inactive, active, laundry. A page is on at
 * most one queue, named by m->queue, and moves between them with the vm_page_*
 * operations in vm_page.h. Each queue has its own lock (pq_mutex); m->queue and the
 * page's links change only under the lock of the queue it leaves or joins.
 * Lock order: a CPU's page cache flag (pc_busy, vm/vm_page_int.h), then a queue lock
 * (two in index order: only moving a page between queues takes two), then the vm_phys
 * free lock.
 *
 * New pages of anonymous objects (vm_page_alloc) join the active queue through a batch
 * of their CPU's: one queue lock per VM_PQBATCH_SIZE pages instead of one per page (a
 * zero-fill fault is a few hundred instructions; a lock round trip and a list insert
 * per page were a sixth of it). The batch lives in the CPU's page cache (struct
 * vm_page_pcpu) and is guarded by its flag: vm_page_alloc takes the page, inserts it
 * into its object and adds it to the batch inside the one critical section and flag
 * hold it takes the page in (a batch of its own cost a second flag and critical
 * section: fault.zero.insn 331.6 so, 316.0 here, 289.6 without queueing). A page joins the
 * batch only once it is in its object, so a flush never puts on a queue a page whose
 * object is not yet set. A page in a batch is pending: its queue field already says
 * PQ_ACTIVE, its pl_next is still NULL (its pl_prev chains the batch), and pq_cnt does
 * not count it yet. Whoever locks the queue of a pending page (to move it, free it)
 * first flushes the batches, and the scans flush them before they walk the queue, so
 * nobody but the batch ever sees a pending page as anything but queued.
 */
#ifndef VM_VM_PAGEQUEUE_H
#define VM_VM_PAGEQUEUE_H

#include "vm/vm_page.h"

struct vm_pagequeue {
	struct mtx pq_mutex;
	struct vm_plinks pq_pl;     /* pq_mutex: circular list, pq_pl is the sentinel */
	uint64_t pq_cnt;            /* pq_mutex (read racily): pages on the queue */
	const char *pq_name;
};

/* Indexed by PQ_*; [PQ_NONE] is unused. */
extern struct vm_pagequeue vm_pagequeues[PQ_COUNT];

/* New pages a CPU's batch holds before it is flushed. */
#define VM_PQBATCH_SIZE 32

/* Every CPU's batch into the active queue. => no queue lock held. */
void vm_pqbatch_flush_all(void);
/* Pages pending in batches (racy). */
uint64_t vm_pqbatch_pending(void);
/*
 * m, a page new in its object that nobody else can reach yet (its object is locked by
 * the caller, and no mapping of it exists), joins the active queue: pending in this
 * CPU's batch, or at once when the batch is in use. vm_page_alloc's own fast path
 * batches its page without this call (vm_page_pcpu_qadd).
 */
void vm_page_enqueue_new(vm_page_t m);

/* Host re-boots (vm_startup_reset): empty queues again. A fresh kernel finds them so
 * already (static initialisers), so boot does nothing for them. */
void vm_pagequeue_reset(void);
static inline void vm_pagequeue_lock(struct vm_pagequeue *pq) { mtx_lock(&pq->pq_mutex); }
static inline void vm_pagequeue_unlock(struct vm_pagequeue *pq) { mtx_unlock(&pq->pq_mutex); }
/* First page of the queue or NULL; next page after m or NULL (scans' markers, PG_MARKER,
 * are passed over). => pq locked. */
vm_page_t vm_pagequeue_first(struct vm_pagequeue *pq);
vm_page_t vm_pagequeue_next(struct vm_pagequeue *pq, vm_page_t m);
/* Take m, which is on pq, off it. => pq locked. */
void vm_pagequeue_remove(struct vm_pagequeue *pq, vm_page_t m);

#endif /* VM_VM_PAGEQUEUE_H */
