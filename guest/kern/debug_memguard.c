/*
 * debug.memguard=uaf|overrun (kern/debug_memguard.h): a kmalloc of malloc type "temp"
 * (M_TEMP), then a write after kfree (uaf) or one byte past its usable end (overrun).
 * The type is guarded unless vm.memguard= names another: then nothing faults, and the
 * panic here says the type was not guarded, so the integration test can tell
 * "selection by name works" from "MemGuard caught it".
 *
 * Runs at CPL 0 after READY: the first guarded allocation makes MemGuard's arena
 * (pmap_init writes the boot root through the direct map).
 */
#include "kern/bootinfo.h"
#include "kern/debug_memguard.h"
#include "kern/systm.h"

#include "vm/malloc.h"
#include "vm/memguard.h"

#define DEBUG_MEMGUARD_SIZE 100

void debug_memguard(const char *how)
{
	const char *sel = bootinfo_arg("vm.memguard");
	volatile uint8_t *p;
	size_t usable;

	if (sel == NULL)
		(void)memguard_select(M_TEMP->ks_shortdesc);
	p = kmalloc(DEBUG_MEMGUARD_SIZE, M_TEMP, M_WAITOK | M_ZERO);
	usable = kmalloc_usable_size((const void *)p);
	if (strcmp(how, "uaf") == 0) {
		kfree((void *)p, M_TEMP);
		p[DEBUG_MEMGUARD_SIZE / 2] = 0xde;      /* faults when guarded */
	} else {
		p[usable] = 0xde;                       /* the guard page when guarded */
	}
	panic("debug.memguard=%s: the access did not fault: malloc type %s is not guarded "
	    "(vm.memguard=%s)", how, M_TEMP->ks_shortdesc, sel != NULL ? sel : "");
}
