/*
 * The guest's published statistics out of a dump. Every count is checked against the
 * bytes there are, without overflow, before a record is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/dump_stats.h"
#include "vmm/pub_read.h"
#include "vmm/vmm.h"
#include "vmm/vmmeter_read.h"

static int stats_readfn(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return dump_read_pa(ctx, gpa, buf, len);
}

int dump_pub_get(const struct dump *d, uint64_t gpa, const char *what, struct dump_pub *p,
    char *err, size_t errlen)
{
	size_t got;

	memset(p, 0, sizeof(*p));
	if (gpa == 0)
		return dump_errf(d, err, errlen, "the guest published no %s", what);
	if (dump_read_pa(d, gpa, &p->dp_hdr, sizeof(p->dp_hdr)) != 0)
		return dump_errf(d, err, errlen, "the %s snapshot at physical 0x%llx is not in "
		    "the dump", what, (unsigned long long)gpa);
	if (p->dp_hdr.pub_magic != HC_PUB_MAGIC || p->dp_hdr.pub_len > p->dp_hdr.pub_cap)
		return dump_errf(d, err, errlen, "the %s snapshot is corrupt (%s)", what,
		    pub_status_str(PUB_BAD));
	if (p->dp_hdr.pub_len > DUMP_STATS_MAX)
		return dump_errf(d, err, errlen, "the %s snapshot claims %llu bytes, more than "
		    "a guest publishes (corrupt)", what,
		    (unsigned long long)p->dp_hdr.pub_len);
	size_t len = (size_t)p->dp_hdr.pub_len;
	if ((p->dp_data = malloc(len > 0 ? len : 1)) == NULL)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "out of memory");
	enum pub_status st = pub_read(stats_readfn, (void *)d, gpa, &p->dp_hdr, p->dp_data,
	    len, &got);
	if (st == PUB_TORN) {
		/* A dump is a still picture: the snapshot stays half-written. Show it, said. */
		p->dp_torn = true;
		if (dump_read_pa(d, gpa + sizeof(p->dp_hdr), p->dp_data, len) == 0) {
			p->dp_len = len;
			return 0;
		}
		st = PUB_UNREADABLE;
	}
	if (st == PUB_OK) {
		p->dp_len = got;
		return 0;
	}
	dump_pub_free(p);
	if (st == PUB_EMPTY)
		return dump_errf(d, err, errlen, "the guest never wrote its %s snapshot (it "
		    "stopped before publishing one)", what);
	return dump_errf(d, err, errlen, "the %s snapshot is %s", what,
	    st == PUB_UNREADABLE ? "not wholly in the dump" : pub_status_str(st));
}

void dump_pub_free(struct dump_pub *p)
{
	free(p->dp_data);
	p->dp_data = NULL;
	p->dp_len = 0;
}

int dump_stats_vmmeter(const struct dump *d, const struct dump_pub *p, struct vmmeter *vm,
    size_t *filled, char *err, size_t errlen)
{
	switch (vmmeter_read(p->dp_data, p->dp_len, vm, filled)) {
	case VMMETER_READ_OK:
		return 0;
	case VMMETER_READ_SHORT:
		return dump_errf(d, err, errlen, "the vmmeter snapshot holds %zu bytes, too few "
		    "for its header (corrupt)", p->dp_len);
	case VMMETER_READ_FOREIGN:
		break;
	}
	return dump_errf(d, err, errlen, "the vmmeter snapshot is corrupt, or another "
	    "version's (magic 0x%x, version %u; this vmm reads 0x%x, %d)", vm->vm_magic,
	    vm->vm_version, VMMETER_MAGIC, VMMETER_VERSION);
}

static uint64_t stats_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t stats_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t stats_u16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* A NUL-padded 32-byte name, as text of at most 32 bytes. */
static void stats_name(char dst[33], const uint8_t *src)
{
	memcpy(dst, src, 32);
	dst[32] = '\0';
}

int dump_stats_zones(const struct dump *d, const struct dump_pub *p, struct dump_zones *z,
    char *err, size_t errlen)
{
	const uint8_t *s = p->dp_data;

	memset(z, 0, sizeof(*z));
	if (p->dp_len < DUMP_UMA_HDR)
		return dump_errf(d, err, errlen, "the UMA stream holds %zu bytes, too few for its "
		    "header (corrupt)", p->dp_len);
	uint32_t magic = stats_u32(s), nzones = stats_u32(s + 8);
	uint16_t version = stats_u16(s + 4), ncpus = stats_u16(s + 6);
	uint16_t zsize = stats_u16(s + 12), csize = stats_u16(s + 14);
	if (magic != DUMP_UMA_MAGIC || version < DUMP_UMA_VERSION)
		return dump_errf(d, err, errlen, "the UMA stream is corrupt (magic 0x%x, version "
		    "%u)", magic, version);
	if (zsize < DUMP_UMA_ZONE || csize < DUMP_UMA_PCPU)
		return dump_errf(d, err, errlen, "the UMA stream's records are too short (zone "
		    "%u, per-CPU %u bytes; corrupt)", zsize, csize);
	uint64_t rec = zsize + (uint64_t)ncpus * csize;   /* < 2^33: no overflow */
	if (nzones > (p->dp_len - DUMP_UMA_HDR) / rec)
		return dump_errf(d, err, errlen, "the UMA stream claims %u zones but holds %zu "
		    "bytes (truncated or corrupt)", nzones, p->dp_len);
	z->dzs_ncpus = ncpus;
	z->dzs_boot_pages = stats_u64(s + 16);
	z->dzs_total_pages = stats_u64(s + 24);
	z->dzs_zones = calloc(nzones > 0 ? nzones : 1, sizeof(*z->dzs_zones));
	if (z->dzs_zones == NULL)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "out of memory");
	z->dzs_nzones = nzones;
	for (uint32_t i = 0; i < nzones; i++) {
		const uint8_t *r = s + DUMP_UMA_HDR + i * rec;
		struct dump_zone *zn = &z->dzs_zones[i];
		stats_name(zn->dz_name, r);
		zn->dz_size = stats_u64(r + 32);
		zn->dz_limit = stats_u64(r + 40);
		zn->dz_pages = stats_u64(r + 48);
		zn->dz_keg_free = stats_u64(r + 56);
		zn->dz_zone_cached = stats_u64(r + 64);
		zn->dz_items = stats_u64(r + 72);
		zn->dz_allocs = stats_u64(r + 80);
		zn->dz_frees = stats_u64(r + 88);
		zn->dz_fails = stats_u64(r + 96);
		zn->dz_sleeps = stats_u64(r + 104);
		zn->dz_flags = stats_u32(r + 112);
		zn->dz_ipers = stats_u32(r + 116);
		zn->dz_ppera = stats_u32(r + 120);
		zn->dz_bucket_size = stats_u32(r + 124);
		for (unsigned c = 0; c < ncpus; c++)
			zn->dz_pcpu_cached += stats_u64(r + zsize + (uint64_t)c * csize + 24);
		zn->dz_used = zn->dz_allocs >= zn->dz_frees ? zn->dz_allocs - zn->dz_frees : 0;
		/* Counters of a corrupt stream may wrap: saturate rather than mislead. */
		uint64_t f = zn->dz_keg_free;
		f = f + zn->dz_zone_cached < f ? UINT64_MAX : f + zn->dz_zone_cached;
		f = f + zn->dz_pcpu_cached < f ? UINT64_MAX : f + zn->dz_pcpu_cached;
		zn->dz_free = f;
	}
	return 0;
}

int dump_stats_malloc(const struct dump *d, const struct dump_pub *p,
    struct dump_mtype **types, unsigned *n, char *err, size_t errlen)
{
	const uint8_t *s = p->dp_data;

	*types = NULL;
	*n = 0;
	if (p->dp_len < DUMP_MALLOC_HDR)
		return dump_errf(d, err, errlen, "the malloc stream holds %zu bytes, too few for "
		    "its header (corrupt)", p->dp_len);
	uint32_t magic = stats_u32(s), ntypes = stats_u32(s + 8);
	uint16_t version = stats_u16(s + 4), rsize = stats_u16(s + 6);
	if (magic != DUMP_MALLOC_MAGIC || version < DUMP_MALLOC_VERSION)
		return dump_errf(d, err, errlen, "the malloc stream is corrupt (magic 0x%x, "
		    "version %u)", magic, version);
	if (rsize < DUMP_MALLOC_REC)
		return dump_errf(d, err, errlen, "the malloc stream's records are %u bytes, too "
		    "short (corrupt)", rsize);
	if (ntypes > (p->dp_len - DUMP_MALLOC_HDR) / rsize)
		return dump_errf(d, err, errlen, "the malloc stream claims %u types but holds %zu "
		    "bytes (truncated or corrupt)", ntypes, p->dp_len);
	struct dump_mtype *t = calloc(ntypes > 0 ? ntypes : 1, sizeof(*t));
	if (t == NULL)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "out of memory");
	for (uint32_t i = 0; i < ntypes; i++) {
		const uint8_t *r = s + DUMP_MALLOC_HDR + (uint64_t)i * rsize;
		stats_name(t[i].dm_name, r);
		t[i].dm_inuse = stats_u64(r + 32);
		t[i].dm_memuse = stats_u64(r + 40);
		t[i].dm_requests = stats_u64(r + 48);
		t[i].dm_failures = stats_u64(r + 56);
		t[i].dm_sizes = stats_u64(r + 64);
		t[i].dm_class0 = stats_u64(r + 72);
	}
	*types = t;
	*n = ntypes;
	return 0;
}
