/*
 * The dump writer against a small guest memory with hand-built kernel page tables (no
 * KVM): the file is read back with libelf and its PT_LOADs must be exactly the ranges
 * the minidump rule gives (the kernel image in full, the direct map and the rest of the
 * KERNBASE window by the bitmap, kmem in full, nothing that is not RAM), or all of RAM
 * for a full dump; a 2 MiB and a 1 GiB page, tables that loop, a descriptor the guest
 * overwrote, and the notes gdb and `vmm dump` read.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "vmm/dump_write.h"
#include "vmm/guest_mem.h"
#include "vmm/vmm.h"

#define TD_RAM          (16ull << 20)
#define TD_KERNBASE     0xffffffff80000000ull
#define TD_DMAP         0xffff808000000000ull
#define TD_KVA          0xffffff0000000000ull
#define TD_KERNEL_END   (4ull << 20)
#define TD_P            0x1ull
#define TD_RW           0x2ull
#define TD_PS           0x80ull
#define TD_NX           (1ull << 63)

/* Where the tables and the descriptor live (guest-physical). */
enum {
	TD_PML4 = 0x1000, TD_PDPT_HI = 0x2000, TD_PD_KERN = 0x3000, TD_PDPT_DMAP = 0x4000,
	TD_PDPT_KVA = 0x6000, TD_PD_KVA = 0x7000, TD_PT_KVA = 0x8000, TD_DESC = 0x9000,
	TD_BITMAP = 0xa000,
};

static struct guest_mem td_gm;
static struct dump_source td_src;
static struct dump_vcpu td_vcpu;

static void td_pte(uint64_t table, unsigned idx, uint64_t val)
{
	ck_assert_int_eq(guest_mem_write(&td_gm, table + idx * 8, &val, sizeof(val)), 0);
}

static void td_set_bit(uint64_t pfn)
{
	uint8_t *b = guest_mem_ptr(&td_gm, TD_BITMAP + pfn / 8, 1);
	*b |= (uint8_t)(1u << (pfn % 8));
}

/*
 * The guest: PML4 slot 511 -> the KERNBASE window, 2 MiB pages over 18 MiB (the last
 * one past RAM); slot 257 -> the direct map, one 1 GiB page (RAM is its first 16 MiB);
 * slot 510 -> kmem, 4K pages: two contiguous RW NX, one read-only, one on the LAPIC.
 */
static void td_setup(void)
{
	struct hc_dump_desc d = {
		.magic = HC_DUMP_MAGIC, .version = HC_DUMP_VERSION, .kernel_cr3 = TD_PML4,
		.kernbase = TD_KERNBASE, .dmap_base = TD_DMAP, .dump_bitmap = TD_BITMAP,
		.dump_bitmap_bits = TD_RAM / 4096, .kernel_end = TD_KERNEL_END,
	};

	ck_assert_int_eq(guest_mem_init(&td_gm, TD_RAM), 0);
	td_pte(TD_PML4, 511, TD_PDPT_HI | TD_P | TD_RW);
	td_pte(TD_PDPT_HI, 510, TD_PD_KERN | TD_P | TD_RW);     /* KERNBASE's GiB */
	for (unsigned i = 0; i < 9; i++)
		td_pte(TD_PD_KERN, i, ((uint64_t)i << 21) | TD_P | TD_RW | TD_PS);
	td_pte(TD_PML4, 257, TD_PDPT_DMAP | TD_P | TD_RW);
	td_pte(TD_PDPT_DMAP, 0, 0 | TD_P | TD_RW | TD_PS | TD_NX);
	td_pte(TD_PML4, 510, TD_PDPT_KVA | TD_P | TD_RW);
	td_pte(TD_PDPT_KVA, 0, TD_PD_KVA | TD_P | TD_RW);
	td_pte(TD_PD_KVA, 0, TD_PT_KVA | TD_P | TD_RW);
	td_pte(TD_PT_KVA, 0, 0x100000 | TD_P | TD_RW | TD_NX);
	td_pte(TD_PT_KVA, 1, 0x101000 | TD_P | TD_RW | TD_NX);
	td_pte(TD_PT_KVA, 3, 0x200000 | TD_P | TD_NX);
	td_pte(TD_PT_KVA, 4, 0xfee00000 | TD_P | TD_RW | TD_NX);
	ck_assert_int_eq(guest_mem_write(&td_gm, TD_DESC, &d, sizeof(d)), 0);
	td_set_bit(0x600);
	td_set_bit(0x601);
	td_set_bit(0xa00);
	td_set_bit(0x10);       /* inside the image: carried anyway, once */
	/* Something to find in the file. */
	memcpy(guest_mem_ptr(&td_gm, 0x600000, 8), "PAGE0600", 8);
	memcpy(guest_mem_ptr(&td_gm, 0x101000, 8), "KMEM0101", 8);

	memset(&td_src, 0, sizeof(td_src));
	memset(&td_vcpu, 0, sizeof(td_vcpu));
	td_vcpu.dv_regs.rip = 0xffffffff80123456ull;
	td_vcpu.dv_regs.rsp = 0xffffffff801e0000ull;
	td_vcpu.dv_regs.rax = 0x1111;
	td_vcpu.dv_regs.r15 = 0x1515;
	td_vcpu.dv_sregs.cs.selector = 0x2b;
	td_vcpu.dv_sregs.cr3 = TD_PML4;
	td_vcpu.dv_sregs.efer = 0xd01;
	td_vcpu.dv_kernel_gs_base = 0xffffffff80200000ull;
	td_src.ds_mem = &td_gm;
	td_src.ds_have_desc = true;
	td_src.ds_desc_gpa = TD_DESC;
	td_src.ds_desc_registered = d;
	td_src.ds_nvcpus = 1;
	td_src.ds_vcpus = &td_vcpu;
	td_src.ds_info.di_reason = DUMP_REASON_PANIC;
	td_src.ds_info.di_exit_status = -1;
	td_src.ds_info.di_mem_size = TD_RAM;
	snprintf(td_src.ds_info.di_message, sizeof(td_src.ds_info.di_message),
	    "panic: unit test");
}

static void td_teardown(void)
{
	guest_mem_destroy(&td_gm);
}

/* ---- reading the file back ---- */

struct td_file {
	int fd;
	Elf *elf;
	size_t nphdr;
	GElf_Phdr *ph;
	size_t nload;
	size_t note;            /* index of the PT_NOTE */
};

static void td_write(struct td_file *f)
{
	char path[] = "/tmp/vmm-unit-dump.XXXXXX", err[256];

	f->fd = mkstemp(path);
	ck_assert_int_ge(f->fd, 0);
	unlink(path);
	ck_assert_msg(dump_write_fd(f->fd, &td_src, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
	f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(f->elf);
	ck_assert_int_eq(elf_kind(f->elf), ELF_K_ELF);
	GElf_Ehdr eh;
	ck_assert_ptr_nonnull(gelf_getehdr(f->elf, &eh));
	ck_assert_int_eq(eh.e_type, ET_CORE);
	ck_assert_int_eq(eh.e_machine, EM_X86_64);
	ck_assert_int_eq(eh.e_ident[EI_CLASS], ELFCLASS64);
	ck_assert_int_eq(eh.e_ident[EI_DATA], ELFDATA2LSB);
	ck_assert_int_eq(elf_getphdrnum(f->elf, &f->nphdr), 0);
	ck_assert_uint_ge(f->nphdr, 1);
	f->ph = calloc(f->nphdr, sizeof(*f->ph));
	ck_assert_ptr_nonnull(f->ph);
	f->nload = 0;
	for (size_t i = 0; i < f->nphdr; i++) {
		ck_assert_ptr_nonnull(gelf_getphdr(f->elf, (int)i, &f->ph[i]));
		if (f->ph[i].p_type == PT_LOAD)
			f->nload++;
	}
	/* The notes first (dump_format.h), then the loads. */
	ck_assert_int_eq(f->ph[0].p_type, PT_NOTE);
	f->note = 0;
	struct stat st;
	ck_assert_int_eq(fstat(f->fd, &st), 0);
	for (size_t i = 0; i < f->nphdr; i++)
		ck_assert_uint_le(f->ph[i].p_offset + f->ph[i].p_filesz, (uint64_t)st.st_size);
}

static void td_close(struct td_file *f)
{
	elf_end(f->elf);
	close(f->fd);
	free(f->ph);
}

/* The i-th PT_LOAD is [va, va + len) -> pa with flags. */
static void td_expect_load(const struct td_file *f, size_t i, uint64_t va, uint64_t pa,
    uint64_t len, uint32_t flags)
{
	const GElf_Phdr *p = &f->ph[1 + i];

	ck_assert_int_eq(p->p_type, PT_LOAD);
	ck_assert_msg(p->p_vaddr == va && p->p_paddr == pa && p->p_filesz == len &&
	    p->p_memsz == len && p->p_flags == flags, "load %zu: va %#llx pa %#llx len %#llx "
	    "flags %#x; want va %#llx pa %#llx len %#llx flags %#x", i,
	    (unsigned long long)p->p_vaddr, (unsigned long long)p->p_paddr,
	    (unsigned long long)p->p_filesz, p->p_flags, (unsigned long long)va,
	    (unsigned long long)pa, (unsigned long long)len, flags);
}

/* Bytes of the file at virtual address va, through the PT_LOADs. */
static int td_read_va(const struct td_file *f, uint64_t va, void *buf, size_t len)
{
	for (size_t i = 1; i < f->nphdr; i++) {
		const GElf_Phdr *p = &f->ph[i];
		if (va >= p->p_vaddr && va - p->p_vaddr + len <= p->p_filesz)
			return pread(f->fd, buf, len, (off_t)(p->p_offset + va - p->p_vaddr)) ==
			    (ssize_t)len ? 0 : -1;
	}
	return -1;
}

#define RWX     (PF_R | PF_W | PF_X)
#define RW      (PF_R | PF_W)

/* The minidump of the guest td_setup built. */
START_TEST(minidump_ranges)
{
	struct td_file f;
	char buf[8];

	td_write(&f);
	ck_assert_uint_eq(f.nload, 8);
	/* Sorted by address: direct map, kmem, KERNBASE. */
	td_expect_load(&f, 0, TD_DMAP + 0x10000, 0x10000, 0x1000, RW);
	td_expect_load(&f, 1, TD_DMAP + 0x600000, 0x600000, 0x2000, RW);
	td_expect_load(&f, 2, TD_DMAP + 0xa00000, 0xa00000, 0x1000, RW);
	td_expect_load(&f, 3, TD_KVA, 0x100000, 0x2000, RW);
	td_expect_load(&f, 4, TD_KVA + 0x3000, 0x200000, 0x1000, PF_R);
	/* The image in full up to kernel_end (that bit 0x10 was set changes nothing). */
	td_expect_load(&f, 5, TD_KERNBASE, 0, TD_KERNEL_END, RWX);
	/* Past kernel_end the window follows the bitmap; its 2 MiB page at 16 MiB is
	 * not RAM and absent. */
	td_expect_load(&f, 6, TD_KERNBASE + 0x600000, 0x600000, 0x2000, RWX);
	td_expect_load(&f, 7, TD_KERNBASE + 0xa00000, 0xa00000, 0x1000, RWX);
	ck_assert_int_eq(td_read_va(&f, TD_KERNBASE + 0x602000, buf, 1), -1);
	ck_assert_int_eq(td_read_va(&f, TD_DMAP + 0x602000, buf, 1), -1);
	ck_assert_int_eq(td_read_va(&f, TD_DMAP + 0x600000, buf, 8), 0);
	ck_assert_mem_eq(buf, "PAGE0600", 8);
	ck_assert_int_eq(td_read_va(&f, TD_KVA + 0x1000, buf, 8), 0);
	ck_assert_mem_eq(buf, "KMEM0101", 8);
	td_close(&f);
}
END_TEST

/* Until the guest says where its image ends: the whole KERNBASE window's RAM; no bitmap:
 * nothing of the direct map. */
START_TEST(minidump_no_kernel_end_no_bitmap)
{
	struct hc_dump_desc d;
	struct td_file f;

	ck_assert_int_eq(guest_mem_read(&td_gm, TD_DESC, &d, sizeof(d)), 0);
	d.kernel_end = 0;
	d.dump_bitmap = 0;
	d.dump_bitmap_bits = 0;
	ck_assert_int_eq(guest_mem_write(&td_gm, TD_DESC, &d, sizeof(d)), 0);
	td_write(&f);
	ck_assert_uint_eq(f.nload, 3);
	td_expect_load(&f, 0, TD_KVA, 0x100000, 0x2000, RW);
	td_expect_load(&f, 1, TD_KVA + 0x3000, 0x200000, 0x1000, PF_R);
	td_expect_load(&f, 2, TD_KERNBASE, 0, TD_RAM, RWX);
	td_close(&f);
}
END_TEST

/* A bitmap that runs past RAM names nothing; bits past its stated length are ignored. */
START_TEST(minidump_bitmap_untrusted)
{
	struct hc_dump_desc d;
	struct td_file f;

	ck_assert_int_eq(guest_mem_read(&td_gm, TD_DESC, &d, sizeof(d)), 0);
	d.dump_bitmap = TD_RAM - 8;             /* 2048 bytes wanted, 8 are RAM */
	ck_assert_int_eq(guest_mem_write(&td_gm, TD_DESC, &d, sizeof(d)), 0);
	td_write(&f);
	ck_assert_uint_eq(f.nload, 3);          /* kmem twice, the image */
	td_expect_load(&f, 2, TD_KERNBASE, 0, TD_KERNEL_END, RWX);
	td_close(&f);

	d.dump_bitmap = TD_BITMAP;
	d.dump_bitmap_bits = 0x601;             /* 0x600 in, 0x601 and 0xa00 out */
	ck_assert_int_eq(guest_mem_write(&td_gm, TD_DESC, &d, sizeof(d)), 0);
	td_write(&f);
	ck_assert_uint_eq(f.nload, 6);
	td_expect_load(&f, 1, TD_DMAP + 0x600000, 0x600000, 0x1000, RW);
	td_expect_load(&f, 5, TD_KERNBASE + 0x600000, 0x600000, 0x1000, RWX);
	td_close(&f);
}
END_TEST

/* --dump-full: the direct map carries every RAM page; the rest is as in a minidump. */
START_TEST(full_dump)
{
	struct td_file f;

	td_src.ds_full = true;
	td_write(&f);
	ck_assert_uint_eq(f.nload, 6);
	td_expect_load(&f, 0, TD_DMAP, 0, TD_RAM, RW);
	td_expect_load(&f, 1, TD_KVA, 0x100000, 0x2000, RW);
	td_expect_load(&f, 2, TD_KVA + 0x3000, 0x200000, 0x1000, PF_R);
	td_expect_load(&f, 3, TD_KERNBASE, 0, TD_KERNEL_END, RWX);
	td_expect_load(&f, 4, TD_KERNBASE + 0x600000, 0x600000, 0x2000, RWX);
	td_expect_load(&f, 5, TD_KERNBASE + 0xa00000, 0xa00000, 0x1000, RWX);
	td_close(&f);

	/* A direct map the tables lack is made up from dmap_base, RW. */
	td_pte(TD_PML4, 257, 0);
	td_write(&f);
	ck_assert_uint_eq(f.nload, 6);
	td_expect_load(&f, 0, TD_DMAP, 0, TD_RAM, RW);
	td_expect_load(&f, 3, TD_KERNBASE, 0, TD_KERNEL_END, RWX);
	td_close(&f);
}
END_TEST

/* No descriptor: a minidump has nothing to walk; a full dump carries RAM at va = pa. */
START_TEST(no_descriptor)
{
	struct td_file f;

	td_src.ds_have_desc = false;
	td_write(&f);
	ck_assert_uint_eq(f.nload, 0);
	td_close(&f);
	td_src.ds_full = true;
	td_write(&f);
	ck_assert_uint_eq(f.nload, 1);
	td_expect_load(&f, 0, 0, 0, TD_RAM, RW);
	td_close(&f);
}
END_TEST

/* The guest overwrote its descriptor: the copy registered at boot is used instead. */
START_TEST(descriptor_clobbered)
{
	struct td_file f;

	memset(guest_mem_ptr(&td_gm, TD_DESC, sizeof(struct hc_dump_desc)), 0xa5,
	    sizeof(struct hc_dump_desc));
	td_write(&f);
	ck_assert_uint_eq(f.nload, 8);
	td_close(&f);
	/* And a registration pointing outside RAM changes nothing either. */
	td_src.ds_desc_gpa = TD_RAM - 8;
	td_write(&f);
	ck_assert_uint_eq(f.nload, 8);
	td_close(&f);
}
END_TEST

/* Every PML4 entry points back at the PML4: 2^27 tables to visit, and every leaf maps
 * the tables themselves at a new address. The walk stops at its bound, promptly, and
 * says so. */
START_TEST(table_loop_bounded)
{
	struct dump_plan plan;
	struct timespec t0, t1;

	for (unsigned i = 0; i < 512; i++)
		td_pte(TD_PML4, i, TD_PML4 | TD_P | TD_RW);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(dump_plan_build(&td_src, &plan), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert(plan.dp_truncated);
	ck_assert_uint_le(plan.dp_tables, DUMP_MAX_TABLES + 1);
	ck_assert_uint_le(plan.dp_n, DUMP_MAX_LOADS);
	/* The work bound: four times RAM and a 4 GiB window, in bytes. */
	ck_assert_uint_le(plan.dp_bytes, (4 * TD_RAM / 4096 + (1ull << 20)) * 4096);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 20);
	dump_plan_free(&plan);

	/* A file with that many PT_LOADs is still written (info_flags reads one). */
	char path[] = "/tmp/vmm-unit-dump.XXXXXX", err[256];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_msg(dump_write_fd(fd, &td_src, err, sizeof(err)) == 0, "%s", err);
	close(fd);
}
END_TEST

/* A leaf that maps a table page many times (aliases) is carried each time but stays
 * within the bound. */
START_TEST(aliases_bounded)
{
	struct dump_plan plan;

	/* 512 PD entries, each a 2 MiB page of RAM 0..2 MiB, in kmem: 1 GiB of aliases. */
	for (unsigned i = 0; i < 512; i++)
		td_pte(TD_PD_KVA, i, 0 | TD_P | TD_RW | TD_PS);
	for (unsigned i = 0; i < 512; i++)
		td_pte(TD_PDPT_KVA, i, TD_PD_KVA | TD_P | TD_RW);   /* 512 GiB of them */
	ck_assert_int_eq(dump_plan_build(&td_src, &plan), 0);
	ck_assert(plan.dp_truncated);
	ck_assert_uint_le(plan.dp_bytes, (4 * TD_RAM / 4096 + (1ull << 20)) * 4096);
	dump_plan_free(&plan);
}
END_TEST

/* The notes, in dump_format.h's order, with what gdb and the reader need. */
START_TEST(notes_parse)
{
	struct td_file f;
	const GElf_Phdr *np;
	unsigned seen = 0;

	td_write(&f);
	np = &f.ph[f.note];
	Elf_Data *data = elf_getdata_rawchunk(f.elf, (int64_t)np->p_offset, np->p_filesz,
	    ELF_T_NHDR);
	ck_assert_ptr_nonnull(data);
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off, next;
	while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *name = (const char *)data->d_buf + name_off;
		const uint8_t *desc = (const uint8_t *)data->d_buf + desc_off;
		switch (seen++) {
		case 0: {
			struct elf_prstatus ps;
			struct user_regs_struct u;
			ck_assert_str_eq(name, "CORE");
			ck_assert_uint_eq(nh.n_type, NT_PRSTATUS);
			ck_assert_uint_eq(nh.n_descsz, sizeof(ps));
			memcpy(&ps, desc, sizeof(ps));
			memcpy(&u, &ps.pr_reg, sizeof(u));
			ck_assert_int_eq(ps.pr_pid, 1);
			ck_assert_uint_eq(u.rip, 0xffffffff80123456ull);
			ck_assert_uint_eq(u.rsp, 0xffffffff801e0000ull);
			ck_assert_uint_eq(u.rax, 0x1111);
			ck_assert_uint_eq(u.r15, 0x1515);
			ck_assert_uint_eq(u.cs, 0x2b);
			break;
		}
		case 1: {
			struct dump_info di;
			ck_assert_str_eq(name, DUMP_NOTE_OWNER);
			ck_assert_uint_eq(nh.n_type, NT_VMM_INFO);
			ck_assert_uint_eq(nh.n_descsz, sizeof(di));
			memcpy(&di, desc, sizeof(di));
			ck_assert_uint_eq(di.di_version, DUMP_INFO_VERSION);
			ck_assert_uint_eq(di.di_reason, DUMP_REASON_PANIC);
			ck_assert_uint_eq(di.di_ncpus, 1);
			ck_assert_uint_eq(di.di_flags, 0);
			ck_assert_uint_eq(di.di_mem_size, TD_RAM);
			ck_assert_str_eq(di.di_message, "panic: unit test");
			break;
		}
		case 2: {
			struct dump_sregs sr;
			ck_assert_str_eq(name, DUMP_NOTE_OWNER);
			ck_assert_uint_eq(nh.n_type, NT_VMM_SREGS);
			ck_assert_uint_eq(nh.n_descsz, sizeof(sr));
			memcpy(&sr, desc, sizeof(sr));
			ck_assert_uint_eq(sr.dsr_vcpu, 0);
			ck_assert_uint_eq(sr.dsr_cr3, TD_PML4);
			ck_assert_uint_eq(sr.dsr_efer, 0xd01);
			ck_assert_uint_eq(sr.dsr_kernel_gs_base, 0xffffffff80200000ull);
			ck_assert_uint_eq(sr.dsr_cs.ds_selector, 0x2b);
			break;
		}
		case 3: {
			struct dump_desc_note dn;
			ck_assert_str_eq(name, DUMP_NOTE_OWNER);
			ck_assert_uint_eq(nh.n_type, NT_VMM_DESC);
			ck_assert_uint_eq(nh.n_descsz, sizeof(dn));
			memcpy(&dn, desc, sizeof(dn));
			ck_assert_uint_eq(dn.ddn_gpa, TD_DESC);
			ck_assert_uint_eq(dn.ddn_desc.magic, HC_DUMP_MAGIC);
			ck_assert_uint_eq(dn.ddn_desc.kernel_end, TD_KERNEL_END);
			break;
		}
		default:
			ck_abort_msg("unexpected note %u (%s, %#x)", seen, name, nh.n_type);
		}
		off = next;
	}
	ck_assert_uint_eq(seen, 4);
	td_close(&f);
}
END_TEST

/* A full dump and a truncated walk say so in the info note's flags. */
START_TEST(info_flags)
{
	struct td_file f;
	struct dump_info di;

	td_src.ds_full = true;
	for (unsigned i = 0; i < 512; i++)
		td_pte(TD_PML4, i, TD_PML4 | TD_P | TD_RW);
	td_write(&f);
	Elf_Data *data = elf_getdata_rawchunk(f.elf, (int64_t)f.ph[0].p_offset,
	    f.ph[0].p_filesz, ELF_T_NHDR);
	GElf_Nhdr nh;
	size_t name_off, desc_off, off = 0;
	off = gelf_getnote(data, off, &nh, &name_off, &desc_off);  /* NT_PRSTATUS */
	ck_assert_uint_gt(off, 0);
	ck_assert_uint_gt(gelf_getnote(data, off, &nh, &name_off, &desc_off), 0);
	ck_assert_uint_eq(nh.n_type, NT_VMM_INFO);
	memcpy(&di, (const uint8_t *)data->d_buf + desc_off, sizeof(di));
	ck_assert_uint_eq(di.di_flags, DUMP_FLAG_FULL | DUMP_FLAG_TRUNCATED);
	td_close(&f);
}
END_TEST

/* A dump that cannot be written: 71, the one line, nothing left; an earlier dump at the
 * path stays as it was. */
START_TEST(write_file_failures)
{
	char dir[] = "/tmp/vmm-unit-dumpdir.XXXXXX", path[256], err[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/no/such/dir/core", dir);
	ck_assert_int_eq(dump_write_file(path, &td_src, err, sizeof(err)), VMM_EXIT_HOST);
	char want[512];
	snprintf(want, sizeof(want), "cannot write the dump %s: %s", path, strerror(ENOENT));
	ck_assert_str_eq(err, want);

	snprintf(path, sizeof(path), "%s/core", dir);
	ck_assert_int_eq(dump_write_file(path, &td_src, err, sizeof(err)), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_gt((uint64_t)st.st_size, TD_KERNEL_END);
	/* Replaced whole by the next one. */
	td_src.ds_full = true;
	ck_assert_int_eq(dump_write_file(path, &td_src, err, sizeof(err)), 0);
	struct stat st2;
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert_uint_gt((uint64_t)st2.st_size, (uint64_t)st.st_size);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);       /* no temporary file left */
}
END_TEST

static Suite *dump_write_suite(void)
{
	Suite *s = suite_create("vmm.dump_write");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, td_setup, td_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, minidump_ranges);
	tcase_add_test(tc, minidump_no_kernel_end_no_bitmap);
	tcase_add_test(tc, minidump_bitmap_untrusted);
	tcase_add_test(tc, full_dump);
	tcase_add_test(tc, no_descriptor);
	tcase_add_test(tc, descriptor_clobbered);
	tcase_add_test(tc, table_loop_bounded);
	tcase_add_test(tc, aliases_bounded);
	tcase_add_test(tc, notes_parse);
	tcase_add_test(tc, info_flags);
	tcase_add_test(tc, write_file_failures);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(dump_write_suite);
