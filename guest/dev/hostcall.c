/*
 * Hostcall port requests. Reports use their own static request block, so a panic in
 * the middle of a page operation does not clobber it.
 */
#include "amd64/clock.h"
#include "amd64/cpufunc.h"
#include "amd64/dmap.h"
#include "amd64/kva.h"
#include "amd64/pmap_bootstrap.h"
#include "amd64/vmparam.h"
#include "dev/hostcall.h"
#include "kern/console.h"
#include "kern/dump_layout.h"
#include "kern/dump_pub.h"
#include "kern/msgbuf.h"
#include "kern/systm.h"

/* The constant locore.S uses for the ENTRY report. */
_Static_assert(HC_PORT == 0x600, "locore.S LOCORE_HC_PORT disagrees with devices/hostcall.h");

/* Link-time physical address of a kernel-image object. */
#define HC_KPHYS(sym)   ((uint64_t)(uintptr_t)(sym) - KERNBASE)

extern char _end[];     /* kernel.ld: the image's end, page-aligned */

struct hc_dump_desc hc_dump_desc __attribute__((aligned(16))) = {
	.magic = HC_DUMP_MAGIC,
	.version = HC_DUMP_VERSION,
	.kernel_cr3 = HC_KPHYS(boot_pml4),
	.kernbase = KERNBASE,
	.dmap_base = DMAP_BASE,
	.msgbuf = HC_KPHYS(&msgbuf),
	.heartbeat = HC_KPHYS(&clock_ticks),
	/* Everything below is in the image too: no boot-time store registers it. The
	 * bitmap's two fields are vm_boot's (the bitmap is allocated there); the
	 * publications may move to bigger buffers (kern/dump_pub.c). */
	.kernel_end = HC_KPHYS(_end),
	.vmmeter = HC_KPHYS(&dump_pub_vmmeter),
	.uma_zones = HC_KPHYS(&dump_pub_uma_boot),
	.malloc_types = HC_KPHYS(&dump_pub_malloc_boot),
	.layout = HC_KPHYS(dump_layout),
	.layout_count = DL_NSLOTS,
	.allproc = HC_KPHYS(&proc_all),
};

/* locore.S sends it first thing: milestone ENTRY, and the descriptor to register. Only
 * the host reads it (and writes its status), so the guest never touches its page. */
struct hc_req hc_entry_req = {
	.op = HC_OP_MILESTONE,
	.arg0 = HC_MS_ENTRY,
	.arg1 = HC_KPHYS(&hc_dump_desc),
};

int8_t hc_probed;               /* 0: not yet, 1: present, -1: absent */
static struct hc_req hc_report_req;

bool hc_available(void)
{
	if (__builtin_expect(hc_probed == 0, 0))
		hc_probed = inl(HC_PORT) == HC_MAGIC ? 1 : -1;
	return hc_probed > 0;
}

uint32_t hc_submit(struct hc_req *req)
{
	uint64_t pa = kvtop(req);

	KASSERT(pa < 0x100000000ull && (pa & 15) == 0,
	    ("hc_submit: request at pa %#lx", (unsigned long)pa));
	outl(HC_PORT, (uint32_t)pa);
	return req->status;
}

void hc_report(enum hc_op op, const char *msg, size_t len)
{
	if (!hc_available())
		return;
	hc_report_req.op = op;
	hc_report_req.arg0 = kvtop(msg);
	hc_report_req.arg1 = len > 4096 ? 4096 : len;
	hc_submit(&hc_report_req);
}

void hc_usage(const char *fmt, ...)
{
	static char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	/* With the port the host ends the run here; otherwise COM1 is the user's. */
	hc_report(HC_OP_USAGE, msg, (size_t)n);
	console_printf("kernel: %s\n", msg);
	guest_exit(GUEST_EXIT_USAGE);
}
