/*
 * Suite "boot": what kmain set up is there and right. The memory map as parsed, the
 * direct map over all of RAM, and the trap path, taken and recovered from on purpose.
 */
#include "amd64/cpufunc.h"
#include "amd64/dmap.h"
#include "amd64/kva.h"
#include "amd64/pmap_bootstrap.h"
#include "amd64/segments.h"
#include "amd64/specialreg.h"
#include "amd64/trap.h"
#include "amd64/vmparam.h"
#include "dev/hostcall.h"
#include "devices/pvh.h"
#include "kern/bootinfo.h"
#include "kern/console.h"
#include "kern/ktest.h"
#include "kern/msgbuf.h"
#include "kern/systm.h"

KTEST(boot, memmap)
{
	const struct bootinfo *bi = &bootinfo;
	const struct hvm_start_info *si = (const void *)(DMAP_BASE + bi->bi_start_info_pa);
	const struct hvm_memmap_table_entry *mm = (const void *)(DMAP_BASE + si->memmap_paddr);
	uint64_t raw = 0, sum = 0;

	KT_ASSERT_EQ(si->magic, HVM_START_MAGIC);
	KT_ASSERT(bi->bi_nram >= 1);
	/* The loader's map, read again now, against what bootinfo kept. */
	KT_ASSERT_EQ(si->memmap_entries, bi->bi_memmap_entries);
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		if (mm[i].type == E820_RAM)
			raw += mm[i].size;
	}
	for (unsigned i = 0; i < bi->bi_nram; i++) {
		const struct bi_range *r = &bi->bi_ram[i];
		KT_ASSERT(r->bir_start < r->bir_end);
		if (i > 0)
			KT_ASSERT_MSG(bi->bi_ram[i - 1].bir_end < r->bir_start,
			    "RAM ranges %u and %u not sorted and merged", i - 1, i);
		sum += r->bir_end - r->bir_start;
	}
	KT_ASSERT_EQ(sum, bootinfo_ram_bytes());
	/* Ranges may overlap in a loader's map; ours does not, and neither does QEMU's. */
	KT_ASSERT_EQ(sum, raw);
	KT_ASSERT(bootinfo_is_ram(bi->bi_kernel_start, bi->bi_kernel_end - bi->bi_kernel_start));
	KT_ASSERT_EQ(bi->bi_kernel_start, KERNEL_PHYS);
}

KTEST(boot, avail)
{
	const struct bootinfo *bi = &bootinfo;
	uint64_t avail = 0;
	unsigned navail;
	const struct bi_range *av = bootinfo_avail(&navail);

	KT_ASSERT(navail >= 1);
	KT_ASSERT(bootinfo_avail(&navail) == av);      /* computed once */
	for (unsigned i = 0; i < navail; i++) {
		const struct bi_range *a = &av[i];
		KT_ASSERT(a->bir_start < a->bir_end);
		KT_ASSERT_EQ(a->bir_start & 4095, 0);
		KT_ASSERT_EQ(a->bir_end & 4095, 0);
		KT_ASSERT(bootinfo_is_ram(a->bir_start, a->bir_end - a->bir_start));
		KT_ASSERT(a->bir_start >= 0x100000);
		KT_ASSERT_MSG(a->bir_end <= bi->bi_kernel_start ||
		    a->bir_start >= bi->bi_kernel_end, "avail range %u overlaps the kernel", i);
		for (unsigned m = 0; m < bi->bi_nmodules; m++) {
			const struct bi_module *md = &bi->bi_modules[m];
			KT_ASSERT_MSG(a->bir_end <= md->bim_pa ||
			    a->bir_start >= md->bim_pa + md->bim_size,
			    "avail range %u overlaps module %u", i, m);
		}
		if (i > 0)
			KT_ASSERT(av[i - 1].bir_end <= a->bir_start);
		avail += a->bir_end - a->bir_start;
	}
	/* At least what RAM leaves once the first MiB and the kernel are taken out. */
	KT_ASSERT(avail < bootinfo_ram_bytes());
	KT_ASSERT(avail + 0x100000 + (bi->bi_kernel_end - bi->bi_kernel_start) +
	    0x100000 >= bootinfo_ram_bytes() || bi->bi_nmodules > 0);
	/* The command line is split where the loader put it: it stays out of avail. */
	if (bi->bi_cmdline_pa != 0) {
		for (unsigned i = 0; i < navail; i++)
			KT_ASSERT(av[i].bir_end <= bi->bi_cmdline_pa ||
			    av[i].bir_start >= bi->bi_cmdline_pa + bi->bi_cmdline_len);
	}
}

KTEST(boot, cmdline)
{
	const char *kt = bootinfo_arg("ktest");

	KT_ASSERT(kt != NULL);          /* we are running because of it */
	KT_ASSERT(bootinfo.bi_argc >= 1);
	KT_ASSERT(bootinfo_arg("no-such-argument-anywhere") == NULL);
	KT_ASSERT(bootinfo_arg("k") == NULL);          /* a prefix is not the key */
	KT_ASSERT(bootinfo_arg("ktest=") == NULL);
	KT_ASSERT(bootinfo_arg_lookup("ktest") == kt);  /* the inline filter agrees */
	KT_ASSERT(bootinfo.bi_argfirst & (1ull << ('k' & 63)));
	for (unsigned i = 0; i < bootinfo.bi_argc; i++)
		KT_ASSERT(strchr(bootinfo.bi_argv[i], ' ') == NULL);
	/* The tokens lie in the loader's copy, which ends where bootinfo says; the parser
	 * reads it through the kernel image's mapping of the first GiB. */
	const char *line = (const char *)(KERNBASE + bootinfo.bi_cmdline_pa);
	KT_ASSERT(bootinfo.bi_cmdline_pa != 0);
	KT_ASSERT(bootinfo.bi_argv[0] >= line);
	KT_ASSERT_EQ(line[bootinfo.bi_cmdline_len - 1], '\0');
	KT_ASSERT(bootinfo.bi_argv[bootinfo.bi_argc - 1] < line + bootinfo.bi_cmdline_len);
}

/*
 * Split s (copied into a buffer at offset off, to try every alignment against the
 * word-at-a-time scan) with limit max; check the tokens and the returned length.
 */
static bool kt_split_case(const char *s, unsigned off, size_t max, const char *const *want,
    unsigned nwant, size_t want_len)
{
	static char buf[96] __attribute__((aligned(8)));
	const char *argv[4];
	struct bi_split_result r = { .bsr_argc = 99 };
	uint64_t first = 0;

	memset(buf, 'X', sizeof(buf));
	memcpy(buf + off, s, strlen(s) + 1);
	size_t len = bootinfo_split(buf + off, max, argv, nitems(argv), &r);
	if (len != want_len || buf[off + len] != '\0' ||
	    r.bsr_argc != MIN(nwant, nitems(argv)) || r.bsr_dropped != (nwant > nitems(argv)))
		return false;
	for (unsigned i = 0; i < r.bsr_argc; i++) {
		if (strcmp(argv[i], want[i]) != 0)
			return false;
	}
	for (unsigned i = 0; i < nwant; i++)
		first |= 1ull << (want[i][0] & 63);
	return r.bsr_first == first;
}

KTEST(boot, cmdline_split)
{
	static const char *const one[] = { "ktest=none" };
	static const char *const three[] = { "a", "bb", "ccccccccccccccccc" };
	static const char *const many[] = { "1", "2", "3", "4", "5" };
	static const char *const cut[] = { "abcdefghij" };
	static const char *const cut2[] = { "abc", "def" };

	for (unsigned off = 0; off < 8; off++) {
		KT_ASSERT_MSG(kt_split_case("ktest=none", off, 4096, one, 1, 10),
		    "'ktest=none' at offset %u", off);
		KT_ASSERT_MSG(kt_split_case("  \t a bb\n\nccccccccccccccccc  ", off, 4096, three,
		    3, 29), "blanks and controls at offset %u", off);
		KT_ASSERT_MSG(kt_split_case("", off, 4096, NULL, 0, 0), "empty at %u", off);
		KT_ASSERT_MSG(kt_split_case(" \t ", off, 4096, NULL, 0, 3), "blank at %u", off);
		KT_ASSERT_MSG(kt_split_case("1 2 3 4 5", off, 4096, many, 5, 9),
		    "too many at offset %u", off);
		/* A line longer than the limit is cut by a NUL at s[max - 1]. */
		KT_ASSERT_MSG(kt_split_case("abcdefghijklmnop", off, 11, cut, 1, 10),
		    "cut inside a token at offset %u", off);
		KT_ASSERT_MSG(kt_split_case("abc def ghi", off, 8, cut2, 2, 7),
		    "cut on a blank at offset %u", off);
		KT_ASSERT_MSG(kt_split_case("abc", off, 1, NULL, 0, 0), "limit 1 at %u", off);
	}
	/* Bytes above 0x7f belong to tokens. */
	static const char *const hi[] = { "\xc3\xa9t\xc3\xa9", "x" };
	KT_ASSERT(kt_split_case("\xc3\xa9t\xc3\xa9 x", 3, 4096, hi, 2, 7));
}

/* bootinfo_check_args: words that pass, and each way a word is refused, with what the
 * message must say. */
KTEST(boot, cmdline_check)
{
	static const struct {
		const char *words[4];
		unsigned n;
		bool dropped;
		const char *want;       /* NULL: accepted */
	} cases[] = {
		{ { "ktest=none" }, 1, false, NULL },
		{ { NULL }, 0, false, NULL },
		{ { "verbose", "ktest=a,b.c", "vm.blacklist=0x1000", "debug.panic=boot" }, 4,
		    false, NULL },
		{ { "virtio_mmio.device=4K@0xd0000000:5", "virtio_mmio.device=4K@0xd0001000:6" },
		    2, false, NULL },
		{ { "ktest=none" }, 1, true, "at most 32" },
		{ { "ktest=none", "bogus" }, 2, false, "unknown kernel command-line word 'bogus'" },
		{ { "ktestx=1" }, 1, false, "unknown kernel command-line word 'ktestx=1'" },
		{ { "ktes=1" }, 1, false, "unknown" },
		{ { "=1" }, 1, false, "unknown" },
		{ { "ktest=a", "verbose", "ktest=b" }, 3, false,
		    "'ktest' given twice (ktest=a, then ktest=b)" },
		{ { "verbose", "verbose" }, 2, false, "'verbose' given twice" },
		{ { "verbose=1" }, 1, false, "'verbose' takes no value" },
		{ { "verbose=" }, 1, false, "'verbose' takes no value" },
		{ { "ktest" }, 1, false, "ktest= needs a value" },
		{ { "ktest=" }, 1, false, "ktest= needs a value" },
		{ { "vm.blacklist=" }, 1, false, "vm.blacklist= needs a value" },
		{ { "debug.panic=2" }, 1, false, "debug.panic=2: use debug.panic, debug.panic=1" },
		{ { "debug.panic", "vm.stats_ms=250" }, 2, false, NULL },
		{ { "debug.panic", "debug.panic=1" }, 2, false, "given twice" },
		{ { "vm.stats_ms=9" }, 1, false, "vm.stats_ms=9: give the milliseconds" },
		{ { "vm.stats_ms=1s" }, 1, false, "a number from 10 to 3600000" },
		{ { "vm.stats_ms" }, 1, false, "vm.stats_ms= needs a value" },
		{ { "debug.panic=1", "debug.panic=boot" }, 2, false, "given twice" },
	};
	char msg[BI_USAGE_MAX];

	for (unsigned i = 0; i < nitems(cases); i++) {
		msg[0] = '\0';
		bool okay = bootinfo_check_args(cases[i].words, cases[i].n, cases[i].dropped,
		    msg, sizeof(msg));
		if (cases[i].want == NULL) {
			KT_ASSERT_MSG(okay && msg[0] == '\0', "case %u refused: %s", i, msg);
		} else {
			KT_ASSERT_MSG(!okay && strstr(msg, cases[i].want) != NULL,
			    "case %u: '%s', want '%s'", i, msg, cases[i].want);
		}
	}
	/* This boot's own command line passed. */
	KT_ASSERT_EQ(bootinfo.bi_usage[0], '\0');
}

/* Read and write one word in every 2 MiB of RAM through the direct map. Interrupts are
 * off so that no handler sees a word while it holds the test pattern. */
KTEST(boot, dmap_rw)
{
	uint64_t chunks = 0, bad_pa = ~0ull;

	for (unsigned i = 0; i < bootinfo.bi_nram; i++) {
		const struct bi_range *r = &bootinfo.bi_ram[i];
		for (uint64_t c = rounddown2(r->bir_start, NBPDR); c < r->bir_end; c += NBPDR) {
			uint64_t pa = roundup2(MAX(c, r->bir_start), 8) + 0x40;
			if (pa + 8 > r->bir_end || pa + 8 > c + NBPDR)
				continue;
			volatile uint64_t *p = (volatile uint64_t *)(DMAP_BASE + pa);
			bool intr = intr_save();
			uint64_t old = *p;
			*p = pa ^ 0x5a5a5a5a5a5a5a5aull;
			bool ok = *p == (pa ^ 0x5a5a5a5a5a5a5a5aull);
			*p = ~old;
			ok = ok && *p == ~old;
			*p = old;
			intr_restore(intr);
			if (!ok && bad_pa == ~0ull)
				bad_pa = pa;
			chunks++;
		}
	}
	KT_ASSERT_MSG(bad_pa == ~0ull, "direct map word at pa %#lx did not hold a store",
	    (unsigned long)bad_pa);
	KT_ASSERT(chunks >= bootinfo_ram_bytes() / NBPDR);
	/* The direct map and the kernel map see the same memory. */
	extern char __kernel_start[];
	KT_ASSERT_EQ(*(volatile uint64_t *)(DMAP_BASE + KERNEL_PHYS),
	    *(volatile uint64_t *)__kernel_start);
}

KTEST(boot, trap_ud)
{
	struct trap_record rec;

	trap_expect(T_UD);
	__asm__ volatile(TRAP_FIXUP("ud2") : : : "memory");
	KT_ASSERT(trap_expect_done(&rec));
	KT_ASSERT_EQ(rec.tr_vector, T_UD);
}

KTEST(boot, trap_pf_unmapped)
{
	/* PML4 slot 384: nothing maps it. */
	uint64_t addr = 0xffffc00000001238ull, v = 0;
	struct trap_record rec;

	trap_expect(T_PF);
	__asm__ volatile(TRAP_FIXUP("movq (%1), %0") : "+r"(v) : "r"(addr) : "memory");
	KT_ASSERT(trap_expect_done(&rec));
	KT_ASSERT_EQ(rec.tr_vector, T_PF);
	KT_ASSERT_EQ(rec.tr_cr2, addr);
	/* Not present, read, and a user access: the kernel runs at CPL 3. */
	KT_ASSERT_EQ(rec.tr_err & (PGEX_P | PGEX_W | PGEX_U), PGEX_U);

	trap_expect(T_PF);
	__asm__ volatile(TRAP_FIXUP("movq %0, (%1)") : : "r"(v), "r"(addr + 8) : "memory");
	KT_ASSERT(trap_expect_done(&rec));
	KT_ASSERT_EQ(rec.tr_cr2, addr + 8);
	KT_ASSERT_EQ(rec.tr_err & (PGEX_P | PGEX_W | PGEX_U), PGEX_W | PGEX_U);
}

/* The boot identity map is gone: a null pointer faults. */
KTEST(boot, trap_pf_null)
{
	uint64_t v = 0;
	struct trap_record rec;

	trap_expect(T_PF);
	__asm__ volatile(TRAP_FIXUP("movq (%1), %0") : "+r"(v) : "r"(0ull) : "memory");
	KT_ASSERT(trap_expect_done(&rec));
	KT_ASSERT_EQ(rec.tr_cr2, 0);
	KT_ASSERT_EQ(boot_pml4[0], 0);
}

KTEST(boot, trap_gp_noncanonical)
{
	uint64_t addr = 0x8000000000000000ull, v = 0;
	struct trap_record rec;

	trap_expect(T_GP);
	__asm__ volatile(TRAP_FIXUP("movq (%1), %0") : "+r"(v) : "r"(addr) : "memory");
	KT_ASSERT(trap_expect_done(&rec));
	KT_ASSERT_EQ(rec.tr_vector, T_GP);
	KT_ASSERT_EQ(rec.tr_err, 0);
}

KTEST(boot, trap_de)
{
	uint32_t hi = 0, lo = 1000, divisor = 0;
	struct trap_record rec;

	trap_expect(T_DE);
	__asm__ volatile(TRAP_FIXUP("divl %2") : "+a"(lo), "+d"(hi) : "r"(divisor) : "memory");
	KT_ASSERT(trap_expect_done(&rec));
	KT_ASSERT_EQ(rec.tr_vector, T_DE);
	/* The trap resumed after the instruction and left the registers alone. */
	KT_ASSERT_EQ(lo, 1000);
}

/*
 * #DF, NMI and #MC run on their own IST stacks, so a kernel stack overflow still gets a
 * trap frame printed; #PF on one of its own, where its frame waits out of interrupts' way
 * (exception.S: pf_entry). Taking the first three on purpose would end the VM, so check
 * the wiring: TR holds the TSS, each gate names its IST slot, each slot the top of its
 * own stack.
 */
KTEST(boot, ist_stacks)
{
	extern const uint64_t idt[];
	extern const char tss[], ist_df_stack[], ist_nmi_stack[], ist_mc_stack[],
	    ist_pf_stack[];
	static const struct { unsigned vec, ist; const char *stack; } want[] = {
		{ T_DF, IST_DF, ist_df_stack },
		{ T_NMI, IST_NMI, ist_nmi_stack },
		{ T_MC, IST_MC, ist_mc_stack },
		{ T_PF, IST_PF, ist_pf_stack },
	};
	uint16_t tr;

	__asm__ volatile("str %0" : "=r"(tr));
	KT_ASSERT_EQ(tr, GSEL_TSS);
	for (unsigned i = 0; i < nitems(want); i++) {
		uint64_t gate_lo = idt[2 * want[i].vec];
		uint64_t top;

		KT_ASSERT_EQ((gate_lo >> 32) & 7, want[i].ist);
		/* ist1 is at byte 36 of the 64-bit TSS, 8 bytes a slot. */
		memcpy(&top, tss + 36 + 8 * (want[i].ist - 1), sizeof(top));
		KT_ASSERT_EQ(top, (uint64_t)(uintptr_t)want[i].stack + ISTSTACK_SIZE);
	}
	/* Every other exception stays on the current stack. */
	KT_ASSERT_EQ((idt[2 * T_GP] >> 32) & 7, 0);
	KT_ASSERT_EQ((idt[2 * T_UD] >> 32) & 7, 0);
}

/* A gate's target address. */
static uint64_t kt_gate_addr(const uint64_t *table, unsigned vec)
{
	uint64_t lo = table[2 * vec], hi = table[2 * vec + 1];

	return (lo & 0xffff) | ((lo >> 48) << 16) | ((hi & 0xffffffff) << 32);
}

/*
 * The two IDTs (exception.S): the kernel's and user mode's, which user mode's root maps
 * at the kernel's address. Each gate leads into its own stub table, but for the hot
 * entries, which only one of them has: the returns (#DE, #GP) the kernel's, the system
 * call and the page fault (#UD, #PF) user mode's. Same IST slots, same gate types.
 */
KTEST(boot, two_idts)
{
	extern const uint64_t idt[], idt_user[];

	for (unsigned v = 0; v < 256; v++) {
		uint64_t k = kt_gate_addr(idt, v), u = kt_gate_addr(idt_user, v);
		uint64_t kwant = v == T_DE ? DE_ENTRY_VA : v == T_GP ? GP_ENTRY_VA :
		    TRAP_STUBS_VA + v * TRAP_STUB_SIZE;
		uint64_t uwant = v == T_UD ? UD_ENTRY_VA : v == T_PF ? PF_ENTRY_VA :
		    UTRAP_STUBS_VA + v * TRAP_STUB_SIZE;

		KT_ASSERT_MSG(k == kwant, "vector %u: kernel gate %#lx", v, (unsigned long)k);
		KT_ASSERT_MSG(u == uwant, "vector %u: user gate %#lx", v, (unsigned long)u);
		/* The same selector, IST slot, type and DPL in both. */
		KT_ASSERT_EQ(idt[2 * v] & 0x0000ffffffff0000ull,
		    idt_user[2 * v] & 0x0000ffffffff0000ull);
	}
}

/* An armed expectation does not swallow a trap of another vector... which would panic,
 * so check the bookkeeping instead: nothing taken means trap_expect_done is false. */
KTEST(boot, trap_expect_idle)
{
	trap_expect(T_UD);
	KT_ASSERT(!trap_expect_done(NULL));
	KT_ASSERT(!trap_expect_done(NULL));
}

/* The dump descriptor the ENTRY milestone registered is the kernel's, complete at link
 * time. */
KTEST(boot, dump_desc)
{
	KT_ASSERT_EQ(hc_dump_desc.magic, HC_DUMP_MAGIC);
	KT_ASSERT_EQ(hc_dump_desc.version, HC_DUMP_VERSION);
	KT_ASSERT_EQ(hc_dump_desc.kernel_cr3, rcr3() & ~0xfffull);
	KT_ASSERT_EQ(hc_dump_desc.kernbase, KERNBASE);
	KT_ASSERT_EQ(hc_dump_desc.dmap_base, DMAP_BASE);
}

KTEST(boot, msgbuf)
{
	char tail[64];

	/* The header is written by the first message; by now there was one (ktest's). */
	KT_ASSERT_EQ(msgbuf.msg_magic, MSGBUF_MAGIC);
	KT_ASSERT_EQ(msgbuf.msg_size, MSGBUF_SIZE);
	KT_ASSERT_EQ(hc_dump_desc.msgbuf, kvtop(&msgbuf));
	uint64_t w = msgbuf.msg_wseq;
	printf("boot.msgbuf marker %d\n", 4242);
	KT_ASSERT_EQ(msgbuf.msg_wseq, w + 24);
	size_t n = msgbuf_tail(tail, 24);
	KT_ASSERT_EQ(n, 24);
	KT_ASSERT(memcmp(tail, "boot.msgbuf marker 4242\n", 24) == 0);
}

extern const char tss[];
extern char cpl0_stack[];

/* The kernel runs at CPL 3 (docs/deprivileged-kernel.md); its ports through the TSS's
 * I/O bitmap, the rest refused. */
KTEST(boot, kernel_at_cpl3)
{
	uint16_t cs;

	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	/* The selector's RPL, not its index: PVM may run user mode on selectors of its own. */
	KT_ASSERT_EQ(cs & 3, SEL_UPL);
	KT_ASSERT(cpu_at_cpl3());
	/* COM1 works from here (ktest's own output reached it); port 0x80 is not ours. */
	struct trap_record rec;
	trap_expect(T_GP);
	__asm__ volatile(TRAP_FIXUP("outb %%al, $0x80") : : "a"(0) : "memory");
	KT_ASSERT(trap_expect_done(&rec));
}

/* What a CPL 3 kernel needs of its tables: user-accessible, and not global (a global
 * user entry would survive into a process's root). */
KTEST(boot, kernel_tables_user_not_global)
{
	KT_ASSERT(boot_pml4[257] & PG_U);               /* DMAP_BASE */
	KT_ASSERT_EQ(boot_pml4[256], 0u);               /* kvm_pvm's hole at CPL 3 */
	KT_ASSERT(boot_pml4[511] & PG_U);               /* KERNBASE */
	KT_ASSERT(boot_pdpt_hi[510] & PG_U);
	KT_ASSERT(dmap_pdpt[0] & PG_U);
	KT_ASSERT_EQ(boot_pml4[0], 0u);                 /* the identity map is gone */
	for (int i = 0; i < 512; i++)
		KT_ASSERT_EQ(boot_pd[i] & (PG_U | PG_G), PG_U);
}

/* A kernel request round trip: MSRs read and written by the stub. */
KTEST(boot, kreq_msr)
{
	uint64_t efer = rdmsr(MSR_EFER);

	KT_ASSERT_EQ(efer & (EFER_LME | EFER_LMA | EFER_NXE), EFER_LME | EFER_LMA | EFER_NXE);
	/* KERNEL_GS_BASE is unused (no swapgs): write a pattern, read it, put it back. */
	uint64_t old = rdmsr(MSR_KGSBASE);
	wrmsr(MSR_KGSBASE, 0xffff80001234a000ull);
	KT_ASSERT_EQ(rdmsr(MSR_KGSBASE), 0xffff80001234a000ull);
	wrmsr(MSR_KGSBASE, old);
	KT_ASSERT_EQ(rdmsr(MSR_KGSBASE), old);
}

/*
 * A forwarded trap resumes the interrupted code with every register as it was, the
 * flags included, without CPL 0 on the way back; and TSS.RSP0 is back where it was.
 */
KTEST(boot, trap_forward_preserves_state)
{
	static uint64_t out[16];
	static const uint64_t want[13] = {
		0x1b1b, 0x1c1c, 0x1d1d, 0x5151, 0xd1d1, 0x0808, 0x0909, 0x1010, 0x1111,
		0x1212, 0x1313, 0x1414, 0x1515,
	};
	uint64_t rsp0_before, rsp0_after;

	memcpy(&rsp0_before, tss + 4, sizeof(rsp0_before));
	KT_ASSERT_EQ(rsp0_before, (uint64_t)(uintptr_t)(cpl0_stack + CPL0STACK_SIZE));
	trap_expect(T_UD);
	__asm__ volatile(
	    "movq %%rsp, 104(%%rax)\n\t"
	    "movq $0x1b1b, %%rbx\n\tmovq $0x1c1c, %%rcx\n\tmovq $0x1d1d, %%rdx\n\t"
	    "movq $0x5151, %%rsi\n\tmovq $0xd1d1, %%rdi\n\tmovq $0x0808, %%r8\n\t"
	    "movq $0x0909, %%r9\n\tmovq $0x1010, %%r10\n\tmovq $0x1111, %%r11\n\t"
	    "movq $0x1212, %%r12\n\tmovq $0x1313, %%r13\n\tmovq $0x1414, %%r14\n\t"
	    "movq $0x1515, %%r15\n\t"
	    "stc\n\t"
	    TRAP_FIXUP("ud2")
	    "setc 120(%%rax)\n\t"
	    "movq %%rbx, 0(%%rax)\n\tmovq %%rcx, 8(%%rax)\n\tmovq %%rdx, 16(%%rax)\n\t"
	    "movq %%rsi, 24(%%rax)\n\tmovq %%rdi, 32(%%rax)\n\tmovq %%r8, 40(%%rax)\n\t"
	    "movq %%r9, 48(%%rax)\n\tmovq %%r10, 56(%%rax)\n\tmovq %%r11, 64(%%rax)\n\t"
	    "movq %%r12, 72(%%rax)\n\tmovq %%r13, 80(%%rax)\n\tmovq %%r14, 88(%%rax)\n\t"
	    "movq %%r15, 96(%%rax)\n\t"
	    "movq %%rsp, 112(%%rax)\n\t"
	    : : "a"(out)
	    : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
	      "r14", "r15", "memory", "cc");
	KT_ASSERT(trap_expect_done(NULL));
	for (int i = 0; i < 13; i++)
		KT_ASSERT_MSG(out[i] == want[i], "register %d: %#lx, want %#lx", i,
		    (unsigned long)out[i], (unsigned long)want[i]);
	KT_ASSERT_EQ(out[13], out[14]);                 /* rsp */
	KT_ASSERT_EQ(out[15] & 0xff, 1u);               /* CF survived */
	memcpy(&rsp0_after, tss + 4, sizeof(rsp0_after));
	KT_ASSERT_EQ(rsp0_after, rsp0_before);
}
