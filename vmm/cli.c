/*
 * Command-line parsing for build/vmm. Every error is one line that says what was wrong
 * and how to fix it; the caller prefixes "vmm: " and exits with the status returned.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pvh.h"
#include "devices/pvh_args.h"
#include "devices/virtio.h"
#include "vmm/cli.h"
#include "vmm/vmm.h"
#include "vmm/watchdog.h"

/* Every failure here means the same exit status. */
#define cli_fail(err, errlen, ...)  vmm_errf(err, errlen, VMM_EXIT_USAGE, __VA_ARGS__)

void cli_usage(FILE *f)
{
	fputs(
	    "usage: vmm run [options] [PROGRAM [ARGS...]]\n"
	    "       vmm dump SUBCOMMAND [--json] FILE [ARGS]   (see 'vmm dump --help')\n"
	    "       vmm help | --help | --version\n"
	    "\n"
	    "Run the guest kernel in a KVM micro-VM; PROGRAM (a static x86-64 Linux ELF)\n"
	    "is handed to the guest with its ARGS. The exit status is the guest's.\n"
	    "\n"
	    "options of run:\n"
	    "  -m, --memory SIZE    guest RAM: bytes or K/M/G, 16M..64G (default 64M)\n"
	    "  -c, --cpus N         vCPUs (default 1; only 1 is supported so far)\n"
	    "  -k, --kernel FILE    guest kernel (default: kernel.elf beside vmm)\n"
	    "  -e, --env NAME=VALUE put NAME in PROGRAM's environment; repeatable, kept\n"
	    "                       in order. A bare NAME passes the host's value (none\n"
	    "                       when the host has no NAME). No host variable reaches\n"
	    "                       PROGRAM unless named: its environment is otherwise\n"
	    "                       empty\n"
	    "      --ktest[=SUITES] run the kernel's self-tests: all (default), none,\n"
	    "                       or a comma-separated list of SUITE and SUITE.TEST\n"
	    "                       names; all and none stand alone; the value goes\n"
	    "                       after '=' (--ktest=none). With PROGRAM: the tests\n"
	    "                       first, the program if they all passed\n"
	    "      --append STR     add STR to the guest kernel command line; repeatable,\n"
	    "                       at most 32 words in all; the guest refuses words it\n"
	    "                       does not know and keys given twice\n"
	    "  -s, --swap FILE      give the guest a swap disk (virtio-blk) backed by FILE;\n"
	    "                       a missing FILE is created sparse, an existing one is\n"
	    "                       used as it is (read-only if it is not writable)\n"
	    "      --swap-size SIZE size of a FILE -s creates: bytes or K/M/G/T, a\n"
	    "                       multiple of 4K (default 4x the guest's memory)\n"
	    "      --swap-direct    open FILE with O_DIRECT (no host page cache)\n"
	    "      --stats[=SECONDS]\n"
	    "                       every SECONDS (default 1; 0.1 to 3600, fractions\n"
	    "                       allowed: --stats=0.5) print the guest's memory and\n"
	    "                       paging on stderr, read without stopping it; at exit\n"
	    "                       a summary with the swap device's counters\n"
	    "      --stats-log FILE also write the lines to FILE (for scripts/plot-stats)\n"
	    "  -d, --dump FILE      write an ELF core of the guest's kernel memory and vCPUs\n"
	    "                       to FILE when it panics or dies, and on SIGQUIT to the\n"
	    "                       VMM (the run goes on; each SIGQUIT replaces FILE). A\n"
	    "                       minidump; gdb reads it with the kernel (docs/dump.md)\n"
	    "      --dump-full      the dump carries all of the guest's RAM\n"
	    "      --dump-at-exit   dump also when the run ends otherwise (the guest's\n"
	    "                       exit, SIGINT, SIGTERM)\n"
	    "  -v, --verbose        print the VMM's phases and guest milestones with times\n"
	    "      --trace-insns FILE\n"
	    "                       single-step the guest and write each instruction's\n"
	    "                       address to FILE (where kernel mode is emulated, only\n"
	    "                       kernel mode steps); scripts/insn-profile.sh sums it\n"
	    "                       by function\n"
	    "      --watchdog=SECONDS\n"
	    "                       end a guest that makes no progress (no exit to the\n"
	    "                       VMM, no clock tick) for SECONDS: exit 70 (default\n"
	    "                       120; 0 disables it). A vCPU halted with interrupts\n"
	    "                       masked is reported at once, whatever this says\n"
	    "  -h, --help           print this help and exit\n"
	    "      --version        print the version and exit\n"
	    "\n"
	    "exit status: the guest's; 64 usage error, 66 bad input file, 70 guest panic or\n"
	    "crash, 71 host failure (e.g. no KVM), 130/143 interrupted.\n",
	    f);
}

/* What differs between the sizes a user gives: the name in messages, the suffixes, the
 * range. */
struct cli_size_kind {
	const char *sk_what;            /* "memory size", "--swap-size" */
	const char *sk_example;         /* for a value that is no number */
	unsigned sk_max_shift;          /* 30: up to G; 40: up to T */
	const char *sk_suffixes;        /* as the messages list them */
	uint64_t sk_min, sk_max;
	const char *sk_too_small;       /* what at least is needed */
	const char *sk_most;            /* sk_max as people write it */
};

/* Decimal bytes with an optional K, M, G (or T) suffix, powers of 1024, a multiple of
 * 4 KiB within the kind's range. => 0, or VMM_EXIT_USAGE with a message naming s. */
static int cli_parse_bytes(const struct cli_size_kind *k, const char *s, uint64_t *out,
    char *err, size_t errlen)
{
	const char *p = s;
	uint64_t v = 0;
	unsigned shift = 0;

	if (!isdigit((unsigned char)*p))
		return cli_fail(err, errlen, "%s '%s' is not a number; use e.g. %s", k->sk_what,
		    s, k->sk_example);
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			goto toolarge;
		v = v * 10 + d;
	}
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	default: shift = 64; break;
	}
	if (shift > k->sk_max_shift)
		return cli_fail(err, errlen, "%s '%s' has an unknown suffix; use bytes or %s "
		    "(e.g. 512M)", k->sk_what, s, k->sk_suffixes);
	if (*p != '\0')
		return cli_fail(err, errlen, "%s '%s' has trailing characters; use bytes or %s "
		    "(e.g. 512M)", k->sk_what, s, k->sk_suffixes);
	if (shift != 0 && v > (UINT64_MAX >> shift))
		goto toolarge;
	v <<= shift;
	if (v > k->sk_max)
		goto toolarge;
	if (v < k->sk_min)
		return cli_fail(err, errlen, "%s '%s' is too small: %s", k->sk_what, s,
		    k->sk_too_small);
	if (v % 4096 != 0)
		return cli_fail(err, errlen, "%s '%s' is not a multiple of 4K; round it to whole "
		    "pages", k->sk_what, s);
	*out = v;
	return 0;
toolarge:
	return cli_fail(err, errlen, "%s '%s' is too large; the most is %s", k->sk_what, s,
	    k->sk_most);
}

int cli_parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	static const struct cli_size_kind mem = {
		"memory size", "64M or 1G", 30, "K, M, G", CLI_MEM_MIN, CLI_MEM_MAX,
		"the guest needs at least 16M", "64G",
	};
	_Static_assert(CLI_MEM_MIN == 16ull << 20 && CLI_MEM_MAX == 64ull << 30,
	    "the messages name the memory range");

	return cli_parse_bytes(&mem, s, out, err, errlen) == 0 ? 0 : -1;
}

int cli_parse_swap_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	static const struct cli_size_kind swap = {
		"--swap-size", "256M or 4G", 40, "K, M, G, T", CLI_SWAP_MIN, CLI_SWAP_MAX,
		"at least one page, 4K", "16T",
	};
	_Static_assert(CLI_SWAP_MIN == 4096 && CLI_SWAP_MAX == 16ull << 40,
	    "the messages name the swap range");

	return cli_parse_bytes(&swap, s, out, err, errlen);
}

/* Suite lists travel as one token of the guest command line: no blanks, no '='. */
static bool cli_ktest_list_ok(const char *s)
{
	/* all and none stand alone, as the guest (ktest.c) requires. */
	if (strchr(s, ',') != NULL) {
		size_t n = strlen(s);
		if (strncmp(s, "all,", 4) == 0 || strncmp(s, "none,", 5) == 0 ||
		    (n >= 4 && strcmp(s + n - 4, ",all") == 0) ||
		    (n >= 5 && strcmp(s + n - 5, ",none") == 0) ||
		    strstr(s, ",all,") != NULL || strstr(s, ",none,") != NULL)
			return false;
	}
	if (*s == '\0' || *s == ',')
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == ',' && (p[1] == ',' || p[1] == '\0'))
			return false;
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.' &&
		    *p != ',')
			return false;
	}
	return true;
}

enum { CLI_OPT_KTEST = 256, CLI_OPT_APPEND, CLI_OPT_VERSION, CLI_OPT_TRACE_INSNS,
	CLI_OPT_WATCHDOG, CLI_OPT_SWAP_SIZE, CLI_OPT_SWAP_DIRECT, CLI_OPT_STATS,
	CLI_OPT_STATS_LOG, CLI_OPT_DUMP_FULL, CLI_OPT_DUMP_AT_EXIT, CLI_OPT_MAX };

static const struct option cli_run_options[] = {
	{ "memory",  required_argument, NULL, 'm' },
	{ "cpus",    required_argument, NULL, 'c' },
	{ "kernel",  required_argument, NULL, 'k' },
	{ "env",     required_argument, NULL, 'e' },
	{ "ktest",   optional_argument, NULL, CLI_OPT_KTEST },
	{ "append",  required_argument, NULL, CLI_OPT_APPEND },
	{ "verbose", no_argument,       NULL, 'v' },
	{ "trace-insns", required_argument, NULL, CLI_OPT_TRACE_INSNS },
	{ "watchdog", required_argument, NULL, CLI_OPT_WATCHDOG },
	{ "swap",    required_argument, NULL, 's' },
	{ "swap-size", required_argument, NULL, CLI_OPT_SWAP_SIZE },
	{ "swap-direct", no_argument,   NULL, CLI_OPT_SWAP_DIRECT },
	{ "stats",   optional_argument, NULL, CLI_OPT_STATS },
	{ "stats-log", required_argument, NULL, CLI_OPT_STATS_LOG },
	{ "dump",    required_argument, NULL, 'd' },
	{ "dump-full", no_argument,     NULL, CLI_OPT_DUMP_FULL },
	{ "dump-at-exit", no_argument,  NULL, CLI_OPT_DUMP_AT_EXIT },
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, CLI_OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The option getopt just rejected, as the user typed it (a long one without its value). */
static const char *cli_bad_option(char *const argv[], char *buf, size_t buflen)
{
	const char *a = argv[optind - 1];

	if (strncmp(a, "--", 2) == 0) {
		snprintf(buf, buflen, "%.*s", (int)strcspn(a, "="), a);
		return buf;
	}
	if (optopt != 0 && optopt < 256) {
		snprintf(buf, buflen, "-%c", optopt);
		return buf;
	}
	return a;
}

/* Why getopt refused the option in argv[optind - 1]: unknown, ambiguous, or given a
 * value it does not take. */
static int cli_refuse_option(char *const argv[], char *err, size_t errlen)
{
	char name[64];
	const char *opt = cli_bad_option(argv, name, sizeof(name));
	const char *match[2] = { NULL, NULL };
	unsigned nmatch = 0;

	if (strncmp(opt, "--", 2) == 0) {
		size_t len = strlen(opt + 2);
		for (const struct option *lo = cli_run_options; lo->name != NULL; lo++) {
			if (strncmp(lo->name, opt + 2, len) != 0)
				continue;
			if (lo->name[len] == '\0' && lo->has_arg == no_argument)
				return cli_fail(err, errlen, "option '%s' takes no value; see "
				    "'vmm run --help'", opt);
			if (nmatch < 2)
				match[nmatch] = lo->name;
			nmatch++;
		}
		if (nmatch > 1)
			return cli_fail(err, errlen, "option '%s' is ambiguous (--%s or --%s?); "
			    "spell it out", opt, match[0], match[1]);
	}
	return cli_fail(err, errlen, "unknown option '%s'; see 'vmm run --help'", opt);
}

/*
 * An option that holds one value, given again: the first would be dropped without a
 * word. seen[] keeps each one's first value, by option character.
 */
static int cli_once(const char **seen, int c, const char *name, const char *value,
    char *err, size_t errlen)
{
	if (seen[c] != NULL)
		return cli_fail(err, errlen, "%s given twice ('%s', then '%s'); give it once",
		    name, seen[c], value);
	seen[c] = value;
	return 0;
}

static int cli_parse_cpus(const char *s, unsigned *out, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	long n = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
	if (n < 1 || *end != '\0')
		return cli_fail(err, errlen, "-c %s: the number of vCPUs must be a whole number "
		    "from 1 to %d; use -c 1", s, CLI_CPUS_MAX);
	if (errno != 0 || n > CLI_CPUS_MAX)
		return cli_fail(err, errlen, "-c %s: at most %d vCPU%s (SMP is not supported "
		    "yet); use -c %d", s, CLI_CPUS_MAX, CLI_CPUS_MAX > 1 ? "s" : "",
		    CLI_CPUS_MAX);
	*out = (unsigned)n;
	return 0;
}

static int cli_parse_watchdog(const char *s, unsigned *out, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	long n = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
	if (n < 0 || errno != 0 || *end != '\0' || n > WATCHDOG_MAX_SEC)
		return cli_fail(err, errlen, "--watchdog=%s: give whole seconds from 0 (off) to "
		    "%d, e.g. --watchdog=600", s, WATCHDOG_MAX_SEC);
	*out = (unsigned)n;
	return 0;
}

int cli_parse_stats(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t v = 0;
	bool big = false;       /* past the range: said after the syntax is checked */
	_Static_assert(CLI_STATS_MIN_MS == 100 && CLI_STATS_MAX_MS == 3600000,
	    "the messages name the range");

	if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > CLI_STATS_MAX_MS / 1000) {
			big = true;
			v = 0;
		}
	}
	v *= 1000;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		for (uint64_t scale = 100; isdigit((unsigned char)*p); p++) {
			v += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p != '\0')
		goto bad;
	if (big || v < CLI_STATS_MIN_MS || v > CLI_STATS_MAX_MS)
		return cli_fail(err, errlen, "--stats=%s: the interval must be from 0.1 to "
		    "3600 seconds, e.g. --stats=0.5", s);
	*ms = v;
	return 0;
bad:
	return cli_fail(err, errlen, "--stats=%s: give the interval in seconds, a number "
	    "such as 2 or 0.5", s);
}

uint64_t cli_stats_guest_ms(uint64_t interval_ms)
{
	return interval_ms / 2;
}

/*
 * One --env: NAME=VALUE as given, or a bare NAME with the host's value, skipped when the
 * host has no NAME (as docker's -e does). => 0, or 64 with a message, which quotes at
 * most the first line of what was given.
 */
static int cli_parse_env(struct cli_opts *o, const char *arg, char *err, size_t errlen)
{
	size_t nl = strcspn(arg, "="), first_line = strcspn(arg, "\n");

	if (nl == 0)
		return cli_fail(err, errlen, "--env '%.*s': the variable has no name; give "
		    "NAME=VALUE, or NAME for the host's value", (int)first_line, arg);
	if (first_line < nl)
		return cli_fail(err, errlen, "--env '%.*s...': the variable's name has a newline; "
		    "give NAME=VALUE with a one-line NAME", (int)first_line, arg);
	const char *value = arg[nl] == '=' ? NULL : getenv(arg);
	if (arg[nl] != '=' && value == NULL)
		return 0;
	if (o->co_nenv == PVH_ARGS_MAX)
		return cli_fail(err, errlen, "--env given more than %u times; the guest takes "
		    "at most %u strings of arguments and environment", PVH_ARGS_MAX,
		    PVH_ARGS_MAX);
	if (value == NULL) {
		o->co_env[o->co_nenv++] = arg;
		return 0;
	}
	size_t vl = strlen(value);
	if (nl + vl + 2 > sizeof(o->co_env_host) - o->co_env_host_len)
		return cli_fail(err, errlen, "--env %s: the host's values are longer than %zu "
		    "bytes together, more than the guest takes; give NAME=VALUE or fewer names",
		    arg, sizeof(o->co_env_host) - 1);
	char *d = o->co_env_host + o->co_env_host_len;
	memcpy(d, arg, nl);
	d[nl] = '=';
	memcpy(d + nl + 1, value, vl + 1);
	o->co_env_host_len += nl + vl + 2;
	o->co_env[o->co_nenv++] = d;
	return 0;
}

/* Append a token to a space-separated line. => 0, or -1 when it would not fit. */
static int cli_append_token(char *buf, size_t buflen, size_t *len, const char *tok)
{
	size_t tl = strlen(tok), need = tl + (*len > 0 ? 1 : 0);

	if (tl == 0)
		return 0;
	if (need >= buflen - *len)
		return -1;
	if (*len > 0)
		buf[(*len)++] = ' ';
	memcpy(buf + *len, tok, tl);
	*len += tl;
	buf[*len] = '\0';
	return 0;
}

/*
 * `--ktest none`: getopt's optional argument takes only `--ktest=none`, so the word after
 * a bare --ktest would be PROGRAM. A word that reads as a suite list is taken for what
 * it is, a misplaced value. => 0, or 64 with the spelling to use.
 */
static int cli_ktest_spaced(int argc, char *const argv[], char *err, size_t errlen)
{
	const char *next = optind < argc ? argv[optind] : NULL;

	if (next != NULL && (strcmp(next, "all") == 0 || strcmp(next, "none") == 0 ||
	    (strchr(next, ',') != NULL && strchr(next, '/') == NULL)))
		return cli_fail(err, errlen, "--ktest takes its value after '=': use "
		    "--ktest=%s ('%s' would be the PROGRAM)", next, next);
	return 0;
}

/* Does a command line hold the word key, alone or as key=VALUE? */
static bool cli_has_word(const char *line, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = line; (p = strstr(p, key)) != NULL; p += kl) {
		if ((p == line || (unsigned char)p[-1] <= ' ') &&
		    ((unsigned char)p[kl] <= ' ' || p[kl] == '='))
			return true;
	}
	return false;
}

/* Words of a command line as the guest splits it: runs of bytes above ' '. */
static unsigned cli_count_words(const char *line)
{
	unsigned n = 0;

	for (const unsigned char *p = (const unsigned char *)line; *p != '\0'; p++)
		if (*p > ' ' && (p == (const unsigned char *)line || p[-1] <= ' '))
			n++;
	return n;
}

static int cli_parse_run(int argc, char *const argv[], struct cli_opts *o, char *err,
    size_t errlen)
{
	char optbuf[64];
	const char *seen[CLI_OPT_MAX] = { NULL };
	size_t append_len = 0;
	int c, rc;

	/* "+": stop at PROGRAM so its own options reach it; ":": we report errors. */
	optind = 0;     /* full re-initialisation in glibc: cli_parse may run many times */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:m:c:k:e:s:d:vh", cli_run_options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if ((rc = cli_once(seen, c, "-m/--memory", optarg, err, errlen)) != 0)
				return rc;
			if (cli_parse_size(optarg, &o->co_mem_size, err, errlen) != 0)
				return VMM_EXIT_USAGE;
			break;
		case 'c':
			if ((rc = cli_once(seen, c, "-c/--cpus", optarg, err, errlen)) != 0)
				return rc;
			if ((rc = cli_parse_cpus(optarg, &o->co_ncpus, err, errlen)) != 0)
				return rc;
			break;
		case 'k':
			if ((rc = cli_once(seen, c, "-k/--kernel", optarg, err, errlen)) != 0)
				return rc;
			if (*optarg == '\0')
				return cli_fail(err, errlen, "-k needs a kernel file name, e.g. "
				    "-k build/kernel.elf");
			o->co_kernel = optarg;
			break;
		case 'e':
			if ((rc = cli_parse_env(o, optarg, err, errlen)) != 0)
				return rc;
			break;
		case CLI_OPT_KTEST:
			if (o->co_ktest != NULL)
				return cli_fail(err, errlen, "--ktest given twice; give it once, "
				    "with a comma list if need be");
			if (optarg == NULL) {
				if ((rc = cli_ktest_spaced(argc, argv, err, errlen)) != 0)
					return rc;
				o->co_ktest = "all";
			} else if (!cli_ktest_list_ok(optarg)) {
				return cli_fail(err, errlen, "--ktest=%s: expected all, none or "
				    "comma-separated SUITE or SUITE.TEST names (letters, digits, "
				    "_ - .); all and none must stand alone", optarg);
			} else {
				o->co_ktest = optarg;
			}
			break;
		case CLI_OPT_APPEND:
			if (optarg[strspn(optarg, " \t")] == '\0')
				return cli_fail(err, errlen, "--append '%s': nothing to add to the "
				    "guest command line; give words or drop it", optarg);
			if (strchr(optarg, '\n') != NULL)
				return cli_fail(err, errlen, "--append: the guest command line "
				    "cannot contain a newline; use spaces");
			/* Every --append counts, in order: the guest refuses what it does not
			 * understand, so nothing is dropped unseen. */
			if (cli_append_token(o->co_append, sizeof(o->co_append), &append_len,
			    optarg) != 0)
				return cli_fail(err, errlen, "--append: the strings together are "
				    "longer than %zu bytes; shorten them", sizeof(o->co_append) - 1);
			break;
		case 'v':
			o->co_verbose = true;
			break;
		case CLI_OPT_TRACE_INSNS:
			if ((rc = cli_once(seen, c, "--trace-insns", optarg, err, errlen)) != 0)
				return rc;
			if (*optarg == '\0')
				return cli_fail(err, errlen, "--trace-insns needs a file name, e.g. "
				    "--trace-insns /tmp/insns");
			o->co_trace_insns = optarg;
			break;
		case CLI_OPT_WATCHDOG:
			if ((rc = cli_once(seen, c, "--watchdog", optarg, err, errlen)) != 0)
				return rc;
			if ((rc = cli_parse_watchdog(optarg, &o->co_watchdog, err, errlen)) != 0)
				return rc;
			break;
		case 's':
			if ((rc = cli_once(seen, c, "-s/--swap", optarg, err, errlen)) != 0)
				return rc;
			if (*optarg == '\0')
				return cli_fail(err, errlen, "-s needs a file name, e.g. -s "
				    "/var/tmp/guest.swap");
			o->co_swap = optarg;
			break;
		case CLI_OPT_SWAP_SIZE:
			if ((rc = cli_once(seen, c, "--swap-size", optarg, err, errlen)) != 0)
				return rc;
			if ((rc = cli_parse_swap_size(optarg, &o->co_swap_size, err,
			    errlen)) != 0)
				return rc;
			break;
		case CLI_OPT_SWAP_DIRECT:
			o->co_swap_direct = true;
			break;
		case CLI_OPT_STATS:
			if ((rc = cli_once(seen, c, "--stats", optarg != NULL ? optarg : "1", err,
			    errlen)) != 0)
				return rc;
			if (optarg == NULL) {
				/* `--stats 2`: getopt leaves 2 to be the PROGRAM. */
				uint64_t ms;
				if (optind < argc && cli_parse_stats(argv[optind], &ms, optbuf,
				    sizeof(optbuf)) == 0)
					return cli_fail(err, errlen, "--stats takes its value after "
					    "'=': use --stats=%s ('%s' would be the PROGRAM)",
					    argv[optind], argv[optind]);
				o->co_stats_ms = CLI_STATS_DEFAULT_MS;
			} else if ((rc = cli_parse_stats(optarg, &o->co_stats_ms, err,
			    errlen)) != 0) {
				return rc;
			}
			break;
		case CLI_OPT_STATS_LOG:
			if ((rc = cli_once(seen, c, "--stats-log", optarg, err, errlen)) != 0)
				return rc;
			if (*optarg == '\0')
				return cli_fail(err, errlen, "--stats-log needs a file name, e.g. "
				    "--stats-log /tmp/stats.log");
			o->co_stats_log = optarg;
			break;
		case 'd':
			if ((rc = cli_once(seen, c, "-d/--dump", optarg, err, errlen)) != 0)
				return rc;
			if (*optarg == '\0')
				return cli_fail(err, errlen, "-d needs a file name, e.g. -d "
				    "/var/tmp/guest.core");
			o->co_dump = optarg;
			break;
		case CLI_OPT_DUMP_FULL:
			o->co_dump_full = true;
			break;
		case CLI_OPT_DUMP_AT_EXIT:
			o->co_dump_at_exit = true;
			break;
		case 'h':
			o->co_cmd = CLI_CMD_HELP;
			return 0;
		case CLI_OPT_VERSION:
			o->co_cmd = CLI_CMD_VERSION;
			return 0;
		case ':':
			return cli_fail(err, errlen, "option '%s' needs a value; see 'vmm run --help'",
			    cli_bad_option(argv, optbuf, sizeof(optbuf)));
		default:
			return cli_refuse_option(argv, err, errlen);
		}
	}
	if (o->co_swap == NULL && (o->co_swap_size != 0 || o->co_swap_direct))
		return cli_fail(err, errlen, "%s is about the swap file: give it with -s FILE",
		    o->co_swap_size != 0 ? "--swap-size" : "--swap-direct");
	if (o->co_stats_log != NULL && o->co_stats_ms == 0)
		return cli_fail(err, errlen, "--stats-log is about the --stats lines: give "
		    "--stats too");
	if (o->co_dump == NULL && (o->co_dump_full || o->co_dump_at_exit))
		return cli_fail(err, errlen, "%s is about the dump: give its file with -d FILE",
		    o->co_dump_full ? "--dump-full" : "--dump-at-exit");
	o->co_prog_argc = argc - optind;
	o->co_prog_argv = argv + optind;
	if (o->co_prog_argc == 0 && o->co_ktest == NULL && !cli_has_word(o->co_append, "ktest"))
		return cli_fail(err, errlen, "run needs a PROGRAM to run or --ktest; "
		    "e.g. 'vmm run --ktest' (see 'vmm run --help')");
	/* An environment with no program to take it would be dropped unseen. */
	if (o->co_prog_argc == 0 && o->co_nenv > 0)
		return cli_fail(err, errlen, "--env %.*s: there is no PROGRAM to give it to; "
		    "name one after the options", (int)strcspn(o->co_env[0], "="),
		    o->co_env[0]);
	/* Module 0's command line carries any other string (devices/pvh_args.h). */
	for (int i = 0; i < o->co_prog_argc; i++)
		if (o->co_prog_argv[i][0] == '\0')
			return cli_fail(err, errlen, "argument %d is empty, which the guest cannot "
			    "receive; remove it", i);
	return 0;
}

int cli_parse(int argc, char *const argv[], struct cli_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->co_cmd = CLI_CMD_RUN;
	o->co_mem_size = CLI_MEM_DEFAULT;
	o->co_ncpus = 1;
	o->co_watchdog = WATCHDOG_DEFAULT_SEC;
	if (errlen > 0)
		err[0] = '\0';

	if (argc < 2)
		return cli_fail(err, errlen, "missing command; use 'vmm run ...' or see "
		    "'vmm --help'");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		/* "help run" is help on run, the only command; anything else is a mistake. */
		if (argc > 3 || (argc == 3 && strcmp(argv[2], "run") != 0))
			return cli_fail(err, errlen, "%s takes no arguments but 'run' (got '%s'); "
			    "see 'vmm --help'", cmd, argv[2]);
		o->co_cmd = CLI_CMD_HELP;
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		if (argc > 2)
			return cli_fail(err, errlen, "--version takes no arguments (got '%s')",
			    argv[2]);
		o->co_cmd = CLI_CMD_VERSION;
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cli_parse_run(argc - 1, argv + 1, o, err, errlen);
	if (strcmp(cmd, "dump") == 0) {
		o->co_cmd = CLI_CMD_DUMP;
		o->co_dump_argc = argc - 1;
		o->co_dump_argv = argv + 1;
		return 0;
	}
	return cli_fail(err, errlen, "unknown command '%s'; use 'vmm run ...', 'vmm dump ...' "
	    "or see 'vmm --help'", cmd);
}

int cli_guest_cmdline(const struct cli_opts *o, char *buf, size_t buflen, char *err,
    size_t errlen)
{
	size_t len = 0;
	char ktest[PVH_CMDLINE_MAX];

	KASSERT(buflen > 0, ("%s: no buffer", __func__));
	buf[0] = '\0';
	if (o->co_ktest != NULL) {
		if ((size_t)snprintf(ktest, sizeof(ktest), "ktest=%s", o->co_ktest) >=
		    sizeof(ktest) || cli_append_token(buf, buflen, &len, ktest) != 0)
			goto toolong;
	}
	/* -v asks the guest for "verbose"; said with --append too, it is said once. */
	if (o->co_verbose && !cli_has_word(o->co_append, "verbose") &&
	    cli_append_token(buf, buflen, &len, "verbose") != 0)
		goto toolong;
	if (o->co_swap != NULL) {
		char dev[64];
		snprintf(dev, sizeof(dev), "virtio_mmio.device=%uK@0x%x:%u",
		    VIRTIO_MMIO_SIZE >> 10, VIRTIO_MMIO_BASE, (unsigned)VIRTIO_MMIO_IRQ0);
		if (cli_append_token(buf, buflen, &len, dev) != 0)
			goto toolong;
	}
	/* Said with --append too, the user's value wins: the guest takes a key once. */
	if (o->co_stats_ms != 0 && !cli_has_word(o->co_append, "vm.stats_ms")) {
		char word[64];
		snprintf(word, sizeof(word), "vm.stats_ms=%llu",
		    (unsigned long long)cli_stats_guest_ms(o->co_stats_ms));
		if (cli_append_token(buf, buflen, &len, word) != 0)
			goto toolong;
	}
	if (cli_append_token(buf, buflen, &len, o->co_append) != 0)
		goto toolong;
	unsigned words = cli_count_words(buf);
	if (words > PVH_CMDLINE_MAX_WORDS)
		return cli_fail(err, errlen, "the guest command line has %u words; the guest "
		    "takes at most %u words: pass fewer with --append", words,
		    PVH_CMDLINE_MAX_WORDS);
	return 0;
toolong:
	return cli_fail(err, errlen, "the guest command line is longer than %zu bytes; "
	    "shorten --append or --ktest", buflen - 1);
}

int cli_program_cmdline(const struct cli_opts *o, char *buf, size_t buflen, char *err,
    size_t errlen)
{
	size_t len = 0;
	unsigned n = (unsigned)o->co_prog_argc + o->co_nenv;

	KASSERT(buflen > 0, ("%s: no buffer", __func__));
	buf[0] = '\0';
	if (n > PVH_ARGS_MAX)
		return cli_fail(err, errlen, "PROGRAM, its arguments and the --env variables "
		    "are %u strings; the guest takes at most %u: pass fewer", n, PVH_ARGS_MAX);
	for (int i = 0; i < o->co_prog_argc; i++)
		if (pvh_args_put(buf, buflen, &len, o->co_prog_argv[i]) != 0)
			goto toolong;
	if (o->co_nenv > 0 && pvh_args_put_env_sep(buf, buflen, &len) != 0)
		goto toolong;
	for (unsigned i = 0; i < o->co_nenv; i++)
		if (pvh_args_put(buf, buflen, &len, o->co_env[i]) != 0)
			goto toolong;
	return 0;
toolong:
	/* Blanks, control bytes and '%' take three bytes each on the way. */
	return cli_fail(err, errlen, "PROGRAM, its arguments and the --env variables are "
	    "longer than %zu bytes once encoded for the guest; pass fewer or shorter ones",
	    buflen - 1);
}
