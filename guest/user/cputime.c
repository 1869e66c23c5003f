/*
 * cputime: getrusage tells user time from system time, as on Linux.
 *   user      100 ms (of CPU time) of arithmetic in user mode: user time grows more
 *             than system time, and the two together by no more than the wall-clock
 *             time (one thread)
 *   system    100 ms of getpid and mmap/touch/munmap calls: system time grows
 *   children  nothing reaped yet: RUSAGE_CHILDREN is zero; a child that spins for
 *             50 ms of user time and is reaped shows in it, not in RUSAGE_SELF
 *   bad who   getrusage(99): EINVAL
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "cputime";

static double ct_tv_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

/* User and system time of who, us. */
static void ct_get(int who, double *user, double *sys)
{
	struct rusage ru;

	if (getrusage(who, &ru) != 0)
		wl_fail("getrusage(%d): %s", who, strerror(errno));
	*user = ct_tv_us(&ru.ru_utime);
	*sys = ct_tv_us(&ru.ru_stime);
}

/* CPU time (user and system) of the calling process, us. */
static double ct_cpu(void)
{
	double u, s;

	ct_get(RUSAGE_SELF, &u, &s);
	return u + s;
}

/* Arithmetic until the process has used ms more of CPU time (not wall-clock time: the
 * host may be busy); getrusage every few million steps. */
static uint64_t ct_spin(double ms)
{
	uint64_t x = 88172645463325252ull;
	double end = ct_cpu() + ms * 1e3;

	do {
		for (int i = 0; i < (1 << 20); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		__asm__ volatile("" : "+r"(x));
	} while (ct_cpu() < end);
	return x;
}

/* getpid and mmap/touch/munmap until ms more of CPU time. */
static void ct_syscalls(double ms)
{
	double end = ct_cpu() + ms * 1e3;

	do {
		for (int i = 0; i < 16; i++) {
			if (syscall(SYS_getpid) != getpid())
				wl_fail("getpid disagrees");
			char *p = mmap(NULL, 4 * WL_PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				wl_fail("mmap: %s", strerror(errno));
			for (int j = 0; j < 4; j++)
				p[j * WL_PAGE] = (char)j;
			if (munmap(p, 4 * WL_PAGE) != 0)
				wl_fail("munmap: %s", strerror(errno));
		}
	} while (ct_cpu() < end);
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		wl_fail("usage: cputime");

	double u0, s0, u1, s1, u2, s2, cu, cs;
	ct_get(RUSAGE_CHILDREN, &cu, &cs);
	if (cu != 0 || cs != 0)
		wl_fail("children: %.0f us user, %.0f us system before any child", cu, cs);

	ct_get(RUSAGE_SELF, &u0, &s0);
	double t0 = wl_now_us();
	ct_spin(100);
	double wall = wl_now_us() - t0;
	ct_get(RUSAGE_SELF, &u1, &s1);
	double du = u1 - u0, ds = s1 - s0;
	/* Linux samples at its tick: a few ms of slack. */
	if (du <= ds || du + ds > wall + 20e3)
		wl_fail("user: %.0f us user, %.0f us system in %.0f us of spinning", du, ds, wall);

	ct_syscalls(100);
	ct_get(RUSAGE_SELF, &u2, &s2);
	double ds2 = s2 - s1;
	if (ds2 <= 0)
		wl_fail("system: no system time in 100 ms of system calls (user %.0f us)",
		    u2 - u1);

	pid_t pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		ct_spin(50);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		wl_fail("children: the child ended badly (%s)", strerror(errno));
	double u3, s3;
	ct_get(RUSAGE_CHILDREN, &cu, &cs);
	ct_get(RUSAGE_SELF, &u3, &s3);
	if (cu < 45e3 || cu + cs > 200e3)
		wl_fail("children: %.0f us user, %.0f us system for a 50 ms spin", cu, cs);
	if (u3 - u2 > 25e3)
		wl_fail("children: the child's %.0f us of spinning counted as the parent's",
		    u3 - u2);

	struct rusage ru;
	errno = 0;
	if (getrusage(99, &ru) != -1 || errno != EINVAL)
		wl_fail("getrusage(99): not EINVAL (%s)", strerror(errno));

	wl_say("user: %.0f us user %.0f us system in %.0f us; system calls: %.0f us "
	    "system, %.0f us user; child: %.0f us user %.0f us system; ok", du, ds, wall,
	    ds2, u2 - u1, cu, cs);
	return 0;
}
