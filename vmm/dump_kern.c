/*
 * Following the guest kernel's structures through a dump by the offsets the guest
 * published (devices/dump_layout.h). Lists are walked with Brent's cycle check, so a
 * loop is found in time linear in its length and reported instead of followed; the
 * shared budget bounds what a hostile file can make us read in all.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/dump_kern.h"
#include "vmm/vmm.h"

static int kern_bad(struct dump_kctx *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int kern_bad(struct dump_kctx *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = dump_verrf(k->k_dump, k->k_err, k->k_errlen, fmt, ap);
	va_end(ap);
	return rc;
}

const struct hc_dump_desc *dump_desc(const struct dump *d, char *err, size_t errlen)
{
	const struct hc_dump_desc *dd = &d->d_desc.ddn_desc;

	if (!d->d_has_desc) {
		dump_errf(d, err, errlen, "the dump has no dump descriptor (the guest registered "
		    "none before it stopped)");
		return NULL;
	}
	if (dd->magic != HC_DUMP_MAGIC || dd->version != HC_DUMP_VERSION) {
		dump_errf(d, err, errlen, "the dump descriptor is corrupt (magic 0x%x, version "
		    "%u; expected 0x%x, %d)", dd->magic, dd->version, HC_DUMP_MAGIC,
		    HC_DUMP_VERSION);
		return NULL;
	}
	return dd;
}

/* Each field: the slot of its struct's size, its offset's slot, its width in bytes. */
struct kern_field {
	enum dump_layout kf_size;
	enum dump_layout kf_off;
	unsigned kf_width;
	const char *kf_name;
};

static const struct kern_field kern_fields[] = {
	{ DL_PROC_SIZE, DL_PROC_PID, 4, "proc.pid" },
	{ DL_PROC_SIZE, DL_PROC_PARENT, 8, "proc.parent" },
	{ DL_PROC_SIZE, DL_PROC_ALLNEXT, 8, "proc.allnext" },
	{ DL_PROC_SIZE, DL_PROC_ZOMBIE, 1, "proc.zombie" },
	{ DL_PROC_SIZE, DL_PROC_VMSPACE, 8, "proc.vmspace" },
	{ DL_PROC_SIZE, DL_PROC_THREAD, 8, "proc.thread" },
	{ DL_PROC_SIZE, DL_PROC_FAULTS, 8, "proc.faults" },
	{ DL_PROC_SIZE, DL_PROC_MAJFLT, 8, "proc.majflt" },
	{ DL_THREAD_SIZE, DL_THREAD_TID, 4, "thread.tid" },
	{ DL_THREAD_SIZE, DL_THREAD_STATE, 4, "thread.state" },
	{ DL_VMSPACE_SIZE, DL_VMSPACE_RESIDENT, 8, "vmspace.resident" },
	{ DL_ENTRY_SIZE, DL_ENTRY_START, 8, "entry.start" },
	{ DL_ENTRY_SIZE, DL_ENTRY_END, 8, "entry.end" },
	{ DL_ENTRY_SIZE, DL_ENTRY_NEXT, 8, "entry.next" },
	{ DL_ENTRY_SIZE, DL_ENTRY_OBJECT, 8, "entry.object" },
	{ DL_ENTRY_SIZE, DL_ENTRY_OFFSET, 8, "entry.offset" },
	{ DL_ENTRY_SIZE, DL_ENTRY_PROT, 4, "entry.protection" },
	{ DL_ENTRY_SIZE, DL_ENTRY_MAXPROT, 4, "entry.max_protection" },
	{ DL_ENTRY_SIZE, DL_ENTRY_INHERIT, 1, "entry.inheritance" },
	{ DL_ENTRY_SIZE, DL_ENTRY_WIRED, 4, "entry.wired" },
	{ DL_ENTRY_SIZE, DL_ENTRY_USER_WIRED, 1, "entry.user_wired" },
	{ DL_OBJ_SIZE, DL_OBJ_PAGES, 8, "object.pages" },
	{ DL_OBJ_SIZE, DL_OBJ_RESIDENT, 8, "object.resident" },
	{ DL_OBJ_SIZE, DL_OBJ_SWAPPED, 8, "object.swapped" },
	{ DL_OBJ_SIZE, DL_OBJ_BACKING, 8, "object.backing" },
	{ DL_OBJ_SIZE, DL_OBJ_BACKING_OFFSET, 8, "object.backing_offset" },
	{ DL_OBJ_SIZE, DL_OBJ_REFCOUNT, 4, "object.refcount" },
	{ DL_OBJ_SIZE, DL_OBJ_TYPE, 1, "object.type" },
};

static int kern_check_layout(struct dump_kctx *k)
{
	const uint32_t *l = k->k_lay;
	static const enum dump_layout sizes[] = { DL_PROC_SIZE, DL_THREAD_SIZE,
		DL_VMSPACE_SIZE, DL_ENTRY_SIZE, DL_OBJ_SIZE };
	static const char *const size_names[] = { "proc", "thread", "vmspace",
		"vm_map_entry", "vm_object" };

	if (l[DL_VERSION] != DL_LAYOUT_VERSION)
		return kern_bad(k, "the layout table has version %u, this vmm reads %d",
		    l[DL_VERSION], DL_LAYOUT_VERSION);
	for (size_t i = 0; i < VMM_ARRAY_SIZE(sizes); i++)
		if (l[sizes[i]] == 0 || l[sizes[i]] > DUMP_KERN_MAX_STRUCT)
			return kern_bad(k, "the layout table gives struct %s %u bytes (corrupt)",
			    size_names[i], l[sizes[i]]);
	for (size_t i = 0; i < VMM_ARRAY_SIZE(kern_fields); i++) {
		const struct kern_field *f = &kern_fields[i];
		if ((uint64_t)l[f->kf_off] + f->kf_width > l[f->kf_size])
			return kern_bad(k, "the layout table puts %s at offset %u, past its "
			    "structure's %u bytes (corrupt)", f->kf_name, l[f->kf_off],
			    l[f->kf_size]);
	}
	if (l[DL_PROC_COMM_LEN] == 0 || l[DL_PROC_COMM_LEN] > DUMP_KERN_COMM_MAX ||
	    (uint64_t)l[DL_PROC_COMM] + l[DL_PROC_COMM_LEN] > l[DL_PROC_SIZE])
		return kern_bad(k, "the layout table puts proc.comm (%u bytes at %u) past the "
		    "structure or over %d bytes (corrupt)", l[DL_PROC_COMM_LEN],
		    l[DL_PROC_COMM], DUMP_KERN_COMM_MAX);
	/* The map is embedded in the vmspace, its header entry in the map. */
	uint64_t hdr = (uint64_t)l[DL_VMSPACE_MAP] + l[DL_MAP_HEADER];
	if (hdr + l[DL_ENTRY_SIZE] > l[DL_VMSPACE_SIZE] ||
	    (uint64_t)l[DL_VMSPACE_MAP] + l[DL_MAP_NENTRIES] + 4 > l[DL_VMSPACE_SIZE])
		return kern_bad(k, "the layout table puts the map header or its entry count "
		    "past struct vmspace's %u bytes (corrupt)", l[DL_VMSPACE_SIZE]);
	return 0;
}

int dump_kern_init(struct dump_kctx *k, const struct dump *d, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	k->k_dump = d;
	k->k_err = err;
	k->k_errlen = errlen;
	k->k_budget = DUMP_KERN_BUDGET;
	k->k_budget_bytes = DUMP_KERN_BUDGET_BYTES;
	if ((k->k_desc = dump_desc(d, err, errlen)) == NULL)
		return DUMP_EXIT_DATA;
	if (k->k_desc->layout == 0)
		return kern_bad(k, "the guest published no layout table");
	if (k->k_desc->layout_count < DL_NSLOTS || k->k_desc->layout_count > 65536)
		return kern_bad(k, "the layout table has %llu slots, expected at least %d "
		    "(corrupt, or an older guest)", (unsigned long long)k->k_desc->layout_count,
		    DL_NSLOTS);
	if (dump_read_pa(d, k->k_desc->layout, k->k_lay, sizeof(k->k_lay)) != 0)
		return kern_bad(k, "the layout table at physical 0x%llx is not in the dump",
		    (unsigned long long)k->k_desc->layout);
	return kern_check_layout(k);
}

/* Read a structure of len bytes at kernel virtual va: through the PT_LOADs, or else
 * the page tables (a page the writer carried under another address). */
static int kern_read(struct dump_kctx *k, uint64_t va, void *buf, size_t len,
    const char *what)
{
	uint64_t bad;

	if (k->k_budget == 0 || k->k_budget_bytes < len)
		return kern_bad(k, "more kernel structures than a dump holds; stopped at %s "
		    "0x%llx (a loop?)", what, (unsigned long long)va);
	k->k_budget--;
	k->k_budget_bytes -= len;
	if (dump_read_kva(k->k_dump, va, buf, len) == 0 ||
	    dump_read_kva_walk(k->k_dump, k->k_desc->kernel_cr3, va, buf, len, &bad) == 0)
		return 0;
	return kern_bad(k, "%s at 0x%llx is not in the dump", what, (unsigned long long)va);
}

static uint64_t kern_u64(const uint8_t *s, uint32_t off)
{
	uint64_t v;
	memcpy(&v, s + off, sizeof(v));
	return v;
}

static uint32_t kern_u32(const uint8_t *s, uint32_t off)
{
	uint32_t v;
	memcpy(&v, s + off, sizeof(v));
	return v;
}

/* Brent's cycle check over a list of addresses: true when cur was seen. */
struct kern_brent {
	uint64_t kb_saved;
	unsigned long kb_power, kb_lam;
};

static bool kern_brent_step(struct kern_brent *b, uint64_t cur)
{
	if (b->kb_power != 0 && cur == b->kb_saved)
		return true;
	if (b->kb_lam == b->kb_power) {
		b->kb_saved = cur;
		b->kb_power = b->kb_power == 0 ? 1 : b->kb_power * 2;
		b->kb_lam = 0;
	}
	b->kb_lam++;
	return false;
}

struct kern_obj {
	uint64_t ko_resident, ko_swapped, ko_backing;
	uint8_t ko_type;
};

static int kern_obj_read(struct dump_kctx *k, uint64_t va, struct kern_obj *o)
{
	uint8_t buf[DUMP_KERN_MAX_STRUCT];
	const uint32_t *l = k->k_lay;
	int rc;

	if ((rc = kern_read(k, va, buf, l[DL_OBJ_SIZE], "a vm_object")) != 0)
		return rc;
	o->ko_resident = kern_u64(buf, l[DL_OBJ_RESIDENT]);
	o->ko_swapped = kern_u64(buf, l[DL_OBJ_SWAPPED]);
	o->ko_backing = kern_u64(buf, l[DL_OBJ_BACKING]);
	o->ko_type = buf[l[DL_OBJ_TYPE]];
	return 0;
}

/*
 * Walk the shadow chain from obj: its depth (objects behind obj) and sums. When objs is
 * not NULL, append every object's address to it (room: DUMP_KERN_MAX_DEPTH + 1).
 */
static int kern_chain(struct dump_kctx *k, uint64_t obj, struct dump_entry *e,
    uint64_t *objs, unsigned *nobjs)
{
	struct kern_brent b = { 0, 0, 0 };
	unsigned n = 0;
	int rc;

	for (uint64_t va = obj; va != 0; n++) {
		struct kern_obj o;
		if (kern_brent_step(&b, va))
			return kern_bad(k, "the shadow chain of object 0x%llx loops at 0x%llx "
			    "(corrupt)", (unsigned long long)obj, (unsigned long long)va);
		if (n > DUMP_KERN_MAX_DEPTH)
			return kern_bad(k, "the shadow chain of object 0x%llx is deeper than %d "
			    "(corrupt)", (unsigned long long)obj, DUMP_KERN_MAX_DEPTH);
		if ((rc = kern_obj_read(k, va, &o)) != 0)
			return rc;
		if (n == 0)
			e->de_objtype = o.ko_type;
		e->de_resident += o.ko_resident;
		e->de_swapped += o.ko_swapped;
		if (objs != NULL)
			objs[(*nobjs)++] = va;
		va = o.ko_backing;
	}
	e->de_depth = n > 0 ? n - 1 : 0;
	return 0;
}

int dump_kern_entries(struct dump_kctx *k, const struct dump_proc *p,
    struct dump_entry **ents, unsigned *n)
{
	const uint32_t *l = k->k_lay;
	uint8_t buf[DUMP_KERN_MAX_STRUCT];
	struct dump_entry *v = NULL;
	unsigned cap = 0, cnt = 0;
	struct kern_brent b = { 0, 0, 0 };
	int rc;

	*ents = NULL;
	*n = 0;
	if (p->dp_vmspace == 0)
		return 0;
	uint64_t hdr = p->dp_vmspace + l[DL_VMSPACE_MAP] + l[DL_MAP_HEADER];
	if (hdr < p->dp_vmspace)
		return kern_bad(k, "process %d's vmspace address 0x%llx wraps (corrupt)",
		    p->dp_pid, (unsigned long long)p->dp_vmspace);
	if ((rc = kern_read(k, hdr, buf, l[DL_ENTRY_SIZE], "a map header")) != 0)
		return rc;
	for (uint64_t va = kern_u64(buf, l[DL_ENTRY_NEXT]); va != hdr;) {
		if (va == 0) {
			rc = kern_bad(k, "process %d's map entry list ends in NULL, not at its "
			    "header (corrupt)", p->dp_pid);
			goto fail;
		}
		if (kern_brent_step(&b, va)) {
			rc = kern_bad(k, "process %d's map entry list loops at 0x%llx without "
			    "returning to its header (corrupt)", p->dp_pid,
			    (unsigned long long)va);
			goto fail;
		}
		if (cnt == DUMP_KERN_MAX_ENTRIES) {
			rc = kern_bad(k, "process %d's map has more than %d entries (corrupt)",
			    p->dp_pid, DUMP_KERN_MAX_ENTRIES);
			goto fail;
		}
		if ((rc = kern_read(k, va, buf, l[DL_ENTRY_SIZE], "a map entry")) != 0)
			goto fail;
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			struct dump_entry *nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = vmm_errf(k->k_err, k->k_errlen, VMM_EXIT_HOST, "out of memory");
				goto fail;
			}
			v = nv;
		}
		struct dump_entry *e = &v[cnt++];
		memset(e, 0, sizeof(*e));
		e->de_kva = va;
		e->de_start = kern_u64(buf, l[DL_ENTRY_START]);
		e->de_end = kern_u64(buf, l[DL_ENTRY_END]);
		e->de_object = kern_u64(buf, l[DL_ENTRY_OBJECT]);
		e->de_offset = kern_u64(buf, l[DL_ENTRY_OFFSET]);
		e->de_prot = (int32_t)kern_u32(buf, l[DL_ENTRY_PROT]);
		e->de_maxprot = (int32_t)kern_u32(buf, l[DL_ENTRY_MAXPROT]);
		e->de_inherit = buf[l[DL_ENTRY_INHERIT]];
		e->de_wired = kern_u32(buf, l[DL_ENTRY_WIRED]);
		e->de_user_wired = buf[l[DL_ENTRY_USER_WIRED]];
		va = kern_u64(buf, l[DL_ENTRY_NEXT]);
		if ((rc = kern_chain(k, e->de_object, e, NULL, NULL)) != 0)
			goto fail;
	}
	*ents = v;
	*n = cnt;
	return 0;
fail:
	free(v);
	return rc;
}

static int kern_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* RSS and swapped pages: each object its entries reach counted once, however many
 * entries or chains share it. */
static int kern_proc_vm(struct dump_kctx *k, struct dump_proc *p)
{
	struct dump_entry *ents;
	unsigned n;
	uint8_t buf[DUMP_KERN_MAX_STRUCT];
	int rc;

	if (p->dp_vmspace == 0)
		return 0;
	if ((rc = kern_read(k, p->dp_vmspace, buf, k->k_lay[DL_VMSPACE_SIZE],
	    "a vmspace")) != 0)
		return rc;
	p->dp_rss = kern_u64(buf, k->k_lay[DL_VMSPACE_RESIDENT]);
	if ((rc = dump_kern_entries(k, p, &ents, &n)) != 0)
		return rc;
	p->dp_nentries = n;
	uint64_t *objs = NULL;
	unsigned nobjs = 0;
	for (unsigned i = 0; i < n; i++) {
		if (ents[i].de_object == 0)
			continue;
		uint64_t *no = realloc(objs, (nobjs + DUMP_KERN_MAX_DEPTH + 2) * sizeof(*objs));
		if (no == NULL) {
			rc = vmm_errf(k->k_err, k->k_errlen, VMM_EXIT_HOST, "out of memory");
			break;
		}
		objs = no;
		struct dump_entry tmp = { 0 };
		if ((rc = kern_chain(k, ents[i].de_object, &tmp, objs, &nobjs)) != 0)
			break;
	}
	if (rc == 0 && nobjs > 0) {
		qsort(objs, nobjs, sizeof(*objs), kern_u64_cmp);
		for (unsigned i = 0; i < nobjs && rc == 0; i++) {
			struct kern_obj o;
			if (i > 0 && objs[i] == objs[i - 1])
				continue;
			if ((rc = kern_obj_read(k, objs[i], &o)) == 0)
				p->dp_swapped += o.ko_swapped;
		}
	}
	free(objs);
	free(ents);
	return rc;
}

static int kern_proc_read(struct dump_kctx *k, uint64_t va, struct dump_proc *p,
    uint64_t *next)
{
	const uint32_t *l = k->k_lay;
	uint8_t buf[DUMP_KERN_MAX_STRUCT];
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = kern_read(k, va, buf, l[DL_PROC_SIZE], "a proc")) != 0)
		return rc;
	p->dp_kva = va;
	p->dp_pid = (int32_t)kern_u32(buf, l[DL_PROC_PID]);
	memcpy(p->dp_comm, buf + l[DL_PROC_COMM], l[DL_PROC_COMM_LEN]);
	p->dp_comm[l[DL_PROC_COMM_LEN]] = '\0';
	p->dp_zombie = buf[l[DL_PROC_ZOMBIE]] != 0;
	p->dp_vmspace = kern_u64(buf, l[DL_PROC_VMSPACE]);
	p->dp_thread = kern_u64(buf, l[DL_PROC_THREAD]);
	p->dp_faults = kern_u64(buf, l[DL_PROC_FAULTS]);
	p->dp_majflt = kern_u64(buf, l[DL_PROC_MAJFLT]);
	*next = kern_u64(buf, l[DL_PROC_ALLNEXT]);
	uint64_t parent = kern_u64(buf, l[DL_PROC_PARENT]);
	p->dp_ppid = -1;
	if (parent != 0) {
		if ((rc = kern_read(k, parent, buf, l[DL_PROC_SIZE], "a parent proc")) != 0)
			return rc;
		p->dp_ppid = (int32_t)kern_u32(buf, l[DL_PROC_PID]);
	}
	if (p->dp_thread != 0) {
		if ((rc = kern_read(k, p->dp_thread, buf, l[DL_THREAD_SIZE], "a thread")) != 0)
			return rc;
		p->dp_tid = (int32_t)kern_u32(buf, l[DL_THREAD_TID]);
		p->dp_tstate = kern_u32(buf, l[DL_THREAD_STATE]);
	}
	return kern_proc_vm(k, p);
}

int dump_kern_procs(struct dump_kctx *k, struct dump_proc **procs, unsigned *n)
{
	struct dump_proc *v = NULL;
	unsigned cap = 0, cnt = 0;
	struct kern_brent b = { 0, 0, 0 };
	uint64_t va;
	int rc;

	*procs = NULL;
	*n = 0;
	if (k->k_desc->allproc == 0)
		return kern_bad(k, "the guest published no process list (allproc)");
	/* A physical address, as every descriptor field; one in the kernel's half is taken
	 * for the variable's virtual address (the field's comment calls it a variable). */
	uint64_t head = k->k_desc->allproc;
	if (head >= DUMP_KERN_HIGH_HALF ? kern_read(k, head, &va, sizeof(va),
	    "the process list head") != 0 :
	    dump_read_pa(k->k_dump, head, &va, sizeof(va)) != 0)
		return kern_bad(k, "the process list head at 0x%llx is not in the dump",
		    (unsigned long long)head);
	while (va != 0) {
		if (kern_brent_step(&b, va)) {
			rc = kern_bad(k, "the process list loops at 0x%llx (corrupt)",
			    (unsigned long long)va);
			goto fail;
		}
		if (cnt == DUMP_KERN_MAX_PROCS) {
			rc = kern_bad(k, "more than %d processes (corrupt)", DUMP_KERN_MAX_PROCS);
			goto fail;
		}
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			struct dump_proc *nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = vmm_errf(k->k_err, k->k_errlen, VMM_EXIT_HOST, "out of memory");
				goto fail;
			}
			v = nv;
		}
		if ((rc = kern_proc_read(k, va, &v[cnt], &va)) != 0)
			goto fail;
		cnt++;
	}
	*procs = v;
	*n = cnt;
	return 0;
fail:
	free(v);
	return rc;
}

const char *dump_kern_state(const struct dump_kctx *k, const struct dump_proc *p)
{
	const uint32_t *l = k->k_lay;

	if (p->dp_zombie)
		return "zombie";
	if (p->dp_thread == 0)
		return "nothread";
	if (p->dp_tstate == l[DL_TDS_RUNNING])
		return "run";
	if (p->dp_tstate == l[DL_TDS_RUNQ])
		return "runq";
	if (p->dp_tstate == l[DL_TDS_SLEEPING])
		return "sleep";
	if (p->dp_tstate == l[DL_TDS_INACTIVE])
		return "new";
	if (p->dp_tstate == l[DL_TDS_DEAD])
		return "dead";
	return "?";
}

const char *dump_kern_inherit(const struct dump_kctx *k, uint8_t v)
{
	const uint32_t *l = k->k_lay;

	if (v == l[DL_INHERIT_SHARE])
		return "share";
	if (v == l[DL_INHERIT_COPY])
		return "copy";
	if (v == l[DL_INHERIT_NONE])
		return "none";
	if (v == l[DL_INHERIT_ZERO])
		return "zero";
	return "?";
}

const char *dump_kern_objtype(const struct dump_kctx *k, uint8_t v)
{
	const uint32_t *l = k->k_lay;

	if (v == l[DL_OBJT_DEFAULT])
		return "default";
	if (v == l[DL_OBJT_SWAP])
		return "swap";
	if (v == l[DL_OBJT_DEVICE])
		return "device";
	if (v == l[DL_OBJT_PHYS])
		return "phys";
	return "?";
}
