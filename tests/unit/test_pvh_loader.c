/*
 * The PVH loader on ELF images built in memory with <elf.h>: a good kernel, and one
 * malformed in each way the loader must refuse (nothing loaded, status 66, a message
 * that says what is wrong). Then module placement, the start info, and the file paths.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "devices/pvh.h"
#include "vmm/guest_mem.h"
#include "vmm/pvh_loader.h"
#include "vmm/vmm.h"

#define TL_RAM          (16ull << 20)
#define TL_MAXSEG       4
#define TL_NOTE_OFF     0x200
#define TL_DATA_OFF     0x1000
#define TL_IMAGE_MAX    (TL_DATA_OFF + TL_MAXSEG * 0x2000)
#define TL_POISON       0xaa

struct tl_seg {
	uint64_t paddr, filesz, memsz;
};

/* What to build; tl_default() is a good two-segment kernel. */
struct tl_spec {
	unsigned char class, data;
	uint16_t machine, type;
	const char *owner;          /* note owner; NULL: no note at all */
	uint32_t note_type, descsz;
	uint64_t desc;
	uint32_t entry;
	unsigned nseg;
	struct tl_seg seg[TL_MAXSEG];
};

static struct guest_mem tl_gm;
static uint8_t tl_image[TL_IMAGE_MAX];
static char tl_err[512];
static struct pvh_image tl_img;

static struct tl_spec tl_default(void)
{
	return (struct tl_spec){
		.class = ELFCLASS64, .data = ELFDATA2LSB, .machine = EM_X86_64, .type = ET_EXEC,
		.owner = "Xen", .note_type = XEN_ELFNOTE_PHYS32_ENTRY, .descsz = 4,
		.desc = 0x100040, .entry = 0x100040, .nseg = 2,
		.seg = { { 0x100000, 0x1800, 0x1800 }, { 0x200000, 0x800, 0x3000 } },
	};
}

static uint8_t tl_pattern(unsigned seg, uint64_t i)
{
	return (uint8_t)(0x11 * (seg + 1) + i * 7);
}

/* Lay out: ELF header, program headers, one note, then each segment's bytes. */
static size_t tl_build(const struct tl_spec *sp)
{
	memset(tl_image, 0, sizeof(tl_image));
	Elf64_Ehdr *eh = (Elf64_Ehdr *)tl_image;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = sp->class;
	eh->e_ident[EI_DATA] = sp->data;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = sp->type;
	eh->e_machine = sp->machine;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0xffffffff80000000ull;    /* the high-half link address, unused */
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (uint16_t)(sp->nseg + (sp->owner != NULL));

	Elf64_Phdr *ph = (Elf64_Phdr *)(tl_image + sizeof(*eh));
	for (unsigned i = 0; i < sp->nseg; i++) {
		uint64_t off = TL_DATA_OFF + i * 0x2000;
		ph[i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
			.p_offset = off, .p_vaddr = 0xffffffff80000000ull + sp->seg[i].paddr,
			.p_paddr = sp->seg[i].paddr, .p_filesz = sp->seg[i].filesz,
			.p_memsz = sp->seg[i].memsz, .p_align = 0x1000 };
		for (uint64_t j = 0; j < sp->seg[i].filesz && j < 0x2000; j++)
			tl_image[off + j] = tl_pattern(i, j);
	}
	if (sp->owner != NULL) {
		size_t namesz = strlen(sp->owner) + 1, descoff;
		Elf64_Nhdr *nh = (Elf64_Nhdr *)(tl_image + TL_NOTE_OFF);
		nh->n_namesz = (uint32_t)namesz;
		nh->n_descsz = sp->descsz;
		nh->n_type = sp->note_type;
		memcpy(nh + 1, sp->owner, namesz);
		descoff = TL_NOTE_OFF + sizeof(*nh) + ((namesz + 3) & ~3ul);
		memcpy(tl_image + descoff, &sp->desc, sp->descsz <= 8 ? sp->descsz : 8);
		ph[sp->nseg] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = TL_NOTE_OFF,
			.p_filesz = descoff + ((sp->descsz + 3) & ~3u) - TL_NOTE_OFF,
			.p_align = 4 };
	}
	return TL_DATA_OFF + sp->nseg * 0x2000;
}

static void tl_setup(void)
{
	ck_assert_int_eq(guest_mem_init(&tl_gm, TL_RAM), 0);
	/* Poison RAM so "nothing written" and "bss zeroed" can both be seen. */
	memset(tl_gm.gm_base, TL_POISON, TL_RAM);
}

static void tl_teardown(void)
{
	guest_mem_destroy(&tl_gm);
}

static int tl_load(size_t len)
{
	tl_err[0] = '\0';
	return pvh_load_image(&tl_gm, tl_image, len, &tl_img, tl_err, sizeof(tl_err));
}

/* Refused with 66, a message containing needle, and not a byte of RAM written. */
static void tl_assert_refused(size_t len, const char *needle)
{
	ck_assert_int_eq(tl_load(len), VMM_EXIT_INPUT);
	ck_assert_msg(strstr(tl_err, needle) != NULL, "'%s' not in '%s'", needle, tl_err);
	ck_assert_msg(strchr(tl_err, '\n') == NULL, "multi-line: %s", tl_err);
	const uint8_t *b = tl_gm.gm_base;
	for (uint64_t a = 0x100000; a < 0x210000; a += 0x800)
		ck_assert_msg(b[a] == TL_POISON, "RAM at 0x%llx written", (unsigned long long)a);
}

START_TEST(good_kernel)
{
	struct tl_spec sp = tl_default();
	size_t len = tl_build(&sp);
	const uint8_t *b = tl_gm.gm_base;

	ck_assert_int_eq(tl_load(len), 0);
	ck_assert_uint_eq(tl_img.pi_entry, 0x100040);
	ck_assert_uint_eq(tl_img.pi_nsegs, 2);
	ck_assert_uint_eq(tl_img.pi_start, 0x100000);
	ck_assert_uint_eq(tl_img.pi_end, 0x203000);
	for (unsigned i = 0; i < 2; i++)
		for (uint64_t j = 0; j < sp.seg[i].filesz; j++)
			ck_assert_uint_eq(b[sp.seg[i].paddr + j], tl_pattern(i, j));
	for (uint64_t a = 0x200800; a < 0x203000; a++)
		ck_assert_uint_eq(b[a], 0);     /* memsz beyond filesz is zeroed */
	ck_assert_uint_eq(b[0x203000], TL_POISON);
	ck_assert_uint_eq(b[0x101800], TL_POISON);
}
END_TEST

/* A .bss that starts mid-page and ends mid-page: stores at both ends, whole pages in
 * between discarded; RAM right after it keeps its contents. */
START_TEST(bss_partial_pages)
{
	struct tl_spec sp = tl_default();
	sp.seg[1].memsz = 0x2900;
	size_t len = tl_build(&sp);
	const uint8_t *b = tl_gm.gm_base;

	ck_assert_int_eq(tl_load(len), 0);
	for (uint64_t j = 0; j < sp.seg[1].filesz; j++)
		ck_assert_uint_eq(b[0x200000 + j], tl_pattern(1, j));
	for (uint64_t a = 0x200800; a < 0x202900; a++)
		ck_assert_uint_eq(b[a], 0);
	ck_assert_uint_eq(b[0x202900], TL_POISON);
	ck_assert_uint_eq(b[0x202fff], TL_POISON);
}
END_TEST

/* The descriptor may be a 64-bit value: the entry is its low half. */
START_TEST(note_desc_64bit)
{
	struct tl_spec sp = tl_default();
	sp.descsz = 8;
	sp.desc = 0xffffffff00100040ull;
	ck_assert_int_eq(tl_load(tl_build(&sp)), 0);
	ck_assert_uint_eq(tl_img.pi_entry, 0x100040);
}
END_TEST

START_TEST(not_elf)
{
	memcpy(tl_image, "#!/bin/sh\necho hi\n", 18);
	tl_assert_refused(18, "not an ELF file");
	tl_assert_refused(0, "not an ELF file");
	tl_assert_refused(3, "not an ELF file");
}
END_TEST

START_TEST(truncated)
{
	struct tl_spec sp = tl_default();
	size_t len = tl_build(&sp);

	tl_assert_refused(40, "truncated ELF header");
	tl_assert_refused(sizeof(Elf64_Ehdr) + 10, "program headers");  /* phdrs cut */
	tl_assert_refused(TL_DATA_OFF + 0x2000 + 0x100, "beyond the end of the file");
	tl_assert_refused(TL_NOTE_OFF + 8, "");     /* note cut: refused, any message */
	ck_assert_int_eq(tl_load(len), 0);
}
END_TEST

START_TEST(wrong_class_data_machine_type)
{
	struct tl_spec sp = tl_default();

	sp.class = ELFCLASS32;
	tl_assert_refused(tl_build(&sp), "not ELF64");
	sp = tl_default();
	sp.data = ELFDATA2MSB;
	tl_assert_refused(tl_build(&sp), "little-endian");
	sp = tl_default();
	sp.machine = EM_386;
	tl_assert_refused(tl_build(&sp), "not x86-64");
	sp = tl_default();
	sp.machine = EM_AARCH64;
	tl_assert_refused(tl_build(&sp), "not x86-64");
	sp = tl_default();
	sp.type = ET_DYN;
	tl_assert_refused(tl_build(&sp), "ET_EXEC");
	sp = tl_default();
	size_t len = tl_build(&sp);
	tl_image[EI_VERSION] = 7;
	tl_assert_refused(len, "ELF version");
}
END_TEST

START_TEST(no_pvh_note)
{
	struct tl_spec sp = tl_default();

	sp.owner = NULL;
	tl_assert_refused(tl_build(&sp), "no PVH entry note");
	sp = tl_default();
	sp.owner = "Xan";
	tl_assert_refused(tl_build(&sp), "no PVH entry note");
	sp = tl_default();
	sp.owner = "Xen2";
	tl_assert_refused(tl_build(&sp), "no PVH entry note");
	sp = tl_default();
	sp.note_type = 17;      /* another Xen note */
	tl_assert_refused(tl_build(&sp), "no PVH entry note");
	sp = tl_default();
	sp.descsz = 2;
	tl_assert_refused(tl_build(&sp), "neither 4 nor 8");
}
END_TEST

START_TEST(segment_outside_ram)
{
	struct tl_spec sp = tl_default();

	sp.seg[1].paddr = 0x10000000;   /* 256 MiB, RAM is 16 */
	tl_assert_refused(tl_build(&sp), "does not fit in guest RAM (16 MiB); use -m 257M");
	sp = tl_default();
	sp.seg[1].paddr = TL_RAM - 0x1000;      /* straddles the end */
	tl_assert_refused(tl_build(&sp), "does not fit in guest RAM");
	/* Where no -m helps, the message says why instead of asking for more. */
	sp = tl_default();
	sp.seg[1].memsz = 1ull << 40;
	tl_assert_refused(tl_build(&sp), "overlaps the PCI hole");
	sp = tl_default();
	sp.seg[1].paddr = 0xc0100000;
	tl_assert_refused(tl_build(&sp), "overlaps the PCI hole");
	sp = tl_default();
	sp.seg[1].paddr = 1ull << 40;
	tl_assert_refused(tl_build(&sp), "above the most RAM a guest can have");
	sp = tl_default();
	sp.seg[1].paddr = 0x100000000ull + 0x1000000;   /* 16 MiB into high RAM */
	tl_assert_refused(tl_build(&sp), "use -m 3089M or more (RAM above 3 GiB starts");
	sp = tl_default();
	sp.seg[1].paddr = 0xfffffffffffff000ull;
	sp.seg[1].memsz = 0x2000;
	tl_assert_refused(tl_build(&sp), "wraps around");
}
END_TEST

START_TEST(segment_over_boot_structures)
{
	struct tl_spec sp = tl_default();

	sp.seg[1].paddr = PVH_INFO_PADDR;
	tl_assert_refused(tl_build(&sp), "below 0x100000");
	sp = tl_default();
	sp.seg[1].paddr = 0;
	tl_assert_refused(tl_build(&sp), "boot structures");
	sp = tl_default();
	sp.seg[1].paddr = 0xff000;      /* ends inside the kernel area, starts below it */
	sp.seg[1].memsz = 0x800;
	tl_assert_refused(tl_build(&sp), "below 0x100000");
}
END_TEST

START_TEST(overlapping_segments)
{
	struct tl_spec sp = tl_default();

	sp.seg[1].paddr = 0x101000;     /* inside segment 0 (0x100000-0x101800) */
	tl_assert_refused(tl_build(&sp), "overlaps");
	sp = tl_default();
	sp.seg[0].paddr = 0x200000 + 0x1000;    /* 0 inside 1's bss */
	sp.seg[1].paddr = 0x200000;
	sp.entry = sp.desc = 0x200040;
	tl_assert_refused(tl_build(&sp), "overlaps");
	/* Touching is not overlapping. */
	sp = tl_default();
	sp.seg[1].paddr = 0x101800;
	ck_assert_int_eq(tl_load(tl_build(&sp)), 0);
}
END_TEST

START_TEST(filesz_above_memsz)
{
	struct tl_spec sp = tl_default();

	sp.seg[1].filesz = 0x1000;
	sp.seg[1].memsz = 0x800;
	tl_assert_refused(tl_build(&sp), "larger than its memory size");
}
END_TEST

START_TEST(offset_beyond_file)
{
	struct tl_spec sp = tl_default();
	size_t len = tl_build(&sp);
	Elf64_Phdr *ph = (Elf64_Phdr *)(tl_image + sizeof(Elf64_Ehdr));

	ph[1].p_offset = len + 0x1000;
	tl_assert_refused(len, "beyond the end of the file");
	ph[1].p_offset = UINT64_MAX - 0x10;     /* offset + filesz wraps */
	tl_assert_refused(len, "beyond the end of the file");
}
END_TEST

START_TEST(entry_outside_segments)
{
	struct tl_spec sp = tl_default();

	sp.desc = 0x300000;
	tl_assert_refused(tl_build(&sp), "entry point 0x300000 is outside");
}
END_TEST

START_TEST(no_loadable_segment)
{
	struct tl_spec sp = tl_default();

	sp.nseg = 0;
	tl_assert_refused(tl_build(&sp), "loadable");
}
END_TEST

START_TEST(module_placement)
{
	struct hvm_modlist_entry mod;
	uint64_t next = 0x203123;
	const char prog[] = "\x7f" "ELFprogram-bytes";

	ck_assert_int_eq(pvh_place_module(&tl_gm, &next, prog, sizeof(prog), "/bin/p -x",
	    &mod, tl_err, sizeof(tl_err)), 0);
	/* The command line first (the guest reads it early, from its first GiB), then the
	 * bytes. */
	ck_assert_uint_eq(mod.cmdline_paddr, 0x204000);
	ck_assert_uint_eq(mod.paddr, 0x205000);
	ck_assert_uint_eq(mod.size, sizeof(prog));
	ck_assert_uint_eq(next, 0x205000 + sizeof(prog));
	ck_assert_int_eq(memcmp(tl_gm.gm_base + 0x205000, prog, sizeof(prog)), 0);
	ck_assert_str_eq((char *)tl_gm.gm_base + 0x204000, "/bin/p -x");

	/* One byte too many for RAM, with or without the command line. */
	next = TL_RAM - 0x1000;
	ck_assert_int_eq(pvh_place_module(&tl_gm, &next, tl_image, 0x1000, NULL, &mod, tl_err,
	    sizeof(tl_err)), 0);
	ck_assert_uint_eq(mod.cmdline_paddr, 0);
	next = TL_RAM - 0x1000;
	ck_assert_int_eq(pvh_place_module(&tl_gm, &next, tl_image, 0x1000, "x", &mod, tl_err,
	    sizeof(tl_err)), VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_err, "does not fit"));
	next = TL_RAM - 0xfff;
	ck_assert_int_eq(pvh_place_module(&tl_gm, &next, tl_image, 1, NULL, &mod, tl_err,
	    sizeof(tl_err)), VMM_EXIT_INPUT);

	/* However large the module, its command line stays right after next. */
	size_t biglen = TL_RAM - 0x206000;
	uint8_t *big = calloc(1, biglen);
	ck_assert_ptr_nonnull(big);
	next = 0x203123;
	ck_assert_int_eq(pvh_place_module(&tl_gm, &next, big, biglen, "big", &mod, tl_err,
	    sizeof(tl_err)), 0);
	free(big);
	ck_assert_uint_eq(mod.cmdline_paddr, 0x204000);
	ck_assert_uint_eq(mod.paddr, 0x205000);
}
END_TEST

START_TEST(start_info)
{
	struct hvm_modlist_entry mod = { .paddr = 0x300000, .size = 99,
		.cmdline_paddr = 0x301000 };
	struct hvm_start_info si;
	struct hvm_memmap_table_entry map[4];

	ck_assert_int_eq(pvh_write_start_info(&tl_gm, "ktest=all verbose", &mod, 1, tl_err,
	    sizeof(tl_err)), 0);
	ck_assert_int_eq(guest_mem_read(&tl_gm, PVH_INFO_PADDR, &si, sizeof(si)), 0);
	ck_assert_uint_eq(si.magic, HVM_START_MAGIC);
	ck_assert_uint_eq(si.version, 1);
	ck_assert_uint_eq(si.nr_modules, 1);
	ck_assert_uint_eq(si.cmdline_paddr, PVH_CMDLINE_PADDR);
	ck_assert_uint_eq(si.rsdp_paddr, 0);
	ck_assert_str_eq((char *)tl_gm.gm_base + PVH_CMDLINE_PADDR, "ktest=all verbose");
	/* Every structure lies inside the start-info page. */
	ck_assert_uint_ge(si.modlist_paddr, PVH_INFO_PADDR + sizeof(si));
	ck_assert_uint_le(si.memmap_paddr + si.memmap_entries * sizeof(map[0]),
	    PVH_INFO_PADDR + 4096);
	struct hvm_modlist_entry m2;
	ck_assert_int_eq(guest_mem_read(&tl_gm, si.modlist_paddr, &m2, sizeof(m2)), 0);
	ck_assert_int_eq(memcmp(&m2, &mod, sizeof(mod)), 0);

	ck_assert_uint_eq(si.memmap_entries, 3);
	ck_assert_int_eq(guest_mem_read(&tl_gm, si.memmap_paddr, map, 3 * sizeof(map[0])), 0);
	ck_assert_uint_eq(map[0].addr, 0);
	ck_assert_uint_eq(map[0].size, PVH_LOWMEM_END);
	ck_assert_uint_eq(map[0].type, E820_RAM);
	ck_assert_uint_eq(map[1].addr, PVH_LOWMEM_END);
	ck_assert_uint_eq(map[1].addr + map[1].size, PVH_KERNEL_MIN_PADDR);
	ck_assert_uint_eq(map[1].type, E820_RESERVED);
	ck_assert_uint_eq(map[2].addr, PVH_KERNEL_MIN_PADDR);
	ck_assert_uint_eq(map[2].addr + map[2].size, TL_RAM);
	ck_assert_uint_eq(map[2].type, E820_RAM);

	/* No modules: no list. */
	ck_assert_int_eq(pvh_write_start_info(&tl_gm, "", NULL, 0, tl_err, sizeof(tl_err)), 0);
	ck_assert_int_eq(guest_mem_read(&tl_gm, PVH_INFO_PADDR, &si, sizeof(si)), 0);
	ck_assert_uint_eq(si.nr_modules, 0);
	ck_assert_uint_eq(si.modlist_paddr, 0);

	/* 4095 bytes fit, 4096 are a usage error. */
	static char line[PVH_CMDLINE_MAX + 1];
	memset(line, 'k', PVH_CMDLINE_MAX - 1);
	ck_assert_int_eq(pvh_write_start_info(&tl_gm, line, NULL, 0, tl_err, sizeof(tl_err)), 0);
	line[PVH_CMDLINE_MAX - 1] = 'k';
	ck_assert_int_eq(pvh_write_start_info(&tl_gm, line, NULL, 0, tl_err, sizeof(tl_err)),
	    VMM_EXIT_USAGE);
}
END_TEST

/* The file paths: messages name the file; a good file loads; a program is read in. */
/* The file shrinks between mapping and parsing (another process rewrites it): refused
 * with 66 and a message, not killed by SIGBUS; the caller's SIGBUS handler is back. */
static void tl_sigbus_marker(int sig)
{
	(void)sig;
}

START_TEST(file_shrinks_while_loading)
{
	char path[] = "/tmp/vmm-test-kernel-XXXXXX";
	struct tl_spec sp = tl_default();
	size_t len = tl_build(&sp);
	int fd = mkstemp(path);
	struct sigaction mine = { .sa_handler = tl_sigbus_marker }, back;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, tl_image, len), (ssize_t)len);
	void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	sigemptyset(&mine.sa_mask);
	ck_assert_int_eq(sigaction(SIGBUS, &mine, NULL), 0);
	ck_assert_int_eq(pvh_load_mapped(&tl_gm, map, len, fd, &tl_img, tl_err,
	    sizeof(tl_err)), VMM_EXIT_INPUT);
	ck_assert_msg(strstr(tl_err, "shrank") != NULL, "message: %s", tl_err);
	ck_assert_int_eq(sigaction(SIGBUS, NULL, &back), 0);
	ck_assert_ptr_eq(back.sa_handler, tl_sigbus_marker);
	munmap(map, len);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(files)
{
	char path[] = "/tmp/vmm-test-kernel-XXXXXX";
	struct tl_spec sp = tl_default();
	size_t len = tl_build(&sp);
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, tl_image, len), (ssize_t)len);
	close(fd);
	ck_assert_int_eq(pvh_load_kernel_file(&tl_gm, path, &tl_img, tl_err, sizeof(tl_err)), 0);
	ck_assert_uint_eq(tl_img.pi_entry, 0x100040);
	/* Read from the file (not copied from the mapping): the same bytes land. */
	const uint8_t *b = tl_gm.gm_base;
	for (unsigned i = 0; i < 2; i++)
		for (uint64_t j = 0; j < sp.seg[i].filesz; j++)
			ck_assert_uint_eq(b[sp.seg[i].paddr + j], tl_pattern(i, j));
	for (uint64_t a = 0x200800; a < 0x203000; a++)
		ck_assert_uint_eq(b[a], 0);
	ck_assert_uint_eq(b[0x101800], TL_POISON);

	struct hvm_modlist_entry mod;
	uint64_t next = tl_img.pi_end;
	ck_assert_int_eq(pvh_load_module_file(&tl_gm, &next, path, "prog a", &mod, tl_err,
	    sizeof(tl_err)), 0);
	ck_assert_uint_eq(mod.cmdline_paddr, 0x203000);
	ck_assert_uint_eq(mod.paddr, 0x204000);
	ck_assert_uint_eq(mod.size, len);
	ck_assert_int_eq(memcmp(tl_gm.gm_base + mod.paddr, tl_image, len), 0);
	ck_assert_str_eq((char *)tl_gm.gm_base + mod.cmdline_paddr, "prog a");

	/* Truncate the file on disk: refused, and the message starts with the path. */
	ck_assert_int_eq(truncate(path, 100), 0);
	ck_assert_int_eq(pvh_load_kernel_file(&tl_gm, path, &tl_img, tl_err, sizeof(tl_err)),
	    VMM_EXIT_INPUT);
	ck_assert_int_eq(strncmp(tl_err, path, strlen(path)), 0);
	ck_assert_int_eq(truncate(path, 0), 0);
	ck_assert_int_eq(pvh_load_kernel_file(&tl_gm, path, &tl_img, tl_err, sizeof(tl_err)),
	    VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_err, "empty"));
	unlink(path);

	ck_assert_int_eq(pvh_load_kernel_file(&tl_gm, path, &tl_img, tl_err, sizeof(tl_err)),
	    VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_err, "No such file"));
	ck_assert_int_eq(pvh_load_kernel_file(&tl_gm, "/tmp", &tl_img, tl_err, sizeof(tl_err)),
	    VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_err, "not a regular file"));
	ck_assert_int_eq(pvh_load_module_file(&tl_gm, &next, path, NULL, &mod, tl_err,
	    sizeof(tl_err)), VMM_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_err, "No such file"));
	ck_assert_int_eq(pvh_load_module_file(&tl_gm, &next, "/tmp", NULL, &mod, tl_err,
	    sizeof(tl_err)), VMM_EXIT_INPUT);
}
END_TEST

static Suite *pvh_loader_suite(void)
{
	Suite *s = suite_create("vmm.pvh_loader");
	TCase *tc = tcase_create("pvh_loader");

	tcase_add_checked_fixture(tc, tl_setup, tl_teardown);
	tcase_add_test(tc, good_kernel);
	tcase_add_test(tc, bss_partial_pages);
	tcase_add_test(tc, note_desc_64bit);
	tcase_add_test(tc, not_elf);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, wrong_class_data_machine_type);
	tcase_add_test(tc, no_pvh_note);
	tcase_add_test(tc, segment_outside_ram);
	tcase_add_test(tc, segment_over_boot_structures);
	tcase_add_test(tc, overlapping_segments);
	tcase_add_test(tc, filesz_above_memsz);
	tcase_add_test(tc, offset_beyond_file);
	tcase_add_test(tc, entry_outside_segments);
	tcase_add_test(tc, no_loadable_segment);
	tcase_add_test(tc, module_placement);
	tcase_add_test(tc, start_info);
	tcase_add_test(tc, file_shrinks_while_loading);
	tcase_add_test(tc, files);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(pvh_loader_suite);
