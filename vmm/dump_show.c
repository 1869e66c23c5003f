/*
 * The subcommands about the machine: info (the notes), msgbuf (the kernel's message
 * ring), read (memory through the dumped page tables) and pt (that walk, decoded).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest/kern/msgbuf.h"
#include "vmm/dump_cmd.h"
#include "vmm/dump_json.h"
#include "vmm/dump_kern.h"
#include "vmm/vmm.h"

#define MSGBUF_HDR_SIZE     24      /* guest/kern/msgbuf.h: magic, size, wseq, rseq */
#define MSGBUF_MAX_SIZE     (16u << 20)

static const char *show_reason(uint32_t r)
{
	switch (r) {
	case DUMP_REASON_PANIC:
		return "panic";
	case DUMP_REASON_TRIPLE_FAULT:
		return "triple fault";
	case DUMP_REASON_SIGNAL:
		return "signal";
	case DUMP_REASON_EXIT:
		return "exit";
	}
	return "unknown";
}

/* The signals a dump is written for, by name. */
static const char *show_signame(uint32_t sig)
{
	switch (sig) {
	case SIGQUIT: return ", SIGQUIT";
	case SIGINT: return ", SIGINT";
	case SIGTERM: return ", SIGTERM";
	case SIGHUP: return ", SIGHUP";
	case SIGABRT: return ", SIGABRT";
	case SIGSEGV: return ", SIGSEGV";
	case SIGBUS: return ", SIGBUS";
	}
	return "";
}

/* The general registers by name, in the order info prints them. */
struct show_reg {
	const char *sr_name;
	size_t sr_off;
};

#define SHOW_REG(n) { #n, offsetof(struct user_regs_struct, n) }
static const struct show_reg show_regs[] = {
	SHOW_REG(rip), SHOW_REG(rsp), SHOW_REG(rbp), SHOW_REG(eflags),
	SHOW_REG(rax), SHOW_REG(rbx), SHOW_REG(rcx), SHOW_REG(rdx),
	SHOW_REG(rsi), SHOW_REG(rdi), SHOW_REG(r8), SHOW_REG(r9),
	SHOW_REG(r10), SHOW_REG(r11), SHOW_REG(r12), SHOW_REG(r13),
	SHOW_REG(r14), SHOW_REG(r15), SHOW_REG(cs), SHOW_REG(ss),
	SHOW_REG(ds), SHOW_REG(es), SHOW_REG(fs), SHOW_REG(gs),
	SHOW_REG(fs_base), SHOW_REG(gs_base),
};

static uint64_t show_reg_val(const struct user_regs_struct *r, const struct show_reg *sr)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)r + sr->sr_off, sizeof(v));
	return v;
}

struct show_sreg {
	const char *ss_name;
	size_t ss_off;
};

#define SHOW_SREG(n) { #n, offsetof(struct dump_sregs, dsr_##n) }
static const struct show_sreg show_sregs[] = {
	SHOW_SREG(cr0), SHOW_SREG(cr2), SHOW_SREG(cr3), SHOW_SREG(cr4), SHOW_SREG(cr8),
	SHOW_SREG(efer), SHOW_SREG(apic_base), SHOW_SREG(kernel_gs_base),
	SHOW_SREG(gdt_base), SHOW_SREG(idt_base),
};

static const struct show_sreg show_segs[] = {
	SHOW_SREG(cs), SHOW_SREG(ds), SHOW_SREG(es), SHOW_SREG(fs), SHOW_SREG(gs),
	SHOW_SREG(ss), SHOW_SREG(tr), SHOW_SREG(ldt),
};

static uint64_t show_sreg_val(const struct dump_sregs *s, const struct show_sreg *ss)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)s + ss->ss_off, sizeof(v));
	return v;
}

static const struct dump_segment *show_seg(const struct dump_sregs *s,
    const struct show_sreg *ss)
{
	return (const struct dump_segment *)((const uint8_t *)s + ss->ss_off);
}

static void show_info_json(struct dump_show *s, const struct dump_info *di)
{
	const struct dump *d = s->s_dump;
	struct json j;

	json_init(&j, s->s_out);
	json_obj(&j, NULL);
	json_str(&j, "file", d->d_name);
	json_obj(&j, "guest");
	json_u64(&j, "memory_bytes", di->di_mem_size);
	json_u64(&j, "vcpus", di->di_ncpus);
	json_str(&j, "kernel", di->di_kernel);
	json_str(&j, "program", di->di_program);
	json_str(&j, "vmm_version", di->di_vmm_version);
	json_end_obj(&j);
	json_u64(&j, "time_unix_ns", di->di_time_unix_ns);
	json_u64(&j, "uptime_ns", di->di_uptime_ns);
	json_obj(&j, "reason");
	json_str(&j, "kind", show_reason(di->di_reason));
	json_u64(&j, "code", di->di_reason);
	json_u64(&j, "signal", di->di_signal);
	json_i64(&j, "exit_status", di->di_exit_status);
	json_str(&j, "message", di->di_message);
	json_end_obj(&j);
	json_obj(&j, "sizes");
	json_u64(&j, "file_bytes", d->d_size);
	json_u64(&j, "segments", d->d_nsegs);
	json_u64(&j, "memory_bytes", d->d_load_bytes);
	json_u64(&j, "note_bytes", d->d_note_bytes);
	json_u64(&j, "notes", d->d_nnotes);
	json_str(&j, "kind", di->di_flags & DUMP_FLAG_FULL ? "full" : "minidump");
	json_end_obj(&j);
	if (d->d_has_desc) {
		const struct hc_dump_desc *dd = &d->d_desc.ddn_desc;
		json_obj(&j, "descriptor");
		json_hex(&j, "gpa", d->d_desc.ddn_gpa);
		json_bool(&j, "valid", dd->magic == HC_DUMP_MAGIC &&
		    dd->version == HC_DUMP_VERSION);
		json_u64(&j, "version", dd->version);
		json_hex(&j, "kernel_cr3", dd->kernel_cr3);
		json_hex(&j, "kernbase", dd->kernbase);
		json_hex(&j, "dmap_base", dd->dmap_base);
		json_hex(&j, "kernel_end", dd->kernel_end);
		json_end_obj(&j);
	} else {
		json_null(&j, "descriptor");
	}
	json_arr(&j, "vcpus");
	for (unsigned i = 0; i < d->d_nvcpus; i++) {
		const struct dump_vcpu *v = &d->d_vcpus[i];
		json_obj(&j, NULL);
		json_u64(&j, "index", i);
		if (v->dv_has_regs) {
			json_obj(&j, "regs");
			for (size_t r = 0; r < VMM_ARRAY_SIZE(show_regs); r++)
				json_hex(&j, show_regs[r].sr_name,
				    show_reg_val(&v->dv_regs, &show_regs[r]));
			json_end_obj(&j);
		} else {
			json_null(&j, "regs");
		}
		if (v->dv_has_sregs) {
			json_obj(&j, "sregs");
			for (size_t r = 0; r < VMM_ARRAY_SIZE(show_sregs); r++)
				json_hex(&j, show_sregs[r].ss_name,
				    show_sreg_val(&v->dv_sregs, &show_sregs[r]));
			json_u64(&j, "gdt_limit", v->dv_sregs.dsr_gdt_limit);
			json_u64(&j, "idt_limit", v->dv_sregs.dsr_idt_limit);
			for (size_t r = 0; r < VMM_ARRAY_SIZE(show_segs); r++) {
				const struct dump_segment *sg = show_seg(&v->dv_sregs, &show_segs[r]);
				json_obj(&j, show_segs[r].ss_name);
				json_hex(&j, "selector", sg->ds_selector);
				json_hex(&j, "base", sg->ds_base);
				json_hex(&j, "limit", sg->ds_limit);
				json_u64(&j, "type", sg->ds_type);
				json_u64(&j, "present", sg->ds_present);
				json_u64(&j, "dpl", sg->ds_dpl);
				json_u64(&j, "l", sg->ds_l);
				json_u64(&j, "db", sg->ds_db);
				json_end_obj(&j);
			}
			json_end_obj(&j);
		} else {
			json_null(&j, "sregs");
		}
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_end_obj(&j);
	json_done(&j);
}

static void show_info_vcpu(FILE *f, unsigned i, const struct dump_vcpu *v)
{
	fprintf(f, "vCPU %u:\n", i);
	if (v->dv_has_regs) {
		for (size_t r = 0; r < VMM_ARRAY_SIZE(show_regs); r++)
			fprintf(f, "  %-7s 0x%016" PRIx64 "%s",
			    show_regs[r].sr_name, show_reg_val(&v->dv_regs, &show_regs[r]),
			    r % 4 == 3 || r + 1 == VMM_ARRAY_SIZE(show_regs) ? "\n" : "");
	} else {
		fputs("  (no general registers in the dump)\n", f);
	}
	if (!v->dv_has_sregs) {
		fputs("  (no special registers in the dump)\n", f);
		return;
	}
	for (size_t r = 0; r < VMM_ARRAY_SIZE(show_sregs); r++)
		fprintf(f, "  %-7s 0x%016" PRIx64 "%s", show_sregs[r].ss_name,
		    show_sreg_val(&v->dv_sregs, &show_sregs[r]),
		    r % 4 == 3 || r + 1 == VMM_ARRAY_SIZE(show_sregs) ? "\n" : "");
	fprintf(f, "  gdt_limit 0x%x  idt_limit 0x%x\n", v->dv_sregs.dsr_gdt_limit,
	    v->dv_sregs.dsr_idt_limit);
	for (size_t r = 0; r < VMM_ARRAY_SIZE(show_segs); r++) {
		const struct dump_segment *sg = show_seg(&v->dv_sregs, &show_segs[r]);
		fprintf(f, "  %-3s selector 0x%04x base 0x%016" PRIx64 " limit 0x%08x type %u "
		    "dpl %u%s%s%s\n", show_segs[r].ss_name, sg->ds_selector, sg->ds_base,
		    sg->ds_limit, sg->ds_type, sg->ds_dpl, sg->ds_present ? " present" : "",
		    sg->ds_l ? " long" : "", sg->ds_db ? " 32-bit" : "");
	}
}

int dump_show_info(struct dump_show *s)
{
	const struct dump *d = s->s_dump;
	const struct dump_info *di = &d->d_info;
	FILE *f = s->s_out;

	if (s->s_json) {
		show_info_json(s, di);
		return 0;
	}
	fputs("dump:      ", f);
	dump_show_text(f, d->d_name, strlen(d->d_name), false);
	fprintf(f, "\nguest:     %" PRIu64 " MiB, %u vCPU%s\n", di->di_mem_size >> 20,
	    di->di_ncpus, di->di_ncpus == 1 ? "" : "s");
	fputs("kernel:    ", f);
	dump_show_text(f, di->di_kernel, sizeof(di->di_kernel), false);
	fputs("\nprogram:   ", f);
	dump_show_text(f, di->di_program[0] != '\0' ? di->di_program : "(none)",
	    sizeof(di->di_program), false);
	fputs("\nvmm:       ", f);
	dump_show_text(f, di->di_vmm_version, sizeof(di->di_vmm_version), false);
	time_t t = (time_t)(di->di_time_unix_ns / 1000000000u);
	struct tm tm;
	char when[64] = "?";
	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "\nwritten:   %s, %" PRIu64 ".%03" PRIu64 " s after the guest started\n",
	    when, di->di_uptime_ns / 1000000000u, di->di_uptime_ns / 1000000u % 1000u);
	fprintf(f, "reason:    %s", show_reason(di->di_reason));
	if (di->di_reason == DUMP_REASON_SIGNAL ||
	    (di->di_reason == DUMP_REASON_EXIT && di->di_signal != 0))
		fprintf(f, " (signal %u%s)", di->di_signal, show_signame(di->di_signal));
	if (di->di_reason == DUMP_REASON_EXIT && di->di_exit_status >= 0)
		fprintf(f, " (exit status %d)", di->di_exit_status);
	if (di->di_message[0] != '\0') {
		fputs(": ", f);
		dump_show_text(f, di->di_message, sizeof(di->di_message), false);
	}
	fprintf(f, "\nkind:      %s\n", di->di_flags & DUMP_FLAG_FULL ? "full dump (all RAM)" :
	    "minidump");
	fprintf(f, "sizes:     file %zu bytes; %u PT_LOAD segments carrying %" PRIu64 " bytes "
	    "of guest memory; %u notes in %" PRIu64 " bytes\n", d->d_size, d->d_nsegs,
	    d->d_load_bytes, d->d_nnotes, d->d_note_bytes);
	if (d->d_has_desc) {
		const struct hc_dump_desc *dd = &d->d_desc.ddn_desc;
		fprintf(f, "descriptor: at physical 0x%" PRIx64 "%s; kernel_cr3 0x%" PRIx64
		    ", kernbase 0x%" PRIx64 ", dmap_base 0x%" PRIx64 "\n", d->d_desc.ddn_gpa,
		    dd->magic == HC_DUMP_MAGIC && dd->version == HC_DUMP_VERSION ? "" :
		    " (corrupt: bad magic or version)", dd->kernel_cr3, dd->kernbase,
		    dd->dmap_base);
	} else {
		fputs("descriptor: none (the guest registered none)\n", f);
	}
	for (unsigned i = 0; i < d->d_nvcpus; i++)
		show_info_vcpu(f, i, &d->d_vcpus[i]);
	return 0;
}

int dump_show_msgbuf(struct dump_show *s)
{
	const struct dump *d = s->s_dump;
	const struct hc_dump_desc *dd = dump_desc(d, s->s_err, s->s_errlen);
	uint8_t hdr[MSGBUF_HDR_SIZE];
	uint32_t magic, size;
	uint64_t wseq;

	_Static_assert(offsetof(struct msgbuf, msg_buf) == MSGBUF_HDR_SIZE, "msgbuf header");
	if (dd == NULL)
		return DUMP_EXIT_DATA;
	if (dd->msgbuf == 0)
		return dump_errf(d, s->s_err, s->s_errlen, "the guest registered "
		    "no message buffer");
	if (dump_read_pa(d, dd->msgbuf, hdr, sizeof(hdr)) != 0)
		return dump_errf(d, s->s_err, s->s_errlen, "the message buffer "
		    "at physical 0x%" PRIx64 " is not in the dump", dd->msgbuf);
	memcpy(&magic, hdr, 4);
	memcpy(&size, hdr + 4, 4);
	memcpy(&wseq, hdr + 8, 8);
	if (magic == 0) {
		size = 1;       /* all zero: nothing written yet, an empty text */
		wseq = 0;
	} else if (magic != MSGBUF_MAGIC || size == 0 || (size & (size - 1)) != 0 ||
	    size > MSGBUF_MAX_SIZE) {
		return dump_errf(d, s->s_err, s->s_errlen, "the message buffer "
		    "is corrupt (magic 0x%x, size %u)", magic, size);
	}
	uint64_t live = wseq < size ? wseq : size, start = wseq - live;
	char *text = malloc(live > 0 ? live : 1);
	uint8_t *ring = malloc(size);
	if (text == NULL || ring == NULL) {
		free(text);
		free(ring);
		return vmm_errf(s->s_err, s->s_errlen, VMM_EXIT_HOST, "out of memory");
	}
	if (live > 0 && dump_read_pa(d, dd->msgbuf + MSGBUF_HDR_SIZE, ring, size) != 0) {
		free(text);
		free(ring);
		return dump_errf(d, s->s_err, s->s_errlen, "the message buffer's "
		    "%u bytes are not wholly in the dump", size);
	}
	for (uint64_t i = 0; i < live; i++)
		text[i] = (char)ring[(start + i) & (size - 1)];
	if (s->s_json) {
		struct json j;
		json_init(&j, s->s_out);
		json_obj(&j, NULL);
		json_u64(&j, "size", magic == 0 ? 0 : size);
		json_u64(&j, "written", wseq);
		json_u64(&j, "lost", start);
		json_strn(&j, "text", text, live);
		json_end_obj(&j);
		json_done(&j);
	} else {
		for (uint64_t i = 0; i < live; i++) {
			unsigned char c = (unsigned char)text[i];
			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				c = '?';
			putc(c, s->s_out);
		}
		if (live > 0 && text[live - 1] != '\n')
			putc('\n', s->s_out);
	}
	free(text);
	free(ring);
	return 0;
}

/* Why a page of `read` has no bytes: the walk's word, or "not in the dump". */
static const char *show_missing(const struct gva_walk *w)
{
	return w->gw_status == GVA_WALK_OK ? "page not in the dump" :
	    gva_walk_status_str(w->gw_status);
}

static void show_hexline(FILE *f, uint64_t va, const uint8_t *b, const uint8_t *ok,
    size_t n)
{
	fprintf(f, "%016" PRIx64 " ", va);
	for (size_t i = 0; i < 16; i++) {
		if (i == 8)
			putc(' ', f);
		if (i >= n)
			fputs("   ", f);
		else if (ok[i])
			fprintf(f, " %02x", b[i]);
		else
			fputs(" --", f);
	}
	fputs("  |", f);
	for (size_t i = 0; i < n; i++)
		putc(ok[i] && b[i] >= 0x20 && b[i] < 0x7f ? b[i] : '.', f);
	fputs("|\n", f);
}

/* One page's worth of `read`: its bytes are in buf, or it says why not. */
struct show_piece {
	uint64_t sp_off, sp_len;
	bool sp_have;
	struct gva_walk sp_walk;
};

static void show_read_text(struct dump_show *s, const struct show_piece *pc, unsigned npc,
    const uint8_t *buf, const uint8_t *ok)
{
	uint64_t va0 = s->s_args->da_vaddr, len = s->s_args->da_len;

	for (unsigned p = 0; p < npc; p++) {
		const struct show_piece *sp = &pc[p];
		if (!sp->sp_have) {
			fprintf(s->s_out, "%016" PRIx64 "  %" PRIu64 " bytes: %s", va0 + sp->sp_off,
			    sp->sp_len, show_missing(&sp->sp_walk));
			if (sp->sp_walk.gw_status == GVA_WALK_OK)
				fprintf(s->s_out, " (physical 0x%" PRIx64 ")", sp->sp_walk.gw_pa);
			fputc('\n', s->s_out);
		}
		/* The lines of 16 (counted from VADDR) that start in this piece, unless all
		 * their bytes are missing (the piece's line said so). */
		for (uint64_t l = (sp->sp_off + 15) / 16 * 16; l < sp->sp_off + sp->sp_len;
		    l += 16) {
			uint64_t ln = len - l < 16 ? len - l : 16;
			if (memchr(ok + l, 1, ln) != NULL)
				show_hexline(s->s_out, va0 + l, buf + l, ok + l, ln);
		}
	}
}

static void show_read_json(struct dump_show *s, uint64_t cr3, const struct show_piece *pc,
    unsigned npc, const uint8_t *buf)
{
	struct json j;
	static const char hexd[] = "0123456789abcdef";
	char hex[2 * 4096];

	json_init(&j, s->s_out);
	json_obj(&j, NULL);
	json_hex(&j, "vaddr", s->s_args->da_vaddr);
	json_u64(&j, "len", s->s_args->da_len);
	json_hex(&j, "cr3", cr3);
	json_arr(&j, "pieces");
	for (unsigned p = 0; p < npc; p++) {
		const struct show_piece *sp = &pc[p];
		json_obj(&j, NULL);
		json_hex(&j, "vaddr", s->s_args->da_vaddr + sp->sp_off);
		json_u64(&j, "len", sp->sp_len);
		if (sp->sp_walk.gw_status == GVA_WALK_OK)
			json_hex(&j, "paddr", sp->sp_walk.gw_pa);
		if (sp->sp_have) {
			for (uint64_t i = 0; i < sp->sp_len; i++) {
				hex[2 * i] = hexd[buf[sp->sp_off + i] >> 4];
				hex[2 * i + 1] = hexd[buf[sp->sp_off + i] & 15];
			}
			json_strn(&j, "hex", hex, 2 * sp->sp_len);
		} else {
			json_str(&j, "missing", show_missing(&sp->sp_walk));
		}
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_end_obj(&j);
	json_done(&j);
}

int dump_show_read(struct dump_show *s)
{
	const struct dump *d = s->s_dump;
	const struct hc_dump_desc *dd = dump_desc(d, s->s_err, s->s_errlen);
	uint64_t va0 = s->s_args->da_vaddr, len = s->s_args->da_len;
	unsigned npc = 0;

	if (dd == NULL)
		return DUMP_EXIT_DATA;
	KASSERT(len > 0 && len <= DUMP_CMD_READ_MAX, ("%s: len %" PRIu64, __func__, len));
	uint8_t *buf = calloc(len, 1), *ok = calloc(len, 1);
	struct show_piece *pc = calloc(len / 4096 + 2, sizeof(*pc));
	if (buf == NULL || ok == NULL || pc == NULL) {
		free(buf);
		free(ok);
		free(pc);
		return vmm_errf(s->s_err, s->s_errlen, VMM_EXIT_HOST, "out of memory");
	}
	/* Page by page through the tables: a piece is dumped, or says why not. */
	for (uint64_t off = 0; off < len; npc++) {
		struct show_piece *sp = &pc[npc];
		uint64_t va = va0 + off, n = 4096 - (va & 4095);
		if (n > len - off)
			n = len - off;
		dump_walk(d, dd->kernel_cr3, va, &sp->sp_walk);
		sp->sp_off = off;
		sp->sp_len = n;
		sp->sp_have = sp->sp_walk.gw_status == GVA_WALK_OK &&
		    dump_read_pa(d, sp->sp_walk.gw_pa, buf + off, n) == 0;
		memset(ok + off, sp->sp_have, n);
		off += n;
	}
	if (s->s_json)
		show_read_json(s, dd->kernel_cr3, pc, npc, buf);
	else
		show_read_text(s, pc, npc, buf, ok);
	free(buf);
	free(ok);
	free(pc);
	return 0;
}

static void show_flags(FILE *f, uint64_t e, unsigned level, struct json *j)
{
	static const struct { uint64_t bit; const char *name; } flags[] = {
		{ GVA_PTE_P, "P" }, { GVA_PTE_RW, "RW" }, { GVA_PTE_US, "US" },
		{ GVA_PTE_PWT, "PWT" }, { GVA_PTE_PCD, "PCD" }, { GVA_PTE_A, "A" },
		{ GVA_PTE_D, "D" }, { GVA_PTE_PS, "PS" }, { GVA_PTE_G, "G" },
		{ GVA_PTE_NX, "NX" },
	};
	char text[64] = "";
	size_t tl = 0;

	for (size_t i = 0; i < VMM_ARRAY_SIZE(flags); i++) {
		/* In a PT entry bit 7 is PAT, not PS. */
		if (!(e & flags[i].bit) || (flags[i].bit == GVA_PTE_PS && level == 1))
			continue;
		tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "%s%s", tl > 0 ? " " : "",
		    flags[i].name);
	}
	if (j != NULL) {
		json_arr(j, "flags");
		for (size_t i = 0; i < VMM_ARRAY_SIZE(flags); i++)
			if ((e & flags[i].bit) && !(flags[i].bit == GVA_PTE_PS && level == 1))
				json_str(j, NULL, flags[i].name);
		json_end_arr(j);
	} else {
		fprintf(f, " %-26s", text);
	}
}

int dump_show_pt(struct dump_show *s)
{
	static const char *const names[] = { "", "PT", "PD", "PDPT", "PML4" };
	const struct dump *d = s->s_dump;
	const struct hc_dump_desc *dd = dump_desc(d, s->s_err, s->s_errlen);
	uint64_t va = s->s_args->da_vaddr;
	struct gva_walk w;
	FILE *f = s->s_out;

	if (dd == NULL)
		return DUMP_EXIT_DATA;
	dump_walk(d, dd->kernel_cr3, va, &w);
	size_t got = 0;
	bool in_dump = w.gw_status == GVA_WALK_OK && dump_pa_span(d, w.gw_pa, 1, &got) != NULL;
	if (s->s_json) {
		struct json j;
		json_init(&j, f);
		json_obj(&j, NULL);
		json_hex(&j, "vaddr", va);
		json_hex(&j, "cr3", dd->kernel_cr3);
		json_arr(&j, "levels");
		for (unsigned i = 0; i < w.gw_nlevels; i++) {
			const struct gva_walk_level *lv = &w.gw_lv[i];
			json_obj(&j, NULL);
			json_str(&j, "level", names[lv->wl_level]);
			json_hex(&j, "table", lv->wl_table);
			json_u64(&j, "index", lv->wl_index);
			json_hex(&j, "entry", lv->wl_entry);
			show_flags(f, lv->wl_entry, lv->wl_level, &j);
			if (lv->wl_entry & GVA_PTE_P)
				json_hex(&j, "next", lv->wl_next);
			else
				json_null(&j, "next");
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_str(&j, "status", gva_walk_status_str(w.gw_status));
		if (w.gw_status == GVA_WALK_OK) {
			json_hex(&j, "paddr", w.gw_pa);
			json_u64(&j, "page_size", w.gw_page_size);
			json_bool(&j, "in_dump", in_dump);
		} else if (w.gw_status == GVA_WALK_NO_TABLE) {
			json_hex(&j, "missing_table", w.gw_table_missing);
		}
		json_end_obj(&j);
		json_done(&j);
		return 0;
	}
	fprintf(f, "walk of 0x%016" PRIx64 " from cr3 0x%" PRIx64 "\n", va, dd->kernel_cr3);
	fprintf(f, "%-5s %-18s %5s %-18s %-26s %s\n", "LEVEL", "TABLE", "INDEX", "ENTRY",
	    " FLAGS", "NEXT");
	for (unsigned i = 0; i < w.gw_nlevels; i++) {
		const struct gva_walk_level *lv = &w.gw_lv[i];
		fprintf(f, "%-5s 0x%016" PRIx64 " %5u 0x%016" PRIx64, names[lv->wl_level],
		    lv->wl_table, lv->wl_index, lv->wl_entry);
		show_flags(f, lv->wl_entry, lv->wl_level, NULL);
		if (lv->wl_entry & GVA_PTE_P)
			fprintf(f, " 0x%" PRIx64 "\n", lv->wl_next);
		else
			fputs(" -\n", f);
	}
	switch (w.gw_status) {
	case GVA_WALK_OK:
		fprintf(f, "=> physical 0x%" PRIx64 " (%s page, %s)\n", w.gw_pa,
		    w.gw_page_size == (1u << 30) ? "1 GiB" : w.gw_page_size == (1u << 21) ?
		    "2 MiB" : "4 KiB", in_dump ? "in the dump" : "not in the dump");
		break;
	case GVA_WALK_NO_TABLE:
		fprintf(f, "=> %s: the table at physical 0x%" PRIx64 "\n",
		    gva_walk_status_str(w.gw_status), w.gw_table_missing);
		break;
	default:
		fprintf(f, "=> %s\n", gva_walk_status_str(w.gw_status));
		break;
	}
	return 0;
}
