/*
 * vm_fault: resolve a page fault.
 *
 * The cases, by where the page is found (va in entry E, first object F = E's object,
 * which the lookup gives E at its first fault, and F's backing chain B1, B2, ...):
 *
 *   1. nowhere, F anonymous      zero-fill: a page from the pre-zeroed pool goes into F;
 *                                when faults in E come in address order, fault-around
 *                                fills and maps a run ahead in the same fault
 *   2. in F                      map it (the entry's protection); map its resident
 *                                neighbours too (prefault)
 *   3. in Bn, a read             map it read-only: it is shared with other shadows
 *   4. in Bn, a write            copy-on-write: the lookup has given E its private
 *                                shadow F (vm_object_shadow); the page is copied into F
 *                                at the faulting index and the copy mapped writable,
 *                                while Bn's page stays for everyone else
 *   5. not resident in an object with a pager
 *                                populate (the pager installs a run around the page) or
 *                                getpages (one page); the map lock is dropped for it
 *   6. busy (someone's I/O)      sleep until unbusied, then start again
 *   7. not resident, on swap     an anonymous object of the chain whose swap metadata
 *                                has the index: the swap pager reads it in, with the
 *                                neighbours contiguous on swap (read-around), into that
 *                                object; then as case 2 (mapped with its neighbours) in
 *                                F, or the fault starts again and finds it resident
 *                                (cases 3 and 4); a read error is SIGBUS
 *
 *        va -> E --> F -------> B1 ------> B2 ...     (shadow chain, top first)
 *                    |           |
 *                    copies,     pages shared read-only
 *                    zero-fills  with other shadows of B1
 *
 * Lock order: the map (a mutex, held through the whole fault so that the entry cannot
 * change under it), F, then each backing object down the chain (hand over hand: F stays
 * locked, an object below is unlocked when the next one is locked), then pmap's own
 * (pv list, then the pmap), then UMA's. A fault that must sleep (memory, a busy page,
 * the pager) releases everything first and starts again from the lookup; one that
 * dropped the map lock for the pager takes it back with a trylock (F is locked then:
 * against the order) and starts again when that fails or the map's timestamp moved.
 *
 * The common cases (the map's hinted entry, F anonymous without a pager: case 1 without
 * fault-around, case 2 without prefault, case 4 one level down) go through
 * vm_fault_fast in one pass; everything else through the general path below, which
 * starts again from the lookup when the fast path declines. F with swap metadata
 * leaves the fast path before it would zero-fill or copy (the page may be on swap).
 *
 * Swap and dirty pages: a write fault that maps a page of F dirty frees the page's
 * swap block (swap_pager_unswapped), which is stale from then on; a read maps it clean
 * (no D bit), and the block stays its copy until the page is written and paged out
 * again. Zero-fill's fault-around stops at F's next page on swap as at its next
 * resident one.
 *
 * Accessed and dirty bits: every entry is written with A set, and with D set when the
 * access was a write (pmap's flags), because on this platform the shadowing hypervisor
 * refaults to set each bit itself (../shared/PLATFORM.md).
 */
#include "vm/vm_fault.h"
#include "vm/pmap.h"
#include "vm/vm_object.h"
#include "vm/vm_page_alloc_inline.h"   /* vm_page_alloc_slot_anon: the fast path's */
#include "vm/vm_pager.h"
#include "vm/swap_pager.h"
#include <pmap_impl.h>      /* pmap_enter_new, the machine's (vm/pmap.h) */

/* Fault-around (case 1): the window of pages mapped ahead grows while faults stay
 * sequential, like read-ahead: from AROUND_MIN doubling to AROUND_MAX; an entry marked
 * MADV_SEQUENTIAL starts at AROUND_MAX and goes to AROUND_SEQ_MAX; MADV_RANDOM never.
 * A fault from user mode costs ~90 us on kvm_pvm whatever it maps, the pages ~8 us each
 * (make bench's fault.seq, touching 32 MiB in order: 13.2 us a page with a window of
 * 16, 10.7 with 32, 9.3 with 64), so the window goes on doubling to 64 pages (256 KiB,
 * what one sequential stream may get ahead of its use). */
#define VM_FAULT_AROUND_MIN     4
#define VM_FAULT_AROUND_MAX     64
#define VM_FAULT_AROUND_SEQ_MAX 128
/* Prefault (case 2): resident pages this far behind and ahead are mapped too. */
#define VM_FAULT_PFBAK          4
#define VM_FAULT_PFFOR          4
/* Pages a populated run is mapped in at a time. */
#define VM_FAULT_RUN            16

#define VM_FAULT_RETRY          (-1)

struct faultstate {
	struct vm_map *map;
	pmap_t pmap;
	vm_offset_t va;                 /* page-aligned */
	vm_prot_t fault_type;
	int flags;                      /* VM_FAULT_* */
	bool map_locked;
	struct vm_map_fault vmf;        /* entry, first object (locked), pindex, prot */
	struct vm_object *object;       /* the object looked in now (locked) */
	vm_pindex_t pindex;             /* the index there */
};

/*
 * The platform's per-CPU counters (vm_platform.h), one slot per field of struct
 * vm_fault_stats: no lock and no locked instruction on the fault path (on the guest one
 * %gs-relative add). Statistics for vm_meter, read racily.
 */
_Static_assert(sizeof(struct vm_fault_stats) == VM_PCPU_NCOUNTERS * sizeof(uint64_t),
    "one per-CPU counter per field of struct vm_fault_stats");
#define VM_FAULT_COUNT(field, n) \
	vm_pcpu_counter_add(offsetof(struct vm_fault_stats, field) / sizeof(uint64_t), (n))

void vm_fault_stats(struct vm_fault_stats *out)
{
	uint64_t *dst = (uint64_t *)out;

	memset(out, 0, sizeof(*out));
	/* Every slot, not vm_ncpus()'s: a CPU's counts stay counted whatever runs now. */
	for (int cpu = 0; cpu < MAXCPU; cpu++)
		for (int i = 0; i < VM_PCPU_NCOUNTERS; i++)
			dst[i] += vm_pcpu_counter_read(cpu, i);
}

/* Release the objects (the one looked in, then the first) and the map.
 * => whatever fs says is held; returns with nothing held. */
static void vm_fault_unlock_all(struct faultstate *fs)
{
	if (fs->object != NULL && fs->object != fs->vmf.vmf_object)
		vm_object_unlock(fs->object);
	fs->object = NULL;
	if (fs->vmf.vmf_object != NULL)
		vm_object_unlock(fs->vmf.vmf_object);
	fs->vmf.vmf_object = NULL;
	if (fs->map_locked)
		vm_map_unlock(fs->map);
	fs->map_locked = false;
}

/* Wait until a normal allocation could succeed (pages, or pmap's page tables and pv
 * entries). => no locks held; may sleep (the allocator panics where nothing could ever
 * free a page: vm-core.md). */
static void vm_fault_wait_memory(void)
{
	vm_page_t m = vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_WAITOK);

	vm_page_free(m);
}

/* pmap_enter's flags for this fault: the access, and the wiring (a wired entry's
 * mappings stay wired when a fault enters them again). */
static inline int vm_fault_pmap_flags(const struct faultstate *fs)
{
	return fs->fault_type | ((fs->flags & VM_FAULT_WIRE) != 0 ||
	    vm_map_entry_wired(fs->vmf.vmf_entry) ? PMAP_ENTER_WIRED : 0);
}

/*
 * Enter m at fs->va; a wiring fault wires the page once, when its mapping became wired.
 * pflags: PMAP_ENTER_NEW for a page this fault allocated (F, locked, holds it) where
 * nothing is mapped yet as a rule (a zero-fill), PMAP_ENTER_COPY for one that replaces
 * the read-only mapping of the page it copies (a COW copy).
 * => everything of fs locked. true, or false on a shortage (nothing changed).
 */
static bool vm_fault_enter_one(struct faultstate *fs, vm_page_t m, vm_prot_t prot,
    int pflags)
{
	uint64_t wired = 0;

	if ((fs->flags & VM_FAULT_WIRE) != 0)
		wired = pmap_wired_count(fs->pmap);
	if (pmap_enter(fs->pmap, fs->va, m, prot, vm_fault_pmap_flags(fs) | pflags) != 0)
		return false;       /* ENOMEM */
	if ((fs->flags & VM_FAULT_WIRE) != 0 && pmap_wired_count(fs->pmap) > wired)
		vm_page_wire(m);
	return true;
}

/* The window of pages to map ahead of a zero-fill at fs->va, and the entry's state for
 * the next fault. => map locked. */
static int vm_fault_around_window(struct faultstate *fs)
{
	struct vm_map_entry *e = fs->vmf.vmf_entry;
	int w;

	if (e->vme_advice == VM_MADV_RANDOM || (fs->flags & (VM_FAULT_NOAROUND |
	    VM_FAULT_WIRE)) != 0)
		return 0;
	if (e->vme_advice == VM_MADV_SEQUENTIAL)
		w = fs->va == e->vme_fault_next ? MIN(2 * e->vme_fault_window,
		    VM_FAULT_AROUND_SEQ_MAX) : VM_FAULT_AROUND_MAX;
	else if (fs->va == e->vme_fault_next)
		w = e->vme_fault_window == 0 ? VM_FAULT_AROUND_MIN :
		    MIN(2 * e->vme_fault_window, VM_FAULT_AROUND_MAX);
	else
		w = 0;
	return w;
}

/*
 * Case 1: zero-fill fs->pindex of the first object F, and with fault-around the pages
 * after it that F lacks, up to the window; map them all in one pmap_enter_run.
 * => everything of fs locked, F only (its chain has no page there). true, or false on
 *    a shortage of memory (then the caller releases everything and waits).
 */
static bool vm_fault_zero(struct faultstate *fs)
{
	struct vm_object *fobj = fs->vmf.vmf_object;
	struct vm_map_entry *e = fs->vmf.vmf_entry;
	vm_page_t ma[1 + VM_FAULT_AROUND_SEQ_MAX];
	int n = 1, w, entered;

	ma[0] = vm_page_alloc(fobj, fs->vmf.vmf_pindex, VM_ALLOC_NORMAL | VM_ALLOC_ZERO |
	    VM_ALLOC_NOBUSY);
	if (ma[0] == NULL)
		return false;
	VM_FAULT_COUNT(vfs_zero, 1);
	w = vm_fault_around_window(fs);
	if (w > 0 && fobj->vo_backing_object == NULL) {
		/* Ahead: within the entry and the object, and up to F's next resident page
		 * (a page already there has contents of its own). */
		vm_pindex_t lim = MIN((vm_pindex_t)w, atop(e->vme_end - fs->va) - 1);
		lim = fs->vmf.vmf_pindex < fobj->vo_size ?
		    MIN(lim, fobj->vo_size - fs->vmf.vmf_pindex - 1) : 0;
		vm_page_t nx = vm_page_find_least(fobj, fs->vmf.vmf_pindex + 1);
		if (nx != NULL)
			lim = MIN(lim, nx->pindex - fs->vmf.vmf_pindex - 1);
		/* A page on swap has contents too. */
		vm_pindex_t sp;
		uint64_t sblk;
		if (__predict_false(!swap_meta_empty(&fobj->vo_swap)) &&
		    swap_meta_first(&fobj->vo_swap, fs->vmf.vmf_pindex + 1, &sp, &sblk))
			lim = MIN(lim, sp - fs->vmf.vmf_pindex - 1);
		/* Extra pages only without waiting: fault-around is an optimisation. */
		for (; (vm_pindex_t)n <= lim; n++) {
			ma[n] = vm_page_alloc(fobj, fs->vmf.vmf_pindex + n, VM_ALLOC_NORMAL |
			    VM_ALLOC_ZERO | VM_ALLOC_NOBUSY);
			if (ma[n] == NULL)
				break;
		}
		VM_FAULT_COUNT(vfs_zero, n - 1);
	}
	if (n == 1) {
		if (!vm_fault_enter_one(fs, ma[0], fs->vmf.vmf_prot, PMAP_ENTER_NEW))
			return false;   /* the page stays in F: the retry maps it */
		entered = 1;
	} else {
		/* The run is mapped as the faulting access would map it: a sequential writer
		 * writes the pages ahead too, so they start dirty (no refault to set D). */
		entered = pmap_enter_run(fs->pmap, fs->va, ma, n, fs->vmf.vmf_prot,
		    vm_fault_pmap_flags(fs) | PMAP_ENTER_NEW);
		if (entered == 0)
			return false;
		VM_FAULT_COUNT(vfs_around, entered - 1);
	}
	e->vme_fault_next = fs->va + ptoa(entered);
	e->vme_fault_window = (uint16_t)(n - 1);
	return true;
}

/*
 * Case 2's prefault: map the pages of obj resident within VM_FAULT_PFBAK before and
 * VM_FAULT_PFFOR after m (which is mapped at fs->va), inside the entry, where nothing is
 * mapped yet. obj is the first object F or, read-only, F's backing object at depth one
 * (where F's own page would hide it).
 * => everything of fs locked.
 */
static void vm_fault_prefault(struct faultstate *fs, struct vm_object *obj, vm_page_t m,
    vm_prot_t prot)
{
	struct vm_object *fobj = fs->vmf.vmf_object;
	struct vm_map_entry *e = fs->vmf.vmf_entry;
	vm_pindex_t boff = obj == fobj ? 0 : atop(fobj->vo_backing_object_offset);
	/* obj's indexes of the entry's first and last pages. */
	vm_pindex_t estart = atop(e->vme_offset) + boff;
	vm_pindex_t elast = estart + atop(e->vme_end - e->vme_start) - 1;
	vm_pindex_t lo = m->pindex - MIN(m->pindex - estart, (vm_pindex_t)VM_FAULT_PFBAK);
	vm_pindex_t hi = MIN(m->pindex + VM_FAULT_PFFOR, elast);
	int n = 0;

	for (vm_page_t p = vm_page_find_least(obj, lo); p != NULL && p->pindex <= hi;
	    p = vm_page_next(p)) {
		if (p == m || vm_page_busied(p))
			continue;
		/* F's own page hides it, resident or on swap. */
		if (obj != fobj && vm_object_has_page(fobj, p->pindex - boff))
			continue;
		vm_offset_t va = fs->va + ptoa(p->pindex) - ptoa(m->pindex);
		if (pmap_extract(fs->pmap, va) != 0)
			continue;       /* never replace a mapping (it may be writable) */
		if (pmap_enter(fs->pmap, va, p, prot, 0) != 0)
			break;
		n++;
	}
	VM_FAULT_COUNT(vfs_prefault, n);
}

/*
 * Before a pager call that may sleep: nothing but obj (where the page is, F or below it)
 * stays locked, and obj has paging in progress (the caller ends it).
 * => everything of fs locked on entry; obj alone on return.
 */
static void vm_fault_pager_enter(struct faultstate *fs, struct vm_object *obj,
    struct vm_object *fobj)
{
	if (obj != fobj)
		vm_object_unlock(fobj);
	fs->vmf.vmf_object = obj;
	fs->object = obj;
	vm_map_unlock(fs->map);
	fs->map_locked = false;
	vm_object_pip_add(obj, 1);
	VM_FAULT_COUNT(vfs_pager, 1);
}

/*
 * Case 5: fs->object has a pager and no page at fs->pindex. The pager is called with
 * the map and every other object unlocked; when the object is the first one and the
 * map did not change meanwhile, the pages it brought are mapped here, else the fault
 * starts again (and finds them resident).
 * => everything of fs locked on entry; VM_FAULT_OK or VM_FAULT_RETRY with nothing
 *    locked, VM_FAULT_PAGER likewise.
 */
static int vm_fault_pager(struct faultstate *fs)
{
	struct vm_object *obj = fs->object, *fobj = fs->vmf.vmf_object;
	const struct vm_pager_ops *ops = obj->vo_pager;
	vm_prot_t maxprot = fs->vmf.vmf_entry->vme_max_protection;
	vm_pindex_t first = fs->pindex, last = fs->pindex;
	vm_page_t m = NULL;
	int rv = VM_PAGER_BAD;

	if (ops->pgo_populate == NULL) {
		m = vm_page_alloc(obj, fs->pindex, VM_ALLOC_NORMAL);
		if (m == NULL) {
			vm_fault_unlock_all(fs);
			vm_fault_wait_memory();
			return VM_FAULT_RETRY;
		}
	}
	vm_fault_pager_enter(fs, obj, fobj);
	if (ops->pgo_populate != NULL) {
		rv = ops->pgo_populate(obj, fs->pindex, fs->fault_type, maxprot, &first, &last);
		KASSERT(rv != VM_PAGER_OK || (first <= fs->pindex && fs->pindex <= last),
		    ("vm_fault_pager: %s populated [%#llx, %#llx] without %#llx", ops->pgo_name,
		    (unsigned long long)first, (unsigned long long)last,
		    (unsigned long long)fs->pindex));
		if (rv == VM_PAGER_BAD) {
			m = vm_page_alloc(obj, fs->pindex, VM_ALLOC_NORMAL);
			if (m == NULL) {
				vm_object_pip_wakeup(obj);
				vm_fault_unlock_all(fs);
				vm_fault_wait_memory();
				return VM_FAULT_RETRY;
			}
		}
	}
	if (rv == VM_PAGER_BAD) {
		rv = ops->pgo_getpages(obj, &m, 1);
		if (rv != VM_PAGER_OK) {
			vm_page_xunbusy(m);
			vm_page_free_obj(m);
		}
	}
	vm_object_pip_wakeup(obj);
	if (rv != VM_PAGER_OK) {
		vm_fault_unlock_all(fs);
		return VM_FAULT_PAGER;
	}

	/* Map the run now if the fault's view still holds (the trylock: obj is locked,
	 * against the lock order). */
	bool mapped = false;
	if (obj == fobj && (fs->flags & VM_FAULT_WIRE) == 0 &&
	    mtx_trylock(&fs->map->vmap_lock)) {
		fs->map_locked = true;
		if (fs->map->vmap_timestamp == fs->vmf.vmf_timestamp) {
			struct vm_map_entry *e = fs->vmf.vmf_entry;
			vm_pindex_t lo = MAX(first, fs->vmf.vmf_pindex - atop(fs->va - e->vme_start));
			vm_pindex_t hi = MIN(last, fs->vmf.vmf_pindex + atop(e->vme_end - fs->va) - 1);
			vm_page_t ma[VM_FAULT_RUN];
			mapped = true;
			for (vm_pindex_t p = lo; p <= hi && mapped; p += VM_FAULT_RUN) {
				int n = (int)MIN((vm_pindex_t)VM_FAULT_RUN, hi - p + 1);
				for (int i = 0; i < n; i++)
					ma[i] = vm_page_lookup(obj, p + i);
				vm_offset_t va = fs->va - ptoa(fs->vmf.vmf_pindex - p);
				mapped = pmap_enter_run(fs->pmap, va, ma, n, fs->vmf.vmf_prot,
				    vm_fault_pmap_flags(fs)) == n;
			}
		}
	}
	for (vm_pindex_t p = first; p <= last; p++)
		vm_page_xunbusy(vm_page_lookup(obj, p));
	vm_fault_unlock_all(fs);
	if (!mapped)
		return VM_FAULT_RETRY;
	return VM_FAULT_OK;
}

/*
 * Case 7: fs->object, anonymous, has no resident page at fs->pindex but its swap has
 * it, with `before` and `after` neighbours whose blocks continue the run (haspage). The
 * fault allocates the run it reads: the page, and the neighbours inside the entry and
 * the object that are not resident, up to the first that is or that cannot be had
 * without waiting (read-around is an optimisation); none under MADV_RANDOM or
 * VM_FAULT_NOAROUND. The swap pager fills them with the map and every other object
 * unlocked. When the object is F and the map did not change meanwhile, the page is
 * mapped as the access asks (a write dirties it: its block goes) and its neighbours as
 * a read would map them (clean, where nothing is mapped yet); else the fault starts
 * again and finds them resident.
 * => everything of fs locked on entry; VM_FAULT_OK or VM_FAULT_RETRY with nothing
 *    locked, VM_FAULT_PAGER (a read error: SIGBUS, no page left behind) likewise.
 */
static int vm_fault_swapin(struct faultstate *fs, int before, int after)
{
	struct vm_object *obj = fs->object, *fobj = fs->vmf.vmf_object;
	struct vm_map_entry *e = fs->vmf.vmf_entry;
	vm_page_t ma[SWAP_PAGER_READAROUND], m, behind[SWAP_PAGER_READAROUND];
	vm_pindex_t pindex = fs->pindex;
	/* The entry's first and last pages in obj's indexes (obj is F or below it). */
	vm_pindex_t delta = pindex - fs->vmf.vmf_pindex;
	vm_pindex_t elo = fs->vmf.vmf_pindex - atop(fs->va - e->vme_start) + delta;
	vm_pindex_t ehi = fs->vmf.vmf_pindex + atop(e->vme_end - fs->va) - 1 + delta;
	int n = 0, nb = 0, idx, rv;

	/* Read-around pays where the faults go in order (as fault-around: the entry's
	 * vme_fault_next, or MADV_SEQUENTIAL). Elsewhere the neighbours are mostly not
	 * wanted: they take memory the wanted pages need, and evicting them costs as
	 * much as reading them did. */
	bool inorder = e->vme_advice == VM_MADV_SEQUENTIAL || fs->va == e->vme_fault_next;
	if (!inorder || e->vme_advice == VM_MADV_RANDOM ||
	    (fs->flags & VM_FAULT_NOAROUND) != 0)
		before = after = 0;
	before = (int)MIN((vm_pindex_t)before, pindex - elo);
	after = pindex >= obj->vo_size ? 0 :
	    (int)MIN((vm_pindex_t)after, MIN(ehi, obj->vo_size - 1) - pindex);
	KASSERT(before + after < SWAP_PAGER_READAROUND, ("vm_fault_swapin: a run of %d",
	    before + after + 1));
	m = vm_page_alloc(obj, pindex, VM_ALLOC_NORMAL);
	if (m == NULL) {
		vm_fault_unlock_all(fs);
		vm_fault_wait_memory();
		return VM_FAULT_RETRY;
	}
	for (int k = 1; k <= before; k++) {
		if (vm_page_lookup(obj, pindex - k) != NULL ||
		    (behind[nb] = vm_page_alloc(obj, pindex - k, VM_ALLOC_NORMAL)) == NULL)
			break;
		nb++;
	}
	while (nb > 0)
		ma[n++] = behind[--nb];
	idx = n;
	ma[n++] = m;
	for (int k = 1; k <= after; k++) {
		if (vm_page_lookup(obj, pindex + k) != NULL ||
		    (ma[n] = vm_page_alloc(obj, pindex + k, VM_ALLOC_NORMAL)) == NULL)
			break;
		n++;
	}

	/* The next fault in order is the one past the run (the map is still locked). */
	if (e->vme_advice != VM_MADV_RANDOM)
		e->vme_fault_next = fs->va + ptoa(n - idx);
	vm_fault_pager_enter(fs, obj, fobj);
	rv = swap_pager_getpages(obj, ma, n);
	vm_object_pip_wakeup(obj);
	if (rv != VM_PAGER_OK) {
		for (int i = 0; i < n; i++) {
			vm_page_xunbusy(ma[i]);
			vm_page_free_obj(ma[i]);
		}
		vm_fault_unlock_all(fs);
		/* VM_PAGER_FAIL: the block went meanwhile (it cannot while the pages are
		 * busy, but then the index is simply looked up again). */
		return rv == VM_PAGER_ERROR ? VM_FAULT_PAGER : VM_FAULT_RETRY;
	}
	VM_FAULT_COUNT(vfs_major, 1);
	vm_plat_fault_major();

	bool mapped = false;
	if (obj == fobj && (fs->flags & VM_FAULT_WIRE) == 0 &&
	    mtx_trylock(&fs->map->vmap_lock)) {
		fs->map_locked = true;
		if (fs->map->vmap_timestamp == fs->vmf.vmf_timestamp &&
		    vm_fault_enter_one(fs, m, fs->vmf.vmf_prot, 0)) {
			mapped = true;
			if ((fs->fault_type & VM_PROT_WRITE) != 0)
				swap_pager_unswapped(m);
			/* The neighbours as a read maps them (a wired entry's are left to
			 * their own faults, which wire what they map). */
			for (int i = 0; i < n && !vm_map_entry_wired(e); i++) {
				vm_offset_t va = fs->va + ptoa(ma[i]->pindex) - ptoa(pindex);
				if (i == idx || pmap_extract(fs->pmap, va) != 0)
					continue;
				if (pmap_enter(fs->pmap, va, ma[i], fs->vmf.vmf_prot,
				    VM_PROT_READ) != 0)
					break;
				VM_FAULT_COUNT(vfs_prefault, 1);
			}
		}
	}
	for (int i = 0; i < n; i++)
		vm_page_xunbusy(ma[i]);
	vm_fault_unlock_all(fs);
	return mapped ? VM_FAULT_OK : VM_FAULT_RETRY;
}

/* One attempt. => nothing locked on entry and on return. VM_FAULT_* or VM_FAULT_RETRY. */
static int vm_fault_once(struct faultstate *fs)
{
	struct vm_object *fobj, *next;
	vm_page_t m;
	int rv;

	vm_map_lock(fs->map);
	fs->map_locked = true;
	fs->object = NULL;
	rv = vm_map_lookup_fault(fs->map, fs->va, fs->fault_type, &fs->vmf);
	if (rv != 0) {
		vm_map_unlock(fs->map);
		fs->map_locked = false;
		return rv == EFAULT ? VM_FAULT_NOMAP : VM_FAULT_PROT;
	}
	fobj = fs->vmf.vmf_object;
	vm_object_lock(fobj);
	fs->object = fobj;
	fs->pindex = fs->vmf.vmf_pindex;

	/* Down the chain to the first object that has the page. */
	for (;;) {
		m = vm_page_lookup(fs->object, fs->pindex);
		if (m != NULL) {
			if (vm_page_busied(m)) {
				/* Case 6: nothing but the page's object stays locked for the
				 * sleep, which drops that too. */
				struct vm_object *obj = fs->object;
				if (obj != fobj)
					vm_object_unlock(fobj);
				vm_map_unlock(fs->map);
				fs->map_locked = false;
				fs->object = fs->vmf.vmf_object = NULL;
				vm_page_busy_sleep_unlocked(m, &obj->vo_lock, true);
				return VM_FAULT_RETRY;
			}
			break;
		}
		if (fs->object->vo_pager != NULL)
			return vm_fault_pager(fs);
		if (!vm_object_anon(fs->object)) {
			/* A phys or device object without a pager has nothing to give. */
			vm_fault_unlock_all(fs);
			return VM_FAULT_PAGER;
		}
		/* Case 7: an anonymous page paged out is this object's still. */
		if (__predict_false(!swap_meta_empty(&fs->object->vo_swap))) {
			int before, after;
			if (swap_pager_haspage(fs->object, fs->pindex, &before, &after))
				return vm_fault_swapin(fs, before, after);
		}
		next = fs->object->vo_backing_object;
		if (next == NULL)
			break;
		fs->pindex += atop(fs->object->vo_backing_object_offset);
		vm_object_lock(next);
		if (fs->object != fobj)
			vm_object_unlock(fs->object);
		fs->object = next;
	}

	if (m == NULL) {
		/* Case 1. */
		if (fs->object != fobj)
			vm_object_unlock(fs->object);
		fs->object = fobj;
		if (!vm_fault_zero(fs))
			goto shortage;
	} else if (fs->object == fobj) {
		/* Case 2. */
		if (!vm_fault_enter_one(fs, m, fs->vmf.vmf_prot, 0))
			goto shortage;
		/* Written: the copy on swap, if any, is stale. */
		if (__predict_false(!swap_meta_empty(&fobj->vo_swap)) &&
		    (fs->fault_type & VM_PROT_WRITE) != 0)
			swap_pager_unswapped(m);
		if ((fs->flags & (VM_FAULT_NOAROUND | VM_FAULT_WIRE)) == 0 &&
		    fs->vmf.vmf_entry->vme_advice != VM_MADV_RANDOM)
			vm_fault_prefault(fs, fobj, m, fs->vmf.vmf_prot);
	} else if ((fs->fault_type & VM_PROT_WRITE) == 0) {
		/* Case 3: shared with the other shadows of this object. */
		vm_prot_t prot = fs->vmf.vmf_prot & ~VM_PROT_WRITE;
		if (!vm_fault_enter_one(fs, m, prot, 0))
			goto shortage;
		if ((fs->flags & (VM_FAULT_NOAROUND | VM_FAULT_WIRE)) == 0 &&
		    fs->vmf.vmf_entry->vme_advice != VM_MADV_RANDOM &&
		    fs->object == fobj->vo_backing_object)
			vm_fault_prefault(fs, fs->object, m, prot);
	} else {
		/* Case 4: the lookup made F private (a write clears VME_NEEDS_COPY), so F
		 * takes a copy; the original stays where the other shadows see it. */
		vm_page_t copy = vm_page_alloc(fobj, fs->vmf.vmf_pindex, VM_ALLOC_NORMAL |
		    VM_ALLOC_NOBUSY);
		if (copy == NULL)
			goto shortage;
		pmap_copy_page(m, copy);
		vm_object_unlock(fs->object);
		fs->object = fobj;
		VM_FAULT_COUNT(vfs_cow, 1);
		if (!vm_fault_enter_one(fs, copy, fs->vmf.vmf_prot, PMAP_ENTER_COPY))
			goto shortage;  /* the copy stays in F: the retry maps it */
	}
	vm_fault_unlock_all(fs);
	return VM_FAULT_OK;

shortage:
	vm_fault_unlock_all(fs);
	vm_fault_wait_memory();
	return VM_FAULT_RETRY;
}

/*
 * The common faults in one pass, without faultstate's generality: the entry the last
 * fault found (vm_map_lookup_fault_hint), an anonymous first object F without a pager,
 * and then
 *   - no page in F nor (with a backing object B) in B, no fault-around: zero-fill (case 1);
 *   - the page in F, no prefault: map it (case 2);
 *   - the page in B (one level down), a write: copy it into F and map the copy (case 4);
 *   all three only when F has no swap metadata (the page may be on swap; a write to a
 *   page of F frees its swap block).
 * Anything else (another entry, a deeper chain, a busy page, fault-around or prefault,
 * wiring or a wired entry, a shortage) changes nothing and returns VM_FAULT_RETRY: the general path
 * then starts from the lookup. The locks and their order are the general path's.
 * => nothing locked on entry and on return.
 */
static inline __attribute__((always_inline)) int vm_fault_fast(struct vm_map *map,
    vm_offset_t va, vm_prot_t fault_type, int flags)
{
	struct vm_map_entry *e;
	struct vm_object *fobj, *bobj;
	vm_page_t m, copy;
	vm_pindex_t pindex;
	int pflags;

	if ((flags & VM_FAULT_WIRE) != 0)
		return VM_FAULT_RETRY;
	vm_map_lock_fault(map);
	e = vm_map_lookup_fault_hint(map, va, fault_type);
	/* vo_type and vo_pager are constant: read before the object's lock. A wired
	 * entry's faults (rare: wiring faulted its pages in) enter wired mappings: the
	 * general path's, so that here no wiring is carried to pmap. */
	if (e == NULL || vm_map_entry_wired(e) || !vm_object_anon(fobj = e->vme_object) ||
	    fobj->vo_pager != NULL)
		goto out_map;
	pindex = atop(e->vme_offset + (va - e->vme_start));
	pflags = fault_type;
	vm_object_lock(fobj);
	/* The slot a new page goes into comes with the miss (F stays locked). */
	uintptr_t *slot;
	uint16_t *count;
	m = vm_page_lookup_slot(fobj, pindex, &slot, &count);
	if (m != NULL) {
		/* Case 2 (prefault and F with pages on swap: the general path, which
		 * frees the swap block of a page a write dirties). */
		if ((e->vme_advice != VM_MADV_RANDOM &&
		    (flags & VM_FAULT_NOAROUND) == 0) || vm_page_busied(m) ||
		    __predict_false(fobj->vo_swap.sm_root != 0))
			goto out_obj;
		if (pmap_enter(map->vmap_pmap, va, m, e->vme_protection, pflags) != 0)
			goto out_obj;
		goto done;
	}
	/* Zero-fill needs neither a backing object nor a page of F on swap: both in one
	 * test (the swap trie's root is non-zero exactly while F has pages on swap), so
	 * memory that was never paged out pays nothing for swap here. */
	if (((uintptr_t)fobj->vo_backing_object | fobj->vo_swap.sm_root) == 0) {
		/* Case 1, when fault-around would map nothing ahead (its window is 0:
		 * vm_fault_around_window); then fault-around's state (which nothing
		 * reads in a MADV_RANDOM entry) says this fault happened, as the general
		 * path's would (a shortage below sends it there: the same window). */
		if (e->vme_advice != VM_MADV_RANDOM) {
			if ((flags & VM_FAULT_NOAROUND) == 0 && (e->vme_advice ==
			    VM_MADV_SEQUENTIAL || va == e->vme_fault_next))
				goto out_obj;
			e->vme_fault_next = va + PAGE_SIZE;
			e->vme_fault_window = 0;
		}
		m = vm_page_alloc_slot_anon(fobj, pindex, VM_ALLOC_NORMAL | VM_ALLOC_ZERO |
		    VM_ALLOC_NOBUSY, slot, count, true);
		if (m == NULL)
			goto out_obj;
		VM_FAULT_COUNT(vfs_zero, 1);
		/* A shortage leaves the page in F: the general path maps it. The access
		 * alone (pflags is no more here, which the compiler sees only so): the
		 * enter's tests of wiring and dirtiness fold away. */
		if (pmap_enter_new(map->vmap_pmap, va, m, e->vme_protection, (pflags &
		    VM_PROT_ALL) | PMAP_ENTER_NEW) != 0)
			goto out_obj;
		goto done;
	}
	/* F has pages on swap: this one may be (the general path asks). */
	if (__predict_false(fobj->vo_swap.sm_root != 0))
		goto out_obj;
	/* Case 4 at depth one (vm_object_anon(B): only anonymous objects are shadowed).
	 * B loaded again (as an atomic: the compiler keeps no copy of the test's load
	 * alive for it, which would cost the zero-fill a register move). */
	bobj = __atomic_load_n(&fobj->vo_backing_object, __ATOMIC_RELAXED);
	if ((fault_type & VM_PROT_WRITE) == 0)
		goto out_obj;
	vm_object_lock(bobj);
	m = vm_page_lookup(bobj, pindex + atop(fobj->vo_backing_object_offset));
	if (m == NULL || vm_page_busied(m) ||
	    (copy = vm_page_alloc_slot_anon(fobj, pindex, VM_ALLOC_NORMAL |
	    VM_ALLOC_NOBUSY, slot, count, true)) == NULL) {
		vm_object_unlock(bobj);
		goto out_obj;
	}
	pmap_copy_page(m, copy);
	vm_object_unlock(bobj);
	VM_FAULT_COUNT(vfs_cow, 1);
	/* pmap_enter's PMAP_ENTER_COPY case without its dispatch (<pmap_impl.h>): the
	 * fast path passes no wiring. */
	if (pmap_enter_copy(map->vmap_pmap, va, copy, e->vme_protection, pflags |
	    PMAP_ENTER_COPY) != 0)
		goto out_obj;   /* the copy stays in F: the general path maps it */
done:
	vm_object_unlock(fobj);
	vm_map_unlock_fault(map);
	return VM_FAULT_OK;
out_obj:
	vm_object_unlock(fobj);
out_map:
	vm_map_unlock_fault(map);
	return VM_FAULT_RETRY;
}

/* The general path: every case, one attempt after another. => nothing locked. */
static __attribute__((noinline)) int vm_fault_general(struct vm_map *map, vm_offset_t va,
    vm_prot_t fault_type, int flags)
{
	struct faultstate fs;
	int rv;

	fs.map = map;
	fs.pmap = map->vmap_pmap;
	fs.va = va;
	fs.fault_type = fault_type;
	fs.flags = flags;
	fs.map_locked = false;
	for (;;) {
		rv = vm_fault_once(&fs);
		/* References the lookup let go of, dropped without any lock. */
		vm_map_fault_done(&fs.vmf);
		if (rv != VM_FAULT_RETRY)
			return rv;
		VM_FAULT_COUNT(vfs_retry, 1);
	}
}

int vm_fault(struct vm_map *map, vm_offset_t vaddr, vm_prot_t fault_type, int flags)
{
	vm_offset_t va = trunc_page(vaddr);

	KASSERT(fault_type != 0 && (fault_type & ~VM_PROT_ALL) == 0,
	    ("vm_fault: bad fault type %#x", fault_type));
	KASSERT(map->vmap_pmap != NULL, ("vm_fault: map %p has no pmap", (void *)map));
	VM_FAULT_COUNT(vfs_faults, 1);
	if (vm_fault_fast(map, va, fault_type, flags) == VM_FAULT_OK)
		return VM_FAULT_OK;
	return vm_fault_general(map, va, fault_type, flags);
}

/* ---- faults on purpose: wiring and populating ---------------------------------------- */

/* The protection of the entry at va (VM_PROT_NONE for a hole). => map unlocked. */
static vm_prot_t vm_fault_entry_prot(struct vm_map *map, vm_offset_t va)
{
	struct vm_map_entry *e;
	vm_prot_t prot = VM_PROT_NONE;

	vm_map_lock(map);
	if (vm_map_lookup_entry(map, va, &e))
		prot = e->vme_protection;
	vm_map_unlock(map);
	return prot;
}

int vm_fault_wire(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	for (vm_offset_t va = trunc_page(start); va < end; va += PAGE_SIZE) {
		/* The entry's own rights: a writable copy-on-write entry gets its copies
		 * now, so that a wired page is never replaced by a later write. */
		vm_prot_t prot = vm_fault_entry_prot(map, va) & (VM_PROT_READ | VM_PROT_WRITE);
		if (prot == VM_PROT_NONE)
			return EFAULT;
		if (vm_fault(map, va, prot, VM_FAULT_WIRE) != VM_FAULT_OK)
			return EFAULT;
	}
	return 0;
}

void vm_fault_unwire(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	enum { CHUNK = 64 };
	vm_page_t ma[CHUNK];
	pmap_t pmap = map->vmap_pmap;

	/* The mappings stay (a munlocked page is still there without a fault); a page is
	 * unwired once, when its mapping was a wired one, as vm_fault_enter_one wired it.
	 * Under the map's lock, which vm_map_delete holds while it unwires a wired entry's
	 * pages itself: each wired mapping gives back its page's wiring exactly once. */
	vm_map_lock(map);
	for (vm_offset_t va = trunc_page(start), next; va < end; va = next) {
		next = MIN(va + ptoa(CHUNK), round_page(end));
		int n = pmap_unwire(pmap, va, next, ma, CHUNK);
		for (int i = 0; i < n; i++)
			vm_page_unwire_noq(ma[i]);
	}
	vm_map_unlock(map);
}

vm_size_t vm_fault_populate_range(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	vm_size_t missed = 0;

	for (vm_offset_t va = trunc_page(start); va < end; va += PAGE_SIZE) {
		vm_prot_t prot = vm_fault_entry_prot(map, va);
		if ((prot & (VM_PROT_READ | VM_PROT_WRITE)) == 0) {
			missed++;
			continue;
		}
		/* Read: a copy-on-write entry keeps sharing until it is written. */
		if (pmap_extract(map->vmap_pmap, va) != 0)
			continue;
		if (vm_fault(map, va, VM_PROT_READ, VM_FAULT_NORMAL) != VM_FAULT_OK)
			missed++;
	}
	return missed;
}
