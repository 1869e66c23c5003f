/*
 * ktest: the in-kernel test framework (after Linux's KUnit).
 *
 *   KTEST(boot, memmap) { KT_ASSERT(bootinfo.bi_nram > 0); ... }
 *
 * Tests register themselves in the linker set "set_ktests" (no_reorder keeps a file's
 * tests in source order there, which is the order they run in); `ktest=all` on the command
 * line runs every suite (but bench), `ktest=a,b.t` the suite a and the test b.t, in that
 * order, `ktest=none` none; all and none stand alone. A name that is neither a suite nor
 * a suite.test refuses the whole list before anything runs (hc_usage: exit 64, the
 * known suites named). The VM-core
 * tests of tests/vmtests (VMTEST) run as suites of the same names. Each test prints
 *   ktest: <suite>.<name> ... ok            or   ... FAILED (file:line: message)
 * each suite a summary, and the run closes with the line `N passed, N failed`.
 *
 * The assertions return from the test function on failure, so use them in its body.
 */
#ifndef KERN_KTEST_H
#define KERN_KTEST_H

#include <stdint.h>

struct ktest {
	const char *kt_suite;
	const char *kt_name;
	void (*kt_fn)(void);
};

#define KTEST(suite, name)                                                         \
	static void ktest_##suite##_##name(void);                                  \
	static const struct ktest ktest_desc_##suite##_##name = {                  \
		#suite, #name, ktest_##suite##_##name };                           \
	static const struct ktest *const ktest_ptr_##suite##_##name                \
	    __attribute__((used, no_reorder, section("set_ktests"))) =              \
	    &ktest_desc_##suite##_##name;                                          \
	static void ktest_##suite##_##name(void)

/* Record a failure of the running test (the first one's message is printed). */
void ktest_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Diagnostic output of a test, on the console. */
void ktest_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define KT_ASSERT(cond) do {                                                       \
	if (!(cond)) { ktest_fail(__FILE__, __LINE__, "%s", #cond); return; }      \
} while (0)

#define KT_ASSERT_MSG(cond, ...) do {                                              \
	if (!(cond)) { ktest_fail(__FILE__, __LINE__, __VA_ARGS__); return; }      \
} while (0)

#define KT_ASSERT_EQ(a, b) do {                                                    \
	uint64_t kt_a_ = (uint64_t)(a), kt_b_ = (uint64_t)(b);                     \
	if (kt_a_ != kt_b_) {                                                      \
		ktest_fail(__FILE__, __LINE__, "%s == %s (%#llx != %#llx)", #a, #b,\
		    (unsigned long long)kt_a_, (unsigned long long)kt_b_);          \
		return;                                                            \
	}                                                                          \
} while (0)

#define KT_ASSERT_NE(a, b) do {                                                    \
	uint64_t kt_a_ = (uint64_t)(a), kt_b_ = (uint64_t)(b);                     \
	if (kt_a_ == kt_b_) {                                                      \
		ktest_fail(__FILE__, __LINE__, "%s != %s (both %#llx)", #a, #b,     \
		    (unsigned long long)kt_a_);                                     \
		return;                                                            \
	}                                                                          \
} while (0)

/* Run the suites and tests named by spec ("all", "none", "a,b.t"); returns the exit
 * status: 0 when every test passed, 1 otherwise. A bad spec does not return (64). */
int ktest_run(const char *spec);

#endif /* KERN_KTEST_H */
