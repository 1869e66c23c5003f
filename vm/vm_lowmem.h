/*
 * Low-memory hooks: allocators that cache free memory (UMA's per-CPU and bucket caches,
 * vm_page's per-CPU page caches) register a handler that gives it back. vm_page fires
 * them before it sleeps for, or fails, a page allocation.
 *
 * => handlers run with no VM lock held and may free pages; they must not sleep for
 *    memory themselves.
 */
#ifndef VM_VM_LOWMEM_H
#define VM_VM_LOWMEM_H

#include "vm/vm.h"

#define VM_LOW_PAGES    0x0001  /* short of free pages */

#define VM_LOWMEM_MAX   16

typedef void vm_lowmem_handler_t(void *arg, int flags);

void vm_lowmem_register(vm_lowmem_handler_t *fn, void *arg);
void vm_lowmem_fire(int flags);
/*
 * Free pages once every cache is emptied: UMA's per-CPU and bucket caches drained, the
 * per-CPU page caches given back, and the idle slabs UMA keeps for good counted as free.
 * For "nothing leaked" checks (tests, the guest's end-of-program report), not for
 * allocation decisions: it throws the caches away.
 */
uint64_t vm_free_pages_settled(void);
/* How many times vm_lowmem_fire ran since boot (tests). */
uint64_t vm_lowmem_fired(void);
/* Host re-boots (vm_startup_reset): forget every handler. */
void vm_lowmem_reset(void);
/* Boot (vm_page_startup), before the first register. */
void vm_lowmem_startup(void);
/* Boot (vm_page_startup) only, single-threaded: the first handler, without the lock. */
void vm_lowmem_register_startup(vm_lowmem_handler_t *fn, void *arg);

#endif /* VM_VM_LOWMEM_H */
