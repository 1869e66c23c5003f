/*
 * vmspace: a map and its pmap, allocated and torn down together.
 *
 * The vmspace itself comes from malloc (one per process: no zone of its own is worth
 * its boot cost). Teardown order matters: vm_map_remove takes every mapping out of the
 * pmap (pmap_remove per entry) before the entries' object references go, so that no
 * page is freed while mapped; then the map's memory, then the pmap's now empty root.
 *
 * Lock order: as vm_map (the map's lock, then objects', then pmap's).
 */
#include "vm/malloc.h"
#include "vm/vm_vmspace.h"

MALLOC_DEFINE(M_VMSPACE, "vmspace");

struct vmspace *vmspace_alloc(vm_offset_t min, vm_offset_t max)
{
	struct vmspace *vm = kmalloc(sizeof(*vm), M_VMSPACE, M_WAITOK | M_ZERO);

	if (pmap_pinit(&vm->vm_pmap) != 0) {
		kfree(vm, M_VMSPACE);
		return NULL;
	}
	vm_map_init(&vm->vm_map, &vm->vm_pmap, min, max);
	vm->vm_refcnt = 1;
	return vm;
}

void vmspace_ref(struct vmspace *vm)
{
	uint32_t old = __atomic_fetch_add(&vm->vm_refcnt, 1, __ATOMIC_RELAXED);

	KASSERT(old > 0, ("vmspace_ref: vmspace %p has no references", (void *)vm));
	(void)old;
}

void vmspace_free(struct vmspace *vm)
{
	uint32_t left = __atomic_sub_fetch(&vm->vm_refcnt, 1, __ATOMIC_ACQ_REL);

	KASSERT(left != UINT32_MAX, ("vmspace_free: vmspace %p had no references",
	    (void *)vm));
	if (left != 0)
		return;
	(void)vm_map_remove(&vm->vm_map, vm_map_min(&vm->vm_map), vm_map_max(&vm->vm_map));
	KASSERT(pmap_resident_count(&vm->vm_pmap) == 0,
	    ("vmspace_free: %llu pages still mapped after removing every entry",
	    (unsigned long long)pmap_resident_count(&vm->vm_pmap)));
	vm_map_destroy(&vm->vm_map);
	pmap_release(&vm->vm_pmap);
	kfree(vm, M_VMSPACE);
}

struct vmspace *vmspace_fork(struct vmspace *old)
{
	struct vmspace *vm = vmspace_alloc(vm_map_min(&old->vm_map), vm_map_max(&old->vm_map));

	if (vm == NULL)
		return NULL;
	vm_map_fork(&old->vm_map, &vm->vm_map);
	return vm;
}

uint64_t vmspace_resident_count(struct vmspace *vm)
{
	return pmap_resident_count(&vm->vm_pmap);
}

uint64_t vmspace_wired_count(struct vmspace *vm)
{
	return pmap_wired_count(&vm->vm_pmap);
}
