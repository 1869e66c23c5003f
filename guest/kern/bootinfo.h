/*
 * What the kernel learnt at boot from hvm_start_info (devices/pvh.h). Ranges and module
 * descriptions are copied into kernel memory; the command line is split in place in the
 * loader's copy (cheaper than copying it byte by byte: this runs on every boot), whose
 * pages therefore stay out of avail like start_info's.
 *
 *   bi_ram[]     RAM from the memory map: sorted, merged, clipped to what the direct map
 *                can hold. Every page in it is reachable at DMAP_BASE + pa.
 *   avail        RAM the page allocators may take: bi_ram minus the first MiB (boot
 *                structures, real-mode area), the kernel image, the modules,
 *                start_info, the tables it points to and the command line. Computed on
 *                first use by bootinfo_avail(): a boot that allocates nothing does not
 *                pay for it.
 *
 * The VM core's physical-segment start-up reads bootinfo_avail() (and bi_ram for the
 * page array extent); all ranges are [start, end), page aligned for avail.
 */
#ifndef KERN_BOOTINFO_H
#define KERN_BOOTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/pvh.h"

#define BI_MAX_RANGES   16
#define BI_MAX_MODULES  4
#define BI_MAX_ARGS     PVH_CMDLINE_MAX_WORDS  /* the VMM refuses more, the guest too */
#define BI_USAGE_MAX    256     /* a refused command line's message */
#define BI_CMDLINE_MAX  4096    /* bytes of the command line looked at, NUL included */
#define BI_MODCMD_MAX   4096    /* all module command lines together */

struct bi_range {
	uint64_t bir_start;
	uint64_t bir_end;
};

struct bi_module {
	uint64_t bim_pa;
	uint64_t bim_size;
	const char *bim_cmdline;        /* copied; "" when the module has none */
};

struct bootinfo {
	uint64_t bi_start_info_pa;
	uint32_t bi_memmap_entries;     /* as the loader gave them */

	unsigned bi_nram;
	struct bi_range bi_ram[BI_MAX_RANGES];
	unsigned bi_navail;             /* valid once bootinfo_avail() ran */
	struct bi_range bi_avail[BI_MAX_RANGES];
	uint64_t bi_memmap_pa;          /* the loader's tables, kept out of avail */
	uint64_t bi_modlist_pa;
	uint64_t bi_cmdline_pa;         /* 0 when there is none */
	uint64_t bi_cmdline_len;        /* bytes split in place, NUL included */

	uint64_t bi_kernel_start;       /* physical extent of the kernel image (to _end) */
	uint64_t bi_kernel_end;

	unsigned bi_nmodules;
	struct bi_module bi_modules[BI_MAX_MODULES];

	unsigned bi_argc;
	const char *bi_argv[BI_MAX_ARGS];       /* tokens of the command line, in place */
	uint64_t bi_argfirst;   /* bit (c & 63) set for the first byte c of each token */
	char bi_usage[BI_USAGE_MAX];    /* why the command line is refused, or "" */
};

extern struct bootinfo bootinfo;

/* What bootinfo_split found besides the tokens. */
struct bi_split_result {
	unsigned bsr_argc;
	bool bsr_dropped;       /* more tokens than room in argv */
	uint64_t bsr_first;     /* bit (c & 63) set for the first byte c of each token */
};

/* Parse start_info at physical si_pa (it must lie in the first GiB, which the boot page
 * tables map at DMAP_BASE). Panics on a bad magic or a missing memory map. */
void bootinfo_init(uint64_t si_pa);

/*
 * The value of `key=value` on the command line ("" for a bare `key`), or NULL when the
 * key is absent. The last occurrence wins. Inline so that asking for an absent key (most
 * questions a boot asks) costs two instructions: with a literal key the first-byte test
 * folds into one constant.
 */
const char *bootinfo_arg_lookup(const char *key);

static inline __attribute__((always_inline)) const char *bootinfo_arg(const char *key)
{
	if ((bootinfo.bi_argfirst & (1ull << (key[0] & 63))) == 0)
		return NULL;
	if (!__builtin_constant_p(__builtin_strlen(key)))
		return bootinfo_arg_lookup(key);
	/* A literal key present by its first byte (`ktest` on most boots): compared
	 * against immediates, unrolled, about a third of the generic loop's emulated
	 * instructions. A mismatch, the token's NUL included, stops the compare. */
	size_t len = __builtin_strlen(key);
	for (unsigned i = bootinfo.bi_argc; i-- > 0;) {
		const char *a = bootinfo.bi_argv[i];
		size_t k = 0;
#pragma GCC unroll 16
		for (; k < len; k++)
			if (a[k] != key[k])
				break;
		if (k < len)
			continue;
		if (a[k] == '=')
			return a + k + 1;
		if (a[k] == '\0')
			return "";
	}
	return NULL;
}

/*
 * Check the command line's words: each is a known key (bootinfo.c's table: ktest=,
 * verbose, debug.panic[=], debug.memguard=, vm.blacklist=, vm.memguard=, vm.stats_ms=,
 * virtio_mmio.device=), with a value when the key
 * takes one and none when it does not (debug.panic may do either), and given once (but
 * virtio_mmio.device=, one per device); dropped says words were cut for want of room. => true, or false with a
 * one-line reason in msg. bootinfo_init runs it into bi_usage; kmain refuses the boot
 * through hc_usage (CPL 3 cannot reach the port). A value's own syntax is its user's to
 * check (ktest.c, vm_phys) but for debug.panic's and debug.memguard's two values each,
 * vm.memguard's length and vm.stats_ms's range.
 */
bool bootinfo_check_args(const char *const *argv, unsigned argc, bool dropped, char *msg,
    size_t msglen);

/* The avail ranges (computed on the first call); *n receives their number. */
const struct bi_range *bootinfo_avail(unsigned *n);

/* True when [pa, pa + len) lies inside one bi_ram range. */
bool bootinfo_is_ram(uint64_t pa, uint64_t len);

/* Bytes of RAM in bi_ram (a loop: for reports and tests, not hot paths). */
uint64_t bootinfo_ram_bytes(void);

/*
 * Split the NUL-terminated string s in place into blank-separated tokens: each blank or
 * control character that ends a token becomes a NUL, argv[] receives the tokens (at most
 * maxargs, the rest are counted as dropped). At most max bytes are looked at (max >= 1);
 * a longer string is cut by a NUL at s[max - 1]. => the string's length, now the offset
 * of its terminating NUL. The command-line parser, exposed for its tests.
 */
size_t bootinfo_split(char *s, size_t max, const char **argv, unsigned maxargs,
    struct bi_split_result *res);

#endif /* KERN_BOOTINFO_H */
