/*
 * Writing the dump file (vmm/dump_format.h) from guest memory and the vCPUs' registers:
 * which ranges of guest memory a dump carries, and the ELF core that carries them.
 * Everything read from the guest (the descriptor, its page tables, the dump bitmap) is
 * untrusted: every address goes through the guest-memory accessor and the walk is
 * bounded, so a guest with looping or aliased tables gets a dump that says it was cut
 * short, never a hang or a dump larger than its bound.
 */
#ifndef VMM_DUMP_WRITE_H
#define VMM_DUMP_WRITE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/dump_format.h"

struct guest_mem;

/* What one vCPU looked like when the dump was asked for. */
struct dump_vcpu {
	struct kvm_regs dv_regs;
	struct kvm_sregs dv_sregs;
	uint64_t dv_kernel_gs_base;     /* MSR_KERNEL_GS_BASE; 0 when unreadable */
};

/* Everything a dump is made of; the writer reads guest memory, nothing else. */
struct dump_source {
	const struct guest_mem *ds_mem;
	/* The descriptor the guest registered (hostcall.c validated it then), or none. The
	 * writer reads it again at ds_desc_gpa, since the guest fills fields in place, and
	 * falls back to this copy when what it finds there is no longer a descriptor. */
	bool ds_have_desc;
	uint64_t ds_desc_gpa;
	struct hc_dump_desc ds_desc_registered;
	unsigned ds_nvcpus;
	const struct dump_vcpu *ds_vcpus;
	bool ds_full;                   /* --dump-full: all of RAM */
	/* The NT_VMM_INFO note as the caller knows it (reason, times, paths, message);
	 * the writer sets di_version, di_flags and di_ncpus. */
	struct dump_info ds_info;
};

/* Cut a walk short past these: a real kernel's tables are far smaller. */
#define DUMP_MAX_TABLES     (1u << 17)      /* page-table pages visited */
#define DUMP_MAX_LOADS      65000u          /* PT_LOADs: e_phnum stays below PN_XNUM */

/* One PT_LOAD: contiguous in guest-virtual and guest-physical address. */
struct dump_range {
	uint64_t dr_va, dr_pa, dr_len;
	uint32_t dr_flags;              /* PF_R | PF_W | PF_X */
};

struct dump_plan {
	struct dump_range *dp_ranges;   /* sorted by dr_va */
	size_t dp_n, dp_cap;
	uint64_t dp_bytes;              /* sum of dr_len */
	uint64_t dp_tables;             /* page-table pages visited */
	bool dp_truncated;              /* a bound was hit: the dump lacks part of memory */
	bool dp_desc_valid;             /* the walk used a descriptor */
	struct hc_dump_desc dp_desc;    /* the descriptor used (re-read or registered) */
};

/*
 * Decide what a dump of src carries. => 0 with *plan filled (dump_plan_free it), or -1
 * when the host is out of memory.
 */
int dump_plan_build(const struct dump_source *src, struct dump_plan *plan);
void dump_plan_free(struct dump_plan *plan);

/*
 * Write the ELF core for src to fd (a fresh, empty regular file). => 0, or -1 with errno
 * set and a one-line reason (strerror's words, or libelf's) in err.
 */
int dump_write_fd(int fd, const struct dump_source *src, char *err, size_t errlen);

/*
 * Write the dump to path, whole or not at all (out_file.h: a temporary name renamed into
 * place, replacing an earlier dump). => 0, or VMM_EXIT_HOST with the one line "cannot
 * write the dump PATH: REASON" in err (no "vmm: " prefix), nothing left behind.
 */
int dump_write_file(const char *path, const struct dump_source *src, char *err,
    size_t errlen);

#endif /* VMM_DUMP_WRITE_H */
