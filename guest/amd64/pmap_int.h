/*
 * pmap's private half: page-table entry layout beyond specialreg.h, and the machine
 * interface pmap.c calls for TLB invalidation and root loads. Tests include it to read
 * what the hooks were asked (host build) and to decode entries.
 *
 * The hooks are the only privileged operations pmap does. In the guest they are invlpg
 * and CR3 loads (each a trap once the kernel runs deprivileged: PLATFORM.md); on the
 * host (VM_HOST) they record the request in pmap_invl_log, so a test can assert that an
 * operation over a range asked once, not once a page.
 */
#ifndef AMD64_PMAP_INT_H
#define AMD64_PMAP_INT_H

#include "vm/vm.h"
#include "guest/amd64/specialreg.h"
#include "guest/amd64/vmparam.h"

/* Software bits (the hardware ignores bits 9-11 of every entry). */
#define PG_W        0x200   /* wired mapping */
#define PG_MANAGED  0x400   /* the page is managed: the mapping has a pv entry */

#define NPTEPG      512
#define PML4SHIFT   39
#define PDPSHIFT    30
#define PDRSHIFT    21
#define pmap_pml4_index(va) (((va) >> PML4SHIFT) & (NPTEPG - 1))
#define pmap_pdpt_index(va) (((va) >> PDPSHIFT) & (NPTEPG - 1))
#define pmap_pd_index(va)   (((va) >> PDRSHIFT) & (NPTEPG - 1))
#define pmap_pt_index(va)   (((va) >> PAGE_SHIFT) & (NPTEPG - 1))

#define PMAP_KERNEL_SLOT0   256     /* first PML4 slot of the kernel half */
#define PMAP_KVA_SLOT       pmap_pml4_index((uint64_t)KVA_BASE)

/*
 * Above this many pages a range invalidation flushes the whole TLB instead: one request
 * either way. On kvm_pvm the stub's loop costs 4 emulated instructions a page (~5 us),
 * a flush 2 in all, and the refills after it are the CPU's own walks of KVM's shadow
 * tables, with no exit. Measured 2026-12-06 (swapbench, 32 MiB guest): swap.out 234 ->
 * 374 MiB/s and swap.in 66 -> 60 us with 1 instead of 32; swapstress ~64 -> ~75 MiB/s;
 * touch seq unchanged. On hardware virtualization invlpg is cheap, but so is refilling
 * this kernel's small working set.
 */
#define PMAP_INVL_MAX_PAGES 1

#ifdef VM_HOST
struct pmap_invl_log {
	uint64_t pil_range_calls;   /* pmap_md_invl_range calls */
	uint64_t pil_range_pages;   /* pages those ranges covered */
	uint64_t pil_all_calls;     /* pmap_md_invl_all calls */
	uint64_t pil_root_loads;    /* pmap_md_load_root calls */
	vm_offset_t pil_last_sva, pil_last_eva; /* the last range asked */
	vm_paddr_t pil_last_root;   /* the last root loaded */
	vm_paddr_t pil_last_uroot;  /* the last user root handed to the stubs */
};
extern struct pmap_invl_log pmap_invl_log;

static inline void pmap_md_invl_range(vm_offset_t sva, vm_offset_t eva, bool global)
{
	(void)global;
	pmap_invl_log.pil_range_calls++;
	pmap_invl_log.pil_range_pages += atop(eva - sva);
	pmap_invl_log.pil_last_sva = sva;
	pmap_invl_log.pil_last_eva = eva;
}

static inline void pmap_md_invl_all(bool global)
{
	(void)global;
	pmap_invl_log.pil_all_calls++;
}

static inline void pmap_md_load_root(vm_paddr_t cr3)
{
	pmap_invl_log.pil_root_loads++;
	pmap_invl_log.pil_last_root = cr3;
}

static inline void pmap_md_set_user_root(vm_paddr_t ucr3)
{
	pmap_invl_log.pil_last_uroot = ucr3;
}
/* The host has no return to user mode to carry a store: every store is made at once. */
static inline bool pmap_md_pte_defer(uint64_t *pte, uint64_t val)
{
	(void)pte;
	(void)val;
	return false;
}

static inline void pmap_md_pte_flush(void)
{
}

#else
#include "amd64/cpufunc.h"
#include "amd64/pcpu.h"

/*
 * Leave the new entry val for *pte to the return to user mode, which stores it at CPL 0
 * (exception.S: gp_entry): the kernel's own store into a live page table after the root
 * switch of its entry costs a write-protection fault in KVM's shadow paging
 * (PLATFORM.md), the stub's costs three emulated instructions. Only while this CPU
 * resolves a user fault (pc_pte_defer, trap_user), one entry, and only until anything
 * else walks a page table: pmap_md_pte_flush makes the store then, as it does before a
 * thread switch. => false: store it now.
 */
static inline bool pmap_md_pte_defer(uint64_t *pte, uint64_t val)
{
	struct pcpu *pc = pcpu_self();

	if (!pc->pc_pte_defer || pc->pc_pte_addr != 0)
		return false;
	pc->pc_pte_val = val;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	pc->pc_pte_addr = (uintptr_t)pte;
	return true;
}

/* The deferred store, if any, made now. The store before the slot is emptied: an
 * interrupt between the two only makes it again. */
static inline void pmap_md_pte_flush(void)
{
	struct pcpu *pc = pcpu_self();

	if (__predict_false(pc->pc_pte_addr != 0)) {
		__atomic_store_n((uint64_t *)(uintptr_t)pc->pc_pte_addr, pc->pc_pte_val,
		    __ATOMIC_RELEASE);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		pc->pc_pte_addr = 0;
	}
}

/* [sva, eva) on this CPU; global: the range is the kernel's (PG_G entries, which a CR3
 * load keeps). */
static inline void pmap_md_invl_range(vm_offset_t sva, vm_offset_t eva, bool global)
{
	/* One request either way: the range's pages by the stub's loop, or a flush. */
	if (atop(eva - sva) > PMAP_INVL_MAX_PAGES) {
		if (global)
			invltlb_glob();
		else
			invltlb();
		return;
	}
	invlpg_range(sva, eva);
}

static inline void pmap_md_invl_all(bool global)
{
	if (global)
		invltlb_glob();
	else
		invltlb();
}

static inline void pmap_md_load_root(vm_paddr_t cr3)
{
	struct pcpu *pc = pcpu_self();

	pc->pc_kcr3 = cr3;
	pc->pc_xcr3 = cr3;
	load_cr3(cr3);
}

/* The roots the stubs switch between on this CPU (exception.S): the one loaded (the
 * kernel's view) and the user one, 0 for none (no user mode on kernel_pmap). */
static inline void pmap_md_set_user_root(vm_paddr_t ucr3)
{
	pcpu_self()->pc_ucr3 = ucr3;
}
#endif

#endif /* AMD64_PMAP_INT_H */
