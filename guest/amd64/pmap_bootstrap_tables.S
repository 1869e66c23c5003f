/*
 * The kernel's boot page tables, and the only assembly that writes them. They are pmap's
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
#define PTE_KERN    (PG_V | PG_RW | PG_A | PG_M)
#undef PG_NX
#define PG_NX       (1 << 63)   /* the assembler wants it as an expression */

/*
 * The window boot_user_call (amd64/boot_user.S) opens for code run at CPL 3 before any
 * process exists: PG_U on the two upper entries of the KERNBASE path (PML4 slot 511,
 * PDPT slot 510), whose page directory (boot_pd) carries PG_U on every entry, so only
 * the kernel image's first GiB becomes user-accessible; the direct map, the identity
 * map and the LAPIC never do. Each change is followed by a flush of the TLB's global
 * entries (CR4.PGE off and on): the kernel's mappings are global, and a CPU may fault on
 * a stale supervisor-only entry after U/S went 0 to 1.
 *
 * => CPL 0, interrupts off, grant and revoke paired. Clobber rax and rdx only (the
 *    caller keeps its arguments in the other registers): a few instructions each, every
 *    one emulated at ~1.5 us where KVM emulates kernel mode.
 */
.macro FLUSH_GLOBAL_TLB
	movq %cr4, %rax
	movq %rax, %rdx
	andq $~CR4_PGE, %rax
	movq %rax, %cr4
	movq %rdx, %cr4
.endm

	.text
	.globl pmap_boot_user_grant
pmap_boot_user_grant:
	orq $PG_U, boot_pml4 + 511 * 8(%rip)
	orq $PG_U, boot_pdpt_hi + 510 * 8(%rip)
	FLUSH_GLOBAL_TLB
	ret

	.globl pmap_boot_user_revoke
pmap_boot_user_revoke:
	andq $~PG_U, boot_pml4 + 511 * 8(%rip)
	andq $~PG_U, boot_pdpt_hi + 510 * 8(%rip)
	FLUSH_GLOBAL_TLB
	ret

	.section .data.pagetables, "aw"
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.quad PHYS(dmap_pdpt) + PTE_KERN        /* slot 0: identity, until bootstrap */
	.fill 255, 8, 0
	.quad PHYS(dmap_pdpt) + PTE_KERN        /* slot 256: DMAP_BASE */
	.fill 254, 8, 0
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
/* PG_U on every entry: only the KERNBASE path's upper entries decide, and they carry it
 * only inside the boot_user window above; the direct map and identity paths never do. */
	.globl boot_pd
boot_pd:
	pde = 0
	.rept 512
	.quad (pde * NBPDR) + PTE_KERN + PG_U + PG_PS + PG_G
	pde = pde + 1
	.endr

/* Page directories for GiB 1..DMAP_PD_GIB of the direct map, for CPUs without 1 GiB
 * pages (KVM here reports none): pmap_bootstrap links those that hold RAM, one store per
 * GiB, so a guest of any size up to 67 GiB gets its direct map without filling a single
 * 2 MiB entry at run time (filled at CPL 0 they cost ~30 us each here: 1 s at 64 GiB).
 * The image carries them (252 KiB); only the ones linked are ever touched. */
	.balign 4096
	.globl dmap_pd
dmap_pd:
	pde = 512
	.rept 512 * DMAP_PD_GIB
	.quad (pde * NBPDR) + PTE_KERN + PG_PS + PG_G + PG_NX
	pde = pde + 1
	.endr

	.balign 4096
	.globl lapic_pd
lapic_pd:
	.quad LAPIC_PHYS + PTE_KERN + PG_PS + PG_G + PG_PCD + PG_PWT + PG_NX
	.fill 511, 8, 0

	.section .note.GNU-stack, "", @progbits
