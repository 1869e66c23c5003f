/*
 * Kernel malloc: general-purpose allocations tagged with a malloc type, over UMA.
 *
 * The names carry a k (kmalloc, kfree, krealloc, kzfree) because the host build links
 * the VM core into programs that also use the C library's malloc/free.
 *
 * Sizes up to MALLOC_MAX_ZONE_SIZE come from power-of-two UMA zones ("malloc-16" ..
 * "malloc-4096"); larger ones from whole contiguous pages. Every allocation is counted in
 * its malloc type: requests, frees, bytes handed out (the size class, not the request),
 * failures, and which size classes it used.
 *
 * contigmalloc hands out physically contiguous pages within [low, high) with an
 * alignment and a boundary (for DMA and page tables); it is counted in its type too.
 */
#ifndef VM_MALLOC_H
#define VM_MALLOC_H

#include "vm/vm.h"

#define MALLOC_MIN_SIZE         16
#define MALLOC_MAX_ZONE_SIZE    4096
#define MALLOC_NCLASSES         9   /* 16, 32, ..., 4096 */

/* One CPU's counters of a type; written only by that CPU inside a critical section. */
struct malloc_type_stats {
	uint64_t mts_memalloced;    /* bytes handed out */
	uint64_t mts_memfreed;      /* bytes given back */
	uint64_t mts_numallocs;     /* successful requests */
	uint64_t mts_numfrees;
	uint64_t mts_failures;      /* requests that returned NULL */
	uint64_t mts_size;          /* bit i: size class i used; bit 62: large; bit 63: contig */
};

#define MALLOC_SIZE_LARGE       (1ull << 62)
#define MALLOC_SIZE_CONTIG      (1ull << 63)

struct malloc_type {
	const char *ks_shortdesc;
	uint32_t ks_magic;                      /* M_MAGIC once defined */
	uint32_t ks_registered;                 /* on the type list (malloc_type_mtx) */
	struct malloc_type *ks_next;            /* type list (malloc_type_mtx) */
	struct malloc_type_stats ks_stats[MAXCPU];
};

#define M_MAGIC 0x6b6d616cu   /* "lamk" */

/*
 * Define a type (one definition, at file scope) and declare it elsewhere. A type enters
 * the type list when it is first used or registered; malloc_startup registers the core's.
 */
#define MALLOC_DEFINE(type, shortdesc)                                             \
	struct malloc_type type[1] = { { .ks_shortdesc = (shortdesc), .ks_magic = M_MAGIC } }
#define MALLOC_DECLARE(type)    extern struct malloc_type type[1]

MALLOC_DECLARE(M_TEMP);
MALLOC_DECLARE(M_DEVBUF);

/* Boot: after uma_startup(). */
void malloc_startup(void);

/*
 * Allocate `size` bytes (0 is allowed and gives a minimal allocation). flags: exactly one
 * of M_WAITOK / M_NOWAIT, optionally M_ZERO, M_USE_RESERVE. Memory is aligned to the size
 * class up to a page (16 at least); large allocations are page aligned.
 * => M_WAITOK may sleep and never returns NULL.
 */
void *kmalloc(size_t size, struct malloc_type *type, int flags);
/* Free what kmalloc/krealloc returned (NULL is ignored). Never sleeps. */
void kfree(void *addr, struct malloc_type *type);
/* kfree, zeroing the memory first (for secrets). */
void kzfree(void *addr, struct malloc_type *type);
/*
 * Resize, keeping the contents up to the smaller size. NULL addr behaves as kmalloc.
 * With M_ZERO the bytes beyond the old allocation are zeroed. On failure (M_NOWAIT)
 * returns NULL and the old allocation is untouched.
 */
void *krealloc(void *addr, size_t size, struct malloc_type *type, int flags);
/* Usable size of an allocation (its size class, or its pages). */
size_t kmalloc_usable_size(const void *addr);

/*
 * Physically contiguous memory: round_page(size) bytes whose physical address lies in
 * [low, high), aligned to `alignment` (a power of two, at least PAGE_SIZE is implied)
 * and not crossing a multiple of `boundary` (0: none). Returns its direct-map address.
 * => may return NULL even with M_WAITOK (the range may simply not exist): it reclaims
 *    UMA's caches and retries once before giving up.
 */
void *contigmalloc(size_t size, struct malloc_type *type, int flags, vm_paddr_t low,
    vm_paddr_t high, uint64_t alignment, uint64_t boundary);
/* Free contigmalloc memory; size must be the one given to contigmalloc. */
void contigfree(void *addr, size_t size, struct malloc_type *type);

/* ---- statistics ------------------------------------------------------------------ */

struct malloc_type_summary {
	uint64_t mtsu_memalloced, mtsu_memfreed;
	uint64_t mtsu_numallocs, mtsu_numfrees;
	uint64_t mtsu_failures;
	uint64_t mtsu_size;         /* OR of the per-CPU masks */
	uint64_t mtsu_inuse_bytes;  /* memalloced - memfreed */
	uint64_t mtsu_inuse;        /* numallocs - numfrees */
};

/* Sum a type's per-CPU counters. */
void malloc_type_summary(const struct malloc_type *type, struct malloc_type_summary *s);
/* Put a type on the type list now (otherwise that happens at its first use). */
void malloc_type_register(struct malloc_type *type);
/* Iterate the type list: start with *typep = NULL; returns false at the end. */
bool malloc_type_iter(struct malloc_type **typep);
/* The size class index of a kmalloc size, or -1 when it is a large allocation. */
int malloc_size_class(size_t size);

/* vm/contig.c counts its runs in the type through this (bytes handed out or back). */
void malloc_type_count_contig(struct malloc_type *type, uint64_t bytes, bool alloc);

/*
 * The malloc statistics stream (FreeBSD's `vmstat -m`): a snapshot of every registered
 * type for host tools, in the manner of UMA's stream (vm/uma.h). Little-endian, fixed
 * width, no padding. Version 1:
 *
 *   header (16 bytes)
 *     0  u32 magic        MALLOC_STREAM_MAGIC ("MALS" as bytes 4d 41 4c 53)
 *     4  u16 version      MALLOC_STREAM_VERSION
 *     6  u16 rec_size     size of a type record (MALLOC_STREAM_REC_SIZE)
 *     8  u32 ntypes       records that follow
 *    12  u32 reserved     0
 *
 *   per type (80 bytes), the per-CPU statistics summed
 *     0  char[32] name    ks_shortdesc, NUL-padded
 *    32  u64 inuse        allocations live (numallocs - numfrees)
 *    40  u64 memuse       bytes live (memalloced - memfreed)
 *    48  u64 requests     successful requests (numallocs)
 *    56  u64 failures
 *    64  u64 sizes        mts_size's bits: bit i, size class i used; 62 large; 63 contig
 *    72  u64 class0       bytes of size class 0 (bit i stands for class0 << i)
 *
 * A newer version only appends fields to a record (and says so in rec_size).
 */
#define MALLOC_STREAM_MAGIC     0x534c414du
#define MALLOC_STREAM_VERSION   1
#define MALLOC_STREAM_HDR_SIZE  16
#define MALLOC_STREAM_REC_SIZE  80

/* Write the stream into buf (at most len bytes). => the size of the whole stream; if that
 * exceeds len the buffer holds a truncated stream. Takes the type list's lock. */
size_t malloc_stats_stream(void *buf, size_t len);
/* The same for the panic path: 0 (no stream at all) when the type list's lock is held
 * by anyone, instead of waiting for it. */
size_t malloc_stats_stream_nowait(void *buf, size_t len);

#endif /* VM_MALLOC_H */
