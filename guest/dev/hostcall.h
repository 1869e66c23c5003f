/*
 * The guest side of the hostcall port (devices/hostcall.h). Milestones are immediate
 * OUTs sent without a probe (dropped where nothing listens); the ENTRY milestone, sent
 * by locore.S from a request built at link time, also registers the dump descriptor.
 * Everything else (panic/stop reports, page operations) needs the port: hc_available()
 * probes it on first use. Without the port (QEMU) reports are skipped and page
 * operations report zero pages done.
 */
#ifndef DEV_HOSTCALL_H
#define DEV_HOSTCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amd64/cpufunc.h"
#include "devices/hostcall.h"

/* Is the VMM's port there? The first call probes it (one exit), later calls read a
 * variable: hc_probed, 0 before the probe, 1 when present, -1 when absent. */
extern int8_t hc_probed;
bool hc_available(void);

/* Hand req (kernel memory below 4 GiB physical, 16-byte aligned) to the host; returns
 * its status. The port must be available. */
uint32_t hc_submit(struct hc_req *req);

/* One OUT: three instructions and an exit, nothing stored. */
static inline void hc_milestone(enum hc_milestone ms)
{
	outl(HC_PORT, HC_IMM(HC_IMM_MILESTONE, ms));
}

void hc_report(enum hc_op op, const char *msg, size_t len);

/*
 * Refuse the kernel's input (a command-line word, the program) and exit 64. The message,
 * one line without a newline, becomes the VMM's usage error (HC_OP_USAGE: `vmm: MSG` on
 * stderr). Without the port (QEMU) it goes to COM1 and the exit port gets 64. CPL 0 only.
 */
void hc_usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/*
 * The dump descriptor, complete at link time (every address in it is a link-time
 * constant) and registered by the ENTRY milestone. Modules that own a field (vmmeter,
 * UMA, dump bitmap) fill it in place later: the host reads it when it dumps.
 */
extern struct hc_dump_desc hc_dump_desc;

#endif /* DEV_HOSTCALL_H */
