/*
 * The page queues the page daemon scans: inactive, active, laundry. A page is on at
 * most one queue, named by m->queue, and moves between them with the vm_page_*
 * operations in vm_page.h. Each queue has its own lock (pq_mutex); m->queue and the
 * page's links change only under the lock of the queue it leaves or joins.
 * Lock order: a CPU's batch flag, then a queue lock (two in index order: only moving a
 * page between queues takes two), then the vm_phys free lock.
 *
 * New pages of anonymous objects (vm_page_alloc) join the active queue through a batch
 * of their CPU's: one queue lock per VM_PQBATCH_SIZE pages instead of one per page (a
 * zero-fill fault is a few hundred instructions; a lock round trip and a list insert
 * per page were a sixth of it). A page in a batch is pending: its queue field already
 * says PQ_ACTIVE, its links are still NULL, and pq_cnt does not count it yet. Whoever
 * locks the queue of a pending page (to move it, free it) first flushes the batches,
 * and the scans flush them before they walk the queue, so nobody but the batch ever
 * sees a pending page as anything but queued.
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

#define VM_PQBATCH_SIZE 31

struct vm_pqbatch {
	uint32_t pb_busy;                       /* atomic: the batch is in use */
	uint32_t pb_n;                          /* pb_busy: pages in it */
	vm_page_t pb_pages[VM_PQBATCH_SIZE];    /* pb_busy */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct vm_pqbatch) == 256, "struct vm_pqbatch: 256 bytes");

extern struct vm_pqbatch vm_pqbatches[MAXCPU];

/* Every CPU's batch into the active queue. => no queue lock held. */
void vm_pqbatch_flush_all(void);
/* Pages pending in batches (racy). */
uint64_t vm_pqbatch_pending(void);
void vm_page_enqueue_new_slow(vm_page_t m);

/*
 * m, a page new in its object that nobody else can reach yet (its object is locked by
 * the caller, and no mapping of it exists), joins the active queue: pending in this
 * CPU's batch, or at once when the batch is full or in use.
 */
static inline void vm_page_enqueue_new(vm_page_t m)
{
	struct vm_pqbatch *b;

	critical_enter();
	b = &vm_pqbatches[vm_curcpu()];
	if (__predict_true((__atomic_fetch_or(&b->pb_busy, 1u, __ATOMIC_ACQUIRE) & 1u) == 0)) {
		if (__predict_true(b->pb_n < VM_PQBATCH_SIZE)) {
			__atomic_store_n(&m->queue, PQ_ACTIVE, __ATOMIC_RELAXED);
			b->pb_pages[b->pb_n++] = m;
			__atomic_store_n(&b->pb_busy, 0, __ATOMIC_RELEASE);
			critical_exit();
			return;
		}
		__atomic_store_n(&b->pb_busy, 0, __ATOMIC_RELEASE);
	}
	critical_exit();
	vm_page_enqueue_new_slow(m);
}

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
