/*
 * vm_mmap: mmap, munmap, mprotect, madvise, minherit, mlock/munlock and brk over a
 * process's vm_map, with Linux's argument checks in Linux's order, so that a program
 * gets the errno it would get on Linux (tests/linuxref/mmap_errnos.c runs the same
 * calls on the host's Linux; tests/unit/test_vm_mmap.c holds what it printed).
 *
 * Pages and page tables belong to vm_object, vm_fault and pmap; this file decides what
 * happens and calls them:
 *   - zero-fill pages: a new anonymous mapping reads as zeros. A private one needs
 *     nothing here (its first fault makes an object and zero-fills); a shared one gets
 *     its object at mmap time so that a child shares the pages (vm_mmap_anon_object).
 *   - madvise DONTNEED and FREE remove the range's mappings and free the pages of a
 *     private anonymous object only that entry refers to; DONTNEED on a private range
 *     whose object is shared after fork or shadows another gives the range a fresh,
 *     object-less state, so it reads zeros as on Linux (vm_map_madvise).
 * The effects that are vm_fault's go through the hooks below, each a thin call where
 * the effect belongs (a map without a pmap, in some unit tests, skips them):
 *   - MAP_POPULATE: read-fault the range in after mapping it (vm_mmap_hook_populate,
 *     vm_fault_populate_range); MAP_LOCKED: fault in and wire, as mlock.
 *   - mlock: fault the pages in and wire them (vm_mmap_hook_wire_fault, vm_fault_wire);
 *     munlock unwires them and keeps them mapped (vm_mmap_hook_unwire, vm_fault_unwire
 *     through pmap_unwire).
 *   - madvise WILLNEED's read-ahead (vm_mmap_hook_willneed).
 *   - munmap and mprotect change page tables in vm_map_delete and vm_map_protect
 *     (pmap_remove, pmap_protect: vm_map.c says where), not here; munmap of locked
 *     memory unwires its pages there too.
 *
 * Deliberate differences from Linux (each also at its check):
 *   - Addresses: without a usable hint, the lowest free range (FreeBSD's order), not
 *     Linux's top-down search from mmap_base.
 *   - Flags Linux ignores but we cannot honour (MAP_32BIT, MAP_GROWSDOWN, MAP_HUGETLB,
 *     MAP_SYNC, MAP_UNINITIALIZED, bits Linux does not define) are refused with
 *     EINVAL instead of silently giving a different mapping.
 *   - mprotect and mlock are all or nothing: a hole (ENOMEM) or a maximum protection
 *     (EACCES) refuses the whole call. Linux changes the entries before the failing
 *     point and leaves them changed (its man page warns of it); nobody can rely on how
 *     far it got. madvise still applies to what is mapped and answers ENOMEM, as Linux
 *     does, since advice is harmless to apply, and refuses (EINVAL) before changing
 *     anything when an entry rejects the advice.
 *   - The fork advices share one inheritance value per entry where Linux keeps two
 *     flags (VM_DONTCOPY, VM_WIPEONFORK): DONTFORK on a WIPEONFORK range forgets the
 *     wipe, so a later DOFORK gives a copy rather than zeros.
 *   - No rlimits yet (RLIMIT_MEMLOCK, RLIMIT_AS, max_map_count): but the break's limit.
 *   - mlock of a PROT_NONE range: Linux marks it locked and then answers ENOMEM when
 *     faulting it in fails; so does vm_mmap_hook_wire_fault, through vm_fault.
 *
 * Lock order: the map's lock only (vm_map.c takes UMA's under it).
 */
#include "vm/vm_mmap.h"
#include "vm/vm_fault.h"
#include "vm/vm_object.h"

#define VM_MMAP_PROT_ALL    (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE)

/* The flags we honour or may ignore; the rest are refused (see above). */
#define VM_MMAP_FLAGS_OK    (LINUX_MAP_TYPE | LINUX_MAP_FIXED | LINUX_MAP_ANONYMOUS |   \
	LINUX_MAP_DENYWRITE | LINUX_MAP_EXECUTABLE | LINUX_MAP_LOCKED | LINUX_MAP_NORESERVE | \
	LINUX_MAP_POPULATE | LINUX_MAP_NONBLOCK | LINUX_MAP_STACK | LINUX_MAP_FIXED_NOREPLACE)

/*
 * The object of a new anonymous mapping of len bytes: a shared one gets its object now
 * (so that a child shares the pages whoever faults first); a private one gets none
 * until its first fault zero-fills a page. Made before the map is locked: allocating
 * may sleep. => no lock held; the object with one reference (the entry's to take), or
 * NULL.
 */
static struct vm_object *vm_mmap_anon_object(vm_size_t len, bool shared)
{
	return shared ? vm_object_allocate(OBJT_DEFAULT, atop(len)) : NULL;
}

/* ---- hooks: the effects that are vm_fault's -------------------------------------------- */

/* MAP_POPULATE, MAP_LOCKED: fault [start, end) in (vm_fault's populate). Linux's mmap
 * ignores a failure here, so its result is dropped. => map unlocked. */
static int vm_mmap_hook_populate(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	if (map->vmap_pmap == NULL)
		return 0;       /* a map without a pmap (some unit tests) has nothing to fill */
	return vm_fault_populate_range(map, start, end) == 0 ? 0 : ENOMEM;
}

/* mlock: fault in and wire the pages of [start, end), just marked user-wired. An errno:
 * EFAULT (no page can be had: PROT_NONE), ENOMEM (no memory). => map unlocked. */
static int vm_mmap_hook_wire_fault(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	if (map->vmap_pmap == NULL)
		return 0;
	return vm_fault_wire(map, start, end);
}

/* munlock: unwire the pages of [start, end) (they become pageable). => map unlocked. */
static void vm_mmap_hook_unwire(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	if (map->vmap_pmap != NULL)
		vm_fault_unwire(map, start, end);
}

/* MADV_WILLNEED: start reading in the range's pages (pager read-ahead). */
static void vm_mmap_hook_willneed(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	/* Resident or not, the pages are faulted in (read): advice has no error. */
	if (map->vmap_pmap != NULL)
		(void)vm_fault_populate_range(map, start, end);
}


/* ---- mmap, munmap --------------------------------------------------------------------- */

/* Is [start, end) free of entries? => map locked. */
static bool vm_mmap_range_free(struct vm_map *map, vm_offset_t start, vm_offset_t end)
{
	struct vm_map_entry *e;

	if (vm_map_lookup_entry(map, start, &e))
		return false;
	return e->vme_next == &map->vmap_header || e->vme_next->vme_start >= end;
}

/* Choose where [a, a + len) goes and clear it for MAP_FIXED. => map locked; 0 or errno. */
static int vm_mmap_place(struct vm_map *map, vm_offset_t addr, vm_size_t len, int flags,
    vm_offset_t *where)
{
	vm_offset_t min = vm_map_min(map), max = vm_map_max(map);

	if ((flags & LINUX_MAP_FIXED_NOREPLACE) != 0) {
		/* do_mmap: anything in the range refuses the call, nothing is replaced. */
		if (!vm_mmap_range_free(map, addr, addr + len))
			return EEXIST;
		*where = addr;
		return 0;
	}
	if ((flags & LINUX_MAP_FIXED) != 0) {
		/* mmap_region: MAP_FIXED unmaps what was there first. */
		*where = addr;
		return vm_map_delete(map, addr, addr + len);
	}
	/* A hint is taken when the whole range is free and inside the map
	 * (generic_get_unmapped_area); otherwise it is ignored, not searched from. */
	if (addr != 0 && addr <= max - len && vm_mmap_range_free(map, addr, addr + len)) {
		*where = addr;
		return 0;
	}
	return vm_map_find_space(map, min, max, len, PAGE_SIZE, where);
}

long vm_mmap_max(struct vm_map *map, vm_offset_t addr, vm_size_t len, int prot,
    vm_prot_t maxprot, int flags)
{
	vm_offset_t min = vm_map_min(map), max = vm_map_max(map), a;
	struct vm_map_entry *e;
	struct vm_object *obj;
	int type = flags & LINUX_MAP_TYPE, rv;
	bool shared = type == LINUX_MAP_SHARED;

	/* ksys_mmap_pgoff looks the descriptor up before anything else: fd -1 is EBADF. */
	if ((flags & LINUX_MAP_ANONYMOUS) == 0)
		return -EBADF;
	/* do_mmap: a zero length is EINVAL, before any other check. */
	if (len == 0)
		return -EINVAL;
	/* Ours: Linux ignores flags it does not know; we refuse what we cannot do. */
	if ((flags & ~VM_MMAP_FLAGS_OK) != 0)
		return -EINVAL;
	/* calc_vm_prot_bits keeps read, write and exec and drops other bits unchecked. */
	prot &= VM_MMAP_PROT_ALL;
	if ((flags & LINUX_MAP_FIXED_NOREPLACE) != 0)
		flags |= LINUX_MAP_FIXED;
	if ((flags & LINUX_MAP_FIXED) == 0) {
		/* round_hint_to_min: a hint is rounded down to its page, and one below the
		 * lowest user address becomes that address. */
		addr = trunc_page(addr);
		if (addr != 0 && addr < min)
			addr = min;
	}
	/* do_mmap: the rounded length wrapping to 0 is ENOMEM. */
	len = round_page(len);
	if (len == 0)
		return -ENOMEM;
	/* get_unmapped_area: longer than the user space, or a fixed range past its end
	 * (overflow included), is ENOMEM; checked before the alignment (EINVAL) and the
	 * lowest address (EPERM, security_mmap_addr's answer below mmap_min_addr). */
	if (len > max - min)
		return -ENOMEM;
	if ((flags & LINUX_MAP_FIXED) != 0) {
		if (addr > max - len)
			return -ENOMEM;
		if ((addr & PAGE_MASK) != 0)
			return -EINVAL;
		if (addr < min)
			return -EPERM;
	}
	/* do_mmap, anonymous case: only MAP_SHARED and MAP_PRIVATE (SHARED_VALIDATE and
	 * the rest are EINVAL), and a protection the maximum allows (EACCES, as for a
	 * file opened read-only and mapped shared for writing). */
	if (type != LINUX_MAP_SHARED && type != LINUX_MAP_PRIVATE)
		return -EINVAL;
	if ((prot & ~maxprot) != 0)
		return -EACCES;

	obj = vm_mmap_anon_object(len, shared);
	vm_map_lock(map);
	rv = vm_mmap_place(map, addr, len, flags, &a);
	if (rv == 0)
		rv = vm_map_insert(map, obj, 0, a, a + len, prot, maxprot,
		    shared ? VME_SHARED : 0);
	if (rv == 0) {
		/* Fresh entry, not merged with anything: set what insert does not take. */
		vm_map_lookup_entry(map, a, &e);
		if (shared)
			e->vme_inheritance = VM_INHERIT_SHARE;
		if ((flags & LINUX_MAP_LOCKED) != 0)
			e->vme_user_wired = 1;
	}
	vm_map_unlock(map);
	if (rv != 0) {
		if (obj != NULL)
			vm_object_deallocate(obj);      /* the insert did not take it */
		return -rv;
	}
	/* vm_mmap_pgoff populates after dropping the lock and ignores the outcome;
	 * MAP_NONBLOCK turns MAP_POPULATE off. MAP_LOCKED faults as mlock does: a wired
	 * mapping holds one wiring of its page, which munlock and munmap give back (a
	 * populate's read faults would map the pages wired without wiring them, and
	 * copy-on-write would stay pending under a wired page). */
	if ((flags & LINUX_MAP_LOCKED) != 0)
		(void)vm_mmap_hook_wire_fault(map, a, a + len);
	else if ((flags & (LINUX_MAP_POPULATE | LINUX_MAP_NONBLOCK)) == LINUX_MAP_POPULATE)
		(void)vm_mmap_hook_populate(map, a, a + len);
	return (long)a;
}

long vm_mmap(struct vm_map *map, vm_offset_t addr, vm_size_t len, int prot, int flags)
{
	/* Linux gives every anonymous mapping VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC. */
	return vm_mmap_max(map, addr, len, prot, VM_MMAP_PROT_ALL, flags);
}

int vm_munmap(struct vm_map *map, vm_offset_t addr, vm_size_t len)
{
	vm_offset_t max = vm_map_max(map);

	/* do_vmi_munmap: unaligned, past the user space or overflowing is EINVAL (not
	 * mmap's ENOMEM); a length rounding to 0 is EINVAL. Below the lowest user address
	 * is fine (nothing is there). */
	if ((addr & PAGE_MASK) != 0 || addr > max || len > max - addr)
		return -EINVAL;
	len = round_page(len);
	if (len == 0)
		return -EINVAL;
	/* An unmapped range is success (POSIX and Linux). */
	return -vm_map_remove(map, addr, addr + len);
}

/* ---- mprotect ------------------------------------------------------------------------- */

int vm_mprotect(struct vm_map *map, vm_offset_t addr, vm_size_t len, int prot)
{
	int grows = prot & (LINUX_PROT_GROWSDOWN | LINUX_PROT_GROWSUP), rv;
	vm_offset_t end;
	struct vm_map_entry *e;

	/* do_mprotect_pkey, in its order: both grow flags, then alignment (EINVAL), then
	 * a zero length is success whatever the protection, then overflow (ENOMEM), then
	 * unknown protection bits (EINVAL; PROT_SEM is allowed on x86 and means
	 * nothing). */
	prot &= ~grows;
	if (grows == (LINUX_PROT_GROWSDOWN | LINUX_PROT_GROWSUP))
		return -EINVAL;
	if ((addr & PAGE_MASK) != 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	len = round_page(len);
	end = addr + len;
	if (end <= addr)
		return -ENOMEM;
	if ((prot & ~(VM_MMAP_PROT_ALL | LINUX_PROT_SEM)) != 0)
		return -EINVAL;
	prot &= VM_MMAP_PROT_ALL;

	vm_map_lock(map);
	if (grows != 0) {
		/* No entry grows (MAP_GROWSDOWN is refused), so a grow flag is EINVAL once
		 * Linux has found an entry to look at, ENOMEM before. */
		bool found = vm_map_lookup_entry(map, addr, &e);
		if (!found)
			e = e->vme_next;
		if (grows == LINUX_PROT_GROWSUP ? found :
		    e != &map->vmap_header && e->vme_start < end)
			rv = EINVAL;
		else
			rv = ENOMEM;
	} else if (!vm_map_range_mapped(map, addr, end)) {
		/* Past the user space or below it is a hole too: ENOMEM. */
		rv = ENOMEM;
	} else {
		/* Ours: all or nothing, under the lock that saw no hole. */
		rv = vm_map_protect_locked(map, addr, end, prot, false);
	}
	vm_map_unlock(map);
	return -rv;
}

/* ---- madvise, minherit ------------------------------------------------------------------ */

/*
 * madvise's range checks (madvise_walk_vmas' caller, do_madvise): unaligned start,
 * a length that rounds past the top, or a range that wraps is EINVAL (not ENOMEM as in
 * mprotect). => 0 with *end (== addr for an empty range), or the errno.
 */
static int vm_mmap_advice_range(vm_offset_t addr, vm_size_t len, vm_offset_t *end)
{
	vm_size_t rlen = round_page(len);

	if ((addr & PAGE_MASK) != 0)
		return EINVAL;
	if (len != 0 && rlen == 0)
		return EINVAL;
	if (addr + rlen < addr)
		return EINVAL;
	*end = addr + rlen;
	return 0;
}

/* Does e refuse advice (as madvise's per-VMA checks do)? */
static bool vm_mmap_advice_refused(const struct vm_map_entry *e, int advice)
{
	switch (advice) {
	case LINUX_MADV_DONTNEED:
	case LINUX_MADV_FREE:
		/* can_madv_lru_vma: never on locked memory (nor, here, kernel-wired). */
		if (vm_map_entry_wired(e))
			return true;
		/* madvise_free_single_vma: private anonymous memory only. */
		return advice == LINUX_MADV_FREE && (e->vme_eflags & VME_SHARED) != 0;
	case LINUX_MADV_WIPEONFORK:
		/* madvise_vma_behavior: only private anonymous memory can be wiped. */
		return (e->vme_eflags & VME_SHARED) != 0;
	default:
		return false;
	}
}

/* The inheritance e gets from a fork advice, or set (advice -1: vm_minherit). */
static vm_inherit_t vm_mmap_fork_inherit(const struct vm_map_entry *e, int advice,
    vm_inherit_t set)
{
	vm_inherit_t dflt = (e->vme_eflags & VME_SHARED) != 0 ? VM_INHERIT_SHARE :
	    VM_INHERIT_COPY;

	switch (advice) {
	case LINUX_MADV_DONTFORK:
		return VM_INHERIT_NONE;
	case LINUX_MADV_DOFORK:         /* clears DONTFORK only */
		return e->vme_inheritance == VM_INHERIT_NONE ? dflt : e->vme_inheritance;
	case LINUX_MADV_WIPEONFORK:
		return VM_INHERIT_ZERO;
	case LINUX_MADV_KEEPONFORK:     /* clears WIPEONFORK only */
		return e->vme_inheritance == VM_INHERIT_ZERO ? dflt : e->vme_inheritance;
	default:
		return set;
	}
}

/*
 * Check [start, end) for advice, then (fork advices and minherit) apply it under the
 * same lock. => map unlocked; 0, EINVAL (an entry refuses: nothing changed), or ENOMEM
 * (a hole: what is mapped changed).
 */
static int vm_mmap_advise_range(struct vm_map *map, vm_offset_t start, vm_offset_t end,
    int advice, vm_inherit_t set, bool inherit)
{
	struct vm_map_entry *e, *first;
	vm_offset_t at = start;
	int rv = 0;

	vm_map_lock(map);
	if (!vm_map_lookup_entry(map, start, &e))
		e = e->vme_next;
	for (first = e; e != &map->vmap_header && e->vme_start < end; e = e->vme_next) {
		if (e->vme_start > at)
			rv = ENOMEM;
		at = e->vme_end;
		if (vm_mmap_advice_refused(e, inherit && advice < 0 && set == VM_INHERIT_ZERO ?
		    LINUX_MADV_WIPEONFORK : advice)) {
			vm_map_unlock(map);
			return EINVAL;
		}
	}
	if (at < end)
		rv = ENOMEM;            /* the tail, past the last entry or the map */
	if (inherit) {
		if (first != &map->vmap_header)
			vm_map_clip_start(map, first, start);
		for (e = first; e != &map->vmap_header && e->vme_start < end; e = e->vme_next) {
			vm_map_clip_end(map, e, end);
			e->vme_inheritance = vm_mmap_fork_inherit(e, advice, set);
		}
		map->vmap_timestamp++;
	}
	vm_map_unlock(map);
	if (inherit)
		vm_map_simplify(map, start, end);
	return rv;
}

int vm_madvise(struct vm_map *map, vm_offset_t addr, vm_size_t len, int advice)
{
	vm_offset_t end;
	int rv, arv;
	bool inherit = false;

	/* do_madvise: an unknown advice is EINVAL before the range is looked at. */
	switch (advice) {
	case LINUX_MADV_NORMAL:
	case LINUX_MADV_RANDOM:
	case LINUX_MADV_SEQUENTIAL:
	case LINUX_MADV_WILLNEED:
	case LINUX_MADV_DONTNEED:
	case LINUX_MADV_FREE:
		break;
	case LINUX_MADV_DONTFORK:
	case LINUX_MADV_DOFORK:
	case LINUX_MADV_WIPEONFORK:
	case LINUX_MADV_KEEPONFORK:
		inherit = true;
		break;
	default:
		return -EINVAL;
	}
	if ((rv = vm_mmap_advice_range(addr, len, &end)) != 0)
		return -rv;
	if (end == addr)
		return 0;
	rv = vm_mmap_advise_range(map, addr, end, advice, 0, inherit);
	if (rv == EINVAL || inherit)
		return -rv;
	/* Applied to what is mapped (holes skipped), as madvise_walk_vmas does. */
	switch (advice) {
	case LINUX_MADV_WILLNEED:
		vm_mmap_hook_willneed(map, addr, end);
		break;
	default: {
		/* DONTNEED and FREE (vm_map_madvise drops mappings and private pages; FREE
		 * frees at once what Linux would free lazily, which reads the same: zeros or
		 * the old data), or advice recorded on the entries. */
		/* Holes are skipped inside; what lies outside the map is one. */
		vm_offset_t s = MAX(addr, vm_map_min(map)), e = MIN(end, vm_map_max(map));
		if (s < e && (arv = vm_map_madvise(map, s, e, advice)) != 0)
			return -arv;
		break;
	}
	}
	return -rv;
}

int vm_minherit(struct vm_map *map, vm_offset_t addr, vm_size_t len, int inherit)
{
	vm_offset_t end;
	int rv;

	if (inherit != VM_INHERIT_SHARE && inherit != VM_INHERIT_COPY &&
	    inherit != VM_INHERIT_NONE && inherit != VM_INHERIT_ZERO)
		return -EINVAL;
	if ((rv = vm_mmap_advice_range(addr, len, &end)) != 0)
		return -rv;
	if (end == addr)
		return 0;
	return -vm_mmap_advise_range(map, addr, end, -1, (vm_inherit_t)inherit, true);
}

/* ---- mlock, munlock --------------------------------------------------------------------- */

/*
 * do_mlock's range: the start rounded down to its page and the length grown to cover
 * it (an unaligned start is fine), with Linux's wrap-around: a length that rounds to 0
 * is an empty range (mlock(addr, SIZE_MAX) is 0 on Linux), a range past the top EINVAL.
 * => 0 with [*start, *end), or the errno.
 */
static int vm_mmap_lock_range(struct vm_map *map, vm_offset_t addr, vm_size_t len,
    vm_offset_t *start, vm_offset_t *end)
{
	*start = trunc_page(addr);
	len = round_page(len + (addr & PAGE_MASK));
	*end = *start + len;
	if (*end < *start)
		return EINVAL;
	if (*end == *start)
		return 0;
	/* apply_vma_lock_flags: no entry there is ENOMEM; outside the map is a hole. */
	if (*start < vm_map_min(map) || *end > vm_map_max(map))
		return ENOMEM;
	return 0;
}

int vm_mlock(struct vm_map *map, vm_offset_t addr, vm_size_t len)
{
	vm_offset_t start, end;
	int rv;

	if ((rv = vm_mmap_lock_range(map, addr, len, &start, &end)) != 0 || start == end)
		return -rv;
	/* Ours: all or nothing (vm_map_wire refuses a hole before wiring anything). */
	if ((rv = vm_map_wire(map, start, end, VM_MAP_WIRE_USER)) != 0)
		return -rv;
	/* __mlock_posix_error_return: a fault that finds nothing is ENOMEM, a lack of
	 * memory EAGAIN. The entries stay locked, as on Linux. */
	rv = vm_mmap_hook_wire_fault(map, start, end);
	if (rv == EFAULT)
		return -ENOMEM;
	if (rv == ENOMEM)
		return -EAGAIN;
	return -rv;
}

int vm_munlock(struct vm_map *map, vm_offset_t addr, vm_size_t len)
{
	vm_offset_t start, end;
	bool mapped;
	int rv;

	if ((rv = vm_mmap_lock_range(map, addr, len, &start, &end)) != 0 || start == end)
		return -rv;
	vm_map_lock(map);
	mapped = vm_map_range_mapped(map, start, end);
	vm_map_unlock(map);
	if (!mapped)
		return -ENOMEM;
	/* Entries not locked are fine (munlock of unlocked memory is 0). HOLESOK only
	 * skips them: a hole made meanwhile is an munmap that came after this call. */
	if ((rv = vm_map_unwire(map, start, end, VM_MAP_WIRE_USER | VM_MAP_WIRE_HOLESOK)) != 0)
		return -rv;
	vm_mmap_hook_unwire(map, start, end);
	return 0;
}

/* ---- brk ------------------------------------------------------------------------------- */

void vm_brk_init(struct vm_brk *brk, vm_offset_t start, vm_offset_t limit)
{
	KASSERT((start & PAGE_MASK) == 0 && start <= limit,
	    ("vm_brk_init: bad heap [%#lx, %#lx)", (unsigned long)start, (unsigned long)limit));
	brk->vb_start = start;
	brk->vb_limit = limit;
	brk->vb_brk = start;
}

vm_offset_t vm_brk(struct vm_map *map, struct vm_brk *brk, vm_offset_t newbrk)
{
	vm_offset_t cur = brk->vb_brk, top = round_page(newbrk), oldtop = round_page(cur);
	struct vm_map_entry *e;
	bool ok = false;

	/* Linux's brk: below the start (brk(0) asks for the break) or past RLIMIT_DATA
	 * leaves the break where it was. */
	if (newbrk < brk->vb_start || newbrk > brk->vb_limit)
		return cur;
	/* Within the same page only the number moves. */
	if (top == oldtop) {
		brk->vb_brk = newbrk;
		return newbrk;
	}
	vm_map_lock(map);
	if (newbrk <= cur) {
		/* Shrinking unmaps [top, oldtop), whatever is there, but only when something
		 * is (Linux fails a shrink over an unmapped heap). */
		if (vm_map_lookup_entry(map, top, &e) || (e->vme_next != &map->vmap_header &&
		    e->vme_next->vme_start < oldtop))
			ok = vm_map_delete(map, top, oldtop) == 0;
	} else if (top <= vm_map_max(map)) {
		/* Growing: the next mapping above the old top must begin at least one page
		 * above the new top (Linux keeps that guard page), and the new pages join
		 * the heap's entry when they can. */
		vm_map_lookup_entry(map, oldtop, &e);
		if (e->vme_end > oldtop || (e->vme_next != &map->vmap_header &&
		    e->vme_next->vme_start < top + PAGE_SIZE))
			ok = false;
		else if (vm_map_insert(map, NULL, 0, oldtop, top, VM_PROT_READ | VM_PROT_WRITE,
		    VM_MMAP_PROT_ALL, 0) == 0) {
			vm_map_lookup_entry(map, oldtop, &e);
			vm_map_simplify_entry(map, e);
			ok = true;
		}
	}
	vm_map_unlock(map);
	if (!ok)
		return cur;
	brk->vb_brk = newbrk;
	return newbrk;
}
