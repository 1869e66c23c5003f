/*
 * vm_kern: the kernel map, an arena of kernel virtual addresses backed on demand by
 * wired pages (FreeBSD's kernel_map / kmem_malloc / kmem_free, without an object: the
 * pages are found again through kernel_pmap).
 *
 * Kernel memory is normally reached through the direct map (kmalloc, UMA, contigmalloc
 * all hand out direct-map addresses of physical pages). The kernel map is for what the
 * direct map cannot give: address ranges whose pages are not contiguous, and address
 * ranges with holes in them that must fault, which is what MemGuard (vm/memguard.h)
 * needs for its guard pages and its unmapped freed ranges.
 *
 * Layout: the map covers [KMEM_MIN_ADDRESS, KMEM_MAX_ADDRESS), the top 511 GiB of
 * kernel_pmap's range (VM_MIN_KERNEL_ADDRESS, 512 GiB: vmparam.h's KVA). The first GiB
 * is left for fixed-address mappings (the pmap tests map pages there).
 *
 * The map and its first page tables are made by the first call that needs them
 * (kmem_init is idempotent): a boot that never uses kernel memory pays nothing.
 *
 * Field locking legend (vm_kern.c):
 *   A  atomic operations
 *   M  kmem_map's own lock (vm_map_lock)
 */
#ifndef VM_VM_KERN_H
#define VM_VM_KERN_H

#include "vm/vm.h"

struct vm_map;

#define KMEM_MIN_ADDRESS    (VM_MIN_KERNEL_ADDRESS + (1ul << 30))
#define KMEM_MAX_ADDRESS    VM_MAX_KERNEL_ADDRESS

/*
 * The kernel map, made on first use. => after pmap_init (the boot's, or a host test's);
 * may sleep (creates the map-entry zone and kernel_pmap's first tables).
 */
struct vm_map *kmem_map(void);
void kmem_init(void);

/*
 * size bytes (rounded up to pages) of kernel virtual memory, backed by wired, mapped
 * pages (read/write, not executable). flags: M_WAITOK or M_NOWAIT, M_ZERO, M_USE_RESERVE
 * as for kmalloc. => the address, or 0 (M_NOWAIT: no pages). May sleep for a map entry
 * even with M_NOWAIT (vm_map_lock); M_WAITOK never returns 0.
 */
vm_offset_t kmem_alloc(vm_size_t size, int flags);
/* Unmap and free what kmem_alloc(size) returned at addr. => never sleeps for memory. */
void kmem_free(vm_offset_t addr, vm_size_t size);

/*
 * The two halves, for arenas of their own (MemGuard reserves a range in the kernel map
 * and backs part of it). kmem_back maps wired pages at [addr, addr + size) (page-aligned,
 * nothing mapped there yet): 0, or ENOMEM with nothing left mapped (M_NOWAIT; M_WAITOK
 * panics after reclaiming). kmem_unback removes the mappings of [addr, addr + size),
 * every page of which must be mapped, and frees the pages, with one TLB invalidation per
 * KMEM_UNBACK_BATCH pages.
 */
int kmem_back(vm_offset_t addr, vm_size_t size, int flags);
void kmem_unback(vm_offset_t addr, vm_size_t size);
#define KMEM_UNBACK_BATCH   32

/* Pages kmem_back has mapped and kmem_unback not yet freed (A). */
uint64_t kmem_pages(void);

/* Host re-boots only (vm_startup_reset): forget the map (UMA and pmap are gone too). */
void kmem_reset(void);

#endif /* VM_VM_KERN_H */
