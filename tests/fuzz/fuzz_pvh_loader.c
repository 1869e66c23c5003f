/*
 * libFuzzer target: the PVH loader on arbitrary bytes. Whatever the input, the loader
 * must return 0 or VMM_EXIT_INPUT with a message, touch guest RAM only inside it (ASan
 * watches the mapping's neighbours), and never crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/guest_mem.h"
#include "vmm/pvh_loader.h"
#include "vmm/vmm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static int ready;
	char err[256];
	struct pvh_image img;

	if (!ready) {
		if (guest_mem_init(&gm, 8u << 20) != 0)
			abort();
		ready = 1;
	}
	err[0] = '\0';
	int rc = pvh_load_image(&gm, data, size, &img, err, sizeof(err));
	if (rc != 0 && (rc != VMM_EXIT_INPUT || err[0] == '\0'))
		abort();        /* every rejection is an input error with a message */
	if (rc == 0 && (img.pi_end > gm.gm_ram_size + (4ull << 30) || img.pi_start > img.pi_end))
		abort();
	return 0;
}
