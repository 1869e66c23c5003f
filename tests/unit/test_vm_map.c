/*
 * vm_map on the host: each operation and each of its errors, then find-space against a
 * brute-force model (tests/vmtests/map_model.h) over long random sequences with several
 * seeds, every invariant checked after every step. The checks that hold on any VM core
 * are in tests/vmtests/map_tests.c (also run in the guest).
 */
#include <pthread.h>
#include <stdlib.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "tests/vmtests/map_model.h"
#include "vm/vm_map.h"
#include "vm/vm_object.h"

#define BASE        0x100000000ul
#define PG(n)       ((vm_offset_t)(n) * PAGE_SIZE)
#define RW          (VM_PROT_READ | VM_PROT_WRITE)
#define RWX         (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE)

static struct vm_map map;
static int entries_base;
static char err[256];

/* Two objects; entries take a reference each (OBJ_A gives one to vm_map_insert). */
static struct vm_object *obj_a, *obj_b;

static struct vm_object *objref(struct vm_object *obj)
{
	vm_object_reference(obj);
	return obj;
}
#define OBJ_A objref(obj_a)
#define OBJ_B objref(obj_b)

static void setup(void)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
	vm_map_init(&map, NULL, BASE, BASE + PG(1024));
	obj_a = vm_object_allocate(OBJT_DEFAULT, 1024);
	obj_b = vm_object_allocate(OBJT_DEFAULT, 1024);
	entries_base = vm_map_entries_allocated();
}

/* Invariants hold and nothing leaked; the map is left unlocked. */
static void check_map(void)
{
	vm_map_lock(&map);
	const char *why = vm_map_verify(&map, err, sizeof(err));
	ck_assert_msg(why == NULL, "%s", why);
	ck_assert_int_eq(vm_map_entries_allocated() - entries_base,
	    map.vmap_nentries + map.vmap_nspare);
	vm_map_unlock(&map);
}

static void teardown(void)
{
	check_map();
	vm_map_destroy(&map);
	ck_assert_int_eq(vm_map_entries_allocated(), 0);
	/* The map's references went with it: ours are the last. */
	ck_assert_uint_eq(obj_a->vo_ref_count, 1);
	ck_assert_uint_eq(obj_b->vo_ref_count, 1);
	vm_object_deallocate(obj_a);
	vm_object_deallocate(obj_b);
	ck_assert_int_eq(vm_object_count(), 0);
}

static int insert(vm_offset_t s, vm_offset_t e, vm_prot_t prot, vm_prot_t max)
{
	vm_map_lock(&map);
	int rv = vm_map_insert(&map, NULL, 0, s, e, prot, max, 0);
	vm_map_unlock(&map);
	return rv;
}

/* The entry containing addr (fails the test if there is none). */
static struct vm_map_entry *entry_at(vm_offset_t addr)
{
	struct vm_map_entry *e;

	vm_map_lock(&map);
	bool found = vm_map_lookup_entry(&map, addr, &e);
	vm_map_unlock(&map);
	ck_assert_msg(found, "no entry at %#lx", (unsigned long)addr);
	return e;
}

static vm_offset_t find_space(vm_offset_t min, vm_offset_t max, vm_size_t len, vm_size_t align,
    int want)
{
	vm_offset_t a = 0;

	vm_map_lock(&map);
	int rv = vm_map_find_space(&map, min, max, len, align, &a);
	vm_map_unlock(&map);
	ck_assert_int_eq(rv, want);
	return a;
}

START_TEST(init_empty)
{
	struct vm_map_entry *e;

	ck_assert_uint_eq(vm_map_min(&map), BASE);
	ck_assert_uint_eq(vm_map_max(&map), BASE + PG(1024));
	ck_assert_ptr_null(map.vmap_pmap);
	vm_map_lock(&map);
	ck_assert(!vm_map_lookup_entry(&map, BASE, &e));
	ck_assert_ptr_eq(e, &map.vmap_header);
	vm_map_unlock(&map);
	ck_assert_uint_eq(find_space(0, ~0ul, PG(1024), 0, 0), BASE);
	find_space(0, ~0ul, PG(1025), 0, ENOMEM);
}
END_TEST

START_TEST(insert_and_its_errors)
{
	ck_assert_int_eq(insert(BASE + PG(10), BASE + PG(20), RW, RWX), 0);
	ck_assert_int_eq(insert(BASE + 1, BASE + PG(2), RW, RW), EINVAL);        /* unaligned */
	ck_assert_int_eq(insert(BASE + PG(2), BASE + PG(2), RW, RW), EINVAL);    /* empty */
	ck_assert_int_eq(insert(BASE - PG(1), BASE + PG(1), RW, RW), EINVAL);    /* below */
	ck_assert_int_eq(insert(BASE + PG(1020), BASE + PG(1030), RW, RW), EINVAL); /* above */
	ck_assert_int_eq(insert(BASE, BASE + PG(1), 8, RWX), EINVAL);            /* bad prot */
	ck_assert_int_eq(insert(BASE, BASE + PG(1), RWX, RW), EACCES);           /* > max */
	ck_assert_int_eq(insert(BASE + PG(5), BASE + PG(11), RW, RW), EEXIST);   /* tail */
	ck_assert_int_eq(insert(BASE + PG(19), BASE + PG(25), RW, RW), EEXIST);  /* head */
	ck_assert_int_eq(insert(BASE + PG(12), BASE + PG(13), RW, RW), EEXIST);  /* inside */
	ck_assert_int_eq(insert(BASE + PG(5), BASE + PG(25), RW, RW), EEXIST);   /* around */
	vm_map_lock(&map);
	ck_assert_int_eq(vm_map_insert(&map, NULL, 0, BASE, BASE + PG(1), RW, RW, 0x100), EINVAL);
	vm_map_unlock(&map);
	/* Touching neighbours are fine. */
	ck_assert_int_eq(insert(BASE + PG(5), BASE + PG(10), RW, RW), 0);
	ck_assert_int_eq(insert(BASE + PG(20), BASE + PG(25), RW, RW), 0);
	struct vm_map_entry *e = entry_at(BASE + PG(10));
	ck_assert_int_eq(e->vme_protection, RW);
	ck_assert_int_eq(e->vme_max_protection, RWX);
	ck_assert_int_eq(e->vme_inheritance, VM_INHERIT_COPY);
	ck_assert_int_eq(e->vme_advice, VM_MADV_NORMAL);
	ck_assert(!vm_map_entry_wired(e));
	ck_assert_int_eq(map.vmap_nentries, 3);
	ck_assert_uint_eq(map.vmap_size, PG(20));
}
END_TEST

START_TEST(lookup_containing_or_preceding)
{
	struct vm_map_entry *e;

	insert(BASE + PG(10), BASE + PG(20), RW, RW);
	insert(BASE + PG(30), BASE + PG(40), RW, RW);
	vm_map_lock(&map);
	ck_assert(vm_map_lookup_entry(&map, BASE + PG(10), &e) && e->vme_start == BASE + PG(10));
	ck_assert(vm_map_lookup_entry(&map, BASE + PG(20) - 1, &e) &&
	    e->vme_start == BASE + PG(10));
	ck_assert(!vm_map_lookup_entry(&map, BASE + PG(20), &e) && e->vme_start == BASE + PG(10));
	ck_assert(!vm_map_lookup_entry(&map, BASE + PG(5), &e) && e == &map.vmap_header);
	ck_assert(!vm_map_lookup_entry(&map, BASE + PG(50), &e) && e->vme_start == BASE + PG(30));
	vm_map_unlock(&map);
}
END_TEST

START_TEST(find_space_windows_and_alignment)
{
	insert(BASE, BASE + PG(3), RW, RW);
	insert(BASE + PG(4), BASE + PG(16), RW, RW);
	insert(BASE + PG(20), BASE + PG(40), RW, RW);
	/* The lowest gap that fits: [3,4) for one page, [16,20) for two. */
	ck_assert_uint_eq(find_space(0, ~0ul, PG(1), 0, 0), BASE + PG(3));
	ck_assert_uint_eq(find_space(0, ~0ul, PG(2), 0, 0), BASE + PG(16));
	/* Aligned to 8 pages: 16 is; aligned to 32: 40 is not a multiple, 64 is. */
	ck_assert_uint_eq(find_space(0, ~0ul, PG(2), PG(8), 0), BASE + PG(16));
	ck_assert_uint_eq(find_space(0, ~0ul, PG(2), PG(32), 0), BASE + PG(64));
	/* A window: min inside a gap clips it; max bounds the end. */
	ck_assert_uint_eq(find_space(BASE + PG(17), ~0ul, PG(2), 0, 0), BASE + PG(17));
	ck_assert_uint_eq(find_space(BASE + PG(18), ~0ul, PG(3), 0, 0), BASE + PG(40));
	find_space(BASE + PG(18), BASE + PG(42), PG(3), 0, ENOMEM);
	ck_assert_uint_eq(find_space(BASE + PG(18), BASE + PG(43), PG(3), 0, 0), BASE + PG(40));
	/* The gap before the first entry. */
	vm_map_remove(&map, BASE, BASE + PG(3));
	ck_assert_uint_eq(find_space(0, ~0ul, PG(3), 0, 0), BASE);
	/* Errors. */
	find_space(0, ~0ul, 0, 0, EINVAL);
	find_space(0, ~0ul, 100, 0, EINVAL);
	find_space(0, ~0ul, PG(1), PG(3), EINVAL);
	find_space(0, ~0ul, PG(1), 512, EINVAL);
	find_space(BASE + PG(10), BASE + PG(10), PG(1), 0, ENOMEM);
	find_space(0, ~0ul, PG(1000), 0, ENOMEM);
}
END_TEST

START_TEST(find_inserts_where_it_found)
{
	vm_offset_t a = 0;

	insert(BASE, BASE + PG(4), RW, RW);
	ck_assert_int_eq(vm_map_find(&map, OBJ_A, PG(7), &a, PG(4), ~0ul, 0, RW, RWX,
	    VME_COW), 0);
	ck_assert_uint_eq(a, BASE + PG(4));
	struct vm_map_entry *e = entry_at(a);
	ck_assert_ptr_eq(e->vme_object, obj_a);
	ck_assert_uint_eq(e->vme_offset, PG(7));
	ck_assert_int_eq(e->vme_eflags, VME_COW);
	a = BASE + PG(100);
	ck_assert_int_eq(vm_map_find(&map, NULL, 0, &a, PG(4), ~0ul, PG(64), RW, RW, 0), 0);
	ck_assert_uint_eq(a, BASE + PG(128));
	a = 0;
	ck_assert_int_eq(vm_map_find(&map, NULL, 0, &a, PG(2000), ~0ul, 0, RW, RW, 0), ENOMEM);
	ck_assert_uint_eq(a, 0);
	ck_assert_int_eq(vm_map_find(&map, NULL, 0, &a, PG(1), ~0ul, 0, RWX, RW, 0), EACCES);
	ck_assert_int_eq(map.vmap_nentries, 3);
}
END_TEST

START_TEST(clip_start_and_end)
{
	vm_map_lock(&map);
	ck_assert_int_eq(vm_map_insert(&map, OBJ_A, PG(100), BASE + PG(10), BASE + PG(20), RW,
	    RWX, VME_NOCOREDUMP), 0);
	struct vm_map_entry *e, *f;
	vm_map_lookup_entry(&map, BASE + PG(10), &e);
	vm_map_clip_start(&map, e, BASE + PG(10));      /* at the start: nothing */
	vm_map_clip_end(&map, e, BASE + PG(20));        /* at the end: nothing */
	ck_assert_int_eq(map.vmap_nentries, 1);
	vm_map_clip_start(&map, e, BASE + PG(13));
	ck_assert_uint_eq(e->vme_start, BASE + PG(13));
	ck_assert_uint_eq(e->vme_offset, PG(103));
	f = e->vme_prev;
	ck_assert_uint_eq(f->vme_start, BASE + PG(10));
	ck_assert_uint_eq(f->vme_end, BASE + PG(13));
	ck_assert_uint_eq(f->vme_offset, PG(100));
	ck_assert(f->vme_object == obj_a && f->vme_eflags == VME_NOCOREDUMP &&
	    f->vme_max_protection == RWX);
	vm_map_clip_end(&map, e, BASE + PG(15));
	f = e->vme_next;
	ck_assert_uint_eq(e->vme_end, BASE + PG(15));
	ck_assert_uint_eq(f->vme_start, BASE + PG(15));
	ck_assert_uint_eq(f->vme_end, BASE + PG(20));
	ck_assert_uint_eq(f->vme_offset, PG(105));
	ck_assert_int_eq(map.vmap_nentries, 3);
	ck_assert_uint_eq(map.vmap_size, PG(10));
	/* Put back together: the offsets are contiguous in one object. */
	vm_map_simplify_entry(&map, e);
	ck_assert_int_eq(map.vmap_nentries, 1);
	vm_map_lookup_entry(&map, BASE + PG(15), &e);
	ck_assert_uint_eq(e->vme_start, BASE + PG(10));
	ck_assert_uint_eq(e->vme_end, BASE + PG(20));
	ck_assert_uint_eq(e->vme_offset, PG(100));
	vm_map_unlock(&map);
}
END_TEST

START_TEST(delete_clips_and_skips_holes)
{
	insert(BASE + PG(10), BASE + PG(20), RW, RW);
	insert(BASE + PG(30), BASE + PG(40), VM_PROT_READ, RW);
	insert(BASE + PG(50), BASE + PG(60), RW, RW);
	/* The middle of one entry: two pieces stay. */
	ck_assert_int_eq(vm_map_remove(&map, BASE + PG(12), BASE + PG(14)), 0);
	ck_assert_int_eq(map.vmap_nentries, 4);
	ck_assert_uint_eq(entry_at(BASE + PG(14))->vme_end, BASE + PG(20));
	/* Across holes and several entries, clipping both ends. */
	ck_assert_int_eq(vm_map_remove(&map, BASE + PG(15), BASE + PG(55)), 0);
	ck_assert_int_eq(map.vmap_nentries, 3);
	ck_assert_uint_eq(entry_at(BASE + PG(14))->vme_end, BASE + PG(15));
	ck_assert_uint_eq(entry_at(BASE + PG(55))->vme_start, BASE + PG(55));
	ck_assert_uint_eq(map.vmap_size, PG(2 + 1 + 5));
	/* Nothing there, empty, outside the map: fine; unaligned or reversed: EINVAL. */
	ck_assert_int_eq(vm_map_remove(&map, BASE + PG(100), BASE + PG(200)), 0);
	ck_assert_int_eq(vm_map_remove(&map, BASE + PG(10), BASE + PG(10)), 0);
	ck_assert_int_eq(vm_map_remove(&map, 0, PG(1)), 0);
	ck_assert_int_eq(vm_map_remove(&map, BASE + 1, BASE + PG(2)), EINVAL);
	ck_assert_int_eq(vm_map_remove(&map, BASE + PG(2), BASE + PG(1)), EINVAL);
	/* Wired entries go too (their accounting with them). */
	ck_assert_int_eq(vm_map_wire(&map, BASE + PG(55), BASE + PG(60), VM_MAP_WIRE_USER), 0);
	ck_assert_int_eq(vm_map_remove(&map, 0, ~0ul & ~PAGE_MASK), 0);
	ck_assert_int_eq(map.vmap_nentries, 0);
	ck_assert_uint_eq(map.vmap_size, 0);
}
END_TEST

START_TEST(protect_current_and_max)
{
	insert(BASE, BASE + PG(10), RW, RWX);
	insert(BASE + PG(10), BASE + PG(20), VM_PROT_READ, VM_PROT_READ);
	/* Current protection, clipped to the range. */
	ck_assert_int_eq(vm_map_protect(&map, BASE + PG(2), BASE + PG(4), RWX, false), 0);
	ck_assert_int_eq(entry_at(BASE + PG(3))->vme_protection, RWX);
	ck_assert_int_eq(entry_at(BASE + PG(1))->vme_protection, RW);
	ck_assert_int_eq(entry_at(BASE + PG(4))->vme_protection, RW);
	/* Beyond one entry's maximum: EACCES, and the other entry did not change either. */
	ck_assert_int_eq(vm_map_protect(&map, BASE + PG(5), BASE + PG(15), RW, false), EACCES);
	ck_assert_int_eq(entry_at(BASE + PG(5))->vme_protection, RW);
	ck_assert_int_eq(entry_at(BASE + PG(12))->vme_protection, VM_PROT_READ);
	/* Setting the maximum lowers the current protection to fit. */
	ck_assert_int_eq(vm_map_protect(&map, BASE, BASE + PG(10), VM_PROT_READ, true), 0);
	struct vm_map_entry *e = entry_at(BASE + PG(3));
	ck_assert_int_eq(e->vme_max_protection, VM_PROT_READ);
	ck_assert_int_eq(e->vme_protection, VM_PROT_READ);
	/* ...and the maximum cannot be raised again. */
	ck_assert_int_eq(vm_map_protect(&map, BASE, BASE + PG(1), RW, true), EACCES);
	ck_assert_int_eq(vm_map_protect(&map, BASE, BASE + PG(1), RW, false), EACCES);
	/* Everything is read/read now: one entry again. */
	ck_assert_int_eq(map.vmap_nentries, 1);
	/* Lowering to none is always allowed; bad values and ranges are not. */
	ck_assert_int_eq(vm_map_protect(&map, BASE, BASE + PG(20), VM_PROT_NONE, false), 0);
	ck_assert_int_eq(vm_map_protect(&map, BASE, BASE + PG(20), 8, false), EINVAL);
	ck_assert_int_eq(vm_map_protect(&map, BASE + 8, BASE + PG(20), 0, false), EINVAL);
	/* Holes are skipped (the mmap layer refuses them with vm_map_range_mapped). */
	ck_assert_int_eq(vm_map_protect(&map, BASE, BASE + PG(100), VM_PROT_READ, false), 0);
}
END_TEST

START_TEST(inherit_values)
{
	insert(BASE, BASE + PG(10), RW, RW);
	ck_assert_int_eq(vm_map_inherit(&map, BASE + PG(2), BASE + PG(4), VM_INHERIT_SHARE), 0);
	ck_assert_int_eq(entry_at(BASE + PG(2))->vme_inheritance, VM_INHERIT_SHARE);
	ck_assert_int_eq(entry_at(BASE + PG(4))->vme_inheritance, VM_INHERIT_COPY);
	ck_assert_int_eq(vm_map_inherit(&map, BASE, BASE + PG(1), VM_INHERIT_NONE), 0);
	ck_assert_int_eq(entry_at(BASE)->vme_inheritance, VM_INHERIT_NONE);
	ck_assert_int_eq(map.vmap_nentries, 4);
	ck_assert_int_eq(vm_map_inherit(&map, BASE, BASE + PG(1), 7), EINVAL);
	ck_assert_int_eq(vm_map_inherit(&map, BASE, BASE + 1, VM_INHERIT_NONE), EINVAL);
	ck_assert_int_eq(vm_map_inherit(&map, BASE, BASE + PG(10), VM_INHERIT_COPY), 0);
	ck_assert_int_eq(map.vmap_nentries, 1);
}
END_TEST

START_TEST(wire_user_and_system)
{
	insert(BASE, BASE + PG(10), RW, RW);
	insert(BASE + PG(10), BASE + PG(20), VM_PROT_READ, RW);
	/* User wiring is 0 or 1: mlock twice, one munlock unlocks. */
	ck_assert_int_eq(vm_map_wire(&map, BASE + PG(2), BASE + PG(12), VM_MAP_WIRE_USER), 0);
	ck_assert_int_eq(vm_map_wire(&map, BASE + PG(2), BASE + PG(12), VM_MAP_WIRE_USER), 0);
	struct vm_map_entry *e = entry_at(BASE + PG(5));
	ck_assert_int_eq(e->vme_user_wired, 1);
	ck_assert_int_eq(e->vme_wired_count, 0);
	ck_assert(vm_map_entry_wired(e));
	/* System wirings nest, apart from the user's. */
	ck_assert_int_eq(vm_map_wire(&map, BASE + PG(4), BASE + PG(6), VM_MAP_WIRE_SYSTEM), 0);
	ck_assert_int_eq(vm_map_wire(&map, BASE + PG(4), BASE + PG(6), VM_MAP_WIRE_SYSTEM), 0);
	ck_assert_int_eq(entry_at(BASE + PG(5))->vme_wired_count, 2);
	ck_assert_int_eq(vm_map_unwire(&map, BASE + PG(2), BASE + PG(12), VM_MAP_WIRE_USER), 0);
	e = entry_at(BASE + PG(5));
	ck_assert_int_eq(e->vme_user_wired, 0);
	ck_assert_int_eq(e->vme_wired_count, 2);
	ck_assert(vm_map_entry_wired(e));
	/* Unwiring what is not wired that way: EINVAL, and nothing changed. */
	ck_assert_int_eq(vm_map_unwire(&map, BASE + PG(4), BASE + PG(6), VM_MAP_WIRE_USER), EINVAL);
	ck_assert_int_eq(vm_map_unwire(&map, BASE + PG(3), BASE + PG(6), VM_MAP_WIRE_SYSTEM),
	    EINVAL);
	ck_assert_int_eq(entry_at(BASE + PG(5))->vme_wired_count, 2);
	ck_assert_int_eq(vm_map_unwire(&map, BASE + PG(4), BASE + PG(6), VM_MAP_WIRE_SYSTEM), 0);
	ck_assert_int_eq(vm_map_unwire(&map, BASE + PG(4), BASE + PG(6), VM_MAP_WIRE_SYSTEM), 0);
	ck_assert(!vm_map_entry_wired(entry_at(BASE + PG(5))));
	/* Holes: ENOMEM (and no change), unless HOLESOK. */
	ck_assert_int_eq(vm_map_wire(&map, BASE + PG(15), BASE + PG(25), VM_MAP_WIRE_USER), ENOMEM);
	ck_assert_int_eq(entry_at(BASE + PG(15))->vme_user_wired, 0);
	ck_assert_int_eq(vm_map_wire(&map, BASE + PG(100), BASE + PG(101), VM_MAP_WIRE_USER),
	    ENOMEM);
	ck_assert_int_eq(vm_map_wire(&map, BASE + PG(15), BASE + PG(25),
	    VM_MAP_WIRE_USER | VM_MAP_WIRE_HOLESOK), 0);
	ck_assert_int_eq(entry_at(BASE + PG(15))->vme_user_wired, 1);
	/* munlockall: HOLESOK skips holes and what is not wired. */
	ck_assert_int_eq(vm_map_unwire(&map, BASE, BASE + PG(1024),
	    VM_MAP_WIRE_USER | VM_MAP_WIRE_HOLESOK), 0);
	ck_assert(!vm_map_entry_wired(entry_at(BASE + PG(15))));
	ck_assert_int_eq(vm_map_wire(&map, BASE, BASE + PG(1), 0x10), EINVAL);
	ck_assert_int_eq(vm_map_unwire(&map, BASE, BASE + 5, VM_MAP_WIRE_USER), EINVAL);
	/* All unwired again: back to the two entries we made. */
	ck_assert_int_eq(map.vmap_nentries, 2);
}
END_TEST

START_TEST(madvise_records_or_accepts)
{
	insert(BASE, BASE + PG(10), RW, RW);
	ck_assert_int_eq(vm_map_madvise(&map, BASE + PG(2), BASE + PG(4), VM_MADV_SEQUENTIAL), 0);
	ck_assert_int_eq(vm_map_madvise(&map, BASE + PG(4), BASE + PG(6), VM_MADV_RANDOM), 0);
	ck_assert_int_eq(entry_at(BASE + PG(3))->vme_advice, VM_MADV_SEQUENTIAL);
	ck_assert_int_eq(entry_at(BASE + PG(5))->vme_advice, VM_MADV_RANDOM);
	ck_assert_int_eq(entry_at(BASE + PG(7))->vme_advice, VM_MADV_NORMAL);
	ck_assert_int_eq(map.vmap_nentries, 4);
	/* Page-level advice: accepted, no entry changes (until objects and pmap). */
	uint32_t ts = map.vmap_timestamp;
	ck_assert_int_eq(vm_map_madvise(&map, BASE + PG(1), BASE + PG(8), VM_MADV_WILLNEED), 0);
	ck_assert_int_eq(vm_map_madvise(&map, BASE + PG(1), BASE + PG(8), VM_MADV_DONTNEED), 0);
	ck_assert_int_eq(vm_map_madvise(&map, BASE + PG(1), BASE + PG(8), VM_MADV_FREE), 0);
	ck_assert_int_eq(map.vmap_timestamp, ts);
	ck_assert_int_eq(map.vmap_nentries, 4);
	ck_assert_int_eq(vm_map_madvise(&map, BASE + 1, BASE + PG(8), VM_MADV_FREE), EINVAL);
	ck_assert_int_eq(vm_map_madvise(&map, BASE, BASE + PG(8), 5), EINVAL);
	ck_assert_int_eq(vm_map_madvise(&map, BASE, BASE + PG(8), -1), EINVAL);
	ck_assert_int_eq(vm_map_madvise(&map, BASE, BASE + PG(10), VM_MADV_NORMAL), 0);
	ck_assert_int_eq(map.vmap_nentries, 1);
}
END_TEST

START_TEST(simplify_merges_only_compatible)
{
	vm_map_lock(&map);
	/* Same object, contiguous offsets: merge. */
	vm_map_insert(&map, OBJ_A, 0, BASE, BASE + PG(2), RW, RW, 0);
	vm_map_insert(&map, OBJ_A, PG(2), BASE + PG(2), BASE + PG(4), RW, RW, 0);
	/* Same object, offsets not contiguous: not. */
	vm_map_insert(&map, OBJ_A, PG(9), BASE + PG(4), BASE + PG(6), RW, RW, 0);
	/* Another object: not. */
	vm_map_insert(&map, OBJ_B, PG(6), BASE + PG(6), BASE + PG(8), RW, RW, 0);
	/* No object (offsets do not matter), then other eflags, then a hole. */
	vm_map_insert(&map, NULL, 0, BASE + PG(8), BASE + PG(9), RW, RW, 0);
	vm_map_insert(&map, NULL, PG(77), BASE + PG(9), BASE + PG(10), RW, RW, 0);
	vm_map_insert(&map, NULL, 0, BASE + PG(10), BASE + PG(11), RW, RW, VME_NOSYNC);
	vm_map_insert(&map, NULL, 0, BASE + PG(12), BASE + PG(13), RW, RW, VME_NOSYNC);
	vm_map_unlock(&map);
	ck_assert_int_eq(map.vmap_nentries, 8);
	uint32_t ts = map.vmap_timestamp;
	vm_map_simplify(&map, BASE, BASE + PG(1024));
	ck_assert_int_eq(map.vmap_nentries, 6);
	ck_assert(map.vmap_timestamp != ts);
	ck_assert_uint_eq(entry_at(BASE + PG(3))->vme_start, BASE);
	ck_assert_uint_eq(entry_at(BASE + PG(9))->vme_start, BASE + PG(8));
	ck_assert_uint_eq(entry_at(BASE + PG(9))->vme_end, BASE + PG(10));
	ck_assert_uint_eq(entry_at(BASE + PG(4))->vme_start, BASE + PG(4));
}
END_TEST

START_TEST(range_mapped)
{
	insert(BASE + PG(10), BASE + PG(20), RW, RW);
	insert(BASE + PG(20), BASE + PG(30), VM_PROT_READ, RW);
	insert(BASE + PG(31), BASE + PG(40), RW, RW);
	vm_map_lock(&map);
	ck_assert(vm_map_range_mapped(&map, BASE + PG(10), BASE + PG(30)));
	ck_assert(vm_map_range_mapped(&map, BASE + PG(15), BASE + PG(25)));
	ck_assert(!vm_map_range_mapped(&map, BASE + PG(15), BASE + PG(35)));
	ck_assert(!vm_map_range_mapped(&map, BASE + PG(5), BASE + PG(15)));
	ck_assert(!vm_map_range_mapped(&map, BASE + PG(35), BASE + PG(45)));
	ck_assert(vm_map_range_mapped(&map, BASE + PG(5), BASE + PG(5)));
	vm_map_unlock(&map);
}
END_TEST

/* Sequential inserts then deletes from the front: the worst order for an unbalanced
 * tree. The AVL height stays within 1.44 log2(n + 2) at every size checked. */
START_TEST(balanced_under_sequential_churn)
{
	struct vm_map big;
	enum { N = 20000 };

	vm_map_init(&big, NULL, BASE, BASE + PG(N));
	vm_map_lock(&big);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(vm_map_insert(&big, NULL, 0, BASE + PG(i), BASE + PG(i + 1), RW,
		    RW, 0), 0);
		if ((i & (i + 1)) == 0 || i == N - 1) {
			double bound = 1.4405 * __builtin_log2((double)(i + 3));
			ck_assert_msg(big.vmap_root->vme_height <= (int)bound, "height %d with %d",
			    big.vmap_root->vme_height, i + 1);
		}
	}
	ck_assert_msg(vm_map_verify(&big, err, sizeof(err)) == NULL, "%s", err);
	ck_assert_int_eq(vm_map_delete(&big, BASE, BASE + PG(N / 2)), 0);
	ck_assert_msg(vm_map_verify(&big, err, sizeof(err)) == NULL, "%s", err);
	vm_offset_t a;
	ck_assert_int_eq(vm_map_find_space(&big, 0, ~0ul, PG(N / 2), 0, &a), 0);
	ck_assert_uint_eq(a, BASE);
	ck_assert_int_eq(vm_map_find_space(&big, 0, ~0ul, PG(N / 2 + 1), 0, &a), ENOMEM);
	vm_map_unlock(&big);
	vm_map_destroy(&big);
}
END_TEST

START_TEST(model_seeds)
{
	/* _i is the seed; each: 4000 steps on a 2048-page map. */
	const char *why = vmt_map_model_run((uint64_t)_i + 100, 4000, 2048, err, sizeof(err));
	ck_assert_msg(why == NULL, "%s", why);
}
END_TEST

START_TEST(model_small_map_dense)
{
	/* A small map fills up: ENOMEM paths and clipping at the bounds. */
	const char *why = vmt_map_model_run((uint64_t)_i + 7, 3000, 64, err, sizeof(err));
	ck_assert_msg(why == NULL, "%s", why);
}
END_TEST

/* Four threads (four simulated CPUs) churn one map: the lock, the spare top-up that
 * drops it to allocate, and each thread's regions staying its own. */
struct churn_arg {
	int cpu;
	int bad;
};

static void *churn_thread(void *p)
{
	struct churn_arg *arg = p;
	vm_offset_t mine[8] = { 0 };

	vm_host_set_cpu(arg->cpu);
	for (int i = 0; i < 20000; i++) {
		int k = i % 8;
		if (mine[k] != 0) {
			/* Still ours, as we left it: nobody else mapped over it. */
			vm_map_lock(&map);
			struct vm_map_entry *e;
			if (!vm_map_lookup_entry(&map, mine[k], &e) || e->vme_start != mine[k] ||
			    e->vme_offset != (vm_ooffset_t)arg->cpu)
				arg->bad++;
			vm_map_unlock(&map);
			if (vm_map_remove(&map, mine[k], mine[k] + PG(1 + k)) != 0)
				arg->bad++;
		}
		mine[k] = 0;
		if (vm_map_find(&map, NULL, (vm_ooffset_t)arg->cpu, &mine[k], PG(1 + k), ~0ul, 0,
		    RW, RW, 0) != 0)
			arg->bad++;
	}
	for (int k = 0; k < 8; k++)
		if (mine[k] != 0)
			vm_map_remove(&map, mine[k], mine[k] + PG(1 + k));
	return NULL;
}

START_TEST(four_threads_churn_one_map)
{
	pthread_t t[4];
	struct churn_arg args[4];

	for (int i = 0; i < 4; i++) {
		args[i] = (struct churn_arg){ .cpu = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(args[i].bad, 0);
	}
	ck_assert_int_eq(map.vmap_nentries, 0);
}
END_TEST

/* The zone lives from the first map to the last one. */
START_TEST(zone_follows_the_maps)
{
	struct vm_map second;

	vm_map_init(&second, NULL, BASE, BASE + PG(16));
	ck_assert_int_eq(insert(BASE, BASE + PG(1), RW, RW), 0);
	vm_map_lock(&second);
	ck_assert_int_eq(vm_map_insert(&second, NULL, 0, BASE, BASE + PG(1), RW, RW, 0), 0);
	vm_map_unlock(&second);
	ck_assert_int_eq(vm_map_entries_allocated() - entries_base,
	    map.vmap_nentries + map.vmap_nspare + second.vmap_nentries + second.vmap_nspare);
	vm_map_destroy(&second);        /* entries and all: the first map keeps the zone */
	ck_assert_int_eq(vm_map_entries_allocated() - entries_base,
	    map.vmap_nentries + map.vmap_nspare);
}
END_TEST

static Suite *vm_map_suite(void)
{
	Suite *s = suite_create("vm_map");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, init_empty);
	tcase_add_test(tc, insert_and_its_errors);
	tcase_add_test(tc, lookup_containing_or_preceding);
	tcase_add_test(tc, find_space_windows_and_alignment);
	tcase_add_test(tc, find_inserts_where_it_found);
	tcase_add_test(tc, clip_start_and_end);
	tcase_add_test(tc, delete_clips_and_skips_holes);
	tcase_add_test(tc, protect_current_and_max);
	tcase_add_test(tc, inherit_values);
	tcase_add_test(tc, wire_user_and_system);
	tcase_add_test(tc, madvise_records_or_accepts);
	tcase_add_test(tc, simplify_merges_only_compatible);
	tcase_add_test(tc, range_mapped);
	tcase_add_test(tc, balanced_under_sequential_churn);
	tcase_add_test(tc, four_threads_churn_one_map);
	tcase_add_test(tc, zone_follows_the_maps);
	tcase_add_loop_test(tc, model_seeds, 0, 6);
	tcase_add_loop_test(tc, model_small_map_dense, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vm_map_suite);
