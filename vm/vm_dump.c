/*
 * The minidump bitmap (vm/vm_dump.h). Bits are set and cleared with atomic word
 * operations, so the owners (UMA, kmalloc, pmap) call in from any context without a
 * lock; the host reads the words as they are, which is what a dump of a running machine
 * can promise.
 */
#include "vm/vm_dump.h"
#include "vm/vm_page.h"
#include "vm/vm_phys.h"

static uint64_t *vm_dump_words;         /* the bitmap through the direct map, or NULL */
static vm_paddr_t vm_dump_pa;
static uint64_t vm_dump_bits;           /* pages covered */

void vm_dump_reset(void)
{
	vm_dump_words = NULL;
	vm_dump_pa = 0;
	vm_dump_bits = 0;
}

void vm_dump_startup(void)
{
	vm_paddr_t top = 0;
	uint64_t npages;
	vm_page_t m;

	for (int i = 0; i < vm_phys_nsegs; i++)
		top = MAX(top, vm_phys_segs[i].ps_ram_end);
	if (top == 0 || vm_dump_words != NULL)
		return;
	npages = atop(round_page((atop(top) + 7) / 8));
	/* The first pages handed out since boot: fresh RAM, zero already, so nothing is
	 * written here but the bits of the bitmap's own pages. A machine with too little
	 * memory for it has no minidump bitmap: the host's minidump then carries no
	 * direct-map page (UMA's structures are missing from it; --dump-full has them). */
	m = vm_page_alloc_noobj_contig(VM_ALLOC_SYSTEM | VM_ALLOC_WIRED | VM_ALLOC_NOWAIT,
	    npages, 0, ~(vm_paddr_t)0, PAGE_SIZE, 0);
	if (m == NULL)
		return;
	vm_dump_words = VM_PAGE_TO_DMAP(m);
#ifdef VM_HOST
	/* The host platform boots again and again on memory that may have been used. */
	memset(vm_dump_words, 0, ptoa(npages));
#endif
	vm_dump_pa = VM_PAGE_TO_PHYS(m);
	vm_dump_bits = atop(top);
	dump_add_pages(vm_dump_pa, npages);
}

static inline uint64_t *vm_dump_word(vm_paddr_t pa, uint64_t *mask)
{
	uint64_t i = atop(pa);

	if (__predict_false(i >= vm_dump_bits))
		return NULL;
	*mask = 1ull << (i % 64);
	return &vm_dump_words[i / 64];
}

void dump_add_page(vm_paddr_t pa)
{
	uint64_t mask, *w = vm_dump_word(pa, &mask);

	if (w != NULL)
		__atomic_fetch_or(w, mask, __ATOMIC_RELAXED);
}

void dump_drop_page(vm_paddr_t pa)
{
	uint64_t mask, *w = vm_dump_word(pa, &mask);

	if (w != NULL)
		__atomic_fetch_and(w, ~mask, __ATOMIC_RELAXED);
}

void dump_add_pages(vm_paddr_t pa, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++)
		dump_add_page(pa + ptoa(i));
}

void dump_drop_pages(vm_paddr_t pa, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++)
		dump_drop_page(pa + ptoa(i));
}

bool dump_page_is_set(vm_paddr_t pa)
{
	uint64_t mask, *w = vm_dump_word(pa, &mask);

	return w != NULL && (__atomic_load_n(w, __ATOMIC_RELAXED) & mask) != 0;
}

vm_paddr_t vm_dump_bitmap_pa(void)
{
	return vm_dump_pa;
}

uint64_t vm_dump_bitmap_bits(void)
{
	return vm_dump_bits;
}
