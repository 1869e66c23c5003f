/*
 * A 4-level x86-64 page walk over guest memory.
 */
#include <string.h>

#include "vmm/guest_mem.h"
#include "vmm/gva.h"

#define GVA_CR0_PG      (1ull << 31)
#define GVA_CR4_LA57    (1ull << 12)
#define GVA_EFER_LMA    (1ull << 10)

static int gva_guest_read(const void *ctx, uint64_t pa, void *buf, size_t len)
{
	return guest_mem_read(ctx, pa, buf, len);
}

void gva_walk(gva_read_pa_fn read_pa, const void *ctx, uint64_t cr3, uint64_t va,
    struct gva_walk *w)
{
	uint64_t table = cr3 & GVA_PTE_ADDR;

	memset(w, 0, sizeof(*w));
	/* The CPU faults on a non-canonical address; the walk looks only at bits 47:12
	 * and would alias it to a canonical one. */
	if ((int64_t)va >> 47 != 0 && (int64_t)va >> 47 != -1) {
		w->gw_status = GVA_WALK_NONCANONICAL;
		return;
	}
	for (unsigned level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		unsigned idx = (unsigned)(va >> shift) & 511;
		uint64_t e;

		if (read_pa(ctx, table + idx * 8ull, &e, sizeof(e)) != 0) {
			w->gw_status = GVA_WALK_NO_TABLE;
			w->gw_table_missing = table;
			return;
		}
		struct gva_walk_level *lv = &w->gw_lv[w->gw_nlevels++];
		*lv = (struct gva_walk_level){ level, table, idx, e, 0 };
		if (!(e & GVA_PTE_P)) {
			w->gw_status = GVA_WALK_NOT_PRESENT;
			return;
		}
		if (level == 4 && (e & GVA_PTE_PS)) {
			w->gw_status = GVA_WALK_RESERVED;
			return;
		}
		/* PS at the PDPT (1 GiB) and PD (2 MiB) levels ends the walk. */
		if (level == 1 || (e & GVA_PTE_PS)) {
			uint64_t size = 1ull << shift;
			lv->wl_next = e & GVA_PTE_ADDR & ~(size - 1);
			w->gw_pa = lv->wl_next | (va & (size - 1));
			w->gw_page_size = size;
			w->gw_status = GVA_WALK_OK;
			return;
		}
		lv->wl_next = table = e & GVA_PTE_ADDR;
	}
}

const char *gva_walk_status_str(enum gva_walk_status st)
{
	switch (st) {
	case GVA_WALK_OK:
		return "mapped";
	case GVA_WALK_NONCANONICAL:
		return "not a canonical address";
	case GVA_WALK_NOT_PRESENT:
		return "not mapped";
	case GVA_WALK_RESERVED:
		return "reserved bit set (PS in a PML4 entry)";
	case GVA_WALK_NO_TABLE:
		return "page table not readable";
	}
	return "unknown";
}

int gva_translate(const struct guest_mem *gm, const struct gva_paging *pg, uint64_t gva,
    uint64_t *gpa)
{
	if (!(pg->gp_cr0 & GVA_CR0_PG)) {
		*gpa = (pg->gp_efer & GVA_EFER_LMA) ? gva : (uint32_t)gva;
		return 0;
	}
	if (!(pg->gp_efer & GVA_EFER_LMA) || (pg->gp_cr4 & GVA_CR4_LA57))
		return -1;
	struct gva_walk w;
	gva_walk(gva_guest_read, gm, pg->gp_cr3, gva, &w);
	if (w.gw_status != GVA_WALK_OK)
		return -1;
	*gpa = w.gw_pa;
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
