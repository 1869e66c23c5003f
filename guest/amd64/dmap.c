/*
 * Direct map construction. The boot page tables (locore.S) already map physical
 * [0, 1 GiB) at DMAP_BASE through the boot page directory, and page directories for
 * GiB 1..3 are prebuilt (dmap_low_pd): up to 4 GiB of RAM the direct map costs one store
 * per GiB beyond the first, and a guest of at most 1 GiB (the usual micro-VM) costs none.
 *
 * Above 4 GiB each GiB takes a 1 GiB page when the CPU has them (CPUID 0x80000001
 * EDX[26], asked only then), else a page directory from a static pool (bss: untouched
 * unless used) filled one 2 MiB entry per 2 MiB of RAM. KVM here offers no 1 GiB pages (a
 * guest PDPTE with PS set faults with RSVD even when CPUID claims them), which is one
 * more reason the first 4 GiB never depend on them.
 */
#include "amd64/cpufunc.h"
#include "amd64/dmap.h"
#include "amd64/specialreg.h"
#include "amd64/vmparam.h"
#include "kern/systm.h"

extern uint64_t dmap_pdpt[512];
extern uint64_t dmap_low_pd[3][512];
#define DMAP_LOW_GIB    4       /* GiB 0..3 have page directories from the start */
#define DMAP_LOW_END    ((uint64_t)DMAP_LOW_GIB * NBPDP)

uint64_t kernel_pml4_pa = (uint64_t)(uintptr_t)boot_pml4 - KERNBASE;
bool dmap_1g_pages;
uint64_t dmap_end;

#define DMAP_PD_POOL    63      /* 2 MiB-page fallback: GiB 4..66 */
static uint64_t dmap_pd_pool[DMAP_PD_POOL][512] __attribute__((aligned(4096)));
static unsigned dmap_pd_used;

#define DMAP_PTE    (PG_V | PG_RW | PG_A | PG_M | PG_G | PG_NX)
#define DMAP_PDE    (PG_V | PG_RW | PG_A | PG_M)

/* Map [start, end) (RAM above 4 GiB) with 1 GiB pages or pool page directories. */
static void dmap_map_high(uint64_t start, uint64_t end)
{
	for (uint64_t pa = rounddown2(start, NBPDR); pa < end; pa += NBPDR) {
		uint64_t gib = pa / NBPDP;
		if (dmap_1g_pages) {
			dmap_pdpt[gib] = (gib * NBPDP) | DMAP_PTE | PG_PS;
			pa = (gib + 1) * NBPDP - NBPDR;
			continue;
		}
		if (dmap_pdpt[gib] == 0) {
			if (dmap_pd_used == DMAP_PD_POOL) {
				printf("dmap: no page directory for GiB %lu, RAM above it is "
				    "not mapped\n", (unsigned long)gib);
				dmap_end = MIN(dmap_end, gib * NBPDP);
				return;
			}
			uint64_t *pd = dmap_pd_pool[dmap_pd_used++];
			dmap_pdpt[gib] = ((uint64_t)(uintptr_t)pd - KERNBASE) | DMAP_PDE;
		}
		uint64_t *pd = (uint64_t *)(DMAP_BASE + (dmap_pdpt[gib] & PG_FRAME));
		pd[(pa / NBPDR) & 511] = pa | DMAP_PTE | PG_PS;
	}
}

/* RAM beyond GiB 0: out of line, so that the common boot does not pay its frame. */
static void __attribute__((noinline)) dmap_map_beyond_gib0(const struct bootinfo *bi,
    uint64_t end)
{
	/* Link the prebuilt page directories of the GiB below 4 that hold RAM. */
	for (unsigned i = 0; i < bi->bi_nram; i++) {
		const struct bi_range *r = &bi->bi_ram[i];
		uint64_t last = MIN(r->bir_end, DMAP_LOW_END);
		for (uint64_t g = MAX(r->bir_start / NBPDP, 1); g * NBPDP < last; g++)
			dmap_pdpt[g] = ((uint64_t)(uintptr_t)dmap_low_pd[g - 1] - KERNBASE) |
			    DMAP_PDE;
	}
	if (end > DMAP_LOW_END) {
		uint32_t r[4];

		/* Leaf 0x80000001 exists on every CPU that reached long mode. */
		cpuid_count(0x80000001, 0, r);
		dmap_1g_pages = (r[3] & CPUIDX_EDX_PAGE1GB) != 0;
		for (unsigned i = 0; i < bi->bi_nram; i++) {
			const struct bi_range *r = &bi->bi_ram[i];
			if (r->bir_end > DMAP_LOW_END)
				dmap_map_high(MAX(r->bir_start, DMAP_LOW_END),
				    r->bir_end);
		}
	}
}

void dmap_init(const struct bootinfo *bi)
{
	uint64_t end = bi->bi_ram[bi->bi_nram - 1].bir_end;

	dmap_end = end;
	if (end > NBPDP)
		dmap_map_beyond_gib0(bi, end);

	/*
	 * Nothing runs at its physical address any more: drop the identity map so that
	 * null and other low pointers fault. The only identity translation ever used is
	 * the 2 MiB page of the entry code (and the GDT beside it); INVLPG drops it, global
	 * or not, and with it the paging-structure caches. Cheaper here than a full flush
	 * (CR4.PGE toggle), after which every page must be shadowed again.
	 */
	boot_pml4[0] = 0;
	invlpg(KERNEL_PHYS);
}
