/*
 * `vmm run -s FILE`: the swap disk. A virtio-blk device (devices/virtio_blk.h) on FILE,
 * its virtio-mmio window at VIRTIO_MMIO_BASE and its interrupt on IOAPIC pin
 * VIRTIO_MMIO_IRQ0 (an irqfd line, vmm/irq.h), registered in the device table with a
 * thread of its own. A run without -s has none of it: no thread, no eventfd, no KVM
 * object, nothing at exit.
 *
 * QueueNotify: the first SWAP_IOEVENTFD_AFTER notifications exit to the VMM, which
 * writes the device thread's eventfd; then the VMM registers that eventfd with
 * KVM_IOEVENTFD and KVM writes it without the exit. Measured here (kvm_pvm): a notify
 * that exits costs 17.2 us, one through an ioeventfd 5.0 us; but one KVM_IOEVENTFD makes
 * closing the VM wait ~15.7 ms (vmm/kvm.c says why). So a guest that barely uses its swap
 * disk pays nothing at exit, and one that pages pays at most twice the best it could
 * (the ski-rental rule: switch once the exits have cost about what the switch costs).
 */
#ifndef VMM_SWAP_H
#define VMM_SWAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio_blk.h"
#include "vmm/irq.h"

struct cli_opts;
struct machine;

#define SWAP_IOEVENTFD_AFTER    1024    /* ~12 ms of exits, about one KVM_IOEVENTFD */

struct swap_dev {
	const char *sw_path;
	int sw_fd, sw_direct_fd;
	uint64_t sw_size;
	bool sw_ro;
	bool sw_created;                /* made by this run: removed if the run fails early */
	bool sw_attached;
	struct machine *sw_mc;
	struct irq_line sw_irq;
	uint64_t sw_notify_exits;       /* QueueNotify writes that reached the VMM */
	bool sw_ioeventfd;
	struct virtio_blk sw_blk;
};

/*
 * -s FILE: open it, or create it sparse (--swap-size, else 4x memory). Refuses with 64
 * and one line a directory, a file that is not regular, one smaller than a page, one
 * that cannot be opened or created, one that is the kernel or PROGRAM. Before KVM.
 * => 0, or the exit status with a message.
 */
int swap_open(struct swap_dev *sw, const struct cli_opts *o, const char *kernel,
    char *err, size_t errlen);

/*
 * The device: its interrupt line, its window in the device table, its thread. After the
 * VM, the IOAPIC and the device table exist. => 0, or 71 with a message.
 */
int swap_attach(struct swap_dev *sw, struct machine *mc, char *err, size_t errlen);

/* The device's counters (--stats's summary), or NULL when it was never attached. The
 * device thread owns them while it runs: read them after the device table stopped it. */
const struct blk_stats *swap_blk_stats(const struct swap_dev *sw);

/* A run that failed before the guest ran: close, and remove a file this run created. */
void swap_abort(struct swap_dev *sw);

#endif /* VMM_SWAP_H */
