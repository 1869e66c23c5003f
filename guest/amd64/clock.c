/*
 * The LAPIC timer in periodic mode, delivered through the in-kernel irqchip on vector
 * IDT_LAPIC_TIMER.
 */
#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/lapic.h"
#include "amd64/trap.h"
#include "kern/systm.h"

volatile uint64_t clock_ticks;
volatile uint64_t clock_tick_tsc;
static unsigned clock_hz;
void (*clock_tick_hook)(void);

static void clock_intr(struct trapframe *tf)
{
	(void)tf;
	clock_tick_tsc = rdtsc();
	clock_ticks++;
	if (clock_tick_hook != NULL)
		clock_tick_hook();
	lapic_eoi();
}

bool clock_running(void)
{
	return clock_hz != 0;
}

unsigned clock_rate(void)
{
	return clock_hz;
}

void clock_start(unsigned hz)
{
	KASSERT(hz > 0, ("clock_start: hz 0"));
	if (clock_hz != 0)
		return;
	uint64_t count = lapic_timer_hz() / hz;
	if (count == 0 || count > 0xffffffffu)
		panic("clock_start: %u Hz impossible with a %lu Hz timer clock", hz,
		    (unsigned long)lapic_timer_hz());
	intr_register(IDT_LAPIC_TIMER, clock_intr);
	lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | IDT_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_ICR, (uint32_t)count);
	clock_hz = hz;
	printf("clock: %u Hz, LAPIC timer count %lu\n", hz, (unsigned long)count);
	enable_intr();
}
