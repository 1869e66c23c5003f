/*
 * Suite "timer": the TSC frequency, and LAPIC timer ticks arriving through the
 * irqchip at the programmed rate.
 */
#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/lapic.h"
#include "amd64/trap.h"
#include "amd64/tsc.h"
#include "kern/ktest.h"
#include "kern/systm.h"

KTEST(timer, tsc_frequency)
{
	uint64_t hz = tsc_freq_hz();

	ktest_log("timer: TSC %lu kHz from %s\n", (unsigned long)(hz / 1000),
	    tsc_freq_source());
	KT_ASSERT(hz >= 100000000ull && hz <= 20000000000ull);
	/* 10 ms by the TSC is 10 ms by nanotime. */
	uint64_t n0 = tsc_nanotime();
	tsc_delay_ns(10000000);
	uint64_t dn = tsc_nanotime() - n0;
	KT_ASSERT_MSG(dn >= 10000000 && dn < 30000000, "10 ms delay took %lu ns",
	    (unsigned long)dn);
}

#define TIMER_NTICKS    6

KTEST(timer, ticks)
{
	uint64_t stamps[TIMER_NTICKS];
	uint64_t hz = tsc_freq_hz();

	clock_start(CLOCK_HZ);
	KT_ASSERT(clock_running());
	KT_ASSERT(intr_enabled());

	uint64_t vec0 = intr_count(IDT_LAPIC_TIMER);
	uint64_t t0 = clock_ticks;
	/* The first tick by polling, with a deadline of ten periods: if the timer is dead,
	 * a hlt would never return. */
	uint64_t deadline = rdtsc() + 10 * hz / CLOCK_HZ;
	while (clock_ticks == t0 && rdtsc() < deadline)
		cpu_pause();
	KT_ASSERT_MSG(clock_ticks != t0, "no tick in %u ms", 10 * 1000 / CLOCK_HZ);

	/* Then sleep from tick to tick: the periodic timer keeps waking us. */
	for (int i = 0; i < TIMER_NTICKS; i++) {
		uint64_t t = clock_ticks;
		disable_intr();
		while (clock_ticks == t) {
			enable_intr_and_halt();
			disable_intr();
		}
		stamps[i] = clock_tick_tsc;
		enable_intr();
	}
	uint64_t dticks = clock_ticks - t0;
	KT_ASSERT(dticks >= TIMER_NTICKS + 1);
	/* Every tick came in on the LAPIC timer vector. */
	KT_ASSERT_EQ(intr_count(IDT_LAPIC_TIMER) - vec0, dticks);

	/* Period by the TSC: the mean of the last TIMER_NTICKS - 1 intervals within 25% of
	 * 1/CLOCK_HZ (emulation delays delivery, but not by milliseconds on average). */
	uint64_t expect = hz / CLOCK_HZ;
	uint64_t mean = (stamps[TIMER_NTICKS - 1] - stamps[0]) / (TIMER_NTICKS - 1);
	ktest_log("timer: period %lu us (expected %lu us)\n",
	    (unsigned long)(mean * 1000000 / hz), (unsigned long)(expect * 1000000 / hz));
	KT_ASSERT_MSG(mean > expect * 3 / 4 && mean < expect * 5 / 4,
	    "mean tick period %lu TSC ticks, expected %lu", (unsigned long)mean,
	    (unsigned long)expect);
	for (int i = 1; i < TIMER_NTICKS; i++)
		KT_ASSERT(stamps[i] > stamps[i - 1]);
}

/*
 * The soft interrupt mask (the kernel cannot cli at CPL 3): ticks that arrive while it
 * is set are recorded by the stub, not run; they run when it is cleared.
 */
KTEST(timer, soft_mask_defers)
{
	uint64_t hz = tsc_freq_hz();

	clock_start(CLOCK_HZ);
	disable_intr();
	uint64_t t0 = clock_ticks, vec0 = intr_count(IDT_LAPIC_TIMER);
	/* Three periods: at least one tick arrives. */
	tsc_delay_ns(3 * 1000000000ull / CLOCK_HZ);
	KT_ASSERT_EQ(clock_ticks, t0);
	KT_ASSERT_EQ(intr_count(IDT_LAPIC_TIMER), vec0);
	KT_ASSERT(intr_pending_any);
	KT_ASSERT(intr_pending[IDT_LAPIC_TIMER / 64] & (1ull << (IDT_LAPIC_TIMER % 64)));
	enable_intr();
	KT_ASSERT(clock_ticks > t0);
	KT_ASSERT(!intr_pending_any);
	/* A recorded tick was not EOIed while it waited: had it been lost, the timer would
	 * be stuck behind it and no further tick would come. */
	uint64_t t1 = clock_ticks, deadline = rdtsc() + 10 * hz / CLOCK_HZ;
	while (clock_ticks == t1 && rdtsc() < deadline)
		cpu_pause();
	KT_ASSERT(clock_ticks > t1);
}
