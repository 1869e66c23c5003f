/*
 * Reading a dump file (vmm/dump_format.h): the ELF core checked and indexed, and guest
 * memory read out of it by kernel virtual address (the PT_LOADs' p_vaddr), by guest
 * physical address (p_paddr) or through the dumped page tables (a 4-level walk from any
 * root). Every byte of the file is untrusted: each size, offset and count is checked
 * against the file before use, and the work any call does is bounded by the file's size.
 */
#ifndef VMM_DUMP_READ_H
#define VMM_DUMP_READ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "vmm/dump_format.h"
#include "vmm/gva.h"

#define DUMP_EXIT_DATA      65  /* EX_DATAERR: not a dump of ours, or corrupt */
#define DUMP_MAX_SEGS       (1u << 20)  /* PT_LOADs: a 64 GiB guest in 4 KiB pieces is less */
#define DUMP_MAX_VCPUS      256

/* One PT_LOAD with bytes in the file. */
struct dump_seg {
	uint64_t ds_vaddr;
	uint64_t ds_paddr;
	uint64_t ds_size;       /* p_filesz, > 0 */
	uint64_t ds_off;        /* file offset */
};

/* A piece of guest-physical memory the file holds (the union of the segments' p_paddr
 * ranges, without overlaps: where two segments carry one page, the first wins). */
struct dump_prange {
	uint64_t pr_paddr;
	uint64_t pr_size;
	uint64_t pr_off;
};

struct dump_vcpu {
	bool dv_has_regs;
	struct user_regs_struct dv_regs;    /* NT_PRSTATUS's pr_reg */
	bool dv_has_sregs;
	struct dump_sregs dv_sregs;
};

struct dump {
	const char *d_name;             /* for messages */
	const uint8_t *d_data;
	size_t d_size;
	void *d_map;                    /* mmap of the file, or NULL (d_data is the caller's) */
	unsigned d_nsegs;
	struct dump_seg *d_segs;        /* sorted by ds_vaddr, disjoint there */
	unsigned d_npranges;
	struct dump_prange *d_pranges;  /* sorted by pr_paddr, disjoint */
	uint64_t d_load_bytes;          /* sum of the PT_LOADs' p_filesz */
	uint64_t d_note_bytes;          /* sum of the PT_NOTEs' p_filesz */
	unsigned d_nnotes;
	bool d_has_info;
	struct dump_info d_info;        /* strings NUL-terminated by the reader */
	unsigned d_nvcpus;              /* vCPUs with a NT_PRSTATUS or NT_VMM_SREGS */
	struct dump_vcpu *d_vcpus;      /* [d_nvcpus] */
	bool d_has_desc;
	struct dump_desc_note d_desc;
};

/*
 * Open path read-only and check it is a dump of ours. => 0, VMM_EXIT_INPUT (66) when the
 * file cannot be opened or read, DUMP_EXIT_DATA (65) when it is not a dump or is
 * corrupt; err holds one line (no "vmm: " prefix) saying what is wrong.
 */
int dump_open(struct dump *d, const char *path, char *err, size_t errlen);

/* The same over size bytes at data, which must outlive *d (the fuzzer's entry). */
int dump_open_mem(struct dump *d, const void *data, size_t size, const char *name,
    char *err, size_t errlen);

void dump_close(struct dump *d);

/* What is wrong with d's contents, as "NAME: what" in err (the one message format of
 * every check of the file). => DUMP_EXIT_DATA. */
int dump_errf(const struct dump *d, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int dump_verrf(const struct dump *d, char *err, size_t errlen, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));

/*
 * Copy len bytes of kernel virtual memory at va into buf, through the PT_LOADs (pieces
 * may come from several). => 0, or -1 when some byte is not in the dump.
 */
int dump_read_kva(const struct dump *d, uint64_t va, void *buf, size_t len);

/* The same by guest-physical address (p_paddr). */
int dump_read_pa(const struct dump *d, uint64_t pa, void *buf, size_t len);

/* The longest run of bytes at guest-physical pa the file holds contiguously, at most
 * len: => a pointer into the file and *got, or NULL (*got 0) when pa is not in it. */
const uint8_t *dump_pa_span(const struct dump *d, uint64_t pa, size_t len, size_t *got);

/* The page-table walk. */

/* Walk the dumped tables rooted at cr3 (its frame bits) for va (gva_walk over the
 * dump's physical memory). Always fills *w. */
void dump_walk(const struct dump *d, uint64_t cr3, uint64_t va, struct gva_walk *w);

/*
 * Copy len bytes at kernel virtual va through the page tables at cr3 (no p_vaddr). =>
 * 0, or -1 with *bad_va the first byte not readable (unmapped, or its page not dumped).
 */
int dump_read_kva_walk(const struct dump *d, uint64_t cr3, uint64_t va, void *buf,
    size_t len, uint64_t *bad_va);

#endif /* VMM_DUMP_READ_H */
