/*
 * The machine-dependent part of struct vm_page on x86-64: what pmap keeps per physical
 * page. vm/ reaches it through <vm_platform_impl.h> (the guest's, and the host test
 * platform's, which builds pmap on the host and so uses this same header).
 *
 * All-zero is a page with no mappings, write-back: vm_page's rule that an all-zero
 * struct is a free, unused page holds for this part too, so boot never writes it.
 *
 * Locking: pv_first (and the entries linked from it), pat_mode: pmap's pv lock
 * (pmap.c), or nothing for a page nobody else can reach yet (pmap.h's PMAP_ENTER_NEW);
 * md_pt_use: the lock of the pmap the page-table page belongs to.
 */
#ifndef AMD64_MD_PAGE_H
#define AMD64_MD_PAGE_H

#include <stdint.h>

struct pmap;

/* One mapping of a managed page: (pmap, va). */
struct pv_entry {
	struct pv_entry *pv_next;   /* the page's next mapping (from pmap's UMA zone) */
	struct pmap *pv_pmap;       /* NULL only in an empty md_page.pv_first */
	uint64_t pv_va;
};

struct md_page {
	/* The page's mappings: the first in the page itself, so that a page mapped once
	 * (nearly every anonymous page) costs no allocation when it is mapped; any more
	 * come from UMA, linked from pv_first.pv_next. pv_first.pv_pmap NULL: no mapping
	 * (and pv_next NULL too). Removing the first moves the second into it. */
	struct pv_entry pv_first;
	uint8_t pat_mode;           /* PAT index of the page's mappings; 0 is write-back */
	uint8_t md_flags;           /* MDP_* (pmap.c); none defined yet */
	/* A page-table page's count of valid entries (pmap.c frees it when the count
	 * drops to zero; 512 fits). Unused (zero) on every other page. */
	uint16_t md_pt_use;
	uint32_t md_spare;
};

#endif /* AMD64_MD_PAGE_H */
