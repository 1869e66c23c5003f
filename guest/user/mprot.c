/*
 * mprot: mprotect and munmap as a program sees them. Faults are caught by a SIGSEGV
 * handler (SA_SIGINFO) that records si_addr and si_code and siglongjmps back; each case
 * checks that the fault came, at the very address touched, with the code Linux gives
 * (SEGV_ACCERR for a protection, SEGV_MAPERR for no mapping), or that no fault came.
 *
 * Pages of one mapping: 0 stays read-write; 1 becomes read-only, then read-write again;
 * 2 is unmapped; 3 becomes PROT_NONE, then read-write again, its contents kept.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "mprot";

static sigjmp_buf mp_jmp;
static volatile sig_atomic_t mp_armed;
static void *volatile mp_addr;          /* the last fault's si_addr and si_code */
static volatile int mp_code;

static void mp_on_segv(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	(void)uctx;
	if (!mp_armed)
		wl_fail("SIGSEGV at %p where none was expected", si->si_addr);
	mp_addr = si->si_addr;
	mp_code = si->si_code;
	siglongjmp(mp_jmp, 1);
}

/* Read (write = 0) or write one byte at p. => 1 if it faulted (checked), 0 if not. */
static int mp_touch(volatile char *p, int write)
{
	mp_addr = NULL;
	mp_code = 0;
	if (sigsetjmp(mp_jmp, 1) != 0) {
		mp_armed = 0;
		return 1;
	}
	mp_armed = 1;
	if (write)
		*p = 'w';
	else
		(void)*p;
	mp_armed = 0;
	return 0;
}

static const char *mp_code_name(int code)
{
	return code == SEGV_ACCERR ? "SEGV_ACCERR" : code == SEGV_MAPERR ? "SEGV_MAPERR" :
	    "another code";
}

static void mp_expect_fault(const char *what, volatile char *p, int write, int code)
{
	if (!mp_touch(p, write))
		wl_fail("%s: a %s at %p did not fault", what, write ? "write" : "read",
		    (void *)p);
	if (mp_addr != (void *)p)
		wl_fail("%s: the fault's si_addr is %p, want %p", what, mp_addr, (void *)p);
	if (mp_code != code)
		wl_fail("%s: the fault's si_code is %d (%s), want %d (%s)", what, mp_code,
		    mp_code_name(mp_code), code, mp_code_name(code));
}

static void mp_expect_ok(const char *what, volatile char *p, int write)
{
	if (mp_touch(p, write))
		wl_fail("%s: a %s at %p faulted (si_addr %p, %s)", what,
		    write ? "write" : "read", (void *)p, mp_addr, mp_code_name(mp_code));
}

static void mp_mprotect(char *p, size_t len, int prot, const char *what)
{
	if (mprotect(p, len, prot) != 0)
		wl_fail("%s: mprotect: %s", what, strerror(errno));
}

/* Every byte of page pg as mp_fill_page left it. */
static void mp_check_page(const volatile char *base, unsigned pg, const char *what)
{
	for (size_t i = 0; i < WL_PAGE; i++)
		if (base[pg * WL_PAGE + i] != (char)(pg * 31 + i))
			wl_fail("%s: page %u byte %zu changed", what, pg, i);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = mp_on_segv, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		wl_fail("sigaction: %s", strerror(errno));

	char *m = mmap(NULL, 4 * WL_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (m == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	for (unsigned pg = 0; pg < 4; pg++)
		for (size_t i = 0; i < WL_PAGE; i++)
			m[pg * WL_PAGE + i] = (char)(pg * 31 + i);
	char *ro = m + WL_PAGE, *gone = m + 2 * WL_PAGE, *none = m + 3 * WL_PAGE;
	unsigned cases = 0;

	/* Read-only: reads see the data, a write anywhere in the page faults. */
	mp_mprotect(ro, WL_PAGE, PROT_READ, "PROT_READ");
	mp_expect_ok("PROT_READ page, read", ro + 5, 0);
	mp_expect_fault("PROT_READ page, write", ro + 123, 1, SEGV_ACCERR);
	mp_expect_fault("PROT_READ page, write at its last byte", ro + WL_PAGE - 1, 1,
	    SEGV_ACCERR);
	mp_check_page(m, 1, "PROT_READ page after the refused writes");
	cases += 3;

	/* Unmapped: reads and writes fault with MAPERR; mprotect there is ENOMEM. */
	if (munmap(gone, WL_PAGE) != 0)
		wl_fail("munmap: %s", strerror(errno));
	mp_expect_fault("unmapped page, read", gone + 77, 0, SEGV_MAPERR);
	mp_expect_fault("unmapped page, write", gone, 1, SEGV_MAPERR);
	errno = 0;
	if (mprotect(gone, WL_PAGE, PROT_READ) != -1 || errno != ENOMEM)
		wl_fail("mprotect of an unmapped page: returned with errno %d (%s), want ENOMEM",
		    errno, strerror(errno));
	cases += 3;

	/* PROT_NONE: neither reads nor writes; the data survives. */
	mp_mprotect(none, WL_PAGE, PROT_NONE, "PROT_NONE");
	mp_expect_fault("PROT_NONE page, read", none + 1000, 0, SEGV_ACCERR);
	mp_expect_fault("PROT_NONE page, write", none + 2000, 1, SEGV_ACCERR);
	cases += 2;

	/* Back to read-write: writes work, earlier contents are still there. */
	mp_mprotect(ro, WL_PAGE, PROT_READ | PROT_WRITE, "back to RW");
	mp_mprotect(none, WL_PAGE, PROT_READ | PROT_WRITE, "back to RW");
	mp_check_page(m, 1, "read-only page made writable again");
	mp_check_page(m, 3, "PROT_NONE page made writable again");
	mp_expect_ok("page made writable again, write", ro + 123, 1);
	mp_expect_ok("page made writable again, write", none + 2000, 1);
	if (ro[123] != 'w' || none[2000] != 'w')
		wl_fail("a write after mprotect back to RW did not stick");
	mp_check_page(m, 0, "the untouched read-write page");
	cases += 3;

	/* A fresh read-only mapping reads zeros and refuses writes. */
	char *z = mmap(NULL, WL_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (z == MAP_FAILED)
		wl_fail("mmap PROT_READ: %s", strerror(errno));
	for (size_t i = 0; i < WL_PAGE; i++)
		if (((volatile char *)z)[i] != 0)
			wl_fail("fresh PROT_READ page: byte %zu is not zero", i);
	mp_expect_fault("fresh PROT_READ mapping, write", z + 8, 1, SEGV_ACCERR);
	cases += 2;

	if (munmap(m, 4 * WL_PAGE) != 0 || munmap(z, WL_PAGE) != 0)
		wl_fail("munmap at the end: %s", strerror(errno));
	mp_expect_fault("everything unmapped, read", m, 0, SEGV_MAPERR);
	cases++;
	wl_say("cases=%u ok", cases);
	return 0;
}
