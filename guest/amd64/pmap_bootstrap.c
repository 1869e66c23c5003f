/*
 * pmap_bootstrap: the boot page tables (pmap_bootstrap_tables.S), kernel_pmap's from the
 * link on (pmap.c's kernel_pmap_store), get the whole direct map and lose the identity
 * map. Runs once, early in kmain (at CPL 3 like the whole kernel: its one CPL 0 need,
 * the identity map's invalidation, is a kernel request).
 *
 * The direct map: the boot tables already map physical [0, 1 GiB) at DMAP_BASE through
 * the boot page directory, and the page directories of GiB 1..DMAP_PD_GIB are prebuilt,
 * filled by the assembler (dmap_pd): the direct map costs one store per GiB of RAM
 * beyond the first, and a guest of at most 1 GiB (the usual micro-VM) costs none. A GiB
 * that holds any RAM is linked whole, as the PCI hole's GiB always was: what is not RAM
 * there is never accessed through it. Nothing is filled at run time: the first native
 * store into each of 32k table entries would still be a shadow-paging trap here.
 *
 * Beyond GiB DMAP_PD_GIB each GiB takes a 1 GiB page when the CPU has them (CPUID
 * 0x80000001 EDX[26], asked only then), else it is not mapped (said on the console).
 * KVM here offers no 1 GiB pages (a guest PDPTE with PS set faults with RSVD even when
 * CPUID claims them), so nothing below relies on them.
 */
#include "amd64/cpufunc.h"
#include "amd64/dmap.h"
#include "amd64/pmap_bootstrap.h"
#include "amd64/specialreg.h"
#include "amd64/vmparam.h"
#include "amd64/pcpu.h"
#include "kern/systm.h"
#include "vm/vm_dump.h"
#include "vm/vm_page.h"
#include "guest/amd64/pmap_int.h"

/* The writable views of the tables pmap_bootstrap.h shows read-only: only pmap names
 * them. */
extern uint64_t pmap_boot_pml4_w[512] __asm__("boot_pml4");
extern uint64_t pmap_dmap_pdpt_w[512] __asm__("dmap_pdpt");

_Static_assert(DMAP_PD_GIB < DMAP_MAX_GIB, "the prebuilt page directories fit the PDPT");

#define PMAP_BOOT_PHYS(va)  ((uint64_t)(uintptr_t)(va) - KERNBASE)

uint64_t kernel_pml4_pa = PMAP_BOOT_PHYS(boot_pml4);
bool dmap_1g_pages;
uint64_t dmap_end;

/* PG_U, never PG_G: the kernel runs at CPL 3 (pmap_bootstrap_tables.S). */
#define DMAP_PTE    (PG_V | PG_RW | PG_U | PG_A | PG_M | PG_NX)
#define DMAP_PDE    (PG_V | PG_RW | PG_U | PG_A | PG_M)

/* Map GiB [first, last] (beyond the prebuilt ones) with 1 GiB pages, if the CPU can. */
static void pmap_bootstrap_dmap_1g(uint64_t first, uint64_t last)
{
	uint32_t r[4];

	/* Leaf 0x80000001 exists on every CPU that reached long mode. */
	cpuid_count(0x80000001, 0, r);
	dmap_1g_pages = (r[3] & CPUIDX_EDX_PAGE1GB) != 0;
	if (!dmap_1g_pages) {
		printf("dmap: no 1 GiB pages: RAM above GiB %lu is not mapped\n",
		    (unsigned long)first);
		dmap_end = MIN(dmap_end, first * NBPDP);
		return;
	}
	for (uint64_t g = first; g <= last && g < DMAP_MAX_GIB; g++)
		pmap_dmap_pdpt_w[g] = (g * NBPDP) | DMAP_PTE | PG_PS;
}

/* RAM beyond GiB 0: out of line, so that the common boot does not pay its frame. */
static void __attribute__((noinline)) pmap_bootstrap_dmap_high(const struct bootinfo *bi)
{
	uint64_t high_first = 0, high_last = 0;

	/* Link the prebuilt page directory of each GiB that holds RAM: one store each. */
	for (unsigned i = 0; i < bi->bi_nram; i++) {
		const struct bi_range *r = &bi->bi_ram[i];
		uint64_t last = (r->bir_end - 1) / NBPDP;
		for (uint64_t g = MAX(r->bir_start / NBPDP, 1); g <= last; g++) {
			if (g > DMAP_PD_GIB) {
				high_first = high_first == 0 ? g : high_first;
				high_last = last;
				break;
			}
			pmap_dmap_pdpt_w[g] = PMAP_BOOT_PHYS(dmap_pd[g - 1]) | DMAP_PDE;
		}
	}
	if (high_first != 0)
		pmap_bootstrap_dmap_1g(high_first, high_last);
}

void pmap_bootstrap(const struct bootinfo *bi)
{
	uint64_t end = bi->bi_ram[bi->bi_nram - 1].bir_end;

	dmap_end = end;
	if (end > NBPDP)
		pmap_bootstrap_dmap_high(bi);

	/*
	 * Nothing runs at its physical address any more: drop the identity map so that
	 * null and other low pointers fault. The only identity translation ever used is
	 * the 2 MiB page of the entry code (and the GDT beside it); INVLPG drops it,
	 * global or not, and with it the paging-structure caches. Cheaper here than a
	 * full flush (CR4.PGE toggle), after which every page must be shadowed again.
	 */
	pmap_boot_pml4_w[0] = 0;
	invlpg(KERNEL_PHYS);
}

/* ---- user mode's view of the kernel ------------------------------------------------ */

extern char trap_stubs[], tss[], idt[], cpl0_stack[], ist_df_stack[], ist_nmi_stack[];
extern char ist_mc_stack[], ist_pf_stack[], idt_user[], utrap_stubs[], __cpl0_text_start[], __cpl0_text_end[], __usertramp_start[];
extern struct pcpu pcpu_array[];

/* A page of 0xff: every port refused. The TSS's I/O bitmap address maps it in user
 * mode's root, so a process reaches none of the kernel's ports (segments.S). */
static const uint8_t pmap_iomap_deny[4096] __attribute__((aligned(4096))) = {
	[0 ... 4095] = 0xff,
};

#define PMAP_STUB_SV    (PG_V | PG_A | PG_NX)           /* supervisor, read-only */
#define PMAP_STUB_UPDE  (PG_V | PG_RW | PG_U | PG_A | PG_M)

static uint64_t *pmap_stub_pt;

/* Map [va, va + len) of the image (KERNBASE + pa) in the stubs' page table. */
static void pmap_stub_map(const void *va, uint64_t len, uint64_t bits)
{
	uint64_t s = (uint64_t)(uintptr_t)va & ~(uint64_t)PAGE_MASK;
	uint64_t e = ((uint64_t)(uintptr_t)va + len + PAGE_MASK) & ~(uint64_t)PAGE_MASK;

	for (uint64_t p = s; p < e; p += PAGE_SIZE) {
		KASSERT(p - KERNBASE < NBPDR, ("pmap_stub_map: %#lx beyond the first 2 MiB",
		    (unsigned long)p));
		pmap_stub_pt[pmap_pt_index(p)] = (p - KERNBASE) | bits;
	}
}

/*
 * The tables of user mode's root for slot PMAP_STUB_SLOT (KERNBASE's), shared by every
 * process: what the CPU and the stubs touch before the kernel's root is loaded again
 * (exception.S: the entries from user mode, the returns to it) and nothing else. Supervisor-only but
 * the syscall trampoline's page. Three pages, never freed.
 * => once, after pmap_init, before the first process.
 */
void pmap_stub_init(void)
{
	vm_page_t m[3];

	if (pmap_stub_pml4e != 0)
		return;
	for (int i = 0; i < 3; i++) {
		m[i] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM | VM_ALLOC_WIRED | VM_ALLOC_ZERO |
		    VM_ALLOC_WAITOK);
		dump_add_page(VM_PAGE_TO_PHYS(m[i]));   /* page tables: in every dump */
	}
	uint64_t *pdpt = vm_phys_to_dmap(VM_PAGE_TO_PHYS(m[0]));
	uint64_t *pd = vm_phys_to_dmap(VM_PAGE_TO_PHYS(m[1]));
	pmap_stub_pt = vm_phys_to_dmap(VM_PAGE_TO_PHYS(m[2]));
	pdpt[pmap_pdpt_index(KERNBASE)] = VM_PAGE_TO_PHYS(m[1]) | PMAP_STUB_UPDE;
	pd[pmap_pd_index(KERNBASE)] = VM_PAGE_TO_PHYS(m[2]) | PMAP_STUB_UPDE;

	pmap_stub_map(__cpl0_text_start, (uint64_t)(__cpl0_text_end - __cpl0_text_start),
	    PG_V | PG_A);
	pmap_stub_map(tss, PAGE_SIZE, PMAP_STUB_SV | PG_RW | PG_M);     /* RSP0, GDT */
	pmap_stub_pt[pmap_pt_index((uint64_t)(uintptr_t)tss + TSS_IOMAP_OFF)] =
	    ((uint64_t)(uintptr_t)pmap_iomap_deny - KERNBASE) | PMAP_STUB_SV;
	/* User mode's IDT where the kernel's is (exception.S): its gates lead to the stubs
	 * that take a trap for the user's. */
	pmap_stub_pt[pmap_pt_index((uint64_t)(uintptr_t)idt)] =
	    ((uint64_t)(uintptr_t)idt_user - KERNBASE) | PMAP_STUB_SV;
	pmap_stub_map(utrap_stubs, PAGE_SIZE, PG_V | PG_A);             /* executable */
	pmap_stub_map(cpl0_stack, CPL0STACK_SIZE, PMAP_STUB_SV | PG_RW | PG_M);
	pmap_stub_map(ist_df_stack, ISTSTACK_SIZE, PMAP_STUB_SV | PG_RW | PG_M);
	pmap_stub_map(ist_nmi_stack, ISTSTACK_SIZE, PMAP_STUB_SV | PG_RW | PG_M);
	pmap_stub_map(ist_mc_stack, ISTSTACK_SIZE, PMAP_STUB_SV | PG_RW | PG_M);
	pmap_stub_map(ist_pf_stack, ISTSTACK_SIZE, PMAP_STUB_SV | PG_RW | PG_M);
	pmap_stub_map(pcpu_array, sizeof(struct pcpu) * MAXCPU, PMAP_STUB_SV | PG_RW | PG_M);
	pmap_stub_map(__usertramp_start, PAGE_SIZE, PG_V | PG_A | PG_U);  /* user RX */
	pmap_stub_pml4e = VM_PAGE_TO_PHYS(m[0]) | PMAP_STUB_UPDE;
}
