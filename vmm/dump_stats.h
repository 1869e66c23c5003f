/*
 * The statistics a guest publishes (struct hc_pub, devices/hostcall.h) as a dump holds
 * them: the vmmeter snapshot (vm/vm_meter.h), the UMA zone stream (vm/uma.h) and the
 * malloc type stream (vm/malloc.h), copied out and checked record by record.
 */
#ifndef VMM_DUMP_STATS_H
#define VMM_DUMP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/vm_meter.h"
#include "vmm/dump_read.h"

#define DUMP_STATS_MAX      (16u << 20)     /* bytes of one snapshot we read */

/* The stream layouts are vm/uma.h's and vm/malloc.h's; those headers need the VM core's
 * platform, so the host restates the numbers (the unit tests check them against them). */
/* vm/uma.h's statistics stream, version 1. */
#define DUMP_UMA_MAGIC        0x53414d55u
#define DUMP_UMA_VERSION      1
#define DUMP_UMA_HDR          32
#define DUMP_UMA_ZONE         128
#define DUMP_UMA_PCPU         32
/* vm/malloc.h's statistics stream, version 1. */
#define DUMP_MALLOC_MAGIC     0x534c414du
#define DUMP_MALLOC_VERSION   1
#define DUMP_MALLOC_HDR       16
#define DUMP_MALLOC_REC       80


/* A published snapshot's data, copied out of the dump. */
struct dump_pub {
	struct hc_pub dp_hdr;
	bool dp_torn;           /* pub_seq odd: the guest was rewriting it; read anyway */
	uint8_t *dp_data;       /* malloc'd, dp_len bytes */
	size_t dp_len;
};

/*
 * The snapshot at guest-physical gpa ("what" names it in messages). => 0, or
 * DUMP_EXIT_DATA with "NAME: why" in err (not in the dump, never written, corrupt).
 */
int dump_pub_get(const struct dump *d, uint64_t gpa, const char *what, struct dump_pub *p,
    char *err, size_t errlen);
void dump_pub_free(struct dump_pub *p);

/* The vmmeter: the fields the writer filled (*nfields of them, in struct order, counting
 * from vm_magic's first uint64_t) into *vm, the rest zero. => 0 or DUMP_EXIT_DATA. */
int dump_stats_vmmeter(const struct dump *d, const struct dump_pub *p, struct vmmeter *vm,
    size_t *filled, char *err, size_t errlen);

struct dump_zone {
	char dz_name[33];
	uint64_t dz_size, dz_limit, dz_pages, dz_keg_free, dz_zone_cached, dz_items;
	uint64_t dz_allocs, dz_frees, dz_fails, dz_sleeps;
	uint32_t dz_flags, dz_ipers, dz_ppera, dz_bucket_size;
	uint64_t dz_pcpu_cached;        /* summed over the per-CPU records */
	uint64_t dz_used;               /* allocs - frees (0 when frees is larger) */
	uint64_t dz_free;               /* keg free + zone cached + per-CPU cached */
};

struct dump_zones {
	unsigned dzs_ncpus;
	uint64_t dzs_boot_pages, dzs_total_pages;
	unsigned dzs_nzones;
	struct dump_zone *dzs_zones;    /* malloc'd */
};

/* Parse the UMA stream in p. => 0 or DUMP_EXIT_DATA. */
int dump_stats_zones(const struct dump *d, const struct dump_pub *p, struct dump_zones *z,
    char *err, size_t errlen);

struct dump_mtype {
	char dm_name[33];
	uint64_t dm_inuse, dm_memuse, dm_requests, dm_failures, dm_sizes, dm_class0;
};

/* Parse the malloc stream in p (*types malloc'd). => 0 or DUMP_EXIT_DATA. */
int dump_stats_malloc(const struct dump *d, const struct dump_pub *p,
    struct dump_mtype **types, unsigned *n, char *err, size_t errlen);

#endif /* VMM_DUMP_STATS_H */
