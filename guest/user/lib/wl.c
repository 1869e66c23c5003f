/*
 * The workloads' shared helpers. Output is formatted on the stack and written with one
 * write(2) per line instead of stdio: a stdio buffer copied by fork would print twice,
 * lines of a parent and a child must not interleave mid-line, and glibc's stdio would
 * malloc its buffer from the heap the brk workload moves by hand.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

static void wl_vline(int fd, const char *tag, const char *fmt, va_list ap)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "%s: %s", wl_prog, tag);

	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof(line) - 1) {
		int m = vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
		n += m < 0 ? 0 : m;
	}
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;      /* truncated, but still one line */
	line[n++] = '\n';
	for (const char *p = line; n > 0;) {
		ssize_t w = write(fd, p, (size_t)n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (int)w;
	}
}

void wl_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wl_vline(STDOUT_FILENO, "", fmt, ap);
	va_end(ap);
}

void wl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wl_vline(STDERR_FILENO, "FAIL: ", fmt, ap);
	va_end(ap);
	_exit(1);
}

double wl_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		wl_fail("clock_gettime: %s", strerror(errno));
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

uint64_t wl_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

unsigned long wl_arg_ulong(int argc, char **argv, int i, const char *what,
    unsigned long min, unsigned long max, unsigned long def)
{
	char *end;

	if (i >= argc)
		return def;
	errno = 0;
	unsigned long v = strtoul(argv[i], &end, 0);
	if (argv[i][0] < '0' || argv[i][0] > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max)
		wl_fail("%s '%s': give a whole number from %lu to %lu", what, argv[i], min, max);
	return v;
}

long wl_majflt(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		wl_fail("getrusage: %s", strerror(errno));
	return ru.ru_majflt;
}

void *wl_map_anon(size_t len, const char *what)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_fail("mmap of %zu bytes for %s: %s", len, what, strerror(errno));
	return p;
}

void wl_shuffle(uint32_t *order, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(wl_rand(&seed) % i);
		uint32_t t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
}
