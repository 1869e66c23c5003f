/*
 * The local APIC (the in-kernel irqchip's): x2APIC through MSRs when CPUID offers it,
 * else xAPIC registers at LAPIC_VA. Nothing touches it during boot; lapic_init runs
 * when the first user (the clock) starts.
 */
#ifndef AMD64_LAPIC_H
#define AMD64_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16). */
#define LAPIC_ID        0x020
#define LAPIC_VERSION   0x030
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_ESR       0x280
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0

#define LAPIC_SVR_ENABLE    0x100
#define LAPIC_LVT_MASKED    0x10000
#define LAPIC_LVT_PERIODIC  0x20000
#define LAPIC_DCR_DIV1      0xb

extern bool lapic_x2apic;

void lapic_init(void);
bool lapic_ready(void);
uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);
void lapic_eoi(void);
/* The timer's input clock (divide by 1), measured against the TSC on first use. */
uint64_t lapic_timer_hz(void);

#endif /* AMD64_LAPIC_H */
