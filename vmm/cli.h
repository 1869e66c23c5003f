/*
 * The command line of build/vmm: parsing into options, and composing the command
 * lines the guest receives from them. Pure functions (no I/O except usage text) so the
 * unit tests drive them directly.
 */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/pvh.h"
#include "devices/pvh_args.h"

#define CLI_MEM_DEFAULT     (64ull << 20)
/* What the guest kernel and all its self-tests need (`--ktest` passes at 12M; 16M leaves
 * room): below it a suite fails or an allocation panics, so -m refuses it up front. */
#define CLI_MEM_MIN         (16ull << 20)
#define CLI_MEM_MAX         (64ull << 30)
#define CLI_CPUS_MAX        1       /* until the guest starts its other CPUs */
#define CLI_ERR_MAX         256     /* room for any one-line error message */
#define CLI_SWAP_MIN        4096ull         /* one page */
#define CLI_SWAP_MAX        (16ull << 40)   /* a sparse file costs nothing until written */
#define CLI_STATS_MIN_MS    100             /* --stats=0.1 */
#define CLI_STATS_MAX_MS    3600000         /* --stats=3600 */
#define CLI_STATS_DEFAULT_MS 1000           /* a bare --stats */

enum cli_cmd {
	CLI_CMD_RUN,
	CLI_CMD_HELP,           /* print usage to stdout, exit 0 */
	CLI_CMD_VERSION,
	CLI_CMD_DUMP,           /* vmm dump ...: co_dump_argv for vmm/dump_cmd.c */
};

struct cli_opts {
	enum cli_cmd co_cmd;
	uint64_t co_mem_size;       /* bytes */
	unsigned co_ncpus;
	const char *co_kernel;      /* NULL: kernel.elf beside the vmm executable */
	const char *co_ktest;       /* NULL: no --ktest; else "all", "none" or a list */
	char co_append[PVH_CMDLINE_MAX];    /* every --append, in order, space separated */
	bool co_verbose;
	const char *co_trace_insns; /* NULL, or the file for single-stepped guest RIPs */
	unsigned co_watchdog;       /* seconds without progress before giving up; 0: never */
	const char *co_swap;        /* -s FILE: the swap disk's file, or NULL */
	uint64_t co_swap_size;      /* --swap-size: bytes for a new file; 0: 4x memory */
	bool co_swap_direct;        /* --swap-direct: O_DIRECT */
	uint64_t co_stats_ms;       /* --stats: the lines' interval in ms; 0: no --stats */
	const char *co_stats_log;   /* --stats-log FILE, or NULL */
	const char *co_dump;        /* -d FILE: where a dump goes, or NULL (docs/dump.md) */
	bool co_dump_full;          /* --dump-full: all of RAM, not a minidump */
	bool co_dump_at_exit;       /* --dump-at-exit: also when the run ends otherwise */
	int co_prog_argc;           /* PROGRAM and its ARGS: 0 when absent */
	char *const *co_prog_argv;
	/* The program's environment, "NAME=VALUE" each, in --env order: pointers into argv,
	 * or into co_env_host for a bare --env NAME whose value is the host's. */
	unsigned co_nenv;
	const char *co_env[PVH_ARGS_MAX];
	size_t co_env_host_len;
	char co_env_host[PVH_CMDLINE_MAX];
	/* CLI_CMD_DUMP: argv from "dump" on, parsed by dump_cmd_main. */
	int co_dump_argc;
	char *const *co_dump_argv;
};

/*
 * Parse argv (argv[0] is the program name). => 0 with *o filled, or an exit status
 * (64) with a one-line message (no "vmm: " prefix, no newline) in err.
 * Pointers in *o point into argv and into *o itself (co_env_host: copy *o and they
 * point into the original). A bare --env NAME reads the host's environment.
 */
int cli_parse(int argc, char *const argv[], struct cli_opts *o, char *err, size_t errlen);

/*
 * A memory size: decimal bytes with an optional K, M or G suffix (powers of 1024),
 * a multiple of 4 KiB within [CLI_MEM_MIN, CLI_MEM_MAX]. => 0, or -1 with a message.
 */
int cli_parse_size(const char *s, uint64_t *out, char *err, size_t errlen);

/*
 * A swap file size (--swap-size): bytes with an optional K, M, G or T suffix, a multiple
 * of 4 KiB within [CLI_SWAP_MIN, CLI_SWAP_MAX]. => 0, or 64 with a message.
 */
int cli_parse_swap_size(const char *s, uint64_t *out, char *err, size_t errlen);

/*
 * --stats's value: seconds, a decimal number such as 2 or 0.5 (digits beyond the
 * millisecond are dropped), within [CLI_STATS_MIN_MS, CLI_STATS_MAX_MS].
 * => 0 with *ms, or 64 with a message.
 */
int cli_parse_stats(const char *s, uint64_t *ms, char *err, size_t errlen);

/* --stats's vm.stats_ms for the guest: half the interval, so that every line the host
 * prints finds a snapshot taken since the one before. */
uint64_t cli_stats_guest_ms(uint64_t interval_ms);

/*
 * The guest kernel command line: "ktest=..." for --ktest, "verbose" for -v, the swap
 * disk's "virtio_mmio.device=4K@0xd0000000:5" for -s, "vm.stats_ms=N" for --stats
 * (unless --append has one), then the --append strings, space
 * separated. => 0, or 64 with a message when it does not fit
 * in buflen bytes including the NUL, or has more words than the guest takes
 * (PVH_CMDLINE_MAX_WORDS; a word is a run of bytes above ' ', as the guest splits).
 */
int cli_guest_cmdline(const struct cli_opts *o, char *buf, size_t buflen, char *err,
    size_t errlen);

/*
 * Module 0's command line: PROGRAM, ARGS and the --env strings, encoded as
 * devices/pvh_args.h says. => 0, or 64 with a message when it does not fit in buflen
 * bytes including the NUL, or has more strings than the guest takes (PVH_ARGS_MAX).
 */
int cli_program_cmdline(const struct cli_opts *o, char *buf, size_t buflen, char *err,
    size_t errlen);

void cli_usage(FILE *f);

#endif /* VMM_CLI_H */
