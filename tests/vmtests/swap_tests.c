/*
 * Suite "swap": the swap pager end to end (`vmm run --ktest=swap`; on the host under
 * Check as vm.swap), over the memory swap device of tests/support/swap_memdev.h.
 *
 * There is no page daemon in these tests (vm_pageout is another module's): they launder
 * and evict pages themselves, the way the contract in vm/vm_pager.h says the laundry
 * and the daemon will (swt_evict in tests/vmtests/swap_util.h: xbusy,
 * pmap_remove_write, putpages through vm_pager_anon, then the clean pages' mappings
 * removed and the pages freed). Accesses are simulated as a CPU makes them
 * (swap_util.h too).
 *
 * Every case ends with its address space freed, no swap block in use, a swapoff that
 * detaches the device, and the free page count and the object count back where they
 * started.
 */
#include "tests/vmtests/swap_util.h"

/* ---- cases ------------------------------------------------------------------------- */

/*
 * 40 pages out and back: written in runs of the device's 16 pages (3 requests, blocks
 * contiguous on a fresh device), each block holding its page's bytes; read back by 3
 * faults, each bringing a run of 16 (read-around) and mapping it; the pages come in
 * clean and keep their blocks. arg: 0 synchronous writes, 1 asynchronous ones that end
 * later (the device's queue), 2 asynchronous ones the device ends at once.
 */
static const char *swt_roundtrip(struct swt *t, int arg)
{
	const int n = 40;
	struct swap_pager_stats s0, s1;
	struct swap_memdev_stats d0, d1;
	vm_pindex_t pi;
	int putn;

	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0x11), "the first writes");
	struct vm_object *obj = swt_object(t->vm, SWT_VA, &pi);
	swap_pager_stats(&s0);
	swap_memdev_stats(t->md, &d0);
	if (arg == 1)
		swt_mode(t, SMD_DEFER);
	int freed = swt_evict(t, obj, pi, pi + n, arg == 0 ? VM_PAGER_PUT_SYNC : 0, &putn, NULL);
	swt_mode(t, SMD_SYNC);
	SWT_CHECK(putn == n && freed == n, "not every page was written and freed");
	SWT_CHECK(obj->vo_resident_page_count == 0, "a page is still resident");
	SWT_CHECK(pmap_resident_count(vmspace_pmap(t->vm)) == 0, "a page is still mapped");
	swap_pager_stats(&s1);
	swap_memdev_stats(t->md, &d1);
	SWT_CHECK(s1.sps_used - s0.sps_used == (uint64_t)n, "blocks in use");
	SWT_CHECK(s1.sps_pageouts - s0.sps_pageouts == (uint64_t)n, "page-outs counted");
	SWT_CHECK(s1.sps_inflight == 0, "a request is still under way");
	SWT_CHECK(d1.smd_writes - d0.smd_writes == 3 && d1.smd_max_npages == 16,
	    "40 pages are not 3 requests of at most 16");
	SWT_CHECK(obj->vo_swap.sm_count == (uint64_t)n, "the metadata's count");
	for (int i = 0; i < n; i++) {
		uint64_t blk = swt_block(obj, pi + (vm_pindex_t)i);
		SWT_CHECK(blk != SWAPBLK_NONE && (i == 0 ||
		    blk == swt_block(obj, pi + (vm_pindex_t)i - 1) + 1),
		    "blocks not contiguous on a fresh device");
		SWT_CHECK(swt_words_are(swap_memdev_block(t->md, blk), 0x11, SWT_VA + ptoa(i)),
		    "a block does not hold its page's bytes");
	}
	uint64_t f0 = t->faults;
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0x11), "a page came back wrong");
	swap_pager_stats(&s1);
	swap_memdev_stats(t->md, &d1);
	SWT_CHECK(s1.sps_pageins - s0.sps_pageins == (uint64_t)n, "page-ins counted");
	/* The first fault is not in order (read-around waits for one that is): its page
	 * alone; then the faults go in order, each reading the most a request carries. */
	SWT_CHECK(t->faults - f0 == 4 && d1.smd_reads - d0.smd_reads == 4,
	    "not 4 faults and 4 reads of 1, 16, 16 and 7 pages");
	SWT_CHECK(d1.smd_bad_reads == 0, "a block never written was read");
	SWT_CHECK(s1.sps_used - s0.sps_used == (uint64_t)n, "pages read in lost their blocks");
	vm_object_lock(obj);
	for (vm_page_t m = vm_page_find_least(obj, 0); m != NULL; m = vm_page_next(m))
		if (m->dirty != 0 || vm_page_busied(m)) {
			vm_object_unlock(obj);
			return "a page read in is dirty or busy";
		}
	vm_object_unlock(obj);
	/* Clean, so out again without a write. */
	SWT_CHECK(swt_evict(t, obj, pi, pi + n, VM_PAGER_PUT_SYNC, &putn, NULL) == n &&
	    putn == 0, "clean pages were written again");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0x11), "a page came back wrong the second time");
	return NULL;
}

VMTEST(swap, roundtrip_sync) { SWT_RUN(swt_roundtrip, 0, 256, 16); }
VMTEST(swap, roundtrip_async_deferred) { SWT_RUN(swt_roundtrip, 1, 256, 16); }
VMTEST(swap, roundtrip_async_inline) { SWT_RUN(swt_roundtrip, 2, 256, 16); }

/*
 * Read-around: under MADV_SEQUENTIAL a fault on one page of 8 on swap reads all 8 in
 * one request and maps them; under MADV_RANDOM one page a fault; with no advice a fault
 * out of order reads its page alone, and the next one in order reads around it, the run
 * stopping at a resident page.
 */
static const char *swt_readaround(struct swt *t, int arg)
{
	const int n = 8;
	struct swap_memdev_stats d0, d1;
	struct vm_fault_stats f0, f1;
	vm_pindex_t pi;

	(void)arg;
	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0x22), "the first writes");
	struct vm_object *obj = swt_object(t->vm, SWT_VA, &pi);
	SWT_CHECK(swt_evict(t, obj, pi, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == n, "evict");

	SWT_CHECK(vm_madvise(vmspace_map(t->vm), SWT_VA, ptoa(n), LINUX_MADV_SEQUENTIAL) == 0,
	    "MADV_SEQUENTIAL");
	swap_memdev_stats(t->md, &d0);
	vm_fault_stats(&f0);
	SWT_CHECK(swt_is(t, t->vm, SWT_VA + ptoa(5), 1, 0x22), "page 5");
	swap_memdev_stats(t->md, &d1);
	vm_fault_stats(&f1);
	SWT_CHECK(d1.smd_reads - d0.smd_reads == 1 &&
	    d1.smd_pages_read - d0.smd_pages_read == (uint64_t)n, "not one read of 8 pages");
	SWT_CHECK(obj->vo_resident_page_count == (uint64_t)n, "the neighbours are not resident");
	SWT_CHECK(f1.vfs_pager - f0.vfs_pager == 1, "not one pager call");
	SWT_CHECK(f1.vfs_major - f0.vfs_major == 1, "not one major fault");
	for (int i = 0; i < n; i++) {
		uint64_t *pte = swt_ptep(t->vm, SWT_VA + ptoa(i));
		SWT_CHECK(pte != NULL && (*pte & PG_V) != 0, "a neighbour is not mapped");
		SWT_CHECK(i == 5 || (*pte & PG_M) == 0, "a neighbour is mapped dirty");
	}
	uint64_t faults = t->faults;
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0x22), "the neighbours' bytes");
	SWT_CHECK(t->faults == faults, "reading the neighbours faulted");

	/* Out again (clean: no write), then one page a fault under MADV_RANDOM. */
	SWT_CHECK(swt_evict(t, obj, pi, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == n, "evict 2");
	SWT_CHECK(vm_madvise(vmspace_map(t->vm), SWT_VA, ptoa(n), LINUX_MADV_RANDOM) == 0,
	    "MADV_RANDOM");
	swap_memdev_stats(t->md, &d0);
	SWT_CHECK(swt_is(t, t->vm, SWT_VA + ptoa(3), 1, 0x22), "page 3");
	swap_memdev_stats(t->md, &d1);
	SWT_CHECK(obj->vo_resident_page_count == 1 &&
	    d1.smd_pages_read - d0.smd_pages_read == 1, "MADV_RANDOM read more than the page");
	/* Back to normal: page 5 (out of order) alone; page 6, in order, with page 7
	 * (the run ends with the entry), not with page 5 (resident) nor below it. */
	SWT_CHECK(vm_madvise(vmspace_map(t->vm), SWT_VA, ptoa(n), LINUX_MADV_NORMAL) == 0,
	    "MADV_NORMAL");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA + ptoa(5), 1, 0x22), "page 5");
	swap_memdev_stats(t->md, &d0);
	SWT_CHECK(d0.smd_reads - d1.smd_reads == 1 && d0.smd_pages_read - d1.smd_pages_read == 1,
	    "a fault out of order read more than its page");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA + ptoa(6), 1, 0x22), "page 6");
	swap_memdev_stats(t->md, &d1);
	SWT_CHECK(d1.smd_reads - d0.smd_reads == 1 && d1.smd_pages_read - d0.smd_pages_read == 2,
	    "the fault in order at page 6 did not read pages 6 and 7");
	SWT_CHECK(obj->vo_resident_page_count == 4, "resident pages after the run");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0x22), "every page");
	return NULL;
}

VMTEST(swap, readaround) { SWT_RUN(swt_readaround, 0, 64, 16); }

/*
 * A page's block: kept while the page is clean (out again without a write), freed
 * when a write fault dirties the page, freed and replaced when a page that was written
 * silently (through a clean writable mapping) is paged out again.
 */
static const char *swt_rewrite(struct swt *t, int arg)
{
	struct swap_pager_stats s;
	struct swap_memdev_stats d0, d1;
	vm_pindex_t pi;
	int putn;

	(void)arg;
	SWT_CHECK(swt_mmap(t->vm, SWT_VA, 1) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, 1, 0x33), "the first write");
	struct vm_object *obj = swt_object(t->vm, SWT_VA, &pi);
	SWT_CHECK(swt_evict(t, obj, pi, pi + 1, VM_PAGER_PUT_SYNC, NULL, NULL) == 1, "evict");
	uint64_t b1 = swt_block(obj, pi);
	SWT_CHECK(b1 != SWAPBLK_NONE, "no block");

	/* Read in: clean, block kept; out again: no write. */
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, 1, 0x33), "read in");
	SWT_CHECK(swt_block(obj, pi) == b1, "a read lost the block");
	swap_memdev_stats(t->md, &d0);
	SWT_CHECK(swt_evict(t, obj, pi, pi + 1, VM_PAGER_PUT_SYNC, &putn, NULL) == 1 &&
	    putn == 0, "a clean page was written");
	swap_memdev_stats(t->md, &d1);
	SWT_CHECK(d1.smd_writes == d0.smd_writes, "a clean page was written");

	/* A write fault: the page is dirty, its block stale and freed. */
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, 1, 0x34), "the write fault");
	swap_pager_stats(&s);
	SWT_CHECK(swt_block(obj, pi) == SWAPBLK_NONE && s.sps_used == 0,
	    "the write fault kept the block");
	SWT_CHECK(swt_evict(t, obj, pi, pi + 1, VM_PAGER_PUT_SYNC, &putn, NULL) == 1 &&
	    putn == 1, "the dirty page was not written");
	uint64_t b2 = swt_block(obj, pi);
	SWT_CHECK(b2 != SWAPBLK_NONE, "no new block");

	/* In by a read (mapped writable and clean), written by the CPU without a fault:
	 * the block stays until the page goes out again, which replaces it. */
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, 1, 0x34), "read in 2");
	uint64_t *pte = swt_ptep(t->vm, SWT_VA);
	SWT_CHECK(pte != NULL && (*pte & (PG_RW | PG_M)) == PG_RW,
	    "a page read in is not mapped writable and clean");
	uint64_t faults = t->faults;
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, 1, 0x35) && t->faults == faults,
	    "the silent write");
	SWT_CHECK(swt_block(obj, pi) == b2, "the block went before the page-out");
	SWT_CHECK(swt_evict(t, obj, pi, pi + 1, VM_PAGER_PUT_SYNC, &putn, NULL) == 1 &&
	    putn == 1, "the silently written page was not written");
	uint64_t b3 = swt_block(obj, pi);
	swap_pager_stats(&s);
	SWT_CHECK(b3 != SWAPBLK_NONE && s.sps_used == 1, "one block after the rewrite");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, 1, 0x35), "the last bytes");
	return NULL;
}

VMTEST(swap, rewrite_frees_old_block) { SWT_RUN(swt_rewrite, 0, 64, 16); }

/* An object's death frees every block; MADV_DONTNEED frees the range's (the range reads
 * zero after, the rest its bytes); munmap of part frees the part's. */
static const char *swt_death(struct swt *t, int arg)
{
	const int n = 50;
	struct swap_pager_stats s;

	(void)arg;
	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_mmap(t->vm, SWT_VA2, n) == (long)SWT_VA2, "mmap 2");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0x44) && swt_fill(t, t->vm, SWT_VA2, n, 0x45),
	    "the first writes");
	SWT_CHECK(swt_evict_va(t, t->vm, SWT_VA, n, VM_PAGER_PUT_SYNC, NULL) == n &&
	    swt_evict_va(t, t->vm, SWT_VA2, n, 0, NULL) == n, "evict");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_used == 2 * (uint64_t)n && s.sps_objects == 2, "100 blocks, 2 objects");

	/* DONTNEED over pages 10..19 of the first range. */
	SWT_CHECK(vm_madvise(vmspace_map(t->vm), SWT_VA + ptoa(10), ptoa(10),
	    LINUX_MADV_DONTNEED) == 0, "MADV_DONTNEED");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_used == 2 * (uint64_t)n - 10, "DONTNEED left blocks");
	for (int i = 10; i < 20; i++)
		SWT_CHECK(swt_zero(t, t->vm, SWT_VA + ptoa(i)), "a discarded page is not zero");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, 10, 0x44) &&
	    swt_is(t, t->vm, SWT_VA + ptoa(20), n - 20, 0x44), "the pages kept");

	/* The second range goes: its object dies with its 50 blocks. */
	SWT_CHECK(vm_munmap(vmspace_map(t->vm), SWT_VA2, ptoa(n)) == 0, "munmap");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_used == (uint64_t)n - 10 && s.sps_objects == 1,
	    "the dead object's blocks");
	return NULL;
}

VMTEST(swap, death_and_dontneed_free_blocks) { SWT_RUN(swt_death, 0, 256, 32); }

/*
 * Copy-on-write with pages on swap: the parent writes n pages and forks; the shared
 * object's pages go to swap; each side writes half (the copies come from swap), each
 * sees its own writes and the other's originals; everything goes to swap again and comes
 * back right; then one side exits (arg 0: the child, 1: the parent) and the survivor's
 * shadow collapses the shared object: the blocks of pages it hides are freed, the others
 * move into it (with arg 2 the shared object's pages are resident and clean at the
 * collapse, and their blocks move with them). The survivor reads its bytes after.
 */
static const char *swt_fork(struct swt *t, int arg)
{
	const int n = 8, h = n / 2;
	struct swap_pager_stats s;
	struct vmspace *p = t->vm, *ch;
	vm_pindex_t pi, cpi, ppi;

	SWT_CHECK(swt_mmap(p, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, p, SWT_VA, n, 0x10), "the parent's first writes");
	struct vm_object *o = swt_object(p, SWT_VA, &pi);
	SWT_CHECK((ch = vmspace_fork(p)) != NULL, "fork");
	SWT_CHECK(swt_evict(t, o, pi, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == n,
	    "the shared pages out");
	SWT_CHECK(swt_fill(t, ch, SWT_VA, h, 0x70), "the child's writes");
	SWT_CHECK(swt_fill(t, p, SWT_VA + ptoa(h), h, 0x40), "the parent's writes");
	SWT_CHECK(swt_is(t, ch, SWT_VA, h, 0x70) && swt_is(t, ch, SWT_VA + ptoa(h), h, 0x10),
	    "the child's view");
	SWT_CHECK(swt_is(t, p, SWT_VA, h, 0x10) && swt_is(t, p, SWT_VA + ptoa(h), h, 0x40),
	    "the parent's view");
	struct vm_object *fc = swt_object(ch, SWT_VA, &cpi), *fp = swt_object(p, SWT_VA, &ppi);
	SWT_CHECK(fc != o && fp != o && fc->vo_backing_object == o &&
	    fp->vo_backing_object == o, "each side has its shadow of the shared object");
	/* Everything out: the shadows' copies, and the shared pages (clean: no write). */
	SWT_CHECK(swt_evict(t, fc, cpi, cpi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == h &&
	    swt_evict(t, fp, ppi, ppi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == h &&
	    swt_evict(t, o, pi, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == n, "all out");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_used == (uint64_t)(n + 2 * h) && s.sps_objects == 3, "16 blocks");
	SWT_CHECK(swt_is(t, ch, SWT_VA, h, 0x70) && swt_is(t, ch, SWT_VA + ptoa(h), h, 0x10),
	    "the child's view from swap");
	SWT_CHECK(swt_is(t, p, SWT_VA, h, 0x10) && swt_is(t, p, SWT_VA + ptoa(h), h, 0x40),
	    "the parent's view from swap");
	/* The reads brought pages in; all out again but, with arg 2, the shared ones. */
	swt_evict(t, fc, cpi, cpi + n, VM_PAGER_PUT_SYNC, NULL, NULL);
	swt_evict(t, fp, ppi, ppi + n, VM_PAGER_PUT_SYNC, NULL, NULL);
	if (arg != 2)
		swt_evict(t, o, pi, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL);
	else
		pmap_remove(vmspace_pmap(p), SWT_VA, SWT_VA + ptoa(n));
	uint64_t o_blk[8];
	for (int i = 0; i < n; i++)
		o_blk[i] = swt_block(o, pi + (vm_pindex_t)i);

	uint64_t c0 = vm_object_collapses();
	struct vmspace *gone = arg == 1 ? p : ch, *keep = arg == 1 ? ch : p;
	struct vm_object *survivor = arg == 1 ? fc : fp;
	vm_pindex_t spi = arg == 1 ? cpi : ppi;
	uint8_t own = arg == 1 ? 0x70 : 0x40;
	int own_lo = arg == 1 ? 0 : h;          /* the pages the survivor wrote */
	vmspace_free(gone);
	if (arg == 1)
		t->vm = ch;
	SWT_CHECK(vm_object_collapses() == c0 + 1, "no collapse when a side went");
	SWT_CHECK(survivor->vo_backing_object == NULL, "the survivor still has a backing object");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_used == (uint64_t)n && s.sps_objects == 1,
	    "after the collapse: the survivor's 4 blocks and the 4 it took over");
	vm_object_lock(survivor);
	bool all = true;
	for (int i = 0; i < n; i++)
		all = all && vm_object_has_page(survivor, spi + (vm_pindex_t)i);
	vm_object_unlock(survivor);
	SWT_CHECK(all, "the survivor does not hold every page");
	/* The pages it did not write came from the shared object: their blocks too. */
	for (int i = 0; i < n; i++) {
		if (i >= own_lo && i < own_lo + h)
			continue;
		SWT_CHECK(swt_block(survivor, spi + (vm_pindex_t)i) == o_blk[i],
		    "a block of the shared object did not move with its page");
		if (arg == 2) {
			vm_object_lock(survivor);
			vm_page_t m = vm_page_lookup(survivor, spi + (vm_pindex_t)i);
			bool clean = m != NULL && m->dirty == 0;
			vm_object_unlock(survivor);
			SWT_CHECK(clean, "a resident page did not move clean");
		}
	}
	SWT_CHECK(swt_is(t, keep, SWT_VA + ptoa(own_lo), h, own), "the survivor's own bytes");
	SWT_CHECK(swt_is(t, keep, SWT_VA + ptoa(h - own_lo), h, 0x10),
	    "the survivor's bytes from before the fork");
	SWT_CHECK(swt_fill(t, keep, SWT_VA, n, 0x55) && swt_is(t, keep, SWT_VA, n, 0x55),
	    "the survivor's last writes");
	return NULL;
}

VMTEST(swap, fork_cow_collapse_child_exits) { SWT_RUN(swt_fork, 0, 64, 16); }
VMTEST(swap, fork_cow_collapse_parent_exits) { SWT_RUN(swt_fork, 1, 64, 16); }
VMTEST(swap, fork_cow_collapse_resident_clean) { SWT_RUN(swt_fork, 2, 64, 16); }

/*
 * Write errors: the page stays dirty and resident, back in the laundry queue, its block
 * counted bad and never handed out again (a full device then has no room for it: the
 * next page-out is VM_PAGER_AGAIN); a device that refuses a request: VM_PAGER_ERROR, the
 * page still the caller's, the blocks free again.
 */
static const char *swt_write_error(struct swt *t, int arg)
{
	const int n = 16;
	struct swap_pager_stats s0, s;
	int putn, rtv[SWT_MAXPG];
	vm_pindex_t pi;

	(void)arg;
	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0x66), "the first writes");
	struct vm_object *obj = swt_object(t->vm, SWT_VA, &pi);
	swap_pager_stats(&s0);

	swap_memdev_fail_every(t->md, 1, SMD_FAIL_WRITE);
	SWT_CHECK(swt_evict(t, obj, pi, pi + 4, VM_PAGER_PUT_SYNC, &putn, rtv) == 0 && putn == 4,
	    "pages whose write failed were freed");
	swap_memdev_fail_every(t->md, 0, 0);
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_bad == 4 && s.sps_used == 0 && s.sps_free == (uint64_t)n - 4 &&
	    s.sps_write_errors - s0.sps_write_errors == 4, "4 bad blocks, none in use");
	vm_object_lock(obj);
	for (int i = 0; i < 4; i++) {
		vm_page_t m = vm_page_lookup(obj, pi + (vm_pindex_t)i);
		bool ok = m != NULL && m->dirty != 0 && m->queue == PQ_LAUNDRY &&
		    !vm_page_busied(m) && swap_meta_lookup(&obj->vo_swap, m->pindex) ==
		    SWAPBLK_NONE && rtv[i] == VM_PAGER_OK;
		if (!ok) {
			vm_object_unlock(obj);
			return "a page whose write failed is not dirty, unbusied, in the laundry "
			    "queue, without a block";
		}
	}
	vm_object_unlock(obj);
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, 4, 0x66), "the pages whose write failed");

	/* The other 12 fill the device's 12 good blocks. */
	SWT_CHECK(swt_evict(t, obj, pi + 4, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == n - 4,
	    "the 12 others");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_used == (uint64_t)n - 4 && s.sps_free == 0 && s.sps_bad == 4, "full");
	/* No room for the first 4: the bad blocks are not handed out. */
	SWT_CHECK(swt_evict(t, obj, pi, pi + 4, VM_PAGER_PUT_SYNC, &putn, rtv) == 0 && putn == 4 &&
	    rtv[0] == VM_PAGER_AGAIN && rtv[3] == VM_PAGER_AGAIN, "no VM_PAGER_AGAIN when full");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_nospace > s0.sps_nospace && s.sps_bad == 4, "no space counted");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0x66), "every page after all that");

	/* Page 15, read in while the device was full, came back without its block and
	 * dirty (SWAP_PAGER_RESERVE_DIV): out again it is written. Back by a write fault
	 * it frees its block; a refused request gives it back. */
	SWT_CHECK(swt_evict(t, obj, pi + 15, pi + 16, VM_PAGER_PUT_SYNC, &putn, NULL) == 1 &&
	    putn == 1, "page 15 out with a write");
	uint64_t faults = t->faults;
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA + ptoa(15), 1, 0x67) && t->faults == faults + 1,
	    "page 15's write fault");
	swap_pager_stats(&s0);
	swap_memdev_refuse(t->md, EIO);
	SWT_CHECK(swt_evict(t, obj, pi + 15, pi + 16, VM_PAGER_PUT_SYNC, &putn, rtv) == 0 &&
	    putn == 1 && rtv[0] == VM_PAGER_ERROR, "a refused write");
	swap_memdev_refuse(t->md, 0);
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_free == s0.sps_free && s.sps_used == s0.sps_used &&
	    swt_block(obj, pi + 15) == SWAPBLK_NONE, "the refused write's block");
	SWT_CHECK(swt_evict(t, obj, pi + 15, pi + 16, VM_PAGER_PUT_SYNC, NULL, NULL) == 1,
	    "page 15 after the refusal");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA + ptoa(15), 1, 0x67), "page 15");
	return NULL;
}

VMTEST(swap, write_error_page_stays_dirty) { SWT_RUN(swt_write_error, 0, 16, 16); }

/*
 * A device almost full (fewer than 1/SWAP_PAGER_RESERVE_DIV of its blocks free): pages
 * read back give their blocks up and stay dirty, the copy in memory the only one; with
 * room to spare they keep their blocks and come back clean.
 */
static const char *swt_almost_full(struct swt *t, int arg)
{
	const int n = 16;
	struct swap_pager_stats s;
	vm_pindex_t pi;

	(void)arg;
	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0x71), "the first writes");
	struct vm_object *obj = swt_object(t->vm, SWT_VA, &pi);
	/* Half out, the device half empty: a page read back keeps its block. */
	SWT_CHECK(swt_evict(t, obj, pi, pi + n / 2, VM_PAGER_PUT_SYNC, NULL, NULL) == n / 2,
	    "evict half");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, 1, 0x71), "page 0 with room to spare");
	SWT_CHECK(swt_block(obj, pi) != SWAPBLK_NONE, "page 0 gave its block up");
	vm_object_lock(obj);
	vm_page_t m = vm_page_lookup(obj, pi);
	bool clean = m != NULL && m->dirty == 0;
	vm_object_unlock(obj);
	SWT_CHECK(clean, "page 0 came back dirty");
	/* All out: the device full. */
	int resident = (int)obj->vo_resident_page_count;
	SWT_CHECK(swt_evict(t, obj, pi, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == resident,
	    "evict all");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_free == 0 && s.sps_used == (uint64_t)n, "the device is full");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA + ptoa(3), 1, 0x71), "page 3 on a full device");
	SWT_CHECK(swt_block(obj, pi + 3) == SWAPBLK_NONE, "page 3 kept its block");
	vm_object_lock(obj);
	m = vm_page_lookup(obj, pi + 3);
	bool dirty = m != NULL && m->dirty != 0;
	vm_object_unlock(obj);
	SWT_CHECK(dirty, "page 3 came back clean: nothing else holds its contents now");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_free > 0 && s.sps_used < (uint64_t)n, "no block came free");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0x71), "every page");
	return NULL;
}

VMTEST(swap, almost_full_readback_gives_blocks_up) { SWT_RUN(swt_almost_full, 0, 16, 16); }

/* A read error is SIGBUS for the fault and leaves no page; the block stays, and the
 * next fault reads it. */
static const char *swt_read_error(struct swt *t, int arg)
{
	const int n = 4;
	struct swap_pager_stats s0, s;
	vm_pindex_t pi;

	(void)arg;
	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0x77), "the first writes");
	struct vm_object *obj = swt_object(t->vm, SWT_VA, &pi);
	SWT_CHECK(swt_evict(t, obj, pi, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == n, "evict");
	swap_pager_stats(&s0);
	swap_memdev_fail_every(t->md, 1, SMD_FAIL_READ);
	SWT_CHECK(swt_touch(t, t->vm, SWT_VA + ptoa(2), false) == NULL &&
	    t->rv == VM_FAULT_PAGER && vm_fault_signal(t->rv) == VM_FAULT_SIGBUS,
	    "a read error is not SIGBUS");
	SWT_CHECK(swt_touch(t, t->vm, SWT_VA + ptoa(1), true) == NULL &&
	    t->rv == VM_FAULT_PAGER, "a write fault's read error is not SIGBUS");
	swap_memdev_fail_every(t->md, 0, 0);
	swap_pager_stats(&s);
	SWT_CHECK(obj->vo_resident_page_count == 0, "a page was left behind");
	SWT_CHECK(pmap_resident_count(vmspace_pmap(t->vm)) == 0, "a page was mapped");
	SWT_CHECK(s.sps_read_errors > s0.sps_read_errors && s.sps_used == (uint64_t)n &&
	    obj->vo_swap.sm_count == (uint64_t)n, "the blocks after a read error");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0x77), "the pages read after the error");
	return NULL;
}

VMTEST(swap, read_error_sigbus) { SWT_RUN(swt_read_error, 0, 64, 16); }

/*
 * swapoff: two ranges and a forked shared object all on swap; swapoff reads every page
 * back in, dirty, frees every block and detaches; the bytes are intact.
 */
static const char *swt_swapoff(struct swt *t, int arg)
{
	const int n = 40, m2 = 12;
	struct swap_pager_stats s;
	struct vmspace *ch;
	vm_pindex_t pi, pi2, cpi;

	(void)arg;
	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_mmap(t->vm, SWT_VA2, m2) == (long)SWT_VA2, "mmap 2");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0x81) && swt_fill(t, t->vm, SWT_VA2, m2, 0x82),
	    "the first writes");
	struct vm_object *o = swt_object(t->vm, SWT_VA, &pi), *o2 = swt_object(t->vm, SWT_VA2, &pi2);
	SWT_CHECK((ch = vmspace_fork(t->vm)) != NULL, "fork");
	SWT_CHECK(swt_fill(t, ch, SWT_VA, 8, 0x83), "the child's writes");
	struct vm_object *fc = swt_object(ch, SWT_VA, &cpi);
	SWT_CHECK(swt_evict(t, o, pi, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == n &&
	    swt_evict(t, o2, pi2, pi2 + m2, 0, NULL, NULL) == m2 &&
	    swt_evict(t, fc, cpi, cpi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == 8, "evict");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_used == (uint64_t)(n + m2 + 8) && s.sps_objects >= 3, "blocks before");

	SWT_CHECK(swap_pager_swapoff() == 0, "swapoff");
	swap_pager_stats(&s);
	SWT_CHECK(swap_pager_device() == NULL && vm_pager_anon == NULL && s.sps_total == 0 &&
	    s.sps_used == 0 && s.sps_objects == 0, "still attached after swapoff");
	SWT_CHECK(swap_pager_swapoff() == EINVAL, "a second swapoff");
	struct vm_object *objs[3] = { o, o2, fc };
	uint64_t want[3] = { (uint64_t)n, (uint64_t)m2, 8 };
	for (int k = 0; k < 3; k++) {
		vm_object_lock(objs[k]);
		bool ok = objs[k]->vo_resident_page_count == want[k] &&
		    swap_meta_empty(&objs[k]->vo_swap);
		for (vm_page_t m = vm_page_find_least(objs[k], 0); m != NULL; m = vm_page_next(m))
			ok = ok && m->dirty != 0;
		vm_object_unlock(objs[k]);
		SWT_CHECK(ok, "an object's pages are not all resident and dirty");
	}
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0x81) && swt_is(t, t->vm, SWT_VA2, m2, 0x82),
	    "the parent's bytes after swapoff");
	SWT_CHECK(swt_is(t, ch, SWT_VA, 8, 0x83) && swt_is(t, ch, SWT_VA + ptoa(8), n - 8, 0x81),
	    "the child's bytes after swapoff");
	/* Without swap the laundry's putpages has nowhere to go. */
	int putn, rtv[SWT_MAXPG];
	SWT_CHECK(swt_evict(t, o2, pi2, pi2 + 1, 0, &putn, rtv) == 0 && putn == 1 &&
	    rtv[0] == VM_PAGER_AGAIN, "a page-out without swap");
	vmspace_free(ch);
	return NULL;
}

VMTEST(swap, swapoff_brings_every_page_back) { SWT_RUN(swt_swapoff, 0, 256, 16); }

/*
 * An asynchronous page-out under way: putpages answers VM_PAGER_PEND, the pages stay
 * busied and their blocks recorded until the request ends; two runs of indexes make two
 * requests. The completion leaves them clean and unbusied.
 */
static const char *swt_pending(struct swt *t, int arg)
{
	const int n = 8;
	struct swap_pager_stats s;
	vm_page_t ma[8];
	int rtv[8], k = 0;
	vm_pindex_t pi;

	(void)arg;
	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0x91), "the first writes");
	struct vm_object *obj = swt_object(t->vm, SWT_VA, &pi);
	swt_mode(t, SMD_DEFER);
	vm_object_lock(obj);
	for (int i = 0; i < n; i++) {
		if (i == 3 || i == 4)
			continue;       /* runs 0-2 and 5-7 */
		vm_page_t m = vm_page_lookup(obj, pi + (vm_pindex_t)i);
		if (m == NULL || !vm_page_tryxbusy(m))
			break;
		pmap_remove_write(m);
		ma[k++] = m;
	}
	if (k == 6)
		vm_pager_anon->pgo_putpages(obj, ma, k, 0, rtv);
	bool busy = k == 6;
	for (int i = 0; i < k && busy; i++)
		busy = rtv[i] == VM_PAGER_PEND && vm_page_xbusied(ma[i]) && ma[i]->dirty != 0 &&
		    swap_meta_lookup(&obj->vo_swap, ma[i]->pindex) != SWAPBLK_NONE;
	vm_object_unlock(obj);
	SWT_CHECK(busy, "the pages are not busied, dirty and recorded while being written");
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_inflight == 2 && swap_memdev_pending(t->md) == 2 && s.sps_used == 6,
	    "two requests under way");
	swt_complete(t);
	swt_mode(t, SMD_SYNC);
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_inflight == 0, "requests under way after their completion");
	vm_object_lock(obj);
	bool clean = true;
	for (int i = 0; i < k; i++)
		clean = clean && ma[i]->dirty == 0 && !vm_page_busied(ma[i]) &&
		    ma[i]->object == obj;
	vm_object_unlock(obj);
	SWT_CHECK(clean, "the pages are not clean and unbusied after the completion");
	SWT_CHECK(swt_evict(t, obj, pi, pi + n, VM_PAGER_PUT_SYNC, NULL, NULL) == n,
	    "evict all");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0x91), "the bytes");
	return NULL;
}

VMTEST(swap, putpages_pending) { SWT_RUN(swt_pending, 0, 64, 16); }

/* Zero-fill's fault-around stops at a page on swap as at a resident one: sequential
 * first touches of pages 0.. must not zero-fill page 8, which is on swap. */
static const char *swt_around(struct swt *t, int arg)
{
	const int n = 16;

	(void)arg;
	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA + ptoa(8), 1, 0xa1), "page 8");
	SWT_CHECK(swt_evict_va(t, t->vm, SWT_VA + ptoa(8), 1, VM_PAGER_PUT_SYNC, NULL) == 1,
	    "evict page 8");
	for (int i = 0; i < 8; i++)
		SWT_CHECK(swt_zero(t, t->vm, SWT_VA + ptoa(i)), "a page before 8 is not zero");
	SWT_CHECK(swt_is(t, t->vm, SWT_VA + ptoa(8), 1, 0xa1), "fault-around zero-filled page 8");
	for (int i = 9; i < n; i++)
		SWT_CHECK(swt_zero(t, t->vm, SWT_VA + ptoa(i)), "a page after 8 is not zero");
	return NULL;
}

VMTEST(swap, fault_around_stops_at_swap) { SWT_RUN(swt_around, 0, 64, 16); }

/* Objects by hand: a page of obj at pindex, dirty (as if written), unbusied. */
static bool swt_obj_page(struct vm_object *obj, vm_pindex_t pindex)
{
	vm_object_lock(obj);
	vm_page_t m = vm_page_alloc(obj, pindex, VM_ALLOC_SYSTEM | VM_ALLOC_ZERO |
	    VM_ALLOC_WAITOK);
	if (m != NULL) {
		m->dirty = SWAP_PAGE_BITS_ALL;
		vm_page_xunbusy(m);
	}
	vm_object_unlock(obj);
	return m != NULL;
}

/*
 * A bypass needs the backing object's pages on swap hidden too: a shadow S of O (which
 * has another reference) hides O's resident pages 0-3 but not its pages 4-7 on swap, so
 * O stays behind S; once S has pages 4-7 of its own (on swap), S bypasses O.
 */
static const char *swt_bypass(struct swt *t, int arg)
{
	struct vm_object *o = vm_object_allocate(OBJT_DEFAULT, 8), *sh;
	vm_ooffset_t off = 0;
	uint64_t b0 = vm_object_bypasses(), c0 = vm_object_collapses();

	(void)arg;
	for (vm_pindex_t i = 0; i < 8; i++)
		SWT_CHECK(swt_obj_page(o, i), "O's pages");
	SWT_CHECK(swt_evict(t, o, 4, 8, VM_PAGER_PUT_SYNC, NULL, NULL) == 4, "O's pages 4-7 out");
	vm_object_reference(o);                 /* someone else's: bypass, not collapse */
	sh = o;
	vm_object_shadow(&sh, &off, ptoa(8));
	for (vm_pindex_t i = 0; i < 4; i++)
		SWT_CHECK(swt_obj_page(sh, i), "S's pages");
	vm_object_lock(sh);
	vm_object_collapse(sh);
	bool behind = sh->vo_backing_object == o;
	vm_object_unlock(sh);
	SWT_CHECK(behind && vm_object_bypasses() == b0 && vm_object_collapses() == c0,
	    "S bypassed O with O's pages on swap visible");
	for (vm_pindex_t i = 4; i < 8; i++)
		SWT_CHECK(swt_obj_page(sh, i), "S's pages 4-7");
	SWT_CHECK(swt_evict(t, sh, 4, 8, VM_PAGER_PUT_SYNC, NULL, NULL) == 4, "S's pages 4-7 out");
	vm_object_lock(sh);
	vm_object_collapse(sh);
	bool bypassed = sh->vo_backing_object == NULL;
	vm_object_unlock(sh);
	SWT_CHECK(bypassed && vm_object_bypasses() == b0 + 1, "S did not bypass O");
	struct swap_pager_stats s;
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_used == 8, "the blocks after the bypass");
	vm_object_deallocate(o);
	swap_pager_stats(&s);
	SWT_CHECK(s.sps_used == 4 && s.sps_objects == 1, "O's blocks after O went");
	vm_object_deallocate(sh);
	return NULL;
}

VMTEST(swap, bypass_sees_swap) { SWT_RUN(swt_bypass, 0, 64, 16); }

/*
 * The laundry's writes free their pages when they complete while memory is short, with
 * no pass of the daemon to wait for (the guest sat idle up to 10 ms waiting for one,
 * each time: swap.out went from 29 to 70 MiB/s without the wait). With memory to spare
 * the pages stay resident, clean, on the inactive queue, for a later use to find.
 * arg: 0 short (the free target above the free count), 1 not short.
 */
static const char *swt_laundry_reclaim(struct swt *t, int arg)
{
	const int n = 16;
	struct vm_pageout_targets t0, tt;
	vm_pindex_t pi;

	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0xb1), "the first writes");
	struct vm_object *obj = swt_object(t->vm, SWT_VA, &pi);
	vm_object_lock(obj);
	int nlaundry = 0;
	for (int i = 0; i < n; i++) {
		vm_page_t m = vm_page_lookup(obj, pi + (vm_pindex_t)i);
		if (m == NULL)
			break;
		(void)pmap_ts_referenced(m);    /* not used since: the laundry takes it */
		__atomic_fetch_and(&m->aflags, (uint8_t)~PGA_REFERENCED, __ATOMIC_RELAXED);
		vm_page_launder(m);
		nlaundry++;
	}
	vm_object_unlock(obj);
	SWT_CHECK(nlaundry == n, "a page is not resident");
	vm_pqbatch_flush_all();
	vm_pageout_get_targets(&t0);
	tt = t0;
	if (arg == 0) {
		tt.free_target = vm_page_free_count() + 1000;
		tt.inactive_target = MAX(tt.inactive_target, tt.free_target);
	} else {
		tt.free_min = tt.free_target = 0;
	}
	vm_pageout_set_targets(&tt);
	swt_mode(t, SMD_DEFER);
	uint64_t took = vm_pageout_launder((uint64_t)n, (uint64_t)n);
	uint64_t free0 = vmt_free_pages();
	swt_complete(t);
	swt_mode(t, SMD_SYNC);
	/* The completion may also give back a page of the pager's own (its request). */
	uint64_t freed = vmt_free_pages() - free0;
	vm_pageout_set_targets(&t0);
	SWT_CHECK(took == (uint64_t)n, "the laundry did not write every page");
	if (arg == 0) {
		SWT_CHECK(obj->vo_resident_page_count == 0 && freed >= (uint64_t)n,
		    "the pages written while memory is short were not freed at completion");
	} else {
		SWT_CHECK(obj->vo_resident_page_count == (uint64_t)n,
		    "pages written with memory to spare were freed");
		vm_object_lock(obj);
		bool kept = true;
		for (vm_page_t m = vm_page_find_least(obj, 0); m != NULL; m = vm_page_next(m))
			kept = kept && m->dirty == 0 && !vm_page_busied(m) &&
			    m->queue == PQ_INACTIVE;
		vm_object_unlock(obj);
		SWT_CHECK(kept, "a page kept is not clean, unbusied and inactive");
	}
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0xb1), "the bytes");
	return NULL;
}

VMTEST(swap, laundry_frees_at_completion_when_short) { SWT_RUN(swt_laundry_reclaim, 0, 64, 16); }
VMTEST(swap, laundry_keeps_clean_pages_when_not_short) { SWT_RUN(swt_laundry_reclaim, 1, 64, 16); }

/*
 * A page-in polls the device instead of sleeping for its completion (the device's
 * sd_poll): on the VMM's device that saves the interrupt, the wakeup and two thread
 * switches, half of a page-in's cost on kvm_pvm. The reads come SWAP_BIO_POLLED, the
 * poll ends them, and nothing is handed back to the interrupt. When polls find nothing
 * for SWAP_PAGER_POLL_NS (a slow device, arg 1), each read is handed back (sd_poll_end)
 * and its completion ends the wait as before. Writes are never polled for.
 */
static const char *swt_polled(struct swt *t, int arg)
{
	const int n = 24;
	struct swap_memdev_stats d0, d1;

	SWT_CHECK(swt_mmap(t->vm, SWT_VA, n) == (long)SWT_VA, "mmap");
	SWT_CHECK(swt_fill(t, t->vm, SWT_VA, n, 0xc1), "the first writes");
	SWT_CHECK(swt_evict_va(t, t->vm, SWT_VA, n, VM_PAGER_PUT_SYNC, NULL) == n, "evict");
	SWT_CHECK(vm_madvise(vmspace_map(t->vm), SWT_VA, ptoa(n), LINUX_MADV_RANDOM) == 0,
	    "MADV_RANDOM");
	swap_memdev_stats(t->md, &d0);
	swt_mode(t, SMD_POLL);
	if (arg == 1)
		swap_memdev_poll_stall(t->md, 1 << 30);
	/* Every other page: a read each. */
	for (int i = 0; i < n; i += 2)
		SWT_CHECK(swt_is(t, t->vm, SWT_VA + ptoa(i), 1, 0xc1), "a page came back wrong");
	swap_memdev_poll_stall(t->md, 0);
	swt_mode(t, SMD_SYNC);
	swap_memdev_stats(t->md, &d1);
	uint64_t reads = d1.smd_reads - d0.smd_reads;
	SWT_CHECK(reads == (uint64_t)n / 2, "not a read a page");
	SWT_CHECK(d1.smd_polled - d0.smd_polled == reads, "a read did not come polled");
	SWT_CHECK(d0.smd_polled == 0, "a write came polled");
	if (arg == 0) {
		SWT_CHECK(d1.smd_poll_ended - d0.smd_poll_ended == reads &&
		    d1.smd_poll_ends == d0.smd_poll_ends,
		    "the polls did not end every read themselves");
	} else {
		SWT_CHECK(d1.smd_poll_ended == d0.smd_poll_ended &&
		    d1.smd_poll_ends - d0.smd_poll_ends == reads,
		    "a read that polls did not end was not handed back");
	}
	SWT_CHECK(swt_is(t, t->vm, SWT_VA, n, 0xc1), "the bytes");
	return NULL;
}

VMTEST(swap, pagein_polls_the_device) { SWT_RUN(swt_polled, 0, 64, 16); }
VMTEST(swap, pagein_poll_gives_up_on_a_slow_device) { SWT_RUN(swt_polled, 1, 64, 16); }

#ifndef VM_HOST
/* The guest build does not compile tests/support: the device comes with its tests. */
#include "tests/support/swap_memdev.c"
#endif
