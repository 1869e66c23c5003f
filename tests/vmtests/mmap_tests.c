/*
 * vm_mmap checks that hold on any running VM core (the host's simulated machine and the
 * guest's RAM): `vmm run --ktest=mmap`. Each test makes its own map over a user-like range
 * and destroys it; the full case table with Linux's answers is tests/unit/test_vm_mmap.c.
 */
#include "vm/vm_mmap.h"
#include "tests/vmtests/vmtest.h"

#define MMT_MIN     0x10000ul                       /* Linux's mmap_min_addr */
#define MMT_MAX     0x7ffffffff000ul                /* Linux's x86-64 TASK_SIZE */
#define MMT_PG(n)   ((vm_offset_t)(n) * PAGE_SIZE)
#define MMT_RW      (LINUX_PROT_READ | LINUX_PROT_WRITE)
#define MMT_AN      (LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS)

/* Is [s, e) one entry with protection prot? */
static bool mmt_entry_is(struct vm_map *map, vm_offset_t s, vm_offset_t e, vm_prot_t prot)
{
	struct vm_map_entry *ent;
	bool ok;

	vm_map_lock(map);
	ok = vm_map_lookup_entry(map, s, &ent) && ent->vme_start == s && ent->vme_end == e &&
	    ent->vme_protection == prot;
	vm_map_unlock(map);
	return ok;
}

VMTEST(mmap, errnos)
{
	struct vm_map map;
	int base = vm_map_entries_allocated();

	vm_map_init(&map, NULL, MMT_MIN, MMT_MAX);
	VMT_ASSERT_EQ(vm_mmap(&map, 0, 0, MMT_RW, MMT_AN), -EINVAL);
	VMT_ASSERT_EQ(vm_mmap(&map, 0, MMT_PG(1), MMT_RW, LINUX_MAP_PRIVATE), -EBADF);
	VMT_ASSERT_EQ(vm_mmap(&map, MMT_MIN + 1, MMT_PG(1), MMT_RW, MMT_AN | LINUX_MAP_FIXED),
	    -EINVAL);
	VMT_ASSERT_EQ(vm_mmap(&map, MMT_MAX - MMT_PG(1), MMT_PG(2), MMT_RW,
	    MMT_AN | LINUX_MAP_FIXED), -ENOMEM);
	VMT_ASSERT_EQ(vm_mmap(&map, 0, MMT_PG(1), MMT_RW, MMT_AN | LINUX_MAP_FIXED), -EPERM);
	long a = vm_mmap(&map, 0, MMT_PG(4), MMT_RW, MMT_AN);
	VMT_ASSERT_EQ(a, MMT_MIN);
	VMT_ASSERT_EQ(vm_mmap(&map, MMT_MIN, MMT_PG(1), MMT_RW,
	    MMT_AN | LINUX_MAP_FIXED_NOREPLACE), -EEXIST);
	VMT_ASSERT_EQ(vm_munmap(&map, MMT_MIN + 1, MMT_PG(1)), -EINVAL);
	VMT_ASSERT_EQ(vm_munmap(&map, MMT_MIN + MMT_PG(100), MMT_PG(1)), 0);
	VMT_ASSERT_EQ(vm_mprotect(&map, MMT_MIN, MMT_PG(8), LINUX_PROT_READ), -ENOMEM);
	VMT_ASSERT_EQ(vm_madvise(&map, MMT_MIN, MMT_PG(1), 12345), -EINVAL);
	VMT_ASSERT_EQ(vm_madvise(&map, MMT_MIN, MMT_PG(8), LINUX_MADV_RANDOM), -ENOMEM);
	VMT_ASSERT_EQ(vm_mlock(&map, MMT_MIN + MMT_PG(2), MMT_PG(4)), -ENOMEM);
	VMT_ASSERT_EQ(vm_mmap_max(&map, 0, MMT_PG(1), MMT_RW, VM_PROT_READ, MMT_AN), -EACCES);
	vm_map_destroy(&map);
	VMT_ASSERT_EQ(vm_map_entries_allocated(), base);
}

VMTEST(mmap, fixed_split_protect)
{
	struct vm_map map;
	int base = vm_map_entries_allocated();
	vm_offset_t b = MMT_MIN + MMT_PG(16);

	vm_map_init(&map, NULL, MMT_MIN, MMT_MAX);
	VMT_ASSERT_EQ(vm_mmap(&map, b, MMT_PG(6), MMT_RW, MMT_AN | LINUX_MAP_FIXED), b);
	/* FIXED replaces the middle; munmap splits in three; mprotect spans entries. */
	VMT_ASSERT_EQ(vm_mmap(&map, b + MMT_PG(1), MMT_PG(1), LINUX_PROT_READ,
	    MMT_AN | LINUX_MAP_FIXED), b + MMT_PG(1));
	VMT_ASSERT(mmt_entry_is(&map, b + MMT_PG(1), b + MMT_PG(2), VM_PROT_READ));
	VMT_ASSERT_EQ(vm_munmap(&map, b + MMT_PG(3), MMT_PG(1)), 0);
	VMT_ASSERT_EQ(map.vmap_nentries, 4);
	VMT_ASSERT_EQ(vm_mprotect(&map, b, MMT_PG(3), LINUX_PROT_READ), 0);
	VMT_ASSERT(mmt_entry_is(&map, b, b + MMT_PG(3), VM_PROT_READ));
	VMT_ASSERT_EQ(vm_mprotect(&map, b, MMT_PG(6), LINUX_PROT_READ), -ENOMEM);
	/* A hint that is free is honoured. */
	VMT_ASSERT_EQ(vm_mmap(&map, b + MMT_PG(3), MMT_PG(1), MMT_RW, MMT_AN), b + MMT_PG(3));
	VMT_ASSERT_EQ(vm_mlock(&map, b, MMT_PG(6)), 0);
	VMT_ASSERT_EQ(vm_munlock(&map, b, MMT_PG(6)), 0);
	VMT_ASSERT_EQ(vm_madvise(&map, b, MMT_PG(6), LINUX_MADV_DONTFORK), 0);
	VMT_ASSERT_EQ(vm_munmap(&map, b, MMT_PG(6)), 0);
	VMT_ASSERT_EQ(map.vmap_nentries, 0);
	vm_map_destroy(&map);
	VMT_ASSERT_EQ(vm_map_entries_allocated(), base);
}

VMTEST(mmap, brk)
{
	struct vm_map map;
	struct vm_brk brk;
	int base = vm_map_entries_allocated();
	vm_offset_t h = MMT_MIN + MMT_PG(64);

	vm_map_init(&map, NULL, MMT_MIN, MMT_MAX);
	vm_brk_init(&brk, h, h + MMT_PG(32));
	VMT_ASSERT_EQ(vm_brk(&map, &brk, 0), h);
	VMT_ASSERT_EQ(vm_brk(&map, &brk, h + MMT_PG(3) + 5), h + MMT_PG(3) + 5);
	VMT_ASSERT(mmt_entry_is(&map, h, h + MMT_PG(4), VM_PROT_READ | VM_PROT_WRITE));
	VMT_ASSERT_EQ(vm_brk(&map, &brk, h + MMT_PG(1)), h + MMT_PG(1));
	VMT_ASSERT(mmt_entry_is(&map, h, h + MMT_PG(1), VM_PROT_READ | VM_PROT_WRITE));
	/* A mapping at page 8: the break stops a guard page below it. */
	VMT_ASSERT_EQ(vm_mmap(&map, h + MMT_PG(8), MMT_PG(1), LINUX_PROT_READ,
	    MMT_AN | LINUX_MAP_FIXED), h + MMT_PG(8));
	VMT_ASSERT_EQ(vm_brk(&map, &brk, h + MMT_PG(8)), h + MMT_PG(1));
	VMT_ASSERT_EQ(vm_brk(&map, &brk, h + MMT_PG(7)), h + MMT_PG(7));
	VMT_ASSERT_EQ(vm_brk(&map, &brk, h + MMT_PG(33)), h + MMT_PG(7));
	vm_map_destroy(&map);
	VMT_ASSERT_EQ(vm_map_entries_allocated(), base);
}
