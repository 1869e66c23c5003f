/*
 * cpl3-insn: what guest user mode (CPL 3, RFLAGS.IOPL 3) may execute under this host's
 * /dev/kvm, for docs/deprivileged-kernel.md. The deprivileged kernel runs at CPL 3, so
 * which privileged-looking instructions work there decides what needs a CPL 0 stub.
 *
 * Each test makes a fresh VM with one vCPU put straight into long mode at CPL 3 by
 * KVM_SET_SREGS (no guest boot code): identity-mapped 2 MiB user pages over the first
 * 16 MiB, a GDT with the Linux selector layout (user CS 0x33, SS 0x2b: what kvm_pvm's
 * switcher expects), a TSS whose RSP0 takes exceptions to CPL 0, and an IDT whose every
 * vector reports itself on port 0x81. The instruction is repeated inline, then the code
 * writes port 0x82. It prints "ok" or the exception vector, and ns per instruction
 * (the VM's first KVM_RUN included: compare with "nop").
 *
 * Build: gcc -O2 -Wall -Wextra -I. -o cpl3-insn scripts/probes/cpl3-insn.c
 * Run:   ./cpl3-insn [name,name,...]
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/cpl3_vm.h"

#define MEM_SIZE    (16u << 20)
#define PML4_PA     0x1000u
#define PDPT_PA     0x2000u
#define PD_PA       0x3000u
#define IDT_PA      0x4000u
#define HANDLER_PA  0x5000u     /* 16 bytes per vector */
#define GDT_PA      0xe000u
#define TSS_PA      0xf000u
#define CODE_PA     0x100000u
#define STACK_TOP   0x80000u
#define RSP0        0x90000u

struct probe {
	const char *name;
	const char *hex;        /* the instruction's bytes */
	int reps;
};

static const struct probe probes[] = {
	{ "nop", "90", 1000 },
	{ "store", "4889042500700000", 1000 },
	{ "lock_cmpxchg", "f0480fb10c2500700000", 1000 },
	{ "pushf_popf", "9c9d", 100 },
	{ "cli", "fa", 1 },
	{ "sti", "fb", 1 },
	{ "hlt", "f4", 1 },
	{ "rdtsc", "0f31", 100 },
	{ "rdtscp", "0f01f9", 10 },
	{ "rdpid", "f30fc7f8", 10 },
	{ "cpuid", "31c00fa2", 100 },
	{ "rdgsbase", "f3480faec8", 100 },
	{ "wrgsbase", "f3480faed8", 100 },
	{ "wrfsbase", "f3480faed0", 100 },
	{ "out", "e680", 10 },
	{ "in", "e480", 10 },
	{ "fxsave", "0fae042500800000", 100 },
	{ "fxrstor", "0fae0c2500800000", 100 },
	{ "stmxcsr", "0fae1c2508700000", 100 },
	{ "xsave", "31c031d20fae242500800000", 10 },
	{ "rep_stosq_4k", "31c0bf00900000b900020000f348ab", 10 },
	{ "swapgs", "0f01f8", 1 },
	{ "invlpg", "0f013c2500900000", 1 },
	{ "mov_from_cr3", "0f20d8", 1 },
	{ "int3", "cc", 1 },
	{ "int_0x80", "cd80", 1 },
	{ "ud2", "0f0b", 1 },
};

/* IOPL 3, IF; SSE and FSGSBASE enabled (CR4 PAE, OSFXSR, OSXMMEXCPT, FSGSBASE,
 * OSXSAVE); EFER LMA, LME, SCE, NXE. */
static const struct cpl3_vm_layout insn_layout = {
	.pml4_pa = PML4_PA, .idt_pa = IDT_PA, .gdt_pa = GDT_PA, .tss_pa = TSS_PA,
	.rsp0 = RSP0, .rip = CODE_PA, .rsp = STACK_TOP, .rflags = 0x3202,
	.cr4 = 0x20 | 0x200 | 0x400 | 0x10000 | 0x40000, .efer = 0x500 | 1 | 0x800,
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int parse_hex(const char *h, uint8_t *out, int max)
{
	int n = 0;

	for (; h[0] != '\0' && h[1] != '\0' && n < max; h += 2) {
		unsigned v;
		if (sscanf(h, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void die(const char *what)
{
	perror(what);
	exit(71);
}

static void on_alarm(int sig)
{
	(void)sig;      /* only to interrupt KVM_RUN */
}

/* Page tables, IDT, GDT, TSS and the repeated instruction in guest memory m. */
static void build_guest(uint8_t *m, const uint8_t *insn, int len, int reps)
{
	uint64_t *pml4 = (uint64_t *)(m + PML4_PA), *pdpt = (uint64_t *)(m + PDPT_PA);
	uint64_t *pd = (uint64_t *)(m + PD_PA);

	pml4[0] = PDPT_PA | 7;                  /* present, writable, user */
	pdpt[0] = PD_PA | 7;
	for (uint64_t i = 0; i < MEM_SIZE >> 21; i++)
		pd[i] = (i << 21) | 0x87;       /* 2 MiB, user */
	for (int v = 0; v < 256; v++) {
		uint64_t h = HANDLER_PA + (uint64_t)v * 16, *e = (uint64_t *)(m + IDT_PA + v * 16);
		e[0] = (h & 0xffff) | (0x10ull << 16) | (0xee00ull << 32) | ((h >> 16 & 0xffff) << 48);
		e[1] = h >> 32;
		const uint8_t report[] = { 0xb0, (uint8_t)v, 0xe6, 0x81, 0xf4 };  /* out 0x81; hlt */
		memcpy(m + h, report, sizeof(report));
	}
	cpl3_vm_build_gdt(m, &insn_layout);
	uint8_t *c = m + CODE_PA;
	for (int k = 0; k < reps; k++, c += len)
		memcpy(c, insn, (size_t)len);
	const uint8_t tail[] = { 0xb0, 0xff, 0xe6, 0x82, 0xf4 };   /* out 0x82; hlt */
	memcpy(c, tail, sizeof(tail));
}

static void set_cpl3(int kvm, int vcpu)
{
	struct kvm_cpuid2 *cp = calloc(1, sizeof(*cp) + 256 * sizeof(struct kvm_cpuid_entry2));

	if (cp == NULL)
		die("calloc");
	cp->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cp) != 0 || ioctl(vcpu, KVM_SET_CPUID2, cp) != 0)
		die("cpuid");
	free(cp);
	if (cpl3_vm_enter(vcpu, &insn_layout) != 0)
		die("KVM_SET_SREGS");
}

static void run_probe(const struct probe *p)
{
	uint8_t insn[32];
	int len = parse_hex(p->hex, insn, (int)sizeof(insn));
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (len <= 0 || kvm < 0)
		die(len <= 0 ? p->name : "/dev/kvm");
	struct cpl3_vm v;
	const char *failed = cpl3_vm_open(kvm, MEM_SIZE, &v);
	if (failed != NULL)
		die(failed);
	build_guest(v.mem, insn, len, p->reps);
	int vcpu = v.vcpu;
	struct kvm_run *run = v.run;
	set_cpl3(kvm, vcpu);

	const char *result = "?";
	int vector = -1;
	alarm(5);
	uint64_t t0 = now_ns();
	for (int exits = 0; exits < 1000; exits++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			result = "timeout";
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO) {
			uint8_t v = *((uint8_t *)run + run->io.data_offset);
			if (run->io.port == 0x82) {
				result = "ok";
				break;
			}
			if (run->io.port == 0x81) {
				result = "exception";
				vector = v;
				break;
			}
			continue;       /* the probed in/out itself */
		}
		result = run->exit_reason == KVM_EXIT_INTERNAL_ERROR ? "internal-error" :
		    run->exit_reason == KVM_EXIT_SHUTDOWN ? "shutdown" : "other-exit";
		break;
	}
	uint64_t t1 = now_ns();
	alarm(0);
	printf("%-14s %-15s vector=%-3d ns/insn=%.0f\n", p->name, result, vector,
	    (double)(t1 - t0) / p->reps);
	cpl3_vm_close(&v);
	close(kvm);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;

	signal(SIGALRM, on_alarm);
	setvbuf(stdout, NULL, _IONBF, 0);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (only == NULL || strstr(only, probes[i].name) != NULL)
			run_probe(&probes[i]);
	return 0;
}
