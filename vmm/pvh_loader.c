/*
 * PVH loader. Order of work: check the ELF identification by hand (so libelf never has
 * to convert the image in place: we only hand it little-endian ELF64), let libelf find
 * the program headers and notes, validate every PT_LOAD against guest RAM and the boot
 * structures, then copy (a kernel file is read straight into guest RAM, a .bss is
 * discarded rather than stored to: `vmm run` start-up is benchmarked). Boot structures
 * live below 1 MiB (devices/pvh.h), so a kernel segment there is refused outright.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/cli.h"
#include "vmm/guest_mem.h"
#include "vmm/input_file.h"
#include "vmm/pvh_loader.h"
#include "vmm/vmm.h"

#define PVH_PAGE                4096ull
#define PVH_MAX_MODULES         4
#define PVH_MODLIST_OFF         0x40    /* within the start-info page */
#define PVH_MEMMAP_OFF          0x100

_Static_assert(sizeof(struct hvm_start_info) <= PVH_MODLIST_OFF, "start info overlaps");
_Static_assert(PVH_MODLIST_OFF + PVH_MAX_MODULES * sizeof(struct hvm_modlist_entry) <=
    PVH_MEMMAP_OFF, "module list overlaps the memory map");
_Static_assert(PVH_MEMMAP_OFF + PVH_MAX_MEMMAP * sizeof(struct hvm_memmap_table_entry) <=
    PVH_PAGE, "memory map does not fit in its page");
_Static_assert(PVH_INFO_PADDR + PVH_PAGE <= PVH_CMDLINE_PADDR &&
    PVH_CMDLINE_PADDR + PVH_CMDLINE_MAX <= PVH_BOOT_END, "boot structures overlap");

/* Every failure here means the same exit status. */
#define pvh_fail(err, errlen, ...)  vmm_errf(err, errlen, VMM_EXIT_INPUT, __VA_ARGS__)

static uint64_t pvh_page_up(uint64_t x)
{
	return (x + PVH_PAGE - 1) & ~(PVH_PAGE - 1);
}

/* Search one block of notes for the PVH entry. => true with *entry set when found. */
static bool pvh_scan_notes(Elf_Data *d, uint32_t *entry, bool *bad_desc)
{
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off, next;

	while (off < d->d_size &&
	    (next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		const char *name = (const char *)d->d_buf + name_off;
		const unsigned char *desc = (const unsigned char *)d->d_buf + desc_off;

		off = next;
		if (nh.n_type != XEN_ELFNOTE_PHYS32_ENTRY ||
		    nh.n_namesz != sizeof(PVH_NOTE_OWNER) ||
		    memcmp(name, PVH_NOTE_OWNER, sizeof(PVH_NOTE_OWNER)) != 0)
			continue;
		if (nh.n_descsz != 4 && nh.n_descsz != 8) {
			*bad_desc = true;
			continue;
		}
		/* A 32- or 64-bit little-endian value; the entry is its low 32 bits. */
		*entry = (uint32_t)desc[0] | (uint32_t)desc[1] << 8 | (uint32_t)desc[2] << 16 |
		    (uint32_t)desc[3] << 24;
		return true;
	}
	return false;
}

/* The PVH entry from PT_NOTE segments, else from SHT_NOTE sections. */
static int pvh_find_entry(Elf *elf, const Elf64_Phdr *ph, size_t phnum, uint32_t *entry,
    char *err, size_t errlen)
{
	bool bad_desc = false;

	for (size_t i = 0; i < phnum; i++) {
		if (ph[i].p_type != PT_NOTE || ph[i].p_filesz == 0)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph[i].p_offset,
		    ph[i].p_filesz, ph[i].p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (d == NULL)
			return pvh_fail(err, errlen, "note segment %zu lies outside the file "
			    "(%s); the file is truncated or corrupt", i, elf_errmsg(-1));
		if (pvh_scan_notes(d, entry, &bad_desc))
			return 0;
	}
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL; scn = elf_nextscn(elf, scn)) {
		Elf64_Shdr *sh = elf64_getshdr(scn);
		if (sh == NULL || sh->sh_type != SHT_NOTE)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (d != NULL && pvh_scan_notes(d, entry, &bad_desc))
			return 0;
	}
	if (bad_desc)
		return pvh_fail(err, errlen, "its Xen PHYS32_ENTRY note has a descriptor that "
		    "is neither 4 nor 8 bytes; fix the note in the kernel's entry code");
	return pvh_fail(err, errlen, "no PVH entry note (owner \"Xen\", type %d "
	    "XEN_ELFNOTE_PHYS32_ENTRY); is this a PVH kernel? pass one with -k",
	    XEN_ELFNOTE_PHYS32_ENTRY);
}

/* Check one PT_LOAD against the file, RAM and the boot area. */
static int pvh_check_segment(const struct guest_mem *gm, const Elf64_Phdr *p, size_t i,
    size_t len, char *err, size_t errlen)
{
	if (p->p_filesz > p->p_memsz)
		return pvh_fail(err, errlen, "segment %zu has a file size (0x%llx) larger than "
		    "its memory size (0x%llx); the ELF file is corrupt", i,
		    (unsigned long long)p->p_filesz, (unsigned long long)p->p_memsz);
	if (p->p_offset > len || p->p_filesz > len - p->p_offset)
		return pvh_fail(err, errlen, "segment %zu's data (offset 0x%llx, 0x%llx bytes) "
		    "lies beyond the end of the file (0x%zx bytes); the file is truncated", i,
		    (unsigned long long)p->p_offset, (unsigned long long)p->p_filesz, len);
	if (p->p_paddr + p->p_memsz < p->p_paddr)
		return pvh_fail(err, errlen, "segment %zu at 0x%llx with size 0x%llx wraps "
		    "around the address space; the ELF file is corrupt", i,
		    (unsigned long long)p->p_paddr, (unsigned long long)p->p_memsz);
	if (p->p_paddr < PVH_KERNEL_MIN_PADDR)
		return pvh_fail(err, errlen, "segment %zu at physical 0x%llx is below 0x%llx, "
		    "where the boot structures live; link the kernel at or above 1 MiB", i,
		    (unsigned long long)p->p_paddr, (unsigned long long)PVH_KERNEL_MIN_PADDR);
	if (guest_mem_ptr(gm, p->p_paddr, p->p_memsz) != NULL)
		return 0;
	uint64_t end = p->p_paddr + p->p_memsz;
	/* Where no -m could help, say why instead of asking for more memory. */
	if (p->p_paddr < PVH_HIGHMEM_START && end > PVH_PCI_HOLE_START)
		return pvh_fail(err, errlen, "segment %zu (physical 0x%llx-0x%llx) overlaps "
		    "the PCI hole (0x%llx-0x%llx), which is never RAM; link the kernel below "
		    "3 GiB", i, (unsigned long long)p->p_paddr, (unsigned long long)end,
		    (unsigned long long)PVH_PCI_HOLE_START, (unsigned long long)PVH_HIGHMEM_START);
	uint64_t most = CLI_MEM_MAX - PVH_PCI_HOLE_START + PVH_HIGHMEM_START;
	if (end > most)
		return pvh_fail(err, errlen, "segment %zu (physical 0x%llx-0x%llx) lies above "
		    "the most RAM a guest can have (-m %lluG ends at 0x%llx); link the kernel "
		    "lower", i, (unsigned long long)p->p_paddr, (unsigned long long)end,
		    (unsigned long long)(CLI_MEM_MAX >> 30), (unsigned long long)most);
	if (p->p_paddr < PVH_PCI_HOLE_START)
		return pvh_fail(err, errlen, "segment %zu (physical 0x%llx-0x%llx) does not fit "
		    "in guest RAM (%llu MiB); use -m %lluM or more", i,
		    (unsigned long long)p->p_paddr, (unsigned long long)end,
		    (unsigned long long)(gm->gm_ram_size >> 20),
		    (unsigned long long)((end + (1 << 20) - 1) >> 20));
	return pvh_fail(err, errlen, "segment %zu (physical 0x%llx-0x%llx) does not fit in "
	    "guest RAM (%llu MiB); use -m %lluM or more (RAM above 3 GiB starts at 4 GiB)", i,
	    (unsigned long long)p->p_paddr, (unsigned long long)end,
	    (unsigned long long)(gm->gm_ram_size >> 20),
	    (unsigned long long)((end - PVH_HIGHMEM_START + PVH_PCI_HOLE_START +
	    (1 << 20) - 1) >> 20));
}

/*
 * Zero guest-physical [pa, pa + len) (RAM, checked): stores up to the first page
 * boundary and after the last, the whole pages in between discarded. Fresh RAM is zero
 * already, but a kernel may be loaded over used RAM (tests); storing zeros into a
 * kernel's half-MiB .bss would fault in a hundred host pages the guest never touches.
 */
static void pvh_zero(struct guest_mem *gm, uint64_t pa, uint64_t len)
{
	uint64_t to_boundary = pvh_page_up(pa) - pa;
	uint64_t head = len < to_boundary ? len : to_boundary;
	uint64_t whole = (len - head) & ~(PVH_PAGE - 1);
	uint8_t *p = guest_mem_ptr(gm, pa, len);

	KASSERT(p != NULL, ("%s: range was checked", __func__));
	memset(p, 0, head);
	if (whole != 0 && guest_mem_discard(gm, pa + head, whole) != 0)
		memset(p + head, 0, whole);
	memset(p + head + whole, 0, len - head - whole);
}

/* Everything about the ELF header that we check by hand before libelf sees it. */
static int pvh_check_ident(const unsigned char *b, size_t len, char *err, size_t errlen)
{
	if (len < SELFMAG || memcmp(b, ELFMAG, SELFMAG) != 0)
		return pvh_fail(err, errlen, "not an ELF file; pass a PVH kernel ELF with -k");
	if (len < sizeof(Elf64_Ehdr))
		return pvh_fail(err, errlen, "truncated ELF header (%zu bytes); the file is "
		    "incomplete, rebuild the kernel", len);
	if (b[EI_CLASS] != ELFCLASS64)
		return pvh_fail(err, errlen, "ELF class %u is not ELF64; the kernel must be a "
		    "64-bit x86-64 ELF", b[EI_CLASS]);
	if (b[EI_DATA] != ELFDATA2LSB)
		return pvh_fail(err, errlen, "not a little-endian ELF; the kernel must be a "
		    "64-bit x86-64 ELF");
	if (b[EI_VERSION] != EV_CURRENT)
		return pvh_fail(err, errlen, "unknown ELF version %u; the file is corrupt",
		    b[EI_VERSION]);
	return 0;
}

/*
 * Copy a segment's file bytes into guest RAM at dst: from the image in memory, or with
 * pread() from fd (the file the image maps) when fd >= 0. pread copies from the page
 * cache straight into guest RAM: the mapping's pages are never faulted in.
 */
static int pvh_copy_segment(uint8_t *dst, const uint8_t *buf, int fd, const Elf64_Phdr *p,
    char *err, size_t errlen)
{
	if (fd < 0) {
		memcpy(dst, buf + p->p_offset, p->p_filesz);
		return 0;
	}
	for (uint64_t done = 0; done < p->p_filesz;) {
		ssize_t n = pread(fd, dst + done, (size_t)(p->p_filesz - done),
		    (off_t)(p->p_offset + done));
		if (n <= 0)
			return pvh_fail(err, errlen, "read failed: %s", n < 0 ? strerror(errno) :
			    "the file shrank while being loaded");
		done += (uint64_t)n;
	}
	return 0;
}

/* pvh_load_image, reading the segments from fd when it is not -1 (see above). */
static int pvh_load(struct guest_mem *gm, const void *buf, size_t len, int fd,
    struct pvh_image *out, char *err, size_t errlen)
{
	int rc;
	Elf *elf = NULL;

	memset(out, 0, sizeof(*out));
	if ((rc = pvh_check_ident(buf, len, err, errlen)) != 0)
		return rc;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return pvh_fail(err, errlen, "libelf is out of date: %s", elf_errmsg(-1));
	/* Read-only use: the image is native-endian, so libelf points into it. */
	elf = elf_memory((char *)(uintptr_t)buf, len);
	if (elf == NULL || elf_kind(elf) != ELF_K_ELF) {
		rc = pvh_fail(err, errlen, "unreadable ELF file (%s); rebuild the kernel",
		    elf_errmsg(-1));
		goto out;
	}
	Elf64_Ehdr *eh = elf64_getehdr(elf);
	if (eh == NULL) {
		rc = pvh_fail(err, errlen, "unreadable ELF header (%s)", elf_errmsg(-1));
		goto out;
	}
	if (eh->e_machine != EM_X86_64) {
		rc = pvh_fail(err, errlen, "ELF machine %u is not x86-64 (%u); build the kernel "
		    "for x86-64", eh->e_machine, EM_X86_64);
		goto out;
	}
	if (eh->e_type != ET_EXEC) {
		rc = pvh_fail(err, errlen, "ELF type %u is not an executable (ET_EXEC); link "
		    "the kernel as a static non-PIE executable", eh->e_type);
		goto out;
	}
	size_t phnum;
	Elf64_Phdr *ph;
	if (elf_getphdrnum(elf, &phnum) != 0 || phnum == 0 ||
	    (ph = elf64_getphdr(elf)) == NULL) {
		rc = pvh_fail(err, errlen, "no readable program headers (%s); the file is "
		    "truncated or not a loadable kernel", phnum == 0 ? "none" : elf_errmsg(-1));
		goto out;
	}

	uint32_t entry;
	if ((rc = pvh_find_entry(elf, ph, phnum, &entry, err, errlen)) != 0)
		goto out;

	/*
	 * Validate every segment before writing any, each from a private copy of its
	 * header: the program headers lie in a MAP_PRIVATE mapping of the file, which
	 * shows whatever another process writes to the file until we write to the page,
	 * so a header read again after its check could say something else.
	 */
	Elf64_Phdr loads[PVH_MAX_SEGMENTS];
	unsigned nloads = 0;
	bool entry_ok = false;
	for (size_t i = 0; i < phnum; i++) {
		Elf64_Phdr seg, *p = &seg;

		memcpy(&seg, &ph[i], sizeof(seg));
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		if (nloads == PVH_MAX_SEGMENTS) {
			rc = pvh_fail(err, errlen, "more than %d loadable segments; link the "
			    "kernel with fewer", PVH_MAX_SEGMENTS);
			goto out;
		}
		if ((rc = pvh_check_segment(gm, p, i, len, err, errlen)) != 0)
			goto out;
		for (unsigned j = 0; j < nloads; j++) {
			const Elf64_Phdr *q = &loads[j];
			if (p->p_paddr < q->p_paddr + q->p_memsz &&
			    q->p_paddr < p->p_paddr + p->p_memsz) {
				rc = pvh_fail(err, errlen, "segment %zu (physical 0x%llx-0x%llx) "
				    "overlaps another loadable segment; fix the kernel's linker "
				    "script", i, (unsigned long long)p->p_paddr,
				    (unsigned long long)(p->p_paddr + p->p_memsz));
				goto out;
			}
		}
		if (entry >= p->p_paddr && entry - p->p_paddr < p->p_memsz)
			entry_ok = true;
		loads[nloads++] = seg;
	}
	if (nloads == 0) {
		rc = pvh_fail(err, errlen, "no loadable segments; is this a kernel?");
		goto out;
	}
	if (!entry_ok) {
		rc = pvh_fail(err, errlen, "the PVH entry point 0x%x is outside every loadable "
		    "segment; fix the PHYS32_ENTRY note", entry);
		goto out;
	}

	out->pi_entry = entry;
	out->pi_nsegs = nloads;
	out->pi_start = UINT64_MAX;
	for (unsigned j = 0; j < nloads; j++) {
		const Elf64_Phdr *p = &loads[j];
		uint8_t *dst = guest_mem_ptr(gm, p->p_paddr, p->p_memsz);

		KASSERT(dst != NULL, ("%s: segment %u was checked", __func__, j));
		/* One system call faults in the destination instead of a fault per page. */
		(void)guest_mem_populate(gm, p->p_paddr, p->p_filesz);
		if ((rc = pvh_copy_segment(dst, buf, fd, p, err, errlen)) != 0)
			goto out;
		pvh_zero(gm, p->p_paddr + p->p_filesz, p->p_memsz - p->p_filesz);
		if (p->p_paddr < out->pi_start)
			out->pi_start = p->p_paddr;
		if (p->p_paddr + p->p_memsz > out->pi_end)
			out->pi_end = p->p_paddr + p->p_memsz;
	}
	rc = 0;
out:
	if (elf != NULL)
		elf_end(elf);
	return rc;
}

int pvh_load_image(struct guest_mem *gm, const void *buf, size_t len, struct pvh_image *out,
    char *err, size_t errlen)
{
	return pvh_load(gm, buf, len, -1, out, err, errlen);
}

/* Prefix a loader message with the file name it is about. */
static void pvh_prefix(char *err, size_t errlen, const char *path)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", err);
	snprintf(err, errlen, "%s: %s", path, msg);
}

/* Where a SIGBUS while reading a mapped kernel file goes: the file shrank under us. */
static sigjmp_buf pvh_sigbus_jmp;

static void pvh_sigbus(int sig)
{
	(void)sig;
	siglongjmp(pvh_sigbus_jmp, 1);
}

int pvh_load_mapped(struct guest_mem *gm, const void *map, size_t len, int fd,
    struct pvh_image *out, char *err, size_t errlen)
{
	struct sigaction sa = { .sa_handler = pvh_sigbus }, old;
	volatile int rc = VMM_EXIT_INPUT;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old) != 0)
		return pvh_fail(err, errlen, "cannot guard the read: %s", strerror(errno));
	/* libelf's state is abandoned on the jump; the process is about to report the
	 * error and exit. */
	if (sigsetjmp(pvh_sigbus_jmp, 1) == 0)
		rc = pvh_load(gm, map, len, fd, out, err, errlen);
	else
		rc = pvh_fail(err, errlen, "the file shrank while being loaded (is it being "
		    "rebuilt?); run again");
	sigaction(SIGBUS, &old, NULL);
	return rc;
}

int pvh_load_kernel_file(struct guest_mem *gm, const char *path, struct pvh_image *out,
    char *err, size_t errlen)
{
	struct stat st;
	int rc, fd;

	if ((rc = input_open(path, "pass the guest kernel ELF with -k FILE (make builds "
	    "build/kernel.elf)", &st, &fd, err, errlen)) != 0)
		return rc;
	if (st.st_size == 0) {
		close(fd);
		/* Not "rebuild the kernel": /proc files are empty too. */
		return pvh_fail(err, errlen, "%s: empty file, not a kernel; pass the guest "
		    "kernel ELF with -k FILE (make builds build/kernel.elf)", path);
	}
	/*
	 * Mapped for libelf, which reads only the headers and notes: most of the file is
	 * debug information, so no MAP_POPULATE. The segments are pread() into guest RAM.
	 */
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		int e = errno;
		const char *res = vmm_errno_resource(e);
		close(fd);
		if (res != NULL)
			return vmm_errf(err, errlen, VMM_EXIT_HOST, "%s: cannot map it: %s: %s",
			    path, strerror(e), res);
		return pvh_fail(err, errlen, "%s: cannot map it: %s", path, strerror(e));
	}
	rc = pvh_load_mapped(gm, map, (size_t)st.st_size, fd, out, err, errlen);
	munmap(map, (size_t)st.st_size);
	close(fd);
	if (rc != 0)
		pvh_prefix(err, errlen, path);
	return rc;
}

/*
 * Where a module of len bytes and its command line go: the command line first, right
 * after next, then the module's bytes. The guest reads the command line while only its
 * first GiB is mapped and the bytes much later, through the direct map: so a PROGRAM as
 * large as RAM allows never puts its command line out of the boot map's reach.
 * => 0, or -1 if not in RAM.
 */
static int pvh_module_layout(const struct guest_mem *gm, uint64_t next, uint64_t len,
    const char *cmdline, struct hvm_modlist_entry *mod)
{
	uint64_t at = pvh_page_up(next);

	memset(mod, 0, sizeof(*mod));
	if (at < next)
		return -1;
	if (cmdline != NULL) {
		size_t cl = strlen(cmdline) + 1;
		if (guest_mem_ptr(gm, at, cl) == NULL)
			return -1;
		mod->cmdline_paddr = at;
		at = pvh_page_up(at + cl);
	}
	if (guest_mem_ptr(gm, at, len) == NULL)
		return -1;
	mod->paddr = at;
	mod->size = len;
	return 0;
}

static uint64_t pvh_module_end(const struct hvm_modlist_entry *mod)
{
	return mod->paddr + mod->size;
}

/* The most bytes a module could have after next (command line included): for messages. */
static uint64_t pvh_module_room(const struct guest_mem *gm, uint64_t next, const char *cmdline)
{
	uint64_t at = pvh_page_up(next);

	if (cmdline != NULL)
		at = pvh_page_up(at + strlen(cmdline) + 1);
	for (unsigned i = 0; i < gm->gm_nslots; i++) {
		const struct guest_mem_slot *s = &gm->gm_slots[i];
		if (at >= s->gms_gpa && at - s->gms_gpa <= s->gms_size)
			return s->gms_size - (at - s->gms_gpa);
	}
	return 0;
}

int pvh_place_module(struct guest_mem *gm, uint64_t *next, const void *buf, size_t len,
    const char *cmdline, struct hvm_modlist_entry *mod, char *err, size_t errlen)
{
	if (pvh_module_layout(gm, *next, len, cmdline, mod) != 0)
		return pvh_fail(err, errlen, "module of %zu bytes does not fit in guest RAM "
		    "after the kernel; use a larger -m", len);
	if (len > 0)
		memcpy(guest_mem_ptr(gm, mod->paddr, len), buf, len);
	if (cmdline != NULL)
		memcpy(guest_mem_ptr(gm, mod->cmdline_paddr, strlen(cmdline) + 1), cmdline,
		    strlen(cmdline) + 1);
	*next = pvh_module_end(mod);
	return 0;
}

int pvh_load_module_file(struct guest_mem *gm, uint64_t *next, const char *path,
    const char *cmdline, struct hvm_modlist_entry *mod, char *err, size_t errlen)
{
	struct stat st;
	int rc, fd;

	if ((rc = input_open(path, "PROGRAM must be a static x86-64 Linux ELF program",
	    &st, &fd, err, errlen)) != 0)
		return rc;
	uint64_t len = (uint64_t)st.st_size;
	if (pvh_module_layout(gm, *next, len, cmdline, mod) != 0) {
		close(fd);
		/* Below 4 GiB RAM ends at the PCI hole: there a larger -m does not help. */
		bool capped = gm->gm_ram_size >= PVH_PCI_HOLE_START;
		return pvh_fail(err, errlen, "%s: %llu bytes do not fit in guest RAM after the "
		    "kernel (%llu bytes do with this -m%s); %s", path, (unsigned long long)len,
		    (unsigned long long)pvh_module_room(gm, *next, cmdline),
		    capped ? ", the most any -m allows" : "",
		    capped ? "PROGRAM must be smaller" : "use a larger -m");
	}
	/* Straight into guest RAM: no host buffer, no second copy. */
	uint8_t *dst = guest_mem_ptr(gm, mod->paddr, len);
	for (uint64_t done = 0; done < len;) {
		ssize_t n = read(fd, dst + done, (size_t)(len - done));
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			return pvh_fail(err, errlen, "%s: read failed: %s", path,
			    n < 0 ? strerror(e) : "the file shrank while being read");
		}
		done += (uint64_t)n;
	}
	close(fd);
	if (cmdline != NULL)
		memcpy(guest_mem_ptr(gm, mod->cmdline_paddr, strlen(cmdline) + 1), cmdline,
		    strlen(cmdline) + 1);
	*next = pvh_module_end(mod);
	return 0;
}

unsigned pvh_build_memmap(const struct guest_mem *gm, struct hvm_memmap_table_entry *map,
    unsigned max)
{
	unsigned n = 0;
	uint64_t low_end = guest_mem_low_end(gm);

	KASSERT(max >= 4, ("%s: room for %u entries only", __func__, max));
	KASSERT(low_end >= PVH_KERNEL_MIN_PADDR, ("%s: less than 1 MiB of RAM", __func__));
	memset(map, 0, max * sizeof(*map));
	map[n++] = (struct hvm_memmap_table_entry){ 0, PVH_LOWMEM_END, E820_RAM, 0 };
	map[n++] = (struct hvm_memmap_table_entry){ PVH_LOWMEM_END,
		PVH_KERNEL_MIN_PADDR - PVH_LOWMEM_END, E820_RESERVED, 0 };
	if (low_end > PVH_KERNEL_MIN_PADDR)
		map[n++] = (struct hvm_memmap_table_entry){ PVH_KERNEL_MIN_PADDR,
			low_end - PVH_KERNEL_MIN_PADDR, E820_RAM, 0 };
	for (unsigned i = 1; i < gm->gm_nslots; i++)
		map[n++] = (struct hvm_memmap_table_entry){ gm->gm_slots[i].gms_gpa,
			gm->gm_slots[i].gms_size, E820_RAM, 0 };
	return n;
}

int pvh_write_start_info(struct guest_mem *gm, const char *cmdline,
    const struct hvm_modlist_entry *mods, unsigned nmods, char *err, size_t errlen)
{
	size_t cl = strlen(cmdline);

	if (cl >= PVH_CMDLINE_MAX) {
		return vmm_errf(err, errlen, VMM_EXIT_USAGE, "the guest command line is %zu "
		    "bytes, more than %u; shorten --append", cl, PVH_CMDLINE_MAX - 1);
	}
	if (nmods > PVH_MAX_MODULES)
		return pvh_fail(err, errlen, "%u modules, more than %d", nmods, PVH_MAX_MODULES);

	uint8_t *page = guest_mem_ptr(gm, PVH_INFO_PADDR, PVH_PAGE);
	char *line = guest_mem_ptr(gm, PVH_CMDLINE_PADDR, PVH_CMDLINE_MAX);
	KASSERT(page != NULL && line != NULL, ("%s: RAM below 1 MiB missing", __func__));

	struct hvm_memmap_table_entry map[PVH_MAX_MEMMAP];
	unsigned nmap = pvh_build_memmap(gm, map, PVH_MAX_MEMMAP);
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = HVM_START_VERSION,
		.nr_modules = nmods,
		.modlist_paddr = nmods > 0 ? PVH_INFO_PADDR + PVH_MODLIST_OFF : 0,
		.cmdline_paddr = PVH_CMDLINE_PADDR,
		.memmap_paddr = PVH_INFO_PADDR + PVH_MEMMAP_OFF,
		.memmap_entries = nmap,
	};
	memset(page, 0, PVH_PAGE);
	memcpy(page, &si, sizeof(si));
	if (nmods > 0)
		memcpy(page + PVH_MODLIST_OFF, mods, nmods * sizeof(*mods));
	memcpy(page + PVH_MEMMAP_OFF, map, nmap * sizeof(*map));
	memcpy(line, cmdline, cl + 1);
	return 0;
}
