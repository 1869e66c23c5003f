/*
 * Helpers of the swap pager's tests (tests/vmtests/swap_tests.c, the VMTESTs, and
 * tests/unit/test_swap_pager.c, the host's threaded ones): an address space over the
 * memory swap device, accesses simulated as a CPU makes them, and the page daemon's
 * part done by hand (swt_evict), since the page daemon is another module's.
 *
 * Accesses: through the leaf entry read from the page tables, calling vm_fault only
 * when that entry does not allow the access, and setting the entry's accessed and
 * modified bits as the CPU would (pmap_remove_write turns the modified bit into
 * m->dirty, which is how the laundry knows a page needs writing).
 */
#ifndef TESTS_VMTESTS_SWAP_UTIL_H
#define TESTS_VMTESTS_SWAP_UTIL_H

#include <string.h>

#include "vm/pmap.h"
#include "vm/swap_pager.h"
#include "vm/vm_fault.h"
#include "vm/vm_mmap.h"
#include "vm/vm_object.h"
#include "vm/vm_pageout.h"
#include "vm/vm_pager.h"
#include "vm/vm_pagequeue.h"
#include "vm/vm_vmspace.h"
#include "tests/support/swap_memdev.h"
#include "tests/vmtests/vmtest.h"
#include "tests/vmtests/vmt_pmap.h"

#define SWT_MIN     0x10000000ul            /* 256 MiB */
#define SWT_MAX     0x20000000ul
#define SWT_VA      (SWT_MIN + 0x200000ul)  /* 2 MiB aligned */
#define SWT_VA2     (SWT_MIN + 0x1000000ul)
#define SWT_PROT    (LINUX_PROT_READ | LINUX_PROT_WRITE)
#define SWT_PRIV    (LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED)
#define SWT_MAXPG   128                     /* pages swt_evict takes at once */

struct swt {
	struct swap_memdev *md;
	int mode;                   /* the device's SMD_* now */
	struct vmspace *vm;
	uint64_t free0;
	int objs0;
	int rv;                     /* the last failed vm_fault's result */
	uint64_t faults;            /* vm_fault calls by swt_touch */
};

#define SWT_CHECK(cond, msg) do { if (!(cond)) return (msg); } while (0)

/* ---- accesses ------------------------------------------------------------------------ */

/* The leaf entry of va in vm's page tables, or NULL (a level missing). */
static inline uint64_t *swt_ptep(struct vmspace *vm, vm_offset_t va)
{
	uint64_t *t = vm_phys_to_dmap(vmspace_pmap(vm)->pm_cr3);

	for (int shift = 39; shift >= 21; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];
		if ((e & PG_V) == 0 || (e & PG_PS) != 0)
			return NULL;
		t = vm_phys_to_dmap(e & PG_FRAME);
	}
	return &t[(va >> PAGE_SHIFT) & 511];
}

/* The page at va as the CPU reaches it for a read or a write: a fault when the entry
 * does not allow it, then the entry's accessed (and modified) bit set. NULL when the
 * fault failed (t->rv says why). */
static inline uint64_t *swt_touch(struct swt *t, struct vmspace *vm, vm_offset_t va, bool write)
{
	uint64_t need = PG_V | (write ? PG_RW : 0), *pte = swt_ptep(vm, va);

	if (pte == NULL || (*pte & need) != need) {
		t->faults++;
		t->rv = vm_fault(vmspace_map(vm), va, write ? VM_PROT_WRITE : VM_PROT_READ, 0);
		if (t->rv != VM_FAULT_OK)
			return NULL;
		pte = swt_ptep(vm, va);
		if (pte == NULL || (*pte & need) != need) {
			t->rv = -1;
			return NULL;
		}
	}
	__atomic_or_fetch(pte, PG_A | (write ? PG_M : 0), __ATOMIC_RELAXED);
	return vm_phys_to_dmap(*pte & PG_FRAME);
}

/* Word k of the page at va with tag: different for every page, word and tag. */
static inline uint64_t swt_word(uint8_t tag, vm_offset_t va, size_t k)
{
	return ((uint64_t)tag << 56) ^ ((va + k * 8) * 0x9e3779b97f4a7c15ull);
}

/* Write all of n pages at va with tag's pattern. */
static inline bool swt_fill(struct swt *t, struct vmspace *vm, vm_offset_t va, int n, uint8_t tag)
{
	for (int i = 0; i < n; i++) {
		vm_offset_t a = va + ptoa(i);
		uint64_t *w = swt_touch(t, vm, a, true);
		if (w == NULL)
			return false;
		for (size_t k = 0; k < PAGE_SIZE / 8; k++)
			w[k] = swt_word(tag, a, k);
	}
	return true;
}

static inline bool swt_words_are(const uint64_t *w, uint8_t tag, vm_offset_t va)
{
	for (size_t k = 0; k < PAGE_SIZE / 8; k++)
		if (w[k] != swt_word(tag, va, k))
			return false;
	return true;
}

/* Do all of n pages at va read tag's pattern (reading them as the CPU would)? */
static inline bool swt_is(struct swt *t, struct vmspace *vm, vm_offset_t va, int n, uint8_t tag)
{
	for (int i = 0; i < n; i++) {
		vm_offset_t a = va + ptoa(i);
		const uint64_t *w = swt_touch(t, vm, a, false);
		if (w == NULL || !swt_words_are(w, tag, a)) {
			vmtest_log("swt_is: page %d at %#lx: %s, word 0 %#llx, want %#llx\n", i,
			    (unsigned long)a, w == NULL ? "fault failed" : "wrong bytes",
			    w == NULL ? 0ull : (unsigned long long)w[0],
			    (unsigned long long)swt_word(tag, a, 0));
			return false;
		}
	}
	return true;
}

/* Does the page at va read zero throughout? */
static inline bool swt_zero(struct swt *t, struct vmspace *vm, vm_offset_t va)
{
	const uint64_t *w = swt_touch(t, vm, va, false);

	if (w == NULL)
		return false;
	for (size_t k = 0; k < PAGE_SIZE / 8; k++)
		if (w[k] != 0)
			return false;
	return true;
}

/* The object of the entry at va, and va's index in it (no reference: these tests are
 * the only thread using the address space). */
static inline struct vm_object *swt_object(struct vmspace *vm, vm_offset_t va, vm_pindex_t *pi)
{
	struct vm_map *map = vmspace_map(vm);
	struct vm_map_entry *e;
	struct vm_object *obj = NULL;

	*pi = 0;
	vm_map_lock(map);
	if (vm_map_lookup_entry(map, va, &e)) {
		obj = e->vme_object;
		*pi = atop(e->vme_offset + (va - e->vme_start));
	}
	vm_map_unlock(map);
	return obj;
}

static inline uint64_t swt_block(struct vm_object *obj, vm_pindex_t pindex)
{
	vm_object_lock(obj);
	uint64_t blk = swap_meta_lookup(&obj->vo_swap, pindex);
	vm_object_unlock(obj);
	return blk;
}

/* ---- the daemon's part ------------------------------------------------------------- */

/* End what the device has queued (SMD_DEFER). => no locks held. */
static inline void swt_complete(struct swt *t)
{
	if (t->mode == SMD_DEFER || t->mode == SMD_POLL)
		swap_memdev_complete(t->md, 1 << 30);
	else if (t->mode == SMD_THREAD)
		swap_memdev_drain(t->md);
}

/*
 * Evict obj's resident pages in [start, end), as the daemon and the laundry would:
 * each page that is neither busy nor wired is exclusively busied and write-protected in
 * every pmap (pmap_remove_write: the mappings' modified bits become m->dirty); the dirty
 * ones go to vm_pager_anon's putpages in one call, in index order (the pager makes runs
 * of them), with flags; an asynchronous write is ended here (swt_complete); pages whose
 * write did not start are unbusied as the laundry would. Then each page that is clean
 * is freed the daemon's way: busied, its mappings removed (pmap_remove_all, which would
 * catch a last modified bit), vm_page_free_obj. Returns the pages freed; *putn (may be
 * NULL) the pages handed to putpages, rtvals (may be NULL) their results.
 */
static inline int swt_evict(struct swt *t, struct vm_object *obj, vm_pindex_t start,
    vm_pindex_t end, int flags, int *putn, int *rtv)
{
	vm_page_t ma[SWT_MAXPG], dirty[SWT_MAXPG];
	bool put[SWT_MAXPG];
	int rtvals[SWT_MAXPG], n = 0, nd = 0, freed = 0;

	vm_object_lock(obj);
	for (vm_page_t m = vm_page_find_least(obj, start); m != NULL && m->pindex < end &&
	    n < SWT_MAXPG; m = vm_page_next(m)) {
		if (vm_page_wired(m) || !vm_page_tryxbusy(m))
			continue;
		pmap_remove_write(m);
		put[n] = m->dirty != 0;
		ma[n++] = m;
		if (m->dirty != 0)
			dirty[nd++] = m;
	}
	if (nd > 0) {
		const struct vm_pager_ops *ops = __atomic_load_n(&vm_pager_anon,
		    __ATOMIC_ACQUIRE);
		if (ops != NULL)
			ops->pgo_putpages(obj, dirty, nd, flags, rtvals);
		for (int i = 0; i < nd; i++) {
			if (ops == NULL)
				rtvals[i] = VM_PAGER_AGAIN;
			if (rtvals[i] == VM_PAGER_AGAIN || rtvals[i] == VM_PAGER_ERROR)
				vm_page_xunbusy(dirty[i]);
			if (rtv != NULL)
				rtv[i] = rtvals[i];
		}
	}
	if (putn != NULL)
		*putn = nd;
	vm_object_unlock(obj);
	swt_complete(t);
	vm_object_lock(obj);
	for (int i = 0; i < n; i++) {
		vm_page_t m = ma[i];
		/* The clean ones are still ours; the others the pager (or we) unbusied. */
		if (put[i] && (m->object != obj || !vm_page_tryxbusy(m)))
			continue;
		pmap_remove_all(m);
		if (m->dirty == 0) {
			vm_page_free_obj(m);
			freed++;
		} else
			vm_page_xunbusy(m);
	}
	vm_object_unlock(obj);
	return freed;
}

/* swt_evict of n pages at va in vm (one entry's). */
static inline int swt_evict_va(struct swt *t, struct vmspace *vm, vm_offset_t va, int n,
    int flags, int *putn)
{
	vm_pindex_t pi = 0;
	struct vm_object *obj = swt_object(vm, va, &pi);

	return obj == NULL ? -1 : swt_evict(t, obj, pi, pi + (vm_pindex_t)n, flags, putn, NULL);
}

static inline void swt_mode(struct swt *t, int mode)
{
	swap_memdev_set_mode(t->md, mode);
	t->mode = mode;
}

/* ---- set-up and teardown --------------------------------------------------------------- */

/* A device was attached already (the guest's own swap): the case is skipped. */
static bool swt_skip __attribute__((unused));

/* A fresh device of nblocks (requests of at most maxpages) whose requests end as mode
 * says (SMD_*; SMD_THREAD's thread on CPU cpu), attached; an address space. NULL, or
 * what failed (or swt_skip). */
static inline const char *swt_begin_mode(struct swt *t, uint64_t nblocks, int maxpages,
    int mode, int cpu)
{
	struct swap_memdev_config cfg = { nblocks, maxpages, mode, cpu };

	memset(t, 0, sizeof(*t));
	swt_skip = false;
	pmap_init();
	/* A device attached and taken away first: the kmalloc size classes of its
	 * allocator and of the device (made at their first use, kept for good) exist
	 * before the free pages are counted. */
	t->md = swap_memdev_create(&cfg);
	if (swap_pager_attach(swap_memdev_dev(t->md)) == 0)
		SWT_CHECK(swap_pager_swapoff() == 0, "the warm-up's swapoff");
	swap_memdev_destroy(t->md);
	t->free0 = vmt_free_pages();
	t->objs0 = vm_object_count();
	t->md = swap_memdev_create(&cfg);
	t->mode = mode;
	int rv = swap_pager_attach(swap_memdev_dev(t->md));
	if (rv == EBUSY) {
		vmtest_log("swap: a swap device is attached already: case skipped\n");
		swap_memdev_destroy(t->md);
		swt_skip = true;
		return NULL;
	}
	SWT_CHECK(rv == 0, "swap_pager_attach");
	SWT_CHECK(vm_pager_anon == &swap_pager_ops, "vm_pager_anon is not the swap pager");
	t->vm = vmspace_alloc(SWT_MIN, SWT_MAX);
	SWT_CHECK(t->vm != NULL, "vmspace_alloc");
	return NULL;
}

static inline const char *swt_begin(struct swt *t, uint64_t nblocks, int maxpages)
{
	return swt_begin_mode(t, nblocks, maxpages, SMD_SYNC, 0);
}

/* Free the address space, check that no block is in use, swapoff, destroy the device,
 * check that no object, swap metadata or page leaked. => why (the case's failure, kept),
 * or the first thing found wrong. */
static inline const char *swt_end(struct swt *t, const char *why)
{
	struct swap_pager_stats st;

	if (t->vm != NULL)
		vmspace_free(t->vm);
	t->vm = NULL;
	swap_memdev_fail_every(t->md, 0, 0);
	swap_memdev_refuse(t->md, 0);
	swt_complete(t);
	swap_pager_stats(&st);
	if (swap_pager_device() == swap_memdev_dev(t->md)) {
		if (why == NULL && st.sps_used != 0)
			why = "a swap block is still in use with every object gone";
		if (why == NULL && st.sps_objects != 0)
			why = "an object is still on the swap pager's list";
		if (why == NULL && st.sps_free + st.sps_bad != st.sps_total)
			why = "blocks neither free nor bad";
		int rv = swap_pager_swapoff();
		if (why == NULL && rv != 0)
			why = "the last swapoff";
		if (rv != 0)
			return why;     /* the device is still attached: keep it */
	}
	if (why == NULL && (vm_pager_anon != NULL || swap_pager_device() != NULL))
		why = "the pager is still attached after swapoff";
	if (why == NULL && swap_memdev_pending(t->md) != 0)
		why = "a request is still queued";
	swap_memdev_destroy(t->md);
	if (why == NULL && vm_object_count() != t->objs0)
		why = "an object leaked";
	if (why == NULL && swap_meta_nswblks() + swap_meta_nnodes() != 0)
		why = "swap metadata leaked";
	uint64_t f = vmt_free_pages();
	if (why == NULL && f != t->free0) {
		vmtest_log("swap: %lld pages leaked\n", (long long)(t->free0 - f));
		why = "a page leaked";
	}
	return why;
}

typedef const char *swt_case_fn(struct swt *t, int arg);

static inline const char *swt_run(swt_case_fn *fn, int arg, uint64_t nblocks, int maxpages)
{
	struct swt t;
	const char *why = swt_begin(&t, nblocks, maxpages);

	if (swt_skip)
		return NULL;
	if (why == NULL)
		why = fn(&t, arg);
	return swt_end(&t, why);
}

#define SWT_RUN(fn, arg, nblocks, maxpages) do {                                   \
	const char *why_ = swt_run(fn, arg, nblocks, maxpages);                     \
	VMT_ASSERT_MSG(why_ == NULL, "%s(%d): %s", #fn, (int)(arg), why_);          \
} while (0)

static inline long swt_mmap(struct vmspace *vm, vm_offset_t va, int n)
{
	return vm_mmap(vmspace_map(vm), va, ptoa(n), SWT_PROT, SWT_PRIV);
}

#endif /* TESTS_VMTESTS_SWAP_UTIL_H */
