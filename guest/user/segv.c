/*
 * segv: a write through a null pointer, with SIGSEGV's default action: the process is
 * killed, and its status seen from outside is 128 + 11 = 139. Both the pointer and the
 * store are volatile: gcc drops a plain store before a noreturn call, or turns a store it
 * can see is to null into a trap instruction of its own (SIGILL).
 */
#include "guest/user/lib/wl.h"

const char wl_prog[] = "segv";

int main(void)
{
	volatile int *volatile p = 0;

	*p = 1;
	wl_fail("the write through a null pointer did not fault");
}
