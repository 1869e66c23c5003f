/*
 * pmap: the physical map, the machine-dependent layer under the VM core. The VM core
 * decides what is mapped where (vm_map, vm_fault); pmap writes it into the machine's
 * page tables and answers what the hardware recorded (referenced, modified). A pmap
 * holds a cache of the VM core's decisions: anything it maps can be rebuilt by a fault,
 * except wired mappings, which it keeps until told otherwise.
 *
 * struct pmap is the machine's (x86-64: guest/amd64/pmap_md.h, reached through
 * <vm_platform_impl.h>); this header is all the VM core uses. One pmap per address
 * space; each shares the kernel half with kernel_pmap, whose entries at that level never
 * change after pmap_init.
 *
 * Managed pages (neither PG_UNMANAGED nor PG_FICTITIOUS) have their mappings tracked,
 * so that the page-level calls (pmap_remove_all, pmap_remove_write, pmap_is_modified,
 * pmap_clear_modify, pmap_ts_referenced) find every mapping of a page in every pmap.
 *
 * TLB invalidation: each call that changes or removes a live mapping of a loaded pmap
 * invalidates once for the whole range it changed, at its end (on the deprivileged
 * kernel each invalidation is a trap). Entering a fresh mapping, or changing a pmap
 * that no CPU has loaded, invalidates nothing.
 *
 * No call sleeps: allocations fail instead (ENOMEM), and the caller waits for memory
 * with its own locks dropped, then retries.
 */
#ifndef VM_PMAP_H
#define VM_PMAP_H

#include "vm/vm.h"

struct vm_page;
typedef struct pmap *pmap_t;

extern struct pmap kernel_pmap_store;
#define kernel_pmap (&kernel_pmap_store)

#define VM_PROT_ALL     (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE)

/*
 * pmap_enter flags. The low bits (VM_PROT_ALL) are the access that caused the mapping:
 * the new entry is written with the accessed bit set, and with the modified bit set when
 * the access was a write. The hardware would set them at once anyway, and on a shadowing
 * hypervisor (../shared/PLATFORM.md) every bit it has to set itself costs a refault.
 */
#define PMAP_ENTER_WIRED    0x0100  /* the mapping is wired (counted, kept) */
#define PMAP_ENTER_DIRTY    0x0200  /* the page is dirty anyway (anonymous, no copy on
                                       swap): a writable mapping starts modified */
#define PMAP_ENTER_NEW      0x0400  /* the pages were just allocated and nobody else can
                                       reach them yet (their object stays locked by the
                                       caller; managed pages, as an object's are): no
                                       mapping of them exists, so pmap need not take the
                                       pv lock to add their first one */
#define PMAP_ENTER_COPY     0x0800  /* one managed page, just allocated and reachable by
                                       nobody else, as for PMAP_ENTER_NEW, but entered
                                       where another page is mapped as a rule (the COW
                                       copy over the page it copied), in a user pmap: a
                                       hint, which pmap may ignore */

/* => once, before the first pmap is used (idempotent); may allocate (never sleeps). */
void pmap_init(void);
/* Host re-boot only: forget the previous boot's pmap state (the simulated RAM is gone). */
void pmap_reset(void);

/* A new, empty user pmap in caller storage; its kernel half is kernel_pmap's.
 * => 0, or ENOMEM when its root could not be allocated (pmap left unusable). */
int pmap_pinit(pmap_t pmap);
/* Free an empty pmap's root. => no mappings remain (pmap_remove them first); not loaded. */
void pmap_release(pmap_t pmap);

/*
 * Map va -> page m with protection prot (VM_PROT_READ is implied); replaces what was
 * at va. flags: the access type (low bits) and PMAP_ENTER_*.
 * => 0, or ENOMEM when a page-table page or a pv entry could not be allocated (nothing
 *    changed); va page-aligned, in the user half for a user pmap, in the kernel's pmap
 *    range (KVA) for kernel_pmap.
 */
int pmap_enter(pmap_t pmap, vm_offset_t va, struct vm_page *m, vm_prot_t prot, int flags);
/*
 * pmap_enter(pmap, va, m, prot, flags) of one page with PMAP_ENTER_NEW in flags, inline
 * (static inline int pmap_enter_new(pmap_t, vm_offset_t, struct vm_page *, vm_prot_t,
 * int)): the machine defines it in <pmap_impl.h>, found through the include path as
 * <vm_platform_impl.h> is, which a caller includes after vm/vm_page.h. For the
 * zero-fill fault, where a call's frame and arguments cost as much as a tenth of it.
 * The same header declares pmap_enter_copy(pmap, va, m, prot, flags): pmap_enter with
 * PMAP_ENTER_COPY and without PMAP_ENTER_WIRED, called directly (the COW fault's).
 */
/*
 * The same for npages pages ma[0..npages) at va, va + PAGE_SIZE, ...: one page-table
 * walk per page table, one invalidation at the end. => the number of pages entered
 * (from the front); fewer than npages only on a shortage (ENOMEM for the first left).
 */
int pmap_enter_run(pmap_t pmap, vm_offset_t va, struct vm_page **ma, int npages,
    vm_prot_t prot, int flags);

/* Remove every mapping in [sva, eva); page-table pages that become empty are freed. */
void pmap_remove(pmap_t pmap, vm_offset_t sva, vm_offset_t eva);
/* Reduce [sva, eva) to prot: without VM_PROT_READ it removes; it never adds rights. */
void pmap_protect(pmap_t pmap, vm_offset_t sva, vm_offset_t eva, vm_prot_t prot);

/*
 * Unwire the wired mappings in [sva, eva) (page-aligned, at most max pages): each keeps
 * its page and rights and loses only its wiring (the wired count follows), so the page
 * stays mapped and becomes pageable. The pages of the mappings that lost their wiring
 * are stored in ma[] for the caller, who owns the pages' wirings (vm_page_unwire);
 * mappings that were not wired are left alone. Nothing is invalidated (the wiring is
 * no hardware bit).
 * => the number of pages stored in ma.
 */
int pmap_unwire(pmap_t pmap, vm_offset_t sva, vm_offset_t eva, struct vm_page **ma,
    int max);

/* Every mapping of m, in every pmap, removed. Modified/referenced bits go to the page. */
void pmap_remove_all(struct vm_page *m);
/*
 * pmap_remove_all of each of ma[0..n), in one go: the pages of a run (the laundry's
 * cluster, consecutive in an object and usually so in a pmap) cost one lock round trip
 * and one invalidation per pmap in a row rather than per page, and a mapping at the
 * address after the last one's is found beside it in the same page table, without a
 * walk from the root.
 */
void pmap_remove_all_pages(struct vm_page **ma, int n);
/* Every mapping of m made read-only (the page is dirty if any mapping was modified). */
void pmap_remove_write(struct vm_page *m);
/* Whether a mapping of m has its modified bit set. */
bool pmap_is_modified(struct vm_page *m);
/* Clear the modified bit of every mapping of m. */
void pmap_clear_modify(struct vm_page *m);
/* The number of mappings of m found referenced; their referenced bits are cleared. */
int pmap_ts_referenced(struct vm_page *m);
/* Whether m has a managed mapping anywhere. */
bool pmap_page_is_mapped(struct vm_page *m);

/* The physical address va maps to in pmap (any page size), or 0 when unmapped. */
vm_paddr_t pmap_extract(pmap_t pmap, vm_offset_t va);

/* Page contents, through the direct map (or the platform's page operations). */
void pmap_zero_page(struct vm_page *m);
void pmap_copy_page(struct vm_page *src, struct vm_page *dst);

/* Load pmap's root on this CPU (kernel_pmap: no user address space). */
void pmap_activate(pmap_t pmap);

uint64_t pmap_resident_count(pmap_t pmap);
uint64_t pmap_wired_count(pmap_t pmap);

#endif /* VM_PMAP_H */
