/*
 * A synthetic dump in the format of vmm/dump_format.h, built with libelf, for the dump
 * reader's tests and the fuzzer's seeds. What it holds (every value a test checks is
 * named here):
 *
 *  - PT_LOAD "kernel image": KERNBASE + 0x100000 -> physical 0x100000, 0x6000 bytes: the
 *    descriptor, the layout table, allproc, the vmmeter / UMA / malloc snapshots, a
 *    msgbuf that has wrapped. The page tables map it through one 2 MiB page.
 *  - PT_LOAD "direct map": DMAP + 0x400000 -> 0x400000, 0x8000 bytes (the page tables,
 *    then procs, threads, vmspaces, map entries, objects), and DMAP + 0x40a000 ->
 *    0x40a000, one page (more objects). 4 KiB pages: DMAP + 0x408000 is mapped but not
 *    dumped, DMAP + 0x409000 not mapped; DMAP + 1 GiB is a 1 GiB page not dumped.
 *  - Processes: 1 "init" (sleeping, 2 entries: text with a lone object, data with a
 *    two-deep shadow chain), 2 "worker" (running, parent 1, 1 entry whose chain shares
 *    init's), 3 "defunct" (zombie, no vmspace).
 */
#ifndef TESTS_UNIT_DUMP_FIXTURE_H
#define TESTS_UNIT_DUMP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DF_KERNBASE         0xffffffff80000000ull
#define DF_DMAP             0xffff808000000000ull
#define DF_CR3              0x400000ull
#define DF_KIMG_PA          0x100000ull
#define DF_KIMG_SIZE        0x6000ull
#define DF_D1_PA            0x400000ull
#define DF_D1_SIZE          0x8000ull
#define DF_D2_PA            0x40a000ull
#define DF_MISSING_PA       0x408000ull     /* mapped, not in the dump */
#define DF_UNMAPPED_PA      0x409000ull     /* not mapped */
#define DF_GIGPAGE_VA       (DF_DMAP + (1ull << 30))

#define DF_DESC_PA          0x100000ull
#define DF_MSGBUF_PA        0x101000ull
#define DF_MSGBUF_SIZE      16384u
#define DF_MSGBUF_LINES     600             /* of DF_MSGBUF_LINE_LEN bytes: it wrapped */
#define DF_MSGBUF_LINE_LEN  40

#define DF_MEM_SIZE         (64ull << 20)
#define DF_RIP              0xffffffff80100abcull
#define DF_MESSAGE          "debug.panic requested"

/* The vmmeter's values. */
#define DF_V_FREE           1000u
#define DF_V_ACTIVE         2000u
#define DF_V_INACTIVE       300u
#define DF_V_LAUNDRY        40u
#define DF_V_WIRE           500u
#define DF_V_ZERO           100u
#define DF_V_FAULTS         12345u
#define DF_V_PAGEINS        77u
#define DF_V_PAGEOUTS       88u
#define DF_V_SWAP_PAGES     65536u
#define DF_V_SWAP_USED      1234u

struct dump_fixture_opts {
	bool df_proc_loop;      /* the process list loops (3 -> 2) */
	bool df_entry_loop;     /* init's map entries loop without reaching the header */
	bool df_layout_past;    /* proc.pid's offset past struct proc */
	bool df_chain_loop;     /* an object shadows itself through its backing */
	bool df_no_desc;        /* no NT_VMM_DESC note */
	bool df_torn_vmmeter;   /* the vmmeter's pub_seq is odd */
	bool df_empty_vmmeter;  /* the vmmeter's pub_seq is 0 */
	bool df_notes_align8;   /* the PT_NOTE says p_align 8 (records padded to 8) */
	bool df_allproc_kva;    /* desc.allproc is the variable's kernel virtual address */
	bool df_malloc_no_class0;       /* the malloc type "temp" says no smallest size class */
};

/* The dump as bytes (*buf malloc'd). => 0, or -1 (libelf or I/O failed). */
int dump_fixture_build(const struct dump_fixture_opts *o, uint8_t **buf, size_t *len);

/* The dump written to path. => 0 or -1. */
int dump_fixture_write(const struct dump_fixture_opts *o, const char *path);

/* Line i of the msgbuf's text (DF_MSGBUF_LINE_LEN bytes with its newline) into line. */
void dump_fixture_msgbuf_line(unsigned i, char line[DF_MSGBUF_LINE_LEN + 1]);

#endif /* TESTS_UNIT_DUMP_FIXTURE_H */
