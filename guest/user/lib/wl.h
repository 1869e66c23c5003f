/*
 * What every workload shares: output that survives fork, failing with one line, time,
 * a reproducible random stream, and argument parsing. Each program defines wl_prog, the
 * name its lines start with.
 *
 * The workloads run as the guest's first processes (static musl) and natively on the
 * host (gcc, glibc), and must use only the system calls issue 10 gives the guest.
 */
#ifndef WL_H
#define WL_H

#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

extern const char wl_prog[];

/* One line on stdout, "PROG: ...", in one write(2). */
void wl_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, "PROG: FAIL: ...", then exit status 1. */
noreturn void wl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Microseconds on the monotonic clock. */
double wl_now_us(void);

/* len bytes of fresh private anonymous memory, read-write; failing says what for. */
void *wl_map_anon(size_t len, const char *what);

/* order[0..n) = 0..n-1 in a random order (Fisher-Yates) drawn from seed: the same on
 * every run, so a failure repeats. */
void wl_shuffle(uint32_t *order, size_t n, uint64_t seed);

/* The process's major faults so far (getrusage's ru_majflt: page-ins from swap). */
long wl_majflt(void);

/* xorshift64: the same sequence on every run and both builds, so a failure repeats. */
uint64_t wl_rand(uint64_t *state);

/* argv[i] as a whole number in [min, max], or def when absent; anything else fails. */
unsigned long wl_arg_ulong(int argc, char **argv, int i, const char *what,
    unsigned long min, unsigned long max, unsigned long def);

#define WL_PAGE 4096ul

#endif /* WL_H */
