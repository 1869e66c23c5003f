/*
 * UMA checks that hold on any running VM core: the host's simulated machine and the
 * guest's real RAM. Each test makes its own zones and destroys them, and judges page
 * counts only relative to what it found.
 */
#include "vm/uma_int.h"
#include "vm/vm_lowmem.h"
#include "vm/vm_page.h"
#include "tests/vmtests/vmtest.h"

#define UT_NITEMS 1000
static void *ut_items[UT_NITEMS];

/* Stamp every item with its index, then check no stamp was overwritten: two handouts
 * of one item (or overlapping items) would show. Compared a word at a time (items may
 * be unaligned: memcpy makes that a plain load): in the guest each compare is emulated,
 * and byte by byte this was most of the uma suite's time. */
static bool ut_stamp_check(void **items, int n, size_t size)
{
	for (int i = 0; i < n; i++)
		memset(items[i], (uint8_t)(i * 7 + 1), size);
	for (int i = 0; i < n; i++) {
		const uint8_t *p = items[i];
		uint8_t b = (uint8_t)(i * 7 + 1);
		uint64_t want = b * 0x0101010101010101ull, w;
		size_t j = 0;
		for (; j + sizeof(w) <= size; j += sizeof(w)) {
			__builtin_memcpy(&w, p + j, sizeof(w));
			if (w != want)
				return false;
		}
		for (; j < size; j++)
			if (p[j] != b)
				return false;
	}
	return true;
}

/* Free pages, counting those vm_page keeps in its per-CPU caches. */
static uint64_t ut_free_pages(void)
{
	struct vm_page_counts c;

	vm_page_counts_snapshot(&c);
	return c.v_free_count + c.v_pcpu_count;
}

static struct uma_zone_stat ut_stat(uma_zone_t z)
{
	struct uma_zone_stat zs;

	uma_zone_stats(z, &zs, NULL, 0);
	return zs;
}

/* Items the zone holds but nobody uses must equal what the counters say is in use. */
static bool ut_stats_consistent(uma_zone_t z)
{
	struct uma_zone_stat zs = ut_stat(z);

	return zs.uzs_allocs - zs.uzs_frees + zs.uzs_zone_cached + zs.uzs_cpu_cached ==
	    zs.uzs_items;
}

VMTEST(uma, alloc_free_distinct)
{
	uma_zone_t z = uma_zcreate("vmt-128", 128, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	VMT_ASSERT(z != NULL);
	for (int i = 0; i < UT_NITEMS; i++) {
		ut_items[i] = uma_zalloc(z, M_WAITOK);
		VMT_ASSERT(ut_items[i] != NULL);
		VMT_ASSERT(((uintptr_t)ut_items[i] & UMA_ALIGN_PTR) == 0);
		/* Every item lies in a page whose kmem_owner is a slab of this zone's keg. */
		struct uma_slab *s = uma_vtoslab(ut_items[i]);
		VMT_ASSERT(s->us_keg == z->uz_keg);
	}
	VMT_ASSERT(ut_stamp_check(ut_items, UT_NITEMS, 128));
	VMT_ASSERT_EQ(uma_zone_get_cur(z), UT_NITEMS);
	VMT_ASSERT(ut_stats_consistent(z));
	for (int i = 0; i < UT_NITEMS; i++)
		uma_zfree(z, ut_items[i]);
	VMT_ASSERT_EQ(uma_zone_get_cur(z), 0);
	VMT_ASSERT(ut_stats_consistent(z));
	uma_zdestroy(z);
}

VMTEST(uma, free_then_alloc_is_lifo)
{
	uma_zone_t z = uma_zcreate("vmt-lifo", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	void *a = uma_zalloc(z, M_WAITOK), *b = uma_zalloc(z, M_WAITOK);
	uma_zfree(z, a);
	/* The per-CPU cache hands the item just freed out first (it is still warm). */
	void *c = uma_zalloc(z, M_WAITOK);
	VMT_ASSERT(c == a);
	uma_zfree(z, b);
	uma_zfree(z, c);
	uma_zdestroy(z);
}

VMTEST(uma, alignment_masks)
{
	static const struct { size_t size; int align; } cases[] = {
		{ 100, UMA_ALIGN_CACHE }, { 24, UMA_ALIGN_PTR }, { 100, 255 }, { 3, UMA_ALIGN_CHAR },
		{ 1000, 511 }, { 5000, UMA_ALIGN_CACHE },
	};
	for (unsigned c = 0; c < nitems(cases); c++) {
		uma_zone_t z = uma_zcreate("vmt-align", cases[c].size, NULL, NULL, NULL, NULL,
		    cases[c].align, 0);
		VMT_ASSERT_EQ(z->uz_keg->uk_rsize % (uint32_t)(cases[c].align + 1), 0);
		VMT_ASSERT(z->uz_keg->uk_rsize >= cases[c].size);
		for (int i = 0; i < 50; i++) {
			ut_items[i] = uma_zalloc(z, M_WAITOK);
			VMT_ASSERT_MSG(((uintptr_t)ut_items[i] & (uintptr_t)cases[c].align) == 0,
			    "item %p of size %zu not aligned to mask %d", ut_items[i],
			    cases[c].size, cases[c].align);
		}
		VMT_ASSERT(ut_stamp_check(ut_items, 50, cases[c].size));
		for (int i = 0; i < 50; i++)
			uma_zfree(z, ut_items[i]);
		uma_zdestroy(z);
	}
}

/* The header's place: on the page for small items, off it where it would cost an item
 * and waste over a tenth of the page, and as forced by the flags. */
VMTEST(uma, slab_header_placement)
{
	static const struct { size_t size; uint32_t flags; bool offpage; } cases[] = {
		{ 64, 0, false }, { 256, 0, false }, { 2048, 0, true }, { 1024, 0, true },
		{ 64, UMA_ZONE_OFFPAGE, true }, { 2048, UMA_ZONE_ONPAGE, false },
	};
	for (unsigned c = 0; c < nitems(cases); c++) {
		uma_zone_t z = uma_zcreate("vmt-hdr", cases[c].size, NULL, NULL, NULL, NULL,
		    UMA_ALIGN_PTR, cases[c].flags);
		struct uma_keg *k = z->uz_keg;
		VMT_ASSERT_MSG(k->uk_offpage == cases[c].offpage, "size %zu flags %#x: offpage %d",
		    cases[c].size, cases[c].flags, k->uk_offpage);
		void *it = uma_zalloc(z, M_WAITOK);
		struct uma_slab *s = uma_vtoslab(it);
		uint8_t *lo = s->us_data, *hi = lo + k->uk_ppera * PAGE_SIZE;
		bool inside = (uint8_t *)s >= lo && (uint8_t *)s < hi;
		VMT_ASSERT(inside == !cases[c].offpage);
		/* No item overlaps an on-page header. */
		VMT_ASSERT((uint64_t)k->uk_ipers * k->uk_rsize <= (cases[c].offpage ?
		    k->uk_ppera * PAGE_SIZE : k->uk_hdroff));
		if (cases[c].offpage)
			VMT_ASSERT_EQ(k->uk_ipers, MIN(PAGE_SIZE / k->uk_rsize,
			    UMA_OFFPAGE_MAXITEMS));
		uma_zfree(z, it);
		uma_zdestroy(z);
	}
}

VMTEST(uma, multi_page_slabs)
{
	uma_zone_t z = uma_zcreate("vmt-5000", 5000, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	struct uma_keg *k = z->uz_keg;
	VMT_ASSERT(k->uk_ppera > 1);
	/* At most an eighth wasted. */
	VMT_ASSERT((k->uk_ppera * PAGE_SIZE - k->uk_ipers * k->uk_rsize) * 8 <=
	    k->uk_ppera * PAGE_SIZE);
	for (int i = 0; i < 20; i++)
		ut_items[i] = uma_zalloc(z, M_WAITOK);
	VMT_ASSERT(ut_stamp_check(ut_items, 20, 5000));
	/* Every page of the slab points at it. */
	struct uma_slab *s = uma_vtoslab(ut_items[0]);
	for (uint32_t p = 0; p < k->uk_ppera; p++)
		VMT_ASSERT(uma_kmem_owner(s->us_data + p * PAGE_SIZE) == (uintptr_t)s);
	for (int i = 0; i < 20; i++)
		uma_zfree(z, ut_items[i]);
	uma_zdestroy(z);
}

VMTEST(uma, zinit_and_m_zero)
{
	uma_zone_t z = uma_zcreate("vmt-zinit", 200, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_ZINIT);
	for (int i = 0; i < 30; i++) {
		uint8_t *p = ut_items[i] = uma_zalloc(z, M_WAITOK);
		for (int j = 0; j < 200; j++)
			VMT_ASSERT(p[j] == 0);
	}
	for (int i = 0; i < 30; i++) {
		memset(ut_items[i], 0xa5, 200);
		uma_zfree(z, ut_items[i]);
	}
	/* The same (dirty) items come back: M_ZERO must clear them, its absence must not. */
	uint8_t *p = uma_zalloc(z, M_WAITOK | M_ZERO);
	for (int j = 0; j < 200; j++)
		VMT_ASSERT(p[j] == 0);
	uint8_t *q = uma_zalloc(z, M_WAITOK);
	VMT_ASSERT(q[0] == 0xa5);
	uma_zfree(z, p);
	uma_zfree(z, q);
	uma_zdestroy(z);
}

/* ---- hooks -------------------------------------------------------------------------- */

static int ut_ctor_calls, ut_dtor_calls, ut_init_calls, ut_fini_calls;
static int ut_ctor_fail_at, ut_init_fail_at;    /* fail the n-th call (1-based); 0 never */

static int ut_ctor(void *mem, int size, void *arg, int flags)
{
	(void)flags;
	ut_ctor_calls++;
	if (ut_ctor_calls == ut_ctor_fail_at)
		return 1;
	*(uint64_t *)mem = 0xc7c7c7c7ull;
	if (arg != NULL)
		*(int *)arg = size;
	return 0;
}

static void ut_dtor(void *mem, int size, void *arg)
{
	(void)size;
	(void)arg;
	ut_dtor_calls++;
	*(uint64_t *)mem = 0xd7d7d7d7ull;
}

static int ut_init(void *mem, int size, int flags)
{
	(void)size;
	(void)flags;
	ut_init_calls++;
	if (ut_init_calls == ut_init_fail_at)
		return 1;
	((uint64_t *)mem)[1] = 0x1717171717ull;
	return 0;
}

static void ut_fini(void *mem, int size)
{
	(void)size;
	ut_fini_calls++;
	((uint64_t *)mem)[1] = 0;
}

static void ut_hooks_reset(void)
{
	ut_ctor_calls = ut_dtor_calls = ut_init_calls = ut_fini_calls = 0;
	ut_ctor_fail_at = ut_init_fail_at = 0;
}

VMTEST(uma, ctor_dtor_each_time)
{
	ut_hooks_reset();
	uma_zone_t z = uma_zcreate("vmt-ctor", 96, ut_ctor, ut_dtor, NULL, NULL, UMA_ALIGN_PTR, 0);
	int seen = 0;
	uint64_t *p = uma_zalloc_arg(z, &seen, M_WAITOK);
	VMT_ASSERT(p != NULL && *p == 0xc7c7c7c7ull);
	VMT_ASSERT_EQ(seen, 96);
	uma_zfree(z, p);
	VMT_ASSERT_EQ(ut_dtor_calls, 1);
	for (int i = 0; i < 100; i++)
		ut_items[i] = uma_zalloc(z, M_NOWAIT);
	for (int i = 0; i < 100; i++)
		uma_zfree(z, ut_items[i]);
	VMT_ASSERT_EQ(ut_ctor_calls, 101);
	VMT_ASSERT_EQ(ut_dtor_calls, 101);
	uma_zdestroy(z);
}

VMTEST(uma, failing_ctor_hands_item_back)
{
	ut_hooks_reset();
	uma_zone_t z = uma_zcreate("vmt-ctorfail", 96, ut_ctor, ut_dtor, ut_init, ut_fini,
	    UMA_ALIGN_PTR, 0);
	void *a = uma_zalloc(z, M_WAITOK);
	VMT_ASSERT(a != NULL);
	struct uma_zone_stat before = ut_stat(z);
	ut_ctor_fail_at = ut_ctor_calls + 1;
	/* A failing ctor fails even M_WAITOK: it is not a shortage to wait out. */
	void *b = uma_zalloc(z, M_WAITOK);
	VMT_ASSERT(b == NULL);
	struct uma_zone_stat after = ut_stat(z);
	VMT_ASSERT_EQ(after.uzs_fails, before.uzs_fails + 1);
	VMT_ASSERT_EQ(after.uzs_allocs, before.uzs_allocs);
	VMT_ASSERT_EQ(ut_dtor_calls, 0);                /* no dtor for what was never built */
	VMT_ASSERT_EQ(uma_zone_get_cur(z), 1);
	VMT_ASSERT(ut_stats_consistent(z));
	void *c = uma_zalloc(z, M_WAITOK);
	VMT_ASSERT(c != NULL);
	uma_zfree(z, a);
	uma_zfree(z, c);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN_CPU);
	VMT_ASSERT_EQ(ut_stat(z).uzs_pages, 0);
	/* Every item the keg initialised was finished when its slab went. */
	VMT_ASSERT_EQ(ut_init_calls, ut_fini_calls);
	uma_zdestroy(z);
}

VMTEST(uma, failing_keg_init_keeps_item_out)
{
	ut_hooks_reset();
	uma_zone_t z = uma_zcreate("vmt-initfail", 128, NULL, NULL, ut_init, ut_fini,
	    UMA_ALIGN_PTR, 0);
	uint32_t ipers = z->uz_keg->uk_ipers;
	ut_init_fail_at = 3;
	void *p = uma_zalloc(z, M_NOWAIT);
	VMT_ASSERT(p == NULL);
	/* The two items that did initialise were finished and the slab's pages freed. */
	VMT_ASSERT_EQ(ut_init_calls, 3);
	VMT_ASSERT_EQ(ut_fini_calls, 2);
	struct uma_zone_stat zs = ut_stat(z);
	VMT_ASSERT_EQ(zs.uzs_pages, 0);
	VMT_ASSERT_EQ(zs.uzs_fails, 1);
	VMT_ASSERT_EQ(zs.uzs_items, 0);
	/* Once init works, a whole slab is initialised and items come out initialised. */
	uint64_t *q = uma_zalloc(z, M_WAITOK);
	VMT_ASSERT(q != NULL && q[1] == 0x1717171717ull);
	VMT_ASSERT_EQ(ut_init_calls, 3 + (int)ipers);
	uma_zfree(z, q);
	uma_zdestroy(z);
	VMT_ASSERT_EQ(ut_fini_calls, 2 + (int)ipers);
}

VMTEST(uma, secondary_zone_shares_keg)
{
	ut_hooks_reset();
	uma_zone_t pz = uma_zcreate("vmt-primary", 160, NULL, NULL, ut_init, ut_fini,
	    UMA_ALIGN_PTR, 0);
	uma_zone_t sz = uma_zsecond_create("vmt-secondary", ut_ctor, ut_dtor, NULL, NULL, pz);
	VMT_ASSERT(sz->uz_keg == pz->uz_keg);
	VMT_ASSERT(sz->uz_flags & UMA_ZONE_SECONDARY);
	void *a = uma_zalloc(pz, M_WAITOK);
	VMT_ASSERT_EQ(ut_ctor_calls, 0);                /* the primary has no ctor */
	uint64_t *b = uma_zalloc(sz, M_WAITOK);
	VMT_ASSERT_EQ(ut_ctor_calls, 1);
	VMT_ASSERT(*b == 0xc7c7c7c7ull && b[1] == 0x1717171717ull); /* keg init ran too */
	VMT_ASSERT(uma_vtoslab(a)->us_keg == uma_vtoslab(b)->us_keg);
	/* One set of pages, reported by both. */
	VMT_ASSERT_EQ(ut_stat(pz).uzs_pages, ut_stat(sz).uzs_pages);
	VMT_ASSERT_EQ(uma_zone_get_cur(pz), 1);
	VMT_ASSERT_EQ(uma_zone_get_cur(sz), 1);
	uma_zfree(sz, b);
	VMT_ASSERT_EQ(ut_dtor_calls, 1);
	uma_zfree(pz, a);
	uma_zdestroy(sz);
	/* The keg outlives its secondary zone. */
	void *c = uma_zalloc(pz, M_WAITOK);
	VMT_ASSERT(c != NULL);
	uma_zfree(pz, c);
	uma_zdestroy(pz);
	VMT_ASSERT_EQ(ut_init_calls, ut_fini_calls);
}

static int ut_zinit_calls, ut_zfini_calls, ut_zinit_fail;

static int ut_zinit(void *mem, int size, int flags)
{
	(void)mem;
	(void)size;
	(void)flags;
	ut_zinit_calls++;
	return ut_zinit_fail;
}

static void ut_zfini(void *mem, int size)
{
	(void)mem;
	(void)size;
	ut_zfini_calls++;
}

VMTEST(uma, secondary_zone_init_fini)
{
	ut_zinit_calls = ut_zfini_calls = ut_zinit_fail = 0;
	uma_zone_t pz = uma_zcreate("vmt-primary2", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_NOBUCKET);
	uma_zone_t sz = uma_zsecond_create("vmt-second2", NULL, NULL, ut_zinit, ut_zfini, pz);
	void *a = uma_zalloc(sz, M_WAITOK);
	VMT_ASSERT(a != NULL);
	VMT_ASSERT_EQ(ut_zinit_calls, 1);
	uma_zfree(sz, a);
	VMT_ASSERT_EQ(ut_zfini_calls, 1);
	/* A failing zone init keeps the item in the keg: the allocation fails. */
	ut_zinit_fail = 1;
	VMT_ASSERT(uma_zalloc(sz, M_NOWAIT) == NULL);
	VMT_ASSERT_EQ(ut_stat(sz).uzs_items, 0);
	VMT_ASSERT_EQ(ut_stat(sz).uzs_fails, 1);
	ut_zinit_fail = 0;
	uma_zdestroy(sz);
	uma_zdestroy(pz);
}

/* ---- limits ----------------------------------------------------------------------- */

VMTEST(uma, limit_nowait_fails_at_max)
{
	uma_zone_t z = uma_zcreate("vmt-limit", 128, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	VMT_ASSERT_EQ(uma_zone_set_max(z, 10), 10);
	VMT_ASSERT_EQ(uma_zone_get_max(z), 10);
	int n = 0;
	while (n < 20 && (ut_items[n] = uma_zalloc(z, M_NOWAIT)) != NULL)
		n++;
	VMT_ASSERT_EQ(n, 10);
	VMT_ASSERT_EQ(ut_stat(z).uzs_fails, 1);
	VMT_ASSERT(uma_zalloc(z, M_NOWAIT) == NULL);
	uma_zfree(z, ut_items[0]);
	ut_items[0] = uma_zalloc(z, M_NOWAIT);
	VMT_ASSERT(ut_items[0] != NULL);
	for (int i = 0; i < n; i++)
		uma_zfree(z, ut_items[i]);
	/* Nothing in use; what the zone still holds is what its caches hold (a limit this
	 * small leaves caches on with few CPUs, off with many). */
	struct uma_zone_stat zs = ut_stat(z);
	VMT_ASSERT_EQ(uma_zone_get_cur(z), 0);
	VMT_ASSERT_EQ(zs.uzs_items, zs.uzs_zone_cached + zs.uzs_cpu_cached);
	VMT_ASSERT(zs.uzs_items <= 10);
	/* Draining the caches gives every item back to the keg. */
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN_CPU);
	VMT_ASSERT_EQ(ut_stat(z).uzs_items, 0);
	/* And the whole limit is there again for one CPU. */
	for (n = 0; n < 20 && (ut_items[n] = uma_zalloc(z, M_NOWAIT)) != NULL; n++)
		;
	VMT_ASSERT_EQ(n, 10);
	for (int i = 0; i < n; i++)
		uma_zfree(z, ut_items[i]);
	uma_zdestroy(z);
}

/* With a larger limit the caches stay on but shrink; the limit still holds. */
VMTEST(uma, limit_with_buckets_never_exceeded)
{
	uma_zone_t z = uma_zcreate("vmt-limit2", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	uma_zone_set_max(z, 900);
	struct uma_zone_stat zs = ut_stat(z);
	VMT_ASSERT(zs.uzs_bucket_size > 0);
	VMT_ASSERT((uint64_t)zs.uzs_bucket_size * 4 * (uint64_t)vm_ncpus() <= 900);
	int n = 0;
	while (n < UT_NITEMS && (ut_items[n] = uma_zalloc(z, M_NOWAIT)) != NULL) {
		VMT_ASSERT(ut_stat(z).uzs_items <= 900);
		n++;
	}
	/* Items sitting in this CPU's empty-handed caches are not lost to the limit. */
	VMT_ASSERT_MSG(n == 900, "got %d items under a limit of 900", n);
	for (int i = 0; i < n; i++)
		uma_zfree(z, ut_items[i]);
	uma_zdestroy(z);
}

/* ---- reclaim ------------------------------------------------------------------------ */

VMTEST(uma, reclaim_returns_whole_pages)
{
	uma_zone_t z = uma_zcreate("vmt-reclaim", 256, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    0);
	uint32_t ipers = z->uz_keg->uk_ipers;
	int n = (int)ipers * 5 + 3;
	VMT_ASSERT(n <= UT_NITEMS);
	for (int i = 0; i < n; i++)
		ut_items[i] = uma_zalloc(z, M_WAITOK);
	uint64_t pages = ut_stat(z).uzs_pages;
	VMT_ASSERT(pages >= 6);
	void *first_page = (void *)trunc_page((uintptr_t)ut_items[0]);
	for (int i = 0; i < n; i++)
		uma_zfree(z, ut_items[i]);
	/* Freed items stay cached: nothing goes back by itself. */
	VMT_ASSERT_EQ(ut_stat(z).uzs_pages, pages);
	uint64_t free_before = ut_free_pages();
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN_CPU);
	struct uma_zone_stat zs = ut_stat(z);
	VMT_ASSERT_EQ(zs.uzs_pages, 0);
	VMT_ASSERT_EQ(zs.uzs_items, 0);
	VMT_ASSERT_EQ(zs.uzs_cpu_cached + zs.uzs_zone_cached, 0);
	VMT_ASSERT(ut_free_pages() >= free_before + pages);
	/* The pages went back to vm_page marked as no longer kernel memory. */
	VMT_ASSERT_EQ(uma_kmem_owner(first_page), 0);
	uma_zdestroy(z);
}

VMTEST(uma, nofree_zone_keeps_pages)
{
	uma_zone_t z = uma_zcreate("vmt-nofree", 512, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_NOFREE);
	for (int i = 0; i < 100; i++)
		ut_items[i] = uma_zalloc(z, M_WAITOK);
	uint64_t pages = ut_stat(z).uzs_pages;
	VMT_ASSERT(pages > 0);
	for (int i = 0; i < 100; i++) {
		*(uint64_t *)ut_items[i] = 0x5757;
		uma_zfree(z, ut_items[i]);
	}
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN_CPU);
	uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
	/* Type-stable: the pages stay and still hold what the items held. */
	VMT_ASSERT_EQ(ut_stat(z).uzs_pages, pages);
	VMT_ASSERT_EQ(*(uint64_t *)ut_items[0], 0x5757);
	VMT_ASSERT(uma_kmem_owner(ut_items[0]) != 0);
	uma_zdestroy(z);
}

VMTEST(uma, lowmem_handler_drains)
{
	uma_zone_t z = uma_zcreate("vmt-lowmem", 128, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	for (int i = 0; i < 300; i++)
		ut_items[i] = uma_zalloc(z, M_WAITOK);
	for (int i = 0; i < 300; i++)
		uma_zfree(z, ut_items[i]);
	VMT_ASSERT(ut_stat(z).uzs_pages > 0);
	vm_lowmem_fire(VM_LOW_PAGES);
	VMT_ASSERT_EQ(ut_stat(z).uzs_pages, 0);
	uma_zdestroy(z);
}

VMTEST(uma, nobucket_zone_goes_to_keg)
{
	uma_zone_t z = uma_zcreate("vmt-nobucket", 48, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_NOBUCKET);
	for (int i = 0; i < 100; i++)
		ut_items[i] = uma_zalloc(z, M_WAITOK);
	for (int i = 0; i < 100; i++)
		uma_zfree(z, ut_items[i]);
	struct uma_zone_stat zs = ut_stat(z);
	VMT_ASSERT_EQ(zs.uzs_bucket_size, 0);
	VMT_ASSERT_EQ(zs.uzs_cpu_cached + zs.uzs_zone_cached + zs.uzs_items, 0);
	VMT_ASSERT_EQ(zs.uzs_allocs, 100);
	VMT_ASSERT_EQ(zs.uzs_frees, 100);
	uma_zdestroy(z);
}

/* ---- statistics ---------------------------------------------------------------------- */

VMTEST(uma, statistics_add_up)
{
	uma_zone_t z = uma_zcreate("vmt-stats", 200, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	struct uma_percpu_stat pcpu[MAXCPU];
	struct uma_zone_stat zs;

	for (int i = 0; i < 700; i++)
		ut_items[i] = uma_zalloc(z, M_WAITOK);
	for (int i = 0; i < 700; i += 3)
		uma_zfree(z, ut_items[i]);
	uma_zone_stats(z, &zs, pcpu, vm_ncpus());
	uint64_t a = 0, f = 0, c = 0, fl = 0;
	for (int cpu = 0; cpu < vm_ncpus(); cpu++) {
		a += pcpu[cpu].ups_allocs;
		f += pcpu[cpu].ups_frees;
		fl += pcpu[cpu].ups_fails;
		c += pcpu[cpu].ups_cached;
	}
	VMT_ASSERT_EQ(a, zs.uzs_allocs);
	VMT_ASSERT_EQ(f, zs.uzs_frees);
	VMT_ASSERT_EQ(fl, zs.uzs_fails);
	VMT_ASSERT_EQ(c, zs.uzs_cpu_cached);
	VMT_ASSERT_EQ(zs.uzs_allocs, 700);
	VMT_ASSERT_EQ(zs.uzs_frees, 234);
	VMT_ASSERT_EQ((uint64_t)uma_zone_get_cur(z), 700 - 234);
	/* Items held = in use + cached; the keg's slabs hold exactly items + free ones. */
	VMT_ASSERT_EQ(zs.uzs_items, 466 + zs.uzs_cpu_cached + zs.uzs_zone_cached);
	VMT_ASSERT_EQ(zs.uzs_items + zs.uzs_keg_free, zs.uzs_pages / zs.uzs_ppera * zs.uzs_ipers);
	for (int i = 0; i < 700; i++)
		if (i % 3 != 0)
			uma_zfree(z, ut_items[i]);
	uma_zone_stats(z, &zs, NULL, 0);
	VMT_ASSERT_EQ(zs.uzs_allocs, zs.uzs_frees);
	uma_zdestroy(z);
}

static uint64_t ut_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

VMTEST(uma, stats_stream_parses_back)
{
	static uint8_t buf[64 * 1024];
	uma_zone_t z = uma_zcreate("vmt-stream", 300, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	for (int i = 0; i < 37; i++)
		ut_items[i] = uma_zalloc(z, M_WAITOK);
	uma_zfree(z, ut_items[0]);
	uma_zone_set_max(z, 5000);

	size_t len = uma_stats_stream(buf, sizeof(buf));
	VMT_ASSERT(len > UMA_STREAM_HDR_SIZE && len <= sizeof(buf));
	VMT_ASSERT_EQ(ut_le(buf, 4), UMA_STREAM_MAGIC);
	VMT_ASSERT(memcmp(buf, "UMAS", 4) == 0);
	VMT_ASSERT_EQ(ut_le(buf + 4, 2), UMA_STREAM_VERSION);
	uint64_t ncpus = ut_le(buf + 6, 2), nzones = ut_le(buf + 8, 4);
	uint64_t zsz = ut_le(buf + 12, 2), psz = ut_le(buf + 14, 2);
	VMT_ASSERT_EQ(ncpus, vm_ncpus());
	VMT_ASSERT_EQ(zsz, UMA_STREAM_ZONE_SIZE);
	VMT_ASSERT_EQ(psz, UMA_STREAM_PCPU_SIZE);
	VMT_ASSERT_EQ(ut_le(buf + 16, 8), uma_pages_boot());
	VMT_ASSERT_EQ(ut_le(buf + 24, 8), uma_pages_total());
	VMT_ASSERT_EQ(len, UMA_STREAM_HDR_SIZE + nzones * (zsz + ncpus * psz));
	uint64_t counted = 0;
	for (uma_zone_t it = NULL; uma_zone_iter(&it);)
		counted++;
	VMT_ASSERT_EQ(nzones, counted);

	bool found = false;
	uint64_t pages_sum = ut_le(buf + 16, 8);
	const uint8_t *p = buf + UMA_STREAM_HDR_SIZE;
	for (uint64_t zi = 0; zi < nzones; zi++) {
		uint64_t a = 0, f = 0;
		for (uint64_t c = 0; c < ncpus; c++) {
			a += ut_le(p + zsz + c * psz, 8);
			f += ut_le(p + zsz + c * psz + 8, 8);
		}
		VMT_ASSERT_EQ(a, ut_le(p + 80, 8));
		VMT_ASSERT_EQ(f, ut_le(p + 88, 8));
		if (!(ut_le(p + 112, 4) & UMA_ZONE_SECONDARY))
			pages_sum += ut_le(p + 48, 8);
		if (memcmp(p, "vmt-stream", 11) == 0) {
			found = true;
			VMT_ASSERT_EQ(ut_le(p + 32, 8), 300);
			VMT_ASSERT_EQ(ut_le(p + 40, 8), 5000);
			VMT_ASSERT_EQ(ut_le(p + 80, 8) - ut_le(p + 88, 8), 36);
			VMT_ASSERT_EQ(ut_le(p + 116, 4), z->uz_keg->uk_ipers);
			VMT_ASSERT_EQ(ut_le(p + 48, 8), ut_stat(z).uzs_pages);
		}
		p += zsz + ncpus * psz;
	}
	VMT_ASSERT(found);
	VMT_ASSERT_EQ(pages_sum, uma_pages_total());
	/* A short buffer: same length reported, nothing written past it. */
	memset(buf, 0xee, 100);
	VMT_ASSERT_EQ(uma_stats_stream(buf, 40), len);
	VMT_ASSERT(buf[40] == 0xee);

	for (int i = 1; i < 37; i++)
		uma_zfree(z, ut_items[i]);
	uma_zdestroy(z);
}

/* UMA's own zones exist and account for the boot pages and themselves. */
/*
 * UMA's own zones (zones, kegs, slab headers, buckets) are made when first needed and
 * then counted like any other: use a zone with buckets and an off-page one, and every
 * kind is on the zone list; the zone of zones holds exactly the zones on the list but
 * the two carved from the bootstrap pages, which are counted apart.
 */
VMTEST(uma, boot_zones_counted)
{
	uma_zone_t zb = uma_zcreate("vmt-boot-b", 128, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    0);
	uma_zone_t zo = uma_zcreate("vmt-boot-o", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_OFFPAGE);
	void *a = uma_zalloc(zb, M_WAITOK), *b = uma_zalloc(zo, M_WAITOK);
	bool zones = false, kegs = false, buckets = false, slabs = false;
	uint64_t nzones = 0, zones_in_use = 0;

	VMT_ASSERT(a != NULL && b != NULL);
	for (uma_zone_t it = NULL; uma_zone_iter(&it);) {
		const char *n = uma_zone_get_name(it);
		struct uma_zone_stat zs = ut_stat(it);
		nzones++;
		if (strcmp(n, "UMA Zones") == 0) {
			zones = true;
			zones_in_use = zs.uzs_allocs - zs.uzs_frees;
		}
		kegs |= strcmp(n, "UMA Kegs") == 0;
		buckets |= strcmp(n, "UMA Buckets 126") == 0;
		slabs |= strcmp(n, "UMA Slabs") == 0;
	}
	uma_zfree(zb, a);
	uma_zfree(zo, b);
	uma_zdestroy(zb);
	uma_zdestroy(zo);
	VMT_ASSERT(zones && kegs && buckets && slabs);
	VMT_ASSERT_EQ(zones_in_use, nzones - 2);
	VMT_ASSERT(uma_pages_boot() >= 1);
	VMT_ASSERT(uma_pages_total() > uma_pages_boot());
}

VMTEST(uma, nodrain_maxbucket_vm_flags)
{
	uma_zone_t nd = uma_zcreate("vmt-nodrain", 128, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_NODRAIN);
	uma_zone_t mb = uma_zcreate("vmt-maxbucket", 2048, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_MAXBUCKET);
	uma_zone_t plain = uma_zcreate("vmt-plain2048", 2048, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	uma_zone_t vmz = uma_zcreate("vmt-vm", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_VM);

	/* MAXBUCKET: the largest buckets whatever the item size. */
	VMT_ASSERT(ut_stat(mb).uzs_bucket_size > ut_stat(plain).uzs_bucket_size);
	VMT_ASSERT_EQ(ut_stat(mb).uzs_bucket_size, 126);
	/* VM zones allocate with M_NOWAIT like any other. */
	void *v = uma_zalloc(vmz, M_NOWAIT);
	VMT_ASSERT(v != NULL);
	uma_zfree(vmz, v);
	/* NODRAIN: the global reclaim passes it by, a reclaim of the zone itself does not. */
	for (int i = 0; i < 200; i++)
		ut_items[i] = uma_zalloc(nd, M_WAITOK);
	for (int i = 0; i < 200; i++)
		uma_zfree(nd, ut_items[i]);
	uint64_t pages = ut_stat(nd).uzs_pages;
	VMT_ASSERT(pages > 0);
	uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
	VMT_ASSERT_EQ(ut_stat(nd).uzs_pages, pages);
	uma_zone_reclaim(nd, UMA_RECLAIM_DRAIN_CPU);
	VMT_ASSERT_EQ(ut_stat(nd).uzs_pages, 0);
	uma_zdestroy(vmz);
	uma_zdestroy(plain);
	uma_zdestroy(mb);
	uma_zdestroy(nd);
}

VMTEST(uma, prealloc_then_no_new_pages)
{
	uma_zone_t z = uma_zcreate("vmt-prealloc", 100, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_NOBUCKET);
	uma_prealloc(z, 500);
	struct uma_zone_stat zs = ut_stat(z);
	VMT_ASSERT(zs.uzs_keg_free >= 500);
	uint64_t pages = zs.uzs_pages;
	VMT_ASSERT(pages > 0);
	for (int i = 0; i < 500; i++)
		VMT_ASSERT((ut_items[i] = uma_zalloc(z, M_NOWAIT)) != NULL);
	VMT_ASSERT_EQ(ut_stat(z).uzs_pages, pages);
	for (int i = 0; i < 500; i++)
		uma_zfree(z, ut_items[i]);
	uma_zdestroy(z);
}
