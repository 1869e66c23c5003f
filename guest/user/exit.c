/* exit STATUS: exit with STATUS (0..255), so a test can see it come out of vmm run. */
#include "guest/user/lib/wl.h"

const char wl_prog[] = "exit";

int main(int argc, char **argv)
{
	if (argc != 2)
		wl_fail("usage: exit STATUS");
	return (int)wl_arg_ulong(argc, argv, 1, "STATUS", 0, 255, 0);
}
