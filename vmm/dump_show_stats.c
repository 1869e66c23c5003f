/*
 * The subcommands over the guest's published statistics: vmstat (struct vmmeter), zones
 * (UMA, like FreeBSD's `vmstat -z`) and malloc (`vmstat -m`).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/dump_cmd.h"
#include "vmm/dump_json.h"
#include "vmm/dump_kern.h"
#include "vmm/dump_stats.h"
#include "vmm/vmm.h"

/* The vmmeter's counters as `vmstat -s` lists them: key (JSON), words (text). */
struct show_vm_field {
	const char *vf_key;
	size_t vf_off;
	const char *vf_words;
};

#define VMF(f, words) { #f, offsetof(struct vmmeter, v_##f), words }
static const struct show_vm_field show_vm_fields[] = {
	VMF(page_size, "bytes per page"),
	VMF(page_count, "pages managed"),
	VMF(free_count, "pages free"),
	VMF(zero_count, "pages free and pre-zeroed"),
	VMF(active_count, "pages active"),
	VMF(inactive_count, "pages inactive"),
	VMF(laundry_count, "pages in the laundry queue"),
	VMF(wire_count, "pages wired down"),
	VMF(free_target, "pages the page daemon frees up to (free target)"),
	VMF(free_min, "pages below which the daemon runs at once (free min)"),
	VMF(inactive_target, "pages the inactive queue aims at (inactive target)"),
	VMF(free_waiters, "threads waiting for free pages"),
	VMF(faults, "page faults resolved"),
	VMF(zfod, "pages zero-filled by faults"),
	VMF(cow_faults, "copy-on-write faults"),
	VMF(majfaults, "faults that waited for a pager (major)"),
	VMF(pageins, "pages read from swap (page-ins)"),
	VMF(pageouts, "pages written to swap (page-outs)"),
	VMF(pdpasses, "page daemon passes"),
	VMF(pdscanned, "pages scanned by the page daemon"),
	VMF(pdfreed, "pages freed by the page daemon"),
	VMF(pdreactivated, "pages reactivated by the page daemon"),
	VMF(pdlaundered, "dirty pages the page daemon sent to the pager"),
	VMF(oom_kills, "processes killed for want of memory"),
	VMF(alloc_fails, "page allocations that failed"),
	VMF(swap_pages, "swap pages configured"),
	VMF(swap_used, "swap pages in use"),
};

/*
 * What the three subcommands share: the snapshot the descriptor's field at desc_off
 * names, copied out of the dump, handed to parse (which fills out), and freed. *p keeps
 * the snapshot's header and whether it was torn, for the output. => 0 or an exit status.
 */
typedef int show_pub_parse_fn(struct dump_show *s, const struct dump_pub *p, void *out);

static int show_pub_load(struct dump_show *s, size_t desc_off, const char *what,
    show_pub_parse_fn *parse, void *out, struct dump_pub *p)
{
	const struct hc_dump_desc *dd = dump_desc(s->s_dump, s->s_err, s->s_errlen);
	uint64_t gpa;
	int rc;

	if (dd == NULL)
		return DUMP_EXIT_DATA;
	memcpy(&gpa, (const uint8_t *)dd + desc_off, sizeof(gpa));
	if ((rc = dump_pub_get(s->s_dump, gpa, what, p, s->s_err, s->s_errlen)) != 0)
		return rc;
	rc = parse(s, p, out);
	dump_pub_free(p);
	return rc;
}

/* A JSON document's opening: the snapshot's guest time and whether it was torn. */
static void show_pub_json_begin(struct json *j, const struct dump_show *s,
    const struct dump_pub *p)
{
	json_init(j, s->s_out);
	json_obj(j, NULL);
	json_u64(j, "time_ns", p->dp_hdr.pub_time_ns);
	json_bool(j, "torn", p->dp_torn);
}

/* The text's warning line over a table from a torn snapshot. */
static void show_pub_torn_line(const struct dump_show *s, const struct dump_pub *p)
{
	if (p->dp_torn)
		fputs("(TORN: the guest was rewriting the statistics; figures may disagree)\n",
		    s->s_out);
}

struct show_vmmeter {
	struct vmmeter sv_vm;
	size_t sv_filled;       /* bytes of sv_vm the guest wrote */
};

static int show_parse_vmmeter(struct dump_show *s, const struct dump_pub *p, void *out)
{
	struct show_vmmeter *v = out;

	return dump_stats_vmmeter(s->s_dump, p, &v->sv_vm, &v->sv_filled, s->s_err,
	    s->s_errlen);
}

static int show_parse_zones(struct dump_show *s, const struct dump_pub *p, void *out)
{
	return dump_stats_zones(s->s_dump, p, out, s->s_err, s->s_errlen);
}

struct show_mtypes {
	struct dump_mtype *sm_types;    /* malloc'd */
	unsigned sm_n;
};

static int show_parse_malloc(struct dump_show *s, const struct dump_pub *p, void *out)
{
	struct show_mtypes *m = out;

	return dump_stats_malloc(s->s_dump, p, &m->sm_types, &m->sm_n, s->s_err, s->s_errlen);
}

int dump_show_vmstat(struct dump_show *s)
{
	struct dump_pub p;
	struct show_vmmeter v;
	const struct vmmeter *vm = &v.sv_vm;
	int rc;

	if ((rc = show_pub_load(s, offsetof(struct hc_dump_desc, vmmeter), "vmmeter",
	    show_parse_vmmeter, &v, &p)) != 0)
		return rc;
	if (s->s_json) {
		struct json j;
		show_pub_json_begin(&j, s, &p);
		json_u64(&j, "version", vm->vm_version);
		for (size_t i = 0; i < VMM_ARRAY_SIZE(show_vm_fields); i++) {
			const struct show_vm_field *f = &show_vm_fields[i];
			uint64_t x;
			memcpy(&x, (const uint8_t *)vm + f->vf_off, sizeof(x));
			if (f->vf_off + sizeof(x) <= v.sv_filled)
				json_u64(&j, f->vf_key, x);
			else
				json_null(&j, f->vf_key);
		}
		json_end_obj(&j);
		json_done(&j);
		return 0;
	}
	fprintf(s->s_out, "vmmeter snapshot at %" PRIu64 ".%03" PRIu64 " s of guest time%s\n",
	    p.dp_hdr.pub_time_ns / 1000000000u, p.dp_hdr.pub_time_ns / 1000000u % 1000u,
	    p.dp_torn ? " (TORN: the guest was rewriting it; figures may disagree)" : "");
	for (size_t i = 0; i < VMM_ARRAY_SIZE(show_vm_fields); i++) {
		const struct show_vm_field *f = &show_vm_fields[i];
		uint64_t x;
		memcpy(&x, (const uint8_t *)vm + f->vf_off, sizeof(x));
		if (f->vf_off + sizeof(x) <= v.sv_filled)
			fprintf(s->s_out, "%12" PRIu64 " %s\n", x, f->vf_words);
		else
			fprintf(s->s_out, "%12s %s\n", "-", f->vf_words);
	}
	return 0;
}

static void show_name(FILE *f, const char *name, int width, const char *suffix)
{
	int n = (int)strlen(name);

	dump_show_text(f, name, (size_t)n, false);
	fputs(suffix, f);
	for (int i = n + (int)strlen(suffix); i < width; i++)
		putc(' ', f);
}

int dump_show_zones(struct dump_show *s)
{
	struct dump_pub p;
	struct dump_zones z;
	int rc;

	if ((rc = show_pub_load(s, offsetof(struct hc_dump_desc, uma_zones),
	    "UMA zone statistics", show_parse_zones, &z, &p)) != 0)
		return rc;
	if (s->s_json) {
		struct json j;
		show_pub_json_begin(&j, s, &p);
		json_u64(&j, "ncpus", z.dzs_ncpus);
		json_u64(&j, "boot_pages", z.dzs_boot_pages);
		json_u64(&j, "total_pages", z.dzs_total_pages);
		json_arr(&j, "zones");
		for (unsigned i = 0; i < z.dzs_nzones; i++) {
			const struct dump_zone *zn = &z.dzs_zones[i];
			json_obj(&j, NULL);
			json_str(&j, "name", zn->dz_name);
			json_u64(&j, "size", zn->dz_size);
			json_u64(&j, "limit", zn->dz_limit);
			json_u64(&j, "used", zn->dz_used);
			json_u64(&j, "free", zn->dz_free);
			json_u64(&j, "requests", zn->dz_allocs);
			json_u64(&j, "frees", zn->dz_frees);
			json_u64(&j, "fails", zn->dz_fails);
			json_u64(&j, "sleeps", zn->dz_sleeps);
			json_u64(&j, "pcpu_cached", zn->dz_pcpu_cached);
			json_u64(&j, "zone_cached", zn->dz_zone_cached);
			json_u64(&j, "keg_free", zn->dz_keg_free);
			json_u64(&j, "items", zn->dz_items);
			json_u64(&j, "pages", zn->dz_pages);
			json_u64(&j, "flags", zn->dz_flags);
			json_u64(&j, "ipers", zn->dz_ipers);
			json_u64(&j, "ppera", zn->dz_ppera);
			json_u64(&j, "bucket_size", zn->dz_bucket_size);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_end_obj(&j);
		json_done(&j);
	} else {
		show_pub_torn_line(s, &p);
		fprintf(s->s_out, "%-24s %6s %6s %8s %8s %10s %5s %5s %6s\n", "ITEM", "SIZE",
		    "LIMIT", "USED", "FREE", "REQ", "FAIL", "SLEEP", "PCPU");
		for (unsigned i = 0; i < z.dzs_nzones; i++) {
			const struct dump_zone *zn = &z.dzs_zones[i];
			show_name(s->s_out, zn->dz_name, 24, ":");
			fprintf(s->s_out, " %6" PRIu64 ",%6" PRIu64 ",%8" PRIu64 ",%8" PRIu64 ",%10"
			    PRIu64 ",%5" PRIu64 ",%5" PRIu64 ",%6" PRIu64 "\n", zn->dz_size,
			    zn->dz_limit, zn->dz_used, zn->dz_free, zn->dz_allocs, zn->dz_fails,
			    zn->dz_sleeps, zn->dz_pcpu_cached);
		}
	}
	free(z.dzs_zones);
	return 0;
}

/* Size class b (a bit of dm_sizes) of type t: a word ("large", "contig"), or NULL and
 * its bytes in *bytes, 0 when the stream cannot say (no smallest class, or past 2^64). */
static const char *show_size_class(const struct dump_mtype *t, unsigned b, uint64_t *bytes)
{
	*bytes = 0;
	if (b == 62)
		return "large";
	if (b == 63)
		return "contig";
	if (t->dm_class0 != 0 && t->dm_class0 <= (UINT64_MAX >> b))
		*bytes = t->dm_class0 << b;
	return NULL;
}

/* The size classes of a malloc type, "16,32,large", into buf. */
static void show_sizes(const struct dump_mtype *t, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned b = 0; b < 64 && n < len; b++) {
		if (!(t->dm_sizes & (1ull << b)))
			continue;
		const char *sep = n > 0 ? "," : "", *word;
		uint64_t bytes;
		int w;
		if ((word = show_size_class(t, b, &bytes)) != NULL)
			w = snprintf(buf + n, len - n, "%s%s", sep, word);
		else if (bytes != 0)
			w = snprintf(buf + n, len - n, "%s%" PRIu64, sep, bytes);
		else
			w = snprintf(buf + n, len - n, "%s?", sep);
		n += (size_t)w;
	}
}

int dump_show_malloc(struct dump_show *s)
{
	struct dump_pub p;
	struct show_mtypes m;
	char sizes[1400];
	int rc;

	if ((rc = show_pub_load(s, offsetof(struct hc_dump_desc, malloc_types),
	    "malloc type statistics", show_parse_malloc, &m, &p)) != 0)
		return rc;
	const struct dump_mtype *t = m.sm_types;
	unsigned n = m.sm_n;
	if (s->s_json) {
		struct json j;
		show_pub_json_begin(&j, s, &p);
		json_arr(&j, "types");
		for (unsigned i = 0; i < n; i++) {
			json_obj(&j, NULL);
			json_str(&j, "type", t[i].dm_name);
			json_u64(&j, "inuse", t[i].dm_inuse);
			json_u64(&j, "memuse", t[i].dm_memuse);
			json_u64(&j, "requests", t[i].dm_requests);
			json_u64(&j, "failures", t[i].dm_failures);
			json_arr(&j, "sizes");
			for (unsigned b = 0; b < 64; b++) {
				if (!(t[i].dm_sizes & (1ull << b)))
					continue;
				uint64_t bytes;
				const char *word = show_size_class(&t[i], b, &bytes);
				if (word != NULL)
					json_str(&j, NULL, word);
				else if (bytes != 0)
					json_u64(&j, NULL, bytes);
				else
					json_null(&j, NULL);
			}
			json_end_arr(&j);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_end_obj(&j);
		json_done(&j);
	} else {
		show_pub_torn_line(s, &p);
		fprintf(s->s_out, "%24s %8s %8s %10s %5s  %s\n", "Type", "InUse", "MemUse",
		    "Requests", "Fail", "Size(s)");
		for (unsigned i = 0; i < n; i++) {
			int len = (int)strlen(t[i].dm_name);
			for (int k = len; k < 24; k++)
				putc(' ', s->s_out);
			dump_show_text(s->s_out, t[i].dm_name, (size_t)len, false);
			show_sizes(&t[i], sizes, sizeof(sizes));
			fprintf(s->s_out, " %8" PRIu64 " %7" PRIu64 "K %10" PRIu64 " %5" PRIu64
			    "  %s\n", t[i].dm_inuse, t[i].dm_memuse / 1024 +
			    (t[i].dm_memuse % 1024 != 0), t[i].dm_requests, t[i].dm_failures,
			    sizes);
		}
	}
	free(m.sm_types);
	return 0;
}
