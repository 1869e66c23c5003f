/*
 * The boot sequence of the VM core, the same for the guest kernel and the host test
 * platform (tests/support/vm_host_mem.c):
 *
 *   vm_startup_reset();                     host re-boots only: back to all-zero state
 *   vm_phys_set_blacklist("0x...,0x...");   optional, from vm.blacklist=
 *   vm_phys_add_seg(start, end);            each RAM range the VM core may manage
 *   vm_startup();                           the modules' start-ups, in order:
 *     vm_page_startup();                      page arrays, list heads, reserves, and
 *                                             the pre-zeroed pool's bounds
 *     uma_startup();                          UMA's own zones (vm/uma_core.c)
 *     malloc_startup();                       malloc types (vm/kern_malloc.c)
 *   vm_dump_startup();                      the minidump bitmap (vm/vm_dump.h): the
 *                                           platform's choice, first thing after
 *                                           vm_startup (the guest's vm_boot does)
 *
 * Every global of the VM core starts as all-zero bytes, which is how a freshly loaded
 * kernel finds its .bss: the startup functions write whatever must not be zero, so a
 * guest boots without vm_startup_reset. The host test platform boots again and again in
 * one process and calls it first to get back to that state.
 *
 * The caller of vm_phys_add_seg has already excluded the kernel image and the boot
 * structures; ranges are page-aligned inward here. The ranges must read as zero (fresh
 * RAM): each segment's page array is carved from its tail and not initialised, and
 * memory never handed out since boot enters the pre-zeroed pool without being zeroed.
 *
 * Boot cost grows with the number of segments, not with pages or CPUs: the page arrays
 * are left as they are found (zero), free memory reaches the buddy lists a block at a
 * time as it is asked for, the pre-zeroed pool fills on the first zeroed request, and
 * UMA's bucket zones, off-page slab headers and kmalloc's size-class zones are created
 * when first used. Nothing here prints but a bad page of the blacklist.
 */
#ifndef VM_VM_STARTUP_H
#define VM_VM_STARTUP_H

#include "vm/vm.h"

/* vm/vm_startup.c */
void vm_startup_reset(void);
void vm_startup(void);

void vm_phys_add_seg(vm_paddr_t start, vm_paddr_t end);
/*
 * "PA,PA,..." (hex with 0x, or decimal; the page holding each address); the pages never
 * reach a free list. A duplicate is taken once. The caller reports a refusal: an empty
 * list or element, an element that is not a number, one that does not fit 64 bits, more
 * than VM_PHYS_BLACKLIST_MAX pages. => VM_PHYS_BL_OK, or the error with *bad at the
 * element refused (it runs to the next ',' or the end) and the blacklist as before.
 */
enum vm_phys_bl_error {
	VM_PHYS_BL_OK = 0,
	VM_PHYS_BL_EMPTY,       /* an empty list or element */
	VM_PHYS_BL_SYNTAX,      /* not a number, or trailing characters */
	VM_PHYS_BL_RANGE,       /* does not fit a physical address */
	VM_PHYS_BL_FULL,        /* more than VM_PHYS_BLACKLIST_MAX pages */
};
enum vm_phys_bl_error vm_phys_set_blacklist(const char *list, const char **bad);
void vm_page_startup(void);
void uma_startup(void);
void malloc_startup(void);

/* Each module's re-boot: its globals back to zero (host tests only; vm_startup_reset
 * calls them, with vm_phys_reset, vm_lowmem_reset and vm_pagequeue_reset). */
void vm_page_reset(void);
void vm_page_zero_reset(void);
void uma_reset(void);
void malloc_reset(void);
void vm_map_reset(void);        /* vm/vm_map.c */
void kmem_reset(void);          /* vm/vm_kern.c */
void memguard_reset(void);      /* vm/memguard.c */

#endif /* VM_VM_STARTUP_H */
