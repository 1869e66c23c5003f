/*
 * Suite "object": vm_radix and vm_object checks that hold on any running VM core (the
 * guest's real RAM, or the host's simulated machine), leaving it as they found it.
 */
#include "vm/vm_radix.h"
#include "tests/vmtests/object_model.h"
#include "tests/vmtests/radix_model.h"
#include "tests/vmtests/vmtest.h"

VMTEST(object, radix_model)
{
	char err[256];
	const char *why = vmt_radix_model_run(7, 300, err, sizeof(err));

	VMT_ASSERT_MSG(why == NULL, "%s", why);
}

VMTEST(object, shadow_chains_collapse)
{
	char err[256];

	for (int depth = 1; depth <= 4; depth++)
		for (uint64_t seed = 1; seed <= 6; seed++) {
			const char *why = vmt_object_chain_run(seed, depth, err, sizeof(err));
			VMT_ASSERT_MSG(why == NULL, "depth %d seed %llu: %s", depth,
			    (unsigned long long)seed, why);
		}
}
