/*
 * Suite "kreq": what the kernel asks of its CPL 0 stubs (amd64/kreq.h), counted. Each
 * request is a trap into CPL 0 (~13 us on kvm_pvm), so pmap's invalidations must be one
 * request for a range, and one for a whole flush, whatever the range's size.
 */
#include "amd64/kreq.h"
#include "amd64/trap.h"
#include "kern/ktest.h"
#include "kern/systm.h"

#include "vm/pmap.h"
#include "vm/vm_page.h"
#include "guest/amd64/pmap_int.h"

#define KK_VA       0x40000000ul
#define KK_NPAGES   (PMAP_INVL_MAX_PAGES + 8)

static uint64_t kk_count(int op)
{
	return __atomic_load_n(&kreq_counts[op], __ATOMIC_RELAXED);
}

KTEST(kreq, invalidation_one_request)
{
	static vm_page_t m[KK_NPAGES];
	struct pmap p;

	KT_ASSERT_EQ(pmap_pinit(&p), 0);
	for (int i = 0; i < KK_NPAGES; i++)
		m[i] = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_WAITOK);
	pmap_activate(&p);
	for (int i = 0; i < KK_NPAGES; i++)
		KT_ASSERT_EQ(pmap_enter(&p, KK_VA + ptoa(i), m[i], VM_PROT_READ | VM_PROT_WRITE,
		    VM_PROT_READ), 0);
	/* Up to PMAP_INVL_MAX_PAGES pages of the loaded pmap: one range request. */
	uint64_t r0 = kk_count(KREQ_INVL_RANGE), f0 = kk_count(KREQ_FLUSH);
	uint64_t c0 = kk_count(KREQ_LOAD_CR3) + kk_count(KREQ_RCR3);
	pmap_remove(&p, KK_VA, KK_VA + ptoa(PMAP_INVL_MAX_PAGES));
	KT_ASSERT_EQ(kk_count(KREQ_INVL_RANGE) - r0, 1u);
	KT_ASSERT_EQ(kk_count(KREQ_FLUSH) - f0, 0u);
	/* More (8): one flush, no root reload of its own. */
	pmap_remove(&p, KK_VA + ptoa(PMAP_INVL_MAX_PAGES), KK_VA + ptoa(KK_NPAGES));
	KT_ASSERT_EQ(kk_count(KREQ_INVL_RANGE) - r0, 1u);
	KT_ASSERT_EQ(kk_count(KREQ_FLUSH) - f0, 1u);
	KT_ASSERT_EQ(kk_count(KREQ_LOAD_CR3) + kk_count(KREQ_RCR3) - c0, 0u);
	pmap_activate(kernel_pmap);
	pmap_release(&p);
	for (int i = 0; i < KK_NPAGES; i++)
		vm_page_free(m[i]);
}
