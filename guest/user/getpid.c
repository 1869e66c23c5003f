/*
 * getpid [N]: N getpid system calls (default 10,000), each checked to return the same
 * pid; prints the time per call: a system call's round trip, for `make bench`
 * (syscall.getpid, beside trap.floor).
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "getpid";

int main(int argc, char **argv)
{
	unsigned long n = wl_arg_ulong(argc, argv, 1, "calls", 1, 100000000, 10000);
	long pid = syscall(SYS_getpid);

	double t0 = wl_now_us();
	for (unsigned long i = 0; i < n; i++)
		if (syscall(SYS_getpid) != pid)
			wl_fail("getpid changed at call %lu", i);
	double us = wl_now_us() - t0;
	wl_say("calls=%lu us=%.1f us_per_call=%.3f", n, us, us / (double)n);
	return 0;
}
