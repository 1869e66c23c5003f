/*
 * MemGuard (vm/memguard.h). Read FreeBSD's sys/vm/memguard.c for the idea; this one
 * differs where the brief of this kernel differs:
 *
 *   arena     MemGuard reserves MEMGUARD_MAPSIZE of the kernel map once (one entry of
 *             kmem_map) and keeps a vm_map of its own over it, whose entries are the
 *             allocations' ranges: npages data pages + 1 guard page each, the guard never
 *             mapped.
 *   records   one struct memguard_rec per range, from a UMA zone: on a hash of live
 *             allocations (kfree finds its record in O(1): an object lies in its
 *             range's first page, so trunc_page(addr) is the key) while live, then on
 *             the FIFO of freed ranges. FreeBSD keeps no record and reuses ranges by
 *             moving a cursor through its arena; a FIFO makes "not reused until
 *             MEMGUARD_FIFO_DEPTH frees later" a fact a test can check, and the
 *             record lets the fault handler name the type of a freed allocation.
 *   faults    memguard_fault_lookup walks the hash and the FIFO (a fault is rare and
 *             ends in a panic: no index for it).
 *   underruns MEMGUARD_OPT_GUARD_AROUND (FreeBSD's MG_GUARD_AROUND): a guard page
 *             before the pages too, and the object at the start of its first page, so
 *             the byte before it is the front guard's. The object cannot touch both
 *             guards unless its size is a multiple of the page: an overrun is then
 *             caught only past the end of its last page (the price of the option, as
 *             in FreeBSD, whose objects always start at a page).
 *
 *   default:
 *   [ record: start                                  object          ][ guard ]
 *   |<------------- npages mapped, wired -------------->|<-- usable ->|unmapped|
 *   MEMGUARD_OPT_GUARD_AROUND:
 *   [ guard ][ object                                                ][ guard ]
 *   |unmapped|<-- usable -->|<-------- npages mapped, wired -------->|unmapped|
 *   ^ record: start
 *
 * Lock order: memguard_mtx is a leaf: page work (kmem_back/unback), map operations and
 * UMA calls are made without it.
 */
#include "vm/memguard.h"
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_errno.h"
#include "vm/vm_kern.h"
#include "vm/vm_map.h"

#define MEMGUARD_REC_ZONE   "memguard records"
#define MEMGUARD_NHASH  256             /* live allocations' hash buckets */

struct memguard_rec {
	struct memguard_rec *mr_next;   /* G: hash chain (live) or FIFO (freed) */
	vm_offset_t mr_start;           /* G: first page of the range */
	vm_offset_t mr_addr;            /* G: the object */
	size_t mr_size;                 /* G: size asked for */
	const char *mr_name;            /* G: type's or zone's name (they outlive it) */
	uint32_t mr_npages;             /* G: mapped pages; the guard page follows */
	uint8_t mr_front;               /* G: guard pages before them (0 or 1) */
	uint8_t mr_kind;                /* G: MEMGUARD_KIND_* */
	bool mr_freed;                  /* G: on the FIFO */
};

bool memguard_enabled;                  /* A */
vm_offset_t memguard_base;              /* C */
vm_size_t memguard_size;                /* C (A: 0 until the arena is made) */

static struct mtx memguard_mtx;
static char memguard_desc[MEMGUARD_NAME_MAX];   /* G: the selected name */
static struct vm_map memguard_map;              /* its own lock */
static uma_zone_t memguard_rec_zone;            /* C */
static int memguard_state;                      /* A: as kmem_state (vm_kern.c) */
static struct memguard_rec *memguard_hash[MEMGUARD_NHASH];     /* G */
static struct memguard_rec *memguard_fifo_head, *memguard_fifo_tail;   /* G */
static struct memguard_stats memguard_st;       /* G */
static int memguard_options;                    /* A: MEMGUARD_OPT_* */

/* The first mapped page of r's range, and the whole range's pages (guards included):
 * what its map entry spans. */
static inline vm_offset_t memguard_rec_data(const struct memguard_rec *r)
{
	return r->mr_start + ptoa(r->mr_front);
}

static inline vm_size_t memguard_rec_span(const struct memguard_rec *r)
{
	return ptoa((vm_size_t)r->mr_front + r->mr_npages + 1);
}

static inline size_t memguard_usable(size_t size)
{
	return roundup2(MAX(size, (size_t)1), (size_t)MEMGUARD_ALIGN);
}

static inline struct memguard_rec **memguard_bucket(vm_offset_t start)
{
	/* Ranges are handed out lowest first, npages + 1 apart: multiply to spread them. */
	return &memguard_hash[(atop(start) * 0x9e3779b97f4a7c15ull) >> 56];
}

int memguard_select(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n >= MEMGUARD_NAME_MAX)
		return EINVAL;
	mtx_lock(&memguard_mtx);
	memcpy(memguard_desc, n > 0 ? name : "", n + 1);
	__atomic_store_n(&memguard_enabled, n > 0, __ATOMIC_RELEASE);
	mtx_unlock(&memguard_mtx);
	if (n > 0)
		uma_memguard_select(name);      /* zones of that name that exist already */
	return 0;
}

int memguard_set_options(int options)
{
	if ((options & ~MEMGUARD_OPT_MASK) != 0)
		return EINVAL;
	__atomic_store_n(&memguard_options, options, __ATOMIC_RELEASE);
	return 0;
}

int memguard_get_options(void)
{
	return __atomic_load_n(&memguard_options, __ATOMIC_ACQUIRE);
}

bool memguard_cmp_name(const char *name)
{
	bool yes;

	mtx_lock(&memguard_mtx);
	yes = memguard_desc[0] != '\0' && strcmp(name, memguard_desc) == 0;
	mtx_unlock(&memguard_mtx);
	return yes;
}

/* The arena, on first use: address space in the kernel map, a map over it, a zone for
 * the records. => may sleep. */
static void memguard_init(void)
{
	vm_offset_t base = KMEM_MIN_ADDRESS;
	int s = 0, rv;

	if (__predict_true(__atomic_load_n(&memguard_state, __ATOMIC_ACQUIRE) == 2))
		return;
	if (!__atomic_compare_exchange_n(&memguard_state, &s, 1, false, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&memguard_state, __ATOMIC_ACQUIRE) != 2)
			__asm__ volatile("pause");
		return;
	}
	rv = vm_map_find(kmem_map(), NULL, 0, &base, MEMGUARD_MAPSIZE, KMEM_MAX_ADDRESS, 0,
	    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE, 0);
	if (rv != 0)
		panic("memguard_init: no %lu bytes of address space in the kernel map (error %d)",
		    (unsigned long)MEMGUARD_MAPSIZE, rv);
	vm_map_init(&memguard_map, kernel_pmap, base, base + MEMGUARD_MAPSIZE);
	memguard_rec_zone = uma_zcreate(MEMGUARD_REC_ZONE, sizeof(struct memguard_rec),
	    NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	memguard_base = base;
	__atomic_store_n(&memguard_size, MEMGUARD_MAPSIZE, __ATOMIC_RELEASE);
	__atomic_store_n(&memguard_state, 2, __ATOMIC_RELEASE);
}

static void memguard_count_fallback(void)
{
	mtx_lock(&memguard_mtx);
	memguard_st.mgs_fallbacks++;
	mtx_unlock(&memguard_mtx);
}

void *memguard_alloc(size_t size, int flags, const char *name, int kind)
{
	size_t usable = memguard_usable(size);
	uint64_t npages = atop(round_page(usable));
	/* Read once: the record says which layout this allocation got, whatever the
	 * option is when it is freed. */
	unsigned front = (memguard_get_options() & MEMGUARD_OPT_GUARD_AROUND) != 0;
	struct memguard_rec *r, **b;
	vm_offset_t start, data;

	KASSERT(((flags & M_WAITOK) != 0) != ((flags & M_NOWAIT) != 0),
	    ("memguard_alloc: give exactly one of M_WAITOK and M_NOWAIT (%#x)", flags));
	/* MemGuard's own record zone would recurse: never guarded. */
	if (usable > MEMGUARD_MAPSIZE / 4 || npages > UINT32_MAX ||
	    (kind == MEMGUARD_KIND_ZONE && strcmp(name, MEMGUARD_REC_ZONE) == 0)) {
		memguard_count_fallback();
		return NULL;
	}
	memguard_init();
	if ((r = uma_zalloc(memguard_rec_zone, flags & (M_WAITOK | M_NOWAIT))) == NULL) {
		memguard_count_fallback();
		return NULL;
	}
	start = memguard_base;
	if (vm_map_find(&memguard_map, NULL, 0, &start, ptoa(npages + 1 + front),
	    memguard_base + MEMGUARD_MAPSIZE, 0, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_READ | VM_PROT_WRITE, 0) != 0) {
		/* The arena is full of live allocations and freed ranges: serve it unguarded
		 * rather than fail a request that would have succeeded. */
		uma_zfree(memguard_rec_zone, r);
		memguard_count_fallback();
		return NULL;
	}
	data = start + ptoa(front);
	if (kmem_back(data, ptoa(npages), flags & (M_WAITOK | M_NOWAIT | M_ZERO |
	    M_USE_RESERVE)) != 0) {
		vm_map_remove(&memguard_map, start, start + ptoa(npages + 1 + front));
		uma_zfree(memguard_rec_zone, r);
		memguard_count_fallback();
		return NULL;
	}
	*r = (struct memguard_rec){
		.mr_start = start, .mr_addr = front ? data : data + ptoa(npages) - usable,
		.mr_size = size, .mr_name = name, .mr_npages = (uint32_t)npages,
		.mr_front = (uint8_t)front, .mr_kind = (uint8_t)kind,
	};
	/* Either way the object starts in the first mapped page: its key. */
	mtx_lock(&memguard_mtx);
	b = memguard_bucket(data);
	r->mr_next = *b;
	*b = r;
	memguard_st.mgs_allocs++;
	memguard_st.mgs_live++;
	if (front)
		memguard_st.mgs_around++;
	mtx_unlock(&memguard_mtx);
	return (void *)(uintptr_t)r->mr_addr;
}

/* The live record of the object at addr, unlinked from the hash when unlink.
 * => memguard_mtx held; NULL when addr is not a live guarded object. */
static struct memguard_rec *memguard_find_live(vm_offset_t addr, bool unlink)
{
	struct memguard_rec **pp = memguard_bucket(trunc_page(addr)), *r;

	mtx_assert_owned(&memguard_mtx);
	for (; (r = *pp) != NULL; pp = &r->mr_next) {
		if (r->mr_addr == addr) {
			if (unlink)
				*pp = r->mr_next;
			return r;
		}
	}
	return NULL;
}

/* The freed record whose range holds va. => memguard_mtx held; NULL if none. */
static struct memguard_rec *memguard_find_freed(vm_offset_t va)
{
	mtx_assert_owned(&memguard_mtx);
	for (struct memguard_rec *r = memguard_fifo_head; r != NULL; r = r->mr_next) {
		if (va - r->mr_start < memguard_rec_span(r))
			return r;
	}
	return NULL;
}

static const char *memguard_kind_name(int kind)
{
	return kind == MEMGUARD_KIND_ZONE ? "zone" : "malloc type";
}

size_t memguard_free(void *addr)
{
	vm_offset_t va = (vm_offset_t)(uintptr_t)addr;
	struct memguard_rec *r, *old = NULL;
	size_t usable;

	mtx_lock(&memguard_mtx);
	if ((r = memguard_find_live(va, true)) == NULL) {
		struct memguard_rec *f = memguard_find_freed(va);
		if (f != NULL && f->mr_addr == va)
			panic("memguard: double free of a %lu-byte allocation at %#lx (%s %s)",
			    (unsigned long)f->mr_size, (unsigned long)va,
			    memguard_kind_name(f->mr_kind), f->mr_name);
		panic("memguard_free: %p is not a guarded allocation", addr);
	}
	memguard_st.mgs_frees++;
	memguard_st.mgs_live--;
	if (r->mr_front != 0)
		memguard_st.mgs_around--;
	mtx_unlock(&memguard_mtx);
	usable = memguard_usable(r->mr_size);

	/* Unmapped before the range enters the FIFO: from then on a touch faults. */
	kmem_unback(memguard_rec_data(r), ptoa(r->mr_npages));

	mtx_lock(&memguard_mtx);
	r->mr_freed = true;
	r->mr_next = NULL;
	if (memguard_fifo_tail != NULL)
		memguard_fifo_tail->mr_next = r;
	else
		memguard_fifo_head = r;
	memguard_fifo_tail = r;
	if (++memguard_st.mgs_fifo > MEMGUARD_FIFO_DEPTH) {
		old = memguard_fifo_head;
		memguard_fifo_head = old->mr_next;
		memguard_st.mgs_fifo--;
	}
	mtx_unlock(&memguard_mtx);
	if (old != NULL) {
		/* The oldest freed range may be handed out again. */
		vm_map_remove(&memguard_map, old->mr_start, old->mr_start +
		    memguard_rec_span(old));
		uma_zfree(memguard_rec_zone, old);
	}
	return usable;
}

size_t memguard_usable_size(const void *addr)
{
	struct memguard_rec *r;
	size_t usable;

	mtx_lock(&memguard_mtx);
	r = memguard_find_live((vm_offset_t)(uintptr_t)addr, false);
	KASSERT(r != NULL, ("memguard_usable_size: %p is not a live guarded allocation",
	    addr));
	usable = memguard_usable(r->mr_size);
	mtx_unlock(&memguard_mtx);
	return usable;
}

enum memguard_fault_type memguard_fault_lookup(vm_offset_t va,
    struct memguard_fault_info *fi)
{
	struct memguard_rec *hit = NULL;
	enum memguard_fault_type t = MEMGUARD_FAULT_NONE;

	memset(fi, 0, sizeof(*fi));
	if (!memguard_owns((const void *)(uintptr_t)va) || mtx_owned(&memguard_mtx))
		return MEMGUARD_FAULT_NONE;
	mtx_lock(&memguard_mtx);
	for (int i = 0; i < MEMGUARD_NHASH && hit == NULL; i++) {
		for (struct memguard_rec *r = memguard_hash[i]; r != NULL; r = r->mr_next) {
			if (trunc_page(va) == memguard_rec_data(r) + ptoa(r->mr_npages)) {
				hit = r;
				t = MEMGUARD_FAULT_OVERRUN;
				break;
			}
			if (r->mr_front != 0 && trunc_page(va) == r->mr_start) {
				hit = r;
				t = MEMGUARD_FAULT_UNDERRUN;
				break;
			}
		}
	}
	if (hit == NULL && (hit = memguard_find_freed(va)) != NULL)
		t = MEMGUARD_FAULT_USE_AFTER_FREE;
	if (hit != NULL)
		*fi = (struct memguard_fault_info){ .mfi_type = t, .mfi_addr = hit->mr_addr,
		    .mfi_size = hit->mr_size, .mfi_name = hit->mr_name,
		    .mfi_kind = hit->mr_kind };
	mtx_unlock(&memguard_mtx);
	return t;
}

bool memguard_fault_describe(vm_offset_t va, bool write, char *buf, size_t len)
{
	struct memguard_fault_info fi;
	const char *rw = write ? "write" : "read";

	switch (memguard_fault_lookup(va, &fi)) {
	case MEMGUARD_FAULT_OVERRUN: {
		unsigned long past = (unsigned long)(va - (fi.mfi_addr + fi.mfi_size));
		snprintf(buf, len, "memguard: overrun (%s at %#lx, %lu byte%s past the end) of "
		    "a %lu-byte allocation at %#lx (%s %s)", rw, (unsigned long)va, past,
		    past == 1 ? "" : "s", (unsigned long)fi.mfi_size,
		    (unsigned long)fi.mfi_addr, memguard_kind_name(fi.mfi_kind), fi.mfi_name);
		return true;
	}
	case MEMGUARD_FAULT_UNDERRUN: {
		unsigned long before = (unsigned long)(fi.mfi_addr - va);
		snprintf(buf, len, "memguard: underrun (%s at %#lx, %lu byte%s before the "
		    "start) of a %lu-byte allocation at %#lx (%s %s)", rw, (unsigned long)va,
		    before, before == 1 ? "" : "s", (unsigned long)fi.mfi_size,
		    (unsigned long)fi.mfi_addr, memguard_kind_name(fi.mfi_kind), fi.mfi_name);
		return true;
	}
	case MEMGUARD_FAULT_USE_AFTER_FREE:
		snprintf(buf, len, "memguard: use after free (%s at %#lx) of a %lu-byte "
		    "allocation at %#lx (%s %s)", rw, (unsigned long)va,
		    (unsigned long)fi.mfi_size, (unsigned long)fi.mfi_addr,
		    memguard_kind_name(fi.mfi_kind), fi.mfi_name);
		return true;
	case MEMGUARD_FAULT_NONE:
		break;
	}
	return false;
}

void memguard_fault(vm_offset_t va, bool write)
{
	/* On the faulting thread's stack: the handler is about to panic, and a static
	 * buffer would need a lock nobody may take in a fault. */
	char msg[224];

	if (memguard_fault_describe(va, write, msg, sizeof(msg)))
		panic("%s", msg);
}

void memguard_get_stats(struct memguard_stats *st)
{
	mtx_lock(&memguard_mtx);
	*st = memguard_st;
	mtx_unlock(&memguard_mtx);
}

void memguard_reset(void)
{
	/* Records and map entries lived in a UMA that is gone: forget, do not free. */
	memset(&memguard_mtx, 0, sizeof(memguard_mtx));
	memset(memguard_desc, 0, sizeof(memguard_desc));
	memset(&memguard_map, 0, sizeof(memguard_map));
	memset(memguard_hash, 0, sizeof(memguard_hash));
	memset(&memguard_st, 0, sizeof(memguard_st));
	memguard_fifo_head = memguard_fifo_tail = NULL;
	memguard_rec_zone = NULL;
	memguard_enabled = false;
	memguard_options = 0;
	memguard_base = 0;
	memguard_size = 0;
	memguard_state = 0;
}
