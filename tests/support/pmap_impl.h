/*
 * The host test platform's <pmap_impl.h> (vm/pmap.h: pmap's inline operations): the
 * x86-64 pmap's, as pmap builds on the host too.
 */
#ifndef TESTS_SUPPORT_PMAP_IMPL_H
#define TESTS_SUPPORT_PMAP_IMPL_H

#include "guest/amd64/pmap_inline.h"

#endif /* TESTS_SUPPORT_PMAP_IMPL_H */
