/*
 * The page queues and the vm_page operations that move pages between them.
 *
 * A page's queue field says which queue's lock protects its links. To take a page off
 * its queue without holding anything first, read the field, lock that queue, and check
 * the field again: it can only change under the lock of the queue it names. A page pending
 * in a CPU's batch (vm_pagequeue.h) is found so with that lock held: its links are NULL;
 * the lock is let go, the batches flushed, and the search starts again.
 */
#include "vm/vm_page_int.h"
#include "vm/vm_pagequeue.h"

/* Empty from the start: an empty queue's sentinel points at itself, and an all-zero
 * mutex is an unlocked one (vm_platform.h). */
#define VM_PAGEQUEUE_INIT(q, name) \
	[q] = { .pq_pl = { &vm_pagequeues[q].pq_pl, &vm_pagequeues[q].pq_pl }, .pq_name = (name) }
struct vm_pagequeue vm_pagequeues[PQ_COUNT] = {
	VM_PAGEQUEUE_INIT(PQ_NONE, "none"),
	VM_PAGEQUEUE_INIT(PQ_INACTIVE, "inactive"),
	VM_PAGEQUEUE_INIT(PQ_ACTIVE, "active"),
	VM_PAGEQUEUE_INIT(PQ_LAUNDRY, "laundry"),
};

/* The batches live in the per-CPU page caches, which vm_page_reset clears. */
void vm_pagequeue_reset(void)
{
	for (int q = 0; q < PQ_COUNT; q++) {
		struct vm_pagequeue *pq = &vm_pagequeues[q];
		mtx_init(&pq->pq_mutex, pq->pq_name);
		vm_plinks_init(&pq->pq_pl);
		pq->pq_cnt = 0;
	}
}

/* The first page at or after pl that is not a marker, or NULL. => pq locked. */
static vm_page_t vm_pagequeue_skip_markers(struct vm_pagequeue *pq, struct vm_plinks *pl)
{
	for (; pl != &pq->pq_pl; pl = pl->pl_next)
		if ((vm_plinks_page(pl)->flags & PG_MARKER) == 0)
			return vm_plinks_page(pl);
	return NULL;
}

vm_page_t vm_pagequeue_first(struct vm_pagequeue *pq)
{
	mtx_assert_owned(&pq->pq_mutex);
	return vm_pagequeue_skip_markers(pq, pq->pq_pl.pl_next);
}

vm_page_t vm_pagequeue_next(struct vm_pagequeue *pq, vm_page_t m)
{
	mtx_assert_owned(&pq->pq_mutex);
	return vm_pagequeue_skip_markers(pq, m->plinks.pl_next);
}

static inline uint8_t vm_page_queue_load(vm_page_t m)
{
	return __atomic_load_n(&m->queue, __ATOMIC_ACQUIRE);
}

/*
 * Splice pc's batch onto the active queue's tail: its pages are chained back from
 * pc_qtail through pl_prev, so a walk back sets each pl_next and the first page is
 * linked after the queue's last. => pc locked (its flag).
 */
static void vm_pqbatch_flush_locked(struct vm_page_pcpu *pc)
{
	struct vm_pagequeue *pq = &vm_pagequeues[PQ_ACTIVE];
	vm_page_t last = pc->pc_qtail;

	if (last == NULL)
		return;
	vm_pagequeue_lock(pq);
	struct vm_plinks *next = &pq->pq_pl, *pl = &last->plinks, *prev;
	for (;;) {
		KASSERT(vm_plinks_page(pl)->queue == PQ_ACTIVE && pl->pl_next == NULL,
		    ("vm_pqbatch_flush: page %p is not pending (queue %d)", (void *)pl,
		    vm_plinks_page(pl)->queue));
		pl->pl_next = next;
		if ((prev = pl->pl_prev) == NULL)
			break;
		next = pl;
		pl = prev;
	}
	pl->pl_prev = pq->pq_pl.pl_prev;
	pq->pq_pl.pl_prev->pl_next = pl;
	pq->pq_pl.pl_prev = &last->plinks;
	pq->pq_cnt += pc->pc_qcount;
	vm_pagequeue_unlock(pq);
	pc->pc_qtail = NULL;
	__atomic_store_n(&pc->pc_qcount, 0, __ATOMIC_RELAXED);
}

void vm_pqbatch_flush(struct vm_page_pcpu *pc)
{
	vm_page_pcpu_wait(pc);
	vm_pqbatch_flush_locked(pc);
	vm_page_pcpu_unlock(pc);
}

vm_page_t vm_pqbatch_flush_full(struct vm_page_pcpu *pc, vm_page_t m)
{
	vm_page_pcpu_unlock(pc);
	critical_exit();
	vm_pqbatch_flush(pc);   /* the CPU may have changed meanwhile: any batch's is as good */
	return m;
}

void vm_pqbatch_flush_all(void)
{
	for (int c = 0; c < vm_ncpus(); c++) {
		struct vm_page_pcpu *pc = &vm_page_pcpu[c];
		if (__atomic_load_n(&pc->pc_qcount, __ATOMIC_RELAXED) != 0)
			vm_pqbatch_flush(pc);
	}
}

uint64_t vm_pqbatch_pending(void)
{
	uint64_t n = 0;

	for (int c = 0; c < vm_ncpus(); c++)
		n += __atomic_load_n(&vm_page_pcpu[c].pc_qcount, __ATOMIC_RELAXED);
	return n;
}

void vm_page_enqueue_new(vm_page_t m)
{
	struct vm_page_pcpu *pc;
	bool batched = false, full = false;

	critical_enter();
	pc = &vm_page_pcpu[vm_curcpu()];
	if (vm_page_pcpu_trylock(pc)) {
		full = vm_page_pcpu_qadd(pc, m);
		batched = true;
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
	/* The CPU may have changed since: any batch's flush is as good. */
	if (full)
		vm_pqbatch_flush(pc);
	else if (!batched)
		vm_page_enqueue(m, PQ_ACTIVE);
}

/* Lock the queue m is on and return it, or NULL when m is on none. */
static struct vm_pagequeue *vm_page_pagequeue_lock(vm_page_t m)
{
	for (;;) {
		uint8_t q = vm_page_queue_load(m);
		if (q == PQ_NONE)
			return NULL;
		struct vm_pagequeue *pq = &vm_pagequeues[q];
		vm_pagequeue_lock(pq);
		if (vm_page_queue_load(m) == q) {
			if (__predict_true(m->plinks.pl_next != NULL))
				return pq;
			/* Pending in a batch: into the queue with the others first. */
			vm_pagequeue_unlock(pq);
			vm_pqbatch_flush_all();
			continue;
		}
		vm_pagequeue_unlock(pq);
	}
}

static void vm_page_enqueue_locked(struct vm_pagequeue *pq, vm_page_t m, int queue)
{
	vm_plinks_insert_tail(&pq->pq_pl, m);
	pq->pq_cnt++;
	__atomic_store_n(&m->queue, (uint8_t)queue, __ATOMIC_RELEASE);
}

static void vm_page_dequeue_locked(struct vm_pagequeue *pq, vm_page_t m)
{
	KASSERT(pq->pq_cnt > 0, ("vm_page_dequeue_locked: %s queue count 0", pq->pq_name));
	vm_plinks_remove(m);
	pq->pq_cnt--;
	__atomic_store_n(&m->queue, PQ_NONE, __ATOMIC_RELEASE);
}

void vm_pagequeue_remove(struct vm_pagequeue *pq, vm_page_t m)
{
	mtx_assert_owned(&pq->pq_mutex);
	KASSERT(m->queue == pq - vm_pagequeues, ("vm_pagequeue_remove: page %p is on queue "
	    "%d, not %s", (void *)m, m->queue, pq->pq_name));
	vm_page_dequeue_locked(pq, m);
}

void vm_page_enqueue(vm_page_t m, int queue)
{
	struct vm_pagequeue *pq;

	KASSERT(queue > PQ_NONE && queue < PQ_COUNT,
	    ("vm_page_enqueue: bad queue %d", queue));
	KASSERT((m->flags & PG_FICTITIOUS) == 0,
	    ("vm_page_enqueue: fictitious page %p", (void *)m));
	KASSERT(m->order == 0, ("vm_page_enqueue: free page %p", (void *)m));
	pq = &vm_pagequeues[queue];
	vm_pagequeue_lock(pq);
	KASSERT(m->queue == PQ_NONE, ("vm_page_enqueue: page %p already on queue %d",
	    (void *)m, m->queue));
	vm_page_enqueue_locked(pq, m, queue);
	vm_pagequeue_unlock(pq);
}

void vm_page_dequeue(vm_page_t m)
{
	struct vm_pagequeue *pq = vm_page_pagequeue_lock(m);

	if (pq == NULL)
		return;
	vm_page_dequeue_locked(pq, m);
	vm_pagequeue_unlock(pq);
}

void vm_page_requeue(vm_page_t m)
{
	struct vm_pagequeue *pq = vm_page_pagequeue_lock(m);

	KASSERT(pq != NULL, ("vm_page_requeue: page %p is on no queue", (void *)m));
	vm_plinks_remove(m);
	vm_plinks_insert_tail(&pq->pq_pl, m);
	vm_pagequeue_unlock(pq);
}

/* Move m to the tail of queue (from wherever it is). */
static void vm_page_mvqueue(vm_page_t m, int queue)
{
	struct vm_pagequeue *pq = vm_page_pagequeue_lock(m);

	if (pq != NULL) {
		if (pq == &vm_pagequeues[queue]) {
			vm_plinks_remove(m);
			vm_plinks_insert_tail(&pq->pq_pl, m);
			vm_pagequeue_unlock(pq);
			return;
		}
		/* Both locks at once when the order allows (queues by index; nothing else
		 * holds two): one round trip less, and no moment on no queue. */
		struct vm_pagequeue *npq = &vm_pagequeues[queue];
		if (npq > pq) {
			vm_pagequeue_lock(npq);
		} else if (!mtx_trylock(&npq->pq_mutex)) {
			npq = NULL;
		}
		vm_page_dequeue_locked(pq, m);
		if (npq != NULL) {
			vm_page_enqueue_locked(npq, m, queue);
			vm_pagequeue_unlock(npq);
			vm_pagequeue_unlock(pq);
			return;
		}
		vm_pagequeue_unlock(pq);
	}
	/* Between the two locks the page is on no queue; a concurrent enqueue of the
	 * same page by its owner would be the owner's bug, which enqueue asserts. */
	vm_page_enqueue(m, queue);
}

void vm_page_activate(vm_page_t m)
{
	vm_page_mvqueue(m, PQ_ACTIVE);
}

void vm_page_deactivate(vm_page_t m)
{
	__atomic_and_fetch(&m->aflags, (uint8_t)~PGA_REFERENCED, __ATOMIC_RELAXED);
	vm_page_mvqueue(m, PQ_INACTIVE);
}

/*
 * Move each of ma[0..n) to the tail of queue, PQ_INACTIVE or PQ_LAUNDRY, with the locks
 * of those two queues taken once for the run: pages on either in run order (a stretch
 * of them that lies in that order on its queue spliced over whole), then the others
 * (active, pending in a batch, on no queue) the one-page way, which knows those.
 * clear: flags to clear on each page first.
 */
static void vm_page_mvqueue_pages(vm_page_t *ma, int n, int queue, uint8_t clear)
{
	struct vm_pagequeue *ipq = &vm_pagequeues[PQ_INACTIVE];
	struct vm_pagequeue *lpq = &vm_pagequeues[PQ_LAUNDRY];
	struct vm_pagequeue *to = &vm_pagequeues[queue], *from = to == ipq ? lpq : ipq;
	bool others = false;

	/* Both in index order; a page on either cannot change queue meanwhile. */
	vm_pagequeue_lock(ipq);
	vm_pagequeue_lock(lpq);
	for (int i = 0; i < n; i++) {
		vm_page_t m = ma[i];
		if (clear != 0)
			__atomic_and_fetch(&m->aflags, (uint8_t)~clear, __ATOMIC_RELAXED);
		uint8_t q = vm_page_queue_load(m);
		if (q != queue && &vm_pagequeues[q] != from) {
			others = true;
			continue;
		}
		/* The run's next pages that follow m on its queue (pages of one object
		 * come in runs there too) move with it: one unlink and one link for
		 * them all. */
		int j = i;
		while (j + 1 < n && ma[j + 1]->queue == q &&
		    ma[j + 1]->plinks.pl_prev == &ma[j]->plinks) {
			j++;
			if (clear != 0)
				__atomic_and_fetch(&ma[j]->aflags, (uint8_t)~clear,
				    __ATOMIC_RELAXED);
		}
		struct vm_plinks *first = &m->plinks, *last = &ma[j]->plinks;
		first->pl_prev->pl_next = last->pl_next;
		last->pl_next->pl_prev = first->pl_prev;
		first->pl_prev = to->pq_pl.pl_prev;
		to->pq_pl.pl_prev->pl_next = first;
		last->pl_next = &to->pq_pl;
		to->pq_pl.pl_prev = last;
		if (q != queue) {
			KASSERT(from->pq_cnt >= (uint64_t)(j - i + 1),
			    ("vm_page_mvqueue_pages: %s queue count %llu", from->pq_name,
			    (unsigned long long)from->pq_cnt));
			from->pq_cnt -= (uint64_t)(j - i + 1);
			to->pq_cnt += (uint64_t)(j - i + 1);
			for (int k = i; k <= j; k++)
				__atomic_store_n(&ma[k]->queue, (uint8_t)queue, __ATOMIC_RELEASE);
		}
		i = j;
	}
	vm_pagequeue_unlock(lpq);
	vm_pagequeue_unlock(ipq);
	for (int i = 0; others && i < n; i++)
		if (vm_page_queue_load(ma[i]) != queue)
			vm_page_mvqueue(ma[i], queue);
}

void vm_page_deactivate_pages(vm_page_t *ma, int n)
{
	vm_page_mvqueue_pages(ma, n, PQ_INACTIVE, PGA_REFERENCED);
}

void vm_page_launder_pages(vm_page_t *ma, int n)
{
	vm_page_mvqueue_pages(ma, n, PQ_LAUNDRY, 0);
}

void vm_page_dequeue_pages(vm_page_t *ma, int n)
{
	struct vm_pagequeue *pq = NULL;

	for (int i = 0; i < n; i++) {
		vm_page_t m = ma[i];
		uint8_t q = vm_page_queue_load(m);
		if (q == PQ_NONE)
			continue;
		if (pq != &vm_pagequeues[q]) {
			if (pq != NULL)
				vm_pagequeue_unlock(pq);
			pq = &vm_pagequeues[q];
			vm_pagequeue_lock(pq);
		}
		if (__predict_true(vm_page_queue_load(m) == q && m->plinks.pl_next != NULL)) {
			vm_page_dequeue_locked(pq, m);
			continue;
		}
		/* Moved meanwhile, or pending in a batch: the one-page way. */
		vm_pagequeue_unlock(pq);
		pq = NULL;
		vm_page_dequeue(m);
	}
	if (pq != NULL)
		vm_pagequeue_unlock(pq);
}

void vm_page_launder(vm_page_t m)
{
	vm_page_mvqueue(m, PQ_LAUNDRY);
}
