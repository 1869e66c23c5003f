/*
 * Suite "vmplat": the guest platform under the VM core (kern/vm_platform.c).
 */
#include "vm/vm_platform.h"

#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/tsc.h"
#include "amd64/vmparam.h"
#include "dev/hostcall.h"
#include "kern/ktest.h"
#include "kern/systm.h"
#include "kern/thread.h"
#include "vm/vm_page_int.h"

KTEST(vmplat, mtx_owns_nests_and_leaves_interrupts_alone)
{
	struct mtx a, b;
	bool before = intr_enabled();

	mtx_init(&a, "a");
	mtx_init(&b, "b");
	enable_intr();
	mtx_lock(&a);
	KT_ASSERT(mtx_owned(&a));
	KT_ASSERT(!mtx_owned(&b));
	KT_ASSERT(intr_enabled());                      /* a sleep mutex, not a spin one */
	mtx_lock(&b);
	KT_ASSERT(mtx_owned(&b));
	mtx_unlock(&b);
	KT_ASSERT(!mtx_owned(&b));
	KT_ASSERT(mtx_owned(&a));
	mtx_unlock(&a);
	KT_ASSERT(!mtx_owned(&a));
	KT_ASSERT_EQ(a.mtx_lock, 0u);
	/* With interrupts off around it, they stay off. */
	disable_intr();
	mtx_lock(&a);
	KT_ASSERT(!intr_enabled());
	mtx_unlock(&a);
	KT_ASSERT(!intr_enabled());
	intr_restore(before);
	mtx_destroy(&a);
	mtx_destroy(&b);
}

KTEST(vmplat, critical_nesting)
{
	int cpu = vm_curcpu();

	KT_ASSERT(cpu >= 0 && cpu < vm_ncpus());
	KT_ASSERT(vm_ncpus() >= 1 && vm_ncpus() <= MAXCPU);
	critical_enter();
	critical_enter();
	KT_ASSERT_EQ(vm_curcpu(), cpu);
	critical_exit();
	critical_exit();
}

KTEST(vmplat, dmap_round_trip)
{
	static uint64_t word = 0x1122334455667788ull;
	vm_paddr_t pa = (uint64_t)(uintptr_t)&word - KERNBASE;
	volatile uint64_t *alias = vm_phys_to_dmap(pa);

	KT_ASSERT_EQ((uintptr_t)alias, DMAP_BASE + pa);
	KT_ASSERT_EQ(vm_dmap_to_phys((const void *)alias), pa);
	KT_ASSERT_EQ(*alias, 0x1122334455667788ull);
	*alias = 42;
	KT_ASSERT_EQ(*(volatile uint64_t *)&word, 42);
}

KTEST(vmplat, nanotime_advances)
{
	uint64_t a = vm_nanotime();
	uint64_t b = vm_nanotime();

	KT_ASSERT(b >= a);
	tsc_delay_ns(1000000);
	KT_ASSERT(vm_nanotime() - b >= 1000000);
}

KTEST(vmplat, sleep_times_out)
{
	struct mtx m;
	int chan;

	mtx_init(&m, "sleep");
	mtx_lock(&m);
	uint64_t t0 = vm_nanotime();
	int rc = vm_sleep(&chan, &m, "ktest", 2000000);
	uint64_t dt = vm_nanotime() - t0;
	KT_ASSERT(mtx_owned(&m));
	mtx_unlock(&m);
	KT_ASSERT_EQ(rc, -1);
	KT_ASSERT_MSG(dt >= 2000000, "slept %lu ns of 2 ms", (unsigned long)dt);
}

static int vmplat_chan;

static void vmplat_wake_from_tick(void)
{
	vm_wakeup(&vmplat_chan);
}

/* Sleeps on vmplat_chan for at most timeout ns while tick_hook runs at every clock
 * tick; => how long the sleep lasted, *rc what vm_sleep returned. */
static uint64_t vmplat_sleep_under_hook(void (*tick_hook)(void), uint64_t timeout, int *rc)
{
	struct mtx m;

	clock_start(CLOCK_HZ);
	mtx_init(&m, "sleep");
	clock_tick_hook = tick_hook;
	mtx_lock(&m);
	uint64_t t0 = vm_nanotime();
	*rc = vm_sleep(&vmplat_chan, &m, "ktest", timeout);
	uint64_t dt = vm_nanotime() - t0;
	mtx_unlock(&m);
	clock_tick_hook = NULL;
	return dt;
}

/* An interrupt handler's vm_wakeup ends the sleep before its timeout. */
KTEST(vmplat, sleep_woken_by_interrupt)
{
	int rc;
	uint64_t dt = vmplat_sleep_under_hook(vmplat_wake_from_tick, 2000000000ull, &rc);

	KT_ASSERT_EQ(rc, 0);
	/* Woken by the next tick, far sooner than the 2 s timeout. */
	KT_ASSERT_MSG(dt < 4000000000ull / CLOCK_HZ, "woken after %lu ns", (unsigned long)dt);
}

/* Two pages of our own to hand to the page operations. */
static char vmplat_pages[2][4096] __attribute__((aligned(4096)));

static bool vmplat_page_is(const char *p, char c)
{
	for (int i = 0; i < 4096; i++) {
		if (p[i] != c)
			return false;
	}
	return true;
}

KTEST(vmplat, page_zero_and_discard)
{
	struct vm_page_run run = {
		.pa = (uint64_t)(uintptr_t)vmplat_pages - KERNBASE, .npages = 2,
	};

	memset(vmplat_pages, 0xa5, sizeof(vmplat_pages));
	uint64_t done = vm_plat_zero_pages(&run, 1);
	KT_ASSERT_EQ(vm_plat_has_page_ops(), hc_available());
	if (!hc_available()) {
		/* No port (QEMU): nothing done, nothing touched; the caller uses stores. */
		KT_ASSERT_EQ(done, 0);
		KT_ASSERT(vmplat_page_is(vmplat_pages[0], (char)0xa5));
		KT_ASSERT_EQ(vm_plat_discard_pages(&run, 1), 0);
		return;
	}
	KT_ASSERT_EQ(done, 2);
	KT_ASSERT(vmplat_page_is(vmplat_pages[0], 0));
	KT_ASSERT(vmplat_page_is(vmplat_pages[1], 0));

	memset(vmplat_pages, 0x3c, sizeof(vmplat_pages));
	run.npages = 1;
	KT_ASSERT_EQ(vm_plat_discard_pages(&run, 1), 1);
	KT_ASSERT(vmplat_page_is(vmplat_pages[0], 0));          /* discarded reads zero */
	KT_ASSERT(vmplat_page_is(vmplat_pages[1], (char)0x3c)); /* its neighbour kept */

	/* A run list the host cannot reach directly (on no linear kernel mapping) is
	 * copied first; here the stack is in the kernel image, so use two runs to check
	 * the count instead. */
	struct vm_page_run two[2] = {
		{ run.pa, 1 }, { run.pa + 4096, 1 },
	};
	memset(vmplat_pages, 0x77, sizeof(vmplat_pages));
	KT_ASSERT_EQ(vm_plat_zero_pages(two, 2), 2);
	KT_ASSERT(vmplat_page_is(vmplat_pages[1], 0));
}

static int vmplat_other_chan;

static void vmplat_wake_other_from_tick(void)
{
	vm_wakeup(&vmplat_other_chan);
	vm_wakeup_one(&vmplat_other_chan);
}

/* Wakeups of another channel, tick after tick, do not end a sleep: it times out. */
KTEST(vmplat, sleep_ignores_other_channels)
{
	int rc;
	uint64_t dt = vmplat_sleep_under_hook(vmplat_wake_other_from_tick,
	    3000000000ull / CLOCK_HZ, &rc);

	KT_ASSERT_EQ(rc, -1);
	KT_ASSERT_MSG(dt >= 3000000000ull / CLOCK_HZ, "slept %lu ns", (unsigned long)dt);
}

/*
 * The page caches' per-CPU flag stays held across a sleep: its holder, in a critical
 * section, may wait for the buddy lock (mtx_lock sets the section aside meanwhile). A
 * thread of better priority that wants the flag then has to let the holder run: on one
 * CPU, spinning for it never ends, since the scheduler gives the CPU to nothing of lower
 * priority (found as a page daemon spinning in vm_pqbatch_take with the guest wedged).
 */
static struct mtx kvp_mtx = { .mtx_name = "kvp" };

static void kvp_flag_holder(void *arg)
{
	bool *got = arg;

	critical_enter();
	struct vm_page_pcpu *pc = &vm_page_pcpu[vm_curcpu()];
	*got = vm_page_pcpu_trylock(pc);
	if (*got) {
		mtx_lock(&kvp_mtx);     /* the test holds it: sleeps with the flag held, as
		                           an allocation does for a contested buddy lock */
		mtx_unlock(&kvp_mtx);
		vm_page_pcpu_unlock(pc);
	}
	critical_exit();
}

static void kvp_flag_waiter(void *arg)
{
	vm_pqbatch_flush(arg);
}

KTEST(vmplat, pcpu_flag_waiter_lets_a_sleeping_holder_run)
{
	bool got = false;

	mtx_lock(&kvp_mtx);
	struct thread *h = thread_create("kvp-holder", PRI_KERN - 2, kvp_flag_holder, &got,
	    true, M_WAITOK);
	KT_ASSERT_EQ(h->td_state, TDS_SLEEPING);        /* for kvp_mtx, flag held */
	KT_ASSERT(got);
	/* Better still: it runs at once and wants the flag. We run again only if it lets
	 * lower priorities run while it waits. */
	struct thread *w = thread_create("kvp-waiter", PRI_KERN - 3, kvp_flag_waiter,
	    &vm_page_pcpu[vm_curcpu()], true, M_WAITOK);
	mtx_unlock(&kvp_mtx);
	KT_ASSERT_EQ(thread_join(h), 0);
	KT_ASSERT_EQ(thread_join(w), 0);
}
