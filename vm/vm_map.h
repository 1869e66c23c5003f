/*
 * vm_map: an address space as a set of non-overlapping entries, each a page-aligned range
 * [start, end) with what backs it (an object and an offset into it) and how it may be
 * used (protection, inheritance, wiring, advice).
 *
 * Entries sit in two structures at once: a doubly-linked list in address order through
 * the map's header (a sentinel: header.vme_end is the map's lowest address and
 * header.vme_start its highest, so the gap after the last entry and before the first
 * need no special case), and a balanced search tree keyed by start, augmented with the
 * free space after each entry and the largest such gap in each subtree, so that finding
 * space is one descent (vm/vm_map.c says which tree and why).
 *
 * Field locking legend:
 *   M  the map's lock (vm_map_lock)
 *   C  constant after vm_map_init
 *   Z  vm_map_zone_mtx (in vm_map.c): the entry zone and the count of live maps
 *
 * Errors are errno values (vm/vm_errno.h, Linux's numbers), 0 for success.
 */
#ifndef VM_VM_MAP_H
#define VM_VM_MAP_H

#include "vm/vm.h"
#include "vm/vm_errno.h"

struct vm_object;
struct pmap;

typedef uint8_t vm_inherit_t;

/* What a child gets of an entry at fork (vmspace_fork, vm_map_fork). */
#define VM_INHERIT_SHARE        0   /* the same pages, shared */
#define VM_INHERIT_COPY         1   /* a copy-on-write copy (the default) */
#define VM_INHERIT_NONE         2   /* nothing: the range is unmapped in the child */
#define VM_INHERIT_ZERO         3   /* mapped in the child, but zero-filled (FreeBSD's; Linux's
                                       MADV_WIPEONFORK) */
#define VM_INHERIT_DEFAULT      VM_INHERIT_COPY

/*
 * madvise advice, with Linux's numbers so the system-call layer passes them through.
 * NORMAL, SEQUENTIAL and RANDOM are recorded on the entries (the fault handler reads
 * them); WILLNEED, DONTNEED and FREE act on pages and mappings, not on entries.
 */
#define VM_MADV_NORMAL          0
#define VM_MADV_RANDOM          1
#define VM_MADV_SEQUENTIAL      2
#define VM_MADV_WILLNEED        3
#define VM_MADV_DONTNEED        4
#define VM_MADV_FREE            8

/*
 * vme_eflags
 *
 * Copy-on-write, the contract between vm_map_fork and the fault handler (FreeBSD's
 * MAP_ENTRY_COW and MAP_ENTRY_NEEDS_COPY):
 *   VME_COW         writes to the range go to a private copy of vme_object's pages,
 *                   never to pages another map may see. Set by vm_map_fork on both
 *                   sides of a VM_INHERIT_COPY entry that had an object, and kept.
 *   VME_NEEDS_COPY  the private copy is not made yet: vme_object (and its chain) is
 *                   shared with the other side of a fork. Invariants while it is set:
 *                     - the pmap holds no writable mapping of the range (vm_map_fork
 *                       write-protected the parent's; the child had none);
 *                     - a read fault may map the object's pages, read-only;
 *                     - a write fault, under the map's lock, first replaces vme_object
 *                       with a shadow of it (vm_object_shadow(&vme_object, &vme_offset,
 *                       entry size): the entry's reference passes to the shadow), clears
 *                       VME_NEEDS_COPY, bumps vmap_timestamp, then copies the page into
 *                       the shadow and maps it writable.
 *                   A read fault may also clear it the same way (FreeBSD does when the
 *                   object has one reference), but need not.
 * An entry without an object has never been faulted and has no mappings; the fault
 * gives it an object (anonymous, the entry's size, offset 0) before entering a page.
 */
#define VME_COW                 0x0001  /* copy-on-write: writes go to a private copy */
#define VME_NEEDS_COPY          0x0002  /* the private copy is not made yet */
#define VME_NOCOREDUMP          0x0004  /* left out of core dumps */
#define VME_NOSYNC              0x0008  /* the pager need not write it back eagerly */
#define VME_SHARED              0x0010  /* MAP_SHARED: fork shares it unless told otherwise */
#define VME_PUBLIC_MASK         0x001f  /* what vm_map_insert accepts */
#define VME_FORK_COPYING        0x0100  /* vm_map_fork only: a child's entry that still
                                           holds its wired parent's object, whose pages
                                           it copies before the fork returns */

/*
 * The first cache line holds what a lookup and a find-space descent read (the zone
 * aligns entries to cache lines), so each node visited costs one line.
 */
struct vm_map_entry {
	/* The tree (M). */
	struct vm_map_entry *vme_left;
	struct vm_map_entry *vme_right;
	vm_offset_t vme_start;          /* M: first address */
	vm_offset_t vme_end;            /* M: first address after */
	vm_size_t vme_adj_free;         /* M: free bytes between vme_end and the next start */
	vm_size_t vme_max_free;         /* M: largest vme_adj_free in this subtree */
	struct vm_map_entry *vme_parent;   /* M */
	int8_t vme_height;              /* M: tree height of this subtree (a leaf is 1) */
	vm_inherit_t vme_inheritance;   /* M: VM_INHERIT_* */
	uint8_t vme_advice;             /* M: VM_MADV_NORMAL, _RANDOM or _SEQUENTIAL */
	uint8_t vme_user_wired;         /* M: user wiring (mlock), 0 or 1 */
	uint16_t vme_eflags;            /* M: VME_* */
	/* The address-ordered list through the map's header (M). */
	struct vm_map_entry *vme_prev;
	struct vm_map_entry *vme_next;
	struct vm_object *vme_object;   /* M: what backs the range, NULL for none yet */
	vm_ooffset_t vme_offset;        /* M: offset in the object of vme_start */
	vm_prot_t vme_protection;       /* M: VM_PROT_* allowed now */
	vm_prot_t vme_max_protection;   /* M: the most vme_protection may become */
	uint32_t vme_wired_count;       /* M: system wirings (0..n) */
	/* vm_fault's fault-around (vm/vm_fault.c): a fault at vme_fault_next continues a
	 * sequential run and maps vme_fault_window pages ahead, more each time. */
	uint16_t vme_fault_window;      /* M: pages mapped ahead by the last fault */
	vm_offset_t vme_fault_next;     /* M: where the next sequential fault would come */
};

/* Entries kept by a map for the operations that split one under its lock: vm_map_lock
 * tops them up to VM_MAP_NSPARE; freed entries fill them up to twice that, so that an
 * mmap and munmap churn (one entry taken, one given back) never reaches UMA. */
#define VM_MAP_NSPARE           2
#define VM_MAP_MAXSPARE         (2 * VM_MAP_NSPARE)

struct vm_map {
	struct vm_map_entry vmap_header;   /* M: list sentinel; vme_end = min, vme_start = max */
	struct vm_map_entry *vmap_root;    /* M: the tree */
	struct mtx vmap_lock;
	int vmap_nentries;                 /* M: entries in the map */
	int vmap_nspare;                   /* M: entries in vmap_spare */
	struct vm_map_entry *vmap_spare[VM_MAP_MAXSPARE]; /* M: reserve for splits */
	vm_size_t vmap_size;               /* M: bytes mapped */
	uint32_t vmap_timestamp;           /* M: bumped by every change: "did it change while
	                                      the fault slept?" (vm_fault) */
	struct pmap *vmap_pmap;            /* C: the physical map, or NULL (no mappings) */
	struct vm_map_entry *vmap_deferred; /* M: entries gone from the map whose object
	                                       references vm_map_unlock drops (vm_map.c) */	struct vm_map_entry *vmap_hint;    /* M: the entry the last fault's lookup found, or
	                                      NULL; an entry in the map (unlink forgets it) */
};

static inline vm_offset_t vm_map_min(const struct vm_map *map)
{
	return map->vmap_header.vme_end;
}

static inline vm_offset_t vm_map_max(const struct vm_map *map)
{
	return map->vmap_header.vme_start;
}

/* The first entry, or the header (the end) when the map is empty. */
static inline struct vm_map_entry *vm_map_first(struct vm_map *map)
{
	return map->vmap_header.vme_next;
}

/*
 * Set up an empty map over [min, max) (page-aligned, min < max) with pmap (may be NULL).
 * The first map made creates the entry zone.
 * => may sleep; no lock held.
 */
void vm_map_init(struct vm_map *map, struct pmap *pmap, vm_offset_t min, vm_offset_t max);
/*
 * Remove every entry and free the map's resources; the last map gone destroys the entry
 * zone (which checks that no entry leaked).
 * => map unlocked and no longer used by anyone.
 */
void vm_map_destroy(struct vm_map *map);

/*
 * Take the map's lock, with VM_MAP_NSPARE spare entries in reserve so that one operation
 * under the lock (an insert, a delete, a protect: each splits at most two entries) never
 * has to allocate.
 * => may sleep (allocating the spares); returns with the map locked.
 */
void vm_map_lock(struct vm_map *map);
/* => drops the object references of the entries that left the map under the lock, after
 *    releasing it: may sleep. */
void vm_map_unlock(struct vm_map *map);
#define vm_map_assert_locked(map) \
	KASSERT(mtx_owned(&(map)->vmap_lock), ("%s: map %p not locked", __func__, (void *)(map)))

/*
 * The entry containing addr (returns true), or else the one before it (returns false;
 * the header when there is none).
 * => map locked.
 */
bool vm_map_lookup_entry(struct vm_map *map, vm_offset_t addr, struct vm_map_entry **entry);

/*
 * What a fault at an address needs from the map, found by vm_map_lookup_fault: the
 * entry, the object to look in first and the page index there, and the protection to
 * map with (the entry's, less write where the entry still shares its object for
 * copy-on-write).
 */
struct vm_map_fault {
	struct vm_map_entry *vmf_entry;
	struct vm_object *vmf_object;   /* the first object: it gets zero-fills and copies */
	vm_pindex_t vmf_pindex;
	vm_prot_t vmf_prot;
	uint32_t vmf_timestamp;         /* the map's timestamp when the lookup ended */
	struct vm_object *vmf_drop[2];  /* references to drop once the map is unlocked */
};

/*
 * Look up va for a fault of fault_type (VM_PROT_*). An entry without an object gets
 * its anonymous object here; a write to an entry marked VME_NEEDS_COPY gives it its
 * private shadow (vm_object_shadow), or just clears the mark when nobody else refers
 * to its object. Both allocate, so the map lock is dropped for the allocation and the
 * lookup starts again (the entry may have changed meanwhile).
 * => map locked on entry and on return (dropped meanwhile; may sleep). 0 with *vmf
 *    filled; EFAULT: no entry at va; EACCES: the entry does not allow fault_type.
 *    Either way the caller drops vmf_drop[] (vm_map_fault_done) after unlocking.
 */
int vm_map_lookup_fault(struct vm_map *map, vm_offset_t va, vm_prot_t fault_type,
    struct vm_map_fault *vmf);
/*
 * The map's lock for vm_fault's fast path, which reads the hinted entry and changes
 * only its fault-around fields: it splits nothing (no spares needed) and removes
 * nothing (nothing deferred: vm_map_unlock empties that list before it lets go).
 */
static inline void vm_map_lock_fault(struct vm_map *map)
{
	mtx_lock(&map->vmap_lock);
}
static inline void vm_map_unlock_fault(struct vm_map *map)
{
	KASSERT(map->vmap_deferred == NULL, ("vm_map_unlock_fault: map %p has entries to "
	    "drop", (void *)map));
	mtx_unlock(&map->vmap_lock);
}

/*
 * vm_map_lookup_fault's common case, without the call: va in the entry the last fault
 * found, which already has its object and no copy-on-write to set up, and allows the
 * access. Nothing to drop afterwards. => map locked. The entry, or NULL (then
 * vm_map_lookup_fault, which handles everything).
 */
static inline struct vm_map_entry *vm_map_lookup_fault_hint(struct vm_map *map,
    vm_offset_t va, vm_prot_t fault_type)
{
	struct vm_map_entry *e = map->vmap_hint;

	vm_map_assert_locked(map);
	if (e == NULL || va - e->vme_start >= e->vme_end - e->vme_start ||
	    e->vme_object == NULL || (fault_type & ~e->vme_protection) != 0 ||
	    (e->vme_eflags & VME_NEEDS_COPY) != 0)
		return NULL;
	return e;
}
/* Drop the references vm_map_lookup_fault left in vmf. => map unlocked; may sleep. */
void vm_map_fault_done(struct vm_map_fault *vmf);

/*
 * Map [start, end) to object at offset with protection prot (max: maxprot), inheritance
 * VM_INHERIT_DEFAULT, advice normal, unwired, eflags (VME_PUBLIC_MASK bits). On success
 * the entry takes over the caller's reference on object (as FreeBSD's vm_map_insert);
 * on failure the caller still holds it.
 * => map locked. 0; EINVAL: unaligned, empty or outside the map, or unknown eflags;
 *    EACCES: prot beyond maxprot; EEXIST: it overlaps an entry; ENOMEM: no entry.
 */
int vm_map_insert(struct vm_map *map, struct vm_object *object, vm_ooffset_t offset,
    vm_offset_t start, vm_offset_t end, vm_prot_t prot, vm_prot_t maxprot, int eflags);

/*
 * The lowest address a, a multiple of align (a power of two, at least PAGE_SIZE; 0 means
 * PAGE_SIZE), with min <= a, a + length <= max and [a, a + length) free. length > 0 and
 * page-aligned.
 * => map locked. 0 with *addr = a; ENOMEM: no such space; EINVAL: bad arguments.
 */
int vm_map_find_space(struct vm_map *map, vm_offset_t min, vm_offset_t max, vm_size_t length,
    vm_size_t align, vm_offset_t *addr);

/*
 * vm_map_find_space from *addr up to max, then vm_map_insert there; *addr is where.
 * => map unlocked (taken and dropped here); may sleep. Errors of both.
 */
int vm_map_find(struct vm_map *map, struct vm_object *object, vm_ooffset_t offset,
    vm_offset_t *addr, vm_size_t length, vm_offset_t max, vm_size_t align, vm_prot_t prot,
    vm_prot_t maxprot, int eflags);

/*
 * Unmap [start, end): entries inside go, entries partly inside are clipped to what lies
 * outside. Holes are fine. Wirings of what goes are dropped with it, and so are the
 * page wirings its wired mappings held (pmap_unwire). Each entry's range is
 * pmap_removed before it goes; its object reference is dropped by vm_map_unlock.
 * => map locked (vm_map_delete) or not (vm_map_remove takes it). 0; EINVAL: unaligned or
 *    start > end.
 */
int vm_map_delete(struct vm_map *map, vm_offset_t start, vm_offset_t end);
int vm_map_remove(struct vm_map *map, vm_offset_t start, vm_offset_t end);

/*
 * Split entry so that it starts at addr (clip_start: a new entry takes what lies below)
 * or ends at addr (clip_end: a new entry takes what lies above). Nothing happens when
 * addr is not strictly inside the entry.
 * => map locked; uses a spare entry (vm_map_lock reserved VM_MAP_NSPARE), or allocates
 *    one without sleeping; panics when neither works.
 */
void vm_map_clip_start(struct vm_map *map, struct vm_map_entry *entry, vm_offset_t addr);
void vm_map_clip_end(struct vm_map *map, struct vm_map_entry *entry, vm_offset_t addr);

/*
 * Set the protection of the entries in [start, end) (holes are skipped; the system-call
 * layer, which must refuse them with ENOMEM, asks vm_map_range_mapped). With set_max the
 * maximum protection becomes prot and the current one loses what the new maximum lacks;
 * otherwise the current protection becomes prot. Nothing changes unless every entry's
 * maximum allows prot. Mappings of an entry that lost a right are lowered (pmap_protect).
 * => map unlocked. 0; EACCES: prot beyond an entry's maximum; EINVAL: bad range or prot.
 */
int vm_map_protect(struct vm_map *map, vm_offset_t start, vm_offset_t end, vm_prot_t prot,
    bool set_max);
/* The same with the map locked by the caller (mprotect checks for holes under the same
 * lock). => map locked, with the spares vm_map_lock reserves. */
int vm_map_protect_locked(struct vm_map *map, vm_offset_t start, vm_offset_t end,
    vm_prot_t prot, bool set_max);

/*
 * Set the inheritance of the entries in [start, end) (holes skipped).
 * => map unlocked. 0; EINVAL: bad range or not a VM_INHERIT_* value (ZERO included).
 */
int vm_map_inherit(struct vm_map *map, vm_offset_t start, vm_offset_t end, vm_inherit_t inh);

/*
 * Record madvise advice on [start, end) (holes skipped): NORMAL, SEQUENTIAL and RANDOM
 * set the entries' advice. DONTNEED and FREE remove the range's mappings and free the
 * resident pages of a private anonymous object only that entry refers to. DONTNEED on
 * a private range whose object is shared (after fork) or shadows another clips the
 * entry to the range and drops its object there, so the range reads zeros and the
 * other side keeps its bytes (Linux's semantics); shared mappings keep their pages.
 * Wired entries are left alone. WILLNEED is accepted and left to the fault layer.
 * => map unlocked. 0; EINVAL: bad range or unknown advice.
 */
int vm_map_madvise(struct vm_map *map, vm_offset_t start, vm_offset_t end, int advice);

/*
 * Wiring accounting over [start, end). VM_MAP_WIRE_USER (mlock) sets an entry's user
 * wiring to 1, whatever it was; VM_MAP_WIRE_SYSTEM adds one system wiring (the kernel's
 * own, nested). The unwire of each removes one; it fails when an entry is not wired that
 * way. Without VM_MAP_WIRE_HOLESOK a hole in the range fails the call; with it, holes are
 * skipped and so are, when unwiring, entries not wired that way (munlockall over a mixed
 * address space). All or nothing: a failure changes no entry.
 * => map unlocked. 0; ENOMEM: a hole; EINVAL: an entry not wired that way (unwire), bad
 *    range or flags; EAGAIN: a system wiring count would overflow.
 */
#define VM_MAP_WIRE_SYSTEM      0x0
#define VM_MAP_WIRE_USER        0x1
#define VM_MAP_WIRE_HOLESOK     0x2
int vm_map_wire(struct vm_map *map, vm_offset_t start, vm_offset_t end, int flags);
int vm_map_unwire(struct vm_map *map, vm_offset_t start, vm_offset_t end, int flags);

/* Is an entry wired at all (by the user or the system)? */
static inline bool vm_map_entry_wired(const struct vm_map_entry *e)
{
	/* One test of the two counts or'ed, not two branches: the fault's fast path asks. */
	return (e->vme_user_wired | e->vme_wired_count) != 0;
}

/*
 * Merge neighbouring entries in [start, end) that could have been one (adjacent, same
 * object at contiguous offsets, same attributes and wirings).
 * => map unlocked (vm_map_simplify) or locked (vm_map_simplify_entry: entry with its two
 *    neighbours; entry may be freed, the survivor is returned).
 */
void vm_map_simplify(struct vm_map *map, vm_offset_t start, vm_offset_t end);
struct vm_map_entry *vm_map_simplify_entry(struct vm_map *map, struct vm_map_entry *entry);

/*
 * Is all of [start, end) mapped (no hole)?
 * => map locked.
 */
bool vm_map_range_mapped(struct vm_map *map, vm_offset_t start, vm_offset_t end);

/*
 * Fill new (empty, over old's range) with old's entries as fork passes them on
 * (vmspace_fork): VM_INHERIT_NONE entries are left out; SHARE entries map the same
 * object (one is made first for an entry without: old's lock is dropped for it); COPY
 * entries with an object become copy-on-write on both sides (VME_COW | VME_NEEDS_COPY
 * on both, old's writable mappings of the range write-protected, no page copied),
 * except wired ones with an anonymous object: a wired page must never become shared
 * copy-on-write (a write would replace it), so the child gets a new object holding
 * copies of the pages and the parent's entry and mappings stay as they were (FreeBSD's
 * vm_fault_copy_entry); ZERO entries become fresh ones without an object. The child's
 * entries are unwired.
 * => neither map locked; may sleep.
 */
void vm_map_fork(struct vm_map *old, struct vm_map *new);

/* Entries allocated from the entry zone (in maps and spares), for leak checks. */
int vm_map_entries_allocated(void);

/*
 * Check every invariant of the map: list order, bounds, the tree's order, parent links,
 * heights and balance, each vme_adj_free and each vme_max_free recomputed from scratch,
 * the counts. NULL when all hold, else what failed (in buf).
 * => map locked (vm/vm_map_verify.c, debug code).
 */
const char *vm_map_verify(struct vm_map *map, char *buf, size_t size);

#endif /* VM_VM_MAP_H */
