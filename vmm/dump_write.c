/*
 * The dump writer (dump_write.h). Two steps: a plan (which guest ranges, at which
 * virtual addresses) from a walk of the kernel's page tables, then the file: the ELF
 * header and program headers through libelf, the notes and the guest's bytes after them
 * with pwrite, straight from guest memory (no copy of RAM in the VMM).
 *
 * What a minidump carries (dump_format.h): every page the kernel tables map, in full,
 * except in two windows whose pages follow the guest's dump bitmap: the direct map (a
 * leaf that maps pa at dmap_base + pa) and the KERNBASE window past the kernel image (a
 * leaf that maps pa at kernbase + pa, pa >= kernel_end). The windows are recognised by
 * that arithmetic rather than by a guest layout constant, so a page the kernel maps
 * anywhere else (stacks, kmem) is always carried.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/user.h>
#include <unistd.h>

#include "vmm/dump_write.h"
#include "vmm/gva.h"
#include "vmm/guest_mem.h"
#include "vmm/out_file.h"
#include "vmm/vmm.h"

#define DW_PAGE         4096ull
#define DW_NOTE_ALIGN   4u                      /* the ELF core convention */

/* The walk's state: the plan it fills and the bounds it keeps. */
struct dw_walk {
	const struct guest_mem *w_gm;
	struct dump_plan *w_plan;
	const struct hc_dump_desc *w_desc;
	bool w_full;
	const uint8_t *w_bitmap;        /* in guest memory; NULL: no page is named */
	uint64_t w_bitmap_bits;
	uint8_t *w_dmap_done;           /* --dump-full: RAM pages carried in the direct map */
	uint64_t w_npfn;                /* pages below the highest RAM address */
	uint64_t w_work;                /* pages looked at so far */
	uint64_t w_work_max;
	bool w_stop;
	bool w_oom;
};

static bool dw_bit(const uint8_t *map, uint64_t bits, uint64_t pfn)
{
	return pfn < bits && (map[pfn >> 3] >> (pfn & 7) & 1) != 0;
}

static void dw_stop(struct dw_walk *w)
{
	w->w_plan->dp_truncated = true;
	w->w_stop = true;
}

/* Add [va, va + len) -> pa (all of it RAM in one slot), joining the last range when it
 * continues it in both address spaces. */
static void dw_add(struct dw_walk *w, uint64_t va, uint64_t pa, uint64_t len,
    uint32_t flags)
{
	struct dump_plan *p = w->w_plan;
	struct dump_range *last = p->dp_n > 0 ? &p->dp_ranges[p->dp_n - 1] : NULL;

	if (last != NULL && last->dr_va + last->dr_len == va && last->dr_pa + last->dr_len ==
	    pa && last->dr_flags == flags &&
	    guest_mem_ptr(w->w_gm, last->dr_pa, last->dr_len + len) != NULL) {
		last->dr_len += len;
	} else {
		if (p->dp_n == DUMP_MAX_LOADS) {
			dw_stop(w);
			return;
		}
		if (p->dp_n == p->dp_cap) {
			size_t cap = p->dp_cap != 0 ? p->dp_cap * 2 : 64;
			struct dump_range *r = realloc(p->dp_ranges, cap * sizeof(*r));
			if (r == NULL) {
				w->w_oom = true;
				w->w_stop = true;
				return;
			}
			p->dp_ranges = r;
			p->dp_cap = cap;
		}
		p->dp_ranges[p->dp_n++] = (struct dump_range){ va, pa, len, flags };
	}
	p->dp_bytes += len;
}

/* Charge npages of work; false once the walk is over its bound. */
static bool dw_charge(struct dw_walk *w, uint64_t npages)
{
	w->w_work += npages;
	if (w->w_work > w->w_work_max) {
		dw_stop(w);
		return false;
	}
	return true;
}

static void dw_mark_dmap(struct dw_walk *w, uint64_t pa, uint64_t len)
{
	if (w->w_dmap_done == NULL)
		return;
	for (uint64_t pfn = pa / DW_PAGE; pfn < (pa + len) / DW_PAGE; pfn++)
		w->w_dmap_done[pfn >> 3] |= (uint8_t)(1u << (pfn & 7));
}

/* RAM [lo, hi) of one leaf, at va for lo: in full, or the pages the bitmap names. */
static void dw_carry(struct dw_walk *w, uint64_t va, uint64_t lo, uint64_t hi,
    uint32_t flags, bool by_bitmap, bool dmap)
{
	if (lo >= hi || w->w_stop)
		return;
	if (!by_bitmap) {
		if (!dw_charge(w, (hi - lo) / DW_PAGE))
			return;
		dw_add(w, va, lo, hi - lo, flags);
		if (dmap)
			dw_mark_dmap(w, lo, hi - lo);
		return;
	}
	for (uint64_t pa = lo; pa < hi && !w->w_stop; pa += DW_PAGE) {
		if (!dw_charge(w, 1))
			return;
		if (dw_bit(w->w_bitmap, w->w_bitmap_bits, pa / DW_PAGE)) {
			dw_add(w, va + (pa - lo), pa, DW_PAGE, flags);
			if (dmap)
				dw_mark_dmap(w, pa, DW_PAGE);
		}
	}
}

/* A leaf of the tables: va -> [pa, pa + size). Only its RAM is looked at. */
static void dw_leaf(struct dw_walk *w, uint64_t va, uint64_t pa, uint64_t size,
    uint32_t flags)
{
	const struct hc_dump_desc *d = w->w_desc;
	bool kern = va >= d->kernbase && va - d->kernbase == pa;
	bool dmap = !kern && va >= d->dmap_base && va - d->dmap_base == pa;

	for (unsigned i = 0; i < w->w_gm->gm_nslots && !w->w_stop; i++) {
		const struct guest_mem_slot *s = &w->w_gm->gm_slots[i];
		uint64_t lo = pa > s->gms_gpa ? pa : s->gms_gpa;
		uint64_t hi = pa + size < s->gms_gpa + s->gms_size ? pa + size :
		    s->gms_gpa + s->gms_size;

		if (lo >= hi)
			continue;
		if (dmap) {
			dw_carry(w, va + (lo - pa), lo, hi, flags, !w->w_full, true);
		} else if (kern && d->kernel_end != 0) {
			/* The image in full, the rest of the window as the bitmap says. */
			uint64_t mid = hi < d->kernel_end ? hi : lo > d->kernel_end ? lo :
			    d->kernel_end;
			dw_carry(w, va + (lo - pa), lo, mid, flags, false, false);
			dw_carry(w, va + (mid - pa), mid, hi, flags, true, false);
		} else {
			/*
			 * Outside both windows: kernel_pmap's mappings, in full. The KERNBASE
			 * window too while the guest leaves kernel_end 0: where its image ends
			 * is then unknown, and the image is what a backtrace needs, so the
			 * whole window's RAM is carried.
			 */
			dw_carry(w, va + (lo - pa), lo, hi, flags, false, false);
		}
	}
}

static void dw_walk_table(struct dw_walk *w, uint64_t table, int level, uint64_t va_base,
    uint32_t flags)
{
	uint64_t t[512];
	unsigned shift = 12 + 9 * (unsigned)level;

	if (w->w_stop)
		return;
	/* Tables that point back at themselves or alias each other revisit pages: the
	 * count of visits, not of distinct tables, bounds the walk. */
	if (++w->w_plan->dp_tables > DUMP_MAX_TABLES) {
		dw_stop(w);
		return;
	}
	if (guest_mem_read(w->w_gm, table, t, sizeof(t)) != 0)
		return;                 /* a table that is not RAM maps nothing we carry */
	for (unsigned i = 0; i < 512 && !w->w_stop; i++) {
		uint64_t e = t[i], va = va_base | (uint64_t)i << shift;
		uint32_t f = flags;

		if (!(e & GVA_PTE_P))
			continue;
		if (level == 3 && i >= 256)
			va |= 0xffff000000000000ull;    /* canonical upper half */
		if (!(e & GVA_PTE_RW))
			f &= ~(uint32_t)PF_W;
		if (e & GVA_PTE_NX)
			f &= ~(uint32_t)PF_X;
		if (level == 0 || ((level == 1 || level == 2) && (e & GVA_PTE_PS))) {
			uint64_t size = 1ull << shift;
			dw_leaf(w, va, e & GVA_PTE_ADDR & ~(size - 1), size, f);
		} else if (!(e & GVA_PTE_PS)) {  /* PS in a PML4E is reserved: not walked */
			dw_walk_table(w, e & GVA_PTE_ADDR, level - 1, va, f);
		}
	}
}

/* --dump-full: every RAM page the walk left out of the direct map, at dmap_base + pa
 * (at pa when the guest registered no descriptor: nothing better is known). */
static void dw_add_rest(struct dw_walk *w, uint64_t va_off)
{
	for (unsigned i = 0; i < w->w_gm->gm_nslots && !w->w_stop; i++) {
		const struct guest_mem_slot *s = &w->w_gm->gm_slots[i];
		uint64_t start = 0;
		bool in = false;

		for (uint64_t pa = s->gms_gpa; pa <= s->gms_gpa + s->gms_size; pa += DW_PAGE) {
			bool want = pa < s->gms_gpa + s->gms_size &&
			    !dw_bit(w->w_dmap_done, w->w_npfn, pa / DW_PAGE);
			if (want && !in) {
				start = pa;
				in = true;
			} else if (!want && in) {
				dw_add(w, va_off + start, start, pa - start, PF_R | PF_W);
				in = false;
			}
		}
	}
}

static int dw_range_cmp(const void *a, const void *b)
{
	const struct dump_range *x = a, *y = b;

	return x->dr_va < y->dr_va ? -1 : x->dr_va > y->dr_va;
}

/* Sorted by virtual address, neighbours that continue each other joined. */
static void dw_sort(const struct guest_mem *gm, struct dump_plan *p)
{
	size_t n = 0;

	if (p->dp_n == 0)
		return;
	qsort(p->dp_ranges, p->dp_n, sizeof(p->dp_ranges[0]), dw_range_cmp);
	for (size_t i = 1; i < p->dp_n; i++) {
		struct dump_range *l = &p->dp_ranges[n], *r = &p->dp_ranges[i];
		if (l->dr_va + l->dr_len == r->dr_va && l->dr_pa + l->dr_len == r->dr_pa &&
		    l->dr_flags == r->dr_flags &&
		    guest_mem_ptr(gm, l->dr_pa, l->dr_len + r->dr_len) != NULL)
			l->dr_len += r->dr_len;
		else
			p->dp_ranges[++n] = *r;
	}
	p->dp_n = n + 1;
}

/* The descriptor to walk with: as the guest holds it now, or as it registered it. */
static bool dw_desc(const struct dump_source *src, struct hc_dump_desc *d)
{
	if (!src->ds_have_desc)
		return false;
	if (guest_mem_read(src->ds_mem, src->ds_desc_gpa, d, sizeof(*d)) == 0 &&
	    d->magic == HC_DUMP_MAGIC && d->version == HC_DUMP_VERSION)
		return true;
	*d = src->ds_desc_registered;
	return d->magic == HC_DUMP_MAGIC && d->version == HC_DUMP_VERSION;
}

int dump_plan_build(const struct dump_source *src, struct dump_plan *plan)
{
	const struct guest_mem *gm = src->ds_mem;
	const struct guest_mem_slot *top = &gm->gm_slots[gm->gm_nslots - 1];
	struct dw_walk w = {
		.w_gm = gm,
		.w_plan = plan,
		.w_full = src->ds_full,
		.w_npfn = (top->gms_gpa + top->gms_size) / DW_PAGE,
	};
	uint64_t ram_pages = gm->gm_ram_size / DW_PAGE;

	memset(plan, 0, sizeof(*plan));
	/* Each RAM page about four times over (direct map, KERNBASE window, kmem, a full
	 * dump's rest) plus a 4 GiB window's worth: far above what a kernel maps, far below
	 * what looping tables could make us read. */
	w.w_work_max = 4 * ram_pages + (1ull << 20);
	if (src->ds_full) {
		w.w_dmap_done = calloc(w.w_npfn / 8 + 1, 1);
		if (w.w_dmap_done == NULL)
			return -1;
	}
	plan->dp_desc_valid = dw_desc(src, &plan->dp_desc);
	if (plan->dp_desc_valid) {
		const struct hc_dump_desc *d = &plan->dp_desc;
		uint64_t bits = d->dump_bitmap_bits < w.w_npfn ? d->dump_bitmap_bits : w.w_npfn;

		w.w_desc = d;
		/* A bitmap that is not wholly RAM names nothing. */
		if (d->dump_bitmap != 0 && bits != 0 &&
		    (w.w_bitmap = guest_mem_ptr(gm, d->dump_bitmap, (bits + 7) / 8)) != NULL)
			w.w_bitmap_bits = bits;
		dw_walk_table(&w, d->kernel_cr3 & GVA_PTE_ADDR, 3, 0, PF_R | PF_W | PF_X);
	}
	if (src->ds_full && !w.w_stop)
		dw_add_rest(&w, plan->dp_desc_valid ? plan->dp_desc.dmap_base : 0);
	free(w.w_dmap_done);
	if (w.w_oom) {
		dump_plan_free(plan);
		return -1;
	}
	dw_sort(gm, plan);
	return 0;
}

void dump_plan_free(struct dump_plan *plan)
{
	free(plan->dp_ranges);
	plan->dp_ranges = NULL;
	plan->dp_n = plan->dp_cap = 0;
}

/* ---- the notes ---- */

struct dw_notes {
	uint8_t *n_buf;
	size_t n_len, n_cap;
};

static int dw_note(struct dw_notes *n, const char *name, uint32_t type, const void *desc,
    size_t desclen)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t nameal = (namesz + DW_NOTE_ALIGN - 1) & ~(size_t)(DW_NOTE_ALIGN - 1);
	size_t descal = (desclen + DW_NOTE_ALIGN - 1) & ~(size_t)(DW_NOTE_ALIGN - 1);
	size_t need = sizeof(Elf64_Nhdr) + nameal + descal;

	if (n->n_len + need > n->n_cap) {
		size_t cap = (n->n_len + need) * 2;
		uint8_t *b = realloc(n->n_buf, cap);
		if (b == NULL)
			return -1;
		n->n_buf = b;
		n->n_cap = cap;
	}
	Elf64_Nhdr h = { .n_namesz = namesz, .n_descsz = (uint32_t)desclen, .n_type = type };
	uint8_t *p = n->n_buf + n->n_len;
	memset(p, 0, need);
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), name, namesz);
	memcpy(p + sizeof(h) + nameal, desc, desclen);
	n->n_len += need;
	return 0;
}

/* gdb's view of a vCPU: a thread whose registers are the kernel's at the dump. */
static void dw_prstatus(const struct dump_vcpu *v, unsigned idx, struct elf_prstatus *ps)
{
	const struct kvm_regs *r = &v->dv_regs;
	const struct kvm_sregs *s = &v->dv_sregs;
	struct user_regs_struct u = {
		.r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12,
		.rbp = r->rbp, .rbx = r->rbx, .r11 = r->r11, .r10 = r->r10,
		.r9 = r->r9, .r8 = r->r8, .rax = r->rax, .rcx = r->rcx,
		.rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi,
		.orig_rax = ~0ull,      /* no system call to restart */
		.rip = r->rip, .cs = s->cs.selector, .eflags = r->rflags, .rsp = r->rsp,
		.ss = s->ss.selector, .fs_base = s->fs.base, .gs_base = s->gs.base,
		.ds = s->ds.selector, .es = s->es.selector, .fs = s->fs.selector,
		.gs = s->gs.selector,
	};
	_Static_assert(sizeof(u) == sizeof(ps->pr_reg), "user_regs_struct is pr_reg");

	memset(ps, 0, sizeof(*ps));
	ps->pr_pid = (int)idx + 1;
	memcpy(&ps->pr_reg, &u, sizeof(u));
}

static void dw_segment(const struct kvm_segment *k, struct dump_segment *d)
{
	*d = (struct dump_segment){
		.ds_selector = k->selector, .ds_type = k->type, .ds_present = k->present,
		.ds_dpl = k->dpl, .ds_db = k->db, .ds_s = k->s, .ds_l = k->l, .ds_g = k->g,
		.ds_avl = k->avl, .ds_base = k->base, .ds_limit = k->limit,
	};
}

static void dw_sregs(const struct dump_vcpu *v, unsigned idx, struct dump_sregs *d)
{
	const struct kvm_sregs *s = &v->dv_sregs;

	memset(d, 0, sizeof(*d));
	d->dsr_vcpu = idx;
	d->dsr_cr0 = s->cr0;
	d->dsr_cr2 = s->cr2;
	d->dsr_cr3 = s->cr3;
	d->dsr_cr4 = s->cr4;
	d->dsr_cr8 = s->cr8;
	d->dsr_efer = s->efer;
	d->dsr_apic_base = s->apic_base;
	d->dsr_kernel_gs_base = v->dv_kernel_gs_base;
	dw_segment(&s->cs, &d->dsr_cs);
	dw_segment(&s->ds, &d->dsr_ds);
	dw_segment(&s->es, &d->dsr_es);
	dw_segment(&s->fs, &d->dsr_fs);
	dw_segment(&s->gs, &d->dsr_gs);
	dw_segment(&s->ss, &d->dsr_ss);
	dw_segment(&s->tr, &d->dsr_tr);
	dw_segment(&s->ldt, &d->dsr_ldt);
	d->dsr_gdt_base = s->gdt.base;
	d->dsr_gdt_limit = s->gdt.limit;
	d->dsr_idt_base = s->idt.base;
	d->dsr_idt_limit = s->idt.limit;
}

/* The notes in dump_format.h's order. */
static int dw_build_notes(const struct dump_source *src, const struct dump_plan *plan,
    struct dw_notes *n)
{
	struct dump_info info = src->ds_info;

	for (unsigned i = 0; i < src->ds_nvcpus; i++) {
		struct elf_prstatus ps;
		dw_prstatus(&src->ds_vcpus[i], i, &ps);
		if (dw_note(n, "CORE", NT_PRSTATUS, &ps, sizeof(ps)) != 0)
			return -1;
	}
	info.di_version = DUMP_INFO_VERSION;
	info.di_ncpus = src->ds_nvcpus;
	info.di_flags = (src->ds_full ? DUMP_FLAG_FULL : 0) |
	    (plan->dp_truncated ? DUMP_FLAG_TRUNCATED : 0);
	if (dw_note(n, DUMP_NOTE_OWNER, NT_VMM_INFO, &info, sizeof(info)) != 0)
		return -1;
	for (unsigned i = 0; i < src->ds_nvcpus; i++) {
		struct dump_sregs sr;
		dw_sregs(&src->ds_vcpus[i], i, &sr);
		if (dw_note(n, DUMP_NOTE_OWNER, NT_VMM_SREGS, &sr, sizeof(sr)) != 0)
			return -1;
	}
	if (src->ds_have_desc) {
		struct dump_desc_note dn = { .ddn_gpa = src->ds_desc_gpa };
		/* What the walk used; the registered copy when the guest's is now garbage,
		 * so a reader never meets a descriptor it must refuse. */
		dn.ddn_desc = plan->dp_desc_valid ? plan->dp_desc : src->ds_desc_registered;
		if (dw_note(n, DUMP_NOTE_OWNER, NT_VMM_DESC, &dn, sizeof(dn)) != 0)
			return -1;
	}
	return 0;
}

/* ---- the file ---- */

static int dw_pwrite_all(int fd, const void *buf, uint64_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t w = pwrite(fd, p, chunk, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

/* The ELF header and the program headers, laid out by us, written by libelf. */
static int dw_elf_headers(int fd, const struct dump_plan *plan, uint64_t note_off,
    uint64_t note_len, const uint64_t *load_off, char *err, size_t errlen)
{
	Elf *e;
	GElf_Ehdr eh;

	if (elf_version(EV_CURRENT) == EV_NONE ||
	    (e = elf_begin(fd, ELF_C_WRITE, NULL)) == NULL)
		goto elferr;
	if (gelf_newehdr(e, ELFCLASS64) == 0 || gelf_getehdr(e, &eh) == NULL)
		goto elferr_end;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_shoff = 0;
	if (gelf_update_ehdr(e, &eh) == 0 || gelf_newphdr(e, plan->dp_n + 1) == 0)
		goto elferr_end;
	GElf_Phdr ph = {
		.p_type = PT_NOTE, .p_offset = note_off, .p_filesz = note_len,
		.p_align = DW_NOTE_ALIGN,
	};
	if (gelf_update_phdr(e, 0, &ph) == 0)
		goto elferr_end;
	for (size_t i = 0; i < plan->dp_n; i++) {
		const struct dump_range *r = &plan->dp_ranges[i];
		ph = (GElf_Phdr){
			.p_type = PT_LOAD, .p_flags = r->dr_flags, .p_offset = load_off[i],
			.p_vaddr = r->dr_va, .p_paddr = r->dr_pa, .p_filesz = r->dr_len,
			.p_memsz = r->dr_len, .p_align = DW_PAGE,
		};
		if (gelf_update_phdr(e, (int)(i + 1), &ph) == 0)
			goto elferr_end;
	}
	/* Our layout: libelf writes the headers where we put them and nothing else. */
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	if (elf_update(e, ELF_C_WRITE) < 0)
		goto elferr_end;
	elf_end(e);
	return 0;
elferr_end:
	elf_end(e);
elferr:
	/* libelf keeps its own error; a failed write() underneath leaves errno set. */
	if (errno == 0)
		errno = EIO;
	snprintf(err, errlen, "%s", elf_errmsg(-1));
	return -1;
}

int dump_write_fd(int fd, const struct dump_source *src, char *err, size_t errlen)
{
	struct dump_plan plan;
	struct dw_notes notes = { NULL, 0, 0 };
	uint64_t *load_off = NULL;
	int rc = -1;

	if (dump_plan_build(src, &plan) != 0) {
		errno = ENOMEM;
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (dw_build_notes(src, &plan, &notes) != 0 ||
	    (load_off = calloc(plan.dp_n + 1, sizeof(*load_off))) == NULL) {
		errno = ENOMEM;
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	uint64_t note_off = sizeof(Elf64_Ehdr) + (plan.dp_n + 1) * sizeof(Elf64_Phdr);
	/* Page-aligned data: a reader can map it, and the file stays sparse-friendly. */
	uint64_t off = (note_off + notes.n_len + DW_PAGE - 1) & ~(DW_PAGE - 1);
	for (size_t i = 0; i < plan.dp_n; i++) {
		load_off[i] = off;
		off += plan.dp_ranges[i].dr_len;
	}
	errno = 0;
	if (dw_elf_headers(fd, &plan, note_off, notes.n_len, load_off, err, errlen) != 0)
		goto out;
	if (dw_pwrite_all(fd, notes.n_buf, notes.n_len, note_off) != 0)
		goto ioerr;
	/*
	 * Straight from guest RAM. With the vCPU out of KVM_RUN the guest cannot change it,
	 * but a device thread (the swap disk's io_uring completions) may still be writing
	 * a page: that page can be torn, as on a machine that dumps with DMA in flight.
	 */
	for (size_t i = 0; i < plan.dp_n; i++) {
		const struct dump_range *r = &plan.dp_ranges[i];
		const void *host = guest_mem_ptr(src->ds_mem, r->dr_pa, r->dr_len);
		KASSERT(host != NULL, ("%s: range %#llx+%#llx is not RAM", __func__,
		    (unsigned long long)r->dr_pa, (unsigned long long)r->dr_len));
		if (dw_pwrite_all(fd, host, r->dr_len, load_off[i]) != 0)
			goto ioerr;
	}
	rc = 0;
	goto out;
ioerr:
	snprintf(err, errlen, "%s", strerror(errno));
out:
	{
		int e = errno;
		free(load_off);
		free(notes.n_buf);
		dump_plan_free(&plan);
		errno = e;
	}
	return rc;
}

int dump_write_file(const char *path, const struct dump_source *src, char *err,
    size_t errlen)
{
	struct out_file of;
	char why[256];

	/* The run's inputs were refused when the options were checked (run.c); here only
	 * what can go wrong with the file system is left. */
	if (out_file_open(&of, "--dump", path, NULL, NULL, 0, why, sizeof(why)) != 0)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "cannot write the dump %s: %s",
		    path, of.of_errno != 0 ? strerror(of.of_errno) : why);
	if (dump_write_fd(fileno(of.of_fp), src, why, sizeof(why)) != 0) {
		out_file_abort(&of);
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "cannot write the dump %s: %s",
		    path, why);
	}
	if (out_file_commit(&of, why, sizeof(why)) != 0)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "cannot write the dump %s: %s",
		    path, of.of_errno != 0 ? strerror(of.of_errno) : why);
	return 0;
}
