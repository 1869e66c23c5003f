/*
 * contigmalloc/contigfree: physically contiguous kernel memory inside an address range,
 * with an alignment and a boundary, straight from vm_page's contiguous allocator. The
 * pages are tagged in kmem_owner (so kfree of such memory is caught) and counted in the
 * caller's malloc type.
 */
#include "vm/malloc.h"
#include "vm/uma.h"
#include "vm/vm_page.h"

/*
 * => may sleep with M_WAITOK (in vm_page), but returns NULL when no run exists even
 *    after UMA gave its caches back: a range constraint may be unsatisfiable.
 */
void *contigmalloc(size_t size, struct malloc_type *type, int flags, vm_paddr_t low,
    vm_paddr_t high, uint64_t alignment, uint64_t boundary)
{
	uint64_t npages = round_page(size) / PAGE_SIZE;
	int req;
	vm_page_t m;

	KASSERT(((flags & M_WAITOK) != 0) != ((flags & M_NOWAIT) != 0),
	    ("contigmalloc: give exactly one of M_WAITOK and M_NOWAIT (%#x)", flags));
	KASSERT(npages > 0, ("contigmalloc: zero size"));
	KASSERT(alignment == 0 || powerof2(alignment), ("contigmalloc: alignment %#lx",
	    (unsigned long)alignment));
	KASSERT(boundary == 0 || (powerof2(boundary) && boundary >= ptoa(npages)),
	    ("contigmalloc: boundary %#lx below the size %#lx", (unsigned long)boundary,
	    (unsigned long)ptoa(npages)));
	if (alignment < PAGE_SIZE)
		alignment = PAGE_SIZE;
	/* A contiguous run cannot wait the way a single page can: try, reclaim, retry. */
	req = malloc2vm_flags((flags & ~M_WAITOK) | M_NOWAIT) | VM_ALLOC_WIRED;
	m = vm_page_alloc_noobj_contig(req, npages, low, high, alignment, boundary);
	if (m == NULL && (flags & M_WAITOK)) {
		/* UMA's frees land in vm_page's per-CPU caches: drain those after. */
		uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
		vm_page_drain_caches();
		m = vm_page_alloc_noobj_contig(req, npages, low, high, alignment, boundary);
	}
	if (m == NULL) {
		malloc_type_count_contig(type, 0, true);
		return NULL;
	}
	m[0].kmem_owner = KMEM_OWNER_TAG(KMEM_KIND_CONTIG, npages);
	for (uint64_t i = 1; i < npages; i++)
		m[i].kmem_owner = KMEM_OWNER_TAG(KMEM_KIND_CONTIG, 0);
	malloc_type_count_contig(type, ptoa(npages), true);
	return VM_PAGE_TO_DMAP(m);
}

void contigfree(void *addr, size_t size, struct malloc_type *type)
{
	uint64_t npages = round_page(size) / PAGE_SIZE;
	vm_page_t m;

	if (addr == NULL)
		return;
	m = PHYS_TO_VM_PAGE(vm_dmap_to_phys(addr));
	KASSERT(m != NULL && ((uintptr_t)addr & PAGE_MASK) == 0,
	    ("contigfree: %p is not a contigmalloc address", addr));
	KASSERT(m->kmem_owner == KMEM_OWNER_TAG(KMEM_KIND_CONTIG, npages),
	    ("contigfree: %p: owner %#lx does not match a contigmalloc of %zu bytes", addr,
	    (unsigned long)m->kmem_owner, size));
	for (uint64_t i = 0; i < npages; i++)
		m[i].kmem_owner = 0;
	vm_page_free_contig(m, npages);
	malloc_type_count_contig(type, ptoa(npages), false);
}
