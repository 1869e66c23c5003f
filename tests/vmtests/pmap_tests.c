/*
 * pmap checks that hold on any running VM core: a second pmap (never loaded, so none of
 * this costs an invalidation) built, changed and torn down on the real page tables of
 * the machine, each step read back by walking the entries here; and, in the guest, a
 * page mapped through kernel_pmap and touched through that mapping. Free pages are back
 * to their start value at the end.
 */
#include "guest/amd64/pmap_int.h"
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_page.h"
#include "tests/vmtests/vmtest.h"
#include "tests/vmtests/vmt_pmap.h"

#define PMT_VA      0x10000000ul    /* a user address, 2 MiB aligned */
#define PMT_N       8

/* The shared walker (tests/vmtests/vmt_pmap.c); 0 also for a malformed upper level. */
static uint64_t pmt_walk(vm_paddr_t root, vm_offset_t va)
{
	return vmt_pt_walk(root, va, NULL);
}

VMTEST(pmap, second_pmap)
{
	struct pmap p;
	vm_page_t m[PMT_N];
	uint64_t free0;
	int n;

	pmap_init();
	free0 = vmt_free_pages();
	for (int i = 0; i < PMT_N; i++) {
		m[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);
		VMT_ASSERT(m[i] != NULL);
	}
	VMT_ASSERT_EQ(pmap_pinit(&p), 0);
	/* The kernel half is the kernel's. */
	VMT_ASSERT(memcmp(&p.pm_pml4[PMAP_KERNEL_SLOT0],
	    &kernel_pmap->pm_pml4[PMAP_KERNEL_SLOT0], 256 * sizeof(uint64_t)) == 0);
	n = pmap_enter_run(&p, PMT_VA, m, PMT_N, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_WRITE);
	VMT_ASSERT_EQ(n, PMT_N);
	for (int i = 0; i < PMT_N; i++) {
		vm_offset_t va = PMT_VA + ptoa(i);
		uint64_t e = pmt_walk(p.pm_cr3, va);
		VMT_ASSERT_EQ(e, VM_PAGE_TO_PHYS(m[i]) | PG_V | PG_RW | PG_U | PG_A | PG_M |
		    PG_NX | PG_MANAGED);
		VMT_ASSERT_EQ(pmap_extract(&p, va + 9), VM_PAGE_TO_PHYS(m[i]) + 9);
		VMT_ASSERT(pmap_is_modified(m[i]));
	}
	VMT_ASSERT_EQ(pmap_resident_count(&p), PMT_N);

	/* Read-only: RW and PG_M go, NX stays, the pages are left dirty. */
	pmap_protect(&p, PMT_VA, PMT_VA + ptoa(PMT_N), VM_PROT_READ);
	for (int i = 0; i < PMT_N; i++) {
		uint64_t e = pmt_walk(p.pm_cr3, PMT_VA + ptoa(i));
		VMT_ASSERT_EQ(e & (PG_V | PG_RW | PG_M | PG_NX), PG_V | PG_NX);
		VMT_ASSERT(!pmap_is_modified(m[i]));
		VMT_ASSERT_EQ(m[i]->dirty, 0xff);
	}
	/* Referenced once each (entered with PG_A), then not. */
	VMT_ASSERT_EQ(pmap_ts_referenced(m[0]), 1);
	VMT_ASSERT_EQ(pmap_ts_referenced(m[0]), 0);
	pmap_remove_all(m[1]);
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, PMT_VA + ptoa(1)), 0);
	VMT_ASSERT(!pmap_page_is_mapped(m[1]));

	pmap_remove(&p, PMT_VA, PMT_VA + ptoa(PMT_N));
	VMT_ASSERT_EQ(pmap_resident_count(&p), 0);
	VMT_ASSERT_EQ(p.pm_stats.pt_count, 0);
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, PMT_VA), 0);
	pmap_release(&p);
	for (int i = 0; i < PMT_N; i++) {
		m[i]->dirty = 0;
		vm_page_free(m[i]);
	}
	VMT_ASSERT_EQ(vmt_free_pages(), free0);
}

/*
 * pmap_remove_all_pages over a run whose mappings are what the one-page walk must get
 * right and the batch could get wrong: consecutive addresses across a page-table
 * boundary (the step to the neighbour entry must not cross it), a page mapped out of
 * line, pages mapped in a second pmap and twice in the first (more pv entries than the
 * page's own slot). Every mapping goes, the emptied page tables with them, and the
 * entries' modified and accessed bits end on the pages.
 */
#define PMT_RUN     12
VMTEST(pmap, remove_all_pages_run)
{
	/* Pages 0..3 end one page table, 4.. start the next; page 6 lives elsewhere. */
	const vm_offset_t base = PMT_VA + NBPDR - ptoa(4), away = PMT_VA + 3 * NBPDR;
	struct pmap p, q;
	vm_page_t m[PMT_RUN];
	uint64_t free0;

	pmap_init();
	free0 = vmt_free_pages();
	for (int i = 0; i < PMT_RUN; i++) {
		m[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);
		VMT_ASSERT(m[i] != NULL);
	}
	VMT_ASSERT_EQ(pmap_pinit(&p), 0);
	VMT_ASSERT_EQ(pmap_pinit(&q), 0);
	for (int i = 0; i < PMT_RUN; i++) {
		vm_offset_t va = i == 6 ? away : base + ptoa(i);
		/* Page 3 is written (PG_M), the others only read. */
		VMT_ASSERT_EQ(pmap_enter(&p, va, m[i], VM_PROT_READ | VM_PROT_WRITE,
		    i == 3 ? VM_PROT_WRITE : VM_PROT_READ), 0);
	}
	VMT_ASSERT_EQ(pmap_enter(&p, away + ptoa(1), m[5], VM_PROT_READ, VM_PROT_READ), 0);
	for (int i = 2; i < PMT_RUN; i += 3)
		VMT_ASSERT_EQ(pmap_enter(&q, base + ptoa(i), m[i], VM_PROT_READ,
		    VM_PROT_READ), 0);
	VMT_ASSERT_EQ(pmap_resident_count(&p), PMT_RUN + 1);
	VMT_ASSERT_EQ(pmap_resident_count(&q), 4);
	VMT_ASSERT(p.pm_stats.pt_count > 0 && q.pm_stats.pt_count > 0);

	pmap_remove_all_pages(m, PMT_RUN);
	for (int i = 0; i < PMT_RUN; i++) {
		VMT_ASSERT(!pmap_page_is_mapped(m[i]));
		VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, base + ptoa(i)), 0);
		VMT_ASSERT_EQ(pmt_walk(q.pm_cr3, base + ptoa(i)), 0);
		VMT_ASSERT_EQ(m[i]->dirty, i == 3 ? 0xff : 0);
		VMT_ASSERT((m[i]->aflags & PGA_REFERENCED) != 0);   /* entered with PG_A */
		VMT_ASSERT_EQ(m[i]->aflags & PGA_WRITEABLE, 0);
	}
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, away), 0);
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, away + ptoa(1)), 0);
	VMT_ASSERT_EQ(pmap_resident_count(&p), 0);
	VMT_ASSERT_EQ(pmap_resident_count(&q), 0);
	VMT_ASSERT_EQ(p.pm_stats.pt_count, 0);
	VMT_ASSERT_EQ(q.pm_stats.pt_count, 0);
	/* An empty run and unmapped pages are nothing to do. */
	pmap_remove_all_pages(m, 0);
	pmap_remove_all_pages(m, PMT_RUN);
	pmap_release(&p);
	pmap_release(&q);
	for (int i = 0; i < PMT_RUN; i++) {
		m[i]->dirty = 0;
		m[i]->aflags = 0;
		vm_page_free(m[i]);
	}
	VMT_ASSERT_EQ(vmt_free_pages(), free0);
}

/*
 * The page-level calls find entries through the pmap's table cache, which a look-up
 * fills: after the cached table is emptied and freed, and a new one made for the same
 * 2 MiB, pmap_ts_referenced must clear the accessed bit in the new table's entry.
 */
VMTEST(pmap, referenced_through_table_cache)
{
	struct pmap p;
	vm_page_t m[2];
	uint64_t free0;

	pmap_init();
	free0 = vmt_free_pages();
	for (int i = 0; i < 2; i++) {
		m[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);
		VMT_ASSERT(m[i] != NULL);
	}
	VMT_ASSERT_EQ(pmap_pinit(&p), 0);
	VMT_ASSERT_EQ(pmap_enter(&p, PMT_VA, m[0], VM_PROT_READ, VM_PROT_READ), 0);
	VMT_ASSERT_EQ(pmap_ts_referenced(m[0]), 1);     /* entered with PG_A */
	VMT_ASSERT_EQ(pmap_ts_referenced(m[0]), 0);
	pmap_remove(&p, PMT_VA, PMT_VA + PAGE_SIZE);
	VMT_ASSERT_EQ(p.pm_stats.pt_count, 0);
	/* A page of the same 2 MiB: a new table. */
	VMT_ASSERT_EQ(pmap_enter(&p, PMT_VA + ptoa(7), m[1], VM_PROT_READ, VM_PROT_READ), 0);
	VMT_ASSERT(pmt_walk(p.pm_cr3, PMT_VA + ptoa(7)) & PG_A);
	VMT_ASSERT_EQ(pmap_ts_referenced(m[1]), 1);
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, PMT_VA + ptoa(7)) & (PG_A | PG_V), PG_V);
	VMT_ASSERT_EQ(pmap_ts_referenced(m[1]), 0);
	pmap_remove(&p, PMT_VA, PMT_VA + NBPDR);
	pmap_release(&p);
	for (int i = 0; i < 2; i++) {
		m[i]->aflags = 0;
		vm_page_free(m[i]);
	}
	VMT_ASSERT_EQ(vmt_free_pages(), free0);
}

VMTEST(pmap, kernel_mapping)
{
	vm_offset_t kva = KVA_BASE + 0x200000 + 5 * PAGE_SIZE;
	vm_page_t m;

	pmap_init();
	m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | VM_ALLOC_ZERO);
	VMT_ASSERT(m != NULL);
	VMT_ASSERT_EQ(pmap_enter(kernel_pmap, kva, m, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_WRITE), 0);
	uint64_t e = pmt_walk(kernel_pmap->pm_cr3, kva);
	VMT_ASSERT_EQ(e & (PG_FRAME | PG_V | PG_RW | PG_U | PG_G | PG_NX),
	    VM_PAGE_TO_PHYS(m) | PG_V | PG_RW | PG_U | PG_NX);     /* CPL 3 kernel: U, never G */
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, kva + 1), VM_PAGE_TO_PHYS(m) + 1);
#ifndef VM_HOST
	/* In the guest the kernel root is loaded: a store through the new mapping lands
	 * in the page (seen through the direct map), and a load reads it back. */
	volatile uint64_t *p = (volatile uint64_t *)kva;
	p[3] = 0x1234abcdull;
	VMT_ASSERT_EQ(((uint64_t *)VM_PAGE_TO_DMAP(m))[3], 0x1234abcdull);
	VMT_ASSERT_EQ(p[3], 0x1234abcdull);
#endif
	pmap_remove(kernel_pmap, kva, kva + PAGE_SIZE);
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, kva), 0);
	VMT_ASSERT_EQ(pmt_walk(kernel_pmap->pm_cr3, kva), 0);
	m->dirty = 0;
	vm_page_free(m);
}

#ifndef VM_HOST
#include "amd64/pcpu.h"

/*
 * A user fault's new entry left for the return to user mode (pmap_md_pte_defer): not in
 * the table while it waits, and made by the first walk that follows, by an explicit
 * flush, and never twice over an entry that changed since. Only one waits at a time.
 */
VMTEST(pmap, deferred_entry)
{
	struct pcpu *pc = pcpu_self();
	struct pmap p;
	vm_page_t m[2];
	uint64_t free0, want;

	pmap_init();
	free0 = vmt_free_pages();
	for (int i = 0; i < 2; i++) {
		m[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);
		VMT_ASSERT(m[i] != NULL);
	}
	VMT_ASSERT_EQ(pmap_pinit(&p), 0);
	VMT_ASSERT_EQ(pc->pc_pte_addr, 0);

	pc->pc_pte_defer = true;
	VMT_ASSERT_EQ(pmap_enter_run(&p, PMT_VA, &m[0], 1, VM_PROT_READ | VM_PROT_WRITE,
	    VM_PROT_WRITE | PMAP_ENTER_NEW), 1);
	/* The second waits for no one: the first is made, then the second is left. */
	VMT_ASSERT(pc->pc_pte_addr != 0);
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, PMT_VA), 0);
	VMT_ASSERT_EQ(pmap_enter_run(&p, PMT_VA + PAGE_SIZE, &m[1], 1,
	    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_WRITE | PMAP_ENTER_NEW), 1);
	pc->pc_pte_defer = false;
	want = PG_V | PG_RW | PG_U | PG_A | PG_M | PG_NX | PG_MANAGED;
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, PMT_VA), VM_PAGE_TO_PHYS(m[0]) | want);
	VMT_ASSERT(pc->pc_pte_addr != 0);
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, PMT_VA + PAGE_SIZE), 0);
	VMT_ASSERT_EQ(pmap_resident_count(&p), 2);      /* counted when entered */

	/* A walk (pmap_extract here) makes it, and empties the slot. */
	VMT_ASSERT_EQ(pmap_extract(&p, PMT_VA + PAGE_SIZE + 5), VM_PAGE_TO_PHYS(m[1]) + 5);
	VMT_ASSERT_EQ(pc->pc_pte_addr, 0);
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, PMT_VA + PAGE_SIZE), VM_PAGE_TO_PHYS(m[1]) | want);

	/* Left again, then removed: the removal's walk makes it first, so nothing is left
	 * to write over the empty entry later. */
	pmap_remove(&p, PMT_VA + PAGE_SIZE, PMT_VA + 2 * PAGE_SIZE);
	pc->pc_pte_defer = true;
	VMT_ASSERT_EQ(pmap_enter_run(&p, PMT_VA + PAGE_SIZE, &m[1], 1,
	    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_WRITE | PMAP_ENTER_NEW), 1);
	pc->pc_pte_defer = false;
	VMT_ASSERT(pc->pc_pte_addr != 0);
	pmap_remove(&p, PMT_VA, PMT_VA + 2 * PAGE_SIZE);
	VMT_ASSERT_EQ(pc->pc_pte_addr, 0);
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, PMT_VA + PAGE_SIZE), 0);
	pmap_flush_deferred();
	VMT_ASSERT_EQ(pmt_walk(p.pm_cr3, PMT_VA + PAGE_SIZE), 0);
	VMT_ASSERT_EQ(pmap_resident_count(&p), 0);

	pmap_release(&p);
	for (int i = 0; i < 2; i++) {
		m[i]->dirty = 0;
		vm_page_free(m[i]);
	}
	VMT_ASSERT_EQ(vmt_free_pages(), free0);
}
#endif
