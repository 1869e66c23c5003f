/*
 * Suite "dump": what the VM core keeps for dumps and statistics tools, on any running
 * core (the host's simulated machine, the guest's RAM): the minidump bitmap
 * (vm/vm_dump.h) follows UMA slabs, kmalloc's large allocations and page-table pages
 * in and out; vm_meter agrees with vm_page's counts; the malloc statistics stream
 * parses back to what a type's known allocations must show.
 */
#include <string.h>

#include "vm/malloc.h"
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_dump.h"
#include "vm/vm_meter.h"
#include "vm/vm_page.h"
#include "vm/vm_phys.h"
#include "tests/vmtests/vmtest.h"

MALLOC_DEFINE(M_DUMPTEST, "dumptest");

VMTEST(dump, bitmap_covers_ram)
{
	vm_paddr_t top = 0;

	vm_dump_startup();      /* the guest's boot did; the host's does not */
	for (int i = 0; i < vm_phys_nsegs; i++)
		top = MAX(top, vm_phys_segs[i].ps_ram_end);
	VMT_ASSERT(vm_dump_bitmap_pa() != 0);
	VMT_ASSERT_EQ(vm_dump_bitmap_bits(), atop(top));
	/* The bitmap's own page is in every dump; a page past the end never is. */
	VMT_ASSERT(dump_page_is_set(vm_dump_bitmap_pa()));
	VMT_ASSERT(!dump_page_is_set(top));
	dump_add_page(top + PAGE_SIZE);     /* ignored, not a write past the bitmap */
	VMT_ASSERT(!dump_page_is_set(top + PAGE_SIZE));
}

VMTEST(dump, bitmap_follows_uma_slabs)
{
	vm_dump_startup();
	uma_zone_t z = uma_zcreate("dumptest", 200, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	void *item = uma_zalloc(z, M_WAITOK);
	vm_paddr_t pa = vm_dmap_to_phys(item);

	VMT_ASSERT(dump_page_is_set(pa));
	uma_zfree(z, item);
	VMT_ASSERT(dump_page_is_set(pa));   /* the slab stays with the zone */
	uma_zdestroy(z);
	VMT_ASSERT(!dump_page_is_set(pa));
}

VMTEST(dump, bitmap_follows_kmalloc_large)
{
	vm_dump_startup();
	uint8_t *p = kmalloc(3 * PAGE_SIZE, M_DUMPTEST, M_WAITOK);
	vm_paddr_t pa = vm_dmap_to_phys(p);

	for (int i = 0; i < 3; i++)
		VMT_ASSERT(dump_page_is_set(pa + ptoa(i)));
	kfree(p, M_DUMPTEST);
	for (int i = 0; i < 3; i++)
		VMT_ASSERT(!dump_page_is_set(pa + ptoa(i)));
}

VMTEST(dump, bitmap_follows_page_tables)
{
	vm_dump_startup();
	struct pmap pm;

	pmap_init();
	VMT_ASSERT_EQ(pmap_pinit(&pm), 0);
	vm_paddr_t root = pm.pm_cr3;
	VMT_ASSERT(dump_page_is_set(root));
	pmap_release(&pm);
	VMT_ASSERT(!dump_page_is_set(root));
}

VMTEST(dump, bitmap_leaves_other_pages_out)
{
	vm_dump_startup();
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_WAITOK);
	vm_paddr_t pa = VM_PAGE_TO_PHYS(m);

	VMT_ASSERT(!dump_page_is_set(pa));
	dump_add_page(pa);
	VMT_ASSERT(dump_page_is_set(pa));
	/* Its neighbours' bits are their own: only this one moved. */
	dump_drop_page(pa);
	VMT_ASSERT(!dump_page_is_set(pa));
	vm_page_free(m);
	VMT_ASSERT(!dump_page_is_set(pa));
}

/* vm_meter and vm_page_counts_snapshot read the same counters: on a quiet machine two
 * snapshots taken back to back agree (retried a few times, in case something moved). */
VMTEST(dump, meter_agrees_with_page_counts)
{
	struct vm_page_counts c;
	struct vmmeter m;
	bool same = false;

	for (int tries = 0; tries < 5 && !same; tries++) {
		vm_page_counts_snapshot(&c);
		vm_meter_snapshot(&m);
		same = m.v_free_count == c.v_free_count && m.v_wire_count == c.v_wire_count &&
		    m.v_active_count == c.v_active_count &&
		    m.v_inactive_count == c.v_inactive_count &&
		    m.v_laundry_count == c.v_laundry_count && m.v_zero_count == c.v_zero_count;
	}
	VMT_ASSERT_MSG(same, "free %llu/%llu wired %llu/%llu", (unsigned long long)m.v_free_count,
	    (unsigned long long)c.v_free_count, (unsigned long long)m.v_wire_count,
	    (unsigned long long)c.v_wire_count);
	VMT_ASSERT_EQ(m.vm_magic, VMMETER_MAGIC);
	VMT_ASSERT_EQ(m.vm_version, VMMETER_VERSION);
	VMT_ASSERT_EQ(m.vm_size, sizeof(struct vmmeter));
	VMT_ASSERT_EQ(m.v_page_size, PAGE_SIZE);
	VMT_ASSERT_EQ(m.v_page_count, c.v_page_count);
	VMT_ASSERT_EQ(m.v_free_target, c.v_free_target);
	VMT_ASSERT_EQ(m.v_free_min, c.v_free_min);
	VMT_ASSERT_EQ(m.v_inactive_target, c.v_inactive_target);
	VMT_ASSERT(m.v_free_count <= m.v_page_count);
	VMT_ASSERT(m.v_swap_used <= m.v_swap_pages);
}

/* ---- the malloc statistics stream -------------------------------------------------- */

static uint64_t ms_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t ms_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The record of `name` in the stream at buf (n bytes), or NULL. */
static const uint8_t *ms_find(const uint8_t *buf, size_t n, const char *name)
{
	uint32_t ntypes = ms_u32(buf + 8);
	size_t rec = (size_t)(buf[6] | buf[7] << 8);

	if (n < MALLOC_STREAM_HDR_SIZE + (size_t)ntypes * rec)
		return NULL;
	for (uint32_t i = 0; i < ntypes; i++) {
		const uint8_t *r = buf + MALLOC_STREAM_HDR_SIZE + (size_t)i * rec;
		if (strncmp((const char *)r, name, 32) == 0)
			return r;
	}
	return NULL;
}

VMTEST(dump, malloc_stream_parses_back)
{
	static uint8_t buf[8192];
	void *small[3], *large;
	size_t n;

	/* The type may have been used before (host re-runs): judge by differences. */
	malloc_type_register(M_DUMPTEST);
	n = malloc_stats_stream(buf, sizeof(buf));
	VMT_ASSERT(n <= sizeof(buf));
	const uint8_t *r0 = ms_find(buf, n, "dumptest");
	VMT_ASSERT(r0 != NULL);
	uint64_t inuse0 = ms_u64(r0 + 32), memuse0 = ms_u64(r0 + 40), req0 = ms_u64(r0 + 48);

	for (int i = 0; i < 3; i++)
		small[i] = kmalloc(100, M_DUMPTEST, M_WAITOK);      /* class 128 */
	large = kmalloc(2 * PAGE_SIZE, M_DUMPTEST, M_WAITOK);
	kfree(small[2], M_DUMPTEST);

	n = malloc_stats_stream(buf, sizeof(buf));
	VMT_ASSERT(n <= sizeof(buf));
	VMT_ASSERT_EQ(ms_u32(buf), MALLOC_STREAM_MAGIC);
	VMT_ASSERT_EQ(buf[0], 'M');                 /* "MALS" as bytes */
	VMT_ASSERT_EQ(buf[4] | buf[5] << 8, MALLOC_STREAM_VERSION);
	VMT_ASSERT_EQ(buf[6] | buf[7] << 8, MALLOC_STREAM_REC_SIZE);
	VMT_ASSERT_EQ(ms_u32(buf + 12), 0);
	VMT_ASSERT_EQ(n, MALLOC_STREAM_HDR_SIZE + (size_t)ms_u32(buf + 8) *
	    MALLOC_STREAM_REC_SIZE);
	const uint8_t *r = ms_find(buf, n, "dumptest");
	VMT_ASSERT(r != NULL);
	VMT_ASSERT_EQ(ms_u64(r + 32) - inuse0, 3);          /* two small, one large */
	VMT_ASSERT_EQ(ms_u64(r + 40) - memuse0, 2 * 128 + 2 * PAGE_SIZE);
	VMT_ASSERT_EQ(ms_u64(r + 48) - req0, 4);
	VMT_ASSERT_EQ(ms_u64(r + 56), 0);                   /* failures */
	uint64_t sizes = ms_u64(r + 64);
	VMT_ASSERT((sizes & (1ull << malloc_size_class(100))) != 0);
	VMT_ASSERT((sizes & MALLOC_SIZE_LARGE) != 0);
	VMT_ASSERT_EQ(ms_u64(r + 72), MALLOC_MIN_SIZE);
	/* The core's own types are there too. */
	VMT_ASSERT(ms_find(buf, n, "temp") != NULL);

	/* Too short a buffer: the whole size all the same, and no byte past len. */
	static uint8_t small_buf[40];
	memset(small_buf, 0xee, sizeof(small_buf));
	size_t whole = malloc_stats_stream(small_buf, 20);
	VMT_ASSERT_EQ(whole, n);
	VMT_ASSERT_EQ(small_buf[20], 0xee);
	VMT_ASSERT(memcmp(small_buf, buf, 16) == 0);
	VMT_ASSERT_EQ(malloc_stats_stream(NULL, 0), n);
	VMT_ASSERT_EQ(malloc_stats_stream_nowait(NULL, 0), n);

	kfree(small[0], M_DUMPTEST);
	kfree(small[1], M_DUMPTEST);
	kfree(large, M_DUMPTEST);
	n = malloc_stats_stream(buf, sizeof(buf));
	r = ms_find(buf, n, "dumptest");
	VMT_ASSERT(r != NULL);
	VMT_ASSERT_EQ(ms_u64(r + 32), inuse0);
	VMT_ASSERT_EQ(ms_u64(r + 40), memuse0);
}
