/*
 * Whether PROGRAM is something the guest's exec can run: a static x86-64 Linux ELF
 * (ET_EXEC, or ET_DYN as a static PIE). Checked by the VMM before boot, where a refusal
 * costs nothing and reads as one `vmm:` line, rather than in the guest after it started.
 */
#ifndef VMM_PROGRAM_CHECK_H
#define VMM_PROGRAM_CHECK_H

#include <stddef.h>

/* Linux's limits, which the guest's exec follows: the lowest address a program may map
 * (vm.mmap_min_addr's default) and the end of user space (TASK_SIZE with 4-level paging:
 * the last page below 0x800000000000 stays unmapped). */
#define PROGRAM_VADDR_MIN       0x10000ull
#define PROGRAM_USER_END        0x7ffffffff000ull
#define PROGRAM_PAGE            4096ull
#define PROGRAM_PHDRS_MAX       65536ull        /* bytes of program headers, as Linux */

/*
 * Check the program image[0, len), every byte of it untrusted. => 0, or VMM_EXIT_INPUT
 * with one line in err: "NAME: what is wrong; what to do". image is only read.
 */
int program_check(const char *name, const void *image, size_t len, char *err,
    size_t errlen);

#endif /* VMM_PROGRAM_CHECK_H */
