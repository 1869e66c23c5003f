/*
 * UMA's private structures: zones, kegs, slabs, buckets, per-CPU caches.
 * Only vm/uma_*.c and vm/kern_malloc.c include this.
 *
 *   zone ──(many zones may share)──> keg ──> slabs ──> pages (vm_page)
 *     │                                          │
 *     ├─ per-CPU caches: alloc bucket, free bucket   (fast path, critical section)
 *     └─ full / empty bucket lists                    (zone lock)
 *
 * Every page of a slab points back at its slab header through vm_page.kmem_owner, for
 * on-page and off-page headers alike: that is how a free finds its slab (vtoslab) and how
 * kfree finds the zone. Non-slab kernel pages carry a tag with bit 0 set instead.
 *
 * Locks, and the letter that tags each field below:
 *   (u) uma_mtx: the zone and keg lists
 *   (z) the zone's uz_lock: its bucket lists, sleepers
 *   (k) the keg's uk_lock: its slabs and their free bitmaps, page counts
 *   (c) per-CPU: only the owning CPU, inside a critical section
 *   (a) atomics
 *   (i) set at creation, read-only afterwards
 * Lock order: uma_mtx -> a zone's uz_lock -> its keg's uk_lock -> vm_page/vm_phys locks.
 * No two zones' locks are held together, and no UMA lock is held across a page
 * allocation (it may sleep, and may call the vm_lowmem handlers, which reclaim UMA).
 */
#ifndef VM_UMA_INT_H
#define VM_UMA_INT_H

#include "vm/uma.h"

/* ---- buckets ------------------------------------------------------------------------ */

struct uma_bucket {
	uint32_t ub_cnt;                /* items held, at ub_bucket[0 .. cnt-1] */
	uint32_t ub_entries;            /* capacity (0 only for the "none" sentinel) */
	struct uma_bucket *ub_link;     /* (z) on a zone's full or empty list */
	void *ub_bucket[];
};
#define UMA_BUCKET_HDR          ((uint32_t)sizeof(struct uma_bucket))

/*
 * The sentinel every per-CPU bucket slot holds when it has no bucket: 0 items and room
 * for 0, so both fast paths fall through to the slow path without a NULL test.
 */
extern struct uma_bucket uma_bucket_none;

/* ---- per-CPU caches ------------------------------------------------------------------ */

struct uma_cache {
	struct uma_bucket *uc_allocbucket;  /* (c) never NULL (uma_bucket_none) */
	struct uma_bucket *uc_freebucket;   /* (c) never NULL (uma_bucket_none) */
	uint64_t uc_allocs;                 /* (c) */
	uint64_t uc_frees;                  /* (c) */
	uint64_t uc_fails;                  /* (c) */
	uint32_t uc_drain_req;              /* (a) another CPU asked this one to drain */
} __attribute__((aligned(UMA_CACHE_LINE)));

/* ---- slabs ----------------------------------------------------------------------- */

struct uma_keg;

struct uma_slab {
	struct uma_slab *us_next;       /* (k) on one of the keg's three lists */
	struct uma_slab **us_prevp;     /* (k) */
	struct uma_keg *us_keg;         /* (i) */
	uint8_t *us_data;               /* (i) first item: the slab's first page + its colour */
	uint32_t us_freecount;          /* (k) free items */
	uint32_t us_flags;              /* (i) UMA_SLAB_* */
	uint64_t us_free[];             /* (k) bit i set: item i free */
};
#define UMA_SLAB_OFFPAGE        0x1
#define UMA_SLAB_HDR(ipers)     (offsetof(struct uma_slab, us_free) + \
				 8 * (((size_t)(ipers) + 63) / 64))
/* Off-page headers come from one zone, so they are sized for this many items. */
#define UMA_OFFPAGE_MAXITEMS    512
#define UMA_MAX_PPERA           16      /* pages per slab at most */

/* ---- kegs ------------------------------------------------------------------------ */

struct uma_slab_list {
	struct uma_slab *usl_first;
};

struct uma_keg {
	struct mtx uk_lock;
	struct uma_slab_list uk_part_slabs; /* (k) some items free */
	struct uma_slab_list uk_free_slabs; /* (k) all items free */
	struct uma_slab_list uk_full_slabs; /* (k) no item free */
	uint64_t uk_pages;                  /* (k) pages in all slabs */
	uint64_t uk_free;                   /* (k) free items in all slabs */
	uint64_t uk_nslabs;                 /* (k) */
	uint32_t uk_size;                   /* (i) item size asked for */
	uint32_t uk_rsize;                  /* (i) stride between items */
	uint32_t uk_align;                  /* (i) alignment mask */
	uint32_t uk_ipers;                  /* (i) items per slab */
	uint32_t uk_ppera;                  /* (i) pages per slab */
	uint32_t uk_hdroff;                 /* (i) on-page header offset in the slab */
	uint32_t uk_ncolors;                /* (i) slab colours the leftover space allows */
	uint32_t uk_color_step;             /* (i) bytes between colours */
	uint32_t uk_color_next;             /* (a) colour of the next slab, modulo ncolors */
	uint32_t uk_flags;                  /* (i) UMA_ZONE_* of the primary zone */
	bool uk_offpage;                    /* (i) slab headers come from uma_slab_zone */
	uma_init uk_init;                   /* (i) */
	uma_fini uk_fini;                   /* (i) */
	struct uma_zone *uk_zones;          /* (u) zones on this keg, primary last */
	struct uma_zone *uk_primary;        /* (u) the oldest of uk_zones, which answers for
	                                       the keg's items (kfree reads it unlocked: it
	                                       changes only when that zone is destroyed) */
	int uk_nzones;                      /* (u) */
	struct uma_keg *uk_link;            /* (u) all kegs */
};

/* ---- zones ----------------------------------------------------------------------- */

/*
 * uz_fast: what sends an allocation or free off the fast path, one word both fast paths
 * load anyway. Recomputed under the zone lock from the zone's state (zone_fast_update).
 *   alloc leaves the fast path (after taking its item) on CTOR | DRAIN
 *   free leaves it on FREE_SLOW | DRAIN
 */
/* Above every M_* flag, so the alloc path tests (uz_fast | flags) in one go. */
#define UZ_FAST_CTOR            0x10000 /* has a ctor */
#define UZ_FAST_FREE_SLOW       0x20000 /* a dtor, or sleepers waiting on the limit */
#define UZ_FAST_DRAIN           0x40000 /* some CPU has a drain request pending */
#define UZ_FAST_MEMGUARD        0x80000 /* named by MemGuard once (sticky): allocations
                                           ask whether it still is, frees look for
                                           guarded items (vm/memguard.h) */
#define UZ_FAST_ALLOC_MASK      (UZ_FAST_CTOR | UZ_FAST_DRAIN)
#define UZ_FAST_FREE_MASK       (UZ_FAST_FREE_SLOW | UZ_FAST_DRAIN | UZ_FAST_MEMGUARD)

struct uma_zone {
	/* Read by the fast paths: keep together. */
	uint32_t uz_fast;                   /* (a) UZ_FAST_* */
	uint32_t uz_flags;                  /* (i) UMA_ZONE_* */
	uma_ctor uz_ctor;                   /* (i) */
	uma_dtor uz_dtor;                   /* (i) */
	uma_init uz_init;                   /* (i) zone-level: secondary zones only */
	uma_fini uz_fini;                   /* (i) */
	struct uma_keg *uz_keg;             /* (i) */
	uint32_t uz_size;                   /* (i) item size handed to the hooks */

	struct mtx uz_lock;
	struct uma_bucket *uz_full;         /* (z) full buckets */
	struct uma_bucket *uz_empty;        /* (z) empty buckets */
	uint32_t uz_nfull;                  /* (z) */
	uint32_t uz_nempty;                 /* (z) */
	uint64_t uz_full_items;             /* (z) items in the full buckets */
	uint32_t uz_bucket_size;            /* (z) entries of the buckets this zone uses; 0: none */
	uint32_t uz_bucket_max_full;        /* (i) full buckets kept before they go to the keg */
	uint64_t uz_items;                  /* (a) items imported from the keg, not yet released */
	uint64_t uz_max;                    /* (z, read (a)) limit on uz_items, 0: none */
	uint32_t uz_sleepers;               /* (z, read (a)) */
	uint32_t uz_drain_pending;          /* (z) CPUs with uc_drain_req set */
	uint64_t uz_drain_deadline;         /* (z) vm_nanotime() when requests lapse */
	uint64_t uz_sleeps;                 /* (z) */
	bool uz_memguard;                   /* (z) MemGuard selected it once: UZ_FAST_MEMGUARD */
	struct uma_zone *uz_link;           /* (u) all zones, creation order */
	struct uma_zone *uz_keg_next;       /* (u) zones on the same keg */
	char uz_name[32];                   /* (i) */

	struct uma_cache uz_cpu[];          /* (c) one per CPU, vm_ncpus() of them */
};

/* vtoslab: the slab holding item (any address inside the slab's pages). */
struct uma_slab *uma_vtoslab(const void *item);

/* kmem_owner of the page holding va (kern_malloc uses it to tell slabs from tags). */
uintptr_t uma_kmem_owner(const void *va);

/* The zone a kmalloc'd item came from (the primary zone of its slab's keg). */
static inline struct uma_zone *uma_slab_zone(const struct uma_slab *slab)
{
	return slab->us_keg->uk_primary;
}

/*
 * The zone in *slot, made (a primary zone of `size` bytes, UMA_ZONE_* flags, no hooks)
 * and published there on the first call. Racing first calls make one zone: the losers
 * free theirs. For zones made on first use (bucket zones, off-page slab headers, kmalloc
 * size classes). mflags is M_WAITOK or M_NOWAIT, for the zone's own structures.
 * => returns NULL only with M_NOWAIT; may sleep with M_WAITOK; no lock held.
 */
uma_zone_t uma_zcreate_once(uma_zone_t *slot, const char *name, size_t size, int align,
    uint32_t flags, int mflags);

/* For uma_stats.c: the CPU count UMA sized its caches for, and the zone list, which
 * may be walked (uz_link) between uma_stats_lock and uma_stats_unlock. */
int uma_stats_ncpus(void);
void uma_stats_lock(void);
void uma_stats_unlock(void);
bool uma_stats_trylock(void);
/* uma_zone_stats without waiting for the zone's and keg's locks (racy reads when they
 * are held): for the panic path's stream. */
void uma_zone_stats_nowait(uma_zone_t zone, struct uma_zone_stat *zs,
    struct uma_percpu_stat *pcpu, int ncpu);
uma_zone_t uma_stats_first(void);

#endif /* VM_UMA_INT_H */
