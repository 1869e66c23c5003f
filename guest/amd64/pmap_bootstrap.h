/*
 * pmap's boot half, guest only: the boot page tables (pmap_bootstrap_tables.S, static
 * data the assembler fills; kernel_pmap's from the link on) and their completion at
 * boot (pmap_bootstrap.c).
 * pmap is the only writer of kernel page tables: these files at boot, pmap.c after.
 * Everyone else reads the tables through the const views below.
 */
#ifndef AMD64_PMAP_BOOTSTRAP_H
#define AMD64_PMAP_BOOTSTRAP_H

#include <stdint.h>

#include "amd64/vmparam.h"
#include "kern/bootinfo.h"

extern const uint64_t boot_pml4[512];       /* kernel_pmap's root, the kernel's CR3 */
extern const uint64_t boot_pdpt_hi[512];    /* PML4 slot 511: KERNBASE, LAPIC_VA */
extern const uint64_t dmap_pdpt[512];       /* PML4 slot 257: the direct map */
extern const uint64_t boot_pd[512];         /* GiB 0 at KERNBASE and in the direct map */
extern const uint64_t dmap_pd[DMAP_PD_GIB][512];   /* direct map GiB 1..DMAP_PD_GIB */

/*
 * Finish the boot tables, kernel_pmap's from the link on (root boot_pml4): the direct
 * map covers every bi_ram range (dmap_end, dmap_1g_pages say how far); the identity map
 * is gone.
 * => once, after bootinfo_init and before anything reads the direct map beyond GiB 0 or
 *    calls pmap_init. One kernel request (the identity map's invalidation) and one
 *    store per GiB of RAM beyond the first.
 */
void pmap_bootstrap(const struct bootinfo *bi);

/* The tables user mode's roots share in slot PMAP_STUB_SLOT: the stubs' pages only
 * (pmap_stub_pml4e). => after pmap_init, before the first pmap_pinit of a process. */
void pmap_stub_init(void);

#endif /* AMD64_PMAP_BOOTSTRAP_H */
