/*
 * The check of PROGRAM before boot. Parsed by hand rather than with libelf: only the ELF
 * header and the program headers matter to exec, each is copied out of the image once
 * and every offset and size is compared against the file's length without an addition
 * that could wrap. The rules are Linux's (fs/binfmt_elf.c) where Linux has one, so a
 * program Linux runs is not refused here; what Linux would only find out while mapping
 * (a segment beyond the end of the file, an entry point in no code) is refused up front.
 *
 * Order of the checks: identification (what kind of file this is at all), the header
 * (machine, type, where the program headers are), then dynamic linking before anything
 * else about the segments (a dynamic program is the common mistake and its fix is one
 * flag), then each PT_LOAD, then the whole (address range, entry point).
 */
#include <elf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vmm/program_check.h"
#include "vmm/vmm.h"

/* The headers are memcpy'd into <elf.h>'s structs: they are little-endian like us. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the VMM runs on x86-64");

/* Who is asking, and where the one line goes. */
struct pc_ctx {
	const char *pc_name;
	char *pc_err;
	size_t pc_errlen;
};

static int pc_refuse(const struct pc_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int pc_refuse(const struct pc_ctx *c, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return vmm_errf(c->pc_err, c->pc_errlen, VMM_EXIT_INPUT, "%s: %s", c->pc_name, why);
}

/* What kind of file the first bytes say this is, before trusting any ELF field. */
static int pc_check_ident(const struct pc_ctx *c, const unsigned char *b, size_t len)
{
	if (len == 0)
		return pc_refuse(c, "empty file, not a program; PROGRAM must be a static "
		    "x86-64 Linux ELF (musl-gcc -static)");
	if (len >= 2 && b[0] == '#' && b[1] == '!')
		return pc_refuse(c, "a script (#!), not a program: the guest has no "
		    "interpreter to run it; pass a static x86-64 ELF (musl-gcc -static)");
	if (len < SELFMAG || memcmp(b, ELFMAG, SELFMAG) != 0)
		return pc_refuse(c, "not an ELF file; PROGRAM must be a static x86-64 Linux "
		    "ELF (musl-gcc -static)");
	if (len < EI_NIDENT)
		return pc_refuse(c, "truncated ELF identification (%zu bytes); the file is "
		    "incomplete", len);
	if (b[EI_CLASS] == ELFCLASS32)
		return pc_refuse(c, "a 32-bit ELF (ELFCLASS32); build it for x86-64 with "
		    "musl-gcc -static (without -m32)");
	if (b[EI_CLASS] != ELFCLASS64)
		return pc_refuse(c, "ELF class %u is neither 32- nor 64-bit; the file is "
		    "corrupt", b[EI_CLASS]);
	if (b[EI_DATA] != ELFDATA2LSB)
		return pc_refuse(c, "a big-endian ELF (data encoding %u); PROGRAM must be "
		    "x86-64, which is little-endian", b[EI_DATA]);
	if (b[EI_VERSION] != EV_CURRENT)
		return pc_refuse(c, "unknown ELF version %u; the file is corrupt",
		    b[EI_VERSION]);
	if (len < sizeof(Elf64_Ehdr))
		return pc_refuse(c, "truncated ELF header (%zu of %zu bytes); the file is "
		    "incomplete", len, sizeof(Elf64_Ehdr));
	return 0;
}

/* For the message about a program built for another machine: the usual suspects. */
static const char *pc_machine_name(unsigned m)
{
	switch (m) {
	case EM_386:            return "i386";
	case EM_ARM:            return "32-bit ARM";
	case EM_AARCH64:        return "AArch64";
	case EM_RISCV:          return "RISC-V";
	case EM_PPC64:          return "PowerPC64";
	case EM_S390:           return "s390";
	case EM_MIPS:           return "MIPS";
	default:                return "another machine";
	}
}

/* Machine, type, and where the program headers lie in the file. */
static int pc_check_header(const struct pc_ctx *c, const Elf64_Ehdr *eh, size_t len)
{
	if (eh->e_machine != EM_X86_64)
		return pc_refuse(c, "built for %s (ELF machine %u), not x86-64 (%u); build it "
		    "for x86-64 with musl-gcc -static", pc_machine_name(eh->e_machine),
		    eh->e_machine, EM_X86_64);
	switch (eh->e_type) {
	case ET_EXEC:
	case ET_DYN:
		break;
	case ET_REL:
		return pc_refuse(c, "an object file (ET_REL), not a program; link it into an "
		    "executable with musl-gcc -static");
	case ET_CORE:
		return pc_refuse(c, "a core dump (ET_CORE), not a program; pass the program "
		    "itself");
	default:
		return pc_refuse(c, "ELF type %u is neither an executable (ET_EXEC) nor a "
		    "static PIE (ET_DYN); the file is corrupt", eh->e_type);
	}
	if (eh->e_phnum == 0)
		return pc_refuse(c, "no program headers, so nothing to load; link it as an "
		    "executable with musl-gcc -static");
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return pc_refuse(c, "program header entries of %u bytes, not %zu; the file is "
		    "corrupt", eh->e_phentsize, sizeof(Elf64_Phdr));
	uint64_t phbytes = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (phbytes > PROGRAM_PHDRS_MAX)
		return pc_refuse(c, "%u program headers (%llu bytes), more than the %llu bytes "
		    "Linux accepts; the file is corrupt", eh->e_phnum,
		    (unsigned long long)phbytes, PROGRAM_PHDRS_MAX);
	if (eh->e_phoff > len || phbytes > len - eh->e_phoff)
		return pc_refuse(c, "its program headers (offset 0x%llx, %u of them) lie "
		    "beyond the end of the file (0x%zx bytes); the file is truncated",
		    (unsigned long long)eh->e_phoff, eh->e_phnum, len);
	return 0;
}

static void pc_get_phdr(const unsigned char *b, const Elf64_Ehdr *eh, size_t i,
    Elf64_Phdr *ph)
{
	memcpy(ph, b + eh->e_phoff + i * sizeof(*ph), sizeof(*ph));
}

/*
 * A PT_INTERP makes the program dynamic: refused, naming the interpreter it asks for when
 * that is a short printable string inside the file (a hint, so anything else is left out).
 */
static int pc_refuse_dynamic(const struct pc_ctx *c, const unsigned char *b, size_t len,
    const Elf64_Phdr *interp)
{
	char path[81];
	size_t n = 0;

	if (interp->p_offset < len && interp->p_filesz <= len - interp->p_offset) {
		const unsigned char *s = b + interp->p_offset;
		size_t max = interp->p_filesz < sizeof(path) - 1 ? (size_t)interp->p_filesz :
		    sizeof(path) - 1;
		while (n < max && s[n] > ' ' && s[n] < 0x7f) {
			path[n] = (char)s[n];
			n++;
		}
		if (n == max || s[n] != '\0')
			n = 0;
	}
	path[n] = '\0';
	return pc_refuse(c, "PROGRAM is dynamically linked; build it with musl-gcc -static%s%s%s",
	    n > 0 ? " (it asks for the interpreter " : "", path, n > 0 ? ")" : "");
}

/* One PT_LOAD on its own: sizes, place in the file, alignment, no wrap-around. */
static int pc_check_load(const struct pc_ctx *c, const Elf64_Phdr *p, size_t i, size_t len)
{
	if (p->p_filesz > p->p_memsz)
		return pc_refuse(c, "segment %zu has a file size (0x%llx) larger than its "
		    "memory size (0x%llx); the file is corrupt", i,
		    (unsigned long long)p->p_filesz, (unsigned long long)p->p_memsz);
	if (p->p_filesz > 0 && (p->p_offset > len || p->p_filesz > len - p->p_offset))
		return pc_refuse(c, "segment %zu's bytes (offset 0x%llx, 0x%llx bytes) lie "
		    "beyond the end of the file (0x%zx bytes); the file is truncated", i,
		    (unsigned long long)p->p_offset, (unsigned long long)p->p_filesz, len);
	if ((p->p_align & (p->p_align - 1)) != 0)
		return pc_refuse(c, "segment %zu's alignment 0x%llx is not a power of two; the "
		    "file is corrupt", i, (unsigned long long)p->p_align);
	/* Exec maps a segment's file bytes page by page from its file offset: the two must
	 * agree below the page size (and below p_align, as the ELF specification requires).
	 * A segment with no file bytes is anonymous memory, as Linux maps it. */
	uint64_t align = p->p_align > PROGRAM_PAGE ? p->p_align : PROGRAM_PAGE;
	if (p->p_filesz > 0 && ((p->p_vaddr - p->p_offset) & (align - 1)) != 0)
		return pc_refuse(c, "segment %zu's address 0x%llx and file offset 0x%llx differ "
		    "modulo 0x%llx, so it cannot be mapped page by page; relink it", i,
		    (unsigned long long)p->p_vaddr, (unsigned long long)p->p_offset,
		    (unsigned long long)align);
	if (p->p_memsz > UINT64_MAX - p->p_vaddr)
		return pc_refuse(c, "segment %zu at 0x%llx with size 0x%llx wraps around the "
		    "address space; the file is corrupt", i, (unsigned long long)p->p_vaddr,
		    (unsigned long long)p->p_memsz);
	return 0;
}

/* What the walk over the PT_LOADs found, for the checks of the whole. */
struct pc_loads {
	unsigned pl_count;
	uint64_t pl_lo, pl_hi;          /* lowest address, end of the highest segment */
	bool pl_entry_found;
	size_t pl_entry_seg;
	bool pl_entry_exec;
};

static int pc_walk_loads(const struct pc_ctx *c, const unsigned char *b, size_t len,
    const Elf64_Ehdr *eh, struct pc_loads *pl)
{
	Elf64_Phdr prev = { 0 };
	size_t prev_i = 0;
	int rc;

	memset(pl, 0, sizeof(*pl));
	for (size_t i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr p;

		pc_get_phdr(b, eh, i, &p);
		/* An empty PT_LOAD maps nothing; Linux skips it too. */
		if (p.p_type != PT_LOAD || p.p_memsz == 0)
			continue;
		if ((rc = pc_check_load(c, &p, i, len)) != 0)
			return rc;
		/* Exec sizes the whole image from the first and the last: they must ascend. */
		if (pl->pl_count > 0 && p.p_vaddr < prev.p_vaddr + prev.p_memsz)
			return pc_refuse(c, "segment %zu (0x%llx-0x%llx) overlaps or comes before "
			    "segment %zu (0x%llx-0x%llx); loadable segments must ascend without "
			    "overlapping", i, (unsigned long long)p.p_vaddr,
			    (unsigned long long)(p.p_vaddr + p.p_memsz), prev_i,
			    (unsigned long long)prev.p_vaddr,
			    (unsigned long long)(prev.p_vaddr + prev.p_memsz));
		if (pl->pl_count == 0)
			pl->pl_lo = p.p_vaddr;
		pl->pl_hi = p.p_vaddr + p.p_memsz;
		/* Code runs from the file's bytes: an entry in a .bss is no entry. */
		if (eh->e_entry >= p.p_vaddr && eh->e_entry - p.p_vaddr < p.p_filesz) {
			pl->pl_entry_found = true;
			pl->pl_entry_seg = i;
			pl->pl_entry_exec = (p.p_flags & PF_X) != 0;
		}
		pl->pl_count++;
		prev = p;
		prev_i = i;
	}
	return 0;
}

/* The image as a whole: something to load, inside user space, starting in code. */
static int pc_check_image(const struct pc_ctx *c, const Elf64_Ehdr *eh,
    const struct pc_loads *pl)
{
	if (pl->pl_count == 0)
		return pc_refuse(c, "no loadable segment (PT_LOAD), so nothing to run; link it "
		    "as an executable with musl-gcc -static");
	uint64_t lo = pl->pl_lo & ~(PROGRAM_PAGE - 1);
	if (eh->e_type == ET_EXEC) {
		if (lo < PROGRAM_VADDR_MIN)
			return pc_refuse(c, "its first segment is at 0x%llx, below 0x%llx, the "
			    "lowest address a program may map; link it higher (a static link "
			    "puts it at 0x400000)", (unsigned long long)pl->pl_lo,
			    PROGRAM_VADDR_MIN);
		if (pl->pl_hi > PROGRAM_USER_END)
			return pc_refuse(c, "its segments end at 0x%llx, beyond the user address "
			    "space (which ends at 0x%llx); link it lower",
			    (unsigned long long)pl->pl_hi, PROGRAM_USER_END);
	} else if (pl->pl_hi - lo > PROGRAM_USER_END - PROGRAM_VADDR_MIN) {
		/* A static PIE goes wherever exec puts it: only its span must fit. */
		return pc_refuse(c, "its segments span 0x%llx bytes, more than the user address "
		    "space (0x%llx-0x%llx) holds; the file is corrupt",
		    (unsigned long long)(pl->pl_hi - lo), PROGRAM_VADDR_MIN, PROGRAM_USER_END);
	}
	if (!pl->pl_entry_found)
		return pc_refuse(c, "its entry point 0x%llx is outside the file bytes of every "
		    "loadable segment; the file is corrupt", (unsigned long long)eh->e_entry);
	if (!pl->pl_entry_exec)
		return pc_refuse(c, "its entry point 0x%llx is in segment %zu, which is not "
		    "executable; the file is corrupt", (unsigned long long)eh->e_entry,
		    pl->pl_entry_seg);
	return 0;
}

int program_check(const char *name, const void *image, size_t len, char *err,
    size_t errlen)
{
	const struct pc_ctx c = { .pc_name = name, .pc_err = err, .pc_errlen = errlen };
	const unsigned char *b = image;
	Elf64_Ehdr eh;
	struct pc_loads pl;
	int rc;

	if ((rc = pc_check_ident(&c, b, len)) != 0)
		return rc;
	memcpy(&eh, b, sizeof(eh));
	if ((rc = pc_check_header(&c, &eh, len)) != 0)
		return rc;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr p;

		pc_get_phdr(b, &eh, i, &p);
		if (p.p_type == PT_INTERP)
			return pc_refuse_dynamic(&c, b, len, &p);
	}
	if ((rc = pc_walk_loads(&c, b, len, &eh, &pl)) != 0)
		return rc;
	return pc_check_image(&c, &eh, &pl);
}
