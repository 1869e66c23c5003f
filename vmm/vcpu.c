/*
 * The KVM_RUN loop. It dispatches each exit to its handler and does nothing else; a
 * handler's verdict (VCPU_CONTINUE or an exit status) ends or continues the loop.
 *
 * Stopping from outside: the stop-signal handler (run.c) sets mc_stop_signal and
 * run->immediate_exit. KVM_RUN then returns EINTR whether the signal arrived inside the
 * guest or just before the ioctl (immediate_exit closes that window).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/machine.h"
#include "vmm/trace.h"
#include "vmm/vmm.h"

static int vcpu_exit_io(struct machine *mc, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep ins/outs) arrives as count consecutive elements, all of them
	 * inside the run area: KVM's promise, checked because a broken one would have
	 * the devices read and write past it. */
	KASSERT(run->io.data_offset <= mc->mc_vm.kv_run_size &&
	    (uint64_t)run->io.count * run->io.size <=
	    mc->mc_vm.kv_run_size - run->io.data_offset,
	    ("%s: %u x %u bytes at offset %llu leave the run area", __func__,
	    run->io.count, run->io.size, (unsigned long long)run->io.data_offset));
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		int v = io_port(mc, run->io.port, out, run->io.size, data);
		if (v != VCPU_CONTINUE)
			return v;
	}
	return VCPU_CONTINUE;
}

static int vcpu_tick(struct machine *mc);

/*
 * SIGQUIT under --dump: write the dump now, while this thread keeps the vCPU out of
 * KVM_RUN, and carry on. immediate_exit is cleared before the request is taken, so a
 * SIGQUIT that comes later still stops the next KVM_RUN; a stop signal that came in
 * between is seen at the top of the loop, before KVM_RUN.
 */
static void vcpu_dump_request(struct machine *mc)
{
	mc->mc_vcpu.kc_run->immediate_exit = 0;
	if (atomic_exchange(&mc->mc_dump_request, 0) && mc->mc_on_dump_request != NULL)
		mc->mc_on_dump_request(mc);
}

static int vcpu_exit_signal(struct machine *mc)
{
	int sig = atomic_load(&mc->mc_stop_signal);

	if (sig == 0) {                 /* a dump request, the watchdog's tick, or stray */
		if (atomic_load(&mc->mc_dump_request))
			vcpu_dump_request(mc);
		return atomic_load(&mc->mc_tick) ? vcpu_tick(mc) : VCPU_CONTINUE;
	}
	TRACE("vcpu stopped by signal %d", sig);
	return 128 + sig;           /* as if the signal had ended us: 130 INT, 143 TERM */
}

/* The watchdog's timer fired: is the guest still going? */
static int vcpu_tick(struct machine *mc)
{
	atomic_store(&mc->mc_tick, 0);
	return watchdog_check(mc);
}

int vcpu_run_loop(struct machine *mc)
{
	struct kvm_run *run = mc->mc_vcpu.kc_run;
	int v;

	for (;;) {
		/* A tick that came while we were out of KVM_RUN is checked here, and a stop
		 * the console asked for (its reader left). */
		if (atomic_load(&mc->mc_tick) && (v = vcpu_tick(mc)) != VCPU_CONTINUE)
			return v;
		if (atomic_load(&mc->mc_stop_signal) != 0)
			return vcpu_exit_signal(mc);
		if (atomic_load(&mc->mc_dump_request))
			vcpu_dump_request(mc);
		if (ioctl(mc->mc_vcpu.kc_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if ((v = vcpu_exit_signal(mc)) != VCPU_CONTINUE)
					return v;
				continue;
			}
			fprintf(stderr, "vmm: KVM_RUN failed: %s; the host cannot run this "
			    "guest\n", strerror(errno));
			return VMM_EXIT_HOST;
		}
		mc->mc_exit_unclaimed = false;
		switch (run->exit_reason) {
		case KVM_EXIT_DEBUG:
			if (mc->mc_insn_trace == NULL) {
				fprintf(stderr, "vmm: unexpected debug exit at rip 0x%llx\n",
				    (unsigned long long)run->debug.arch.pc);
				v = VMM_EXIT_HOST;
				break;
			}
			fprintf(mc->mc_insn_trace, "%llx\n",
			    (unsigned long long)run->debug.arch.pc);
			v = VCPU_CONTINUE;
			break;
		case KVM_EXIT_IO:
			v = vcpu_exit_io(mc, run);
			break;
		case KVM_EXIT_MMIO:
			v = io_mmio(mc, run->mmio.phys_addr, run->mmio.is_write,
			    run->mmio.len <= 8 ? run->mmio.len : 8, run->mmio.data);
			break;
		case KVM_EXIT_IOAPIC_EOI:
			ioapic_eoi(&mc->mc_ioapic, run->eoi.vector);
			v = VCPU_CONTINUE;
			break;
		case KVM_EXIT_INTR:
			v = vcpu_exit_signal(mc);
			break;
		case KVM_EXIT_SHUTDOWN:
			v = fault_triple(mc);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			v = fault_fail_entry(mc);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			v = fault_internal_error(mc);
			break;
		case KVM_EXIT_HLT:
			v = fault_halted(mc);
			break;
		default:
			fprintf(stderr, "vmm: unexpected KVM exit reason %u; this VMM cannot "
			    "handle it (report it with the guest that caused it)\n",
			    run->exit_reason);
			v = VMM_EXIT_HOST;
			break;
		}
		if (v != VCPU_CONTINUE)
			return v;
		if (run->exit_reason != KVM_EXIT_INTR && run->exit_reason != KVM_EXIT_DEBUG &&
		    !mc->mc_exit_unclaimed)
			mc->mc_exits++;
	}
}
