/*
 * The layout table a dump reader follows (devices/dump_layout.h): where the fields of
 * the kernel's structures are, built by the compiler, so that `vmm dump ps` and `maps`
 * read this kernel's structures without being compiled against them. The descriptor
 * names it (hc_dump_desc.layout, dev/hostcall.c): it is in the kernel image, which every
 * dump carries.
 */
#include "devices/dump_layout.h"
#include "kern/dump_layout.h"
#include "kern/proc.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/vm_map.h"
#include "vm/vm_object.h"
#include "vm/vm_vmspace.h"

/* Each field has the width the header promises; a change of type must change both. */
#define DL_WIDTH(type, field, bytes) \
	_Static_assert(sizeof(((type *)0)->field) == (bytes), #type "." #field " width")

DL_WIDTH(struct proc, p_pid, 4);
DL_WIDTH(struct proc, p_comm, PROC_COMM_MAX);
DL_WIDTH(struct proc, p_parent, 8);
DL_WIDTH(struct proc, p_allnext, 8);
DL_WIDTH(struct proc, p_zombie, 1);
DL_WIDTH(struct proc, p_vmspace, 8);
DL_WIDTH(struct proc, p_thread, 8);
DL_WIDTH(struct proc, p_faults, 8);
DL_WIDTH(struct proc, p_majflt, 8);
DL_WIDTH(struct thread, td_tid, 4);
DL_WIDTH(struct thread, td_state, 4);
DL_WIDTH(struct vmspace, vm_pmap.pm_stats.resident_count, 8);
DL_WIDTH(struct vm_map, vmap_nentries, 4);
DL_WIDTH(struct vm_map_entry, vme_start, 8);
DL_WIDTH(struct vm_map_entry, vme_end, 8);
DL_WIDTH(struct vm_map_entry, vme_next, 8);
DL_WIDTH(struct vm_map_entry, vme_object, 8);
DL_WIDTH(struct vm_map_entry, vme_offset, 8);
DL_WIDTH(struct vm_map_entry, vme_protection, 4);
DL_WIDTH(struct vm_map_entry, vme_max_protection, 4);
DL_WIDTH(struct vm_map_entry, vme_inheritance, 1);
DL_WIDTH(struct vm_map_entry, vme_wired_count, 4);
DL_WIDTH(struct vm_map_entry, vme_user_wired, 1);
DL_WIDTH(struct vm_object, vo_size, 8);
DL_WIDTH(struct vm_object, vo_resident_page_count, 8);
DL_WIDTH(struct vm_object, vo_swap.sm_count, 8);
DL_WIDTH(struct vm_object, vo_backing_object, 8);
DL_WIDTH(struct vm_object, vo_backing_object_offset, 8);
DL_WIDTH(struct vm_object, vo_ref_count, 4);
DL_WIDTH(struct vm_object, vo_type, 1);
/* The header's values: VM_PROT_* bits as documented there. */
_Static_assert(VM_PROT_READ == 1 && VM_PROT_WRITE == 2 && VM_PROT_EXECUTE == 4,
    "dump_layout.h documents VM_PROT_* as 1, 2, 4");
_Static_assert(sizeof(struct proc) <= UINT32_MAX, "sizes fit the table");

const uint32_t dump_layout[DL_NSLOTS] = {
	[DL_VERSION] = DL_LAYOUT_VERSION,

	[DL_PROC_SIZE] = sizeof(struct proc),
	[DL_PROC_PID] = offsetof(struct proc, p_pid),
	[DL_PROC_COMM] = offsetof(struct proc, p_comm),
	[DL_PROC_COMM_LEN] = PROC_COMM_MAX,
	[DL_PROC_PARENT] = offsetof(struct proc, p_parent),
	[DL_PROC_ALLNEXT] = offsetof(struct proc, p_allnext),
	[DL_PROC_ZOMBIE] = offsetof(struct proc, p_zombie),
	[DL_PROC_VMSPACE] = offsetof(struct proc, p_vmspace),
	[DL_PROC_THREAD] = offsetof(struct proc, p_thread),
	[DL_PROC_FAULTS] = offsetof(struct proc, p_faults),
	[DL_PROC_MAJFLT] = offsetof(struct proc, p_majflt),

	[DL_THREAD_SIZE] = sizeof(struct thread),
	[DL_THREAD_TID] = offsetof(struct thread, td_tid),
	[DL_THREAD_STATE] = offsetof(struct thread, td_state),
	[DL_TDS_INACTIVE] = TDS_INACTIVE,
	[DL_TDS_RUNQ] = TDS_RUNQ,
	[DL_TDS_RUNNING] = TDS_RUNNING,
	[DL_TDS_SLEEPING] = TDS_SLEEPING,
	[DL_TDS_DEAD] = TDS_DEAD,

	[DL_VMSPACE_SIZE] = sizeof(struct vmspace),
	[DL_VMSPACE_MAP] = offsetof(struct vmspace, vm_map),
	[DL_VMSPACE_RESIDENT] = offsetof(struct vmspace, vm_pmap.pm_stats.resident_count),

	[DL_MAP_HEADER] = offsetof(struct vm_map, vmap_header),
	[DL_MAP_NENTRIES] = offsetof(struct vm_map, vmap_nentries),

	[DL_ENTRY_SIZE] = sizeof(struct vm_map_entry),
	[DL_ENTRY_START] = offsetof(struct vm_map_entry, vme_start),
	[DL_ENTRY_END] = offsetof(struct vm_map_entry, vme_end),
	[DL_ENTRY_NEXT] = offsetof(struct vm_map_entry, vme_next),
	[DL_ENTRY_OBJECT] = offsetof(struct vm_map_entry, vme_object),
	[DL_ENTRY_OFFSET] = offsetof(struct vm_map_entry, vme_offset),
	[DL_ENTRY_PROT] = offsetof(struct vm_map_entry, vme_protection),
	[DL_ENTRY_MAXPROT] = offsetof(struct vm_map_entry, vme_max_protection),
	[DL_ENTRY_INHERIT] = offsetof(struct vm_map_entry, vme_inheritance),
	[DL_ENTRY_WIRED] = offsetof(struct vm_map_entry, vme_wired_count),
	[DL_ENTRY_USER_WIRED] = offsetof(struct vm_map_entry, vme_user_wired),
	[DL_INHERIT_SHARE] = VM_INHERIT_SHARE,
	[DL_INHERIT_COPY] = VM_INHERIT_COPY,
	[DL_INHERIT_NONE] = VM_INHERIT_NONE,
	[DL_INHERIT_ZERO] = VM_INHERIT_ZERO,

	[DL_OBJ_SIZE] = sizeof(struct vm_object),
	[DL_OBJ_PAGES] = offsetof(struct vm_object, vo_size),
	[DL_OBJ_RESIDENT] = offsetof(struct vm_object, vo_resident_page_count),
	[DL_OBJ_SWAPPED] = offsetof(struct vm_object, vo_swap.sm_count),
	[DL_OBJ_BACKING] = offsetof(struct vm_object, vo_backing_object),
	[DL_OBJ_BACKING_OFFSET] = offsetof(struct vm_object, vo_backing_object_offset),
	[DL_OBJ_REFCOUNT] = offsetof(struct vm_object, vo_ref_count),
	[DL_OBJ_TYPE] = offsetof(struct vm_object, vo_type),
	[DL_OBJT_DEFAULT] = OBJT_DEFAULT,
	[DL_OBJT_SWAP] = OBJT_SWAP,
	[DL_OBJT_DEVICE] = OBJT_DEVICE,
	[DL_OBJT_PHYS] = OBJT_PHYS,
};
