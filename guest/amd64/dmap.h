/*
 * The direct map: all RAM at DMAP_BASE + pa. pmap builds it at boot (pmap_bootstrap,
 * amd64/pmap_bootstrap.h): 2 MiB pages from page directories prebuilt in the image for
 * GiB 0..DMAP_PD_GIB (one store per GiB beyond the first), above that 1 GiB pages when
 * the CPU has them. What it covers, for its users; nothing here writes a page table.
 */
#ifndef AMD64_DMAP_H
#define AMD64_DMAP_H

#include <stdbool.h>
#include <stdint.h>

extern uint64_t kernel_pml4_pa;     /* boot_pml4's physical address: the kernel's CR3 */
extern bool dmap_1g_pages;         /* RAM above GiB DMAP_PD_GIB: 1 GiB pages */
extern uint64_t dmap_end;           /* every pa below it that is RAM is mapped */

#endif /* AMD64_DMAP_H */
