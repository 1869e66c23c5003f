/*
 * idle [MS]: sleeps MS milliseconds (default 2000) in one nanosleep, then checks the
 * sleep lasted at least that long. A quiet guest: what it costs the host is the kernel's
 * own wake-ups (timer interrupts, the statistics publisher of vm.stats_ms), which the
 * VMM's CPU time over the run shows (docs/dump.md, the guest's side, measures the publisher with it).
 */
#include <time.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "idle";

int main(int argc, char **argv)
{
	unsigned long ms = wl_arg_ulong(argc, argv, 1, "milliseconds", 1, 3600000, 2000);
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	double t0 = wl_now_us();
	if (nanosleep(&ts, NULL) != 0)
		wl_fail("nanosleep failed");
	double us = wl_now_us() - t0;
	if (us < (double)ms * 1000.0)
		wl_fail("slept %.0f us of %lu ms", us, ms);
	wl_say("ms=%lu us=%.0f", ms, us);
	return 0;
}
