/*
 * Guest RAM: one mapping, at most two slots, one bounds-checked translation.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "devices/pvh.h"
#include "vmm/guest_mem.h"
#include "vmm/vmm.h"

#define GUEST_MEM_PAGE  4096ull

int guest_mem_init(struct guest_mem *gm, uint64_t ram_size)
{
	memset(gm, 0, sizeof(*gm));
	if (ram_size == 0 || ram_size % GUEST_MEM_PAGE != 0 || ram_size > SIZE_MAX) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * MAP_NORESERVE: the guest rarely touches all of its RAM and discarded pages go
	 * back to the host, so committing it all up front would only make large guests
	 * fail on hosts with strict overcommit. Fresh anonymous memory reads as zero,
	 * which the guest relies on (no memset here: it would touch every page).
	 */
	void *p = mmap(NULL, (size_t)ram_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	gm->gm_base = p;
	gm->gm_ram_size = ram_size;

	uint64_t low = ram_size < PVH_PCI_HOLE_START ? ram_size : PVH_PCI_HOLE_START;
	gm->gm_slots[0] = (struct guest_mem_slot){ 0, low, gm->gm_base };
	gm->gm_nslots = 1;
	if (ram_size > low) {
		gm->gm_slots[1] = (struct guest_mem_slot){ PVH_HIGHMEM_START, ram_size - low,
			gm->gm_base + low };
		gm->gm_nslots = 2;
	}
	return 0;
}

void guest_mem_destroy(struct guest_mem *gm)
{
	if (gm->gm_base != NULL)
		munmap(gm->gm_base, (size_t)gm->gm_ram_size);
	memset(gm, 0, sizeof(*gm));
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < gm->gm_nslots; i++) {
		const struct guest_mem_slot *s = &gm->gm_slots[i];

		/* Compare offsets, never gpa + len, so no sum can wrap. */
		if (gpa < s->gms_gpa)
			continue;
		uint64_t off = gpa - s->gms_gpa;
		if (off > s->gms_size || len > s->gms_size - off)
			continue;
		return s->gms_host + off;
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	const void *src = guest_mem_ptr(gm, gpa, len);

	if (src == NULL)
		return -1;
	if (len != 0)
		memcpy(dst, src, (size_t)len);
	return 0;
}

int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = guest_mem_ptr(gm, gpa, len);

	if (dst == NULL)
		return -1;
	if (len != 0)
		memcpy(dst, src, (size_t)len);
	return 0;
}

int guest_mem_discard(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (gpa % GUEST_MEM_PAGE != 0 || len % GUEST_MEM_PAGE != 0)
		return -1;
	void *p = guest_mem_ptr(gm, gpa, len);
	if (p == NULL)
		return -1;
	if (len == 0)
		return 0;
	/*
	 * On a private anonymous mapping MADV_DONTNEED frees the pages now and the next
	 * touch maps the shared zero page or a fresh zeroed one; KVM's MMU notifier drops
	 * the guest's mappings of them first.
	 */
	return madvise(p, (size_t)len, MADV_DONTNEED);
}

int guest_mem_populate(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (guest_mem_ptr(gm, gpa, len) == NULL)
		return -1;
	if (len == 0)
		return 0;
	/* Inside one slot, whose bounds are page aligned: so is the widened range. */
	uint64_t start = gpa & ~(GUEST_MEM_PAGE - 1);
	uint64_t end = (gpa + len + GUEST_MEM_PAGE - 1) & ~(GUEST_MEM_PAGE - 1);
#ifdef MADV_POPULATE_WRITE
	return madvise(guest_mem_ptr(gm, start, end - start), (size_t)(end - start),
	    MADV_POPULATE_WRITE);
#else
	(void)start;
	(void)end;
	return -1;
#endif
}

uint64_t guest_mem_low_end(const struct guest_mem *gm)
{
	KASSERT(gm->gm_nslots > 0, ("%s: no RAM", __func__));
	return gm->gm_slots[0].gms_size;
}
