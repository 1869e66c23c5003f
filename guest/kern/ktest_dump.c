/*
 * Suite "dump": what the kernel registers in the dump descriptor (devices/hostcall.h)
 * and publishes for the host: the new fields set and consistent with the kernel, the
 * layout table against the compiler's offsets, the seqlock of a publication, a stream
 * that outgrows its buffer, and the refresher's period.
 */
#include "amd64/kva.h"
#include "amd64/tsc.h"
#include "dev/hostcall.h"
#include "kern/bootinfo.h"
#include "kern/dump_layout.h"
#include "kern/dump_pub.h"
#include "kern/ktest.h"
#include "kern/proc.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/malloc.h"
#include "vm/malloc_int.h"
#include "vm/uma_int.h"
#include "vm/vm_phys.h"
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_dump.h"
#include "vm/vm_map.h"
#include "vm/vm_object.h"
#include "vm/vm_page.h"

extern char __kernel_start[], __etext[], __bss_end[], _end[];

/* A publication through the address the descriptor holds, as the host reads it. */
static const struct hc_pub *kd_pub(uint64_t pa)
{
	return vm_phys_to_dmap(pa);
}

KTEST(dump, desc_fields)
{
	const struct hc_dump_desc *d = &hc_dump_desc;

	KT_ASSERT_EQ(d->version, HC_DUMP_VERSION);
	/* kernel_end: page-aligned, past the text, the data and the bss (this very
	 * descriptor included), and what bootinfo calls the image's end. */
	KT_ASSERT_EQ(d->kernel_end & PAGE_MASK, 0);
	KT_ASSERT_EQ(d->kernel_end, bootinfo.bi_kernel_end);
	KT_ASSERT(d->kernel_end >= (uint64_t)(uintptr_t)__bss_end - KERNBASE);
	KT_ASSERT(d->kernel_end >= (uint64_t)(uintptr_t)__etext - KERNBASE);
	KT_ASSERT(d->kernel_end > kvtop(d));
	KT_ASSERT(d->kernel_end > kvtop(__kernel_start));
	/* The bitmap: allocated, covering all RAM, its own page marked. */
	KT_ASSERT(d->dump_bitmap != 0);
	KT_ASSERT_EQ(d->dump_bitmap, vm_dump_bitmap_pa());
	KT_ASSERT_EQ(d->dump_bitmap_bits, vm_dump_bitmap_bits());
	for (unsigned i = 0; i < bootinfo.bi_nram; i++)
		KT_ASSERT(ptoa(d->dump_bitmap_bits) >= bootinfo.bi_ram[i].bir_end);
	KT_ASSERT(dump_page_is_set(d->dump_bitmap));
	/* The layout table and the process list's head, in the image. */
	KT_ASSERT_EQ(d->layout, kvtop(dump_layout));
	KT_ASSERT_EQ(d->layout_count, DL_NSLOTS);
	KT_ASSERT(d->layout < d->kernel_end);
	KT_ASSERT_EQ(d->allproc, kvtop(&proc_all));
	/* The three publications: headers with their magic where the fields point. */
	KT_ASSERT_EQ(d->vmmeter, kvtop(&dump_pub_vmmeter));
	KT_ASSERT_EQ(kd_pub(d->vmmeter)->pub_magic, HC_PUB_MAGIC);
	KT_ASSERT_EQ(kd_pub(d->vmmeter)->pub_cap, sizeof(struct vmmeter));
	KT_ASSERT(d->uma_zones != 0 && d->malloc_types != 0);
	KT_ASSERT_EQ(kd_pub(d->uma_zones)->pub_magic, HC_PUB_MAGIC);
	KT_ASSERT_EQ(kd_pub(d->malloc_types)->pub_magic, HC_PUB_MAGIC);
}

/* The bitmap on live objects of this kernel: a slab of UMA (a vm_object's), the page
 * tables of the kernel's root and of a fresh pmap (gone once released), and not a page
 * taken for nothing in particular. */
KTEST(dump, bitmap_live_pages)
{
	struct vm_object *obj = vm_object_allocate(OBJT_DEFAULT, 1);
	vm_paddr_t slab = vm_dmap_to_phys(obj);
	struct pmap pm;

	KT_ASSERT(dump_page_is_set(slab));
	vm_object_deallocate(obj);
	KT_ASSERT(dump_page_is_set(hc_dump_desc.kernel_cr3) ||
	    hc_dump_desc.kernel_cr3 < hc_dump_desc.kernel_end);
	KT_ASSERT_EQ(pmap_pinit(&pm), 0);
	vm_paddr_t root = pm.pm_cr3, uroot = pm.pm_ucr3;
	KT_ASSERT(dump_page_is_set(root));
	KT_ASSERT(dump_page_is_set(uroot));
	pmap_release(&pm);
	KT_ASSERT(!dump_page_is_set(root));
	KT_ASSERT(!dump_page_is_set(uroot));
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_WAITOK);
	KT_ASSERT(!dump_page_is_set(VM_PAGE_TO_PHYS(m)));
	vm_page_free(m);
}

KTEST(dump, layout_matches_offsetof)
{
	const uint32_t *t = vm_phys_to_dmap(hc_dump_desc.layout);

	KT_ASSERT_EQ(t[DL_VERSION], DL_LAYOUT_VERSION);
	KT_ASSERT_EQ(t[DL_PROC_SIZE], sizeof(struct proc));
	KT_ASSERT_EQ(t[DL_PROC_PID], offsetof(struct proc, p_pid));
	KT_ASSERT_EQ(t[DL_PROC_ALLNEXT], offsetof(struct proc, p_allnext));
	KT_ASSERT_EQ(t[DL_PROC_COMM_LEN], sizeof(((struct proc *)0)->p_comm));
	KT_ASSERT_EQ(t[DL_THREAD_STATE], offsetof(struct thread, td_state));
	KT_ASSERT_EQ(t[DL_TDS_SLEEPING], TDS_SLEEPING);
	KT_ASSERT_EQ(t[DL_MAP_HEADER], offsetof(struct vm_map, vmap_header));
	KT_ASSERT_EQ(t[DL_ENTRY_NEXT], offsetof(struct vm_map_entry, vme_next));
	KT_ASSERT_EQ(t[DL_OBJ_BACKING], offsetof(struct vm_object, vo_backing_object));
	KT_ASSERT_EQ(t[DL_OBJT_SWAP], OBJT_SWAP);
	/* No slot left out: every size is non-zero. */
	KT_ASSERT(t[DL_THREAD_SIZE] != 0 && t[DL_VMSPACE_SIZE] != 0 &&
	    t[DL_ENTRY_SIZE] != 0 && t[DL_OBJ_SIZE] != 0);
}

/* One refresh: each publication stable (even, non-zero, moved on), its data starting
 * with its magic, the streams' lengths what their writers say now. */
static void kd_check_pubs(uint64_t seq0[3], bool panicking)
{
	const uint32_t magics[3] = { VMMETER_MAGIC, UMA_STREAM_MAGIC, MALLOC_STREAM_MAGIC };

	dump_pub_refresh(panicking);
	/* After the refresh: a stream may have moved. */
	const uint64_t pas[3] = { hc_dump_desc.vmmeter, hc_dump_desc.uma_zones,
		hc_dump_desc.malloc_types };
	for (int i = 0; i < 3; i++) {
		const struct hc_pub *h = kd_pub(pas[i]);
		uint32_t magic;

		KT_ASSERT_MSG(h->pub_seq != 0 && (h->pub_seq & 1) == 0 && h->pub_seq > seq0[i],
		    "publication %d: seq %lu after %lu", i, (unsigned long)h->pub_seq,
		    (unsigned long)seq0[i]);
		KT_ASSERT(h->pub_len >= 4 && h->pub_len <= h->pub_cap);
		memcpy(&magic, h + 1, 4);
		KT_ASSERT_EQ(magic, magics[i]);
		KT_ASSERT(h->pub_time_ns != 0);
		seq0[i] = h->pub_seq;
	}
	KT_ASSERT_EQ(kd_pub(pas[1])->pub_len, uma_stats_stream(NULL, 0));
	KT_ASSERT_EQ(kd_pub(pas[2])->pub_len, malloc_stats_stream(NULL, 0));
	const struct vmmeter *vm = (const void *)(kd_pub(pas[0]) + 1);
	KT_ASSERT_EQ(vm->vm_size, sizeof(struct vmmeter));
	KT_ASSERT(vm->v_page_count > 0 && vm->v_free_count <= vm->v_page_count);
}

KTEST(dump, publish_seqlock)
{
	uint64_t seq[3] = { 0, 0, 0 };

	kd_check_pubs(seq, false);
	/* The panic path's refresh (no lock waited for) publishes the same way. */
	kd_check_pubs(seq, true);
}

/* The panic path with the locks its writers use held by the panicking thread itself:
 * no recursion on a lock (which would be a second panic), the counts still published
 * (read racily), a stream whose list lock is held left as it was; a zone whose own lock
 * is held is read without it. */
KTEST(dump, publish_with_locks_held)
{
	uint64_t seq[3] = { 0, 0, 0 };

	kd_check_pubs(seq, false);
	uma_stats_lock();
	malloc_types_lock(true);
	vm_phys_lock();
	dump_pub_refresh(true);
	vm_phys_unlock();
	malloc_types_unlock();
	uma_stats_unlock();
	const struct hc_pub *vm = kd_pub(hc_dump_desc.vmmeter);
	KT_ASSERT_EQ(vm->pub_seq, seq[0] + 2);
	KT_ASSERT_EQ(kd_pub(hc_dump_desc.uma_zones)->pub_seq, seq[1]);
	KT_ASSERT_EQ(kd_pub(hc_dump_desc.malloc_types)->pub_seq, seq[2]);
	KT_ASSERT(((const struct vmmeter *)(const void *)(vm + 1))->v_page_count > 0);

	uma_zone_t z = uma_zcreate("kd-locked", 64, NULL, NULL, NULL, NULL, 7, 0);
	seq[0] = vm->pub_seq;
	mtx_lock(&z->uz_lock);
	dump_pub_refresh(true);
	mtx_unlock(&z->uz_lock);
	uma_zdestroy(z);
	KT_ASSERT_EQ(kd_pub(hc_dump_desc.uma_zones)->pub_seq, seq[1] + 2);
	KT_ASSERT_EQ(kd_pub(hc_dump_desc.malloc_types)->pub_seq, seq[2] + 2);
}

/* Zones enough for UMA's stream to outgrow its buffer: the next refresh moves it to a
 * bigger one, in the dump bitmap, and the descriptor follows; the stream is whole. */
#define KD_MAXZONES     400
static uma_zone_t kd_zones[KD_MAXZONES];

KTEST(dump, publish_grows)
{
	uint64_t seq[3] = { 0, 0, 0 };
	uint64_t pa0 = hc_dump_desc.uma_zones;
	uint32_t cap0 = kd_pub(pa0)->pub_cap;
	int n = 0;

	while (uma_stats_stream(NULL, 0) <= cap0 && n < KD_MAXZONES)
		kd_zones[n++] = uma_zcreate("kd-grow", 64, NULL, NULL, NULL, NULL, 7, 0);
	KT_ASSERT_MSG(uma_stats_stream(NULL, 0) > cap0, "%d zones still fit %u bytes", n,
	    cap0);
	/* The panic path never allocates: its last snapshot stays, stable. */
	uint64_t s0 = kd_pub(pa0)->pub_seq;
	dump_pub_refresh(true);
	KT_ASSERT_EQ(hc_dump_desc.uma_zones, pa0);
	KT_ASSERT_EQ(kd_pub(pa0)->pub_seq, s0);
	kd_check_pubs(seq, false);
	uint64_t pa1 = hc_dump_desc.uma_zones;
	KT_ASSERT(pa1 != pa0);
	KT_ASSERT(kd_pub(pa1)->pub_cap >= kd_pub(pa1)->pub_len);
	KT_ASSERT(dump_page_is_set(pa1));
	/* The old buffer says it is torn: a reader that kept its address retries. */
	KT_ASSERT(kd_pub(pa0)->pub_seq & 1);
	for (int i = 0; i < n; i++)
		uma_zdestroy(kd_zones[i]);
	kd_check_pubs(seq, false);
	KT_ASSERT_EQ(hc_dump_desc.uma_zones, pa1);
}

KTEST(dump, stats_ms_parse)
{
	KT_ASSERT_EQ(dump_pub_parse_ms("1000"), 1000);
	KT_ASSERT_EQ(dump_pub_parse_ms("10"), 10);
	KT_ASSERT_EQ(dump_pub_parse_ms("3600000"), 3600000);
	KT_ASSERT_EQ(dump_pub_parse_ms("9"), 0);
	KT_ASSERT_EQ(dump_pub_parse_ms("3600001"), 0);
	KT_ASSERT_EQ(dump_pub_parse_ms("99999999999999999999999"), 0);
	KT_ASSERT_EQ(dump_pub_parse_ms("1e3"), 0);
	KT_ASSERT_EQ(dump_pub_parse_ms(""), 0);
	KT_ASSERT_EQ(dump_pub_parse_ms("-50"), 0);
}

/* The refresher at 20 ms: over ~200 ms it refreshes about ten times -- at least a
 * couple, never more than the time allows. Then at this boot's vm.stats_ms. */
KTEST(dump, refresher_follows_interval)
{
	static struct mtx kd_mtx;
	int chan;

	KT_ASSERT_EQ(dump_pub_interval_ns(), 0);
	uint64_t c0 = dump_pub_periodic_count(), t0 = tsc_nanotime();
	dump_pub_start(20);
	KT_ASSERT_EQ(dump_pub_interval_ns(), 20000000);
	mtx_lock(&kd_mtx);
	(void)vm_sleep(&chan, &kd_mtx, "kd-wait", 200000000);
	mtx_unlock(&kd_mtx);
	dump_pub_stop();
	uint64_t dt = tsc_nanotime() - t0, n = dump_pub_periodic_count() - c0;
	KT_ASSERT_MSG(n >= 2 && n <= dt / 20000000 + 1, "%lu refreshes in %lu ns at 20 ms",
	    (unsigned long)n, (unsigned long)dt);
	KT_ASSERT_EQ(dump_pub_interval_ns(), 0);

	/* The command line's period (or the default). */
	const char *v = bootinfo_arg("vm.stats_ms");
	uint64_t want = v != NULL ? dump_pub_parse_ms(v) : DUMP_PUB_MS_DEFAULT;
	dump_pub_start(0);
	KT_ASSERT_EQ(dump_pub_interval_ns(), want * 1000000);
	dump_pub_stop();
}
