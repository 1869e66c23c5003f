/*
 * vm_map checks that hold on any running VM core (the host's simulated machine and the
 * guest's RAM): `vmm run --ktest=map`. Each test makes its own maps and destroys them;
 * entry counts are judged relative to what the test found. The brute-force model that
 * the host runs over many long seeds (tests/unit/test_vm_map.c) lives here too, so the
 * guest runs a short seed of it.
 */
#include "vm/malloc.h"
#include "vm/vm_map.h"
#include "tests/vmtests/map_model.h"
#include "tests/vmtests/vmtest.h"

MALLOC_DEFINE(M_VMT_MAP, "vmt map model");

#define MT_BASE     0x40000000ul
#define MT_PG(n)    ((vm_offset_t)(n) * PAGE_SIZE)

/* ---- the model -------------------------------------------------------------------- */

struct mt_iv {
	uint64_t mi_start, mi_end;
	uint8_t mi_prot, mi_max;
};

struct mt_model {
	struct mt_iv *mm_iv, *mm_tmp, *mm_canon;
	int mm_n;
	uint64_t mm_min, mm_max;
	uint64_t mm_rng;
};

static uint64_t mt_rand(struct mt_model *m)
{
	/* xorshift64: the same sequence on the host and in the guest. */
	uint64_t x = m->mm_rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return m->mm_rng = x;
}

static uint64_t mt_below(struct mt_model *m, uint64_t n)
{
	return mt_rand(m) % n;
}

static bool mt_overlaps(const struct mt_model *m, uint64_t s, uint64_t e)
{
	for (int i = 0; i < m->mm_n; i++)
		if (m->mm_iv[i].mi_start < e && s < m->mm_iv[i].mi_end)
			return true;
	return false;
}

static void mt_insert(struct mt_model *m, uint64_t s, uint64_t e, int prot, int max)
{
	int i = m->mm_n;

	while (i > 0 && m->mm_iv[i - 1].mi_start > s) {
		m->mm_iv[i] = m->mm_iv[i - 1];
		i--;
	}
	m->mm_iv[i] = (struct mt_iv){ s, e, (uint8_t)prot, (uint8_t)max };
	m->mm_n++;
}

/*
 * Cut every interval at s and e; the pieces inside [s, e) are dropped (del) or given
 * the protection (FreeBSD's rules: a new maximum lowers the current one).
 */
static void mt_apply(struct mt_model *m, uint64_t s, uint64_t e, bool del, int prot,
    bool set_max)
{
	int n = 0;

	for (int i = 0; i < m->mm_n; i++) {
		struct mt_iv v = m->mm_iv[i];
		if (v.mi_end <= s || v.mi_start >= e) {
			m->mm_tmp[n++] = v;
			continue;
		}
		if (v.mi_start < s)
			m->mm_tmp[n++] = (struct mt_iv){ v.mi_start, s, v.mi_prot, v.mi_max };
		if (!del) {
			struct mt_iv in = { MAX(v.mi_start, s), MIN(v.mi_end, e), v.mi_prot, v.mi_max };
			if (set_max) {
				in.mi_max = (uint8_t)prot;
				in.mi_prot &= (uint8_t)prot;
			} else {
				in.mi_prot = (uint8_t)prot;
			}
			m->mm_tmp[n++] = in;
		}
		if (v.mi_end > e)
			m->mm_tmp[n++] = (struct mt_iv){ e, v.mi_end, v.mi_prot, v.mi_max };
	}
	memcpy(m->mm_iv, m->mm_tmp, (size_t)n * sizeof(m->mm_iv[0]));
	m->mm_n = n;
}

static int mt_protect(struct mt_model *m, uint64_t s, uint64_t e, int prot, bool set_max)
{
	for (int i = 0; i < m->mm_n; i++)
		if (m->mm_iv[i].mi_start < e && s < m->mm_iv[i].mi_end &&
		    (prot & ~m->mm_iv[i].mi_max) != 0)
			return EACCES;
	mt_apply(m, s, e, false, prot, set_max);
	return 0;
}

/* Brute force: try aligned addresses upwards, jumping past each interval in the way. */
static int mt_find(const struct mt_model *m, uint64_t min, uint64_t max, uint64_t len,
    uint64_t align, uint64_t *addr)
{
	uint64_t a;

	if (align == 0)
		align = PAGE_SIZE;
	min = MAX(min, m->mm_min);
	max = MIN(max, m->mm_max);
	for (a = roundup2(min, align); a >= min && a + len <= max;) {
		int i;
		for (i = 0; i < m->mm_n; i++)
			if (m->mm_iv[i].mi_start < a + len && a < m->mm_iv[i].mi_end)
				break;
		if (i == m->mm_n) {
			*addr = a;
			return 0;
		}
		a = roundup2(m->mm_iv[i].mi_end, align);
	}
	return ENOMEM;
}

/* Runs of equal protections, merged: what the model and the map must agree on. */
static int mt_canon_add(struct mt_iv *c, int n, uint64_t s, uint64_t e, int prot, int max)
{
	if (n > 0 && c[n - 1].mi_end == s && c[n - 1].mi_prot == prot && c[n - 1].mi_max == max) {
		c[n - 1].mi_end = e;
		return n;
	}
	c[n] = (struct mt_iv){ s, e, (uint8_t)prot, (uint8_t)max };
	return n + 1;
}

/* => map locked. NULL, or what differs. */
static const char *mt_compare(struct mt_model *m, struct vm_map *map, char *err, size_t len)
{
	int nm = 0, nc = 0, i = 0;

	for (int j = 0; j < m->mm_n; j++)
		nm = mt_canon_add(m->mm_tmp, nm, m->mm_iv[j].mi_start, m->mm_iv[j].mi_end,
		    m->mm_iv[j].mi_prot, m->mm_iv[j].mi_max);
	for (struct vm_map_entry *e = vm_map_first(map); e != &map->vmap_header;
	    e = e->vme_next) {
		if (nc == VMT_MAP_MODEL_MAXPAGES) {
			snprintf(err, len, "more entries than pages");
			return err;
		}
		nc = mt_canon_add(m->mm_canon, nc, e->vme_start, e->vme_end,
		    e->vme_protection, e->vme_max_protection);
	}
	for (i = 0; i < nm && i < nc; i++)
		if (memcmp(&m->mm_tmp[i], &m->mm_canon[i], offsetof(struct mt_iv, mi_max) + 1) != 0)
			break;
	if (i == nm && i == nc)
		return NULL;
	snprintf(err, len, "run %d: model [%#lx, %#lx) prot %d/%d, map [%#lx, %#lx) prot %d/%d "
	    "(%d and %d runs)", i,
	    i < nm ? (unsigned long)m->mm_tmp[i].mi_start : 0ul,
	    i < nm ? (unsigned long)m->mm_tmp[i].mi_end : 0ul,
	    i < nm ? m->mm_tmp[i].mi_prot : -1, i < nm ? m->mm_tmp[i].mi_max : -1,
	    i < nc ? (unsigned long)m->mm_canon[i].mi_start : 0ul,
	    i < nc ? (unsigned long)m->mm_canon[i].mi_end : 0ul,
	    i < nc ? m->mm_canon[i].mi_prot : -1, i < nc ? m->mm_canon[i].mi_max : -1, nm, nc);
	return err;
}

/* A random find request: anywhere in (or around) the map, often the whole map. */
static void mt_find_args(struct mt_model *m, uint64_t *min, uint64_t *max, uint64_t *len,
    uint64_t *align)
{
	static const uint64_t aligns[] = { 0, PAGE_SIZE, 4 * PAGE_SIZE, 16 * PAGE_SIZE,
	    64 * PAGE_SIZE, 512 * PAGE_SIZE };
	uint64_t span = m->mm_max - m->mm_min;

	*len = MT_PG(1 + (mt_below(m, 4) == 0 ? mt_below(m, 64) : mt_below(m, 8)));
	*align = aligns[mt_below(m, nitems(aligns))];
	*min = mt_below(m, 3) == 0 ? m->mm_min : m->mm_min + trunc_page(mt_below(m, span));
	*max = mt_below(m, 2) == 0 ? m->mm_max : *min + trunc_page(mt_below(m, span));
}

/* Did the map's find (what) answer as the model did? => NULL, or the difference. */
static const char *mt_find_differs(const char *what, int rv, uint64_t a, int want, uint64_t b,
    uint64_t l, uint64_t al, uint64_t min, uint64_t max, char *err, size_t len)
{
	if (rv == want && (rv != 0 || a == b))
		return NULL;
	snprintf(err, len, "%s %#lx pages align %#lx in [%#lx, %#lx): %d at %#lx, model %d at "
	    "%#lx", what, (unsigned long)atop(l), (unsigned long)al, (unsigned long)min,
	    (unsigned long)max, rv, (unsigned long)a, want, (unsigned long)b);
	return err;
}

static const char *mt_step(struct mt_model *m, struct vm_map *map, int step, int base,
    char *err, size_t len)
{
	uint64_t span = m->mm_max - m->mm_min, s, e, a, b, min, max, l, al;
	uint64_t r = mt_below(m, 100);
	int prot, maxprot, rv, want;
	struct vm_map_entry *ent;
	const char *why;

	s = m->mm_min + MT_PG(mt_below(m, atop(span)));
	l = MT_PG(1 + mt_below(m, 24));     /* apart: MIN evaluates its arguments twice */
	e = MIN(s + l, m->mm_max);
	maxprot = (int)mt_below(m, 8);
	prot = (int)mt_below(m, 8);
	if (r < 30) {
		vm_map_lock(map);
		rv = vm_map_insert(map, NULL, 0, s, e, prot, maxprot, 0);
		vm_map_unlock(map);
		want = (prot & ~maxprot) != 0 ? EACCES : mt_overlaps(m, s, e) ? EEXIST : 0;
		if (rv != want) {
			snprintf(err, len, "insert [%#lx, %#lx): %d, model %d", (unsigned long)s,
			    (unsigned long)e, rv, want);
			return err;
		}
		if (rv == 0)
			mt_insert(m, s, e, prot, maxprot);
	} else if (r < 45) {
		mt_find_args(m, &min, &max, &l, &al);
		a = min;
		rv = vm_map_find(map, NULL, 0, &a, l, max, al, prot & maxprot, maxprot, 0);
		want = mt_find(m, min, max, l, al, &b);
		if (mt_find_differs("find", rv, a, want, b, l, al, min, max, err, len) != NULL)
			return err;
		if (rv == 0)
			mt_insert(m, a, a + l, prot & maxprot, maxprot);
	} else if (r < 65) {
		l = MT_PG(1 + mt_below(m, 48));
		e = MIN(s + l, m->mm_max);
		rv = vm_map_remove(map, s, e);
		if (rv != 0) {
			snprintf(err, len, "remove [%#lx, %#lx): %d", (unsigned long)s,
			    (unsigned long)e, rv);
			return err;
		}
		mt_apply(m, s, e, true, 0, false);
	} else if (r < 75) {
		vm_map_lock(map);
		if (vm_map_lookup_entry(map, s, &ent)) {
			if (mt_below(m, 2) == 0)
				vm_map_clip_start(map, ent, s);
			else
				vm_map_clip_end(map, ent, s + PAGE_SIZE);
		}
		vm_map_unlock(map);
	} else if (r < 90) {
		bool set_max = mt_below(m, 3) == 0;
		rv = vm_map_protect(map, s, e, prot, set_max);
		want = mt_protect(m, s, e, prot, set_max);
		if (rv != want) {
			snprintf(err, len, "protect [%#lx, %#lx) %d%s: %d, model %d",
			    (unsigned long)s, (unsigned long)e, prot, set_max ? " max" : "", rv,
			    want);
			return err;
		}
	} else {
		vm_map_simplify(map, s, e);
	}

	vm_map_lock(map);
	why = vm_map_verify(map, err, len);
	if (why == NULL)
		why = mt_compare(m, map, err, len);
	if (why == NULL) {
		mt_find_args(m, &min, &max, &l, &al);
		rv = vm_map_find_space(map, min, max, l, al, &a);
		want = mt_find(m, min, max, l, al, &b);
		why = mt_find_differs("find_space", rv, a, want, b, l, al, min, max, err, len);
	}
	if (why == NULL && vm_map_entries_allocated() - base !=
	    map->vmap_nentries + map->vmap_nspare) {
		snprintf(err, len, "%d entries allocated, the map holds %d and %d spares",
		    vm_map_entries_allocated() - base, map->vmap_nentries, map->vmap_nspare);
		why = err;
	}
	vm_map_unlock(map);
	(void)step;
	return why;
}

const char *vmt_map_model_run(uint64_t seed, int steps, int npages, char *err, size_t errlen)
{
	struct mt_model m = { .mm_rng = seed * 0x9e3779b97f4a7c15ull + 1 };
	size_t bytes = VMT_MAP_MODEL_MAXPAGES * sizeof(struct mt_iv);
	struct vm_map map;
	const char *why = NULL;
	char msg[200];
	int base;

	KASSERT(npages > 0 && npages <= VMT_MAP_MODEL_MAXPAGES,
	    ("vmt_map_model_run: %d pages", npages));
	m.mm_iv = kmalloc(bytes, M_VMT_MAP, M_WAITOK);
	m.mm_tmp = kmalloc(bytes, M_VMT_MAP, M_WAITOK);
	m.mm_canon = kmalloc(bytes, M_VMT_MAP, M_WAITOK);
	m.mm_min = MT_BASE;
	m.mm_max = MT_BASE + MT_PG(npages);
	vm_map_init(&map, NULL, m.mm_min, m.mm_max);
	base = vm_map_entries_allocated();
	for (int i = 0; i < steps && why == NULL; i++) {
		why = mt_step(&m, &map, i, base, msg, sizeof(msg));
		if (why != NULL)
			snprintf(err, errlen, "seed %lu step %d: %s", (unsigned long)seed, i, msg);
	}
	vm_map_destroy(&map);
	kfree(m.mm_iv, M_VMT_MAP);
	kfree(m.mm_tmp, M_VMT_MAP);
	kfree(m.mm_canon, M_VMT_MAP);
	return why != NULL ? err : NULL;
}

/* ---- VMTESTs -------------------------------------------------------------------------- */

static char mt_err[256];

/* A short seed of the model (the host runs long ones): every step checked. */
VMTEST(map, model_short)
{
	const char *why = vmt_map_model_run(1, 150, 128, mt_err, sizeof(mt_err));
	VMT_ASSERT_MSG(why == NULL, "%s", why);
}

/* What a process's mmap, mprotect, mlock, madvise and munmap do to its map. */
VMTEST(map, mmap_lifecycle)
{
	struct vm_map map;
	vm_offset_t a = 0, b = 0;
	struct vm_map_entry *e;
	int base;

	vm_map_init(&map, NULL, MT_BASE, MT_BASE + MT_PG(4096));
	base = vm_map_entries_allocated();
	VMT_ASSERT_EQ(vm_map_find(&map, NULL, 0, &a, MT_PG(16), ~0ul, 0,
	    VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE, 0), 0);
	VMT_ASSERT_EQ(a, MT_BASE);
	VMT_ASSERT_EQ(vm_map_find(&map, NULL, 0, &b, MT_PG(4), ~0ul, MT_PG(16),
	    VM_PROT_READ, VM_PROT_READ, 0), 0);
	VMT_ASSERT_EQ(b, MT_BASE + MT_PG(16));
	/* mprotect of the middle, mlock of a part of it, sequential advice on the end. */
	VMT_ASSERT_EQ(vm_map_protect(&map, a + MT_PG(4), a + MT_PG(8), VM_PROT_READ, false), 0);
	VMT_ASSERT_EQ(vm_map_wire(&map, a + MT_PG(6), a + MT_PG(10), VM_MAP_WIRE_USER), 0);
	VMT_ASSERT_EQ(vm_map_madvise(&map, a + MT_PG(12), a + MT_PG(16), VM_MADV_SEQUENTIAL), 0);
	/* Beyond b's maximum: refused, nothing changed. */
	VMT_ASSERT_EQ(vm_map_protect(&map, b, b + MT_PG(4), VM_PROT_WRITE, false), EACCES);
	vm_map_lock(&map);
	VMT_ASSERT(vm_map_verify(&map, mt_err, sizeof(mt_err)) == NULL);
	/* [0,4) rw, [4,6) r, [6,8) r wired, [8,10) rw wired, [10,12) rw, [12,16) rw seq, b */
	VMT_ASSERT_EQ(map.vmap_nentries, 7);
	VMT_ASSERT(vm_map_lookup_entry(&map, a + MT_PG(7), &e));
	VMT_ASSERT(e->vme_start == a + MT_PG(6) && e->vme_end == a + MT_PG(8));
	VMT_ASSERT(e->vme_user_wired == 1 && e->vme_protection == VM_PROT_READ);
	VMT_ASSERT(vm_map_lookup_entry(&map, a + MT_PG(13), &e));
	VMT_ASSERT_EQ(e->vme_advice, VM_MADV_SEQUENTIAL);
	vm_map_unlock(&map);
	/* Undo it all: the entries merge back into one. */
	VMT_ASSERT_EQ(vm_map_unwire(&map, a + MT_PG(6), a + MT_PG(10), VM_MAP_WIRE_USER), 0);
	VMT_ASSERT_EQ(vm_map_protect(&map, a + MT_PG(4), a + MT_PG(8),
	    VM_PROT_READ | VM_PROT_WRITE, false), 0);
	VMT_ASSERT_EQ(vm_map_madvise(&map, a, a + MT_PG(16), VM_MADV_NORMAL), 0);
	VMT_ASSERT_EQ(map.vmap_nentries, 2);
	/* munmap of everything, holes included. */
	VMT_ASSERT_EQ(vm_map_remove(&map, MT_BASE, MT_BASE + MT_PG(4096)), 0);
	VMT_ASSERT_EQ(map.vmap_nentries, 0);
	VMT_ASSERT_EQ(map.vmap_size, 0);
	VMT_ASSERT_EQ(vm_map_entries_allocated() - base, map.vmap_nspare);
	vm_map_destroy(&map);
}

/* Many entries: the tree stays balanced and find-space lands in the one hole. */
VMTEST(map, many_entries_one_hole)
{
	enum { N = 2000 };
	struct vm_map map;
	vm_offset_t a;

	vm_map_init(&map, NULL, MT_BASE, MT_BASE + MT_PG(2 * N));
	vm_map_lock(&map);
	for (int i = 0; i < N; i++)
		VMT_ASSERT_EQ(vm_map_insert(&map, NULL, 0, MT_BASE + MT_PG(2 * i),
		    MT_BASE + MT_PG(2 * i) + (i == N / 3 ? MT_PG(1) : MT_PG(2)),
		    VM_PROT_READ, VM_PROT_READ, i % 2 ? VME_NOCOREDUMP : 0), 0);
	VMT_ASSERT(vm_map_verify(&map, mt_err, sizeof(mt_err)) == NULL);
	/* AVL: height at most 1.44 log2(n + 2); 2000 entries: 16. */
	VMT_ASSERT(map.vmap_root->vme_height <= 16);
	VMT_ASSERT_EQ(vm_map_find_space(&map, MT_BASE, ~0ul, PAGE_SIZE, 0, &a), 0);
	VMT_ASSERT_EQ(a, MT_BASE + MT_PG(2 * (N / 3) + 1));
	VMT_ASSERT_EQ(vm_map_find_space(&map, MT_BASE, ~0ul, MT_PG(2), 0, &a), ENOMEM);
	vm_map_unlock(&map);
	vm_map_destroy(&map);
}
