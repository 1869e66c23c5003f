/*
 * The swap disk (swap.h): the file, the device, its place in the machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio.h"
#include "vmm/cli.h"
#include "vmm/machine.h"
#include "vmm/swap.h"
#include "vmm/trace.h"
#include "vmm/vmm.h"

#define swap_fail(err, errlen, ...) vmm_errf(err, errlen, VMM_EXIT_USAGE, __VA_ARGS__)

/* Is path the same file as other (the kernel, PROGRAM)? */
static bool swap_same_file(const struct stat *st, const char *other)
{
	struct stat os;

	return other != NULL && stat(other, &os) == 0 && os.st_dev == st->st_dev &&
	    os.st_ino == st->st_ino;
}

/* Create the file sparse. => 0, or 64 with a message (nothing left behind). */
static int swap_create(struct swap_dev *sw, uint64_t size, char *err, size_t errlen)
{
	sw->sw_fd = open(sw->sw_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (sw->sw_fd < 0)
		return swap_fail(err, errlen, "-s %s: cannot create it: %s; give a file in a "
		    "directory you can write", sw->sw_path, strerror(errno));
	sw->sw_created = true;
	if (ftruncate(sw->sw_fd, (off_t)size) != 0) {
		int e = errno;
		close(sw->sw_fd);
		sw->sw_fd = -1;
		unlink(sw->sw_path);
		sw->sw_created = false;
		return swap_fail(err, errlen, "-s %s: cannot make it %llu MiB: %s; give a "
		    "smaller --swap-size", sw->sw_path, (unsigned long long)(size >> 20),
		    strerror(e));
	}
	sw->sw_size = size;
	TRACE("swap: created %s, %llu MiB, sparse", sw->sw_path,
	    (unsigned long long)(size >> 20));
	return 0;
}

int swap_open(struct swap_dev *sw, const struct cli_opts *o, const char *kernel,
    char *err, size_t errlen)
{
	struct stat st;
	int rc;

	memset(sw, 0, sizeof(*sw));
	sw->sw_fd = sw->sw_direct_fd = -1;
	sw->sw_path = o->co_swap;
	if (stat(sw->sw_path, &st) != 0) {
		if (errno != ENOENT)
			return swap_fail(err, errlen, "-s %s: %s", sw->sw_path, strerror(errno));
		uint64_t size = o->co_swap_size != 0 ? o->co_swap_size : 4 * o->co_mem_size;
		if ((rc = swap_create(sw, size, err, errlen)) != 0)
			return rc;
	} else {
		if (S_ISDIR(st.st_mode))
			return swap_fail(err, errlen, "-s %s: is a directory; give a file (it is "
			    "created if missing)", sw->sw_path);
		if (!S_ISREG(st.st_mode))
			return swap_fail(err, errlen, "-s %s: not a regular file; give a file (it "
			    "is created if missing)", sw->sw_path);
		if (swap_same_file(&st, kernel) || (o->co_prog_argc > 0 &&
		    swap_same_file(&st, o->co_prog_argv[0])))
			return swap_fail(err, errlen, "-s %s: is the guest %s; the guest would "
			    "overwrite it: give another file", sw->sw_path,
			    swap_same_file(&st, kernel) ? "kernel" : "PROGRAM");
		sw->sw_fd = open(sw->sw_path, O_RDWR | O_CLOEXEC);
		if (sw->sw_fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
			sw->sw_fd = open(sw->sw_path, O_RDONLY | O_CLOEXEC);
			sw->sw_ro = sw->sw_fd >= 0;
		}
		if (sw->sw_fd < 0)
			return swap_fail(err, errlen, "-s %s: cannot open it: %s", sw->sw_path,
			    strerror(errno));
		if ((uint64_t)st.st_size < CLI_SWAP_MIN) {
			close(sw->sw_fd);
			sw->sw_fd = -1;
			return swap_fail(err, errlen, "-s %s: is %lld bytes, less than one page "
			    "(4096); remove it to have it created, or give another file",
			    sw->sw_path, (long long)st.st_size);
		}
		sw->sw_size = (uint64_t)st.st_size;
		TRACE("swap: %s, %llu MiB%s, used as it is", sw->sw_path,
		    (unsigned long long)(sw->sw_size >> 20), sw->sw_ro ? ", read-only" : "");
	}
	if (o->co_swap_direct) {
		sw->sw_direct_fd = open(sw->sw_path, (sw->sw_ro ? O_RDONLY : O_RDWR) |
		    O_DIRECT | O_CLOEXEC);
		if (sw->sw_direct_fd < 0) {
			int e = errno;
			swap_abort(sw);
			return swap_fail(err, errlen, "--swap-direct: cannot open %s with "
			    "O_DIRECT: %s%s", o->co_swap, strerror(e), e == EINVAL ?
			    " (its file system has no direct I/O, e.g. tmpfs); drop --swap-direct" :
			    "");
		}
	}
	return 0;
}

void swap_abort(struct swap_dev *sw)
{
	if (sw->sw_direct_fd >= 0)
		close(sw->sw_direct_fd);
	if (sw->sw_fd >= 0)
		close(sw->sw_fd);
	sw->sw_fd = sw->sw_direct_fd = -1;
	if (sw->sw_created)
		unlink(sw->sw_path);
	sw->sw_created = false;
}

/* ---- the device in the machine ---- */

static void swap_irq(void *ctx)
{
	struct swap_dev *sw = ctx;

	irq_line_raise(&sw->sw_irq);
}

static bool swap_irq_pending(void *ctx)
{
	struct swap_dev *sw = ctx;

	return virtio_mmio_irq_pending(&sw->sw_blk.vb_tr);
}

/* From now on KVM writes the kick eventfd for QueueNotify of queue 0 (swap.h). */
static void swap_ioeventfd(struct swap_dev *sw)
{
	struct kvm_ioeventfd io = {
		.datamatch = 0,
		.addr = VIRTIO_MMIO_BASE + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = virtio_blk_kick_fd(&sw->sw_blk),
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	sw->sw_ioeventfd = true;        /* tried once, whatever comes of it */
	if (ioctl(sw->sw_mc->mc_vm.kv_vm_fd, KVM_IOEVENTFD, &io) != 0)
		TRACE("swap: KVM_IOEVENTFD: %s; QueueNotify keeps exiting", strerror(errno));
	else
		TRACE("swap: QueueNotify through an ioeventfd after %llu exits",
		    (unsigned long long)sw->sw_notify_exits);
}

static int swap_mmio(void *dev, uint64_t off, bool write, unsigned len, uint8_t *data)
{
	struct swap_dev *sw = dev;

	if (!write) {
		io_data_put(data, len, virtio_mmio_read(&sw->sw_blk.vb_tr, off, len));
		return VCPU_CONTINUE;
	}
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY && ++sw->sw_notify_exits == SWAP_IOEVENTFD_AFTER &&
	    !sw->sw_ioeventfd)
		swap_ioeventfd(sw);
	virtio_mmio_write(&sw->sw_blk.vb_tr, off, len, io_data_get(data, len));
	return VCPU_CONTINUE;
}

static void swap_stop(void *dev)
{
	struct swap_dev *sw = dev;

	if (!sw->sw_attached)
		return;
	virtio_blk_destroy(&sw->sw_blk);
	irq_line_destroy(&sw->sw_irq);
	close(sw->sw_fd);
	if (sw->sw_direct_fd >= 0)
		close(sw->sw_direct_fd);
	sw->sw_fd = sw->sw_direct_fd = -1;
	sw->sw_attached = false;
}

const struct blk_stats *swap_blk_stats(const struct swap_dev *sw)
{
	KASSERT(!sw->sw_attached, ("%s: the device thread still runs", __func__));
	return sw->sw_mc != NULL ? &sw->sw_blk.vb_stats : NULL;
}

static void swap_report(void *dev)
{
	struct swap_dev *sw = dev;
	char line[768];

	virtio_blk_summary(&sw->sw_blk, line, sizeof(line));
	TRACE("%s; %llu QueueNotify exits%s", line, (unsigned long long)sw->sw_notify_exits,
	    sw->sw_ioeventfd ? ", then ioeventfd" : "");
	if (sw->sw_blk.vb_tr.tr_nbad != 0)
		TRACE("virtio-mmio: %llu register accesses refused (last: %s)",
		    (unsigned long long)sw->sw_blk.vb_tr.tr_nbad, sw->sw_blk.vb_tr.tr_last_bad);
}

int swap_attach(struct swap_dev *sw, struct machine *mc, char *err, size_t errlen)
{
	char msg[256];
	int rc;

	sw->sw_mc = mc;
	if ((rc = irq_line_create(mc, &sw->sw_irq, VIRTIO_MMIO_IRQ0, swap_irq_pending, sw,
	    err, errlen)) != 0)
		return rc;
	if (virtio_blk_init(&sw->sw_blk, &mc->mc_mem, sw->sw_fd, sw->sw_direct_fd,
	    sw->sw_size, sw->sw_ro, swap_irq, sw, msg, sizeof(msg)) != 0) {
		irq_line_destroy(&sw->sw_irq);
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "%s", msg);
	}
	if (virtio_blk_start(&sw->sw_blk, msg, sizeof(msg)) != 0) {
		virtio_blk_destroy(&sw->sw_blk);
		irq_line_destroy(&sw->sw_irq);
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "%s", msg);
	}
	sw->sw_attached = true;
	struct vmm_device d = { "virtio-blk", sw, swap_stop, swap_report };
	if (io_bus_register(&mc->mc_devtab.dt_mmio, VIRTIO_MMIO_BASE, VIRTIO_MMIO_SIZE,
	    swap_mmio, sw, "virtio-blk") != 0 || devtab_add(&mc->mc_devtab, &d) != 0) {
		swap_stop(sw);
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "virtio-blk: no room in the device "
		    "table");
	}
	TRACE("swap: virtio-blk at 0x%x, IRQ %u, %llu sectors%s%s", VIRTIO_MMIO_BASE,
	    (unsigned)VIRTIO_MMIO_IRQ0, (unsigned long long)sw->sw_blk.vb_capacity,
	    sw->sw_ro ? ", read-only" : "", sw->sw_direct_fd >= 0 ? ", O_DIRECT" : "");
	return 0;
}
