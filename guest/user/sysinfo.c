/*
 * sysinfo: the smaller system calls a static program leans on, each checked against what
 * Linux returns: nanosleep sleeps at least as long as asked (by the monotonic clock),
 * gettimeofday moves forward, getrandom fills the buffer (and is not all zeros),
 * prlimit64 reports a stack limit, getrusage counts faults and some CPU time, uname says
 * Linux on x86_64, mlock and munlock accept a mapping, readv gathers from a pipe, mremap
 * either works or says ENOMEM, getppid and getpid differ; a child's end reaches the
 * parent as SIGCHLD (a handler counts it) and waitid describes it.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "sysinfo";

static volatile sig_atomic_t si_chld;

static void si_on_chld(int sig)
{
	(void)sig;
	si_chld++;
}

static double si_mono_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		wl_fail("clock_gettime: %s", strerror(errno));
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(void)
{
	/* nanosleep: 20 ms at least. */
	double t0 = si_mono_us();
	struct timespec req = { 0, 20000000 };
	if (nanosleep(&req, NULL) != 0)
		wl_fail("nanosleep: %s", strerror(errno));
	double slept = si_mono_us() - t0;
	if (slept < 20000)
		wl_fail("nanosleep of 20 ms took %.0f us", slept);

	struct timeval tv0, tv1;
	if (gettimeofday(&tv0, NULL) != 0 || gettimeofday(&tv1, NULL) != 0)
		wl_fail("gettimeofday: %s", strerror(errno));
	if (tv1.tv_sec < tv0.tv_sec || (tv1.tv_sec == tv0.tv_sec && tv1.tv_usec < tv0.tv_usec))
		wl_fail("gettimeofday went backwards");

	unsigned char rnd[64];
	memset(rnd, 0, sizeof(rnd));
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		wl_fail("getrandom: %s", strerror(errno));
	int nonzero = 0;
	for (size_t i = 0; i < sizeof(rnd); i++)
		nonzero += rnd[i] != 0;
	if (nonzero < 32)
		wl_fail("getrandom: %d of 64 bytes non-zero", nonzero);

	struct rlimit rl;
	if (getrlimit(RLIMIT_STACK, &rl) != 0 || rl.rlim_cur == 0)
		wl_fail("getrlimit(RLIMIT_STACK): %s", strerror(errno));

	/* Fault in 64 pages, then ask for the counts. */
	char *m = mmap(NULL, 64 * WL_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (m == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	for (int i = 0; i < 64; i++)
		m[i * WL_PAGE] = 1;
	if (mlock(m, 4 * WL_PAGE) != 0 || munlock(m, 4 * WL_PAGE) != 0)
		wl_fail("mlock/munlock: %s", strerror(errno));
	void *r = mremap(m, 64 * WL_PAGE, 128 * WL_PAGE, 0);
	if (r == MAP_FAILED && errno != ENOMEM)
		wl_fail("mremap: %s, not ENOMEM", strerror(errno));
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		wl_fail("getrusage: %s", strerror(errno));
	if (ru.ru_minflt < 16 || ru.ru_maxrss <= 0)
		wl_fail("getrusage: %ld minor faults, maxrss %ld KiB", ru.ru_minflt, ru.ru_maxrss);

	struct utsname u;
	if (uname(&u) != 0 || strcmp(u.sysname, "Linux") != 0 || strcmp(u.machine, "x86_64") != 0)
		wl_fail("uname: '%s' '%s'", u.sysname, u.machine);

	int fds[2];
	char a[3], b[5];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	if (pipe(fds) != 0 || write(fds[1], "abcdefgh", 8) != 8 || readv(fds[0], iov, 2) != 8 ||
	    memcmp(a, "abc", 3) != 0 || memcmp(b, "defgh", 5) != 0)
		wl_fail("readv from a pipe");
	close(fds[0]);
	close(fds[1]);
	if (getppid() == getpid())
		wl_fail("getppid == getpid");

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = si_on_chld;
	if (sigaction(SIGCHLD, &sa, NULL) != 0)
		wl_fail("sigaction(SIGCHLD): %s", strerror(errno));
	pid_t c = fork();
	if (c < 0)
		wl_fail("fork: %s", strerror(errno));
	if (c == 0)
		_exit(7);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)c, &si, WEXITED) != 0)
		wl_fail("waitid: %s", strerror(errno));
	if (si.si_pid != c || si.si_signo != SIGCHLD || si.si_code != CLD_EXITED ||
	    si.si_status != 7)
		wl_fail("waitid: pid %d signo %d code %d status %d", (int)si.si_pid, si.si_signo,
		    si.si_code, si.si_status);
	/* The child's SIGCHLD is handled by the time the parent is back from a system call. */
	for (int i = 0; i < 1000 && si_chld == 0; i++)
		(void)getpid();
	if (si_chld != 1)
		wl_fail("SIGCHLD handled %d times", (int)si_chld);
	wl_say("slept_us=%.0f minflt=%ld maxrss_kib=%ld stack_limit=%llu ok", slept,
	    ru.ru_minflt, ru.ru_maxrss, (unsigned long long)rl.rlim_cur);
	return 0;
}
