/*
 * memhog MIB [STEP [fork]]: takes memory and keeps it. Maps MIB MiB of anonymous memory
 * and writes a stamp to every page, saying how far it got every STEP MiB (default 8);
 * then checks every stamp. Given more than the machine has (RAM and swap), it is the
 * out-of-memory killer's victim: status 137, after the kernel's one-line report.
 *
 * With fork, the child does that, after writing over (copy-on-write) a small region its
 * parent stamped before the fork. The parent waits: the child must be the one killed
 * (SIGKILL), and the parent's region must still hold the parent's stamps; then it
 * exits 0.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "memhog";

#define HOG_STAMP       0x6d656d686f670000ull
#define HOG_SHARED_MIB  4ul
#define HOG_WORDS       (WL_PAGE / sizeof(uint64_t))

static void hog_stamp(uint64_t *words, size_t npages, uint64_t salt)
{
	for (size_t pg = 0; pg < npages; pg++)
		words[pg * HOG_WORDS] = HOG_STAMP ^ salt ^ pg;
}

static void hog_check(const uint64_t *words, size_t npages, uint64_t salt)
{
	for (size_t pg = 0; pg < npages; pg++)
		if (words[pg * HOG_WORDS] != (HOG_STAMP ^ salt ^ pg))
			wl_fail("page %zu holds 0x%llx", pg,
			    (unsigned long long)words[pg * HOG_WORDS]);
}

/* Write MIB MiB, saying so every STEP, then check it all. */
static void hog(unsigned long mib, unsigned long step)
{
	size_t npages = (mib << 20) / WL_PAGE, per_step = (step << 20) / WL_PAGE;
	uint64_t *words = wl_map_anon(mib << 20, "the memory to hold");

	for (size_t pg = 0; pg < npages; pg++) {
		words[pg * HOG_WORDS] = HOG_STAMP ^ pg;
		if ((pg + 1) % per_step == 0)
			wl_say("%lu MiB written", (unsigned long)((pg + 1) * WL_PAGE >> 20));
	}
	hog_check(words, npages, 0);
	wl_say("%lu MiB written and checked ok", mib);
}

int main(int argc, char **argv)
{
	unsigned long mib = wl_arg_ulong(argc, argv, 1, "MIB", 1, 1ul << 20, 128);
	unsigned long step = wl_arg_ulong(argc, argv, 2, "STEP", 1, 1ul << 20, 8);

	if (argc > 4 || (argc == 4 && strcmp(argv[3], "fork") != 0))
		wl_fail("usage: memhog [MIB] [STEP [fork]]");
	if (argc < 4) {
		hog(mib, step);
		return 0;
	}
	size_t shared_pages = (HOG_SHARED_MIB << 20) / WL_PAGE;
	uint64_t *shared = wl_map_anon(HOG_SHARED_MIB << 20, "the region shared with the child");
	hog_stamp(shared, shared_pages, 1);
	pid_t pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		hog_stamp(shared, shared_pages, 2);     /* every page copied */
		hog(mib, step);
		return 0;
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		wl_fail("waitpid: %s", strerror(errno));
	if (!WIFSIGNALED(st) || WTERMSIG(st) != 9)
		wl_fail("child %d: status 0x%x, want killed by signal 9", (int)pid, st);
	hog_check(shared, shared_pages, 1);
	wl_say("child %d killed by signal 9; the parent's %lu MiB intact", (int)pid,
	    HOG_SHARED_MIB);
	return 0;
}
