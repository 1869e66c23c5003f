/*
 * The page-table walker and free-page count of vmt_pmap.h.
 */
#include "tests/vmtests/vmt_pmap.h"
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_lowmem.h"

uint64_t vmt_pt_walk(vm_paddr_t root, vm_offset_t va, const char **why)
{
	static const char *const bad[2] = { "an upper level is not RW|A, or is PS or NX",
	    "an upper level is not user-accessible (the kernel runs at CPL 3)" };
	uint64_t *t = vm_phys_to_dmap(root);

	if (why != NULL)
		*why = NULL;
	for (int shift = 39; shift >= 21; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];
		if ((e & PG_V) == 0)
			return 0;
		const char *w = (e & (PG_RW | PG_A | PG_PS | PG_NX)) != (PG_RW | PG_A) ? bad[0] :
		    (e & PG_U) == 0 ? bad[1] : NULL;
		if (w != NULL) {
			if (why != NULL)
				*why = w;
			return 0;
		}
		t = vm_phys_to_dmap(e & PG_FRAME);
	}
	return t[(va >> PAGE_SHIFT) & 511];
}

uint64_t vmt_free_pages(void)
{
	static struct pmap p;
	static bool warm;

	if (!warm) {
		vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);
		if (m != NULL && pmap_pinit(&p) == 0) {
			/* Two mappings of the page: the first is kept in the page itself
			 * (md_page.h), only the second takes a pv entry from UMA. */
			if (pmap_enter(&p, 0, m, VM_PROT_READ, VM_PROT_READ) == 0)
				(void)pmap_enter(&p, PAGE_SIZE, m, VM_PROT_READ, VM_PROT_READ);
			pmap_remove(&p, 0, 2 * PAGE_SIZE);
			pmap_release(&p);
		}
		if (m != NULL)
			vm_page_free(m);
		warm = true;
	}
	return vmt_count_free_pages();
}

uint64_t vmt_count_free_pages(void)
{
	return vm_free_pages_settled();
}
