/*
 * The LAPIC timer, on vector IDT_LAPIC_TIMER through the in-kernel irqchip, in one of
 * two uses:
 *   - the event timer: one-shot at a TSC deadline the scheduler asks for
 *     (clock_set_deadline), in the LAPIC's TSC-deadline mode where the CPU has it (KVM
 *     does), else one-shot with a count computed from the timer's measured clock;
 *   - the periodic clock (clock_start), which the timer tests use; while it runs, each
 *     tick is also the scheduler's event and deadlines are not programmed.
 * Each programming is a kernel request (an x2APIC MSR write): the scheduler asks only
 * when the deadline changes.
 */
#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/lapic.h"
#include "amd64/specialreg.h"
#include "amd64/trap.h"
#include "amd64/tsc.h"
#include "kern/systm.h"
#include "kern/thread.h"

#define MSR_TSC_DEADLINE        0x6e0
#define LAPIC_LVT_TSC_DEADLINE  0x40000

volatile uint64_t clock_ticks;
volatile uint64_t clock_tick_tsc;
static unsigned clock_hz;
void (*clock_tick_hook)(void);

static enum { CLOCK_OFF, CLOCK_DEADLINE, CLOCK_ONESHOT, CLOCK_PERIODIC } clock_mode;
static uint64_t clock_events;
static uint64_t clock_arms;

static void clock_intr(struct trapframe *tf)
{
	(void)tf;
	if (clock_mode == CLOCK_PERIODIC) {
		clock_tick_tsc = rdtsc();
		clock_ticks++;
		if (clock_tick_hook != NULL)
			clock_tick_hook();
	}
	clock_events++;
	lapic_eoi();
	if (sched_running())
		sched_clock();
}

bool clock_running(void)
{
	return clock_hz != 0;
}

unsigned clock_rate(void)
{
	return clock_hz;
}

uint64_t clock_nevents(void)
{
	return clock_events;
}

uint64_t clock_narms(void)
{
	return clock_arms;
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
	bool intr = intr_save();
	if (clock_mode == CLOCK_DEADLINE)
		wrmsr(MSR_TSC_DEADLINE, 0);
	clock_mode = CLOCK_PERIODIC;
	lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | IDT_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_ICR, (uint32_t)count);
	clock_hz = hz;
	intr_restore(intr);
	printf("clock: %u Hz, LAPIC timer count %lu\n", hz, (unsigned long)count);
	enable_intr();
}

/* The event timer's first use. */
static void clock_event_init(void)
{
	uint32_t r[4];

	lapic_init();
	intr_register(IDT_LAPIC_TIMER, clock_intr);
	cpuid_count(1, 0, r);
	if ((r[2] & CPUID1_ECX_TSCDLINE) != 0) {
		lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_TSC_DEADLINE | IDT_LAPIC_TIMER);
		clock_mode = CLOCK_DEADLINE;
	} else {
		(void)lapic_timer_hz();         /* measured once: ~5 ms */
		lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
		lapic_write(LAPIC_LVT_TIMER, IDT_LAPIC_TIMER);
		clock_mode = CLOCK_ONESHOT;
	}
}

void clock_set_deadline(uint64_t tsc)
{
	KASSERT(!intr_enabled(), ("clock_set_deadline: interrupts enabled"));
	if (clock_mode == CLOCK_PERIODIC)
		return;                         /* every tick reaches the scheduler anyway */
	if (clock_mode == CLOCK_OFF) {
		if (tsc == 0)
			return;
		clock_event_init();
	}
	clock_arms++;
	if (clock_mode == CLOCK_DEADLINE) {
		wrmsr(MSR_TSC_DEADLINE, tsc);   /* 0 disarms; a past deadline fires at once */
		return;
	}
	uint64_t count = 0;
	if (tsc != 0) {
		uint64_t now = rdtsc(), delta = tsc > now ? tsc - now : 1;
		count = (uint64_t)((unsigned __int128)delta * lapic_timer_hz() / tsc_freq_hz());
		count = count == 0 ? 1 : MIN(count, 0xffffffffu);
	}
	lapic_write(LAPIC_TIMER_ICR, (uint32_t)count);
}
