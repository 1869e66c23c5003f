/*
 * -v output: the VMM's phases and the guest's milestones, each stamped with the time
 * since main() began, on stderr. Costs one branch when -v is off.
 */
#ifndef VMM_TRACE_H
#define VMM_TRACE_H

#include <stdbool.h>

extern bool trace_enabled;

/* Capture the time origin; call first thing in main. */
void trace_init(void);

/* Milliseconds since trace_init. */
double trace_ms(void);

/* "vmm: [  1.23 ms] <message>" on stderr when -v is on. */
void trace_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TRACE(...)                                                                 \
	do {                                                                       \
		if (trace_enabled)                                                 \
			trace_log(__VA_ARGS__);                                    \
	} while (0)

#endif /* VMM_TRACE_H */
