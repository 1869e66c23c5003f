/*
 * The simulated machine the VM core runs on in host tests and benchmarks: RAM is an
 * anonymous mapping (zero on first touch, like fresh guest RAM) at a chosen physical
 * base, optionally split into segments with holes between them (the holes are mapped
 * PROT_NONE, so a stray access faults); the direct map is the mapping itself.
 *
 * vm_host_boot maps the RAM and runs the boot sequence of vm/vm_startup.h. It may be
 * called again (in a forked Check child that already booted, or in a benchmark): the
 * previous RAM is unmapped and every VM-core global is reset first. Anything the caller
 * still holds from the previous boot is gone.
 */
#ifndef TESTS_SUPPORT_VM_HOST_H
#define TESTS_SUPPORT_VM_HOST_H

#include <stdbool.h>
#include <stdint.h>

#define VM_HOST_MAXSEGS     4

struct vm_host_config {
	uint64_t ram_bytes;         /* total RAM, split evenly over the segments */
	int ncpus;                  /* 1 .. MAXCPU */
	int nsegs;                  /* 1 .. VM_HOST_MAXSEGS (0 means 1) */
	uint64_t hole_bytes;        /* gap between consecutive segments */
	uint64_t base_pa;           /* physical address of RAM (0 means 1 MiB) */
	const char *blacklist;      /* vm.blacklist= value, or NULL */
	bool no_page_ops;           /* pretend the platform cannot zero/discard pages */
	bool single_thread;         /* like the guest: nothing else could free memory */
};

void vm_host_boot(const struct vm_host_config *cfg);
void vm_host_boot_default(void);    /* 64 MiB, 4 CPUs, one segment at 1 MiB */

/* The CPU the calling thread runs on; threads a test creates must set one. */
void vm_host_set_cpu(int cpu);

/* The RAM as booted: segment i is [start, end) in physical addresses. */
int vm_host_nsegs(void);
void vm_host_seg(int i, uint64_t *start, uint64_t *end);

/* Page operations done by the platform since boot: calls and pages. */
struct vm_host_page_ops {
	uint64_t hpo_zero_calls, hpo_zero_pages;
	uint64_t hpo_discard_calls, hpo_discard_pages;
};
void vm_host_page_ops_counts(struct vm_host_page_ops *out);

/*
 * The out-of-memory hook (vm_plat_oom_kill) as a recorder: from now on it counts its
 * calls (from 0), runs action(arg) when not NULL (a test's stand-in for the victim's
 * memory being freed) and returns answer. Until set: false, no action.
 */
void vm_host_oom_set(bool answer, void (*action)(void *), void *arg);
uint64_t vm_host_oom_calls_made(void);
/* Major faults (vm_plat_fault_major) since the process started. */
uint64_t vm_host_majflt_count(void);

#endif /* TESTS_SUPPORT_VM_HOST_H */
