/*
 * floor_probe: the least a trap or a page fault can cost under this host's /dev/kvm, for
 * the references of `make bench` (issue 10's trap.floor and fault.floor). A minimal
 * guest, set straight into long mode at CPL 3 by KVM_SET_SREGS, with hand-assembled
 * code:
 *   trap.floor   int3 from CPL 3 to a CPL 0 handler that is one iretq, N times;
 *   fault.floor  a CPL 3 store to each of N fresh pages, each a #PF whose CPL 0 handler
 *                (13 instructions) writes the page's PTE (present, writable, user,
 *                accessed, dirty) and returns.
 * The host times each loop between two port writes (the exits themselves are outside
 * the loop). Prints "floor: kvm=KIND trap_us=T fault_us=F", medians of REPS runs.
 *
 * Usage: floor_probe [REPS]
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/cpl3_vm.h"

#define MEM_SIZE    (8u << 20)
#define PML4_PA     0x1000u
#define PDPT_PA     0x2000u
#define PD_PA       0x3000u
#define IDT_PA      0x4000u
#define HANDLERS_PA 0x5000u     /* 16 bytes a vector: the default handlers */
#define PF_PA       0x7000u     /* the page-fault handler */
#define BP_PA       0x7100u     /* the breakpoint handler */
#define PT_PA       0x9000u     /* the page table of [2 MiB, 4 MiB): the fault region */
#define GDT_PA      0xe000u
#define TSS_PA      0xf000u
#define CODE_PA     0x100000u
#define STACK_TOP   0x80000u
#define RSP0        0x90000u
#define REGION_VA   0x200000u
#define TRAP_N      2000
#define FAULT_N     512

/* IOPL 3 for the timing marks' port writes; no SSE, no syscall. */
static const struct cpl3_vm_layout floor_layout = {
	.pml4_pa = PML4_PA, .idt_pa = IDT_PA, .gdt_pa = GDT_PA, .tss_pa = TSS_PA,
	.rsp0 = RSP0, .rip = CODE_PA, .rsp = STACK_TOP, .rflags = 0x3202,
	.cr4 = 0x20, .efer = 0x500 | 0x800,
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(71);
}

static void put(uint8_t *m, uint64_t pa, const uint8_t *bytes, size_t n)
{
	memcpy(m + pa, bytes, n);
}

static void build(uint8_t *m)
{
	uint64_t *pml4 = (uint64_t *)(m + PML4_PA), *pdpt = (uint64_t *)(m + PDPT_PA);
	uint64_t *pd = (uint64_t *)(m + PD_PA);

	pml4[0] = PDPT_PA | 7;
	pdpt[0] = PD_PA | 7;
	pd[0] = 0x87;                           /* [0, 2 MiB): one user page */
	pd[1] = PT_PA | 7;                      /* [2 MiB, 4 MiB): 4 KiB pages, none yet */
	for (int v = 0; v < 256; v++) {
		uint64_t h = v == 14 ? PF_PA : v == 3 ? BP_PA : HANDLERS_PA + (uint64_t)v * 16;
		uint64_t *e = (uint64_t *)(m + IDT_PA + v * 16);
		e[0] = (h & 0xffff) | (0x10ull << 16) | ((v == 3 ? 0xeeull : 0x8eull) << 40) |
		    ((h >> 16 & 0xffff) << 48);
		e[1] = h >> 32;
		const uint8_t report[] = { 0xb0, (uint8_t)v, 0xe6, 0x84, 0xf4 };   /* out 0x84 */
		put(m, HANDLERS_PA + (uint64_t)v * 16, report, sizeof(report));
	}
	static const uint8_t bp[] = { 0x48, 0xcf };                     /* iretq */
	put(m, BP_PA, bp, sizeof(bp));
	static const uint8_t pf[] = {
		0x50,                                   /* push %rax */
		0x52,                                   /* push %rdx */
		0x0f, 0x20, 0xd0,                       /* mov %cr2, %rax */
		0x48, 0x89, 0xc2,                       /* mov %rax, %rdx */
		0x48, 0xc1, 0xea, 0x0c,                 /* shr $12, %rdx */
		0x81, 0xe2, 0xff, 0x01, 0x00, 0x00,     /* and $0x1ff, %edx */
		0x48, 0x25, 0x00, 0xf0, 0xff, 0xff,     /* and $~0xfff, %rax */
		0x48, 0x83, 0xc8, 0x67,                 /* or $0x67, %rax */
		0x48, 0x89, 0x04, 0xd5,                 /* mov %rax, PT_PA(, %rdx, 8) */
		PT_PA & 0xff, PT_PA >> 8 & 0xff, 0x00, 0x00,
		0x5a,                                   /* pop %rdx */
		0x58,                                   /* pop %rax */
		0x48, 0x83, 0xc4, 0x08,                 /* add $8, %rsp: the error code */
		0x48, 0xcf,                             /* iretq */
	};
	put(m, PF_PA, pf, sizeof(pf));
	/* User code: out 0x81; TRAP_N int3; out 0x82; FAULT_N stores a page apart; out 0x83. */
	uint8_t code[64];
	size_t n = 0;
	uint32_t tn = TRAP_N, fn = FAULT_N;
	uint64_t base = REGION_VA;
	code[n++] = 0xe6; code[n++] = 0x81;                             /* out %al, $0x81 */
	code[n++] = 0xb9; memcpy(code + n, &tn, 4); n += 4;             /* mov $TRAP_N, %ecx */
	code[n++] = 0xcc;                                               /* 1: int3 */
	code[n++] = 0xff; code[n++] = 0xc9;                             /* dec %ecx */
	code[n++] = 0x75; code[n++] = 0xfb;                             /* jnz 1b */
	code[n++] = 0xe6; code[n++] = 0x82;                             /* out %al, $0x82 */
	code[n++] = 0x48; code[n++] = 0xbe; memcpy(code + n, &base, 8); n += 8;  /* movabs */
	code[n++] = 0xb9; memcpy(code + n, &fn, 4); n += 4;             /* mov $FAULT_N, %ecx */
	code[n++] = 0xc6; code[n++] = 0x06; code[n++] = 0x01;           /* 2: movb $1, (%rsi) */
	code[n++] = 0x48; code[n++] = 0x81; code[n++] = 0xc6;           /* add $4096, %rsi */
	code[n++] = 0x00; code[n++] = 0x10; code[n++] = 0x00; code[n++] = 0x00;
	code[n++] = 0xff; code[n++] = 0xc9;                             /* dec %ecx */
	code[n++] = 0x75; code[n++] = 0xf2;                             /* jnz 2b */
	code[n++] = 0xe6; code[n++] = 0x83;                             /* out %al, $0x83 */
	code[n++] = 0xeb; code[n++] = 0xfe;                             /* jmp . */
	put(m, CODE_PA, code, n);
	cpl3_vm_build_gdt(m, &floor_layout);
}

/* One run: => the two loops' ns per iteration, or -1 on a guest that went wrong. */
static int run_once(int kvm, double *trap_ns, double *fault_ns)
{
	struct cpl3_vm v;
	const char *failed = cpl3_vm_open(kvm, MEM_SIZE, &v);

	if (failed != NULL)
		die(failed);
	build(v.mem);
	if (cpl3_vm_enter(v.vcpu, &floor_layout) != 0)
		die("vcpu");
	struct kvm_run *run = v.run;
	int vcpu = v.vcpu;
	uint64_t t[4] = { 0 };
	int marks = 0, rc = 0;
	while (marks < 3) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO ||
		    run->io.port < 0x81 || run->io.port > 0x83) {
			rc = -1;
			break;
		}
		t[marks++] = now_ns();
	}
	if (rc == 0) {
		*trap_ns = (double)(t[1] - t[0]) / TRAP_N;
		*fault_ns = (double)(t[2] - t[1]) / FAULT_N;
	}
	cpl3_vm_close(&v);
	return rc;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 11;
	double tr[64], fl[64];
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm < 0)
		die("/dev/kvm");
	if (reps < 1 || reps > 64)
		reps = 11;
	for (int i = 0; i < reps; i++) {
		if (run_once(kvm, &tr[i], &fl[i]) != 0) {
			fprintf(stderr, "floor_probe: the probe guest did not run as built\n");
			return 71;
		}
	}
	qsort(tr, (size_t)reps, sizeof(double), cmp);
	qsort(fl, (size_t)reps, sizeof(double), cmp);
	const char *kind = access("/sys/module/kvm_pvm", F_OK) == 0 ? "kvm_pvm" :
	    access("/sys/module/kvm_intel", F_OK) == 0 ? "kvm_intel" :
	    access("/sys/module/kvm_amd", F_OK) == 0 ? "kvm_amd" : "kvm";
	printf("floor: kvm=%s trap_us=%.2f fault_us=%.2f\n", kind, tr[reps / 2] / 1000,
	    fl[reps / 2] / 1000);
	return 0;
}
