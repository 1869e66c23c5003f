/*
 * vm_dump: which direct-map pages a minidump must carry (FreeBSD's dump_add_page and
 * dump_drop_page). One bit per physical page from address 0 up to the highest RAM
 * address at boot: bit i of byte i / 8 is page i. A dump writer (the host, through
 * hc_dump_desc.dump_bitmap) reads the bitmap; the kernel's page tables, UMA's slabs
 * (which hold struct proc, thread, vmspace, vm_map_entry, vm_object ...) and kmalloc's
 * large allocations set their bits when they take a page and clear them when they give
 * it back. Everything else in the direct map (user pages, the page cache) is left out.
 *
 * The bitmap comes from the first pages the VM core hands out at boot, which are fresh
 * RAM and read as zero: no per-page initialisation, boot stays O(segments). Without a
 * bitmap (never started, or no memory for it) every call here does nothing.
 */
#ifndef VM_VM_DUMP_H
#define VM_VM_DUMP_H

#include "vm/vm.h"

/* The bitmap, sized from the highest RAM address: right after vm_startup, so that its
 * pages are the first handed out (fresh RAM, zero). Later calls do nothing. The guest
 * boots with it (vm_boot); the host test platform does not, and the tests that need
 * it call it. vm_dump_reset: host re-boots only (vm_startup_reset). */
void vm_dump_startup(void);
void vm_dump_reset(void);

/* Set / clear the bit of the page holding pa; a page beyond the bitmap is ignored.
 * Atomic bit operations: any context, no lock. */
void dump_add_page(vm_paddr_t pa);
void dump_drop_page(vm_paddr_t pa);
/* The same for npages pages from pa. */
void dump_add_pages(vm_paddr_t pa, uint64_t npages);
void dump_drop_pages(vm_paddr_t pa, uint64_t npages);
/* Is the page's bit set? */
bool dump_page_is_set(vm_paddr_t pa);

/* The bitmap: its physical address (0 before vm_dump_startup) and the pages it covers. */
vm_paddr_t vm_dump_bitmap_pa(void);
uint64_t vm_dump_bitmap_bits(void);

#endif /* VM_VM_DUMP_H */
