/*
 * swapstress MIB [PASSES] [fork]: more memory than the guest has, verified byte for byte.
 * Maps MIB MiB of private anonymous memory and fills every page with a pattern of its own
 * (page number and pass in every word), then over PASSES passes alternately checks the
 * whole region in address order and in a random order, rewriting each page with the next
 * pass's pattern as it goes, so pages are dirtied again after they came back from swap.
 * The last pass only checks. With `fork`, the region is filled once, then a child and the
 * parent each run the passes on their own copy-on-write view with different patterns:
 * neither may see the other's writes (COW pages on swap).
 *
 * One line at the end: MiB, passes, MiB/s over the whole run. Any wrong word fails with
 * the page, the word, what it held and what it should.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "swapstress";

#define WORDS_PER_PAGE  (WL_PAGE / sizeof(uint64_t))

/* Pass p's word w of page pg for the process that calls itself who (0 or 1). */
static uint64_t ss_word(size_t pg, unsigned pass, unsigned who, size_t w)
{
	return (0x5a00000000000000ull | (uint64_t)who << 52 | (uint64_t)pass << 40 | pg) ^
	    (w * 0x9e3779b97f4a7c15ull);
}

static void ss_fill(uint64_t *page, size_t pg, unsigned pass, unsigned who)
{
	for (size_t w = 0; w < WORDS_PER_PAGE; w++)
		page[w] = ss_word(pg, pass, who, w);
}

static void ss_check(const uint64_t *page, size_t pg, unsigned pass, unsigned who)
{
	for (size_t w = 0; w < WORDS_PER_PAGE; w++) {
		uint64_t want = ss_word(pg, pass, who, w);
		if (page[w] != want)
			wl_fail("pass %u: page %zu word %zu holds 0x%llx, want 0x%llx", pass, pg, w,
			    (unsigned long long)page[w], (unsigned long long)want);
	}
}

/*
 * Passes first .. passes - 1 on the region filled with pass first - 1's pattern (the
 * pattern of who0 for that pass): odd passes go in a random order, even ones in address
 * order; each checks a page and (but the last) rewrites it for the next pass.
 */
static void ss_passes(uint64_t *region, uint32_t *order, size_t npages, unsigned first,
    unsigned passes, unsigned who0, unsigned who)
{
	for (unsigned pass = first; pass < passes; pass++) {
		bool random = pass % 2 == 1;
		if (random)
			wl_shuffle(order, npages, 0x243f6a8885a308d3ull + pass);
		for (size_t i = 0; i < npages; i++) {
			size_t pg = random ? order[i] : i;
			uint64_t *page = region + pg * WORDS_PER_PAGE;
			ss_check(page, pg, pass - 1, pass == first ? who0 : who);
			if (pass + 1 < passes)
				ss_fill(page, pg, pass, who);
		}
	}
}

int main(int argc, char **argv)
{
	size_t mib = wl_arg_ulong(argc, argv, 1, "MIB", 1, 65536, 128);
	unsigned passes = (unsigned)wl_arg_ulong(argc, argv, 2, "PASSES", 2, 1000, 3);
	bool forking = argc > 3 && strcmp(argv[3], "fork") == 0;

	if (argc > 4 || (argc > 3 && !forking))
		wl_fail("usage: swapstress [MIB] [PASSES] [fork]");
	size_t npages = mib << 20 >> 12;
	uint32_t *order = wl_map_anon(npages * sizeof(*order), "the page order");
	uint64_t *region = wl_map_anon(npages * WL_PAGE, "the region");
	double t0 = wl_now_us();

	for (size_t pg = 0; pg < npages; pg++)
		ss_fill(region + pg * WORDS_PER_PAGE, pg, 0, 0);
	if (!forking) {
		ss_passes(region, order, npages, 1, passes, 0, 0);
	} else {
		pid_t child = fork();
		if (child < 0)
			wl_fail("fork: %s", strerror(errno));
		/* Both start from the pattern of pass 0 the parent wrote; then each its own. */
		ss_passes(region, order, npages, 1, passes, 0, child == 0 ? 1 : 0);
		if (child == 0)
			_exit(0);
		int status;
		if (waitpid(child, &status, 0) != child)
			wl_fail("waitpid: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			wl_fail("the child failed (status %#x)", status);
	}
	double us = wl_now_us() - t0;
	wl_say("mib=%zu passes=%u fork=%d us=%.1f mib_per_s=%.2f", mib, passes, forking, us,
	    (double)mib * passes * (forking ? 2 : 1) / (us / 1e6));
	return 0;
}
