/*
 * The page queues the page daemon scans: inactive, active, laundry. A page is on at
 * most one queue, named by m->queue, and moves between them with the vm_page_*
 * operations in vm_page.h. Each queue has its own lock (pq_mutex); m->queue and the
 * page's links change only under the lock of the queue it leaves or joins.
 * Lock order: a queue lock is taken before the vm_phys free lock, never after.
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
