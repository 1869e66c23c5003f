/*
 * The x86-64 struct pmap: what vm/pmap.h leaves to the machine. vm/ reaches it through
 * <vm_platform_impl.h> (the guest's and the host test platform's both include this
 * header after their struct mtx), never directly.
 *
 * Field locking legend:
 *   C  constant between pmap_pinit and pmap_release
 *   L  pm_mtx (the pmap's own lock; taken after pmap's pv lock when both are held)
 *   A  atomic operations
 */
#ifndef AMD64_PMAP_MD_H
#define AMD64_PMAP_MD_H

#include <stdint.h>

struct vm_page;

/* The lowest address no user mapping may reach: the top of the canonical lower half
 * (PML4 slots 0..255). Slots 256..511 are the kernel half, shared by every pmap. */
#define VM_MAXUSER_ADDRESS  0x0000800000000000ul

/* kernel_pmap's own range (vmparam.h's KVA_BASE and KVA_SIZE, checked in pmap.c): the
 * only kernel addresses pmap_enter takes, where the VM core's kernel map hands out
 * virtual ranges (vm/vm_kern.c). */
#define VM_MIN_KERNEL_ADDRESS   0xffffff0000000000ul
#define VM_MAX_KERNEL_ADDRESS   0xffffff8000000000ul

/* Make the page-table store pmap left for the return to user mode, if any (pmap_int.h:
 * pmap_md_pte_defer): before a thread switch, and before the kernel's own fault on user
 * memory. */
void pmap_flush_deferred(void);

struct pmap_statistics {
	uint64_t resident_count;    /* L: valid 4 KiB leaf mappings */
	uint64_t wired_count;       /* L: of which wired (PG_W) */
	uint64_t pt_count;          /* L: page-table pages below the root */
};

struct pmap {
	struct mtx pm_mtx;
	uint64_t *pm_pml4;          /* C: the root (PML4) through the direct map */
	vm_paddr_t pm_cr3;          /* C: its physical address, the value CR3 takes */
	struct vm_page *pm_root;    /* C: its page; NULL for a root not from vm_page (the
	                               guest kernel's boot_pml4 in the image) */
	uint64_t pm_active;         /* A: bit n: CPU n has this root loaded */
	/* C: a user pmap's second root, the one user mode runs on: the same user half (the
	 * same PDPTs, linked in both roots), none of the kernel but the stubs' slot
	 * (pmap_stub_pml4e); NULL and 0 for kernel_pmap (docs/deprivileged-kernel.md). */
	uint64_t *pm_pml4u;
	vm_paddr_t pm_ucr3;
	struct vm_page *pm_uroot;
	struct pmap_statistics pm_stats; /* L */
	/* L: the page table an enter of one fresh page last walked to: the 2 MiB it maps
	 * (PMAP_PTC_NONE: none), its page and its entries through the direct map. The
	 * next such enter in the same 2 MiB starts there (faults come in runs); freeing
	 * that table forgets it. */
	uint64_t pm_ptc_va;
	struct vm_page *pm_ptc_page;
	uint64_t *pm_ptc;
};

#define PMAP_PTC_NONE       (~(uint64_t)0)  /* no 2 MiB-aligned address equals it */

/* The PML4 entry every user root holds in slot PMAP_STUB_SLOT: the pages the stubs need
 * while user mode runs (the guest's pmap_stub_init); 0 where there are none (host). */
#define PMAP_STUB_SLOT  511
extern uint64_t pmap_stub_pml4e;

#endif /* AMD64_PMAP_MD_H */
