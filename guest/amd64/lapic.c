/*
 * Local APIC set-up and the timer clock measurement.
 */
#include "amd64/cpufunc.h"
#include "amd64/lapic.h"
#include "amd64/specialreg.h"
#include "amd64/trap.h"
#include "amd64/tsc.h"
#include "amd64/vmparam.h"
#include "kern/systm.h"

bool lapic_x2apic;
static bool lapic_enabled;
static uint64_t lapic_hz;

#define PIC1_DATA   0x21
#define PIC2_DATA   0xa1

uint32_t lapic_read(unsigned reg)
{
	if (lapic_x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return *(volatile uint32_t *)(LAPIC_VA + reg);
}

void lapic_write(unsigned reg, uint32_t v)
{
	if (lapic_x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		*(volatile uint32_t *)(LAPIC_VA + reg) = v;
}

bool lapic_ready(void)
{
	return lapic_enabled;
}

void lapic_eoi(void)
{
	if (lapic_enabled)
		lapic_write(LAPIC_EOI, 0);
}

/*
 * Enable the LAPIC, its spurious vector, and mask what could deliver interrupts nobody
 * handles: the 8259 PICs (their reset state is unmasked, and the BSP's LINT0 is wired
 * to them as ExtINT) and LINT0/LINT1 themselves.
 */
void lapic_init(void)
{
	uint32_t r[4];
	uint64_t base;

	if (lapic_enabled)
		return;
	cpuid_count(1, 0, r);
	if ((r[3] & CPUID1_EDX_APIC) == 0)
		panic("lapic_init: the CPU has no local APIC");
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);

	base = rdmsr(MSR_APICBASE);
	if (r[2] & CPUID1_ECX_X2APIC) {
		lapic_x2apic = true;
		wrmsr(MSR_APICBASE, base | APICBASE_ENABLE | APICBASE_X2APIC);
	} else {
		if ((base & APICBASE_ADDR_MASK) != LAPIC_PHYS)
			panic("lapic_init: LAPIC at %#lx, the kernel maps it at %#x only",
			    (unsigned long)(base & APICBASE_ADDR_MASK), LAPIC_PHYS);
		if ((base & APICBASE_ENABLE) == 0)
			wrmsr(MSR_APICBASE, base | APICBASE_ENABLE);
	}
	lapic_enabled = true;
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | IDT_LAPIC_TIMER);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | IDT_LAPIC_SPURIOUS);
	printf("lapic: %s mode, id %u\n", lapic_x2apic ? "x2APIC" : "xAPIC",
	    lapic_x2apic ? lapic_read(LAPIC_ID) : lapic_read(LAPIC_ID) >> 24);
}

/* Run the timer one-shot and masked from the top of its range for ~5 ms of TSC time. */
uint64_t lapic_timer_hz(void)
{
	if (lapic_hz != 0)
		return lapic_hz;
	lapic_init();

	uint64_t tsc_hz = tsc_freq_hz();
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | IDT_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
	lapic_write(LAPIC_TIMER_ICR, 0xffffffff);
	uint64_t t0 = rdtsc();
	uint32_t c0 = lapic_read(LAPIC_TIMER_CCR);
	tsc_delay_ns(5000000);
	uint64_t t1 = rdtsc();
	uint32_t c1 = lapic_read(LAPIC_TIMER_CCR);
	lapic_write(LAPIC_TIMER_ICR, 0);
	if (c1 >= c0)
		panic("lapic_timer_hz: the LAPIC timer does not count (%#x then %#x)", c0, c1);
	lapic_hz = (uint64_t)(c0 - c1) * tsc_hz / (t1 - t0);
	printf("lapic: timer clock %lu kHz\n", (unsigned long)(lapic_hz / 1000));
	return lapic_hz;
}
