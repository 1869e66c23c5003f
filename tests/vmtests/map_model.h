/*
 * A brute-force model of a vm_map, for tests/vmtests/map_tests.c (the guest's and the
 * host's VMTESTs) and tests/unit/test_vm_map.c (many long seeds on the host).
 */
#ifndef TESTS_VMTESTS_MAP_MODEL_H
#define TESTS_VMTESTS_MAP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Run `steps` random operations (insert, find, delete, clip, protect, simplify) from
 * `seed` on a map of `npages` pages (at most VMT_MAP_MODEL_MAXPAGES) and on an array of
 * intervals. After every step: vm_map_verify, the same mapped ranges with the same
 * protections, the same answer from find_space for a random request, no entry leaked.
 * => NULL when all held, else the first failure (in err).
 */
#define VMT_MAP_MODEL_MAXPAGES 2048
const char *vmt_map_model_run(uint64_t seed, int steps, int npages, char *err, size_t errlen);

#endif /* TESTS_VMTESTS_MAP_MODEL_H */
