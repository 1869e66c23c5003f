/*
 * Runs the shared VM-core tests (tests/vmtests) under Check on the host. Each VMTEST
 * becomes one Check test case named after it, inside a suite named "vm.<suite>"; every
 * test runs in its own forked child against a freshly booted simulated machine
 * (tests/support), so one test's leak or corruption cannot hide another's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "tests/vmtests/vmtest.h"
#include "tests/support/vm_host.h"

void vmtest_add_suites(SRunner *sr);

void vmtest_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ck_assert_msg(0, "%s:%d: %s", file, line, msg);
}

void vmtest_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void vmtest_boot(void)
{
	vm_host_boot_default();
}

/* Check hands the loop index to the test: it is the VMTEST's index in the set. */
START_TEST(run_vmtest)
{
	__start_set_vmtests[_i]->fn();
}
END_TEST

void vmtest_add_suites(SRunner *sr)
{
	/* Check keeps the name pointers for the runner's life: keep them here. */
	static char names[64][48];
	unsigned nnames = 0;
	size_t n = (size_t)(__stop_set_vmtests - __start_set_vmtests);
	Suite *cur = NULL;
	const char *cur_name = NULL;

	/* The set holds tests in link order, so one file's tests are adjacent; a suite
	 * name that reappears later simply opens a second Check suite of the same name. */
	for (size_t i = 0; i < n; i++) {
		const struct vmtest *t = __start_set_vmtests[i];
		if (cur_name == NULL || strcmp(cur_name, t->suite) != 0) {
			if (nnames == sizeof(names) / sizeof(names[0]))
				abort();
			char *name = names[nnames++];
			snprintf(name, sizeof(names[0]), "vm.%s", t->suite);
			cur = suite_create(name);
			cur_name = t->suite;
			srunner_add_suite(sr, cur);
		}
		TCase *tc = tcase_create(t->name);
		tcase_add_checked_fixture(tc, vmtest_boot, NULL);
		tcase_set_timeout(tc, 60);
		tcase_add_loop_test(tc, run_vmtest, (int)i, (int)i + 1);
		suite_add_tcase(cur, tc);
	}
}
