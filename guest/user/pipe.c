/*
 * pipe [ROUNDS]: one byte back and forth between two processes through two pipes,
 * ROUNDS times (default 10,000); the child adds one to each byte, so a lost, doubled or
 * stale byte is seen. Then the child exits and the parent must read end of file. Prints
 * the time per round trip (two writes, two reads, two wake-ups).
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "pipe";

/* One byte through fd. => 1, 0 at end of file; an error fails the program. */
static int pp_io(int fd, unsigned char *c, int write_it, const char *who)
{
	ssize_t n;

	do
		n = write_it ? write(fd, c, 1) : read(fd, c, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		wl_fail("%s: %s: %s", who, write_it ? "write" : "read", strerror(errno));
	return n == 1;
}

int main(int argc, char **argv)
{
	unsigned long rounds = wl_arg_ulong(argc, argv, 1, "ROUNDS", 1, 100000000, 10000);
	int down[2], up[2];             /* parent -> child, child -> parent */

	if (argc > 2)
		wl_fail("usage: pipe [ROUNDS]");
	if (pipe(down) != 0 || pipe(up) != 0)
		wl_fail("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		unsigned char c;
		for (unsigned long i = 0; i < rounds; i++) {
			if (!pp_io(down[0], &c, 0, "child"))
				wl_fail("child: end of file after %lu rounds", i);
			c++;
			pp_io(up[1], &c, 1, "child");
		}
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	double t0 = wl_now_us();
	for (unsigned long i = 0; i < rounds; i++) {
		unsigned char c = (unsigned char)i, back;
		pp_io(down[1], &c, 1, "parent");
		if (!pp_io(up[0], &back, 0, "parent"))
			wl_fail("parent: end of file after %lu rounds (the child died?)", i);
		if (back != (unsigned char)(c + 1))
			wl_fail("round %lu: sent 0x%02x, got back 0x%02x, want 0x%02x", i, c, back,
			    (unsigned char)(c + 1));
	}
	double us = wl_now_us() - t0;
	unsigned char extra;
	if (pp_io(up[0], &extra, 0, "parent"))
		wl_fail("a byte after the last round: 0x%02x", extra);
	int st;
	if (waitpid(pid, &st, 0) != pid)
		wl_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		wl_fail("the child ended with wait status 0x%x", st);
	wl_say("rounds=%lu us=%.1f us_per_round_trip=%.3f", rounds, us, us / (double)rounds);
	return 0;
}
