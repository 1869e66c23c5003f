/*
 * Swap as the kernel offers it: the virtio-blk device (guest/dev/virtio_blk.c) under
 * the swap pager (vm/swap_pager.c), attached when a program is to run (ktests drive the
 * device and the pager themselves), and Linux's swapon(2) and swapoff(2) on it. The
 * guest has no file system: the device's one name is SWAP_DEVICE_PATH.
 */
#include "dev/virtio_blk.h"
#include "kern/kerrno.h"
#include "kern/proc.h"
#include "kern/swap.h"
#include "kern/systm.h"

#include "vm/swap_pager.h"

#define SWAP_PATH_MAX   64

bool swap_start(void)
{
	struct swap_dev *sd = virtio_blk_swapdev();
	int error;

	if (sd == NULL)
		return false;
	if ((error = swap_pager_attach(sd)) != 0) {
		printf("swap: %s: cannot attach: error %d\n", sd->sd_name, error);
		return false;
	}
	return true;
}

/* The path at upath names the swap device. => 0, -EFAULT, or -ENOENT (another name,
 * however long, or no device). */
static int swap_path_check(uint64_t upath)
{
	char path[SWAP_PATH_MAX];

	/* Byte by byte: the string may end just before an unmapped page. */
	for (size_t i = 0; i < sizeof(path); i++) {
		if (copyin((const void *)(uintptr_t)(upath + i), &path[i], 1) != 0)
			return -EFAULT;
		if (path[i] == '\0')
			return strcmp(path, SWAP_DEVICE_PATH) == 0 &&
			    virtio_blk_swapdev() != NULL ? 0 : -ENOENT;
	}
	return -ENOENT;
}

long sys_swapon(uint64_t upath, int flags)
{
	int rv;

	(void)flags;    /* priorities and discard policy: one device, nothing to choose */
	if ((rv = swap_path_check(upath)) != 0)
		return rv;
	return -swap_pager_attach(virtio_blk_swapdev());
}

long sys_swapoff(uint64_t upath)
{
	int rv;

	if ((rv = swap_path_check(upath)) != 0)
		return rv;
	return -swap_pager_swapoff();
}

void swap_report(void)
{
	struct swap_pager_stats s;

	swap_pager_stats(&s);
	if (s.sps_pageouts == 0 && s.sps_pageins == 0 && s.sps_total == 0)
		return;
	printf("swap: pageouts=%lu pageins=%lu writes=%lu reads=%lu used=%lu total=%lu "
	    "bad=%lu write_errors=%lu read_errors=%lu\n",
	    (unsigned long)s.sps_pageouts, (unsigned long)s.sps_pageins,
	    (unsigned long)s.sps_writes, (unsigned long)s.sps_reads,
	    (unsigned long)s.sps_used, (unsigned long)s.sps_total, (unsigned long)s.sps_bad,
	    (unsigned long)s.sps_write_errors, (unsigned long)s.sps_read_errors);
	struct virtio_blk_stats vs;
	if (virtio_blk_stats(&vs))
		printf("virtio_blk: requests=%lu notifies=%lu interrupts=%lu polled=%lu "
		    "poll_ends=%lu full_waits=%lu\n", (unsigned long)vs.vbs_requests,
		    (unsigned long)vs.vbs_notifies, (unsigned long)vs.vbs_intr_wakeups,
		    (unsigned long)vs.vbs_polled, (unsigned long)vs.vbs_poll_ends,
		    (unsigned long)vs.vbs_full_waits);
}
