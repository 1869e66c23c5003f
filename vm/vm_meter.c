/*
 * vm_meter: struct vmmeter from the modules' own counters (vm/vm_meter.h). Every source
 * is read without waiting for a lock -- vm_page's counts and the swap pager's under
 * their lock only when it is free, vm_fault's per-CPU counters and the page daemon's as
 * they are -- so the panic path may call it whatever the panicking thread holds.
 */
#include "vm/swap_pager.h"
#include "vm/vm_fault.h"
#include "vm/vm_meter.h"
#include "vm/vm_page.h"

#ifndef VM_PLATFORM_PCPU_COUNTER
uint64_t vm_pcpu_counters[MAXCPU][VM_PCPU_NCOUNTERS];     /* vm_platform.h */
#endif

void vm_meter_snapshot(struct vmmeter *vm)
{
	struct vm_page_counts pc;
	struct vm_fault_stats fs;
	struct swap_pager_stats ss;

	vm_page_counts_snapshot_nowait(&pc);
	vm_fault_stats(&fs);
	swap_pager_stats_nowait(&ss);
	*vm = (struct vmmeter){
		.vm_magic = VMMETER_MAGIC,
		.vm_version = VMMETER_VERSION,
		.vm_size = sizeof(struct vmmeter),
		.v_page_size = PAGE_SIZE,
		.v_page_count = pc.v_page_count,
		.v_free_count = pc.v_free_count,
		.v_zero_count = pc.v_zero_count,
		.v_active_count = pc.v_active_count,
		.v_inactive_count = pc.v_inactive_count,
		.v_laundry_count = pc.v_laundry_count,
		.v_wire_count = pc.v_wire_count,
		.v_free_target = pc.v_free_target,
		.v_free_min = pc.v_free_min,
		.v_inactive_target = pc.v_inactive_target,
		.v_free_waiters = pc.v_free_waiters,
		.v_faults = fs.vfs_faults,
		.v_zfod = fs.vfs_zero,
		.v_cow_faults = fs.vfs_cow,
		.v_majfaults = fs.vfs_major,
		.v_pageins = ss.sps_pageins,
		.v_pageouts = ss.sps_pageouts,
		.v_pdpasses = pc.v_pdpasses,
		.v_pdscanned = pc.v_pdscanned,
		.v_pdfreed = pc.v_pdfreed,
		.v_pdreactivated = pc.v_pdreactivated,
		.v_pdlaundered = pc.v_pdlaundered,
		.v_oom_kills = pc.v_oom_kills,
		.v_alloc_fails = pc.v_alloc_fails,
		.v_swap_pages = ss.sps_total,
		.v_swap_used = ss.sps_used,
	};
}
