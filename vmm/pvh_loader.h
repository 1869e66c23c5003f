/*
 * The PVH boot loader: puts an ELF64 x86-64 kernel with a Xen PHYS32_ENTRY note into
 * guest RAM, places module 0 (the user's program) after it, and writes hvm_start_info
 * with the memory map and the command lines (devices/pvh.h has the layout).
 *
 * Every function validates what it is handed as hostile (a fuzz target calls
 * pvh_load_image on arbitrary bytes) and reports problems as a message plus exit
 * status VMM_EXIT_INPUT instead of exiting; on error guest RAM may be partly written.
 */
#ifndef VMM_PVH_LOADER_H
#define VMM_PVH_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "devices/pvh.h"

struct guest_mem;

#define PVH_MAX_SEGMENTS    64      /* PT_LOAD entries we accept */

struct pvh_image {
	uint32_t pi_entry;          /* guest-physical 32-bit entry point */
	unsigned pi_nsegs;          /* PT_LOAD segments loaded (memsz > 0) */
	uint64_t pi_start;          /* lowest loaded guest-physical address */
	uint64_t pi_end;            /* end of the highest loaded segment */
};

/*
 * Validate the ELF image buf[0, len) and load its PT_LOAD segments at their physical
 * addresses (file bytes copied, the rest of memsz zeroed). Nothing is written unless
 * every check passes. => 0 with *out filled, or VMM_EXIT_INPUT with a message in err.
 * buf is only read.
 */
int pvh_load_image(struct guest_mem *gm, const void *buf, size_t len, struct pvh_image *out,
    char *err, size_t errlen);

/* The same for a file: mapped once, never read twice. Messages start with path. */
int pvh_load_kernel_file(struct guest_mem *gm, const char *path, struct pvh_image *out,
    char *err, size_t errlen);

/*
 * The part of pvh_load_kernel_file after the mapping (exposed for its test): map is
 * the file fd mapped whole, len bytes. A file that shrinks meanwhile makes reading the
 * mapping raise SIGBUS: caught here (the caller's handler is put back) and refused with
 * VMM_EXIT_INPUT.
 */
int pvh_load_mapped(struct guest_mem *gm, const void *map, size_t len, int fd,
    struct pvh_image *out, char *err, size_t errlen);

/*
 * Put a module at the first page boundary at or after *next (then its NUL-terminated
 * command line at the next page boundary, when cmdline is not NULL) and describe it in
 * *mod; *next moves past both. => 0, or VMM_EXIT_INPUT when it does not fit in RAM.
 */
int pvh_place_module(struct guest_mem *gm, uint64_t *next, const void *buf, size_t len,
    const char *cmdline, struct hvm_modlist_entry *mod, char *err, size_t errlen);

/* The same, reading the file straight into guest RAM. Messages start with path. */
int pvh_load_module_file(struct guest_mem *gm, uint64_t *next, const char *path,
    const char *cmdline, struct hvm_modlist_entry *mod, char *err, size_t errlen);

/*
 * The e820-style map of gm: low RAM, the reserved BIOS area, RAM from 1 MiB to the
 * hole, RAM above 4 GiB. => the number of entries written (<= max).
 */
unsigned pvh_build_memmap(const struct guest_mem *gm, struct hvm_memmap_table_entry *map,
    unsigned max);

/*
 * Write hvm_start_info, the module list and the memory map at PVH_INFO_PADDR and the
 * kernel command line at PVH_CMDLINE_PADDR. => 0, or VMM_EXIT_USAGE when the command
 * line is too long, VMM_EXIT_INPUT when too many modules.
 */
int pvh_write_start_info(struct guest_mem *gm, const char *cmdline,
    const struct hvm_modlist_entry *mods, unsigned nmods, char *err, size_t errlen);

#endif /* VMM_PVH_LOADER_H */
