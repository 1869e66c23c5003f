/*
 * Simulated physical memory of the host test platform, its direct map, the page
 * operations, and the boot of the VM core onto it.
 *
 * The whole physical span [base, end of last segment) is one reservation, so the direct
 * map is a single offset; RAM segments are readable and writable, holes PROT_NONE.
 * MAP_NORESERVE: a 1 GiB machine costs only the pages the test touches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vm/vm.h"
#include "vm/pmap.h"
#include "vm/vm_startup.h"
#include "tests/support/vm_host.h"

static uint8_t *vm_host_arena;          /* host address of physical vm_host_base */
static uint64_t vm_host_arena_len;
static vm_paddr_t vm_host_base;
static int vm_host_nseg;
static vm_paddr_t vm_host_seg_start[VM_HOST_MAXSEGS], vm_host_seg_end[VM_HOST_MAXSEGS];
static bool vm_host_no_page_ops;
static bool vm_host_single_thread;
static struct vm_host_page_ops vm_host_ops;

uintptr_t vm_host_dmap_delta;

#ifdef INVARIANTS
void vm_host_dmap_check_pa(vm_paddr_t pa)
{
	KASSERT(pa >= vm_host_base && pa - vm_host_base < vm_host_arena_len,
	    ("vm_phys_to_dmap: pa %#llx outside the machine [%#llx, %#llx)",
	    (unsigned long long)pa, (unsigned long long)vm_host_base,
	    (unsigned long long)(vm_host_base + vm_host_arena_len)));
}

void vm_host_dmap_check_va(const void *va)
{
	const uint8_t *p = va;

	KASSERT(p >= vm_host_arena && (uint64_t)(p - vm_host_arena) < vm_host_arena_len,
	    ("vm_dmap_to_phys: %p is not in the direct map", va));
}
#endif

bool vm_plat_has_page_ops(void)
{
	return !vm_host_no_page_ops;
}

bool vm_plat_others_can_free(void)
{
	return !vm_host_single_thread;
}

uint64_t vm_plat_zero_pages(const struct vm_page_run *runs, unsigned nruns)
{
	uint64_t done = 0;

	if (vm_host_no_page_ops)
		return 0;
	for (unsigned i = 0; i < nruns; i++) {
		memset(vm_phys_to_dmap(runs[i].pa), 0, ptoa(runs[i].npages));
		done += runs[i].npages;
	}
	__atomic_add_fetch(&vm_host_ops.hpo_zero_calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&vm_host_ops.hpo_zero_pages, done, __ATOMIC_RELAXED);
	return done;
}

uint64_t vm_plat_discard_pages(const struct vm_page_run *runs, unsigned nruns)
{
	uint64_t done = 0;

	if (vm_host_no_page_ops)
		return 0;
	for (unsigned i = 0; i < nruns; i++) {
		void *va = vm_phys_to_dmap(runs[i].pa);
		/* Private anonymous memory reads as zero after MADV_DONTNEED, like a
		 * page the VMM dropped. */
		if (madvise(va, ptoa(runs[i].npages), MADV_DONTNEED) != 0)
			panic("vm_plat_discard_pages: madvise(%p) failed", va);
		done += runs[i].npages;
	}
	__atomic_add_fetch(&vm_host_ops.hpo_discard_calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&vm_host_ops.hpo_discard_pages, done, __ATOMIC_RELAXED);
	return done;
}

void vm_host_page_ops_counts(struct vm_host_page_ops *out)
{
	out->hpo_zero_calls = __atomic_load_n(&vm_host_ops.hpo_zero_calls, __ATOMIC_RELAXED);
	out->hpo_zero_pages = __atomic_load_n(&vm_host_ops.hpo_zero_pages, __ATOMIC_RELAXED);
	out->hpo_discard_calls = __atomic_load_n(&vm_host_ops.hpo_discard_calls,
	    __ATOMIC_RELAXED);
	out->hpo_discard_pages = __atomic_load_n(&vm_host_ops.hpo_discard_pages,
	    __ATOMIC_RELAXED);
}

int vm_host_nsegs(void)
{
	return vm_host_nseg;
}

void vm_host_seg(int i, uint64_t *start, uint64_t *end)
{
	KASSERT(i >= 0 && i < vm_host_nseg, ("vm_host_seg: no segment %d", i));
	*start = vm_host_seg_start[i];
	*end = vm_host_seg_end[i];
}

static void vm_host_map(const struct vm_host_config *cfg)
{
	int nsegs = cfg->nsegs == 0 ? 1 : cfg->nsegs;
	uint64_t seglen;

	if (nsegs < 1 || nsegs > VM_HOST_MAXSEGS)
		panic("vm_host_boot: %d segments (1..%d)", nsegs, VM_HOST_MAXSEGS);
	seglen = trunc_page(cfg->ram_bytes / (uint64_t)nsegs);
	if (seglen < 16 * PAGE_SIZE)
		panic("vm_host_boot: %llu bytes of RAM is too little",
		    (unsigned long long)cfg->ram_bytes);
	if (vm_host_arena != NULL)
		munmap(vm_host_arena, vm_host_arena_len);
	vm_host_base = cfg->base_pa == 0 ? 0x100000 : trunc_page(cfg->base_pa);
	vm_host_arena_len = seglen * (uint64_t)nsegs + round_page(cfg->hole_bytes) *
	    (uint64_t)(nsegs - 1);
	vm_host_arena = mmap(NULL, vm_host_arena_len, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm_host_arena == MAP_FAILED)
		panic("vm_host_boot: cannot map %llu bytes of simulated RAM",
		    (unsigned long long)vm_host_arena_len);
	vm_host_nseg = nsegs;
	for (int i = 0; i < nsegs; i++) {
		uint64_t off = (uint64_t)i * (seglen + round_page(cfg->hole_bytes));
		if (mprotect(vm_host_arena + off, seglen, PROT_READ | PROT_WRITE) != 0)
			panic("vm_host_boot: mprotect failed");
		vm_host_seg_start[i] = vm_host_base + off;
		vm_host_seg_end[i] = vm_host_base + off + seglen;
	}
	vm_host_dmap_delta = (uintptr_t)vm_host_arena - (uintptr_t)vm_host_base;
}

void vm_host_boot(const struct vm_host_config *cfg)
{
	if (cfg->ncpus < 1 || cfg->ncpus > MAXCPU)
		panic("vm_host_boot: %d cpus (1..%d)", cfg->ncpus, MAXCPU);
	if (vm_host_td_critnest != 0)
		panic("vm_host_boot: inside a critical section");
	vm_host_map(cfg);
	vm_host_ncpu = cfg->ncpus;
	memset(vm_host_cpu_crit_owner, 0, sizeof(vm_host_cpu_crit_owner));
	vm_host_td_cpu = 0;
	vm_host_no_page_ops = cfg->no_page_ops;
	vm_host_single_thread = cfg->single_thread;
	memset(&vm_host_ops, 0, sizeof(vm_host_ops));

	vm_startup_reset();
	/* pmap is the machine's, outside vm_startup: it forgets the old RAM here, and
	 * pmap_init (called by its first user) sets it up on the new. */
	pmap_reset();
	const char *bad;
	if (cfg->blacklist != NULL && vm_phys_set_blacklist(cfg->blacklist, &bad) != 0)
		panic("vm_host_boot: blacklist \"%s\" refused at \"%s\"", cfg->blacklist, bad);
	for (int i = 0; i < vm_host_nseg; i++)
		vm_phys_add_seg(vm_host_seg_start[i], vm_host_seg_end[i]);
	vm_startup();
}

void vm_host_boot_default(void)
{
	struct vm_host_config cfg = { .ram_bytes = 64ull << 20, .ncpus = 4 };

	vm_host_boot(&cfg);
}
