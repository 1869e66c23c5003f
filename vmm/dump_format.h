/*
 * The VMM's dump file: an ELF core (ET_CORE, EM_X86_64, ELFCLASS64, little-endian) that
 * gdb reads beside build/kernel.elf and `vmm dump` reads alone.
 *
 *  - One PT_LOAD per range that is contiguous in both guest-virtual and guest-physical
 *    address (p_vaddr = guest virtual, p_paddr = guest physical, p_filesz = p_memsz,
 *    flags from the mapping), for what the kernel page tables (hc_dump_desc.kernel_cr3)
 *    map: the kernel image and kernel_pmap's mappings in full; the direct map, and the
 *    KERNBASE window past the kernel image, only for pages the dump bitmap names (a
 *    minidump). A full dump (--dump-full) adds, as direct-map ranges, every page of RAM
 *    not otherwise carried. Nothing that is not guest RAM (device windows, the LAPIC).
 *  - PT_NOTE, in this order:
 *      "CORE"  NT_PRSTATUS (struct elf_prstatus of <sys/procfs.h>), one per vCPU, pr_pid
 *              = vCPU index + 1: gdb's threads;
 *      "VMM"   NT_VMM_INFO, one struct dump_info;
 *      "VMM"   NT_VMM_SREGS, one struct dump_sregs per vCPU;
 *      "VMM"   NT_VMM_DESC, the hc_dump_desc as read at dump time (struct
 *              dump_desc_note), absent when the guest registered none.
 *
 * Every field is little-endian. A reader checks every size and offset against the file.
 */
#ifndef VMM_DUMP_FORMAT_H
#define VMM_DUMP_FORMAT_H

#include <stdint.h>

#include "devices/hostcall.h"

#define DUMP_NOTE_OWNER     "VMM"
#define NT_VMM_INFO         0x564d4d01u
#define NT_VMM_SREGS        0x564d4d02u
#define NT_VMM_DESC         0x564d4d03u

#define DUMP_INFO_VERSION   1

enum dump_reason {
	DUMP_REASON_PANIC = 1,          /* the guest reported a panic (HC_OP_PANIC) */
	DUMP_REASON_TRIPLE_FAULT = 2,   /* KVM_EXIT_SHUTDOWN */
	DUMP_REASON_SIGNAL = 3,         /* SIGQUIT to the VMM; the run went on */
	DUMP_REASON_EXIT = 4,           /* the run ended (guest exit, a stop signal, a guest
	                                   that stopped or died otherwise) */
};

#define DUMP_FLAG_FULL      0x1u    /* --dump-full: all of RAM */
#define DUMP_FLAG_TRUNCATED 0x2u    /* the writer's bounds cut the page-table walk short
                                       (looping or aliased tables): memory is missing */

struct dump_info {
	uint32_t di_version;            /* DUMP_INFO_VERSION */
	uint32_t di_reason;             /* enum dump_reason */
	uint32_t di_signal;             /* DUMP_REASON_SIGNAL / EXIT by signal: its number */
	int32_t di_exit_status;         /* DUMP_REASON_EXIT: the VMM's exit status; else -1 */
	uint64_t di_time_unix_ns;       /* when the dump was written (host wall clock) */
	uint64_t di_uptime_ns;          /* since the guest started */
	uint64_t di_mem_size;           /* guest RAM, bytes */
	uint32_t di_ncpus;
	uint32_t di_flags;              /* DUMP_FLAG_* */
	char di_vmm_version[32];        /* NUL-terminated */
	char di_kernel[256];            /* the kernel file's path as given, NUL-terminated */
	char di_program[256];           /* PROGRAM ARGS..., or "--ktest=..." */
	char di_message[512];           /* the panic message, the fault's report or the
	                                   reason in words; NUL-terminated */
};

struct dump_segment {
	uint16_t ds_selector;
	uint8_t ds_type, ds_present, ds_dpl, ds_db, ds_s, ds_l, ds_g, ds_avl;
	uint8_t ds_pad[6];
	uint64_t ds_base;
	uint32_t ds_limit;
	uint32_t ds_pad2;
};

struct dump_sregs {
	uint32_t dsr_vcpu;
	uint32_t dsr_pad;
	uint64_t dsr_cr0, dsr_cr2, dsr_cr3, dsr_cr4, dsr_cr8;
	uint64_t dsr_efer, dsr_apic_base;
	uint64_t dsr_kernel_gs_base;    /* MSR 0xc0000102 */
	struct dump_segment dsr_cs, dsr_ds, dsr_es, dsr_fs, dsr_gs, dsr_ss, dsr_tr, dsr_ldt;
	uint64_t dsr_gdt_base, dsr_idt_base;
	uint16_t dsr_gdt_limit, dsr_idt_limit;
	uint32_t dsr_pad3;
};

struct dump_desc_note {
	uint64_t ddn_gpa;               /* where the guest registered it */
	struct hc_dump_desc ddn_desc;   /* its bytes as read when the dump was written */
};

#endif /* VMM_DUMP_FORMAT_H */
