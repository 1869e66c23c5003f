/*
 * `vmm dump` end to end on the synthetic dump (dump_fixture.h): every subcommand's text
 * and JSON against the fixture's known values, the usage errors (64), a file that
 * cannot be opened (66), and dumps whose structures are corrupt (65, one line).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/dump_fixture.h"
#include "tests/unit/unit.h"
#include "vmm/cli.h"
#include "vmm/dump_cmd.h"
#include "vmm/dump_kern.h"
#include "vmm/dump_read.h"
#include "vmm/vmm.h"

#define TD_MAXARGS  12

static char td_path[64];
static char *td_out, *td_errout;

/* A test that wants another fixture writes it over the set-up's: that file goes first,
 * or it would stay behind in /tmp. */
static void td_write(const struct dump_fixture_opts *o)
{
	if (td_path[0] != '\0')
		unlink(td_path);
	strcpy(td_path, "/tmp/vmm-dump-test-XXXXXX");
	int fd = mkstemp(td_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(dump_fixture_write(o, td_path), 0);
}

static void td_setup(void)
{
	struct dump_fixture_opts o = { 0 };
	td_write(&o);
}

static void td_teardown(void)
{
	unlink(td_path);
	td_path[0] = '\0';
	free(td_out);
	free(td_errout);
	td_out = td_errout = NULL;
}

/* Run "vmm dump" with the words given; "@" stands for the dump's path. => the status;
 * stdout in td_out, stderr in td_errout (at most one line, checked). */
static int td_run(const char *first, ...)
{
	char *argv[TD_MAXARGS + 1];
	int argc = 0;
	va_list ap;
	size_t ol, el;

	free(td_out);
	free(td_errout);
	argv[argc++] = "dump";
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
		ck_assert_int_lt(argc, TD_MAXARGS);
		argv[argc++] = strcmp(a, "@") == 0 ? td_path : (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	FILE *out = open_memstream(&td_out, &ol), *err = open_memstream(&td_errout, &el);
	ck_assert(out != NULL && err != NULL);
	int rc = dump_cmd_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
	if (rc == 0) {
		ck_assert_msg(td_errout[0] == '\0', "ok but said: %s", td_errout);
	} else {
		ck_assert_msg(strncmp(td_errout, "vmm: ", 5) == 0, "no 'vmm: ': %s", td_errout);
		char *nl = strchr(td_errout, '\n');
		ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: %s", td_errout);
	}
	return rc;
}

#define td_has(hay, needle)                                                        \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "'%s' not in:\n%s", (needle), (hay))

/* A line of text that starts with prefix, whitespace squeezed to one space. */
static const char *td_line(const char *prefix, char *buf, size_t len)
{
	for (const char *p = td_out; p != NULL && *p != '\0';) {
		const char *e = strchr(p, '\n');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p), k = 0;
		const char *q = p;
		while (*q == ' ')
			q++;
		if (strncmp(q, prefix, strlen(prefix)) == 0) {
			for (; q < p + n && k + 1 < len; q++)
				if (!(*q == ' ' && k > 0 && buf[k - 1] == ' '))
					buf[k++] = *q;
			buf[k] = '\0';
			return buf;
		}
		p = e != NULL ? e + 1 : NULL;
	}
	ck_abort_msg("no line starting '%s' in:\n%s", prefix, td_out);
	return NULL;
}

START_TEST(info_text_and_json)
{
	char l[256];

	ck_assert_int_eq(td_run("info", "@", NULL), 0);
	td_has(td_out, "guest:     64 MiB, 1 vCPU\n");
	td_has(td_out, "reason:    panic: " DF_MESSAGE "\n");
	td_has(td_out, "kernel:    build/kernel.elf\n");
	td_has(td_out, "kind:      minidump\n");
	td_has(td_out, "3 PT_LOAD segments carrying 61440 bytes");
	td_has(td_out, "2023-11-14 22:13:20 UTC, 2.500 s");
	ck_assert_str_eq(td_line("rip", l, sizeof(l)), "rip 0xffffffff80100abc rsp "
	    "0xffffffff80107ff0 rbp 0x0000000000000000 eflags 0x0000000000000000");
	td_has(td_out, "cr3     0x0000000000400000");
	td_has(td_out, "cs  selector 0x0008");
	ck_assert_int_eq(td_run("info", "--json", "@", NULL), 0);
	td_has(td_out, "\"reason\":{\"kind\":\"panic\",\"code\":1,");
	td_has(td_out, "\"message\":\"" DF_MESSAGE "\"");
	td_has(td_out, "\"program\":\"/bin/true \\\"quoted\\\"\"");
	td_has(td_out, "\"memory_bytes\":67108864");
	td_has(td_out, "\"rip\":\"0xffffffff80100abc\"");
	td_has(td_out, "\"kernel_cr3\":\"0x400000\"");
	td_has(td_out, "\"kind\":\"minidump\"");
	ck_assert_int_eq(td_out[strlen(td_out) - 1], '\n');
}
END_TEST

START_TEST(msgbuf_wrapped)
{
	size_t total = (size_t)DF_MSGBUF_LINES * DF_MSGBUF_LINE_LEN;
	char *all = malloc(total + 1), line[DF_MSGBUF_LINE_LEN + 1];

	for (unsigned i = 0; i < DF_MSGBUF_LINES; i++) {
		dump_fixture_msgbuf_line(i, line);
		memcpy(all + (size_t)i * DF_MSGBUF_LINE_LEN, line, DF_MSGBUF_LINE_LEN);
	}
	all[total] = '\0';
	/* The ring kept the last DF_MSGBUF_SIZE bytes, starting mid-line. */
	const char *tail = all + total - DF_MSGBUF_SIZE;
	ck_assert(tail[-1] != '\n');
	ck_assert_int_eq(td_run("msgbuf", "@", NULL), 0);
	ck_assert_str_eq(td_out, tail);
	ck_assert_int_eq(td_run("msgbuf", "--json", "@", NULL), 0);
	td_has(td_out, "\"written\":24000");
	td_has(td_out, "\"lost\":7616");
	td_has(td_out, "host\\nline 0599: the kernel says: hello, host\\n\"}");
	free(all);
}
END_TEST

START_TEST(vmstat_counts)
{
	char l[256];

	ck_assert_int_eq(td_run("vmstat", "@", NULL), 0);
	td_has(td_out, "snapshot at 1.500 s");
	ck_assert_str_eq(td_line("1000 ", l, sizeof(l)), "1000 pages free");
	ck_assert_str_eq(td_line("2000 ", l, sizeof(l)), "2000 pages active");
	ck_assert_str_eq(td_line("300 pages in", l, sizeof(l)), "300 pages inactive");
	ck_assert_str_eq(td_line("40 ", l, sizeof(l)), "40 pages in the laundry queue");
	ck_assert_str_eq(td_line("500 ", l, sizeof(l)), "500 pages wired down");
	ck_assert_str_eq(td_line("12345 ", l, sizeof(l)), "12345 page faults resolved");
	ck_assert_str_eq(td_line("77 ", l, sizeof(l)), "77 pages read from swap (page-ins)");
	ck_assert_str_eq(td_line("1234 ", l, sizeof(l)), "1234 swap pages in use");
	ck_assert_int_eq(td_run("vmstat", "--json", "@", NULL), 0);
	td_has(td_out, "\"torn\":false");
	td_has(td_out, "\"free_count\":1000,");
	td_has(td_out, "\"laundry_count\":40,");
	td_has(td_out, "\"pageouts\":88,");
	td_has(td_out, "\"swap_pages\":65536,\"swap_used\":1234}");
}
END_TEST

START_TEST(vmstat_torn_and_never_written)
{
	struct dump_fixture_opts torn = { .df_torn_vmmeter = true };
	struct dump_fixture_opts empty = { .df_empty_vmmeter = true };

	unlink(td_path);
	td_write(&torn);
	ck_assert_int_eq(td_run("vmstat", "@", NULL), 0);
	td_has(td_out, "TORN");
	td_has(td_out, "1000 pages free");
	ck_assert_int_eq(td_run("vmstat", "--json", "@", NULL), 0);
	td_has(td_out, "\"torn\":true");
	unlink(td_path);
	td_write(&empty);
	ck_assert_int_eq(td_run("vmstat", "@", NULL), DUMP_EXIT_DATA);
	td_has(td_errout, "never wrote its vmmeter");
	ck_assert_str_eq(td_out, "");
}
END_TEST

START_TEST(zones_columns)
{
	char l[256];

	ck_assert_int_eq(td_run("zones", "@", NULL), 0);
	ck_assert_str_eq(td_line("ITEM", l, sizeof(l)),
	    "ITEM SIZE LIMIT USED FREE REQ FAIL SLEEP PCPU");
	/* used = 20 - 17; free = keg 10 + zone 2 + per-CPU 1 + 2. */
	ck_assert_str_eq(td_line("vmspace:", l, sizeof(l)),
	    "vmspace: 256, 0, 3, 15, 20, 0, 0, 3");
	ck_assert_str_eq(td_line("VM OBJECT:", l, sizeof(l)),
	    "VM OBJECT: 64, 1000, 100, 62, 500, 3, 1, 4");
	/* A name of the full 32 bytes, with no NUL in the stream. */
	td_has(td_out, "a zone name of exactly 32 bytes!:");
	ck_assert_int_eq(td_run("zones", "--json", "@", NULL), 0);
	td_has(td_out, "{\"name\":\"vmspace\",\"size\":256,\"limit\":0,\"used\":3,\"free\":15,"
	    "\"requests\":20,\"frees\":17,\"fails\":0,\"sleeps\":0,\"pcpu_cached\":3,");
	td_has(td_out, "\"ncpus\":2");
}
END_TEST

START_TEST(malloc_types)
{
	char l[256];

	ck_assert_int_eq(td_run("malloc", "@", NULL), 0);
	ck_assert_str_eq(td_line("devbuf", l, sizeof(l)), "devbuf 12 4K 100 0 16,64,large");
	ck_assert_str_eq(td_line("temp", l, sizeof(l)), "temp 0 0K 5 1 4096");
	ck_assert_int_eq(td_run("malloc", "--json", "@", NULL), 0);
	td_has(td_out, "{\"type\":\"devbuf\",\"inuse\":12,\"memuse\":4096,\"requests\":100,"
	    "\"failures\":0,\"sizes\":[16,64,\"large\"]}");
}
END_TEST

/* A size class the stream cannot say the bytes of: '?' in the text, null in JSON (the
 * JSON said 0 before). */
START_TEST(malloc_unknown_size_class)
{
	struct dump_fixture_opts o = { .df_malloc_no_class0 = true };
	char l[256];

	td_write(&o);
	ck_assert_int_eq(td_run("malloc", "@", NULL), 0);
	ck_assert_str_eq(td_line("temp", l, sizeof(l)), "temp 0 0K 5 1 ?");
	ck_assert_int_eq(td_run("malloc", "--json", "@", NULL), 0);
	td_has(td_out, "{\"type\":\"temp\",\"inuse\":0,\"memuse\":0,\"requests\":5,"
	    "\"failures\":1,\"sizes\":[null]}");
}
END_TEST

START_TEST(ps_processes)
{
	char l[256];

	ck_assert_int_eq(td_run("ps", "@", NULL), 0);
	ck_assert_str_eq(td_line("PID", l, sizeof(l)),
	    "PID PPID STATE RSS SWAP FAULTS MAJFLT COMMAND");
	/* Swapped: init's objects O1 0 + O2 1 + O3 4 + O4 2; worker's O5 3 + O3 + O4. */
	ck_assert_str_eq(td_line("1 ", l, sizeof(l)), "1 - sleep 5 7 10 1 init");
	ck_assert_str_eq(td_line("2 ", l, sizeof(l)), "2 1 run 8 9 20 3 worker");
	ck_assert_str_eq(td_line("3 ", l, sizeof(l)), "3 1 zombie 0 0 5 0 defunct");
	ck_assert_int_eq(td_run("ps", "--json", "@", NULL), 0);
	td_has(td_out, "{\"pid\":1,\"ppid\":null,\"state\":\"sleep\",\"rss\":5,\"swapped\":7,");
	td_has(td_out, "{\"pid\":2,\"ppid\":1,\"state\":\"run\",\"rss\":8,\"swapped\":9,");
	td_has(td_out, "\"command\":\"defunct\"");
}
END_TEST

START_TEST(ps_allproc_by_virtual_address)
{
	struct dump_fixture_opts o = { .df_allproc_kva = true };
	char l[256];

	unlink(td_path);
	td_write(&o);
	ck_assert_int_eq(td_run("ps", "@", NULL), 0);
	ck_assert_str_eq(td_line("2 ", l, sizeof(l)), "2 1 run 8 9 20 3 worker");
}
END_TEST

START_TEST(maps_entries)
{
	char l[256];

	ck_assert_int_eq(td_run("maps", "@", "1", NULL), 0);
	td_has(td_out, "PID 1 (init): 2 entries\n");
	ck_assert_str_eq(td_line("0x0000000000400000", l, sizeof(l)), "0x0000000000400000 "
	    "0x0000000000402000 r-x rwx copy 0xffff808000407200 default 0 2 0");
	/* The data entry: O2 -> O3 -> O4, depth 2, resident 3+1+0, swapped 1+4+2. */
	ck_assert_str_eq(td_line("0x0000000000600000", l, sizeof(l)), "0x0000000000600000 "
	    "0x0000000000604000 rw- rwx copy 0xffff808000407240 swap 2 4 7");
	ck_assert(strstr(td_out, "worker") == NULL);
	ck_assert_int_eq(td_run("maps", "@", NULL), 0);
	td_has(td_out, "PID 2 (worker): 1 entry\n");
	ck_assert_str_eq(td_line("0x00007ffffff00000", l, sizeof(l)), "0x00007ffffff00000 "
	    "0x00007ffffff10000 rw- rw- share 0xffff80800040a080 swap 2 6 9");
	td_has(td_out, "PID 3 (defunct): no address space\n");
	ck_assert_int_eq(td_run("maps", "--json", "@", "2", NULL), 0);
	td_has(td_out, "{\"processes\":[{\"pid\":2,\"command\":\"worker\",\"entries\":[{\"start\":"
	    "\"0x7ffffff00000\",\"end\":\"0x7ffffff10000\",\"protection\":\"rw-\","
	    "\"max_protection\":\"rw-\",\"inheritance\":\"share\"");
	td_has(td_out, "\"shadow_depth\":2,\"resident\":6,\"swapped\":9}]}]}\n");
	ck_assert_int_eq(td_run("maps", "@", "99", NULL), DUMP_EXIT_DATA);
	td_has(td_errout, "no process with pid 99");
}
END_TEST

START_TEST(read_hexdump)
{
	ck_assert_int_eq(td_run("read", "@", "0xffffffff80100000", "20", NULL), 0);
	/* The descriptor: "VMPD" magic, version 2, kernel_cr3 0x400000. */
	ck_assert_str_eq(td_out,
	    "ffffffff80100000  56 4d 50 44 02 00 00 00  00 00 40 00 00 00 00 00  "
	    "|VMPD......@.....|\n"
	    "ffffffff80100010  00 00 00 80                                       |....|\n");
	/* Across a page not in the dump and one not mapped. */
	ck_assert_int_eq(td_run("read", "@", "0xffff808000407ff8", "0x1010", NULL), 0);
	td_has(td_out, "ffff808000407ff8  00 00 00 00 00 00 00 00  -- -- -- -- -- -- -- --");
	td_has(td_out, "ffff808000408000  4096 bytes: page not in the dump (physical 0x408000)\n");
	td_has(td_out, "ffff808000409000  8 bytes: not mapped\n");
	ck_assert_int_eq(td_run("read", "--json", "@", "0xffff808000406000", "4", NULL), 0);
	td_has(td_out, "\"pieces\":[{\"vaddr\":\"0xffff808000406000\",\"len\":4,\"paddr\":"
	    "\"0x406000\",\"hex\":\"01000000\"}]");
}
END_TEST

START_TEST(pt_walk)
{
	char l[256];

	ck_assert_int_eq(td_run("pt", "@", "0xffffffff80100000", NULL), 0);
	ck_assert_str_eq(td_line("PML4", l, sizeof(l)),
	    "PML4 0x0000000000400000 511 0x0000000000401023 P RW A 0x401000");
	ck_assert_str_eq(td_line("PD ", l, sizeof(l)),
	    "PD 0x0000000000402000 0 0x80000000000001e3 P RW A D PS G NX 0x0");
	td_has(td_out, "=> physical 0x100000 (2 MiB page, in the dump)\n");
	ck_assert_int_eq(td_run("pt", "@", "0xffff808000408000", NULL), 0);
	ck_assert_str_eq(td_line("PT ", l, sizeof(l)),
	    "PT 0x0000000000405000 8 0x8000000000408163 P RW A D G NX 0x408000");
	td_has(td_out, "=> physical 0x408000 (4 KiB page, not in the dump)\n");
	ck_assert_int_eq(td_run("pt", "@", "0xffff808000409000", NULL), 0);
	td_has(td_out, "=> not mapped\n");
	ck_assert_int_eq(td_run("pt", "--json", "@", "0xffff808040000010", NULL), 0);
	td_has(td_out, "{\"level\":\"PDPT\",\"table\":\"0x403000\",\"index\":1,\"entry\":"
	    "\"0x80000000400001e3\",\"flags\":[\"P\",\"RW\",\"A\",\"D\",\"PS\",\"G\",\"NX\"],"
	    "\"next\":\"0x40000000\"}");
	td_has(td_out, "\"paddr\":\"0x40000010\",\"page_size\":1073741824,\"in_dump\":false");
}
END_TEST

START_TEST(usage_errors)
{
	ck_assert_int_eq(td_run(NULL), VMM_EXIT_USAGE);
	ck_assert_int_eq(td_run("frobnicate", "@", NULL), VMM_EXIT_USAGE);
	td_has(td_errout, "unknown dump subcommand 'frobnicate'");
	ck_assert_int_eq(td_run("info", NULL), VMM_EXIT_USAGE);
	td_has(td_errout, "needs the dump FILE");
	ck_assert_int_eq(td_run("info", "@", "extra", NULL), VMM_EXIT_USAGE);
	ck_assert_int_eq(td_run("info", "--verbose", "@", NULL), VMM_EXIT_USAGE);
	td_has(td_errout, "unknown option '--verbose'");
	ck_assert_int_eq(td_run("read", "@", "0xffffffff80100000", NULL), VMM_EXIT_USAGE);
	ck_assert_int_eq(td_run("read", "@", "zz", "16", NULL), VMM_EXIT_USAGE);
	td_has(td_errout, "VADDR 'zz'");
	ck_assert_int_eq(td_run("read", "@", "0x1000", "0", NULL), VMM_EXIT_USAGE);
	ck_assert_int_eq(td_run("read", "@", "0x1000", "99999999", NULL), VMM_EXIT_USAGE);
	td_has(td_errout, "LEN '99999999'");
	ck_assert_int_eq(td_run("read", "@", "0xffffffffffffff00", "0x200", NULL),
	    VMM_EXIT_USAGE);
	ck_assert_int_eq(td_run("pt", "@", "0x0000800000000000", NULL), VMM_EXIT_USAGE);
	td_has(td_errout, "not a canonical");
	ck_assert_int_eq(td_run("pt", "@", "-5", NULL), VMM_EXIT_USAGE);
	ck_assert_int_eq(td_run("maps", "@", "init", NULL), VMM_EXIT_USAGE);
	/* After "--" a word is FILE or an argument, whatever it looks like. */
	ck_assert_int_eq(td_run("info", "--", "--json", NULL), VMM_EXIT_INPUT);
	td_has(td_errout, "cannot open dump --json");
	ck_assert_int_eq(td_run("info", "--json", "--", "@", NULL), 0);
	ck_assert_int_eq(td_out[0], '{');
	/* Usage first: a bad VADDR is 64 even when FILE is missing too. */
	ck_assert_int_eq(td_run("pt", "/nonexistent.core", "xyz", NULL), VMM_EXIT_USAGE);
	ck_assert_int_eq(td_run("info", "/nonexistent.core", NULL), VMM_EXIT_INPUT);
	td_has(td_errout, "cannot open dump /nonexistent.core");
}
END_TEST

START_TEST(help_texts)
{
	ck_assert_int_eq(td_run("--help", NULL), 0);
	td_has(td_out, "usage: vmm dump SUBCOMMAND [--json] FILE [ARGS]\n");
	td_has(td_out, "  read    FILE VADDR LEN      hex dump of kernel virtual memory\n");
	ck_assert_int_eq(td_run("help", "maps", NULL), 0);
	td_has(td_out, "usage: vmm dump maps [--json] FILE [PID]\n");
	ck_assert_int_eq(td_run("pt", "--help", NULL), 0);
	td_has(td_out, "usage: vmm dump pt [--json] FILE VADDR\n");
	td_has(td_out, "P RW US PWT PCD A D PS G NX");
	ck_assert_int_eq(td_run("help", "nope", NULL), VMM_EXIT_USAGE);
}
END_TEST

START_TEST(cli_dispatches_dump)
{
	char *argv[] = { "vmm", "dump", "info", "x.core", NULL };
	struct cli_opts o;
	char err[CLI_ERR_MAX];

	ck_assert_int_eq(cli_parse(4, argv, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.co_cmd, CLI_CMD_DUMP);
	ck_assert_int_eq(o.co_dump_argc, 3);
	ck_assert_str_eq(o.co_dump_argv[0], "dump");
	ck_assert_str_eq(o.co_dump_argv[2], "x.core");
}
END_TEST

/* A corrupt structure: the subcommand that needs it gives 65 and nothing on stdout. */
static void td_corrupt(const struct dump_fixture_opts *o, const char *sub,
    const char *needle)
{
	unlink(td_path);
	td_write(o);
	ck_assert_int_eq(td_run(sub, "@", NULL), DUMP_EXIT_DATA);
	td_has(td_errout, needle);
	td_has(td_errout, td_path);
	ck_assert_str_eq(td_out, "");
	ck_assert_int_eq(td_run(sub, "--json", "@", NULL), DUMP_EXIT_DATA);
	ck_assert_str_eq(td_out, "");
}

START_TEST(corrupt_structures)
{
	td_corrupt(&(struct dump_fixture_opts){ .df_proc_loop = true }, "ps",
	    "the process list loops");
	td_corrupt(&(struct dump_fixture_opts){ .df_entry_loop = true }, "maps",
	    "map entry list loops");
	td_corrupt(&(struct dump_fixture_opts){ .df_entry_loop = true }, "ps",
	    "map entry list loops");
	td_corrupt(&(struct dump_fixture_opts){ .df_chain_loop = true }, "ps",
	    "shadow chain of object");
	td_corrupt(&(struct dump_fixture_opts){ .df_layout_past = true }, "ps",
	    "puts proc.pid at offset 132, past");
	td_corrupt(&(struct dump_fixture_opts){ .df_no_desc = true }, "msgbuf",
	    "no dump descriptor");
	td_corrupt(&(struct dump_fixture_opts){ .df_no_desc = true }, "zones",
	    "no dump descriptor");
	ck_assert_int_eq(td_run("pt", "@", "0xffffffff80100000", NULL), DUMP_EXIT_DATA);
	td_has(td_errout, "no dump descriptor");
	/* What does not need the broken part still works. */
	ck_assert_int_eq(td_run("info", "@", NULL), 0);
	td_has(td_out, "descriptor: none");
}
END_TEST

/* The budget stops a walk that reads more than it may, with the one-line error. */
START_TEST(kern_budget_stops_the_walk)
{
	struct dump d;
	struct dump_kctx k;
	struct dump_proc *p;
	unsigned n;
	char err[512];

	ck_assert_int_eq(dump_open(&d, td_path, err, sizeof(err)), 0);
	ck_assert_int_eq(dump_kern_init(&k, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(dump_kern_procs(&k, &p, &n), 0);
	ck_assert_uint_eq(n, 3);
	unsigned long used = DUMP_KERN_BUDGET - k.k_budget;
	free(p);
	ck_assert_int_eq(dump_kern_init(&k, &d, err, sizeof(err)), 0);
	k.k_budget = used - 1;
	ck_assert_int_eq(dump_kern_procs(&k, &p, &n), DUMP_EXIT_DATA);
	ck_assert_msg(strstr(err, "more kernel structures than a dump holds") != NULL, "%s",
	    err);
	ck_assert_int_eq(dump_kern_init(&k, &d, err, sizeof(err)), 0);
	k.k_budget_bytes = 100;
	ck_assert_int_eq(dump_kern_procs(&k, &p, &n), DUMP_EXIT_DATA);
	dump_close(&d);
}
END_TEST

START_TEST(foreign_file)
{
	FILE *f = fopen(td_path, "w");
	ck_assert(f != NULL);
	fputs("hello\n", f);
	fclose(f);
	ck_assert_int_eq(td_run("info", "@", NULL), DUMP_EXIT_DATA);
	td_has(td_errout, "not an ELF file");
	ck_assert_int_eq(td_run("ps", "--json", "@", NULL), DUMP_EXIT_DATA);
	ck_assert_str_eq(td_out, "");
}
END_TEST

static Suite *dump_cmd_suite(void)
{
	Suite *s = suite_create("vmm.dump_cmd");
	TCase *tc = tcase_create("subcommands");

	tcase_add_checked_fixture(tc, td_setup, td_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, info_text_and_json);
	tcase_add_test(tc, msgbuf_wrapped);
	tcase_add_test(tc, vmstat_counts);
	tcase_add_test(tc, vmstat_torn_and_never_written);
	tcase_add_test(tc, zones_columns);
	tcase_add_test(tc, malloc_types);
	tcase_add_test(tc, malloc_unknown_size_class);
	tcase_add_test(tc, ps_processes);
	tcase_add_test(tc, ps_allproc_by_virtual_address);
	tcase_add_test(tc, maps_entries);
	tcase_add_test(tc, read_hexdump);
	tcase_add_test(tc, pt_walk);
	tcase_add_test(tc, usage_errors);
	tcase_add_test(tc, help_texts);
	tcase_add_test(tc, cli_dispatches_dump);
	tcase_add_test(tc, corrupt_structures);
	tcase_add_test(tc, kern_budget_stops_the_walk);
	tcase_add_test(tc, foreign_file);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(dump_cmd_suite);
