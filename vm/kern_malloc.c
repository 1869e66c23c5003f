/*
 * Kernel malloc over UMA: power-of-two size classes from "malloc-16" to "malloc-4096",
 * larger requests from whole contiguous pages, everything counted in a malloc type.
 *
 * kfree tells the two apart without a header in the allocation: the vm_page of the
 * address carries kmem_owner, a slab pointer (UMA: the slab's keg knows the zone and the
 * size) or a tag with the run's length in pages (large).
 *
 * Type counters are per CPU (ks_stats[cpu]) and updated inside a critical section, so
 * malloc takes no lock on its common path either. The type list is linked lazily: a type
 * joins it on its first use, under malloc_type_mtx. The size-class zones are made lazily
 * too, each by the first kmalloc of its size (uma_zcreate_once): boot makes none.
 */
#include "vm/malloc.h"
#include "vm/malloc_int.h"
#include "vm/memguard.h"
#include "vm/uma_int.h"
#include "vm/vm_dump.h"
#include "vm/vm_page.h"
#include "vm/vm_startup.h"

MALLOC_DEFINE(M_TEMP, "temp");
MALLOC_DEFINE(M_DEVBUF, "devbuf");

static struct mtx malloc_type_mtx;
static struct malloc_type *malloc_types;    /* (malloc_type_mtx) */
static uma_zone_t kmem_zones[MALLOC_NCLASSES];     /* NULL until first used */
static bool malloc_up;

static const char *const kmem_zone_names[MALLOC_NCLASSES] = {
	"malloc-16", "malloc-32", "malloc-64", "malloc-128", "malloc-256",
	"malloc-512", "malloc-1024", "malloc-2048", "malloc-4096",
};

int malloc_size_class(size_t size)
{
	if (size <= MALLOC_MIN_SIZE)
		return 0;
	if (size > MALLOC_MAX_ZONE_SIZE)
		return -1;
	/* ceil(log2(size)) - log2(16) */
	return (int)(64 - __builtin_clzll((unsigned long long)size - 1)) - 4;
}

void malloc_type_register(struct malloc_type *type)
{
	KASSERT(type->ks_magic == M_MAGIC,
	    ("malloc_type_register: %p is not a malloc type (MALLOC_DEFINE)", (void *)type));
	mtx_lock(&malloc_type_mtx);
	if (!type->ks_registered) {
		type->ks_next = malloc_types;
		malloc_types = type;
		__atomic_store_n(&type->ks_registered, 1, __ATOMIC_RELEASE);
	}
	mtx_unlock(&malloc_type_mtx);
}

/* For malloc_stats.c: the type list under its lock (malloc_int.h). */
bool malloc_types_lock(bool wait)
{
	if (wait) {
		mtx_lock(&malloc_type_mtx);
		return true;
	}
	return mtx_trylock_unowned(&malloc_type_mtx);
}

void malloc_types_unlock(void)
{
	mtx_unlock(&malloc_type_mtx);
}

struct malloc_type *malloc_types_first(void)
{
	return malloc_types;
}

bool malloc_type_iter(struct malloc_type **typep)
{
	mtx_lock(&malloc_type_mtx);
	*typep = *typep == NULL ? malloc_types : (*typep)->ks_next;
	mtx_unlock(&malloc_type_mtx);
	return *typep != NULL;
}

void malloc_type_summary(const struct malloc_type *type, struct malloc_type_summary *s)
{
	memset(s, 0, sizeof(*s));
	for (int cpu = 0; cpu < vm_ncpus(); cpu++) {
		const struct malloc_type_stats *st = &type->ks_stats[cpu];
		s->mtsu_memalloced += __atomic_load_n(&st->mts_memalloced, __ATOMIC_RELAXED);
		s->mtsu_memfreed += __atomic_load_n(&st->mts_memfreed, __ATOMIC_RELAXED);
		s->mtsu_numallocs += __atomic_load_n(&st->mts_numallocs, __ATOMIC_RELAXED);
		s->mtsu_numfrees += __atomic_load_n(&st->mts_numfrees, __ATOMIC_RELAXED);
		s->mtsu_failures += __atomic_load_n(&st->mts_failures, __ATOMIC_RELAXED);
		s->mtsu_size |= __atomic_load_n(&st->mts_size, __ATOMIC_RELAXED);
	}
	s->mtsu_inuse_bytes = s->mtsu_memalloced - s->mtsu_memfreed;
	s->mtsu_inuse = s->mtsu_numallocs - s->mtsu_numfrees;
}

static inline void malloc_type_check(struct malloc_type *type)
{
	KASSERT(type != NULL && type->ks_magic == M_MAGIC,
	    ("malloc: %p is not a malloc type (MALLOC_DEFINE)", (void *)type));
	if (__predict_false(!__atomic_load_n(&type->ks_registered, __ATOMIC_ACQUIRE)))
		malloc_type_register(type);
}

/* Count an allocation of `bytes` (0: a failure) in the calling CPU's counters. */
static inline void malloc_type_count_alloc(struct malloc_type *type, uint64_t bytes,
    uint64_t sizebit)
{
	critical_enter();
	struct malloc_type_stats *st = &type->ks_stats[vm_curcpu()];
	if (bytes != 0) {
		st->mts_memalloced += bytes;
		st->mts_numallocs++;
		st->mts_size |= sizebit;
	} else {
		st->mts_failures++;
	}
	critical_exit();
}

static inline void malloc_type_count_free(struct malloc_type *type, uint64_t bytes)
{
	critical_enter();
	struct malloc_type_stats *st = &type->ks_stats[vm_curcpu()];
	st->mts_memfreed += bytes;
	st->mts_numfrees++;
	critical_exit();
}

/* Whole pages for a large allocation, tagged so kfree knows their number. */
static void *malloc_large(size_t size, int flags)
{
	uint64_t npages = round_page(size) / PAGE_SIZE;
	int req = malloc2vm_flags(flags) | VM_ALLOC_WIRED;
	vm_page_t m;

	m = vm_page_alloc_noobj_contig(req, npages, 0, ~(vm_paddr_t)0, PAGE_SIZE, 0);
	if (m == NULL && (flags & M_WAITOK)) {
		/* Free pages may exist but not in one run: let UMA give back its caches. */
		for (int tries = 0; m == NULL && tries < 100; tries++) {
			uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
			vm_page_drain_caches();
			m = vm_page_alloc_noobj_contig(req, npages, 0, ~(vm_paddr_t)0,
			    PAGE_SIZE, 0);
		}
		if (m == NULL)
			panic("kmalloc: no run of %lu contiguous pages for an M_WAITOK request",
			    (unsigned long)npages);
	}
	if (m == NULL)
		return NULL;
	m[0].kmem_owner = KMEM_OWNER_TAG(KMEM_KIND_LARGE, npages);
	for (uint64_t i = 1; i < npages; i++)
		m[i].kmem_owner = KMEM_OWNER_TAG(KMEM_KIND_LARGE, 0);
	/* Kernel structures in the direct map: a minidump carries them. */
	dump_add_pages(VM_PAGE_TO_PHYS(m), npages);
	return VM_PAGE_TO_DMAP(m);
}

/* The size-class zone of cls, made now if this is its first allocation. Items are
 * aligned to their size (malloc.h promises it; slab colouring must keep it). */
static uma_zone_t __attribute__((noinline)) kmem_zone_make(int cls, int flags)
{
	size_t size = (size_t)MALLOC_MIN_SIZE << cls;

	return uma_zcreate_once(&kmem_zones[cls], kmem_zone_names[cls], size,
	    (int)(MIN(size, PAGE_SIZE) - 1), 0, flags & (M_WAITOK | M_NOWAIT));
}

/* Whole pages, counted; out of line so the common path keeps few registers. */
static void *__attribute__((noinline)) kmalloc_large(size_t size, struct malloc_type *type,
    int flags)
{
	void *va = malloc_large(size, flags);

	malloc_type_count_alloc(type, va != NULL ? round_page(size) : 0, MALLOC_SIZE_LARGE);
	return va;
}

/* A guarded allocation when MemGuard is on and this is its type (vm/memguard.h);
 * NULL: serve it the usual way. Out of line: the common path pays one load. */
static void *__attribute__((noinline)) kmalloc_guarded(size_t size,
    struct malloc_type *type, int flags)
{
	void *va;
	int cls;

	if (!memguard_cmp_name(type->ks_shortdesc) ||
	    (va = memguard_alloc(size, flags, type->ks_shortdesc, MEMGUARD_KIND_MALLOC)) == NULL)
		return NULL;
	cls = malloc_size_class(size);
	malloc_type_count_alloc(type, memguard_usable_size(va),
	    cls >= 0 ? 1ull << cls : MALLOC_SIZE_LARGE);
	return va;
}

void *kmalloc(size_t size, struct malloc_type *type, int flags)
{
	uma_zone_t zone;
	void *va;
	int cls;

	KASSERT(malloc_up, ("kmalloc: malloc is not up"));
	KASSERT(((flags & M_WAITOK) != 0) != ((flags & M_NOWAIT) != 0),
	    ("kmalloc: give exactly one of M_WAITOK and M_NOWAIT (%#x)", flags));
	malloc_type_check(type);
	if (__predict_false(__atomic_load_n(&memguard_enabled, __ATOMIC_RELAXED)) &&
	    (va = kmalloc_guarded(size, type, flags)) != NULL)
		return va;
	if (__predict_false(size > MALLOC_MAX_ZONE_SIZE))
		return kmalloc_large(size, type, flags);
	cls = malloc_size_class(size);
	zone = __atomic_load_n(&kmem_zones[cls], __ATOMIC_ACQUIRE);
	if (__predict_false(zone == NULL) && (zone = kmem_zone_make(cls, flags)) == NULL)
		va = NULL;
	else
		va = uma_zalloc(zone, flags);
	malloc_type_count_alloc(type, va != NULL ? (uint64_t)MALLOC_MIN_SIZE << cls : 0,
	    1ull << cls);
	return va;
}

/* What kfree needs to know about an address: its zone (NULL: large) and its size. */
static inline uma_zone_t malloc_lookup(const void *addr, uint64_t *bytesp, vm_page_t *mp)
{
	vm_page_t m = PHYS_TO_VM_PAGE(vm_dmap_to_phys(addr));
	uintptr_t owner;

	KASSERT(m != NULL, ("kfree: %p is not kernel memory", addr));
	owner = m->kmem_owner;
	if (__predict_true((owner & KMEM_OWNER_TAGGED) == 0)) {
		KASSERT(owner != 0, ("kfree: %p was not allocated (page is not kernel memory)",
		    addr));
		uma_zone_t zone = uma_slab_zone((struct uma_slab *)owner);
		*bytesp = zone->uz_size;
		return zone;
	}
	KASSERT(KMEM_OWNER_KIND(owner) == KMEM_KIND_LARGE && KMEM_OWNER_NPAGES(owner) != 0 &&
	    ((uintptr_t)addr & PAGE_MASK) == 0,
	    ("kfree: %p is not the start of a kmalloc allocation (owner %#lx)", addr,
	    (unsigned long)owner));
	*bytesp = ptoa(KMEM_OWNER_NPAGES(owner));
	*mp = m;
	return NULL;
}

size_t kmalloc_usable_size(const void *addr)
{
	uint64_t bytes;
	vm_page_t m;

	if (addr == NULL)
		return 0;
	if (__predict_false(memguard_owns(addr)))
		return memguard_usable_size(addr);
	malloc_lookup(addr, &bytes, &m);
	return bytes;
}

void kfree(void *addr, struct malloc_type *type)
{
	uint64_t bytes;
	vm_page_t m = NULL;
	uma_zone_t zone;

	if (addr == NULL)
		return;
	KASSERT(type != NULL && type->ks_magic == M_MAGIC,
	    ("kfree: %p is not a malloc type", (void *)type));
	if (__predict_false(memguard_owns(addr))) {
		malloc_type_count_free(type, memguard_free(addr));
		return;
	}
	zone = malloc_lookup(addr, &bytes, &m);
	if (zone != NULL) {
		KASSERT(zone == kmem_zones[malloc_size_class(bytes)],
		    ("kfree: %p belongs to zone %s, not kmalloc", addr, zone->uz_name));
		uma_zfree(zone, addr);
	} else {
		uint64_t npages = bytes / PAGE_SIZE;
		for (uint64_t i = 0; i < npages; i++)
			m[i].kmem_owner = 0;
		dump_drop_pages(VM_PAGE_TO_PHYS(m), npages);
		vm_page_free_contig(m, npages);
	}
	malloc_type_count_free(type, bytes);
}

void kzfree(void *addr, struct malloc_type *type)
{
	if (addr == NULL)
		return;
	/* volatile: the stores must not be dropped as dead before the free. */
	volatile uint8_t *p = addr;
	size_t n = kmalloc_usable_size(addr);
	for (size_t i = 0; i < n; i++)
		p[i] = 0;
	kfree(addr, type);
}

void *krealloc(void *addr, size_t size, struct malloc_type *type, int flags)
{
	size_t old, keep;
	void *nva;

	if (addr == NULL)
		return kmalloc(size, type, flags);
	old = kmalloc_usable_size(addr);
	/* Stay put when the size fits and would not waste more than half. */
	if (size <= old && (size > old / 2 || old == MALLOC_MIN_SIZE))
		return addr;
	nva = kmalloc(size, type, flags & ~M_ZERO);
	if (nva == NULL)
		return NULL;
	keep = MIN(old, size);
	memcpy(nva, addr, keep);
	if ((flags & M_ZERO) && size > keep)
		memset((uint8_t *)nva + keep, 0, kmalloc_usable_size(nva) - keep);
	kfree(addr, type);
	return nva;
}

/* ---- contigmalloc (the page part is in contig.c) -------------------------------- */

void malloc_type_count_contig(struct malloc_type *type, uint64_t bytes, bool alloc)
{
	malloc_type_check(type);
	if (alloc)
		malloc_type_count_alloc(type, bytes, MALLOC_SIZE_CONTIG);
	else
		malloc_type_count_free(type, bytes);
}

/* ---- boot ------------------------------------------------------------------------ */

/*
 * A fresh type list with the core's types; no zones (each size class is made by its first
 * kmalloc). On a re-boot (host tests, vm_startup_reset) the statically defined types
 * still hold the previous boot's counters and links, and kmem_zones the previous
 * machine's zones: forget them. A fresh kernel finds this state and an unlocked
 * all-zero lock already, so the guest skips it (each instruction is emulated).
 */
void malloc_reset(void)
{
	malloc_up = false;
	for (struct malloc_type *t = malloc_types, *next; t != NULL; t = next) {
		next = t->ks_next;
		memset(t->ks_stats, 0, sizeof(t->ks_stats));
		t->ks_next = NULL;
		t->ks_registered = 0;
	}
	malloc_types = NULL;
	mtx_init(&malloc_type_mtx, "malloc types");
	for (int i = 0; i < MALLOC_NCLASSES; i++)
		kmem_zones[i] = NULL;
}

void malloc_startup(void)
{
	KASSERT(uma_is_up(), ("malloc_startup: UMA is not up"));
	malloc_up = true;
	/* Alone at boot: the core's types join the list without the lock. */
	M_TEMP->ks_next = M_DEVBUF;
	M_TEMP->ks_registered = 1;
	M_DEVBUF->ks_next = NULL;
	M_DEVBUF->ks_registered = 1;
	malloc_types = M_TEMP;
}
