/*
 * The watchdog (watchdog.h says what it catches and why it must). No thread: a POSIX
 * timer's signal makes KVM_RUN return EINTR on the vCPU's own thread, which is the only
 * thread that may ask KVM for the vCPU's state anyway. A tick costs one exit and one or
 * two ioctls, ten times a second.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/machine.h"
#include "vmm/vmm.h"
#include "vmm/watchdog.h"

#define WD_RFLAGS_IF    (1ull << 9)

static struct machine *wd_machine;      /* the one the tick signal is for */

static void wd_tick_handler(int sig)
{
	(void)sig;
	if (wd_machine != NULL)
		atomic_store(&wd_machine->mc_tick, 1);
}

static uint64_t wd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int watchdog_start(struct machine *mc, unsigned seconds, char *err, size_t errlen)
{
	struct watchdog *wd = &mc->mc_wd;
	/* SA_RESTART: a tick must not fail the console's writes; KVM_RUN returns EINTR
	 * regardless. */
	struct sigaction sa = { .sa_handler = wd_tick_handler, .sa_flags = SA_RESTART };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM };
	struct itimerspec its = {
		.it_value = { 0, WATCHDOG_TICK_MS * 1000000L },
		.it_interval = { 0, WATCHDOG_TICK_MS * 1000000L },
	};

	memset(wd, 0, sizeof(*wd));
	wd->wd_limit_ns = (uint64_t)seconds * 1000000000ull;
	wd->wd_progress_ns = wd_now_ns();
	wd_machine = mc;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0 ||
	    timer_create(CLOCK_MONOTONIC, &sev, &wd->wd_timer) != 0)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "cannot create the watchdog's "
		    "timer: %s", strerror(errno));
	if (timer_settime(wd->wd_timer, 0, &its, NULL) != 0) {
		int e = errno;
		timer_delete(wd->wd_timer);
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "cannot start the watchdog's "
		    "timer: %s", strerror(e));
	}
	wd->wd_armed = true;
	return 0;
}

void watchdog_stop(struct machine *mc)
{
	if (mc->mc_wd.wd_armed) {
		timer_delete(mc->mc_wd.wd_timer);
		mc->mc_wd.wd_armed = false;
	}
}

/* The kernel's heartbeat, if it registered one that lies in RAM. */
static bool wd_read_heartbeat(struct machine *mc, uint64_t *out)
{
	const struct hostcall *hc = &mc->mc_hc;
	uint64_t gpa;

	/* Read the descriptor's field again: the guest may fill it after registering. */
	if (!hc->hc_have_dump_desc ||
	    guest_mem_read(&mc->mc_mem, hc->hc_dump_desc_gpa +
	    offsetof(struct hc_dump_desc, heartbeat), &gpa, sizeof(gpa)) != 0 ||
	    gpa == 0 || gpa % sizeof(uint64_t) != 0)
		return false;
	return guest_mem_read(&mc->mc_mem, gpa, out, sizeof(*out)) == 0;
}

int watchdog_check(struct machine *mc)
{
	struct watchdog *wd = &mc->mc_wd;
	struct kvm_mp_state mp;
	struct kvm_regs r;
	char what[200];

	if (ioctl(mc->mc_vcpu.kc_fd, KVM_GET_MP_STATE, &mp) == 0 &&
	    mp.mp_state == KVM_MP_STATE_HALTED &&
	    ioctl(mc->mc_vcpu.kc_fd, KVM_GET_REGS, &r) == 0 && (r.rflags & WD_RFLAGS_IF) == 0) {
		/* With SMP another vCPU's NMI or INIT could still wake it: then every vCPU
		 * must be so before the guest is dead. */
		fault_report(mc, "guest stopped for good: halted with interrupts masked (cli; "
		    "hlt), nothing can wake it", NULL);
		return VMM_EXIT_GUEST;
	}

	uint64_t now = wd_now_ns(), hb = 0;
	bool have_hb = wd_read_heartbeat(mc, &hb);
	if (mc->mc_exits != wd->wd_seen_exits || have_hb != wd->wd_have_heartbeat ||
	    (have_hb && hb != wd->wd_seen_heartbeat)) {
		wd->wd_seen_exits = mc->mc_exits;
		wd->wd_have_heartbeat = have_hb;
		wd->wd_seen_heartbeat = hb;
		wd->wd_progress_ns = now;
		return VCPU_CONTINUE;
	}
	if (wd->wd_limit_ns == 0 || now - wd->wd_progress_ns < wd->wd_limit_ns)
		return VCPU_CONTINUE;
	bool halted = ioctl(mc->mc_vcpu.kc_fd, KVM_GET_MP_STATE, &mp) == 0 &&
	    mp.mp_state == KVM_MP_STATE_HALTED;
	snprintf(what, sizeof(what), "guest made no progress for %llu s (no device "
	    "access, no clock tick; %s), stopped by --watchdog (0 disables it)",
	    (unsigned long long)(wd->wd_limit_ns / 1000000000ull),
	    halted ? "halted waiting for an interrupt" : "running");
	fault_report(mc, what, NULL);
	return VMM_EXIT_GUEST;
}
