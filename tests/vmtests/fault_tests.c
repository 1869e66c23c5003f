/*
 * Suite "fault": vm_fault on a map with its own (never loaded) pmap, each access
 * simulated as a CPU would do it: a load or store through the leaf entry read by the
 * tests' own walker (vmt_pmap.h), calling vm_fault only when that entry does not allow
 * the access. Every test ends with the free page count back at its start value and no
 * object left.
 */
#include <string.h>

#include "vm/vm_fault.h"
#include "vm/vm_meter.h"
#include "vm/vm_mmap.h"
#include "vm/vm_object.h"
#include "vm/vm_pager.h"
#include "vm/pmap.h"
#include "tests/vmtests/vmtest.h"
#include "tests/vmtests/vmt_pmap.h"

#define FT_VA       0x40000000ul            /* 1 GiB: 2 MiB aligned */
#define FT_MIN      0x10000ul
#define FT_MAX      0x7f0000000000ul
#define FT_RW       (VM_PROT_READ | VM_PROT_WRITE)
#define FT_LEAF     (PG_V | PG_RW | PG_U | PG_A | PG_M | PG_NX | PG_W | PG_MANAGED)

struct ft_env {
	struct pmap pmap;
	struct vm_map map;
	uint64_t free0;
	int nobj0;
	uint64_t faults;        /* vm_fault calls made by ft_load/ft_store */
	int rv;                 /* the last vm_fault result */
};

static bool ft_begin(struct ft_env *env)
{
	pmap_init();
	memset(env, 0, sizeof(*env));
	env->free0 = vmt_free_pages();
	env->nobj0 = vm_object_count();
	if (pmap_pinit(&env->pmap) != 0)
		return false;
	vm_map_init(&env->map, &env->pmap, FT_MIN, FT_MAX);
	return true;
}

/* Tear down: mappings, the entries' objects, the map, the pmap. */
static void ft_teardown(struct ft_env *env)
{
	vm_map_lock(&env->map);
	for (struct vm_map_entry *e = vm_map_first(&env->map); e != &env->map.vmap_header;
	    e = e->vme_next) {
		pmap_remove(&env->pmap, e->vme_start, e->vme_end);
		if (e->vme_object != NULL) {
			struct vm_object *obj = e->vme_object;
			e->vme_object = NULL;
			vm_map_unlock(&env->map);
			vm_object_deallocate(obj);
			vm_map_lock(&env->map);
		}
	}
	vm_map_unlock(&env->map);
	vm_map_destroy(&env->map);
	pmap_release(&env->pmap);
}

/* ft_teardown, then: no page and no object leaked since ft_begin. */
static bool ft_end(struct ft_env *env)
{
	ft_teardown(env);
	uint64_t f = vmt_free_pages();
	if (f != env->free0 || vm_object_count() != env->nobj0)
		vmtest_log("fault: %lld pages and %d objects leaked\n",
		    (long long)(env->free0 - f), vm_object_count() - env->nobj0);
	return f == env->free0 && vm_object_count() == env->nobj0;
}

/* vm_map_insert under the map's lock. */
static int ft_insert(struct ft_env *env, struct vm_object *obj, vm_offset_t start,
    vm_offset_t end, vm_prot_t prot, int eflags)
{
	vm_map_lock(&env->map);
	int rv = vm_map_insert(&env->map, obj, 0, start, end, prot, VM_PROT_ALL, eflags);
	vm_map_unlock(&env->map);
	return rv;
}

static uint64_t ft_pte(struct ft_env *env, vm_offset_t va)
{
	return vmt_pt_walk(env->pmap.pm_cr3, va, NULL);
}

/* The byte at va as a CPU would read it (faulting first if it must); -1: the fault
 * failed (env->rv says why). */
static int ft_load(struct ft_env *env, vm_offset_t va)
{
	uint64_t e = ft_pte(env, va);

	if ((e & PG_V) == 0) {
		env->faults++;
		if ((env->rv = vm_fault(&env->map, va, VM_PROT_READ, 0)) != VM_FAULT_OK)
			return -1;
		e = ft_pte(env, va);
	}
	return ((uint8_t *)vm_phys_to_dmap(e & PG_FRAME))[va & PAGE_MASK];
}

static bool ft_store(struct ft_env *env, vm_offset_t va, uint8_t v)
{
	uint64_t e = ft_pte(env, va);

	if ((e & (PG_V | PG_RW)) != (PG_V | PG_RW)) {
		env->faults++;
		if ((env->rv = vm_fault(&env->map, va, VM_PROT_WRITE, 0)) != VM_FAULT_OK)
			return false;
		e = ft_pte(env, va);
	}
	((uint8_t *)vm_phys_to_dmap(e & PG_FRAME))[va & PAGE_MASK] = v;
	return true;
}

static bool ft_page_zero(uint64_t pte)
{
	const uint64_t *w = vm_phys_to_dmap(pte & PG_FRAME);

	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i] != 0)
			return false;
	return true;
}

VMTEST(fault, zero_fill_read_write)
{
	struct ft_env env;
	uint64_t e, pa;

	VMT_ASSERT(ft_begin(&env));
	VMT_ASSERT_EQ(ft_insert(&env, NULL, FT_VA, FT_VA + ptoa(8), FT_RW, 0), 0);
	/* A read: the page is zero, mapped writable, accessed, not dirty. */
	VMT_ASSERT_EQ(vm_fault(&env.map, FT_VA + ptoa(3) + 5, VM_PROT_READ, 0), VM_FAULT_OK);
	e = ft_pte(&env, FT_VA + ptoa(3));
	pa = e & PG_FRAME;
	VMT_ASSERT_EQ(e & FT_LEAF, PG_V | PG_RW | PG_U | PG_A | PG_NX | PG_MANAGED);
	VMT_ASSERT(ft_page_zero(e));
	/* A write after the read: the same page, now dirty. */
	VMT_ASSERT_EQ(vm_fault(&env.map, FT_VA + ptoa(3), VM_PROT_WRITE, 0), VM_FAULT_OK);
	e = ft_pte(&env, FT_VA + ptoa(3));
	VMT_ASSERT_EQ(e & PG_FRAME, pa);
	VMT_ASSERT_EQ(e & FT_LEAF, PG_V | PG_RW | PG_U | PG_A | PG_M | PG_NX | PG_MANAGED);
	/* A first write elsewhere (not sequential: no fault-around): dirty at once. */
	VMT_ASSERT_EQ(vm_fault(&env.map, FT_VA + ptoa(6), VM_PROT_WRITE, 0), VM_FAULT_OK);
	e = ft_pte(&env, FT_VA + ptoa(6));
	VMT_ASSERT_EQ(e & FT_LEAF, PG_V | PG_RW | PG_U | PG_A | PG_M | PG_NX | PG_MANAGED);
	VMT_ASSERT(ft_page_zero(e));
	VMT_ASSERT(ft_pte(&env, FT_VA + ptoa(7)) == 0);
	VMT_ASSERT_EQ(pmap_resident_count(&env.pmap), 2);
	/* The entry got its anonymous object at the first fault. */
	struct vm_map_entry *ent;
	vm_map_lock(&env.map);
	VMT_ASSERT(vm_map_lookup_entry(&env.map, FT_VA, &ent) && ent->vme_object != NULL);
	VMT_ASSERT_EQ(ent->vme_object->vo_resident_page_count, 2);
	vm_map_unlock(&env.map);
	VMT_ASSERT(ft_end(&env));
}

VMTEST(fault, errors_give_the_signal)
{
	struct ft_env env;

	VMT_ASSERT(ft_begin(&env));
	VMT_ASSERT_EQ(ft_insert(&env, NULL, FT_VA, FT_VA + ptoa(2), VM_PROT_READ, 0), 0);
	VMT_ASSERT_EQ(ft_insert(&env, NULL, FT_VA + ptoa(4), FT_VA + ptoa(5), VM_PROT_NONE,
	    0), 0);
	int rv = vm_fault(&env.map, FT_VA + ptoa(2), VM_PROT_READ, 0);    /* a hole */
	VMT_ASSERT_EQ(rv, VM_FAULT_NOMAP);
	VMT_ASSERT_EQ(vm_fault_signal(rv), VM_FAULT_SIGSEGV);
	VMT_ASSERT_EQ(vm_fault(&env.map, 0x1000, VM_PROT_READ, 0), VM_FAULT_NOMAP);
	VMT_ASSERT_EQ(vm_fault(&env.map, FT_MAX + 0x1000, VM_PROT_READ, 0), VM_FAULT_NOMAP);
	rv = vm_fault(&env.map, FT_VA, VM_PROT_WRITE, 0);
	VMT_ASSERT_EQ(rv, VM_FAULT_PROT);
	VMT_ASSERT_EQ(vm_fault_signal(rv), VM_FAULT_SIGSEGV);
	VMT_ASSERT_EQ(vm_fault(&env.map, FT_VA, VM_PROT_EXECUTE, 0), VM_FAULT_PROT);
	VMT_ASSERT_EQ(vm_fault(&env.map, FT_VA + ptoa(4), VM_PROT_READ, 0), VM_FAULT_PROT);
	VMT_ASSERT_EQ(pmap_resident_count(&env.pmap), 0);
	/* A read-only entry maps read-only; mprotect to RW, then a write upgrades it. */
	VMT_ASSERT_EQ(vm_fault(&env.map, FT_VA, VM_PROT_READ, 0), VM_FAULT_OK);
	uint64_t e = ft_pte(&env, FT_VA);
	VMT_ASSERT_EQ(e & (PG_V | PG_RW | PG_M), PG_V);
	VMT_ASSERT_EQ(vm_map_protect(&env.map, FT_VA, FT_VA + ptoa(2), FT_RW, false), 0);
	VMT_ASSERT_EQ(vm_fault(&env.map, FT_VA, VM_PROT_WRITE, 0), VM_FAULT_OK);
	VMT_ASSERT_EQ(ft_pte(&env, FT_VA), (e & PG_FRAME) | PG_V | PG_RW | PG_U | PG_A |
	    PG_M | PG_NX | PG_MANAGED);
	VMT_ASSERT(ft_end(&env));
}

/*
 * Copy-on-write set up by hand as vmspace_fork will: an object with a pattern in each
 * page, mapped copy-on-write (VME_COW | VME_NEEDS_COPY) in two maps, each entry with a
 * reference. Each side reads, writes, and reads the other's pages: no write leaks from
 * one side to the other, either way, and the original pages never change.
 */
static const char *ft_cow_run(vm_offset_t va, int npages)
{
	struct ft_env a, b;
	struct vm_object *obj;
	vm_page_t orig[8];

	if (!ft_begin(&a))
		return "pmap a";
	memset(&b, 0, sizeof(b));
	if (pmap_pinit(&b.pmap) != 0)
		return "pmap b";
	vm_map_init(&b.map, &b.pmap, FT_MIN, FT_MAX);
	obj = vm_object_allocate(OBJT_DEFAULT, (vm_pindex_t)npages);
	vm_object_lock(obj);
	for (int i = 0; i < npages; i++) {
		orig[i] = vm_page_alloc(obj, (vm_pindex_t)i, VM_ALLOC_NORMAL | VM_ALLOC_NOBUSY);
		if (orig[i] == NULL)
			return "no page";
		memset(vm_phys_to_dmap(VM_PAGE_TO_PHYS(orig[i])), 0x10 + i, PAGE_SIZE);
	}
	vm_object_unlock(obj);
	vm_object_reference(obj);       /* one for each entry, and the test's */
	vm_object_reference(obj);
	if (ft_insert(&a, obj, va, va + ptoa(npages), FT_RW, VME_COW | VME_NEEDS_COPY) != 0 ||
	    ft_insert(&b, obj, va, va + ptoa(npages), FT_RW, VME_COW | VME_NEEDS_COPY) != 0)
		return "insert";
	for (int i = 0; i < npages; i++) {
		vm_offset_t p = va + ptoa(i) + 100;
		/* b reads first: the original, mapped read-only. */
		if (ft_load(&b, p) != 0x10 + i)
			return "b does not read the original";
		if ((ft_pte(&b, p) & (PG_RW | PG_FRAME)) != VM_PAGE_TO_PHYS(orig[i]))
			return "b's read is not a read-only mapping of the original";
		/* a reads, then writes: a private copy, writable and dirty. */
		if (ft_load(&a, p) != 0x10 + i)
			return "a does not read the original";
		if (!ft_store(&a, p, 0xa0 + i))
			return "a's write faulted";
		uint64_t e = ft_pte(&a, p);
		if ((e & PG_FRAME) == VM_PAGE_TO_PHYS(orig[i]) ||
		    (e & (PG_RW | PG_M)) != (PG_RW | PG_M))
			return "a's write did not promote a writable copy";
		if (ft_load(&a, p + 1) != 0x10 + i)
			return "a's copy lost the original's other bytes";
		/* No leak from a to b, nor to the original. */
		if (ft_load(&b, p) != 0x10 + i)
			return "b sees a's write";
		if (((uint8_t *)vm_phys_to_dmap(VM_PAGE_TO_PHYS(orig[i])))[100] != 0x10 + i)
			return "the original changed";
		/* b writes: its own copy; a keeps its value. */
		if (!ft_store(&b, p, 0xb0 + i))
			return "b's write faulted";
		if (ft_load(&a, p) != 0xa0 + i || ft_load(&b, p) != 0xb0 + i)
			return "a write leaked from b to a";
		if ((ft_pte(&b, p) & PG_FRAME) == (ft_pte(&a, p) & PG_FRAME))
			return "a and b share a frame after both wrote";
	}
	if (((uint8_t *)vm_phys_to_dmap(VM_PAGE_TO_PHYS(orig[0])))[100] != 0x10)
		return "the original changed";
	if (pmap_resident_count(&a.pmap) != (uint64_t)npages)
		return "a's resident count";
	vm_object_deallocate(obj);      /* the test's own reference */
	ft_teardown(&b);
	if (!ft_end(&a))
		return "a leaked a page or an object";
	return NULL;
}

VMTEST(fault, cow_both_ways)
{
	static const struct { vm_offset_t va; int n; } cases[] = {
		{ FT_VA, 1 }, { FT_VA + ptoa(9), 2 },
		{ FT_VA + (2ul << 20) - ptoa(3), 6 },   /* across a 2 MiB boundary */
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		const char *why = ft_cow_run(cases[i].va, cases[i].n);
		VMT_ASSERT_MSG(why == NULL, "%d pages at %#lx: %s", cases[i].n,
		    (unsigned long)cases[i].va, why);
	}
}

/* vm_meter's fault counters (per CPU, racy, summed by vm_fault_stats): one fault of
 * each kind moves its own counter by one and v_faults by one, and no other kind's. */
VMTEST(fault, meter_counts_each_kind)
{
	struct ft_env env;
	struct vmmeter m0, m1;
	struct vm_object *obj;
	vm_page_t orig;
	const vm_offset_t cow_va = FT_VA + ptoa(16);

	VMT_ASSERT(ft_begin(&env));
	VMT_ASSERT_EQ(ft_insert(&env, NULL, FT_VA, FT_VA + ptoa(8), FT_RW, 0), 0);
	/* Zero-fill: a write to a page never touched, alone (no fault-around). */
	vm_meter_snapshot(&m0);
	VMT_ASSERT_EQ(vm_fault(&env.map, FT_VA + ptoa(5), VM_PROT_WRITE, VM_FAULT_NOAROUND),
	    VM_FAULT_OK);
	vm_meter_snapshot(&m1);
	VMT_ASSERT_EQ(m1.v_faults - m0.v_faults, 1);
	VMT_ASSERT_EQ(m1.v_zfod - m0.v_zfod, 1);
	VMT_ASSERT_EQ(m1.v_cow_faults - m0.v_cow_faults, 0);
	VMT_ASSERT_EQ(m1.v_majfaults - m0.v_majfaults, 0);

	/* Copy-on-write: an object's page mapped VME_COW | VME_NEEDS_COPY; a read maps the
	 * original (a fault, no copy), the write after it copies. */
	obj = vm_object_allocate(OBJT_DEFAULT, 1);
	vm_object_lock(obj);
	orig = vm_page_alloc(obj, 0, VM_ALLOC_NORMAL | VM_ALLOC_NOBUSY);
	vm_object_unlock(obj);
	VMT_ASSERT(orig != NULL);
	memset(vm_phys_to_dmap(VM_PAGE_TO_PHYS(orig)), 0x5a, PAGE_SIZE);
	vm_object_reference(obj);       /* the entry's, and the test's */
	VMT_ASSERT_EQ(ft_insert(&env, obj, cow_va, cow_va + PAGE_SIZE, FT_RW,
	    VME_COW | VME_NEEDS_COPY), 0);
	vm_meter_snapshot(&m0);
	VMT_ASSERT_EQ(ft_load(&env, cow_va), 0x5a);
	vm_meter_snapshot(&m1);
	VMT_ASSERT_EQ(m1.v_faults - m0.v_faults, 1);
	VMT_ASSERT_EQ(m1.v_cow_faults - m0.v_cow_faults, 0);
	VMT_ASSERT_EQ(m1.v_zfod - m0.v_zfod, 0);
	m0 = m1;
	VMT_ASSERT(ft_store(&env, cow_va, 0xa5));
	vm_meter_snapshot(&m1);
	VMT_ASSERT_EQ(m1.v_faults - m0.v_faults, 1);
	VMT_ASSERT_EQ(m1.v_cow_faults - m0.v_cow_faults, 1);
	VMT_ASSERT_EQ(m1.v_zfod - m0.v_zfod, 0);
	VMT_ASSERT((ft_pte(&env, cow_va) & PG_FRAME) != VM_PAGE_TO_PHYS(orig));
	vm_object_deallocate(obj);      /* the test's own reference */
	VMT_ASSERT(ft_end(&env));
}

/* Touch npages in order; the number of faults it took. */
static uint64_t ft_touch_run(struct ft_env *env, vm_offset_t va, int npages, bool write)
{
	uint64_t f0 = env->faults;

	for (int i = 0; i < npages; i++)
		if (write ? !ft_store(env, va + ptoa(i), 1) : ft_load(env, va + ptoa(i)) != 0)
			return UINT64_MAX;
	return env->faults - f0;
}

/* One entry of 200 pages with advice, touched in order: the faults it took, with the
 * resident count and the last page's bits checked. NULL or what failed. */
static const char *ft_around_run(int advice, bool write, uint64_t maxfaults,
    uint64_t minfaults)
{
	struct ft_env env;
	const int n = 200;

	if (!ft_begin(&env) || ft_insert(&env, NULL, FT_VA, FT_VA + ptoa(n), FT_RW, 0) != 0 ||
	    vm_map_madvise(&env.map, FT_VA, FT_VA + ptoa(n), advice) != 0)
		return "set-up";
	uint64_t f = ft_touch_run(&env, FT_VA, n, write);
	if (f > maxfaults || f < minfaults)
		return "fault count out of range";
	if (pmap_resident_count(&env.pmap) != (uint64_t)n)
		return "resident count is not the pages mapped";
	/* Pages mapped ahead: accessed, zero; dirty only ahead of a writer. */
	uint64_t e = ft_pte(&env, FT_VA + ptoa(n - 2));
	if ((e & FT_LEAF) != (PG_V | PG_RW | PG_U | PG_A | PG_NX | PG_MANAGED |
	    (write ? PG_M : 0)) || (!write && !ft_page_zero(e)))
		return "bits or contents of a page mapped ahead";
	if (!ft_end(&env))
		return "leak";
	return NULL;
}

VMTEST(fault, fault_around)
{
	const char *why;

	/* Normal: none ahead at the first fault, then 4, 8, 16, 32 and 64 ahead from then
	 * on: 1 + 5 + 9 + 17 + 33 + 65 pages, then 65 and the last 5: 8 faults. */
	why = ft_around_run(VM_MADV_NORMAL, false, 8, 8);
	VMT_ASSERT_MSG(why == NULL, "normal: %s", why);
	/* Random: one fault, one page each. */
	why = ft_around_run(VM_MADV_RANDOM, true, 200, 200);
	VMT_ASSERT_MSG(why == NULL, "random: %s", why);
	/* Sequential: 64, then 128 ahead: 65 + 129 pages, then the last 6 in one: 3 faults. */
	why = ft_around_run(VM_MADV_SEQUENTIAL, true, 3, 3);
	VMT_ASSERT_MSG(why == NULL, "sequential: %s", why);
}

/* ---- a pager for the tests: pages whose bytes are their index ---------------------- */

static int ft_pager_fill(vm_page_t m)
{
	memset(vm_phys_to_dmap(VM_PAGE_TO_PHYS(m)), (int)(0x40 + m->pindex), PAGE_SIZE);
	return VM_PAGER_OK;
}

static int ft_getpages(struct vm_object *obj, vm_page_t *ma, int count)
{
	(void)obj;
	for (int i = 0; i < count; i++)
		ft_pager_fill(ma[i]);
	return VM_PAGER_OK;
}

static int ft_getpages_error(struct vm_object *obj, vm_page_t *ma, int count)
{
	(void)obj, (void)ma, (void)count;
	return VM_PAGER_ERROR;
}

/* Installs the aligned run of 4 around pindex (within the object), r309710-style. */
static int ft_populate(struct vm_object *obj, vm_pindex_t pindex, vm_prot_t fault_type,
    vm_prot_t max_prot, vm_pindex_t *first, vm_pindex_t *last)
{
	vm_pindex_t lo = pindex & ~(vm_pindex_t)3, hi = MIN(lo + 3, obj->vo_size - 1);

	(void)fault_type, (void)max_prot;
	for (vm_pindex_t p = lo; p <= hi; p++) {
		if (vm_page_lookup(obj, p) != NULL)
			return VM_PAGER_BAD;    /* partly resident: one page at a time */
	}
	for (vm_pindex_t p = lo; p <= hi; p++) {
		vm_page_t m = vm_page_alloc(obj, p, VM_ALLOC_NORMAL);
		if (m == NULL)
			return VM_PAGER_ERROR;  /* (the test never runs out) */
		ft_pager_fill(m);
	}
	*first = lo;
	*last = hi;
	return VM_PAGER_OK;
}

static const struct vm_pager_ops ft_pager = {
	.pgo_name = "test", .pgo_getpages = ft_getpages, .pgo_populate = ft_populate,
};
static const struct vm_pager_ops ft_pager_one = {
	.pgo_name = "test-one", .pgo_getpages = ft_getpages,
};
static const struct vm_pager_ops ft_pager_bad = {
	.pgo_name = "test-bad", .pgo_getpages = ft_getpages_error,
};

VMTEST(fault, pager_populate_getpages)
{
	struct ft_env env;
	struct vm_object *obj[3];
	const struct vm_pager_ops *ops[3] = { &ft_pager, &ft_pager_one, &ft_pager_bad };
	struct vm_fault_stats s0, s1;

	VMT_ASSERT(ft_begin(&env));
	for (int i = 0; i < 3; i++) {
		obj[i] = vm_object_allocate(OBJT_PHYS, 10);
		obj[i]->vo_pager = ops[i];
		VMT_ASSERT_EQ(ft_insert(&env, obj[i], FT_VA + ptoa(32 * i),
		    FT_VA + ptoa(32 * i + 10), FT_RW, 0), 0);
	}
	/* populate: one pager call maps the run [4, 7] around page 5. */
	vm_fault_stats(&s0);
	VMT_ASSERT_EQ(ft_load(&env, FT_VA + ptoa(5)), 0x45);
	for (int p = 4; p <= 7; p++)
		VMT_ASSERT_EQ(ft_load(&env, FT_VA + ptoa(p)), 0x40 + p);
	vm_fault_stats(&s1);
	VMT_ASSERT_EQ(s1.vfs_pager - s0.vfs_pager, 1);
	VMT_ASSERT_EQ(env.faults, 1);
	VMT_ASSERT_EQ(pmap_resident_count(&env.pmap), 4);
	/* The last run is cut at the object's end: [8, 9]. */
	VMT_ASSERT_EQ(ft_load(&env, FT_VA + ptoa(9)), 0x49);
	VMT_ASSERT(ft_pte(&env, FT_VA + ptoa(8)) & PG_V);
	/* getpages alone: one page per fault. */
	VMT_ASSERT_EQ(ft_load(&env, FT_VA + ptoa(32 + 2)), 0x42);
	VMT_ASSERT((ft_pte(&env, FT_VA + ptoa(32 + 3)) & PG_V) == 0);
	/* A pager error is SIGBUS, and leaves no page behind. */
	VMT_ASSERT_EQ(ft_load(&env, FT_VA + ptoa(64 + 1)), -1);
	VMT_ASSERT_EQ(env.rv, VM_FAULT_PAGER);
	VMT_ASSERT_EQ(vm_fault_signal(env.rv), VM_FAULT_SIGBUS);
	VMT_ASSERT_EQ(obj[2]->vo_resident_page_count, 0);
	VMT_ASSERT(ft_end(&env));
}

VMTEST(fault, mlock_wires_once)
{
	struct ft_env env;
	const int n = 5;
	long a;

	VMT_ASSERT(ft_begin(&env));
	a = vm_mmap(&env.map, 0, ptoa(n), LINUX_PROT_READ | LINUX_PROT_WRITE,
	    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS);
	VMT_ASSERT(a > 0);
	for (int round = 0; round < 2; round++) {
		VMT_ASSERT_EQ(vm_mlock(&env.map, (vm_offset_t)a, ptoa(n)), 0);
		VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), n);
		for (int i = 0; i < n; i++) {
			uint64_t e = ft_pte(&env, (vm_offset_t)a + ptoa(i));
			VMT_ASSERT_EQ(e & (PG_V | PG_W | PG_RW), PG_V | PG_W | PG_RW);
			VMT_ASSERT_EQ(PHYS_TO_VM_PAGE(e & PG_FRAME)->ref_count, 1);
		}
	}
	VMT_ASSERT_EQ(vm_munlock(&env.map, (vm_offset_t)a, ptoa(n)), 0);
	VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), 0);
	/* MAP_POPULATE faults the range in. */
	a = vm_mmap(&env.map, 0, ptoa(n), LINUX_PROT_READ, LINUX_MAP_PRIVATE |
	    LINUX_MAP_ANONYMOUS | LINUX_MAP_POPULATE);
	VMT_ASSERT(a > 0);
	for (int i = 0; i < n; i++)
		VMT_ASSERT(ft_pte(&env, (vm_offset_t)a + ptoa(i)) & PG_V);
	VMT_ASSERT(ft_end(&env));
}

/*
 * A plain fault in a wired entry (not a wiring fault): mlocked memory made read-only
 * and writable again keeps its read-only entries until a write faults on each; the
 * fault's entry stays wired (PG_W, the pmap's wired count) and the page is wired no
 * second time, whichever path (fast or general) takes such a fault.
 */
VMTEST(fault, wired_entry_write_refault)
{
	struct ft_env env;
	enum { N = 4 };
	long a;

	VMT_ASSERT(ft_begin(&env));
	a = vm_mmap(&env.map, 0, ptoa(N), LINUX_PROT_READ | LINUX_PROT_WRITE,
	    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS);
	VMT_ASSERT(a > 0);
	/* MADV_RANDOM: no prefault, so that the fast path may take the fault. */
	VMT_ASSERT_EQ(vm_madvise(&env.map, (vm_offset_t)a, ptoa(N), LINUX_MADV_RANDOM), 0);
	VMT_ASSERT_EQ(vm_mlock(&env.map, (vm_offset_t)a, ptoa(N)), 0);
	VMT_ASSERT_EQ(vm_mprotect(&env.map, (vm_offset_t)a, ptoa(N), LINUX_PROT_READ), 0);
	VMT_ASSERT_EQ(vm_mprotect(&env.map, (vm_offset_t)a, ptoa(N), LINUX_PROT_READ |
	    LINUX_PROT_WRITE), 0);
	VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), N);
	for (int i = 0; i < N; i++) {
		vm_offset_t va = (vm_offset_t)a + ptoa(i);
		VMT_ASSERT_EQ(ft_pte(&env, va) & (PG_V | PG_W | PG_RW), PG_V | PG_W);
		uint64_t faults = env.faults;
		VMT_ASSERT(ft_store(&env, va, (uint8_t)(0x50 + i)));
		VMT_ASSERT_EQ(env.faults, faults + 1);
		uint64_t e = ft_pte(&env, va);
		VMT_ASSERT_EQ(e & (PG_V | PG_W | PG_RW), PG_V | PG_W | PG_RW);
		VMT_ASSERT_EQ(PHYS_TO_VM_PAGE(e & PG_FRAME)->ref_count, 1);
		VMT_ASSERT_EQ(ft_load(&env, va), 0x50 + i);
	}
	VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), N);
	VMT_ASSERT_EQ(vm_munlock(&env.map, (vm_offset_t)a, ptoa(N)), 0);
	VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), 0);
	VMT_ASSERT(ft_end(&env));
}

/*
 * munlock keeps the mappings: the same frames, writable, no longer wired (PG_W off,
 * the pmap's wired count and each page's wire count back to 0), the bytes still there
 * without a fault; the pages are freed with the range as any others.
 */
VMTEST(fault, munlock_keeps_mapping)
{
	struct ft_env env;
	enum { N = 6 };
	vm_paddr_t pa[N];
	uint64_t wired0;
	long a;

	VMT_ASSERT(ft_begin(&env));
	a = vm_mmap(&env.map, 0, ptoa(N), LINUX_PROT_READ | LINUX_PROT_WRITE,
	    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS);
	VMT_ASSERT(a > 0);
	for (int i = 0; i < N; i++)
		VMT_ASSERT(ft_store(&env, (vm_offset_t)a + ptoa(i), (uint8_t)(0x30 + i)));
	/* Page-table pages are wired pages too: counted from here, where they exist. */
	wired0 = vm_page_wire_count();
	VMT_ASSERT_EQ(vm_mlock(&env.map, (vm_offset_t)a, ptoa(N)), 0);
	VMT_ASSERT_EQ(vm_page_wire_count(), wired0 + N);
	for (int i = 0; i < N; i++) {
		uint64_t e = ft_pte(&env, (vm_offset_t)a + ptoa(i));
		VMT_ASSERT_EQ(e & (PG_V | PG_W | PG_RW), PG_V | PG_W | PG_RW);
		pa[i] = e & PG_FRAME;
		VMT_ASSERT_EQ(PHYS_TO_VM_PAGE(pa[i])->ref_count, 1);
	}
	/* Half first: the other half stays wired. */
	VMT_ASSERT_EQ(vm_munlock(&env.map, (vm_offset_t)a, ptoa(N / 2)), 0);
	VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), N - N / 2);
	VMT_ASSERT_EQ(vm_page_wire_count(), wired0 + N - N / 2);
	VMT_ASSERT_EQ(vm_munlock(&env.map, (vm_offset_t)a, ptoa(N)), 0);
	VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), 0);
	VMT_ASSERT_EQ(pmap_resident_count(&env.pmap), N);
	VMT_ASSERT_EQ(vm_page_wire_count(), wired0);
	uint64_t faults = env.faults;
	for (int i = 0; i < N; i++) {
		uint64_t e = ft_pte(&env, (vm_offset_t)a + ptoa(i));
		VMT_ASSERT_EQ(e & (PG_V | PG_W | PG_RW), PG_V | PG_RW);
		VMT_ASSERT_EQ(e & PG_FRAME, pa[i]);
		VMT_ASSERT_EQ(PHYS_TO_VM_PAGE(pa[i])->ref_count, 0);
		VMT_ASSERT_EQ(ft_load(&env, (vm_offset_t)a + ptoa(i)), 0x30 + i);
	}
	VMT_ASSERT_EQ(env.faults, faults);
	/* munlock of what is no longer locked: nothing changes. */
	VMT_ASSERT_EQ(vm_munlock(&env.map, (vm_offset_t)a, ptoa(N)), 0);
	VMT_ASSERT_EQ(pmap_resident_count(&env.pmap), N);
	VMT_ASSERT_EQ(vm_munmap(&env.map, (vm_offset_t)a, ptoa(N)), 0);
	VMT_ASSERT_EQ(pmap_resident_count(&env.pmap), 0);
	/* munmap of locked memory (no munlock first) takes the pages' wirings with the
	 * mappings: the pages are freed (ft_end counts them). */
	uint64_t wired1 = vm_page_wire_count();        /* the page tables went too */
	a = vm_mmap(&env.map, 0, ptoa(N), LINUX_PROT_READ | LINUX_PROT_WRITE,
	    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_LOCKED);
	VMT_ASSERT(a > 0);
	VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), N);
	wired0 = vm_page_wire_count();
	VMT_ASSERT_EQ(vm_munmap(&env.map, (vm_offset_t)a + ptoa(1), ptoa(N - 2)), 0);
	VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), 2);
	VMT_ASSERT_EQ(vm_page_wire_count(), wired0 - (N - 2));
	VMT_ASSERT_EQ(vm_munmap(&env.map, (vm_offset_t)a, ptoa(N)), 0);
	VMT_ASSERT_EQ(pmap_wired_count(&env.pmap), 0);
	VMT_ASSERT_EQ(vm_page_wire_count(), wired1);
	VMT_ASSERT(ft_end(&env));
}

/*
 * 200 random single-page write faults in a 256-page entry, then everything freed: the
 * free count is back. (Counted raw, it came back one page short: a pmap_remove of 143
 * pv entries made the pv zone's caches use a fifth 126-item bucket, and the bucket
 * zones are type-stable, so their second slab stays. vmt_free_pages counts such idle
 * slabs as free: uma_pages_nofree_idle.)
 */
VMTEST(fault, random_faults_leave_nothing)
{
	struct ft_env env;
	const int n = 256;
	uint32_t seed = 12345;

	VMT_ASSERT(ft_begin(&env));
	VMT_ASSERT_EQ(ft_insert(&env, NULL, FT_VA, FT_VA + ptoa(n), FT_RW, 0), 0);
	VMT_ASSERT_EQ(vm_map_madvise(&env.map, FT_VA, FT_VA + ptoa(n), VM_MADV_RANDOM), 0);
	for (int i = 0; i < 200; i++) {
		seed = seed * 1103515245u + 12345u;
		vm_offset_t va = FT_VA + ptoa((seed >> 8) % (uint32_t)n);
		VMT_ASSERT(ft_store(&env, va, (uint8_t)(i + 1)));
		VMT_ASSERT_EQ(ft_load(&env, va), (uint8_t)(i + 1));
	}
	VMT_ASSERT(pmap_resident_count(&env.pmap) > 128);
	VMT_ASSERT_EQ(env.faults, pmap_resident_count(&env.pmap));
	VMT_ASSERT(ft_end(&env));
}
