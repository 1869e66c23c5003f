/*
 * `vmm run`. The order: everything that can be wrong with the user's input (command
 * lines, kernel, program) is checked and loaded into guest RAM before KVM is touched,
 * so input errors (64, 66) win over host errors (71); then the VM, and the vCPU run on
 * the main thread, which a signal stops cleanly (status 128 + the signal).
 *
 * The default path stays lean because `vmm run --ktest=none` is a boot-time
 * benchmark: the kernel file is read once straight into guest RAM, the rest of guest
 * RAM is never pre-touched, no thread is created (starting one, and waking the other
 * CPU for it and again for the way back, cost ~0.1 ms here), and nothing is printed
 * unless -v. With SMP the other vCPUs will get threads; vCPU 0 stays here. Only -s adds
 * a thread (the swap disk's, vmm/swap.c).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/pvh.h"
#include "devices/uart16550.h"
#include "vmm/cli.h"
#include "vmm/dump_write.h"
#include "vmm/kvm_stats.h"
#include "vmm/machine.h"
#include "vmm/out_file.h"
#include "vmm/program_check.h"
#include "vmm/pvh_loader.h"
#include "vmm/run.h"
#include "vmm/stats.h"
#include "vmm/swap.h"
#include "vmm/trace.h"
#include "vmm/vmm.h"

static struct machine run_machine;     /* large (the hostcall port's list copy): not on a stack */
static struct swap_dev run_swap;       /* -s: the swap disk (large too) */
static struct stats run_stats;         /* --stats */
static bool run_stats_on;              /* run_stats is initialised */
static struct out_file run_stats_log;  /* --stats-log */

/* --dump: what a dump needs to know about the run besides the machine. */
static struct {
	const struct cli_opts *rd_opts;
	const char *rd_kernel;          /* the kernel's path as used */
	uint64_t rd_start_ns;           /* CLOCK_MONOTONIC when the guest started */
	bool rd_panic_dumped;           /* the panic's dump is the run's dump */
} run_dump_state;

static const char *const run_milestone_names[HC_MS_MAX] = {
	[HC_MS_ENTRY] = "entry",
	[HC_MS_KMAIN] = "kernel main",
	[HC_MS_READY] = "ready",
	[HC_MS_EXIT] = "exit",
};

static void run_on_milestone(void *ctx, enum hc_milestone ms)
{
	struct machine *mc = ctx;

	TRACE("guest: %s", run_milestone_names[ms]);
	/* The descriptor comes with the ENTRY milestone: from here on the stats thread
	 * may look for the guest's snapshot. */
	if (run_stats_on && mc->mc_hc.hc_have_dump_desc)
		stats_set_desc(&run_stats, mc->mc_hc.hc_dump_desc_gpa);
}

static uint64_t run_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "PROGRAM ARGS..." (after "--ktest=..." when there is one), cut to fit. */
static void run_dump_program(const struct cli_opts *o, char *buf, size_t buflen)
{
	size_t len = 0;

	buf[0] = '\0';
	if (o->co_ktest != NULL)
		len = (size_t)snprintf(buf, buflen, "--ktest=%s", o->co_ktest);
	for (int i = 0; i < o->co_prog_argc && len < buflen; i++)
		len += (size_t)snprintf(buf + len, buflen - len, "%s%s", len > 0 ? " " : "",
		    o->co_prog_argv[i]);
}

/*
 * Write the dump for reason, from the vCPU's thread with the vCPU out of KVM_RUN. A
 * failure is reported on one line and changes nothing else: the run's status stays the
 * guest's.
 */
static void run_dump(struct machine *mc, enum dump_reason reason, int sig, int status,
    const char *message)
{
	const struct cli_opts *o = run_dump_state.rd_opts;
	struct dump_source src;
	struct dump_vcpu vcpu;
	char err[PATH_MAX + 256];

	memset(&src, 0, sizeof(src));
	src.ds_mem = &mc->mc_mem;
	src.ds_have_desc = mc->mc_hc.hc_have_dump_desc;
	src.ds_desc_gpa = mc->mc_hc.hc_dump_desc_gpa;
	src.ds_desc_registered = mc->mc_hc.hc_dump_desc;
	memset(&vcpu, 0, sizeof(vcpu));
	if (kvm_vcpu_get_state(&mc->mc_vcpu, &vcpu.dv_regs, &vcpu.dv_sregs,
	    &vcpu.dv_kernel_gs_base) == 0) {
		src.ds_nvcpus = 1;
		src.ds_vcpus = &vcpu;
	}
	src.ds_full = o->co_dump_full;
	struct dump_info *di = &src.ds_info;
	di->di_reason = (uint32_t)reason;
	di->di_signal = (uint32_t)sig;
	di->di_exit_status = reason == DUMP_REASON_EXIT ? status : -1;
	di->di_time_unix_ns = run_clock_ns(CLOCK_REALTIME);
	di->di_uptime_ns = run_clock_ns(CLOCK_MONOTONIC) - run_dump_state.rd_start_ns;
	di->di_mem_size = mc->mc_mem.gm_ram_size;
	snprintf(di->di_vmm_version, sizeof(di->di_vmm_version), "%s", VMM_VERSION);
	snprintf(di->di_kernel, sizeof(di->di_kernel), "%s", run_dump_state.rd_kernel);
	run_dump_program(o, di->di_program, sizeof(di->di_program));
	snprintf(di->di_message, sizeof(di->di_message), "%s", message);

	console_flush(&mc->mc_console);
	if (dump_write_file(o->co_dump, &src, err, sizeof(err)) != 0)
		fprintf(stderr, "vmm: %s\n", err);
	else
		TRACE("dump written to %s", o->co_dump);
}

/* SIGQUIT under --dump (vcpu.c calls this between two KVM_RUNs). */
static void run_on_dump_request(struct machine *mc)
{
	run_dump(mc, DUMP_REASON_SIGNAL, SIGQUIT, -1, "SIGQUIT to the VMM; the run went on");
}

/* The run is over: the dump its end calls for, if any. */
static void run_dump_at_end(struct machine *mc, int rc)
{
	const struct cli_opts *o = run_dump_state.rd_opts;
	char msg[600];
	int sig = atomic_load(&mc->mc_stop_signal);

	if (o->co_dump == NULL || run_dump_state.rd_panic_dumped)
		return;
	if (mc->mc_triple_fault) {
		run_dump(mc, DUMP_REASON_TRIPLE_FAULT, 0, rc, mc->mc_death);
		return;
	}
	if (mc->mc_death[0] != '\0') {         /* it died another way */
		run_dump(mc, DUMP_REASON_EXIT, 0, rc, mc->mc_death);
		return;
	}
	if (!o->co_dump_at_exit)
		return;
	if (sig != 0 && rc == 128 + sig)
		snprintf(msg, sizeof(msg), "the run was stopped by signal %d (%s)", sig,
		    strsignal(sig));
	else
		snprintf(msg, sizeof(msg), "the run ended with status %d", rc);
	run_dump(mc, DUMP_REASON_EXIT, sig != 0 && rc == 128 + sig ? sig : 0, rc, msg);
}

/* The panic's line (hostcall.c made it one printable line) on stderr as well, after
 * what the console printed: whoever reads only stderr learns why the run failed. */
static void run_on_panic(void *ctx, const char *msg, size_t len)
{
	struct machine *mc = ctx;

	if (len >= 7 && memcmp(msg, "panic: ", 7) == 0) {
		msg += 7;
		len -= 7;
	}
	console_flush(&mc->mc_console);
	fprintf(stderr, "vmm: guest panicked: %.*s\n", (int)len, msg);
	/* Now, with the registers of the panic itself: the guest only exits after this. */
	if (run_dump_state.rd_opts != NULL && run_dump_state.rd_opts->co_dump != NULL &&
	    !run_dump_state.rd_panic_dumped) {
		char m[HOSTCALL_MSG_MAX + 1];
		snprintf(m, sizeof(m), "%.*s", (int)len, msg);
		run_dump(mc, DUMP_REASON_PANIC, 0, -1, m);
		run_dump_state.rd_panic_dumped = true;
	}
}

/* The guest's reason for stopping for good (one printable line, hostcall.c). */
static void run_on_stopped(void *ctx, const char *reason, size_t len)
{
	struct machine *mc = ctx;

	console_flush(&mc->mc_console);
	fprintf(stderr, "vmm: guest stopped: %.*s\n", (int)len, reason);
	snprintf(mc->mc_death, sizeof(mc->mc_death), "guest stopped: %.*s", (int)len, reason);
}

/* The guest refused its input: its line is the VMM's usage error (hostcall.c made it
 * printable). The console first, so the line comes after what the guest printed. */
static void run_on_usage(void *ctx, const char *msg, size_t len)
{
	struct machine *mc = ctx;

	console_flush(&mc->mc_console);
	fprintf(stderr, "vmm: %.*s\n", (int)len, msg);
}

static const struct hostcall_ops run_hc_ops = {
	.hco_milestone = run_on_milestone,
	.hco_panic = run_on_panic,
	.hco_stopped = run_on_stopped,
	.hco_usage = run_on_usage,
};

static void run_uart_tx(void *ctx, uint8_t ch)
{
	struct machine *mc = ctx;

	console_putc(&mc->mc_console, ch);
}

static void run_uart_irq(void *ctx, bool level)
{
	struct machine *mc = ctx;

	ioapic_set_irq(&mc->mc_ioapic, UART_COM1_IRQ, level);
}

static int run_ioapic_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct machine *mc = ctx;

	return kvm_vm_signal_msi(&mc->mc_vm, addr, data);
}

/*
 * A signal that would end the process (INT, TERM, HUP, QUIT, USR1, USR2): note it and
 * make the vCPU leave (or not enter) KVM_RUN, so the run ends through the one exit path
 * that flushes the console and finishes or removes the files it writes, with status
 * 128 + the signal. A signal that arrives inside KVM_RUN makes it return EINTR; one that
 * arrives just before the ioctl is caught by immediate_exit. Async-signal-safe: two
 * stores. Under --dump, SIGQUIT asks for a dump instead (run_dump_handler).
 */
static const int run_stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void run_stop_handler(int sig)
{
	atomic_store(&run_machine.mc_stop_signal, sig);
	if (run_machine.mc_vcpu.kc_run != NULL)
		run_machine.mc_vcpu.kc_run->immediate_exit = 1;
}

/* SIGQUIT under --dump: ask the vCPU loop for a dump (vcpu.c); the run goes on. */
static void run_dump_handler(int sig)
{
	(void)sig;
	atomic_store(&run_machine.mc_dump_request, 1);
	if (run_machine.mc_vcpu.kc_run != NULL)
		run_machine.mc_vcpu.kc_run->immediate_exit = 1;
}

/*
 * --dump FILE: refused now, with the rest of the command line, when it names one of the
 * run's inputs or something that is not a regular file. A directory that cannot be
 * written is found when a dump is written, and reported then (run_dump).
 */
static int run_dump_check(const struct cli_opts *o, const char *kernel, char *err,
    size_t errlen)
{
	const char *inputs[] = { kernel, o->co_prog_argc > 0 ? o->co_prog_argv[0] : NULL,
	    o->co_swap };
	const char *roles[] = { "the guest kernel", "PROGRAM", "the swap file" };

	/* Two outputs of this run renamed over one path: one would be lost. */
	if (o->co_trace_insns != NULL && strcmp(o->co_trace_insns, o->co_dump) == 0)
		return vmm_errf(err, errlen, VMM_EXIT_USAGE, "--dump %s: --trace-insns writes "
		    "that file too; give the dump another name", o->co_dump);
	return out_file_check("--dump", o->co_dump, inputs, roles, VMM_ARRAY_SIZE(inputs),
	    err, errlen);
}

/* kernel.elf in the directory of the running vmm executable. */
static int run_default_kernel(char *buf, size_t buflen, char *err, size_t errlen)
{
	ssize_t n = readlink("/proc/self/exe", buf, buflen - 1);

	if (n <= 0 || (size_t)n >= buflen - 1) {
		return vmm_errf(err, errlen, VMM_EXIT_INPUT, "cannot find the vmm "
		    "executable's directory (%s); pass the kernel with -k FILE",
		    n < 0 ? strerror(errno) : "path too long");
	}
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	size_t dir = slash != NULL ? (size_t)(slash - buf) + 1 : 0;
	if (dir + sizeof("kernel.elf") > buflen) {
		return vmm_errf(err, errlen, VMM_EXIT_INPUT, "the vmm executable's path is "
		    "too long; pass the kernel with -k FILE");
	}
	memcpy(buf + dir, "kernel.elf", sizeof("kernel.elf"));
	return 0;
}

/* Load the kernel, module 0 and the start info into fresh guest RAM. */
static int run_load_guest(struct machine *mc, const struct cli_opts *o, const char *kernel,
    struct pvh_image *img, char *err, size_t errlen)
{
	char guest_cmdline[PVH_CMDLINE_MAX], prog_cmdline[PVH_CMDLINE_MAX];
	struct hvm_modlist_entry mod;
	int rc;

	if ((rc = cli_guest_cmdline(o, guest_cmdline, sizeof(guest_cmdline), err, errlen)) ||
	    (rc = cli_program_cmdline(o, prog_cmdline, sizeof(prog_cmdline), err, errlen)))
		return rc;
	if (guest_mem_init(&mc->mc_mem, o->co_mem_size) != 0) {
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "cannot reserve %llu MiB of host "
		    "memory for guest RAM: %s; use a smaller -m (or raise ulimit -v)",
		    (unsigned long long)(o->co_mem_size >> 20), strerror(errno));
	}
	if ((rc = pvh_load_kernel_file(&mc->mc_mem, kernel, img, err, errlen)) != 0)
		return rc;
	TRACE("kernel loaded (%u segments, entry 0x%x, 0x%llx-0x%llx)", img->pi_nsegs,
	    img->pi_entry, (unsigned long long)img->pi_start, (unsigned long long)img->pi_end);
	unsigned nmods = 0;
	if (o->co_prog_argc > 0) {
		uint64_t next = img->pi_end;
		if ((rc = pvh_load_module_file(&mc->mc_mem, &next, o->co_prog_argv[0],
		    prog_cmdline, &mod, err, errlen)) != 0)
			return rc;
		/* The bytes the guest will see, so what passed is what runs. */
		if ((rc = program_check(o->co_prog_argv[0], guest_mem_ptr(&mc->mc_mem,
		    mod.paddr, mod.size), mod.size, err, errlen)) != 0)
			return rc;
		nmods = 1;
		TRACE("module 0: %s, %llu bytes at 0x%llx", o->co_prog_argv[0],
		    (unsigned long long)mod.size, (unsigned long long)mod.paddr);
	}
	if ((rc = pvh_write_start_info(&mc->mc_mem, guest_cmdline, &mod, nmods, err,
	    errlen)) != 0)
		return rc;
	TRACE("start info written, command line \"%s\"", guest_cmdline);
	return 0;
}

static int run_create_vm(struct machine *mc, const struct pvh_image *img, char *err,
    size_t errlen)
{
	int rc;

	if ((rc = kvm_vm_create(&mc->mc_vm, err, errlen)) != 0)
		return rc;
	TRACE("kvm: vm created");
	if ((rc = kvm_vm_set_memory(&mc->mc_vm, &mc->mc_mem, err, errlen)) != 0)
		return rc;
	TRACE("kvm: %llu MiB of RAM in %u slot%s", (unsigned long long)(
	    mc->mc_mem.gm_ram_size >> 20), mc->mc_mem.gm_nslots,
	    mc->mc_mem.gm_nslots > 1 ? "s" : "");
	/* No PIT: the guest times itself with the LAPIC timer (kvm.c says why no PIC). */
	if ((rc = kvm_vm_create_irqchip(&mc->mc_vm, err, errlen)) != 0)
		return rc;
	TRACE("kvm: local APIC created (split irqchip)");
	if ((rc = kvm_vcpu_create(&mc->mc_vm, &mc->mc_vcpu, 0, err, errlen)) != 0 ||
	    (rc = kvm_vcpu_set_pvh_entry(&mc->mc_vcpu, img->pi_entry,
	    (uint32_t)PVH_INFO_PADDR, err, errlen)) != 0)
		return rc;
	TRACE("kvm: vcpu 0 created");
	return 0;
}

/*
 * --trace-insns FILE: refused if it names an input or something that is not a regular
 * file; written under a temporary name and renamed at the end (out_file.c). Before KVM
 * is touched, like every other check of the user's input.
 */
static int run_trace_open(struct machine *mc, const struct cli_opts *o, const char *kernel,
    char *err, size_t errlen)
{
	static char buf[1 << 16];
	const char *inputs[] = { kernel, o->co_prog_argc > 0 ? o->co_prog_argv[0] : NULL };
	const char *roles[] = { "the guest kernel", "PROGRAM" };
	int rc;

	if ((rc = out_file_open(&mc->mc_trace_file, "--trace-insns", o->co_trace_insns,
	    inputs, roles, VMM_ARRAY_SIZE(inputs), err, errlen)) != 0)
		return rc;
	mc->mc_insn_trace = mc->mc_trace_file.of_fp;
	setvbuf(mc->mc_insn_trace, buf, _IOFBF, sizeof(buf));
	return 0;
}

/* --stats-log FILE: checked like --trace-insns's file, before KVM is touched. */
static int run_stats_log_open(const struct cli_opts *o, const char *kernel, char *err,
    size_t errlen)
{
	const char *inputs[] = { kernel, o->co_prog_argc > 0 ? o->co_prog_argv[0] : NULL,
		o->co_trace_insns, o->co_swap };
	const char *roles[] = { "the guest kernel", "PROGRAM", "--trace-insns's file",
		"the swap file" };

	return out_file_open(&run_stats_log, "--stats-log", o->co_stats_log, inputs, roles,
	    VMM_ARRAY_SIZE(inputs), err, errlen);
}

/* --stats: the thread that reads the guest's snapshots while it runs. */
static int run_stats_start(struct machine *mc, const struct cli_opts *o, char *err,
    size_t errlen)
{
	if (stats_init(&run_stats, &mc->mc_mem, o->co_stats_ms, stderr,
	    run_stats_log.of_fp) != 0)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "--stats: cannot set up the "
		    "statistics thread: %s", strerror(errno));
	run_stats_on = true;
	if (mc->mc_hc.hc_have_dump_desc)
		stats_set_desc(&run_stats, mc->mc_hc.hc_dump_desc_gpa);
	int e = stats_start(&run_stats);
	if (e != 0)
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "--stats: cannot start the "
		    "statistics thread: %s", strerror(e));
	return 0;
}

/* The run ended (whatever way): the last line, the summary, the log file. => rc, or the
 * log's error when the run itself succeeded. */
static int run_stats_finish(int rc)
{
	char err[512];

	if (!run_stats_on)
		return rc;
	stats_stop(&run_stats);
	stats_summary(&run_stats, swap_blk_stats(&run_swap), stderr);
	stats_destroy(&run_stats);
	run_stats_on = false;
	if (run_stats_log.of_fp != NULL) {
		int lrc = out_file_commit(&run_stats_log, err, sizeof(err));
		if (lrc != 0) {
			fprintf(stderr, "vmm: %s\n", err);
			if (rc == 0)
				rc = lrc;
		}
	}
	return rc;
}

/* Run vCPU 0 here until the guest or a signal stops it. */
static int run_wait(struct machine *mc, unsigned watchdog_sec)
{
	char err[256];
	int rc;

	if ((rc = watchdog_start(mc, watchdog_sec, err, sizeof(err))) != 0) {
		fprintf(stderr, "vmm: %s\n", err);
		return rc;
	}
	TRACE("vcpu running");
	rc = vcpu_run_loop(mc);
	watchdog_stop(mc);
	return rc;
}

/* -v: what the guest did that no device claimed, and the page work the port did. */
static void run_trace_stats(const struct machine *mc)
{
	if (mc->mc_unknown_pio != 0)
		TRACE("%llu accesses to unclaimed ports (first 0x%x)",
		    (unsigned long long)mc->mc_unknown_pio, mc->mc_unknown_pio_first);
	if (mc->mc_unknown_mmio != 0)
		TRACE("%llu accesses to unclaimed MMIO (first 0x%llx)",
		    (unsigned long long)mc->mc_unknown_mmio,
		    (unsigned long long)mc->mc_unknown_mmio_first);
	if (mc->mc_hc.hc_nbad != 0)
		TRACE("%llu unusable hostcall port requests",
		    (unsigned long long)mc->mc_hc.hc_nbad);
	if (mc->mc_hc.hc_pages_zeroed + mc->mc_hc.hc_pages_discarded +
	    mc->mc_hc.hc_pages_copied != 0)
		TRACE("page ops: %llu zeroed, %llu discarded, %llu copied",
		    (unsigned long long)mc->mc_hc.hc_pages_zeroed,
		    (unsigned long long)mc->mc_hc.hc_pages_discarded,
		    (unsigned long long)mc->mc_hc.hc_pages_copied);
	devtab_report_all(&mc->mc_devtab);

	char counters[2048];
	if (kvm_stats_format(mc->mc_vm.kv_vm_fd, counters, sizeof(counters)) > 0)
		TRACE("kvm: vm:%s", counters);
	if (kvm_stats_format(mc->mc_vcpu.kc_fd, counters, sizeof(counters)) > 0)
		TRACE("kvm: vcpu 0:%s", counters);
}

int vmm_run(const struct cli_opts *o)
{
	struct machine *mc = &run_machine;
	struct pvh_image img;
	char err[512], kpath[PATH_MAX];
	const char *kernel = o->co_kernel;
	int rc;

	/* From the start: a signal while a large PROGRAM loads must end the run the same
	 * way. No SA_RESTART: a console write blocked on a full pipe must return EINTR so
	 * the stop is prompt (console.c); KVM_RUN returns EINTR regardless. */
	struct sigaction sa = { .sa_handler = run_stop_handler };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < VMM_ARRAY_SIZE(run_stop_signals); i++)
		sigaction(run_stop_signals[i], &sa, NULL);
	if (o->co_dump != NULL) {
		struct sigaction qa = { .sa_handler = run_dump_handler };
		sigemptyset(&qa.sa_mask);
		sigaction(SIGQUIT, &qa, NULL);
		mc->mc_on_dump_request = run_on_dump_request;
	}
	run_dump_state.rd_opts = o;

	mc->mc_verbose = o->co_verbose;
	mc->mc_vcpu.kc_fd = -1;
	if (kernel == NULL) {
		if ((rc = run_default_kernel(kpath, sizeof(kpath), err, sizeof(err))) != 0)
			goto fail;
		kernel = kpath;
	}
	run_dump_state.rd_kernel = kernel;
	if (o->co_dump != NULL && (rc = run_dump_check(o, kernel, err, sizeof(err))) != 0)
		goto fail;
	run_swap.sw_fd = run_swap.sw_direct_fd = -1;
	if ((rc = run_load_guest(mc, o, kernel, &img, err, sizeof(err))) != 0 ||
	    (o->co_swap != NULL &&
	    (rc = swap_open(&run_swap, o, kernel, err, sizeof(err))) != 0) ||
	    (o->co_trace_insns != NULL &&
	    (rc = run_trace_open(mc, o, kernel, err, sizeof(err))) != 0) ||
	    (o->co_stats_log != NULL &&
	    (rc = run_stats_log_open(o, kernel, err, sizeof(err))) != 0) ||
	    (rc = run_create_vm(mc, &img, err, sizeof(err))) != 0)
		goto fail;
	if ((rc = atomic_load(&mc->mc_stop_signal)) != 0) {
		rc += 128;              /* stopped while loading: nothing ran, nothing to say */
		goto stopped;
	}
	if (mc->mc_insn_trace != NULL) {
		if ((rc = kvm_vcpu_single_step(&mc->mc_vcpu, err, sizeof(err))) != 0)
			goto fail;
		TRACE("single-stepping vCPU 0 into %s", o->co_trace_insns);
	}
	console_init(&mc->mc_console, STDOUT_FILENO, &mc->mc_stop_signal);
	ioapic_init(&mc->mc_ioapic, run_ioapic_msi, mc);
	uart16550_init(&mc->mc_uart, run_uart_tx, run_uart_irq, mc);
	hostcall_init(&mc->mc_hc, &mc->mc_mem, &run_hc_ops, mc);
	io_register_platform(mc);
	if (o->co_swap != NULL) {
		mc->mc_ioapic.io_rte_changed = irq_rte_changed;
		if ((rc = swap_attach(&run_swap, mc, err, sizeof(err))) != 0)
			goto fail;
	}

	if (o->co_stats_ms != 0 &&
	    (rc = run_stats_start(mc, o, err, sizeof(err))) != 0)
		goto fail;

	run_dump_state.rd_start_ns = run_clock_ns(CLOCK_MONOTONIC);
	rc = run_wait(mc, o->co_watchdog);
	/* Device threads end before anything they use goes (I/O in flight finishes). */
	devtab_stop_all(&mc->mc_devtab);
	console_flush(&mc->mc_console);
	/* With the devices stopped, guest memory holds still for the dump. */
	run_dump_at_end(mc, rc);
	rc = run_stats_finish(rc);
	if (mc->mc_console.cons_lost != 0) {
		fprintf(stderr, "vmm: %llu bytes of the guest's console output could not be "
		    "written to stdout: %s\n", (unsigned long long)mc->mc_console.cons_lost,
		    strerror(mc->mc_console.cons_errno));
		if (rc == 0)
			rc = VMM_EXIT_HOST;
	}
	/* The trace of whatever ran, even a run that failed: it shows how it failed. */
	if (mc->mc_insn_trace != NULL) {
		mc->mc_insn_trace = NULL;
		int trc = out_file_commit(&mc->mc_trace_file, err, sizeof(err));
		if (trc != 0) {
			fprintf(stderr, "vmm: %s\n", err);
			if (rc == 0)
				rc = trc;
		}
	}
	run_trace_stats(mc);
	return rc;
fail:
	fprintf(stderr, "vmm: %s\n", err);
stopped:
	if (run_stats_on) {
		stats_destroy(&run_stats);
		run_stats_on = false;
	}
	if (run_stats_log.of_fp != NULL)
		out_file_abort(&run_stats_log);
	devtab_stop_all(&mc->mc_devtab);
	if (o->co_swap != NULL)
		swap_abort(&run_swap);
	if (mc->mc_insn_trace != NULL) {
		mc->mc_insn_trace = NULL;
		out_file_abort(&mc->mc_trace_file);
	}
	return rc;
}
