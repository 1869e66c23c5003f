/*
 * The TSC as the kernel's clock. Its frequency is found the first time someone asks
 * (never during boot), from the cheapest source that is present:
 *   CPUID 0x15 (crystal ratio), hypervisor leaf 0x40000010 (TSC kHz), KVM's kvmclock
 *   (the host's TSC-to-ns scale, one wrmsr), and last a measurement against PIT
 *   channel 0 (about 10 ms).
 */
#ifndef AMD64_TSC_H
#define AMD64_TSC_H

#include <stdbool.h>
#include <stdint.h>

extern uint64_t tsc_boot;           /* TSC at kmain */

uint64_t tsc_freq_hz(void);
/* Has someone asked already (tsc_nanotime is then a few instructions, with no output)? */
bool tsc_freq_known(void);
const char *tsc_freq_source(void);
/* Nanoseconds since tsc_boot. */
uint64_t tsc_nanotime(void);
/* Busy-wait (interrupts unchanged) for at least ns nanoseconds. */
void tsc_delay_ns(uint64_t ns);
/* TSC ticks in ns nanoseconds; the TSC value at tsc_nanotime() == ns. */
uint64_t tsc_ns_to_ticks(uint64_t ns);
uint64_t tsc_nanotime_to_tsc(uint64_t ns);
/* Nanoseconds in ticks TSC ticks. */
uint64_t tsc_ticks_to_ns(uint64_t ticks);

#endif /* AMD64_TSC_H */
