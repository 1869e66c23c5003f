/*
 * debug.memguard=uaf|overrun (kern/debug_memguard.h): a kmalloc of malloc type "temp"
 * (M_TEMP), then a write after kfree (uaf) or one byte past its usable end (overrun).
 * debug.memguard=underrun: the same kmalloc made with MemGuard's guard page before it
 * too (MEMGUARD_OPT_GUARD_AROUND), then a write one byte before it.
 * debug.memguard=zone-uaf: the same use after free of an item of UMA zone "dbgzone"
 * (made here, with a ctor and a dtor), guarded unless vm.memguard= names another.
 * The type is guarded unless vm.memguard= names another: then nothing faults, and the
 * panic here says the type was not guarded, so the integration test can tell
 * "selection by name works" from "MemGuard caught it".
 *
 * Runs after READY: the first guarded allocation makes MemGuard's arena.
 */
#include "kern/bootinfo.h"
#include "kern/debug_memguard.h"
#include "kern/systm.h"

#include "vm/malloc.h"
#include "vm/memguard.h"
#include "vm/uma.h"

#define DEBUG_MEMGUARD_SIZE 100

static int dbgzone_ctor(void *mem, int size, void *arg, int flags)
{
	(void)arg; (void)flags;
	memset(mem, 0xc5, (size_t)size);        /* the ctor runs on the guarded item */
	return 0;
}

static void dbgzone_dtor(void *mem, int size, void *arg)
{
	(void)size; (void)arg;
	*(volatile uint8_t *)mem = 0xd7;        /* and the dtor before its pages go */
}

static void __attribute__((noreturn)) debug_memguard_zone(const char *sel)
{
	uma_zone_t z;
	volatile uint8_t *p;

	if (sel == NULL)
		(void)memguard_select("dbgzone");
	z = uma_zcreate("dbgzone", DEBUG_MEMGUARD_SIZE, dbgzone_ctor, dbgzone_dtor, NULL,
	    NULL, UMA_ALIGN_PTR, 0);
	p = uma_zalloc(z, M_WAITOK);
	if (p[DEBUG_MEMGUARD_SIZE - 1] != 0xc5)
		panic("debug.memguard=zone-uaf: the ctor did not run");
	uma_zfree(z, (void *)p);
	p[DEBUG_MEMGUARD_SIZE / 2] = 0xde;      /* faults when guarded */
	panic("debug.memguard=zone-uaf: the access did not fault: zone dbgzone is not "
	    "guarded (vm.memguard=%s)", sel != NULL ? sel : "");
}

void debug_memguard(const char *how)
{
	const char *sel = bootinfo_arg("vm.memguard");
	volatile uint8_t *p;
	size_t usable;

	if (strcmp(how, "zone-uaf") == 0)
		debug_memguard_zone(sel);
	if (sel == NULL)
		(void)memguard_select(M_TEMP->ks_shortdesc);
	if (strcmp(how, "underrun") == 0)
		(void)memguard_set_options(MEMGUARD_OPT_GUARD_AROUND);
	p = kmalloc(DEBUG_MEMGUARD_SIZE, M_TEMP, M_WAITOK | M_ZERO);
	usable = kmalloc_usable_size((const void *)p);
	if (strcmp(how, "uaf") == 0) {
		kfree((void *)p, M_TEMP);
		p[DEBUG_MEMGUARD_SIZE / 2] = 0xde;      /* faults when guarded */
	} else if (strcmp(how, "underrun") == 0) {
		p[-1] = 0xde;                           /* the front guard when guarded */
	} else {
		p[usable] = 0xde;                       /* the guard page when guarded */
	}
	panic("debug.memguard=%s: the access did not fault: malloc type %s is not guarded "
	    "(vm.memguard=%s)", how, M_TEMP->ks_shortdesc, sel != NULL ? sel : "");
}
