/*
 * libFuzzer target: the dump reader (vmm/dump_read.c and everything `vmm dump` runs) on
 * arbitrary bytes. Whatever the input, opening returns 0 or 65 with a message, and then
 * every subcommand returns 0 or 65 with a message: no crash, no hang, no leak.
 * Seeds: tests/fuzz/run.sh writes the unit tests' synthetic dumps (build/tests/dump-seeds).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmm/dump_cmd.h"
#include "vmm/dump_read.h"
#include "vmm/vmm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(int rc, const char *err)
{
	if (rc != 0 && (rc != DUMP_EXIT_DATA || err[0] == '\0'))
		abort();        /* every rejection is a data error with a message */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	static const char *const subs[] = { "info", "msgbuf", "vmstat", "zones", "malloc",
		"ps", "maps" };
	char err[DUMP_CMD_ERR_MAX];
	struct dump d;

	if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
		abort();
	err[0] = '\0';
	int rc = dump_open_mem(&d, data, size, "fuzz", err, sizeof(err));
	fuzz_check(rc, err);
	if (rc != 0)
		return 0;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		for (int json = 0; json <= 1; json++) {
			struct dump_args a = { 0 };
			err[0] = '\0';
			fuzz_check(dump_cmd_run(&d, subs[i], json, &a, sink, err, sizeof(err)), err);
		}
	}
	/* read and pt where the descriptor says the kernel and the direct map are. */
	uint64_t bases[3] = { 0xffffffff80100000ull, 0xffff808000400000ull, 0 };
	if (d.d_has_desc) {
		bases[0] = d.d_desc.ddn_desc.kernbase;
		bases[1] = d.d_desc.ddn_desc.dmap_base;
		bases[2] = d.d_desc.ddn_desc.dmap_base + d.d_desc.ddn_desc.msgbuf;
	}
	for (size_t i = 0; i < 3; i++) {
		uint64_t va = bases[i];
		if ((int64_t)va >> 47 != 0 && (int64_t)va >> 47 != -1)
			continue;       /* the command line refuses these */
		struct dump_args a = { .da_vaddr = va, .da_len = 0x2100 };
		if (va > UINT64_MAX - a.da_len)
			continue;
		for (int json = 0; json <= 1; json++) {
			err[0] = '\0';
			fuzz_check(dump_cmd_run(&d, "read", json, &a, sink, err, sizeof(err)), err);
			err[0] = '\0';
			fuzz_check(dump_cmd_run(&d, "pt", json, &a, sink, err, sizeof(err)), err);
		}
	}
	struct dump_args pid1 = { .da_has_pid = true, .da_pid = 1 };
	err[0] = '\0';
	fuzz_check(dump_cmd_run(&d, "maps", 0, &pid1, sink, err, sizeof(err)), err);
	dump_close(&d);
	return 0;
}
