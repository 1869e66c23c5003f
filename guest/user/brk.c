/*
 * brk: the program break. Grows it in steps, filling each new page and checking all the
 * heap after every step; shrinks it by half and checks what stays; grows it back and
 * checks that the pages given back come back zero-filled; and checks that a break below
 * the start or beyond user space is refused, the break staying where it was. The raw
 * system call, because musl's brk() always fails and its sbrk() refuses any increment
 * (musl wants no program to share the break with its malloc); sbrk(0) is checked to
 * agree. This program mallocs nothing.
 */
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "brk";

#define BRK_STEP        (64 * WL_PAGE)
#define BRK_STEPS       16

/* Linux's brk: the new break, or the unchanged one when the request is refused. */
static uintptr_t brk_set(uintptr_t want)
{
	return (uintptr_t)syscall(SYS_brk, want);
}

static unsigned char brk_byte(uintptr_t addr)
{
	return (unsigned char)(addr * 2654435761u >> 13);
}

static void brk_fill(uintptr_t from, uintptr_t to)
{
	for (uintptr_t a = from; a < to; a++)
		*(unsigned char *)a = brk_byte(a);
}

static void brk_check(uintptr_t from, uintptr_t to, int zero, const char *when)
{
	for (uintptr_t a = from; a < to; a++) {
		unsigned char got = *(const volatile unsigned char *)a;
		unsigned char want = zero ? 0 : brk_byte(a);
		if (got != want)
			wl_fail("%s: byte at 0x%lx is 0x%02x, want 0x%02x", when, (unsigned long)a,
			    got, want);
	}
}

int main(void)
{
	uintptr_t first = brk_set(0);
	/* Page-aligned steps from a page boundary: a page is the kernel's unit. */
	uintptr_t start = (first + WL_PAGE - 1) & ~(WL_PAGE - 1);

	if (brk_set(start) != start)
		wl_fail("brk to the page boundary 0x%lx failed (break 0x%lx)",
		    (unsigned long)start, (unsigned long)first);
	uintptr_t cur = start;
	for (unsigned s = 0; s < BRK_STEPS; s++) {
		uintptr_t got = brk_set(cur + BRK_STEP);
		if (got != cur + BRK_STEP)
			wl_fail("growing the break to 0x%lx: it is 0x%lx",
			    (unsigned long)(cur + BRK_STEP), (unsigned long)got);
		brk_check(cur, cur + BRK_STEP, 1, "fresh heap");
		brk_fill(cur, cur + BRK_STEP);
		cur += BRK_STEP;
		brk_check(start, cur, 0, "heap after a step");
	}

	if ((uintptr_t)sbrk(0) != cur)
		wl_fail("sbrk(0) is %p, the break is 0x%lx", sbrk(0), (unsigned long)cur);
	uintptr_t mid = start + BRK_STEPS / 2 * BRK_STEP;
	if (brk_set(mid) != mid)
		wl_fail("shrinking the break to 0x%lx failed", (unsigned long)mid);
	brk_check(start, mid, 0, "heap after shrinking");
	if (brk_set(cur) != cur)
		wl_fail("growing the break back to 0x%lx failed", (unsigned long)cur);
	brk_check(mid, cur, 1, "heap given back and grown again");
	brk_check(start, mid, 0, "heap kept across shrink and growth");

	if (brk_set(0x1000) != cur)
		wl_fail("a break below the program's data was not refused");
	if (brk_set((uintptr_t)0x800000000000ull + WL_PAGE) != cur)
		wl_fail("a break beyond user space was not refused");
	brk_check(start, mid, 0, "heap after refused requests");
	if (brk_set(start) != start)
		wl_fail("shrinking the break to its start failed");
	wl_say("pages=%lu ok", (unsigned long)(BRK_STEPS * BRK_STEP / WL_PAGE));
	return 0;
}
