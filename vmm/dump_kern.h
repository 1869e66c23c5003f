/*
 * The guest kernel's structures in a dump: the descriptor (hc_dump_desc), the layout
 * table (devices/dump_layout.h) and, through it, the process list, each process's map
 * entries and their objects' shadow chains. Every pointer followed is checked: a
 * structure that is not in the dump, a list that loops, an offset past a structure, or
 * more structures than the dump could honestly hold is an error naming what is wrong,
 * and the total work is bounded (DUMP_KERN_BUDGET structure reads and
 * DUMP_KERN_BUDGET_BYTES bytes per context).
 */
#ifndef VMM_DUMP_KERN_H
#define VMM_DUMP_KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/dump_layout.h"
#include "vmm/dump_read.h"

#define DUMP_KERN_MAX_PROCS     65536
#define DUMP_KERN_MAX_ENTRIES   65536   /* per map */
#define DUMP_KERN_MAX_DEPTH     1024    /* shadow chain */
#define DUMP_KERN_MAX_STRUCT    4096    /* bytes of any one structure */
#define DUMP_KERN_BUDGET        (1ul << 20)     /* structure reads per context */
#define DUMP_KERN_BUDGET_BYTES  (256ul << 20)   /* and bytes they copy */
#define DUMP_KERN_COMM_MAX      64
#define DUMP_KERN_HIGH_HALF     0xffff800000000000ull   /* kernel virtual addresses */

/* => the descriptor when the dump has one with the right magic and version, else NULL
 * with "NAME: why" in err. */
const struct hc_dump_desc *dump_desc(const struct dump *d, char *err, size_t errlen);

struct dump_kctx {
	const struct dump *k_dump;
	const struct hc_dump_desc *k_desc;
	uint32_t k_lay[DL_NSLOTS];      /* the layout table, checked */
	unsigned long k_budget;         /* structure reads left */
	unsigned long k_budget_bytes;   /* bytes they may copy */
	char *k_err;
	size_t k_errlen;
};

/*
 * Ready a context: the descriptor and its layout table, every offset checked against
 * the sizes it is within. => 0, or DUMP_EXIT_DATA with the message in err.
 */
int dump_kern_init(struct dump_kctx *k, const struct dump *d, char *err, size_t errlen);

struct dump_proc {
	uint64_t dp_kva;
	int32_t dp_pid;
	int32_t dp_ppid;                /* -1: no parent */
	char dp_comm[DUMP_KERN_COMM_MAX + 1];
	bool dp_zombie;
	uint64_t dp_vmspace;            /* 0: none */
	uint64_t dp_thread;             /* 0: none */
	int32_t dp_tid;
	uint32_t dp_tstate;
	uint64_t dp_faults, dp_majflt;
	uint64_t dp_rss;                /* pages its pmap maps */
	uint64_t dp_swapped;            /* swap pages of the objects its map reaches */
	unsigned dp_nentries;           /* map entries walked */
};

struct dump_entry {
	uint64_t de_kva;
	uint64_t de_start, de_end;
	uint64_t de_object;             /* 0: none */
	uint64_t de_offset;
	int32_t de_prot, de_maxprot;
	uint8_t de_inherit;
	uint32_t de_wired;
	uint8_t de_user_wired;
	uint8_t de_objtype;
	unsigned de_depth;              /* objects behind de_object (its shadow chain) */
	uint64_t de_resident, de_swapped;       /* summed over the object and its chain */
};

/* Every process, in list order (*procs malloc'd). => 0 or DUMP_EXIT_DATA. */
int dump_kern_procs(struct dump_kctx *k, struct dump_proc **procs, unsigned *n);

/* A process's map entries, in address order (*ents malloc'd, NULL when it has no
 * vmspace). => 0 or DUMP_EXIT_DATA. */
int dump_kern_entries(struct dump_kctx *k, const struct dump_proc *p,
    struct dump_entry **ents, unsigned *n);

/* Words for the layout's values: "sleep", "share", "swap"... */
const char *dump_kern_state(const struct dump_kctx *k, const struct dump_proc *p);
const char *dump_kern_inherit(const struct dump_kctx *k, uint8_t v);
const char *dump_kern_objtype(const struct dump_kctx *k, uint8_t v);

#endif /* VMM_DUMP_KERN_H */
