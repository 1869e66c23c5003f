/*
 * The vm_radix model (radix_model.h). The pages are stand-ins in a static array: the
 * trie reads only their pindex, and a real page would have to come out of the allocator
 * and go back for nothing.
 */
#include "vm/vm_radix.h"
#include "tests/vmtests/radix_model.h"

#define RM_NKEYS 384

static struct vm_page rm_pages[RM_NKEYS];
static bool rm_in[RM_NKEYS];

static uint64_t rm_rand(uint64_t *s)
{
	/* xorshift64: the same sequence on the host and in the guest. */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Distinct keys: a dense run from 0, a run near 2^32, sparse random keys, the top key. */
static void rm_keys(uint64_t *s)
{
	for (int i = 0; i < RM_NKEYS; i++) {
		vm_pindex_t k;
		bool dup;
		do {
			if (i < 160)
				k = (vm_pindex_t)i;
			else if (i < 240)
				k = (UINT64_C(1) << 32) - 40 + (vm_pindex_t)(i - 160);
			else if (i == RM_NKEYS - 1)
				k = UINT64_MAX;
			else
				k = rm_rand(s) >> (rm_rand(s) % 60);
			dup = false;
			for (int j = 0; j < i && !dup; j++)
				dup = rm_pages[j].pindex == k;
		} while (dup);
		rm_pages[i] = (struct vm_page){ .pindex = k };
		rm_in[i] = false;
	}
}

/* The brute-force neighbour of q. */
static vm_page_t rm_brute(vm_pindex_t q, bool ge)
{
	vm_page_t best = NULL;

	for (int i = 0; i < RM_NKEYS; i++) {
		vm_pindex_t k = rm_pages[i].pindex;
		if (!rm_in[i] || (ge ? k < q : k > q))
			continue;
		if (best == NULL || (ge ? k < best->pindex : k > best->pindex))
			best = &rm_pages[i];
	}
	return best;
}

#define RM_FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); goto out; } while (0)

const char *vmt_radix_model_run(uint64_t seed, int steps, char *err, size_t errlen)
{
	struct vm_radix rt;
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	int n = 0, nodes0 = vm_radix_nodes_allocated();

	err[0] = '\0';
	rm_keys(&s);
	vm_radix_init(&rt);
	for (int step = 0; step < steps; step++) {
		int i = (int)(rm_rand(&s) % RM_NKEYS);
		vm_page_t m = &rm_pages[i];
		/* Inserts outnumber removes early on so the trie grows, then they balance. */
		bool ins = rm_rand(&s) % 100 < (step < steps / 3 ? 75u : 50u);
		if (ins) {
			int rv = vm_radix_insert(&rt, m);
			if (rv != (rm_in[i] ? EEXIST : 0))
				RM_FAIL("step %d: insert %#llx returned %d (present %d)", step,
				    (unsigned long long)m->pindex, rv, rm_in[i]);
			n += !rm_in[i];
			rm_in[i] = true;
		} else if (i < 200 && rm_rand(&s) % 4 == 0) {
			/* A run: the present pages among the next few keys of a dense run
			 * (ascending, with gaps), as the daemon frees a laundered run. */
			vm_page_t run[40];
			int nrun = 0, len = 1 + (int)(rm_rand(&s) % 40);
			int lim = i < 160 ? 160 : 240;
			for (int j = i; j < i + len && j < lim; j++)
				if (rm_in[j])
					run[nrun++] = &rm_pages[j];
			vm_radix_remove_pages(&rt, run, nrun);
			for (int j = 0; j < nrun; j++) {
				int k = (int)(run[j] - rm_pages);
				rm_in[k] = false;
				n--;
				if (vm_radix_lookup(&rt, run[j]->pindex) != NULL)
					RM_FAIL("step %d: run removal left %#llx", step,
					    (unsigned long long)run[j]->pindex);
			}
		} else {
			vm_page_t r = vm_radix_remove(&rt, m->pindex);
			if (r != (rm_in[i] ? m : NULL))
				RM_FAIL("step %d: remove %#llx returned %p (present %d)", step,
				    (unsigned long long)m->pindex, (void *)r, rm_in[i]);
			n -= rm_in[i];
			rm_in[i] = false;
		}
		if (vm_radix_lookup(&rt, m->pindex) != (rm_in[i] ? m : NULL))
			RM_FAIL("step %d: lookup %#llx wrong", step, (unsigned long long)m->pindex);
		for (int k = 0; k < 2; k++) {
			vm_pindex_t q = rm_pages[rm_rand(&s) % RM_NKEYS].pindex;
			q += (vm_pindex_t)(rm_rand(&s) % 3) - 1;        /* the key, or beside it */
			if (k == 1 && step % 2 == 0)
				q = rm_rand(&s);
			for (int ge = 0; ge < 2; ge++) {
				vm_page_t got = ge ? vm_radix_lookup_ge(&rt, q) :
				    vm_radix_lookup_le(&rt, q);
				if (got != rm_brute(q, ge))
					RM_FAIL("step %d: lookup_%s(%#llx) = %#llx, want %#llx", step,
					    ge ? "ge" : "le", (unsigned long long)q,
					    got ? (unsigned long long)got->pindex : 0ull,
					    rm_brute(q, ge) ? (unsigned long long)rm_brute(q, ge)->pindex :
					    0ull);
			}
		}
		int nodes = vm_radix_nodes_allocated() - nodes0;
		if (nodes > (n > 0 ? n - 1 : 0))
			RM_FAIL("step %d: %d nodes for %d pages", step, nodes, n);
		if (step % 64 == 0) {
			int seen = 0;
			vm_page_t prev = NULL;
			for (vm_page_t p = vm_radix_iter_next(&rt, NULL); p != NULL;
			    p = vm_radix_iter_next(&rt, p)) {
				if (prev != NULL && p->pindex <= prev->pindex)
					RM_FAIL("step %d: walk out of order", step);
				prev = p;
				seen++;
			}
			if (seen != n)
				RM_FAIL("step %d: walk saw %d of %d pages", step, seen, n);
		}
	}
	/* Empty it both ways: half by removal, the rest by reclaiming the nodes. */
	for (int i = 0; i < RM_NKEYS / 2; i++)
		if (rm_in[i] && vm_radix_remove(&rt, rm_pages[i].pindex) != &rm_pages[i])
			RM_FAIL("teardown: remove %#llx failed",
			    (unsigned long long)rm_pages[i].pindex);
out:
	vm_radix_reclaim_allnodes(&rt);
	if (err[0] == '\0' && vm_radix_nodes_allocated() != nodes0)
		snprintf(err, errlen, "%d nodes left after reclaim",
		    vm_radix_nodes_allocated() - nodes0);
	vm_radix_fini(&rt);
	return err[0] != '\0' ? err : NULL;
}
