/*
 * Device registers in the kernel's address space: a physical range that is not RAM
 * (an IOAPIC, a virtio-mmio window) mapped uncached at a kernel virtual address. The
 * direct map covers RAM only, and write-back; device registers must be reached
 * uncached, and are found by physical address on the command line, so they get their
 * own mapping, made by the driver that needs it, when it needs it: a boot without
 * devices maps nothing.
 */
#ifndef AMD64_DEVMAP_H
#define AMD64_DEVMAP_H

#include <stdint.h>

/*
 * Map [pa, pa + size) uncached (PAT index 3, UC), read/write, not executable, wired,
 * for good. pa and size need not be page-aligned: the pages that cover them are mapped.
 * => the kernel virtual address of pa; 0 when the range is too large or wraps, or no
 *    address space or page table could be had. After pmap_init; may sleep.
 */
volatile void *devmap_map(uint64_t pa, uint64_t size);

#endif /* AMD64_DEVMAP_H */
