/*
 * The subcommands over the kernel's processes: ps (allproc) and maps (a process's map
 * entries with their objects' shadow chains). Everything is read first, then printed,
 * so a corrupt structure met half-way gives the one-line error and no partial table.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/dump_cmd.h"
#include "vmm/dump_json.h"
#include "vmm/dump_kern.h"
#include "vmm/vmm.h"

int dump_show_ps(struct dump_show *s)
{
	struct dump_kctx k;
	struct dump_proc *p;
	unsigned n;
	int rc;

	if ((rc = dump_kern_init(&k, s->s_dump, s->s_err, s->s_errlen)) != 0)
		return rc;
	if ((rc = dump_kern_procs(&k, &p, &n)) != 0)
		return rc;
	if (s->s_json) {
		struct json j;
		json_init(&j, s->s_out);
		json_obj(&j, NULL);
		json_arr(&j, "processes");
		for (unsigned i = 0; i < n; i++) {
			json_obj(&j, NULL);
			json_i64(&j, "pid", p[i].dp_pid);
			if (p[i].dp_ppid >= 0)
				json_i64(&j, "ppid", p[i].dp_ppid);
			else
				json_null(&j, "ppid");
			json_str(&j, "state", dump_kern_state(&k, &p[i]));
			json_u64(&j, "rss", p[i].dp_rss);
			json_u64(&j, "swapped", p[i].dp_swapped);
			json_u64(&j, "faults", p[i].dp_faults);
			json_u64(&j, "majflt", p[i].dp_majflt);
			json_u64(&j, "map_entries", p[i].dp_nentries);
			json_str(&j, "command", p[i].dp_comm);
			json_hex(&j, "proc", p[i].dp_kva);
			json_hex(&j, "vmspace", p[i].dp_vmspace);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_end_obj(&j);
		json_done(&j);
	} else {
		fprintf(s->s_out, "%6s %6s %-8s %8s %8s %8s %6s %s\n", "PID", "PPID", "STATE",
		    "RSS", "SWAP", "FAULTS", "MAJFLT", "COMMAND");
		for (unsigned i = 0; i < n; i++) {
			char ppid[16] = "-";
			if (p[i].dp_ppid >= 0)
				snprintf(ppid, sizeof(ppid), "%d", p[i].dp_ppid);
			fprintf(s->s_out, "%6d %6s %-8s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %6"
			    PRIu64 " ", p[i].dp_pid, ppid, dump_kern_state(&k, &p[i]), p[i].dp_rss,
			    p[i].dp_swapped, p[i].dp_faults, p[i].dp_majflt);
			dump_show_text(s->s_out, p[i].dp_comm, sizeof(p[i].dp_comm), false);
			putc('\n', s->s_out);
		}
	}
	free(p);
	return 0;
}

static void show_prot(char out[4], int32_t prot)
{
	out[0] = prot & 1 ? 'r' : '-';
	out[1] = prot & 2 ? 'w' : '-';
	out[2] = prot & 4 ? 'x' : '-';
	out[3] = '\0';
}

static void show_maps_text(FILE *f, const struct dump_kctx *k, const struct dump_proc *p,
    const struct dump_entry *e, unsigned n)
{
	fprintf(f, "PID %d (", p->dp_pid);
	dump_show_text(f, p->dp_comm, sizeof(p->dp_comm), false);
	if (p->dp_vmspace == 0) {
		fputs("): no address space\n", f);
		return;
	}
	fprintf(f, "): %u entr%s\n", n, n == 1 ? "y" : "ies");
	fprintf(f, "  %-18s %-18s %-4s %-4s %-7s %-18s %-7s %5s %8s %8s\n", "START", "END",
	    "PROT", "MAX", "INHERIT", "OBJECT", "TYPE", "DEPTH", "RES", "SWAP");
	for (unsigned i = 0; i < n; i++) {
		char prot[4], maxp[4];
		show_prot(prot, e[i].de_prot);
		show_prot(maxp, e[i].de_maxprot);
		fprintf(f, "  0x%016" PRIx64 " 0x%016" PRIx64 " %-4s %-4s %-7s ", e[i].de_start,
		    e[i].de_end, prot, maxp, dump_kern_inherit(k, e[i].de_inherit));
		if (e[i].de_object != 0)
			fprintf(f, "0x%016" PRIx64 " %-7s %5u", e[i].de_object,
			    dump_kern_objtype(k, e[i].de_objtype), e[i].de_depth);
		else
			fprintf(f, "%-18s %-7s %5s", "-", "-", "-");
		fprintf(f, " %8" PRIu64 " %8" PRIu64 "\n", e[i].de_resident, e[i].de_swapped);
	}
}

static void show_maps_json(struct json *j, const struct dump_kctx *k,
    const struct dump_proc *p, const struct dump_entry *e, unsigned n)
{
	char prot[4];

	json_obj(j, NULL);
	json_i64(j, "pid", p->dp_pid);
	json_str(j, "command", p->dp_comm);
	if (p->dp_vmspace == 0) {
		json_null(j, "entries");
		json_end_obj(j);
		return;
	}
	json_arr(j, "entries");
	for (unsigned i = 0; i < n; i++) {
		json_obj(j, NULL);
		json_hex(j, "start", e[i].de_start);
		json_hex(j, "end", e[i].de_end);
		show_prot(prot, e[i].de_prot);
		json_str(j, "protection", prot);
		show_prot(prot, e[i].de_maxprot);
		json_str(j, "max_protection", prot);
		json_str(j, "inheritance", dump_kern_inherit(k, e[i].de_inherit));
		json_hex(j, "offset", e[i].de_offset);
		json_u64(j, "wired", e[i].de_wired);
		json_bool(j, "user_wired", e[i].de_user_wired != 0);
		if (e[i].de_object != 0) {
			json_hex(j, "object", e[i].de_object);
			json_str(j, "object_type", dump_kern_objtype(k, e[i].de_objtype));
			json_u64(j, "shadow_depth", e[i].de_depth);
		} else {
			json_null(j, "object");
		}
		json_u64(j, "resident", e[i].de_resident);
		json_u64(j, "swapped", e[i].de_swapped);
		json_end_obj(j);
	}
	json_end_arr(j);
	json_end_obj(j);
}

int dump_show_maps(struct dump_show *s)
{
	const struct dump_args *a = s->s_args;
	struct dump_kctx k;
	struct dump_proc *p;
	unsigned n, shown = 0;
	int rc;

	if ((rc = dump_kern_init(&k, s->s_dump, s->s_err, s->s_errlen)) != 0)
		return rc;
	if ((rc = dump_kern_procs(&k, &p, &n)) != 0)
		return rc;
	struct dump_entry **ents = calloc(n > 0 ? n : 1, sizeof(*ents));
	unsigned *nents = calloc(n > 0 ? n : 1, sizeof(*nents));
	if (ents == NULL || nents == NULL) {
		rc = vmm_errf(s->s_err, s->s_errlen, VMM_EXIT_HOST, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		if (a->da_has_pid && p[i].dp_pid != a->da_pid)
			continue;
		if ((rc = dump_kern_entries(&k, &p[i], &ents[i], &nents[i])) != 0)
			goto out;
		shown++;
	}
	if (a->da_has_pid && shown == 0) {
		rc = dump_errf(s->s_dump, s->s_err, s->s_errlen, "no process with pid %d "
		    "in the dump (see 'vmm dump ps')", a->da_pid);
		goto out;
	}
	struct json j;
	if (s->s_json) {
		json_init(&j, s->s_out);
		json_obj(&j, NULL);
		json_arr(&j, "processes");
	}
	bool first = true;
	for (unsigned i = 0; i < n; i++) {
		if (a->da_has_pid && p[i].dp_pid != a->da_pid)
			continue;
		if (s->s_json) {
			show_maps_json(&j, &k, &p[i], ents[i], nents[i]);
		} else {
			if (!first)
				putc('\n', s->s_out);
			show_maps_text(s->s_out, &k, &p[i], ents[i], nents[i]);
		}
		first = false;
	}
	if (s->s_json) {
		json_end_arr(&j);
		json_end_obj(&j);
		json_done(&j);
	}
out:
	for (unsigned i = 0; ents != NULL && i < n; i++)
		free(ents[i]);
	free(ents);
	free(nents);
	free(p);
	return rc;
}
