/*
 * kmalloc, malloc types and contigmalloc: checks that hold on any running VM core (the
 * host's simulated machine and the guest's RAM). Counts are judged relative to what each
 * test found; everything allocated is freed.
 */
#include "vm/malloc.h"
#include "vm/uma_int.h"
#include "vm/vm_page.h"
#include "tests/vmtests/vmtest.h"

MALLOC_DEFINE(M_VMTEST, "vmtest");
MALLOC_DEFINE(M_VMTEST2, "vmtest2");

static uint64_t mt_free_pages(void)
{
	struct vm_page_counts c;

	vm_page_counts_snapshot(&c);
	return c.v_free_count + c.v_pcpu_count;
}

static struct malloc_type_summary mt_sum(struct malloc_type *t)
{
	struct malloc_type_summary s;

	malloc_type_summary(t, &s);
	return s;
}

VMTEST(malloc, size_classes)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 31, 32, 33, 100, 128, 129, 255, 500,
	    1000, 1024, 1025, 2000, 3000, 4095, 4096 };
	for (unsigned i = 0; i < nitems(sizes); i++) {
		size_t sz = sizes[i];
		int cls = malloc_size_class(sz);
		size_t want = (size_t)MALLOC_MIN_SIZE << cls;
		VMT_ASSERT(cls >= 0 && cls < MALLOC_NCLASSES);
		VMT_ASSERT(want >= sz && (want / 2 < sz || want == MALLOC_MIN_SIZE));
		struct malloc_type_summary before = mt_sum(M_VMTEST);
		uint8_t *p = kmalloc(sz, M_VMTEST, M_WAITOK);
		VMT_ASSERT(p != NULL);
		VMT_ASSERT_EQ(kmalloc_usable_size(p), want);
		/* Power-of-two items sit at multiples of their size in their slab. */
		VMT_ASSERT_EQ((uintptr_t)p % want, 0);
		memset(p, 0x3c, want);
		struct malloc_type_summary after = mt_sum(M_VMTEST);
		VMT_ASSERT_EQ(after.mtsu_numallocs, before.mtsu_numallocs + 1);
		VMT_ASSERT_EQ(after.mtsu_memalloced, before.mtsu_memalloced + want);
		VMT_ASSERT(after.mtsu_size & (1ull << cls));
		kfree(p, M_VMTEST);
		after = mt_sum(M_VMTEST);
		VMT_ASSERT_EQ(after.mtsu_numfrees, before.mtsu_numfrees + 1);
		VMT_ASSERT_EQ(after.mtsu_inuse_bytes, before.mtsu_inuse_bytes);
	}
	VMT_ASSERT_EQ(malloc_size_class(MALLOC_MAX_ZONE_SIZE + 1), -1);
}

VMTEST(malloc, many_small_distinct)
{
	static uint32_t *ptrs[2000];
	for (int i = 0; i < 2000; i++) {
		ptrs[i] = kmalloc(4 + (size_t)(i % 60), M_VMTEST, M_NOWAIT);
		VMT_ASSERT(ptrs[i] != NULL);
		*ptrs[i] = (uint32_t)i * 2654435761u;
	}
	for (int i = 0; i < 2000; i++)
		VMT_ASSERT_EQ(*ptrs[i], (uint32_t)i * 2654435761u);
	VMT_ASSERT(mt_sum(M_VMTEST).mtsu_inuse >= 2000);
	for (int i = 0; i < 2000; i++)
		kfree(ptrs[i], M_VMTEST);
	VMT_ASSERT_EQ(mt_sum(M_VMTEST).mtsu_inuse, 0);
}

VMTEST(malloc, large_from_whole_pages)
{
	size_t sz = 3 * PAGE_SIZE + 1;
	struct malloc_type_summary before = mt_sum(M_VMTEST);
	uint8_t *p = kmalloc(sz, M_VMTEST, M_WAITOK | M_ZERO);
	VMT_ASSERT(p != NULL);
	VMT_ASSERT_EQ((uintptr_t)p & PAGE_MASK, 0);
	VMT_ASSERT_EQ(kmalloc_usable_size(p), 4 * PAGE_SIZE);
	for (size_t i = 0; i < 4 * PAGE_SIZE; i++)
		VMT_ASSERT(p[i] == 0);
	memset(p, 0x77, 4 * PAGE_SIZE);
	uintptr_t owner = uma_kmem_owner(p);
	VMT_ASSERT(owner & KMEM_OWNER_TAGGED);
	VMT_ASSERT_EQ(KMEM_OWNER_NPAGES(owner), 4);
	struct malloc_type_summary mid = mt_sum(M_VMTEST);
	VMT_ASSERT_EQ(mid.mtsu_memalloced, before.mtsu_memalloced + 4 * PAGE_SIZE);
	VMT_ASSERT(mid.mtsu_size & MALLOC_SIZE_LARGE);
	uint64_t free_before = mt_free_pages();
	kfree(p, M_VMTEST);
	VMT_ASSERT(mt_free_pages() >= free_before + 4);
	VMT_ASSERT_EQ(uma_kmem_owner(p), 0);
	VMT_ASSERT_EQ(mt_sum(M_VMTEST).mtsu_inuse_bytes, before.mtsu_inuse_bytes);
}

VMTEST(malloc, m_zero_on_reused_memory)
{
	for (int round = 0; round < 2; round++) {
		uint8_t *p = kmalloc(700, M_VMTEST, M_WAITOK);
		memset(p, 0xff, 700);
		kfree(p, M_VMTEST);
		uint8_t *q = kmalloc(700, M_VMTEST, M_WAITOK | M_ZERO);
		VMT_ASSERT(q == p);     /* the per-CPU cache hands the same item back */
		for (int i = 0; i < 700; i++)
			VMT_ASSERT(q[i] == 0);
		kfree(q, M_VMTEST);
	}
}

VMTEST(malloc, realloc_keeps_contents)
{
	static const size_t steps[] = { 10, 100, 3000, 5000, 20000, 64, 7 };
	uint8_t *p = krealloc(NULL, 1, M_VMTEST, M_WAITOK);
	size_t cur = 1;
	VMT_ASSERT(p != NULL);
	p[0] = 0;
	for (unsigned s = 0; s < nitems(steps); s++) {
		size_t nsz = steps[s];
		uint8_t *q = krealloc(p, nsz, M_VMTEST, M_WAITOK);
		VMT_ASSERT(q != NULL);
		VMT_ASSERT(kmalloc_usable_size(q) >= nsz);
		for (size_t i = 0; i < MIN(cur, nsz); i++)
			VMT_ASSERT_MSG(q[i] == (uint8_t)(i * 13 + 5) || (i == 0 && s == 0),
			    "byte %zu lost growing %zu -> %zu", i, cur, nsz);
		for (size_t i = 0; i < nsz; i++)
			q[i] = (uint8_t)(i * 13 + 5);
		p = q;
		cur = nsz;
	}
	/* Shrinking a little stays in place. */
	size_t usable = kmalloc_usable_size(p);
	VMT_ASSERT(krealloc(p, usable - 1, M_VMTEST, M_WAITOK) == p);
	/* M_ZERO zeroes what lies beyond the old allocation. */
	uint8_t *z = krealloc(p, 9000, M_VMTEST, M_WAITOK | M_ZERO);
	for (size_t i = 0; i < cur; i++)
		VMT_ASSERT(z[i] == (uint8_t)(i * 13 + 5));
	for (size_t i = usable; i < 9000; i++)
		VMT_ASSERT(z[i] == 0);
	kfree(z, M_VMTEST);
	VMT_ASSERT_EQ(mt_sum(M_VMTEST).mtsu_inuse, 0);
}

VMTEST(malloc, type_counts_and_failures)
{
	struct malloc_type_summary b = mt_sum(M_VMTEST2);
	void *p = kmalloc(40, M_VMTEST2, M_WAITOK);
	void *q = kmalloc(9000, M_VMTEST2, M_WAITOK);
	struct malloc_type_summary m = mt_sum(M_VMTEST2);
	VMT_ASSERT_EQ(m.mtsu_numallocs, b.mtsu_numallocs + 2);
	VMT_ASSERT_EQ(m.mtsu_inuse, b.mtsu_inuse + 2);
	VMT_ASSERT_EQ(m.mtsu_inuse_bytes, b.mtsu_inuse_bytes + 64 + 3 * PAGE_SIZE);
	/* More than the machine has: an M_NOWAIT request fails and is counted. */
	void *huge = kmalloc((size_t)1 << 40, M_VMTEST2, M_NOWAIT);
	VMT_ASSERT(huge == NULL);
	VMT_ASSERT_EQ(mt_sum(M_VMTEST2).mtsu_failures, b.mtsu_failures + 1);
	kfree(p, M_VMTEST2);
	kzfree(q, M_VMTEST2);
	m = mt_sum(M_VMTEST2);
	VMT_ASSERT_EQ(m.mtsu_inuse, b.mtsu_inuse);
	VMT_ASSERT_EQ(m.mtsu_inuse_bytes, b.mtsu_inuse_bytes);
	VMT_ASSERT_EQ(m.mtsu_numfrees, b.mtsu_numfrees + 2);
	/* The type joined the list at its first use; the core's types are there too. */
	bool seen = false, temp = false;
	for (struct malloc_type *t = NULL; malloc_type_iter(&t);) {
		seen |= t == M_VMTEST2;
		temp |= t == M_TEMP;
	}
	VMT_ASSERT(seen && temp);
}

VMTEST(malloc, kzfree_clears)
{
	uint8_t *p = kmalloc(256, M_VMTEST, M_WAITOK);
	memset(p, 0x99, 256);
	kzfree(p, M_VMTEST);
	/* The item is cached, so the next allocation of the class gets it back. */
	uint8_t *q = kmalloc(256, M_VMTEST, M_WAITOK);
	VMT_ASSERT(q == p);
	/* The first word may hold nothing UMA put there (UMA keeps no links in items). */
	for (int i = 0; i < 256; i++)
		VMT_ASSERT(q[i] == 0);
	kfree(q, M_VMTEST);
}

/* ---- contigmalloc ------------------------------------------------------------------- */

VMTEST(malloc, contig_alignment_boundary_range)
{
	vm_paddr_t lo = vm_phys_segs[0].ps_start, hi = vm_phys_segs[0].ps_end;
	/* A window in the middle of the first segment: 8 MiB, or half the segment in a
	 * small guest (the cases need at most 1 MiB of it). */
	vm_paddr_t win = MIN((vm_paddr_t)0x800000, rounddown2((hi - lo) / 2, 0x100000));
	vm_paddr_t low = roundup2(lo + (hi - lo) / 4, 0x100000), high = low + win;
	VMT_ASSERT(win >= 0x100000 && high <= hi);
	static const struct { size_t size; uint64_t align, boundary; } cases[] = {
		{ PAGE_SIZE, 0, 0 }, { 3 * PAGE_SIZE, 0x10000, 0x20000 },
		{ 5 * PAGE_SIZE + 7, 0x4000, 0x8000 }, { 16 * PAGE_SIZE, 0x40000, 0 },
		{ 2 * PAGE_SIZE, PAGE_SIZE, 2 * PAGE_SIZE },
	};
	for (unsigned c = 0; c < nitems(cases); c++) {
		struct malloc_type_summary b = mt_sum(M_VMTEST);
		uint8_t *p = contigmalloc(cases[c].size, M_VMTEST, M_NOWAIT | M_ZERO, low, high,
		    cases[c].align, cases[c].boundary);
		VMT_ASSERT_MSG(p != NULL, "case %u", c);
		vm_paddr_t pa = vm_dmap_to_phys(p);
		uint64_t len = round_page(cases[c].size);
		VMT_ASSERT(pa >= low && pa + len <= high);
		if (cases[c].align != 0)
			VMT_ASSERT_EQ(pa % cases[c].align, 0);
		if (cases[c].boundary != 0)
			VMT_ASSERT_EQ(pa / cases[c].boundary, (pa + len - 1) / cases[c].boundary);
		/* Really contiguous: the direct map of pa + i is p + i. */
		for (uint64_t i = 0; i < len; i += PAGE_SIZE)
			VMT_ASSERT(vm_phys_to_dmap(pa + i) == p + i);
		/* Whole pages: a word at a time (each compare is emulated in the guest). */
		for (uint64_t i = 0; i < len / 8; i++)
			VMT_ASSERT(((const uint64_t *)p)[i] == 0);
		memset(p, 0x42, len);
		struct malloc_type_summary m = mt_sum(M_VMTEST);
		VMT_ASSERT_EQ(m.mtsu_memalloced, b.mtsu_memalloced + len);
		VMT_ASSERT(m.mtsu_size & MALLOC_SIZE_CONTIG);
		contigfree(p, cases[c].size, M_VMTEST);
		VMT_ASSERT_EQ(uma_kmem_owner(p), 0);
		VMT_ASSERT_EQ(mt_sum(M_VMTEST).mtsu_inuse_bytes, b.mtsu_inuse_bytes);
	}
}

VMTEST(malloc, contig_impossible_range_fails)
{
	struct malloc_type_summary b = mt_sum(M_VMTEST);
	vm_paddr_t end = vm_phys_segs[vm_phys_nsegs - 1].ps_end;
	/* Above every byte of RAM: nothing can satisfy it, even with M_WAITOK. */
	void *p = contigmalloc(PAGE_SIZE, M_VMTEST, M_WAITOK, end + 0x100000, end + 0x1000000,
	    0, 0);
	VMT_ASSERT(p == NULL);
	VMT_ASSERT_EQ(mt_sum(M_VMTEST).mtsu_failures, b.mtsu_failures + 1);
}
