/*
 * The kernel's boot page tables. They are pmap's
 * (guest/amd64/pmap_bootstrap.c adopts them as kernel_pmap's and is the only C that
 * writes them at boot; pmap.c owns them afterwards): locore.S only loads boot_pml4 into
 * CR3.
 *
 * Static data, built by the assembler: paging goes on before any code could fill a
 * table, and the 32-bit entry stays a straight line (each instruction there is emulated
 * at ~1 us). At entry they map
 *   [0, 1 GiB) identity     only until pmap_bootstrap drops it
 *   [0, 1 GiB) at KERNBASE  the kernel image and its static data
 *   [0, 1 GiB) at DMAP_BASE the start of the direct map, so kmain can read start_info
 *                           before the rest of the direct map exists
 *   0xfee00000 at LAPIC_VA  xAPIC registers, uncached
 * all through one page directory of 2 MiB pages. More page directories are ready for
 * the direct map of GiB 1..DMAP_PD_GIB (dmap_pd), linked by pmap_bootstrap.
 */
#include "amd64/vmparam.h"
#include "amd64/specialreg.h"

#define PHYS(x)     ((x) - KERNBASE)
/* PG_U on every kernel entry: the kernel runs at CPL 3. None is global (PG_G): a global
 * user-accessible entry would outlive the switch to a process's root, which maps none
 * of the kernel (docs/deprivileged-kernel.md). */
#define PTE_KERN    (PG_V | PG_RW | PG_U | PG_A | PG_M)
#undef PG_NX
#define PG_NX       (1 << 63)   /* the assembler wants it as an expression */

	.section .data.pagetables, "aw"
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.quad PHYS(dmap_pdpt) + PTE_KERN        /* slot 0: identity, until bootstrap */
	.fill 256, 8, 0                         /* 256: kvm_pvm's hole at CPL 3 (vmparam.h) */
	.quad PHYS(dmap_pdpt) + PTE_KERN        /* slot 257: DMAP_BASE */
	.fill 253, 8, 0
	.quad PHYS(boot_pdpt_hi) + PTE_KERN     /* slot 511: KERNBASE */

	.balign 4096
	.globl boot_pdpt_hi
boot_pdpt_hi:
	.fill 510, 8, 0
	.quad PHYS(boot_pd) + PTE_KERN          /* KERNBASE */
	.quad PHYS(lapic_pd) + PTE_KERN         /* LAPIC_VA */

/* The direct map's PDPT, which the identity map shares (one page table page fewer to
 * touch at boot; the identity map only ever translates the entry code's page and is
 * gone before anything reads beyond GiB 0): GiB 0 through the boot page directory,
 * the rest linked by pmap_bootstrap from the memory map. */
	.balign 4096
	.globl dmap_pdpt
dmap_pdpt:
	.quad PHYS(boot_pd) + PTE_KERN
	.fill 511, 8, 0

	.balign 4096
	.globl boot_pd
boot_pd:
	pde = 0
	.rept 512
	.quad (pde * NBPDR) + PTE_KERN + PG_PS
	pde = pde + 1
	.endr

/* Page directories for GiB 1..DMAP_PD_GIB of the direct map, for CPUs without 1 GiB
 * pages (KVM here reports none): pmap_bootstrap links those that hold RAM, one store per
 * GiB, so a guest of any size up to 67 GiB gets its direct map without filling a single
 * 2 MiB entry at run time.
 * The image carries them (252 KiB); only the ones linked are ever touched. */
	.balign 4096
	.globl dmap_pd
dmap_pd:
	pde = 512
	.rept 512 * DMAP_PD_GIB
	.quad (pde * NBPDR) + PTE_KERN + PG_PS + PG_NX
	pde = pde + 1
	.endr

	.balign 4096
	.globl lapic_pd
lapic_pd:
	.quad LAPIC_PHYS + PTE_KERN + PG_PS + PG_PCD + PG_PWT + PG_NX
	.fill 511, 8, 0

	.section .note.GNU-stack, "", @progbits
