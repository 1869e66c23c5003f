/*
 * `vmm dump SUBCOMMAND [--json] FILE [ARGS]`: the command line, the help, and the
 * subcommands' dispatch. Each subcommand reads what it needs from an open dump and
 * prints text or one JSON document; a failure is one line and an exit status (64 usage,
 * 65 not a dump / corrupt / the structure needed is missing, 66 cannot open FILE).
 */
#ifndef VMM_DUMP_CMD_H
#define VMM_DUMP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/dump_read.h"

#define DUMP_CMD_READ_MAX   (1u << 20)  /* bytes `read` dumps at once */
#define DUMP_CMD_ERR_MAX    768         /* room for a message naming the file */

/* A subcommand's parsed arguments (after FILE). */
struct dump_args {
	uint64_t da_vaddr;      /* read, pt */
	uint64_t da_len;        /* read */
	bool da_has_pid;        /* maps PID */
	int32_t da_pid;
};

/* What a subcommand works with. */
struct dump_show {
	const struct dump *s_dump;
	const struct dump_args *s_args;
	FILE *s_out;
	bool s_json;
	char *s_err;            /* the message of a failure, "NAME: why" */
	size_t s_errlen;
};

/*
 * Run `vmm dump` with argv[0] = "dump". Output to out, the one-line error ("vmm: ...")
 * to errf. => the exit status.
 */
int dump_cmd_main(int argc, char *const argv[], FILE *out, FILE *errf);

/* Run subcommand sub ("info", "ps"...) on an open dump. => 0, DUMP_EXIT_DATA with the
 * message in err, or VMM_EXIT_USAGE for an unknown sub. */
int dump_cmd_run(const struct dump *d, const char *sub, bool json, const struct dump_args *a,
    FILE *out, char *err, size_t errlen);

/* The subcommands (dump_show*.c). => 0 or an exit status with s_err filled. */
int dump_show_info(struct dump_show *s);
int dump_show_msgbuf(struct dump_show *s);
int dump_show_read(struct dump_show *s);
int dump_show_pt(struct dump_show *s);
int dump_show_vmstat(struct dump_show *s);
int dump_show_zones(struct dump_show *s);
int dump_show_malloc(struct dump_show *s);
int dump_show_ps(struct dump_show *s);
int dump_show_maps(struct dump_show *s);

/* Text from a dump made safe for a terminal: control bytes (but \n and \t when
 * keep_lines) become '?'. Writes at most n bytes of s, stopping at a NUL. */
void dump_show_text(FILE *f, const char *s, size_t n, bool keep_lines);

#endif /* VMM_DUMP_CMD_H */
