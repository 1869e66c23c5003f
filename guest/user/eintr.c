/*
 * eintr: signals end blocked system calls, as on Linux. Another process (a child that
 * pesters its parent with kill() every few milliseconds, so that one signal surely
 * lands while the parent is blocked) sends the signals:
 *   read_eintr     a read of an empty pipe, handler without SA_RESTART: -1, EINTR
 *   read_restart   the same with SA_RESTART: the read carries on and gets the data
 *                  written after three signals (the handler ran three times)
 *   nanosleep      a 10 s sleep: -1, EINTR, the time left (more than 5 s) in rem
 *   wait4_eintr    waitpid for a child that is alive: -1, EINTR
 *   wait4_restart  with SA_RESTART: waitpid carries on until the child's exit
 *   sigterm        a child blocked in read, SIGTERM's default action: killed (status
 *                  signal 15), at once
 *   deaf           a child blocked in read with SIGUSR1 blocked and SIGUSR2 ignored is
 *                  not woken by them (its read gets the byte sent after them), and
 *                  SIGKILL ends it whatever it blocks (status signal 9)
 * Each case must end within seconds; a sleep that is not interrupted hangs the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "eintr";

#define EI_PESTER_MS    5               /* between a pester child's signals */
#define EI_PESTER_MAX   2000            /* 10 s of pestering at most, then it gives up */

static volatile sig_atomic_t ei_caught;

static void ei_on_sig(int sig)
{
	(void)sig;
	ei_caught++;
}

static void ei_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* sig's handler counts; restart: SA_RESTART. */
static void ei_handle(int sig, int restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ei_on_sig;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		wl_fail("sigaction(%d): %s", sig, strerror(errno));
	ei_caught = 0;
}

/*
 * A child that sends its parent sig every EI_PESTER_MS, count times, or until a byte
 * arrives on the read end of *stop (non-blocking); then, when data >= 0, writes "data"
 * to it, and exits 0. => its pid; *stop's write end is the parent's.
 */
static pid_t ei_pester(int sig, int count, int stop[2], int data)
{
	pid_t parent = getpid();

	if (pipe(stop) != 0 || fcntl(stop[0], F_SETFL, O_NONBLOCK) != 0)
		wl_fail("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		char c;
		close(stop[1]);
		for (int i = 0; i < count && read(stop[0], &c, 1) != 1; i++) {
			ei_sleep_ms(EI_PESTER_MS);
			if (kill(parent, sig) != 0)
				_exit(2);
		}
		if (data >= 0 && write(data, "data", 4) != 4)
			_exit(3);
		_exit(0);
	}
	close(stop[0]);
	return pid;
}

/* Reap pid (retrying EINTR: the pester's last signals may still come); it must end as
 * want_sig says (0: exit 0, else killed by that signal). */
static void ei_reap(pid_t pid, int want_sig, const char *what)
{
	int st;
	pid_t r;

	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (r != pid)
		wl_fail("%s: waitpid: %s", what, strerror(errno));
	if (want_sig == 0 ? !WIFEXITED(st) || WEXITSTATUS(st) != 0 :
	    !WIFSIGNALED(st) || WTERMSIG(st) != want_sig)
		wl_fail("%s: the child ended with wait status 0x%x, want %s %d", what, st,
		    want_sig == 0 ? "exit" : "signal", want_sig);
}

/* Tell a pester child to stop (EPIPE: it stopped by itself; SIGPIPE is ignored) and
 * reap it. */
static void ei_stop(pid_t pid, int stop[2], const char *what)
{
	if (write(stop[1], "s", 1) != 1 && errno != EPIPE)
		wl_fail("%s: write: %s", what, strerror(errno));
	close(stop[1]);
	ei_reap(pid, 0, what);
}

static void ei_read_eintr(void)
{
	int p[2], stop[2];
	char c;

	if (pipe(p) != 0)
		wl_fail("pipe: %s", strerror(errno));
	ei_handle(SIGUSR1, 0);
	pid_t pid = ei_pester(SIGUSR1, EI_PESTER_MAX, stop, -1);
	ssize_t n = read(p[0], &c, 1);
	if (n != -1 || errno != EINTR)
		wl_fail("read_eintr: read returned %zd (%s), want -1 EINTR", n,
		    n < 0 ? strerror(errno) : "data");
	if (ei_caught < 1)
		wl_fail("read_eintr: EINTR but the handler did not run");
	ei_stop(pid, stop, "read_eintr");
	close(p[0]);
	close(p[1]);
}

static void ei_read_restart(void)
{
	int p[2], stop[2];
	char buf[8];

	if (pipe(p) != 0)
		wl_fail("pipe: %s", strerror(errno));
	ei_handle(SIGUSR2, 1);
	pid_t pid = ei_pester(SIGUSR2, 3, stop, p[1]);
	ssize_t n = read(p[0], buf, sizeof(buf));
	if (n != 4 || memcmp(buf, "data", 4) != 0)
		wl_fail("read_restart: read returned %zd (%s), want the 4 bytes", n,
		    n < 0 ? strerror(errno) : "other data");
	if (ei_caught != 3)
		wl_fail("read_restart: the handler ran %d times, want 3", (int)ei_caught);
	ei_stop(pid, stop, "read_restart");
	close(p[0]);
	close(p[1]);
}

static void ei_nanosleep(void)
{
	int stop[2];
	struct timespec req = { 10, 0 }, rem = { -1, -1 };

	ei_handle(SIGUSR1, 1);          /* SA_RESTART: nanosleep is never restarted */
	pid_t pid = ei_pester(SIGUSR1, EI_PESTER_MAX, stop, -1);
	double t0 = wl_now_us();
	int r = nanosleep(&req, &rem);
	double us = wl_now_us() - t0;
	if (r != -1 || errno != EINTR)
		wl_fail("nanosleep: returned %d (%s) after %.0f us, want -1 EINTR", r,
		    r < 0 ? strerror(errno) : "slept", us);
	/* What is left is at most the request less the time asleep, and at least the
	 * request less the time the call took (us bounds the sleep from above). How much
	 * of us went to entering, the signal and the handler is not bounded: on a loaded
	 * host under an emulator it once passed 100 ms, so left + us has no upper bound
	 * but the request's. */
	double left = (double)rem.tv_sec * 1e6 + (double)rem.tv_nsec / 1e3;
	if (rem.tv_nsec < 0 || rem.tv_nsec >= 1000000000 || left < 5e6 || left > 10e6 ||
	    left + us < 9.9e6)
		wl_fail("nanosleep: %.0f us left after %.0f us of 10 s", left, us);
	ei_stop(pid, stop, "nanosleep");
}

static void ei_wait4(int restart)
{
	const char *what = restart ? "wait4_restart" : "wait4_eintr";
	int stop[2], st = 0;

	ei_handle(SIGUSR1, restart);
	pid_t pid = ei_pester(SIGUSR1, restart ? 3 : EI_PESTER_MAX, stop, -1);
	pid_t r = waitpid(pid, &st, 0);
	if (restart) {
		if (r != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			wl_fail("%s: waitpid returned %d (%s), status 0x%x", what, (int)r,
			    r < 0 ? strerror(errno) : "-", r == pid ? st : 0);
		if (ei_caught != 3)
			wl_fail("%s: the handler ran %d times, want 3", what, (int)ei_caught);
		close(stop[1]);
		return;
	}
	if (r != -1 || errno != EINTR)
		wl_fail("%s: waitpid returned %d (%s), want -1 EINTR", what, (int)r,
		    r < 0 ? strerror(errno) : "reaped");
	ei_stop(pid, stop, what);
}

/* A child blocked in a read of p (whose write end stays open here). */
static pid_t ei_reader(int p[2], int deaf, int ack)
{
	if (pipe(p) != 0)
		wl_fail("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		char c;
		signal(SIGTERM, SIG_DFL);
		if (deaf) {
			sigset_t set;
			sigemptyset(&set);
			sigaddset(&set, SIGUSR1);
			sigaddset(&set, SIGKILL);       /* dropped: SIGKILL cannot be blocked */
			signal(SIGUSR2, SIG_IGN);
			if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
				_exit(4);
			if (read(p[0], &c, 1) != 1 || c != 'a' || write(ack, "k", 1) != 1)
				_exit(5);
		}
		(void)read(p[0], &c, 1);
		_exit(6);
	}
	return pid;
}

static void ei_sigterm(void)
{
	int p[2];

	pid_t pid = ei_reader(p, 0, -1);
	ei_sleep_ms(20);                /* it is in read by then (and killed if not) */
	double t0 = wl_now_us();
	if (kill(pid, SIGTERM) != 0)
		wl_fail("sigterm: kill: %s", strerror(errno));
	ei_reap(pid, SIGTERM, "sigterm");
	double us = wl_now_us() - t0;
	if (us > 2e6)
		wl_fail("sigterm: the child took %.0f us to die", us);
	close(p[0]);
	close(p[1]);
}

static void ei_deaf(void)
{
	int p[2], ack[2];
	char c;

	if (pipe(ack) != 0)
		wl_fail("pipe: %s", strerror(errno));
	pid_t pid = ei_reader(p, 1, ack[1]);
	ei_sleep_ms(20);
	if (kill(pid, SIGUSR1) != 0 || kill(pid, SIGUSR2) != 0)
		wl_fail("deaf: kill: %s", strerror(errno));
	ei_sleep_ms(20);
	if (write(p[1], "a", 1) != 1 || read(ack[0], &c, 1) != 1)
		wl_fail("deaf: the child did not read what came after the signals");
	ei_sleep_ms(20);                /* back in its second read */
	if (kill(pid, SIGKILL) != 0)
		wl_fail("deaf: kill: %s", strerror(errno));
	ei_reap(pid, SIGKILL, "deaf");
	close(p[0]);
	close(p[1]);
	close(ack[0]);
	close(ack[1]);
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		wl_fail("usage: eintr");
	double t0 = wl_now_us();
	signal(SIGPIPE, SIG_IGN);
	ei_read_eintr();
	ei_read_restart();
	ei_nanosleep();
	ei_wait4(0);
	ei_wait4(1);
	ei_sigterm();
	ei_deaf();
	wl_say("read_eintr read_restart nanosleep wait4_eintr wait4_restart sigterm deaf: "
	    "ok in %.0f ms", (wl_now_us() - t0) / 1e3);
	return 0;
}
