/*
 * The host unit-test runner: every Check suite registered with UNIT_SUITE, then every
 * shared VM-core test (tests/vmtests) as one suite per VMTEST suite name.
 * Check's own CK_RUN_SUITE=name and CK_RUN_CASE=name pick a subset.
 *
 * Ends with Check's summary and the project's "unit: N passed, N failed" line.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/unit.h"

void vmtest_add_suites(SRunner *sr);

int main(void)
{
	SRunner *sr = srunner_create(NULL);

	for (unit_suite_fn *const *fn = __start_set_unit_suites; fn < __stop_set_unit_suites;
	    fn++)
		srunner_add_suite(sr, (*fn)());
	vmtest_add_suites(sr);

	srunner_run_all(sr, CK_NORMAL);
	int ran = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("unit: %d passed, %d failed\n", ran - failed, failed);
	return failed == 0 && ran > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
