/*
 * The host test platform's answers to the hooks the guest's processes answer
 * (vm_platform.h). There are no processes: the out-of-memory hook (vm_plat_oom_kill)
 * records the calls and answers what the test set, and may run a test's action standing
 * for the victim's memory being freed; major faults (vm_plat_fault_major) are counted.
 */
#include "tests/support/vm_host.h"
#include "vm/vm_platform.h"

static uint64_t vm_host_oom_calls;              /* atomic */
static bool vm_host_oom_answer;
static void (*vm_host_oom_action)(void *);
static void *vm_host_oom_arg;

void vm_host_oom_set(bool answer, void (*action)(void *), void *arg)
{
	vm_host_oom_answer = answer;
	vm_host_oom_action = action;
	vm_host_oom_arg = arg;
	__atomic_store_n(&vm_host_oom_calls, 0, __ATOMIC_RELAXED);
}

uint64_t vm_host_oom_calls_made(void)
{
	return __atomic_load_n(&vm_host_oom_calls, __ATOMIC_RELAXED);
}

bool vm_plat_oom_kill(void)
{
	__atomic_add_fetch(&vm_host_oom_calls, 1, __ATOMIC_RELAXED);
	if (vm_host_oom_action != NULL)
		vm_host_oom_action(vm_host_oom_arg);
	return vm_host_oom_answer;
}

static uint64_t vm_host_majflt;                 /* atomic */

void vm_plat_fault_major(void)
{
	__atomic_add_fetch(&vm_host_majflt, 1, __ATOMIC_RELAXED);
}

uint64_t vm_host_majflt_count(void)
{
	return __atomic_load_n(&vm_host_majflt, __ATOMIC_RELAXED);
}
