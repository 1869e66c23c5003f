/*
 * pmap's inline half on x86-64: what vm/pmap.h's pmap_enter_new is, so that the
 * zero-fill fault (vm/vm_fault.c) enters its page without a call. vm/ reaches it through
 * <pmap_impl.h> (the guest's guest/kern/pmap_impl.h and the host test platform's
 * tests/support/pmap_impl.h both include this header), never directly; pmap.c includes
 * it too, for the same code out of line and for what it shares with the other enters.
 *
 * Everything here runs on the fault's fast path: whatever is not (the page-table walk
 * of a cache miss, an entry already in the way) is a call into pmap.c, cold, so that
 * the caller keeps nothing in registers for it.
 */
#ifndef AMD64_PMAP_INLINE_H
#define AMD64_PMAP_INLINE_H

#include "vm/pmap.h"
#include "vm/vm_errno.h"
#include "vm/vm_page.h"
#include "guest/amd64/pmap_int.h"

/* The leaf bits each protection (VM_PROT_ALL's 3 bits) gives (pmap.c): one load where
 * the tests of prot were branches. */
extern const uint64_t pmap_prot_bits[VM_PROT_ALL + 1];

/* pmap_pte_cached's miss: the walk (allocating missing tables) and the cache set to its
 * table; NULL on a shortage. */
uint64_t *pmap_pte_cache_fill(pmap_t pmap, vm_offset_t va, vm_page_t *ptpp)
    __attribute__((cold));
/* The general enter, where a one-page enter found an entry in the way (newpte: what
 * pmap_leaf_bits made of prot and flags, which it gives back). */
int pmap_enter_again(pmap_t pmap, vm_offset_t va, vm_page_t m, uint64_t newpte)
    __attribute__((cold));
/* pmap_enter of m with PMAP_ENTER_COPY and not PMAP_ENTER_WIRED in flags (vm/pmap.h):
 * the COW fault calls it without pmap_enter's dispatch. */
int pmap_enter_copy(pmap_t pmap, vm_offset_t va, vm_page_t m, vm_prot_t prot, int flags);
#ifdef INVARIANTS
/* Panics unless pte and ptp are what a walk of pmap finds for va. */
void pmap_ptc_verify(pmap_t pmap, vm_offset_t va, uint64_t *pte, vm_page_t ptp);
#endif

static inline bool pmap_managed(vm_page_t m)
{
	return (m->flags & (PG_UNMANAGED | PG_FICTITIOUS)) == 0;
}

/* The leaf bits prot and flags give, for a write-back page, without its address. PG_M
 * goes with PG_RW where the access writes or the page is dirty anyway. */
static inline uint64_t pmap_access_bits(vm_prot_t prot, int flags)
{
	uint64_t e = pmap_prot_bits[prot & VM_PROT_ALL];

	if ((flags & (VM_PROT_WRITE | PMAP_ENTER_DIRTY)) != 0 && (e & PG_RW) != 0)
		e |= PG_M;
	if (flags & PMAP_ENTER_WIRED)
		e |= PG_W;
	return e;
}

/* The leaf entry for m under prot and flags, without the page-specific PG_MANAGED. */
static inline uint64_t pmap_leaf_bits(vm_page_t m, vm_prot_t prot, int flags)
{
	uint64_t e = pmap_access_bits(prot, flags);

	/* PAT index bits 0, 1, 2 are PWT, PCD and (in a 4 KiB entry) bit 7. */
	uint8_t pat = m->md.pat_mode;
	if (__predict_false(pat != 0))  /* write-back, index 0, is nearly every page's */
		e |= (pat & 1 ? PG_PWT : 0) | (pat & 2 ? PG_PCD : 0) | (pat & 4 ? PG_PS : 0);
	/* The address last: prot and flags are dead across its out-of-line case. */
	return e | VM_PAGE_TO_PHYS(m);
}

/* pmap_leaf_bits of a fresh page (PMAP_ENTER_NEW, PMAP_ENTER_COPY): write-back, as a
 * page is from the allocator until its owner sets another mode, which nobody has yet. */
static inline uint64_t pmap_leaf_bits_fresh(vm_page_t m, vm_prot_t prot, int flags)
{
	KASSERT(m->md.pat_mode == 0, ("pmap_enter: fresh page %#llx has PAT mode %d",
	    (unsigned long long)VM_PAGE_TO_PHYS(m), m->md.pat_mode));
	return pmap_access_bits(prot, flags) | VM_PAGE_TO_PHYS(m);
}

/*
 * The PT entry for va and its table's page: from the pmap's cache when va is in the
 * 2 MiB it names, else walked (allocating the missing tables) and cached. A deferred
 * store (pmap_int.h) is made first: anything that reads a table must see it.
 * => pmap locked. NULL when a table could not be had (nothing changed).
 */
static inline uint64_t *pmap_pte_cached(pmap_t pmap, vm_offset_t va, vm_page_t *ptpp)
{
	uint64_t *pte;

	pmap_md_pte_flush();
	if ((va & ~(vm_offset_t)(NBPDR - 1)) == pmap->pm_ptc_va) {
		pte = &pmap->pm_ptc[pmap_pt_index(va)];
		*ptpp = pmap->pm_ptc_page;
#ifdef INVARIANTS
		pmap_ptc_verify(pmap, va, pte, *ptpp);
#endif
		return pte;
	}
	return pmap_pte_cache_fill(pmap, va, ptpp);
}

/*
 * pmap_enter of one fresh page (PMAP_ENTER_NEW), the zero-fill fault's: the pmap's
 * lock alone (nobody else can reach m, so its pv slot needs no pv lock), the page table
 * from the pmap's cache when the last such enter was in the same 2 MiB (no walk, no
 * PHYS_TO_VM_PAGE for its use count), no batch (an empty slot needs no invalidation).
 * An entry already there sends the page to the general path. => 0, or ENOMEM on a
 * shortage (nothing changed).
 */
static inline __attribute__((always_inline)) int pmap_enter_new(pmap_t pmap,
    vm_offset_t va, vm_page_t m, vm_prot_t prot, int flags)
{
	uint64_t newpte = pmap_leaf_bits_fresh(m, prot, flags), *pte;
	vm_page_t ptp;

	KASSERT((flags & PMAP_ENTER_NEW) != 0 && (va & PAGE_MASK) == 0 &&
	    (pmap == kernel_pmap ? va - (vm_offset_t)KVA_BASE < (vm_offset_t)KVA_SIZE :
	    va < VM_MAXUSER_ADDRESS),
	    ("pmap_enter_new: bad address %#lx or flags %#x for pmap %p", (unsigned long)va,
	    flags, (void *)pmap));
	/* A fresh page (managed: PMAP_ENTER_NEW's pages are an object's) has no mapping:
	 * its first goes into its own pv slot, so there is nothing to allocate but page
	 * tables. */
	KASSERT(pmap_managed(m) && m->md.pv_first.pv_pmap == NULL,
	    ("pmap_enter_new: page %#llx is unmanaged or mapped",
	    (unsigned long long)VM_PAGE_TO_PHYS(m)));
	newpte |= PG_MANAGED;
	mtx_lock(&pmap->pm_mtx);
	/* pmap_pte_cached's two cases apart, so that the hit does not test for the
	 * miss's NULL nor keep the table's page in a register across the rest. */
	pmap_md_pte_flush();
	if (__predict_true((va & ~(vm_offset_t)(NBPDR - 1)) == pmap->pm_ptc_va)) {
		pte = &pmap->pm_ptc[pmap_pt_index(va)];
#ifdef INVARIANTS
		pmap_ptc_verify(pmap, va, pte, pmap->pm_ptc_page);
#endif
	} else if ((pte = pmap_pte_cache_fill(pmap, va, &ptp)) == NULL) {
		mtx_unlock(&pmap->pm_mtx);
		return ENOMEM;
	}
	if (__predict_false(*pte & PG_V)) {
		mtx_unlock(&pmap->pm_mtx);
		return pmap_enter_again(pmap, va, m, newpte);
	}
	/* The cache names the table in either case now (a fill sets it). */
	pmap->pm_ptc_page->md.md_pt_use++;
	m->md.pv_first.pv_pmap = pmap;
	m->md.pv_first.pv_va = va;
	pmap->pm_stats.resident_count++;
	if ((flags & PMAP_ENTER_WIRED) != 0)    /* PG_W's source: folds for a constant */
		pmap->pm_stats.wired_count++;
	if (pmap == kernel_pmap || !pmap_md_pte_defer(pte, newpte))
		__atomic_store_n(pte, newpte, __ATOMIC_RELEASE);
	if ((newpte & PG_RW) != 0)
		__atomic_fetch_or(&m->aflags, PGA_WRITEABLE, __ATOMIC_RELAXED);
	mtx_unlock(&pmap->pm_mtx);
	return 0;
}

#endif /* AMD64_PMAP_INLINE_H */
