/*
 * One running guest: its memory, the KVM objects, the devices, and what the exit
 * handlers need to share. vCPU 0 runs on the main thread and owns everything here while
 * the guest runs (the IOAPIC model included: device threads raise their interrupts
 * through irqfd, vmm/irq.c, never through it); the SIGINT/SIGTERM handler only sets
 * mc_stop_signal and the vCPU's immediate_exit. Device threads own only their devices.
 */
#ifndef VMM_MACHINE_H
#define VMM_MACHINE_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "devices/ioapic_model.h"
#include "devices/hostcall_model.h"
#include "devices/uart16550_model.h"
#include "vmm/console.h"
#include "vmm/devtab.h"
#include "vmm/guest_mem.h"
#include "vmm/kvm.h"
#include "vmm/out_file.h"
#include "vmm/watchdog.h"

struct irq_line;

struct machine {
	struct guest_mem mc_mem;
	struct kvm_vm mc_vm;
	struct kvm_vcpu mc_vcpu;
	struct console mc_console;
	struct uart16550 mc_uart;
	struct ioapic mc_ioapic;
	struct hostcall mc_hc;
	struct devtab mc_devtab;        /* who answers which port and MMIO range */
	/* Interrupt lines KVM delivers itself (irqfd), by IOAPIC pin (vmm/irq.c). */
	struct irq_line *mc_irq_lines[IOAPIC_NPINS];
	bool mc_verbose;
	FILE *mc_insn_trace;            /* --trace-insns: single-stepped RIPs, or NULL */
	struct out_file mc_trace_file;  /* the file behind mc_insn_trace */

	/* Accesses no device claimed, for -v. */
	uint64_t mc_unknown_pio, mc_unknown_mmio;
	uint16_t mc_unknown_pio_first;
	uint64_t mc_unknown_mmio_first;

	_Atomic int mc_stop_signal;     /* set by the signal handler: SIGINT or SIGTERM */
	/* --dump: set by the SIGQUIT handler; the vCPU loop, out of KVM_RUN, then calls
	 * mc_on_dump_request (run.c writes the dump) and the guest runs on. */
	_Atomic int mc_dump_request;
	void (*mc_on_dump_request)(struct machine *mc);
	/* How the guest died, for a dump's message: the fault report's line (fault_report.c)
	 * or the guest's stop reason; empty while it lives. */
	char mc_death[512];
	bool mc_triple_fault;           /* it died of KVM_EXIT_SHUTDOWN */
	_Atomic int mc_tick;            /* set by the watchdog's timer signal */
	/* The watchdog's sign of progress: exits a device claimed. Not single-steps, not
	 * signals, not accesses nobody answers (a guest looping on those is stuck). */
	uint64_t mc_exits;
	bool mc_exit_unclaimed;         /* the current exit touched only unclaimed I/O */
	struct watchdog mc_wd;
};

/* The KVM_RUN loop: runs until an exit handler or a signal stops the VM. => status. */
int vcpu_run_loop(struct machine *mc);

/* Port and MMIO accesses the vCPU exits with. => VCPU_CONTINUE or an exit status. */
int io_port(struct machine *mc, uint16_t port, bool out, unsigned size, uint8_t *data);
int io_mmio(struct machine *mc, uint64_t gpa, bool write, unsigned len, uint8_t *data);

/* Register the UART, the hostcall port, the exit port and the IOAPIC (after their init). */
void io_register_platform(struct machine *mc);

/* Deaths of the guest: each prints its report to stderr. => the exit status. */
int fault_triple(struct machine *mc);
int fault_fail_entry(struct machine *mc);
int fault_internal_error(struct machine *mc);
int fault_halted(struct machine *mc);

/* One stderr line: "vmm: WHAT: vCPU n rip=... cr3=...[; EXTRA]", the full state with -v. */
void fault_report(struct machine *mc, const char *what, const char *extra);

#endif /* VMM_MACHINE_H */
