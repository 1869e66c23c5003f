/*
 * The kernel's swap: the virtio-blk device under the swap pager (kern/kern_swap.c).
 */
#ifndef KERN_SWAP_H
#define KERN_SWAP_H

#include <stdbool.h>
#include <stdint.h>

/* The one name swapon(2) and swapoff(2) accept: the guest has no file system. */
#define SWAP_DEVICE_PATH    "/dev/vda"

/* Attach the virtio-blk device, if there is one, as swap. => true when attached (a
 * failure prints one line). */
bool swap_start(void);

/* swapon(path, flags) and swapoff(path): 0 or -errno (ENOENT: not SWAP_DEVICE_PATH or
 * no device; EBUSY: swap is on already; EINVAL: swap is off; ENOMEM, EIO: swapoff could
 * not bring every page back, and swap stays on). */
long sys_swapon(uint64_t upath, int flags);
long sys_swapoff(uint64_t upath);

/* One line of the swap pager's counters, when swap was ever used. */
void swap_report(void);

#endif /* KERN_SWAP_H */
