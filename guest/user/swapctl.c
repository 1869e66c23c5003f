/*
 * swapctl KEEP_MIB PUSH_MIB: swapoff(2) brings every page back. Fills KEEP_MIB MiB with a
 * pattern, then fills and unmaps PUSH_MIB MiB more (which, beyond the guest's RAM, pushes
 * the first region out to swap), then calls swapoff("/dev/vda"): afterwards reading the
 * whole first region must take no major fault (getrusage's ru_majflt), and every byte
 * must be right. Then swapon(2)'s and swapoff(2)'s answers as Linux gives them: EINVAL
 * for swapoff with swap off, 0 for swapon, EBUSY for it twice, ENOENT for another path.
 *
 * One line: the major faults of the push, of swapoff's aftermath (0), and the answers.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "swapctl";

#define WORDS_PER_PAGE  (WL_PAGE / sizeof(uint64_t))
#define SWAP_DEVICE     "/dev/vda"

static uint64_t sc_word(size_t pg, size_t w)
{
	return (0x6b00000000000000ull | pg) ^ (w * 0x9e3779b97f4a7c15ull);
}

/* swapon/swapoff by number: musl's wrappers exist, but the host's libc may lack one. */
static int sc_call(long nr, const char *path)
{
	long rv = nr == SYS_swapon ? syscall(nr, path, 0) : syscall(nr, path);

	return rv == 0 ? 0 : errno;
}

static void sc_expect(long nr, const char *path, int want)
{
	int got = sc_call(nr, path);

	if (got != want)
		wl_fail("%s(\"%s\"): %s, want %s", nr == SYS_swapon ? "swapon" : "swapoff", path,
		    got == 0 ? "success" : strerror(got), want == 0 ? "success" : strerror(want));
}

int main(int argc, char **argv)
{
	size_t keep = wl_arg_ulong(argc, argv, 1, "KEEP_MIB", 1, 4096, 8) << 20 >> 12;
	size_t push = wl_arg_ulong(argc, argv, 2, "PUSH_MIB", 1, 65536, 64) << 20 >> 12;

	if (argc > 3)
		wl_fail("usage: swapctl [KEEP_MIB] [PUSH_MIB]");
	uint64_t *kept = wl_map_anon(keep * WL_PAGE, "the region kept");
	for (size_t pg = 0; pg < keep; pg++)
		for (size_t w = 0; w < WORDS_PER_PAGE; w++)
			kept[pg * WORDS_PER_PAGE + w] = sc_word(pg, w);

	uint64_t *pushed = wl_map_anon(push * WL_PAGE, "the region that pushes it out");
	for (size_t pg = 0; pg < push; pg++)
		pushed[pg * WORDS_PER_PAGE] = pg;
	if (munmap(pushed, push * WL_PAGE) != 0)
		wl_fail("munmap: %s", strerror(errno));

	long maj0 = wl_majflt();
	sc_expect(SYS_swapoff, SWAP_DEVICE, 0);
	long maj1 = wl_majflt();
	for (size_t pg = 0; pg < keep; pg++)
		for (size_t w = 0; w < WORDS_PER_PAGE; w++)
			if (kept[pg * WORDS_PER_PAGE + w] != sc_word(pg, w))
				wl_fail("after swapoff, page %zu word %zu holds 0x%llx, want 0x%llx",
				    pg, w, (unsigned long long)kept[pg * WORDS_PER_PAGE + w],
				    (unsigned long long)sc_word(pg, w));
	long after = wl_majflt() - maj1;
	if (after != 0)
		wl_fail("%ld major faults reading the region after swapoff, want 0", after);

	sc_expect(SYS_swapoff, SWAP_DEVICE, EINVAL);
	sc_expect(SYS_swapon, "/dev/sdb", ENOENT);
	sc_expect(SYS_swapon, SWAP_DEVICE, 0);
	sc_expect(SYS_swapon, SWAP_DEVICE, EBUSY);
	wl_say("keep_pages=%zu push_pages=%zu majflt_before_swapoff=%ld "
	    "majflt_after_swapoff=%ld answers=linux", keep, push, maj0, after);
	return 0;
}
