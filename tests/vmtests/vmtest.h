/*
 * Tests of the VM core written once and run in two places: on the host under Check
 * (tests/unit/vmtest_check.c turns each into a Check test) and in the guest kernel under
 * ktest (`vmm run --ktest=phys,uma,malloc`), against the real RAM of the VM.
 *
 * A VMTEST runs against an already initialised VM core (vm_phys, vm_page, UMA, malloc):
 * the guest's own, or the host test platform's simulated machine. It must leave the core
 * as it found it (free what it allocates) and judge its results relative to the state it
 * found (free counts before and after), never to absolute numbers of a particular RAM size.
 *
 *   VMTEST(phys, alloc_free_order0) { ... VMT_ASSERT(m != NULL); ... }
 *
 * The assertions return from the test function on failure, so use them in the test body
 * (or check a helper's return value there).
 */
#ifndef TESTS_VMTESTS_VMTEST_H
#define TESTS_VMTESTS_VMTEST_H

#include <stdint.h>

struct vmtest {
	const char *suite;
	const char *name;
	void (*fn)(void);
};

#define VMTEST(suite, name)                                                        \
	static void vmt_##suite##_##name(void);                                    \
	static const struct vmtest vmt_desc_##suite##_##name = {                   \
		#suite, #name, vmt_##suite##_##name };                             \
	static const struct vmtest *const vmt_ptr_##suite##_##name                 \
	    __attribute__((used, no_reorder, section("set_vmtests"))) = &vmt_desc_##suite##_##name; \
	static void vmt_##suite##_##name(void)

/* Bounds of the linker set, provided by the linker for the section name. */
extern const struct vmtest *const __start_set_vmtests[] __attribute__((weak));
extern const struct vmtest *const __stop_set_vmtests[] __attribute__((weak));

/* Records a failure of the running test (each side implements it). */
void vmtest_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Diagnostic output of a test. */
void vmtest_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define VMT_ASSERT(cond) do {                                                      \
	if (!(cond)) { vmtest_fail(__FILE__, __LINE__, "%s", #cond); return; }     \
} while (0)

#define VMT_ASSERT_MSG(cond, ...) do {                                             \
	if (!(cond)) { vmtest_fail(__FILE__, __LINE__, __VA_ARGS__); return; }     \
} while (0)

#define VMT_ASSERT_EQ(a, b) do {                                                   \
	uint64_t vmt_a_ = (uint64_t)(a), vmt_b_ = (uint64_t)(b);                   \
	if (vmt_a_ != vmt_b_) {                                                    \
		vmtest_fail(__FILE__, __LINE__, "%s == %s (0x%llx != 0x%llx)", #a, #b, \
		    (unsigned long long)vmt_a_, (unsigned long long)vmt_b_);        \
		return;                                                            \
	}                                                                          \
} while (0)

#endif /* TESTS_VMTESTS_VMTEST_H */
