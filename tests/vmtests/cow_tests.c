/*
 * Suite "cow": copy-on-write after vmspace_fork, end to end through the real code
 * (`vmm run --ktest=cow`; on the host under Check as vm.cow). A parent vmspace maps a
 * private anonymous range with vm_mmap, writes a pattern into every page (vm_fault
 * write faults), forks, and then each case is checked both ways, after Linux's
 * kselftest cow.c and FreeBSD's shared_shadow_inval_test: the bytes each side reads,
 * and the frames and write bits read back from each side's page tables with the tests'
 * own walker (vmt_pmap.h). Accesses are simulated as a CPU makes them: a load or store
 * through the leaf entry, calling vm_fault only when that entry does not allow it.
 *
 * Each case runs over 1 page, 2 pages and 8 pages straddling a 2 MiB boundary (two
 * page-table pages), and ends with every vmspace freed, the free page count and the
 * object count back at their start values.
 */
#include <string.h>

#include "vm/vm_fault.h"
#include "vm/vm_mmap.h"
#include "vm/vm_object.h"
#include "vm/vm_vmspace.h"
#include "vm/pmap.h"
#include "tests/vmtests/vmtest.h"
#include "tests/vmtests/vmt_pmap.h"

#define CW_MIN      0x10000000ul            /* 256 MiB */
#define CW_MAX      0x20000000ul
#define CW_PROT     (LINUX_PROT_READ | LINUX_PROT_WRITE)
#define CW_PRIV     (LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED)
#define CW_SHFLAGS  (LINUX_MAP_SHARED | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED)

/* Where the range starts, and its pages: 8 straddle 0x10400000 (4 below, 4 above). */
static const struct { vm_offset_t va; int n; } cw_sizes[] = {
	{ CW_MIN + 0x200000ul, 1 },
	{ CW_MIN + 0x200000ul + ptoa(16), 2 },
	{ CW_MIN + 0x400000ul - ptoa(4), 8 },
};

/* The offsets in a page the tests write and read: first byte, middle, last byte. */
static const unsigned cw_off[] = { 0, 100, PAGE_SIZE - 1 };

static int cw_rv;       /* the last failed vm_fault's result */

static uint64_t cw_pte(struct vmspace *vm, vm_offset_t va)
{
	return vmt_pt_walk(vmspace_pmap(vm)->pm_cr3, va, NULL);
}

/* The frame va is mapped to in vm, 0 for none; the walker and pmap_extract agree. */
static vm_paddr_t cw_pa(struct vmspace *vm, vm_offset_t va)
{
	uint64_t e = cw_pte(vm, va);
	vm_paddr_t pa = (e & PG_V) != 0 ? (e & PG_FRAME) : 0;

	if (pmap_extract(vmspace_pmap(vm), va) != pa + (pa != 0 ? (va & PAGE_MASK) : 0))
		return (vm_paddr_t)-1;
	return pa;
}

/* The byte at va as a CPU reads it; -1 when the fault failed (cw_rv says why). */
static int cw_load(struct vmspace *vm, vm_offset_t va)
{
	uint64_t e = cw_pte(vm, va);

	if ((e & PG_V) == 0) {
		cw_rv = vm_fault(vmspace_map(vm), va, VM_PROT_READ, 0);
		if (cw_rv != VM_FAULT_OK)
			return -1;
		e = cw_pte(vm, va);
	}
	return ((uint8_t *)vm_phys_to_dmap(e & PG_FRAME))[va & PAGE_MASK];
}

static bool cw_store(struct vmspace *vm, vm_offset_t va, uint8_t v)
{
	uint64_t e = cw_pte(vm, va);

	if ((e & (PG_V | PG_RW)) != (PG_V | PG_RW)) {
		cw_rv = vm_fault(vmspace_map(vm), va, VM_PROT_WRITE, 0);
		if (cw_rv != VM_FAULT_OK)
			return false;
		e = cw_pte(vm, va);
	}
	((uint8_t *)vm_phys_to_dmap(e & PG_FRAME))[va & PAGE_MASK] = v;
	return true;
}

/* Write tag + page into the three offsets of each of n pages at va. */
static bool cw_fill(struct vmspace *vm, vm_offset_t va, int n, uint8_t tag)
{
	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < nitems(cw_off); k++)
			if (!cw_store(vm, va + ptoa(i) + cw_off[k], (uint8_t)(tag + i)))
				return false;
	return true;
}

/* Do the three offsets of page i read tag + i? */
static bool cw_page_is(struct vmspace *vm, vm_offset_t va, int i, uint8_t tag)
{
	for (size_t k = 0; k < nitems(cw_off); k++)
		if (cw_load(vm, va + ptoa(i) + cw_off[k]) != (uint8_t)(tag + i))
			return false;
	return true;
}

static bool cw_is(struct vmspace *vm, vm_offset_t va, int n, uint8_t tag)
{
	for (int i = 0; i < n; i++)
		if (!cw_page_is(vm, va, i, tag))
			return false;
	return true;
}

/* Does every byte of page i read zero (faulting it in)? */
static bool cw_page_zero(struct vmspace *vm, vm_offset_t va, int i)
{
	if (cw_load(vm, va + ptoa(i)) != 0)
		return false;
	const uint64_t *w = vm_phys_to_dmap(cw_pa(vm, va + ptoa(i)));
	for (size_t k = 0; k < PAGE_SIZE / 8; k++)
		if (w[k] != 0)
			return false;
	return true;
}

/* Page i of both sides: the same frame, neither mapping writable. */
static bool cw_shared_ro(struct vmspace *a, struct vmspace *b, vm_offset_t va, int i)
{
	vm_offset_t p = va + ptoa(i);
	vm_paddr_t pa = cw_pa(a, p);

	return pa != 0 && pa != (vm_paddr_t)-1 && pa == cw_pa(b, p) &&
	    (cw_pte(a, p) & PG_RW) == 0 && (cw_pte(b, p) & PG_RW) == 0;
}

/* Page i of both sides: different frames, both writable. */
static bool cw_private_rw(struct vmspace *a, struct vmspace *b, vm_offset_t va, int i)
{
	vm_offset_t p = va + ptoa(i);
	vm_paddr_t pa = cw_pa(a, p), pb = cw_pa(b, p);

	return pa != 0 && pb != 0 && pa != (vm_paddr_t)-1 && pb != (vm_paddr_t)-1 &&
	    pa != pb && (cw_pte(a, p) & PG_RW) != 0 && (cw_pte(b, p) & PG_RW) != 0;
}

enum cw_case {
	CW_CHILD_WRITES,        /* the child writes: the parent keeps its bytes */
	CW_PARENT_WRITES,       /* the parent writes: the child keeps the old bytes */
	CW_BOTH_WRITE,          /* both write every page: each sees its own */
	CW_READS_SHARE,         /* reads share the frame; an unwritten page stays shared */
	CW_GRANDCHILD,          /* a second fork of the COW range: three views */
	CW_SHARED,              /* MAP_SHARED: a write on either side is seen by the other */
	CW_DONTFORK,            /* MADV_DONTFORK: absent in the child */
	CW_WIPEONFORK,          /* MADV_WIPEONFORK: zero in the child */
	CW_NCASES
};

static const char *const cw_case_names[CW_NCASES] = {
	"child writes", "parent writes", "both write", "reads share", "grandchild",
	"MAP_SHARED", "MADV_DONTFORK", "MADV_WIPEONFORK",
};

/* The bytes: 0x10 + page the parent before fork, 0x40 the parent after, 0x70 the child,
 * 0xa0 the grandchild. */
#define CW_OLD      0x10
#define CW_PNEW     0x40
#define CW_CNEW     0x70
#define CW_GNEW     0xa0

/* One case over n pages at va, with the parent and child made here (g: the grandchild
 * where the case makes one). NULL or what failed. */
static const char *cw_check(enum cw_case c, struct vmspace *p, struct vmspace *ch,
    struct vmspace **g, vm_offset_t va, int n)
{
	switch (c) {
	case CW_CHILD_WRITES:
		if (!cw_fill(ch, va, n, CW_CNEW))
			return "the child's write faulted";
		if (!cw_is(ch, va, n, CW_CNEW))
			return "the child does not read its own write";
		if (!cw_is(p, va, n, CW_OLD))
			return "the parent sees the child's write";
		/* The parent's mapping was write-protected by fork; its next write is its own
		 * and still not the child's business. */
		if (!cw_fill(p, va, n, CW_PNEW) || !cw_is(ch, va, n, CW_CNEW))
			return "the parent's later write reached the child";
		for (int i = 0; i < n; i++)
			if (!cw_private_rw(p, ch, va, i))
				return "after both wrote, a frame is shared or not writable";
		return NULL;
	case CW_PARENT_WRITES:
		if (!cw_fill(p, va, n, CW_PNEW))
			return "the parent's write faulted";
		if (!cw_is(p, va, n, CW_PNEW))
			return "the parent does not read its own write";
		if (!cw_is(ch, va, n, CW_OLD))
			return "the child sees the parent's write";
		for (int i = 0; i < n; i++)
			if (cw_pa(ch, va + ptoa(i)) == cw_pa(p, va + ptoa(i)) ||
			    (cw_pte(ch, va + ptoa(i)) & PG_RW) != 0)
				return "the child maps the parent's new page, or writably";
		return NULL;
	case CW_BOTH_WRITE:
		/* Page by page, alternating who writes first. */
		for (int i = 0; i < n; i++) {
			struct vmspace *first = (i & 1) ? ch : p, *second = (i & 1) ? p : ch;
			uint8_t t1 = first == p ? CW_PNEW : CW_CNEW, t2 = first == p ? CW_CNEW :
			    CW_PNEW;
			if (!cw_fill(first, va + ptoa(i), 1, (uint8_t)(t1 + i)) ||
			    !cw_fill(second, va + ptoa(i), 1, (uint8_t)(t2 + i)))
				return "a write faulted";
		}
		if (!cw_is(p, va, n, CW_PNEW) || !cw_is(ch, va, n, CW_CNEW))
			return "a side does not see its own write";
		for (int i = 0; i < n; i++)
			if (!cw_private_rw(p, ch, va, i))
				return "after both wrote, a frame is shared or not writable";
		return NULL;
	case CW_READS_SHARE:
		if (!cw_is(ch, va, n, CW_OLD) || !cw_is(p, va, n, CW_OLD))
			return "a side does not read the bytes from before fork";
		for (int i = 0; i < n; i++)
			if (!cw_shared_ro(p, ch, va, i))
				return "after reads, the sides do not share a read-only frame";
		/* The child writes its first page only: the other pages stay shared. */
		if (!cw_fill(ch, va, 1, CW_CNEW))
			return "the child's write faulted";
		if (!cw_page_is(p, va, 0, CW_OLD) || !cw_page_is(ch, va, 0, CW_CNEW))
			return "the written page";
		if (cw_pa(ch, va) == cw_pa(p, va) || (cw_pte(ch, va) & PG_RW) == 0)
			return "the child's write did not give it its own writable frame";
		for (int i = 1; i < n; i++) {
			if (!cw_page_is(p, va, i, CW_OLD) || !cw_page_is(ch, va, i, CW_OLD))
				return "a page never written lost its bytes";
			if (!cw_shared_ro(p, ch, va, i))
				return "a page never written after fork is not shared";
		}
		return NULL;
	case CW_GRANDCHILD:
		/* The child writes half, then forks; the grandchild sees the child's bytes
		 * where it wrote and the parent's elsewhere. */
		if (!cw_fill(ch, va, (n + 1) / 2, CW_CNEW))
			return "the child's write faulted";
		if ((*g = vmspace_fork(ch)) == NULL)
			return "the second fork";
		for (int i = 0; i < n; i++)
			if (!cw_page_is(*g, va, i, i < (n + 1) / 2 ? CW_CNEW : CW_OLD))
				return "the grandchild does not read what the child had";
		if (!cw_fill(*g, va, n, CW_GNEW) || !cw_is(*g, va, n, CW_GNEW))
			return "the grandchild's write";
		for (int i = 0; i < n; i++)
			if (!cw_page_is(ch, va, i, i < (n + 1) / 2 ? CW_CNEW : CW_OLD))
				return "the child sees the grandchild's write";
		if (!cw_is(p, va, n, CW_OLD))
			return "the parent sees a descendant's write";
		if (!cw_fill(p, va, n, CW_PNEW) || !cw_fill(ch, va, n, CW_CNEW))
			return "the parent's or child's write";
		if (!cw_is(p, va, n, CW_PNEW) || !cw_is(ch, va, n, CW_CNEW) ||
		    !cw_is(*g, va, n, CW_GNEW))
			return "after all three wrote, a side does not see its own bytes";
		for (int i = 0; i < n; i++)
			if (!cw_private_rw(p, ch, va, i) || !cw_private_rw(ch, *g, va, i) ||
			    !cw_private_rw(p, *g, va, i))
				return "after all three wrote, two share a frame";
		return NULL;
	case CW_SHARED:
		if (!cw_is(ch, va, n, CW_OLD))
			return "the child does not read the shared bytes";
		if (!cw_fill(ch, va, n, CW_CNEW) || !cw_is(p, va, n, CW_CNEW))
			return "the parent does not see the child's write";
		if (!cw_fill(p, va, n, CW_PNEW) || !cw_is(ch, va, n, CW_PNEW))
			return "the child does not see the parent's write";
		for (int i = 0; i < n; i++) {
			vm_offset_t a = va + ptoa(i);
			if (cw_pa(p, a) != cw_pa(ch, a) || (cw_pte(p, a) & PG_RW) == 0 ||
			    (cw_pte(ch, a) & PG_RW) == 0)
				return "the sides do not map one writable frame";
		}
		return NULL;
	case CW_DONTFORK:
		for (int i = 0; i < n; i++) {
			if (cw_load(ch, va + ptoa(i)) != -1 || cw_rv != VM_FAULT_NOMAP ||
			    vm_fault_signal(cw_rv) != VM_FAULT_SIGSEGV)
				return "the child's read did not fault with SIGSEGV (no mapping)";
			if (cw_store(ch, va + ptoa(i), 1) || cw_rv != VM_FAULT_NOMAP)
				return "the child's write did not fault with SIGSEGV";
			if (cw_pte(ch, va + ptoa(i)) != 0)
				return "the child has a page-table entry";
		}
		if (!cw_is(p, va, n, CW_OLD))
			return "the parent lost its bytes";
		for (int i = 0; i < n; i++)
			if ((cw_pte(p, va + ptoa(i)) & PG_RW) == 0)
				return "the parent's mapping was write-protected by fork";
		if (!cw_fill(p, va, n, CW_PNEW) || !cw_is(p, va, n, CW_PNEW))
			return "the parent's write";
		return NULL;
	case CW_WIPEONFORK:
		for (int i = 0; i < n; i++)
			if (!cw_page_zero(ch, va, i))
				return "the child's wiped page does not read zero";
		if (!cw_is(p, va, n, CW_OLD))
			return "the parent lost its bytes";
		if (!cw_fill(ch, va, n, CW_CNEW) || !cw_is(p, va, n, CW_OLD))
			return "the child's write reached the parent";
		if (!cw_fill(p, va, n, CW_PNEW) || !cw_is(ch, va, n, CW_CNEW))
			return "the parent's write reached the child";
		for (int i = 0; i < n; i++)
			if (!cw_private_rw(p, ch, va, i))
				return "the sides share a frame";
		return NULL;
	default:
		return "no such case";
	}
}

/* A case's end: both address spaces freed, then nothing leaked. => the first failure. */
static const char *cw_finish(struct vmspace *p, struct vmspace *ch, int objs0,
    uint64_t free0, const char *why)
{
	if (ch != NULL)
		vmspace_free(ch);
	vmspace_free(p);
	if (why == NULL && vm_object_count() != objs0)
		why = "an object leaked";
	if (why == NULL && vmt_free_pages() != free0)
		why = "a page leaked";
	return why;
}

/* One case at one size: set up, fork, check, free everything, count. */
static const char *cw_run(enum cw_case c, vm_offset_t va, int n)
{
	uint64_t free0 = vmt_free_pages();
	int objs0 = vm_object_count();
	struct vmspace *p = vmspace_alloc(CW_MIN, CW_MAX), *ch = NULL, *g = NULL;
	const char *why = NULL;

	if (p == NULL)
		return "vmspace_alloc";
	if (vm_mmap(vmspace_map(p), va, ptoa(n), CW_PROT, c == CW_SHARED ? CW_SHFLAGS :
	    CW_PRIV) != (long)va)
		why = "mmap";
	else if (!cw_fill(p, va, n, CW_OLD) || !cw_is(p, va, n, CW_OLD))
		why = "the parent's first writes";
	else if (c == CW_DONTFORK && vm_madvise(vmspace_map(p), va, ptoa(n),
	    LINUX_MADV_DONTFORK) != 0)
		why = "MADV_DONTFORK";
	else if (c == CW_WIPEONFORK && vm_madvise(vmspace_map(p), va, ptoa(n),
	    LINUX_MADV_WIPEONFORK) != 0)
		why = "MADV_WIPEONFORK";
	else if (pmap_resident_count(vmspace_pmap(p)) != (uint64_t)n)
		why = "the parent's resident count before fork";
	else if ((ch = vmspace_fork(p)) == NULL)
		why = "vmspace_fork";
	else {
		/* Straight after fork: the child has no mapping; the parent kept its own,
		 * write-protected exactly where the range is copy-on-write. */
		bool cow = c != CW_SHARED && c != CW_DONTFORK && c != CW_WIPEONFORK;
		for (int i = 0; i < n && why == NULL; i++) {
			uint64_t e = cw_pte(p, va + ptoa(i));
			if (cw_pte(ch, va + ptoa(i)) != 0)
				why = "the child has a mapping straight after fork";
			else if ((e & PG_V) == 0 || ((e & PG_RW) == 0) != cow)
				why = "the parent's mapping after fork";
		}
		if (why == NULL)
			why = cw_check(c, p, ch, &g, va, n);
	}
	if (g != NULL)
		vmspace_free(g);
	return cw_finish(p, ch, objs0, free0, why);
}

static void cw_case(enum cw_case c)
{
	pmap_init();
	for (size_t i = 0; i < nitems(cw_sizes); i++) {
		const char *why = cw_run(c, cw_sizes[i].va, cw_sizes[i].n);
		VMT_ASSERT_MSG(why == NULL, "%s, %d pages at %#lx: %s", cw_case_names[c],
		    cw_sizes[i].n, (unsigned long)cw_sizes[i].va, why);
	}
}

VMTEST(cow, child_writes) { cw_case(CW_CHILD_WRITES); }
VMTEST(cow, parent_writes) { cw_case(CW_PARENT_WRITES); }
VMTEST(cow, both_write_same_page) { cw_case(CW_BOTH_WRITE); }
VMTEST(cow, reads_share_unwritten_stays_shared) { cw_case(CW_READS_SHARE); }
VMTEST(cow, grandchild) { cw_case(CW_GRANDCHILD); }
VMTEST(cow, map_shared_stays_shared) { cw_case(CW_SHARED); }
VMTEST(cow, dontfork_absent_in_child) { cw_case(CW_DONTFORK); }
VMTEST(cow, wipeonfork_zero_in_child) { cw_case(CW_WIPEONFORK); }

/*
 * A wired (mlocked) private range at fork: the child gets its own copies at once
 * (FreeBSD's vm_fault_copy_entry), so no wired page is ever shared copy-on-write. The
 * parent's mappings stay as they were (writable, wired, the same frames), before and
 * after either side writes; the child's range is unwired, in an object of its own
 * without a backing object. With `sibling`, the parent forked once before mlock, so
 * its range shadows the pages that sibling still shares: the copies come from the
 * parent's view (its shadow), not the originals below.
 */
static const char *cw_wired_run(vm_offset_t va, int n, bool sibling)
{
	uint64_t free0 = vmt_free_pages();
	int objs0 = vm_object_count();
	struct vmspace *p = vmspace_alloc(CW_MIN, CW_MAX), *ch = NULL, *s = NULL;
	vm_paddr_t pa[8];
	const char *why = NULL;

	if (p == NULL)
		return "vmspace_alloc";
	if (vm_mmap(vmspace_map(p), va, ptoa(n), CW_PROT, CW_PRIV) != (long)va)
		why = "mmap";
	else if (!cw_fill(p, va, n, CW_OLD))
		why = "the parent's first writes";
	else if (sibling && ((s = vmspace_fork(p)) == NULL || !cw_fill(p, va, n, CW_PNEW)))
		why = "the sibling's fork, or the parent's write after it";
	else if (vm_mlock(vmspace_map(p), va, ptoa(n)) != 0)
		why = "mlock";
	for (int i = 0; i < n && why == NULL; i++) {
		uint64_t e = cw_pte(p, va + ptoa(i));
		if ((e & (PG_V | PG_RW | PG_W)) != (PG_V | PG_RW | PG_W))
			why = "the parent's locked page is not mapped writable and wired";
		pa[i] = e & PG_FRAME;
	}
	uint8_t tag = sibling ? CW_PNEW : CW_OLD;
	if (why == NULL && (ch = vmspace_fork(p)) == NULL)
		why = "vmspace_fork";
	if (why == NULL) {
		struct vm_map_entry *pe, *ce;
		vm_map_lock(vmspace_map(p));
		vm_map_lock(vmspace_map(ch));
		if (!vm_map_lookup_entry(vmspace_map(p), va, &pe) ||
		    !vm_map_lookup_entry(vmspace_map(ch), va, &ce))
			why = "an entry is missing";
		else if ((pe->vme_eflags & VME_NEEDS_COPY) != 0 || !vm_map_entry_wired(pe))
			why = "the parent's entry needs a copy now, or lost its wiring";
		else if (vm_map_entry_wired(ce) || (ce->vme_eflags & (VME_NEEDS_COPY |
		    VME_FORK_COPYING)) != 0)
			why = "the child's entry is wired or still waits for a copy";
		else if (ce->vme_object == NULL || ce->vme_object == pe->vme_object ||
		    ce->vme_object->vo_backing_object != NULL ||
		    ce->vme_object->vo_resident_page_count != (uint64_t)n ||
		    ce->vme_object->vo_ref_count != 1)
			why = "the child's object is not a full private copy";
		vm_map_unlock(vmspace_map(ch));
		vm_map_unlock(vmspace_map(p));
	}
	/* Straight after fork, and after each side's writes: the parent's mappings as
	 * they were. */
	for (int step = 0; step < 3 && why == NULL; step++) {
		if (step == 1 && (!cw_is(ch, va, n, tag) || !cw_fill(ch, va, n, CW_CNEW)))
			why = "the child's read of the copy, or its write";
		if (step == 2 && (!cw_is(p, va, n, tag) || !cw_fill(p, va, n, CW_GNEW)))
			why = "the parent's read after the child wrote, or its write";
		for (int i = 0; i < n && why == NULL; i++) {
			uint64_t e = cw_pte(p, va + ptoa(i));
			if ((e & (PG_V | PG_RW | PG_W)) != (PG_V | PG_RW | PG_W) ||
			    (e & PG_FRAME) != pa[i])
				why = "a parent's wired mapping changed";
			else if (PHYS_TO_VM_PAGE(pa[i])->ref_count != 1)
				why = "a parent's page lost its wiring";
			else if (cw_pa(ch, va + ptoa(i)) == pa[i])
				why = "the child maps a parent's wired frame";
		}
	}
	if (why == NULL && (!cw_is(ch, va, n, CW_CNEW) || !cw_is(p, va, n, CW_GNEW)))
		why = "a side does not see its own write";
	if (why == NULL && (pmap_wired_count(vmspace_pmap(p)) != (uint64_t)n ||
	    pmap_wired_count(vmspace_pmap(ch)) != 0))
		why = "the wired counts after fork";
	if (why == NULL && s != NULL && !cw_is(s, va, n, CW_OLD))
		why = "the sibling lost the bytes from before its fork";
	if (s != NULL)
		vmspace_free(s);
	/* p is still locked: its exit unwires. */
	return cw_finish(p, ch, objs0, free0, why);
}

VMTEST(cow, wired_copied_at_fork)
{
	pmap_init();
	for (int sib = 0; sib < 2; sib++)
		for (size_t i = 0; i < nitems(cw_sizes); i++) {
			const char *why = cw_wired_run(cw_sizes[i].va, cw_sizes[i].n, sib != 0);
			VMT_ASSERT_MSG(why == NULL, "%d pages at %#lx%s: %s", cw_sizes[i].n,
			    (unsigned long)cw_sizes[i].va, sib ? " (after a first fork)" : "",
			    why);
		}
}

/* The object of vm's entry at va (NULL: none), and how many objects lie below it. */
static struct vm_object *cw_object(struct vmspace *vm, vm_offset_t va, int *depth)
{
	struct vm_map_entry *e;
	struct vm_object *obj = NULL;

	vm_map_lock(vmspace_map(vm));
	if (vm_map_lookup_entry(vmspace_map(vm), va, &e))
		obj = e->vme_object;
	vm_map_unlock(vmspace_map(vm));
	*depth = 0;
	for (struct vm_object *o = obj; o != NULL && o->vo_backing_object != NULL;
	    o = o->vo_backing_object)
		(*depth)++;
	return obj;
}

enum cw_collapse {
	CW_COLLAPSE_EXIT,       /* the parent writes half, the child all; the child exits */
	CW_COLLAPSE_MUNMAP,     /* the same, but the child munmaps the range */
	CW_COLLAPSE_BOTH_ALL,   /* both write every page, then the child exits */
	CW_COLLAPSE_GRAND,      /* a grandchild below the child: it exits, then the child */
};

/*
 * After fork, each side that writes gets a shadow over the original object O. When the
 * child's side goes (exit or munmap), O is left with one reference, its shadow's: the
 * parent's shadow collapses O into itself (vm_object_deallocate -> vm_object_collapse).
 * Then the parent's range is one object without a backing object, holding exactly its
 * n pages: O's pages the parent had written over are freed, the others moved (same
 * frames: the parent's next write copies nothing), and the free page count is what it
 * was just before the fork.
 */
static const char *cw_collapse_run(enum cw_collapse c, vm_offset_t va, int n)
{
	uint64_t free0 = vmt_free_pages(), free1;
	int objs0 = vm_object_count(), depth;
	struct vmspace *p = vmspace_alloc(CW_MIN, CW_MAX), *ch = NULL, *g = NULL;
	struct vm_object *o, *s;
	vm_paddr_t pa[8];
	const char *why = NULL;
	int half = c == CW_COLLAPSE_BOTH_ALL ? n : (n + 1) / 2;

	if (p == NULL)
		return "vmspace_alloc";
	if (vm_mmap(vmspace_map(p), va, ptoa(n), CW_PROT, CW_PRIV) != (long)va ||
	    !cw_fill(p, va, n, CW_OLD))
		why = "mmap, or the parent's first writes";
	free1 = vmt_free_pages();
	o = cw_object(p, va, &depth);
	if (why == NULL && (ch = vmspace_fork(p)) == NULL)
		why = "vmspace_fork";
	if (why == NULL && (!cw_fill(p, va, half, CW_PNEW) || !cw_is(p, va + ptoa(half),
	    n - half, CW_OLD + half) || !cw_fill(ch, va, n, CW_CNEW)))
		why = "the writes after fork";
	if (why == NULL && c == CW_COLLAPSE_GRAND && ((g = vmspace_fork(ch)) == NULL ||
	    !cw_fill(g, va, 1, CW_GNEW)))
		why = "the grandchild";
	s = cw_object(p, va, &depth);
	if (why == NULL && (s == o || depth != 1 || s->vo_backing_object != o ||
	    s->vo_resident_page_count != (uint64_t)half ||
	    o->vo_resident_page_count != (uint64_t)n))
		why = "before the child goes: the parent's shadow over the originals";
	for (int i = 0; i < n && why == NULL; i++)
		pa[i] = cw_pa(p, va + ptoa(i));
	if (why == NULL) {
		if (g != NULL) {
			vmspace_free(g);
			g = NULL;
			if (cw_object(p, va, &depth) != s || depth != 1)
				why = "the grandchild's exit changed the parent's chain";
		}
	}
	uint64_t collapses = vm_object_collapses();
	if (why == NULL) {
		if (c == CW_COLLAPSE_MUNMAP) {
			if (vm_munmap(vmspace_map(ch), va, ptoa(n)) != 0)
				why = "the child's munmap";
		} else {
			vmspace_free(ch);
			ch = NULL;
		}
	}
	/* One object, no backing, exactly the parent's pages; O is gone. */
	if (why == NULL && (cw_object(p, va, &depth) != s || depth != 0 ||
	    s->vo_resident_page_count != (uint64_t)n))
		why = "after the child went, the parent's chain did not collapse into one object";
	if (why == NULL && vm_object_collapses() != collapses + 1)
		why = "not one collapse when the child went";
	if (why == NULL && vm_object_count() != objs0 + 1)
		why = "an object other than the parent's is left";
	if (why == NULL && ch == NULL && vmt_free_pages() != free1)
		why = "the free page count is not what it was before the fork";
	if (why == NULL && !cw_is(p, va, half, CW_PNEW))
		why = "the parent lost its writes";
	for (int i = half; i < n && why == NULL; i++)
		if (!cw_page_is(p, va, i, CW_OLD))
			why = "the parent lost a page it had not written since fork";
	/* The moved pages are the parent's alone now: a write maps them writable in
	 * place, and nothing is copied. */
	if (why == NULL && !cw_fill(p, va, n, CW_GNEW))
		why = "the parent's write after the collapse";
	for (int i = 0; i < n && why == NULL; i++)
		if (cw_pa(p, va + ptoa(i)) != pa[i])
			why = "a page was copied or moved by the parent's write after the collapse";
	if (why == NULL && s->vo_resident_page_count != (uint64_t)n)
		why = "the parent's object after its writes";
	return cw_finish(p, ch, objs0, free0, why);
}

/* Case c of run over every size of cw_sizes. */
static void cw_sizes_case(const char *(*run)(int, vm_offset_t, int), int c)
{
	pmap_init();
	for (size_t i = 0; i < nitems(cw_sizes); i++) {
		const char *why = run(c, cw_sizes[i].va, cw_sizes[i].n);
		VMT_ASSERT_MSG(why == NULL, "case %d, %d pages at %#lx: %s", c,
		    cw_sizes[i].n, (unsigned long)cw_sizes[i].va, why);
	}
}

static const char *cw_collapse_run_any(int c, vm_offset_t va, int n)
{
	return cw_collapse_run((enum cw_collapse)c, va, n);
}

static void cw_collapse_case(enum cw_collapse c)
{
	cw_sizes_case(cw_collapse_run_any, (int)c);
}

VMTEST(cow, collapse_when_child_exits) { cw_collapse_case(CW_COLLAPSE_EXIT); }
VMTEST(cow, collapse_when_child_unmaps) { cw_collapse_case(CW_COLLAPSE_MUNMAP); }
VMTEST(cow, collapse_frees_originals_both_copied) { cw_collapse_case(CW_COLLAPSE_BOTH_ALL); }
VMTEST(cow, collapse_after_grandchild_and_child) { cw_collapse_case(CW_COLLAPSE_GRAND); }

enum cw_dontneed {
	CW_DN_PARENT,           /* the parent discards its whole shared range */
	CW_DN_CHILD,            /* the child does */
	CW_DN_SHADOW_PART,      /* the parent wrote after fork (its private shadow over the
	                           originals), then discards the middle */
	CW_DN_SHARED_FIRST,     /* the parent discards its first page only; the rest stays
	                           shared with the child */
};

/*
 * MADV_DONTNEED after fork, Linux's semantics for private anonymous memory: the side
 * that discards reads zeros from then on, whether its object is shared with the other
 * side or shadows the originals; the other side keeps its bytes; later writes stay
 * private both ways; the discarded range's own pages are freed at once where nobody
 * else could see them; nothing leaks.
 */
static const char *cw_dontneed_run(enum cw_dontneed c, vm_offset_t va, int n)
{
	uint64_t free0 = vmt_free_pages();
	int objs0 = vm_object_count(), depth;
	struct vmspace *p = vmspace_alloc(CW_MIN, CW_MAX), *ch = NULL, *d, *o;
	const char *why = NULL;
	/* The discarded pages: [lo, hi). */
	int lo = 0, hi = n;

	if (c == CW_DN_SHADOW_PART && n > 2) {
		lo = 1;
		hi = n - 1;
	} else if (c == CW_DN_SHARED_FIRST) {
		hi = 1;
	}
	if (p == NULL)
		return "vmspace_alloc";
	if (vm_mmap(vmspace_map(p), va, ptoa(n), CW_PROT, CW_PRIV) != (long)va ||
	    !cw_fill(p, va, n, CW_OLD))
		why = "mmap, or the parent's first writes";
	else if ((ch = vmspace_fork(p)) == NULL)
		why = "vmspace_fork";
	d = c == CW_DN_CHILD ? ch : p;     /* who discards */
	o = c == CW_DN_CHILD ? p : ch;     /* the other side */
	uint8_t dtag = c == CW_DN_SHADOW_PART ? CW_PNEW : CW_OLD;
	if (why == NULL && c == CW_DN_SHADOW_PART && !cw_fill(p, va, n, CW_PNEW))
		why = "the parent's write after fork";
	if (why == NULL && !cw_is(o, va, n, CW_OLD))
		why = "the other side before the discard";
	struct vm_object *before = why == NULL ? cw_object(d, va, &depth) : NULL;
	uint64_t res0 = before != NULL ? before->vo_resident_page_count : 0;
	if (why == NULL && vm_madvise(vmspace_map(d), va + ptoa(lo), ptoa(hi - lo),
	    LINUX_MADV_DONTNEED) != 0)
		why = "madvise(MADV_DONTNEED)";
	for (int i = lo; i < hi && why == NULL; i++)
		if (cw_pte(d, va + ptoa(i)) != 0)
			why = "a discarded page is still mapped";
	if (why == NULL && cw_object(d, va + ptoa(lo), &depth) != NULL)
		why = "the discarded range still has an object";
	/* The discarding side's own copies (a private shadow) are freed at once. */
	if (why == NULL && c == CW_DN_SHADOW_PART && before->vo_resident_page_count !=
	    res0 - (uint64_t)(hi - lo))
		why = "the parent's private copies in the range were not freed";
	for (int i = 0; i < n && why == NULL; i++) {
		bool gone = i >= lo && i < hi;
		if (gone ? !cw_page_zero(d, va, i) : !cw_page_is(d, va, i, dtag))
			why = gone ? "a discarded page does not read zero" :
			    "a page outside the range lost its bytes";
	}
	if (why == NULL && !cw_is(o, va, n, CW_OLD))
		why = "the other side lost its bytes";
	/* Pages outside the range and never written since fork are still shared. */
	for (int i = hi; i < n && why == NULL && c == CW_DN_SHARED_FIRST; i++)
		if (!cw_shared_ro(d, o, va, i))
			why = "a page outside the range is no longer shared";
	if (why == NULL && (!cw_fill(d, va, n, CW_GNEW) || !cw_is(o, va, n, CW_OLD)))
		why = "the discarding side's later write reached the other";
	if (why == NULL && (!cw_fill(o, va, n, CW_CNEW) || !cw_is(d, va, n, CW_GNEW)))
		why = "the other side's later write reached the discarding one";
	return cw_finish(p, ch, objs0, free0, why);
}

static const char *cw_dontneed_run_any(int c, vm_offset_t va, int n)
{
	return cw_dontneed_run((enum cw_dontneed)c, va, n);
}

static void cw_dontneed_case(enum cw_dontneed c)
{
	cw_sizes_case(cw_dontneed_run_any, (int)c);
}

VMTEST(cow, dontneed_parent_reads_zero_child_keeps) { cw_dontneed_case(CW_DN_PARENT); }
VMTEST(cow, dontneed_child_reads_zero_parent_keeps) { cw_dontneed_case(CW_DN_CHILD); }
VMTEST(cow, dontneed_over_private_shadow) { cw_dontneed_case(CW_DN_SHADOW_PART); }
VMTEST(cow, dontneed_one_page_rest_shared) { cw_dontneed_case(CW_DN_SHARED_FIRST); }

/* One DONTNEED over more entries than it detaches under one lock (20 one-page
 * mappings, each its own object shared with the child): all read zero, the child
 * keeps all, nothing leaks. */
VMTEST(cow, dontneed_many_entries)
{
	enum { N = 20 };
	uint64_t free0;
	int objs0 = vm_object_count(), depth;
	vm_offset_t va = CW_MIN + 0x200000ul;
	struct vmspace *p, *ch;

	pmap_init();
	free0 = vmt_free_pages();
	p = vmspace_alloc(CW_MIN, CW_MAX);
	VMT_ASSERT(p != NULL);
	for (int i = 0; i < N; i++) {
		VMT_ASSERT_EQ(vm_mmap(vmspace_map(p), va + ptoa(i), PAGE_SIZE, CW_PROT, CW_PRIV),
		    (long)(va + ptoa(i)));
		/* Each mapping faults its own object: no two entries merge. */
		VMT_ASSERT(cw_fill(p, va + ptoa(i), 1, (uint8_t)(CW_OLD + i)));
	}
	VMT_ASSERT_EQ(vm_object_count(), objs0 + N);
	ch = vmspace_fork(p);
	VMT_ASSERT(ch != NULL);
	VMT_ASSERT_EQ(vm_madvise(vmspace_map(p), va, ptoa(N), LINUX_MADV_DONTNEED), 0);
	/* Checked before any read: a read faults in an object for the (merged) entry. */
	for (int i = 0; i < N; i++)
		VMT_ASSERT_MSG(cw_object(p, va + ptoa(i), &depth) == NULL, "page %d", i);
	for (int i = 0; i < N; i++) {
		VMT_ASSERT(cw_page_zero(p, va, i));
		VMT_ASSERT(cw_page_is(ch, va, i, CW_OLD));
	}
	vmspace_free(ch);
	vmspace_free(p);
	VMT_ASSERT_EQ(vm_object_count(), objs0);
	VMT_ASSERT_EQ(vmt_free_pages(), free0);
}

/* MAP_SHARED: DONTNEED drops the mappings only; the pages stay in the shared object,
 * so both sides read the bytes again (Linux re-reads the shared object). */
VMTEST(cow, dontneed_shared_keeps_data)
{
	vm_offset_t va = CW_MIN + 0x400000ul - ptoa(4);
	const int n = 8;
	uint64_t free0;
	int objs0 = vm_object_count();
	struct vmspace *p, *ch;

	pmap_init();
	free0 = vmt_free_pages();
	p = vmspace_alloc(CW_MIN, CW_MAX);
	VMT_ASSERT(p != NULL);
	VMT_ASSERT_EQ(vm_mmap(vmspace_map(p), va, ptoa(n), CW_PROT, CW_SHFLAGS), (long)va);
	VMT_ASSERT(cw_fill(p, va, n, CW_OLD));
	ch = vmspace_fork(p);
	VMT_ASSERT(ch != NULL);
	VMT_ASSERT_EQ(vm_madvise(vmspace_map(p), va, ptoa(n), LINUX_MADV_DONTNEED), 0);
	for (int i = 0; i < n; i++)
		VMT_ASSERT_EQ(cw_pte(p, va + ptoa(i)), 0);
	VMT_ASSERT(cw_is(p, va, n, CW_OLD) && cw_is(ch, va, n, CW_OLD));
	VMT_ASSERT(cw_fill(ch, va, n, CW_CNEW) && cw_is(p, va, n, CW_CNEW));
	vmspace_free(ch);
	vmspace_free(p);
	VMT_ASSERT_EQ(vm_object_count(), objs0);
	VMT_ASSERT_EQ(vmt_free_pages(), free0);
}

/* No fork: a private mapping split in pieces by mprotect (one object, a reference per
 * piece). DONTNEED frees the range's pages in place (nobody else can see them): no
 * entry is clipped for it, the object keeps the rest, the range reads zero. After a
 * fork the same call detaches instead, and the child keeps its bytes. */
VMTEST(cow, dontneed_pieces_free_in_place)
{
	vm_offset_t va = CW_MIN + 0x200000ul;
	const int n = 8;
	uint64_t free0;
	int objs0 = vm_object_count(), depth;
	struct vmspace *p, *ch;
	struct vm_object *obj;

	pmap_init();
	free0 = vmt_free_pages();
	p = vmspace_alloc(CW_MIN, CW_MAX);
	VMT_ASSERT(p != NULL);
	VMT_ASSERT_EQ(vm_mmap(vmspace_map(p), va, ptoa(n), CW_PROT, CW_PRIV), (long)va);
	VMT_ASSERT(cw_fill(p, va, n, CW_OLD));
	VMT_ASSERT_EQ(vm_mprotect(vmspace_map(p), va, ptoa(2), LINUX_PROT_READ), 0);
	obj = cw_object(p, va + ptoa(4), &depth);
	VMT_ASSERT(obj != NULL && obj == cw_object(p, va, &depth));
	VMT_ASSERT_EQ(obj->vo_ref_count, 2);
	VMT_ASSERT_EQ(vmspace_map(p)->vmap_nentries, 2);
	VMT_ASSERT_EQ(vm_madvise(vmspace_map(p), va + ptoa(4), ptoa(2), LINUX_MADV_DONTNEED), 0);
	VMT_ASSERT_EQ(vmspace_map(p)->vmap_nentries, 2);
	VMT_ASSERT(cw_object(p, va + ptoa(4), &depth) == obj);
	VMT_ASSERT_EQ(obj->vo_resident_page_count, n - 2);
	for (int i = 0; i < n; i++)
		VMT_ASSERT(i == 4 || i == 5 ? cw_page_zero(p, va, i) : cw_page_is(p, va, i, CW_OLD));
	/* Forked: the child's references make it shared, so the parent's piece lets go. */
	ch = vmspace_fork(p);
	VMT_ASSERT(ch != NULL);
	VMT_ASSERT_EQ(vm_madvise(vmspace_map(p), va + ptoa(6), ptoa(1), LINUX_MADV_DONTNEED), 0);
	VMT_ASSERT(cw_object(p, va + ptoa(6), &depth) == NULL);
	VMT_ASSERT(cw_page_zero(p, va, 6) && cw_page_is(ch, va, 6, CW_OLD));
	VMT_ASSERT(cw_page_is(p, va, 7, CW_OLD));
	vmspace_free(ch);
	vmspace_free(p);
	VMT_ASSERT_EQ(vm_object_count(), objs0);
	VMT_ASSERT_EQ(vmt_free_pages(), free0);
}
