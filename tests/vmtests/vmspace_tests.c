/*
 * vmspace checks that hold on any running VM core (`vmm run --ktest=vmspace`): maps
 * connected to objects (references through insert, clip, delete) and to the pmap (delete
 * removes the entries, protect lowers them: read back by walking the page tables), and
 * vmspace_fork for each inheritance. Every test ends with objects, entries and free
 * pages back where it found them.
 */
#include "guest/amd64/pmap_int.h"
#include "vm/uma.h"
#include "tests/vmtests/vmspace_util.h"
#include "tests/vmtests/vmtest.h"
#include "tests/vmtests/vmt_pmap.h"

#define VST_MIN     0x10000000ul
#define VST_MAX     0x20000000ul
#define VST_VA(n)   (VST_MIN + ptoa(n))
#define VST_RW      (VM_PROT_READ | VM_PROT_WRITE)

/* The leaf entry of va in pm, read level by level here; 0 when missing. */
static uint64_t vst_pte(pmap_t pm, vm_offset_t va)
{
	uint64_t *t = vm_phys_to_dmap(pm->pm_cr3);

	for (int shift = 39; shift >= 21; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];
		if ((e & PG_V) == 0 || (e & PG_PS))
			return 0;
		t = vm_phys_to_dmap(e & PG_FRAME);
	}
	return t[(va >> PAGE_SHIFT) & 511];
}

/*
 * Free pages with UMA's caches emptied, after one whole cycle (a vmspace with a mapped
 * page, freed) has made the zones that outlive their last item (pv entries, malloc's).
 */
static uint64_t vst_free_pages(void)
{
	static bool warm;

	pmap_init();
	if (!warm) {
		struct vmspace *vm = vmspace_alloc(VST_MIN, VST_MAX);
		if (vm != NULL) {
			(void)vmspace_util_populate(vm, VST_MIN, 1, VST_RW, 0, NULL);
			vmspace_free(vm);
		}
		warm = true;
	}
	return vmt_count_free_pages();
}

static struct vm_map_entry *vst_entry(struct vm_map *map, vm_offset_t va)
{
	struct vm_map_entry *e;

	vm_map_lock(map);
	if (!vm_map_lookup_entry(map, va, &e))
		e = NULL;
	vm_map_unlock(map);
	return e;
}

VMTEST(vmspace, refs_clip_protect_delete)
{
	uint64_t free0 = vst_free_pages();
	int objs0 = vm_object_count();
	struct vmspace *vm = vmspace_alloc(VST_MIN, VST_MAX);
	struct vm_map *map;
	struct vm_object *obj;

	VMT_ASSERT(vm != NULL);
	map = vmspace_map(vm);
	VMT_ASSERT_EQ(vmspace_util_populate(vm, VST_VA(0), 8, VST_RW, 0, &obj), 0);
	VMT_ASSERT_EQ(obj->vo_ref_count, 1);
	VMT_ASSERT_EQ(vmspace_resident_count(vm), 8);
	/* Protecting the middle clips twice: three entries, three references, and the
	 * middle's entries lose their write bit (the others keep it). */
	VMT_ASSERT_EQ(vm_map_protect(map, VST_VA(2), VST_VA(5), VM_PROT_READ, false), 0);
	VMT_ASSERT_EQ(map->vmap_nentries, 3);
	VMT_ASSERT_EQ(obj->vo_ref_count, 3);
	VMT_ASSERT_EQ(vst_entry(map, VST_VA(5))->vme_offset, ptoa(5));
	for (int i = 0; i < 8; i++) {
		uint64_t pte = vst_pte(vmspace_pmap(vm), VST_VA(i));
		VMT_ASSERT_MSG((pte & PG_V) != 0, "page %d unmapped by protect", i);
		VMT_ASSERT_MSG(((pte & PG_RW) != 0) == (i < 2 || i >= 5),
		    "page %d: pte %#llx", i, (unsigned long long)pte);
	}
	/* Deleting the middle removes its entries (one pmap_remove) and drops its
	 * reference; the pages stay in the object, which others still map. */
	VMT_ASSERT_EQ(vm_map_remove(map, VST_VA(2), VST_VA(5)), 0);
	VMT_ASSERT_EQ(obj->vo_ref_count, 2);
	for (int i = 0; i < 8; i++)
		VMT_ASSERT_EQ(pmap_extract(vmspace_pmap(vm), VST_VA(i)) != 0, i < 2 || i >= 5);
	VMT_ASSERT_EQ(vmspace_resident_count(vm), 5);
	VMT_ASSERT_EQ(obj->vo_resident_page_count, 8);
	/* A delete that splits one entry in two: both halves hold a reference. */
	VMT_ASSERT_EQ(vm_map_remove(map, VST_VA(6), VST_VA(7)), 0);
	VMT_ASSERT_EQ(obj->vo_ref_count, 3);
	VMT_ASSERT_EQ(pmap_extract(vmspace_pmap(vm), VST_VA(6)), 0);
	VMT_ASSERT(pmap_extract(vmspace_pmap(vm), VST_VA(7)) != 0);
	/* The last entries go: the object with them, every page back. */
	VMT_ASSERT_EQ(vm_map_remove(map, VST_VA(0), VST_VA(8)), 0);
	VMT_ASSERT_EQ(vm_object_count(), objs0);
	VMT_ASSERT_EQ(vmspace_resident_count(vm), 0);
	vmspace_free(vm);
	VMT_ASSERT_EQ(vst_free_pages(), free0);
}

VMTEST(vmspace, madvise_and_shared_mmap)
{
	uint64_t free0 = vst_free_pages();
	int objs0 = vm_object_count();
	struct vmspace *vm = vmspace_alloc(VST_MIN, VST_MAX);
	struct vm_object *priv, *shr;
	struct vm_map *map;

	VMT_ASSERT(vm != NULL);
	map = vmspace_map(vm);
	VMT_ASSERT_EQ(vmspace_util_populate(vm, VST_VA(0), 4, VST_RW, 0, &priv), 0);
	VMT_ASSERT_EQ(vmspace_util_populate(vm, VST_VA(8), 4, VST_RW, VME_SHARED, &shr), 0);
	/* Private, only this entry's: mappings and pages go. Shared: mappings only. */
	VMT_ASSERT_EQ(vm_map_madvise(map, VST_VA(1), VST_VA(3), VM_MADV_DONTNEED), 0);
	VMT_ASSERT_EQ(vm_map_madvise(map, VST_VA(9), VST_VA(11), VM_MADV_FREE), 0);
	VMT_ASSERT_EQ(priv->vo_resident_page_count, 2);
	VMT_ASSERT_EQ(shr->vo_resident_page_count, 4);
	for (int i = 0; i < 4; i++) {
		VMT_ASSERT_EQ(pmap_extract(vmspace_pmap(vm), VST_VA(i)) != 0, i == 0 || i == 3);
		VMT_ASSERT_EQ(pmap_extract(vmspace_pmap(vm), VST_VA(8 + i)) != 0, i == 0 || i == 3);
	}
	VMT_ASSERT_EQ(map->vmap_nentries, 2);       /* no entry was clipped */
	vm_map_remove(map, VST_VA(0), VST_VA(12));
	VMT_ASSERT_EQ(vm_object_count(), objs0);
	vmspace_free(vm);
	VMT_ASSERT_EQ(vst_free_pages(), free0);
}

VMTEST(vmspace, fork_inheritance)
{
	uint64_t free0 = vst_free_pages();
	int objs0 = vm_object_count();
	struct vmspace *parent = vmspace_alloc(VST_MIN, VST_MAX), *child;
	struct vm_object *cow, *shr, *none, *zero, *wired;
	struct vm_map *pm, *cm;
	struct vm_map_entry *pe, *ce;

	VMT_ASSERT(parent != NULL);
	pm = vmspace_map(parent);
	VMT_ASSERT_EQ(vmspace_util_populate(parent, VST_VA(0), 4, VST_RW, 0, &cow), 0);
	VMT_ASSERT_EQ(vmspace_util_populate(parent, VST_VA(8), 4, VST_RW, VME_SHARED, &shr), 0);
	VMT_ASSERT_EQ(vmspace_util_populate(parent, VST_VA(16), 4, VST_RW, 0, &none), 0);
	VMT_ASSERT_EQ(vmspace_util_populate(parent, VST_VA(24), 4, VST_RW, 0, &zero), 0);
	VMT_ASSERT_EQ(vmspace_util_populate(parent, VST_VA(32), 2, VST_RW, 0, &wired), 0);
	/* A shared range never faulted: fork must give it an object to share. */
	vm_map_lock(pm);
	VMT_ASSERT_EQ(vm_map_insert(pm, NULL, 0, VST_VA(40), VST_VA(44), VST_RW, VM_PROT_ALL,
	    VME_SHARED), 0);
	vm_map_unlock(pm);
	VMT_ASSERT_EQ(vm_map_inherit(pm, VST_VA(8), VST_VA(12), VM_INHERIT_SHARE), 0);
	VMT_ASSERT_EQ(vm_map_inherit(pm, VST_VA(16), VST_VA(20), VM_INHERIT_NONE), 0);
	VMT_ASSERT_EQ(vm_map_inherit(pm, VST_VA(24), VST_VA(28), VM_INHERIT_ZERO), 0);
	VMT_ASSERT_EQ(vm_map_inherit(pm, VST_VA(40), VST_VA(44), VM_INHERIT_SHARE), 0);
	VMT_ASSERT_EQ(vm_map_wire(pm, VST_VA(32), VST_VA(34), VM_MAP_WIRE_USER), 0);

	child = vmspace_fork(parent);
	VMT_ASSERT(child != NULL);
	cm = vmspace_map(child);
	VMT_ASSERT_EQ(cm->vmap_nentries, 5);        /* all but NONE */
	VMT_ASSERT_EQ(vmspace_resident_count(child), 0);
	VMT_ASSERT_EQ(vmspace_resident_count(parent), 18);

	/* COPY: the same object on both sides, both needing a copy; the parent's
	 * mappings stay but lost write. */
	pe = vst_entry(pm, VST_VA(0));
	ce = vst_entry(cm, VST_VA(0));
	VMT_ASSERT(ce != NULL && ce->vme_object == cow && ce->vme_end == VST_VA(4));
	VMT_ASSERT_EQ(cow->vo_ref_count, 2);
	VMT_ASSERT_EQ(pe->vme_eflags & (VME_COW | VME_NEEDS_COPY), VME_COW | VME_NEEDS_COPY);
	VMT_ASSERT_EQ(ce->vme_eflags & (VME_COW | VME_NEEDS_COPY), VME_COW | VME_NEEDS_COPY);
	VMT_ASSERT_EQ(ce->vme_protection, VST_RW);
	for (int i = 0; i < 4; i++) {
		uint64_t pte = vst_pte(vmspace_pmap(parent), VST_VA(i));
		VMT_ASSERT_MSG((pte & PG_V) != 0 && (pte & PG_RW) == 0,
		    "COPY page %d: parent pte %#llx", i, (unsigned long long)pte);
		VMT_ASSERT_EQ(pmap_extract(vmspace_pmap(child), VST_VA(i)), 0);
	}
	/* SHARE: the same object, no copy; the parent keeps writing in place. */
	ce = vst_entry(cm, VST_VA(8));
	VMT_ASSERT(ce != NULL && ce->vme_object == shr);
	VMT_ASSERT_EQ(shr->vo_ref_count, 2);
	VMT_ASSERT_EQ(ce->vme_eflags & (VME_COW | VME_NEEDS_COPY), 0);
	VMT_ASSERT((vst_pte(vmspace_pmap(parent), VST_VA(8)) & PG_RW) != 0);
	pe = vst_entry(pm, VST_VA(40));
	ce = vst_entry(cm, VST_VA(40));
	VMT_ASSERT(pe->vme_object != NULL && ce->vme_object == pe->vme_object);
	VMT_ASSERT_EQ(pe->vme_object->vo_ref_count, 2);
	/* NONE: absent in the child, untouched in the parent. */
	VMT_ASSERT(vst_entry(cm, VST_VA(16)) == NULL);
	VMT_ASSERT_EQ(none->vo_ref_count, 1);
	VMT_ASSERT((vst_pte(vmspace_pmap(parent), VST_VA(16)) & PG_RW) != 0);
	/* ZERO: mapped in the child, without an object (zero-fill); the parent's own. */
	ce = vst_entry(cm, VST_VA(24));
	VMT_ASSERT(ce != NULL && ce->vme_object == NULL && ce->vme_end == VST_VA(28));
	VMT_ASSERT_EQ(ce->vme_inheritance, VM_INHERIT_ZERO);
	VMT_ASSERT_EQ(zero->vo_ref_count, 1);
	VMT_ASSERT((vst_pte(vmspace_pmap(parent), VST_VA(24)) & PG_RW) != 0);
	/* Wiring stays the parent's; a wired COPY range is copied at once into an object
	 * of the child's own, and the parent's entry keeps its object, unshared, with its
	 * mappings writable. */
	ce = vst_entry(cm, VST_VA(32));
	pe = vst_entry(pm, VST_VA(32));
	VMT_ASSERT(ce != NULL && !vm_map_entry_wired(ce) && ce->vme_object != NULL &&
	    ce->vme_object != wired);
	VMT_ASSERT(ce->vme_object->vo_backing_object == NULL);
	VMT_ASSERT_EQ(ce->vme_object->vo_resident_page_count, 2);
	VMT_ASSERT_EQ(ce->vme_eflags & (VME_NEEDS_COPY | VME_FORK_COPYING), 0);
	VMT_ASSERT(vm_map_entry_wired(pe) && pe->vme_object == wired);
	VMT_ASSERT_EQ(wired->vo_ref_count, 1);
	VMT_ASSERT_EQ(pe->vme_eflags & VME_NEEDS_COPY, 0);
	VMT_ASSERT((vst_pte(vmspace_pmap(parent), VST_VA(32)) & PG_RW) != 0);

	/* A second fork of a parent already needing copies protects nothing more and
	 * shares the same objects. */
	struct vmspace *child2 = vmspace_fork(parent);
	VMT_ASSERT(child2 != NULL);
	VMT_ASSERT_EQ(cow->vo_ref_count, 3);
	vmspace_free(child2);

	vmspace_free(child);
	VMT_ASSERT_EQ(cow->vo_ref_count, 1);
	VMT_ASSERT_EQ(shr->vo_ref_count, 1);
	VMT_ASSERT_EQ(vm_map_unwire(pm, VST_VA(32), VST_VA(34), VM_MAP_WIRE_USER), 0);
	vmspace_free(parent);
	VMT_ASSERT_EQ(vm_object_count(), objs0);
	VMT_ASSERT_EQ(vst_free_pages(), free0);
}
