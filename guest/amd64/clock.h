/*
 * The periodic clock: the LAPIC timer at clock_hz, counting ticks. Started on demand
 * (clock_start), not at boot: a tick costs ~100 us of emulated kernel time here, and a
 * kernel with nothing to schedule has no use for it yet.
 */
#ifndef AMD64_CLOCK_H
#define AMD64_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCK_HZ    50      /* low on purpose: see above */

extern volatile uint64_t clock_ticks;
extern volatile uint64_t clock_tick_tsc;    /* TSC at the latest tick */

/* Called from the clock interrupt on every tick, interrupts off (one hook: the
 * scheduler's, or a test's). */
extern void (*clock_tick_hook)(void);

/* Program the LAPIC timer periodic at hz and enable interrupts. Idempotent. */
void clock_start(unsigned hz);
bool clock_running(void);
unsigned clock_rate(void);

#endif /* AMD64_CLOCK_H */
