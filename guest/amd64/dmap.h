/*
 * The direct map: all RAM at DMAP_BASE + pa, built at boot from the memory map: 2 MiB
 * pages from page directories prebuilt in the image for GiB 1..DMAP_PD_GIB (one store
 * per GiB beyond the first), above that 1 GiB pages when the CPU has them.
 */
#ifndef AMD64_DMAP_H
#define AMD64_DMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "kern/bootinfo.h"

extern uint64_t boot_pml4[512];     /* the kernel page-table root (locore.S) */
extern uint64_t kernel_pml4_pa;     /* its physical address: the kernel's CR3 */
extern bool dmap_1g_pages;         /* RAM above GiB DMAP_PD_GIB: 1 GiB pages */
extern uint64_t dmap_end;           /* every pa below it that is RAM is mapped */

/* Map every bi_ram range, then drop the boot identity map. */
void dmap_init(const struct bootinfo *bi);

#endif /* AMD64_DMAP_H */
