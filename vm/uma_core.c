/*
 * UMA core: zones, kegs, slabs, buckets and the per-CPU caches.
 *
 * The paths an allocation can take, cheapest first:
 *
 *   1. fast: the CPU's alloc bucket has an item            critical section only
 *   2. the CPU's free bucket has items: swap the two        critical section only
 *   3. a full bucket from the zone's list                   zone lock
 *   4. fill a bucket from the keg's slabs                   keg lock
 *   5. a new slab: pages from vm_page                       no lock (may sleep)
 *   6. at the zone's limit: fail (M_NOWAIT) or sleep on the zone until a free (M_WAITOK)
 *
 * and a free mirrors it: the CPU's alloc bucket if it has room (LIFO: the item just freed
 * is the next one handed out, still warm in the cache), else its free bucket, else the
 * full free bucket goes to the zone's list and an empty one comes back. Zones without
 * buckets (UMA_ZONE_NOBUCKET, tiny limits) go straight to the keg both ways.
 *
 * Locking and field tags: see uma_int.h. The per-CPU caches are touched only by their
 * CPU inside a critical section; another CPU asks for a drain with uc_drain_req, which
 * the owner honours when it next leaves the fast path.
 */
#include "vm/memguard.h"
#include "vm/uma_int.h"
#include "vm/vm_dump.h"
#include "vm/vm_lowmem.h"
#include "vm/vm_page.h"
#include "vm/vm_startup.h"

struct uma_bucket uma_bucket_none;

static struct mtx uma_mtx;
static struct uma_zone *uma_zones_first;        /* (u) creation order */
static struct uma_zone **uma_zones_tailp;       /* (u) */
static struct uma_keg *uma_kegs;                /* (u) */
static bool uma_up;
static int uma_ncpus;
static size_t uma_zone_struct_size;
static uint64_t uma_boot_npages;                /* (u) */

static uma_zone_t uma_zones_zone;       /* (u) struct uma_zone + per-CPU caches */
static uma_zone_t uma_kegs_zone;        /* (u) struct uma_keg; set last (uma_bootstrap) */
static uma_zone_t uma_slabs_zone;       /* (u) off-page slab headers; made on first use */

/* UMA's own zones other than the two above: no caches, serve the VM itself. */
#define UMA_ZONE_FLAGS_INTERNAL (UMA_ZONE_ONPAGE | UMA_ZONE_NOBUCKET | UMA_ZONE_VM | \
	UMA_ZONE_INTERNAL)

/* Bucket zones: a bucket is a 16-byte header and ub_entries pointers. Each zone is made
 * when the first bucket of its size is asked for (uma_zcreate_once). */
struct uma_bucket_zone {
	uma_zone_t ubz_zone;                /* (u) NULL until first used */
	uint32_t ubz_entries;
	const char *ubz_name;
};
static struct uma_bucket_zone uma_bucket_zones[] = {
	{ NULL, 2, "UMA Buckets 2" },
	{ NULL, 6, "UMA Buckets 6" },
	{ NULL, 14, "UMA Buckets 14" },
	{ NULL, 30, "UMA Buckets 30" },
	{ NULL, 62, "UMA Buckets 62" },
	{ NULL, 126, "UMA Buckets 126" },
};
#define UMA_NBUCKETZONES ((int)nitems(uma_bucket_zones))

/* Why an import from the keg got nothing. */
enum uma_err { UMA_OK, UMA_ERR_NOMEM, UMA_ERR_LIMIT, UMA_ERR_INIT };

/* How long a sleeper on the limit waits before looking again by itself: covers an item
 * freed into another CPU's cache just as the sleeper arrived. */
#define UMA_LIMIT_SLEEP_NS      (10ull * 1000 * 1000)

/* Drain requests to other CPUs lapse after this long: a CPU that never touches the zone
 * again keeps its (bounded) cache rather than sending every operation on the zone down
 * the slow path for good. */
#define UMA_DRAIN_REQ_NS        (1000ull * 1000 * 1000)

static void zone_release(uma_zone_t zone, void **items, int n);
static bool uma_bootstrap(int mflags);
static void bucket_free(struct uma_bucket *b);
static void zone_fast_update(uma_zone_t zone);

/* Zone and statistics names: bounded, NUL-terminated, and no printf machinery. */
static void uma_name_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n > len - 1)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool uma_is_up(void)
{
	return uma_up;
}

/* ---- pages and slabs ------------------------------------------------------------- */

uintptr_t uma_kmem_owner(const void *va)
{
	vm_page_t m = PHYS_TO_VM_PAGE(vm_dmap_to_phys(va));

	KASSERT(m != NULL, ("uma_kmem_owner: %p is not in managed RAM", va));
	return m->kmem_owner;
}

struct uma_slab *uma_vtoslab(const void *item)
{
	uintptr_t owner = uma_kmem_owner(item);

	KASSERT(owner != 0 && (owner & KMEM_OWNER_TAGGED) == 0,
	    ("uma_vtoslab: %p is not in a UMA slab (owner %#lx)", item, (unsigned long)owner));
	return (struct uma_slab *)owner;
}

/* Every page UMA owns is in a minidump (zones, kegs, slabs and what they hold: procs,
 * threads, map entries, objects); a page it gives back leaves it. */
static void uma_set_owner(vm_page_t m, uint64_t npages, uintptr_t owner)
{
	for (uint64_t i = 0; i < npages; i++)
		m[i].kmem_owner = owner;
	if (owner != 0)
		dump_add_pages(VM_PAGE_TO_PHYS(m), npages);
	else
		dump_drop_pages(VM_PAGE_TO_PHYS(m), npages);
}

/*
 * Pages for a slab (or UMA's boot area): npages contiguous, wired, with the keg's zeroing.
 * => no UMA lock held; may sleep with M_WAITOK. Returns NULL only with M_NOWAIT (or when
 *    a multi-page run cannot be found at all).
 */
static vm_page_t uma_pages_alloc(uint64_t npages, int flags, uint32_t zflags)
{
	int req = malloc2vm_flags(flags) | VM_ALLOC_WIRED;
	vm_page_t m;

	if ((zflags & UMA_ZONE_VM) && (flags & M_NOWAIT))
		req = (req & ~VM_ALLOC_CLASS_MASK) | VM_ALLOC_INTERRUPT;
	if (zflags & UMA_ZONE_ZINIT)
		req |= VM_ALLOC_ZERO;
	if (npages == 1)
		return vm_page_alloc_noobj(req);
	m = vm_page_alloc_noobj_contig(req, npages, 0, ~(vm_paddr_t)0, PAGE_SIZE, 0);
	if (m == NULL && (flags & M_WAITOK)) {
		/* A run may be missing while single pages are not: give back caches, retry. */
		uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
		vm_page_drain_caches();
		m = vm_page_alloc_noobj_contig(req, npages, 0, ~(vm_paddr_t)0, PAGE_SIZE, 0);
	}
	return m;
}

static void uma_pages_free(vm_page_t m, uint64_t npages)
{
	uma_set_owner(m, npages, 0);
	if (npages == 1)
		vm_page_free(m);
	else
		vm_page_free_contig(m, npages);
}

static void slab_list_insert(struct uma_slab_list *l, struct uma_slab *s)
{
	s->us_next = l->usl_first;
	if (s->us_next != NULL)
		s->us_next->us_prevp = &s->us_next;
	s->us_prevp = &l->usl_first;
	l->usl_first = s;
}

static void slab_list_remove(struct uma_slab *s)
{
	*s->us_prevp = s->us_next;
	if (s->us_next != NULL)
		s->us_next->us_prevp = s->us_prevp;
	s->us_next = NULL;
	s->us_prevp = NULL;
}

/* The list a slab belongs on for its free count. => keg locked. */
static struct uma_slab_list *keg_slab_list(struct uma_keg *keg, struct uma_slab *s)
{
	if (s->us_freecount == 0)
		return &keg->uk_full_slabs;
	if (s->us_freecount == keg->uk_ipers)
		return &keg->uk_free_slabs;
	return &keg->uk_part_slabs;
}

static inline void *slab_item(struct uma_keg *keg, struct uma_slab *s, uint32_t i)
{
	return s->us_data + (size_t)i * keg->uk_rsize;
}

/* Run the keg's fini on every item and give the slab's pages (and header) back. */
static void keg_free_slab(struct uma_keg *keg, struct uma_slab *s)
{
	vm_page_t m = PHYS_TO_VM_PAGE(vm_dmap_to_phys((void *)trunc_page((uintptr_t)s->us_data)));
	bool offpage = (s->us_flags & UMA_SLAB_OFFPAGE) != 0;

	if (keg->uk_fini != NULL)
		for (uint32_t i = 0; i < keg->uk_ipers; i++)
			keg->uk_fini(slab_item(keg, s, i), (int)keg->uk_size);
	uma_pages_free(m, keg->uk_ppera);
	if (offpage)
		uma_zfree(uma_slabs_zone, s);
}

/*
 * Make a new slab: pages, header, bitmap, kmem_owner of every page, keg init of every
 * item. A failing init finishes the items already initialised and frees everything.
 * => no lock held; may sleep with M_WAITOK. *errp says why on NULL.
 */
static struct uma_slab *keg_alloc_slab(struct uma_keg *keg, int flags, enum uma_err *errp)
{
	vm_page_t m;
	struct uma_slab *s;
	uint8_t *base;
	uint32_t i;

	m = uma_pages_alloc(keg->uk_ppera, flags & (M_WAITOK | M_NOWAIT | M_USE_RESERVE),
	    keg->uk_flags);
	if (m == NULL) {
		*errp = UMA_ERR_NOMEM;
		return NULL;
	}
	base = VM_PAGE_TO_DMAP(m);
	if (keg->uk_offpage) {
		uma_zone_t sz = uma_zcreate_once(&uma_slabs_zone, "UMA Slabs",
		    UMA_SLAB_HDR(UMA_OFFPAGE_MAXITEMS), UMA_ALIGN_PTR, UMA_ZONE_FLAGS_INTERNAL,
		    flags & (M_WAITOK | M_NOWAIT));
		s = sz == NULL ? NULL : uma_zalloc(sz, flags & (M_WAITOK | M_NOWAIT));
		if (s == NULL) {
			uma_pages_free(m, keg->uk_ppera);
			*errp = UMA_ERR_NOMEM;
			return NULL;
		}
	} else {
		s = (struct uma_slab *)(base + keg->uk_hdroff);
	}
	s->us_next = NULL;
	s->us_prevp = NULL;
	s->us_keg = keg;
	/* Colour: successive slabs start their items a cache line (or alignment) further
	 * into the space the layout leaves over, so that the first items of different
	 * slabs -- zone structures, buckets, hot objects -- do not all sit at the same
	 * offset in their pages, where they would alias in the caches and in the CPU's
	 * store-to-load forwarding (4 KiB aliasing). */
	uint32_t color = __atomic_fetch_add(&keg->uk_color_next, 1, __ATOMIC_RELAXED) %
	    keg->uk_ncolors;
	s->us_data = base + (size_t)color * keg->uk_color_step;
	s->us_freecount = keg->uk_ipers;
	s->us_flags = keg->uk_offpage ? UMA_SLAB_OFFPAGE : 0;
	for (i = 0; i < (keg->uk_ipers + 63) / 64; i++)
		s->us_free[i] = ~0ull;
	if (keg->uk_ipers % 64 != 0)
		s->us_free[keg->uk_ipers / 64] = (1ull << (keg->uk_ipers % 64)) - 1;
	uma_set_owner(m, keg->uk_ppera, (uintptr_t)s);

	if (keg->uk_init != NULL) {
		for (i = 0; i < keg->uk_ipers; i++)
			if (keg->uk_init(slab_item(keg, s, i), (int)keg->uk_size, flags) != 0)
				break;
		if (i < keg->uk_ipers) {
			while (i-- > 0)
				if (keg->uk_fini != NULL)
					keg->uk_fini(slab_item(keg, s, i), (int)keg->uk_size);
			uma_pages_free(m, keg->uk_ppera);
			if (keg->uk_offpage)
				uma_zfree(uma_slabs_zone, s);
			*errp = UMA_ERR_INIT;
			return NULL;
		}
	}
	return s;
}

/*
 * Take up to max free items from the keg's slabs, making one new slab when none has a
 * free item. Returns how many (0 with *errp set).
 * => no lock held; may sleep with M_WAITOK.
 */
static int keg_alloc_items(struct uma_keg *keg, void **items, int max, int flags,
    enum uma_err *errp)
{
	struct uma_slab *s;
	int n = 0;

	mtx_lock(&keg->uk_lock);
	while (n < max) {
		s = keg->uk_part_slabs.usl_first;
		if (s == NULL)
			s = keg->uk_free_slabs.usl_first;
		if (s == NULL) {
			if (n > 0)
				break;
			mtx_unlock(&keg->uk_lock);
			s = keg_alloc_slab(keg, flags, errp);
			mtx_lock(&keg->uk_lock);
			if (s == NULL)
				break;
			keg->uk_pages += keg->uk_ppera;
			keg->uk_free += keg->uk_ipers;
			keg->uk_nslabs++;
			slab_list_insert(&keg->uk_free_slabs, s);
		}
		slab_list_remove(s);
		for (uint32_t w = 0; n < max && s->us_freecount > 0; w++) {
			while (n < max && s->us_free[w] != 0) {
				uint32_t bit = (uint32_t)__builtin_ctzll(s->us_free[w]);
				s->us_free[w] &= ~(1ull << bit);
				items[n++] = slab_item(keg, s, w * 64 + bit);
				s->us_freecount--;
				keg->uk_free--;
			}
		}
		slab_list_insert(keg_slab_list(keg, s), s);
	}
	mtx_unlock(&keg->uk_lock);
	return n;
}

/* Give items back to their slabs (pages stay until a reclaim). Panics on a double
 * free or a pointer that is not an item of this keg. => no lock held. */
static void keg_free_items(struct uma_keg *keg, void **items, int n)
{
	mtx_lock(&keg->uk_lock);
	for (int i = 0; i < n; i++) {
		struct uma_slab *s = uma_vtoslab(items[i]);
		size_t off = (size_t)((uint8_t *)items[i] - s->us_data);
		uint32_t idx = (uint32_t)(off / keg->uk_rsize);

		KASSERT(s->us_keg == keg, ("keg_free_items: %p belongs to another keg",
		    items[i]));
		KASSERT(off % keg->uk_rsize == 0 && idx < keg->uk_ipers,
		    ("keg_free_items: %p is not an item start", items[i]));
		KASSERT((s->us_free[idx / 64] & (1ull << (idx % 64))) == 0,
		    ("keg_free_items: %p freed twice", items[i]));
		slab_list_remove(s);
		s->us_free[idx / 64] |= 1ull << (idx % 64);
		s->us_freecount++;
		keg->uk_free++;
		slab_list_insert(keg_slab_list(keg, s), s);
	}
	mtx_unlock(&keg->uk_lock);
}

/* Free every all-free slab unless the keg is type-stable (or force). => no lock held. */
static uint64_t keg_drain(struct uma_keg *keg, bool force)
{
	struct uma_slab *list, *s;
	uint64_t pages = 0;

	if ((keg->uk_flags & UMA_ZONE_NOFREE) && !force)
		return 0;
	mtx_lock(&keg->uk_lock);
	list = keg->uk_free_slabs.usl_first;
	keg->uk_free_slabs.usl_first = NULL;
	for (s = list; s != NULL; s = s->us_next) {
		keg->uk_pages -= keg->uk_ppera;
		keg->uk_free -= keg->uk_ipers;
		keg->uk_nslabs--;
		pages += keg->uk_ppera;
	}
	mtx_unlock(&keg->uk_lock);
	while ((s = list) != NULL) {
		list = s->us_next;
		keg_free_slab(keg, s);
	}
	return pages;
}

/* ---- keg layout ------------------------------------------------------------------- */

/* Items that fit in `total` bytes with the header on the slab: n*rsize <= hdroff. */
static uint32_t keg_ipers_onpage(uint32_t rsize, uint32_t total, uint32_t *hdroffp)
{
	uint32_t n = (uint32_t)((total - UMA_SLAB_HDR(0)) / rsize);

	while (n > 0) {
		uint32_t hdroff = (uint32_t)rounddown2(total - UMA_SLAB_HDR(n), 8);
		if ((uint64_t)n * rsize <= hdroff) {
			*hdroffp = hdroff;
			return n;
		}
		n--;
	}
	return 0;
}

/*
 * Choose, once, how the keg lays out a slab: pages per slab, items per slab, and whether
 * the header lives on the slab or off it. The header goes off the page when keeping it on
 * the page costs an item and wastes more than a tenth of the slab (or when asked).
 * Items larger than half a page take several pages, the fewest that waste at most 1/8.
 */
static void keg_layout(struct uma_keg *keg, uint32_t flags)
{
	uint32_t rsize = keg->uk_rsize, best_ppera = 0, best_n = 0, best_hdroff = 0;
	bool best_off = false;
	uint64_t best_waste = UINT64_MAX;
	uint32_t max_ppera = rsize <= PAGE_SIZE / 2 ? 1 : UMA_MAX_PPERA;

	KASSERT(rsize <= UMA_MAX_PPERA * PAGE_SIZE, ("keg_layout: item size %u too large",
	    rsize));
	for (uint32_t ppera = 1; ppera <= max_ppera; ppera++) {
		uint32_t total = (uint32_t)(ppera * PAGE_SIZE), hdroff = 0;
		uint32_t n_on = keg_ipers_onpage(rsize, total, &hdroff);
		uint32_t n_off = MIN(total / rsize, UMA_OFFPAGE_MAXITEMS);
		bool off;

		if (flags & UMA_ZONE_OFFPAGE)
			off = true;
		else if (flags & UMA_ZONE_ONPAGE)
			off = false;
		else
			off = n_off > n_on && (uint64_t)(total - n_on * rsize) * 10 > total;
		uint32_t n = off ? n_off : n_on;
		if (n == 0)
			continue;
		/* Waste per item, scaled, so slab sizes compare fairly. */
		uint64_t waste = ((uint64_t)(total - n * rsize) << 16) / total;
		if (waste < best_waste) {
			best_waste = waste;
			best_ppera = ppera;
			best_n = n;
			best_off = off;
			best_hdroff = hdroff;
		}
		if (waste * 8 <= (1u << 16))
			break;
	}
	KASSERT(best_n > 0, ("keg_layout: no layout for items of %u bytes (flags %#x)", rsize,
	    flags));
	keg->uk_ppera = best_ppera;
	keg->uk_ipers = best_n;
	keg->uk_offpage = best_off;
	keg->uk_hdroff = best_off ? 0 : best_hdroff;
	/* Colours: what the items leave of their space (before an on-page header), in
	 * steps that keep the alignment, within the first page. */
	uint32_t room = (best_off ? best_ppera * (uint32_t)PAGE_SIZE : best_hdroff) -
	    best_n * rsize;
	keg->uk_color_step = MAX((uint32_t)UMA_CACHE_LINE, keg->uk_align + 1);
	keg->uk_ncolors = MIN(room, (uint32_t)PAGE_SIZE - 1) / keg->uk_color_step + 1;
	keg->uk_color_next = keg->uk_ncolors > 1 ? 1 : 0;  /* the first slab coloured too */
}

static void keg_setup(struct uma_keg *keg, size_t size, int align, uint32_t flags,
    uma_init init, uma_fini fini)
{
	KASSERT(size > 0 && size <= UMA_MAX_PPERA * PAGE_SIZE,
	    ("keg_setup: bad item size %zu", size));
	KASSERT(align >= 0 && powerof2((uint32_t)align + 1) && (uint32_t)align < PAGE_SIZE,
	    ("keg_setup: bad alignment mask %d", align));
	memset(keg, 0, sizeof(*keg));
	mtx_init(&keg->uk_lock, "uma keg");
	keg->uk_size = (uint32_t)size;
	keg->uk_align = (uint32_t)align;
	keg->uk_rsize = (uint32_t)roundup2(size, (size_t)align + 1);
	keg->uk_flags = flags;
	keg->uk_init = init;
	keg->uk_fini = fini;
	keg_layout(keg, flags);
}

/* ---- buckets ----------------------------------------------------------------------- */

static struct uma_bucket_zone *bucket_zone_of(uint32_t entries)
{
	for (int i = 0; i < UMA_NBUCKETZONES; i++)
		if (uma_bucket_zones[i].ubz_entries == entries)
			return &uma_bucket_zones[i];
	panic("bucket_zone_of: no bucket zone of %u entries", entries);
}

/* Default bucket size for items of rsize bytes: small items, big buckets. */
static uint32_t bucket_select(uint32_t rsize, uint32_t flags)
{
	if (flags & UMA_ZONE_NOBUCKET)
		return 0;
	if ((flags & UMA_ZONE_MAXBUCKET) || rsize <= 256)
		return 126;
	if (rsize <= 1024)
		return 62;
	if (rsize <= 2048)
		return 30;
	if (rsize <= PAGE_SIZE)
		return 14;
	return 6;
}

/* The largest bucket size whose caches cannot hold more than half of a limit. */
static uint32_t bucket_select_limited(uint32_t want, uint64_t max)
{
	uint64_t cap = max / (4 * (uint64_t)uma_ncpus);
	uint32_t best = 0;

	for (int i = 0; i < UMA_NBUCKETZONES; i++) {
		uint32_t e = uma_bucket_zones[i].ubz_entries;
		if (e <= want && e <= cap)
			best = e;
	}
	return best;
}

/* A bucket of `entries`, from its bucket zone (made now if this is the first). NULL
 * only with M_NOWAIT. */
static struct uma_bucket *bucket_alloc(uint32_t entries, int flags)
{
	struct uma_bucket_zone *ubz = bucket_zone_of(entries);
	struct uma_bucket *b;
	uma_zone_t z;

	flags &= M_WAITOK | M_NOWAIT;
	z = uma_zcreate_once(&ubz->ubz_zone, ubz->ubz_name,
	    UMA_BUCKET_HDR + entries * sizeof(void *), UMA_ALIGN_PTR,
	    UMA_ZONE_NOBUCKET | UMA_ZONE_NOFREE | UMA_ZONE_VM | UMA_ZONE_INTERNAL, flags);
	b = z == NULL ? NULL : uma_zalloc(z, flags);
	if (b != NULL) {
		b->ub_cnt = 0;
		b->ub_entries = entries;
		b->ub_link = NULL;
	}
	return b;
}

static void bucket_free(struct uma_bucket *b)
{
	KASSERT(b != &uma_bucket_none && b->ub_cnt == 0,
	    ("bucket_free: bucket %p not empty (%u)", (void *)b, b->ub_cnt));
	uma_zfree(__atomic_load_n(&bucket_zone_of(b->ub_entries)->ubz_zone, __ATOMIC_ACQUIRE),
	    b);
}

/* Empty a bucket into the keg and free it. */
static void bucket_drain_free(uma_zone_t zone, struct uma_bucket *b)
{
	if (b == &uma_bucket_none)
		return;
	if (b->ub_cnt > 0)
		zone_release(zone, b->ub_bucket, (int)b->ub_cnt);
	b->ub_cnt = 0;
	bucket_free(b);
}

/*
 * Put a bucket on the zone's lists: full ones (any item) on the full list unless it is
 * long enough already, empty ones on the empty list unless it is. What does not fit is
 * drained and freed.
 */
static void zone_put_bucket(uma_zone_t zone, struct uma_bucket *b)
{
	bool keep;

	mtx_lock(&zone->uz_lock);
	if (b->ub_cnt > 0) {
		keep = zone->uz_nfull < zone->uz_bucket_max_full;
		if (keep) {
			b->ub_link = zone->uz_full;
			zone->uz_full = b;
			zone->uz_nfull++;
			zone->uz_full_items += b->ub_cnt;
		}
	} else {
		keep = zone->uz_nempty < zone->uz_bucket_max_full;
		if (keep) {
			b->ub_link = zone->uz_empty;
			zone->uz_empty = b;
			zone->uz_nempty++;
		}
	}
	mtx_unlock(&zone->uz_lock);
	if (!keep)
		bucket_drain_free(zone, b);
}

static struct uma_bucket *zone_take_bucket(uma_zone_t zone, bool full)
{
	struct uma_bucket *b;

	mtx_lock(&zone->uz_lock);
	if (full) {
		b = zone->uz_full;
		if (b != NULL) {
			zone->uz_full = b->ub_link;
			zone->uz_nfull--;
			zone->uz_full_items -= b->ub_cnt;
		}
	} else {
		b = zone->uz_empty;
		if (b != NULL) {
			zone->uz_empty = b->ub_link;
			zone->uz_nempty--;
		}
	}
	mtx_unlock(&zone->uz_lock);
	if (b != NULL)
		b->ub_link = NULL;
	return b;
}

/* Free the zone's bucket lists, items back to the keg. */
static void zone_drain_buckets(uma_zone_t zone)
{
	struct uma_bucket *full, *empty, *b;

	mtx_lock(&zone->uz_lock);
	full = zone->uz_full;
	empty = zone->uz_empty;
	zone->uz_full = zone->uz_empty = NULL;
	zone->uz_nfull = zone->uz_nempty = 0;
	zone->uz_full_items = 0;
	mtx_unlock(&zone->uz_lock);
	while ((b = full) != NULL) {
		full = b->ub_link;
		bucket_drain_free(zone, b);
	}
	while ((b = empty) != NULL) {
		empty = b->ub_link;
		bucket_drain_free(zone, b);
	}
}

/* ---- zone <-> keg: imports, releases, the limit ------------------------------------- */

/* Reserve up to want items under the limit; returns how many (0: at the limit). */
static int zone_limit_reserve(uma_zone_t zone, int want)
{
	uint64_t max = __atomic_load_n(&zone->uz_max, __ATOMIC_RELAXED);
	uint64_t cur = __atomic_load_n(&zone->uz_items, __ATOMIC_RELAXED);

	if (max == 0) {
		__atomic_fetch_add(&zone->uz_items, (uint64_t)want, __ATOMIC_SEQ_CST);
		return want;
	}
	for (;;) {
		if (cur >= max)
			return 0;
		uint64_t take = MIN((uint64_t)want, max - cur);
		if (__atomic_compare_exchange_n(&zone->uz_items, &cur, cur + take, false,
		    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			return (int)take;
	}
}

/* Give back n reserved items and wake sleepers on the limit. */
static void zone_limit_unreserve(uma_zone_t zone, int n)
{
	if (n == 0)
		return;
	__atomic_fetch_sub(&zone->uz_items, (uint64_t)n, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&zone->uz_sleepers, __ATOMIC_SEQ_CST) != 0) {
		mtx_lock(&zone->uz_lock);
		vm_wakeup(zone);
		mtx_unlock(&zone->uz_lock);
	}
}

/* uz_fast for the zone's state. => zone locked, or the zone not yet published. */
static uint32_t zone_fast_compute(uma_zone_t zone)
{
	uint32_t f = 0;

	if (zone->uz_ctor != NULL)
		f |= UZ_FAST_CTOR;
	if (zone->uz_dtor != NULL || zone->uz_sleepers != 0)
		f |= UZ_FAST_FREE_SLOW;
	if (zone->uz_drain_pending != 0)
		f |= UZ_FAST_DRAIN;
	if (zone->uz_memguard)
		f |= UZ_FAST_MEMGUARD;
	return f;
}

/* Recompute uz_fast from the zone's state. => zone locked. */
static void zone_fast_update(uma_zone_t zone)
{
	mtx_assert_owned(&zone->uz_lock);
	__atomic_store_n(&zone->uz_fast, zone_fast_compute(zone), __ATOMIC_SEQ_CST);
}

/*
 * Sleep until the zone is below its limit (or the safety timeout). While anyone sleeps,
 * frees skip the per-CPU caches (UZ_FAST_FREE_SLOW) so the item reaches the sleeper.
 * => no lock held; may sleep.
 */
static void zone_limit_sleep(uma_zone_t zone)
{
	mtx_lock(&zone->uz_lock);
	__atomic_fetch_add(&zone->uz_sleepers, 1, __ATOMIC_SEQ_CST);
	zone_fast_update(zone);
	if (__atomic_load_n(&zone->uz_items, __ATOMIC_SEQ_CST) >=
	    __atomic_load_n(&zone->uz_max, __ATOMIC_RELAXED) && zone->uz_max != 0) {
		/* Only another thread's free could end the sleep. */
		if (!vm_plat_others_can_free())
			panic("uma_zalloc: zone %s is at its limit of %llu items: a sleeping "
			    "request waits for an item to be freed, and nothing else runs "
			    "to free one", zone->uz_name, (unsigned long long)zone->uz_max);
		zone->uz_sleeps++;
		vm_sleep(zone, &zone->uz_lock, "zonelimit", UMA_LIMIT_SLEEP_NS);
	}
	__atomic_sub_fetch(&zone->uz_sleepers, 1, __ATOMIC_SEQ_CST);
	zone_fast_update(zone);
	mtx_unlock(&zone->uz_lock);
}

/*
 * Move up to max items from the keg into the zone (counting them against the limit and
 * running the zone's init on each; items whose init fails go back). Returns how many,
 * 0 with *errp set. => no lock held; may sleep with M_WAITOK.
 */
static int zone_import(uma_zone_t zone, void **items, int max, int flags, enum uma_err *errp)
{
	int want, got, i, j;

	want = zone_limit_reserve(zone, max);
	if (want == 0) {
		*errp = UMA_ERR_LIMIT;
		return 0;
	}
	got = keg_alloc_items(zone->uz_keg, items, want, flags, errp);
	if (zone->uz_init != NULL) {
		for (i = j = 0; i < got; i++) {
			if (zone->uz_init(items[i], (int)zone->uz_size, flags) == 0)
				items[j++] = items[i];
			else
				keg_free_items(zone->uz_keg, &items[i], 1);
		}
		if (j == 0 && got > 0)
			*errp = UMA_ERR_INIT;
		got = j;
	}
	zone_limit_unreserve(zone, want - got);
	return got;
}

/* Move items from the zone back to the keg (zone fini first). => no lock held. */
static void zone_release(uma_zone_t zone, void **items, int n)
{
	if (zone->uz_fini != NULL)
		for (int i = 0; i < n; i++)
			zone->uz_fini(items[i], (int)zone->uz_size);
	keg_free_items(zone->uz_keg, items, n);
	zone_limit_unreserve(zone, n);
}

/* ---- per-CPU caches ---------------------------------------------------------------- */

/* Drain the calling CPU's cache of zone (and clear its drain request). */
static void cache_drain_self(uma_zone_t zone)
{
	struct uma_cache *cache;
	struct uma_bucket *a, *f;

	critical_enter();
	cache = &zone->uz_cpu[vm_curcpu()];
	a = cache->uc_allocbucket;
	f = cache->uc_freebucket;
	cache->uc_allocbucket = &uma_bucket_none;
	cache->uc_freebucket = &uma_bucket_none;
	bool requested = __atomic_exchange_n(&cache->uc_drain_req, 0, __ATOMIC_SEQ_CST) != 0;
	critical_exit();
	bucket_drain_free(zone, a);
	bucket_drain_free(zone, f);
	if (requested) {
		mtx_lock(&zone->uz_lock);
		zone->uz_drain_pending--;
		zone_fast_update(zone);
		mtx_unlock(&zone->uz_lock);
	}
}

/* Cancel the drain requests still pending past their deadline. */
static void cache_drain_expire(uma_zone_t zone)
{
	mtx_lock(&zone->uz_lock);
	if (zone->uz_drain_pending != 0 && vm_nanotime() >= zone->uz_drain_deadline) {
		for (int cpu = 0; cpu < uma_ncpus; cpu++)
			if (__atomic_exchange_n(&zone->uz_cpu[cpu].uc_drain_req, 0,
			    __ATOMIC_SEQ_CST) != 0)
				zone->uz_drain_pending--;
		zone_fast_update(zone);
	}
	mtx_unlock(&zone->uz_lock);
}

/* Honour a drain request for the calling CPU, if there is one; let old ones lapse. */
static void cache_drain_if_requested(uma_zone_t zone)
{
	int cpu;

	critical_enter();
	cpu = vm_curcpu();
	bool req = __atomic_load_n(&zone->uz_cpu[cpu].uc_drain_req, __ATOMIC_RELAXED) != 0;
	critical_exit();
	if (req)
		cache_drain_self(zone);
	else
		cache_drain_expire(zone);
}

/*
 * Enter a critical section and return the calling CPU's cache, after honouring a drain
 * request another CPU posted for it: a slow path must never refill or stash into a cache
 * that was asked to empty itself.
 * => returns inside a critical section; may drain (take locks, free pages) before that.
 */
static struct uma_cache *cache_enter(uma_zone_t zone)
{
	for (;;) {
		critical_enter();
		struct uma_cache *cache = &zone->uz_cpu[vm_curcpu()];
		if (__predict_true(__atomic_load_n(&cache->uc_drain_req, __ATOMIC_RELAXED) == 0))
			return cache;
		critical_exit();
		cache_drain_self(zone);
	}
}

/* Drain every CPU's cache: only when nobody else can use the zone (destroy). */
static void cache_drain_all_quiesced(uma_zone_t zone)
{
	for (int cpu = 0; cpu < uma_ncpus; cpu++) {
		struct uma_cache *cache = &zone->uz_cpu[cpu];
		struct uma_bucket *a = cache->uc_allocbucket, *f = cache->uc_freebucket;

		cache->uc_allocbucket = &uma_bucket_none;
		cache->uc_freebucket = &uma_bucket_none;
		if (cache->uc_drain_req) {
			cache->uc_drain_req = 0;
			mtx_lock(&zone->uz_lock);
			zone->uz_drain_pending--;
			zone_fast_update(zone);
			mtx_unlock(&zone->uz_lock);
		}
		bucket_drain_free(zone, a);
		bucket_drain_free(zone, f);
	}
}

static void cache_count(uma_zone_t zone, int which)
{
	critical_enter();
	struct uma_cache *cache = &zone->uz_cpu[vm_curcpu()];
	if (which == 0)
		cache->uc_allocs++;
	else if (which == 1)
		cache->uc_frees++;
	else
		cache->uc_fails++;
	critical_exit();
}

/* ---- allocation -------------------------------------------------------------------- */

/* An item left the caches: zero it if asked, run the ctor. A failing ctor sends the
 * item back to the keg (no dtor) and turns the allocation into a failure. */
static void *zone_alloc_finish(uma_zone_t zone, void *item, void *udata, int flags)
{
	if (__atomic_load_n(&zone->uz_fast, __ATOMIC_RELAXED) & UZ_FAST_DRAIN)
		cache_drain_if_requested(zone);
	if (flags & M_ZERO)
		memset(item, 0, zone->uz_size);
	if (zone->uz_ctor != NULL && zone->uz_ctor(item, (int)zone->uz_size, udata, flags) != 0) {
		critical_enter();
		struct uma_cache *cache = &zone->uz_cpu[vm_curcpu()];
		cache->uc_allocs--;
		cache->uc_fails++;
		critical_exit();
		zone_release(zone, &item, 1);
		return NULL;
	}
	return item;
}

/* One item straight from the keg (zones without buckets). */
static void *zone_alloc_item(uma_zone_t zone, void *udata, int flags)
{
	enum uma_err err = UMA_OK;
	void *item;

	for (;;) {
		if (zone_import(zone, &item, 1, flags, &err) == 1)
			break;
		if ((flags & M_NOWAIT) || err == UMA_ERR_INIT) {
			cache_count(zone, 2);
			return NULL;
		}
		if (err == UMA_ERR_LIMIT) {
			zone_limit_sleep(zone);
		} else {
			/* No run of pages for a multi-page slab even after a reclaim:
			 * let frees happen before trying again, if anything can free. */
			if (!vm_plat_others_can_free())
				panic("uma_zalloc: zone %s: out of memory: a sleeping request "
				    "waits for a run of %u pages for a slab, and nothing else "
				    "runs to free memory", zone->uz_name,
				    zone->uz_keg->uk_ppera);
			mtx_lock(&zone->uz_lock);
			vm_sleep(zone, &zone->uz_lock, "zonemem", UMA_LIMIT_SLEEP_NS);
			mtx_unlock(&zone->uz_lock);
		}
	}
	cache_count(zone, 0);
	return zone_alloc_finish(zone, item, udata, flags);
}

/*
 * A bucket with items for the calling CPU: a full one from the zone's list, else an
 * empty one (from the list or new) filled from the keg. NULL with *errp on failure.
 */
static struct uma_bucket *zone_fetch_bucket(uma_zone_t zone, int flags, enum uma_err *errp)
{
	struct uma_bucket *b;
	uint32_t want;
	int n;

	b = zone_take_bucket(zone, true);
	if (b != NULL)
		return b;
	want = __atomic_load_n(&zone->uz_bucket_size, __ATOMIC_RELAXED);
	if (want == 0) {
		*errp = UMA_ERR_LIMIT;      /* buckets turned off meanwhile: go direct */
		return NULL;
	}
	b = zone_take_bucket(zone, false);
	if (b == NULL) {
		b = bucket_alloc(want, flags);
		if (b == NULL) {
			*errp = UMA_ERR_NOMEM;
			return NULL;
		}
	}
	n = zone_import(zone, b->ub_bucket, (int)MIN(want, b->ub_entries), flags, errp);
	if (n == 0) {
		zone_put_bucket(zone, b);
		return NULL;
	}
	b->ub_cnt = (uint32_t)n;
	return b;
}

static void *__attribute__((noinline)) zone_alloc_slow(uma_zone_t zone, void *udata,
    int flags)
{
	struct uma_cache *cache;
	struct uma_bucket *b, *old;
	enum uma_err err;
	void *item;

	KASSERT(((flags & M_WAITOK) != 0) != ((flags & M_NOWAIT) != 0),
	    ("uma_zalloc_arg: %s: give exactly one of M_WAITOK and M_NOWAIT (%#x)",
	    zone->uz_name, flags));
	for (;;) {
		cache = cache_enter(zone);
		b = cache->uc_allocbucket;
		if (b->ub_cnt == 0 && cache->uc_freebucket->ub_cnt != 0) {
			cache->uc_allocbucket = cache->uc_freebucket;
			cache->uc_freebucket = b;
			b = cache->uc_allocbucket;
		}
		if (b->ub_cnt != 0) {
			item = b->ub_bucket[--b->ub_cnt];
			cache->uc_allocs++;
			critical_exit();
			return zone_alloc_finish(zone, item, udata, flags);
		}
		if (zone->uz_bucket_size == 0) {
			critical_exit();
			return zone_alloc_item(zone, udata, flags);
		}
		/* Both buckets empty: hand the empty one to the zone, fetch a full one. */
		old = b;
		cache->uc_allocbucket = &uma_bucket_none;
		critical_exit();
		if (old != &uma_bucket_none)
			zone_put_bucket(zone, old);

		err = UMA_OK;
		b = zone_fetch_bucket(zone, flags, &err);
		if (b == NULL) {
			/* Buckets turned off by a new limit, or none to be had: go direct. */
			if (__atomic_load_n(&zone->uz_bucket_size, __ATOMIC_RELAXED) == 0 ||
			    (err == UMA_ERR_NOMEM && (flags & M_WAITOK)))
				return zone_alloc_item(zone, udata, flags);
			if (err == UMA_ERR_LIMIT && (flags & M_WAITOK)) {
				zone_limit_sleep(zone);
				continue;
			}
			cache_count(zone, 2);
			return NULL;
		}
		critical_enter();
		cache = &zone->uz_cpu[vm_curcpu()];
		if (cache->uc_allocbucket == &uma_bucket_none) {
			cache->uc_allocbucket = b;
			b = NULL;
		} else if (cache->uc_allocbucket->ub_cnt == 0) {
			old = cache->uc_allocbucket;
			cache->uc_allocbucket = b;
			b = old;
		}
		critical_exit();
		if (b != NULL)
			zone_put_bucket(zone, b);
	}
}

/*
 * The cached path: pop the CPU's alloc bucket in a critical section. Everything else
 * (empty bucket, ctor, M_ZERO) is out of line. fast: zone->uz_fast as loaded.
 */
static inline void *zone_alloc_cached(uma_zone_t zone, void *udata, int flags,
    uint32_t fast)
{
	struct uma_cache *cache;
	struct uma_bucket *b;
	uint32_t cnt;
	void *item;

	critical_enter();
	cache = &zone->uz_cpu[vm_curcpu()];
	b = cache->uc_allocbucket;
	cnt = b->ub_cnt;
	if (__predict_true(cnt != 0)) {
		cnt--;
		item = b->ub_bucket[cnt];
		b->ub_cnt = cnt;
		cache->uc_allocs++;
		critical_exit();
		if (__predict_false(((fast | (uint32_t)flags) &
		    (UZ_FAST_ALLOC_MASK | M_ZERO)) != 0))
			return zone_alloc_finish(zone, item, udata, flags);
		return item;
	}
	critical_exit();
	return zone_alloc_slow(zone, udata, flags);
}

/* Count a guarded allocation (ok) or failure, or a guarded free, in the CPU's cache,
 * so the zone's statistics include guarded items. */
static void zone_memguard_count(uma_zone_t zone, int what)
{
	critical_enter();
	struct uma_cache *cache = &zone->uz_cpu[vm_curcpu()];
	if (what > 0)
		cache->uc_allocs++;
	else if (what < 0)
		cache->uc_frees++;
	else
		cache->uc_fails++;
	critical_exit();
}

/*
 * An item of a zone MemGuard guards: its own page(s) in MemGuard's arena, through the
 * keg's init, the zone's init, M_ZERO and the ctor as a cached item would have gone.
 * The size is the keg's stride when the zone asks for more alignment than MemGuard
 * gives (the stride is a multiple of it, so the item, which ends at its page's end, is
 * aligned). => NULL with *served false: MemGuard had no room, use the caches; NULL with
 * *served true: an init or the ctor failed.
 */
static void *zone_memguard_alloc(uma_zone_t zone, void *udata, int flags, bool *served)
{
	struct uma_keg *keg = zone->uz_keg;
	size_t size = keg->uk_align + 1 > MEMGUARD_ALIGN ? keg->uk_rsize : zone->uz_size;
	void *item;

	*served = false;
	item = memguard_alloc(size, flags, zone->uz_name, MEMGUARD_KIND_ZONE);
	if (item == NULL)
		return NULL;
	*served = true;
	if (keg->uk_init != NULL && keg->uk_init(item, (int)keg->uk_size, flags) != 0)
		goto fail;
	if (zone->uz_init != NULL && zone->uz_init(item, (int)zone->uz_size, flags) != 0)
		goto fail_keg;
	/* MemGuard zeroed the fresh pages; zero again only what an init wrote. */
	if ((flags & M_ZERO) && (keg->uk_init != NULL || zone->uz_init != NULL))
		memset(item, 0, zone->uz_size);
	if (zone->uz_ctor != NULL && zone->uz_ctor(item, (int)zone->uz_size, udata, flags) != 0) {
		if (zone->uz_fini != NULL)
			zone->uz_fini(item, (int)zone->uz_size);
		goto fail_keg;
	}
	zone_memguard_count(zone, 1);
	return item;
fail_keg:
	if (keg->uk_fini != NULL)
		keg->uk_fini(item, (int)keg->uk_size);
fail:
	(void)memguard_free(item);
	zone_memguard_count(zone, 0);
	return NULL;
}

/* A zone MemGuard named once: guarded if it still is, else the cached path. */
static void *__attribute__((noinline)) zone_alloc_guarded(uma_zone_t zone, void *udata,
    int flags)
{
	bool served;
	void *item;

	if (!(zone->uz_flags & UMA_ZONE_INTERNAL) && memguard_cmp_name(zone->uz_name)) {
		item = zone_memguard_alloc(zone, udata, flags, &served);
		if (served)
			return item;
	}
	return zone_alloc_cached(zone, udata, flags,
	    __atomic_load_n(&zone->uz_fast, __ATOMIC_RELAXED));
}

/* The fast path: the cached one, unless MemGuard ever named the zone (one test). */
void *uma_zalloc_arg(uma_zone_t zone, void *udata, int flags)
{
	uint32_t fast = __atomic_load_n(&zone->uz_fast, __ATOMIC_RELAXED);

	if (__predict_false(fast & UZ_FAST_MEMGUARD))
		return zone_alloc_guarded(zone, udata, flags);
	return zone_alloc_cached(zone, udata, flags, fast);
}

/* ---- free ---------------------------------------------------------------------------- */

static void zone_free_item(uma_zone_t zone, void *item)
{
	zone_release(zone, &item, 1);
	cache_count(zone, 1);
}

static void __attribute__((noinline)) zone_free_slow(uma_zone_t zone, void *item,
    void *udata, bool dtor_done)
{
	struct uma_cache *cache;
	struct uma_bucket *b, *full, *nb;

	if (!dtor_done && zone->uz_dtor != NULL)
		zone->uz_dtor(item, (int)zone->uz_size, udata);
	if (__predict_false(memguard_owns(item))) {
		/* A guarded item: the zone's and the keg's fini, then its pages go (a use
		 * after free faults, naming the zone). */
		KASSERT(zone->uz_memguard, ("uma_zfree: %p is MemGuard's, not zone %s's",
		    item, zone->uz_name));
		if (zone->uz_fini != NULL)
			zone->uz_fini(item, (int)zone->uz_size);
		if (zone->uz_keg->uk_fini != NULL)
			zone->uz_keg->uk_fini(item, (int)zone->uz_keg->uk_size);
		(void)memguard_free(item);
		zone_memguard_count(zone, -1);
		return;
	}
	if (__atomic_load_n(&zone->uz_fast, __ATOMIC_RELAXED) & UZ_FAST_DRAIN)
		cache_drain_if_requested(zone);
	if (zone->uz_bucket_size == 0 ||
	    __atomic_load_n(&zone->uz_sleepers, __ATOMIC_SEQ_CST) != 0) {
		zone_free_item(zone, item);
		return;
	}
	for (;;) {
		cache = cache_enter(zone);
		b = cache->uc_allocbucket;
		if (b->ub_cnt >= b->ub_entries)
			b = cache->uc_freebucket;
		if (b->ub_cnt < b->ub_entries) {
			b->ub_bucket[b->ub_cnt++] = item;
			cache->uc_frees++;
			critical_exit();
			return;
		}
		/* Both full (or missing): trade the free bucket for an empty one. */
		full = cache->uc_freebucket;
		cache->uc_freebucket = &uma_bucket_none;
		critical_exit();
		if (full != &uma_bucket_none)
			zone_put_bucket(zone, full);
		nb = zone_take_bucket(zone, false);
		if (nb == NULL) {
			uint32_t want = __atomic_load_n(&zone->uz_bucket_size, __ATOMIC_RELAXED);
			nb = want != 0 ? bucket_alloc(want, M_NOWAIT) : NULL;
			if (nb == NULL) {
				zone_free_item(zone, item);
				return;
			}
		}
		critical_enter();
		cache = &zone->uz_cpu[vm_curcpu()];
		if (cache->uc_freebucket == &uma_bucket_none) {
			cache->uc_freebucket = nb;
			nb = NULL;
		}
		critical_exit();
		if (nb != NULL)
			zone_put_bucket(zone, nb);
	}
}

/*
 * The fast path: push onto the CPU's alloc bucket (or its free bucket) in a critical
 * section. A dtor or sleepers on the limit send the free out of line.
 */
void uma_zfree_arg(uma_zone_t zone, void *item, void *udata)
{
	struct uma_cache *cache;
	struct uma_bucket *b;
	uint32_t cnt;

	if (__predict_false(item == NULL))
		return;
	if (__predict_false(__atomic_load_n(&zone->uz_fast, __ATOMIC_RELAXED) &
	    UZ_FAST_FREE_MASK)) {
		zone_free_slow(zone, item, udata, false);
		return;
	}
	critical_enter();
	cache = &zone->uz_cpu[vm_curcpu()];
	b = cache->uc_allocbucket;
	cnt = b->ub_cnt;
	if (__predict_false(cnt >= b->ub_entries)) {
		b = cache->uc_freebucket;
		cnt = b->ub_cnt;
		if (cnt >= b->ub_entries) {
			critical_exit();
			zone_free_slow(zone, item, udata, true);
			return;
		}
	}
	b->ub_bucket[cnt] = item;
	b->ub_cnt = cnt + 1;
	cache->uc_frees++;
	critical_exit();
}

/* MemGuard selected name (vm/memguard.h): zones of that name allocate through
 * zone_alloc_guarded from now on. Never sleeps. */
void uma_memguard_select(const char *name)
{
	mtx_lock(&uma_mtx);
	for (uma_zone_t zone = uma_zones_first; zone != NULL; zone = zone->uz_link) {
		if ((zone->uz_flags & UMA_ZONE_INTERNAL) || zone->uz_memguard ||
		    strcmp(zone->uz_name, name) != 0)
			continue;
		mtx_lock(&zone->uz_lock);
		zone->uz_memguard = true;
		zone_fast_update(zone);
		mtx_unlock(&zone->uz_lock);
	}
	mtx_unlock(&uma_mtx);
}

/* ---- zones: create, destroy ------------------------------------------------------- */

/* Set up a zone nobody can see yet (so no lock is needed). */
static void zone_setup(uma_zone_t zone, const char *name, struct uma_keg *keg,
    uma_ctor ctor, uma_dtor dtor, uma_init zinit, uma_fini zfini, uint32_t flags)
{
	memset(zone, 0, uma_zone_struct_size);
	uma_name_copy(zone->uz_name, sizeof(zone->uz_name), name);
	mtx_init(&zone->uz_lock, "uma zone");
	zone->uz_flags = flags;
	zone->uz_ctor = ctor;
	zone->uz_dtor = dtor;
	zone->uz_init = zinit;
	zone->uz_fini = zfini;
	zone->uz_keg = keg;
	zone->uz_size = keg->uk_size;
	zone->uz_memguard = !(flags & UMA_ZONE_INTERNAL) &&
	    __atomic_load_n(&memguard_enabled, __ATOMIC_RELAXED) && memguard_cmp_name(name);
	zone->uz_fast = zone_fast_compute(zone);
	zone->uz_bucket_size = bucket_select(keg->uk_rsize, flags);
	zone->uz_bucket_max_full = (uint32_t)(2 * uma_ncpus + 4);
	for (int cpu = 0; cpu < uma_ncpus; cpu++) {
		zone->uz_cpu[cpu].uc_allocbucket = &uma_bucket_none;
		zone->uz_cpu[cpu].uc_freebucket = &uma_bucket_none;
	}
}

/* Link a set-up zone (and a new keg) into the lists. => uma_mtx held. */
static void zone_link_locked(uma_zone_t zone, bool new_keg)
{
	struct uma_keg *keg = zone->uz_keg;

	mtx_assert_owned(&uma_mtx);
	zone->uz_link = NULL;
	*uma_zones_tailp = zone;
	uma_zones_tailp = &zone->uz_link;
	if (new_keg) {
		keg->uk_link = uma_kegs;
		uma_kegs = keg;
		keg->uk_primary = zone;
	}
	zone->uz_keg_next = keg->uk_zones;
	keg->uk_zones = zone;
	keg->uk_nzones++;
}

static void zone_link(uma_zone_t zone, bool new_keg)
{
	mtx_lock(&uma_mtx);
	zone_link_locked(zone, new_keg);
	mtx_unlock(&uma_mtx);
}

/* A zone on a new keg, not linked yet. NULL only with M_NOWAIT. */
static uma_zone_t zone_alloc_internal(const char *name, size_t size, uma_ctor ctor,
    uma_dtor dtor, uma_init init, uma_fini fini, int align, uint32_t flags, int mflags)
{
	struct uma_keg *keg;
	uma_zone_t zone;

	if (!uma_bootstrap(mflags))
		return NULL;
	keg = uma_zalloc(uma_kegs_zone, mflags);
	if (keg == NULL)
		return NULL;
	zone = uma_zalloc(uma_zones_zone, mflags);
	if (zone == NULL) {
		uma_zfree(uma_kegs_zone, keg);
		return NULL;
	}
	keg_setup(keg, size, align, flags, init, fini);
	zone_setup(zone, name, keg, ctor, dtor, NULL, NULL, flags);
	return zone;
}

/* Give back a zone and its keg that were never linked. */
static void zone_free_unlinked(uma_zone_t zone)
{
	mtx_destroy(&zone->uz_keg->uk_lock);
	uma_zfree(uma_kegs_zone, zone->uz_keg);
	mtx_destroy(&zone->uz_lock);
	uma_zfree(uma_zones_zone, zone);
}

static uma_zone_t zone_create_internal(const char *name, size_t size, uma_ctor ctor,
    uma_dtor dtor, uma_init init, uma_fini fini, int align, uint32_t flags)
{
	uma_zone_t zone = zone_alloc_internal(name, size, ctor, dtor, init, fini, align,
	    flags, M_WAITOK);

	zone_link(zone, true);
	return zone;
}

uma_zone_t uma_zcreate_once(uma_zone_t *slot, const char *name, size_t size, int align,
    uint32_t flags, int mflags)
{
	uma_zone_t zone = __atomic_load_n(slot, __ATOMIC_ACQUIRE), cur;

	if (__predict_true(zone != NULL))
		return zone;
	KASSERT(uma_up, ("uma_zcreate_once: %s: UMA is not up", name));
	/* Made without a lock (it may sleep), published under uma_mtx: of two racing
	 * makers one links its zone, the other frees its own, which nobody saw. */
	zone = zone_alloc_internal(name, size, NULL, NULL, NULL, NULL, align, flags, mflags);
	if (zone == NULL)
		return NULL;
	mtx_lock(&uma_mtx);
	cur = *slot;
	if (cur == NULL) {
		zone_link_locked(zone, true);
		__atomic_store_n(slot, zone, __ATOMIC_RELEASE);
	}
	mtx_unlock(&uma_mtx);
	if (cur == NULL)
		return zone;
	zone_free_unlinked(zone);
	return cur;
}

uma_zone_t uma_zcreate(const char *name, size_t size, uma_ctor ctor, uma_dtor dtor,
    uma_init init, uma_fini fini, int align, uint32_t flags)
{
	KASSERT(uma_up, ("uma_zcreate: %s: UMA is not up", name));
	KASSERT((flags & ~UMA_ZONE_PUBLIC_MASK) == 0,
	    ("uma_zcreate: %s: unknown flags %#x", name, flags));
	KASSERT((flags & (UMA_ZONE_ONPAGE | UMA_ZONE_OFFPAGE)) !=
	    (UMA_ZONE_ONPAGE | UMA_ZONE_OFFPAGE),
	    ("uma_zcreate: %s: ONPAGE and OFFPAGE together", name));
	return zone_create_internal(name, size, ctor, dtor, init, fini, align, flags);
}

uma_zone_t uma_zsecond_create(const char *name, uma_ctor ctor, uma_dtor dtor,
    uma_init zinit, uma_fini zfini, uma_zone_t primary)
{
	uma_zone_t zone;

	KASSERT(uma_up, ("uma_zsecond_create: %s: UMA is not up", name));
	KASSERT(primary != NULL && !(primary->uz_flags & UMA_ZONE_SECONDARY),
	    ("uma_zsecond_create: %s: the primary must be a primary zone", name));
	zone = uma_zalloc(uma_zones_zone, M_WAITOK);
	zone_setup(zone, name, primary->uz_keg, ctor, dtor, zinit, zfini,
	    (primary->uz_flags & UMA_ZONE_PUBLIC_MASK) | UMA_ZONE_SECONDARY);
	zone->uz_bucket_size = primary->uz_bucket_size;
	zone_link(zone, false);
	return zone;
}

void uma_zdestroy(uma_zone_t zone)
{
	struct uma_keg *keg = zone->uz_keg;
	uma_zone_t *zp;
	bool last;

	KASSERT(!(zone->uz_flags & UMA_ZONE_INTERNAL),
	    ("uma_zdestroy: %s is one of UMA's own zones", zone->uz_name));
	cache_drain_all_quiesced(zone);
	zone_drain_buckets(zone);
	KASSERT(__atomic_load_n(&zone->uz_items, __ATOMIC_SEQ_CST) == 0,
	    ("uma_zdestroy: %s still has %lu items allocated", zone->uz_name,
	    (unsigned long)zone->uz_items));

	mtx_lock(&uma_mtx);
	for (zp = &uma_zones_first; *zp != zone; zp = &(*zp)->uz_link)
		KASSERT(*zp != NULL, ("uma_zdestroy: %s is not on the zone list",
		    zone->uz_name));
	*zp = zone->uz_link;
	if (uma_zones_tailp == &zone->uz_link)
		uma_zones_tailp = zp;
	for (zp = &keg->uk_zones; *zp != zone; zp = &(*zp)->uz_keg_next)
		;
	*zp = zone->uz_keg_next;
	last = --keg->uk_nzones == 0;
	if (!last && keg->uk_primary == zone) {
		/* The oldest zone left on the keg answers for its items now. */
		uma_zone_t z = keg->uk_zones;
		while (z->uz_keg_next != NULL)
			z = z->uz_keg_next;
		keg->uk_primary = z;
	}
	if (last) {
		struct uma_keg **kp;
		for (kp = &uma_kegs; *kp != keg; kp = &(*kp)->uk_link)
			;
		*kp = keg->uk_link;
	}
	mtx_unlock(&uma_mtx);

	if (last) {
		KASSERT(keg->uk_part_slabs.usl_first == NULL &&
		    keg->uk_full_slabs.usl_first == NULL,
		    ("uma_zdestroy: %s: keg still has items in use", zone->uz_name));
		keg_drain(keg, true);
		mtx_destroy(&keg->uk_lock);
		uma_zfree(uma_kegs_zone, keg);
	}
	mtx_destroy(&zone->uz_lock);
	uma_zfree(uma_zones_zone, zone);
}

/* ---- limits, sizes, prealloc ------------------------------------------------------- */

int uma_zone_set_max(uma_zone_t zone, int nitems)
{
	uint32_t bsize;

	KASSERT(nitems >= 0, ("uma_zone_set_max: %s: negative limit", zone->uz_name));
	mtx_lock(&zone->uz_lock);
	__atomic_store_n(&zone->uz_max, (uint64_t)nitems, __ATOMIC_SEQ_CST);
	bsize = bucket_select(zone->uz_keg->uk_rsize, zone->uz_flags);
	if (nitems != 0)
		bsize = bucket_select_limited(bsize, (uint64_t)nitems);
	__atomic_store_n(&zone->uz_bucket_size, bsize, __ATOMIC_RELAXED);
	zone->uz_bucket_max_full = nitems != 0 ? (uint32_t)uma_ncpus :
	    (uint32_t)(2 * uma_ncpus + 4);
	mtx_unlock(&zone->uz_lock);
	/* Buckets of the old size would let the caches hold more than the limit allows. */
	uma_zone_reclaim(zone, UMA_RECLAIM_DRAIN_CPU);
	return nitems;
}

int uma_zone_get_max(uma_zone_t zone)
{
	return (int)__atomic_load_n(&zone->uz_max, __ATOMIC_RELAXED);
}

int uma_zone_get_cur(uma_zone_t zone)
{
	int64_t allocs = 0, frees = 0;

	for (int cpu = 0; cpu < uma_ncpus; cpu++) {
		allocs += (int64_t)__atomic_load_n(&zone->uz_cpu[cpu].uc_allocs, __ATOMIC_RELAXED);
		frees += (int64_t)__atomic_load_n(&zone->uz_cpu[cpu].uc_frees, __ATOMIC_RELAXED);
	}
	return allocs > frees ? (int)(allocs - frees) : 0;
}

size_t uma_zone_get_size(uma_zone_t zone)
{
	return zone->uz_size;
}

const char *uma_zone_get_name(uma_zone_t zone)
{
	return zone->uz_name;
}

void uma_prealloc(uma_zone_t zone, int nitems)
{
	struct uma_keg *keg = zone->uz_keg;
	enum uma_err err;

	for (;;) {
		mtx_lock(&keg->uk_lock);
		bool enough = keg->uk_free >= (uint64_t)nitems;
		mtx_unlock(&keg->uk_lock);
		if (enough)
			return;
		struct uma_slab *s = keg_alloc_slab(keg, M_WAITOK, &err);
		if (s == NULL)
			return;     /* the keg's init failed: nothing more to do */
		mtx_lock(&keg->uk_lock);
		keg->uk_pages += keg->uk_ppera;
		keg->uk_free += keg->uk_ipers;
		keg->uk_nslabs++;
		slab_list_insert(&keg->uk_free_slabs, s);
		mtx_unlock(&keg->uk_lock);
	}
}

/* ---- reclaim ----------------------------------------------------------------------- */

void uma_zone_reclaim(uma_zone_t zone, int req)
{
	KASSERT(req == UMA_RECLAIM_TRIM || req == UMA_RECLAIM_DRAIN ||
	    req == UMA_RECLAIM_DRAIN_CPU, ("uma_zone_reclaim: bad request %d", req));
	if (req == UMA_RECLAIM_DRAIN_CPU) {
		/* vm_curcpu() is only a hint outside a critical section; if this thread
		 * migrates, it posts a request for the CPU it left, which that CPU honours. */
		int self = vm_curcpu();
		mtx_lock(&zone->uz_lock);
		for (int cpu = 0; cpu < uma_ncpus; cpu++) {
			struct uma_cache *c = &zone->uz_cpu[cpu];
			if (cpu == self || __atomic_load_n(&c->uc_drain_req, __ATOMIC_RELAXED))
				continue;
			/* A cache with no buckets has nothing to give. */
			if (__atomic_load_n(&c->uc_allocbucket, __ATOMIC_RELAXED) ==
			    &uma_bucket_none &&
			    __atomic_load_n(&c->uc_freebucket, __ATOMIC_RELAXED) ==
			    &uma_bucket_none)
				continue;
			__atomic_store_n(&c->uc_drain_req, 1, __ATOMIC_SEQ_CST);
			zone->uz_drain_pending++;
		}
		zone->uz_drain_deadline = vm_nanotime() + UMA_DRAIN_REQ_NS;
		zone_fast_update(zone);
		mtx_unlock(&zone->uz_lock);
		cache_drain_self(zone);
	}
	zone_drain_buckets(zone);
	keg_drain(zone->uz_keg, false);
}

void uma_reclaim(int req)
{
	uma_zone_t zone;

	if (!uma_up)
		return;
	/* Bucket zones last: draining the others frees buckets into them. */
	mtx_lock(&uma_mtx);
	for (int pass = 0; pass < 2; pass++)
		for (zone = uma_zones_first; zone != NULL; zone = zone->uz_link) {
			bool internal = (zone->uz_flags & UMA_ZONE_INTERNAL) != 0;
			if ((zone->uz_flags & UMA_ZONE_NODRAIN) || internal != (pass == 1))
				continue;
			uma_zone_reclaim(zone, req);
		}
	mtx_unlock(&uma_mtx);
}

static void uma_lowmem(void *arg, int flags)
{
	(void)arg;
	(void)flags;
	uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
}

/* ---- statistics helpers (the stream is in uma_stats.c) ------------------------------ */

bool uma_zone_iter(uma_zone_t *zonep)
{
	mtx_lock(&uma_mtx);
	*zonep = *zonep == NULL ? uma_zones_first : (*zonep)->uz_link;
	mtx_unlock(&uma_mtx);
	return *zonep != NULL;
}

static void uma_zone_stats_fill(uma_zone_t zone, struct uma_zone_stat *zs,
    struct uma_percpu_stat *pcpu, int ncpu, bool wait);

void uma_zone_stats(uma_zone_t zone, struct uma_zone_stat *zs, struct uma_percpu_stat *pcpu,
    int ncpu)
{
	uma_zone_stats_fill(zone, zs, pcpu, ncpu, true);
}

void uma_zone_stats_nowait(uma_zone_t zone, struct uma_zone_stat *zs,
    struct uma_percpu_stat *pcpu, int ncpu)
{
	uma_zone_stats_fill(zone, zs, pcpu, ncpu, false);
}

/* A lock taken (wait), or only if it is free: racy reads of its words otherwise. */
static inline bool uma_stats_take(struct mtx *m, bool wait)
{
	if (wait) {
		mtx_lock(m);
		return true;
	}
	return mtx_trylock_unowned(m);
}

static void uma_zone_stats_fill(uma_zone_t zone, struct uma_zone_stat *zs,
    struct uma_percpu_stat *pcpu, int ncpu, bool wait)
{
	struct uma_keg *keg = zone->uz_keg;
	bool locked;

	memset(zs, 0, sizeof(*zs));
	uma_name_copy(zs->uzs_name, sizeof(zs->uzs_name), zone->uz_name);
	zs->uzs_size = zone->uz_size;
	zs->uzs_flags = zone->uz_flags;
	zs->uzs_ipers = keg->uk_ipers;
	zs->uzs_ppera = keg->uk_ppera;
	locked = uma_stats_take(&zone->uz_lock, wait);
	zs->uzs_limit = zone->uz_max;
	zs->uzs_zone_cached = zone->uz_full_items;
	zs->uzs_sleeps = zone->uz_sleeps;
	zs->uzs_bucket_size = zone->uz_bucket_size;
	if (locked)
		mtx_unlock(&zone->uz_lock);
	locked = uma_stats_take(&keg->uk_lock, wait);
	zs->uzs_pages = keg->uk_pages;
	zs->uzs_keg_free = keg->uk_free;
	if (locked)
		mtx_unlock(&keg->uk_lock);
	zs->uzs_items = __atomic_load_n(&zone->uz_items, __ATOMIC_SEQ_CST);
	/* Per-CPU fields are read without the owner's cooperation: exact when the zone is
	 * quiet, a snapshot otherwise. Bucket zones are type-stable, so a bucket pointer read
	 * here always points at some bucket's memory. */
	for (int cpu = 0; cpu < uma_ncpus; cpu++) {
		struct uma_cache *c = &zone->uz_cpu[cpu];
		struct uma_bucket *a = __atomic_load_n(&c->uc_allocbucket, __ATOMIC_ACQUIRE);
		struct uma_bucket *f = __atomic_load_n(&c->uc_freebucket, __ATOMIC_ACQUIRE);
		struct uma_percpu_stat s = {
			.ups_allocs = __atomic_load_n(&c->uc_allocs, __ATOMIC_RELAXED),
			.ups_frees = __atomic_load_n(&c->uc_frees, __ATOMIC_RELAXED),
			.ups_fails = __atomic_load_n(&c->uc_fails, __ATOMIC_RELAXED),
			.ups_cached = __atomic_load_n(&a->ub_cnt, __ATOMIC_RELAXED) +
			    __atomic_load_n(&f->ub_cnt, __ATOMIC_RELAXED),
		};
		zs->uzs_allocs += s.ups_allocs;
		zs->uzs_frees += s.ups_frees;
		zs->uzs_fails += s.ups_fails;
		zs->uzs_cpu_cached += s.ups_cached;
		if (pcpu != NULL && cpu < ncpu)
			pcpu[cpu] = s;
	}
	if (pcpu != NULL)
		for (int cpu = uma_ncpus; cpu < ncpu; cpu++)
			memset(&pcpu[cpu], 0, sizeof(pcpu[cpu]));
}

uint64_t uma_pages_boot(void)
{
	return __atomic_load_n(&uma_boot_npages, __ATOMIC_RELAXED);
}

uint64_t uma_pages_total(void)
{
	uint64_t pages = uma_boot_npages;

	mtx_lock(&uma_mtx);
	for (struct uma_keg *keg = uma_kegs; keg != NULL; keg = keg->uk_link) {
		mtx_lock(&keg->uk_lock);
		pages += keg->uk_pages;
		mtx_unlock(&keg->uk_lock);
	}
	mtx_unlock(&uma_mtx);
	return pages;
}

uint64_t uma_pages_nofree_idle(void)
{
	uint64_t pages = 0;

	mtx_lock(&uma_mtx);
	for (struct uma_keg *keg = uma_kegs; keg != NULL; keg = keg->uk_link) {
		if ((keg->uk_flags & UMA_ZONE_NOFREE) == 0)
			continue;
		mtx_lock(&keg->uk_lock);
		for (struct uma_slab *s = keg->uk_free_slabs.usl_first; s != NULL;
		    s = s->us_next)
			pages += keg->uk_ppera;
		mtx_unlock(&keg->uk_lock);
	}
	mtx_unlock(&uma_mtx);
	return pages;
}

int uma_stats_ncpus(void)
{
	return uma_ncpus;
}

/* For uma_stats.c: the zone list under uma_mtx. */
void uma_stats_lock(void)
{
	mtx_lock(&uma_mtx);
}
bool uma_stats_trylock(void)
{
	return mtx_trylock_unowned(&uma_mtx);
}
void uma_stats_unlock(void)
{
	mtx_unlock(&uma_mtx);
}
uma_zone_t uma_stats_first(void)
{
	return uma_zones_first;
}

/* ---- boot -------------------------------------------------------------------------- */

/*
 * UMA's own two zones, the zone of zones and the zone of kegs, made by the first zone
 * creation. Their structures cannot come from themselves, so they are carved from
 * bootstrap pages, counted in uma_pages_boot() and tagged KMEM_KIND_UMA_BOOT. Made
 * without a lock (the pages may take a sleep), published under uma_mtx: of two racing
 * first creations one links its pair, the other gives its pages back.
 * => returns false only with M_NOWAIT when no page is free; no lock held.
 */
static bool uma_bootstrap(int mflags)
{
	size_t kegsz = roundup2(sizeof(struct uma_keg), UMA_CACHE_LINE), bytes;
	uint64_t npages;
	vm_page_t m;
	uint8_t *p;
	bool won;

	if (__predict_true(__atomic_load_n(&uma_kegs_zone, __ATOMIC_ACQUIRE) != NULL))
		return true;
	KASSERT(uma_up, ("uma_bootstrap: UMA is not up"));

	/* Not zeroed: keg_setup and zone_setup write every byte they use. A buddy block
	 * (the run is unconstrained), not a per-CPU cache refill. */
	bytes = 2 * uma_zone_struct_size + 2 * kegsz;
	npages = round_page(bytes) / PAGE_SIZE;
	m = vm_page_alloc_noobj_contig(VM_ALLOC_SYSTEM | VM_ALLOC_WIRED |
	    ((mflags & M_WAITOK) ? VM_ALLOC_WAITOK : VM_ALLOC_NOWAIT), npages, 0,
	    ~(vm_paddr_t)0, PAGE_SIZE, 0);
	if (m == NULL) {
		if (mflags & M_WAITOK)
			panic("uma_bootstrap: no %lu pages for UMA's own zones",
			    (unsigned long)npages);
		return false;
	}
	uma_set_owner(m, 1, KMEM_OWNER_TAG(KMEM_KIND_UMA_BOOT, npages));
	uma_set_owner(m + 1, npages - 1, KMEM_OWNER_TAG(KMEM_KIND_UMA_BOOT, 0));
	p = VM_PAGE_TO_DMAP(m);

	uma_zone_t zz = (uma_zone_t)p, kz = (uma_zone_t)(p + uma_zone_struct_size);
	struct uma_keg *zk = (struct uma_keg *)(p + 2 * uma_zone_struct_size);
	struct uma_keg *kk = (struct uma_keg *)(p + 2 * uma_zone_struct_size + kegsz);

	keg_setup(zk, uma_zone_struct_size, UMA_ALIGN_CACHE, UMA_ZONE_FLAGS_INTERNAL, NULL,
	    NULL);
	zone_setup(zz, "UMA Zones", zk, NULL, NULL, NULL, NULL, UMA_ZONE_FLAGS_INTERNAL);
	keg_setup(kk, sizeof(struct uma_keg), UMA_ALIGN_CACHE, UMA_ZONE_FLAGS_INTERNAL, NULL,
	    NULL);
	zone_setup(kz, "UMA Kegs", kk, NULL, NULL, NULL, NULL, UMA_ZONE_FLAGS_INTERNAL);
	mtx_lock(&uma_mtx);
	won = uma_kegs_zone == NULL;
	if (won) {
		zone_link_locked(zz, true);
		zone_link_locked(kz, true);
		uma_boot_npages = npages;
		uma_zones_zone = zz;
		__atomic_store_n(&uma_kegs_zone, kz, __ATOMIC_RELEASE);
	}
	mtx_unlock(&uma_mtx);
	if (!won) {
		uma_pages_free(m, npages);
		return true;
	}
	/* From now on there are caches worth draining under memory pressure. */
	vm_lowmem_register(uma_lowmem, NULL);
	return true;
}

/*
 * Forget a previous boot (host tests re-boot the VM core): its memory went with the
 * previous simulated machine. A fresh kernel's .bss is this state already.
 */
void uma_reset(void)
{
	uma_up = false;
	uma_zones_first = NULL;
	uma_kegs = NULL;
	uma_zones_zone = NULL;
	uma_kegs_zone = NULL;
	uma_slabs_zone = NULL;
	uma_boot_npages = 0;
	for (int i = 0; i < UMA_NBUCKETZONES; i++)
		uma_bucket_zones[i].ubz_zone = NULL;
	memset(&uma_bucket_none, 0, sizeof(uma_bucket_none));
	mtx_init(&uma_mtx, "uma");
}

/*
 * Bring UMA up: the zone list, its lock, the per-CPU cache size. No zone: UMA's own
 * (uma_bootstrap), the slab-header zone and the bucket zones are made when first needed,
 * so boot costs a few dozen instructions on any machine. It finds the all-zero state
 * and an unlocked, all-zero lock (see vm_platform.h): a fresh kernel's .bss, or what
 * uma_reset left on a host re-boot (vm_startup_reset).
 */
void uma_startup(void)
{
	uma_zones_tailp = &uma_zones_first;
	uma_ncpus = vm_ncpus();
	KASSERT(uma_ncpus >= 1 && uma_ncpus <= MAXCPU, ("uma_startup: %d CPUs", uma_ncpus));
	uma_zone_struct_size = roundup2(sizeof(struct uma_zone) +
	    (size_t)uma_ncpus * sizeof(struct uma_cache), UMA_CACHE_LINE);
	uma_up = true;
}
