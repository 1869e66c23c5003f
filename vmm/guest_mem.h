/*
 * Guest RAM as the host sees it: one anonymous private mapping cut into the
 * guest-physical ranges the VM exposes (below the PCI hole, and above 4 GiB when the
 * guest has more than 3 GiB). Every guest-physical address the host is handed goes
 * through guest_mem_ptr(); nothing else in the VMM computes a host pointer from a gpa.
 */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_SLOTS 2

struct guest_mem_slot {
	uint64_t gms_gpa;           /* first guest-physical byte */
	uint64_t gms_size;          /* bytes, a multiple of the page size, > 0 */
	uint8_t *gms_host;          /* host address of gms_gpa */
};

struct guest_mem {
	uint8_t *gm_base;           /* the whole mapping */
	uint64_t gm_ram_size;       /* bytes of RAM = bytes mapped */
	unsigned gm_nslots;
	struct guest_mem_slot gm_slots[GUEST_MEM_MAX_SLOTS];
};

/*
 * Map ram_size bytes (page multiple, > 0) of fresh zeroed memory and lay it out below
 * the PCI hole and above 4 GiB. => 0, or -1 with errno set (ENOMEM, EINVAL).
 */
int guest_mem_init(struct guest_mem *gm, uint64_t ram_size);
void guest_mem_destroy(struct guest_mem *gm);

/*
 * The host address of guest-physical [gpa, gpa + len), or NULL when any byte of it is
 * not guest RAM: outside every slot, in the hole, straddling two slots, or wrapping
 * around 2^64. A zero-length range is valid anywhere from a slot's first byte up to and
 * including its end.
 */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copy between guest RAM and the host. => 0, or -1 when the range is not RAM. */
int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len);
int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);

/*
 * Give the pages of a page-aligned range back to the host: afterwards they read as zero.
 * => 0, or -1 when the range is not RAM or not page aligned.
 */
int guest_mem_discard(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/*
 * Fault in the host pages of [gpa, gpa + len) (widened to whole pages) writable, in one
 * system call, before the VMM writes them: cheaper than a page fault per page. Only a
 * hint: => 0, or -1 when the range is not RAM or the kernel cannot (the pages then fault
 * in one by one as usual).
 */
int guest_mem_populate(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Highest guest-physical address + 1 below the PCI hole. */
uint64_t guest_mem_low_end(const struct guest_mem *gm);

#endif /* VMM_GUEST_MEM_H */
