/*
 * A 4-level x86-64 page walk over guest memory.
 */
#include <string.h>

#include "vmm/guest_mem.h"
#include "vmm/gva.h"

#define GVA_CR0_PG      (1ull << 31)
#define GVA_CR4_LA57    (1ull << 12)
#define GVA_EFER_LMA    (1ull << 10)
#define GVA_PTE_P       0x1ull
#define GVA_PTE_PS      0x80ull
#define GVA_PTE_ADDR    0x000ffffffffff000ull   /* bits 51:12 */

int gva_translate(const struct guest_mem *gm, const struct gva_paging *pg, uint64_t gva,
    uint64_t *gpa)
{
	if (!(pg->gp_cr0 & GVA_CR0_PG)) {
		*gpa = (pg->gp_efer & GVA_EFER_LMA) ? gva : (uint32_t)gva;
		return 0;
	}
	if (!(pg->gp_efer & GVA_EFER_LMA) || (pg->gp_cr4 & GVA_CR4_LA57))
		return -1;
	/* The CPU faults on a non-canonical address; the walk below looks only at bits
	 * 47:12 and would alias it to a canonical one. */
	if ((uint64_t)((int64_t)(gva << 16) >> 16) != gva)
		return -1;

	uint64_t table = pg->gp_cr3 & GVA_PTE_ADDR;
	for (int level = 3; level >= 0; level--) {
		unsigned shift = 12 + 9 * (unsigned)level;
		uint64_t idx = (gva >> shift) & 0x1ff, pte;

		if (guest_mem_read(gm, table + idx * 8, &pte, sizeof(pte)) != 0)
			return -1;
		if (!(pte & GVA_PTE_P))
			return -1;
		/* PS at the PDPT (1 GiB) and PD (2 MiB) levels ends the walk. */
		if ((level == 2 || level == 1) && (pte & GVA_PTE_PS)) {
			uint64_t mask = (1ull << shift) - 1;
			*gpa = (pte & GVA_PTE_ADDR & ~mask) | (gva & mask);
			return 0;
		}
		table = pte & GVA_PTE_ADDR;
	}
	*gpa = table | (gva & 0xfff);
	return 0;
}

size_t gva_read(const struct guest_mem *gm, const struct gva_paging *pg, uint64_t gva,
    void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		uint64_t gpa, va = gva + done;
		size_t chunk = 4096 - (size_t)(va & 0xfff);

		if (chunk > len - done)
			chunk = len - done;
		if (gva_translate(gm, pg, va, &gpa) != 0 ||
		    guest_mem_read(gm, gpa, (char *)buf + done, chunk) != 0)
			break;
		done += chunk;
	}
	return done;
}
