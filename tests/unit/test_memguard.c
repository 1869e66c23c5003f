/*
 * The kernel map (vm/vm_kern.c) and MemGuard (vm/memguard.c) on the host: ranges
 * backed and mapped in kernel_pmap (pmap_extract finds each page), unmapped and freed
 * again with the free page count back where it was; a guarded allocation's guard page
 * unmapped; a freed range unmapped and not handed out again until MEMGUARD_FIFO_DEPTH
 * later frees; the fault lookup's answer for each kind of address; kmalloc and kfree
 * routed through MemGuard for the selected type only. The host cannot touch kernel
 * addresses: contents are checked through the direct map.
 */
#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "vm/malloc.h"
#include "vm/memguard.h"
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_kern.h"
#include "vm/vm_page.h"
#include "tests/vmtests/vmt_pmap.h"

MALLOC_DEFINE(M_MGTEST, "mgtest");

static uint64_t free_at_start;

/* Boot, then warm up once: kernel_pmap's page tables for the first ranges (kept for
 * good), the map-entry zone and MemGuard's arena exist before the count is taken. */
static void setup(void)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
	pmap_init();            /* the kernel map maps through kernel_pmap */
	ck_assert_int_eq(memguard_select("warmup"), 0);
	void *p = memguard_alloc(8, M_WAITOK, "warmup", MEMGUARD_KIND_MALLOC);
	ck_assert_ptr_nonnull(p);
	memguard_free(p);
	vm_offset_t a = kmem_alloc(PAGE_SIZE, M_WAITOK);
	kmem_free(a, PAGE_SIZE);
	memguard_select(NULL);
	free_at_start = vmt_count_free_pages();
}

static void *kva_dmap(vm_offset_t va)
{
	vm_paddr_t pa = pmap_extract(kernel_pmap, va);

	ck_assert_msg(pa != 0, "%#lx is not mapped", (unsigned long)va);
	return vm_phys_to_dmap(pa);
}

START_TEST(kmem_alloc_free)
{
	vm_size_t sizes[] = { 1, PAGE_SIZE, 3 * PAGE_SIZE + 5, 40 * PAGE_SIZE };

	for (unsigned i = 0; i < nitems(sizes); i++) {
		uint64_t np = atop(round_page(sizes[i]));
		vm_offset_t a = kmem_alloc(sizes[i], M_WAITOK | M_ZERO);
		ck_assert(a >= KMEM_MIN_ADDRESS && a < KMEM_MAX_ADDRESS);
		ck_assert_uint_eq(a & PAGE_MASK, 0);
		ck_assert_uint_eq(kmem_pages(), np);
		ck_assert_uint_eq(vmt_count_free_pages(), free_at_start - np);
		for (uint64_t p = 0; p < np; p++) {
			uint8_t *d = kva_dmap(a + ptoa(p));
			for (size_t b = 0; b < PAGE_SIZE; b++)
				ck_assert_uint_eq(d[b], 0);
		}
		ck_assert_uint_eq(pmap_extract(kernel_pmap, a + ptoa(np)), 0);
		kmem_free(a, sizes[i]);
		for (uint64_t p = 0; p < np; p++)
			ck_assert_uint_eq(pmap_extract(kernel_pmap, a + ptoa(p)), 0);
		ck_assert_uint_eq(kmem_pages(), 0);
		ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
	}
}
END_TEST

START_TEST(kmem_distinct_ranges)
{
	vm_offset_t a = kmem_alloc(2 * PAGE_SIZE, M_WAITOK);
	vm_offset_t b = kmem_alloc(PAGE_SIZE, M_NOWAIT);

	ck_assert(b != 0 && (b >= a + 2 * PAGE_SIZE || b + PAGE_SIZE <= a));
	ck_assert(pmap_extract(kernel_pmap, a) != pmap_extract(kernel_pmap, b));
	kmem_free(a, 2 * PAGE_SIZE);
	kmem_free(b, PAGE_SIZE);
	ck_assert_uint_eq(vmt_count_free_pages(), free_at_start);
}
END_TEST

START_TEST(memguard_guard_page)
{
	struct memguard_fault_info fi;
	size_t sizes[] = { 1, 100, PAGE_SIZE, PAGE_SIZE + 1 };

	for (unsigned i = 0; i < nitems(sizes); i++) {
		void *p = memguard_alloc(sizes[i], M_WAITOK, "t", MEMGUARD_KIND_MALLOC);
		vm_offset_t va = (vm_offset_t)p;
		size_t usable = roundup2(sizes[i], MEMGUARD_ALIGN);
		ck_assert(memguard_owns(p));
		ck_assert_uint_eq(va % MEMGUARD_ALIGN, 0);
		ck_assert_uint_eq(memguard_usable_size(p), usable);
		/* The object ends where its pages end; the next page is the guard. */
		ck_assert_uint_eq((va + usable) & PAGE_MASK, 0);
		ck_assert(pmap_extract(kernel_pmap, va) != 0);
		ck_assert(pmap_extract(kernel_pmap, va + usable - 1) != 0);
		ck_assert_uint_eq(pmap_extract(kernel_pmap, va + usable), 0);
		ck_assert_int_eq(memguard_fault_lookup(va + usable, &fi), MEMGUARD_FAULT_OVERRUN);
		ck_assert_uint_eq(fi.mfi_addr, va);
		ck_assert_uint_eq(fi.mfi_size, sizes[i]);
		ck_assert_str_eq(fi.mfi_name, "t");
		ck_assert_int_eq(fi.mfi_kind, MEMGUARD_KIND_MALLOC);
		ck_assert_int_eq(memguard_fault_lookup(va + usable + PAGE_SIZE - 1, &fi),
		    MEMGUARD_FAULT_OVERRUN);
		/* A mapped byte of it is no fault of MemGuard's. */
		ck_assert_int_eq(memguard_fault_lookup(va, &fi), MEMGUARD_FAULT_NONE);
		ck_assert_uint_eq(memguard_free(p), usable);
	}
}
END_TEST

START_TEST(memguard_fifo)
{
	struct memguard_fault_info fi;
	struct memguard_stats st;
	void *p = memguard_alloc(64, M_WAITOK | M_ZERO, "fifo", MEMGUARD_KIND_ZONE);
	vm_offset_t va = (vm_offset_t)p, start = trunc_page(va);
	void *q[MEMGUARD_FIFO_DEPTH];

	ck_assert_uint_eq(((uint8_t *)kva_dmap(va))[63], 0);
	memguard_free(p);
	ck_assert_uint_eq(pmap_extract(kernel_pmap, va), 0);
	ck_assert_int_eq(memguard_fault_lookup(va + 10, &fi), MEMGUARD_FAULT_USE_AFTER_FREE);
	ck_assert_str_eq(fi.mfi_name, "fifo");
	ck_assert_int_eq(fi.mfi_kind, MEMGUARD_KIND_ZONE);
	ck_assert_uint_eq(fi.mfi_addr, va);
	/* Its guard page too: an overrun of a freed object is a use after free. */
	ck_assert_int_eq(memguard_fault_lookup(start + PAGE_SIZE, &fi),
	    MEMGUARD_FAULT_USE_AFTER_FREE);
	/* Not reused while it waits in the FIFO: DEPTH - 1 more frees keep it there. */
	for (int i = 0; i < MEMGUARD_FIFO_DEPTH; i++) {
		q[i] = memguard_alloc(64, M_WAITOK, "fifo", MEMGUARD_KIND_ZONE);
		ck_assert_uint_ne(trunc_page((vm_offset_t)q[i]), start);
	}
	for (int i = 0; i < MEMGUARD_FIFO_DEPTH - 1; i++)
		memguard_free(q[i]);
	memguard_get_stats(&st);
	ck_assert_uint_eq(st.mgs_fifo, MEMGUARD_FIFO_DEPTH);
	ck_assert_int_eq(memguard_fault_lookup(va, &fi), MEMGUARD_FAULT_USE_AFTER_FREE);
	void *r = memguard_alloc(64, M_WAITOK, "fifo", MEMGUARD_KIND_ZONE);
	ck_assert_uint_ne(trunc_page((vm_offset_t)r), start);
	memguard_free(r);
	/* That free pushed the first range out: no longer MemGuard's to report, and free
	 * for the taking. Below it only the set-up's range (pushed out before it) is free:
	 * of the next two allocations of its size, one takes it. */
	ck_assert_int_eq(memguard_fault_lookup(va, &fi), MEMGUARD_FAULT_NONE);
	r = memguard_alloc(64, M_WAITOK, "fifo", MEMGUARD_KIND_ZONE);
	void *r2 = memguard_alloc(64, M_WAITOK, "fifo", MEMGUARD_KIND_ZONE);
	ck_assert(trunc_page((vm_offset_t)r) == start || trunc_page((vm_offset_t)r2) == start);
	memguard_free(r);
	memguard_free(r2);
	memguard_free(q[MEMGUARD_FIFO_DEPTH - 1]);
	memguard_get_stats(&st);
	ck_assert_uint_eq(st.mgs_live, 0);
	ck_assert_uint_eq(kmem_pages(), 0);
	/* Outside MemGuard's range: none. */
	ck_assert_int_eq(memguard_fault_lookup(KMEM_MIN_ADDRESS - PAGE_SIZE, &fi),
	    MEMGUARD_FAULT_NONE);
	ck_assert_int_eq(memguard_fault_lookup((vm_offset_t)&fi, &fi), MEMGUARD_FAULT_NONE);
	/* Every data page is back; what the FIFO's 63 more ranges keep is their records
	 * and map entries (about 200 bytes each), not pages of memory. */
	ck_assert_uint_eq(pmap_resident_count(kernel_pmap), 0);
	ck_assert_uint_le(free_at_start - vmt_count_free_pages(), 4);
}
END_TEST

START_TEST(memguard_select_names)
{
	char longname[MEMGUARD_NAME_MAX + 1];

	memset(longname, 'x', MEMGUARD_NAME_MAX);
	longname[MEMGUARD_NAME_MAX] = '\0';
	ck_assert_int_eq(memguard_select("mgtest"), 0);
	ck_assert(memguard_enabled && memguard_cmp_name("mgtest") && !memguard_cmp_name("temp"));
	ck_assert_int_ne(memguard_select(longname), 0);
	ck_assert(memguard_cmp_name("mgtest"));
	longname[MEMGUARD_NAME_MAX - 1] = '\0';
	ck_assert_int_eq(memguard_select(longname), 0);
	ck_assert(memguard_cmp_name(longname));
	ck_assert_int_eq(memguard_select(""), 0);
	ck_assert(!memguard_enabled && !memguard_cmp_name(""));
}
END_TEST

START_TEST(memguard_kmalloc_hook)
{
	struct malloc_type_summary s;
	struct memguard_stats st0, st;

	memguard_get_stats(&st0);
	ck_assert_int_eq(memguard_select("mgtest"), 0);
	void *g = kmalloc(100, M_MGTEST, M_WAITOK);
	void *t = kmalloc(100, M_TEMP, M_WAITOK);
	void *big = kmalloc(3 * PAGE_SIZE, M_MGTEST, M_WAITOK | M_ZERO);
	ck_assert(memguard_owns(g) && memguard_owns(big) && !memguard_owns(t));
	ck_assert_uint_eq(kmalloc_usable_size(g), 112);
	ck_assert_uint_eq(kmalloc_usable_size(big), 3 * PAGE_SIZE);
	malloc_type_summary(M_MGTEST, &s);
	ck_assert_uint_eq(s.mtsu_numallocs, 2);
	ck_assert_uint_eq(s.mtsu_inuse_bytes, 112 + 3 * PAGE_SIZE);
	memguard_get_stats(&st);
	ck_assert_uint_eq(st.mgs_live, st0.mgs_live + 2);
	kfree(g, M_MGTEST);
	kfree(big, M_MGTEST);
	kfree(t, M_TEMP);
	malloc_type_summary(M_MGTEST, &s);
	ck_assert_uint_eq(s.mtsu_inuse, 0);
	ck_assert_uint_eq(s.mtsu_inuse_bytes, 0);
	/* Deselected: the type's allocations are ordinary again. */
	memguard_select(NULL);
	g = kmalloc(100, M_MGTEST, M_WAITOK);
	ck_assert(!memguard_owns(g));
	kfree(g, M_MGTEST);
	ck_assert_uint_eq(kmem_pages(), 0);
}
END_TEST

/* Hooks of the guarded zone: they count and remember the item, without touching it
 * (the host cannot reach kernel addresses). */
static int mgz_inits, mgz_ctors, mgz_dtors, mgz_finis;
static void *mgz_last;

static int mgz_init(void *mem, int size, int flags)
{
	(void)size; (void)flags;
	mgz_inits++;
	mgz_last = mem;
	return 0;
}

static int mgz_ctor(void *mem, int size, void *arg, int flags)
{
	(void)size; (void)arg; (void)flags;
	mgz_ctors++;
	mgz_last = mem;
	return 0;
}

static void mgz_dtor(void *mem, int size, void *arg)
{
	(void)size; (void)arg;
	mgz_dtors++;
	mgz_last = mem;
}

static void mgz_fini(void *mem, int size)
{
	(void)size;
	mgz_finis++;
	mgz_last = mem;
}

/* uma_zalloc of the selected zone (made before or after the selection) hands out a
 * guarded item through init and ctor; uma_zfree runs dtor and fini and unmaps it: a
 * use after free is a MemGuard fault naming the zone. Other zones are not guarded, and
 * once the selection moves on the zone's caches serve it again. */
START_TEST(memguard_uma_zone)
{
	mgz_inits = mgz_ctors = mgz_dtors = mgz_finis = 0;
	uma_zone_t before = uma_zcreate("mgzone", 200, mgz_ctor, mgz_dtor, mgz_init, mgz_fini,
	    UMA_ALIGN_PTR, 0);
	uma_zone_t other = uma_zcreate("mgother", 200, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	struct memguard_stats st0, st;
	struct memguard_fault_info fi;

	memguard_get_stats(&st0);
	ck_assert_int_eq(memguard_select("mgzone"), 0);
	uma_zone_t after = uma_zcreate("mgzone", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_CACHE,
	    0);
	uint64_t inits_before = (uint64_t)mgz_inits;    /* a cached slab ran init already */

	void *p = uma_zalloc(before, M_WAITOK);
	ck_assert(memguard_owns(p));
	ck_assert_uint_ne(pmap_extract(kernel_pmap, (vm_offset_t)p), 0);
	ck_assert_uint_eq((uint64_t)mgz_inits, inits_before + 1);
	ck_assert_int_eq(mgz_ctors, 1);
	ck_assert_ptr_eq(mgz_last, p);
	ck_assert_uint_eq(memguard_usable_size(p), 208);
	/* Overrun: the guard page right after the item. */
	ck_assert_int_eq(memguard_fault_lookup((vm_offset_t)p + 208, &fi),
	    MEMGUARD_FAULT_OVERRUN);
	ck_assert_str_eq(fi.mfi_name, "mgzone");
	ck_assert_int_eq(fi.mfi_kind, MEMGUARD_KIND_ZONE);

	void *q = uma_zalloc(after, M_WAITOK | M_ZERO);
	ck_assert(memguard_owns(q));
	ck_assert_uint_eq((uintptr_t)q % 64, 0);        /* the zone's alignment holds */
	uint8_t *d = kva_dmap((vm_offset_t)q);
	for (int i = 0; i < 64; i++)
		ck_assert_uint_eq(d[i], 0);

	void *o = uma_zalloc(other, M_WAITOK);
	ck_assert(!memguard_owns(o));
	uma_zfree(other, o);

	memguard_get_stats(&st);
	ck_assert_uint_eq(st.mgs_allocs - st0.mgs_allocs, 2);
	ck_assert_uint_eq(st.mgs_live - st0.mgs_live, 2);

	int finis = mgz_finis;
	uma_zfree(before, p);
	ck_assert_int_eq(mgz_dtors, 1);
	ck_assert_int_eq(mgz_finis, finis + 1);
	ck_assert_ptr_eq(mgz_last, p);
	ck_assert_uint_eq(pmap_extract(kernel_pmap, (vm_offset_t)p), 0);
	ck_assert_int_eq(memguard_fault_lookup((vm_offset_t)p + 8, &fi),
	    MEMGUARD_FAULT_USE_AFTER_FREE);
	ck_assert_str_eq(fi.mfi_name, "mgzone");
	ck_assert_int_eq(fi.mfi_kind, MEMGUARD_KIND_ZONE);
	uma_zfree(after, q);
	ck_assert_uint_eq(pmap_extract(kernel_pmap, (vm_offset_t)q), 0);
	memguard_get_stats(&st);
	ck_assert_uint_eq(st.mgs_frees - st0.mgs_frees, 2);
	ck_assert_uint_eq(st.mgs_live, st0.mgs_live);

	/* Another name selected: the zone's own items again, dtor and fini as before. */
	ck_assert_int_eq(memguard_select("mgnothing"), 0);
	p = uma_zalloc(before, M_WAITOK);
	ck_assert(!memguard_owns(p));
	ck_assert_int_eq(mgz_ctors, 2);
	uma_zfree(before, p);
	ck_assert_int_eq(mgz_dtors, 2);
	memguard_select(NULL);
	uma_zdestroy(after);
	uma_zdestroy(other);
	uma_zdestroy(before);
}
END_TEST

static Suite *memguard_suite(void)
{
	Suite *s = suite_create("memguard");
	TCase *tc = tcase_create("memguard");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, kmem_alloc_free);
	tcase_add_test(tc, kmem_distinct_ranges);
	tcase_add_test(tc, memguard_guard_page);
	tcase_add_test(tc, memguard_fifo);
	tcase_add_test(tc, memguard_select_names);
	tcase_add_test(tc, memguard_kmalloc_hook);
	tcase_add_test(tc, memguard_uma_zone);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(memguard_suite);
