/*
 * devmap_map: device registers mapped uncached into the kernel map (devmap.h).
 *
 * pmap maps vm_pages; a device page has none, so each mapped page gets a fictitious one
 * (vm_page_initfake) whose PAT index makes the entry uncached. The records live as long
 * as the mapping, for good: devices are never unmapped. Kernel mappings carry PG_U (the
 * kernel runs at CPL 3, docs/deprivileged-kernel.md), which pmap_enter gives every
 * kernel_pmap entry: an access from the kernel is then an ordinary MMIO access that the
 * hypervisor emulates.
 */
#include "amd64/devmap.h"
#include "kern/systm.h"

#include "vm/malloc.h"
#include "vm/pmap.h"
#include "vm/vm_kern.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"

/* PAT index 3 (PWT | PCD): uncacheable in the reset PAT, which the kernel keeps. */
#define DEVMAP_PAT_UC       3
/* The most a driver maps at once: a register window is a page or two. */
#define DEVMAP_MAX_PAGES    16

MALLOC_DEFINE(M_DEVMAP, "devmap");

volatile void *devmap_map(uint64_t pa, uint64_t size)
{
	uint64_t first = pa & ~(uint64_t)PAGE_MASK;

	if (size == 0 || pa + size < pa)
		return 0;
	uint64_t npages = (pa + size - first + PAGE_MASK) >> PAGE_SHIFT;
	if (npages > DEVMAP_MAX_PAGES)
		return 0;

	vm_offset_t va = KMEM_MIN_ADDRESS;
	if (vm_map_find(kmem_map(), NULL, 0, &va, ptoa(npages), KMEM_MAX_ADDRESS, 0,
	    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE, 0) != 0)
		return 0;
	struct vm_page *fake = kmalloc(npages * sizeof(*fake), M_DEVMAP, M_WAITOK);
	for (uint64_t i = 0; i < npages; i++) {
		vm_page_initfake(&fake[i], first + ptoa(i));
		fake[i].md.pat_mode = DEVMAP_PAT_UC;
		if (pmap_enter(kernel_pmap, va + ptoa(i), &fake[i],
		    VM_PROT_READ | VM_PROT_WRITE, PMAP_ENTER_WIRED | VM_PROT_READ |
		    VM_PROT_WRITE) != 0) {
			/* Only a page-table page could be missing: leave what was mapped
			 * (a few pages of address space) rather than unwind for a boot
			 * that cannot go on with its device anyway. */
			return 0;
		}
	}
	return (volatile void *)(uintptr_t)(va + (pa - first));
}
