/*
 * Suite "boot", the kernel page tables pmap_bootstrap left: walked for real (through
 * the direct map, by a walker of this file's own and by pmap_extract) after boot.
 * kernel_pmap's root is boot_pml4 and the CPU's; the identity slot is empty; the direct
 * map covers exactly the GiBs that hold RAM, each at its own physical address; KERNBASE
 * maps the image; every kernel entry lets CPL 3 in (the kernel runs there:
 * docs/deprivileged-kernel.md) and none is global. Run with -m 3G and -m 8G too: the
 * direct map beyond GiB 0 and across the PCI hole.
 */
#include "amd64/cpufunc.h"
#include "amd64/dmap.h"
#include "amd64/pmap_bootstrap.h"
#include "amd64/specialreg.h"
#include "amd64/vmparam.h"
#include "dev/hostcall.h"
#include "kern/bootinfo.h"
#include "kern/ktest.h"
#include "kern/systm.h"
#include "vm/pmap.h"
#include "guest/amd64/pmap_int.h"

#define KPB_PHYS(va)    ((uint64_t)(uintptr_t)(va) - KERNBASE)

static const uint64_t *kpb_table(uint64_t entry)
{
	return (const uint64_t *)(DMAP_BASE + (entry & PG_FRAME));
}

/* va's physical address by the tables themselves (~0: not mapped); *user: whether every
 * level allows user mode. */
static uint64_t kpb_walk(uint64_t va, bool *user)
{
	const uint64_t *t = kernel_pmap->pm_pml4;
	static const int shift[] = { PML4SHIFT, PDPSHIFT, PDRSHIFT, PAGE_SHIFT };
	bool u = true;

	for (int level = 0; level < 4; level++) {
		uint64_t e = t[(va >> shift[level]) & (NPTEPG - 1)];
		if ((e & PG_V) == 0)
			return ~0ull;
		u = u && (e & PG_U) != 0;
		if (level == 3 || (level > 0 && (e & PG_PS) != 0)) {
			uint64_t span = 1ull << shift[level];
			*user = u;
			return (e & PG_FRAME & ~(span - 1)) | (va & (span - 1));
		}
		t = kpb_table(e);
	}
	return ~0ull;
}

static bool kpb_gib_has_ram(uint64_t g)
{
	for (unsigned i = 0; i < bootinfo.bi_nram; i++) {
		const struct bi_range *r = &bootinfo.bi_ram[i];
		if (r->bir_start < (g + 1) * NBPDP && r->bir_end > g * NBPDP)
			return true;
	}
	return false;
}

KTEST(boot, kernel_pmap_root)
{
	KT_ASSERT_EQ(kernel_pmap->pm_cr3, KPB_PHYS(boot_pml4));
	KT_ASSERT_EQ(kernel_pmap->pm_cr3, kernel_pml4_pa);
	KT_ASSERT_EQ(rcr3() & PG_FRAME, kernel_pmap->pm_cr3);
	KT_ASSERT_EQ(hc_dump_desc.kernel_cr3, kernel_pmap->pm_cr3);
	KT_ASSERT(kernel_pmap->pm_root == NULL);       /* in the image, not a vm_page */
	KT_ASSERT(kernel_pmap->pm_pml4 == kpb_table(kernel_pmap->pm_cr3));
	/* The kernel half: the direct map, kernel_pmap's own range (pmap_init's),
	 * KERNBASE and nothing else; the user half empty, the identity slot included. */
	unsigned dmap_slot = pmap_pml4_index(DMAP_BASE);
	unsigned kb_slot = pmap_pml4_index(KERNBASE);
	for (unsigned i = 0; i < NPTEPG; i++) {
		bool want = i == dmap_slot || i == PMAP_KVA_SLOT || i == kb_slot;
		KT_ASSERT_MSG(((boot_pml4[i] & PG_V) != 0) == want,
		    "PML4 slot %u is %#lx", i, (unsigned long)boot_pml4[i]);
	}
	KT_ASSERT_EQ(boot_pml4[dmap_slot] & PG_FRAME, KPB_PHYS(dmap_pdpt));
	KT_ASSERT_EQ(boot_pml4[kb_slot] & PG_FRAME, KPB_PHYS(boot_pdpt_hi));
}

KTEST(boot, kernel_pmap_no_identity)
{
	bool u;

	KT_ASSERT_EQ(boot_pml4[0], 0);
	KT_ASSERT_EQ(kpb_walk(KERNEL_PHYS, &u), ~0ull);
	KT_ASSERT_EQ(pmap_extract(kernel_pmap, KERNEL_PHYS), 0);
	KT_ASSERT_EQ(pmap_extract(kernel_pmap, 0x1000), 0);
}

/* Every GiB that holds RAM and no other is linked (those beyond the prebuilt page
 * directories only with 1 GiB pages), through the page directory made for it, and
 * translates to its own physical address. */
KTEST(boot, kernel_pmap_dmap)
{
	uint64_t last_gib = (bootinfo.bi_ram[bootinfo.bi_nram - 1].bir_end - 1) / NBPDP;
	uint64_t linked = 0;
	bool u;

	for (uint64_t g = 0; g < DMAP_MAX_GIB; g++) {
		bool want = kpb_gib_has_ram(g) && (g <= DMAP_PD_GIB || dmap_1g_pages);
		uint64_t e = dmap_pdpt[g];
		KT_ASSERT_MSG(((e & PG_V) != 0) == want, "direct map GiB %lu: entry %#lx",
		    (unsigned long)g, (unsigned long)e);
		if (!want)
			continue;
		linked++;
		KT_ASSERT_EQ(e & (PG_U | PG_G), PG_U);        /* CPL 3 kernel */
		if (g == 0)
			KT_ASSERT_EQ(e & PG_FRAME, KPB_PHYS(boot_pd));
		else if (g <= DMAP_PD_GIB)
			KT_ASSERT_EQ(e & PG_FRAME, KPB_PHYS(dmap_pd[g - 1]));
		static const uint64_t off[] = {
			0, 0x1238, NBPDP / 2 + 0x5008, NBPDP - 8,
		};
		for (unsigned i = 0; i < nitems(off); i++) {
			uint64_t pa = g * NBPDP + off[i];
			KT_ASSERT_EQ(pmap_extract(kernel_pmap, DMAP_BASE + pa), pa);
			KT_ASSERT_EQ(kpb_walk(DMAP_BASE + pa, &u), pa);
			KT_ASSERT_MSG(u, "direct map pa %#lx is not user-accessible",
			    (unsigned long)pa);
		}
	}
	KT_ASSERT(linked >= 1);
	KT_ASSERT_EQ(pmap_extract(kernel_pmap, DMAP_BASE + (last_gib + 1) * NBPDP), 0);
	/* dmap_end: the end of RAM, unless RAM lies beyond what could be mapped. */
	if (last_gib <= DMAP_PD_GIB || dmap_1g_pages)
		KT_ASSERT_EQ(dmap_end, bootinfo.bi_ram[bootinfo.bi_nram - 1].bir_end);
	else
		KT_ASSERT_EQ(dmap_end, (DMAP_PD_GIB + 1ull) * NBPDP);
}

/* KERNBASE maps the whole image at its load address, supervisor-only, and LAPIC_VA
 * the xAPIC's registers. */
KTEST(boot, kernel_pmap_kernbase)
{
	extern char __kernel_start[], __etext[], _end[];
	uint64_t start = (uint64_t)(uintptr_t)__kernel_start;
	uint64_t end = (uint64_t)(uintptr_t)_end;
	bool u;

	KT_ASSERT_EQ(KPB_PHYS(__kernel_start), KERNEL_PHYS);
	for (uint64_t va = start; va < end; va += NBPDR) {
		KT_ASSERT_EQ(pmap_extract(kernel_pmap, va), va - KERNBASE);
		KT_ASSERT_EQ(kpb_walk(va, &u), va - KERNBASE);
		KT_ASSERT_MSG(u, "kernel va %#lx is not user-accessible", (unsigned long)va);
	}
	KT_ASSERT_EQ(pmap_extract(kernel_pmap, end - 8), end - 8 - KERNBASE);
	KT_ASSERT_EQ(pmap_extract(kernel_pmap, (uint64_t)(uintptr_t)__etext),
	    KPB_PHYS(__etext));
	KT_ASSERT_EQ(pmap_extract(kernel_pmap, (uint64_t)(uintptr_t)boot_pml4),
	    kernel_pmap->pm_cr3);
	KT_ASSERT_EQ(pmap_extract(kernel_pmap, LAPIC_VA + 0x20), LAPIC_PHYS + 0x20);
	KT_ASSERT_EQ(kpb_walk(LAPIC_VA, &u), LAPIC_PHYS);
	KT_ASSERT(u);
}

/* The kernel runs at CPL 3: every valid entry of the kernel half carries PG_U, and none
 * is global (a global user-accessible entry would outlive the switch to a process's
 * root). Upper levels, and the 2 MiB leaves of the boot page directories. */
KTEST(boot, kernel_pmap_user_not_global)
{
	int n = 0;

	for (int i = PMAP_KERNEL_SLOT0; i < NPTEPG; i++) {
		uint64_t e = boot_pml4[i];
		if ((e & PG_V) == 0)
			continue;
		KT_ASSERT_MSG((e & PG_U) != 0, "PML4 slot %d has no PG_U", i);
		const uint64_t *pdpt = kpb_table(e);
		for (int j = 0; j < NPTEPG; j++) {
			if ((pdpt[j] & PG_V) == 0)
				continue;
			KT_ASSERT_MSG((pdpt[j] & (PG_U | PG_G)) == PG_U,
			    "PDPT %d slot %d: %#lx", i, j, (unsigned long)pdpt[j]);
			n++;
		}
	}
	KT_ASSERT(n >= 3);      /* the direct map's GiB 0, KERNBASE, the LAPIC */
	for (int i = 0; i < NPTEPG; i++)
		KT_ASSERT_MSG((boot_pd[i] & (PG_U | PG_G)) == PG_U, "boot_pd %d", i);
}
