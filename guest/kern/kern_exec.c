/*
 * exec of a static x86-64 ELF (ET_EXEC, or ET_DYN as a static PIE at PROC_PIE_BASE) from
 * PVH module 0 into a fresh address space: each PT_LOAD mapped anonymous and private,
 * its file bytes copied in, its protection set (a page two segments share gets both);
 * the break after the highest segment; a stack with argc, argv, envp (both from module
 * 0's command line, devices/pvh_args.h) and the auxiliary vector Linux's loader gives
 * a static program.
 *
 * The VMM checked the image before boot (vmm/program_check.c); it is checked again here,
 * as everything that crosses into the kernel is: a bad one is a one-line refusal.
 */
#include "amd64/cpufunc.h"
#include "amd64/tsc.h"
#include "amd64/vmparam.h"
#include "devices/pvh_args.h"
#include "kern/bootinfo.h"
#include "kern/proc.h"
#include "kern/systm.h"

#include "vm/vm_mmap.h"
#include "vm/vm_vmspace.h"

#define EI_NIDENT   16
#define PT_LOAD     1
#define PT_INTERP   3
#define PF_X        1
#define PF_W        2
#define PF_R        4
#define ET_EXEC     2
#define ET_DYN      3
#define EM_X86_64   62

#define AT_NULL     0
#define AT_PHDR     3
#define AT_PHENT    4
#define AT_PHNUM    5
#define AT_PAGESZ   6
#define AT_BASE     7
#define AT_FLAGS    8
#define AT_ENTRY    9
#define AT_UID      11
#define AT_EUID     12
#define AT_GID      13
#define AT_EGID     14
#define AT_PLATFORM 15
#define AT_HWCAP    16
#define AT_CLKTCK   17
#define AT_SECURE   23
#define AT_RANDOM   25
#define AT_EXECFN   31

struct exec_ehdr {
	uint8_t e_ident[EI_NIDENT];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct exec_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

static int exec_prot(uint32_t flags)
{
	return (flags & PF_R ? LINUX_PROT_READ : 0) | (flags & PF_W ? LINUX_PROT_WRITE : 0) |
	    (flags & PF_X ? LINUX_PROT_EXEC : 0);
}

/* The image's one-line refusal. => 66 (the VMM's "bad input"), msg filled. */
static int exec_bad(char *msg, size_t len, const char *why)
{
	snprintf(msg, len, "cannot run the program: %s", why);
	return 66;
}

/* Push len bytes onto the new stack at *sp (moving it down). => 0 or -EFAULT. */
static int exec_push(uint64_t *sp, const void *src, uint64_t len)
{
	*sp -= len;
	return copyout(src, (void *)(uintptr_t)*sp, len);
}

int proc_exec_module0(struct proc *p, uint64_t *entry, uint64_t *sp_out, char *msg,
    size_t msglen)
{
	const struct bi_module *mod = &bootinfo.bi_modules[0];
	const uint8_t *img = (const uint8_t *)(uintptr_t)(DMAP_BASE + mod->bim_pa);
	uint64_t size = mod->bim_size;
	struct vm_map *map = vmspace_map(p->p_vmspace);
	struct exec_ehdr eh;

	if (size < sizeof(eh))
		return exec_bad(msg, msglen, "shorter than an ELF header");
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, "\177ELF", 4) != 0 || eh.e_ident[4] != 2 || eh.e_ident[5] != 1)
		return exec_bad(msg, msglen, "not a little-endian ELF64 file");
	if (eh.e_machine != EM_X86_64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return exec_bad(msg, msglen, "not an x86-64 executable");
	if (eh.e_phentsize != sizeof(struct exec_phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > 64 || eh.e_phoff > size ||
	    size - eh.e_phoff < (uint64_t)eh.e_phnum * sizeof(struct exec_phdr))
		return exec_bad(msg, msglen, "program headers outside the file");
	const struct exec_phdr *ph = (const struct exec_phdr *)(img + eh.e_phoff);
	uint64_t bias = eh.e_type == ET_DYN ? PROC_PIE_BASE : 0, top = 0, phdr_va = 0;
	unsigned nload = 0;

	/* Map every segment read-write and copy its bytes in; protections after. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP)
			return exec_bad(msg, msglen, "dynamically linked");
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		uint64_t va = ph[i].p_vaddr + bias, end = va + ph[i].p_memsz;
		if (ph[i].p_filesz > ph[i].p_memsz || ph[i].p_offset > size ||
		    size - ph[i].p_offset < ph[i].p_filesz || end < va || va < PROC_VM_MIN ||
		    end > PROC_STACK_TOP - PROC_STACK_SIZE)
			return exec_bad(msg, msglen, "a segment outside the file or the address "
			    "space");
		uint64_t s = trunc_page(va), e = round_page(end);
		if (s < top)
			s = top;        /* a page the previous segment mapped already */
		if (s < e) {
			long a = vm_mmap(map, s, e - s, LINUX_PROT_READ | LINUX_PROT_WRITE,
			    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED);
			if (a < 0)
				return exec_bad(msg, msglen, "its segments overlap or do not fit");
		}
		if (copyout(img + ph[i].p_offset, (void *)(uintptr_t)va, ph[i].p_filesz) != 0)
			return exec_bad(msg, msglen, "a segment could not be loaded");
		if (eh.e_phoff >= ph[i].p_offset && eh.e_phoff - ph[i].p_offset < ph[i].p_filesz)
			phdr_va = va + (eh.e_phoff - ph[i].p_offset);
		top = MAX(top, e);
		nload++;
	}
	if (nload == 0)
		return exec_bad(msg, msglen, "no loadable segment");
	/* Protections, segment by segment; a page shared with a neighbour keeps both. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		uint64_t va = ph[i].p_vaddr + bias;
		uint64_t s = trunc_page(va), e = round_page(va + ph[i].p_memsz);
		int prot = exec_prot(ph[i].p_flags);
		for (unsigned j = 0; j < eh.e_phnum; j++) {
			if (j == i || ph[j].p_type != PT_LOAD || ph[j].p_memsz == 0)
				continue;
			uint64_t ovs = trunc_page(ph[j].p_vaddr + bias);
			uint64_t ove = round_page(ph[j].p_vaddr + bias + ph[j].p_memsz);
			if (ovs < e && s < ove)
				prot |= exec_prot(ph[j].p_flags);
		}
		(void)vm_mprotect(map, s, e - s, prot);
	}
	/* The heap may grow to the stack's guard gap, as far as RLIMIT_DATA would allow. */
	vm_brk_init(&p->p_brk, top, PROC_STACK_TOP - PROC_STACK_SIZE - (1ul << 30));
	*entry = eh.e_entry + bias;

	/* The stack, as Linux lays it out: argv's then envp's strings at the top, the
	 * platform string and AT_RANDOM's 16 bytes below them; then, 16-byte aligned, argc,
	 * argv, NULL, envp, NULL, auxv. */
	if (vm_mmap(map, PROC_STACK_TOP - PROC_STACK_SIZE, PROC_STACK_SIZE,
	    LINUX_PROT_READ | LINUX_PROT_WRITE, LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS |
	    LINUX_MAP_FIXED) < 0)
		return exec_bad(msg, msglen, "no room for its stack");
	char args[BI_CMDLINE_MAX];
	/* argv's and envp's strings; then, with room for "program" and the two NULLs, the
	 * array the program receives, each string's user address in its place. */
	char *strs[PVH_ARGS_MAX + 1];
	uint64_t uvec[PVH_ARGS_MAX + 3];
	unsigned argc;
	strlcpy(args, mod->bim_cmdline, sizeof(args));
	int nstr = pvh_args_split(args, strs, PVH_ARGS_MAX, &argc);
	if (nstr < 0) {
		char why[80];
		snprintf(why, sizeof(why), "more than %u arguments and environment strings",
		    PVH_ARGS_MAX);
		return exec_bad(msg, msglen, why);
	}
	unsigned envc = (unsigned)nstr - argc;
	if (argc == 0) {
		/* A loader that gave no command line (QEMU's -initrd): a name all the same. */
		memmove(&strs[1], &strs[0], envc * sizeof(strs[0]));
		strs[0] = "program";
		argc = 1;
	}
	const char *slash = strrchr(strs[0], '/');
	strlcpy(p->p_comm, slash != NULL ? slash + 1 : strs[0], sizeof(p->p_comm));

	/* uvec: argc's argv, NULL, envc's envp, NULL; strings pushed last first so argv[0]
	 * lies lowest. */
	uint64_t sp = PROC_STACK_TOP;
	for (unsigned i = argc + envc; i-- > 0;) {
		unsigned slot = i < argc ? i : i + 1;
		if (exec_push(&sp, strs[i], strlen(strs[i]) + 1) != 0)
			return exec_bad(msg, msglen, "its stack could not be written");
		uvec[slot] = sp;
	}
	uvec[argc] = 0;
	uvec[argc + 1 + envc] = 0;
	uint64_t nvec = argc + 1 + envc + 1;
	static const char platform[] = "x86_64";
	uint64_t rnd[2] = { rdtsc() * 0x9e3779b97f4a7c15ull, (rdtsc() ^ top) *
	    0xc2b2ae3d27d4eb4full };
	if (exec_push(&sp, platform, sizeof(platform)) != 0)
		return exec_bad(msg, msglen, "its stack could not be written");
	uint64_t platform_va = sp;
	if (exec_push(&sp, rnd, sizeof(rnd)) != 0)
		return exec_bad(msg, msglen, "its stack could not be written");
	uint64_t random_va = sp;
	uint64_t auxv[] = {
		AT_PHDR, phdr_va, AT_PHENT, sizeof(struct exec_phdr), AT_PHNUM, eh.e_phnum,
		AT_PAGESZ, PAGE_SIZE, AT_BASE, 0, AT_FLAGS, 0, AT_ENTRY, *entry,
		AT_UID, 0, AT_EUID, 0, AT_GID, 0, AT_EGID, 0, AT_SECURE, 0, AT_CLKTCK, 100,
		AT_HWCAP, 0, AT_PLATFORM, platform_va, AT_RANDOM, random_va,
		AT_EXECFN, uvec[0], AT_NULL, 0,
	};
	/* Words below the strings: argc, uvec, auxv; %rsp at argc must be 16-byte
	 * aligned. */
	uint64_t nwords = 1 + nvec + nitems(auxv);
	sp = (sp - nwords * 8) & ~15ul;
	uint64_t w = sp, argc64 = argc;
	if (copyout(&argc64, (void *)(uintptr_t)w, 8) != 0 ||
	    copyout(uvec, (void *)(uintptr_t)(w + 8), nvec * 8) != 0 ||
	    copyout(auxv, (void *)(uintptr_t)(w + 8 + nvec * 8), sizeof(auxv)) != 0)
		return exec_bad(msg, msglen, "its stack could not be written");
	*sp_out = sp;
	return 0;
}
