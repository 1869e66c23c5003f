/*
 * vm_kern: the kernel map (vm/vm_kern.h). Address ranges come from a vm_map over
 * [KMEM_MIN_ADDRESS, KMEM_MAX_ADDRESS); pages from vm_page, entered wired into
 * kernel_pmap. No object holds the pages: kmem_unback finds each one again with
 * pmap_extract before it removes the mappings, so a range costs no more than its map
 * entry, its pages and their page-table entries.
 *
 * The pages are PG_UNMANAGED (as FreeBSD's kernel_object pages are VPO_UNMANAGED): a
 * kernel mapping is never paged out or shared, so it needs no pv entry, and its pages
 * never reach a page queue.
 *
 * Lock order: kmem_map's lock is dropped before pages are allocated or entered (pmap's
 * locks and vm_phys's are taken without it).
 */
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_errno.h"
#include "vm/vm_kern.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"

/* Pages handled per batch: a stack array of page pointers, one pmap call each. */
#define KMEM_BATCH          KMEM_UNBACK_BATCH

/* How often an M_WAITOK request reclaims UMA's caches and retries before it panics
 * (malloc_large's rule: pages may be free but held in caches). */
#define KMEM_WAIT_TRIES     100

static struct vm_map kmem_map_store;    /* M */
static int kmem_state;                  /* A: KMEM_NONE, _MAKING, _UP */
static uint64_t kmem_npages;            /* A */

#define KMEM_NONE   0
#define KMEM_MAKING 1
#define KMEM_UP     2

void kmem_init(void)
{
	int s = KMEM_NONE;

	if (__predict_true(__atomic_load_n(&kmem_state, __ATOMIC_ACQUIRE) == KMEM_UP))
		return;
	/* vm_map_init may sleep, so no mutex guards the making: the winner of the race
	 * makes the map, a loser (host tests only: the guest has one thread) waits. */
	if (__atomic_compare_exchange_n(&kmem_state, &s, KMEM_MAKING, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		vm_map_init(&kmem_map_store, kernel_pmap, KMEM_MIN_ADDRESS, KMEM_MAX_ADDRESS);
		__atomic_store_n(&kmem_state, KMEM_UP, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&kmem_state, __ATOMIC_ACQUIRE) != KMEM_UP)
		__asm__ volatile("pause");
}

struct vm_map *kmem_map(void)
{
	kmem_init();
	return &kmem_map_store;
}

uint64_t kmem_pages(void)
{
	return __atomic_load_n(&kmem_npages, __ATOMIC_RELAXED);
}

void kmem_reset(void)
{
	/* The map's entries lived in a UMA that is gone: nothing to free, only forget. */
	memset(&kmem_map_store, 0, sizeof(kmem_map_store));
	kmem_state = KMEM_NONE;
	kmem_npages = 0;
}

/* Free n pages that are mapped nowhere (the allocation's own wiring goes with them). */
static void kmem_free_pages(vm_page_t *ma, int n)
{
	for (int i = 0; i < n; i++) {
		/* pmap set no dirty bits on an unmanaged page, but a page leaves clean. */
		ma[i]->dirty = 0;
		vm_page_free(ma[i]);
	}
}

/*
 * Up to KMEM_BATCH pages at va, wired and mapped. => the number mapped (all n, or
 * fewer on a shortage: those mapped stay mapped, the rest are freed).
 */
static int kmem_back_batch(vm_offset_t va, int n, int req)
{
	vm_page_t ma[KMEM_BATCH];
	int got, entered;

	got = vm_page_alloc_noobj_batch(req, n, ma);
	for (int i = 0; i < got; i++)
		ma[i]->flags |= PG_UNMANAGED;
	entered = got == 0 ? 0 : pmap_enter_run(kernel_pmap, va, ma, got,
	    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_WRITE | PMAP_ENTER_WIRED);
	kmem_free_pages(&ma[entered], got - entered);
	__atomic_fetch_add(&kmem_npages, (uint64_t)entered, __ATOMIC_RELAXED);
	return entered;
}

int kmem_back(vm_offset_t addr, vm_size_t size, int flags)
{
	int req = malloc2vm_flags(flags) | VM_ALLOC_WIRED;
	vm_offset_t va = addr, end = addr + size;
	int tries = 0;

	KASSERT(((addr | size) & PAGE_MASK) == 0 && addr >= KMEM_MIN_ADDRESS &&
	    end <= KMEM_MAX_ADDRESS && addr < end,
	    ("kmem_back: bad range [%#lx, %#lx)", (unsigned long)addr, (unsigned long)end));
	while (va < end) {
		int n = (int)MIN(atop(end - va), (uint64_t)KMEM_BATCH);
		int done = kmem_back_batch(va, n, req);

		va += ptoa(done);
		if (done == n)
			continue;
		/* A page-table page or a page was short (pmap_enter never sleeps). */
		if ((flags & M_WAITOK) == 0) {
			if (va > addr)
				kmem_unback(addr, va - addr);
			return ENOMEM;
		}
		if (++tries > KMEM_WAIT_TRIES)
			panic("kmem_back: no memory for the pages or page tables of [%#lx, %#lx) "
			    "after %d reclaims", (unsigned long)addr, (unsigned long)end,
			    KMEM_WAIT_TRIES);
		uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
		vm_page_drain_caches();
	}
	return 0;
}

void kmem_unback(vm_offset_t addr, vm_size_t size)
{
	vm_page_t ma[KMEM_BATCH];
	vm_offset_t va = addr, end = addr + size;

	KASSERT(((addr | size) & PAGE_MASK) == 0 && addr >= KMEM_MIN_ADDRESS &&
	    end <= KMEM_MAX_ADDRESS && addr <= end,
	    ("kmem_unback: bad range [%#lx, %#lx)", (unsigned long)addr, (unsigned long)end));
	while (va < end) {
		int n = (int)MIN(atop(end - va), (uint64_t)KMEM_BATCH);

		for (int i = 0; i < n; i++) {
			vm_paddr_t pa = pmap_extract(kernel_pmap, va + ptoa(i));
			KASSERT(pa != 0, ("kmem_unback: %#lx is not mapped",
			    (unsigned long)(va + ptoa(i))));
			ma[i] = PHYS_TO_VM_PAGE(pa);
			KASSERT(ma[i] != NULL, ("kmem_unback: %#lx maps %#lx, not a page of RAM",
			    (unsigned long)(va + ptoa(i)), (unsigned long)pa));
		}
		/* The pages go back only after the invalidation pmap_remove ends with. */
		pmap_remove(kernel_pmap, va, va + ptoa(n));
		kmem_free_pages(ma, n);
		__atomic_fetch_sub(&kmem_npages, (uint64_t)n, __ATOMIC_RELAXED);
		va += ptoa(n);
	}
}

vm_offset_t kmem_alloc(vm_size_t size, int flags)
{
	vm_offset_t addr = KMEM_MIN_ADDRESS;
	int rv;

	KASSERT(size > 0, ("kmem_alloc: size 0"));
	KASSERT(((flags & M_WAITOK) != 0) != ((flags & M_NOWAIT) != 0),
	    ("kmem_alloc: give exactly one of M_WAITOK and M_NOWAIT (%#x)", flags));
	size = round_page(size);
	rv = vm_map_find(kmem_map(), NULL, 0, &addr, size, KMEM_MAX_ADDRESS, 0,
	    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE, 0);
	if (rv != 0) {
		if (flags & M_WAITOK)
			panic("kmem_alloc: no room for %lu bytes in the kernel map (error %d)",
			    (unsigned long)size, rv);
		return 0;
	}
	if (kmem_back(addr, size, flags) != 0) {
		vm_map_remove(&kmem_map_store, addr, addr + size);
		return 0;
	}
	return addr;
}

void kmem_free(vm_offset_t addr, vm_size_t size)
{
	size = round_page(size);
	kmem_unback(addr, size);
	vm_map_remove(kmem_map(), addr, addr + size);
}
