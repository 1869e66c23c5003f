/*
 * Noticing a guest that will never finish. With KVM's in-kernel local APIC a guest's HLT
 * never reaches the VMM, and a kernel spinning with interrupts off exits for nothing, so
 * neither would ever end `vmm run` by itself. A POSIX timer interrupts KVM_RUN every
 * WATCHDOG_TICK_MS; at each tick the vCPU loop asks watchdog_check, which ends the run
 * (exit 70, one `vmm:` line with the registers) when
 *   - the vCPU is halted with interrupts masked: nothing but an NMI, which nobody sends,
 *     could wake it (checked every tick, whatever --watchdog says), or
 *   - for --watchdog SECONDS the guest made no progress: no exit reached the VMM and the
 *     heartbeat the kernel registered (struct hc_dump_desc.heartbeat, its clock tick
 *     count) did not move.
 */
#ifndef VMM_WATCHDOG_H
#define VMM_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define WATCHDOG_TICK_MS        100
#define WATCHDOG_DEFAULT_SEC    120     /* generous: a ktest prints a line per test */
#define WATCHDOG_MAX_SEC        86400

struct machine;

struct watchdog {
	timer_t wd_timer;
	bool wd_armed;
	uint64_t wd_limit_ns;           /* 0: no progress watchdog */
	uint64_t wd_seen_exits;         /* mc_exits at the last progress */
	uint64_t wd_seen_heartbeat;
	bool wd_have_heartbeat;
	uint64_t wd_progress_ns;        /* CLOCK_MONOTONIC of the last progress */
};

/*
 * Arm the tick. seconds == 0 keeps only the halted-with-interrupts-masked check.
 * => 0, or VMM_EXIT_HOST with a message.
 */
int watchdog_start(struct machine *mc, unsigned seconds, char *err, size_t errlen);
void watchdog_stop(struct machine *mc);

/* At a tick, from the vCPU loop. => VCPU_CONTINUE, or 70 after printing why. */
int watchdog_check(struct machine *mc);

#endif /* VMM_WATCHDOG_H */
