/*
 * The dump file checked and indexed (vmm/dump_format.h), and guest memory read out of
 * it. Nothing in the file is believed before it is checked against the file's size:
 * headers are copied out (the mapping may be unaligned), every offset + size is checked
 * without overflow, and the notes are walked with each record's length bounded by what
 * is left of its segment, and the PT_NOTEs together hold no more than the file, so
 * the work is linear in the file's size.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/dump_read.h"
#include "vmm/vmm.h"

#define DUMP_NOTE_MAX       (64u << 20)     /* a PT_NOTE larger than this is not ours */
#define DUMP_MAX_PHYS       (1ull << 52)    /* x86-64's largest physical address + 1 */

int dump_verrf(const struct dump *d, char *err, size_t errlen, const char *fmt,
    va_list ap)
{
	char what[384];

	vsnprintf(what, sizeof(what), fmt, ap);
	return vmm_errf(err, errlen, DUMP_EXIT_DATA, "%s: %s", d->d_name, what);
}

int dump_errf(const struct dump *d, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = dump_verrf(d, err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* [off, off + len) inside the file? */
static bool dump_in_file(const struct dump *d, uint64_t off, uint64_t len)
{
	return off <= d->d_size && len <= d->d_size - off;
}

static int dump_seg_cmp(const void *a, const void *b)
{
	const struct dump_seg *x = a, *y = b;

	if (x->ds_vaddr != y->ds_vaddr)
		return x->ds_vaddr < y->ds_vaddr ? -1 : 1;
	return 0;
}

static int dump_prange_cmp(const void *a, const void *b)
{
	const struct dump_prange *x = a, *y = b;

	if (x->pr_paddr != y->pr_paddr)
		return x->pr_paddr < y->pr_paddr ? -1 : 1;
	/* The longer first, so the sweep keeps it. */
	if (x->pr_size != y->pr_size)
		return x->pr_size > y->pr_size ? -1 : 1;
	return x->pr_off < y->pr_off ? -1 : x->pr_off > y->pr_off;
}

/* The physical index: the segments' p_paddr ranges, sorted, overlaps cut away. A page
 * carried twice (the KERNBASE window and the direct map) is legitimate. */
static int dump_index_phys(struct dump *d)
{
	struct dump_prange *p = calloc(d->d_nsegs > 0 ? d->d_nsegs : 1, sizeof(*p));
	unsigned n = 0;
	uint64_t covered = 0;
	bool any = false;

	if (p == NULL)
		return -1;
	for (unsigned i = 0; i < d->d_nsegs; i++)
		p[i] = (struct dump_prange){ d->d_segs[i].ds_paddr, d->d_segs[i].ds_size,
		    d->d_segs[i].ds_off };
	qsort(p, d->d_nsegs, sizeof(*p), dump_prange_cmp);
	for (unsigned i = 0; i < d->d_nsegs; i++) {
		uint64_t start = p[i].pr_paddr, end = start + p[i].pr_size;
		if (any && end <= covered)
			continue;
		if (any && start < covered) {
			p[i].pr_off += covered - start;
			start = covered;
		}
		p[n++] = (struct dump_prange){ start, end - start, p[i].pr_off };
		covered = end;
		any = true;
	}
	d->d_pranges = p;
	d->d_npranges = n;
	return 0;
}

static int dump_note_prstatus(struct dump *d, const uint8_t *desc, uint32_t descsz,
    char *err, size_t errlen)
{
	struct elf_prstatus prs;

	if (descsz < offsetof(struct elf_prstatus, pr_reg) + sizeof(prs.pr_reg))
		return dump_errf(d, err, errlen, "NT_PRSTATUS note of %u bytes is too short "
		    "(corrupt)", descsz);
	memset(&prs, 0, sizeof(prs));
	memcpy(&prs, desc, descsz < sizeof(prs) ? descsz : sizeof(prs));
	if (prs.pr_pid < 1 || prs.pr_pid > DUMP_MAX_VCPUS)
		return dump_errf(d, err, errlen, "NT_PRSTATUS names vCPU pid %d, outside 1..%d "
		    "(corrupt)", (int)prs.pr_pid, DUMP_MAX_VCPUS);
	struct dump_vcpu *v = &d->d_vcpus[prs.pr_pid - 1];
	if (v->dv_has_regs)
		return dump_errf(d, err, errlen, "two NT_PRSTATUS notes for vCPU %d (corrupt)",
		    (int)prs.pr_pid - 1);
	_Static_assert(sizeof(prs.pr_reg) == sizeof(v->dv_regs), "pr_reg is user_regs");
	memcpy(&v->dv_regs, &prs.pr_reg, sizeof(v->dv_regs));
	v->dv_has_regs = true;
	if ((unsigned)prs.pr_pid > d->d_nvcpus)
		d->d_nvcpus = (unsigned)prs.pr_pid;
	return 0;
}

static int dump_note_sregs(struct dump *d, const uint8_t *desc, uint32_t descsz,
    char *err, size_t errlen)
{
	if (descsz == 0 || descsz % sizeof(struct dump_sregs) != 0)
		return dump_errf(d, err, errlen, "NT_VMM_SREGS note of %u bytes is not a whole "
		    "number of records (corrupt)", descsz);
	for (uint32_t off = 0; off < descsz; off += sizeof(struct dump_sregs)) {
		struct dump_sregs s;
		memcpy(&s, desc + off, sizeof(s));
		if (s.dsr_vcpu >= DUMP_MAX_VCPUS)
			return dump_errf(d, err, errlen, "NT_VMM_SREGS names vCPU %u, past %d "
			    "(corrupt)", s.dsr_vcpu, DUMP_MAX_VCPUS - 1);
		struct dump_vcpu *v = &d->d_vcpus[s.dsr_vcpu];
		if (v->dv_has_sregs)
			return dump_errf(d, err, errlen, "two NT_VMM_SREGS records for vCPU %u "
			    "(corrupt)", s.dsr_vcpu);
		v->dv_sregs = s;
		v->dv_has_sregs = true;
		if (s.dsr_vcpu + 1 > d->d_nvcpus)
			d->d_nvcpus = s.dsr_vcpu + 1;
	}
	return 0;
}

static void dump_terminate(char *s, size_t n)
{
	s[n - 1] = '\0';
}

static int dump_note_vmm(struct dump *d, uint32_t type, const uint8_t *desc,
    uint32_t descsz, char *err, size_t errlen)
{
	switch (type) {
	case NT_VMM_INFO:
		if (d->d_has_info)
			return dump_errf(d, err, errlen, "two NT_VMM_INFO notes (corrupt)");
		if (descsz < sizeof(struct dump_info))
			return dump_errf(d, err, errlen, "NT_VMM_INFO note of %u bytes is too "
			    "short (corrupt)", descsz);
		memcpy(&d->d_info, desc, sizeof(d->d_info));
		if (d->d_info.di_version != DUMP_INFO_VERSION)
			return dump_errf(d, err, errlen, "NT_VMM_INFO version %u, this vmm reads "
			    "%d: read it with the vmm that wrote it", d->d_info.di_version,
			    DUMP_INFO_VERSION);
		dump_terminate(d->d_info.di_vmm_version, sizeof(d->d_info.di_vmm_version));
		dump_terminate(d->d_info.di_kernel, sizeof(d->d_info.di_kernel));
		dump_terminate(d->d_info.di_program, sizeof(d->d_info.di_program));
		dump_terminate(d->d_info.di_message, sizeof(d->d_info.di_message));
		d->d_has_info = true;
		return 0;
	case NT_VMM_SREGS:
		return dump_note_sregs(d, desc, descsz, err, errlen);
	case NT_VMM_DESC:
		if (d->d_has_desc)
			return dump_errf(d, err, errlen, "two NT_VMM_DESC notes (corrupt)");
		if (descsz < sizeof(struct dump_desc_note))
			return dump_errf(d, err, errlen, "NT_VMM_DESC note of %u bytes is too "
			    "short (corrupt)", descsz);
		memcpy(&d->d_desc, desc, sizeof(d->d_desc));
		d->d_has_desc = true;
		return 0;
	}
	return 0;       /* a note type a newer writer added */
}

/* The records of one PT_NOTE: 4-byte aligned (8 when p_align says so). */
static int dump_parse_notes(struct dump *d, const Elf64_Phdr *ph, char *err, size_t errlen)
{
	const uint8_t *p = d->d_data + ph->p_offset;
	uint64_t size = ph->p_filesz, pos = 0, a = ph->p_align == 8 ? 8 : 4;

	while (pos < size) {
		Elf64_Nhdr nh;
		if (size - pos < sizeof(nh))
			return dump_errf(d, err, errlen, "a note at file offset %llu is cut short "
			    "(truncated or corrupt)", (unsigned long long)(ph->p_offset + pos));
		memcpy(&nh, p + pos, sizeof(nh));
		uint64_t name_al = ((uint64_t)nh.n_namesz + a - 1) & ~(a - 1);
		uint64_t desc_al = ((uint64_t)nh.n_descsz + a - 1) & ~(a - 1);
		uint64_t rest = size - pos - sizeof(nh);
		if (name_al > rest || desc_al > rest - name_al || nh.n_descsz > rest - name_al)
			return dump_errf(d, err, errlen, "a note at file offset %llu runs past its "
			    "segment (truncated or corrupt)",
			    (unsigned long long)(ph->p_offset + pos));
		const uint8_t *name = p + pos + sizeof(nh), *desc = name + name_al;
		int rc = 0;
		if (nh.n_namesz == sizeof(DUMP_NOTE_OWNER) &&
		    memcmp(name, DUMP_NOTE_OWNER, sizeof(DUMP_NOTE_OWNER)) == 0)
			rc = dump_note_vmm(d, nh.n_type, desc, nh.n_descsz, err, errlen);
		else if (nh.n_namesz == 5 && memcmp(name, "CORE", 5) == 0 &&
		    nh.n_type == NT_PRSTATUS)
			rc = dump_note_prstatus(d, desc, nh.n_descsz, err, errlen);
		if (rc != 0)
			return rc;
		d->d_nnotes++;
		pos += sizeof(nh) + name_al + desc_al;
	}
	return 0;
}

/* The program header count, with the PN_XNUM escape (the real count in section 0). */
static int dump_phnum(struct dump *d, const Elf64_Ehdr *eh, uint64_t *phnum, char *err,
    size_t errlen)
{
	Elf64_Shdr sh;

	*phnum = eh->e_phnum;
	if (eh->e_phnum != PN_XNUM)
		return 0;
	if (eh->e_shentsize != sizeof(sh) || !dump_in_file(d, eh->e_shoff, sizeof(sh)))
		return dump_errf(d, err, errlen, "e_phnum is PN_XNUM but section 0 is not in "
		    "the file (truncated or corrupt)");
	memcpy(&sh, d->d_data + eh->e_shoff, sizeof(sh));
	*phnum = sh.sh_info;
	return 0;
}

static int dump_parse(struct dump *d, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	uint64_t phnum, nloads = 0;
	int rc;

	if (d->d_size < EI_NIDENT || memcmp(d->d_data, ELFMAG, SELFMAG) != 0)
		return dump_errf(d, err, errlen, "not an ELF file, so not a dump");
	if (d->d_size < sizeof(eh))
		return dump_errf(d, err, errlen, "the ELF header is cut short (truncated)");
	memcpy(&eh, d->d_data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return dump_errf(d, err, errlen, "not a 64-bit little-endian ELF file, so not a "
		    "dump of ours");
	if (eh.e_type != ET_CORE || eh.e_machine != EM_X86_64)
		return dump_errf(d, err, errlen, "an ELF file but not an x86-64 core (type %u, "
		    "machine %u): not a dump", eh.e_type, eh.e_machine);
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return dump_errf(d, err, errlen, "program headers of %u bytes, expected %zu "
		    "(corrupt)", eh.e_phentsize, sizeof(Elf64_Phdr));
	if ((rc = dump_phnum(d, &eh, &phnum, err, errlen)) != 0)
		return rc;
	if (phnum == 0)
		return dump_errf(d, err, errlen, "no program headers: not a dump of ours");
	if (phnum > d->d_size / sizeof(Elf64_Phdr) ||
	    !dump_in_file(d, eh.e_phoff, phnum * sizeof(Elf64_Phdr)))
		return dump_errf(d, err, errlen, "the %llu program headers run past the end of "
		    "the file (truncated or corrupt)", (unsigned long long)phnum);

	const uint8_t *pht = d->d_data + eh.e_phoff;
	for (uint64_t i = 0; i < phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, pht + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_filesz > 0)
			nloads++;
	}
	if (nloads > DUMP_MAX_SEGS)
		return dump_errf(d, err, errlen, "%llu PT_LOAD segments, more than a dump of ours "
		    "has (%u)", (unsigned long long)nloads, DUMP_MAX_SEGS);
	d->d_segs = calloc(nloads > 0 ? nloads : 1, sizeof(*d->d_segs));
	d->d_vcpus = calloc(DUMP_MAX_VCPUS, sizeof(*d->d_vcpus));
	if (d->d_segs == NULL || d->d_vcpus == NULL)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "%s: out of memory", d->d_name);

	for (uint64_t i = 0; i < phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, pht + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (!dump_in_file(d, ph.p_offset, ph.p_filesz))
			return dump_errf(d, err, errlen, "segment %llu (file offset %llu, %llu bytes) "
			    "runs past the end of the file (%zu bytes): truncated",
			    (unsigned long long)i, (unsigned long long)ph.p_offset,
			    (unsigned long long)ph.p_filesz, d->d_size);
		if (ph.p_type == PT_NOTE) {
			if (ph.p_filesz > DUMP_NOTE_MAX)
				return dump_errf(d, err, errlen, "a PT_NOTE of %llu bytes, more than "
				    "a dump of ours has (corrupt)",
				    (unsigned long long)ph.p_filesz);
			/* Each is walked: PT_NOTEs naming the same bytes again and again would
			 * make the walk quadratic in the file's size. Ours are disjoint. */
			if (ph.p_filesz > d->d_size - d->d_note_bytes)
				return dump_errf(d, err, errlen, "the PT_NOTEs hold more bytes than "
				    "the file: they overlap (corrupt)");
			d->d_note_bytes += ph.p_filesz;
			if ((rc = dump_parse_notes(d, &ph, err, errlen)) != 0)
				return rc;
			continue;
		}
		if (ph.p_filesz == 0)
			continue;
		/* The KERNBASE window may end at 2^64; physical memory ends below 2^52. */
		if (ph.p_vaddr > UINT64_MAX - (ph.p_filesz - 1))
			return dump_errf(d, err, errlen, "segment %llu wraps around the address "
			    "space (corrupt)", (unsigned long long)i);
		if (ph.p_paddr > DUMP_MAX_PHYS || ph.p_filesz > DUMP_MAX_PHYS - ph.p_paddr)
			return dump_errf(d, err, errlen, "segment %llu holds physical addresses "
			    "past 2^52 (corrupt)", (unsigned long long)i);
		/* Ours are equal; bytes past p_filesz would just be absent from the file. */
		if (ph.p_memsz < ph.p_filesz)
			return dump_errf(d, err, errlen, "segment %llu has p_filesz %llu > p_memsz "
			    "%llu (corrupt)", (unsigned long long)i,
			    (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
		d->d_segs[d->d_nsegs++] = (struct dump_seg){ ph.p_vaddr, ph.p_paddr, ph.p_filesz,
		    ph.p_offset };
		d->d_load_bytes += ph.p_filesz;
	}
	if (!d->d_has_info)
		return dump_errf(d, err, errlen, "an x86-64 core without the VMM notes: not a "
		    "dump of ours");
	qsort(d->d_segs, d->d_nsegs, sizeof(*d->d_segs), dump_seg_cmp);
	for (unsigned i = 1; i < d->d_nsegs; i++) {
		const struct dump_seg *a = &d->d_segs[i - 1];
		if (d->d_segs[i].ds_vaddr - a->ds_vaddr < a->ds_size)
			return dump_errf(d, err, errlen, "PT_LOAD segments overlap at virtual "
			    "address 0x%llx (corrupt)",
			    (unsigned long long)d->d_segs[i].ds_vaddr);
	}
	if (dump_index_phys(d) != 0)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "%s: out of memory", d->d_name);
	return 0;
}

int dump_open_mem(struct dump *d, const void *data, size_t size, const char *name,
    char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->d_name = name;
	d->d_data = data;
	d->d_size = size;
	int rc = dump_parse(d, err, errlen);
	if (rc != 0)
		dump_close(d);
	return rc;
}

int dump_open(struct dump *d, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(d, 0, sizeof(*d));
	if (fd < 0)
		return vmm_errf(err, errlen, VMM_EXIT_INPUT, "cannot open dump %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return vmm_errf(err, errlen, VMM_EXIT_INPUT, "cannot read dump %s: %s", path,
		    strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return vmm_errf(err, errlen, VMM_EXIT_INPUT, "cannot read dump %s: %s", path,
		    S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
	}
	void *map = NULL;
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			int e = errno;
			close(fd);
			return vmm_errf(err, errlen, VMM_EXIT_INPUT, "cannot map dump %s: %s",
			    path, strerror(e));
		}
	}
	close(fd);
	int rc = dump_open_mem(d, map != NULL ? map : "", (size_t)st.st_size, path, err,
	    errlen);
	if (rc != 0) {
		if (map != NULL)
			munmap(map, (size_t)st.st_size);
		return rc;
	}
	d->d_map = map;
	return 0;
}

void dump_close(struct dump *d)
{
	free(d->d_segs);
	free(d->d_pranges);
	free(d->d_vcpus);
	if (d->d_map != NULL)
		munmap(d->d_map, d->d_size);
	d->d_segs = NULL;
	d->d_pranges = NULL;
	d->d_vcpus = NULL;
	d->d_map = NULL;
	d->d_nsegs = d->d_npranges = d->d_nvcpus = 0;
}

/* The segment holding kernel virtual va, or NULL. */
static const struct dump_seg *dump_seg_of(const struct dump *d, uint64_t va)
{
	unsigned lo = 0, hi = d->d_nsegs;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (d->d_segs[mid].ds_vaddr <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct dump_seg *s = &d->d_segs[lo - 1];
	return va - s->ds_vaddr < s->ds_size ? s : NULL;
}

static const struct dump_prange *dump_prange_of(const struct dump *d, uint64_t pa)
{
	unsigned lo = 0, hi = d->d_npranges;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (d->d_pranges[mid].pr_paddr <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct dump_prange *r = &d->d_pranges[lo - 1];
	return pa - r->pr_paddr < r->pr_size ? r : NULL;
}

/* The longest run of file bytes at kernel virtual va, at most len (dump_pa_span's
 * counterpart through the PT_LOADs' p_vaddr). */
static const uint8_t *dump_kva_span(const struct dump *d, uint64_t va, size_t len,
    size_t *got)
{
	const struct dump_seg *s = dump_seg_of(d, va);

	*got = 0;
	if (s == NULL)
		return NULL;
	uint64_t in = va - s->ds_vaddr, n = s->ds_size - in;
	*got = n < len ? n : len;
	return d->d_data + s->ds_off + in;
}

const uint8_t *dump_pa_span(const struct dump *d, uint64_t pa, size_t len, size_t *got)
{
	const struct dump_prange *r = dump_prange_of(d, pa);

	*got = 0;
	if (r == NULL)
		return NULL;
	uint64_t in = pa - r->pr_paddr, n = r->pr_size - in;
	*got = n < len ? n : len;
	return d->d_data + r->pr_off + in;
}

/* len bytes at addr, run by run as span finds them; -1 at the first byte it has not,
 * or past 2^64. */
static int dump_copy(const struct dump *d, uint64_t addr, void *buf, size_t len,
    const uint8_t *(*span)(const struct dump *, uint64_t, size_t, size_t *))
{
	uint8_t *out = buf;

	while (len > 0) {
		size_t n;
		const uint8_t *p = span(d, addr, len, &n);
		if (p == NULL)
			return -1;
		memcpy(out, p, n);
		out += n;
		len -= n;
		if (len > 0 && addr > UINT64_MAX - n)
			return -1;
		addr += n;
	}
	return 0;
}

int dump_read_kva(const struct dump *d, uint64_t va, void *buf, size_t len)
{
	return dump_copy(d, va, buf, len, dump_kva_span);
}

int dump_read_pa(const struct dump *d, uint64_t pa, void *buf, size_t len)
{
	return dump_copy(d, pa, buf, len, dump_pa_span);
}

static int dump_walk_read(const void *ctx, uint64_t pa, void *buf, size_t len)
{
	return dump_read_pa(ctx, pa, buf, len);
}

void dump_walk(const struct dump *d, uint64_t cr3, uint64_t va, struct gva_walk *w)
{
	gva_walk(dump_walk_read, d, cr3, va, w);
}

int dump_read_kva_walk(const struct dump *d, uint64_t cr3, uint64_t va, void *buf,
    size_t len, uint64_t *bad_va)
{
	uint8_t *out = buf;

	while (len > 0) {
		struct gva_walk w;
		dump_walk(d, cr3, va, &w);
		if (w.gw_status != GVA_WALK_OK) {
			*bad_va = va;
			return -1;
		}
		uint64_t n = w.gw_page_size - (w.gw_pa & (w.gw_page_size - 1));
		if (n > len)
			n = len;
		if (dump_read_pa(d, w.gw_pa, out, n) != 0) {
			*bad_va = va;
			return -1;
		}
		out += n;
		len -= n;
		if (len > 0 && va > UINT64_MAX - n) {
			*bad_va = va;
			return -1;
		}
		va += n;
	}
	return 0;
}
