/*
 * `vmm dump`: its command line and help, and the dispatch to the subcommands. Usage
 * problems are found before the file is opened, so a bad VADDR is 64 whatever FILE is.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/dump_cmd.h"
#include "vmm/vmm.h"

enum dump_argk { DA_NONE, DA_PID_OPT, DA_VADDR, DA_VADDR_LEN };

struct dump_sub {
	const char *sub_name;
	int (*sub_fn)(struct dump_show *s);
	enum dump_argk sub_args;
	const char *sub_usage;          /* after "vmm dump NAME [--json] " */
	const char *sub_summary;        /* for the list in vmm dump --help */
	const char *sub_help;
};

static const struct dump_sub dump_subs[] = {
	{ "info", dump_show_info, DA_NONE, "FILE", "the guest, when and why, registers, sizes",
	    "The guest (memory, vCPUs, kernel, program), when the dump was written and\n"
	    "why (panic message, triple fault, signal, exit), each vCPU's general and\n"
	    "special registers, and the sizes: the file, its segments, the memory it\n"
	    "carries, minidump or full.\n" },
	{ "msgbuf", dump_show_msgbuf, DA_NONE, "FILE", "the kernel message buffer",
	    "The kernel message buffer's live text, oldest first (what the kernel printed\n"
	    "last, up to the buffer's size). Control bytes but newline and tab show as '?'.\n" },
	{ "vmstat", dump_show_vmstat, DA_NONE, "FILE", "page queues, faults, paging, swap",
	    "The VM counters the guest published (struct vmmeter): pages by queue (free,\n"
	    "zeroed, active, inactive, laundry, wired), faults, page-ins and page-outs, swap\n"
	    "use and the page daemon's counters, one per line like 'vmstat -s'. A snapshot\n"
	    "the guest was rewriting when the dump was written is shown, said torn.\n" },
	{ "zones", dump_show_zones, DA_NONE, "FILE", "UMA zones (vmstat -z)",
	    "One line per UMA zone, the columns of FreeBSD's 'vmstat -z': item size, limit\n"
	    "(0: none), used, free (keg + zone + per-CPU caches), requests, failures,\n"
	    "sleeps, and the items in the per-CPU caches.\n" },
	{ "malloc", dump_show_malloc, DA_NONE, "FILE", "malloc types (vmstat -m)",
	    "One line per malloc type, like FreeBSD's 'vmstat -m': allocations in use,\n"
	    "memory in use, requests, failures and the size classes used.\n" },
	{ "ps", dump_show_ps, DA_NONE, "FILE", "processes",
	    "The processes (the kernel's allproc list): pid, parent pid, state, resident\n"
	    "pages, swapped pages (of the objects its map reaches, each counted once),\n"
	    "faults and command.\n" },
	{ "maps", dump_show_maps, DA_PID_OPT, "FILE [PID]", "map entries and their objects",
	    "A process's map entries (every process's without PID): range, protection and\n"
	    "maximum protection (rwx), inheritance, object address and type, the depth of\n"
	    "its shadow chain, and the resident and swapped pages of the object and the\n"
	    "objects behind it.\n" },
	{ "read", dump_show_read, DA_VADDR_LEN, "FILE VADDR LEN", "hex dump of kernel virtual memory",
	    "Hex dump of LEN bytes (at most 1M) of kernel virtual memory at VADDR, each\n"
	    "page translated through the dumped kernel page tables; a page that is not\n"
	    "mapped or not in the dump is reported as such. VADDR and LEN: decimal or 0x hex.\n" },
	{ "pt", dump_show_pt, DA_VADDR, "FILE VADDR", "the page-table walk of VADDR",
	    "The kernel page-table walk for VADDR: for each level its table's physical\n"
	    "address, the index, the raw entry, its flags (P RW US PWT PCD A D PS G NX)\n"
	    "and the address it names; then the physical address and page size.\n" },
};

static const struct dump_sub *dump_sub_find(const char *name)
{
	for (size_t i = 0; i < VMM_ARRAY_SIZE(dump_subs); i++)
		if (strcmp(dump_subs[i].sub_name, name) == 0)
			return &dump_subs[i];
	return NULL;
}

static void dump_usage(FILE *f)
{
	fputs("usage: vmm dump SUBCOMMAND [--json] FILE [ARGS]\n"
	    "       vmm dump SUBCOMMAND --help\n"
	    "\n"
	    "Read a dump the VMM wrote (vmm run --dump FILE): an ELF core of the guest that\n"
	    "gdb also reads beside build/kernel.elf.\n"
	    "\n"
	    "subcommands:\n", f);
	for (size_t i = 0; i < VMM_ARRAY_SIZE(dump_subs); i++)
		fprintf(f, "  %-7s %-19s %s\n", dump_subs[i].sub_name, dump_subs[i].sub_usage,
		    dump_subs[i].sub_summary);
	fputs("\n"
	    "  --json  one JSON document on stdout instead of text, for scripts\n"
	    "\n"
	    "exit status: 0 ok, 64 usage error, 65 not a dump of ours, corrupt, or without\n"
	    "what the subcommand needs, 66 FILE cannot be opened, 71 host failure.\n", f);
}

static void dump_sub_usage(FILE *f, const struct dump_sub *sub)
{
	fprintf(f, "usage: vmm dump %s [--json] %s\n\n%s", sub->sub_name, sub->sub_usage,
	    sub->sub_help);
}

/* A number as people write addresses: decimal or 0x hex, nothing else. */
static int dump_parse_u64(const char *s, uint64_t *out)
{
	int base = 10;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (*p == '\0')
		return -1;
	for (const char *q = p; *q != '\0'; q++)
		if (base == 16 ? !isxdigit((unsigned char)*q) : !isdigit((unsigned char)*q))
			return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(p, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int dump_parse_args(const struct dump_sub *sub, int n, char *const *v,
    struct dump_args *a, char *err, size_t errlen)
{
	static const int min[] = { [DA_NONE] = 0, [DA_PID_OPT] = 0, [DA_VADDR] = 1,
		[DA_VADDR_LEN] = 2 };
	static const int max[] = { [DA_NONE] = 0, [DA_PID_OPT] = 1, [DA_VADDR] = 1,
		[DA_VADDR_LEN] = 2 };

	memset(a, 0, sizeof(*a));
	if (n < min[sub->sub_args] || n > max[sub->sub_args])
		return vmm_errf(err, errlen, VMM_EXIT_USAGE, "dump %s takes %s%s; see 'vmm dump "
		    "%s --help'", sub->sub_name, sub->sub_usage,
		    n > max[sub->sub_args] ? " (too many arguments)" : "", sub->sub_name);
	switch (sub->sub_args) {
	case DA_NONE:
		break;
	case DA_PID_OPT: {
		uint64_t pid;
		if (n == 0)
			break;
		if (dump_parse_u64(v[0], &pid) != 0 || pid > INT32_MAX)
			return vmm_errf(err, errlen, VMM_EXIT_USAGE, "dump maps: PID '%s' is not a "
			    "process id (a whole number, e.g. 1)", v[0]);
		a->da_has_pid = true;
		a->da_pid = (int32_t)pid;
		break;
	}
	case DA_VADDR_LEN:
		if (dump_parse_u64(v[1], &a->da_len) != 0 || a->da_len == 0 ||
		    a->da_len > DUMP_CMD_READ_MAX)
			return vmm_errf(err, errlen, VMM_EXIT_USAGE, "dump read: LEN '%s' is not a "
			    "byte count from 1 to %u (decimal or 0x hex)", v[1], DUMP_CMD_READ_MAX);
		/* FALLTHROUGH */
	case DA_VADDR:
		if (dump_parse_u64(v[0], &a->da_vaddr) != 0)
			return vmm_errf(err, errlen, VMM_EXIT_USAGE, "dump %s: VADDR '%s' is not an "
			    "address (decimal or 0x hex, e.g. 0xffffffff80100000)", sub->sub_name,
			    v[0]);
		if ((int64_t)a->da_vaddr >> 47 != 0 && (int64_t)a->da_vaddr >> 47 != -1)
			return vmm_errf(err, errlen, VMM_EXIT_USAGE, "dump %s: VADDR 0x%" PRIx64
			    " is not a canonical x86-64 address (bits 63..47 must be equal)",
			    sub->sub_name, a->da_vaddr);
		if (sub->sub_args == DA_VADDR_LEN && a->da_len - 1 > UINT64_MAX - a->da_vaddr)
			return vmm_errf(err, errlen, VMM_EXIT_USAGE, "dump read: VADDR + LEN runs "
			    "past the end of the address space");
		break;
	}
	return 0;
}

int dump_cmd_run(const struct dump *d, const char *sub, bool json, const struct dump_args *a,
    FILE *out, char *err, size_t errlen)
{
	const struct dump_sub *s = dump_sub_find(sub);
	struct dump_show sh = { d, a, out, json, err, errlen };

	if (s == NULL)
		return vmm_errf(err, errlen, VMM_EXIT_USAGE, "unknown dump subcommand '%s'; see "
		    "'vmm dump --help'", sub);
	return s->sub_fn(&sh);
}

int dump_cmd_main(int argc, char *const argv[], FILE *out, FILE *errf)
{
	char err[DUMP_CMD_ERR_MAX];
	const char *pos[3];
	int npos = 0, rc;
	bool json = false;

	if (argc < 2) {
		fputs("vmm: dump needs a subcommand and a FILE, e.g. 'vmm dump info vmm.core'; "
		    "see 'vmm dump --help'\n", errf);
		return VMM_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
	    strcmp(name, "help") == 0) {
		const struct dump_sub *sub = argc == 3 ? dump_sub_find(argv[2]) : NULL;
		if (argc > 3 || (argc == 3 && sub == NULL)) {
			vmm_errf(err, sizeof(err), VMM_EXIT_USAGE, "dump %s takes at most a "
			    "subcommand's name (got '%s'); see 'vmm dump --help'", name, argv[2]);
			fprintf(errf, "vmm: %s\n", err);
			return VMM_EXIT_USAGE;
		}
		if (sub != NULL)
			dump_sub_usage(out, sub);
		else
			dump_usage(out);
		return VMM_EXIT_OK;
	}
	const struct dump_sub *sub = dump_sub_find(name);
	if (sub == NULL) {
		vmm_errf(err, sizeof(err), VMM_EXIT_USAGE, "unknown dump subcommand '%s'; use "
		    "info, msgbuf, vmstat, zones, malloc, ps, maps, read or pt (see 'vmm dump "
		    "--help')", name);
		fprintf(errf, "vmm: %s\n", err);
		return VMM_EXIT_USAGE;
	}
	bool opts = true;       /* until "--" */
	for (int i = 2; i < argc; i++) {
		const char *w = argv[i];
		if (opts && strcmp(w, "--") == 0) {
			opts = false;
			continue;
		}
		if (opts && (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0)) {
			dump_sub_usage(out, sub);
			return VMM_EXIT_OK;
		}
		if (opts && strcmp(w, "--json") == 0) {
			json = true;
			continue;
		}
		if (opts && w[0] == '-' && w[1] != '\0') {
			vmm_errf(err, sizeof(err), VMM_EXIT_USAGE, "dump %s: unknown option '%s'; "
			    "see 'vmm dump %s --help'", name, w, name);
			fprintf(errf, "vmm: %s\n", err);
			return VMM_EXIT_USAGE;
		}
		if (npos == (int)VMM_ARRAY_SIZE(pos)) {
			npos++;
			break;
		}
		pos[npos++] = w;
	}
	if (npos == 0) {
		vmm_errf(err, sizeof(err), VMM_EXIT_USAGE, "dump %s needs the dump FILE: vmm dump "
		    "%s %s", name, name, sub->sub_usage);
		fprintf(errf, "vmm: %s\n", err);
		return VMM_EXIT_USAGE;
	}
	struct dump_args a;
	if ((rc = dump_parse_args(sub, npos - 1, (char *const *)pos + 1, &a, err,
	    sizeof(err))) != 0) {
		fprintf(errf, "vmm: %s\n", err);
		return rc;
	}
	struct dump d;
	if ((rc = dump_open(&d, pos[0], err, sizeof(err))) != 0) {
		fprintf(errf, "vmm: %s\n", err);
		return rc;
	}
	struct dump_show sh = { &d, &a, out, json, err, sizeof(err) };
	rc = sub->sub_fn(&sh);
	dump_close(&d);
	if (rc != 0)
		fprintf(errf, "vmm: %s\n", err);
	return rc;
}

void dump_show_text(FILE *f, const char *s, size_t n, bool keep_lines)
{
	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(keep_lines && (c == '\n' || c == '\t'))) || c == 0x7f)
			c = '?';
		putc(c, f);
	}
}
