/*
 * Host unit tests (Check). A suite file registers its suite constructor with
 * UNIT_SUITE(fn); the runner (main.c) finds them through the linker set, so adding a
 * test file needs no edit anywhere else.
 */
#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H

#include <check.h>

typedef Suite *unit_suite_fn(void);

#define UNIT_SUITE(fn)                                                             \
	static unit_suite_fn *const unit_suite_ptr_##fn                           \
	    __attribute__((used, section("set_unit_suites"))) = fn

extern unit_suite_fn *const __start_set_unit_suites[] __attribute__((weak));
extern unit_suite_fn *const __stop_set_unit_suites[] __attribute__((weak));

#endif
