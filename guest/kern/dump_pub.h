/*
 * Statistics the host reads from guest memory without an exit (devices/hostcall.h's
 * struct hc_pub): struct vmmeter, UMA's statistics stream and malloc's, registered in
 * hc_dump_desc.vmmeter / uma_zones / malloc_types. A kernel thread refreshes them every
 * vm.stats_ms milliseconds (10..3600000, default 1000) once a program runs; panic
 * refreshes them before its report, and the kernel before its normal exit.
 */
#ifndef KERN_DUMP_PUB_H
#define KERN_DUMP_PUB_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/hostcall.h"
#include "vm/vm_meter.h"

/* The first buffers, in the kernel image (so the descriptor names them at link time and
 * every dump carries them). A stream that outgrows its buffer moves to a bigger one
 * (physically contiguous, in the dump bitmap) and the descriptor follows it. */
#define DUMP_PUB_UMA_BOOT       (16u << 10)
#define DUMP_PUB_MALLOC_BOOT    (4u << 10)

struct dump_pub_vmmeter_buf {
	struct hc_pub h;
	struct vmmeter vm;
};
struct dump_pub_uma_buf {
	struct hc_pub h;
	uint8_t data[DUMP_PUB_UMA_BOOT];
};
struct dump_pub_malloc_buf {
	struct hc_pub h;
	uint8_t data[DUMP_PUB_MALLOC_BOOT];
};
extern struct dump_pub_vmmeter_buf dump_pub_vmmeter;
extern struct dump_pub_uma_buf dump_pub_uma_boot;
extern struct dump_pub_malloc_buf dump_pub_malloc_boot;

#define DUMP_PUB_MS_MIN         10u
#define DUMP_PUB_MS_MAX         3600000u
#define DUMP_PUB_MS_DEFAULT     1000u

/* vm.stats_ms's value: the milliseconds it gives, or 0 when it is not a decimal number
 * in [DUMP_PUB_MS_MIN, DUMP_PUB_MS_MAX]. (bootinfo refuses the boot on 0.) */
uint32_t dump_pub_parse_ms(const char *s);

/* Refresh all three now. panicking: take no lock that may be held and never sleep or
 * allocate (a stream whose lock is busy, or that no longer fits, keeps its last
 * snapshot). Otherwise may sleep (a stream that outgrew its buffer gets a bigger one). */
void dump_pub_refresh(bool panicking);

/* The periodic refresher: started with the interval of vm.stats_ms (or the given one,
 * ms != 0); started once, further calls do nothing. dump_pub_stop ends it (for tests),
 * waiting for it. */
void dump_pub_start(uint32_t ms);
void dump_pub_stop(void);
/* The interval the refresher runs at (ns), 0 when it is not running; the refreshes done
 * by it since boot. */
uint64_t dump_pub_interval_ns(void);
uint64_t dump_pub_periodic_count(void);

#endif /* KERN_DUMP_PUB_H */
