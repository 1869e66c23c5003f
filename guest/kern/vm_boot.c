/*
 * vm_boot: hand the avail ranges to vm_phys, then bring up vm_page, UMA and malloc.
 * Cost grows with the number of ranges, not pages or CPUs (the VM core's own promise:
 * vm/vm_startup.h): a few hundred instructions, native at CPL 3 like the whole kernel.
 */
/* kern/systm.h before the VM core's headers on purpose: both bring KASSERT, from one
 * definition (vm/kassert.h), and this keeps that order compiling. */
#include "kern/systm.h"
#include "dev/hostcall.h"
#include "kern/bootinfo.h"
#include "kern/vm_boot.h"

#include "vm/memguard.h"
#include "vm/vm_dump.h"
#include "vm/vm_page.h"
#include "vm/vm_startup.h"

static bool vm_boot_done;

/* vm.blacklist=LIST, or the boot is refused (exit 64) with the element that is wrong. */
static void vm_boot_blacklist(const char *list)
{
	const char *bad;
	enum vm_phys_bl_error e = vm_phys_set_blacklist(list, &bad);
	int n = 0;

	if (e == VM_PHYS_BL_OK)
		return;
	while (bad[n] != '\0' && bad[n] != ',')
		n++;
	switch (e) {
	case VM_PHYS_BL_EMPTY:
		hc_usage("vm.blacklist=%s: an empty element; give page addresses such as "
		    "0x1234000,0x2000000", list);
	case VM_PHYS_BL_RANGE:
		hc_usage("vm.blacklist=%s: '%.*s' is too large for a physical address", list,
		    n, bad);
	case VM_PHYS_BL_FULL:
		hc_usage("vm.blacklist=%s: more than %d pages; give at most %d", list,
		    VM_PHYS_BLACKLIST_MAX, VM_PHYS_BLACKLIST_MAX);
	default:
		hc_usage("vm.blacklist=%s: '%.*s' is not an address; give page addresses in "
		    "hex (0x1234000) or decimal, comma-separated", list, n, bad);
	}
}

bool vm_booted(void)
{
	return vm_boot_done;
}

void vm_boot(void)
{
	unsigned n;
	const struct bi_range *av;
	const char *bl;

	if (vm_boot_done)
		return;
	vm_boot_done = true;
	/* No vm_startup_reset(): the kernel boots once, and the loader leaves the VM
	 * core's state as the reset would (.bss zero, empty lists statically initialised
	 * in .data); the reset's stores would only cost emulated time. */
	if ((bl = bootinfo_arg("vm.blacklist")) != NULL)
		vm_boot_blacklist(bl);
	av = bootinfo_avail(&n);
	for (unsigned i = 0; i < n; i++)
		vm_phys_add_seg(av[i].bir_start, av[i].bir_end);
	vm_startup();
	vm_dump_startup();
	/* The one part of the dump descriptor only known now: two stores. */
	hc_dump_desc.dump_bitmap = vm_dump_bitmap_pa();
	hc_dump_desc.dump_bitmap_bits = vm_dump_bitmap_bits();
	/* Only the name is kept (bootinfo checked its length): MemGuard's arena is made
	 * by the first guarded allocation, so the boot pays a copy. */
	const char *mg = bootinfo_arg("vm.memguard");
	if (mg != NULL)
		(void)memguard_select(mg);
	if (bootinfo_arg("verbose") != NULL)
		vm_page_boot_report();
}
