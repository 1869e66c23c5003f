/*
 * memhog MIB [STEP]: takes memory and keeps it. Maps MIB MiB of anonymous memory and
 * writes a stamp to every page, saying how far it got every STEP MiB (default 8); then
 * checks every stamp. Given more than the machine has (RAM and swap), it is the
 * out-of-memory killer's victim: status 137, after the kernel's one-line report.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "memhog";

int main(int argc, char **argv)
{
	unsigned long mib = wl_arg_ulong(argc, argv, 1, "MIB", 1, 1ul << 20, 128);
	unsigned long step = wl_arg_ulong(argc, argv, 2, "STEP", 1, 1ul << 20, 8);
	size_t len = mib << 20, npages = len / WL_PAGE;

	if (argc > 3)
		wl_fail("usage: memhog [MIB] [STEP]");
	uint64_t *words = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (words == MAP_FAILED)
		wl_fail("mmap of %lu MiB: %s", mib, strerror(errno));
	const size_t per_page = WL_PAGE / sizeof(uint64_t);
	for (size_t pg = 0; pg < npages; pg++) {
		words[pg * per_page] = 0x6d656d686f670000ull ^ pg;
		if ((pg + 1) % ((step << 20) / WL_PAGE) == 0)
			wl_say("%lu MiB written", (unsigned long)((pg + 1) * WL_PAGE >> 20));
	}
	for (size_t pg = 0; pg < npages; pg++)
		if (words[pg * per_page] != (0x6d656d686f670000ull ^ pg))
			wl_fail("page %zu holds 0x%llx", pg,
			    (unsigned long long)words[pg * per_page]);
	wl_say("%lu MiB written and checked ok", mib);
	return 0;
}
