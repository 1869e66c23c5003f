/*
 * The machine-dependent part of struct vm_page on x86-64: what pmap keeps per physical
 * page. vm/ reaches it through <vm_platform_impl.h> (the guest's, and the host test
 * platform's, which builds pmap on the host and so uses this same header).
 *
 * All-zero is a page with no mappings, write-back: vm_page's rule that an all-zero
 * struct is a free, unused page holds for this part too, so boot never writes it.
 *
 * Locking: pv_list, pv_gen, pat_mode: pmap's pv lock (pmap.c); md_pt_use: the lock of the
 * pmap the page-table page belongs to.
 */
#ifndef AMD64_MD_PAGE_H
#define AMD64_MD_PAGE_H

#include <stdint.h>

struct pv_entry;

struct md_page {
	struct pv_entry *pv_list;   /* the page's pv entries (one per mapping); NULL: none */
	uint32_t pv_gen;            /* bumped at each change of pv_list, so a lockless
	                               walker can tell that it must start again */
	uint8_t pat_mode;           /* PAT index of the page's mappings; 0 is write-back */
	uint8_t md_flags;           /* MDP_* (pmap.c) */
	/* A page-table page's count of valid entries (pmap.c frees it when the count
	 * drops to zero; 512 fits). Unused (zero) on every other page. */
	uint16_t md_pt_use;
};

#endif /* AMD64_MD_PAGE_H */
