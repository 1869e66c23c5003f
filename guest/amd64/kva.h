/*
 * Kernel virtual to physical for the two linear kernel mappings: the kernel image
 * (KERNBASE) and the direct map. Other addresses have no fixed translation.
 */
#ifndef AMD64_KVA_H
#define AMD64_KVA_H

#include <stdint.h>

#include "amd64/vmparam.h"

#define KVTOP_NONE  (~(uint64_t)0)

static inline uint64_t kvtop(const volatile void *p)
{
	uint64_t va = (uint64_t)(uintptr_t)p;

	if (va >= KERNBASE)
		return va - KERNBASE;
	if (va - DMAP_BASE < (uint64_t)DMAP_SIZE)
		return va - DMAP_BASE;
	return KVTOP_NONE;
}

#endif /* AMD64_KVA_H */
