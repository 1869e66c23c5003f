/*
 * libFuzzer target: hostcall-port requests from a hostile guest. The input is laid
 * into a small guest RAM as it comes (request block, page lists, everything), then a
 * request address taken from its first bytes is handed to the port model. Whatever the
 * guest wrote, the host must touch only guest RAM (ASan watches) and never crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/hostcall_model.h"
#include "vmm/guest_mem.h"

#define FUZZ_RAM    (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static struct hostcall *hc;

	if (hc == NULL) {
		if (guest_mem_init(&gm, FUZZ_RAM) != 0)
			abort();
		hc = calloc(1, sizeof(*hc));
		if (hc == NULL)
			abort();
	}
	if (size < 4)
		return 0;
	uint32_t req;
	memcpy(&req, data, sizeof(req));
	/* Keep most addresses inside RAM so the fuzzer reaches the list handling. */
	if ((req & 1) == 0)
		req %= FUZZ_RAM;
	data += 4;
	size -= 4;
	/* The guest's bytes go at the request address's page, and again at page 0 so
	 * lists pointing low find something. */
	uint64_t at = (uint64_t)(req & ~0xfffu) % FUZZ_RAM;
	size_t n = size < FUZZ_RAM - at ? size : FUZZ_RAM - at;
	memset(gm.gm_base, 0, 2 * 4096);
	guest_mem_write(&gm, at, data, n);
	guest_mem_write(&gm, 0, data, size < 4096 ? size : 4096);

	hostcall_init(hc, &gm, NULL, NULL);
	hc->hc_zero_madvise_min = 64 * 1024;    /* reach the discard path with small runs */
	(void)hostcall_out(hc, 4, req);
	(void)hostcall_in(hc, 4);
	return 0;
}
