/*
 * The guest side of the paravirtual port (devices/pvport.h). Milestones are immediate
 * OUTs sent without a probe (dropped where nothing listens); the ENTRY milestone, sent
 * by locore.S from a request built at link time, also registers the dump descriptor.
 * Everything else (panic/stop reports, page operations) needs the port: pv_available()
 * probes it on first use. Without the port (QEMU) reports are skipped and page
 * operations report zero pages done.
 */
#ifndef DEV_PV_H
#define DEV_PV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amd64/cpufunc.h"
#include "devices/hostcall.h"

/* Is the VMM's port there? The first call probes it (one exit), later calls read a
 * variable: pv_probed, 0 before the probe, 1 when present, -1 when absent. */
extern int8_t pv_probed;
bool pv_available(void);

/* Hand req (kernel memory below 4 GiB physical, 16-byte aligned) to the host; returns
 * its status. The port must be available. */
uint32_t pv_submit(struct pv_req *req);

/* One OUT: three instructions and an exit, nothing stored. */
static inline void pv_milestone(enum pv_milestone ms)
{
	outl(PV_PORT, PV_IMM(PV_IMM_MILESTONE, ms));
}

void pv_report(enum pv_op op, const char *msg, size_t len);

/*
 * Refuse the kernel's input (a command-line word, the program) and exit 64. The message,
 * one line without a newline, becomes the VMM's usage error (PV_OP_USAGE: `vmm: MSG` on
 * stderr). Without the port (QEMU) it goes to COM1 and the exit port gets 64. CPL 0 only.
 */
void pv_usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/*
 * The dump descriptor, complete at link time (every address in it is a link-time
 * constant) and registered by the ENTRY milestone. Modules that own a field (vmmeter,
 * UMA, dump bitmap) fill it in place later: the host reads it when it dumps.
 */
extern struct pv_dump_desc pv_dump_desc;

#endif /* DEV_PV_H */
