/*
 * The machine-dependent part of struct vm_page on x86-64: what pmap keeps per physical
 * page. vm/ reaches it through <vm_platform_impl.h> (the guest's, and the host test
 * platform's, which builds pmap on the host and so uses this same header).
 *
 * All-zero is a page with no mappings, write-back: vm_page's rule that an all-zero
 * struct is a free, unused page holds for this part too, so boot never writes it.
 *
 * Locking: the pv list lock of the page (pmap.c), once pmap exists.
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
	uint16_t md_spare;
};

#endif /* AMD64_MD_PAGE_H */
