/*
 * vm_phys on configurations of the simulated machine that only the host can make:
 * a bitmap model of every page, several segments with a hole, the blacklist, exhaustive
 * contiguous allocation against a brute-force answer, and boot that leaves the page
 * arrays untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "vm/vm_page.h"
#include "vm/vm_phys.h"
#include "vm/vm_startup.h"

static uint64_t tphys_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Index of pa over all segments' managed pages, for a per-page bitmap. */
static uint64_t tphys_index(vm_paddr_t pa)
{
	uint64_t base = 0;

	for (int i = 0; i < vm_phys_nsegs; i++) {
		struct vm_phys_seg *seg = &vm_phys_segs[i];
		if (pa >= seg->ps_start && pa < seg->ps_end)
			return base + atop(pa - seg->ps_start);
		base += seg->ps_npages;
	}
	ck_abort_msg("pa %#llx is in no segment", (unsigned long long)pa);
	return 0;
}

static void tphys_snapshot(uint64_t out[VM_NFREEPOOL][VM_NFREEORDER])
{
	for (int p = 0; p < VM_NFREEPOOL; p++)
		for (int o = 0; o < VM_NFREEORDER; o++)
			out[p][o] = vm_phys_free_blocks(p, o);
}

/*
 * Random mixed-order alloc/free with a bitmap of allocated pages, on a fresh boot of cfg
 * whose free memory starts in the lazy tails, so blocks are carved in the middle of the
 * run. Afterwards everything is freed and the tails queued, and the free lists must be
 * exactly those of a twin boot whose tails were queued at once: free memory stayed
 * maximally coalesced while carving went on (a coalesced free set has one decomposition).
 */
static void tphys_model_run(const struct vm_host_config *cfg, uint64_t seed, int steps)
{
	enum { SLOTS = 512 };
	static struct { vm_page_t m; int order; } live[SLOTS];
	uint64_t npages = 0, before, snap0[VM_NFREEPOOL][VM_NFREEORDER], total[VM_NFREEORDER];
	uint8_t *used;

	/* The twin: every tail queued at once. */
	vm_host_boot(cfg);
	vm_page_drain_caches();
	vm_phys_lock();
	vm_phys_carve_all();
	ck_assert_uint_eq(vm_phys_lazy_count(), 0);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	tphys_snapshot(snap0);
	vm_phys_unlock();

	vm_host_boot(cfg);
	for (int i = 0; i < vm_phys_nsegs; i++)
		npages += vm_phys_segs[i].ps_npages;
	used = calloc(npages, 1);
	ck_assert_ptr_nonnull(used);
	memset(live, 0, sizeof(live));
	vm_page_drain_caches();
	vm_phys_lock();
	before = vm_phys_nfree;
	ck_assert_uint_gt(vm_phys_lazy_count(), 0);
	for (int step = 0; step < steps; step++) {
		int s = (int)(tphys_rand(&seed) % SLOTS);
		if (live[s].m != NULL) {
			uint64_t idx = tphys_index(VM_PAGE_TO_PHYS(live[s].m));
			for (uint64_t i = 0; i < (1ull << live[s].order); i++)
				used[idx + i] = 0;
			vm_phys_free_pages(live[s].m, live[s].order);
			live[s].m = NULL;
			continue;
		}
		/* Mostly small orders, now and then a large one. */
		int order = (int)(tphys_rand(&seed) % 100);
		order = order < 70 ? order % 3 : order < 95 ? 3 + order % 4 : 7 + order % 4;
		vm_page_t m = vm_phys_alloc_pages((int)(tphys_rand(&seed) % VM_NFREEPOOL), order);
		if (m == NULL)
			continue;
		vm_paddr_t pa = VM_PAGE_TO_PHYS(m);
		ck_assert_msg((pa & ((PAGE_SIZE << order) - 1)) == 0, "block %#llx order %d",
		    (unsigned long long)pa, order);
		uint64_t idx = tphys_index(pa);
		ck_assert_msg(tphys_index(pa + (PAGE_SIZE << order) - PAGE_SIZE) ==
		    idx + (1ull << order) - 1, "block %#llx crosses a segment end",
		    (unsigned long long)pa);
		for (uint64_t i = 0; i < (1ull << order); i++) {
			ck_assert_msg(used[idx + i] == 0, "page %#llx handed out twice",
			    (unsigned long long)(pa + ptoa(i)));
			ck_assert_int_eq(m[i].order, 0);
			used[idx + i] = 1;
		}
		live[s].m = m;
		live[s].order = order;
		if (step % 1000 == 0)
			ck_assert_uint_eq(vm_phys_verify(), 0);
	}
	for (int s = 0; s < SLOTS; s++)
		if (live[s].m != NULL)
			vm_phys_free_pages(live[s].m, live[s].order);
	ck_assert_uint_eq(vm_phys_nfree, before);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	vm_phys_carve_all();
	ck_assert_uint_eq(vm_phys_nfree, before);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	/* Maximal coalescing: the same free set decomposes into the same blocks. */
	uint64_t snap1[VM_NFREEPOOL][VM_NFREEORDER];
	tphys_snapshot(snap1);
	for (int o = 0; o < VM_NFREEORDER; o++) {
		total[o] = 0;
		for (int p = 0; p < VM_NFREEPOOL; p++)
			total[o] += snap1[p][o] - snap0[p][o];
		ck_assert_msg(total[o] == 0, "order %d: %lld blocks more than the twin", o,
		    (long long)total[o]);
	}
	vm_phys_unlock();
	free(used);
}

START_TEST(model_one_segment)
{
	struct vm_host_config cfg = { .ram_bytes = 64ull << 20, .ncpus = 4 };

	tphys_model_run(&cfg, 0x1234567ull, 40000);
}
END_TEST

START_TEST(model_three_segments_with_holes)
{
	/* Unaligned segment starts: blocks must stop at segment ends. */
	struct vm_host_config cfg = { .ram_bytes = 48ull << 20, .ncpus = 2, .nsegs = 3,
	    .hole_bytes = 0x123000, .base_pa = 0x105000 };
	vm_host_boot(&cfg);
	ck_assert_int_eq(vm_phys_nsegs, 3);
	for (int i = 0; i + 1 < vm_phys_nsegs; i++) {
		ck_assert(vm_phys_segs[i].ps_ram_end < vm_phys_segs[i + 1].ps_start);
		ck_assert_ptr_null(PHYS_TO_VM_PAGE(vm_phys_segs[i].ps_ram_end + PAGE_SIZE));
		/* The page array sits at the tail of its segment, outside the managed part. */
		ck_assert_ptr_null(PHYS_TO_VM_PAGE(vm_phys_segs[i].ps_end));
	}
	tphys_model_run(&cfg, 0xfeedull, 40000);
}
END_TEST

/* The twin comparison with bad pages in the tails: carving must stop at each. */
START_TEST(model_with_blacklist)
{
	struct vm_host_config cfg = { .ram_bytes = 16ull << 20, .ncpus = 1,
	    .base_pa = 0x103000, .blacklist = "0x104000,0x200000,0x201000,0x5ff000" };

	tphys_model_run(&cfg, 0xbadull, 20000);
}
END_TEST

/*
 * Boot queues nothing: all free memory is in the lazy tails. The first single page carves
 * one block of VM_PHYS_CARVE_ORDER at the cursor (not a whole 4 MiB block), later ones
 * come from its split halves, and a block larger than what is queued carves again.
 */
START_TEST(lazy_tail_carved_on_demand)
{
	struct vm_host_config cfg = { .ram_bytes = 1ull << 30, .ncpus = 1 };

	vm_host_boot(&cfg);
	struct vm_phys_seg *seg = &vm_phys_segs[0];
	vm_phys_lock();
	uint64_t nfree = vm_phys_nfree;
	ck_assert_uint_eq(vm_phys_lazy_count(), nfree);
	ck_assert_uint_eq(nfree, seg->ps_npages);
	ck_assert_uint_eq(seg->ps_lazy, seg->ps_start);
	for (int p = 0; p < VM_NFREEPOOL; p++)
		for (int o = 0; o < VM_NFREEORDER; o++)
			ck_assert_uint_eq(vm_phys_free_blocks(p, o), 0);

	vm_page_t a = vm_phys_alloc_pages(VM_FREEPOOL_DEFAULT, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(VM_PAGE_TO_PHYS(a), seg->ps_start);
	ck_assert_uint_eq(seg->ps_lazy, seg->ps_start + ptoa(32));
	ck_assert_uint_eq(vm_phys_lazy_count(), nfree - 32);
	ck_assert_uint_eq(vm_phys_nfree, nfree - 1);
	vm_page_t b = vm_phys_alloc_pages(VM_FREEPOOL_DEFAULT, 0);
	ck_assert_uint_eq(VM_PAGE_TO_PHYS(b), seg->ps_start + PAGE_SIZE);
	ck_assert_uint_eq(seg->ps_lazy, seg->ps_start + ptoa(32));  /* from the split */
	vm_page_t big = vm_phys_alloc_pages(VM_FREEPOOL_DIRECT, 9);
	ck_assert_ptr_nonnull(big);
	ck_assert_uint_eq(VM_PAGE_TO_PHYS(big) & (ptoa(512) - 1), 0);
	ck_assert_uint_ge(VM_PAGE_TO_PHYS(big), seg->ps_start + ptoa(32));
	ck_assert_uint_eq(vm_phys_verify(), 0);

	/* Freed next to the cursor: coalescing stops at the tail. */
	vm_phys_free_pages(a, 0);
	vm_phys_free_pages(b, 0);
	vm_phys_free_pages(big, 9);
	ck_assert_uint_eq(vm_phys_nfree, nfree);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	/* A contiguous request the queued blocks cannot meet carves until one can. */
	vm_page_t run = vm_phys_alloc_contig(3000, 0, ~0ull, ptoa(2048), 0);
	ck_assert_ptr_nonnull(run);
	ck_assert_uint_eq(VM_PAGE_TO_PHYS(run) & (ptoa(2048) - 1), 0);
	ck_assert_uint_gt(vm_phys_lazy_count(), 0);         /* but not all of RAM */
	vm_phys_free_contig(run, 3000);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	vm_phys_carve_all();
	ck_assert_uint_eq(vm_phys_lazy_count(), 0);
	ck_assert_uint_eq(vm_phys_nfree, nfree);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	/* All of the segment, maximally coalesced: every aligned 4 MiB inside it is one
	 * block. */
	vm_paddr_t blk = ptoa(1ul << VM_MAXORDER);
	ck_assert_uint_eq(vm_phys_free_blocks(VM_FREEPOOL_DEFAULT, VM_MAXORDER) +
	    vm_phys_free_blocks(VM_FREEPOOL_DIRECT, VM_MAXORDER),
	    (rounddown2(seg->ps_end, blk) - roundup2(seg->ps_start, blk)) / blk);
	vm_phys_unlock();
}
END_TEST

/* The address <-> page fast path (the largest segment) and the table walk behind it
 * agree on every segment, and both say NULL outside managed RAM. */
START_TEST(lookup_fast_and_slow_agree)
{
	struct vm_host_config cfg = { .ram_bytes = 96ull << 20, .ncpus = 1, .nsegs = 3,
	    .hole_bytes = 0x200000 };

	vm_host_boot(&cfg);
	ck_assert_ptr_nonnull(vm_phys_hint.ph_seg);
	for (int i = 0; i < vm_phys_nsegs; i++) {
		struct vm_phys_seg *seg = &vm_phys_segs[i];
		ck_assert_uint_le(seg->ps_npages, vm_phys_hint.ph_seg->ps_npages);
		for (uint64_t k = 0; k < seg->ps_npages; k += 997) {
			vm_paddr_t pa = seg->ps_start + ptoa(k);
			vm_page_t m = PHYS_TO_VM_PAGE(pa + 5);
			ck_assert_ptr_eq(m, &seg->ps_pages[k]);
			ck_assert_ptr_eq(vm_phys_to_page_slow(pa), m);
			ck_assert_uint_eq(VM_PAGE_TO_PHYS(m), pa);
			ck_assert_uint_eq(vm_page_to_phys_slow(m), pa);
			ck_assert_ptr_eq(vm_phys_page_to_seg(m), seg);
		}
		ck_assert_ptr_null(PHYS_TO_VM_PAGE(seg->ps_end));
		ck_assert_ptr_null(PHYS_TO_VM_PAGE(seg->ps_start - PAGE_SIZE));
		ck_assert_ptr_null(vm_phys_paddr_to_seg(seg->ps_ram_end));
	}
	ck_assert_ptr_null(PHYS_TO_VM_PAGE(0));
	ck_assert_ptr_null(PHYS_TO_VM_PAGE(~0ull & ~PAGE_MASK));
	struct vm_page fake;
	vm_page_initfake(&fake, 0xfee00000);
	ck_assert_uint_eq(VM_PAGE_TO_PHYS(&fake), 0xfee00000);
	ck_assert_ptr_null(vm_phys_page_to_seg(&fake));
}
END_TEST

/* A cache refill's block: 2^order consecutive pages, none marked with a pool (the
 * cache marks them as it hands them out), the free count down by as many, nothing else
 * changed; NULL and nothing changed without one. */
START_TEST(alloc_block_takes_one_block)
{
	vm_page_t ma[32];

	vm_page_drain_caches();
	vm_phys_lock();
	vm_phys_carve_all();
	uint64_t n = vm_phys_nfree;
	vm_page_t b = vm_phys_alloc_block(VM_FREEPOOL_DEFAULT, 5);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(vm_phys_nfree, n - 32);
	for (int i = 0; i < 32; i++) {
		ma[i] = b + i;
		ck_assert_int_eq(ma[i]->pool, 0);
		ck_assert_int_eq(ma[i]->order, 0);
		ma[i]->pool = VM_FREEPOOL_DEFAULT;
	}
	ck_assert_uint_eq(VM_PAGE_TO_PHYS(ma[0]) % (32 * PAGE_SIZE), 0);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	for (int i = 0; i < 32; i++)
		vm_phys_free_pages(ma[i], 0);
	ck_assert_uint_eq(vm_phys_nfree, n);
	/* Nothing that large left: every page taken. */
	vm_page_t *all = malloc(n * sizeof(*all));
	ck_assert_ptr_nonnull(all);
	ck_assert_int_eq(vm_phys_alloc_npages(VM_FREEPOOL_DEFAULT, (int)n, all), (int)n);
	ck_assert_ptr_null(vm_phys_alloc_block(VM_FREEPOOL_DEFAULT, 2));
	ck_assert_uint_eq(vm_phys_nfree, 0);
	for (uint64_t i = 0; i < n; i++)
		vm_phys_free_pages(all[i], 0);
	ck_assert_uint_eq(vm_phys_nfree, n);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	vm_phys_unlock();
	free(all);
}
END_TEST

START_TEST(exhaust_all_pages_once)
{
	vm_page_drain_caches();
	vm_phys_lock();
	uint64_t n = vm_phys_nfree;
	vm_page_t *all = malloc(n * sizeof(*all));
	ck_assert_ptr_nonnull(all);
	ck_assert_int_eq(vm_phys_alloc_npages(VM_FREEPOOL_DIRECT, (int)n, all), (int)n);
	ck_assert_uint_eq(vm_phys_nfree, 0);
	ck_assert_ptr_null(vm_phys_alloc_pages(VM_FREEPOOL_DEFAULT, 0));
	ck_assert_ptr_null(vm_phys_alloc_contig(1, 0, ~0ull, PAGE_SIZE, 0));
	/* Free in a scrambled order: everything must coalesce back. */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t j = (i * 7919) % n;
		if (i != j && (i * 7919) % n != i) {
			vm_page_t t = all[i];
			all[i] = all[j];
			all[j] = t;
		}
	}
	for (uint64_t i = 0; i < n; i++)
		vm_phys_free_pages(all[i], 0);
	ck_assert_uint_eq(vm_phys_nfree, n);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	vm_phys_unlock();
	free(all);
}
END_TEST

/* Capture what boot prints on stdout. */
static char *tphys_boot_captured(const struct vm_host_config *cfg)
{
	static char buf[8192];
	char path[] = "/tmp/vmm-tphys-XXXXXX";
	int fd = mkstemp(path), saved;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	vm_host_boot(cfg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* vm.blacklist's parser: what it takes, each way an element is refused (with where),
 * and that a refused list leaves the blacklist as it was. */
START_TEST(blacklist_parse)
{
	static const struct {
		const char *list;
		enum vm_phys_bl_error want;
		size_t bad;             /* offset of the element refused */
	} refused[] = {
		{ "", VM_PHYS_BL_EMPTY, 0 },
		{ ",0x1000", VM_PHYS_BL_EMPTY, 0 },
		{ "0x1000,,0x2000", VM_PHYS_BL_EMPTY, 7 },
		{ "0x1000,", VM_PHYS_BL_EMPTY, 7 },
		{ "garbage", VM_PHYS_BL_SYNTAX, 0 },
		{ "0x1000,garbage", VM_PHYS_BL_SYNTAX, 7 },
		{ "0x", VM_PHYS_BL_SYNTAX, 0 },
		{ "0x1000g", VM_PHYS_BL_SYNTAX, 0 },
		{ "-4096", VM_PHYS_BL_SYNTAX, 0 },
		{ "4096x", VM_PHYS_BL_SYNTAX, 0 },
		{ "0x1000 0x2000", VM_PHYS_BL_SYNTAX, 0 },
		{ "0x10000000000000000", VM_PHYS_BL_RANGE, 0 },        /* 2^64: wrapped to 0 */
		{ "0x1000,0x10000000000001000", VM_PHYS_BL_RANGE, 7 },
		{ "18446744073709551616", VM_PHYS_BL_RANGE, 0 },
		{ "0x10000000000000000g", VM_PHYS_BL_SYNTAX, 0 },
	};
	const char *bad;

	ck_assert_int_eq(vm_phys_blacklist_count(), 0);
	ck_assert_int_eq(vm_phys_set_blacklist("0x5000", &bad), VM_PHYS_BL_OK);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		bad = NULL;
		ck_assert_msg(vm_phys_set_blacklist(refused[i].list, &bad) == refused[i].want,
		    "'%s' not refused as %d", refused[i].list, refused[i].want);
		ck_assert_msg(bad == refused[i].list + refused[i].bad, "'%s': bad at %td",
		    refused[i].list, bad - refused[i].list);
		/* Nothing of a refused list stays, what was there before does. */
		ck_assert_int_eq(vm_phys_blacklist_count(), 1);
		ck_assert_uint_eq(vm_phys_blacklist_page(0), 0x5000);
	}

	/* Accepted: hex and decimal, the page holding each, duplicates once, sorted. */
	ck_assert_int_eq(vm_phys_set_blacklist("0x1234567,8192,0X2fff,0xffffffffffffffff,"
	    "18446744073709551615", &bad), VM_PHYS_BL_OK);
	ck_assert_int_eq(vm_phys_blacklist_count(), 4);
	ck_assert_uint_eq(vm_phys_blacklist_page(0), 0x2000);
	ck_assert_uint_eq(vm_phys_blacklist_page(1), 0x5000);
	ck_assert_uint_eq(vm_phys_blacklist_page(2), 0x1234000);
	ck_assert_uint_eq(vm_phys_blacklist_page(3), 0xfffffffffffff000ull);

	/* The table holds VM_PHYS_BLACKLIST_MAX pages: one more refuses the whole list. */
	char list[VM_PHYS_BLACKLIST_MAX * 12];
	size_t n = 0;
	for (int i = 0; i < VM_PHYS_BLACKLIST_MAX - 4; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%#x", i ? "," : "",
		    0x100000 + i * 0x1000);
	snprintf(list + n, sizeof(list) - n, ",0x900000");
	ck_assert_int_eq(vm_phys_set_blacklist(list, &bad), VM_PHYS_BL_FULL);
	ck_assert_str_eq(bad, "0x900000");
	ck_assert_int_eq(vm_phys_blacklist_count(), 4);
	list[n] = '\0';
	ck_assert_int_eq(vm_phys_set_blacklist(list, &bad), VM_PHYS_BL_OK);
	ck_assert_int_eq(vm_phys_blacklist_count(), VM_PHYS_BLACKLIST_MAX);
	/* A full table still takes pages it has (duplicates), and refuses a new one. */
	ck_assert_int_eq(vm_phys_set_blacklist("0x5000,0x2000", &bad), VM_PHYS_BL_OK);
	ck_assert_int_eq(vm_phys_set_blacklist("0x5000,0x7000", &bad), VM_PHYS_BL_FULL);
	ck_assert_str_eq(bad, "0x7000");
	ck_assert_int_eq(vm_phys_blacklist_count(), VM_PHYS_BLACKLIST_MAX);
}
END_TEST

START_TEST(blacklist_never_handed_out)
{
	struct vm_host_config cfg = { .ram_bytes = 16ull << 20, .ncpus = 1,
	    .blacklist = "0x200000,0x345678,0x2000000,0x3ff000,0x200000" };
	char *out = tphys_boot_captured(&cfg);

	ck_assert_msg(strstr(out, "blacklisted page 0x200000 never allocated") != NULL, "%s",
	    out);
	ck_assert_msg(strstr(out, "blacklisted page 0x345000 never allocated") != NULL, "%s",
	    out);
	ck_assert_msg(strstr(out, "blacklisted page 0x3ff000 never allocated") != NULL, "%s",
	    out);
	ck_assert_msg(strstr(out, "0x2000000 is not managed RAM") != NULL, "%s", out);
	ck_assert_int_eq(vm_phys_blacklist_count(), 4);     /* the duplicate went */
	ck_assert(vm_phys_blacklisted(0x345fff));

	struct vm_page_counts c;
	vm_page_counts_snapshot(&c);
	vm_page_drain_caches();
	vm_phys_lock();
	ck_assert_uint_eq(vm_phys_verify(), 0);
	uint64_t n = vm_phys_nfree, got = 0;
	vm_page_t m;
	vm_page_t *all = malloc(n * sizeof(*all));
	while ((m = vm_phys_alloc_pages(VM_FREEPOOL_DEFAULT, 0)) != NULL) {
		vm_paddr_t pa = VM_PAGE_TO_PHYS(m);
		ck_assert_msg(!vm_phys_blacklisted(pa), "bad page %#llx handed out",
		    (unsigned long long)pa);
		all[got++] = m;
	}
	ck_assert_uint_eq(got, n);
	/* Contiguous runs cannot include a bad page either. */
	for (uint64_t i = 0; i < got; i++)
		vm_phys_free_pages(all[i], 0);
	m = vm_phys_alloc_contig(8, 0x1fc000, 0x204000, PAGE_SIZE, 0);
	ck_assert_ptr_null(m);      /* every 8-page run there holds 0x200000 */
	m = vm_phys_alloc_contig(4, 0x1fc000, 0x204000, PAGE_SIZE, 0);
	ck_assert_ptr_nonnull(m);
	ck_assert(VM_PAGE_TO_PHYS(m) + ptoa(4) <= 0x200000 || VM_PAGE_TO_PHYS(m) > 0x200000);
	vm_phys_free_contig(m, 4);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	vm_phys_unlock();
	free(all);
	/* Managed pages = free at boot (minus what UMA took) + the 3 bad ones. */
	ck_assert_uint_eq(c.v_blacklist_count, 4);
	ck_assert_uint_le(c.v_free_count + 3, c.v_page_count);
}
END_TEST

/*
 * vm_phys_alloc_run where no block is as large as asked: every page taken, then only
 * pages at even indices given back (no two buddies free: all blocks order 0), then one
 * aligned group of 4 and one of 16 made whole. The runs come largest first, each
 * smaller than maxorder, from whichever pool holds it, set to the pool asked for; NULL
 * once nothing is free.
 */
/* Each segment's page array is the least number of its own pages that holds the
 * vm_pages of the rest (boot computes it in closed form, no search). */
START_TEST(page_array_is_smallest_that_fits)
{
	static const uint64_t mib[] = { 1, 3, 16, 17, 64, 65, 1000 };

	for (size_t k = 0; k < sizeof(mib) / sizeof(mib[0]); k++) {
		struct vm_host_config cfg = { .ram_bytes = mib[k] << 20, .ncpus = 1,
		    .nsegs = 1 };
		vm_host_boot(&cfg);
		struct vm_phys_seg *seg = &vm_phys_segs[0];
		uint64_t n = atop(seg->ps_ram_end - seg->ps_start);
		uint64_t a = n - seg->ps_npages, sz = sizeof(struct vm_page);
		ck_assert_uint_ge(ptoa(a), seg->ps_npages * sz);         /* fits */
		ck_assert_uint_lt(ptoa(a - 1), (seg->ps_npages + 1) * sz); /* least */
		ck_assert_uint_eq(seg->ps_end + ptoa(a), seg->ps_ram_end);
		vm_phys_lock();
		ck_assert_uint_eq(vm_phys_verify(), 0);
		vm_phys_unlock();
	}
}
END_TEST

START_TEST(alloc_run_takes_largest_smaller_block)
{
	struct vm_host_config cfg = { .ram_bytes = 8ull << 20, .ncpus = 1 };

	vm_host_boot(&cfg);
	vm_page_drain_caches();
	vm_phys_lock();
	uint64_t n = vm_phys_nfree;
	vm_page_t *all = malloc(n * sizeof(*all));
	ck_assert_ptr_nonnull(all);
	ck_assert_int_eq(vm_phys_alloc_npages(VM_FREEPOOL_DEFAULT, (int)n, all), (int)n);
	ck_assert_ptr_null(vm_phys_alloc_run(VM_FREEPOOL_DIRECT, 5, &(int){ 0 }, NULL));
	/* The pages in address order: index i is page i of the segment. */
	struct vm_phys_seg *seg = &vm_phys_segs[0];
	ck_assert_uint_eq(seg->ps_npages, n);
	for (uint64_t i = 0; i < n; i += 2) {
		vm_page_t m = &seg->ps_pages[i];
		m->pool = (uint8_t)(i % 4 == 0 ? VM_FREEPOOL_DEFAULT : VM_FREEPOOL_DIRECT);
		vm_phys_free_pages(m, 0);
	}
	/* Pages 64..67 and 128..143 whole: blocks of order 2 and 4. */
	for (uint64_t i = 65; i < 68; i += 2)
		vm_phys_free_pages(&seg->ps_pages[i], 0);
	for (uint64_t i = 129; i < 144; i += 2)
		vm_phys_free_pages(&seg->ps_pages[i], 0);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	uint64_t nfree = vm_phys_nfree, got = 0;
	int order, last = 5;
	vm_page_t m;
	while ((m = vm_phys_alloc_run(VM_FREEPOOL_DIRECT, 5, &order, NULL)) != NULL) {
		uint64_t idx = (uint64_t)(m - seg->ps_pages);
		ck_assert_int_le(order, last);          /* largest first */
		if (got == 0) {
			ck_assert_int_eq(order, 4);
			ck_assert_uint_eq(idx, 128);
		} else if (got == 16) {
			ck_assert_int_eq(order, 2);
			ck_assert_uint_eq(idx, 64);
		} else {
			ck_assert_int_eq(order, 0);
			ck_assert_uint_eq(idx % 2, 0);
		}
		ck_assert_uint_eq(idx & ((1ull << order) - 1), 0);
		ck_assert_uint_eq(m->pool, VM_FREEPOOL_DIRECT);
		ck_assert_uint_eq(m->order, 0);
		last = order;
		got += 1ull << order;
		ck_assert_uint_eq(vm_phys_nfree, nfree - got);
	}
	ck_assert_uint_eq(got, nfree);
	ck_assert_uint_eq(vm_phys_nfree, 0);
	/* Everything back as one run, to the direct pool: allocated pages as a free
	 * leaves them (the run heads carry the pool they were taken for). */
	for (uint64_t i = 0; i < n; i++)
		seg->ps_pages[i].pool = 0;
	vm_phys_free_run(seg->ps_pages, n, VM_FREEPOOL_DIRECT);
	ck_assert_uint_eq(vm_phys_nfree, n);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	ck_assert_uint_eq(vm_phys_free_blocks(VM_FREEPOOL_DEFAULT, VM_MAXORDER), 0);
	vm_phys_unlock();
	free(all);
}
END_TEST

/*
 * Fragment memory at random, then ask for runs with random constraints and compare with
 * a brute-force search over the free-page bitmap: the allocator must succeed exactly
 * when a valid placement exists, and what it returns must be valid.
 */
START_TEST(contig_matches_brute_force)
{
	struct vm_host_config cfg = { .ram_bytes = 8ull << 20, .ncpus = 1 };
	uint64_t seed = 42;

	vm_host_boot(&cfg);
	vm_page_drain_caches();
	vm_phys_lock();
	struct vm_phys_seg *seg = &vm_phys_segs[0];
	uint64_t n = seg->ps_npages;
	vm_page_t *all = malloc(n * sizeof(*all));
	uint8_t *isfree = calloc(n, 1);
	uint64_t got = (uint64_t)vm_phys_alloc_npages(VM_FREEPOOL_DEFAULT,
	    (int)vm_phys_nfree, all);
	/* Free runs of random lengths at random places. */
	uint8_t *keep = calloc(n, 1);
	for (uint64_t i = 0; i < n;) {
		uint64_t len = 1 + tphys_rand(&seed) % 40;
		bool fr = tphys_rand(&seed) % 3 != 0;
		for (uint64_t j = i; j < i + len && j < n; j++)
			keep[j] = !fr;
		i += len;
	}
	for (uint64_t i = 0; i < got; i++) {
		uint64_t idx = atop(VM_PAGE_TO_PHYS(all[i]) - seg->ps_start);
		if (!keep[idx]) {
			vm_phys_free_pages(all[i], 0);
			isfree[idx] = 1;
		}
	}
	for (int t = 0; t < 3000; t++) {
		unsigned long np = 1 + tphys_rand(&seed) % 48;
		unsigned long align = PAGE_SIZE << (tphys_rand(&seed) % 6);
		vm_paddr_t boundary = tphys_rand(&seed) % 3 == 0 ? 0 :
		    (PAGE_SIZE << (6 + tphys_rand(&seed) % 4));
		vm_paddr_t low = seg->ps_start + ptoa(tphys_rand(&seed) % n);
		vm_paddr_t high = low + ptoa(tphys_rand(&seed) % (n / 2) + 1);
		bool exists = false;
		for (vm_paddr_t s = roundup2(low, align); !exists && s + ptoa(np) <= high &&
		    s + ptoa(np) <= seg->ps_end; s += align) {
			if (boundary != 0 && (s & ~(boundary - 1)) !=
			    ((s + ptoa(np) - 1) & ~(boundary - 1)))
				continue;
			bool ok = true;
			for (unsigned long k = 0; ok && k < np; k++)
				ok = isfree[atop(s - seg->ps_start) + k];
			exists = ok;
		}
		vm_page_t m = vm_phys_alloc_contig(np, low, high, align, boundary);
		ck_assert_msg((m != NULL) == exists,
		    "case %d: %lu pages in [%#llx,%#llx) align %#lx boundary %#llx: got %p, "
		    "brute force says %d", t, np, (unsigned long long)low,
		    (unsigned long long)high, align, (unsigned long long)boundary, (void *)m,
		    exists);
		if (m == NULL)
			continue;
		vm_paddr_t pa = VM_PAGE_TO_PHYS(m);
		ck_assert(pa >= low && pa + ptoa(np) <= high && (pa & (align - 1)) == 0);
		ck_assert(boundary == 0 || (pa & ~(boundary - 1)) ==
		    ((pa + ptoa(np) - 1) & ~(boundary - 1)));
		for (unsigned long k = 0; k < np; k++)
			ck_assert(isfree[atop(pa - seg->ps_start) + k]);
		/* The search looks at free blocks, not at RAM. */
		ck_assert_uint_le(vm_phys_contig_inspected, 16 * (n / 2));
		vm_phys_free_contig(m, np);
		if (t % 500 == 0)
			ck_assert_uint_eq(vm_phys_verify(), 0);
	}
	ck_assert_uint_eq(vm_phys_verify(), 0);
	vm_phys_unlock();
	free(all);
	free(isfree);
	free(keep);
}
END_TEST

/* Boot writes only block heads: most of a 1 GiB machine's page array stays untouched
 * (not resident), which is what makes boot cost grow with segments, not pages. */
START_TEST(boot_leaves_page_array_untouched)
{
	struct vm_host_config cfg = { .ram_bytes = 1ull << 30, .ncpus = 1 };

	vm_host_boot(&cfg);
	struct vm_phys_seg *seg = &vm_phys_segs[0];
	uint8_t *arr = (uint8_t *)seg->ps_pages;
	size_t len = round_page(seg->ps_npages * sizeof(struct vm_page));
	size_t npg = len / PAGE_SIZE, resident = 0;
	unsigned char *vec = malloc(npg);
	ck_assert_int_eq(mincore(arr, len, vec), 0);
	for (size_t i = 0; i < npg; i++)
		resident += vec[i] & 1;
	free(vec);
	ck_assert_msg(resident * 8 < npg, "%zu of %zu page-array pages touched at boot",
	    resident, npg);
	ck_assert_uint_eq(atop(seg->ps_ram_end - seg->ps_start) - seg->ps_npages, npg);
}
END_TEST

/*
 * The sampled check (what the guest's VMTESTs use) agrees with the full one on a sound
 * machine, with lazy tails and bad pages in them, and still finds what it always
 * checks: a wrong head, a dirty last page of a block, a wrong lazy count. A sample as
 * large as free memory is the full check.
 */
START_TEST(verify_sample_finds_what_it_checks)
{
	struct vm_host_config cfg = { .ram_bytes = 64ull << 20, .ncpus = 1,
	    .blacklist = "0x2000000,0x3001000" };

	vm_host_boot(&cfg);
	vm_phys_lock();
	ck_assert_uint_eq(vm_phys_verify(), 0);
	ck_assert_uint_eq(vm_phys_verify_sample(16), 0);     /* all lazy: no walk */
	vm_page_t m = vm_phys_alloc_pages(VM_FREEPOOL_DEFAULT, 0);
	ck_assert_ptr_nonnull(m);
	vm_phys_carve_all();
	ck_assert_uint_gt(vm_phys_nfree, 4096);
	ck_assert_uint_eq(vm_phys_verify_sample(16), 0);
	ck_assert_uint_eq(vm_phys_verify_sample(UINT64_MAX), 0);

	/* A block's last page dirty: sampled or not, it is checked. */
	vm_page_t big = NULL;
	for (int o = VM_NFREEORDER - 1; o > 0 && big == NULL; o--)
		if (vm_phys_free_blocks(VM_FREEPOOL_DEFAULT, o) > 0) {
			big = vm_phys_alloc_pages(VM_FREEPOOL_DEFAULT, o);
			ck_assert_ptr_nonnull(big);
			vm_phys_free_pages(big, o);     /* back at a list head, same block */
			big[(1 << o) - 1].ref_count = 7;
			ck_assert_uint_gt(vm_phys_verify_sample(16), 0);
			ck_assert_uint_gt(vm_phys_verify(), 0);
			big[(1 << o) - 1].ref_count = 0;
			/* A page in the middle: the full-size sample finds it. */
			big[(1 << o) / 2 + 1].ref_count = 7;
			ck_assert_uint_gt(vm_phys_verify_sample(UINT64_MAX), 0);
			big[(1 << o) / 2 + 1].ref_count = 0;
			/* A head that says the wrong order. */
			big->order++;
			ck_assert_uint_gt(vm_phys_verify_sample(16), 0);
			big->order--;
		}
	ck_assert_ptr_nonnull(big);
	/* Counts: one page fewer free than the lists hold. */
	vm_phys_nfree--;
	ck_assert_uint_gt(vm_phys_verify_sample(16), 0);
	vm_phys_nfree++;
	ck_assert_uint_eq(vm_phys_verify_sample(16), 0);
	vm_phys_free_pages(m, 0);
	ck_assert_uint_eq(vm_phys_verify(), 0);
	vm_phys_unlock();
}
END_TEST

static Suite *vm_phys_suite(void)
{
	Suite *s = suite_create("vm_phys");
	TCase *tc = tcase_create("host");

	tcase_add_checked_fixture(tc, vm_host_boot_default, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, model_one_segment);
	tcase_add_test(tc, model_three_segments_with_holes);
	tcase_add_test(tc, model_with_blacklist);
	tcase_add_test(tc, lazy_tail_carved_on_demand);
	tcase_add_test(tc, lookup_fast_and_slow_agree);
	tcase_add_test(tc, exhaust_all_pages_once);
	tcase_add_test(tc, alloc_block_takes_one_block);
	tcase_add_test(tc, alloc_run_takes_largest_smaller_block);
	tcase_add_test(tc, page_array_is_smallest_that_fits);
	tcase_add_test(tc, blacklist_parse);
	tcase_add_test(tc, blacklist_never_handed_out);
	tcase_add_test(tc, contig_matches_brute_force);
	tcase_add_test(tc, boot_leaves_page_array_untouched);
	tcase_add_test(tc, verify_sample_finds_what_it_checks);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vm_phys_suite);
