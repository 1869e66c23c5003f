/*
 * hvm_start_info -> struct bootinfo. Runs before the direct map is complete: the loader's
 * structures are read through the part the boot page tables map (physical [0, 1 GiB) at
 * DMAP_BASE). This runs on every boot with every instruction emulated, so the common
 * case is the short one: a sorted memory map appends range after range, the command line
 * is split in place a word at a time, and what only some boots need (avail, the RAM
 * total) waits for its first user.
 */
#include "amd64/vmparam.h"
#include "devices/pvh.h"
#include "kern/bootinfo.h"
#include "kern/dump_pub.h"
#include "kern/systm.h"
#include "vm/memguard.h"

extern char __kernel_start[], _end[];

/* In .data, with the kernel's extent filled in at link time (kernel.ld keeps _end page
 * aligned): stores the boot does not have to make. */
struct bootinfo bootinfo = {
	.bi_kernel_start = (uint64_t)(uintptr_t)__kernel_start - KERNBASE,
	.bi_kernel_end = (uint64_t)(uintptr_t)_end - KERNBASE,
};

static char bi_modcmd[BI_MODCMD_MAX];
static size_t bi_modcmd_used;

#define BI_PAGE         4096ull
#define BI_BOOTMAP_END  0x40000000ull   /* what the boot page tables map at DMAP_BASE */
#define BI_LOWMEM_END   0x100000ull     /* never handed to the allocators */

/* A loader structure of len bytes at pa, read through the first GiB the kernel image's
 * mapping covers (KERNBASE + pa): the parser runs before pmap_bootstrap has mapped RAM
 * beyond that GiB (kern/main.c). */
static void *bi_map(uint64_t pa, uint64_t len, const char *what)
{
	if (pa >= BI_BOOTMAP_END || len > BI_BOOTMAP_END - pa)
		panic("bootinfo_init: %s at %#lx (+%#lx) is above the boot map (1 GiB)", what,
		    (unsigned long)pa, (unsigned long)len);
	return (void *)(KERNBASE + pa);
}

/*
 * Insert [s, e) into the sorted range list r of n ranges, merging with neighbours it
 * touches. => the new number of ranges.
 */
static unsigned bi_range_add(struct bi_range *r, unsigned n, uint64_t s, uint64_t e)
{
	unsigned i, j;

	if (s >= e)
		return n;
	if (n == 0 || (n < BI_MAX_RANGES && r[n - 1].bir_end < s)) {
		r[n] = (struct bi_range){ s, e };       /* the usual case: a sorted map */
		return n + 1;
	}
	for (i = 0; i < n && r[i].bir_end < s; i++)
		continue;
	/* r[i..j) overlap or touch [s, e): fold them in. */
	for (j = i; j < n && r[j].bir_start <= e; j++) {
		s = MIN(s, r[j].bir_start);
		e = MAX(e, r[j].bir_end);
	}
	if (j == i) {
		if (n == BI_MAX_RANGES) {
			printf("bootinfo: more than %u RAM ranges, ignoring [%#lx, %#lx)\n",
			    BI_MAX_RANGES, (unsigned long)s, (unsigned long)e);
			return n;
		}
		memmove(&r[i + 1], &r[i], (n - i) * sizeof(r[0]));
		n++;
	} else if (j > i + 1) {
		memmove(&r[i + 1], &r[j], (n - j) * sizeof(r[0]));
		n -= j - i - 1;
	}
	r[i].bir_start = s;
	r[i].bir_end = e;
	return n;
}

/* Remove [s, e) from the sorted range list r. */
static void bi_range_cut(struct bi_range *r, unsigned *n, uint64_t s, uint64_t e)
{
	for (unsigned i = 0; i < *n; i++) {
		struct bi_range *a = &r[i];

		if (e <= a->bir_start || s >= a->bir_end)
			continue;
		if (s > a->bir_start && e < a->bir_end) {
			if (*n == BI_MAX_RANGES)
				panic("bi_range_cut: more than %u ranges", BI_MAX_RANGES);
			memmove(&r[i + 1], &r[i], (*n - i) * sizeof(r[0]));
			(*n)++;
			r[i].bir_end = s;
			r[i + 1].bir_start = e;
			return;
		}
		if (s <= a->bir_start && e >= a->bir_end) {
			memmove(&r[i], &r[i + 1], (*n - i - 1) * sizeof(r[0]));
			(*n)--;
			i--;
		} else if (s <= a->bir_start) {
			a->bir_start = e;
		} else {
			a->bir_end = s;
		}
	}
}

/* Everything below this is cut from the avail list as it is built (bootinfo_avail):
 * the first MiB, and the kernel image when it sits right above it (it always does with
 * our VMM and QEMU). */
static uint64_t bi_avail_low;

/* Cut [pa, pa + len) out of the avail list. What lies below bi_avail_low (the VMM's
 * boot structures, the kernel) costs a compare, not a walk of the list: every kernel
 * instruction is emulated here. */
static __attribute__((noinline)) void bi_reserve_cut(uint64_t pa, uint64_t len)
{
	bi_range_cut(bootinfo.bi_avail, &bootinfo.bi_navail, rounddown2(pa, BI_PAGE),
	    roundup2(pa + len, BI_PAGE));
}

static inline __attribute__((always_inline)) void bi_reserve(uint64_t pa, uint64_t len)
{
	if (len != 0 && pa + len > bi_avail_low)
		bi_reserve_cut(pa, len);
}

/* Copy a NUL-terminated loader string into dst (at most size - 1 bytes). */
static size_t bi_copy_string(char *dst, size_t size, uint64_t pa, const char *what)
{
	/* The string may end anywhere before the boot map's end. */
	const char *src = bi_map(pa, 1, what);
	size_t max = MIN(size - 1, BI_BOOTMAP_END - pa);
	size_t len = strnlen(src, max);

	memcpy(dst, src, len);
	dst[len] = '\0';
	return len;
}

#define BI_ONES     0x0101010101010101ull
#define BI_HIGHS    0x8080808080808080ull

/*
 * Bit 7 set in each byte of w that is <= ' ' (NUL, a blank or a control character).
 * A borrow can flag a byte above the lowest flagged one wrongly, never one below it:
 * only the lowest flag may be used.
 */
static inline uint64_t bi_blank_bytes(uint64_t w)
{
	return (w - BI_ONES * 0x21) & ~w & BI_HIGHS;
}

/* A byte that separates tokens: a blank or a control character, not the NUL. */
static inline bool bi_is_sep(char c)
{
	return (unsigned char)(c - 1) < ' ';
}

/* bootinfo_split's body, forced inline into bootinfo_init: a call and its frame are a
 * tenth of the work for a short command line. */
static inline __attribute__((always_inline)) size_t bi_split(char *s, size_t max,
    const char **argv, unsigned maxargs, struct bi_split_result *res)
{
	char *p = s, *last = s + max - 1;       /* the last byte we may look at */
	unsigned argc = 0;
	uint64_t first = 0;

	res->bsr_dropped = false;
	for (;;) {
		/* Separators before a token: usually none or one. */
		while (p < last && bi_is_sep(*p))
			p++;
		if (p >= last || *p == '\0')
			break;
		first |= 1ull << (*p & 63);
		if (argc < maxargs)
			argv[argc++] = p;
		else
			res->bsr_dropped = true;
		/*
		 * The token's end: byte by byte up to an 8-byte boundary, then a word at a
		 * time. An aligned word never crosses a page, so nothing is read from a page
		 * the string does not reach (the bytes after its NUL in the last word are
		 * read and ignored).
		 */
		while (((uintptr_t)p & 7) != 0 && p < last && (unsigned char)*p > ' ')
			p++;
		if (((uintptr_t)p & 7) == 0) {
			while (p < last) {
				uint64_t w;
				__builtin_memcpy(&w, p, sizeof(w));
				uint64_t m = bi_blank_bytes(w);
				if (m != 0) {
					p += __builtin_ctzll(m) >> 3;
					break;
				}
				p += 8;
			}
		}
		if (p >= last || *p == '\0')
			break;
		*p++ = '\0';
	}
	if (p >= last) {
		p = last;               /* cut here: no NUL before the limit */
		*p = '\0';
	}
	res->bsr_argc = argc;
	res->bsr_first = first;
	return (size_t)(p - s);
}

size_t bootinfo_split(char *s, size_t max, const char **argv, unsigned maxargs,
    struct bi_split_result *res)
{
	return bi_split(s, max, argv, maxargs, res);
}

/* The words the kernel understands. A flag for each: the key takes a value (key=VALUE)
 * or stands bare; it may be repeated. */
#define BI_KEY_VALUE    0x1
#define BI_KEY_REPEAT   0x2
#define BI_KEY_BARE     0x4     /* with BI_KEY_VALUE: may also stand bare */

static const struct bi_key {
	const char *bk_name;
	unsigned bk_flags;
	const char *bk_values;  /* what a value looks like, for the message */
} bi_keys[] = {
	{ "ktest", BI_KEY_VALUE, "all, none or SUITE[.TEST],..." },
	{ "verbose", 0, NULL },
	/* Bare: panic at the end of boot; =1 after READY; =boot before the VM core. */
	{ "debug.panic", BI_KEY_VALUE | BI_KEY_BARE, "1 or boot" },
	/* The statistics publisher's period (kern/dump_pub.h), from --stats. */
	{ "vm.stats_ms", BI_KEY_VALUE, "milliseconds between statistics snapshots, 10 to "
	    "3600000" },
	{ "vm.blacklist", BI_KEY_VALUE, "page addresses such as 0x1234000,0x2000000" },
	/* MemGuard (vm/memguard.h): the malloc type or UMA zone to guard, and the
	 * self-test that proves a guarded use after free or overrun panics. */
	{ "vm.memguard", BI_KEY_VALUE, "a malloc type or UMA zone name such as temp" },
	{ "debug.memguard", BI_KEY_VALUE, "uaf, overrun, underrun or zone-uaf" },
	/* Linux's syntax, one word per device (DESIGN.md); the drivers read it. */
	{ "virtio_mmio.device", BI_KEY_VALUE | BI_KEY_REPEAT, "SIZE@ADDRESS:IRQ" },
};
#define BI_NKEYS        (sizeof(bi_keys) / sizeof(bi_keys[0]))

/* The table's entry for word's key (up to '=' or its end), its length in *klen. */
static const struct bi_key *bi_key_find(const char *word, size_t *klen)
{
	size_t k = 0;

	while (word[k] != '\0' && word[k] != '=')
		k++;
	*klen = k;
	for (size_t i = 0; i < BI_NKEYS; i++) {
		const char *n = bi_keys[i].bk_name;
		if (strncmp(n, word, k) == 0 && n[k] == '\0')
			return &bi_keys[i];
	}
	return NULL;
}

bool bootinfo_check_args(const char *const *argv, unsigned argc, bool dropped, char *msg,
    size_t msglen)
{
	const char *seen[BI_NKEYS] = { NULL };

	if (dropped) {
		snprintf(msg, msglen, "the kernel command line has more than %u words; the "
		    "guest takes at most %u", BI_MAX_ARGS, BI_MAX_ARGS);
		return false;
	}
	for (unsigned i = 0; i < argc; i++) {
		const char *w = argv[i];
		size_t klen;
		const struct bi_key *key = bi_key_find(w, &klen);

		if (key == NULL) {
			snprintf(msg, msglen, "unknown kernel command-line word '%s'; known: "
			    "ktest=, verbose, debug.panic[=], debug.memguard=, vm.blacklist=, vm.memguard=, "
			    "vm.stats_ms=, "
			    "virtio_mmio.device=", w);
			return false;
		}
		size_t ki = (size_t)(key - bi_keys);
		if (seen[ki] != NULL && (key->bk_flags & BI_KEY_REPEAT) == 0) {
			snprintf(msg, msglen, "kernel command line: '%s' given twice (%s, then %s); "
			    "give it once", key->bk_name, seen[ki], w);
			return false;
		}
		seen[ki] = w;
		if ((key->bk_flags & BI_KEY_VALUE) == 0) {
			if (w[klen] != '\0') {
				snprintf(msg, msglen, "kernel command line: '%s' takes no value "
				    "(got '%s')", key->bk_name, w);
				return false;
			}
			continue;
		}
		if (w[klen] == '\0' && (key->bk_flags & BI_KEY_BARE) != 0)
			continue;
		if (w[klen] != '=' || w[klen + 1] == '\0') {
			snprintf(msg, msglen, "kernel command line: %s= needs a value: %s",
			    key->bk_name, key->bk_values);
			return false;
		}
		/* debug.panic's values are few: checked here rather than where it is read
		 * twice (main.c), so that a typo cannot pass for "no panic". */
		const char *v = w + klen + 1;
		if (strcmp(key->bk_name, "debug.panic") == 0 && strcmp(v, "1") != 0 &&
		    strcmp(v, "boot") != 0) {
			snprintf(msg, msglen, "kernel command line: %s: use debug.panic, "
			    "debug.panic=1 or debug.panic=boot", w);
			return false;
		}
		if (strcmp(key->bk_name, "vm.stats_ms") == 0 && dump_pub_parse_ms(v) == 0) {
			snprintf(msg, msglen, "kernel command line: %s: give the milliseconds "
			    "between statistics snapshots as a number from %u to %u", w,
			    DUMP_PUB_MS_MIN, DUMP_PUB_MS_MAX);
			return false;
		}
		if (strcmp(key->bk_name, "debug.memguard") == 0 && strcmp(v, "uaf") != 0 &&
		    strcmp(v, "overrun") != 0 && strcmp(v, "underrun") != 0 &&
		    strcmp(v, "zone-uaf") != 0) {
			snprintf(msg, msglen, "kernel command line: %s: use debug.memguard=uaf or "
			    "debug.memguard=overrun (or underrun, zone-uaf)", w);
			return false;
		}
		/* Refused here, with the other command-line checks, before vm_boot. */
		if (strcmp(key->bk_name, "vm.memguard") == 0 && strlen(v) >= MEMGUARD_NAME_MAX) {
			snprintf(msg, msglen, "kernel command line: %s: a name of at most %d "
			    "characters", w, MEMGUARD_NAME_MAX - 1);
			return false;
		}
	}
	return true;
}

/* Below this nothing is avail: the first MiB, and the kernel image when it sits right
 * above it (it always does with our VMM and QEMU). */
static inline uint64_t bi_avail_low_bound(void)
{
	uint64_t low = BI_LOWMEM_END;

	if (bootinfo.bi_kernel_start <= BI_LOWMEM_END)
		low = MAX(low, roundup2(bootinfo.bi_kernel_end, BI_PAGE));
	bi_avail_low = low;
	return low;
}

/* The avail list again from bi_ram, after a memory map that was not sorted. */
static __attribute__((noinline, cold)) void bi_avail_rebuild(uint64_t low)
{
	struct bootinfo *bi = &bootinfo;

	bi->bi_navail = 0;
	for (unsigned i = 0; i < bi->bi_nram; i++) {
		uint64_t s = MAX(roundup2(bi->bi_ram[i].bir_start, BI_PAGE), low);
		uint64_t e = rounddown2(bi->bi_ram[i].bir_end, BI_PAGE);
		if (s < e)
			bi->bi_avail[bi->bi_navail++] = (struct bi_range){ s, e };
	}
}

/* Cut every reserved structure that reaches above the low bound out of avail. */
static __attribute__((noinline)) void bi_avail_reserve_cut(void)
{
	struct bootinfo *bi = &bootinfo;

	bi_reserve(bi->bi_kernel_start, bi->bi_kernel_end - bi->bi_kernel_start);
	for (unsigned i = 0; i < bi->bi_nmodules; i++)
		bi_reserve(bi->bi_modules[i].bim_pa, bi->bi_modules[i].bim_size);
	bi_reserve(bi->bi_start_info_pa, sizeof(struct hvm_start_info));
	bi_reserve(bi->bi_memmap_pa,
	    bi->bi_memmap_entries * sizeof(struct hvm_memmap_table_entry));
	if (bi->bi_cmdline_pa != 0)
		bi_reserve(bi->bi_cmdline_pa, bi->bi_cmdline_len);
	if (bi->bi_modlist_pa != 0)
		bi_reserve(bi->bi_modlist_pa, bi->bi_nmodules * sizeof(struct hvm_modlist_entry));
}

/*
 * Keep the kernel, the modules and the loader's structures out of avail. Where the
 * loader put them all below the low bound (ours and QEMU's do, without modules) that is
 * one compare of the highest end; otherwise each is cut.
 */
static inline __attribute__((always_inline)) void bi_avail_reserve(uint64_t low,
    bool modules)
{
	const struct bootinfo *bi = &bootinfo;
	uint64_t top = MAX(bi->bi_start_info_pa + sizeof(struct hvm_start_info),
	    bi->bi_memmap_pa + bi->bi_memmap_entries * sizeof(struct hvm_memmap_table_entry));

	top = MAX(top, bi->bi_cmdline_pa + bi->bi_cmdline_len);
	if (modules || top > low || bi->bi_kernel_start > BI_LOWMEM_END)
		bi_avail_reserve_cut();
}

void bootinfo_init(uint64_t si_pa)
{
	struct bootinfo *bi = &bootinfo;
	const struct hvm_start_info *si = bi_map(si_pa, sizeof(*si), "start_info");

	if (si->magic != HVM_START_MAGIC)
		panic("bootinfo_init: bad start_info magic %#x at %#lx", si->magic,
		    (unsigned long)si_pa);
	if (si->version < HVM_START_VERSION || si->memmap_entries == 0)
		panic("bootinfo_init: no memory map (start_info version %u, %u entries)",
		    si->version, si->memmap_entries);
	bi->bi_start_info_pa = si_pa;

	/*
	 * RAM ranges, clipped to what the direct map can hold. A sorted map (every
	 * loader's) appends range after range, and the avail list is built in the same
	 * pass, each range less what lies below the first MiB and the kernel; a range
	 * that must be merged sends the avail list to be rebuilt at the end.
	 */
	uint32_t nmm = si->memmap_entries;
	const struct hvm_memmap_table_entry *mm = bi_map(si->memmap_paddr,
	    (uint64_t)nmm * sizeof(*mm), "memory map");
	const uint64_t low = bi_avail_low_bound();
	unsigned nram = 0, navail = 0;
	bool sorted = true;
	bi->bi_memmap_pa = si->memmap_paddr;
	bi->bi_memmap_entries = nmm;
	for (uint32_t i = 0; i < nmm; i++) {
		if (mm[i].type != E820_RAM)
			continue;
		uint64_t s = mm[i].addr, e = mm[i].addr + mm[i].size;
		if (e > (uint64_t)DMAP_SIZE) {
			printf("bootinfo: RAM above %u GiB not mapped: [%#lx, %#lx)\n",
			    DMAP_MAX_GIB, (unsigned long)s, (unsigned long)e);
			e = DMAP_SIZE;
		}
		if (s >= e)
			continue;
		if (nram == 0 || (nram < BI_MAX_RANGES && bi->bi_ram[nram - 1].bir_end < s)) {
			bi->bi_ram[nram++] = (struct bi_range){ s, e };
			uint64_t as = MAX(roundup2(s, BI_PAGE), low), ae = rounddown2(e, BI_PAGE);
			if (as < ae)
				bi->bi_avail[navail++] = (struct bi_range){ as, ae };
		} else {
			nram = bi_range_add(bi->bi_ram, nram, s, e);
			sorted = false;
		}
	}
	if (nram == 0)
		panic("bootinfo_init: the memory map lists no RAM");
	bi->bi_nram = nram;
	bi->bi_navail = navail;
	if (!sorted)
		bi_avail_rebuild(low);

	/* The command line, split into arguments where the loader put it. */
	if (si->cmdline_paddr != 0) {
		uint64_t pa = si->cmdline_paddr;
		struct bi_split_result r;
		size_t len = bi_split(bi_map(pa, 1, "command line"),
		    MIN(BI_CMDLINE_MAX, BI_BOOTMAP_END - pa), bi->bi_argv, BI_MAX_ARGS, &r);
		bi->bi_argc = r.bsr_argc;
		bi->bi_argfirst = r.bsr_first;
		bi->bi_cmdline_pa = pa;
		bi->bi_cmdline_len = len + 1;
		/* A refusal is only recorded: kmain reports it once the console is set up. */
		bootinfo_check_args(bi->bi_argv, bi->bi_argc, r.bsr_dropped, bi->bi_usage,
		    sizeof(bi->bi_usage));
	}

	/* Modules: kept in place, their command lines copied. */
	if (si->nr_modules == 0) {
		bi_avail_reserve(low, false);
		return;
	}
	const struct hvm_modlist_entry *ml = bi_map(si->modlist_paddr,
	    (uint64_t)si->nr_modules * sizeof(*ml), "module list");
	bi->bi_modlist_pa = si->modlist_paddr;
	for (uint32_t i = 0; i < si->nr_modules; i++) {
		if (bi->bi_nmodules == BI_MAX_MODULES) {
			printf("bootinfo: more than %u modules, ignoring the rest\n",
			    BI_MAX_MODULES);
			break;
		}
		struct bi_module *m = &bi->bi_modules[bi->bi_nmodules++];
		m->bim_pa = ml[i].paddr;
		m->bim_size = ml[i].size;
		m->bim_cmdline = "";
		if (ml[i].cmdline_paddr != 0 && bi_modcmd_used < sizeof(bi_modcmd) - 1) {
			char *dst = &bi_modcmd[bi_modcmd_used];
			bi_modcmd_used += bi_copy_string(dst, sizeof(bi_modcmd) - bi_modcmd_used,
			    ml[i].cmdline_paddr, "module command line") + 1;
			m->bim_cmdline = dst;
		}
	}
	bi_avail_reserve(low, true);
}

const struct bi_range *bootinfo_avail(unsigned *n)
{
	*n = bootinfo.bi_navail;
	return bootinfo.bi_avail;
}

const char *bootinfo_arg_lookup(const char *key)
{
	/* Compared by hand, first byte first. */
	for (unsigned i = bootinfo.bi_argc; i-- > 0;) {
		const char *a = bootinfo.bi_argv[i];
		unsigned k = 0;
		while (key[k] != '\0' && a[k] == key[k])
			k++;
		if (key[k] != '\0')
			continue;
		if (a[k] == '=')
			return a + k + 1;
		if (a[k] == '\0')
			return "";
	}
	return NULL;
}

bool bootinfo_is_ram(uint64_t pa, uint64_t len)
{
	for (unsigned i = 0; i < bootinfo.bi_nram; i++) {
		const struct bi_range *r = &bootinfo.bi_ram[i];
		if (pa >= r->bir_start && len <= r->bir_end - pa)
			return true;
	}
	return false;
}

uint64_t bootinfo_ram_bytes(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < bootinfo.bi_nram; i++)
		sum += bootinfo.bi_ram[i].bir_end - bootinfo.bi_ram[i].bir_start;
	return sum;
}
