/*
 * Where a dump reader finds the fields of the guest kernel's structures. The guest
 * publishes a table of uint32_t indexed by enum dump_layout (hc_dump_desc.layout,
 * layout_count entries) and builds it with offsetof and sizeof, so the reader follows the
 * kernel's structures without being compiled against them. Shared verbatim by the host
 * (vmm/) and the guest (guest/kern/).
 *
 * Each slot is an offset in bytes into the structure its name starts with, unless the
 * comment says it is a size or a value. The width of every field is fixed here (the
 * guest asserts it at compile time); pointers are kernel virtual addresses. A reader
 * treats every value as untrusted: an offset past what it read, a list that loops or a
 * pointer it cannot translate is reported, never followed blindly.
 */
#ifndef DEVICES_DUMP_LAYOUT_H
#define DEVICES_DUMP_LAYOUT_H

#define DL_LAYOUT_VERSION   1

enum dump_layout {
	DL_VERSION,             /* value: DL_LAYOUT_VERSION */

	/* struct proc (the list head: hc_dump_desc.allproc) */
	DL_PROC_SIZE,           /* size: sizeof(struct proc) */
	DL_PROC_PID,            /* int32 */
	DL_PROC_COMM,           /* char[DL_PROC_COMM_LEN], NUL-terminated or -padded */
	DL_PROC_COMM_LEN,       /* size */
	DL_PROC_PARENT,         /* struct proc *, NULL for pid 1 */
	DL_PROC_ALLNEXT,        /* struct proc *: the next process, NULL at the end */
	DL_PROC_ZOMBIE,         /* uint8: 1 when ended and not reaped */
	DL_PROC_VMSPACE,        /* struct vmspace *, NULL once torn down */
	DL_PROC_THREAD,         /* struct thread *: its one thread, or NULL */
	DL_PROC_FAULTS,         /* uint64: page faults taken for it */
	DL_PROC_MAJFLT,         /* uint64: those that waited for the pager */

	/* struct thread */
	DL_THREAD_SIZE,         /* size */
	DL_THREAD_TID,          /* int32 */
	DL_THREAD_STATE,        /* uint32 (the kernel's enum) */
	DL_TDS_INACTIVE,        /* value of DL_THREAD_STATE: made, not started */
	DL_TDS_RUNQ,            /* value: runnable, on a run queue */
	DL_TDS_RUNNING,         /* value: on a CPU */
	DL_TDS_SLEEPING,        /* value: asleep */
	DL_TDS_DEAD,            /* value: exited */

	/* struct vmspace */
	DL_VMSPACE_SIZE,        /* size */
	DL_VMSPACE_MAP,         /* struct vm_map, embedded */
	DL_VMSPACE_RESIDENT,    /* uint64: pages its pmap maps (offset from the vmspace) */

	/* struct vm_map */
	DL_MAP_HEADER,          /* struct vm_map_entry, embedded: the sentinel of the
	                           address-ordered list (its DL_ENTRY_NEXT is the first) */
	DL_MAP_NENTRIES,        /* int32 */

	/* struct vm_map_entry */
	DL_ENTRY_SIZE,          /* size */
	DL_ENTRY_START,         /* uint64 */
	DL_ENTRY_END,           /* uint64 */
	DL_ENTRY_NEXT,          /* struct vm_map_entry *: back to the header at the end */
	DL_ENTRY_OBJECT,        /* struct vm_object *, or NULL */
	DL_ENTRY_OFFSET,        /* uint64: bytes into the object */
	DL_ENTRY_PROT,          /* int32: VM_PROT_READ 1, WRITE 2, EXECUTE 4 */
	DL_ENTRY_MAXPROT,       /* int32: the same bits */
	DL_ENTRY_INHERIT,       /* uint8: DL_INHERIT_* values below */
	DL_ENTRY_WIRED,         /* uint32: system wirings */
	DL_ENTRY_USER_WIRED,    /* uint8: mlock'ed (0 or 1) */
	DL_INHERIT_SHARE,       /* value */
	DL_INHERIT_COPY,        /* value */
	DL_INHERIT_NONE,        /* value */
	DL_INHERIT_ZERO,        /* value */

	/* struct vm_object */
	DL_OBJ_SIZE,            /* size: sizeof(struct vm_object) */
	DL_OBJ_PAGES,           /* uint64: pages the object spans */
	DL_OBJ_RESIDENT,        /* uint64: resident pages */
	DL_OBJ_SWAPPED,         /* uint64: pages with a swap block */
	DL_OBJ_BACKING,         /* struct vm_object *: what it shadows, or NULL */
	DL_OBJ_BACKING_OFFSET,  /* uint64: bytes */
	DL_OBJ_REFCOUNT,        /* uint32 */
	DL_OBJ_TYPE,            /* uint8: DL_OBJT_* values below */
	DL_OBJT_DEFAULT,        /* value: anonymous, zero-fill */
	DL_OBJT_SWAP,           /* value: anonymous with swap */
	DL_OBJT_DEVICE,         /* value */
	DL_OBJT_PHYS,           /* value */

	DL_NSLOTS
};

#endif /* DEVICES_DUMP_LAYOUT_H */
