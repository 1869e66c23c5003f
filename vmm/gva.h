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
