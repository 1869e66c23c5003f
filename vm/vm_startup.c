/*
 * vm_startup: the VM core's boot and re-boot, in the order vm/vm_startup.h gives. Each
 * module keeps its own state and the functions that write it (FreeBSD's vm_init.c
 * calls vm_page_startup, uma_startup and the rest the same way); this file only knows
 * the order.
 */
#include "vm/malloc.h"
#include "vm/uma.h"
#include "vm/vm_dump.h"
#include "vm/vm_lowmem.h"
#include "vm/vm_page.h"
#include "vm/vm_pagequeue.h"
#include "vm/vm_phys.h"
#include "vm/swap_pager.h"
#include "vm/vm_startup.h"

/*
 * Host re-boots (tests/support): every global of the VM core back to the all-zero state
 * a freshly loaded kernel finds in its .bss, so that the startup functions see the same
 * machine either way. A guest boots once and skips this.
 */
void vm_startup_reset(void)
{
	vm_phys_reset();
	vm_lowmem_reset();
	vm_pagequeue_reset();
	vm_page_reset();
	vm_dump_reset();
	vm_page_zero_reset();
	uma_reset();
	malloc_reset();
	vm_map_reset();
	kmem_reset();
	memguard_reset();
	swap_pager_reset();
}

void vm_startup(void)
{
	vm_page_startup();
	uma_startup();
	malloc_startup();
}
