/*
 * kvm-floor: the least a KVM virtual machine can cost on this host, as a whole process:
 * open /dev/kvm, create a VM with one memory slot and one vCPU, run one HLT in real
 * mode, exit. `make bench` times it interleaved with `vmm run --ktest=none` (boot.start)
 * so the VMM's start-up is judged against the floor measured in the same run.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define FLOOR_MEM   0x10000
#define FLOOR_CODE  0x1000

static void die(const char *what)
{
	perror(what);
	exit(71);
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("kvm-floor: /dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("kvm-floor: KVM_CREATE_VM");

	uint8_t *mem = mmap(NULL, FLOOR_MEM, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("kvm-floor: mmap");
	mem[FLOOR_CODE] = 0xf4; /* hlt */
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = FLOOR_MEM,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("kvm-floor: KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("kvm-floor: KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    vcpu, 0);
	if (run == MAP_FAILED)
		die("kvm-floor: mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("kvm-floor: KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("kvm-floor: KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = FLOOR_CODE, .rflags = 2 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("kvm-floor: KVM_SET_REGS");

	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		die("kvm-floor: KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "kvm-floor: expected a HLT exit, got reason %u\n",
		    run->exit_reason);
		return 70;
	}
	return 0;
}
