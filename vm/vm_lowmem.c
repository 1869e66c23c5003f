/*
 * Low-memory handlers (vm_lowmem.h). The table is short and written at boot; firing
 * copies it under the lock and calls the handlers without it, because they free pages.
 */
#include "vm/vm_lowmem.h"
#include "vm/uma.h"
#include "vm/vm_page.h"
#include "vm/vm_startup.h"

struct vm_lowmem_entry {
	vm_lowmem_handler_t *vle_fn;
	void *vle_arg;
};

static struct mtx vm_lowmem_mtx;
static struct vm_lowmem_entry vm_lowmem_table[VM_LOWMEM_MAX];  /* vm_lowmem_mtx */
static int vm_lowmem_count;                                    /* vm_lowmem_mtx */
static uint64_t vm_lowmem_nfired;                              /* atomic */

void vm_lowmem_reset(void)
{
	mtx_init(&vm_lowmem_mtx, "vm_lowmem");
	vm_lowmem_count = 0;
	vm_lowmem_nfired = 0;
}

void vm_lowmem_startup(void)
{
	mtx_init(&vm_lowmem_mtx, "vm_lowmem");
}

/*
 * The first handler, from vm_page_startup while the boot CPU is the only thread: nobody
 * can read or write the table yet, so no lock (an emulated lock/unlock pair is most of
 * a registration's cost at boot).
 */
void vm_lowmem_register_startup(vm_lowmem_handler_t *fn, void *arg)
{
	KASSERT(vm_lowmem_count == 0,
	    ("vm_lowmem_register_startup: %d handlers already registered", vm_lowmem_count));
	vm_lowmem_table[0] = (struct vm_lowmem_entry){ fn, arg };
	vm_lowmem_count = 1;
}

void vm_lowmem_register(vm_lowmem_handler_t *fn, void *arg)
{
	mtx_lock(&vm_lowmem_mtx);
	if (vm_lowmem_count == VM_LOWMEM_MAX)
		panic("vm_lowmem_register: more than %d handlers", VM_LOWMEM_MAX);
	vm_lowmem_table[vm_lowmem_count++] = (struct vm_lowmem_entry){ fn, arg };
	mtx_unlock(&vm_lowmem_mtx);
}

void vm_lowmem_fire(int flags)
{
	struct vm_lowmem_entry copy[VM_LOWMEM_MAX];
	int n;

	mtx_lock(&vm_lowmem_mtx);
	n = vm_lowmem_count;
	memcpy(copy, vm_lowmem_table, sizeof(copy[0]) * (size_t)n);
	mtx_unlock(&vm_lowmem_mtx);
	__atomic_add_fetch(&vm_lowmem_nfired, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < n; i++)
		copy[i].vle_fn(copy[i].vle_arg, flags);
}

uint64_t vm_lowmem_fired(void)
{
	return __atomic_load_n(&vm_lowmem_nfired, __ATOMIC_RELAXED);
}

uint64_t vm_free_pages_settled(void)
{
	/* Twice: draining a zone frees its buckets into a bucket zone that may have been
	 * drained before it in the same pass. */
	uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
	uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
	vm_page_drain_caches();         /* per-CPU free pages and zeroed runs */
	/* Slabs of type-stable kegs (the bucket zones) that hold no item are free memory
	 * UMA never gives back (uma.h). */
	return vm_page_free_count() + uma_pages_nofree_idle();
}
