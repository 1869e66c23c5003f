/*
 * struct vmmeter (vm/vm_meter.h) out of the bytes a guest published, for the live
 * statistics (vmm/stats.c) and the dump reader (vmm/dump_stats.c) alike, so both take
 * the same snapshots: the magic and the version checked (new fields do not change the
 * version, so another version is another layout), and only the prefix the writer says
 * it filled (vm_size, within the bytes there are) taken; the fields past it read as 0.
 */
#ifndef VMM_VMMETER_READ_H
#define VMM_VMMETER_READ_H

#include <stddef.h>

#include "vm/vm_meter.h"

/* The bytes that say what a snapshot is: vm_magic, vm_version, vm_size. */
#define VMMETER_READ_HDR    offsetof(struct vmmeter, v_page_size)

enum vmmeter_read {
	VMMETER_READ_OK = 0,
	VMMETER_READ_SHORT,     /* fewer than VMMETER_READ_HDR bytes */
	VMMETER_READ_FOREIGN,   /* wrong magic or version (*vm holds the header, for
	                           messages) */
};

/*
 * Fill *vm from len bytes at data (the rest zero) and *filled with how many bytes of it
 * the writer filled (a multiple of 8). => enum vmmeter_read.
 */
enum vmmeter_read vmmeter_read(const void *data, size_t len, struct vmmeter *vm,
    size_t *filled);

#endif /* VMM_VMMETER_READ_H */
