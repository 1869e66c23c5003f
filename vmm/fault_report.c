/*
 * What the user sees when the guest dies under the VMM: one line on stderr naming the
 * cause with the registers that locate it (and for emulation failures the instruction
 * bytes); with -v the whole vCPU state a kernel developer needs follows (registers,
 * control registers, segments), each line "vmm:".
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/gva.h"
#include "vmm/machine.h"
#include "vmm/vmm.h"

static void fault_print_segment(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "vmm:   %-3s sel=0x%04x base=0x%016llx limit=0x%08x type=0x%x "
	    "p=%u dpl=%u db=%u l=%u g=%u\n", name, s->selector, (unsigned long long)s->base,
	    s->limit, s->type, s->present, s->dpl, s->db, s->l, s->g);
}

/* Registers, control registers and segments of the vCPU. */
static void fault_print_state(struct machine *mc, const struct kvm_regs *r,
    const struct kvm_sregs *sr)
{
	fprintf(stderr,
	    "vmm:   rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
	    "vmm:   rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n"
	    "vmm:   r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
	    "vmm:   r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
	    "vmm:   rip=%016llx rflags=%016llx\n",
	    r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp,
	    r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
	    r->rip, r->rflags);
	fprintf(stderr,
	    "vmm:   cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx\n"
	    "vmm:   efer=%016llx apic_base=%016llx\n",
	    sr->cr0, sr->cr2, sr->cr3, sr->cr4, sr->efer, sr->apic_base);
	fault_print_segment("cs", &sr->cs);
	fault_print_segment("ds", &sr->ds);
	fault_print_segment("es", &sr->es);
	fault_print_segment("ss", &sr->ss);
	fault_print_segment("fs", &sr->fs);
	fault_print_segment("gs", &sr->gs);
	fault_print_segment("tr", &sr->tr);
	fprintf(stderr, "vmm:   gdt base=0x%016llx limit=0x%04x  idt base=0x%016llx "
	    "limit=0x%04x\n", sr->gdt.base, sr->gdt.limit, sr->idt.base, sr->idt.limit);
	(void)mc;
}

static int fault_get_state(struct machine *mc, struct kvm_regs *r, struct kvm_sregs *sr)
{
	if (ioctl(mc->mc_vcpu.kc_fd, KVM_GET_REGS, r) < 0 ||
	    ioctl(mc->mc_vcpu.kc_fd, KVM_GET_SREGS, sr) < 0) {
		fprintf(stderr, "vmm:   (vCPU registers unavailable: %m)\n");
		return -1;
	}
	return 0;
}

/* The architectural state after RESET or INIT: the guest never runs there under the VMM. */
static int fault_is_reset_state(const struct kvm_regs *r, const struct kvm_sregs *sr)
{
	return r->rip == 0xfff0 && sr->cs.selector == 0xf000 && sr->cs.base == 0xffff0000 &&
	    (sr->cr0 & 1) == 0 && sr->efer == 0;
}

/*
 * The one line a guest death gets: what happened, where, in which mode, and extra (the
 * instruction bytes, a caveat) when not NULL. The whole vCPU state follows with -v.
 */
void fault_report(struct machine *mc, const char *what, const char *extra)
{
	struct kvm_regs r;
	struct kvm_sregs sr;

	console_flush(&mc->mc_console);
	/* The line is kept too: a dump (--dump) carries it as its message. */
	if (fault_get_state(mc, &r, &sr) != 0) {
		snprintf(mc->mc_death, sizeof(mc->mc_death), "%s (vCPU %u's registers "
		    "unavailable)%s%s", what, mc->mc_vcpu.kc_id, extra != NULL ? "; " : "",
		    extra != NULL ? extra : "");
		fprintf(stderr, "vmm: %s\n", mc->mc_death);
		return;
	}
	snprintf(mc->mc_death, sizeof(mc->mc_death), "%s: vCPU %u rip=%016llx "
	    "rflags=%016llx rsp=%016llx rax=%016llx cs=%04x cpl=%u cr0=%llx cr3=%llx "
	    "efer=%llx%s%s", what, mc->mc_vcpu.kc_id, r.rip, r.rflags, r.rsp, r.rax,
	    sr.cs.selector, sr.cs.dpl, sr.cr0, sr.cr3, sr.efer, extra != NULL ? "; " : "",
	    extra != NULL ? extra : "");
	fprintf(stderr, "vmm: %s\n", mc->mc_death);
	if (mc->mc_verbose)
		fault_print_state(mc, &r, &sr);
}

/* "what: xx xx ..." into buf, for fault_report's extra. */
static const char *fault_format_bytes(char *buf, size_t buflen, const char *what,
    const uint8_t *b, size_t n)
{
	size_t len = (size_t)snprintf(buf, buflen, "%s:", what);

	for (size_t i = 0; i < n && len < buflen; i++)
		len += (size_t)snprintf(buf + len, buflen - len, " %02x", b[i]);
	if (n == 0 && len < buflen)
		snprintf(buf + len, buflen - len, " (unreadable)");
	return buf;
}

int fault_triple(struct machine *mc)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	/*
	 * KVM on AMD SVM resets the vCPU before it reports a shutdown (the VMCB is undefined
	 * after one), so the registers are the power-on state, not the faulting one. Say so
	 * rather than let the user debug address 0xfff0.
	 */
	bool reset = fault_get_state(mc, &r, &sr) == 0 && fault_is_reset_state(&r, &sr);

	mc->mc_triple_fault = true;

	fault_report(mc, "guest triple fault (KVM_EXIT_SHUTDOWN)", reset ? "KVM reset the "
	    "vCPU before reporting the shutdown, as it does on AMD SVM: these registers are "
	    "the power-on state, the console output above is what the guest left" : NULL);
	return VMM_EXIT_GUEST;
}

int fault_fail_entry(struct machine *mc)
{
	struct kvm_run *run = mc->mc_vcpu.kc_run;
	char what[160];

	snprintf(what, sizeof(what), "KVM could not enter the guest (KVM_EXIT_FAIL_ENTRY, "
	    "hardware_entry_failure_reason 0x%llx, cpu %u)",
	    (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
	    run->fail_entry.cpu);
	fault_report(mc, what, NULL);
	return VMM_EXIT_GUEST;
}

static const char *fault_suberror_name(uint32_t sub)
{
	switch (sub) {
	case KVM_INTERNAL_ERROR_EMULATION: return "emulation failure";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected exit reason";
	default: return "unknown";
	}
}

int fault_internal_error(struct machine *mc)
{
	struct kvm_run *run = mc->mc_vcpu.kc_run;
	uint32_t sub = run->internal.suberror;
	struct kvm_regs r;
	struct kvm_sregs sr;
	char what[200], extra[200];
	const char *ex = NULL;

	snprintf(what, sizeof(what), "KVM internal error, suberror %u (%s): the guest ran an "
	    "instruction KVM cannot handle (see PLATFORM.md)", sub, fault_suberror_name(sub));
	if (sub == KVM_INTERNAL_ERROR_EMULATION) {
		if (run->emulation_failure.ndata >= 3 &&
		    (run->emulation_failure.flags &
		    KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
			unsigned n = run->emulation_failure.insn_size;
			ex = fault_format_bytes(extra, sizeof(extra), "instruction bytes (from "
			    "KVM)", run->emulation_failure.insn_bytes, n <= 15 ? n : 15);
		} else if (fault_get_state(mc, &r, &sr) == 0) {
			uint8_t insn[15];
			struct gva_paging pg = { sr.cr0, sr.cr3, sr.cr4, sr.efer };
			/* The linear address is cs.base + rip; flat in every mode we run. */
			size_t n = gva_read(&mc->mc_mem, &pg, sr.cs.base + r.rip, insn,
			    sizeof(insn));
			ex = fault_format_bytes(extra, sizeof(extra), "bytes at rip (from guest "
			    "memory)", insn, n);
		}
	} else {
		size_t len = 0;
		extra[0] = '\0';
		for (uint32_t i = 0; i < run->internal.ndata && i < 16 && len < sizeof(extra);
		    i++)
			len += (size_t)snprintf(extra + len, sizeof(extra) - len,
			    "%sdata[%u]=0x%llx", i > 0 ? " " : "", i,
			    (unsigned long long)run->internal.data[i]);
		ex = extra[0] != '\0' ? extra : NULL;
	}
	fault_report(mc, what, ex);
	return VMM_EXIT_GUEST;
}

int fault_halted(struct machine *mc)
{
	fault_report(mc, "the guest halted for good (KVM_EXIT_HLT)", NULL);
	return VMM_EXIT_GUEST;
}
