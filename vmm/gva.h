/*
 * Guest-virtual to guest-physical translation by walking the guest's own page tables
 * through the guest-memory accessor: for reporting what the guest was executing when it
 * died, never on a hot path.
 */
#ifndef VMM_GVA_H
#define VMM_GVA_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;

/* x86-64 page-table entry bits, for every walker in vmm/ (live memory, dumps). */
#define GVA_PTE_P       (1ull << 0)
#define GVA_PTE_RW      (1ull << 1)
#define GVA_PTE_US      (1ull << 2)
#define GVA_PTE_PWT     (1ull << 3)
#define GVA_PTE_PCD     (1ull << 4)
#define GVA_PTE_A       (1ull << 5)
#define GVA_PTE_D       (1ull << 6)
#define GVA_PTE_PS      (1ull << 7)
#define GVA_PTE_G       (1ull << 8)
#define GVA_PTE_NX      (1ull << 63)
#define GVA_PTE_ADDR    0x000ffffffffff000ull   /* a table's or a 4 KiB page's frame */

enum gva_walk_status {
	GVA_WALK_OK = 0,        /* gw_pa is the translation */
	GVA_WALK_NONCANONICAL,  /* va is not a canonical 48-bit address */
	GVA_WALK_NOT_PRESENT,   /* the last level read has P clear: not mapped */
	GVA_WALK_RESERVED,      /* PS set in a PML4 entry */
	GVA_WALK_NO_TABLE,      /* a table page could not be read */
};

struct gva_walk_level {
	unsigned wl_level;      /* 4 PML4, 3 PDPT, 2 PD, 1 PT */
	uint64_t wl_table;      /* the table's physical address */
	unsigned wl_index;
	uint64_t wl_entry;      /* raw */
	uint64_t wl_next;       /* the next table or the page frame the entry names */
};

struct gva_walk {
	enum gva_walk_status gw_status;
	unsigned gw_nlevels;            /* levels read (entries in gw_lv) */
	struct gva_walk_level gw_lv[4];
	uint64_t gw_table_missing;      /* GVA_WALK_NO_TABLE: which table */
	uint64_t gw_pa;                 /* GVA_WALK_OK */
	uint64_t gw_page_size;          /* GVA_WALK_OK: 4 KiB, 2 MiB or 1 GiB */
};

/* Copy len bytes at physical pa into buf. => 0, or -1 when not readable. */
typedef int (*gva_read_pa_fn)(const void *ctx, uint64_t pa, void *buf, size_t len);

/*
 * The 4-level long-mode walk of va from the tables rooted at cr3 (its frame bits),
 * reading entries through read_pa: each level's entry recorded in *w (always filled).
 * 1 GiB and 2 MiB pages end it; PS in a PML4 entry is reserved.
 */
void gva_walk(gva_read_pa_fn read_pa, const void *ctx, uint64_t cr3, uint64_t va,
    struct gva_walk *w);

/* A word for a walk's status, for messages. */
const char *gva_walk_status_str(enum gva_walk_status st);

/* The paging state of a vCPU that the walk needs. */
struct gva_paging {
	uint64_t gp_cr0, gp_cr3, gp_cr4, gp_efer;
};

/*
 * Translate gva. Paging off: gva is physical (truncated to 32 bits outside long mode).
 * Long mode: the 4-level walk, honouring 1 GiB and 2 MiB pages. => 0 with *gpa set, or
 * -1 when a level is not present, a table is not RAM, or the mode is one we do not walk
 * (32-bit paging, 5-level paging).
 */
int gva_translate(const struct guest_mem *gm, const struct gva_paging *pg, uint64_t gva,
    uint64_t *gpa);

/* Read up to len bytes at gva, page by page. => the number of bytes read. */
size_t gva_read(const struct guest_mem *gm, const struct gva_paging *pg, uint64_t gva,
    void *buf, size_t len);

#endif /* VMM_GVA_H */
