/*
 * kmain: from the PVH entry (amd64/locore.S) to the one thing this boot was asked to do.
 *
 * The path is short on purpose: each kernel instruction is emulated here (~1.6 us) while
 * user mode runs natively, and each port access exits to the VMM (~10 us). Nothing is
 * set up before something needs it: the LAPIC and its timer start with the first user
 * (the timer tests), the TSC frequency is found when first asked for, the hostcall
 * port is probed by the first request that needs an answer, the message buffer's header
 * is written with the first message. Everything from kmain on runs at CPL 3, natively
 * (docs/deprivileged-kernel.md): the CPL 0 part of a boot is locore.S's few dozen
 * emulated instructions, and a `--ktest=none` boot makes five exits (the ENTRY report,
 * which also registers the dump descriptor, the KMAIN, READY and EXIT milestones, and
 * the exit port) and one kernel request (the identity map's invalidation).
 *
 *   start_info -> bootinfo -> console -> pmap_bootstrap (kernel_pmap: the boot tables,
 *   the direct map) -> VM core (vm_phys, vm_page, UMA, malloc) -> pmap_init -> the
 *   scheduler -> virtio-mmio devices -> READY -> ktest=..., or the program (module 0),
 *   or nothing.
 */
#include "amd64/cpufunc.h"
#include "amd64/dmap.h"
#include "amd64/pmap_bootstrap.h"
#include "amd64/tsc.h"
#include "amd64/vmparam.h"
#include "dev/hostcall.h"
#include "dev/virtio_mmio.h"
#include "kern/bootinfo.h"
#include "kern/console.h"
#include "kern/debug_memguard.h"
#include "kern/dump_pub.h"
#include "kern/ktest.h"
#include "kern/systm.h"
#include "kern/thread.h"
#include "kern/proc.h"
#include "kern/swap.h"
#include "kern/vm_boot.h"
#include "vm/pmap.h"
#include "vm/uma.h"

void kmain(uint64_t start_info_pa) __attribute__((noreturn));

static void main_print_summary(void)
{
	const struct bootinfo *bi = &bootinfo;

	printf("kernel: %lu KiB of RAM in %u ranges, direct map with 2 MiB pages",
	    (unsigned long)(bootinfo_ram_bytes() >> 10), bi->bi_nram);
	printf(dmap_1g_pages ? " (1 GiB pages above %d GiB)\n" : "\n", DMAP_PD_GIB);
	for (unsigned i = 0; i < bi->bi_nram; i++)
		printf("kernel:   RAM [%#lx, %#lx)\n", (unsigned long)bi->bi_ram[i].bir_start,
		    (unsigned long)bi->bi_ram[i].bir_end);
	printf("kernel: image [%#lx, %#lx), %u modules, hostcall port %s\n",
	    (unsigned long)bi->bi_kernel_start, (unsigned long)bi->bi_kernel_end,
	    bi->bi_nmodules, hc_available() ? "present" : "absent");
}

void kmain(uint64_t start_info_pa)
{
	tsc_boot = rdtsc();
	hc_milestone(HC_MS_KMAIN);

	bootinfo_init(start_info_pa);
	console_init(bootinfo_arg("verbose") != NULL);
	if (bootinfo.bi_usage[0] != '\0')
		hc_usage("%s", bootinfo.bi_usage);
	/* debug.panic=boot: the panic path from here, end to end (see below). */
	const char *dp = bootinfo_arg("debug.panic");
	if (dp != NULL && strcmp(dp, "boot") == 0)
		panic("debug.panic=boot on the command line");
	pmap_bootstrap(&bootinfo);
	vm_boot();
	/* After the VM core's start-up (pmap's pv zone and kernel_pmap's KVA table come
	 * from it), before anything maps: the scheduler's stacks are the first. Native at
	 * CPL 3, so every boot pays it (a few microseconds). */
	pmap_init();
	sched_init();
	/* Devices after the scheduler (a driver's completion thread) and before READY,
	 * so that READY means the swap device is there. A boot with none asks one
	 * question of the command line (inline: a bit test) and maps nothing. */
	if (bootinfo_arg("virtio_mmio.device") != NULL)
		(void)virtio_mmio_probe();
	hc_milestone(HC_MS_READY);
	bool verbose = bootinfo_arg("verbose") != NULL;
	/* A formatted line costs hundreds of emulated instructions and an exit per byte
	 * on COM1: the summary is for verbose boots only, and after READY so that the
	 * milestones time the boot, not the printing. */
	if (verbose)
		main_print_summary();

	/* Like FreeBSD's debug.kdb.panic: proves the panic path end to end. */
	if (dp != NULL && strcmp(dp, "1") == 0)
		panic("debug.panic=1 on the command line");
	const char *dm = bootinfo_arg("debug.memguard");
	if (dm != NULL)
		debug_memguard(dm);     /* panics, as a guarded access should */

	/* The bare word: a panic at the very end of boot, with everything a dump shows
	 * (processes aside) set up; for the dump tests and for users who want to see one.
	 * The zones first, on the console: what `vmm dump zones` must find in the dump. */
	if (dp != NULL && dp[0] == '\0') {
		uma_stats_print();
		panic("debug.panic requested");
	}

	/* Tests first; the program (module 0) runs only after every test passed. */
	const char *kt = bootinfo_arg("ktest");
	if (kt != NULL) {
		int st = ktest_run(kt);
		if (st != 0 || bootinfo.bi_nmodules == 0)
			guest_exit(st);
	}
	if (bootinfo.bi_nmodules > 0) {
		/* Not for ktests: they drive the daemon's passes and the swap device
		 * themselves. */
		(void)swap_start();
		vm_daemons_start();
		/* The host may read statistics while the program runs (--stats). */
		dump_pub_start(0);
		int st = proc_run_module0();
		/* Last numbers for a dump at exit. */
		dump_pub_refresh(false);
		guest_exit(st);
	}
	hc_usage("nothing to run: no ktest= on the kernel command line and no program "
	    "(module 0)");
}
