/*
 * vmspace: a process's address space, a vm_map over the user range together with the
 * pmap that holds its page tables. The map decides what is mapped (entries, objects);
 * the pmap caches it in hardware form. Shared by reference (threads of one process, the
 * kernel looking at a process); the last reference tears it down.
 *
 * Field locking legend:
 *   M  the map's own lock (vm_map_lock)
 *   P  the pmap's own lock (pmap.c)
 *   A  atomic
 */
#ifndef VM_VM_VMSPACE_H
#define VM_VM_VMSPACE_H

#include "vm/pmap.h"
#include "vm/vm_map.h"

struct vmspace {
	struct vm_map vm_map;       /* M: vmap_pmap is &vm_pmap */
	struct pmap vm_pmap;        /* P */
	uint32_t vm_refcnt;         /* A */
};

static inline struct vm_map *vmspace_map(struct vmspace *vm)
{
	return &vm->vm_map;
}

static inline pmap_t vmspace_pmap(struct vmspace *vm)
{
	return &vm->vm_pmap;
}

/*
 * An empty address space over [min, max) (page-aligned, in the user half), with one
 * reference. => may sleep; NULL when the pmap's root could not be had (ENOMEM).
 */
struct vmspace *vmspace_alloc(vm_offset_t min, vm_offset_t max);
/* One more reference. => the caller holds one. */
void vmspace_ref(struct vmspace *vm);
/*
 * Drop a reference. The last one removes every mapping and entry (dropping their
 * object references) and frees the pmap and the vmspace.
 * => no lock held; may sleep; vm loaded on no CPU when the last reference goes.
 */
void vmspace_free(struct vmspace *vm);
/*
 * A child's address space: a new vmspace over the same range whose entries follow the
 * parent's inheritance (vm_map_fork: NONE left out, SHARE shared, COPY copy-on-write
 * with the parent's writable mappings write-protected, ZERO fresh). The child's pmap
 * starts empty: it faults its pages in.
 * => old's map unlocked; may sleep. NULL when the child's pmap could not be had.
 */
struct vmspace *vmspace_fork(struct vmspace *old);

/* Pages mapped in vm's pmap (its resident set) and those of them wired. */
uint64_t vmspace_resident_count(struct vmspace *vm);
uint64_t vmspace_wired_count(struct vmspace *vm);

#endif /* VM_VM_VMSPACE_H */
