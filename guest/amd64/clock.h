/*
 * The LAPIC timer (amd64/clock.c): the scheduler's one-shot event timer, and a periodic
 * clock counting ticks for the timer tests. Nothing is programmed at boot: a tick costs
 * ~100 us here when it traps into CPL 0, so the timer fires only when asked.
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
/* The event timer: interrupt at TSC value tsc (0: none). => interrupts masked. */
void clock_set_deadline(uint64_t tsc);
/* Timer interrupts taken so far, either use. */
uint64_t clock_nevents(void);
/* clock_set_deadline calls that reached the timer: each a WRMSR or an LAPIC write. */
uint64_t clock_narms(void);

#endif /* AMD64_CLOCK_H */
