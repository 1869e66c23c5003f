/*
 * pmap on the host: the x86-64 pmap (guest/amd64/pmap.c) writing real 4-level page
 * tables into the simulated RAM. After each operation a walker written here (it shares
 * nothing with pmap.c but the bit names of specialreg.h) reads the entries back: leaf
 * bits, upper-level bits, each table's use count against the entries it really holds,
 * and the tables reachable from a root against the pmap's count. The invalidation hooks
 * record on the host (pmap_int.h), so the tests count what each operation asked.
 */
#include "tests/unit/unit.h"
#include "tests/vmtests/vmt_pmap.h"
#include "tests/support/vm_host.h"
#include "guest/amd64/pmap_int.h"
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_page.h"

#define VA0     0x400000ul                  /* a user address, 2 MiB aligned */
#define PG(n)   ((vm_offset_t)(n) * PAGE_SIZE)
#define RW      (VM_PROT_READ | VM_PROT_WRITE)
#define LEAF_BITS   (PG_V | PG_RW | PG_U | PG_A | PG_M | PG_G | PG_NX | PG_W | PG_MANAGED)

static uint64_t free_at_start;

static void setup(void)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
	pmap_init();
	/* Two mappings of a page made and undone first (the second takes a pv entry
	 * from UMA; the first is kept in the page): UMA's pages for the pv zone and its
	 * own zones (slab headers, buckets), which a reclaim keeps, exist from here on. */
	struct pmap p;
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);
	ck_assert_int_eq(pmap_pinit(&p), 0);
	ck_assert_int_eq(pmap_enter(&p, 0, m, VM_PROT_READ, VM_PROT_READ), 0);
	ck_assert_int_eq(pmap_enter(&p, PAGE_SIZE, m, VM_PROT_READ, VM_PROT_READ), 0);
	pmap_remove(&p, 0, 2 * PAGE_SIZE);
	pmap_release(&p);
	vm_page_free(m);
	free_at_start = vmt_count_free_pages();
}

static vm_page_t page(void)
{
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM);

	ck_assert_ptr_nonnull(m);
	return m;
}

static uint64_t *table(uint64_t entry)
{
	return vm_phys_to_dmap(entry & PG_FRAME);
}

/*
 * The leaf entry for va under root, 0 when a level is missing. Upper levels must be
 * valid, writable, accessed, not large, user-accessible (the kernel runs at CPL 3:
 * docs/deprivileged-kernel.md).
 */
static uint64_t walk(vm_paddr_t root, vm_offset_t va)
{
	static const int shifts[3] = { 39, 30, 21 };
	uint64_t *t = vm_phys_to_dmap(root);

	for (int l = 0; l < 3; l++) {
		uint64_t e = t[(va >> shifts[l]) & 511];
		if ((e & PG_V) == 0)
			return 0;
		ck_assert_msg((e & (PG_RW | PG_A | PG_PS | PG_NX)) == (PG_RW | PG_A),
		    "level %d entry %#lx for va %#lx", l, (unsigned long)e, (unsigned long)va);
		ck_assert_msg((e & PG_U) != 0, "level %d entry %#lx: no U for va %#lx",
		    l, (unsigned long)e, (unsigned long)va);
		t = table(e);
	}
	return t[(va >> PAGE_SHIFT) & 511];
}

/* Each table below e (at level l: 0 PDPT, 1 PD, 2 PT) has as many valid entries as its
 * use count says and none empty; => the number of tables. */
static uint64_t check_tables(uint64_t e, int l)
{
	uint64_t *t = table(e), n = 1;
	unsigned valid = 0;

	for (int i = 0; i < 512; i++) {
		if ((t[i] & PG_V) == 0)
			continue;
		valid++;
		if (l < 2)
			n += check_tables(t[i], l + 1);
	}
	ck_assert_uint_gt(valid, 0);
	ck_assert_uint_eq(PHYS_TO_VM_PAGE(e & PG_FRAME)->md.md_pt_use, valid);
	return n;
}

/* The user half of p's root, walked whole: its tables match pmap's count. */
static void check_pmap(pmap_t p)
{
	uint64_t n = 0;

	for (int i = 0; i < 256; i++)
		if (p->pm_pml4[i] & PG_V)
			n += check_tables(p->pm_pml4[i], 0);
	ck_assert_uint_eq(n, p->pm_stats.pt_count);
	/* The kernel half is kernel_pmap's. */
	ck_assert_mem_eq(&p->pm_pml4[256], &kernel_pmap->pm_pml4[256], 256 * 8);
	/* User mode's root: the same user half, entry for entry, and of the kernel half
	 * only the stubs' slot. */
	ck_assert_ptr_nonnull(p->pm_pml4u);
	ck_assert_uint_eq(vm_dmap_to_phys(p->pm_pml4u), p->pm_ucr3);
	ck_assert_uint_ne(p->pm_ucr3, p->pm_cr3);
	ck_assert_mem_eq(p->pm_pml4u, p->pm_pml4, 256 * 8);
	for (int i = 256; i < 512; i++)
		ck_assert_uint_eq(p->pm_pml4u[i], i == PMAP_STUB_SLOT ? pmap_stub_pml4e : 0);
}

/* Mappings on m's pv list: the page's own slot, then UMA's entries (md_page.h). An
 * empty slot has nothing linked from it. */
static unsigned npv(vm_page_t m)
{
	unsigned n = 0;

	if (m->md.pv_first.pv_pmap == NULL) {
		ck_assert_ptr_null(m->md.pv_first.pv_next);
		ck_assert_uint_eq(m->md.pv_first.pv_va, 0);
		return 0;
	}
	for (struct pv_entry *pv = &m->md.pv_first; pv != NULL; pv = pv->pv_next)
		n++;
	return n;
}

/* The leaf entry of va under p, for the CPU-style edits below. */
static uint64_t *leaf(pmap_t p, vm_offset_t va)
{
	uint64_t *t = vm_phys_to_dmap(p->pm_cr3);

	for (int l = 0; l < 3; l++)
		t = table(t[(va >> (39 - 9 * l)) & 511]);
	return &t[(va >> PAGE_SHIFT) & 511];
}

START_TEST(enter_extract_remove)
{
	struct pmap p;
	vm_page_t m = page();
	vm_paddr_t pa = VM_PAGE_TO_PHYS(m);
	uint64_t free0;

	ck_assert_int_eq(pmap_pinit(&p), 0);
	free0 = vmt_count_free_pages();
	ck_assert_int_eq(pmap_enter(&p, VA0 + PG(5), m, RW, VM_PROT_READ), 0);
	/* A read access: accessed, writable, not yet modified; not executable. */
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(5)),
	    pa | PG_V | PG_RW | PG_U | PG_A | PG_NX | PG_MANAGED);
	ck_assert_uint_eq(pmap_extract(&p, VA0 + PG(5) + 123), pa + 123);
	ck_assert_uint_eq(pmap_extract(&p, VA0 + PG(6)), 0);
	ck_assert_uint_eq(pmap_resident_count(&p), 1);
	ck_assert_uint_eq(p.pm_stats.pt_count, 3);
	/* Three tables; no pv entry from UMA: the page's one mapping is kept in the page. */
	ck_assert_uint_eq(free0 - vmt_count_free_pages(), 3);
	ck_assert_uint_eq(npv(m), 1);
	ck_assert(pmap_page_is_mapped(m));
	ck_assert(m->aflags & PGA_WRITEABLE);
	check_pmap(&p);

	pmap_remove(&p, VA0, VA0 + PG(512));
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(5)), 0);
	ck_assert_uint_eq(pmap_extract(&p, VA0 + PG(5)), 0);
	ck_assert_uint_eq(pmap_resident_count(&p), 0);
	ck_assert_uint_eq(p.pm_stats.pt_count, 0);
	ck_assert(!pmap_page_is_mapped(m));
	ck_assert((m->aflags & PGA_WRITEABLE) == 0);
	ck_assert(m->aflags & PGA_REFERENCED);  /* it had PG_A */
	ck_assert_uint_eq(m->dirty, 0);         /* no PG_M */
	for (int i = 0; i < 256; i++)
		ck_assert_uint_eq(p.pm_pml4[i], 0);
	/* Not loaded anywhere: nothing to invalidate. */
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, 0);
	ck_assert_uint_eq(vmt_count_free_pages(), free0);
	pmap_release(&p);
	vm_page_free(m);
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

START_TEST(enter_bits)
{
	struct pmap p;
	vm_page_t m[4] = { page(), page(), page(), page() };

	ck_assert_int_eq(pmap_pinit(&p), 0);
	/* A write access sets PG_M; PMAP_ENTER_DIRTY does on a read access too, but
	 * only where the mapping is writable. */
	pmap_enter(&p, VA0, m[0], RW, VM_PROT_WRITE);
	pmap_enter(&p, VA0 + PG(1), m[1], RW, VM_PROT_READ | PMAP_ENTER_DIRTY);
	pmap_enter(&p, VA0 + PG(2), m[2], VM_PROT_READ, VM_PROT_READ | PMAP_ENTER_DIRTY);
	pmap_enter(&p, VA0 + PG(3), m[3], VM_PROT_READ | VM_PROT_EXECUTE,
	    VM_PROT_EXECUTE | PMAP_ENTER_WIRED);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0) & LEAF_BITS,
	    PG_V | PG_RW | PG_U | PG_A | PG_M | PG_NX | PG_MANAGED);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(1)) & LEAF_BITS,
	    PG_V | PG_RW | PG_U | PG_A | PG_M | PG_NX | PG_MANAGED);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(2)) & LEAF_BITS,
	    PG_V | PG_U | PG_A | PG_NX | PG_MANAGED);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(3)) & LEAF_BITS,
	    PG_V | PG_U | PG_A | PG_W | PG_MANAGED);
	ck_assert_uint_eq(pmap_wired_count(&p), 1);
	ck_assert(pmap_is_modified(m[0]) && pmap_is_modified(m[1]));
	ck_assert(!pmap_is_modified(m[2]) && !pmap_is_modified(m[3]));
	ck_assert((m[2]->aflags & PGA_WRITEABLE) == 0);
	check_pmap(&p);

	/* The same page again, unwired and writable: one mapping still, counts follow. */
	pmap_enter(&p, VA0 + PG(3), m[3], RW, VM_PROT_READ);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(3)) & LEAF_BITS,
	    PG_V | PG_RW | PG_U | PG_A | PG_NX | PG_MANAGED);
	ck_assert_uint_eq(pmap_wired_count(&p), 0);
	ck_assert_uint_eq(npv(m[3]), 1);
	/* Another page at an occupied address: the old one loses its mapping, and its
	 * modified bit becomes the page's. */
	pmap_enter(&p, VA0, m[3], RW, VM_PROT_READ);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0) & PG_FRAME, VM_PAGE_TO_PHYS(m[3]));
	ck_assert_uint_eq(npv(m[0]), 0);
	ck_assert_uint_eq(npv(m[3]), 2);
	ck_assert_uint_eq(m[0]->dirty, 0xff);
	ck_assert_uint_eq(pmap_resident_count(&p), 4);
	check_pmap(&p);

	pmap_remove(&p, 0, VM_MAXUSER_ADDRESS);
	ck_assert_uint_eq(pmap_resident_count(&p), 0);
	ck_assert_uint_eq(p.pm_stats.pt_count, 0);
	pmap_release(&p);
	for (int i = 0; i < 4; i++) {
		m[i]->dirty = 0;
		vm_page_free(m[i]);
	}
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

START_TEST(protect)
{
	struct pmap p;
	vm_page_t m[3] = { page(), page(), page() };

	ck_assert_int_eq(pmap_pinit(&p), 0);
	ck_assert_int_eq(pmap_enter_run(&p, VA0, m, 3, RW | VM_PROT_EXECUTE, VM_PROT_READ), 3);
	pmap_enter(&p, VA0 + PG(1), m[1], RW, VM_PROT_WRITE);   /* NX, modified */
	pmap_protect(&p, VA0, VA0 + PG(3), VM_PROT_READ | VM_PROT_EXECUTE);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0) & LEAF_BITS, PG_V | PG_U | PG_A | PG_MANAGED);
	/* Read-only now; NX kept (protect never adds a right); PG_M gone to the page. */
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(1)) & LEAF_BITS,
	    PG_V | PG_U | PG_A | PG_NX | PG_MANAGED);
	ck_assert_uint_eq(m[1]->dirty, 0xff);
	ck_assert_uint_eq(m[0]->dirty, 0);
	ck_assert(!pmap_is_modified(m[1]));
	/* Taking execute away sets NX. */
	pmap_protect(&p, VA0, VA0 + PG(3), VM_PROT_READ);
	for (int i = 0; i < 3; i++)
		ck_assert(walk(p.pm_cr3, VA0 + PG(i)) & PG_NX);
	check_pmap(&p);
	/* No read: removed. */
	pmap_protect(&p, VA0, VA0 + PG(2), VM_PROT_NONE);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0), 0);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(1)), 0);
	ck_assert(walk(p.pm_cr3, VA0 + PG(2)) & PG_V);
	ck_assert_uint_eq(pmap_resident_count(&p), 1);
	check_pmap(&p);
	pmap_remove(&p, VA0, VA0 + PG(3));
	pmap_release(&p);
	for (int i = 0; i < 3; i++) {
		m[i]->dirty = 0;
		vm_page_free(m[i]);
	}
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

START_TEST(remove_all_shared_page)
{
	struct pmap p[3];
	vm_page_t m = page(), other = page();

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(pmap_pinit(&p[i]), 0);
		/* Two mappings in p[0], one in each other; a neighbour that stays. */
		pmap_enter(&p[i], VA0 + PG(i), m, RW, VM_PROT_READ);
		pmap_enter(&p[i], VA0 + PG(8), other, RW, VM_PROT_READ);
	}
	pmap_enter(&p[0], 0x7f0000000000ul, m, VM_PROT_READ, VM_PROT_READ);
	ck_assert_uint_eq(npv(m), 4);
	/* As the CPU would: a write through p[2]'s mapping. */
	*leaf(&p[2], VA0 + PG(2)) |= PG_M;
	ck_assert(pmap_is_modified(m));

	pmap_remove_all(m);
	ck_assert_uint_eq(npv(m), 0);
	ck_assert(!pmap_page_is_mapped(m));
	ck_assert_uint_eq(m->dirty, 0xff);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(walk(p[i].pm_cr3, VA0 + PG(i)), 0);
		ck_assert_uint_eq(walk(p[i].pm_cr3, VA0 + PG(8)) & PG_FRAME,
		    VM_PAGE_TO_PHYS(other));
		ck_assert_uint_eq(pmap_resident_count(&p[i]), 1);
		check_pmap(&p[i]);
	}
	/* The lone mapping's tables went with it. */
	ck_assert_uint_eq(p[0].pm_stats.pt_count, 3);
	ck_assert_uint_eq(walk(p[0].pm_cr3, 0x7f0000000000ul), 0);
	for (int i = 0; i < 3; i++) {
		pmap_remove(&p[i], 0, VM_MAXUSER_ADDRESS);
		pmap_release(&p[i]);
	}
	m->dirty = 0;
	vm_page_free(m);
	vm_page_free(other);
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

/*
 * A page's first mapping is kept in the page itself (md.pv_first), the others in UMA's
 * entries linked from it. Removing the first moves the second into the page's slot;
 * removing a later one unlinks it; the last one leaves the slot all-zero. Each removal
 * is by address, in an order that takes every case.
 */
START_TEST(pv_first_in_page)
{
	struct pmap p;
	vm_page_t m = page();

	ck_assert_int_eq(pmap_pinit(&p), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pmap_enter(&p, VA0 + PG(i), m, RW, VM_PROT_READ), 0);
	ck_assert_uint_eq(npv(m), 3);
	ck_assert_ptr_eq(m->md.pv_first.pv_pmap, &p);
	ck_assert_uint_eq(m->md.pv_first.pv_va, VA0);
	/* The first: the next one (the newest, linked right after the slot) moves in. */
	pmap_remove(&p, VA0, VA0 + PG(1));
	ck_assert_uint_eq(npv(m), 2);
	ck_assert_uint_eq(m->md.pv_first.pv_va, VA0 + PG(2));
	ck_assert_uint_eq(m->md.pv_first.pv_next->pv_va, VA0 + PG(1));
	/* A later one: unlinked, the slot stays. */
	pmap_remove(&p, VA0 + PG(1), VA0 + PG(2));
	ck_assert_uint_eq(npv(m), 1);
	ck_assert_uint_eq(m->md.pv_first.pv_va, VA0 + PG(2));
	ck_assert_ptr_null(m->md.pv_first.pv_next);
	ck_assert(pmap_page_is_mapped(m));
	check_pmap(&p);
	/* The last: nothing left, npv checks the slot is all-zero. */
	pmap_remove(&p, VA0 + PG(2), VA0 + PG(3));
	ck_assert_uint_eq(npv(m), 0);
	ck_assert(!pmap_page_is_mapped(m));
	ck_assert((m->aflags & PGA_WRITEABLE) == 0);
	pmap_release(&p);
	vm_page_free(m);
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

START_TEST(referenced_and_modified)
{
	struct pmap p, q;
	vm_page_t m = page();

	ck_assert_int_eq(pmap_pinit(&p), 0);
	ck_assert_int_eq(pmap_pinit(&q), 0);
	pmap_activate(&p);
	pmap_enter(&p, VA0, m, RW, VM_PROT_READ);
	pmap_enter(&q, VA0 + PG(7), m, RW, VM_PROT_READ);
	/* Entered with PG_A: both count once, then neither. */
	ck_assert_int_eq(pmap_ts_referenced(m), 2);
	ck_assert((*leaf(&p, VA0) & PG_A) == 0 && (*leaf(&q, VA0 + PG(7)) & PG_A) == 0);
	ck_assert_int_eq(pmap_ts_referenced(m), 0);
	/* p is loaded, yet no invalidation: a clear accessed bit a TLB entry still
	 * hides costs at most a missed reference, never a wrong translation (pmap.c). */
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, 0);
	*leaf(&q, VA0 + PG(7)) |= PG_A;
	ck_assert_int_eq(pmap_ts_referenced(m), 1);
	ck_assert_uint_eq(m->dirty, 0);
	/* A modified writable entry seen on the way makes the page dirty (the daemon
	 * then knows it needs a write without asking the pager); the entry keeps PG_M. */
	*leaf(&p, VA0) |= PG_A | PG_M;
	ck_assert_int_eq(pmap_ts_referenced(m), 1);
	ck_assert_uint_eq(m->dirty, VM_PAGE_BITS_ALL);
	ck_assert((*leaf(&p, VA0) & PG_M) != 0);
	*leaf(&p, VA0) &= ~PG_M;
	m->dirty = 0;

	ck_assert(!pmap_is_modified(m));
	*leaf(&q, VA0 + PG(7)) |= PG_M;
	ck_assert(pmap_is_modified(m));
	pmap_clear_modify(m);
	ck_assert(!pmap_is_modified(m));
	ck_assert((*leaf(&q, VA0 + PG(7)) & (PG_M | PG_RW)) == PG_RW);
	ck_assert_uint_eq(m->dirty, 0);

	*leaf(&p, VA0) |= PG_M;
	pmap_remove_write(m);
	ck_assert_uint_eq(*leaf(&p, VA0) & (PG_RW | PG_M), 0);
	ck_assert_uint_eq(*leaf(&q, VA0 + PG(7)) & (PG_RW | PG_M), 0);
	ck_assert((m->aflags & PGA_WRITEABLE) == 0);
	ck_assert_uint_eq(m->dirty, 0xff);
	ck_assert(!pmap_is_modified(m));
	ck_assert_uint_eq(npv(m), 2);

	pmap_activate(kernel_pmap);
	ck_assert_uint_eq(pmap_invl_log.pil_root_loads, 2);
	ck_assert_uint_eq(pmap_invl_log.pil_last_root, kernel_pmap->pm_cr3);
	pmap_remove_all(m);
	pmap_release(&p);
	pmap_release(&q);
	m->dirty = 0;
	vm_page_free(m);
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

START_TEST(tables_freed_when_empty)
{
	static const vm_offset_t vas[] = {
		0x1000, 0x3000,                 /* one PT */
		0x200000,                       /* another PT, same PD */
		0x40000000,                     /* another PD, same PDPT */
		0x8000000000,                   /* another PML4 slot */
		0x7ffffffff000,                 /* the last user page */
	};
	struct pmap p;
	vm_page_t m = page();
	uint64_t free0;

	ck_assert_int_eq(pmap_pinit(&p), 0);
	free0 = vmt_count_free_pages();
	for (size_t i = 0; i < nitems(vas); i++)
		ck_assert_int_eq(pmap_enter(&p, vas[i], m, RW, VM_PROT_READ), 0);
	ck_assert_uint_eq(p.pm_stats.pt_count, 3 + 1 + 2 + 3 + 3);
	ck_assert_uint_eq(free0 - vmt_count_free_pages(), p.pm_stats.pt_count + 1);  /* + pv slab */
	check_pmap(&p);
	/* Piece by piece: each table goes with its last entry. */
	pmap_remove(&p, 0x1000, 0x2000);
	ck_assert_uint_eq(p.pm_stats.pt_count, 12);
	pmap_remove(&p, 0x3000, 0x4000);
	ck_assert_uint_eq(p.pm_stats.pt_count, 11);
	check_pmap(&p);
	pmap_remove(&p, 0x8000000000, 0x8000001000);
	ck_assert_uint_eq(p.pm_stats.pt_count, 8);
	check_pmap(&p);
	/* The rest in one call over the whole user half (holes skipped a level at a time). */
	pmap_remove(&p, 0, VM_MAXUSER_ADDRESS);
	ck_assert_uint_eq(p.pm_stats.pt_count, 0);
	ck_assert_uint_eq(npv(m), 0);
	ck_assert_uint_eq(vmt_count_free_pages(), free0);
	pmap_release(&p);
	vm_page_free(m);
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

/*
 * One fresh page at a time (PMAP_ENTER_NEW, the zero-fill's enter) goes through the
 * pmap's cache of its last page table. The cached table freed under it (its last entry
 * removed) and a new one allocated at the same place, or another 2 MiB entered between:
 * each enter must land in the table the walk reaches (the unit build's KASSERT on every
 * cache hit says so too), with the use counts and pv lists right, and every page back
 * at the end.
 */
START_TEST(enter_new_table_cache)
{
	struct pmap p;
	vm_page_t m[4];

	ck_assert_int_eq(pmap_pinit(&p), 0);
	uint64_t free0 = vmt_count_free_pages();
	for (int i = 0; i < 4; i++)
		m[i] = page();
	ck_assert_int_eq(pmap_enter(&p, VA0, m[0], RW, VM_PROT_WRITE | PMAP_ENTER_NEW), 0);
	ck_assert_int_eq(pmap_enter(&p, VA0 + PG(1), m[1], RW, VM_PROT_WRITE | PMAP_ENTER_NEW),
	    0);
	check_pmap(&p);
	/* The cached table goes with its last entry; the next enter there needs a new one. */
	pmap_remove(&p, VA0, VA0 + PG(2));
	ck_assert_uint_eq(p.pm_stats.pt_count, 0);
	ck_assert_int_eq(pmap_enter(&p, VA0 + PG(5), m[2], RW, VM_PROT_WRITE | PMAP_ENTER_NEW),
	    0);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(5)) & PG_FRAME, VM_PAGE_TO_PHYS(m[2]));
	check_pmap(&p);
	/* Another 2 MiB, then back: two tables, each entry in its own. */
	ck_assert_int_eq(pmap_enter(&p, VA0 + NBPDR, m[3], RW, VM_PROT_WRITE | PMAP_ENTER_NEW),
	    0);
	ck_assert_int_eq(pmap_enter(&p, VA0 + PG(6), m[0], RW, VM_PROT_WRITE | PMAP_ENTER_NEW),
	    0);
	ck_assert_uint_eq(p.pm_stats.pt_count, 4);
	ck_assert_uint_eq(p.pm_stats.resident_count, 3);
	check_pmap(&p);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(npv(m[i]), i == 1 ? 0 : 1);
	/* A fresh page where something is mapped already: the general path replaces it. */
	ck_assert_int_eq(pmap_enter(&p, VA0 + PG(6), m[1], RW, VM_PROT_WRITE | PMAP_ENTER_NEW),
	    0);
	ck_assert_uint_eq(walk(p.pm_cr3, VA0 + PG(6)) & PG_FRAME, VM_PAGE_TO_PHYS(m[1]));
	ck_assert_uint_eq(npv(m[0]), 0);
	ck_assert_uint_eq(npv(m[1]), 1);
	check_pmap(&p);
	pmap_remove(&p, 0, VM_MAXUSER_ADDRESS);
	ck_assert_uint_eq(p.pm_stats.pt_count, 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(npv(m[i]), 0);
		vm_page_free(m[i]);
	}
	ck_assert_uint_eq(vmt_count_free_pages(), free0);
	pmap_release(&p);
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

/*
 * One page entered over a mapping of another (the copy-on-write fault's enter: the
 * copy over the read-only mapping of the page it copied) replaces the entry in place:
 * the old page's pv entry for this pmap moves to the new page, the other pmap's mapping
 * of the old page keeps its own, the old entry's dirty and referenced state stay on the
 * old page, the table's use count and the resident count do not move, and one
 * invalidation covers the page while the pmap is loaded. Run twice: the second time the
 * copy is entered with PMAP_ENTER_COPY (the COW fault's hint that it is fresh), which
 * must change nothing of that, nor of a fresh page entered so where nothing is mapped.
 */
START_TEST(enter_replaces_in_place)
{
	struct pmap p, q;
	vm_page_t a = page(), b = page(), c = page(), d = page();
	const int copy = _i == 1 ? PMAP_ENTER_COPY : 0;

	ck_assert_int_eq(pmap_pinit(&p), 0);
	ck_assert_int_eq(pmap_pinit(&q), 0);
	uint64_t free0 = vmt_count_free_pages();
	/* a shared read-only by p and q (as after a fork), c mapped writable next to it. */
	ck_assert_int_eq(pmap_enter(&p, VA0, a, VM_PROT_READ, VM_PROT_READ), 0);
	ck_assert_int_eq(pmap_enter(&q, VA0, a, VM_PROT_READ, VM_PROT_READ), 0);
	ck_assert_int_eq(pmap_enter(&p, VA0 + PG(1), c, RW, VM_PROT_WRITE), 0);
	ck_assert_uint_eq(npv(a), 2);
	pmap_activate(&p);
	uint64_t calls = pmap_invl_log.pil_range_calls;

	/* The copy b over a in p. */
	ck_assert_int_eq(pmap_enter(&p, VA0, b, RW, VM_PROT_WRITE | copy), 0);
	uint64_t e = walk(p.pm_cr3, VA0);
	ck_assert_uint_eq(e & PG_FRAME, VM_PAGE_TO_PHYS(b));
	ck_assert_uint_eq(e & (PG_V | PG_RW | PG_M | PG_MANAGED),
	    PG_V | PG_RW | PG_M | PG_MANAGED);
	ck_assert_uint_eq(npv(a), 1);
	ck_assert_uint_eq(npv(b), 1);
	ck_assert_ptr_eq(a->md.pv_first.pv_pmap, &q);
	ck_assert_uint_eq(walk(q.pm_cr3, VA0) & PG_FRAME, VM_PAGE_TO_PHYS(a));
	ck_assert_uint_eq(p.pm_stats.resident_count, 2);
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, calls + 1);
	ck_assert_uint_eq(pmap_invl_log.pil_last_sva, VA0);
	ck_assert_uint_eq(pmap_invl_log.pil_last_eva, VA0 + PG(1));
	ck_assert(a->dirty == 0);
	check_pmap(&p);

	/* A written writable mapping replaced: its page stays dirty and referenced; the
	 * page it leaves with no mapping is no longer PGA_WRITEABLE. */
	ck_assert((c->aflags & PGA_WRITEABLE) != 0);
	ck_assert_int_eq(pmap_enter(&p, VA0 + PG(1), a, VM_PROT_READ, VM_PROT_READ), 0);
	ck_assert(c->dirty != 0);
	ck_assert((c->aflags & PGA_REFERENCED) != 0);
	ck_assert((c->aflags & PGA_WRITEABLE) == 0);
	ck_assert_uint_eq(npv(c), 0);
	ck_assert_uint_eq(npv(a), 2);
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, calls + 2);
	check_pmap(&p);

	/* A fresh page where nothing is mapped: a new entry, nothing to invalidate. */
	ck_assert_int_eq(pmap_enter(&p, VA0 + PG(2), d, RW, VM_PROT_WRITE | copy), 0);
	e = walk(p.pm_cr3, VA0 + PG(2));
	ck_assert_uint_eq(e & (PG_FRAME | PG_V | PG_RW | PG_MANAGED),
	    VM_PAGE_TO_PHYS(d) | PG_V | PG_RW | PG_MANAGED);
	ck_assert_uint_eq(npv(d), 1);
	ck_assert((d->aflags & PGA_WRITEABLE) != 0);
	ck_assert_uint_eq(p.pm_stats.resident_count, 3);
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, calls + 2);
	check_pmap(&p);

	pmap_activate(kernel_pmap);
	pmap_remove(&p, 0, VM_MAXUSER_ADDRESS);
	pmap_remove(&q, 0, VM_MAXUSER_ADDRESS);
	ck_assert_uint_eq(npv(a) + npv(b) + npv(c) + npv(d), 0);
	ck_assert_uint_eq(vmt_count_free_pages(), free0);
	pmap_release(&p);
	pmap_release(&q);
	a->dirty = b->dirty = c->dirty = d->dirty = 0;
	vm_page_free(a);
	vm_page_free(b);
	vm_page_free(c);
	vm_page_free(d);
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

/* The end of a test over pages m[0..n) mapped from va: everything unmapped, the pmap
 * unloaded and released, the pages freed clean; no page lost. */
static void release_all(pmap_t p, vm_offset_t va, vm_page_t *m, int n)
{
	pmap_remove(p, va, va + PG(n));
	pmap_activate(kernel_pmap);
	pmap_release(p);
	for (int i = 0; i < n; i++) {
		m[i]->dirty = 0;
		vm_page_free(m[i]);
	}
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}

/* pmap_activate hands the stubs the user root of the pmap it loads (0 for the kernel's,
 * where there is no user mode), and both roots go back to the allocator at release. */
START_TEST(user_root_activate_release)
{
	struct pmap p;
	uint64_t free0 = vmt_count_free_pages();

	ck_assert_int_eq(pmap_pinit(&p), 0);
	ck_assert_uint_eq(free0 - vmt_count_free_pages(), 2);          /* two roots */
	pmap_activate(&p);
	ck_assert_uint_eq(pmap_invl_log.pil_last_root, p.pm_cr3);
	ck_assert_uint_eq(pmap_invl_log.pil_last_uroot, p.pm_ucr3);
	pmap_activate(kernel_pmap);
	ck_assert_uint_eq(pmap_invl_log.pil_last_root, kernel_pmap->pm_cr3);
	ck_assert_uint_eq(pmap_invl_log.pil_last_uroot, 0);
	ck_assert_ptr_null(kernel_pmap->pm_pml4u);
	pmap_release(&p);
	ck_assert_uint_eq(vmt_count_free_pages(), free0);
}
END_TEST

START_TEST(kernel_half_shared)
{
	struct pmap p, q;
	vm_page_t m = page();
	vm_offset_t kva = KVA_BASE + PG(3);

	ck_assert_int_eq(pmap_pinit(&p), 0);
	ck_assert_int_eq(pmap_pinit(&q), 0);
	check_pmap(&p);
	check_pmap(&q);
	ck_assert(kernel_pmap->pm_pml4[PMAP_KVA_SLOT] & PG_V);
	/* A kernel mapping after the user roots were made: both see it. */
	ck_assert_int_eq(pmap_enter(kernel_pmap, kva, m, RW, VM_PROT_WRITE), 0);
	uint64_t e = walk(kernel_pmap->pm_cr3, kva);
	/* User-accessible (the kernel runs at CPL 3), so never global. */
	ck_assert_uint_eq(e & LEAF_BITS, PG_V | PG_RW | PG_U | PG_A | PG_M | PG_NX | PG_MANAGED);
	ck_assert_uint_eq(walk(p.pm_cr3, kva), e);
	ck_assert_uint_eq(walk(q.pm_cr3, kva), e);
	ck_assert_uint_eq(pmap_extract(&p, kva + 5), VM_PAGE_TO_PHYS(m) + 5);
	ck_assert_uint_eq(pmap_extract(kernel_pmap, kva), VM_PAGE_TO_PHYS(m));
	check_pmap(&p);
	/* The kernel pmap is always loaded: its removal invalidates, once. */
	pmap_remove(kernel_pmap, kva, kva + PG(1));
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, 1);
	ck_assert_uint_eq(walk(q.pm_cr3, kva), 0);
	ck_assert_uint_eq(npv(m), 0);
	m->dirty = 0;
	pmap_release(&p);
	pmap_release(&q);
	vm_page_free(m);
}
END_TEST

START_TEST(invalidations_batched)
{
	enum { N = 64 };
	struct pmap p;
	vm_page_t m[N], r[2];
	vm_offset_t va = 0x200000 - PG(N / 2);     /* the run crosses a page table */

	for (int i = 0; i < N; i++)
		m[i] = page();
	r[0] = page();
	r[1] = page();
	ck_assert_int_eq(pmap_pinit(&p), 0);
	pmap_activate(&p);
	ck_assert_uint_eq(pmap_invl_log.pil_root_loads, 1);
	ck_assert_uint_eq(pmap_invl_log.pil_last_root, p.pm_cr3);
	ck_assert_int_eq(pmap_enter_run(&p, va, m, N, RW, VM_PROT_WRITE), N);
	/* Fresh entries: nothing to invalidate even though p is loaded. */
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, 0);
	for (int i = 0; i < N; i++)
		ck_assert_uint_eq(walk(p.pm_cr3, va + PG(i)) & PG_FRAME, VM_PAGE_TO_PHYS(m[i]));
	ck_assert_uint_eq(p.pm_stats.pt_count, 4);
	check_pmap(&p);

	/* Replacing two live entries: one call for both. */
	ck_assert_int_eq(pmap_enter_run(&p, va + PG(10), r, 2, RW, VM_PROT_READ), 2);
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, 1);
	ck_assert_uint_eq(pmap_invl_log.pil_last_sva, va + PG(10));
	ck_assert_uint_eq(pmap_invl_log.pil_last_eva, va + PG(12));
	/* One call per protect and per remove, covering the range changed. */
	pmap_protect(&p, va, va + PG(N), VM_PROT_READ);
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, 2);
	ck_assert_uint_eq(pmap_invl_log.pil_last_sva, va);
	ck_assert_uint_eq(pmap_invl_log.pil_last_eva, va + PG(N));
	pmap_remove(&p, va + PG(1), va + PG(N - 1));
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, 3);
	ck_assert_uint_eq(pmap_invl_log.pil_range_pages, 2 + N + N - 2);
	pmap_remove(&p, va, va + PG(N));
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, 4);
	ck_assert_uint_eq(p.pm_stats.pt_count, 0);
	/* Nothing mapped: nothing asked. */
	pmap_remove(&p, va, va + PG(N));
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, 4);

	pmap_activate(kernel_pmap);
	pmap_release(&p);
	for (int i = 0; i < N; i++) {
		m[i]->dirty = 0;
		vm_page_free(m[i]);
	}
	vm_page_free(r[0]);
	vm_page_free(r[1]);
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

START_TEST(protect_span)
{
	enum { N = 64 };
	struct pmap p;
	vm_page_t m[N];
	vm_offset_t va = 0x400000 - PG(N / 2);     /* the run crosses a page table */

	for (int i = 0; i < N; i++)
		m[i] = page();
	ck_assert_int_eq(pmap_pinit(&p), 0);
	pmap_activate(&p);
	ck_assert_int_eq(pmap_enter_run(&p, va, m, N, RW, VM_PROT_READ), N);
	/* Modified: two pages, one on each side of the table boundary. */
	pmap_enter(&p, va + PG(5), m[5], RW, VM_PROT_WRITE);
	pmap_enter(&p, va + PG(N - 5), m[N - 5], RW, VM_PROT_WRITE);
	/* Read-only already at both ends, a hole in the middle. */
	pmap_protect(&p, va, va + PG(3), VM_PROT_READ);
	pmap_protect(&p, va + PG(N - 3), va + PG(N), VM_PROT_READ);
	pmap_remove(&p, va + PG(N / 2 - 1), va + PG(N / 2 + 1));
	uint64_t calls = pmap_invl_log.pil_range_calls;
	/* One call, from the first entry it changed to the last. */
	pmap_protect(&p, va, va + PG(N), VM_PROT_READ);
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, calls + 1);
	ck_assert_uint_eq(pmap_invl_log.pil_last_sva, va + PG(3));
	ck_assert_uint_eq(pmap_invl_log.pil_last_eva, va + PG(N - 3));
	for (int i = 0; i < N; i++) {
		uint64_t e = walk(p.pm_cr3, va + PG(i));
		if (i == N / 2 - 1 || i == N / 2) {
			ck_assert_uint_eq(e, 0);
			continue;
		}
		ck_assert_uint_eq(e & LEAF_BITS, PG_V | PG_U | PG_A | PG_NX | PG_MANAGED);
		ck_assert_uint_eq(m[i]->dirty, i == 5 || i == N - 5 ? 0xff : 0);
	}
	/* Nothing left to change: nothing asked. */
	pmap_protect(&p, va, va + PG(N), VM_PROT_READ);
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, calls + 1);
	check_pmap(&p);

	release_all(&p, va, m, N);
}
END_TEST

START_TEST(unwire)
{
	enum { N = 8 };
	struct pmap p;
	vm_page_t m[N], got[N + 4];
	vm_offset_t va = 0x200000 - PG(N / 2);     /* the run crosses a page table */
	uint64_t before[N];

	for (int i = 0; i < N; i++)
		m[i] = page();
	ck_assert_int_eq(pmap_pinit(&p), 0);
	pmap_activate(&p);
	/* Even pages wired, odd ones not; page 6 read-only and modified-free. */
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(pmap_enter(&p, va + PG(i), m[i], i == 6 ? VM_PROT_READ : RW,
		    (i == 6 ? VM_PROT_READ : VM_PROT_WRITE) | ((i & 1) == 0 ?
		    PMAP_ENTER_WIRED : 0)), 0);
	pmap_remove(&p, va + PG(2), va + PG(3));       /* a hole where a wired page was */
	ck_assert_uint_eq(pmap_wired_count(&p), 3);
	for (int i = 0; i < N; i++)
		before[i] = walk(p.pm_cr3, va + PG(i));
	uint64_t calls = pmap_invl_log.pil_range_calls;
	/* Over a range wider than the mappings: the pages of the wired ones come back,
	 * in address order. */
	int n = pmap_unwire(&p, va - PG(2), va + PG(N + 2), got, N + 4);
	ck_assert_int_eq(n, 3);
	ck_assert_ptr_eq(got[0], m[0]);
	ck_assert_ptr_eq(got[1], m[4]);
	ck_assert_ptr_eq(got[2], m[6]);
	ck_assert_uint_eq(pmap_wired_count(&p), 0);
	ck_assert_uint_eq(pmap_resident_count(&p), N - 1);
	/* Each entry is what it was but for PG_W: same frame, rights, A/D, pv entry. */
	for (int i = 0; i < N; i++) {
		uint64_t e = walk(p.pm_cr3, va + PG(i));
		ck_assert_uint_eq(e, before[i] & ~(uint64_t)PG_W);
		if (i != 2)
			ck_assert_uint_eq(npv(m[i]), 1);
	}
	/* A software bit: nothing invalidated, although p is loaded. */
	ck_assert_uint_eq(pmap_invl_log.pil_range_calls, calls);
	/* Nothing wired left: nothing reported the second time. */
	ck_assert_int_eq(pmap_unwire(&p, va, va + PG(N), got, N), 0);
	/* A wired mapping entered again is unwired again, alone of the range. */
	ck_assert_int_eq(pmap_enter(&p, va + PG(1), m[1], RW, VM_PROT_READ |
	    PMAP_ENTER_WIRED), 0);
	ck_assert_uint_eq(pmap_wired_count(&p), 1);
	ck_assert_int_eq(pmap_unwire(&p, va, va + PG(N), got, N), 1);
	ck_assert_ptr_eq(got[0], m[1]);
	ck_assert_uint_eq(walk(p.pm_cr3, va + PG(1)) & PG_W, 0);
	ck_assert_uint_eq(pmap_wired_count(&p), 0);
	check_pmap(&p);

	pmap_remove(&p, va, va + PG(N));
	ck_assert_uint_eq(pmap_wired_count(&p), 0);
	release_all(&p, va, m, N);
}
END_TEST

START_TEST(zero_and_copy)
{
	vm_page_t a = page(), b = page();
	uint8_t *pa = VM_PAGE_TO_DMAP(a), *pb = VM_PAGE_TO_DMAP(b);

	memset(pa, 0x5a, PAGE_SIZE);
	pmap_copy_page(a, b);
	ck_assert(memcmp(pa, pb, PAGE_SIZE) == 0);
	pmap_zero_page(b);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		ck_assert_uint_eq(pb[i], 0);
	vm_page_free(a);
	vm_page_free(b);
}
END_TEST

static Suite *pmap_suite(void)
{
	Suite *s = suite_create("pmap");
	TCase *tc = tcase_create("amd64");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, enter_extract_remove);
	tcase_add_test(tc, enter_bits);
	tcase_add_test(tc, protect);
	tcase_add_test(tc, remove_all_shared_page);
	tcase_add_test(tc, pv_first_in_page);
	tcase_add_test(tc, referenced_and_modified);
	tcase_add_test(tc, tables_freed_when_empty);
	tcase_add_test(tc, enter_new_table_cache);
	tcase_add_loop_test(tc, enter_replaces_in_place, 0, 2);
	tcase_add_test(tc, kernel_half_shared);
	tcase_add_test(tc, user_root_activate_release);
	tcase_add_test(tc, invalidations_batched);
	tcase_add_test(tc, protect_span);
	tcase_add_test(tc, unwire);
	tcase_add_test(tc, zero_and_copy);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(pmap_suite);
