/*
 * The dump reader fuzzer's seed corpus, made at test time from the unit tests' synthetic
 * dump (tests/unit/dump_fixture.h): nothing binary is committed. Writes DIR/fixture-*.core,
 * one per variant the fixture builds.
 * Usage: dump-seeds DIR
 */
#include <stdio.h>

#include "tests/unit/dump_fixture.h"

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		struct dump_fixture_opts o;
	} v[] = {
		{ "plain", { 0 } },
		{ "notes8", { .df_notes_align8 = true } },
		{ "torn", { .df_torn_vmmeter = true } },
		{ "nodesc", { .df_no_desc = true } },
		{ "procloop", { .df_proc_loop = true } },
		{ "entryloop", { .df_entry_loop = true } },
		{ "chainloop", { .df_chain_loop = true } },
	};
	char path[4096];

	if (argc != 2) {
		fputs("usage: dump-seeds DIR\n", stderr);
		return 64;
	}
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(path, sizeof(path), "%s/fixture-%s.core", argv[1], v[i].name);
		if (dump_fixture_write(&v[i].o, path) != 0) {
			fprintf(stderr, "dump-seeds: cannot write %s\n", path);
			return 73;
		}
	}
	return 0;
}
