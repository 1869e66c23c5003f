/*
 * vm_meter: the VM core's counters in one snapshot, struct vmmeter, for vmstat-like
 * tools. The layout is fixed and little-endian, all fields uint64_t in this order, so a
 * host tool reads it straight out of guest memory or a dump (the guest publishes it
 * through hc_dump_desc.vmmeter). New fields go at the end; vm_size says how many bytes
 * the writer filled, so an older reader takes the prefix it knows.
 */
#ifndef VM_VM_METER_H
#define VM_VM_METER_H

#include <stdint.h>

#define VMMETER_MAGIC       0x544d4d56u     /* "VMMT" */
#define VMMETER_VERSION     1

struct vmmeter {
	uint32_t vm_magic;              /* VMMETER_MAGIC */
	uint32_t vm_version;            /* VMMETER_VERSION */
	uint64_t vm_size;               /* sizeof(struct vmmeter) of the writer */
	uint64_t v_page_size;           /* bytes in a page */
	/* Pages now. */
	uint64_t v_page_count;          /* managed pages */
	uint64_t v_free_count;          /* free (buddy, pre-zeroed pool, per-CPU caches) */
	uint64_t v_zero_count;          /* of which pre-zeroed */
	uint64_t v_active_count;
	uint64_t v_inactive_count;
	uint64_t v_laundry_count;
	uint64_t v_wire_count;
	uint64_t v_free_target;         /* the page daemon frees up to here */
	uint64_t v_free_min;            /* below it the daemon runs at once */
	uint64_t v_inactive_target;
	uint64_t v_free_waiters;        /* threads asleep for free pages */
	/* Events since boot. */
	uint64_t v_faults;              /* page faults vm_fault resolved */
	uint64_t v_zfod;                /* pages zero-filled by faults (with those
	                                   fault-around mapped ahead) */
	uint64_t v_cow_faults;          /* of which copy-on-write copies */
	uint64_t v_majfaults;           /* of which waited for a pager */
	uint64_t v_pageins;             /* pages read from swap */
	uint64_t v_pageouts;            /* pages written to swap */
	uint64_t v_pdpasses;            /* page daemon passes */
	uint64_t v_pdscanned;
	uint64_t v_pdfreed;
	uint64_t v_pdreactivated;
	uint64_t v_pdlaundered;         /* dirty pages sent to the pager */
	uint64_t v_oom_kills;
	uint64_t v_alloc_fails;
	/* Swap now. */
	uint64_t v_swap_pages;          /* swap space configured, pages */
	uint64_t v_swap_used;           /* pages of it in use */
};

/* Fill *vm with the counters now: racy sums, no lock held across the whole. Safe from
 * the panic path (takes no lock that may be held). */
void vm_meter_snapshot(struct vmmeter *vm);

#endif /* VM_VM_METER_H */
