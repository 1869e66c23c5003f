/*
 * The kernel map and MemGuard on any running VM core (suite memguard; `vmm run
 * --ktest=memguard`): the non-fatal half of what the integration test
 * (tests/integration/cases/40-memguard.sh) proves by panicking. Ranges mapped then
 * unmapped in kernel_pmap, the guard page and freed ranges unmapped, the fault lookup's
 * answers; in the guest, stores and loads through the new mappings. Page counts back
 * where they were (what stays is kernel_pmap's page tables and MemGuard's records of
 * ranges still in its FIFO, made before the count is taken or bounded).
 */
#include "vm/malloc.h"
#include "vm/memguard.h"
#include "vm/pmap.h"
#include "vm/uma.h"
#include "vm/vm_errno.h"
#include "vm/vm_kern.h"
#include "vm/vm_page.h"
#include "tests/vmtests/vmtest.h"
#include "tests/vmtests/vmt_pmap.h"
#ifndef VM_HOST
#include "amd64/trap.h"
#endif

MALLOC_DEFINE(M_MGVMT, "memguard-vmtest");

/* Free pages with UMA's caches emptied; the first call makes the kernel map, MemGuard's
 * arena and their first page tables, which stay. */
static uint64_t mgt_free_pages(void)
{
	static bool warm;

	/* The kernel map needs kernel_pmap: the guest's boot made it, a host test's boot
	 * leaves it to the test (pmap_init is idempotent). */
	pmap_init();
	if (!warm) {
		/* MemGuard's arena first: it takes the kernel map's lowest GiB, and the
		 * map's own ranges then come from above it, where the kmem_alloc here makes
		 * the page tables they need. */
		void *p = memguard_alloc(1, M_WAITOK, "warm", MEMGUARD_KIND_MALLOC);
		if (p != NULL)
			memguard_free(p);
		vm_offset_t a = kmem_alloc(PAGE_SIZE, M_WAITOK);
		kmem_free(a, PAGE_SIZE);
		warm = true;
	}
	return vmt_count_free_pages();
}

VMTEST(memguard, kmem_alloc_free)
{
	uint64_t free0 = mgt_free_pages(), kp0 = kmem_pages();
	vm_offset_t a = kmem_alloc(3 * PAGE_SIZE, M_WAITOK | M_ZERO);

	VMT_ASSERT(a >= KMEM_MIN_ADDRESS && a < KMEM_MAX_ADDRESS);
	VMT_ASSERT_EQ(kmem_pages(), kp0 + 3);
	for (int i = 0; i < 3; i++) {
		vm_paddr_t pa = pmap_extract(kernel_pmap, a + ptoa(i));
		VMT_ASSERT(pa != 0);
		VMT_ASSERT_EQ(((uint64_t *)vm_phys_to_dmap(pa))[7], 0);
	}
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, a + ptoa(3)), 0);
#ifndef VM_HOST
	/* The kernel root is loaded: a store through the map lands in the page. */
	volatile uint64_t *p = (volatile uint64_t *)(a + PAGE_SIZE);
	p[1] = 0x6b6d656dull;
	VMT_ASSERT_EQ(((uint64_t *)vm_phys_to_dmap(pmap_extract(kernel_pmap, a +
	    PAGE_SIZE)))[1], 0x6b6d656dull);
#endif
	kmem_free(a, 3 * PAGE_SIZE);
	for (int i = 0; i < 3; i++)
		VMT_ASSERT_EQ(pmap_extract(kernel_pmap, a + ptoa(i)), 0);
	VMT_ASSERT_EQ(kmem_pages(), kp0);
	VMT_ASSERT_EQ(mgt_free_pages(), free0);
}

VMTEST(memguard, guarded_kmalloc)
{
	struct memguard_fault_info fi;
	uint64_t free0 = mgt_free_pages();
	uint64_t res0 = pmap_resident_count(kernel_pmap);
	uint8_t *p, *q;
	vm_offset_t va;

	VMT_ASSERT_EQ(memguard_select("memguard-vmtest"), 0);
	p = kmalloc(200, M_MGVMT, M_WAITOK | M_ZERO);
	q = kmalloc(200, M_TEMP, M_WAITOK);
	memguard_select(NULL);
	va = (vm_offset_t)p;
	VMT_ASSERT(memguard_owns(p) && !memguard_owns(q));
	VMT_ASSERT_EQ(kmalloc_usable_size(p), 208);
	VMT_ASSERT_EQ((va + 208) & PAGE_MASK, 0);
	VMT_ASSERT(pmap_extract(kernel_pmap, va) != 0);
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, va + 208), 0);
	VMT_ASSERT_EQ(memguard_fault_lookup(va + 208, &fi), MEMGUARD_FAULT_OVERRUN);
	VMT_ASSERT(strcmp(fi.mfi_name, "memguard-vmtest") == 0);
	VMT_ASSERT_EQ(fi.mfi_addr, va);
	VMT_ASSERT_EQ(memguard_fault_lookup(va + 207, &fi), MEMGUARD_FAULT_NONE);
#ifndef VM_HOST
	/* Every usable byte is there, zeroed, and writable. */
	for (int i = 0; i < 208; i++) {
		VMT_ASSERT_EQ(p[i], 0);
		p[i] = (uint8_t)i;
	}
	VMT_ASSERT_EQ(((volatile uint8_t *)p)[207], 207);
#endif
	kfree(p, M_MGVMT);
	kfree(q, M_TEMP);
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, va), 0);
	VMT_ASSERT_EQ(memguard_fault_lookup(va + 5, &fi), MEMGUARD_FAULT_USE_AFTER_FREE);
	VMT_ASSERT(strcmp(fi.mfi_name, "memguard-vmtest") == 0);
	VMT_ASSERT_EQ(fi.mfi_size, 200);
	VMT_ASSERT_EQ(pmap_resident_count(kernel_pmap), res0);
	/* The record and map entry of the range now in the FIFO may take a page. */
	VMT_ASSERT(free0 - mgt_free_pages() <= 2);
}

VMTEST(memguard, fifo_delays_reuse)
{
	struct memguard_fault_info fi;
	struct memguard_stats st;

	pmap_init();            /* as in mgt_free_pages */
	uint64_t kp0 = kmem_pages();    /* others' (the guest's thread stacks) stay */
	void *first = memguard_alloc(32, M_WAITOK, "fifo", MEMGUARD_KIND_ZONE);
	vm_offset_t start = trunc_page((vm_offset_t)first);

	VMT_ASSERT(first != NULL);
	memguard_free(first);
	/* Each of DEPTH - 1 alloc/free pairs finds the range still reserved. */
	for (int i = 0; i < MEMGUARD_FIFO_DEPTH - 1; i++) {
		void *p = memguard_alloc(32, M_WAITOK, "fifo", MEMGUARD_KIND_ZONE);
		VMT_ASSERT(p != NULL);
		VMT_ASSERT(trunc_page((vm_offset_t)p) != start);
		memguard_free(p);
	}
	memguard_get_stats(&st);
	VMT_ASSERT_EQ(st.mgs_fifo, MEMGUARD_FIFO_DEPTH);
	/* Whether the range is still waiting depends on how many frees came before this
	 * test (the FIFO is the machine's); within DEPTH more it leaves, and as the lowest
	 * free range of its size it is handed out again. */
	bool reused = false;
	for (int i = 0; i < MEMGUARD_FIFO_DEPTH && !reused; i++) {
		void *p = memguard_alloc(32, M_WAITOK, "fifo", MEMGUARD_KIND_ZONE);
		reused = trunc_page((vm_offset_t)p) == start;
		if (reused)
			VMT_ASSERT_EQ(memguard_fault_lookup(start + PAGE_SIZE, &fi),
			    MEMGUARD_FAULT_OVERRUN);
		memguard_free(p);
	}
	VMT_ASSERT(reused);
	VMT_ASSERT_EQ(kmem_pages(), kp0);
}

/*
 * Underruns (MEMGUARD_OPT_GUARD_AROUND): the object starts its first page, the page
 * before is an unmapped guard as is the one after; a fault there is an underrun naming
 * the type (the panic's words, from memguard_fault_describe); each range spans its two
 * guards, so the next one starts after them; freed, the whole range (front guard
 * included) is a use after free; the option applies to allocations made while it is
 * on. In the guest a real store before the object faults where the test expects it.
 */
VMTEST(memguard, underrun_guard_around)
{
	struct memguard_fault_info fi;
	struct memguard_stats st0, st;
	char msg[224], want[224];
	uint64_t free0 = mgt_free_pages();
	uint64_t res0 = pmap_resident_count(kernel_pmap);
	uint8_t *p, *q, *r;
	vm_offset_t va, vq;

	memguard_get_stats(&st0);
	VMT_ASSERT_EQ(memguard_set_options(0x80), EINVAL);
	VMT_ASSERT_EQ(memguard_get_options(), 0);
	VMT_ASSERT_EQ(memguard_select("memguard-vmtest"), 0);
	VMT_ASSERT_EQ(memguard_set_options(MEMGUARD_OPT_GUARD_AROUND), 0);
	p = kmalloc(100, M_MGVMT, M_WAITOK | M_ZERO);
	q = kmalloc(PAGE_SIZE + 1, M_MGVMT, M_WAITOK);
	VMT_ASSERT_EQ(memguard_set_options(0), 0);
	r = kmalloc(100, M_MGVMT, M_WAITOK);    /* made after: the usual layout */
	memguard_select(NULL);
	va = (vm_offset_t)p;
	vq = (vm_offset_t)q;
	VMT_ASSERT(memguard_owns(p) && memguard_owns(q) && memguard_owns(r));
	memguard_get_stats(&st);
	VMT_ASSERT_EQ(st.mgs_around - st0.mgs_around, 2);
	VMT_ASSERT_EQ(st.mgs_live - st0.mgs_live, 3);
	/* Page-aligned, usable size as without the option (the type's counts). */
	VMT_ASSERT_EQ(va & PAGE_MASK, 0);
	VMT_ASSERT_EQ(vq & PAGE_MASK, 0);
	VMT_ASSERT_EQ(kmalloc_usable_size(p), 112);
	VMT_ASSERT_EQ(kmalloc_usable_size(q), PAGE_SIZE + 16);
	VMT_ASSERT_EQ(((vm_offset_t)r + 112) & PAGE_MASK, 0);
	/* Guard, data, guard. */
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, va - PAGE_SIZE), 0);
	VMT_ASSERT(pmap_extract(kernel_pmap, va) != 0);
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, va + PAGE_SIZE), 0);
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, vq - 1), 0);
	VMT_ASSERT(pmap_extract(kernel_pmap, vq + PAGE_SIZE) != 0);
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, vq + 2 * PAGE_SIZE), 0);
	/* Each range spans both its guards: ranges handed out lowest first never share
	 * a guard page with a neighbour's data. */
	VMT_ASSERT(vq >= va + 3 * PAGE_SIZE || va >= vq + 4 * PAGE_SIZE);
	/* The faults' answers. */
	VMT_ASSERT_EQ(memguard_fault_lookup(va - 1, &fi), MEMGUARD_FAULT_UNDERRUN);
	VMT_ASSERT(strcmp(fi.mfi_name, "memguard-vmtest") == 0);
	VMT_ASSERT_EQ(fi.mfi_addr, va);
	VMT_ASSERT_EQ(fi.mfi_size, 100);
	VMT_ASSERT_EQ(memguard_fault_lookup(va - PAGE_SIZE, &fi), MEMGUARD_FAULT_UNDERRUN);
	VMT_ASSERT_EQ(memguard_fault_lookup(va + PAGE_SIZE, &fi), MEMGUARD_FAULT_OVERRUN);
	VMT_ASSERT_EQ(memguard_fault_lookup(va + PAGE_SIZE - 1, &fi), MEMGUARD_FAULT_NONE);
	VMT_ASSERT_EQ(memguard_fault_lookup(vq - 8, &fi), MEMGUARD_FAULT_UNDERRUN);
	VMT_ASSERT_EQ(fi.mfi_addr, vq);
	VMT_ASSERT_EQ(memguard_fault_lookup((vm_offset_t)r - 1, &fi), MEMGUARD_FAULT_NONE);
	VMT_ASSERT(memguard_fault_describe(va - 1, true, msg, sizeof(msg)));
	snprintf(want, sizeof(want), "memguard: underrun (write at %#lx, 1 byte before the "
	    "start) of a 100-byte allocation at %#lx (malloc type memguard-vmtest)",
	    (unsigned long)(va - 1), (unsigned long)va);
	VMT_ASSERT_MSG(strcmp(msg, want) == 0, "the panic would say '%s'", msg);
	VMT_ASSERT(!memguard_fault_describe((vm_offset_t)r - 1, false, msg, sizeof(msg)));
#ifndef VM_HOST
	/* A real store one byte before the object: the page fault the handler would
	 * have turned into that panic, at that address. */
	struct trap_record rec;
	uint8_t v = 0xde;
	trap_expect(T_PF);
	__asm__ volatile(TRAP_FIXUP("movb %0, (%1)") : : "q"(v), "r"(va - 1) : "memory");
	VMT_ASSERT(trap_expect_done(&rec));
	VMT_ASSERT_EQ(rec.tr_cr2, va - 1);
	VMT_ASSERT(rec.tr_err & PGEX_W);
	VMT_ASSERT(memguard_fault_describe(rec.tr_cr2, true, msg, sizeof(msg)));
	VMT_ASSERT_MSG(strcmp(msg, want) == 0, "the panic would say '%s'", msg);
	/* Every usable byte is there, zeroed. */
	for (int i = 0; i < 112; i++)
		VMT_ASSERT_EQ(((volatile uint8_t *)p)[i], 0);
	p[111] = 1;
#endif
	kfree(p, M_MGVMT);
	kfree(q, M_MGVMT);
	kfree(r, M_MGVMT);
	/* The front guard belongs to the freed range too. */
	VMT_ASSERT_EQ(memguard_fault_lookup(va - 1, &fi), MEMGUARD_FAULT_USE_AFTER_FREE);
	VMT_ASSERT_EQ(fi.mfi_addr, va);
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, va), 0);
	VMT_ASSERT_EQ(pmap_extract(kernel_pmap, vq + PAGE_SIZE), 0);
	memguard_get_stats(&st);
	VMT_ASSERT_EQ(st.mgs_around, st0.mgs_around);
	VMT_ASSERT_EQ(st.mgs_live, st0.mgs_live);
	VMT_ASSERT_EQ(pmap_resident_count(kernel_pmap), res0);
	/* Records and map entries of the ranges now in the FIFO may take a page. */
	VMT_ASSERT(free0 - mgt_free_pages() <= 2);
}
