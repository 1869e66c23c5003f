/*
 * Shadow chains against a model, for tests/vmtests/object_tests.c (guest and host) and
 * tests/unit/test_vm_object.c (more seeds on the host).
 */
#ifndef TESTS_VMTESTS_OBJECT_MODEL_H
#define TESTS_VMTESTS_OBJECT_MODEL_H

#include <stddef.h>
#include <stdint.h>

/*
 * From `seed`: a chain of `depth` (1..4) objects of 16 pages, each shadowing the one
 * below at an offset of 0..2 pages, with a random set of pages in each (each page's
 * first word a tag naming it), and a reference per object held by the test. The
 * references are then dropped in a random order; after each drop every object the
 * model says is still alive must hold exactly the model's pages (pindex and tag), and
 * at the end no object, page or trie node is left and the free page count is back.
 * The model applies the collapse rules of vm/vm_object.c. => NULL when all held, else
 * the first failure (in err).
 */
const char *vmt_object_chain_run(uint64_t seed, int depth, char *err, size_t errlen);

#endif /* TESTS_VMTESTS_OBJECT_MODEL_H */
