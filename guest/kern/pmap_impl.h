/*
 * The guest kernel's <pmap_impl.h> (vm/pmap.h: pmap's inline operations): the x86-64
 * pmap's.
 */
#ifndef GUEST_KERN_PMAP_IMPL_H
#define GUEST_KERN_PMAP_IMPL_H

#include "amd64/pmap_inline.h"

#endif /* GUEST_KERN_PMAP_IMPL_H */
