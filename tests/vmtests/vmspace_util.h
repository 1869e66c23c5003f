/*
 * Resident anonymous memory without faults (vm_fault is another module's): an object
 * whose pages are allocated into it and entered into the pmap directly, then mapped by
 * a new entry. Used by the vmspace VMTESTs and by bench_fork.
 */
#ifndef TESTS_VMTESTS_VMSPACE_UTIL_H
#define TESTS_VMTESTS_VMSPACE_UTIL_H

#include "vm/vm_object.h"
#include "vm/vm_vmspace.h"

/*
 * Map [va, va + ptoa(npages)) in vm to a new anonymous object with every page resident
 * and mapped with prot (pages zero: the simulated RAM's, or the allocator's), eflags as
 * vm_map_insert's. => 0, or the errno of the first step that failed (the map unchanged).
 */
static inline int vmspace_util_populate(struct vmspace *vm, vm_offset_t va, int npages,
    vm_prot_t prot, int eflags, struct vm_object **objp)
{
	struct vm_object *obj = vm_object_allocate(OBJT_DEFAULT, (vm_pindex_t)npages);
	struct vm_map *map = vmspace_map(vm);
	int rv = 0;

	vm_object_lock(obj);
	for (int i = 0; i < npages && rv == 0; i++) {
		vm_page_t m = vm_page_alloc(obj, (vm_pindex_t)i, VM_ALLOC_SYSTEM |
		    VM_ALLOC_ZERO | VM_ALLOC_WAITOK);
		vm_page_xunbusy(m);
		/* Entered as a write fault would: accessed and modified. */
		rv = pmap_enter(vmspace_pmap(vm), va + ptoa(i), m, prot,
		    (prot & VM_PROT_WRITE) != 0 ? VM_PROT_WRITE | PMAP_ENTER_DIRTY : VM_PROT_READ);
	}
	vm_object_unlock(obj);
	if (rv == 0) {
		vm_map_lock(map);
		rv = vm_map_insert(map, obj, 0, va, va + ptoa(npages), prot, VM_PROT_ALL, eflags);
		vm_map_unlock(map);
	}
	if (rv != 0) {
		pmap_remove(vmspace_pmap(vm), va, va + ptoa(npages));
		vm_object_deallocate(obj);
		return rv;
	}
	if (objp != NULL)
		*objp = obj;
	return 0;
}

#endif /* TESTS_VMTESTS_VMSPACE_UTIL_H */
