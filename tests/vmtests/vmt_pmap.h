/*
 * Helpers for tests that read back what pmap wrote (tests/vmtests, tests/unit): a
 * page-table walker of their own (sharing nothing with guest/amd64/pmap.c but the bit
 * names) and a free-page count that pmap's and UMA's caches do not blur.
 */
#ifndef TESTS_VMTESTS_VMT_PMAP_H
#define TESTS_VMTESTS_VMT_PMAP_H

#include "guest/amd64/pmap_int.h"
#include "vm/vm_page.h"

/*
 * The leaf entry for va under the root at physical address root, read level by level;
 * 0 when a level is missing. An upper level that is not what pmap must write (valid,
 * writable, accessed, not large, not NX, user-accessible: the kernel runs at CPL 3)
 * gives 0 and *why says which (why may be NULL).
 */
uint64_t vmt_pt_walk(vm_paddr_t root, vm_offset_t va, const char **why);

/* Free pages with UMA's caches emptied, counting the wholly free slabs of type-stable
 * kegs (UMA's bucket zones, which no reclaim shrinks) as free; the first call warms
 * pmap's pv zone with two mappings of a page made and undone (the first is kept in the
 * page itself, the second takes a UMA entry), so that UMA's own pages exist before
 * anyone counts. */
uint64_t vmt_free_pages(void);

/* The count alone, without the warm-up: for suites that warm up what they use first. */
uint64_t vmt_count_free_pages(void);

#endif
