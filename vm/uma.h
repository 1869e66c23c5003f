/*
 * UMA, the kernel's slab allocator: the public interface.
 *
 * A zone hands out fixed-size items. Underneath, a keg carves items out of slabs (one or
 * a few physically contiguous pages from vm_page) and a zone keeps per-CPU caches of
 * items in buckets, so that the common alloc and free touch only the caller's CPU cache
 * inside a critical section and take no lock. Several zones may share one keg
 * (secondary zones): same items and pages, each zone with its own ctor/dtor and caches.
 *
 * Item life cycle and the hooks that see it:
 *
 *   pages --(keg init, once per item when its slab is made)--> free in slab
 *   free in slab --(zone init, secondary zones only)--> cached in the zone
 *   cached --(ctor, each allocation)--> in use --(dtor, each free)--> cached
 *   and back down the same way (zone fini, keg fini when the slab's pages are freed).
 *
 * A hook returning non-zero fails: a failing keg init fails the slab being made (all its
 * items are finished and its pages freed), a failing zone init sends the item back to the
 * keg, a failing ctor sends the item back (without its dtor) and the allocation returns
 * NULL. That is the one case where M_WAITOK returns NULL: M_WAITOK never returns NULL for
 * lack of memory or because the zone reached its limit (it sleeps instead).
 *
 * The private structures are in vm/uma_int.h; nothing outside vm/uma_*.c and vm/kern_malloc.c
 * should include it.
 */
#ifndef VM_UMA_H
#define VM_UMA_H

#include "vm/vm.h"

typedef struct uma_zone *uma_zone_t;

/* Hooks; size is the zone's item size, flags the caller's M_* flags. Non-zero = failure. */
typedef int (*uma_ctor)(void *mem, int size, void *arg, int flags);
typedef void (*uma_dtor)(void *mem, int size, void *arg);
typedef int (*uma_init)(void *mem, int size, int flags);
typedef void (*uma_fini)(void *mem, int size);

/* Alignment masks for uma_zcreate (a mask: alignment - 1). */
#define UMA_ALIGN_PTR       (sizeof(void *) - 1)
#define UMA_ALIGN_LONG      (sizeof(long) - 1)
#define UMA_ALIGN_INT       (sizeof(int) - 1)
#define UMA_ALIGN_CHAR      0
#define UMA_ALIGN_CACHE     (UMA_CACHE_LINE - 1)
#define UMA_CACHE_LINE      64

/* Zone creation flags. */
#define UMA_ZONE_ZINIT      0x0001  /* keg zeroes every item when its slab is made */
#define UMA_ZONE_NOFREE     0x0002  /* type-stable: slab pages are never returned */
#define UMA_ZONE_OFFPAGE    0x0004  /* slab header off the page, whatever it wastes */
#define UMA_ZONE_ONPAGE     0x0008  /* slab header on the page, whatever it wastes */
#define UMA_ZONE_NOBUCKET   0x0010  /* no per-CPU caches: every alloc/free takes the lock */
#define UMA_ZONE_VM         0x0020  /* serves the VM itself: M_NOWAIT may take the last pages */
#define UMA_ZONE_MAXBUCKET  0x0040  /* use the largest bucket size */
#define UMA_ZONE_NODRAIN    0x0080  /* uma_reclaim leaves this zone's caches alone */
#define UMA_ZONE_PUBLIC_MASK 0x00ff
/* Set by UMA (never passed in): */
#define UMA_ZONE_SECONDARY  0x0100  /* shares the keg of another zone */
#define UMA_ZONE_INTERNAL   0x0200  /* one of UMA's own zones (zones, kegs, slabs, buckets) */

/* Boot: after vm_page_startup(), before anything allocates through UMA. Makes no zone:
 * UMA's own zones come with the first zone created (see uma_pages_boot). */
void uma_startup(void);
bool uma_is_up(void);

/*
 * Create a zone of items of `size` bytes aligned to `align` + 1 (a mask, UMA_ALIGN_*).
 * => may sleep (M_WAITOK inside); never returns NULL.
 */
uma_zone_t uma_zcreate(const char *name, size_t size, uma_ctor ctor, uma_dtor dtor,
    uma_init init, uma_fini fini, int align, uint32_t flags);
/*
 * A zone on the keg of `primary`: same items and pages; its own ctor/dtor, its own
 * zinit/zfini run when an item moves from the keg into this zone and back.
 */
uma_zone_t uma_zsecond_create(const char *name, uma_ctor ctor, uma_dtor dtor,
    uma_init zinit, uma_fini zfini, uma_zone_t primary);
/* Destroy a zone; every item must have been freed. A keg goes with its last zone. */
void uma_zdestroy(uma_zone_t zone);
/* MemGuard (vm/memguard.h) selected name: the zones called so (but UMA's own) hand out
 * guarded items from now on, through their init and ctor, and take them back through
 * dtor and fini. memguard_select calls it; never sleeps. */
void uma_memguard_select(const char *name);

/*
 * Allocate an item. flags: exactly one of M_WAITOK / M_NOWAIT, optionally M_ZERO and
 * M_USE_RESERVE. `arg` goes to the ctor.
 * => M_WAITOK may sleep; must not be called inside a critical section or holding a mutex.
 */
void *uma_zalloc_arg(uma_zone_t zone, void *arg, int flags);
/* Free an item of this zone (NULL is ignored). `arg` goes to the dtor. Never sleeps. */
void uma_zfree_arg(uma_zone_t zone, void *item, void *arg);

static inline void *uma_zalloc(uma_zone_t zone, int flags)
{
	return uma_zalloc_arg(zone, NULL, flags);
}

static inline void uma_zfree(uma_zone_t zone, void *item)
{
	uma_zfree_arg(zone, item, NULL);
}

/*
 * Limit the items a zone holds (in use plus cached in its buckets) to about `nitems`;
 * 0 means no limit. Returns the limit in effect. With a limit the per-CPU caches shrink
 * (a small limit turns them off) so that cached items cannot starve the callers. At the
 * limit, M_NOWAIT fails and M_WAITOK sleeps until another thread frees an item.
 */
int uma_zone_set_max(uma_zone_t zone, int nitems);
int uma_zone_get_max(uma_zone_t zone);
/* Items allocated from the zone and not freed (approximate while other CPUs run). */
int uma_zone_get_cur(uma_zone_t zone);
/* Pre-allocate slabs for at least `nitems` free items (M_WAITOK). */
void uma_prealloc(uma_zone_t zone, int nitems);
/* Item size (after alignment) and the zone's name. */
size_t uma_zone_get_size(uma_zone_t zone);
const char *uma_zone_get_name(uma_zone_t zone);

/*
 * Reclaim cached memory.
 *   UMA_RECLAIM_TRIM       free the zone's bucket cache, then whole empty slabs
 *   UMA_RECLAIM_DRAIN      the same
 *   UMA_RECLAIM_DRAIN_CPU  also the per-CPU caches (see below)
 * Per-CPU caches: the calling CPU's cache is drained at once. Another CPU's cache can
 * only be touched by that CPU (the fast path takes no lock), so for those a drain
 * request is posted and honoured by that CPU at its next allocation or free that leaves
 * the fast path (an empty or full bucket) or at its own reclaim call. A per-CPU cache holds
 * at most two buckets, so what lingers is bounded.
 * => may not be called inside a critical section or holding a mutex; does not sleep.
 */
#define UMA_RECLAIM_TRIM        1
#define UMA_RECLAIM_DRAIN       2
#define UMA_RECLAIM_DRAIN_CPU   3
void uma_zone_reclaim(uma_zone_t zone, int req);
void uma_reclaim(int req);      /* every zone but UMA_ZONE_NODRAIN ones */

/* ---- statistics ------------------------------------------------------------------ */

/* Per zone, per CPU. Counters only grow; cached is a snapshot. */
struct uma_percpu_stat {
	uint64_t ups_allocs;        /* successful allocations by this CPU */
	uint64_t ups_frees;         /* frees by this CPU */
	uint64_t ups_fails;         /* allocations that returned NULL */
	uint64_t ups_cached;        /* items in this CPU's two buckets */
};

struct uma_zone_stat {
	char uzs_name[32];
	uint64_t uzs_size;          /* item size after alignment */
	uint64_t uzs_limit;         /* 0: none */
	uint64_t uzs_pages;         /* pages held by the keg (shared with sibling zones) */
	uint64_t uzs_ipers;         /* items per slab */
	uint64_t uzs_ppera;         /* pages per slab */
	uint64_t uzs_keg_free;      /* free items in the keg's slabs */
	uint64_t uzs_zone_cached;   /* items in the zone's full bucket list */
	uint64_t uzs_cpu_cached;    /* items in all per-CPU buckets */
	uint64_t uzs_items;         /* items the zone holds: in use + cached (limit counts these) */
	uint64_t uzs_allocs;        /* sum over CPUs */
	uint64_t uzs_frees;
	uint64_t uzs_fails;
	uint64_t uzs_sleeps;        /* times an allocation slept on the limit */
	uint64_t uzs_xdomain;       /* reserved (0) */
	uint32_t uzs_flags;         /* UMA_ZONE_* */
	uint32_t uzs_bucket_size;   /* per-CPU bucket capacity, 0 when caches are off */
};

/* Snapshot of one zone; per-CPU records for CPUs 0 .. ncpu-1 if `pcpu` != NULL. */
void uma_zone_stats(uma_zone_t zone, struct uma_zone_stat *zs,
    struct uma_percpu_stat *pcpu, int ncpu);

/* Iterate zones in creation order (for tools); returns false at the end. */
bool uma_zone_iter(uma_zone_t *zonep);

/* Pages UMA holds: slab pages of every keg plus its bootstrap pages; the bootstrap
 * pages hold UMA's own two zones and are taken by the first zone creation (0 before). */
uint64_t uma_pages_total(void);
uint64_t uma_pages_boot(void);
/*
 * Pages in wholly free slabs of type-stable (UMA_ZONE_NOFREE) kegs: memory UMA holds
 * with no item in use and that no reclaim gives back. The bucket zones are such kegs, so
 * a burst of frees (a pmap_remove of a few hundred pv entries) can leave the bucket
 * zone a page larger for good. A leak check compares vm_page_free_count() plus this
 * (tests/vmtests/vmt_pmap.c's vmt_free_pages), after draining the caches.
 */
uint64_t uma_pages_nofree_idle(void);

/*
 * The statistics stream: a self-describing binary snapshot a host tool parses (from a
 * dump, or over the port). All integers are little-endian, fixed width, no padding;
 * offsets below are in bytes. Version 1:
 *
 *   stream header (32 bytes)
 *     0  u32 magic        UMA_STREAM_MAGIC ("UMAS" as bytes 55 4d 41 53)
 *     4  u16 version      UMA_STREAM_VERSION
 *     6  u16 ncpus        per-CPU records after each zone header
 *     8  u32 nzones       zone records that follow
 *    12  u16 zhdr_size    size of a zone header (UMA_STREAM_ZONE_SIZE)
 *    14  u16 pcpu_size    size of a per-CPU record (UMA_STREAM_PCPU_SIZE)
 *    16  u64 boot_pages   pages UMA took at boot for its own zones
 *    24  u64 total_pages  all pages UMA holds (boot + every keg's slabs)
 *
 *   then per zone: a zone header (128 bytes) followed by ncpus per-CPU records
 *     0  char[32] name    NUL-padded (not necessarily NUL-terminated if 32 long)
 *    32  u64 size         item size
 *    40  u64 limit        0: none
 *    48  u64 pages        pages of its keg (sibling zones on one keg report the same)
 *    56  u64 keg_free     free items in the keg's slabs
 *    64  u64 zone_cached  items in the zone's bucket lists
 *    72  u64 items        items the zone holds (in use + cached)
 *    80  u64 allocs       sum of the per-CPU records
 *    88  u64 frees        sum of the per-CPU records
 *    96  u64 fails        sum of the per-CPU records
 *   104  u64 sleeps
 *   112  u32 flags        UMA_ZONE_*
 *   116  u32 ipers        items per slab
 *   120  u32 ppera        pages per slab
 *   124  u32 bucket_size
 *
 *   per-CPU record (32 bytes)
 *     0  u64 allocs   8  u64 frees   16  u64 fails   24  u64 cached
 *
 * In use = allocs - frees of the zone record. A newer version only appends fields to a
 * record (and says so in zhdr_size / pcpu_size), so a reader skips what it does not know.
 */
#define UMA_STREAM_MAGIC        0x53414d55u
#define UMA_STREAM_VERSION      1
#define UMA_STREAM_HDR_SIZE     32
#define UMA_STREAM_ZONE_SIZE    128
#define UMA_STREAM_PCPU_SIZE    32

/*
 * Write the stream into buf (at most len bytes). Returns the size of the whole stream; if
 * that exceeds len, the buffer holds a truncated stream and the caller retries bigger.
 */
size_t uma_stats_stream(void *buf, size_t len);
/* The same for the panic path: 0 (no stream) when the zone list's lock is held by
 * anyone; a zone whose own lock is held is read without it. */
size_t uma_stats_stream_nowait(void *buf, size_t len);

/* One console line per zone, "uma: used=U requests=R fails=F zone=NAME" (in use is
 * allocs - frees, as the stream's reader computes it): what a dump's zones must show. */
void uma_stats_print(void);

#endif /* VM_UMA_H */
