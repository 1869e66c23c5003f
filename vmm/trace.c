/*
 * Phase timing for -v.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "vmm/trace.h"

bool trace_enabled;
static struct timespec trace_t0;

void trace_init(void)
{
	clock_gettime(CLOCK_MONOTONIC, &trace_t0);
}

double trace_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - trace_t0.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - trace_t0.tv_nsec) / 1e6;
}

void trace_log(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One fprintf per line: stderr is unbuffered, so this is one write. */
	fprintf(stderr, "vmm: [%7.2f ms] %s\n", trace_ms(), msg);
}
