/*
 * vm_map_verify: every invariant of a map, checked from scratch (debug code, for the
 * tests: host Check suites and the guest's ktests). Nothing here trusts a cached field:
 * heights, gaps and largest gaps are recomputed from the entries and compared.
 */
#include "vm/vm_map.h"

struct vm_map_verify_state {
	struct vm_map *vmv_map;
	char *vmv_buf;
	size_t vmv_size;
	const char *vmv_err;            /* the first failure, in vmv_buf */
	struct vm_map_entry *vmv_inorder;  /* the list entry the in-order walk expects next */
	int vmv_count;
};

#define VMV_FAIL(st, ...) do {                                                     \
	if ((st)->vmv_err == NULL) {                                               \
		snprintf((st)->vmv_buf, (st)->vmv_size, __VA_ARGS__);               \
		(st)->vmv_err = (st)->vmv_buf;                                     \
	}                                                                          \
} while (0)

/*
 * Walk the subtree in order, comparing with the list; return its height and, in *mf,
 * its largest gap, both recomputed.
 */
static int vm_map_verify_subtree(struct vm_map_verify_state *st, struct vm_map_entry *e,
    struct vm_map_entry *parent, int depth, vm_size_t *mf)
{
	int hl, hr;
	vm_size_t mfl = 0, mfr = 0;

	*mf = 0;
	if (e == NULL || st->vmv_err != NULL)
		return 0;
	if (depth > 128) {
		VMV_FAIL(st, "vm_map_verify: tree deeper than 128 (a cycle?)");
		return 0;
	}
	if (e->vme_parent != parent)
		VMV_FAIL(st, "vm_map_verify: entry %#lx: parent link is wrong",
		    (unsigned long)e->vme_start);
	hl = vm_map_verify_subtree(st, e->vme_left, e, depth + 1, &mfl);
	if (st->vmv_inorder != e)
		VMV_FAIL(st, "vm_map_verify: tree order: entry %#lx where the list has %#lx",
		    (unsigned long)e->vme_start, (unsigned long)st->vmv_inorder->vme_start);
	st->vmv_inorder = e->vme_next;
	st->vmv_count++;
	hr = vm_map_verify_subtree(st, e->vme_right, e, depth + 1, &mfr);
	if (hl - hr > 1 || hr - hl > 1)
		VMV_FAIL(st, "vm_map_verify: entry %#lx: unbalanced, heights %d and %d",
		    (unsigned long)e->vme_start, hl, hr);
	if (e->vme_height != 1 + MAX(hl, hr))
		VMV_FAIL(st, "vm_map_verify: entry %#lx: height %d, recomputed %d",
		    (unsigned long)e->vme_start, e->vme_height, 1 + MAX(hl, hr));
	*mf = MAX(e->vme_adj_free, MAX(mfl, mfr));
	if (e->vme_max_free != *mf)
		VMV_FAIL(st, "vm_map_verify: entry %#lx: max_free %#lx, recomputed %#lx",
		    (unsigned long)e->vme_start, (unsigned long)e->vme_max_free,
		    (unsigned long)*mf);
	return 1 + MAX(hl, hr);
}

const char *vm_map_verify(struct vm_map *map, char *buf, size_t size)
{
	struct vm_map_verify_state st = { map, buf, size, NULL, NULL, 0 };
	struct vm_map_entry *h = &map->vmap_header, *e;
	vm_size_t mapped = 0, mf;
	int n = 0;

	vm_map_assert_locked(map);
	/* The list: in order, inside the bounds, gaps right, links both ways. */
	if (h->vme_adj_free != h->vme_next->vme_start - h->vme_end)
		VMV_FAIL(&st, "vm_map_verify: gap before the first entry %#lx, should be %#lx",
		    (unsigned long)h->vme_adj_free,
		    (unsigned long)(h->vme_next->vme_start - h->vme_end));
	for (e = h->vme_next; e != h && st.vmv_err == NULL; e = e->vme_next) {
		if (e->vme_next->vme_prev != e || e->vme_prev->vme_next != e)
			VMV_FAIL(&st, "vm_map_verify: entry %#lx: list links broken",
			    (unsigned long)e->vme_start);
		if (e->vme_start >= e->vme_end || ((e->vme_start | e->vme_end) & PAGE_MASK) != 0)
			VMV_FAIL(&st, "vm_map_verify: entry [%#lx, %#lx): empty or unaligned",
			    (unsigned long)e->vme_start, (unsigned long)e->vme_end);
		if (e->vme_start < e->vme_prev->vme_end || e->vme_start < vm_map_min(map) ||
		    e->vme_end > vm_map_max(map))
			VMV_FAIL(&st, "vm_map_verify: entry [%#lx, %#lx): overlaps its "
			    "predecessor or leaves the map", (unsigned long)e->vme_start,
			    (unsigned long)e->vme_end);
		if (e->vme_adj_free != e->vme_next->vme_start - e->vme_end)
			VMV_FAIL(&st, "vm_map_verify: entry %#lx: gap %#lx, should be %#lx",
			    (unsigned long)e->vme_start, (unsigned long)e->vme_adj_free,
			    (unsigned long)(e->vme_next->vme_start - e->vme_end));
		if (e->vme_user_wired > 1 || (e->vme_protection & ~e->vme_max_protection) != 0)
			VMV_FAIL(&st, "vm_map_verify: entry %#lx: user wiring %u, protection %#x "
			    "beyond maximum %#x", (unsigned long)e->vme_start, e->vme_user_wired,
			    e->vme_protection, e->vme_max_protection);
		mapped += e->vme_end - e->vme_start;
		n++;
	}
	if (st.vmv_err != NULL)
		return st.vmv_err;
	if (n != map->vmap_nentries || mapped != map->vmap_size)
		VMV_FAIL(&st, "vm_map_verify: %d entries of %#lx bytes, the map counts %d of %#lx",
		    n, (unsigned long)mapped, map->vmap_nentries, (unsigned long)map->vmap_size);
	/* The tree: the same entries in the same order, balanced, augmentation exact. */
	st.vmv_inorder = h->vme_next;
	vm_map_verify_subtree(&st, map->vmap_root, NULL, 0, &mf);
	if (st.vmv_err == NULL && (st.vmv_count != n || st.vmv_inorder != h))
		VMV_FAIL(&st, "vm_map_verify: the tree holds %d entries, the list %d",
		    st.vmv_count, n);
	return st.vmv_err;
}
