/*
 * pmap for x86-64: 4-level page tables (PML4 -> PDPT -> PD -> PT, 4 KiB leaves), one
 * root per address space, the kernel half (PML4 slots 256..511) shared with kernel_pmap.
 * Built into the guest kernel and into the host test binary: every page-table page is a
 * page of (simulated) RAM reached through the direct map, and the only privileged
 * operations are the hooks of pmap_int.h.
 *
 *   page-table pages  no-object pages from vm_page (wired, zeroed); md_pt_use counts a
 *                     page's valid entries, and a user pmap's page goes back to vm_page
 *                     when the count drops to zero, after the TLB invalidation that
 *                     covers it. kernel_pmap keeps its page-table pages (the kernel
 *                     half's PML4 entries, copied into every user root, must never
 *                     change; lower levels are kept for simplicity, as FreeBSD does).
 *   pv entries        one per mapping of a managed page (PG_MANAGED in the entry): the
 *                     first in the page itself (md.pv_first), any more from a UMA zone,
 *                     linked from it.
 *   A/D bits          new entries carry PG_A, and PG_M when the access was a write or
 *                     the caller says the page is dirty anyway (vm/pmap.h). A mapping
 *                     removed or write-protected with PG_M set leaves the page dirty
 *                     (m->dirty), one removed with PG_A set leaves it PGA_REFERENCED.
 *   invalidation      each operation accumulates the range it changed in a
 *                     struct pmap_batch and asks the machine once at its end, and only
 *                     when some CPU has the pmap loaded (kernel_pmap: always).
 *
 * Locks, in this order: pmap_pv_mtx (every pv list and pv entry, every page's md
 * fields but md_pt_use), then a pmap's pm_mtx (its page tables and statistics).
 * Operations that can touch managed mappings take both; a page-level operation takes
 * each pmap's lock in turn under pmap_pv_mtx. The one pv lock serializes pmap updates;
 * per-page pv locks (FreeBSD's pv_list_locks) are for when there is more than one CPU.
 */
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_dump.h"
#include "vm/vm_errno.h"
#include "vm/vm_page.h"
#include "guest/amd64/pmap_inline.h"

#ifdef VM_HOST
struct pmap kernel_pmap_store;      /* pmap_init allocates its root */
struct pmap_invl_log pmap_invl_log;
#else
/*
 * kernel_pmap's root is the boot root (pmap_bootstrap_tables.S) from the link on, reached
 * through the direct map like every other table (the boot tables map its GiB 0 from the
 * start); it is in the image, not a vm_page. Set here, not by pmap_bootstrap: a store
 * into this page at boot would cost its first touch (~25 us here).
 */
extern const uint64_t boot_pml4[512];
struct pmap kernel_pmap_store = {
	.pm_cr3 = (uintptr_t)boot_pml4 - KERNBASE,
	.pm_pml4 = (uint64_t *)((uintptr_t)boot_pml4 - KERNBASE + DMAP_BASE),
};
#endif

static struct mtx pmap_pv_mtx;
static uma_zone_t pmap_pv_zone;
static bool pmap_initialized;
static pmap_t pmap_curpmap[MAXCPU];    /* the user pmap each CPU has loaded, or NULL */

_Static_assert(MAXCPU <= 64, "pmap: pm_active is a 64-bit CPU mask");
_Static_assert(VM_MIN_KERNEL_ADDRESS == KVA_BASE &&
    VM_MAX_KERNEL_ADDRESS == KVA_BASE + KVA_SIZE,
    "pmap: pmap_md.h's kernel range is vmparam.h's KVA");

/* Upper-level entries allow everything; the leaf decides. PG_A and PG_M preset: the
 * CPU would set PG_A on the first walk (a refault under a shadowing hypervisor). PG_U
 * in the kernel's too: the kernel runs at CPL 3 (docs/deprivileged-kernel.md). */
#define PMAP_PDE_KERN   (PG_V | PG_RW | PG_U | PG_A | PG_M)
#define PMAP_PDE_USER   PMAP_PDE_KERN
#define PMAP_PAGE_DIRTY 0xff        /* m->dirty: all eight 512-byte blocks */

/* What an operation changed: the range to invalidate, the page-table pages to free
 * after that. */
struct pmap_batch {
	vm_offset_t pb_sva, pb_eva;     /* pb_sva >= pb_eva: nothing to invalidate */
	struct vm_plinks pb_free;
};

static inline uint64_t *pmap_pa_to_table(vm_paddr_t pa)
{
	return vm_phys_to_dmap(pa & PG_FRAME);
}

static inline void pmap_batch_init(struct pmap_batch *b)
{
	b->pb_sva = ~(vm_offset_t)0;
	b->pb_eva = 0;
	vm_plinks_init(&b->pb_free);
}

static inline void pmap_batch_add(struct pmap_batch *b, vm_offset_t va)
{
	if (va < b->pb_sva)
		b->pb_sva = va;
	if (va + PAGE_SIZE > b->pb_eva)
		b->pb_eva = va + PAGE_SIZE;
}

/*
 * One invalidation for everything b collected, when a CPU may cache pmap's entries:
 * kernel_pmap always (its entries are global), a user pmap only while loaded. Then the
 * freed page-table pages go back: no walk can reach them any more.
 * => called with no pmap lock held (vm_page_free takes vm_phys's).
 */
static void pmap_batch_finish_slow(pmap_t pmap, struct pmap_batch *b);
static void pmap_ptp_free(vm_page_t m);

/* Inline for the common case of an enter into empty slots: nothing to do. */
static inline void pmap_batch_finish(pmap_t pmap, struct pmap_batch *b)
{
	if (b->pb_sva < b->pb_eva || !vm_plinks_empty(&b->pb_free))
		pmap_batch_finish_slow(pmap, b);
}

static void pmap_batch_finish_slow(pmap_t pmap, struct pmap_batch *b)
{
	if (b->pb_sva < b->pb_eva && (pmap == kernel_pmap ||
	    __atomic_load_n(&pmap->pm_active, __ATOMIC_ACQUIRE) != 0))
		pmap_md_invl_range(b->pb_sva, b->pb_eva, pmap == kernel_pmap);
	while (!vm_plinks_empty(&b->pb_free)) {
		vm_page_t m = vm_plinks_page(b->pb_free.pl_next);
		vm_plinks_remove(m);
		pmap_ptp_free(m);
	}
}

/* ---- page-table pages ----------------------------------------------------------- */

/* A zeroed, wired page-table page, or NULL. Kernel tables may dig into the system
 * reserve; a user address space may not starve the kernel. */
static vm_page_t pmap_ptp_alloc(pmap_t pmap)
{
	int req = (pmap == kernel_pmap ? VM_ALLOC_SYSTEM : VM_ALLOC_NORMAL) |
	    VM_ALLOC_NOWAIT | VM_ALLOC_WIRED | VM_ALLOC_ZERO;
	vm_page_t m = vm_page_alloc_noobj(req);

	/* A dump walks the page tables: every table page is in it. */
	if (m != NULL)
		dump_add_page(VM_PAGE_TO_PHYS(m));
	return m;
}

/* Give back a page-table page (pmap_ptp_alloc's), out of the minidump. */
static void pmap_ptp_free(vm_page_t m)
{
	dump_drop_page(VM_PAGE_TO_PHYS(m));
	vm_page_free(m);
}

static inline vm_page_t pmap_ptp_of(uint64_t entry)
{
	vm_page_t m = PHYS_TO_VM_PAGE(entry & PG_FRAME);

	KASSERT(m != NULL, ("pmap_ptp_of: entry %#llx names no page-table page",
	    (unsigned long long)entry));
	return m;
}

/*
 * The PT entry for va, allocating the missing PDPT, PD and PT pages (each linked into
 * its parent, which counts it). => pmap locked; NULL when a page could not be had, and
 * then nothing was allocated or linked.
 */
static uint64_t *pmap_pte_alloc(pmap_t pmap, vm_offset_t va)
{
	uint64_t *e = &pmap->pm_pml4[pmap_pml4_index(va)];
	uint64_t pde = pmap == kernel_pmap ? PMAP_PDE_KERN : PMAP_PDE_USER;
	vm_page_t fresh[3];
	int need = 0, used = 0;
	uint64_t *t;

	pmap_md_pte_flush();

	/* Count the missing levels first, so that a shortage leaves nothing half-linked. */
	if ((*e & PG_V) == 0)
		need = 3;
	else {
		KASSERT((*e & PG_PS) == 0, ("pmap_pte_alloc: PML4 entry with PG_PS"));
		t = pmap_pa_to_table(*e);
		uint64_t pdpte = t[pmap_pdpt_index(va)];
		if ((pdpte & PG_V) == 0)
			need = 2;
		else {
			KASSERT((pdpte & PG_PS) == 0,
			    ("pmap_pte_alloc: va %#lx is in a 1 GiB page", (unsigned long)va));
			t = pmap_pa_to_table(pdpte);
			uint64_t pdee = t[pmap_pd_index(va)];
			KASSERT((pdee & PG_PS) == 0,
			    ("pmap_pte_alloc: va %#lx is in a 2 MiB page", (unsigned long)va));
			if ((pdee & PG_V) == 0)
				need = 1;
			else
				return &pmap_pa_to_table(pdee)[pmap_pt_index(va)];
		}
	}
	KASSERT(pmap != kernel_pmap || need < 3,
	    ("pmap_pte_alloc: kernel va %#lx outside the kernel's PML4 slots",
	    (unsigned long)va));
	for (int i = 0; i < need; i++) {
		if ((fresh[i] = pmap_ptp_alloc(pmap)) == NULL) {
			while (i-- > 0)
				pmap_ptp_free(fresh[i]);
			return NULL;
		}
	}
	pmap->pm_stats.pt_count += (uint64_t)need;

	/* Walk down again, linking a fresh page wherever the walk stops. */
	for (int level = 0; level < 3; level++) {
		if ((*e & PG_V) == 0) {
			vm_page_t m = fresh[used++];
			*e = VM_PAGE_TO_PHYS(m) | pde;
			if (level > 0)
				pmap_ptp_of(vm_dmap_to_phys(e))->md.md_pt_use++;
			else if (pmap->pm_pml4u != NULL)   /* user mode's root has it too */
				pmap->pm_pml4u[pmap_pml4_index(va)] = *e;
		}
		t = pmap_pa_to_table(*e);
		e = &t[level == 0 ? pmap_pdpt_index(va) : level == 1 ? pmap_pd_index(va) :
		    pmap_pt_index(va)];
	}
	KASSERT(used == need, ("pmap_pte_alloc: linked %d of %d pages", used, need));
	return e;
}

/*
 * The entry that maps va at the last level the walk reaches: a PT entry, or a PD or PDPT
 * entry with PG_PS set; NULL when an upper table has no entry for va. *shift is the size
 * (log2) of the span that entry (or the missing one) covers, so that a walk over a range
 * steps over a whole hole or large page at once.
 */
static uint64_t *pmap_leaf(pmap_t pmap, vm_offset_t va, int *shift)
{
	uint64_t e, *entry;

	pmap_md_pte_flush();            /* every walk sees every entry made */
	e = pmap->pm_pml4[pmap_pml4_index(va)];

	*shift = PML4SHIFT;
	if ((e & PG_V) == 0)
		return NULL;
	entry = &pmap_pa_to_table(e)[pmap_pdpt_index(va)];
	*shift = PDPSHIFT;
	if ((*entry & (PG_V | PG_PS)) != PG_V)
		return (*entry & PG_V) != 0 ? entry : NULL;
	entry = &pmap_pa_to_table(*entry)[pmap_pd_index(va)];
	*shift = PDRSHIFT;
	if ((*entry & (PG_V | PG_PS)) != PG_V)
		return (*entry & PG_V) != 0 ? entry : NULL;
	*shift = PAGE_SHIFT;
	return &pmap_pa_to_table(*entry)[pmap_pt_index(va)];
}

/*
 * The PT entry for va; or NULL when no page table covers it (or a large page does), with
 * *shift the size (log2) of the span the missing table covers.
 */
static uint64_t *pmap_pte_span(pmap_t pmap, vm_offset_t va, int *shift)
{
	uint64_t *entry = pmap_leaf(pmap, va, shift);

	return *shift == PAGE_SHIFT ? entry : NULL;
}

/* The PT entry for va, or NULL when no page table covers it (or a large page does). */
static uint64_t *pmap_pte(pmap_t pmap, vm_offset_t va)
{
	int shift;

	return pmap_pte_span(pmap, va, &shift);
}

/*
 * One entry fewer in the page table holding va (whose entry was just cleared). A user
 * pmap's table that becomes empty is unlinked from its parent and queued on b for
 * freeing, and so on up to the PDPT; the root stays. => pmap locked.
 */
static void pmap_pt_unuse(pmap_t pmap, vm_offset_t va, struct pmap_batch *b)
{
	uint64_t *pml4e = &pmap->pm_pml4[pmap_pml4_index(va)];
	uint64_t *pdpte = &pmap_pa_to_table(*pml4e)[pmap_pdpt_index(va)];
	uint64_t *pde = &pmap_pa_to_table(*pdpte)[pmap_pd_index(va)];
	uint64_t *up[3] = { pde, pdpte, pml4e };

	for (int level = 0; level < 3; level++) {
		vm_page_t m = pmap_ptp_of(*up[level]);
		KASSERT(m->md.md_pt_use > 0, ("pmap_pt_unuse: table %#llx has no entries",
		    (unsigned long long)VM_PAGE_TO_PHYS(m)));
		if (--m->md.md_pt_use > 0 || pmap == kernel_pmap)
			return;
		*up[level] = 0;
		if (level == 2 && pmap->pm_pml4u != NULL)
			pmap->pm_pml4u[pmap_pml4_index(va)] = 0;
		pmap->pm_stats.pt_count--;
		if (m == pmap->pm_ptc_page) {
			pmap->pm_ptc_va = PMAP_PTC_NONE;
			pmap->pm_ptc_page = NULL;
		}
		vm_plinks_insert_head(&b->pb_free, m);
		/* The walk caches may hold the unlinked table: make sure the batch
		 * invalidates (any address does; this one is in it already). */
		pmap_batch_add(b, va);
		if (level == 2)
			return;     /* the root does not count its entries */
	}
}

/* ---- pv entries ------------------------------------------------------------------ */

/*
 * A page's mappings (md_page.h): the first in the page's own slot, md.pv_first, any
 * more in UMA's entries linked from it. A page mapped once, nearly every anonymous
 * page, so needs no allocation, and its fault's enter no call.
 */

/* m's first mapping, or NULL when it has none. */
static inline struct pv_entry *pmap_pv_head(vm_page_t m)
{
	return m->md.pv_first.pv_pmap != NULL ? &m->md.pv_first : NULL;
}

/* Add (pmap, va) to m's mappings: into the page's own slot when that is free, else into
 * *spare (taken: set to NULL), which the caller must then have.
 * => pmap_pv_mtx held, or m a page nobody else can reach (PMAP_ENTER_NEW). */
static inline void pmap_pv_add(vm_page_t m, pmap_t pmap, vm_offset_t va,
    struct pv_entry **spare)
{
	struct pv_entry *first = &m->md.pv_first, *pv;

	if (first->pv_pmap == NULL) {
		KASSERT(first->pv_next == NULL, ("pmap_pv_add: page %#llx has an empty first "
		    "pv slot and more", (unsigned long long)VM_PAGE_TO_PHYS(m)));
		first->pv_pmap = pmap;
		first->pv_va = va;
		return;
	}
	pv = *spare;
	*spare = NULL;
	KASSERT(pv != NULL, ("pmap_pv_add: no pv entry for a second mapping of %#llx",
	    (unsigned long long)VM_PAGE_TO_PHYS(m)));
	pv->pv_pmap = pmap;
	pv->pv_va = va;
	pv->pv_next = first->pv_next;
	first->pv_next = pv;
}

/* pmap_pv_remove past the first slot. */
static struct pv_entry *pmap_pv_remove_walk(vm_page_t m, pmap_t pmap, vm_offset_t va)
{
	struct pv_entry *pv;

	for (struct pv_entry **pp = &m->md.pv_first.pv_next; (pv = *pp) != NULL;
	    pp = &pv->pv_next) {
		if (pv->pv_pmap == pmap && pv->pv_va == va) {
			*pp = pv->pv_next;
			return pv;
		}
	}
	panic("pmap_pv_remove: no pv entry for va %#lx in pmap %p on page %#llx",
	    (unsigned long)va, (void *)pmap, (unsigned long long)VM_PAGE_TO_PHYS(m));
}

/*
 * Take (pmap, va) off m's mappings. => the UMA entry that this frees up (the caller
 * reuses or frees it), or NULL when m had no other mapping. The first slot, a page
 * mapped once, inline; removing it moves the second mapping into it (that second
 * entry is the one freed up). => pmap_pv_mtx held.
 */
static inline struct pv_entry *pmap_pv_remove(vm_page_t m, pmap_t pmap, vm_offset_t va)
{
	struct pv_entry *first = &m->md.pv_first, *next = first->pv_next;

	if (__predict_true(first->pv_pmap == pmap && first->pv_va == va)) {
		if (next == NULL) {
			first->pv_pmap = NULL;  /* all-zero again: no mapping */
			first->pv_va = 0;
		} else
			*first = *next;
		return next;
	}
	return pmap_pv_remove_walk(m, pmap, va);
}

/* What a mapping that is going away (or losing PG_RW) leaves on its page. */
static void pmap_page_sync(vm_page_t m, uint64_t old)
{
	if ((old & (PG_M | PG_RW)) == (PG_M | PG_RW))
		m->dirty = PMAP_PAGE_DIRTY;
	if (old & PG_A)
		__atomic_fetch_or(&m->aflags, PGA_REFERENCED, __ATOMIC_RELAXED);
}

/*
 * Clear the entry *pte of va and account for it: statistics, pv entry, the page's
 * dirty and referenced state, the page table's use count. => both locks held.
 */
static inline void pmap_remove_entry(pmap_t pmap, vm_offset_t va, uint64_t *pte,
    struct pmap_batch *b)
{
	/* One exchange: the CPU may set PG_A/PG_M until the entry is gone. */
	uint64_t old = __atomic_exchange_n(pte, 0, __ATOMIC_ACQ_REL);

	KASSERT(old & PG_V, ("pmap_remove_pte: va %#lx not mapped", (unsigned long)va));
	pmap->pm_stats.resident_count--;
	if (old & PG_W)
		pmap->pm_stats.wired_count--;
	if (old & PG_MANAGED) {
		vm_page_t m = PHYS_TO_VM_PAGE(old & PG_FRAME);
		pmap_page_sync(m, old);
		struct pv_entry *pv = pmap_pv_remove(m, pmap, va);
		if (pv != NULL)
			uma_zfree(pmap_pv_zone, pv);
		if (pmap_pv_head(m) == NULL)
			__atomic_fetch_and(&m->aflags, (uint8_t)~PGA_WRITEABLE,
			    __ATOMIC_RELAXED);
	}
	pmap_batch_add(b, va);
}

static void pmap_remove_pte(pmap_t pmap, vm_offset_t va, uint64_t *pte,
    struct pmap_batch *b)
{
	pmap_remove_entry(pmap, va, pte, b);
	pmap_pt_unuse(pmap, va, b);
}

/* pte, va's entry in a table a walk found: that table becomes the pmap's table cache.
 * => pte's table's page. */
static inline vm_page_t pmap_ptc_set(pmap_t pmap, vm_offset_t va, uint64_t *pte)
{
	vm_page_t ptp = pmap_ptp_of(vm_dmap_to_phys(pte));

	pmap->pm_ptc_va = va & ~(vm_offset_t)(NBPDR - 1);
	pmap->pm_ptc_page = ptp;
	pmap->pm_ptc = pte - pmap_pt_index(va);
	return ptp;
}

/*
 * The PT entry for va and its table's page, or NULL when no page table covers va: from
 * the pmap's table cache (pmap_inline.h) when va is in the 2 MiB it names, else walked,
 * and the table found cached (a page-level call's pages are mostly one program's
 * neighbours: the next one's look-up is then a compare). Never allocates. => pmap
 * locked.
 */
static inline uint64_t *pmap_pte_lookup(pmap_t pmap, vm_offset_t va, vm_page_t *ptpp)
{
	uint64_t *pte;

	pmap_md_pte_flush();
	if ((va & ~(vm_offset_t)(NBPDR - 1)) == pmap->pm_ptc_va) {
		*ptpp = pmap->pm_ptc_page;
		return &pmap->pm_ptc[pmap_pt_index(va)];
	}
	if ((pte = pmap_pte(pmap, va)) == NULL)
		return NULL;
	*ptpp = pmap_ptc_set(pmap, va, pte);
	return pte;
}

/* pmap_remove_pte with the entry's table page at hand: a table that keeps entries
 * needs only its count dropped, no walk up from the root. => both locks held. */
static inline void pmap_remove_pte_ptp(pmap_t pmap, vm_offset_t va, uint64_t *pte,
    vm_page_t ptp, struct pmap_batch *b)
{
	pmap_remove_entry(pmap, va, pte, b);
	if (__predict_true(ptp->md.md_pt_use > 1))
		ptp->md.md_pt_use--;
	else
		pmap_pt_unuse(pmap, va, b);
}

/* ---- set-up ---------------------------------------------------------------------- */

void pmap_init(void)
{
	pmap_t kp = kernel_pmap;
	vm_page_t m;

	if (pmap_initialized)
		return;
	mtx_init(&pmap_pv_mtx, "pmap pv");
	mtx_init(&kp->pm_mtx, "kernel pmap");
	pmap_pv_zone = uma_zcreate("pv entry", sizeof(struct pv_entry), NULL, NULL, NULL,
	    NULL, UMA_ALIGN_PTR, UMA_ZONE_VM);
#ifdef VM_HOST
	/* The simulated machine has no boot page tables: the kernel root is a page. */
	if ((m = pmap_ptp_alloc(kp)) == NULL)
		panic("pmap_init: no page for the kernel root");
	kp->pm_root = m;
	kp->pm_cr3 = VM_PAGE_TO_PHYS(m);
	kp->pm_pml4 = pmap_pa_to_table(kp->pm_cr3);
#else
	/* The boot tables, kernel_pmap's from the link on, complete once pmap_bootstrap
	 * has made the direct map (and dropped the identity map). */
	KASSERT(kp->pm_pml4 == pmap_pa_to_table(kp->pm_cr3) && kp->pm_pml4[0] == 0,
	    ("pmap_init: before pmap_bootstrap"));
#endif
	/* kernel_pmap's range gets its PDPT now, before any user root copies the kernel
	 * half: afterwards no PML4 entry of the kernel half ever changes. */
	KASSERT((kp->pm_pml4[PMAP_KVA_SLOT] & PG_V) == 0,
	    ("pmap_init: PML4 slot %d is taken", (int)PMAP_KVA_SLOT));
	/* Zeroed here rather than asked for (VM_ALLOC_ZERO): at boot that request would
	 * fill the pre-zeroed pool first (a host exchange) for one page. */
	m = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | VM_ALLOC_NOWAIT | VM_ALLOC_WIRED);
	if (m == NULL)
		panic("pmap_init: no page for the kernel's PDPT");
	if ((m->flags & PG_ZERO) == 0)
		pmap_zero_page(m);
	dump_add_page(VM_PAGE_TO_PHYS(m));
	kp->pm_pml4[PMAP_KVA_SLOT] = VM_PAGE_TO_PHYS(m) | PMAP_PDE_KERN;
	kp->pm_stats.pt_count = 1;
	kp->pm_ptc_va = PMAP_PTC_NONE;
	pmap_initialized = true;
}

void pmap_reset(void)
{
	memset(&kernel_pmap_store, 0, sizeof(kernel_pmap_store));
	memset(&pmap_pv_mtx, 0, sizeof(pmap_pv_mtx));
	memset(pmap_curpmap, 0, sizeof(pmap_curpmap));
	pmap_pv_zone = NULL;
	pmap_initialized = false;
#ifdef VM_HOST
	memset(&pmap_invl_log, 0, sizeof(pmap_invl_log));
#endif
}

uint64_t pmap_stub_pml4e;

int pmap_pinit(pmap_t pmap)
{
	vm_page_t m, um;

	KASSERT(pmap_initialized, ("pmap_pinit: before pmap_init"));
	memset(pmap, 0, sizeof(*pmap));
	if ((m = pmap_ptp_alloc(pmap)) == NULL)
		return ENOMEM;
	if ((um = pmap_ptp_alloc(pmap)) == NULL) {
		pmap_ptp_free(m);
		return ENOMEM;
	}
	pmap->pm_uroot = um;
	pmap->pm_ucr3 = VM_PAGE_TO_PHYS(um);
	pmap->pm_pml4u = pmap_pa_to_table(pmap->pm_ucr3);
	pmap->pm_pml4u[PMAP_STUB_SLOT] = pmap_stub_pml4e;
	mtx_init(&pmap->pm_mtx, "pmap");
	pmap->pm_ptc_va = PMAP_PTC_NONE;
	pmap->pm_root = m;
	pmap->pm_cr3 = VM_PAGE_TO_PHYS(m);
	pmap->pm_pml4 = pmap_pa_to_table(pmap->pm_cr3);
	/* The kernel half: the same PDPTs as kernel_pmap, so the kernel is mapped
	 * whichever root is loaded. */
	memcpy(&pmap->pm_pml4[PMAP_KERNEL_SLOT0], &kernel_pmap->pm_pml4[PMAP_KERNEL_SLOT0],
	    (NPTEPG - PMAP_KERNEL_SLOT0) * sizeof(uint64_t));
	return 0;
}

void pmap_release(pmap_t pmap)
{
	KASSERT(pmap != kernel_pmap, ("pmap_release: kernel_pmap"));
	KASSERT(pmap->pm_stats.resident_count == 0 && pmap->pm_stats.pt_count == 0,
	    ("pmap_release: pmap %p still has %llu mappings, %llu page-table pages",
	    (void *)pmap, (unsigned long long)pmap->pm_stats.resident_count,
	    (unsigned long long)pmap->pm_stats.pt_count));
	KASSERT(pmap->pm_active == 0, ("pmap_release: pmap %p is loaded", (void *)pmap));
	for (int i = 0; i < PMAP_KERNEL_SLOT0; i++)
		KASSERT(pmap->pm_pml4[i] == 0, ("pmap_release: PML4 slot %d in use", i));
	/* The root's kernel half goes back to zero: vm_page hands freed pages out as
	 * they are, and a page-table page must start zeroed. */
	memset(&pmap->pm_pml4[PMAP_KERNEL_SLOT0], 0,
	    (NPTEPG - PMAP_KERNEL_SLOT0) * sizeof(uint64_t));
	for (int i = 0; i < PMAP_KERNEL_SLOT0; i++)
		KASSERT(pmap->pm_pml4u[i] == 0, ("pmap_release: user root slot %d in use", i));
	pmap->pm_pml4u[PMAP_STUB_SLOT] = 0;
	pmap_ptp_free(pmap->pm_uroot);
	pmap->pm_uroot = NULL;
	pmap->pm_pml4u = NULL;
	pmap_ptp_free(pmap->pm_root);
	mtx_destroy(&pmap->pm_mtx);
	pmap->pm_root = NULL;
	pmap->pm_pml4 = NULL;
}

/* ---- enter ----------------------------------------------------------------------- */

static inline bool pmap_va_ok(pmap_t pmap, vm_offset_t va)
{
	if (pmap == kernel_pmap)
		return va - (vm_offset_t)KVA_BASE < (vm_offset_t)KVA_SIZE;
	return va < VM_MAXUSER_ADDRESS;
}

/* The leaf bits each protection (VM_PROT_ALL's 3 bits) gives (pmap_inline.h: one load
 * where the tests of prot were branches). The kernel's mappings too are PG_U (it runs
 * at CPL 3) and so never PG_G: a global user-accessible entry would outlive the switch
 * to a process's root. */
#define PMAP_PROT_NX(prot)      (((prot) & VM_PROT_EXECUTE) != 0 ? 0 : PG_NX)
#define PMAP_PROT_RW(prot)      (((prot) & VM_PROT_WRITE) != 0 ? PG_RW : 0)
#define PMAP_PROT_BITS(prot)    (PG_V | PG_A | PG_U | PMAP_PROT_RW(prot) | PMAP_PROT_NX(prot))
const uint64_t pmap_prot_bits[VM_PROT_ALL + 1] = {
	PMAP_PROT_BITS(0), PMAP_PROT_BITS(1), PMAP_PROT_BITS(2), PMAP_PROT_BITS(3),
	PMAP_PROT_BITS(4), PMAP_PROT_BITS(5), PMAP_PROT_BITS(6), PMAP_PROT_BITS(7),
};

/*
 * Install newpte at *pte for va: the body of each page of pmap_enter_run. track: a new
 * mapping of a managed m, added to its pv list (from *spare when its own slot is taken:
 * pmap_pv_add). => both locks held, or the pmap's for a fresh m (PMAP_ENTER_NEW).
 */
static void pmap_enter_pte(pmap_t pmap, vm_offset_t va, uint64_t *pte, vm_page_t m,
    uint64_t newpte, bool track, struct pv_entry **spare, struct pmap_batch *b)
{
	uint64_t old = *pte;

	if (old & PG_V) {
		if ((old & PG_FRAME) == (newpte & PG_FRAME)) {
			/* The same page again: new rights and wiring; keep what the
			 * hardware recorded. */
			newpte |= old & (PG_A | PG_M | PG_MANAGED);
			if ((old & PG_M) && !(newpte & PG_RW))
				m->dirty = PMAP_PAGE_DIRTY;
			if ((old ^ newpte) & PG_W)
				pmap->pm_stats.wired_count += (newpte & PG_W) ? 1 : -1;
			old = __atomic_exchange_n(pte, newpte, __ATOMIC_ACQ_REL);
			if (old != newpte)
				pmap_batch_add(b, va);
			goto writeable;
		}
		/* Another page: the old mapping goes first. Its use of the table passes
		 * to the new entry (counted before the removal, so the table is not
		 * freed in between). */
		pmap_ptp_of(vm_dmap_to_phys(pte))->md.md_pt_use++;
		pmap_remove_pte(pmap, va, pte, b);
	} else
		pmap_ptp_of(vm_dmap_to_phys(pte))->md.md_pt_use++;
	if (track) {
		newpte |= PG_MANAGED;
		pmap_pv_add(m, pmap, va, spare);
	}
	pmap->pm_stats.resident_count++;
	if (newpte & PG_W)
		pmap->pm_stats.wired_count++;
	__atomic_store_n(pte, newpte, __ATOMIC_RELEASE);
writeable:
	if ((newpte & (PG_MANAGED | PG_RW)) == (PG_MANAGED | PG_RW))
		__atomic_fetch_or(&m->aflags, PGA_WRITEABLE, __ATOMIC_RELAXED);
}

static int pmap_enter_run_any(pmap_t pmap, vm_offset_t va, vm_page_t *ma, int npages,
    vm_prot_t prot, int flags);

/* pmap_pte_cached's miss: the walk, and the cache set to its table. Out of line, so
 * that the hit's callers keep nothing in registers across it. */
__attribute__((noinline)) uint64_t *pmap_pte_cache_fill(pmap_t pmap, vm_offset_t va,
    vm_page_t *ptpp)
{
	uint64_t *pte;

	if ((pte = pmap_pte_alloc(pmap, va)) == NULL)
		return NULL;
	*ptpp = pmap_ptc_set(pmap, va, pte);
	return pte;
}

#ifdef INVARIANTS
void pmap_ptc_verify(pmap_t pmap, vm_offset_t va, uint64_t *pte, vm_page_t ptp)
{
	KASSERT(pte == pmap_pte(pmap, va) && ptp == pmap_ptp_of(vm_dmap_to_phys(pte)),
	    ("pmap_pte_cached: stale page-table cache for va %#lx in pmap %p",
	    (unsigned long)va, (void *)pmap));
}
#endif

/*
 * pmap_enter of m at va as the general path does it, where a one-page enter found an
 * entry in the way; newpte, what pmap_leaf_bits made of the caller's prot and flags,
 * gives them back (the same bits again: the protection's from PG_RW and PG_NX, PG_M as
 * PMAP_ENTER_DIRTY, PG_W as PMAP_ENTER_WIRED), so that the caller's fast path need not
 * keep them in registers across its calls.
 */
__attribute__((noinline)) int pmap_enter_again(pmap_t pmap, vm_offset_t va, vm_page_t m,
    uint64_t newpte)
{
	vm_prot_t prot = VM_PROT_READ | ((newpte & PG_RW) != 0 ? VM_PROT_WRITE : 0) |
	    ((newpte & PG_NX) == 0 ? VM_PROT_EXECUTE : 0);
	int flags = ((newpte & PG_M) != 0 ? PMAP_ENTER_DIRTY : 0) |
	    ((newpte & PG_W) != 0 ? PMAP_ENTER_WIRED : 0);

	return pmap_enter_run_any(pmap, va, &m, 1, prot, flags) == 1 ? 0 : ENOMEM;
}

/* pmap_enter's PMAP_ENTER_NEW of one page, for callers that do not inline it. */
static __attribute__((noinline)) int pmap_enter_new1(pmap_t pmap, vm_offset_t va,
    vm_page_t m, vm_prot_t prot, int flags)
{
	return pmap_enter_new(pmap, va, m, prot, flags);
}

void pmap_flush_deferred(void)
{
	pmap_md_pte_flush();
}

/*
 * pmap_enter of one page, not a fresh one: the copy-on-write fault's, which
 * replaces the read-only mapping of the page it copied, and prefault's. An old mapping
 * of another page is replaced in place: one exchange, the old page's dirty and
 * referenced state kept, its pv entry moved to the new page (no UMA call either way),
 * the table's use count unchanged, one invalidation. The same page again goes to the
 * general path (new rights on the old entry). fresh (PMAP_ENTER_COPY, a constant in each
 * of the two functions below): m is a managed page nobody else can reach, mapped
 * nowhere, so its own pv slot takes the mapping and the tests for another mapping of
 * it fold away. => 0, or ENOMEM on a shortage (nothing changed).
 */
static inline __attribute__((always_inline)) int pmap_enter_one_body(pmap_t pmap,
    vm_offset_t va, vm_page_t m, vm_prot_t prot, int flags, bool fresh)
{
	uint64_t newpte = fresh ? pmap_leaf_bits_fresh(m, prot, flags) :
	    pmap_leaf_bits(m, prot, flags), *pte, old;
	struct pv_entry *spare = NULL;
	bool managed = fresh || pmap_managed(m);
	/* PG_W's source, which a caller's constant folds (pmap_enter_copy's). */
	bool wired = (flags & PMAP_ENTER_WIRED) != 0;
	vm_page_t ptp, om = NULL;

	KASSERT(!fresh || (pmap_managed(m) && pmap_pv_head(m) == NULL &&
	    pmap != kernel_pmap), ("pmap_enter: PMAP_ENTER_COPY of page %#llx, unmanaged or "
	    "mapped, or in the kernel's pmap", (unsigned long long)VM_PAGE_TO_PHYS(m)));
	if (managed)
		newpte |= PG_MANAGED;
	mtx_lock(&pmap_pv_mtx);
	mtx_lock(&pmap->pm_mtx);
	/* pmap_pte_cached's two cases apart (as pmap_enter_new): the hit tests no NULL. */
	pmap_md_pte_flush();
	if (__predict_true((va & ~(vm_offset_t)(NBPDR - 1)) == pmap->pm_ptc_va)) {
		pte = &pmap->pm_ptc[pmap_pt_index(va)];
#ifdef INVARIANTS
		pmap_ptc_verify(pmap, va, pte, pmap->pm_ptc_page);
#endif
	} else if ((pte = pmap_pte_cache_fill(pmap, va, &ptp)) == NULL)
		goto shortage;
	old = *pte;
	if (!fresh && (old & PG_V) != 0 && (old & PG_FRAME) == (newpte & PG_FRAME)) {
		mtx_unlock(&pmap->pm_mtx);
		mtx_unlock(&pmap_pv_mtx);
		return pmap_enter_again(pmap, va, m, newpte);
	}
	/* UMA's pv entry only where m's own slot is taken (m mapped elsewhere) and the
	 * old mapping frees none up (its page is mapped nowhere else: pmap_pv_remove). */
	if ((old & (PG_V | PG_MANAGED)) == (PG_V | PG_MANAGED))
		om = PHYS_TO_VM_PAGE(old & PG_FRAME);
	if (!fresh && managed && pmap_pv_head(m) != NULL &&
	    (om == NULL || om->md.pv_first.pv_next == NULL) &&
	    (spare = uma_zalloc(pmap_pv_zone, M_NOWAIT)) == NULL)
		goto shortage;
	if ((old & PG_V) == 0) {
		pmap->pm_ptc_page->md.md_pt_use++;     /* va's table, either way above */
		pmap->pm_stats.resident_count++;
		if (wired)
			pmap->pm_stats.wired_count++;
		__atomic_store_n(pte, newpte, __ATOMIC_RELEASE);
	} else {
		/* One exchange: the CPU may set PG_A/PG_M in the old entry until then. */
		old = __atomic_exchange_n(pte, newpte, __ATOMIC_ACQ_REL);
		if (__predict_false(((old & PG_W) != 0) != wired))
			pmap->pm_stats.wired_count += wired ? 1 : -1;
		if (om != NULL) {
			pmap_page_sync(om, old);
			struct pv_entry *freed = pmap_pv_remove(om, pmap, va);
			if (pmap_pv_head(om) == NULL)
				__atomic_fetch_and(&om->aflags, (uint8_t)~PGA_WRITEABLE,
				    __ATOMIC_RELAXED);
			if (freed != NULL) {
				KASSERT(spare == NULL, ("pmap_enter_one: two spare pv entries"));
				spare = freed;
			}
		}
	}
	if (fresh) {
		m->md.pv_first.pv_pmap = pmap;      /* its own slot, free (above) */
		m->md.pv_first.pv_va = va;
	} else if (managed)
		pmap_pv_add(m, pmap, va, &spare);
	if ((newpte & (PG_MANAGED | PG_RW)) == (PG_MANAGED | PG_RW))
		__atomic_fetch_or(&m->aflags, PGA_WRITEABLE, __ATOMIC_RELAXED);
	mtx_unlock(&pmap->pm_mtx);
	mtx_unlock(&pmap_pv_mtx);
	if (__predict_false(spare != NULL))
		uma_zfree(pmap_pv_zone, spare);
	/* The old translation may be cached: gone before the caller goes on (an empty
	 * slot needs nothing). A COW copy's pmap is a user one (asserted above). */
	bool kernel = !fresh && pmap == kernel_pmap;
	if ((old & PG_V) != 0 && (kernel ||
	    __atomic_load_n(&pmap->pm_active, __ATOMIC_ACQUIRE) != 0))
		pmap_md_invl_range(va, va + PAGE_SIZE, kernel);
	return 0;

shortage:
	mtx_unlock(&pmap->pm_mtx);
	mtx_unlock(&pmap_pv_mtx);
	return ENOMEM;
}

static __attribute__((noinline)) int pmap_enter_one(pmap_t pmap, vm_offset_t va,
    vm_page_t m, vm_prot_t prot, int flags)
{
	return pmap_enter_one_body(pmap, va, m, prot, flags, false);
}

/* PMAP_ENTER_COPY's without PMAP_ENTER_WIRED: the COW fault's copy over the mapping of
 * the page it copied (the flags masked: the wiring's tests fold away). */
__attribute__((noinline)) int pmap_enter_copy(pmap_t pmap, vm_offset_t va, vm_page_t m,
    vm_prot_t prot, int flags)
{
	KASSERT((flags & (PMAP_ENTER_COPY | PMAP_ENTER_WIRED)) == PMAP_ENTER_COPY &&
	    (va & PAGE_MASK) == 0 && pmap_va_ok(pmap, va), ("pmap_enter_copy: flags %#x "
	    "or address %#lx", flags, (unsigned long)va));
	return pmap_enter_one_body(pmap, va, m, prot, flags & (VM_PROT_ALL |
	    PMAP_ENTER_DIRTY), true);
}

/* pmap_enter_run's general case: any run, any flags. */
static __attribute__((noinline)) int pmap_enter_run_any(pmap_t pmap, vm_offset_t va,
    vm_page_t *ma, int npages, vm_prot_t prot, int flags)
{
	struct pmap_batch b;
	struct pv_entry *spare = NULL;
	uint64_t *pte = NULL;
	int i;

	KASSERT((va & PAGE_MASK) == 0 && pmap_va_ok(pmap, va) &&
	    pmap_va_ok(pmap, va + ptoa(npages) - 1),
	    ("pmap_enter_run: bad range %#lx + %d pages for pmap %p", (unsigned long)va,
	    npages, (void *)pmap));
	pmap_batch_init(&b);
	/* Fresh pages (PMAP_ENTER_NEW) have no pv entries nobody else can reach: only the
	 * pmap's lock, unless an old mapping is in the way (its page's pv list needs the
	 * pv lock: then everything again under both, in the lock order). */
	bool pvlocked = (flags & PMAP_ENTER_NEW) == 0;
	vm_offset_t sva = va;
again:
	if (pvlocked)
		mtx_lock(&pmap_pv_mtx);
	mtx_lock(&pmap->pm_mtx);
	for (i = 0; i < npages; i++, va += PAGE_SIZE) {
		vm_page_t m = ma[i];
		/* UMA's pv entry first, where m's own slot is taken by another mapping than
		 * this one (entering a page again needs none): a shortage then leaves no
		 * empty table behind. */
		struct pv_entry *head = pmap_managed(m) ? pmap_pv_head(m) : NULL;
		if (head != NULL && spare == NULL && (head->pv_pmap != pmap ||
		    head->pv_va != va) && (spare = uma_zalloc(pmap_pv_zone, M_NOWAIT)) == NULL)
			break;
		/* A new walk only where a page table begins (or none was found yet). */
		if (pte == NULL || pmap_pt_index(va) == 0) {
			if ((pte = pmap_pte_alloc(pmap, va)) == NULL)
				break;
		} else
			pte++;
		if (!pvlocked && (*pte & PG_V) != 0) {
			/* Pages before i are entered: entering them again changes nothing. */
			mtx_unlock(&pmap->pm_mtx);
			pvlocked = true;
			pte = NULL;
			va = sva;
			goto again;
		}
		/* A managed page already mapped here keeps its pv entry. */
		bool again = (*pte & (PG_V | PG_FRAME)) == (PG_V | VM_PAGE_TO_PHYS(m));
		pmap_enter_pte(pmap, va, pte, m, pmap_leaf_bits(m, prot, flags),
		    !again && pmap_managed(m), &spare, &b);
	}
	mtx_unlock(&pmap->pm_mtx);
	if (pvlocked)
		mtx_unlock(&pmap_pv_mtx);
	if (spare != NULL)
		uma_zfree(pmap_pv_zone, spare);
	pmap_batch_finish(pmap, &b);
	return i;
}

/* A run of one page is pmap_enter's. */
int pmap_enter_run(pmap_t pmap, vm_offset_t va, vm_page_t *ma, int npages, vm_prot_t prot,
    int flags)
{
	KASSERT((va & PAGE_MASK) == 0 && npages > 0 && pmap_va_ok(pmap, va) &&
	    pmap_va_ok(pmap, va + ptoa(npages) - 1),
	    ("pmap_enter_run: bad range %#lx + %d pages for pmap %p", (unsigned long)va,
	    npages, (void *)pmap));
	if (npages == 1)
		return pmap_enter(pmap, va, ma[0], prot, flags) == 0;
	return pmap_enter_run_any(pmap, va, ma, npages, prot, flags);
}

/* Tail calls, none paying for another's frame: the fault's one-page enters (vm_fault)
 * come here directly, without a run's pointer and count. */
int pmap_enter(pmap_t pmap, vm_offset_t va, vm_page_t m, vm_prot_t prot, int flags)
{
	KASSERT((va & PAGE_MASK) == 0 && pmap_va_ok(pmap, va),
	    ("pmap_enter: bad address %#lx for pmap %p", (unsigned long)va, (void *)pmap));
	/* The COW copy's first: the zero-fill's enter is inline in the fault. */
	if ((flags & (PMAP_ENTER_COPY | PMAP_ENTER_WIRED)) == PMAP_ENTER_COPY)
		return pmap_enter_copy(pmap, va, m, prot, flags);
	if ((flags & PMAP_ENTER_NEW) != 0)
		return pmap_enter_new1(pmap, va, m, prot, flags);
	return pmap_enter_one(pmap, va, m, prot, flags);
}

/* ---- remove and protect ---------------------------------------------------------- */

/* The end of the span of 1 << shift bytes holding va, or eva if that comes first. */
#define PMAP_SPAN_END(va, shift, eva) \
	MIN((((va) >> (shift)) + 1) << (shift), (eva))

static inline void pmap_range_check(pmap_t pmap, vm_offset_t sva, vm_offset_t eva,
    const char *fn)
{
	KASSERT(sva <= eva && pmap_va_ok(pmap, sva) && (eva == sva ||
	    pmap_va_ok(pmap, eva - 1)), ("%s: bad range [%#lx, %#lx) for pmap %p", fn,
	    (unsigned long)sva, (unsigned long)eva, (void *)pmap));
	(void)pmap; (void)sva; (void)eva; (void)fn;
}

void pmap_remove(pmap_t pmap, vm_offset_t sva, vm_offset_t eva)
{
	struct pmap_batch b;

	pmap_range_check(pmap, sva, eva, "pmap_remove");
	pmap_batch_init(&b);
	mtx_lock(&pmap_pv_mtx);
	mtx_lock(&pmap->pm_mtx);
	for (vm_offset_t va = trunc_page(sva), next; va < eva; va = next) {
		int shift;
		uint64_t *pte = pmap_pte_span(pmap, va, &shift);
		if (pte == NULL) {
			/* No table here: past the whole hole. */
			next = PMAP_SPAN_END(va, shift, eva);
			continue;
		}
		/* Within one page table. It can be freed only by clearing its last
		 * entry; the entries after that read zero until the batch frees it. */
		next = PMAP_SPAN_END(va, PDRSHIFT, eva);
		for (; va < next; va += PAGE_SIZE, pte++) {
			if (*pte & PG_V)
				pmap_remove_pte(pmap, va, pte, &b);
		}
	}
	mtx_unlock(&pmap->pm_mtx);
	mtx_unlock(&pmap_pv_mtx);
	pmap_batch_finish(pmap, &b);
}

/* Entry old protected: clear's bits off, set's on. It changes only if valid. */
static inline uint64_t pmap_protect_bits(uint64_t old, uint64_t clear, uint64_t set)
{
	return (old & ~clear) | set;
}

static inline bool pmap_protect_changes(uint64_t old, uint64_t clear, uint64_t set)
{
	return (old & PG_V) != 0 && pmap_protect_bits(old, clear, set) != old;
}

/* Protect *pte if it changes (pmap_protect_ptes says how). */
static inline __attribute__((always_inline)) void pmap_protect_pte(uint64_t *pte,
    uint64_t clear, uint64_t set)
{
	uint64_t old = *pte, new = pmap_protect_bits(old, clear, set);

	if ((old & PG_V) == 0 || new == old)
		return;
	while (!__atomic_compare_exchange_n(pte, &old, new, false, __ATOMIC_ACQ_REL,
	    __ATOMIC_RELAXED))
		new = pmap_protect_bits(old, clear, set);
	if ((clear & PG_RW) != 0 &&
	    (old & (PG_MANAGED | PG_M | PG_RW)) == (PG_MANAGED | PG_M | PG_RW))
		PHYS_TO_VM_PAGE(old & PG_FRAME)->dirty = PMAP_PAGE_DIRTY;
}

/*
 * Protect the entries [pte, end) of one page table; => the number of entries before
 * the first changed one in *lo and before the last in *hi, or false when none changed.
 * clear and set are constants at each call (pmap_protect's three cases): the loop is
 * fork's whole per-page cost (docs/pmap.md). The first and last changed entries (the
 * range to invalidate) are found by scans apart, the last one from the end, so that
 * the loop that changes entries records nothing.
 *
 * Each entry takes one locked compare-and-swap: the CPU may set PG_A/PG_M until the
 * TLB forgets the entry, and a lost race takes the new value. Only a modified
 * writable managed entry has something for its page (the dirty bit; referenced stays
 * in the entry): pmap_page_sync's case, without looking the page up for the others.
 */
static inline __attribute__((always_inline)) bool pmap_protect_ptes(uint64_t *pte,
    uint64_t *end, uint64_t clear, uint64_t set, size_t *lo, size_t *hi)
{
	uint64_t *base = pte;

	while (pte < end && !pmap_protect_changes(*pte, clear, set))
		pte++;
	if (pte == end)
		return false;
	while (!pmap_protect_changes(end[-1], clear, set))
		end--;
	*lo = (size_t)(pte - base);
	*hi = (size_t)(end - 1 - base);
	/* Eight entries an iteration, then the rest: write-protection only (fork's);
	 * taking execute away alone is rare enough for the short loop. */
	for (; (clear & PG_RW) != 0 && end - pte >= 8; pte += 8) {
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++)
			pmap_protect_pte(pte + i, clear, set);
	}
	for (; pte < end; pte++)
		pmap_protect_pte(pte, clear, set);
	return true;
}

void pmap_protect(pmap_t pmap, vm_offset_t sva, vm_offset_t eva, vm_prot_t prot)
{
	struct pmap_batch b;
	uint64_t clear = 0, set = 0;

	if ((prot & VM_PROT_READ) == 0) {
		pmap_remove(pmap, sva, eva);
		return;
	}
	if ((prot & VM_PROT_WRITE) == 0)
		clear |= PG_RW | PG_M;
	if ((prot & VM_PROT_EXECUTE) == 0)
		set |= PG_NX;
	if (clear == 0 && set == 0)
		return;     /* it never adds rights */
	pmap_range_check(pmap, sva, eva, "pmap_protect");
	pmap_batch_init(&b);
	mtx_lock(&pmap_pv_mtx);
	mtx_lock(&pmap->pm_mtx);
	for (vm_offset_t va = trunc_page(sva), next; va < eva; va = next) {
		int shift;
		uint64_t *pte = pmap_pte_span(pmap, va, &shift);
		next = PMAP_SPAN_END(va, pte == NULL ? shift : PDRSHIFT, eva);
		if (pte == NULL)
			continue;
		uint64_t *end = pte + atop(next - va);
		size_t lo, hi;
		bool changed;
		/* Fork write-protects (and most often sets PG_NX, already set). */
		if (clear != 0 && set != 0)
			changed = pmap_protect_ptes(pte, end, PG_RW | PG_M, PG_NX, &lo, &hi);
		else if (clear != 0)
			changed = pmap_protect_ptes(pte, end, PG_RW | PG_M, 0, &lo, &hi);
		else
			changed = pmap_protect_ptes(pte, end, 0, PG_NX, &lo, &hi);
		/* The changed span of this table, added to the batch once. */
		if (changed) {
			pmap_batch_add(&b, va + ptoa(lo));
			pmap_batch_add(&b, va + ptoa(hi));
		}
	}
	mtx_unlock(&pmap->pm_mtx);
	mtx_unlock(&pmap_pv_mtx);
	pmap_batch_finish(pmap, &b);
}

/* ---- page-level operations ------------------------------------------------------- */

/*
 * Run fn on the entry of each mapping of managed page m, under pmap_pv_mtx and each
 * mapping's pmap lock in turn; fn adds what it changed to the batch, which is finished
 * (one invalidation for that pmap) right after. With remove, fn removes the mapping:
 * then the loop takes the first mapping each time (removing it moves the next one into
 * the page's own slot, pmap_pv_remove). => the number of mappings for which fn
 * returned true.
 */
static int pmap_pv_foreach(vm_page_t m,
    bool (*fn)(pmap_t, vm_offset_t, uint64_t *, vm_page_t, struct pmap_batch *, int *),
    int arg, bool remove)
{
	struct pv_entry *pv, *next;
	int result = 0;

	if (!pmap_managed(m))
		return 0;
	mtx_lock(&pmap_pv_mtx);
	for (pv = pmap_pv_head(m); pv != NULL; pv = next) {
		pmap_t pmap = pv->pv_pmap;
		vm_offset_t va = pv->pv_va;
		struct pmap_batch b;
		next = pv->pv_next;
		pmap_batch_init(&b);
		mtx_lock(&pmap->pm_mtx);
		uint64_t *pte = pmap_pte(pmap, va);
		KASSERT(pte != NULL && (*pte & (PG_V | PG_MANAGED | PG_FRAME)) ==
		    (PG_V | PG_MANAGED | VM_PAGE_TO_PHYS(m)),
		    ("pmap_pv_foreach: pv entry for va %#lx does not match its entry",
		    (unsigned long)va));
		if (fn(pmap, va, pte, m, &b, &arg))
			result++;
		mtx_unlock(&pmap->pm_mtx);
		pmap_batch_finish(pmap, &b);
		if (remove)
			next = pmap_pv_head(m);
	}
	mtx_unlock(&pmap_pv_mtx);
	return result;
}

static bool pmap_pv_remove_fn(pmap_t pmap, vm_offset_t va, uint64_t *pte, vm_page_t m,
    struct pmap_batch *b, int *arg)
{
	(void)m;
	(void)arg;
	pmap_remove_pte(pmap, va, pte, b);
	return true;
}

void pmap_remove_all(vm_page_t m)
{
	pmap_pv_foreach(m, pmap_pv_remove_fn, 0, true);
	KASSERT(!pmap_managed(m) || pmap_pv_head(m) == NULL,
	    ("pmap_remove_all: page %#llx still mapped",
	    (unsigned long long)VM_PAGE_TO_PHYS(m)));
}

void pmap_remove_all_pages(vm_page_t *ma, int n)
{
	struct pmap_batch b;
	pmap_t locked = NULL;
	vm_offset_t lastva = 0;
	uint64_t *lastpte = NULL;
	vm_page_t ptp = NULL;

	mtx_lock(&pmap_pv_mtx);
	for (int i = 0; i < n; i++) {
		vm_page_t m = ma[i];
		struct pv_entry *pv;
		if (!pmap_managed(m))
			continue;
		/* Removing the first mapping moves the next one into the page's slot. */
		while ((pv = pmap_pv_head(m)) != NULL) {
			pmap_t pmap = pv->pv_pmap;
			vm_offset_t va = pv->pv_va;
			uint64_t *pte;
			if (pmap != locked) {
				if (locked != NULL) {
					mtx_unlock(&locked->pm_mtx);
					pmap_batch_finish(locked, &b);
				}
				pmap_batch_init(&b);
				mtx_lock(&pmap->pm_mtx);
				locked = pmap;
				lastpte = NULL;
			}
			/* The next entry of the last one's table: that table still holds
			 * va's mapping, so it was not emptied (and freed) meanwhile. */
			if (lastpte != NULL && va == lastva + PAGE_SIZE && (va & (NBPDR - 1)) != 0)
				pte = lastpte + 1;      /* and ptp the same table's */
			else
				pte = pmap_pte_lookup(pmap, va, &ptp);
			KASSERT(pte != NULL && (*pte & (PG_V | PG_MANAGED | PG_FRAME)) ==
			    (PG_V | PG_MANAGED | VM_PAGE_TO_PHYS(m)) &&
			    ptp == pmap_ptp_of(vm_dmap_to_phys(pte)),
			    ("pmap_remove_all_pages: pv entry for va %#lx does not match its "
			    "entry", (unsigned long)va));
			pmap_remove_pte_ptp(pmap, va, pte, ptp, &b);
			lastva = va;
			lastpte = pte;
		}
	}
	if (locked != NULL) {
		mtx_unlock(&locked->pm_mtx);
		pmap_batch_finish(locked, &b);
	}
	mtx_unlock(&pmap_pv_mtx);
}

/* Clear the bits *arg in the entry; true when any was set. */
static bool pmap_pv_clear_fn(pmap_t pmap, vm_offset_t va, uint64_t *pte, vm_page_t m,
    struct pmap_batch *b, int *arg)
{
	uint64_t bits = (uint64_t)(unsigned)*arg, old;

	(void)pmap;
	if ((*pte & bits) == 0)
		return false;
	old = __atomic_fetch_and(pte, ~bits, __ATOMIC_ACQ_REL);
	if (bits & PG_RW)
		pmap_page_sync(m, old & ~PG_A);
	pmap_batch_add(b, va);
	return (old & bits) != 0;
}

void pmap_remove_write(vm_page_t m)
{
	if ((__atomic_load_n(&m->aflags, __ATOMIC_RELAXED) & PGA_WRITEABLE) == 0)
		return;
	pmap_pv_foreach(m, pmap_pv_clear_fn, PG_RW | PG_M, false);
	__atomic_fetch_and(&m->aflags, (uint8_t)~PGA_WRITEABLE, __ATOMIC_RELAXED);
}

void pmap_clear_modify(vm_page_t m)
{
	if ((__atomic_load_n(&m->aflags, __ATOMIC_RELAXED) & PGA_WRITEABLE) == 0)
		return;     /* no writable mapping: none can be modified */
	pmap_pv_foreach(m, pmap_pv_clear_fn, PG_M, false);
}

/*
 * pmap_pv_foreach's walk with the clear inline (the page daemon asks this of every
 * mapped page it looks at) and each entry found through the table cache.
 *
 * No invalidation follows the clear (Linux's choice on x86, not FreeBSD's). A TLB entry
 * loaded before it still says "accessed", so accesses through it do not set PG_A
 * again: the page may look idle while in use, and at worst goes out and comes back.
 * The translation itself is unchanged, so nothing is ever wrong. Here such an entry is
 * short-lived: with no PCID, every kernel entry and return reloads CR3 and flushes a
 * process's entries. An invalidation is a trap into CPL 0 on kvm_pvm (~15 us), and the
 * daemon clears PG_A of almost every page it evicts (swap.out: one trap a page).
 * A modified writable entry found on the way makes m dirty. => m's object locked.
 */
int pmap_ts_referenced(vm_page_t m)
{
	int result = 0;

	if (!pmap_managed(m))
		return 0;
	mtx_lock(&pmap_pv_mtx);
	for (struct pv_entry *pv = pmap_pv_head(m); pv != NULL; pv = pv->pv_next) {
		pmap_t pmap = pv->pv_pmap;
		vm_offset_t va = pv->pv_va;
		vm_page_t ptp;
		mtx_lock(&pmap->pm_mtx);
		uint64_t *pte = pmap_pte_lookup(pmap, va, &ptp);
		KASSERT(pte != NULL && (*pte & (PG_V | PG_MANAGED | PG_FRAME)) ==
		    (PG_V | PG_MANAGED | VM_PAGE_TO_PHYS(m)),
		    ("pmap_ts_referenced: pv entry for va %#lx does not match its entry",
		    (unsigned long)va));
		uint64_t e = *pte;
		if ((e & PG_A) != 0 &&
		    ((e = __atomic_fetch_and(pte, ~PG_A, __ATOMIC_ACQ_REL)) & PG_A) != 0)
			result++;
		/* Modified: the page is dirty, which the daemon asks next (FreeBSD's way);
		 * PG_M stays, as pmap_is_modified would leave it. */
		if ((e & (PG_M | PG_RW)) == (PG_M | PG_RW))
			m->dirty = VM_PAGE_BITS_ALL;
		mtx_unlock(&pmap->pm_mtx);
	}
	mtx_unlock(&pmap_pv_mtx);
	return result;
}

bool pmap_is_modified(vm_page_t m)
{
	bool modified = false;

	if (!pmap_managed(m))
		return false;
	mtx_lock(&pmap_pv_mtx);
	for (struct pv_entry *pv = pmap_pv_head(m); pv != NULL && !modified;
	    pv = pv->pv_next) {
		uint64_t *pte = pmap_pte(pv->pv_pmap, pv->pv_va);
		modified = (__atomic_load_n(pte, __ATOMIC_RELAXED) & (PG_RW | PG_M)) ==
		    (PG_RW | PG_M);
	}
	mtx_unlock(&pmap_pv_mtx);
	return modified;
}

bool pmap_page_is_mapped(vm_page_t m)
{
	return pmap_managed(m) &&
	    __atomic_load_n(&m->md.pv_first.pv_pmap, __ATOMIC_RELAXED) != NULL;
}

/* ---- lookups and page contents --------------------------------------------------- */

vm_paddr_t pmap_extract(pmap_t pmap, vm_offset_t va)
{
	vm_paddr_t pa = 0;
	int shift;

	mtx_lock(&pmap->pm_mtx);
	uint64_t *entry = pmap_leaf(pmap, va, &shift);
	if (entry != NULL && (*entry & PG_V) != 0) {
		uint64_t span_mask = ((uint64_t)1 << shift) - 1;
		pa = (*entry & PG_FRAME & ~span_mask) | (va & span_mask);
	}
	mtx_unlock(&pmap->pm_mtx);
	return pa;
}

void pmap_zero_page(vm_page_t m)
{
	struct vm_page_run run = { VM_PAGE_TO_PHYS(m), 1 };

	/* The platform's page operation where it has one (one exit); stores through the
	 * direct map otherwise. (Issue 10 re-measures this at CPL 3, where a 4 KiB
	 * rep stosq costs less than an exit.) */
	if (!vm_plat_has_page_ops() || vm_plat_zero_pages(&run, 1) != 1)
		memset(VM_PAGE_TO_DMAP(m), 0, PAGE_SIZE);
}

void pmap_copy_page(vm_page_t src, vm_page_t dst)
{
	memcpy(VM_PAGE_TO_DMAP(dst), VM_PAGE_TO_DMAP(src), PAGE_SIZE);
}

void pmap_activate(pmap_t pmap)
{
	int cpu;
	pmap_t old;

	critical_enter();
	cpu = vm_curcpu();
	old = pmap_curpmap[cpu];
	if (pmap == kernel_pmap)
		pmap = NULL;
	if (old != pmap) {
		if (old != NULL)
			__atomic_fetch_and(&old->pm_active, ~(1ull << cpu), __ATOMIC_RELEASE);
		if (pmap != NULL)
			__atomic_fetch_or(&pmap->pm_active, 1ull << cpu, __ATOMIC_ACQ_REL);
		pmap_curpmap[cpu] = pmap;
		pmap_md_load_root(pmap != NULL ? pmap->pm_cr3 : kernel_pmap->pm_cr3);
		pmap_md_set_user_root(pmap != NULL ? pmap->pm_ucr3 : 0);
	}
	critical_exit();
}

uint64_t pmap_resident_count(pmap_t pmap)
{
	return __atomic_load_n(&pmap->pm_stats.resident_count, __ATOMIC_RELAXED);
}

uint64_t pmap_wired_count(pmap_t pmap)
{
	return __atomic_load_n(&pmap->pm_stats.wired_count, __ATOMIC_RELAXED);
}

/* ---- unwire ---------------------------------------------------------------------- */

/*
 * PG_W is a software bit (the hardware ignores bits 9-11), so taking it away changes
 * nothing a TLB holds: no invalidation, and the mapping itself stays, so a munlocked
 * page is still reachable without a fault. The pv lists are not touched either, so the
 * pmap's own lock is enough. The pages go back to the caller rather than being
 * unwired here: a page's wiring is the VM core's (vm_page_unwire_noq), and pmap only
 * knows which mapping held one.
 */
int pmap_unwire(pmap_t pmap, vm_offset_t sva, vm_offset_t eva, struct vm_page **ma,
    int max)
{
	int n = 0;

	(void)max;              /* read by the KASSERT only */
	pmap_range_check(pmap, sva, eva, "pmap_unwire");
	KASSERT((sva & PAGE_MASK) == 0 && (eva & PAGE_MASK) == 0 && max >= 0 &&
	    atop(eva - sva) <= (vm_size_t)max, ("pmap_unwire: range [%#lx, %#lx) does not "
	    "fit %d pages", (unsigned long)sva, (unsigned long)eva, max));
	mtx_lock(&pmap->pm_mtx);
	for (vm_offset_t va = sva, next; va < eva; va = next) {
		int shift;
		uint64_t *pte = pmap_pte_span(pmap, va, &shift);
		next = PMAP_SPAN_END(va, pte == NULL ? shift : PDRSHIFT, eva);
		if (pte == NULL)
			continue;
		for (; va < next; va += PAGE_SIZE, pte++) {
			if ((*pte & (PG_V | PG_W)) != (PG_V | PG_W))
				continue;
			/* An atomic and: the CPU may set PG_A/PG_M meanwhile. */
			uint64_t old = __atomic_fetch_and(pte, ~(uint64_t)PG_W,
			    __ATOMIC_ACQ_REL);
			KASSERT(pmap->pm_stats.wired_count > 0, ("pmap_unwire: pmap %p has a "
			    "wired entry at %#lx and a wired count of 0", (void *)pmap,
			    (unsigned long)va));
			pmap->pm_stats.wired_count--;
			ma[n++] = PHYS_TO_VM_PAGE(old & PG_FRAME);
		}
	}
	mtx_unlock(&pmap->pm_mtx);
	return n;
}
