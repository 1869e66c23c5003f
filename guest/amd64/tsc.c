/*
 * TSC frequency discovery and TSC-based time.
 */
#include "amd64/cpufunc.h"
#include "amd64/kva.h"
#include "amd64/specialreg.h"
#include "amd64/tsc.h"
#include "kern/systm.h"

uint64_t tsc_boot;

static uint64_t tsc_hz;
static uint64_t tsc_ns_mul;         /* ns = (ticks * tsc_ns_mul) >> 32 */
static const char *tsc_source = "unknown";

/* kvmclock's per-vCPU time record (KVM's struct pvclock_vcpu_time_info). */
struct tsc_pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((aligned(32)));

static struct tsc_pvclock tsc_pvclock;

static uint64_t tsc_from_cpuid15(void)
{
	uint32_t r[4];

	cpuid_count(0, 0, r);
	if (r[0] < 0x15)
		return 0;
	cpuid_count(0x15, 0, r);
	if (r[0] == 0 || r[1] == 0 || r[2] == 0)
		return 0;
	return (uint64_t)r[2] * r[1] / r[0];
}

/* Returns the hypervisor's largest leaf, and whether it is KVM. */
static uint32_t tsc_hv_leaves(bool *kvm)
{
	uint32_t r[4];

	*kvm = false;
	cpuid_count(1, 0, r);
	if ((r[2] & CPUID1_ECX_HYPERVISOR) == 0)
		return 0;
	cpuid_count(0x40000000, 0, r);
	*kvm = r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x4d;   /* KVMKVMKVM */
	return r[0];
}

static uint64_t tsc_from_kvmclock(void)
{
	uint32_t r[4];
	uint64_t hz;

	cpuid_count(0x40000001, 0, r);
	if ((r[0] & KVM_FEATURE_CLOCKSOURCE2) == 0)
		return 0;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, kvtop(&tsc_pvclock) | 1);
	/* KVM fills the record before the guest runs again; only the scale is needed. */
	uint32_t mul = *(volatile uint32_t *)&tsc_pvclock.tsc_to_system_mul;
	int shift = *(volatile int8_t *)&tsc_pvclock.tsc_shift;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	if (mul == 0)
		return 0;
	/* 1 tick = mul * 2^shift / 2^32 ns. */
	hz = (1000000000ull << 32) / mul;
	return shift >= 0 ? hz >> shift : hz << -shift;
}

#define PIT_HZ          1193182u
#define PIT_CH0         0x40
#define PIT_MODE        0x43

static uint16_t pit_read_ch0(void)
{
	outb(PIT_MODE, 0x00);                   /* latch channel 0 */
	uint8_t lo = inb(PIT_CH0);
	return (uint16_t)(lo | inb(PIT_CH0) << 8);
}

/* Count TSC ticks over ~10 ms of PIT channel 0 counting down once from 0xffff (mode 0:
 * one interrupt at zero, not a stream of them; IRQ 0 is masked anyway). */
static uint64_t tsc_from_pit(void)
{
	const unsigned span = PIT_HZ / 100;

	outb(PIT_MODE, 0x30);                   /* channel 0, lo/hi byte, mode 0 */
	outb(PIT_CH0, 0xff);
	outb(PIT_CH0, 0xff);
	uint64_t t0 = rdtsc();
	uint16_t c0 = pit_read_ch0();
	uint16_t c = c0;
	uint64_t t1 = t0;
	/* A PIT counts at ~1.2 MHz, so it moves between any two reads; a counter that
	 * stands still for 1000 reads is not there (the port reads as all ones). */
	for (int still = 0; still < 1000 && (uint16_t)(c0 - c) < span;) {
		uint16_t prev = c;
		t1 = rdtsc();
		c = pit_read_ch0();
		still = c == prev ? still + 1 : 0;
	}
	if ((uint16_t)(c0 - c) < span || c > c0)
		return 0;
	return (t1 - t0) * PIT_HZ / (uint16_t)(c0 - c);
}

bool tsc_freq_known(void)
{
	return __atomic_load_n(&tsc_hz, __ATOMIC_RELAXED) != 0;
}

uint64_t tsc_freq_hz(void)
{
	if (tsc_hz != 0)
		return tsc_hz;

	bool kvm;
	uint32_t hvmax = tsc_hv_leaves(&kvm);
	uint32_t r[4];
	uint64_t hz;

	if ((hz = tsc_from_cpuid15()) != 0) {
		tsc_source = "cpuid 0x15";
	} else if (hvmax >= 0x40000010 && (cpuid_count(0x40000010, 0, r), r[0] != 0)) {
		hz = (uint64_t)r[0] * 1000;
		tsc_source = "cpuid 0x40000010";
	} else if (kvm && hvmax >= 0x40000001 && (hz = tsc_from_kvmclock()) != 0) {
		tsc_source = "kvmclock";
	} else if ((hz = tsc_from_pit()) != 0) {
		tsc_source = "PIT";
	} else {
		panic("tsc_freq_hz: no source for the TSC frequency (no CPUID leaf, "
		    "kvmclock or PIT)");
	}
	tsc_ns_mul = (1000000000ull << 32) / hz;
	tsc_hz = hz;
	printf("tsc: %lu kHz (%s)\n", (unsigned long)(hz / 1000), tsc_source);
	return hz;
}

const char *tsc_freq_source(void)
{
	return tsc_source;
}

uint64_t tsc_nanotime(void)
{
	if (__builtin_expect(tsc_hz == 0, 0))
		tsc_freq_hz();
	return (uint64_t)(((unsigned __int128)(rdtsc() - tsc_boot) * tsc_ns_mul) >> 32);
}

uint64_t tsc_ns_to_ticks(uint64_t ns)
{
	uint64_t hz = tsc_freq_hz();

	/* Split so that no product overflows 64 bits (hz below 18 GHz). */
	return ns / 1000000000u * hz + ns % 1000000000u * hz / 1000000000u;
}

uint64_t tsc_ticks_to_ns(uint64_t ticks)
{
	if (__builtin_expect(tsc_hz == 0, 0))
		tsc_freq_hz();
	return (uint64_t)(((unsigned __int128)ticks * tsc_ns_mul) >> 32);
}

uint64_t tsc_nanotime_to_tsc(uint64_t ns)
{
	return tsc_boot + tsc_ns_to_ticks(ns);
}

void tsc_delay_ns(uint64_t ns)
{
	uint64_t ticks = tsc_ns_to_ticks(ns);
	uint64_t start = rdtsc();

	while (rdtsc() - start < ticks)
		cpu_pause();
}
