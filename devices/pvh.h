/*
 * The PVH boot contract (Xen's "x86/HVM direct boot ABI", which QEMU's -kernel also
 * speaks), shared by the VMM's loader and the guest's entry code, plus where this VMM
 * puts the boot structures in guest-physical memory.
 *
 * Entry state: 32-bit protected mode, paging off, flat 4 GiB CS (execute/read) and
 * DS/ES/SS (read/write), CR0 = PE|ET, CR4 = 0, EFLAGS = 0x2, EBX = guest-physical address
 * of struct hvm_start_info, all other registers undefined; GDTR/IDTR undefined, so the
 * kernel loads its own before touching a segment register or enabling interrupts.
 */
#ifndef DEVICES_PVH_H
#define DEVICES_PVH_H

#include <stdint.h>

/* ELF note (owner "Xen") that carries the 32-bit physical entry point. */
#define XEN_ELFNOTE_PHYS32_ENTRY    18
#define PVH_NOTE_OWNER              "Xen"

#define HVM_START_MAGIC             0x336ec578u
#define HVM_START_VERSION           1   /* version 1 adds the memory map */

struct hvm_start_info {
	uint32_t magic;             /* HVM_START_MAGIC */
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;     /* struct hvm_modlist_entry[nr_modules] */
	uint64_t cmdline_paddr;     /* NUL-terminated */
	uint64_t rsdp_paddr;        /* 0: no ACPI */
	uint64_t memmap_paddr;      /* struct hvm_memmap_table_entry[memmap_entries] */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;     /* 0 when the module has none */
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;              /* E820 type */
	uint32_t reserved;
};

#define E820_RAM        1
#define E820_RESERVED   2

/*
 * Guest-physical layout chosen by this VMM (QEMU chooses its own; the guest reads
 * addresses only from hvm_start_info, never from these constants).
 *
 *   0x00000000  real-mode area, never handed to the kernel's allocators
 *   0x00006000  PVH_INFO_PADDR: start_info, module list, memory map (one page)
 *   0x00007000  PVH_CMDLINE_PADDR: the command line (one page)
 *   0x0009fc00  end of low RAM in the memory map; 0x9fc00..0x100000 reserved
 *   0x00100000  PVH_KERNEL_MIN_PADDR: the kernel's PT_LOAD segments from here on
 *   after the kernel, page aligned: module 0 (the program), then its command line
 *   0xc0000000  PCI hole: no RAM until 4 GiB (virtio-mmio windows at 0xd0000000)
 *   0x100000000 RAM above the hole when the guest has more than 3 GiB
 */
#define PVH_INFO_PADDR          0x6000ull
#define PVH_CMDLINE_PADDR       0x7000ull
#define PVH_CMDLINE_MAX         4096u
/* Words (runs of bytes above ' ') the guest kernel takes from its command line: the VMM
 * refuses a longer one, the guest refuses one it is given by another loader. */
#define PVH_CMDLINE_MAX_WORDS   32u
#define PVH_BOOT_END            0x8000ull   /* end of the boot structures */
#define PVH_LOWMEM_END          0x9fc00ull
#define PVH_KERNEL_MIN_PADDR    0x100000ull
#define PVH_PCI_HOLE_START      0xc0000000ull
#define PVH_HIGHMEM_START       0x100000000ull
#define PVH_MAX_MEMMAP          8

#endif /* DEVICES_PVH_H */
