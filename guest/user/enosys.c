/*
 * enosys: system call numbers no kernel has must return -ENOSYS (as on Linux), and the
 * process must go on. The numbers stay below 0x40000000, where Linux's x32 calls begin.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "enosys";

int main(void)
{
	static const long numbers[] = { 1000, 4095, 99999, 0x3fffffff };

	for (unsigned i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		errno = 0;
		long r = syscall(numbers[i], 1, 2, 3);
		if (r != -1 || errno != ENOSYS)
			wl_fail("system call %ld returned %ld, errno %d (%s), want -1 and ENOSYS",
			    numbers[i], r, errno, strerror(errno));
	}
	if (getpid() <= 0)
		wl_fail("getpid after the unknown calls: %d", (int)getpid());
	wl_say("calls=%zu ENOSYS ok", sizeof(numbers) / sizeof(numbers[0]));
	return 0;
}
