/*
 * kaddr [ADDR...]: writes to kernel addresses must fault. Each write goes to an address
 * the guest kernel uses (its image at KERNBASE, the trap stubs, the TSS, the direct map,
 * the kernel map, the LAPIC window: guest/amd64/vmparam.h), or to each ADDR given; a
 * SIGSEGV handler counts the faults and siglongjmps back. Exits 0 when every write
 * faulted; a write that did not names its address. On a Linux host these addresses are
 * the host kernel's, and they fault too.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/amd64/vmparam.h"
#include "guest/user/lib/wl.h"

const char wl_prog[] = "kaddr";

static const uintptr_t ka_builtin[] = {
	KERNBASE, KERNBASE + KERNEL_PHYS, TRAP_STUBS_VA, TSS_VA,
	KERNBASE + KERNEL_MAP_SIZE - 8,
	DMAP_BASE, DMAP_BASE + KERNEL_PHYS, DMAP_BASE + 0x1000000,
	KVA_BASE, KVA_BASE + 0x100000,
	LAPIC_VA,
	0xfffffffffffff000ull,
};

static sigjmp_buf ka_jmp;
static volatile sig_atomic_t ka_faults;

static void ka_on_segv(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	(void)si;
	(void)uctx;
	ka_faults++;
	siglongjmp(ka_jmp, 1);
}

/* => 1 if the write to addr faulted. */
static int ka_write(uintptr_t addr)
{
	sig_atomic_t before = ka_faults;

	if (sigsetjmp(ka_jmp, 1) == 0)
		*(volatile uint64_t *)addr = 0x6b61646472212121ull;
	return ka_faults == before + 1;
}

static uintptr_t ka_parse(const char *s)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > UINTPTR_MAX)
		wl_fail("address '%s': give a number, e.g. 0xffffffff80100000", s);
	return (uintptr_t)v;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = ka_on_segv, .sa_flags = SA_SIGINFO };
	unsigned tried = 0;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		wl_fail("sigaction: %s", strerror(errno));
	if (argc > 1) {
		for (int i = 1; i < argc; i++, tried++)
			if (!ka_write(ka_parse(argv[i])))
				wl_fail("a write to %s did not fault", argv[i]);
	} else {
		for (size_t i = 0; i < sizeof(ka_builtin) / sizeof(ka_builtin[0]); i++, tried++)
			if (!ka_write(ka_builtin[i]))
				wl_fail("a write to 0x%llx did not fault",
				    (unsigned long long)ka_builtin[i]);
	}
	if (ka_faults != (sig_atomic_t)tried)
		wl_fail("%d faults for %u writes", (int)ka_faults, tried);
	wl_say("writes=%u faults=%d ok", tried, (int)ka_faults);
	return 0;
}
