/*
 * ktest suite blk: the IOAPIC, the virtio-mmio transport and the virtio-blk driver
 * (guest/dev, docs/virtio-guest.md).
 *
 * The device tests need a virtio-blk device on the command line (`vmm run -s FILE`,
 * or QEMU's virtio-blk-device with virtio_mmio.device=): asked for by name
 * (ktest=blk, ktest=blk.rw_pattern) without one they FAIL, saying so; under
 * ktest=all, which runs where no device is given, each says on the console that it
 * did not run. The device's contents are overwritten from block 0 on.
 */
#include "amd64/ioapic.h"
#include "amd64/lapic.h"
#include "amd64/trap.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_mmio.h"
#include "devices/ioapic_model.h"
#include "kern/bootinfo.h"
#include "kern/ktest.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/swap_dev.h"
#include "vm/vm_page.h"
#include "vm/vm_platform.h"

#define BLK_TIMEOUT_NS  30000000000ull

/* The device, or NULL: then a test named explicitly fails, one run by ktest=all says
 * it was not run. */
static struct swap_dev *blk_dev(void)
{
	struct swap_dev *sd = virtio_blk_swapdev();
	const char *spec = bootinfo_arg("ktest");

	if (sd != NULL)
		return sd;
	if (spec != NULL && strcmp(spec, "all") == 0)
		ktest_log("ktest: blk: not run: no virtio-blk device on the command line "
		    "(give the VMM -s FILE, or ask for ktest=blk to make this a failure)\n");
	else
		ktest_fail(__FILE__, __LINE__, "no virtio-blk device: run with -s FILE (or "
		    "give virtio_mmio.device=SIZE@ADDR:IRQ for a device that exists)");
	return NULL;
}

/* ---- without a device ------------------------------------------------------------ */

/* Device memory read from the kernel at CPL 3: an IOAPIC entry nobody routed reads
 * back masked (the reset state), with the version register's pin count behind it. */
KTEST(blk, ioapic_mmio)
{
	uint64_t rte = ioapic_rte_read(IOAPIC_NPINS - 1);
	KT_ASSERT_MSG((rte & IOAPIC_RTE_MASKED) != 0, "pin %u entry %#llx is not masked",
	    IOAPIC_NPINS - 1, (unsigned long long)rte);
}

/* A pin routed as the drivers route theirs reads back as asked: the pin's vector,
 * fixed delivery to the boot CPU's APIC id, edge, active high, unmasked; and masked
 * again afterwards. The last pin: no device drives it. */
KTEST(blk, ioapic_route)
{
	unsigned pin = IOAPIC_NPINS - 1;
	int vector = ioapic_route_edge(pin);
	KT_ASSERT_EQ(vector, IOAPIC_VECTOR_BASE + pin);
	uint64_t rte = ioapic_rte_read(pin);
	uint32_t apic_id = lapic_x2apic ? lapic_read(LAPIC_ID) : lapic_read(LAPIC_ID) >> 24;
	ioapic_mask(pin);
	uint64_t masked = ioapic_rte_read(pin);
	KT_ASSERT_EQ(rte & IOAPIC_RTE_VECTOR, (uint64_t)vector);
	KT_ASSERT_EQ(rte & (IOAPIC_RTE_DELMODE | IOAPIC_RTE_DESTLOG | IOAPIC_RTE_POLARITY |
	    IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED), 0);
	KT_ASSERT_EQ(rte >> IOAPIC_RTE_DEST_SHIFT, apic_id);
	KT_ASSERT_EQ(masked, rte | IOAPIC_RTE_MASKED);
	KT_ASSERT_EQ(ioapic_route_edge(IOAPIC_NPINS + 8), -1);
}

KTEST(blk, parse)
{
	uint64_t size, pa;
	unsigned irq;

	KT_ASSERT(virtio_mmio_parse("4K@0xd0000000:5", &size, &pa, &irq));
	KT_ASSERT_EQ(size, 4096);
	KT_ASSERT_EQ(pa, 0xd0000000);
	KT_ASSERT_EQ(irq, 5);
	/* QEMU microvm's: a 512-byte window. */
	KT_ASSERT(virtio_mmio_parse("512@0xfeb00e00:12", &size, &pa, &irq));
	KT_ASSERT_EQ(size, 512);
	KT_ASSERT_EQ(pa, 0xfeb00e00);
	KT_ASSERT_EQ(irq, 12);
	KT_ASSERT(virtio_mmio_parse("0x200@1048576:23", &size, &pa, &irq));
	KT_ASSERT_EQ(size, 512);
	KT_ASSERT_EQ(pa, 0x100000);
	KT_ASSERT_EQ(irq, 23);
	KT_ASSERT(virtio_mmio_parse("1m@0x100000000:7", &size, &pa, &irq));
	KT_ASSERT_EQ(size, 1 << 20);
	KT_ASSERT_EQ(pa, 0x100000000);

	static const char *const bad[] = {
		"", "4K", "4K@", "4K@0xd0000000", "4K@0xd0000000:", "@0xd0000000:5",
		"0@0xd0000000:5", "4K@0xd0000000:256", "4K@0xd0000000:5x", "4K@0x:5",
		"4X@0xd0000000:5", "4K@0xfffffffffffff000:5", "99999999999999999999@0:5",
		"4K 0xd0000000:5", "-4K@0xd0000000:5",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		KT_ASSERT_MSG(!virtio_mmio_parse(bad[i], &size, &pa, &irq),
		    "'%s' parsed (size %#llx pa %#llx irq %u)", bad[i],
		    (unsigned long long)size, (unsigned long long)pa, irq);
}

/* ---- with a device --------------------------------------------------------------- */

/* The value of 64-bit word w of block b in pattern seed: every byte differs from its
 * neighbours', its block's and the other passes'. */
static inline uint64_t blk_word(uint64_t b, unsigned w, uint64_t seed)
{
	return (b << 40 | (uint64_t)w << 16 | (seed & 0xffff)) ^ 0x9e3779b97f4a7c15ull *
	    (b * 512 + w + 1);
}

static void blk_fill(vm_page_t m, uint64_t b, uint64_t seed)
{
	uint64_t *p = VM_PAGE_TO_DMAP(m);
	for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
		p[w] = blk_word(b, w, seed);
}

/* => the first word that differs, or -1. */
static int blk_check(vm_page_t m, uint64_t b, uint64_t seed)
{
	const uint64_t *p = VM_PAGE_TO_DMAP(m);
	for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
		if (p[w] != blk_word(b, w, seed))
			return (int)w;
	return -1;
}

/* Requests in flight together, and their completions counted. Static: a test that
 * fails by timing out must not leave the driver pointers into its dead frame. */
#define BLK_NBIOS       200
static struct blk_batch {
	struct mtx bb_mtx;
	int bb_outstanding;
	int bb_errors;
	int bb_done;
	struct swap_bio bb_bios[BLK_NBIOS];
} blk_batch;

static void blk_batch_done(struct swap_bio *bp)
{
	struct blk_batch *bb = bp->sb_arg;

	mtx_lock(&bb->bb_mtx);
	if (bp->sb_error != 0)
		bb->bb_errors++;
	bb->bb_done++;
	if (--bb->bb_outstanding == 0)
		vm_wakeup(bb);
	mtx_unlock(&bb->bb_mtx);
}

static void blk_batch_start(void)
{
	mtx_init(&blk_batch.bb_mtx, "blktest");
	blk_batch.bb_outstanding = 0;
	blk_batch.bb_errors = 0;
	blk_batch.bb_done = 0;
}

/* Start request i of the batch. => sd_strategy's answer. */
static int blk_batch_add(struct swap_dev *sd, int i, int cmd, uint64_t blkno,
    vm_page_t *pages, int npages)
{
	struct swap_bio *bp = &blk_batch.bb_bios[i];

	*bp = (struct swap_bio){ .sb_cmd = cmd, .sb_blkno = blkno, .sb_npages = npages,
	    .sb_pages = pages, .sb_done = blk_batch_done, .sb_arg = &blk_batch };
	mtx_lock(&blk_batch.bb_mtx);
	blk_batch.bb_outstanding++;
	mtx_unlock(&blk_batch.bb_mtx);
	int error = sd->sd_strategy(sd, bp);
	if (error != 0) {
		mtx_lock(&blk_batch.bb_mtx);
		blk_batch.bb_outstanding--;
		mtx_unlock(&blk_batch.bb_mtx);
	}
	return error;
}

/* Wait for every request of the batch. => false on a timeout. */
static bool blk_batch_wait(void)
{
	uint64_t deadline = vm_nanotime() + BLK_TIMEOUT_NS;

	mtx_lock(&blk_batch.bb_mtx);
	while (blk_batch.bb_outstanding > 0) {
		uint64_t now = vm_nanotime();
		if (now >= deadline)
			break;
		(void)vm_sleep(&blk_batch, &blk_batch.bb_mtx, "blkwait", deadline - now);
	}
	bool ok = blk_batch.bb_outstanding == 0;
	mtx_unlock(&blk_batch.bb_mtx);
	return ok;
}

/* The pages of the tests: runs of physically contiguous pages (one descriptor each)
 * and single pages from wherever the allocator finds them. */
#define BLK_NPAGES      64
#define BLK_CONTIG      16
static vm_page_t blk_pages[BLK_NPAGES];

static bool blk_pages_alloc(void)
{
	vm_page_t run = vm_page_alloc_noobj_contig(VM_ALLOC_WIRED | VM_ALLOC_WAITOK,
	    BLK_CONTIG, 0, ~(vm_paddr_t)0, PAGE_SIZE, 0);
	if (run == NULL)
		return false;
	for (int i = 0; i < BLK_CONTIG; i++)
		blk_pages[i] = run + i;
	for (int i = BLK_CONTIG; i < BLK_NPAGES; i++)
		blk_pages[i] = vm_page_alloc_noobj(VM_ALLOC_WIRED | VM_ALLOC_WAITOK);
	return true;
}

static void blk_pages_free(void)
{
	vm_page_free_contig(blk_pages[0], BLK_CONTIG);
	for (int i = BLK_CONTIG; i < BLK_NPAGES; i++)
		vm_page_free(blk_pages[i]);
}

/* Runs written and read back: (first page, pages, block), some contiguous in memory
 * (one data descriptor), some scattered, some crossing from one kind to the other. */
static const struct { int first, npages; uint64_t blkno; } blk_runs[] = {
	{ 0, 16, 0 },           /* contiguous: one descriptor */
	{ 16, 1, 16 },
	{ 17, 7, 100 },
	{ 24, 32, 200 },        /* scattered: up to 32 descriptors */
	{ 56, 8, 1000 },
};

/*
 * Patterned pages written to several block runs at once (many requests in flight,
 * multi-page chains of contiguous and scattered pages), zeroed in memory, read back
 * at once, every byte checked; then read again in other groupings (a page at a time),
 * which checks the block offsets. The completions must have come by interrupt.
 */
KTEST(blk, rw_pattern)
{
	struct swap_dev *sd = blk_dev();
	if (sd == NULL)
		return;
	struct virtio_blk_stats st0, st1;
	KT_ASSERT(virtio_blk_stats(&st0));
	uint64_t intr0 = intr_count((unsigned)st0.vbs_vector);
	KT_ASSERT_MSG(sd->sd_nblocks >= 1024 + 8, "the device has %llu blocks, the test "
	    "writes up to block 1031", (unsigned long long)sd->sd_nblocks);
	KT_ASSERT_MSG(sd->sd_maxpages >= 32, "sd_maxpages %d < 32", sd->sd_maxpages);
	KT_ASSERT(blk_pages_alloc());

	const unsigned nruns = sizeof(blk_runs) / sizeof(blk_runs[0]);
	for (unsigned r = 0; r < nruns; r++)
		for (int i = 0; i < blk_runs[r].npages; i++)
			blk_fill(blk_pages[blk_runs[r].first + i], blk_runs[r].blkno + i, 1);
	blk_batch_start();
	for (unsigned r = 0; r < nruns; r++)
		KT_ASSERT_EQ(blk_batch_add(sd, (int)r, SWAP_BIO_WRITE, blk_runs[r].blkno,
		    &blk_pages[blk_runs[r].first], blk_runs[r].npages), 0);
	KT_ASSERT_MSG(blk_batch_wait(), "writes: %d requests not completed in 30 s",
	    blk_batch.bb_outstanding);
	KT_ASSERT_EQ(blk_batch.bb_errors, 0);
	KT_ASSERT_EQ(blk_batch.bb_done, nruns);

	for (int i = 0; i < BLK_NPAGES; i++)
		memset(VM_PAGE_TO_DMAP(blk_pages[i]), 0, PAGE_SIZE);
	blk_batch_start();
	for (unsigned r = 0; r < nruns; r++)
		KT_ASSERT_EQ(blk_batch_add(sd, (int)r, SWAP_BIO_READ, blk_runs[r].blkno,
		    &blk_pages[blk_runs[r].first], blk_runs[r].npages), 0);
	KT_ASSERT_MSG(blk_batch_wait(), "reads: %d requests not completed in 30 s",
	    blk_batch.bb_outstanding);
	KT_ASSERT_EQ(blk_batch.bb_errors, 0);
	for (unsigned r = 0; r < nruns; r++)
		for (int i = 0; i < blk_runs[r].npages; i++) {
			int w = blk_check(blk_pages[blk_runs[r].first + i],
			    blk_runs[r].blkno + i, 1);
			KT_ASSERT_MSG(w < 0, "block %llu word %d read back wrong",
			    (unsigned long long)(blk_runs[r].blkno + i), w);
		}

	/* The 32-page run again, a page a request, into the contiguous pages and the
	 * scattered ones in turn: 32 single-page requests in flight. */
	for (int i = 0; i < BLK_NPAGES; i++)
		memset(VM_PAGE_TO_DMAP(blk_pages[i]), 0, PAGE_SIZE);
	blk_batch_start();
	for (int i = 0; i < 32; i++)
		KT_ASSERT_EQ(blk_batch_add(sd, i, SWAP_BIO_READ, 200 + (uint64_t)i,
		    &blk_pages[(i * 2) % BLK_NPAGES], 1), 0);
	KT_ASSERT(blk_batch_wait());
	KT_ASSERT_EQ(blk_batch.bb_errors, 0);
	for (int i = 0; i < 32; i++) {
		int w = blk_check(blk_pages[(i * 2) % BLK_NPAGES], 200 + (uint64_t)i, 1);
		KT_ASSERT_MSG(w < 0, "block %d (a page a request) word %d wrong", 200 + i, w);
	}

	KT_ASSERT(virtio_blk_stats(&st1));
	uint64_t intrs = intr_count((unsigned)st1.vbs_vector) - intr0;
	uint64_t reqs = st1.vbs_requests - st0.vbs_requests;
	ktest_log("ktest: blk: %llu requests, %llu notifies, %llu interrupts, %llu "
	    "completion-thread wakeups, event_idx %d\n", (unsigned long long)reqs,
	    (unsigned long long)(st1.vbs_notifies - st0.vbs_notifies),
	    (unsigned long long)intrs,
	    (unsigned long long)(st1.vbs_intr_wakeups - st0.vbs_intr_wakeups),
	    st1.vbs_event_idx);
	KT_ASSERT_EQ(st1.vbs_completions - st0.vbs_completions, reqs);
	/* Completion by interrupt: the thread that reaps sleeps until one wakes it. */
	KT_ASSERT_MSG(intrs > 0, "no interrupt on vector %d for %llu requests",
	    st1.vbs_vector, (unsigned long long)reqs);
	KT_ASSERT(st1.vbs_intr_wakeups > st0.vbs_intr_wakeups);
	KT_ASSERT(st1.vbs_notifies - st0.vbs_notifies <= reqs);
	blk_pages_free();
}

/* More single-page requests than the queue has room for: the submitter sleeps for
 * free descriptors and every request still completes, in any order, with the right
 * data. */
KTEST(blk, queue_full)
{
	struct swap_dev *sd = blk_dev();
	if (sd == NULL)
		return;
	struct virtio_blk_stats st0, st1;
	KT_ASSERT(virtio_blk_stats(&st0));
	KT_ASSERT_MSG(BLK_NBIOS * 3 > st0.vbs_queue_size, "queue of %u: %d requests fit",
	    st0.vbs_queue_size, BLK_NBIOS);
	KT_ASSERT(sd->sd_nblocks >= 2000 + BLK_NBIOS);
	KT_ASSERT(blk_pages_alloc());
	for (int i = 0; i < BLK_NPAGES; i++)
		blk_fill(blk_pages[i], 2000 + (uint64_t)i, 2);
	/* Each page written to BLK_NBIOS / BLK_NPAGES + 1 blocks, 64 apart: the same
	 * pattern is expected wherever block - 2000 is congruent mod 64. */
	blk_batch_start();
	for (int i = 0; i < BLK_NBIOS; i++)
		KT_ASSERT_EQ(blk_batch_add(sd, i, SWAP_BIO_WRITE, 2000 + (uint64_t)i,
		    &blk_pages[i % BLK_NPAGES], 1), 0);
	KT_ASSERT(blk_batch_wait());
	KT_ASSERT_EQ(blk_batch.bb_errors, 0);
	KT_ASSERT_EQ(blk_batch.bb_done, BLK_NBIOS);
	for (int i = 0; i < BLK_NPAGES; i++)
		memset(VM_PAGE_TO_DMAP(blk_pages[i]), 0, PAGE_SIZE);
	/* Read back the first BLK_NPAGES blocks' later copies (block 2000 + 64k + i). */
	blk_batch_start();
	for (int i = 0; i < BLK_NPAGES; i++)
		KT_ASSERT_EQ(blk_batch_add(sd, i, SWAP_BIO_READ,
		    2000 + (uint64_t)(i + BLK_NPAGES * ((BLK_NBIOS - 1 - i) / BLK_NPAGES)),
		    &blk_pages[i], 1), 0);
	KT_ASSERT(blk_batch_wait());
	KT_ASSERT_EQ(blk_batch.bb_errors, 0);
	for (int i = 0; i < BLK_NPAGES; i++) {
		int w = blk_check(blk_pages[i], 2000 + (uint64_t)i, 2);
		KT_ASSERT_MSG(w < 0, "copy of block %d: word %d wrong", 2000 + i, w);
	}
	KT_ASSERT(virtio_blk_stats(&st1));
	ktest_log("ktest: blk: %d requests through a queue of %u: %llu waits for "
	    "descriptors, %llu notifies, %llu wakeups\n", BLK_NBIOS + BLK_NPAGES,
	    st1.vbs_queue_size, (unsigned long long)(st1.vbs_full_waits - st0.vbs_full_waits),
	    (unsigned long long)(st1.vbs_notifies - st0.vbs_notifies),
	    (unsigned long long)(st1.vbs_intr_wakeups - st0.vbs_intr_wakeups));
	blk_pages_free();
}

KTEST(blk, flush)
{
	if (blk_dev() == NULL)
		return;
	struct virtio_blk_stats st0, st1;
	KT_ASSERT(virtio_blk_stats(&st0));
	KT_ASSERT_EQ(virtio_blk_flush(), 0);
	KT_ASSERT(virtio_blk_stats(&st1));
	/* A device that offers FLUSH got a request; one without has nothing to flush. */
	KT_ASSERT_EQ(st1.vbs_requests - st0.vbs_requests, st0.vbs_flush ? 1 : 0);
}

/* Requests beyond the end: sd_strategy refuses them (no sb_done), and one that
 * reaches the device anyway (the test helper does not check) comes back EIO, not a
 * hang. The device works on afterwards. */
KTEST(blk, out_of_range)
{
	struct swap_dev *sd = blk_dev();
	if (sd == NULL)
		return;
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_WIRED | VM_ALLOC_WAITOK);
	vm_page_t two[2] = { m, m };
	struct swap_bio bp = { .sb_cmd = SWAP_BIO_READ, .sb_blkno = sd->sd_nblocks,
	    .sb_npages = 1, .sb_pages = &m, .sb_done = NULL };
	KT_ASSERT_EQ(sd->sd_strategy(sd, &bp), EINVAL);
	bp.sb_blkno = sd->sd_nblocks - 1;
	bp.sb_npages = 2;
	bp.sb_pages = two;
	KT_ASSERT_EQ(sd->sd_strategy(sd, &bp), EINVAL);
	bp.sb_blkno = UINT64_MAX;
	KT_ASSERT_EQ(sd->sd_strategy(sd, &bp), EINVAL);
	bp.sb_blkno = 0;
	bp.sb_npages = sd->sd_maxpages + 1;
	KT_ASSERT_EQ(sd->sd_strategy(sd, &bp), EINVAL);

	KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_READ, sd->sd_nblocks, &m, 1), EIO);
	KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_WRITE, sd->sd_nblocks - 1, two, 2), EIO);
	KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_READ, sd->sd_nblocks + 1000000, &m, 1), EIO);
	KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_READ, sd->sd_nblocks - 1, &m, 1), 0);
	blk_fill(m, 7, 3);
	KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_WRITE, 7, &m, 1), 0);
	memset(VM_PAGE_TO_DMAP(m), 0, PAGE_SIZE);
	KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_READ, 7, &m, 1), 0);
	KT_ASSERT_EQ(blk_check(m, 7, 3), -1);
	struct virtio_blk_stats st;
	KT_ASSERT(virtio_blk_stats(&st));
	KT_ASSERT(st.vbs_errors >= 3);
	vm_page_free(m);
}

/* Queue depth 1: one page read and waited for, 64 times, each checked; the time a
 * round trip takes (submit, notify, device, interrupt, completion thread, waiter) is
 * printed for the record. */
KTEST(blk, sync_qd1)
{
	if (blk_dev() == NULL)
		return;
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_WIRED | VM_ALLOC_WAITOK);
	for (int i = 0; i < 8; i++) {
		blk_fill(m, 3000 + (uint64_t)i, 4);
		KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_WRITE, 3000 + (uint64_t)i, &m, 1), 0);
	}
	uint64_t t0 = vm_nanotime();
	for (int i = 0; i < 64; i++) {
		memset(VM_PAGE_TO_DMAP(m), 0, PAGE_SIZE);
		KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_READ, 3000 + (uint64_t)(i % 8), &m, 1),
		    0);
		KT_ASSERT_EQ(blk_check(m, 3000 + (uint64_t)(i % 8), 4), -1);
	}
	uint64_t ns = vm_nanotime() - t0;
	ktest_log("ktest: blk: 4 KiB read at queue depth 1: %llu us a request\n",
	    (unsigned long long)(ns / 64 / 1000));
	vm_page_free(m);
}

struct blk_polled {
	bool bpl_done;          /* atomic */
	int bpl_error;
};

static void blk_polled_done(struct swap_bio *bp)
{
	struct blk_polled *p = bp->sb_arg;

	p->bpl_error = bp->sb_error;
	__atomic_store_n(&p->bpl_done, true, __ATOMIC_RELEASE);
}

/*
 * SWAP_BIO_POLLED reads, the only requests in flight, polled for with sd_poll: each
 * ends on the poller's thread and the device sends no interrupt (the interrupt is off
 * while every request in flight is polled for). Then one whose poller gives up at once
 * (sd_poll_end): its interrupt comes, and the completion thread ends it.
 */
KTEST(blk, polled_no_interrupt)
{
	struct swap_dev *sd = blk_dev();
	if (sd == NULL)
		return;
	KT_ASSERT(sd->sd_poll != NULL && sd->sd_poll_end != NULL);
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_WIRED | VM_ALLOC_WAITOK);
	blk_fill(m, 4000, 5);
	KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_WRITE, 4000, &m, 1), 0);
	struct virtio_blk_stats st0, st1;
	KT_ASSERT(virtio_blk_stats(&st0));
	uint64_t intr0 = intr_count((unsigned)st0.vbs_vector);
	for (int i = 0; i < 16; i++) {
		struct blk_polled p = { false, -1 };
		struct swap_bio bp = { .sb_cmd = SWAP_BIO_READ, .sb_blkno = 4000,
		    .sb_npages = 1, .sb_flags = SWAP_BIO_POLLED, .sb_pages = &m,
		    .sb_done = blk_polled_done, .sb_arg = &p };
		memset(VM_PAGE_TO_DMAP(m), 0, PAGE_SIZE);
		KT_ASSERT_EQ(sd->sd_strategy(sd, &bp), 0);
		uint64_t deadline = vm_nanotime() + BLK_TIMEOUT_NS;
		while (!__atomic_load_n(&p.bpl_done, __ATOMIC_ACQUIRE) &&
		    vm_nanotime() < deadline)
			(void)sd->sd_poll(sd);
		KT_ASSERT_MSG(__atomic_load_n(&p.bpl_done, __ATOMIC_ACQUIRE),
		    "a polled read did not end");
		KT_ASSERT_EQ(p.bpl_error, 0);
		KT_ASSERT_EQ(blk_check(m, 4000, 5), -1);
	}
	KT_ASSERT(virtio_blk_stats(&st1));
	KT_ASSERT_EQ(st1.vbs_polled - st0.vbs_polled, 16u);
	KT_ASSERT_EQ(st1.vbs_intr_wakeups, st0.vbs_intr_wakeups);
	KT_ASSERT_EQ(intr_count((unsigned)st0.vbs_vector), intr0);

	/* Given back before the device answers (or just after): ended all the same. */
	struct blk_polled p = { false, -1 };
	struct swap_bio bp = { .sb_cmd = SWAP_BIO_READ, .sb_blkno = 4000, .sb_npages = 1,
	    .sb_flags = SWAP_BIO_POLLED, .sb_pages = &m, .sb_done = blk_polled_done,
	    .sb_arg = &p };
	memset(VM_PAGE_TO_DMAP(m), 0, PAGE_SIZE);
	KT_ASSERT_EQ(sd->sd_strategy(sd, &bp), 0);
	sd->sd_poll_end(sd, &bp);
	uint64_t deadline = vm_nanotime() + BLK_TIMEOUT_NS;
	while (!__atomic_load_n(&p.bpl_done, __ATOMIC_ACQUIRE) && vm_nanotime() < deadline)
		thread_yield();
	KT_ASSERT_MSG(__atomic_load_n(&p.bpl_done, __ATOMIC_ACQUIRE),
	    "a read handed back to the interrupt did not end");
	KT_ASSERT_EQ(p.bpl_error, 0);
	KT_ASSERT_EQ(blk_check(m, 4000, 5), -1);
	struct virtio_blk_stats st2;
	KT_ASSERT(virtio_blk_stats(&st2));
	KT_ASSERT(st2.vbs_polled - st1.vbs_polled == 1);
	vm_page_free(m);
}

/* Wait up to BLK_UNREAPED_NS for the device to have published n completions nobody
 * reaped. => whether it has. */
#define BLK_UNREAPED_NS 5000000000ull
/* The block these tests read and write: inside the smallest disk they get (the interop
 * run's 16 MiB image, 4096 blocks), clear of the other tests' blocks. */
#define BLK_POLL_BLOCK  4090
static bool blk_wait_unreaped(unsigned n)
{
	uint64_t deadline = vm_nanotime() + BLK_UNREAPED_NS;

	while (virtio_blk_unreaped() < n && vm_nanotime() < deadline)
		cpu_pause();
	return virtio_blk_unreaped() == n;
}

/* Static, as blk_batch: a test that fails leaves requests with the driver. */
static struct blk_polled blk_last_poll;
static struct swap_bio blk_last_poll_bio;

/*
 * A poller's reap leaves no completion behind that no interrupt will announce. The
 * state: a polled read finished while it was the only request in flight (so the
 * device sent no interrupt, and its event index passed the driver's); then more
 * requests than one reap takes, none polled for, submitted and finished too: the
 * driver's re-arm put the event index behind what the device had published, so no
 * interrupt came for them either. One sd_poll, the poller's last (its read ends in
 * it), reaps a batch; the rest must still end. This is the state the swap hang left
 * (a completion published between a poller's last look at the ring and its re-arm):
 * page-outs that never ended, every thread asleep, the CPU halted.
 */
KTEST(blk, poll_leaves_no_completion_behind)
{
	struct swap_dev *sd = blk_dev();
	if (sd == NULL)
		return;
	KT_ASSERT(sd->sd_poll != NULL);
	struct virtio_blk_stats st;
	KT_ASSERT(virtio_blk_stats(&st));
	KT_ASSERT_MSG(st.vbs_requests == st.vbs_completions && virtio_blk_unreaped() == 0,
	    "requests in flight before the test: %llu",
	    (unsigned long long)(st.vbs_requests - st.vbs_completions));
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_WIRED | VM_ALLOC_WAITOK);
	blk_fill(m, BLK_POLL_BLOCK, 6);
	KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_WRITE, BLK_POLL_BLOCK, &m, 1), 0);

	blk_last_poll = (struct blk_polled){ false, -1 };
	blk_last_poll_bio = (struct swap_bio){ .sb_cmd = SWAP_BIO_READ, .sb_blkno = BLK_POLL_BLOCK,
	    .sb_npages = 1, .sb_flags = SWAP_BIO_POLLED, .sb_pages = &m,
	    .sb_done = blk_polled_done, .sb_arg = &blk_last_poll };
	KT_ASSERT_EQ(sd->sd_strategy(sd, &blk_last_poll_bio), 0);
	KT_ASSERT_MSG(blk_wait_unreaped(1), "the polled read was not answered");

	int n = VIRTIO_BLK_REAP_BATCH + 8;
	blk_batch_start();
	for (int i = 0; i < n; i++)
		KT_ASSERT_EQ(blk_batch_add(sd, i, SWAP_BIO_READ, BLK_POLL_BLOCK, &m, 1), 0);
	KT_ASSERT_MSG(blk_wait_unreaped((unsigned)n + 1), "%u of %d reads answered",
	    virtio_blk_unreaped(), n + 1);

	(void)sd->sd_poll(sd);
	KT_ASSERT_MSG(__atomic_load_n(&blk_last_poll.bpl_done, __ATOMIC_ACQUIRE),
	    "the polled read did not end in the poll");
	KT_ASSERT_EQ(blk_last_poll.bpl_error, 0);

	/* The device answered them all already: they end at once or never. */
	uint64_t deadline = vm_nanotime() + BLK_UNREAPED_NS;
	mtx_lock(&blk_batch.bb_mtx);
	while (blk_batch.bb_outstanding > 0 && vm_nanotime() < deadline)
		(void)vm_sleep(&blk_batch, &blk_batch.bb_mtx, "blkwait",
		    deadline - vm_nanotime());
	int left = blk_batch.bb_outstanding, errors = blk_batch.bb_errors;
	mtx_unlock(&blk_batch.bb_mtx);
	KT_ASSERT_MSG(left == 0, "%d of %d answered reads never ended (%u left in the used "
	    "ring, no interrupt for them)", left, n, virtio_blk_unreaped());
	KT_ASSERT_EQ(errors, 0);
	KT_ASSERT_EQ(blk_check(m, BLK_POLL_BLOCK, 6), -1);
	vm_page_free(m);
}

/* The submitter that finds the queue full, on its own thread: it sleeps there. */
static struct blk_full_submitter {
	struct swap_dev *bfs_sd;
	vm_page_t bfs_page;
	int bfs_error;
	bool bfs_submitted;     /* atomic */
} blk_full_submitter;

static void blk_full_submit(void *arg)
{
	struct blk_full_submitter *f = arg;

	f->bfs_error = blk_batch_add(f->bfs_sd, BLK_NBIOS - 1, SWAP_BIO_READ, BLK_POLL_BLOCK,
	    &f->bfs_page, 1);
	__atomic_store_n(&f->bfs_submitted, true, __ATOMIC_RELEASE);
	vm_wakeup(f);
}

/*
 * The queue full of polled reads nobody polls for yet (their submitters are busy
 * submitting more), all answered by the device without an interrupt (every request in
 * flight is polled for): a submitter that must sleep for descriptors then gets them
 * all the same. A poller asleep there polls for nothing; if every request in flight
 * were its kind, nothing would ever free a descriptor.
 */
KTEST(blk, full_queue_of_polled_reads)
{
	struct swap_dev *sd = blk_dev();
	if (sd == NULL)
		return;
	struct virtio_blk_stats st;
	KT_ASSERT(virtio_blk_stats(&st));
	KT_ASSERT_MSG(st.vbs_requests == st.vbs_completions && virtio_blk_unreaped() == 0,
	    "requests in flight before the test: %llu",
	    (unsigned long long)(st.vbs_requests - st.vbs_completions));
	/* Three descriptors a one-page read: as many as fit, fewer than three left. */
	int n = st.vbs_queue_size / 3;
	KT_ASSERT(n + 1 <= BLK_NBIOS);
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_WIRED | VM_ALLOC_WAITOK);
	blk_fill(m, BLK_POLL_BLOCK, 7);
	KT_ASSERT_EQ(virtio_blk_rw_sync(SWAP_BIO_WRITE, BLK_POLL_BLOCK, &m, 1), 0);

	blk_batch_start();
	for (int i = 0; i < n; i++) {
		struct swap_bio *bp = &blk_batch.bb_bios[i];
		*bp = (struct swap_bio){ .sb_cmd = SWAP_BIO_READ, .sb_blkno = BLK_POLL_BLOCK,
		    .sb_npages = 1, .sb_flags = SWAP_BIO_POLLED, .sb_pages = &m,
		    .sb_done = blk_batch_done, .sb_arg = &blk_batch };
		mtx_lock(&blk_batch.bb_mtx);
		blk_batch.bb_outstanding++;
		mtx_unlock(&blk_batch.bb_mtx);
		KT_ASSERT_EQ(sd->sd_strategy(sd, bp), 0);
	}
	KT_ASSERT_MSG(blk_wait_unreaped((unsigned)n), "%u of %d reads answered",
	    virtio_blk_unreaped(), n);

	blk_full_submitter = (struct blk_full_submitter){ .bfs_sd = sd, .bfs_page = m,
	    .bfs_error = -1 };
	struct thread *td = thread_create("blkfull", PRI_KERN, blk_full_submit,
	    &blk_full_submitter, false, M_WAITOK);
	KT_ASSERT(td != NULL);
	/* Not polled for: only the driver can end them now. */
	uint64_t deadline = vm_nanotime() + BLK_UNREAPED_NS;
	mtx_lock(&blk_batch.bb_mtx);
	while ((blk_batch.bb_outstanding > 0 ||
	    !__atomic_load_n(&blk_full_submitter.bfs_submitted, __ATOMIC_ACQUIRE)) &&
	    vm_nanotime() < deadline)
		(void)vm_sleep(&blk_batch, &blk_batch.bb_mtx, "blkwait", MIN(deadline -
		    vm_nanotime(), 10000000ull));
	int left = blk_batch.bb_outstanding, errors = blk_batch.bb_errors;
	mtx_unlock(&blk_batch.bb_mtx);
	bool submitted = __atomic_load_n(&blk_full_submitter.bfs_submitted,
	    __ATOMIC_ACQUIRE);
	KT_ASSERT_MSG(submitted && left == 0, "the submitter %s; %d of %d requests never "
	    "ended (%u left in the used ring)", submitted ? "got its descriptors" :
	    "still sleeps for descriptors", left, n + 1, virtio_blk_unreaped());
	KT_ASSERT_EQ(blk_full_submitter.bfs_error, 0);
	KT_ASSERT_EQ(errors, 0);
	KT_ASSERT(virtio_blk_stats(&st));
	KT_ASSERT(st.vbs_full_waits > 0);
	KT_ASSERT_EQ(blk_check(m, BLK_POLL_BLOCK, 7), -1);
	vm_page_free(m);
}
