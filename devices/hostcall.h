/*
 * The hostcall port (paravirtual, port 0x600): the one channel between the guest
 * kernel and the VMM that is not a device model. Shared verbatim by the host (vmm/)
 * and the guest (guest/).
 *
 * Protocol
 *  - Probe: a 32-bit IN from HC_PORT returns HC_MAGIC when the VMM provides the port.
 *    Anywhere else (QEMU) the read returns all ones and the guest falls back to doing
 *    the work itself (stores for zeroing, nothing for milestones).
 *  - Request: the guest fills a struct hc_req in its own memory, 16-byte aligned and
 *    below 4 GiB physical, and writes its guest-physical address with a 32-bit OUT to
 *    HC_PORT. The VMM handles the request synchronously before the OUT completes: one
 *    exit per request, however many pages a page operation names.
 *  - Immediate: a 32-bit OUT to HC_PORT whose value is NOT a multiple of 16 carries a
 *    command in its low four bits and its argument in the bits above (HC_IMM()); no
 *    request block, no status. It exists for reports on the boot path, where building a
 *    request (stores, address translation, a status load: ~20 emulated instructions)
 *    cost twice the exit itself. Milestones go this way, without a probe: where nothing
 *    listens (QEMU) the OUT is dropped. A value the host does not understand (unknown
 *    command, milestone out of range, an OUT narrower than 32 bits) is counted and
 *    ignored.
 *  - Every guest-physical address in a request is untrusted: the host bounds-checks each
 *    one and answers HC_E_FAULT for the first that is not guest RAM, doing nothing.
 *
 * Exit: a 32-bit OUT of the status to EXIT_PORT (QEMU's isa-debug-exit, so the guest
 * also exits under QEMU, where the process status becomes (status << 1) | 1).
 */
#ifndef DEVICES_HOSTCALL_H
#define DEVICES_HOSTCALL_H

#include <stdint.h>

#define EXIT_PORT       0xf4    /* 32-bit OUT: exit the VM with this status */
#define HC_PORT         0x600   /* 32-bit IN: probe; 32-bit OUT: request address */
#define HC_MAGIC        0x504d4d56u  /* "VMMP" little-endian */
#define HC_VERSION      1

/* Exit statuses the guest reports (the VMM passes them through as its own). */
#define GUEST_EXIT_OK       0
#define GUEST_EXIT_USAGE    64  /* bad command line / cannot run the program */
#define GUEST_EXIT_PANIC    70  /* kernel panic, unexpected trap, guest stopped for good */

enum hc_op {
	HC_OP_NOP = 0,
	HC_OP_MILESTONE = 1,    /* arg0 = enum hc_milestone; the host stamps the time.
	                           arg1 = gpa of a struct hc_dump_desc to register as
	                           HC_OP_DUMP_DESC does, or 0. The kernel's ENTRY report is
	                           a request built at link time that names its (static)
	                           descriptor, so a dump is possible from the first
	                           instruction on and registering costs no exit of its own.
	                           A bad descriptor answers HC_E_INVAL / HC_E_FAULT; the
	                           milestone is stamped all the same. */
	HC_OP_PANIC = 2,        /* arg0 = gpa of the message, arg1 = its length (<= 4096) */
	HC_OP_STOPPED = 3,      /* the guest will never run again: arg0 = reason string gpa,
	                           arg1 = length; the host exits with GUEST_EXIT_PANIC */
	HC_OP_DUMP_DESC = 4,    /* arg0 = gpa of struct hc_dump_desc (registered at boot) */
	HC_OP_PAGE_ZERO = 5,    /* count runs at list: struct hc_page_run[], zero them */
	HC_OP_PAGE_DISCARD = 6, /* count runs at list: the host drops their memory; they
	                           read as zero afterwards */
	HC_OP_PAGE_COPY = 7,    /* count pairs at list: struct hc_page_copy[] */
	HC_OP_USAGE = 8,        /* the guest refuses its input (a command-line word, the
	                           program): arg0 = gpa of a one-line message, arg1 = its
	                           length (<= 4096). The host prints it as its own usage
	                           error and exits with GUEST_EXIT_USAGE; the guest never
	                           runs again, even when the message is unreadable. */
	HC_OP_MAX
};

/* Immediate commands (the low four bits of an OUT value that is not a request address). */
#define HC_IMM_MASK         0xfu
#define HC_IMM_SHIFT        4
#define HC_IMM_MILESTONE    0x1u    /* argument: enum hc_milestone */
#define HC_IMM(cmd, arg)    ((uint32_t)(arg) << HC_IMM_SHIFT | (uint32_t)(cmd))

enum hc_milestone {
	HC_MS_ENTRY = 1,        /* first instructions of the 32-bit PVH entry */
	HC_MS_KMAIN = 2,        /* C code of the kernel starts (long mode, high half) */
	HC_MS_READY = 3,        /* kernel initialised, about to run tests or the program */
	HC_MS_EXIT = 4,         /* about to write EXIT_PORT */
	HC_MS_MAX
};

enum hc_status {
	HC_OK = 0,
	HC_E_INVAL = 1,         /* unknown op, misaligned or oversized argument */
	HC_E_FAULT = 2,         /* an address outside guest RAM */
};

/* The request block. The guest owns it; the host reads it and writes only 'status'
 * and 'done'. */
struct hc_req {
	uint32_t op;            /* enum hc_op */
	uint32_t status;        /* enum hc_status, written by the host */
	uint64_t arg0;
	uint64_t arg1;
	uint64_t count;         /* page operations: number of list entries */
	uint64_t list;          /* page operations: gpa of the entry array */
	uint64_t done;          /* page operations: pages handled, written by the host */
} __attribute__((aligned(16)));

#define HC_PAGE_SIZE        4096u
#define HC_MAX_LIST         4096u   /* entries per request */

/* A run of whole pages: gpa page-aligned, npages >= 1. */
struct hc_page_run {
	uint64_t gpa;
	uint64_t npages;
};

/* Copy one page: both page-aligned, not the same page. */
struct hc_page_copy {
	uint64_t dst;
	uint64_t src;
};

/*
 * What a dump needs to find its way around guest memory. Registered once at boot (with
 * the ENTRY milestone, or HC_OP_DUMP_DESC); every field is a guest-physical address (0
 * when absent) except sizes and kernbase/dmap_base. The guest fills the fields it did not
 * know at registration in place, so the host keeps the descriptor's address and reads it
 * again when it dumps or samples statistics. Every field is untrusted.
 */
struct hc_dump_desc {
	uint32_t magic;         /* HC_DUMP_MAGIC */
	uint32_t version;       /* HC_DUMP_VERSION */
	uint64_t kernel_cr3;    /* root of the kernel page tables */
	uint64_t kernbase;      /* virtual address the kernel is linked at */
	uint64_t dmap_base;     /* virtual base of the direct map */
	uint64_t msgbuf;        /* struct msgbuf (guest/kern/msgbuf.h) */
	uint64_t dump_bitmap;   /* one bit per physical page (bit i of byte i / 8 = page i):
	                           the direct-map pages a minidump must carry (UMA slabs,
	                           page-table pages) */
	uint64_t dump_bitmap_bits;  /* pages the bitmap covers */
	uint64_t vmmeter;       /* struct hc_pub holding a struct vmmeter (vm/vm_meter.h) */
	uint64_t uma_zones;     /* struct hc_pub holding the UMA statistics stream (vm/uma.h) */
	uint64_t malloc_types;  /* struct hc_pub holding the malloc statistics stream
	                           (vm/malloc.h) */
	uint64_t heartbeat;     /* a uint64_t the kernel's clock tick increments: the VMM's
	                           watchdog reads it (without an exit) to tell a busy guest
	                           from a stuck one */
	uint64_t kernel_end;    /* physical end of the kernel image (page-aligned): the part
	                           of the KERNBASE window a minidump carries in full; the
	                           rest of that window is RAM and follows the bitmap */
	uint64_t layout;        /* uint32_t[layout_count]: devices/dump_layout.h */
	uint64_t layout_count;
	uint64_t allproc;       /* a kernel variable: struct proc *, the first process; the
	                           list goes on through DL_PROC_ALLNEXT (kernel virtual) */
};
#define HC_DUMP_VERSION     2

/*
 * A snapshot the guest publishes for the host to read without an exit (statistics):
 * the header, then pub_cap bytes of which pub_len hold the data. The writer makes
 * pub_seq odd, rewrites, makes it even again (with barriers); a reader copies header
 * and data, re-reads pub_seq, and retries when it was odd or changed. A dump carries the
 * buffer as it was; a reader that finds pub_seq odd there says the snapshot is torn.
 */
struct hc_pub {
	uint32_t pub_magic;     /* HC_PUB_MAGIC */
	uint32_t pub_cap;       /* bytes of data the buffer has room for */
	uint64_t pub_seq;       /* even: stable; odd: being rewritten; 0: never written */
	uint64_t pub_len;       /* bytes of data valid (<= pub_cap) */
	uint64_t pub_time_ns;   /* guest time of the snapshot, ns since boot */
	/* uint8_t data[pub_cap] follows */
};
#define HC_PUB_MAGIC        0x4c425550u /* "PUBL" */
#define HC_DUMP_MAGIC       0x44504d56u /* "VMPD" */

#endif /* DEVICES_HOSTCALL_H */
