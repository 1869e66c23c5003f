/*
 * Sleeping requests where nothing else runs (the guest until it has a scheduler, here
 * vm_host_config.single_thread): a sleep for memory or for a zone item could never end,
 * so the VM core panics with a message naming what it waited for instead of waiting for
 * ever (issue 8: `vmm run -m 2M --ktest` spun in a UMA M_WAITOK allocation). Each panic
 * case runs in a child of the test whose stderr is a pipe; a child still running after
 * TWAIT_LIMIT_S is the old hang and fails the test.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "vm/uma.h"
#include "vm/vm_page.h"

#define TWAIT_LIMIT_S   10

/* A 4 MiB machine with one CPU where nothing but the caller runs. */
static void twait_boot_alone(void)
{
	struct vm_host_config cfg = {
		.ram_bytes = 4u << 20, .ncpus = 1, .single_thread = true,
	};
	vm_host_boot(&cfg);
}

/* Take every page (the interrupt class may take the last ones); returns how many. */
static uint64_t twait_take_all(void)
{
	uint64_t n = 0;

	while (vm_page_alloc_noobj(VM_ALLOC_INTERRUPT | VM_ALLOC_NOWAIT) != NULL)
		n++;
	return n;
}

/* Run fn in a child; it must die of SIGABRT (panic) with both strings on stderr. */
static void twait_expect_panic(void (*fn)(void), const char *want1, const char *want2)
{
	char buf[4096];
	size_t len = 0;
	int pfd[2], status = 0;

	ck_assert_int_eq(pipe(pfd), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		fn();
		_exit(0);
	}
	close(pfd[1]);
	pid_t r = 0;
	for (int i = 0; i < TWAIT_LIMIT_S * 100 && r == 0; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == 0)
			usleep(10000);
	}
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	for (ssize_t n; len < sizeof(buf) - 1 &&
	    (n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(pfd[0]);
	ck_assert_msg(r != 0, "still waiting after %d s (the hang of issue 8)", TWAIT_LIMIT_S);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "expected a panic (SIGABRT), got status %#x; stderr: %s", status, buf);
	ck_assert_msg(strstr(buf, want1) != NULL && strstr(buf, want2) != NULL,
	    "panic message lacks \"%s\" or \"%s\": %s", want1, want2, buf);
}

static void twait_page_waitok(void)
{
	twait_boot_alone();
	twait_take_all();
	vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_WAITOK);
}

START_TEST(page_waitok_alone_panics)
{
	twait_expect_panic(twait_page_waitok, "panic: vm_page_alloc: out of memory",
	    "1 free page (class normal) waits for pages to be freed, and nothing else runs");
}
END_TEST

static void twait_contig_waitok(void)
{
	twait_boot_alone();
	twait_take_all();
	vm_page_alloc_noobj_contig(VM_ALLOC_SYSTEM | VM_ALLOC_WAITOK, 4, 0, ~(vm_paddr_t)0,
	    PAGE_SIZE, 0);
}

START_TEST(contig_waitok_alone_panics)
{
	twait_expect_panic(twait_contig_waitok, "4 contiguous pages (class system)",
	    "nothing else runs to free them");
}
END_TEST

static void twait_zone_limit(void)
{
	twait_boot_alone();
	uma_zone_t z = uma_zcreate("twait-limit", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	int max = uma_zone_set_max(z, 4);
	/* One more than the limit, all kept: the last must wait for a free. */
	for (int i = 0; i <= max + 1; i++)
		(void)uma_zalloc(z, M_WAITOK);
}

START_TEST(zone_limit_alone_panics)
{
	twait_expect_panic(twait_zone_limit, "uma_zalloc: zone twait-limit is at its limit",
	    "waits for an item to be freed, and nothing else runs");
}
END_TEST

static void twait_zone_memory(void)
{
	twait_boot_alone();
	uma_zone_t z = uma_zcreate("twait-mem", 256, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	/* Until memory runs out: the last slab's pages are never there. */
	for (;;)
		(void)uma_zalloc(z, M_WAITOK);
}

START_TEST(zone_out_of_memory_alone_panics)
{
	twait_expect_panic(twait_zone_memory, "panic: ", "nothing else runs to free");
}
END_TEST

/* WAITFAIL sleeps once then fails: alone it fails at once, without the sleep. */
START_TEST(waitfail_alone_fails)
{
	struct vm_page_counts c0, c;

	twait_boot_alone();
	ck_assert_uint_gt(twait_take_all(), 0);
	vm_page_counts_snapshot(&c0);
	ck_assert_ptr_null(vm_page_alloc_noobj(VM_ALLOC_NORMAL | VM_ALLOC_WAITFAIL));
	vm_page_counts_snapshot(&c);
	ck_assert_uint_eq(c.v_alloc_fails, c0.v_alloc_fails + 1);
}
END_TEST

static Suite *vm_wait_suite(void)
{
	Suite *s = suite_create("vm_wait");
	TCase *tc = tcase_create("alone");

	tcase_set_timeout(tc, 4 * TWAIT_LIMIT_S + 30);
	tcase_add_test(tc, page_waitok_alone_panics);
	tcase_add_test(tc, contig_waitok_alone_panics);
	tcase_add_test(tc, zone_limit_alone_panics);
	tcase_add_test(tc, zone_out_of_memory_alone_panics);
	tcase_add_test(tc, waitfail_alone_fails);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vm_wait_suite);
