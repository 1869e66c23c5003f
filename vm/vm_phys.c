/*
 * vm_phys: buddy allocator over the physical segments (see vm_phys.h for the model).
 *
 * Free-block invariants (under F):
 *  - a free block of order o starts at a physical address aligned to 2^o pages, lies in
 *    one segment, and its head page has order == o + 1, pool == its list's pool, and
 *    is linked on vm_phys_freeq[pool][o]; every other page of the block is all zero;
 *  - free blocks are maximally coalesced: the buddy of a free block of order o < max is
 *    never itself a free block of order o;
 *  - a page with order == 0 is not the head of a free block (it may be allocated, a
 *    non-head page of a free block, in a lazy tail, or held by vm_page's caches and zero
 *    pool);
 *  - a lazy tail [ps_lazy, ps_end) holds no block and its vm_pages are all zero (but
 *    the flag of a blacklisted page); vm_phys_nfree = pages on the lists + lazy pages.
 * Carving takes an aligned block at the cursor that stops before the segment end and the
 * next blacklisted page, no larger than the request needs (at least a per-CPU cache
 * refill), and frees it like any other block: it coalesces with a free buddy below the
 * cursor, so free memory stays maximally coalesced; nothing coalesces into the tail (its
 * pages have order 0).
 */
#include "vm/vm_page.h"
#include "vm/vm_phys.h"
#include "vm/vm_startup.h"

struct vm_phys_seg vm_phys_segs[VM_PHYSSEG_MAX];
int vm_phys_nsegs;
struct vm_phys_hint vm_phys_hint;
uint64_t vm_phys_nfree;
uint64_t vm_phys_contig_inspected;
struct mtx vm_phys_free_mtx;

/* F. Empty from the start (each sentinel points at itself): boot writes none of them. */
#define VM_PHYS_Q(p, o)     { &vm_phys_freeq[p][o], &vm_phys_freeq[p][o] }
#define VM_PHYS_QPOOL(p)    { VM_PHYS_Q(p, 0), VM_PHYS_Q(p, 1), VM_PHYS_Q(p, 2), \
	VM_PHYS_Q(p, 3), VM_PHYS_Q(p, 4), VM_PHYS_Q(p, 5), VM_PHYS_Q(p, 6), VM_PHYS_Q(p, 7), \
	VM_PHYS_Q(p, 8), VM_PHYS_Q(p, 9), VM_PHYS_Q(p, 10) }
_Static_assert(VM_NFREEPOOL == 2 && VM_NFREEORDER == 11,
    "vm_phys_freeq's initialiser lists every pool and order");
static struct vm_plinks vm_phys_freeq[VM_NFREEPOOL][VM_NFREEORDER] = {
	VM_PHYS_QPOOL(0), VM_PHYS_QPOOL(1)
};
static uint32_t vm_phys_freeq_mask[VM_NFREEPOOL];   /* F: bit o: list (pool, o) not empty */
static uint64_t vm_phys_lazy;                                        /* F */

static vm_paddr_t vm_phys_blacklist[VM_PHYS_BLACKLIST_MAX];  /* sorted page addresses */
static int vm_phys_nblacklist;

#define VM_PHYS_BLOCK_BYTES(order)  (PAGE_SIZE << (order))
/* Carve at least this order from a lazy tail: 32 pages, a per-CPU cache refill, so a run
 * of single-page allocations carves once per batch and splits only five levels. */
#define VM_PHYS_CARVE_ORDER         5

/* Host re-boots: everything back to zero, as a freshly loaded kernel finds it. */
void vm_phys_reset(void)
{
	memset(vm_phys_segs, 0, sizeof(vm_phys_segs));
	vm_phys_nsegs = 0;
	memset(&vm_phys_hint, 0, sizeof(vm_phys_hint));
	vm_phys_nfree = 0;
	vm_phys_contig_inspected = 0;
	vm_phys_nblacklist = 0;
	vm_phys_lazy = 0;
	memset(vm_phys_freeq_mask, 0, sizeof(vm_phys_freeq_mask));
	for (int p = 0; p < VM_NFREEPOOL; p++)
		for (int o = 0; o < VM_NFREEORDER; o++)
			vm_plinks_init(&vm_phys_freeq[p][o]);
	mtx_init(&vm_phys_free_mtx, "vm_phys free");
}

/* ---- segments and boot ---------------------------------------------------------- */

void vm_phys_add_seg(vm_paddr_t start, vm_paddr_t end)
{
	int i;

	start = round_page(start);
	end = trunc_page(end);
	if (end <= start || end - start < 4 * PAGE_SIZE) {
		printf("vm_phys: segment [%#llx, %#llx) too small, ignored\n",
		    (unsigned long long)start, (unsigned long long)end);
		return;
	}
	if (vm_phys_nsegs == VM_PHYSSEG_MAX) {
		printf("vm_phys: more than %d segments, [%#llx, %#llx) ignored\n",
		    VM_PHYSSEG_MAX, (unsigned long long)start, (unsigned long long)end);
		return;
	}
	for (i = 0; i < vm_phys_nsegs; i++) {
		struct vm_phys_seg *seg = &vm_phys_segs[i];
		if (start < seg->ps_ram_end && end > seg->ps_start)
			panic("vm_phys_add_seg: [%#llx, %#llx) overlaps [%#llx, %#llx)",
			    (unsigned long long)start, (unsigned long long)end,
			    (unsigned long long)seg->ps_start,
			    (unsigned long long)seg->ps_ram_end);
	}
	/* Keep the table sorted by address: lookups try the low (common) RAM first. */
	for (i = vm_phys_nsegs; i > 0 && vm_phys_segs[i - 1].ps_start > start; i--)
		vm_phys_segs[i] = vm_phys_segs[i - 1];
	vm_phys_segs[i] = (struct vm_phys_seg){ .ps_start = start, .ps_end = end,
	    .ps_ram_end = end };
	vm_phys_nsegs++;
}

/* One blacklist element at *sp (up to ',' or the end): => VM_PHYS_BL_OK with *pa, *sp
 * past it. */
static enum vm_phys_bl_error vm_phys_parse_number(const char **sp, vm_paddr_t *pa)
{
	const char *s = *sp;
	vm_paddr_t v = 0;
	unsigned base = 10;
	int digits = 0;

	if (*s == ',' || *s == '\0')
		return VM_PHYS_BL_EMPTY;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++, digits++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		/* Wrapping would blacklist some other page: refuse instead. */
		if (v > (~(vm_paddr_t)0 - d) / base) {
			while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
			    (*s >= 'A' && *s <= 'F'))
				s++;
			return *s == ',' || *s == '\0' ? VM_PHYS_BL_RANGE : VM_PHYS_BL_SYNTAX;
		}
		v = v * base + d;
	}
	if (digits == 0 || (*s != ',' && *s != '\0'))
		return VM_PHYS_BL_SYNTAX;
	*sp = s;
	*pa = v;
	return VM_PHYS_BL_OK;
}

enum vm_phys_bl_error vm_phys_set_blacklist(const char *list, const char **bad)
{
	const int before = vm_phys_nblacklist;
	vm_paddr_t saved[VM_PHYS_BLACKLIST_MAX];
	const char *s = list;
	enum vm_phys_bl_error e;

	memcpy(saved, vm_phys_blacklist, sizeof(saved));

	for (;;) {
		vm_paddr_t pa;
		*bad = s;
		if ((e = vm_phys_parse_number(&s, &pa)) != VM_PHYS_BL_OK)
			break;
		pa = trunc_page(pa);
		int i;
		for (i = vm_phys_nblacklist; i > 0 && vm_phys_blacklist[i - 1] > pa; i--)
			continue;
		if (i == 0 || vm_phys_blacklist[i - 1] != pa) {      /* a duplicate: once */
			if (vm_phys_nblacklist == VM_PHYS_BLACKLIST_MAX) {
				e = VM_PHYS_BL_FULL;
				break;
			}
			memmove(&vm_phys_blacklist[i + 1], &vm_phys_blacklist[i],
			    (size_t)(vm_phys_nblacklist - i) * sizeof(vm_phys_blacklist[0]));
			vm_phys_blacklist[i] = pa;
			vm_phys_nblacklist++;
		}
		if (*s == '\0')
			return VM_PHYS_BL_OK;
		s++;            /* the comma: an element must follow */
	}
	/* All or nothing: a list refused leaves the blacklist as it was. */
	memcpy(vm_phys_blacklist, saved, sizeof(saved));
	vm_phys_nblacklist = before;
	return e;
}

bool vm_phys_blacklisted(vm_paddr_t pa)
{
	pa = trunc_page(pa);
	for (int i = 0; i < vm_phys_nblacklist; i++)
		if (vm_phys_blacklist[i] == pa)
			return true;
	return false;
}

int vm_phys_blacklist_count(void)
{
	return vm_phys_nblacklist;
}

vm_paddr_t vm_phys_blacklist_page(int i)
{
	KASSERT(i >= 0 && i < vm_phys_nblacklist, ("vm_phys_blacklist_page: %d", i));
	return vm_phys_blacklist[i];
}

static inline vm_page_t vm_phys_seg_page(struct vm_phys_seg *seg, vm_paddr_t pa)
{
	return &seg->ps_pages[atop(pa - seg->ps_start)];
}

static inline void vm_phys_enqueue(vm_page_t m, int pool, int order)
{
	struct vm_plinks *q = &vm_phys_freeq[pool][order];

	m->order = (uint8_t)(order + 1);
	m->pool = (uint8_t)pool;
	if (vm_plinks_empty(q))
		vm_phys_freeq_mask[pool] |= 1u << order;
	vm_plinks_insert_head(q, m);
}

static inline void vm_phys_dequeue(vm_page_t m)
{
	KASSERT(m->order != 0, ("vm_phys_dequeue: page %p is not a free head", (void *)m));
	/* m was the last block on its list when its neighbours are one node: the head. */
	if (m->plinks.pl_next == m->plinks.pl_prev)
		vm_phys_freeq_mask[m->pool] &= ~(1u << (m->order - 1));
	vm_plinks_remove(m);
	m->order = 0;
	m->pool = 0;
}

/*
 * Enqueue [start, end) of seg as the fewest aligned blocks, without coalescing: callers
 * pass ranges whose blocks cannot have free buddies outside the range. => F held.
 */
static void vm_phys_enqueue_range(struct vm_phys_seg *seg, int pool, vm_paddr_t start,
    vm_paddr_t end)
{
	while (start < end) {
		int order = VM_MAXORDER;
		while (order > 0 && ((start & (VM_PHYS_BLOCK_BYTES(order) - 1)) != 0 ||
		    end - start < VM_PHYS_BLOCK_BYTES(order)))
			order--;
		vm_phys_enqueue(vm_phys_seg_page(seg, start), pool, order);
		start += VM_PHYS_BLOCK_BYTES(order);
	}
}

/*
 * Page array size for a range of n pages, taken from its tail: the least a with
 * (n - a) * sz <= a * PAGE_SIZE, which is ceil(n * sz / (PAGE_SIZE + sz)) exactly (one
 * multiply-shift for the constant divisor, no search: boot instructions are emulated).
 */
static uint64_t vm_phys_array_pages(uint64_t n)
{
	const uint64_t sz = sizeof(struct vm_page);

	return (n * sz + PAGE_SIZE + sz - 1) / (PAGE_SIZE + sz);
}

uint64_t vm_phys_startup(void)
{
	uint64_t stolen = 0;
	struct vm_phys_seg *big = NULL;

	/* Alone at boot: nothing else runs, so no lock. The free lists start empty and
	 * the free lock unlocked (all-zero in a fresh kernel, vm_phys_reset on a host
	 * re-boot), so no mtx_init here. */
	for (int i = 0; i < vm_phys_nsegs; i++) {
		struct vm_phys_seg *seg = &vm_phys_segs[i];
		uint64_t n = atop(seg->ps_ram_end - seg->ps_start);
		uint64_t a = vm_phys_array_pages(n);

		/* The array reads as zero: fresh RAM. Boot writes nothing in it but the
		 * flags of blacklisted pages; the whole managed range is the lazy tail. */
		seg->ps_npages = n - a;
		seg->ps_end = seg->ps_start + ptoa(seg->ps_npages);
		seg->ps_pages = vm_phys_to_dmap(seg->ps_end);
		seg->ps_lazy = seg->ps_start;
		vm_phys_lazy += seg->ps_npages;
		stolen += a;
		if (big == NULL || seg->ps_npages > big->ps_npages)
			big = seg;
	}
	if (big != NULL)
		vm_phys_hint = (struct vm_phys_hint){ .ph_start = big->ps_start,
		    .ph_bytes = big->ps_end - big->ps_start, .ph_pages = big->ps_pages,
		    .ph_array_bytes = big->ps_npages * sizeof(struct vm_page), .ph_seg = big };
	for (int b = 0; b < vm_phys_nblacklist; b++) {
		vm_paddr_t pa = vm_phys_blacklist[b];
		vm_page_t m = PHYS_TO_VM_PAGE(pa);
		if (m == NULL) {
			printf("vm_phys: blacklisted page %#llx is not managed RAM, ignored\n",
			    (unsigned long long)pa);
			continue;
		}
		m->flags |= PG_BLACKLISTED;
		vm_phys_lazy--;
		printf("vm_phys: blacklisted page %#llx never allocated\n",
		    (unsigned long long)pa);
	}
	vm_phys_nfree = vm_phys_lazy;
	return stolen;
}

/* ---- the segment table behind the hint ------------------------------------------- */

struct vm_phys_seg *vm_phys_paddr_to_seg_slow(vm_paddr_t pa)
{
	for (int i = 0; i < vm_phys_nsegs; i++) {
		struct vm_phys_seg *seg = &vm_phys_segs[i];
		if (pa - seg->ps_start < seg->ps_end - seg->ps_start)
			return seg;
	}
	return NULL;
}

struct vm_phys_seg *vm_phys_page_to_seg_slow(const struct vm_page *m)
{
	for (int i = 0; i < vm_phys_nsegs; i++) {
		struct vm_phys_seg *seg = &vm_phys_segs[i];
		if ((uintptr_t)m - (uintptr_t)seg->ps_pages <
		    seg->ps_npages * sizeof(struct vm_page))
			return seg;
	}
	return NULL;
}

vm_page_t vm_phys_to_page_slow(vm_paddr_t pa)
{
	struct vm_phys_seg *seg = vm_phys_paddr_to_seg_slow(pa);

	return seg == NULL ? NULL : &seg->ps_pages[atop(pa - seg->ps_start)];
}

vm_paddr_t vm_page_to_phys_slow(vm_page_t m)
{
	struct vm_phys_seg *seg;

	if (m->flags & PG_FICTITIOUS)
		return m->phys_fict;
	seg = vm_phys_page_to_seg_slow(m);
	if (seg == NULL)
		panic("vm_page_to_phys: page %p is in no segment", (void *)m);
	return seg->ps_start + ptoa((uint64_t)(m - seg->ps_pages));
}

/* ---- lazy tails ------------------------------------------------------------------- */

uint64_t vm_phys_lazy_count(void)
{
	return vm_phys_lazy;
}

static inline vm_page_t vm_phys_merge_enqueue(struct vm_phys_seg *seg, vm_paddr_t pa,
    int order, int pool, int *orderp);

/*
 * Free the next block of a lazy tail into pool: the largest aligned block at the cursor,
 * of order at most maxorder, that ends before the segment end and the next blacklisted
 * page. Returns the head of the free block it ended up in (coalesced with a free buddy
 * below the cursor, if any), with its segment and order; NULL when every tail is empty.
 * vm_phys_nfree counted the pages already. => F held.
 */
static vm_page_t vm_phys_carve(int pool, int maxorder, struct vm_phys_seg **segp,
    int *orderp, int *carvedp)
{
	for (int i = 0; i < vm_phys_nsegs; i++) {
		struct vm_phys_seg *seg = &vm_phys_segs[i];
		vm_paddr_t start = seg->ps_lazy, end = seg->ps_end;

		/* The blacklist is sorted: skip bad pages at the cursor, stop at the next. */
		for (int b = 0; b < vm_phys_nblacklist && start < end; b++) {
			vm_paddr_t bad = vm_phys_blacklist[b];
			if (bad < start)
				continue;
			if (bad == start) {
				start += PAGE_SIZE;
				continue;
			}
			if (bad < end)
				end = bad;
			break;
		}
		if (start >= end) {
			seg->ps_lazy = seg->ps_end;
			continue;
		}
		int order = maxorder;
		while (order > 0 && ((start & (VM_PHYS_BLOCK_BYTES(order) - 1)) != 0 ||
		    end - start < VM_PHYS_BLOCK_BYTES(order)))
			order--;
		seg->ps_lazy = start + VM_PHYS_BLOCK_BYTES(order);
		vm_phys_lazy -= 1ull << order;
		*segp = seg;
		*carvedp = order;
		return vm_phys_merge_enqueue(seg, start, order, pool, orderp);
	}
	KASSERT(vm_phys_lazy == 0, ("vm_phys_carve: %llu lazy pages in no tail",
	    (unsigned long long)vm_phys_lazy));
	return NULL;
}

void vm_phys_carve_all(void)
{
	struct vm_phys_seg *seg;
	int order;
	vm_page_t m;

	mtx_assert_owned(&vm_phys_free_mtx);
	while (vm_phys_lazy != 0 && (m = vm_phys_carve(VM_FREEPOOL_DEFAULT, VM_MAXORDER, &seg,
	    &order, &(int){ 0 })) != NULL)
		;
}

/* ---- alloc and free of buddy blocks ------------------------------------------------ */

/* Split the free block m (already dequeued, order 'have') down to 'want', queueing the
 * upper halves in pool. A block lies in one segment, so its pages are adjacent in the
 * page array. => F held. */
static inline void vm_phys_split(vm_page_t m, int pool, int have, int want)
{
	while (have > want) {
		have--;
		vm_phys_enqueue(m + (1ul << have), pool, have);
	}
}

static inline struct vm_phys_seg *vm_phys_page_seg(vm_page_t m)
{
	struct vm_phys_seg *seg = vm_phys_page_to_seg(m);

	if (__predict_false(seg == NULL))
		panic("vm_phys_page_seg: page %p is in no segment", (void *)m);
	return seg;
}

/* vm_phys_alloc_pages, telling *freshp (when not NULL) whether the block came whole
 * from a lazy tail: never handed out since boot, so zero (vm_startup.h). */
static inline __attribute__((always_inline)) vm_page_t vm_phys_alloc_pages_fresh(int pool,
    int order, bool *freshp)
{
	vm_page_t m;
	uint32_t mask;
	int o, p = pool, carved = -1;

	mtx_assert_owned(&vm_phys_free_mtx);
	KASSERT(pool >= 0 && pool < VM_NFREEPOOL && order >= 0 && order <= VM_MAXORDER,
	    ("vm_phys_alloc_pages: pool %d order %d", pool, order));
	/* The smallest block of the pool that is large enough. */
	mask = vm_phys_freeq_mask[pool] >> order;
	if (__predict_true(mask != 0)) {
		o = order + __builtin_ctz(mask);
		p = pool;
		goto found;
	}
	/* The pool is dry: fresh memory from a lazy tail keeps the pools apart best. A
	 * carved block may be too small (a tail's unaligned start): those stay queued. */
	while (vm_phys_lazy != 0) {
		struct vm_phys_seg *cseg;
		if ((m = vm_phys_carve(pool, MAX(order, VM_PHYS_CARVE_ORDER), &cseg, &o,
		    &carved)) == NULL)
			break;
		if (o >= order) {
			vm_phys_dequeue(m);
			goto carved;
		}
	}
	/* No fresh memory either: take the largest block of another pool. */
	o = -1;
	for (int q = 0; q < VM_NFREEPOOL; q++) {
		if (q == pool || (vm_phys_freeq_mask[q] >> order) == 0)
			continue;
		int top = 31 - __builtin_clz(vm_phys_freeq_mask[q]);
		if (top > o) {
			o = top;
			p = q;
		}
	}
	if (o < 0)
		return NULL;
found:
	m = vm_plinks_page(vm_phys_freeq[p][o].pl_next);
	vm_phys_dequeue(m);
	carved = -1;
carved:
	if (freshp != NULL)
		*freshp = o == carved;          /* not merged with a used buddy */
	if (o > order)
		vm_phys_split(m, pool, o, order);
	m->pool = (uint8_t)pool;
	vm_phys_nfree -= 1ull << order;
	return m;
}

vm_page_t vm_phys_alloc_pages(int pool, int order)
{
	return vm_phys_alloc_pages_fresh(pool, order, NULL);
}

/*
 * Whole blocks, smallest first, handed out page by page: a block of 2^o pages is 2^o
 * allocated pages once its head is dequeued (its other pages are zero already), so a
 * batch costs a list operation per block, not per page. A block larger than the rest of
 * the batch is split first, keeping the upper halves.
 */
int vm_phys_alloc_npages(int pool, int npages, vm_page_t ma[])
{
	int i = 0;

	mtx_assert_owned(&vm_phys_free_mtx);
	while (i < npages) {
		uint32_t mask = vm_phys_freeq_mask[pool];
		int top = 31 - __builtin_clz((unsigned)(npages - i)), o;
		vm_page_t m;

		if (mask != 0) {
			o = __builtin_ctz(mask);
			m = vm_plinks_page(vm_phys_freeq[pool][o].pl_next);
			vm_phys_dequeue(m);
			if (o > top) {
				vm_phys_split(m, pool, o, top);
				o = top;
			}
			vm_phys_nfree -= 1ull << o;
		} else {
			/* The pool is dry: carving or the other pool refill it. */
			if ((m = vm_phys_alloc_pages(pool, 0)) == NULL)
				break;
			o = 0;
		}
		for (int j = 0; j < (1 << o); j++) {
			m[j].pool = (uint8_t)pool;
			ma[i++] = &m[j];
		}
	}
	return i;
}

/*
 * A per-CPU cache's refill in one piece: one list operation (and the split of a larger
 * block) where vm_phys_alloc_npages, smallest blocks first, takes several and splits
 * its last one down to what is left, which leaves that many small blocks behind for
 * the next refill to take again. Small blocks stay for one-page and contiguous requests
 * and for their buddies' frees to merge. The block goes out as a run, not page by page:
 * dequeued, its first page is as its other pages are (pool mark zero), and the cache
 * marks each page as it hands it out.
 */
vm_page_t vm_phys_alloc_block(int pool, int order)
{
	uint32_t mask = vm_phys_freeq_mask[pool] >> order;

	mtx_assert_owned(&vm_phys_free_mtx);
	KASSERT(order >= 0 && order <= VM_MAXORDER,
	    ("vm_phys_alloc_block: order %d", order));
	if (mask == 0)
		return NULL;
	int o = order + __builtin_ctz(mask);
	vm_page_t m = vm_plinks_page(vm_phys_freeq[pool][o].pl_next);
	vm_phys_dequeue(m);
	vm_phys_split(m, pool, o, order);
	vm_phys_nfree -= 1ull << order;
	return m;
}

vm_page_t vm_phys_alloc_run(int pool, int maxorder, int *orderp, bool *freshp)
{
	vm_page_t m;
	uint32_t mask;
	int o, p;

	mtx_assert_owned(&vm_phys_free_mtx);
	KASSERT(maxorder >= 0 && maxorder <= VM_MAXORDER,
	    ("vm_phys_alloc_run: maxorder %d", maxorder));
	if (freshp != NULL)
		*freshp = false;
	if ((m = vm_phys_alloc_pages_fresh(pool, maxorder, freshp)) != NULL) {
		*orderp = maxorder;
		return m;
	}
	/* Nothing that large anywhere (the lazy tails are used up too): the largest
	 * smaller block, from pool when it has one of that order. */
	mask = vm_phys_freeq_mask[0] | vm_phys_freeq_mask[1];
	_Static_assert(VM_NFREEPOOL == 2, "vm_phys_alloc_run: two pools");
	if (mask == 0)
		return NULL;
	o = 31 - __builtin_clz(mask);
	p = (vm_phys_freeq_mask[pool] >> o) & 1 ? pool : 1 - pool;
	m = vm_plinks_page(vm_phys_freeq[p][o].pl_next);
	vm_phys_dequeue(m);
	m->pool = (uint8_t)pool;
	vm_phys_nfree -= 1ull << o;
	*orderp = o;
	return m;
}

void vm_phys_free_pages(vm_page_t m, int order)
{
	struct vm_phys_seg *seg;
	vm_paddr_t pa;
	int pool = m->pool;

	mtx_assert_owned(&vm_phys_free_mtx);
	KASSERT(order >= 0 && order <= VM_MAXORDER,
	    ("vm_phys_free_pages: order %d", order));
	KASSERT(m->order == 0 && m->plinks.pl_next == NULL,
	    ("vm_phys_free_pages: page %p is already free", (void *)m));
	KASSERT((m->flags & PG_BLACKLISTED) == 0,
	    ("vm_phys_free_pages: blacklisted page %p", (void *)m));
	seg = vm_phys_page_seg(m);
	pa = seg->ps_start + ptoa((uint64_t)(m - seg->ps_pages));
	KASSERT((pa & (VM_PHYS_BLOCK_BYTES(order) - 1)) == 0 &&
	    pa + VM_PHYS_BLOCK_BYTES(order) <= seg->ps_end,
	    ("vm_phys_free_pages: block %#llx order %d misaligned or past its segment",
	    (unsigned long long)pa, order));
	vm_phys_nfree += 1ull << order;
	m->pool = 0;
	vm_phys_merge_enqueue(seg, pa, order, pool, &order);
}

/* Queue the free block at pa (order) of seg in pool, first merging it with its free
 * buddies. Returns the head of the block queued, *orderp its order. => F held. */
static inline vm_page_t vm_phys_merge_enqueue(struct vm_phys_seg *seg, vm_paddr_t pa,
    int order, int pool, int *orderp)
{
	vm_page_t m;

	while (order < VM_MAXORDER) {
		vm_paddr_t bpa = pa ^ VM_PHYS_BLOCK_BYTES(order);
		if (bpa < seg->ps_start || bpa >= seg->ps_end)
			break;
		vm_page_t buddy = vm_phys_seg_page(seg, bpa);
		if (buddy->order != order + 1)
			break;
		vm_phys_dequeue(buddy);
		order++;
		pa &= ~(VM_PHYS_BLOCK_BYTES(order) - 1);
	}
	m = vm_phys_seg_page(seg, pa);
	vm_phys_enqueue(m, pool, order);
	*orderp = order;
	return m;
}

void vm_phys_free_run(vm_page_t m, unsigned long npages, int pool)
{
	struct vm_phys_seg *seg = vm_phys_page_seg(m);
	vm_paddr_t pa = seg->ps_start + ptoa((uint64_t)(m - seg->ps_pages));
	vm_paddr_t end = pa + ptoa(npages);

	mtx_assert_owned(&vm_phys_free_mtx);
	KASSERT(npages > 0 && end <= seg->ps_end,
	    ("vm_phys_free_run: %lu pages at %#llx past the segment", npages,
	    (unsigned long long)pa));
	KASSERT(pool >= 0 && pool < VM_NFREEPOOL, ("vm_phys_free_run: pool %d", pool));
	while (pa < end) {
		int order = VM_MAXORDER;
		while (order > 0 && ((pa & (VM_PHYS_BLOCK_BYTES(order) - 1)) != 0 ||
		    end - pa < VM_PHYS_BLOCK_BYTES(order)))
			order--;
		vm_page_t b = vm_phys_seg_page(seg, pa);
		b->pool = (uint8_t)pool;
		vm_phys_free_pages(b, order);
		pa += VM_PHYS_BLOCK_BYTES(order);
	}
}

void vm_phys_free_contig(vm_page_t m, unsigned long npages)
{
	vm_phys_free_run(m, npages, VM_FREEPOOL_DEFAULT);
}

uint64_t vm_phys_free_blocks(int pool, int order)
{
	struct vm_plinks *q = &vm_phys_freeq[pool][order];
	uint64_t n = 0;

	mtx_assert_owned(&vm_phys_free_mtx);
	for (struct vm_plinks *pl = q->pl_next; pl != q; pl = pl->pl_next)
		n++;
	return n;
}

/* ---- contiguous allocation ----------------------------------------------------------- */

/* The free block that ends just before pa, or NULL. Tries each order: the block would
 * start at pa minus its size, aligned. => F held. */
static vm_page_t vm_phys_free_block_before(struct vm_phys_seg *seg, vm_paddr_t pa)
{
	for (int o = 0; o < VM_NFREEORDER; o++) {
		vm_paddr_t start = pa - VM_PHYS_BLOCK_BYTES(o);
		if (start < seg->ps_start || pa < VM_PHYS_BLOCK_BYTES(o))
			return NULL;
		if ((start & (VM_PHYS_BLOCK_BYTES(o) - 1)) != 0)
			continue;
		vm_page_t m = vm_phys_seg_page(seg, start);
		vm_phys_contig_inspected++;
		if (m->order == o + 1)
			return m;
	}
	return NULL;
}

/* Lowest s in [lo, hi) with s aligned, [s, s + size) inside [lo, hi) and within one
 * boundary window; 0 when there is none (0 is never managed RAM). */
static vm_paddr_t vm_phys_fit(vm_paddr_t lo, vm_paddr_t hi, vm_paddr_t size,
    vm_paddr_t alignment, vm_paddr_t boundary)
{
	vm_paddr_t s = roundup2(lo, alignment);

	if (s < lo)
		return 0;
	if (boundary != 0 && ((s ^ (s + size - 1)) & ~(boundary - 1)) != 0)
		s = roundup2(roundup2(s, boundary), alignment);
	if (s < lo || s >= hi || hi - s < size)
		return 0;
	return s;
}

/* Take [s, s + size) out of the free run of seg that starts with the free block rs.
 * => F held. */
static void vm_phys_take_range(struct vm_phys_seg *seg, vm_paddr_t rs, vm_paddr_t s,
    vm_paddr_t size)
{
	vm_paddr_t e = s + size, bs = rs;

	while (bs < e) {
		vm_page_t m = vm_phys_seg_page(seg, bs);
		KASSERT(m->order != 0, ("vm_phys_take_range: %#llx not a free head",
		    (unsigned long long)bs));
		int order = m->order - 1, pool = m->pool;
		vm_paddr_t be = bs + VM_PHYS_BLOCK_BYTES(order);
		if (be > s) {
			vm_phys_dequeue(m);
			if (bs < s)
				vm_phys_enqueue_range(seg, pool, bs, s);
			if (be > e)
				vm_phys_enqueue_range(seg, pool, e, be);
		}
		bs = be;
	}
}

/* A contiguous request, as vm_phys_alloc_contig got it. */
struct vm_phys_contig_req {
	vm_paddr_t vcr_size, vcr_low, vcr_high, vcr_alignment, vcr_boundary;
};

/*
 * Try to place the request in the run of free blocks around the free block m (order o)
 * of seg: the block alone, else the run extended both ways by at most the request's
 * size. Takes the pages and returns the first one, or NULL. => F held.
 */
static vm_page_t vm_phys_contig_at(struct vm_phys_seg *seg, vm_page_t m, int o,
    const struct vm_phys_contig_req *r)
{
	vm_paddr_t bs = seg->ps_start + ptoa((uint64_t)(m - seg->ps_pages));
	vm_paddr_t be = bs + VM_PHYS_BLOCK_BYTES(o), rs = bs, re = be, s;
	vm_page_t b;

	vm_phys_contig_inspected++;
	if (be <= r->vcr_low || bs >= r->vcr_high)
		return NULL;
	s = vm_phys_fit(MAX(rs, r->vcr_low), MIN(re, r->vcr_high), r->vcr_size,
	    r->vcr_alignment, r->vcr_boundary);
	if (s == 0) {
		/* Extend the run both ways by at most size. */
		while (re < seg->ps_end && re - be < r->vcr_size) {
			b = vm_phys_seg_page(seg, re);
			vm_phys_contig_inspected++;
			if (b->order == 0)
				break;
			re += VM_PHYS_BLOCK_BYTES(b->order - 1);
		}
		while (bs - rs < r->vcr_size && (b = vm_phys_free_block_before(seg, rs)) != NULL)
			rs -= VM_PHYS_BLOCK_BYTES(b->order - 1);
		if (rs == bs && re == be)
			return NULL;
		s = vm_phys_fit(MAX(rs, r->vcr_low), MIN(re, r->vcr_high), r->vcr_size,
		    r->vcr_alignment, r->vcr_boundary);
		if (s == 0)
			return NULL;
	}
	vm_phys_take_range(seg, rs, s, r->vcr_size);
	vm_phys_nfree -= atop(r->vcr_size);
	return vm_phys_seg_page(seg, s);
}

/*
 * A request any buddy block of 2^order >= npages pages satisfies: the block is aligned to
 * its size (so to the alignment, and it crosses no boundary that large), and the range
 * covers all RAM. One block from the direct pool (contiguous runs are kernel memory),
 * its tail beyond npages queued again. NULL when no block is that large. => F held.
 */
static vm_page_t vm_phys_alloc_contig_block(unsigned long npages, int order)
{
	vm_page_t m = vm_phys_alloc_pages(VM_FREEPOOL_DIRECT, order);

	if (m == NULL)
		return NULL;
	m->pool = 0;        /* like every page of a run: frees to the default pool */
	if (npages < (1ul << order)) {
		/* The tail's canonical blocks have no free buddy: the rest of their block
		 * is allocated. */
		struct vm_phys_seg *seg = vm_phys_page_seg(m);
		vm_paddr_t pa = seg->ps_start + ptoa((uint64_t)(m - seg->ps_pages));
		vm_phys_enqueue_range(seg, VM_FREEPOOL_DIRECT, pa + ptoa(npages),
		    pa + VM_PHYS_BLOCK_BYTES(order));
		vm_phys_nfree += (1ul << order) - npages;
	}
	return m;
}

vm_page_t vm_phys_alloc_contig(unsigned long npages, vm_paddr_t low, vm_paddr_t high,
    unsigned long alignment, vm_paddr_t boundary)
{
	struct vm_phys_contig_req r = { ptoa(npages), low, high, alignment, boundary };
	struct vm_phys_seg *seg;
	vm_page_t m;
	int kmin, order;

	mtx_assert_owned(&vm_phys_free_mtx);
	KASSERT(powerof2(alignment) && (boundary == 0 || powerof2(boundary)),
	    ("vm_phys_alloc_contig: alignment %#lx boundary %#llx not powers of 2",
	    alignment, (unsigned long long)boundary));
	vm_phys_contig_inspected = 0;
	/* More than is free can never fit: without this check the search below would
	 * extend a run through all free memory from each large block, O(RAM^2). */
	if (npages == 0 || npages > vm_phys_nfree || (boundary != 0 && boundary < r.vcr_size) ||
	    high <= low || high - low < r.vcr_size)
		return NULL;
	if (alignment < PAGE_SIZE)
		r.vcr_alignment = alignment = PAGE_SIZE;
	/* A range no segment overlaps (above RAM, in a hole) fails without carving every
	 * lazy tail in the search below. */
	bool overlaps = false;
	for (int i = 0; i < vm_phys_nsegs && !overlaps; i++)
		overlaps = vm_phys_segs[i].ps_start < high && low < vm_phys_segs[i].ps_end;
	if (!overlaps)
		return NULL;

	/* Unconstrained (UMA slabs, large kmalloc): a buddy block, without a search. */
	order = npages == 1 ? 0 : 64 - __builtin_clzll((unsigned long long)npages - 1);
	if (order <= VM_MAXORDER && alignment <= VM_PHYS_BLOCK_BYTES(order) &&
	    (boundary == 0 || boundary >= VM_PHYS_BLOCK_BYTES(order)) && vm_phys_nsegs > 0 &&
	    low <= vm_phys_segs[0].ps_start &&
	    high >= vm_phys_segs[vm_phys_nsegs - 1].ps_end &&
	    (((vm_phys_freeq_mask[0] | vm_phys_freeq_mask[1]) >> order) != 0 ||
	    vm_phys_lazy != 0) &&
	    (m = vm_phys_alloc_contig_block(npages, order)) != NULL)
		return m;

	/*
	 * Any range of npages pages contains an aligned block of 2^kmin pages with
	 * kmin = floor(log2(npages + 1)) - 1; free memory is maximally coalesced, so that
	 * block lies inside one free block of order >= kmin. The search therefore visits
	 * only those blocks, and from each extends the run of adjacent free blocks at most
	 * 'size' each way.
	 */
	kmin = 63 - __builtin_clzll((unsigned long long)npages + 1) - 1;
	if (kmin > VM_MAXORDER)
		kmin = VM_MAXORDER;
	for (int o = kmin; o < VM_NFREEORDER; o++) {
		for (int p = 0; p < VM_NFREEPOOL; p++) {
			struct vm_plinks *q = &vm_phys_freeq[p][o];
			for (struct vm_plinks *pl = q->pl_next; pl != q; pl = pl->pl_next) {
				m = vm_plinks_page(pl);
				m = vm_phys_contig_at(vm_phys_page_seg(m), m, o, &r);
				if (m != NULL)
					return m;
			}
		}
	}
	/*
	 * Then memory not carved yet, a block at a time in address order. A placement that
	 * ends in the block just carved starts at most size before it, and the run around
	 * that block is extended that far back: nothing is missed, and the carving stops
	 * as soon as a run fits.
	 */
	while (vm_phys_lazy != 0 && (m = vm_phys_carve(VM_FREEPOOL_DEFAULT, VM_MAXORDER, &seg,
	    &order, &(int){ 0 })) != NULL)
		if ((m = vm_phys_contig_at(seg, m, order, &r)) != NULL)
			return m;
	return NULL;
}

/* ---- self-check --------------------------------------------------------------------- */

static uint64_t vm_phys_verify_fail(uint64_t nbad, const char *what, vm_paddr_t pa)
{
	if (nbad < 5)
		printf("vm_phys_verify: block %#llx: %s\n", (unsigned long long)pa, what);
	return nbad + 1;
}

/* A page inside a free block (not its head): all-zero, not a bad page. */
static inline uint64_t vm_phys_verify_tail(uint64_t nbad, vm_page_t t, vm_paddr_t pa)
{
	if ((t->flags & PG_BLACKLISTED) != 0)
		nbad = vm_phys_verify_fail(nbad, "holds a bad page", pa);
	if (t->order != 0 || t->plinks.pl_next != NULL || t->flags != 0 ||
	    t->ref_count != 0 || t->pool != 0)
		nbad = vm_phys_verify_fail(nbad, "tail page not zero", pa);
	return nbad;
}

/* The first page index >= from (counted from the segment's start) that the sample
 * takes: every stride-th page of the segment. */
static inline uint64_t vm_phys_verify_next(uint64_t from, uint64_t stride)
{
	return stride == 1 ? from : roundup2(from, stride);
}

/*
 * One pass over the free lists and lazy tails. Every block head, list mask and count is
 * checked; the pages inside blocks and lazy tails only where their index in the segment
 * is a multiple of stride (1: all of them), plus each block's last page.
 */
static uint64_t vm_phys_verify_stride(uint64_t stride)
{
	uint64_t nbad = 0, pages = 0;

	mtx_assert_owned(&vm_phys_free_mtx);
	KASSERT(stride != 0 && (stride & (stride - 1)) == 0,
	    ("vm_phys_verify_stride: stride %llu is not a power of two",
	    (unsigned long long)stride));
	for (int p = 0; p < VM_NFREEPOOL; p++) {
		for (int o = 0; o < VM_NFREEORDER; o++) {
			struct vm_plinks *q = &vm_phys_freeq[p][o];
			uint64_t n = 0;
			for (struct vm_plinks *pl = q->pl_next; pl != q; pl = pl->pl_next, n++) {
				vm_page_t m = vm_plinks_page(pl);
				struct vm_phys_seg *seg = vm_phys_page_seg(m);
				uint64_t idx = (uint64_t)(m - seg->ps_pages);
				vm_paddr_t pa = seg->ps_start + ptoa(idx);
				vm_paddr_t bpa = pa ^ VM_PHYS_BLOCK_BYTES(o);
				uint64_t npg = 1ull << o;

				pages += npg;
				if (m->order != o + 1 || m->pool != p)
					nbad = vm_phys_verify_fail(nbad, "head fields wrong", pa);
				if ((pa & (VM_PHYS_BLOCK_BYTES(o) - 1)) != 0 ||
				    pa + VM_PHYS_BLOCK_BYTES(o) > seg->ps_end)
					nbad = vm_phys_verify_fail(nbad, "misaligned or past segment",
					    pa);
				if (o < VM_MAXORDER && bpa >= seg->ps_start && bpa < seg->ps_end &&
				    vm_phys_seg_page(seg, bpa)->order == o + 1)
					nbad = vm_phys_verify_fail(nbad, "buddy free too", pa);
				if ((m->flags & PG_BLACKLISTED) != 0)
					nbad = vm_phys_verify_fail(nbad, "holds a bad page", pa);
				uint64_t i = vm_phys_verify_next(idx + 1, stride) - idx;
				for (; i < npg; i += stride)
					nbad = vm_phys_verify_tail(nbad, m + i, pa);
				if (stride > 1 && npg > 1 && (idx + npg - 1) % stride != 0)
					nbad = vm_phys_verify_tail(nbad, m + npg - 1, pa);
			}
			if ((n != 0) != ((vm_phys_freeq_mask[p] >> o) & 1))
				nbad = vm_phys_verify_fail(nbad, "list mask wrong", 0);
		}
	}
	/* Lazy tails: no block, nothing written but a bad page's flag, counted. The count
	 * is the tails' length less the blacklisted pages in them (each must carry its
	 * flag), so a sample needs no walk. */
	uint64_t lazy = 0;
	for (int i = 0; i < vm_phys_nsegs; i++) {
		struct vm_phys_seg *seg = &vm_phys_segs[i];
		if (seg->ps_lazy < seg->ps_start || seg->ps_lazy > seg->ps_end) {
			nbad = vm_phys_verify_fail(nbad, "lazy cursor outside its segment",
			    seg->ps_lazy);
			continue;
		}
		uint64_t first = atop(seg->ps_lazy - seg->ps_start);
		uint64_t end = atop(seg->ps_end - seg->ps_start);
		lazy += end - first;
		for (uint64_t k = vm_phys_verify_next(first, stride); k < end; k += stride) {
			vm_page_t t = &seg->ps_pages[k];
			if (t->order != 0 || t->plinks.pl_next != NULL || t->ref_count != 0 ||
			    t->pool != 0 || t->kmem_owner != 0 ||
			    (t->flags & ~PG_BLACKLISTED) != 0)
				nbad = vm_phys_verify_fail(nbad, "lazy page not zero",
				    seg->ps_start + ptoa(k));
			if ((t->flags & PG_BLACKLISTED) != 0 &&
			    !vm_phys_blacklisted(seg->ps_start + ptoa(k)))
				nbad = vm_phys_verify_fail(nbad, "flagged bad but not listed",
				    seg->ps_start + ptoa(k));
		}
		for (int b = 0; b < vm_phys_nblacklist; b++) {
			vm_paddr_t bpa = vm_phys_blacklist[b];
			if (bpa < seg->ps_lazy || bpa >= seg->ps_end)
				continue;
			lazy--;
			if ((vm_phys_seg_page(seg, bpa)->flags & PG_BLACKLISTED) == 0)
				nbad = vm_phys_verify_fail(nbad, "bad page without its flag", bpa);
		}
	}
	if (lazy != vm_phys_lazy)
		nbad = vm_phys_verify_fail(nbad, "lazy page count wrong", 0);
	if (pages + vm_phys_lazy != vm_phys_nfree)
		nbad = vm_phys_verify_fail(nbad, "vm_phys_nfree wrong", 0);
	return nbad;
}

uint64_t vm_phys_verify(void)
{
	return vm_phys_verify_stride(1);
}

uint64_t vm_phys_verify_sample(uint64_t max_pages)
{
	uint64_t stride = 1;

	mtx_assert_owned(&vm_phys_free_mtx);
	while (max_pages != 0 && vm_phys_nfree / stride > max_pages)
		stride <<= 1;
	return vm_phys_verify_stride(stride);
}
