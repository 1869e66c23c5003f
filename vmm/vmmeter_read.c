/*
 * Taking a guest's struct vmmeter (vmm/vmmeter_read.h). Every field is the guest's word:
 * vm_size is believed only within the bytes there are and the struct we know.
 */
#include <stdint.h>
#include <string.h>

#include "vmm/vmmeter_read.h"

enum vmmeter_read vmmeter_read(const void *data, size_t len, struct vmmeter *vm,
    size_t *filled)
{
	memset(vm, 0, sizeof(*vm));
	*filled = 0;
	if (len < VMMETER_READ_HDR)
		return VMMETER_READ_SHORT;
	memcpy(vm, data, VMMETER_READ_HDR);
	if (vm->vm_magic != VMMETER_MAGIC || vm->vm_version != VMMETER_VERSION)
		return VMMETER_READ_FOREIGN;
	/* An older writer filled a prefix, a newer one more than we know. */
	size_t n = len < vm->vm_size ? len : (size_t)vm->vm_size;
	if (n > sizeof(*vm))
		n = sizeof(*vm);
	n -= n % sizeof(uint64_t);
	if (n > VMMETER_READ_HDR)
		memcpy((uint8_t *)vm + VMMETER_READ_HDR, (const uint8_t *)data + VMMETER_READ_HDR,
		    n - VMMETER_READ_HDR);
	*filled = n;
	return VMMETER_READ_OK;
}
