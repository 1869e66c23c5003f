/*
 * The vmm command line: sizes, options, every usage error (one line, status 64), and
 * the command lines handed to the guest.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "devices/pvh.h"
#include "devices/pvh_args.h"
#include "vmm/cli.h"
#include "vmm/vmm.h"
#include "vmm/watchdog.h"

#define TC_MAXARGS  24

static struct cli_opts tc_opts;
static char tc_err[CLI_ERR_MAX];
static char *tc_argv[TC_MAXARGS + 1];

/* Parse "vmm" followed by the given words (NULL-terminated). => cli_parse's result. */
static int tc_parse(const char *first, ...)
{
	va_list ap;
	int argc = 0;

	tc_argv[argc++] = "vmm";
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
		ck_assert_int_lt(argc, TC_MAXARGS);
		tc_argv[argc++] = (char *)a;
	}
	va_end(ap);
	tc_argv[argc] = NULL;
	memset(tc_err, 0x55, sizeof(tc_err));
	int rc = cli_parse(argc, tc_argv, &tc_opts, tc_err, sizeof(tc_err));
	if (rc != 0) {
		/* Every error is one non-empty line. */
		ck_assert_msg(tc_err[0] != '\0', "empty error message");
		ck_assert_msg(memchr(tc_err, '\0', sizeof(tc_err)) != NULL, "unterminated");
		ck_assert_msg(strchr(tc_err, '\n') == NULL, "multi-line error: %s", tc_err);
	}
	return rc;
}

static void tc_assert_usage_error(int rc, const char *needle)
{
	ck_assert_int_eq(rc, VMM_EXIT_USAGE);
	ck_assert_msg(strstr(tc_err, needle) != NULL, "'%s' not in '%s'", needle, tc_err);
}

START_TEST(size_suffixes)
{
	uint64_t v = 0;

	ck_assert_int_eq(cli_parse_size("64M", &v, tc_err, sizeof(tc_err)), 0);
	ck_assert_uint_eq(v, 64ull << 20);
	ck_assert_int_eq(cli_parse_size("16m", &v, tc_err, sizeof(tc_err)), 0);
	ck_assert_uint_eq(v, 16ull << 20);
	ck_assert_int_eq(cli_parse_size("1G", &v, tc_err, sizeof(tc_err)), 0);
	ck_assert_uint_eq(v, 1ull << 30);
	ck_assert_int_eq(cli_parse_size("64g", &v, tc_err, sizeof(tc_err)), 0);
	ck_assert_uint_eq(v, 64ull << 30);
	ck_assert_int_eq(cli_parse_size("16384K", &v, tc_err, sizeof(tc_err)), 0);
	ck_assert_uint_eq(v, 16ull << 20);
	ck_assert_int_eq(cli_parse_size("16777216", &v, tc_err, sizeof(tc_err)), 0);
	ck_assert_uint_eq(v, 16ull << 20);
	ck_assert_int_eq(cli_parse_size("16781312", &v, tc_err, sizeof(tc_err)), 0);
	ck_assert_uint_eq(v, 16781312); /* 4097 pages: any page multiple is fine */
}
END_TEST

START_TEST(size_errors)
{
	static const struct { const char *in, *needle; } cases[] = {
		{ "", "not a number" },
		{ "M", "not a number" },
		{ "-64M", "not a number" },
		{ " 64M", "not a number" },
		{ "64Q", "unknown suffix" },
		{ "64MB", "trailing" },
		{ "64M ", "trailing" },
		{ "1M", "needs at least 16M" },
		{ "16773120", "needs at least 16M" },   /* 16M - 4K */
		{ "2097151", "needs at least 16M" },
		{ "65G", "the most is 64G" },
		{ "68719480832", "the most is 64G" },   /* 64G + 4K */
		{ "30000000", "multiple of 4K" },
		{ "16777217", "multiple of 4K" },
		{ "99999999999999999999", "too large" },
		{ "18446744073709551615", "the most is 64G" },
		{ "17179869184G", "too large" },        /* 2^34 G overflows 64 bits */
		{ "0", "needs at least 16M" },
	};
	for (size_t i = 0; i < VMM_ARRAY_SIZE(cases); i++) {
		uint64_t v = 12345;
		tc_err[0] = '\0';
		ck_assert_msg(cli_parse_size(cases[i].in, &v, tc_err, sizeof(tc_err)) == -1,
		    "'%s' accepted", cases[i].in);
		ck_assert_uint_eq(v, 12345);
		ck_assert_msg(strstr(tc_err, cases[i].needle) != NULL, "'%s': '%s'",
		    cases[i].in, tc_err);
		ck_assert_msg(strstr(tc_err, cases[i].in) != NULL, "input not quoted: %s", tc_err);
	}
}
END_TEST

START_TEST(commands)
{
	ck_assert_int_eq(tc_parse("--help", NULL), 0);
	ck_assert_int_eq(tc_opts.co_cmd, CLI_CMD_HELP);
	ck_assert_int_eq(tc_parse("help", NULL), 0);
	ck_assert_int_eq(tc_opts.co_cmd, CLI_CMD_HELP);
	ck_assert_int_eq(tc_parse("--version", NULL), 0);
	ck_assert_int_eq(tc_opts.co_cmd, CLI_CMD_VERSION);
	ck_assert_int_eq(tc_parse("run", "--help", NULL), 0);
	ck_assert_int_eq(tc_opts.co_cmd, CLI_CMD_HELP);
	ck_assert_int_eq(tc_parse("run", "--version", NULL), 0);
	ck_assert_int_eq(tc_opts.co_cmd, CLI_CMD_VERSION);
	tc_assert_usage_error(tc_parse(NULL), "missing command");
	tc_assert_usage_error(tc_parse("walk", NULL), "unknown command 'walk'");
	tc_assert_usage_error(tc_parse("run", NULL), "needs a PROGRAM");
}
END_TEST

START_TEST(run_defaults)
{
	ck_assert_int_eq(tc_parse("run", "--ktest", NULL), 0);
	ck_assert_int_eq(tc_opts.co_cmd, CLI_CMD_RUN);
	ck_assert_uint_eq(tc_opts.co_mem_size, 64ull << 20);
	ck_assert_uint_eq(tc_opts.co_ncpus, 1);
	ck_assert_ptr_null(tc_opts.co_kernel);
	ck_assert_str_eq(tc_opts.co_ktest, "all");
	ck_assert_str_eq(tc_opts.co_append, "");
	ck_assert(!tc_opts.co_verbose);
	ck_assert_ptr_null(tc_opts.co_trace_insns);
	ck_assert_int_eq(tc_opts.co_prog_argc, 0);
}
END_TEST

START_TEST(run_options)
{
	ck_assert_int_eq(tc_parse("run", "-m", "1G", "-c", "1", "-k", "k.elf", "--ktest=a,b",
	    "--append", "x=1 y", "-v", NULL), 0);
	ck_assert_uint_eq(tc_opts.co_mem_size, 1ull << 30);
	ck_assert_str_eq(tc_opts.co_kernel, "k.elf");
	ck_assert_str_eq(tc_opts.co_ktest, "a,b");
	ck_assert_str_eq(tc_opts.co_append, "x=1 y");
	ck_assert(tc_opts.co_verbose);
	ck_assert_int_eq(tc_parse("run", "--trace-insns", "/tmp/t", "--ktest", NULL), 0);
	ck_assert_str_eq(tc_opts.co_trace_insns, "/tmp/t");
	ck_assert_int_eq(tc_parse("run", "--memory=128M", "--kernel=/k", "--cpus=1",
	    "--ktest=none", NULL), 0);
	ck_assert_uint_eq(tc_opts.co_mem_size, 128ull << 20);
	ck_assert_str_eq(tc_opts.co_kernel, "/k");
	ck_assert_str_eq(tc_opts.co_ktest, "none");
}
END_TEST

/* Options after PROGRAM belong to PROGRAM. */
START_TEST(run_program_args)
{
	ck_assert_int_eq(tc_parse("run", "-m", "32M", "/bin/prog", "-m", "--ktest", "x",
	    NULL), 0);
	ck_assert_uint_eq(tc_opts.co_mem_size, 32ull << 20);
	ck_assert_ptr_null(tc_opts.co_ktest);
	ck_assert_int_eq(tc_opts.co_prog_argc, 4);
	ck_assert_str_eq(tc_opts.co_prog_argv[0], "/bin/prog");
	ck_assert_str_eq(tc_opts.co_prog_argv[1], "-m");
	ck_assert_str_eq(tc_opts.co_prog_argv[3], "x");

	char line[PVH_CMDLINE_MAX];
	ck_assert_int_eq(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "/bin/prog -m --ktest x");
	ck_assert_int_eq(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "");
}
END_TEST

START_TEST(run_errors)
{
	tc_assert_usage_error(tc_parse("run", "-c", "2", "--ktest", NULL),
	    "-c 2: at most 1 vCPU (SMP is not supported yet); use -c 1");
	tc_assert_usage_error(tc_parse("run", "-c", "0", "--ktest", NULL), "whole number from 1");
	tc_assert_usage_error(tc_parse("run", "-c", "one", "--ktest", NULL), "whole number");
	tc_assert_usage_error(tc_parse("run", "-c", "1x", "--ktest", NULL), "whole number");
	/* Too many says the maximum, however many too many. */
	tc_assert_usage_error(tc_parse("run", "-c", "99999", "--ktest", NULL), "at most 1 vCPU");
	tc_assert_usage_error(tc_parse("run", "-c", "99999999999999999999999", "--ktest",
	    NULL), "at most 1 vCPU");
	tc_assert_usage_error(tc_parse("run", "-m", "3X", "--ktest", NULL), "unknown suffix");
	tc_assert_usage_error(tc_parse("run", "-m", "1M", "--ktest", NULL),
	    "memory size '1M' is too small: the guest needs at least 16M");
	tc_assert_usage_error(tc_parse("run", "--bogus", NULL), "unknown option '--bogus'");
	tc_assert_usage_error(tc_parse("run", "-q", "--ktest", NULL), "unknown option '-q'");
	tc_assert_usage_error(tc_parse("run", "--ktest", "-m", NULL), "'-m' needs a value");
	tc_assert_usage_error(tc_parse("run", "--ktest", "--append", NULL),
	    "'--append' needs a value");
	tc_assert_usage_error(tc_parse("run", "--ktest=", NULL), "--ktest=");
	tc_assert_usage_error(tc_parse("run", "--ktest=a,,b", NULL), "comma-separated");
	tc_assert_usage_error(tc_parse("run", "--ktest=a b", NULL), "comma-separated");
	tc_assert_usage_error(tc_parse("run", "--ktest=a,", NULL), "comma-separated");
	tc_assert_usage_error(tc_parse("run", "--ktest=x=y", NULL), "comma-separated");
	tc_assert_usage_error(tc_parse("run", "-k", "", "--ktest", NULL), "-k needs");
	tc_assert_usage_error(tc_parse("run", "--trace-insns", "", "--ktest", NULL),
	    "--trace-insns needs");
	tc_assert_usage_error(tc_parse("run", "--ktest", "--trace-insns", NULL),
	    "'--trace-insns' needs a value");
	tc_assert_usage_error(tc_parse("run", "--append", "a\nb", "--ktest", NULL), "newline");
	/* Blanks travel (devices/pvh_args.h); an empty string has no word to travel as. */
	ck_assert_int_eq(tc_parse("run", "prog", "two words", "a\nb", NULL), 0);
	tc_assert_usage_error(tc_parse("run", "prog", "", NULL), "argument 1 is empty");
}
END_TEST

START_TEST(guest_cmdline)
{
	char line[PVH_CMDLINE_MAX];

	ck_assert_int_eq(tc_parse("run", "--ktest", NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "ktest=all");
	ck_assert_int_eq(tc_parse("run", "-v", "--ktest=none", "--append", "a=1  b", NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "ktest=none verbose a=1  b");
	ck_assert_int_eq(tc_parse("run", "--ktest=phys,uma", "-v", NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "ktest=phys,uma verbose");
	ck_assert_int_eq(tc_parse("run", "--append", "quiet", "p", NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "quiet");
}
END_TEST

/* 4095 bytes fit (with the NUL); 4096 do not. */
START_TEST(cmdline_limits)
{
	static char big[PVH_CMDLINE_MAX + 2];
	char line[PVH_CMDLINE_MAX];

	memset(big, 'a', PVH_CMDLINE_MAX - 1);
	big[PVH_CMDLINE_MAX - 1] = '\0';
	ck_assert_int_eq(tc_parse("run", "--append", big, "p", NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_uint_eq(strlen(line), PVH_CMDLINE_MAX - 1);
	ck_assert_int_eq(tc_parse("run", "-v", "--append", big, "p", NULL), 0);
	tc_assert_usage_error(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), "longer than 4095");

	ck_assert_int_eq(tc_parse("run", big, NULL), 0);
	ck_assert_int_eq(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, big);
	ck_assert_int_eq(tc_parse("run", big, "x", NULL), 0);
	tc_assert_usage_error(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), "longer than 4095");
}
END_TEST

/* Options that hold one value refuse a second; getopt's refusals name the option as
 * typed and say why. */
START_TEST(options_once_and_named)
{
	tc_assert_usage_error(tc_parse("run", "-m", "16M", "-m", "64M", "--ktest", NULL),
	    "-m/--memory given twice ('16M', then '64M')");
	tc_assert_usage_error(tc_parse("run", "-k", "a", "--kernel=b", "--ktest", NULL),
	    "-k/--kernel given twice");
	tc_assert_usage_error(tc_parse("run", "-c", "1", "-c", "1", "--ktest", NULL),
	    "-c/--cpus given twice");
	tc_assert_usage_error(tc_parse("run", "--trace-insns", "a", "--trace-insns", "b",
	    "--ktest", NULL), "--trace-insns given twice");
	tc_assert_usage_error(tc_parse("run", "--watchdog=5", "--watchdog=7", "--ktest", NULL),
	    "--watchdog given twice");
	tc_assert_usage_error(tc_parse("run", "--verbose=1", "--ktest", NULL),
	    "option '--verbose' takes no value");
	tc_assert_usage_error(tc_parse("run", "--memory", NULL), "option '--memory' needs a value");
	tc_assert_usage_error(tc_parse("run", "-m", NULL), "option '-m' needs a value");
	tc_assert_usage_error(tc_parse("run", "--ver", "--ktest", NULL), "is ambiguous");
	tc_assert_usage_error(tc_parse("run", "--bogus", "--ktest", NULL),
	    "unknown option '--bogus'");
	tc_assert_usage_error(tc_parse("run", "-x", "--ktest", NULL), "unknown option '-x'");
	/* A byte the terminal would act on never reaches it. */
	tc_assert_usage_error(tc_parse("run", "-m", "6\n4M", "--ktest", NULL), "'6?4M'");
	/* -v and --append verbose ask the guest for the same word: it goes once. */
	char line[PVH_CMDLINE_MAX];
	ck_assert_int_eq(tc_parse("run", "-v", "--append", "verbose", "--ktest=boot", NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "ktest=boot verbose");
	/* Top-level commands take what they take. */
	tc_assert_usage_error(tc_parse("--version", "--bogus", NULL), "takes no arguments");
	tc_assert_usage_error(tc_parse("help", "x", NULL), "takes no arguments but 'run'");
	ck_assert_int_eq(tc_parse("help", "run", NULL), 0);
	ck_assert_int_eq(tc_opts.co_cmd, CLI_CMD_HELP);
}
END_TEST

START_TEST(watchdog_option)
{
	ck_assert_int_eq(tc_parse("run", "--ktest", NULL), 0);
	ck_assert_uint_eq(tc_opts.co_watchdog, WATCHDOG_DEFAULT_SEC);
	ck_assert_int_eq(tc_parse("run", "--watchdog=0", "--ktest", NULL), 0);
	ck_assert_uint_eq(tc_opts.co_watchdog, 0);
	ck_assert_int_eq(tc_parse("run", "--watchdog", "600", "--ktest", NULL), 0);
	ck_assert_uint_eq(tc_opts.co_watchdog, 600);
	tc_assert_usage_error(tc_parse("run", "--watchdog=-1", "--ktest", NULL), "0 (off)");
	tc_assert_usage_error(tc_parse("run", "--watchdog=1s", "--ktest", NULL), "whole seconds");
	tc_assert_usage_error(tc_parse("run", "--watchdog=86401", "--ktest", NULL), "86400");
	tc_assert_usage_error(tc_parse("run", "--watchdog=", "--ktest", NULL), "--watchdog");
}
END_TEST

/* -d/--dump FILE and the options that only make sense with it. */
START_TEST(dump_options)
{
	ck_assert_int_eq(tc_parse("run", "--ktest", NULL), 0);
	ck_assert_ptr_null(tc_opts.co_dump);
	ck_assert(!tc_opts.co_dump_full && !tc_opts.co_dump_at_exit);
	ck_assert_int_eq(tc_parse("run", "-d", "/tmp/core", "--ktest", NULL), 0);
	ck_assert_str_eq(tc_opts.co_dump, "/tmp/core");
	ck_assert_int_eq(tc_parse("run", "--dump=/tmp/c", "--dump-full", "--dump-at-exit",
	    "prog", NULL), 0);
	ck_assert_str_eq(tc_opts.co_dump, "/tmp/c");
	ck_assert(tc_opts.co_dump_full && tc_opts.co_dump_at_exit);
	tc_assert_usage_error(tc_parse("run", "--dump-full", "--ktest", NULL),
	    "--dump-full is about the dump: give its file with -d FILE");
	tc_assert_usage_error(tc_parse("run", "--dump-at-exit", "--ktest", NULL),
	    "--dump-at-exit is about the dump");
	tc_assert_usage_error(tc_parse("run", "-d", "a", "--dump", "b", "--ktest", NULL),
	    "-d/--dump given twice ('a', then 'b')");
	tc_assert_usage_error(tc_parse("run", "--dump=", "--ktest", NULL), "-d needs a file");
	tc_assert_usage_error(tc_parse("run", "--ktest", "--dump", NULL), "needs a value");
	tc_assert_usage_error(tc_parse("run", "--dump-full=1", "--ktest", NULL),
	    "takes no value");
}
END_TEST

/* Every --append is kept, in order; together they must fit the guest's command line. */
START_TEST(append_repeated)
{
	static char half[PVH_CMDLINE_MAX / 2 + 1];
	char line[PVH_CMDLINE_MAX];

	ck_assert_int_eq(tc_parse("run", "--append", "a=1", "--ktest=none", "--append", "b  c",
	    "--append=d", "p", NULL), 0);
	ck_assert_str_eq(tc_opts.co_append, "a=1 b  c d");
	ck_assert_int_eq(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "ktest=none a=1 b  c d");

	/* An empty --append adds nothing: said, not dropped in silence. */
	tc_assert_usage_error(tc_parse("run", "--append", "", "--ktest", NULL), "nothing to add");
	tc_assert_usage_error(tc_parse("run", "--append", "  ", "--ktest", NULL), "nothing to add");

	memset(half, 'h', sizeof(half) - 1);
	ck_assert_int_eq(tc_parse("run", "--append", half, "p", NULL), 0);
	tc_assert_usage_error(tc_parse("run", "--append", half, "--append", half, "p", NULL),
	    "--append: the strings together are longer than 4095 bytes");
}
END_TEST

/* The guest splits its command line into at most PVH_CMDLINE_MAX_WORDS words: the VMM
 * refuses a line with more, counting words the way the guest does. */
START_TEST(cmdline_words)
{
	char words[PVH_CMDLINE_MAX_WORDS * 3 + 8], line[PVH_CMDLINE_MAX];
	size_t n = 0;

	/* ktest=all and 31 more: exactly the limit. */
	for (unsigned i = 0; i < PVH_CMDLINE_MAX_WORDS - 1; i++)
		n += (size_t)snprintf(words + n, sizeof(words) - n, "%s%c", i % 2 ? "\t" : " ",
		    'a' + (char)(i % 26));
	ck_assert_int_eq(tc_parse("run", "--ktest", "--append", words, NULL), 0);
	ck_assert_int_eq(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_int_eq(tc_parse("run", "--ktest", "-v", "--append", words, NULL), 0);
	tc_assert_usage_error(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), "33 words; the guest takes at most 32 words");
	/* A control byte separates words as a blank does; a byte above 0x7f does not. */
	ck_assert_int_eq(tc_parse("run", "--ktest", "--append", words, "--append", "x\x01y",
	    NULL), 0);
	tc_assert_usage_error(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), "34 words");
	ck_assert_int_eq(tc_parse("run", "--ktest", "--append", words, "--append", "x\xc3\xa9y",
	    NULL), 0);
	tc_assert_usage_error(cli_guest_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), "33 words");
}
END_TEST

/* --ktest's value: all and none alone, given once, after '='; ktest= in --append counts
 * as something to run. */
START_TEST(ktest_values)
{
	static const char *const alone[] = { "all,none", "none,all", "none,boot", "boot,all",
		"a,all,b", "a,none" };
	for (size_t i = 0; i < VMM_ARRAY_SIZE(alone); i++) {
		char opt[32];
		snprintf(opt, sizeof(opt), "--ktest=%s", alone[i]);
		tc_assert_usage_error(tc_parse("run", opt, NULL), "all and none must stand alone");
	}
	ck_assert_int_eq(tc_parse("run", "--ktest=boot.cmdline,allx,nonex,xall", NULL), 0);
	ck_assert_str_eq(tc_opts.co_ktest, "boot.cmdline,allx,nonex,xall");
	tc_assert_usage_error(tc_parse("run", "--ktest=a", "--ktest=b", NULL),
	    "--ktest given twice");
	tc_assert_usage_error(tc_parse("run", "--ktest", "--ktest", NULL), "--ktest given twice");

	tc_assert_usage_error(tc_parse("run", "--ktest", "none", NULL), "use --ktest=none");
	tc_assert_usage_error(tc_parse("run", "--ktest", "all", NULL), "use --ktest=all");
	tc_assert_usage_error(tc_parse("run", "-v", "--ktest", "boot,page", NULL),
	    "use --ktest=boot,page");
	/* Anything else after a bare --ktest is the PROGRAM, run after the tests. */
	ck_assert_int_eq(tc_parse("run", "--ktest", "/bin/true", "none", NULL), 0);
	ck_assert_str_eq(tc_opts.co_ktest, "all");
	ck_assert_int_eq(tc_opts.co_prog_argc, 2);
	ck_assert_int_eq(tc_parse("run", "--ktest", "prog", NULL), 0);
	ck_assert_str_eq(tc_opts.co_prog_argv[0], "prog");

	ck_assert_int_eq(tc_parse("run", "--append", "verbose ktest=boot", NULL), 0);
	ck_assert_ptr_null(tc_opts.co_ktest);
	ck_assert_int_eq(tc_parse("run", "--append", "ktest", NULL), 0);
	ck_assert_int_eq(tc_parse("run", "--append", "a\tktest=", NULL), 0);
	tc_assert_usage_error(tc_parse("run", "--append", "xktest=1", NULL), "needs a PROGRAM");
	tc_assert_usage_error(tc_parse("run", "--append", "ktestx=1 verbose", NULL),
	    "needs a PROGRAM");
}
END_TEST

/* Module 0's line split back as the guest does: the strings, argv's count. */
static int tc_split(char *line, char **strs, unsigned *nargv)
{
	return pvh_args_split(line, strs, PVH_ARGS_MAX, nargv);
}

/* -e/--env: NAME=VALUE kept in order, duplicates too; a bare NAME takes the host's
 * value or, unset there, nothing; the strings follow argv in module 0's line. */
START_TEST(env_option)
{
	char line[PVH_CMDLINE_MAX], *strs[PVH_ARGS_MAX];
	unsigned nargv;

	ck_assert_int_eq(setenv("VMM_TC_HOST", "h v", 1), 0);
	ck_assert_int_eq(unsetenv("VMM_TC_UNSET"), 0);
	ck_assert_int_eq(tc_parse("run", "-e", "A=1", "--env", "B=two words",
	    "--env=VMM_TC_HOST", "-e", "VMM_TC_UNSET", "-eA=2", "-e", "C=", "-e", "D==x", "p", "x%y", "-e", "E=1",
	    NULL), 0);
	ck_assert_uint_eq(tc_opts.co_nenv, 6);
	ck_assert_str_eq(tc_opts.co_env[0], "A=1");
	ck_assert_str_eq(tc_opts.co_env[1], "B=two words");
	ck_assert_str_eq(tc_opts.co_env[2], "VMM_TC_HOST=h v");
	ck_assert_str_eq(tc_opts.co_env[3], "A=2");
	ck_assert_str_eq(tc_opts.co_env[4], "C=");
	ck_assert_str_eq(tc_opts.co_env[5], "D==x");
	ck_assert_int_eq(tc_opts.co_prog_argc, 4);      /* -e E=1 is the program's own */
	ck_assert_int_eq(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "p x%25y -e E=1 % A=1 B=two%20words VMM_TC_HOST=h%20v A=2 C= "
	    "D==x");
	ck_assert_int_eq(tc_split(line, strs, &nargv), 10);
	ck_assert_uint_eq(nargv, 4);
	ck_assert_str_eq(strs[1], "x%y");
	ck_assert_str_eq(strs[3], "E=1");
	ck_assert_str_eq(strs[5], "B=two words");
	ck_assert_str_eq(strs[6], "VMM_TC_HOST=h v");
	ck_assert_str_eq(strs[9], "D==x");

	/* No --env: no separator, the line as it always was; the host's environment stays
	 * out. */
	ck_assert_int_eq(tc_parse("run", "p", "a", NULL), 0);
	ck_assert_uint_eq(tc_opts.co_nenv, 0);
	ck_assert_int_eq(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_str_eq(line, "p a");
	ck_assert_int_eq(tc_split(line, strs, &nargv), 2);
	ck_assert_uint_eq(nargv, 2);
	/* Only unset names: nothing to pass, and no PROGRAM needed for it. */
	ck_assert_int_eq(tc_parse("run", "--ktest", "-e", "VMM_TC_UNSET", NULL), 0);
	ck_assert_uint_eq(tc_opts.co_nenv, 0);
	ck_assert_int_eq(unsetenv("VMM_TC_HOST"), 0);
}
END_TEST

START_TEST(env_errors)
{
	static char big[PVH_CMDLINE_MAX];
	char line[PVH_CMDLINE_MAX];

	tc_assert_usage_error(tc_parse("run", "-e", "", "p", NULL), "--env '': the variable has "
	    "no name");
	tc_assert_usage_error(tc_parse("run", "-e", "=1", "p", NULL), "--env '=1': the variable "
	    "has no name");
	/* The message quotes the first line only: it stays one line. */
	tc_assert_usage_error(tc_parse("run", "-e", "A\nB=1", "p", NULL), "--env 'A...': the "
	    "variable's name has a newline");
	tc_assert_usage_error(tc_parse("run", "-e", "A\nB", "p", NULL), "has a newline");
	tc_assert_usage_error(tc_parse("run", "-e", "=\n", "p", NULL), "no name");
	tc_assert_usage_error(tc_parse("run", "--ktest", "--env", NULL),
	    "'--env' needs a value");
	tc_assert_usage_error(tc_parse("run", "--ktest", "-e", NULL), "'-e' needs a value");
	tc_assert_usage_error(tc_parse("run", "--ktest", "-e", "A=1\n2", NULL),
	    "--env A: there is no PROGRAM");
	/* A value may hold any byte but NUL, a newline too. */
	ck_assert_int_eq(tc_parse("run", "-e", "A=1\n2", "p", NULL), 0);

	/* Host values that cannot all reach the guest are refused at once. */
	memset(big, 'v', sizeof(big) - 1);
	big[PVH_CMDLINE_MAX - 13] = '\0';     /* "VMM_TC_BIG=" and the NUL fill the store */
	ck_assert_int_eq(setenv("VMM_TC_BIG", big, 1), 0);
	ck_assert_int_eq(tc_parse("run", "-e", "VMM_TC_BIG", "p", NULL), 0);
	tc_assert_usage_error(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), "longer than 4095 bytes once encoded");
	tc_assert_usage_error(tc_parse("run", "-e", "VMM_TC_BIG", "-e", "VMM_TC_BIG", "p",
	    NULL), "--env VMM_TC_BIG: the host's values are longer than 4095 bytes");
	ck_assert_int_eq(unsetenv("VMM_TC_BIG"), 0);

	/* Escapes count: 1364 '%' and "p " are 4094 bytes once encoded, one more is 4097. */
	memset(big, '%', 1364);
	big[1364] = '\0';
	ck_assert_int_eq(tc_parse("run", "p", big, NULL), 0);
	ck_assert_int_eq(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_uint_eq(strlen(line), 4094);
	big[1364] = '%';
	big[1365] = '\0';
	ck_assert_int_eq(tc_parse("run", "p", big, NULL), 0);
	tc_assert_usage_error(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), "longer than 4095 bytes once encoded");
}
END_TEST

/* PVH_ARGS_MAX strings in all, argv's and envp's together; more is refused, never cut. */
START_TEST(env_count)
{
	enum { N = PVH_ARGS_MAX + 4 };
	static char *argv[2 * N + 4];
	static char names[N][16];
	char line[PVH_CMDLINE_MAX];
	int argc = 0;

	argv[argc++] = "vmm";
	argv[argc++] = "run";
	for (unsigned i = 0; i < PVH_ARGS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "V%u=%u", i, i);
		argv[argc++] = "-e";
		argv[argc++] = names[i];
	}
	argv[argc] = "p";
	ck_assert_int_eq(cli_parse(argc + 1, argv, &tc_opts, tc_err, sizeof(tc_err)), 0);
	ck_assert_uint_eq(tc_opts.co_nenv, PVH_ARGS_MAX);
	tc_assert_usage_error(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), "are 129 strings; the guest takes at most 128");
	/* A name the host lacks adds nothing, so it does not count. */
	ck_assert_int_eq(unsetenv("VMM_TC_UNSET"), 0);
	argv[argc] = "-e";
	argv[argc + 1] = "VMM_TC_UNSET";
	argv[argc + 2] = "p";
	ck_assert_int_eq(cli_parse(argc + 3, argv, &tc_opts, tc_err, sizeof(tc_err)), 0);
	ck_assert_uint_eq(tc_opts.co_nenv, PVH_ARGS_MAX);
	argv[argc++] = "-e";
	argv[argc++] = "X=1";
	argv[argc++] = "p";
	tc_assert_usage_error(cli_parse(argc, argv, &tc_opts, tc_err, sizeof(tc_err)),
	    "--env given more than 128 times");
	/* 127 and PROGRAM: exactly the limit. */
	argv[2 * PVH_ARGS_MAX] = "p";
	ck_assert_int_eq(cli_parse(2 * PVH_ARGS_MAX + 1, argv, &tc_opts, tc_err,
	    sizeof(tc_err)), 0);
	ck_assert_int_eq(cli_program_cmdline(&tc_opts, line, sizeof(line), tc_err,
	    sizeof(tc_err)), 0);
}
END_TEST

/* The encoding itself: every byte but NUL makes the round trip; a line from another
 * loader (no escapes, stray '%') reads as it is; too many strings are refused. */
START_TEST(args_encoding)
{
	char all[256], line[1024], *strs[PVH_ARGS_MAX];
	size_t len = 0;
	unsigned nargv;

	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	ck_assert_int_eq(pvh_args_put(line, sizeof(line), &len, all), 0);
	ck_assert_int_eq(pvh_args_put(line, sizeof(line), &len, "%"), 0);
	ck_assert_int_eq(pvh_args_put_env_sep(line, sizeof(line), &len), 0);
	ck_assert_int_eq(pvh_args_put(line, sizeof(line), &len, "A=%41"), 0);
	ck_assert_uint_eq(len, strlen(line));
	for (const char *p = line; *p != '\0'; p++)
		ck_assert_msg(((unsigned char)*p > ' ' && *p != 0x7f) || *p == ' ',
		    "byte %#x in the encoded line", (unsigned char)*p);
	ck_assert_int_eq(tc_split(line, strs, &nargv), 3);
	ck_assert_uint_eq(nargv, 2);
	ck_assert_str_eq(strs[0], all);
	ck_assert_str_eq(strs[1], "%");
	ck_assert_str_eq(strs[2], "A=%41");

	/* A word that does not fit leaves the line as it was. */
	char small[8];
	len = 0;
	ck_assert_int_eq(pvh_args_put(small, sizeof(small), &len, "abc"), 0);
	ck_assert_int_eq(pvh_args_put(small, sizeof(small), &len, "d f"), -1);
	ck_assert_int_eq(pvh_args_put(small, sizeof(small), &len, "def"), 0);
	ck_assert_str_eq(small, "abc def");
	ck_assert_int_eq(pvh_args_put(small, sizeof(small), &len, "g"), -1);
	ck_assert_str_eq(small, "abc def");

	/* Another loader's line: blanks of any kind split, stray escapes stay. */
	snprintf(line, sizeof(line), "  prog\t50%% %%zz %%4 %%00 %%2a %%%%  ");
	ck_assert_int_eq(tc_split(line, strs, &nargv), 7);
	ck_assert_uint_eq(nargv, 7);
	ck_assert_str_eq(strs[0], "prog");
	ck_assert_str_eq(strs[1], "50%");
	ck_assert_str_eq(strs[2], "%zz");
	ck_assert_str_eq(strs[3], "%4");
	ck_assert_str_eq(strs[4], "%00");
	ck_assert_str_eq(strs[5], "*");
	ck_assert_str_eq(strs[6], "%%");
	/* Only the first "%" word separates; an empty envp after it, an empty line. */
	snprintf(line, sizeof(line), "p %% A=1 %%");
	ck_assert_int_eq(tc_split(line, strs, &nargv), 3);
	ck_assert_uint_eq(nargv, 1);
	ck_assert_str_eq(strs[2], "%");
	snprintf(line, sizeof(line), "p %%");
	ck_assert_int_eq(tc_split(line, strs, &nargv), 1);
	ck_assert_uint_eq(nargv, 1);
	line[0] = '\0';
	ck_assert_int_eq(tc_split(line, strs, &nargv), 0);
	ck_assert_uint_eq(nargv, 0);

	len = 0;
	for (unsigned i = 0; i <= PVH_ARGS_MAX; i++)
		ck_assert_int_eq(pvh_args_put(line, sizeof(line), &len, "x"), 0);
	ck_assert_int_eq(pvh_args_split(line, strs, PVH_ARGS_MAX, &nargv), -1);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("vmm.cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, size_suffixes);
	tcase_add_test(tc, size_errors);
	tcase_add_test(tc, commands);
	tcase_add_test(tc, run_defaults);
	tcase_add_test(tc, run_options);
	tcase_add_test(tc, run_program_args);
	tcase_add_test(tc, run_errors);
	tcase_add_test(tc, guest_cmdline);
	tcase_add_test(tc, cmdline_limits);
	tcase_add_test(tc, watchdog_option);
	tcase_add_test(tc, options_once_and_named);
	tcase_add_test(tc, append_repeated);
	tcase_add_test(tc, cmdline_words);
	tcase_add_test(tc, ktest_values);
	tcase_add_test(tc, env_option);
	tcase_add_test(tc, env_errors);
	tcase_add_test(tc, env_count);
	tcase_add_test(tc, args_encoding);
	tcase_add_test(tc, dump_options);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(cli_suite);
