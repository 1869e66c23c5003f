/*
 * Paravirtual port requests. Reports use their own static request block, so a panic in
 * the middle of a page operation does not clobber it.
 */
#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/dmap.h"
#include "amd64/kva.h"
#include "amd64/vmparam.h"
#include "dev/hostcall.h"
#include "kern/console.h"
#include "kern/msgbuf.h"
#include "kern/systm.h"

/* The constant locore.S uses for the ENTRY report. */
_Static_assert(PV_PORT == 0x600, "locore.S LOCORE_PV_PORT disagrees with devices/pvport.h");

/* Link-time physical address of a kernel-image object. */
#define PV_KPHYS(sym)   ((uint64_t)(uintptr_t)(sym) - KERNBASE)

struct pv_dump_desc pv_dump_desc __attribute__((aligned(16))) = {
	.magic = PV_DUMP_MAGIC,
	.version = PV_VERSION,
	.kernel_cr3 = PV_KPHYS(boot_pml4),
	.kernbase = KERNBASE,
	.dmap_base = DMAP_BASE,
	.msgbuf = PV_KPHYS(&msgbuf),
	.heartbeat = PV_KPHYS(&clock_ticks),
};

/* locore.S sends it first thing: milestone ENTRY, and the descriptor to register. Only
 * the host reads it (and writes its status), so the guest never touches its page. */
struct pv_req pv_entry_req = {
	.op = PV_OP_MILESTONE,
	.arg0 = PV_MS_ENTRY,
	.arg1 = PV_KPHYS(&pv_dump_desc),
};

int8_t pv_probed;               /* 0: not yet, 1: present, -1: absent */
static struct pv_req pv_report_req;

bool pv_available(void)
{
	if (__builtin_expect(pv_probed == 0, 0))
		pv_probed = inl(PV_PORT) == PV_MAGIC ? 1 : -1;
	return pv_probed > 0;
}

uint32_t pv_submit(struct pv_req *req)
{
	uint64_t pa = kvtop(req);

	KASSERT(pa < 0x100000000ull && (pa & 15) == 0,
	    ("pv_submit: request at pa %#lx", (unsigned long)pa));
	outl(PV_PORT, (uint32_t)pa);
	return req->status;
}

void pv_report(enum pv_op op, const char *msg, size_t len)
{
	if (!pv_available())
		return;
	pv_report_req.op = op;
	pv_report_req.arg0 = kvtop(msg);
	pv_report_req.arg1 = len > 4096 ? 4096 : len;
	pv_submit(&pv_report_req);
}

void pv_usage(const char *fmt, ...)
{
	static char msg[512];
	va_list ap;
	int n;

	KASSERT(!cpu_at_cpl3(), ("pv_usage: at CPL 3, no port access"));
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	/* With the port the host ends the run here; otherwise COM1 is the user's. */
	pv_report(PV_OP_USAGE, msg, (size_t)n);
	console_printf("kernel: %s\n", msg);
	guest_exit(GUEST_EXIT_USAGE);
}
