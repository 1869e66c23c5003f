/*
 * The synthetic dump (dump_fixture.h). Guest physical memory is a zeroed image of the
 * low 0x410000 bytes built here; the kernel structures are laid out with the fixture's
 * own offsets, which the layout table it publishes describes, as the guest's does.
 * libelf writes the ELF header and program headers (ELF_F_LAYOUT: the offsets are ours);
 * the notes and segments' bytes go at those offsets.
 */
#include <elf.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "devices/dump_layout.h"
#include "devices/hostcall.h"
#include "guest/kern/msgbuf.h"
#include "tests/unit/dump_fixture.h"
#include "vm/vm_meter.h"
#include "vmm/dump_format.h"

#define DF_PHYS_SIZE    0x410000u

/* Page tables. */
#define DF_PML4         0x400000ull
#define DF_PDPT_K       0x401000ull
#define DF_PD_K         0x402000ull
#define DF_PDPT_D       0x403000ull
#define DF_PD_D         0x404000ull
#define DF_PT_D         0x405000ull
#define DF_TBL          0x23ull         /* P RW A */
#define DF_LEAF         (0x163ull | (1ull << 63))       /* P RW A D G NX */

/* The kernel image's contents. */
#define DF_LAYOUT_PA    0x100100ull
#define DF_ALLPROC_PA   0x100200ull
#define DF_VMMETER_PA   0x100400ull
#define DF_UMA_PA       0x100600ull
#define DF_MALLOC_PA    0x100c00ull

/* The structures, at direct-map addresses. */
#define DF_PROC(i)      (0x406000ull + 0x80 * (i))
#define DF_THREAD(i)    (0x406200ull + 0x20 * (i))
#define DF_VMSPACE(i)   (0x406400ull + 0x100 * (i))
#define DF_ENTRY(i)     (0x407000ull + 0x50 * (i))
#define DF_OBJ_LO(i)    (0x407200ull + 0x40 * (i))
#define DF_OBJ_HI(i)    (0x40a000ull + 0x40 * (i))

/* The fixture's structure layouts. */
enum {
	P_SIZE = 128, P_PID = 0, P_COMM = 8, P_COMM_LEN = 20, P_PARENT = 32, P_NEXT = 40,
	P_ZOMBIE = 48, P_VMSPACE = 56, P_THREAD = 64, P_FAULTS = 72, P_MAJFLT = 80,
	T_SIZE = 32, T_TID = 0, T_STATE = 4,
	VS_SIZE = 256, VS_MAP = 0, VS_RESIDENT = 96, M_HEADER = 0, M_NENTRIES = 80,
	E_SIZE = 80, E_START = 0, E_END = 8, E_NEXT = 16, E_OBJECT = 24, E_OFFSET = 32,
	E_PROT = 40, E_MAXPROT = 44, E_INHERIT = 48, E_WIRED = 52, E_USER_WIRED = 56,
	O_SIZE = 64, O_PAGES = 0, O_RESIDENT = 8, O_SWAPPED = 16, O_BACKING = 24,
	O_BACKING_OFF = 32, O_REFCOUNT = 40, O_TYPE = 44,
};
enum { TDS_INACTIVE, TDS_RUNQ, TDS_RUNNING, TDS_SLEEPING, TDS_DEAD };
enum { INH_SHARE, INH_COPY, INH_NONE, INH_ZERO };
enum { OBJT_DEFAULT, OBJT_SWAP, OBJT_DEVICE, OBJT_PHYS };

static void put64(uint8_t *m, uint64_t pa, uint64_t v)
{
	memcpy(m + pa, &v, 8);
}

static void put32(uint8_t *m, uint64_t pa, uint32_t v)
{
	memcpy(m + pa, &v, 4);
}

static void put16(uint8_t *m, uint64_t pa, uint16_t v)
{
	memcpy(m + pa, &v, 2);
}

static uint64_t dmap(uint64_t pa)
{
	return pa == 0 ? 0 : DF_DMAP + pa;
}

static void df_page_tables(uint8_t *m)
{
	put64(m, DF_PML4 + 8 * 257, DF_PDPT_D | DF_TBL);
	put64(m, DF_PML4 + 8 * 511, DF_PDPT_K | DF_TBL);
	put64(m, DF_PDPT_K + 8 * 510, DF_PD_K | DF_TBL);
	put64(m, DF_PD_K + 0, 0x0ull | DF_LEAF | 0x80);           /* 2 MiB page at 0 */
	put64(m, DF_PDPT_D + 0, DF_PD_D | DF_TBL);
	put64(m, DF_PDPT_D + 8, 0x40000000ull | DF_LEAF | 0x80);  /* 1 GiB page, not dumped */
	put64(m, DF_PD_D + 8 * 2, DF_PT_D | DF_TBL);
	for (unsigned i = 0; i <= 10; i++)
		if (0x400000ull + i * 0x1000 != DF_UNMAPPED_PA)
			put64(m, DF_PT_D + 8 * i, (0x400000ull + i * 0x1000) | DF_LEAF);
}

static void df_layout(uint8_t *m, const struct dump_fixture_opts *o)
{
	uint32_t l[DL_NSLOTS] = {
		[DL_VERSION] = DL_LAYOUT_VERSION,
		[DL_PROC_SIZE] = P_SIZE, [DL_PROC_PID] = P_PID, [DL_PROC_COMM] = P_COMM,
		[DL_PROC_COMM_LEN] = P_COMM_LEN, [DL_PROC_PARENT] = P_PARENT,
		[DL_PROC_ALLNEXT] = P_NEXT, [DL_PROC_ZOMBIE] = P_ZOMBIE,
		[DL_PROC_VMSPACE] = P_VMSPACE, [DL_PROC_THREAD] = P_THREAD,
		[DL_PROC_FAULTS] = P_FAULTS, [DL_PROC_MAJFLT] = P_MAJFLT,
		[DL_THREAD_SIZE] = T_SIZE, [DL_THREAD_TID] = T_TID, [DL_THREAD_STATE] = T_STATE,
		[DL_TDS_INACTIVE] = TDS_INACTIVE, [DL_TDS_RUNQ] = TDS_RUNQ,
		[DL_TDS_RUNNING] = TDS_RUNNING, [DL_TDS_SLEEPING] = TDS_SLEEPING,
		[DL_TDS_DEAD] = TDS_DEAD,
		[DL_VMSPACE_SIZE] = VS_SIZE, [DL_VMSPACE_MAP] = VS_MAP,
		[DL_VMSPACE_RESIDENT] = VS_RESIDENT, [DL_MAP_HEADER] = M_HEADER,
		[DL_MAP_NENTRIES] = M_NENTRIES,
		[DL_ENTRY_SIZE] = E_SIZE, [DL_ENTRY_START] = E_START, [DL_ENTRY_END] = E_END,
		[DL_ENTRY_NEXT] = E_NEXT, [DL_ENTRY_OBJECT] = E_OBJECT,
		[DL_ENTRY_OFFSET] = E_OFFSET, [DL_ENTRY_PROT] = E_PROT,
		[DL_ENTRY_MAXPROT] = E_MAXPROT, [DL_ENTRY_INHERIT] = E_INHERIT,
		[DL_ENTRY_WIRED] = E_WIRED, [DL_ENTRY_USER_WIRED] = E_USER_WIRED,
		[DL_INHERIT_SHARE] = INH_SHARE, [DL_INHERIT_COPY] = INH_COPY,
		[DL_INHERIT_NONE] = INH_NONE, [DL_INHERIT_ZERO] = INH_ZERO,
		[DL_OBJ_SIZE] = O_SIZE, [DL_OBJ_PAGES] = O_PAGES, [DL_OBJ_RESIDENT] = O_RESIDENT,
		[DL_OBJ_SWAPPED] = O_SWAPPED, [DL_OBJ_BACKING] = O_BACKING,
		[DL_OBJ_BACKING_OFFSET] = O_BACKING_OFF, [DL_OBJ_REFCOUNT] = O_REFCOUNT,
		[DL_OBJ_TYPE] = O_TYPE,
		[DL_OBJT_DEFAULT] = OBJT_DEFAULT, [DL_OBJT_SWAP] = OBJT_SWAP,
		[DL_OBJT_DEVICE] = OBJT_DEVICE, [DL_OBJT_PHYS] = OBJT_PHYS,
	};
	if (o->df_layout_past)
		l[DL_PROC_PID] = P_SIZE + 4;
	memcpy(m + DF_LAYOUT_PA, l, sizeof(l));
}

static void df_proc(uint8_t *m, unsigned i, int32_t pid, const char *comm, uint64_t parent,
    uint64_t next, uint64_t vmspace, uint64_t thread, uint64_t faults, uint64_t majflt)
{
	uint64_t p = DF_PROC(i);

	put32(m, p + P_PID, (uint32_t)pid);
	memcpy(m + p + P_COMM, comm, strlen(comm));
	put64(m, p + P_PARENT, dmap(parent));
	put64(m, p + P_NEXT, dmap(next));
	m[p + P_ZOMBIE] = vmspace == 0;
	put64(m, p + P_VMSPACE, dmap(vmspace));
	put64(m, p + P_THREAD, dmap(thread));
	put64(m, p + P_FAULTS, faults);
	put64(m, p + P_MAJFLT, majflt);
}

static void df_entry(uint8_t *m, uint64_t e, uint64_t start, uint64_t end, uint64_t next,
    uint64_t obj, int32_t prot, int32_t maxprot, uint8_t inherit)
{
	put64(m, e + E_START, start);
	put64(m, e + E_END, end);
	put64(m, e + E_NEXT, dmap(next));
	put64(m, e + E_OBJECT, dmap(obj));
	put32(m, e + E_PROT, (uint32_t)prot);
	put32(m, e + E_MAXPROT, (uint32_t)maxprot);
	m[e + E_INHERIT] = inherit;
}

static void df_obj(uint8_t *m, uint64_t ob, uint64_t resident, uint64_t swapped,
    uint64_t backing, uint8_t type)
{
	put64(m, ob + O_PAGES, 16);
	put64(m, ob + O_RESIDENT, resident);
	put64(m, ob + O_SWAPPED, swapped);
	put64(m, ob + O_BACKING, dmap(backing));
	put32(m, ob + O_REFCOUNT, 1);
	m[ob + O_TYPE] = type;
}

static void df_kernel(uint8_t *m, const struct dump_fixture_opts *o)
{
	put64(m, DF_ALLPROC_PA, dmap(DF_PROC(0)));
	df_proc(m, 0, 1, "init", 0, DF_PROC(1), DF_VMSPACE(0), DF_THREAD(0), 10, 1);
	df_proc(m, 1, 2, "worker", DF_PROC(0), DF_PROC(2), DF_VMSPACE(1), DF_THREAD(1), 20, 3);
	df_proc(m, 2, 3, "defunct", DF_PROC(0), o->df_proc_loop ? DF_PROC(1) : 0, 0, 0, 5, 0);
	put32(m, DF_THREAD(0) + T_TID, 100001);
	put32(m, DF_THREAD(0) + T_STATE, TDS_SLEEPING);
	put32(m, DF_THREAD(1) + T_TID, 100002);
	put32(m, DF_THREAD(1) + T_STATE, TDS_RUNNING);

	/* init: text [0x400000, 0x402000) r-x on O1; data [0x600000, 0x604000) rw- on
	 * O2 -> O3 -> O4. worker: stack on O5 -> O3 -> O4 (shares init's chain). */
	uint64_t h0 = DF_VMSPACE(0) + VS_MAP + M_HEADER, h1 = DF_VMSPACE(1) + VS_MAP + M_HEADER;
	put64(m, h0 + E_NEXT, dmap(DF_ENTRY(0)));
	put32(m, DF_VMSPACE(0) + VS_MAP + M_NENTRIES, 2);
	put64(m, DF_VMSPACE(0) + VS_RESIDENT, 5);
	put64(m, h1 + E_NEXT, dmap(DF_ENTRY(2)));
	put32(m, DF_VMSPACE(1) + VS_MAP + M_NENTRIES, 1);
	put64(m, DF_VMSPACE(1) + VS_RESIDENT, 8);
	df_entry(m, DF_ENTRY(0), 0x400000, 0x402000, DF_ENTRY(1), DF_OBJ_LO(0), 5, 7, INH_COPY);
	df_entry(m, DF_ENTRY(1), 0x600000, 0x604000, o->df_entry_loop ? DF_ENTRY(0) : h0,
	    DF_OBJ_LO(1), 3, 7, INH_COPY);
	df_entry(m, DF_ENTRY(2), 0x7ffffff00000, 0x7ffffff10000, h1, DF_OBJ_HI(2), 3, 3,
	    INH_SHARE);
	df_obj(m, DF_OBJ_LO(0), 2, 0, 0, OBJT_DEFAULT);
	df_obj(m, DF_OBJ_LO(1), 3, 1, DF_OBJ_HI(0), OBJT_SWAP);
	df_obj(m, DF_OBJ_HI(0), 1, 4, DF_OBJ_HI(1), OBJT_SWAP);
	df_obj(m, DF_OBJ_HI(1), 0, 2, o->df_chain_loop ? DF_OBJ_LO(1) : 0, OBJT_SWAP);
	df_obj(m, DF_OBJ_HI(2), 5, 3, DF_OBJ_HI(0), OBJT_SWAP);
}

/* An hc_pub header at pa with len bytes of data. */
static void df_pub(uint8_t *m, uint64_t pa, uint32_t cap, uint64_t len, uint64_t seq)
{
	struct hc_pub h = { HC_PUB_MAGIC, cap, seq, len, 1500000000ull };
	memcpy(m + pa, &h, sizeof(h));
}

static void df_stats(uint8_t *m, const struct dump_fixture_opts *o)
{
	struct vmmeter vm = {
		.vm_magic = VMMETER_MAGIC, .vm_version = VMMETER_VERSION,
		.vm_size = sizeof(struct vmmeter), .v_page_size = 4096, .v_page_count = 16384,
		.v_free_count = DF_V_FREE, .v_zero_count = DF_V_ZERO,
		.v_active_count = DF_V_ACTIVE, .v_inactive_count = DF_V_INACTIVE,
		.v_laundry_count = DF_V_LAUNDRY, .v_wire_count = DF_V_WIRE,
		.v_free_target = 800, .v_free_min = 200, .v_inactive_target = 1200,
		.v_faults = DF_V_FAULTS, .v_zfod = 9000, .v_cow_faults = 300,
		.v_majfaults = 50, .v_pageins = DF_V_PAGEINS, .v_pageouts = DF_V_PAGEOUTS,
		.v_pdpasses = 7, .v_pdscanned = 4000, .v_pdfreed = 900,
		.v_pdreactivated = 60, .v_pdlaundered = 88, .v_swap_pages = DF_V_SWAP_PAGES,
		.v_swap_used = DF_V_SWAP_USED,
	};
	df_pub(m, DF_VMMETER_PA, 256, sizeof(vm), o->df_empty_vmmeter ? 0 :
	    o->df_torn_vmmeter ? 5 : 4);
	memcpy(m + DF_VMMETER_PA + sizeof(struct hc_pub), &vm, sizeof(vm));

	/* UMA: 2 CPUs, 3 zones. */
	static const struct {
		const char *name;
		uint64_t size, limit, keg_free, zone_cached, allocs, frees, fails, sleeps;
		uint64_t pcpu[2];
	} zones[] = {
		{ "vmspace", 256, 0, 10, 2, 20, 17, 0, 0, { 1, 2 } },
		{ "VM OBJECT", 64, 1000, 50, 8, 500, 400, 3, 1, { 4, 0 } },
		{ "a zone name of exactly 32 bytes!", 4096, 0, 0, 0, 7, 7, 0, 0, { 0, 0 } },
	};
	uint64_t s = DF_UMA_PA + sizeof(struct hc_pub);
	uint32_t slen = 32 + 3 * (128 + 2 * 32);
	put32(m, s, 0x53414d55u);
	put16(m, s + 4, 1);
	put16(m, s + 6, 2);
	put32(m, s + 8, 3);
	put16(m, s + 12, 128);
	put16(m, s + 14, 32);
	put64(m, s + 16, 12);
	put64(m, s + 24, 40);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t r = s + 32 + i * (128 + 64);
		memcpy(m + r, zones[i].name, strlen(zones[i].name));
		put64(m, r + 32, zones[i].size);
		put64(m, r + 40, zones[i].limit);
		put64(m, r + 48, 1);
		put64(m, r + 56, zones[i].keg_free);
		put64(m, r + 64, zones[i].zone_cached);
		put64(m, r + 72, zones[i].allocs - zones[i].frees + zones[i].zone_cached);
		put64(m, r + 80, zones[i].allocs);
		put64(m, r + 88, zones[i].frees);
		put64(m, r + 96, zones[i].fails);
		put64(m, r + 104, zones[i].sleeps);
		put32(m, r + 116, 15);
		put32(m, r + 120, 1);
		put32(m, r + 124, 16);
		for (unsigned c = 0; c < 2; c++)
			put64(m, r + 128 + c * 32 + 24, zones[i].pcpu[c]);
	}
	df_pub(m, DF_UMA_PA, 1024, slen, 2);

	/* malloc: 2 types. */
	s = DF_MALLOC_PA + sizeof(struct hc_pub);
	put32(m, s, 0x534c414du);
	put16(m, s + 4, 1);
	put16(m, s + 6, 80);
	put32(m, s + 8, 2);
	uint64_t r = s + 16;
	memcpy(m + r, "devbuf", 6);
	put64(m, r + 32, 12);
	put64(m, r + 40, 4096);
	put64(m, r + 48, 100);
	put64(m, r + 64, 1ull | 4ull | (1ull << 62));
	put64(m, r + 72, 16);
	r += 80;
	memcpy(m + r, "temp", 4);
	put64(m, r + 48, 5);
	put64(m, r + 56, 1);
	put64(m, r + 64, 1ull << 8);
	put64(m, r + 72, o->df_malloc_no_class0 ? 0 : 16);
	df_pub(m, DF_MALLOC_PA, 512, 16 + 2 * 80, 2);
}

void dump_fixture_msgbuf_line(unsigned i, char line[DF_MSGBUF_LINE_LEN + 1])
{
	snprintf(line, DF_MSGBUF_LINE_LEN + 1, "line %04u: the kernel says: hello, host\n", i);
}

static void df_msgbuf(uint8_t *m)
{
	uint64_t wseq = 0;
	char line[DF_MSGBUF_LINE_LEN + 1];

	put32(m, DF_MSGBUF_PA, MSGBUF_MAGIC);
	put32(m, DF_MSGBUF_PA + 4, DF_MSGBUF_SIZE);
	for (unsigned i = 0; i < DF_MSGBUF_LINES; i++) {
		dump_fixture_msgbuf_line(i, line);
		for (unsigned k = 0; k < DF_MSGBUF_LINE_LEN; k++, wseq++)
			m[DF_MSGBUF_PA + 24 + wseq % DF_MSGBUF_SIZE] = (uint8_t)line[k];
	}
	put64(m, DF_MSGBUF_PA + 8, wseq);
}

static void df_desc(uint8_t *m, const struct dump_fixture_opts *o)
{
	struct hc_dump_desc d = {
		.magic = HC_DUMP_MAGIC, .version = HC_DUMP_VERSION, .kernel_cr3 = DF_CR3,
		.kernbase = DF_KERNBASE, .dmap_base = DF_DMAP, .msgbuf = DF_MSGBUF_PA,
		.vmmeter = DF_VMMETER_PA, .uma_zones = DF_UMA_PA, .malloc_types = DF_MALLOC_PA,
		.kernel_end = 0x106000, .layout = DF_LAYOUT_PA, .layout_count = DL_NSLOTS,
		.allproc = o->df_allproc_kva ? DF_KERNBASE + DF_ALLPROC_PA : DF_ALLPROC_PA,
	};
	memcpy(m + DF_DESC_PA, &d, sizeof(d));
}

/* Append one note record to notes at *len (room checked by the caller's sizes). */
static void df_note(uint8_t *notes, size_t *len, const char *name, uint32_t type,
    const void *desc, uint32_t descsz, unsigned align)
{
	Elf64_Nhdr nh = { (uint32_t)strlen(name) + 1, descsz, type };
	size_t nal = (nh.n_namesz + align - 1) / align * align;
	size_t dal = (descsz + align - 1) / align * align;

	memcpy(notes + *len, &nh, sizeof(nh));
	memcpy(notes + *len + sizeof(nh), name, nh.n_namesz);
	memcpy(notes + *len + sizeof(nh) + nal, desc, descsz);
	*len += sizeof(nh) + nal + dal;
}

static size_t df_notes(uint8_t *notes, const uint8_t *m, const struct dump_fixture_opts *o)
{
	unsigned a = o->df_notes_align8 ? 8 : 4;
	size_t len = 0;
	struct elf_prstatus prs;
	struct dump_info di;
	struct dump_sregs sr;
	struct dump_desc_note dn;

	memset(&prs, 0, sizeof(prs));
	prs.pr_pid = 1;
	prs.pr_reg[16] = DF_RIP;                /* rip */
	prs.pr_reg[19] = 0xffffffff80107ff0ull; /* rsp */
	prs.pr_reg[10] = 0x1234;                /* rax */
	prs.pr_reg[17] = 0x8;                   /* cs */
	df_note(notes, &len, "CORE", NT_PRSTATUS, &prs, sizeof(prs), a);

	memset(&di, 0, sizeof(di));
	di.di_version = DUMP_INFO_VERSION;
	di.di_reason = DUMP_REASON_PANIC;
	di.di_exit_status = -1;
	di.di_time_unix_ns = 1700000000ull * 1000000000ull;
	di.di_uptime_ns = 2500000000ull;
	di.di_mem_size = DF_MEM_SIZE;
	di.di_ncpus = 1;
	strcpy(di.di_vmm_version, "0.1");
	strcpy(di.di_kernel, "build/kernel.elf");
	strcpy(di.di_program, "/bin/true \"quoted\"");
	strcpy(di.di_message, DF_MESSAGE);
	df_note(notes, &len, DUMP_NOTE_OWNER, NT_VMM_INFO, &di, sizeof(di), a);

	memset(&sr, 0, sizeof(sr));
	sr.dsr_cr0 = 0x80050033;
	sr.dsr_cr3 = DF_CR3;
	sr.dsr_cr4 = 0x6a0;
	sr.dsr_efer = 0xd01;
	sr.dsr_cs = (struct dump_segment){ .ds_selector = 8, .ds_type = 11, .ds_present = 1,
		.ds_s = 1, .ds_l = 1, .ds_limit = 0xffffffff };
	df_note(notes, &len, DUMP_NOTE_OWNER, NT_VMM_SREGS, &sr, sizeof(sr), a);

	if (!o->df_no_desc) {
		dn.ddn_gpa = DF_DESC_PA;
		memcpy(&dn.ddn_desc, m + DF_DESC_PA, sizeof(dn.ddn_desc));
		df_note(notes, &len, DUMP_NOTE_OWNER, NT_VMM_DESC, &dn, sizeof(dn), a);
	}
	return len;
}

struct df_seg {
	uint64_t va, pa, size;
};

/* The ELF file into fd: libelf lays out the headers, we write the contents. */
static int df_write_elf(int fd, const uint8_t *m, const uint8_t *notes, size_t nlen,
    const struct dump_fixture_opts *o)
{
	static const struct df_seg segs[] = {
		{ DF_KERNBASE + DF_KIMG_PA, DF_KIMG_PA, DF_KIMG_SIZE },
		{ DF_DMAP + DF_D1_PA, DF_D1_PA, DF_D1_SIZE },
		{ DF_DMAP + DF_D2_PA, DF_D2_PA, 0x1000 },
	};
	const unsigned nseg = sizeof(segs) / sizeof(segs[0]);
	uint64_t notes_off = 0x1000, data_off = 0x2000 + (nlen + 0xfff) / 0x1000 * 0x1000;
	uint64_t off = data_off;
	int rc = -1;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (e == NULL)
		return -1;
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	GElf_Ehdr eh;
	if (gelf_newehdr(e, ELFCLASS64) == 0 || gelf_getehdr(e, &eh) == NULL)
		goto out;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	if (gelf_update_ehdr(e, &eh) == 0 || gelf_newphdr(e, 1 + nseg) == 0)
		goto out;
	GElf_Phdr ph = { .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = nlen,
		.p_align = o->df_notes_align8 ? 8 : 4 };
	if (gelf_update_phdr(e, 0, &ph) == 0)
		goto out;
	for (unsigned i = 0; i < nseg; i++) {
		ph = (GElf_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W,
			.p_offset = off, .p_vaddr = segs[i].va, .p_paddr = segs[i].pa,
			.p_filesz = segs[i].size, .p_memsz = segs[i].size, .p_align = 0x1000 };
		if (gelf_update_phdr(e, 1 + i, &ph) == 0)
			goto out;
		off += segs[i].size;
	}
	/* libelf sizes the file to what it wrote: the contents go in after. */
	if (elf_update(e, ELF_C_WRITE) < 0)
		goto out;
	if (pwrite(fd, notes, nlen, (off_t)notes_off) != (ssize_t)nlen)
		goto out;
	off = data_off;
	for (unsigned i = 0; i < nseg; i++) {
		if (pwrite(fd, m + segs[i].pa, segs[i].size, (off_t)off) != (ssize_t)segs[i].size)
			goto out;
		off += segs[i].size;
	}
	rc = 0;
out:
	elf_end(e);
	return rc;
}

int dump_fixture_build(const struct dump_fixture_opts *o, uint8_t **buf, size_t *len)
{
	uint8_t *m = calloc(DF_PHYS_SIZE, 1), *notes = calloc(1, 8192);
	int rc = -1;
	FILE *f = tmpfile();

	*buf = NULL;
	*len = 0;
	if (m == NULL || notes == NULL || f == NULL)
		goto out;
	df_page_tables(m);
	df_layout(m, o);
	df_kernel(m, o);
	df_stats(m, o);
	df_msgbuf(m);
	df_desc(m, o);
	size_t nlen = df_notes(notes, m, o);
	if (df_write_elf(fileno(f), m, notes, nlen, o) != 0)
		goto out;
	off_t size = lseek(fileno(f), 0, SEEK_END);
	if (size <= 0 || (*buf = malloc((size_t)size)) == NULL)
		goto out;
	if (pread(fileno(f), *buf, (size_t)size, 0) != size) {
		free(*buf);
		*buf = NULL;
		goto out;
	}
	*len = (size_t)size;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(m);
	free(notes);
	return rc;
}

int dump_fixture_write(const struct dump_fixture_opts *o, const char *path)
{
	uint8_t *buf;
	size_t len;

	if (dump_fixture_build(o, &buf, &len) != 0)
		return -1;
	FILE *f = fopen(path, "wb");
	int rc = f != NULL && fwrite(buf, 1, len, f) == len ? 0 : -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	free(buf);
	return rc;
}
