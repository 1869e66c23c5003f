/*
 * touch MIB [seq|rand]: zero-fill faults. Maps MIB MiB of fresh anonymous memory and
 * writes one word to each page, in address order (seq, which fault-around can help) or
 * in a random order (rand, which it cannot); only that loop is timed, so the figure is
 * one write fault per page. Then every byte is checked: zero except the word written,
 * and again after each page is filled with its own pattern.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "touch";

#define TOUCH_WORD      37      /* which word of a page the timed loop writes */

static uint64_t touch_stamp(size_t page)
{
	return 0x7a7a000000000000ull | page;
}

/* The order the timed loop visits the pages in: 0..n-1, or shuffled (Fisher-Yates). */
static uint32_t *touch_order(size_t npages, int random)
{
	uint32_t *order = wl_map_anon(npages * sizeof(*order), "the page order");

	if (random)
		wl_shuffle(order, npages, 0x243f6a8885a308d3ull);
	else
		for (size_t i = 0; i < npages; i++)
			order[i] = (uint32_t)i;
	return order;
}

static void touch_verify(const volatile uint64_t *words, size_t npages, int filled)
{
	const size_t per_page = WL_PAGE / sizeof(uint64_t);

	for (size_t pg = 0; pg < npages; pg++) {
		for (size_t w = 0; w < per_page; w++) {
			uint64_t want = filled ? touch_stamp(pg) ^ w :
			    w == TOUCH_WORD ? touch_stamp(pg) : 0;
			uint64_t got = words[pg * per_page + w];
			if (got != want)
				wl_fail("page %zu word %zu holds 0x%llx, want 0x%llx (%s)", pg, w,
				    (unsigned long long)got, (unsigned long long)want,
				    filled ? "its own pattern" : "zero-filled but for one word");
		}
	}
}

int main(int argc, char **argv)
{
	size_t mib = wl_arg_ulong(argc, argv, 1, "MIB", 1, 65536, 32);
	const char *mode = argc > 2 ? argv[2] : "rand";

	if (strcmp(mode, "seq") != 0 && strcmp(mode, "rand") != 0)
		wl_fail("mode '%s': use seq or rand", mode);
	if (argc > 3)
		wl_fail("usage: touch [MIB] [seq|rand]");
	size_t npages = mib << 20 >> 12;
	uint32_t *order = touch_order(npages, strcmp(mode, "rand") == 0);
	uint64_t *words = wl_map_anon(npages * WL_PAGE, "the region");
	const size_t per_page = WL_PAGE / sizeof(uint64_t);

	double t0 = wl_now_us();
	for (size_t i = 0; i < npages; i++)
		words[order[i] * per_page + TOUCH_WORD] = touch_stamp(order[i]);
	double us = wl_now_us() - t0;

	touch_verify(words, npages, 0);
	for (size_t pg = 0; pg < npages; pg++)
		for (size_t w = 0; w < per_page; w++)
			words[pg * per_page + w] = touch_stamp(pg) ^ w;
	touch_verify(words, npages, 1);
	if (munmap(words, npages * WL_PAGE) != 0 || munmap(order, npages * sizeof(*order)) != 0)
		wl_fail("munmap: %s", strerror(errno));
	wl_say("mode=%s mib=%zu pages=%zu us=%.1f us_per_page=%.4f pages_per_us=%.3f", mode,
	    mib, npages, us, us / (double)npages, us > 0 ? (double)npages / us : 0.0);
	return 0;
}
