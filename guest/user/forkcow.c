/*
 * forkcow [MIB] [half|all]: copy-on-write after fork, checked both ways. The parent fills
 * a region with its pattern and forks; the child writes its own pattern (to the first
 * half of the pages, or to all), then the parent writes its own (to the second half, or
 * to all) while the child waits, so each write lands after the other's. Each then checks
 * every word: its own pattern where it wrote, the original where nobody did, never the
 * other's. The parent waits for the child and checks its status. The child's and the
 * parent's write loops are timed: the first is the copy-on-write fault.
 *
 * forkcow loop [N]: N fork/exit cycles (default 100); each child writes one word per
 * page of the parent's region and exits with a status of its own, which the parent
 * checks, and the parent's region stays as it was. Prints the time per cycle.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "forkcow";

#define WORDS_PER_PAGE  (WL_PAGE / sizeof(uint64_t))

enum { OWNER_ORIGINAL = 1, OWNER_PARENT = 2, OWNER_CHILD = 3 };

static const char *const owner_names[] = { "?", "the original", "the parent's",
	"the child's" };

static uint64_t cow_word(unsigned owner, size_t page, size_t w)
{
	return (uint64_t)owner << 56 | (uint64_t)page << 12 | w;
}

static void cow_fill(uint64_t *region, size_t first, size_t end, unsigned owner)
{
	for (size_t pg = first; pg < end; pg++)
		for (size_t w = 0; w < WORDS_PER_PAGE; w++)
			region[pg * WORDS_PER_PAGE + w] = cow_word(owner, pg, w);
}

/* Every word of [first, end) as owner wrote it; who, when it is not. */
static void cow_verify(const volatile uint64_t *region, size_t first, size_t end,
    unsigned owner, const char *who)
{
	for (size_t pg = first; pg < end; pg++) {
		for (size_t w = 0; w < WORDS_PER_PAGE; w++) {
			uint64_t got = region[pg * WORDS_PER_PAGE + w];
			if (got == cow_word(owner, pg, w))
				continue;
			unsigned seen = (unsigned)(got >> 56);
			wl_fail("%s: page %zu word %zu holds 0x%llx (%s pattern), want %s pattern",
			    who, pg, w, (unsigned long long)got,
			    seen < 4 ? owner_names[seen] : "no known", owner_names[owner]);
		}
	}
}

/* One byte through a pipe. => 1, or 0 at end of file (the other side died). */
static int cow_xfer(int fd, int write_it, const char *who)
{
	char c = 'x';
	ssize_t n;

	do
		n = write_it ? write(fd, &c, 1) : read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		wl_fail("%s: pipe %s: %s", who, write_it ? "write" : "read", strerror(errno));
	return n == 1;
}

static void cow_wait_child(pid_t pid, int want_status)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		wl_fail("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(st))
		wl_fail("the child was killed by signal %d", WTERMSIG(st));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != want_status)
		wl_fail("the child exited with status %d, want %d", WEXITSTATUS(st), want_status);
}

static void cow_pair(size_t mib, int all)
{
	size_t npages = mib << 20 >> 12, half = npages / 2;
	size_t len = npages * WL_PAGE;
	int to_parent[2], to_child[2];
	uint64_t *region = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (region == MAP_FAILED)
		wl_fail("mmap of %zu bytes: %s", len, strerror(errno));
	cow_fill(region, 0, npages, OWNER_ORIGINAL);
	if (pipe(to_parent) != 0 || pipe(to_child) != 0)
		wl_fail("pipe: %s", strerror(errno));
	size_t child_end = all ? npages : half, parent_first = all ? 0 : half;

	pid_t pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(to_parent[0]);
		close(to_child[1]);
		double t0 = wl_now_us();
		cow_fill(region, 0, child_end, OWNER_CHILD);
		double us = wl_now_us() - t0;
		cow_xfer(to_parent[1], 1, "child");
		if (!cow_xfer(to_child[0], 0, "child"))   /* the parent has written */
			wl_fail("child: the parent closed the pipe without writing");
		cow_verify(region, 0, child_end, OWNER_CHILD, "child");
		cow_verify(region, child_end, npages, OWNER_ORIGINAL, "child");
		wl_say("child: mode=%s pages=%zu us=%.1f us_per_page=%.4f", all ? "all" : "half",
		    child_end, us, us / (double)child_end);
		_exit(0);
	}
	/* Only the child holds these now: its death is an end of file, not a hang. */
	close(to_parent[1]);
	close(to_child[0]);
	if (!cow_xfer(to_parent[0], 0, "parent")) {     /* the child has written */
		cow_wait_child(pid, 0);
		wl_fail("the child closed the pipe without writing");
	}
	double t0 = wl_now_us();
	cow_fill(region, parent_first, npages, OWNER_PARENT);
	double us = wl_now_us() - t0;
	cow_xfer(to_child[1], 1, "parent");
	cow_verify(region, 0, parent_first, OWNER_ORIGINAL, "parent");
	cow_verify(region, parent_first, npages, OWNER_PARENT, "parent");
	cow_wait_child(pid, 0);
	wl_say("parent: mode=%s pages=%zu us=%.1f us_per_page=%.4f", all ? "all" : "half",
	    npages - parent_first, us, us / (double)(npages - parent_first));
	if (munmap(region, len) != 0)
		wl_fail("munmap: %s", strerror(errno));
}

static void cow_loop(unsigned long cycles)
{
	const size_t npages = 16;
	uint64_t *region = mmap(NULL, npages * WL_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (region == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	cow_fill(region, 0, npages, OWNER_PARENT);
	double t0 = wl_now_us();
	for (unsigned long i = 0; i < cycles; i++) {
		pid_t pid = fork();
		if (pid < 0)
			wl_fail("fork %lu: %s", i, strerror(errno));
		if (pid == 0) {
			for (size_t pg = 0; pg < npages; pg++)
				region[pg * WORDS_PER_PAGE] = cow_word(OWNER_CHILD, pg, 0);
			_exit((int)(i % 200) + 1);
		}
		cow_wait_child(pid, (int)(i % 200) + 1);
	}
	double us = wl_now_us() - t0;
	cow_verify(region, 0, npages, OWNER_PARENT, "parent after the cycles");
	wl_say("loop: cycles=%lu us=%.1f us_per_cycle=%.1f", cycles, us, us / (double)cycles);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "loop") == 0) {
		if (argc > 3)
			wl_fail("usage: forkcow loop [CYCLES]");
		cow_loop(wl_arg_ulong(argc, argv, 2, "CYCLES", 1, 1000000, 100));
		return 0;
	}
	size_t mib = wl_arg_ulong(argc, argv, 1, "MIB", 1, 4096, 16);
	const char *mode = argc > 2 ? argv[2] : "half";
	if ((strcmp(mode, "half") != 0 && strcmp(mode, "all") != 0) || argc > 3)
		wl_fail("usage: forkcow [MIB] [half|all] | forkcow loop [CYCLES]");
	cow_pair(mib, strcmp(mode, "all") == 0);
	return 0;
}
