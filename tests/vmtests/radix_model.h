/*
 * A brute-force model of vm_radix, for tests/vmtests/object_tests.c (guest and host) and
 * tests/unit/test_vm_radix.c (many seeds on the host).
 */
#ifndef TESTS_VMTESTS_RADIX_MODEL_H
#define TESTS_VMTESTS_RADIX_MODEL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Run `steps` random inserts (duplicates included: EEXIST expected) and removes from
 * `seed` over a pool of keys (dense runs, sparse 64-bit keys, 0 and UINT64_MAX) on one
 * trie and on an array of flags. After every step: lookup of the key touched,
 * lookup_ge/le of random keys answered as the brute force answers, at most n - 1 nodes
 * for n pages; every few steps an in-order walk. Ends with the trie emptied and no node
 * left. => NULL when all held, else the first failure (in err).
 */
const char *vmt_radix_model_run(uint64_t seed, int steps, char *err, size_t errlen);

#endif /* TESTS_VMTESTS_RADIX_MODEL_H */
