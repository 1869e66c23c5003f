/*
 * swapbench MIB READS: the two swap figures of make bench.
 *   out  Fill MIB MiB of fresh anonymous memory in address order, one pattern a page:
 *        with MIB several times the guest's RAM nearly all of it is paged out on the way.
 *        MiB/s of that pass (out_mib_per_s).
 *   in   Then READS loads of one word each from pages in a random order, each checked:
 *        most come back from swap. Microseconds per major fault (getrusage's
 *        ru_majflt, which counts page-ins from swap) over that loop (in_us_per_majflt),
 *        with the count beside it. With no major fault the figure is 0 and says so.
 * One line: "swapbench: mib=.. out_mib_per_s=.. reads=.. majflt=.. in_us_per_majflt=..".
 */
#include <stdint.h>
#include <string.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "swapbench";

#define WORDS_PER_PAGE  (WL_PAGE / sizeof(uint64_t))

static uint64_t sb_word(size_t pg, size_t w)
{
	return (0x3c00000000000000ull | pg) ^ (w * 0x9e3779b97f4a7c15ull);
}

int main(int argc, char **argv)
{
	size_t mib = wl_arg_ulong(argc, argv, 1, "MIB", 1, 65536, 128);
	size_t reads = wl_arg_ulong(argc, argv, 2, "READS", 1, 1ul << 24, 2000);

	if (argc > 3)
		wl_fail("usage: swapbench [MIB] [READS]");
	size_t npages = mib << 20 >> 12;
	uint64_t *region = wl_map_anon(npages * WL_PAGE, "the region");

	double t0 = wl_now_us();
	for (size_t pg = 0; pg < npages; pg++)
		for (size_t w = 0; w < WORDS_PER_PAGE; w++)
			region[pg * WORDS_PER_PAGE + w] = sb_word(pg, w);
	double out_us = wl_now_us() - t0;

	uint64_t seed = 0x243f6a8885a308d3ull;
	long maj0 = wl_majflt();
	t0 = wl_now_us();
	for (size_t i = 0; i < reads; i++) {
		size_t pg = (size_t)(wl_rand(&seed) % npages);
		size_t w = (size_t)(wl_rand(&seed) % WORDS_PER_PAGE);
		uint64_t got = ((volatile uint64_t *)region)[pg * WORDS_PER_PAGE + w];
		if (got != sb_word(pg, w))
			wl_fail("page %zu word %zu holds 0x%llx, want 0x%llx", pg, w,
			    (unsigned long long)got, (unsigned long long)sb_word(pg, w));
	}
	double in_us = wl_now_us() - t0;
	long majflt = wl_majflt() - maj0;

	wl_say("mib=%zu out_mib_per_s=%.2f reads=%zu majflt=%ld in_us_per_majflt=%.3f", mib,
	    (double)mib / (out_us / 1e6), reads, majflt, majflt > 0 ? in_us / majflt : 0.0);
	return 0;
}
