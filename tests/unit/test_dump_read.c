/*
 * The dump reader (vmm/dump_read.c) on the synthetic dump of dump_fixture.h: what it
 * indexes, translation by virtual and physical address and through the page tables,
 * and the rejection (65, one line naming what is wrong) of truncated, foreign and
 * corrupt files.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/dump_fixture.h"
#include "tests/unit/unit.h"
#include "vm/malloc.h"
#include "vm/uma.h"
#include "vmm/dump_read.h"
#include "vmm/dump_stats.h"
#include "vmm/vmm.h"

static uint8_t *tr_buf;
static size_t tr_len;
static struct dump tr_d;
static char tr_err[512];

static void tr_setup(void)
{
	struct dump_fixture_opts o = { 0 };

	ck_assert_int_eq(dump_fixture_build(&o, &tr_buf, &tr_len), 0);
	ck_assert_int_eq(dump_open_mem(&tr_d, tr_buf, tr_len, "fx", tr_err, sizeof(tr_err)), 0);
}

static void tr_teardown(void)
{
	dump_close(&tr_d);
	free(tr_buf);
}

/* Open a copy of bytes; => the status, the message checked to be one "fx: " line. */
static int tr_open(const uint8_t *b, size_t len)
{
	struct dump d;

	memset(tr_err, 0, sizeof(tr_err));
	int rc = dump_open_mem(&d, b, len, "fx", tr_err, sizeof(tr_err));
	if (rc == 0) {
		dump_close(&d);
		return 0;
	}
	ck_assert_msg(strncmp(tr_err, "fx: ", 4) == 0, "message without the file: %s", tr_err);
	ck_assert_msg(strchr(tr_err, '\n') == NULL, "multi-line message: %s", tr_err);
	return rc;
}

START_TEST(indexes_the_fixture)
{
	ck_assert_uint_eq(tr_d.d_nsegs, 3);
	ck_assert_uint_eq(tr_d.d_load_bytes, DF_KIMG_SIZE + DF_D1_SIZE + 0x1000);
	ck_assert(tr_d.d_has_info);
	ck_assert(tr_d.d_has_desc);
	ck_assert_uint_eq(tr_d.d_nnotes, 4);
	ck_assert_uint_eq(tr_d.d_nvcpus, 1);
	ck_assert(tr_d.d_vcpus[0].dv_has_regs && tr_d.d_vcpus[0].dv_has_sregs);
	ck_assert_uint_eq(tr_d.d_vcpus[0].dv_regs.rip, DF_RIP);
	ck_assert_uint_eq(tr_d.d_vcpus[0].dv_sregs.dsr_cr3, DF_CR3);
	ck_assert_str_eq(tr_d.d_info.di_message, DF_MESSAGE);
	ck_assert_uint_eq(tr_d.d_desc.ddn_gpa, DF_DESC_PA);
	ck_assert_uint_eq(tr_d.d_desc.ddn_desc.kernel_cr3, DF_CR3);
}
END_TEST

START_TEST(notes_aligned_to_eight)
{
	struct dump_fixture_opts o = { .df_notes_align8 = true };
	uint8_t *b;
	size_t len;
	struct dump d;

	ck_assert_int_eq(dump_fixture_build(&o, &b, &len), 0);
	ck_assert_int_eq(dump_open_mem(&d, b, len, "fx", tr_err, sizeof(tr_err)), 0);
	ck_assert_uint_eq(d.d_nnotes, 4);
	ck_assert_uint_eq(d.d_vcpus[0].dv_regs.rip, DF_RIP);
	ck_assert(d.d_has_desc);
	dump_close(&d);
	free(b);
}
END_TEST

START_TEST(translate_virtual_and_physical)
{
	uint32_t magic = 0;
	uint8_t a[64], b[64];

	ck_assert_int_eq(dump_read_kva(&tr_d, DF_KERNBASE + DF_DESC_PA, &magic, 4), 0);
	ck_assert_uint_eq(magic, HC_DUMP_MAGIC);
	ck_assert_int_eq(dump_read_pa(&tr_d, DF_DESC_PA, &magic, 4), 0);
	ck_assert_uint_eq(magic, HC_DUMP_MAGIC);
	/* The same bytes by both ways. */
	ck_assert_int_eq(dump_read_kva(&tr_d, DF_DMAP + 0x407000, a, sizeof(a)), 0);
	ck_assert_int_eq(dump_read_pa(&tr_d, 0x407000, b, sizeof(b)), 0);
	ck_assert_mem_eq(a, b, sizeof(a));
	/* A read running off the end of a segment into a page not dumped fails whole. */
	ck_assert_int_eq(dump_read_kva(&tr_d, DF_DMAP + DF_MISSING_PA - 8, a, 16), -1);
	ck_assert_int_eq(dump_read_pa(&tr_d, DF_MISSING_PA - 8, a, 16), -1);
	ck_assert_int_eq(dump_read_pa(&tr_d, DF_MISSING_PA - 8, a, 8), 0);
	ck_assert_int_eq(dump_read_kva(&tr_d, 0, a, 1), -1);
	ck_assert_int_eq(dump_read_pa(&tr_d, UINT64_MAX, a, 1), -1);
}
END_TEST

START_TEST(walk_2m_4k_1g)
{
	struct gva_walk w;

	dump_walk(&tr_d, DF_CR3, DF_KERNBASE + 0x100123, &w);
	ck_assert_int_eq(w.gw_status, GVA_WALK_OK);
	ck_assert_uint_eq(w.gw_nlevels, 3);
	ck_assert_uint_eq(w.gw_page_size, 2u << 20);
	ck_assert_uint_eq(w.gw_pa, 0x100123);
	ck_assert_uint_eq(w.gw_lv[0].wl_index, 511);
	ck_assert_uint_eq(w.gw_lv[1].wl_index, 510);
	ck_assert_uint_eq(w.gw_lv[2].wl_table, 0x402000);
	ck_assert(w.gw_lv[2].wl_entry & GVA_PTE_PS);

	dump_walk(&tr_d, DF_CR3, DF_DMAP + 0x406010, &w);
	ck_assert_int_eq(w.gw_status, GVA_WALK_OK);
	ck_assert_uint_eq(w.gw_nlevels, 4);
	ck_assert_uint_eq(w.gw_page_size, 4096);
	ck_assert_uint_eq(w.gw_pa, 0x406010);
	ck_assert_uint_eq(w.gw_lv[3].wl_index, 6);
	ck_assert(w.gw_lv[3].wl_entry & GVA_PTE_NX);

	dump_walk(&tr_d, DF_CR3, DF_GIGPAGE_VA + 0x1234, &w);
	ck_assert_int_eq(w.gw_status, GVA_WALK_OK);
	ck_assert_uint_eq(w.gw_page_size, 1u << 30);
	ck_assert_uint_eq(w.gw_pa, 0x40001234);

	dump_walk(&tr_d, DF_CR3, DF_DMAP + DF_UNMAPPED_PA, &w);
	ck_assert_int_eq(w.gw_status, GVA_WALK_NOT_PRESENT);
	ck_assert_uint_eq(w.gw_nlevels, 4);

	dump_walk(&tr_d, DF_CR3, 0x1000, &w);
	ck_assert_int_eq(w.gw_status, GVA_WALK_NOT_PRESENT);
	ck_assert_uint_eq(w.gw_nlevels, 1);

	dump_walk(&tr_d, DF_CR3, 0x0000800000000000ull, &w);
	ck_assert_int_eq(w.gw_status, GVA_WALK_NONCANONICAL);

	/* A root that is not in the dump. */
	dump_walk(&tr_d, 0x7000000, DF_KERNBASE, &w);
	ck_assert_int_eq(w.gw_status, GVA_WALK_NO_TABLE);
	ck_assert_uint_eq(w.gw_table_missing, 0x7000000);
}
END_TEST

START_TEST(read_through_the_walk)
{
	uint8_t a[0x300], b[0x300];
	uint64_t bad = 0;

	/* Across the 2 MiB page, and across 4 KiB pages and segments. */
	ck_assert_int_eq(dump_read_kva_walk(&tr_d, DF_CR3, DF_KERNBASE + 0x100f00, a,
	    sizeof(a), &bad), 0);
	ck_assert_int_eq(dump_read_pa(&tr_d, 0x100f00, b, sizeof(b)), 0);
	ck_assert_mem_eq(a, b, sizeof(a));
	ck_assert_int_eq(dump_read_kva_walk(&tr_d, DF_CR3, DF_DMAP + 0x406f00, a, sizeof(a),
	    &bad), 0);
	ck_assert_int_eq(dump_read_pa(&tr_d, 0x406f00, b, sizeof(b)), 0);
	ck_assert_mem_eq(a, b, sizeof(a));
	/* The first byte not there is named. */
	ck_assert_int_eq(dump_read_kva_walk(&tr_d, DF_CR3, DF_DMAP + 0x407f00, a, sizeof(a),
	    &bad), -1);
	ck_assert_uint_eq(bad, DF_DMAP + DF_MISSING_PA);
}
END_TEST

START_TEST(rejects_every_truncation)
{
	/* Every proper prefix of the file (the last segment ends it) is refused. */
	for (size_t len = 0; len < tr_len; len += (len < 0x2000 ? 1 : 61)) {
		int rc = tr_open(tr_buf, len);
		ck_assert_msg(rc == DUMP_EXIT_DATA, "prefix of %zu bytes: status %d", len, rc);
	}
	ck_assert_int_eq(tr_open(tr_buf, tr_len - 1), DUMP_EXIT_DATA);
	ck_assert_msg(strstr(tr_err, "truncated") != NULL, "%s", tr_err);
}
END_TEST

/* A copy of the fixture, changed by the test, opened. */
static int tr_open_changed(void (*change)(uint8_t *b, size_t len))
{
	uint8_t *b = malloc(tr_len);

	memcpy(b, tr_buf, tr_len);
	change(b, tr_len);
	int rc = tr_open(b, tr_len);
	free(b);
	return rc;
}

static void tr_exec(uint8_t *b, size_t len)
{
	(void)len;
	((Elf64_Ehdr *)b)->e_type = ET_EXEC;
}

static void tr_arm(uint8_t *b, size_t len)
{
	(void)len;
	((Elf64_Ehdr *)b)->e_machine = EM_AARCH64;
}

static void tr_not_elf(uint8_t *b, size_t len)
{
	(void)len;
	memcpy(b, "#!/bin/sh\n", 10);
}

static void tr_elf32(uint8_t *b, size_t len)
{
	(void)len;
	b[EI_CLASS] = ELFCLASS32;
}

static Elf64_Phdr *tr_phdr(uint8_t *b, unsigned i)
{
	return (Elf64_Phdr *)(b + ((Elf64_Ehdr *)b)->e_phoff) + i;
}

static void tr_seg_past_end(uint8_t *b, size_t len)
{
	tr_phdr(b, 2)->p_offset = len - 0x100;
}

static void tr_seg_huge(uint8_t *b, size_t len)
{
	(void)len;
	tr_phdr(b, 1)->p_filesz = UINT64_MAX - 0x10;
}

static void tr_phnum_huge(uint8_t *b, size_t len)
{
	(void)len;
	((Elf64_Ehdr *)b)->e_phnum = 0xfff0;
}

static void tr_seg_overlap(uint8_t *b, size_t len)
{
	(void)len;
	tr_phdr(b, 3)->p_vaddr = tr_phdr(b, 2)->p_vaddr + 0x1000;
}

static void tr_seg_wraps(uint8_t *b, size_t len)
{
	(void)len;
	tr_phdr(b, 1)->p_vaddr = UINT64_MAX - 0x100;
}

static void tr_seg_phys_past(uint8_t *b, size_t len)
{
	(void)len;
	tr_phdr(b, 2)->p_paddr = (1ull << 52) - 0x1000;
}

/* The top of the address space is a legitimate end (the KERNBASE window's). */
static void tr_seg_at_top(uint8_t *b, size_t len)
{
	(void)len;
	tr_phdr(b, 3)->p_vaddr = 0ull - 0x1000;
}

static void tr_memsz_short(uint8_t *b, size_t len)
{
	(void)len;
	tr_phdr(b, 1)->p_memsz = 0x1000;
}

static void tr_note_oversized(uint8_t *b, size_t len)
{
	(void)len;
	Elf64_Nhdr *nh = (Elf64_Nhdr *)(b + tr_phdr(b, 0)->p_offset);
	nh->n_descsz = 0x7fffffff;
}

static void tr_note_short(uint8_t *b, size_t len)
{
	(void)len;
	tr_phdr(b, 0)->p_filesz = 30;   /* the first note cut short */
}

static void tr_no_vmm_notes(uint8_t *b, size_t len)
{
	(void)len;
	tr_phdr(b, 0)->p_type = PT_NULL;
}

START_TEST(rejects_foreign_and_corrupt)
{
	static const struct {
		void (*change)(uint8_t *b, size_t len);
		const char *needle;
	} cases[] = {
		{ tr_exec, "not an x86-64 core" },
		{ tr_arm, "not an x86-64 core" },
		{ tr_not_elf, "not an ELF file" },
		{ tr_elf32, "64-bit little-endian" },
		{ tr_seg_past_end, "runs past the end of the file" },
		{ tr_seg_huge, "runs past the end of the file" },
		{ tr_phnum_huge, "program headers run past" },
		{ tr_seg_overlap, "overlap" },
		{ tr_seg_wraps, "wraps" },
		{ tr_seg_phys_past, "past 2^52" },
		{ tr_memsz_short, "p_filesz 24576 > p_memsz 4096" },
		{ tr_note_oversized, "runs past its segment" },
		{ tr_note_short, "" },
		{ tr_no_vmm_notes, "without the VMM notes" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = tr_open_changed(cases[i].change);
		ck_assert_msg(rc == DUMP_EXIT_DATA, "case %zu: status %d", i, rc);
		ck_assert_msg(strstr(tr_err, cases[i].needle) != NULL, "case %zu: '%s' not in "
		    "'%s'", i, cases[i].needle, tr_err);
	}
}
END_TEST

START_TEST(segment_ending_at_the_top)
{
	uint8_t *b = malloc(tr_len), v[16], w[16];
	struct dump d;

	memcpy(b, tr_buf, tr_len);
	tr_seg_at_top(b, tr_len);
	ck_assert_int_eq(dump_open_mem(&d, b, tr_len, "fx", tr_err, sizeof(tr_err)), 0);
	ck_assert_int_eq(dump_read_kva(&d, 0ull - 16, v, 16), 0);
	ck_assert_int_eq(dump_read_pa(&d, DF_D2_PA + 0x1000 - 16, w, 16), 0);
	ck_assert_mem_eq(v, w, 16);
	ck_assert_int_eq(dump_read_kva(&d, 0ull - 8, v, 16), -1);     /* past 2^64 */
	dump_close(&d);
	free(b);
}
END_TEST

/* More than 65534 program headers: e_phnum PN_XNUM, the count in section 0's sh_info. */
START_TEST(phnum_escape)
{
	uint8_t *b = malloc(tr_len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	Elf64_Shdr sh = { .sh_info = 4 };
	struct dump d;

	memcpy(b, tr_buf, tr_len);
	eh->e_phnum = PN_XNUM;
	eh->e_shoff = 0x200;
	eh->e_shentsize = sizeof(sh);
	memcpy(b + 0x200, &sh, sizeof(sh));
	ck_assert_int_eq(dump_open_mem(&d, b, tr_len, "fx", tr_err, sizeof(tr_err)), 0);
	ck_assert_uint_eq(d.d_nsegs, 3);
	dump_close(&d);
	eh->e_shoff = tr_len - 8;       /* section 0 cut short */
	ck_assert_int_eq(tr_open(b, tr_len), DUMP_EXIT_DATA);
	ck_assert_msg(strstr(tr_err, "PN_XNUM") != NULL, "%s", tr_err);
	free(b);
}
END_TEST

/*
 * Many PT_NOTEs over one region of foreign notes: each would be walked again, work
 * quadratic in the file's size (a 2 MiB file took minutes). The notes' bytes add up to
 * more than the file, which no dump of ours does: refused before the second walk.
 */
START_TEST(overlapping_notes_refused)
{
	const size_t len = 2u << 20, region = (1u << 20) / 12 * 12;    /* whole notes */
	uint8_t *b = calloc(1, len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	uint64_t phnum = (len - region - sizeof(*eh)) / sizeof(Elf64_Phdr);

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phoff = sizeof(*eh);
	eh->e_phnum = (uint16_t)(phnum < PN_XNUM ? phnum : PN_XNUM - 1);
	for (uint64_t i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = len - region,
			.p_filesz = region, .p_align = 4 };
		memcpy(b + eh->e_phoff + i * sizeof(ph), &ph, sizeof(ph));
	}
	/* The region: empty notes of no owner (12 bytes of zeros each), which are skipped. */
	ck_assert_int_eq(tr_open(b, len), DUMP_EXIT_DATA);
	ck_assert_msg(strstr(tr_err, "overlap") != NULL, "%s", tr_err);
	free(b);
}
END_TEST

START_TEST(open_file_errors)
{
	struct dump d;

	ck_assert_int_eq(dump_open(&d, "/nonexistent/x.core", tr_err, sizeof(tr_err)),
	    VMM_EXIT_INPUT);
	ck_assert_msg(strstr(tr_err, "/nonexistent/x.core") != NULL, "%s", tr_err);
	ck_assert_int_eq(dump_open(&d, "/", tr_err, sizeof(tr_err)), VMM_EXIT_INPUT);
	ck_assert_msg(strstr(tr_err, "directory") != NULL, "%s", tr_err);
	/* A device is no dump file. */
	ck_assert_int_eq(dump_open(&d, "/dev/null", tr_err, sizeof(tr_err)), VMM_EXIT_INPUT);
}
END_TEST

/* The host restates the stream layouts of vm/uma.h and vm/malloc.h: they must agree. */
START_TEST(stream_layouts_agree)
{
	ck_assert_uint_eq(DUMP_UMA_MAGIC, UMA_STREAM_MAGIC);
	ck_assert_uint_eq(DUMP_UMA_VERSION, UMA_STREAM_VERSION);
	ck_assert_uint_eq(DUMP_UMA_HDR, UMA_STREAM_HDR_SIZE);
	ck_assert_uint_eq(DUMP_UMA_ZONE, UMA_STREAM_ZONE_SIZE);
	ck_assert_uint_eq(DUMP_UMA_PCPU, UMA_STREAM_PCPU_SIZE);
	ck_assert_uint_eq(DUMP_MALLOC_MAGIC, MALLOC_STREAM_MAGIC);
	ck_assert_uint_eq(DUMP_MALLOC_VERSION, MALLOC_STREAM_VERSION);
	ck_assert_uint_eq(DUMP_MALLOC_HDR, MALLOC_STREAM_HDR_SIZE);
	ck_assert_uint_eq(DUMP_MALLOC_REC, MALLOC_STREAM_REC_SIZE);
}
END_TEST

static Suite *dump_read_suite(void)
{
	Suite *s = suite_create("vmm.dump_read");
	TCase *tc = tcase_create("reader");

	tcase_add_checked_fixture(tc, tr_setup, tr_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, indexes_the_fixture);
	tcase_add_test(tc, notes_aligned_to_eight);
	tcase_add_test(tc, translate_virtual_and_physical);
	tcase_add_test(tc, walk_2m_4k_1g);
	tcase_add_test(tc, read_through_the_walk);
	tcase_add_test(tc, rejects_every_truncation);
	tcase_add_test(tc, rejects_foreign_and_corrupt);
	tcase_add_test(tc, segment_ending_at_the_top);
	tcase_add_test(tc, phnum_escape);
	tcase_add_test(tc, overlapping_notes_refused);
	tcase_add_test(tc, open_file_errors);
	tcase_add_test(tc, stream_layouts_agree);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(dump_read_suite);
