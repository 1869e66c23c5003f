/*
 * The shadow-chain model (object_model.h). The model is deliberately naive: arrays of
 * page tags per object, the collapse rules applied to them step by step.
 */
#include "vm/vm_object.h"
#include "tests/vmtests/object_model.h"

#define OM_MAX  4
#define OM_SIZE 16

struct om_obj {
	struct vm_object *o;        /* the real object */
	bool alive;
	int ref, backing;           /* backing: index or -1 */
	vm_pindex_t off;            /* pages */
	uint64_t tag[OM_SIZE];      /* 0: no page */
};

static struct om_obj om[OM_MAX];
static int om_n;

static uint64_t om_rand(uint64_t *s)
{
	/* xorshift64: the same sequence on the host and in the guest. */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int om_shadow_count(int b)
{
	int n = 0;

	for (int i = 0; i < om_n; i++)
		n += om[i].alive && om[i].backing == b;
	return n;
}

static void om_collapse(int o)
{
	for (;;) {
		int b = om[o].backing;
		if (b < 0)
			return;
		if (om[b].ref == 1) {
			for (vm_pindex_t p = 0; p < OM_SIZE; p++) {
				if (om[b].tag[p] == 0)
					continue;
				if (p >= om[o].off && p - om[o].off < OM_SIZE &&
				    om[o].tag[p - om[o].off] == 0)
					om[o].tag[p - om[o].off] = om[b].tag[p];
				om[b].tag[p] = 0;
			}
			om[o].backing = om[b].backing;
			om[o].off += om[b].off;
			om[b].alive = false;
			om[b].ref = 0;
			continue;
		}
		for (vm_pindex_t p = om[o].off; p < OM_SIZE && p - om[o].off < OM_SIZE; p++)
			if (om[b].tag[p] != 0 && om[o].tag[p - om[o].off] == 0)
				return;
		if (om[b].backing >= 0)
			om[om[b].backing].ref++;
		om[o].backing = om[b].backing;
		om[o].off += om[b].off;
		om[b].ref--;
	}
}

static void om_deallocate(int i)
{
	while (i >= 0) {
		if (--om[i].ref == 0) {
			int b = om[i].backing;
			om[i].alive = false;
			om[i].backing = -1;
			for (int p = 0; p < OM_SIZE; p++)
				om[i].tag[p] = 0;
			i = b;
			continue;
		}
		if (om[i].ref != 1 || om_shadow_count(i) != 1)
			return;
		int r = 0;
		while (!(om[r].alive && om[r].backing == i))
			r++;
		om[r].ref++;
		om_collapse(r);
		i = r;
	}
}

/* The real object holds exactly the model's pages. */
static bool om_check(int i, char *err, size_t errlen)
{
	struct vm_object *o = om[i].o;
	uint64_t n = 0, want = 0;
	bool ok = true;

	for (int p = 0; p < OM_SIZE; p++)
		want += om[i].tag[p] != 0;
	vm_object_lock(o);
	for (vm_page_t m = vm_page_find_least(o, 0); m != NULL && ok; m = vm_page_next(m)) {
		uint64_t tag = *(uint64_t *)VM_PAGE_TO_DMAP(m);
		if (m->object != o || m->pindex >= OM_SIZE || om[i].tag[m->pindex] != tag) {
			snprintf(err, errlen, "object %d: page at %llu has tag %#llx, model %#llx",
			    i, (unsigned long long)m->pindex, (unsigned long long)tag,
			    m->pindex < OM_SIZE ? (unsigned long long)om[i].tag[m->pindex] : 0ull);
			ok = false;
		}
		n++;
	}
	if (ok && (n != want || o->vo_resident_page_count != want)) {
		snprintf(err, errlen, "object %d: %llu pages listed, %llu counted, model %llu", i,
		    (unsigned long long)n, (unsigned long long)o->vo_resident_page_count,
		    (unsigned long long)want);
		ok = false;
	}
	if (ok && (o->vo_ref_count != (uint32_t)om[i].ref ||
	    (o->vo_backing_object == NULL) != (om[i].backing < 0) ||
	    (om[i].backing >= 0 && (o->vo_backing_object != om[om[i].backing].o ||
	    o->vo_backing_object_offset != ptoa(om[i].off))))) {
		snprintf(err, errlen, "object %d: ref %u (model %d) or backing differs", i,
		    o->vo_ref_count, om[i].ref);
		ok = false;
	}
	vm_object_unlock(o);
	return ok;
}

const char *vmt_object_chain_run(uint64_t seed, int depth, char *err, size_t errlen)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 7;
	uint64_t free0;
	int order[OM_MAX];

	/* UMA's own zones (kegs, slabs, buckets) come with the first zone ever made and
	 * stay: make and drop an object with a page first, so the baseline has them. */
	struct vm_object *warm = vm_object_allocate(OBJT_DEFAULT, 1);
	vm_object_lock(warm);
	vm_page_xunbusy(vm_page_grab(warm, 0, VM_ALLOC_SYSTEM | VM_ALLOC_WAITOK));
	vm_object_unlock(warm);
	vm_object_deallocate(warm);
	free0 = vm_page_free_count();
	err[0] = '\0';
	om_n = depth;
	for (int i = 0; i < depth; i++) {
		om[i] = (struct om_obj){ .alive = true, .ref = 1, .backing = -1 };
		if (i == 0) {
			om[i].o = vm_object_allocate(OBJT_DEFAULT, OM_SIZE);
		} else {
			/* The shadow takes a reference on the one below: the test's handle on
			 * that one is another. */
			struct vm_object *o = om[i - 1].o;
			vm_ooffset_t off = ptoa(om_rand(&s) % 3);
			vm_object_reference(o);
			om[i - 1].ref++;
			om[i].off = atop(off);
			om[i].backing = i - 1;
			vm_object_shadow(&o, &off, ptoa(OM_SIZE));
			om[i].o = o;
		}
	}
	for (int i = 0; i < depth; i++) {
		vm_object_lock(om[i].o);
		for (vm_pindex_t p = 0; p < OM_SIZE; p++) {
			if (om_rand(&s) % 2 == 0)
				continue;
			vm_page_t m = vm_page_grab(om[i].o, p, VM_ALLOC_SYSTEM | VM_ALLOC_WAITOK);
			om[i].tag[p] = (seed << 16) | ((uint64_t)i << 8) | p | 0x8000;
			*(uint64_t *)VM_PAGE_TO_DMAP(m) = om[i].tag[p];
			vm_page_xunbusy(m);
		}
		vm_object_unlock(om[i].o);
	}
	for (int i = 0; i < depth; i++)
		order[i] = i;
	for (int i = depth - 1; i > 0; i--) {
		int j = (int)(om_rand(&s) % (uint64_t)(i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < depth; k++) {
		for (int i = 0; i < depth; i++)
			if (om[i].alive && !om_check(i, err, errlen))
				return err;
		vm_object_deallocate(om[order[k]].o);
		om_deallocate(order[k]);
	}
	for (int i = 0; i < depth; i++)
		if (om[i].alive) {
			snprintf(err, errlen, "object %d alive in the model at the end", i);
			return err;
		}
	if (vm_object_count() != 0 || vm_radix_nodes_allocated() != 0)
		snprintf(err, errlen, "%d objects, %d trie nodes left", vm_object_count(),
		    vm_radix_nodes_allocated());
	else if (vm_page_free_count() != free0)
		snprintf(err, errlen, "free pages %llu, %llu before",
		    (unsigned long long)vm_page_free_count(), (unsigned long long)free0);
	return err[0] != '\0' ? err : NULL;
}
