/*
 * The check of PROGRAM before boot (vmm/program_check.c) on ELF images built in memory:
 * a static executable and a static PIE it must accept, one image malformed in each way it
 * must refuse (66, one line that starts with the name and says what is wrong), a real
 * dynamic program, and every truncation and many corruptions of a good image read with
 * exactly sized copies, so ASan sees any read past the end.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "vmm/program_check.h"
#include "vmm/vmm.h"

#define TP_MAX_PHDRS    8
#define TP_IMAGE_SIZE   0x3000
#define TP_INTERP_OFF   0x300

/* The image under test, as fields; tp_build() lays it out. */
static Elf64_Ehdr tp_eh;
static Elf64_Phdr tp_ph[TP_MAX_PHDRS];
static unsigned tp_nph;
static unsigned char tp_image[TP_IMAGE_SIZE];
static size_t tp_len;
static char tp_err[512];

/*
 * What musl-gcc -static makes, in small: code (the headers, then text) read-execute from
 * offset 0 at 0x400000, data read-write with a .bss after it, and a PT_GNU_STACK.
 */
static void tp_default(void)
{
	memset(&tp_eh, 0, sizeof(tp_eh));
	memcpy(tp_eh.e_ident, ELFMAG, SELFMAG);
	tp_eh.e_ident[EI_CLASS] = ELFCLASS64;
	tp_eh.e_ident[EI_DATA] = ELFDATA2LSB;
	tp_eh.e_ident[EI_VERSION] = EV_CURRENT;
	tp_eh.e_type = ET_EXEC;
	tp_eh.e_machine = EM_X86_64;
	tp_eh.e_version = EV_CURRENT;
	tp_eh.e_entry = 0x401000;
	tp_eh.e_phoff = sizeof(Elf64_Ehdr);
	tp_eh.e_ehsize = sizeof(Elf64_Ehdr);
	tp_eh.e_phentsize = sizeof(Elf64_Phdr);
	tp_nph = 3;
	tp_ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
		.p_vaddr = 0x400000, .p_paddr = 0x400000, .p_filesz = 0x2000,
		.p_memsz = 0x2000, .p_align = 0x1000 };
	tp_ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W,
		.p_offset = 0x2000, .p_vaddr = 0x403000, .p_paddr = 0x403000,
		.p_filesz = 0x800, .p_memsz = 0x3000, .p_align = 0x1000 };
	tp_ph[2] = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W,
		.p_align = 16 };
	tp_len = 0x2800;
}

/* The same program linked as a static PIE: addresses from 0, type ET_DYN, PT_DYNAMIC. */
static void tp_default_pie(void)
{
	tp_default();
	tp_eh.e_type = ET_DYN;
	tp_eh.e_entry = 0x1000;
	tp_ph[0].p_vaddr = tp_ph[0].p_paddr = 0;
	tp_ph[1].p_vaddr = tp_ph[1].p_paddr = 0x3000;
	tp_ph[3] = (Elf64_Phdr){ .p_type = PT_DYNAMIC, .p_flags = PF_R | PF_W,
		.p_offset = 0x2000, .p_vaddr = 0x3000, .p_filesz = 0x100, .p_memsz = 0x100,
		.p_align = 8 };
	tp_nph = 4;
}

/* Insert a PT_INTERP naming path (stored at TP_INTERP_OFF) as the second header. */
static void tp_add_interp(const char *path, size_t filesz)
{
	memmove(&tp_ph[2], &tp_ph[1], (tp_nph - 1) * sizeof(tp_ph[0]));
	tp_ph[1] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_flags = PF_R,
		.p_offset = TP_INTERP_OFF, .p_vaddr = 0x400000 + TP_INTERP_OFF,
		.p_filesz = filesz, .p_memsz = filesz, .p_align = 1 };
	tp_nph++;
	tp_eh.e_phnum = (uint16_t)tp_nph;
	memset(tp_image + TP_INTERP_OFF, 0, 0x100);
	memcpy(tp_image + TP_INTERP_OFF, path, strlen(path) + 1);
}

/* Lay the header, the program headers and recognisable code bytes into tp_image. */
static void tp_build(void)
{
	memset(tp_image, 0, TP_INTERP_OFF);
	memset(tp_image + TP_INTERP_OFF + 0x100, 0xc3, sizeof(tp_image) - TP_INTERP_OFF - 0x100);
	tp_eh.e_phnum = (uint16_t)tp_nph;
	memcpy(tp_image, &tp_eh, sizeof(tp_eh));
	memcpy(tp_image + sizeof(tp_eh), tp_ph, tp_nph * sizeof(tp_ph[0]));
}

/* Check image[0, len) from an exactly sized heap copy: a read past len is ASan's. */
static int tp_check_bytes(const void *image, size_t len)
{
	void *copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, image, len);
	tp_err[0] = '\0';
	int rc = program_check("prog", copy, len, tp_err, sizeof(tp_err));
	free(copy);
	if (rc != 0) {
		ck_assert_int_eq(rc, VMM_EXIT_INPUT);
		ck_assert_msg(strncmp(tp_err, "prog: ", 6) == 0, "no name: %s", tp_err);
		ck_assert_msg(strchr(tp_err, '\n') == NULL, "multi-line: %s", tp_err);
	}
	return rc;
}

static int tp_check(void)
{
	tp_build();
	return tp_check_bytes(tp_image, tp_len);
}

static void tp_assert_refused(const char *needle)
{
	ck_assert_int_eq(tp_check(), VMM_EXIT_INPUT);
	ck_assert_msg(strstr(tp_err, needle) != NULL, "'%s' not in '%s'", needle, tp_err);
}

START_TEST(static_exec_accepted)
{
	tp_default();
	ck_assert_int_eq(tp_check(), 0);
	/* An empty PT_LOAD maps nothing and does not count, wherever it points. */
	tp_ph[tp_nph++] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0xfffffff0,
		.p_vaddr = 0x10 };
	ck_assert_int_eq(tp_check(), 0);
}
END_TEST

START_TEST(static_pie_accepted)
{
	tp_default_pie();
	ck_assert_int_eq(tp_check(), 0);
}
END_TEST

START_TEST(not_a_program)
{
	ck_assert_int_eq(tp_check_bytes("", 0), VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tp_err, "empty file"));
	ck_assert_int_eq(tp_check_bytes("#!/bin/sh\necho hi\n", 18), VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tp_err, "a script (#!)"));
	ck_assert_int_eq(tp_check_bytes("MZ\x90\x00", 4), VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tp_err, "not an ELF file"));
	ck_assert_int_eq(tp_check_bytes("\x7f" "EL", 3), VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tp_err, "not an ELF file"));
}
END_TEST

START_TEST(truncated_header)
{
	tp_default();
	tp_build();
	ck_assert_int_eq(tp_check_bytes(tp_image, 10), VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tp_err, "truncated ELF identification"));
	ck_assert_int_eq(tp_check_bytes(tp_image, sizeof(Elf64_Ehdr) - 1), VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tp_err, "truncated ELF header (63 of 64 bytes)"));
}
END_TEST

START_TEST(wrong_identification)
{
	tp_default();
	tp_eh.e_ident[EI_CLASS] = ELFCLASS32;
	tp_assert_refused("a 32-bit ELF (ELFCLASS32); build it for x86-64");
	tp_default();
	tp_eh.e_ident[EI_CLASS] = 7;
	tp_assert_refused("ELF class 7 is neither 32- nor 64-bit");
	tp_default();
	tp_eh.e_ident[EI_DATA] = ELFDATA2MSB;
	tp_assert_refused("a big-endian ELF");
	tp_default();
	tp_eh.e_ident[EI_VERSION] = 2;
	tp_assert_refused("unknown ELF version 2");
}
END_TEST

START_TEST(wrong_machine_or_type)
{
	tp_default();
	tp_eh.e_machine = EM_AARCH64;
	tp_assert_refused("built for AArch64 (ELF machine 183), not x86-64");
	tp_default();
	tp_eh.e_machine = EM_386;
	tp_assert_refused("built for i386");
	tp_default();
	tp_eh.e_type = ET_REL;
	tp_assert_refused("an object file (ET_REL), not a program");
	tp_default();
	tp_eh.e_type = ET_CORE;
	tp_assert_refused("a core dump (ET_CORE)");
	tp_default();
	tp_eh.e_type = 0x1234;
	tp_assert_refused("ELF type 4660 is neither an executable");
}
END_TEST

START_TEST(bad_program_header_table)
{
	tp_default();
	tp_nph = 0;
	tp_assert_refused("no program headers");
	tp_default();
	tp_eh.e_phentsize = 32;
	tp_assert_refused("program header entries of 32 bytes, not 56");
	tp_default();
	tp_build();
	((Elf64_Ehdr *)tp_image)->e_phnum = 0xffff;     /* PN_XNUM: 3.6 MB of headers */
	ck_assert_int_eq(tp_check_bytes(tp_image, tp_len), VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tp_err, "65535 program headers"));
	tp_default();
	tp_eh.e_phoff = tp_len - 100;
	tp_assert_refused("lie beyond the end of the file (0x2800 bytes); the file is truncated");
	tp_default();
	tp_eh.e_phoff = UINT64_MAX - 8;         /* offset + size wraps */
	tp_assert_refused("lie beyond the end of the file");
}
END_TEST

START_TEST(dynamic_refused)
{
	tp_default();
	tp_add_interp("/lib/ld-musl-x86_64.so.1", 25);
	tp_assert_refused("prog: PROGRAM is dynamically linked; build it with musl-gcc "
	    "-static (it asks for the interpreter /lib/ld-musl-x86_64.so.1)");
	/* A name that is no printable path, or lies outside the file: no hint, same line. */
	tp_default();
	tp_add_interp("/lib/\x1b[2Jld.so", 16);
	tp_assert_refused("dynamically linked; build it with musl-gcc -static");
	ck_assert_ptr_null(strstr(tp_err, "interpreter"));
	tp_default();
	tp_add_interp("/lib/ld.so", 11);
	tp_ph[1].p_offset = UINT64_MAX;
	tp_assert_refused("dynamically linked; build it with musl-gcc -static");
	ck_assert_ptr_null(strstr(tp_err, "interpreter"));
	/* Without its NUL inside p_filesz the name is not trusted either. */
	tp_default();
	tp_add_interp("/lib/ld.so", 10);
	tp_assert_refused("dynamically linked");
	ck_assert_ptr_null(strstr(tp_err, "interpreter"));
	/* Dynamic wins over a broken segment: its fix is the one to give. */
	tp_default();
	tp_add_interp("/lib/ld.so", 11);
	tp_ph[2].p_filesz = 0x100000;
	tp_assert_refused("dynamically linked");
}
END_TEST

/* The host's own dynamic program: this test binary, linked with the ASan runtime. */
START_TEST(real_dynamic_program)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	struct stat st;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	unsigned char *buf = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(buf);
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = pread(fd, buf + done, (size_t)(st.st_size - done), done);
		ck_assert_int_gt(n, 0);
		done += n;
	}
	close(fd);
	tp_err[0] = '\0';
	ck_assert_int_eq(program_check("unit-tests", buf, (size_t)st.st_size, tp_err,
	    sizeof(tp_err)), VMM_EXIT_INPUT);
	free(buf);
	ck_assert_msg(strstr(tp_err, "unit-tests: PROGRAM is dynamically linked; build it "
	    "with musl-gcc -static (it asks for the interpreter /") != NULL, "%s", tp_err);
}
END_TEST

START_TEST(segment_sizes_and_place)
{
	tp_default();
	tp_ph[1].p_filesz = 0x3001;
	tp_assert_refused("segment 1 has a file size (0x3001) larger than its memory size "
	    "(0x3000)");
	tp_default();
	tp_ph[1].p_filesz = 0x801;              /* one byte past the end of the file */
	tp_assert_refused("segment 1's bytes (offset 0x2000, 0x801 bytes) lie beyond the end "
	    "of the file (0x2800 bytes); the file is truncated");
	tp_default();
	tp_ph[1].p_offset = UINT64_MAX & ~0xfffull;     /* offset + size wraps */
	tp_assert_refused("segment 1's bytes");
	tp_default();
	tp_ph[1].p_offset = 0x3000;
	tp_ph[1].p_vaddr = 0x404000;
	tp_ph[1].p_filesz = 0;                  /* all .bss: where it points does not matter */
	ck_assert_int_eq(tp_check(), 0);
}
END_TEST

START_TEST(segment_alignment)
{
	tp_default();
	tp_ph[1].p_align = 0x1800;
	tp_assert_refused("segment 1's alignment 0x1800 is not a power of two");
	tp_default();
	tp_ph[1].p_vaddr = 0x403010;
	tp_assert_refused("segment 1's address 0x403010 and file offset 0x2000 differ modulo "
	    "0x1000");
	tp_default();
	tp_ph[1].p_align = 0x200000;            /* congruent mod 4K, not mod 2M */
	tp_assert_refused("differ modulo 0x200000");
	tp_default();
	tp_ph[1].p_align = 0;                   /* no alignment asked: the page's suffices */
	tp_ph[1].p_vaddr = 0x403800;
	tp_assert_refused("differ modulo 0x1000");
	tp_ph[1].p_vaddr = 0x405000;
	ck_assert_int_eq(tp_check(), 0);
	/* No file bytes, nothing mapped from the file: its offset need not agree. */
	tp_default();
	tp_ph[1].p_vaddr = 0x403800;
	tp_ph[1].p_filesz = 0;
	ck_assert_int_eq(tp_check(), 0);
}
END_TEST

START_TEST(segment_order_and_wrap)
{
	tp_default();
	tp_ph[1].p_vaddr = 0x401000;            /* inside segment 0 */
	tp_ph[1].p_offset = 0x2000;
	tp_assert_refused("segment 1 (0x401000-0x404000) overlaps or comes before segment 0 "
	    "(0x400000-0x402000)");
	tp_default();
	tp_ph[1].p_vaddr = 0x300000;            /* below segment 0: descending */
	tp_assert_refused("overlaps or comes before segment 0");
	tp_default();
	tp_ph[1].p_vaddr = 0xfffffffffffff000ull;
	tp_ph[1].p_memsz = 0x2000;
	tp_ph[1].p_filesz = 0x800;
	tp_assert_refused("segment 1 at 0xfffffffffffff000 with size 0x2000 wraps around");
}
END_TEST

START_TEST(no_loadable_segment)
{
	tp_default();
	tp_ph[0].p_type = PT_NOTE;
	tp_ph[1].p_type = PT_TLS;
	tp_assert_refused("no loadable segment (PT_LOAD)");
}
END_TEST

START_TEST(address_range)
{
	tp_default();
	tp_ph[0].p_vaddr = 0x0;                 /* ET_EXEC at the null page */
	tp_ph[1].p_vaddr = 0x3000;
	tp_eh.e_entry = 0x1000;
	tp_assert_refused("its first segment is at 0x0, below 0x10000");
	tp_default();
	tp_ph[1].p_vaddr = PROGRAM_USER_END - 0x2000;
	tp_ph[1].p_memsz = 0x3000;
	tp_assert_refused("its segments end at 0x800000000000, beyond the user address space");
	tp_ph[1].p_memsz = 0x2000;              /* ends exactly at the end: fine */
	ck_assert_int_eq(tp_check(), 0);
	/* A static PIE may start at 0 but must still fit, wherever it goes. */
	tp_default_pie();
	tp_ph[1].p_vaddr = PROGRAM_USER_END - PROGRAM_VADDR_MIN - 0x2000;
	tp_ph[1].p_memsz = 0x2000;
	ck_assert_int_eq(tp_check(), 0);
	tp_ph[1].p_memsz = 0x3000;
	tp_assert_refused("its segments span 0x7fffffff0000 bytes, more than the user "
	    "address space");
}
END_TEST

START_TEST(entry_point)
{
	tp_default();
	tp_eh.e_entry = 0x500000;
	tp_assert_refused("its entry point 0x500000 is outside the file bytes of every "
	    "loadable segment");
	tp_default();
	tp_eh.e_entry = 0x404000;               /* in the .bss */
	tp_assert_refused("its entry point 0x404000 is outside the file bytes");
	tp_default();
	tp_eh.e_entry = 0x403010;               /* in data */
	tp_assert_refused("its entry point 0x403010 is in segment 1, which is not executable");
	tp_default();
	tp_eh.e_entry = 0x400000;               /* first byte of code */
	ck_assert_int_eq(tp_check(), 0);
	tp_eh.e_entry = 0x401fff;               /* last byte of code */
	ck_assert_int_eq(tp_check(), 0);
}
END_TEST

/* Every prefix of a good image: refused with one line or accepted, never a stray read. */
START_TEST(every_truncation)
{
	tp_default();
	tp_build();
	for (size_t len = 0; len < tp_len; len++) {
		int rc = tp_check_bytes(tp_image, len);
		ck_assert_msg(rc == VMM_EXIT_INPUT, "a %zu-byte prefix passed", len);
	}
	ck_assert_int_eq(tp_check_bytes(tp_image, tp_len), 0);
}
END_TEST

/* Random bytes written over the headers, many times: nothing crashes or reads past. */
START_TEST(corrupted_headers)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned refused = 0;

	for (unsigned round = 0; round < 20000; round++) {
		tp_default_pie();
		tp_build();
		for (unsigned k = 0; k < 1 + round % 8; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			size_t at = (size_t)(x % (sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr)));
			tp_image[at] = (unsigned char)(x >> 32);
		}
		refused += tp_check_bytes(tp_image, tp_len) != 0;
	}
	ck_assert_uint_gt(refused, 1000);
}
END_TEST

static Suite *program_check_suite(void)
{
	Suite *s = suite_create("vmm.program_check");
	TCase *tc = tcase_create("program_check");

	tcase_add_test(tc, static_exec_accepted);
	tcase_add_test(tc, static_pie_accepted);
	tcase_add_test(tc, not_a_program);
	tcase_add_test(tc, truncated_header);
	tcase_add_test(tc, wrong_identification);
	tcase_add_test(tc, wrong_machine_or_type);
	tcase_add_test(tc, bad_program_header_table);
	tcase_add_test(tc, dynamic_refused);
	tcase_add_test(tc, real_dynamic_program);
	tcase_add_test(tc, segment_sizes_and_place);
	tcase_add_test(tc, segment_alignment);
	tcase_add_test(tc, segment_order_and_wrap);
	tcase_add_test(tc, no_loadable_segment);
	tcase_add_test(tc, address_range);
	tcase_add_test(tc, entry_point);
	tcase_add_test(tc, every_truncation);
	tcase_add_test(tc, corrupted_headers);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(program_check_suite);
