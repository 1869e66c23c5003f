/*
 * vm_mmap on the host: one table of cases, each a call with its arguments over a map set
 * up from a string, the return value (-errno, an address or a break) and the map
 * afterwards. The expected values are what Linux 6.18 answered to the same calls
 * (tests/linuxref/mmap_errnos.c; the user range there is [mmap_min_addr, TASK_SIZE),
 * here [PG(16), PG(80))); where we differ by design, the row says what Linux did and why
 * (vm/vm_mmap.c has the list).
 *
 * Map strings: entries "a-b:rwx" in pages from the map's start, then letters: s shared
 * (MAP_SHARED), L user-wired, N/Z/C/H inheritance none/zero, copy on a shared entry,
 * share on a private one (shown only when not the entry's default), R/Q random or
 * sequential advice, m maximum protection equal to the current one (else rwx).
 */
#include <stdio.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "vm/vm_mmap.h"

#define MINA        ((vm_offset_t)16 * PAGE_SIZE)
#define MAXA        ((vm_offset_t)80 * PAGE_SIZE)
#define PG(n)       ((vm_offset_t)(n) * PAGE_SIZE)
#define P(n)        (MINA + PG(n))
#define R           LINUX_PROT_READ
#define RW          (LINUX_PROT_READ | LINUX_PROT_WRITE)
#define RWX         (LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC)
#define AN          (LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS)
#define ANF         (AN | LINUX_MAP_FIXED)
#define TOP         (~(vm_offset_t)0)

enum mm_op { MMAP, MMAP_MAX, MUNMAP, MPROTECT, MADVISE, MINHERIT, MLOCK, MUNLOCK, BRK };

struct mm_case {
	const char *name;
	const char *setup;
	enum mm_op op;
	vm_offset_t addr;
	vm_size_t len;          /* BRK: the break before the call */
	int arg;                /* prot, advice, inheritance; MMAP_MAX: prot */
	int flags;              /* MMAP: flags; MMAP_MAX: flags | maxprot << 24 */
	long want;
	const char *after;
	const char *linux_differs;      /* NULL: Linux answered the same */
};

#define HOLES   "0-2:r-- 2-4:rw- 4-6:--- 8-10:r--"
#define ADV     "0-4:rw- 6-8:rw- 8-10:rw-s"
#define HEAP_START P(32)
#define HEAP_LIMIT P(48)

static const struct mm_case mm_cases[] = {
	/* ---- mmap: errors */
	{ "mmap.len0", "", MMAP, 0, 0, R, AN, -EINVAL, "", NULL },
	{ "mmap.no_anonymous", "", MMAP, 0, PG(1), R, LINUX_MAP_PRIVATE, -EBADF, "", NULL },
	{ "mmap.type0", "", MMAP, 0, PG(1), R, LINUX_MAP_ANONYMOUS, -EINVAL, "", NULL },
	{ "mmap.type_validate", "", MMAP, 0, PG(1), R,
	  LINUX_MAP_SHARED_VALIDATE | LINUX_MAP_ANONYMOUS, -EINVAL, "", NULL },
	{ "mmap.type4", "", MMAP, 0, PG(1), R, 0x4 | LINUX_MAP_ANONYMOUS, -EINVAL, "", NULL },
	{ "mmap.unknown_flag", "", MMAP, P(20), PG(1), R, ANF | 0x200000, -EINVAL, "",
	  "Linux ignores the bit and maps: we refuse what we do not know" },
	{ "mmap.map_32bit", "", MMAP, 0, PG(1), R, AN | LINUX_MAP_32BIT, -EINVAL, "",
	  "Linux maps below 2 GiB: not implemented, refused rather than ignored" },
	{ "mmap.growsdown", "", MMAP, P(10), PG(1), R, ANF | LINUX_MAP_GROWSDOWN, -EINVAL, "",
	  "Linux maps a grow-down stack: not implemented, refused" },
	{ "mmap.len_huge", "", MMAP, 0, (vm_size_t)1 << 50, R, AN, -ENOMEM, "", NULL },
	{ "mmap.len_wraps", "", MMAP, 0, TOP - 100, R, AN, -ENOMEM, "", NULL },
	{ "mmap.fixed_unaligned", "", MMAP, P(0) + 1, PG(1), R, ANF, -EINVAL, "", NULL },
	{ "mmap.fixed_beyond", "", MMAP, MAXA - PG(1), PG(2), R, ANF, -ENOMEM, "", NULL },
	{ "mmap.fixed_overflow", "", MMAP, TOP - PG(1) + 1, PG(2), R, ANF, -ENOMEM, "", NULL },
	{ "mmap.fixed_unaligned_beyond", "", MMAP, MAXA - PG(1) + 1, PG(2), R, ANF, -ENOMEM, "",
	  NULL },
	{ "mmap.fixed_below_min", "", MMAP, 0, PG(1), R, ANF, -EPERM, "",
	  "observed 0 as root (CAP_SYS_RAWIO passes mmap_min_addr); EPERM unprivileged" },
	{ "mmap.noreplace_over", "0-4:rw-", MMAP, P(0), PG(1), R,
	  AN | LINUX_MAP_FIXED_NOREPLACE, -EEXIST, "0-4:rw-", NULL },
	{ "mmap.noreplace_partial", "0-4:rw-", MMAP, P(3), PG(2), R,
	  AN | LINUX_MAP_FIXED_NOREPLACE, -EEXIST, "0-4:rw-", NULL },
	{ "mmap.noreplace_unaligned", "0-4:rw-", MMAP, P(5) + 1, PG(1), R,
	  AN | LINUX_MAP_FIXED_NOREPLACE, -EINVAL, "0-4:rw-", NULL },
	{ "mmap.no_space", "0-60:rw-", MMAP, 0, PG(8), R, AN, -ENOMEM, "0-60:rw-", NULL },
	{ "mmap.beyond_max", "", MMAP_MAX, P(10), PG(1), RW, ANF | (R << 24), -EACCES, "",
	  "Linux: EACCES for a read-only file mapped shared for writing (observed)" },
	/* ---- mmap: success */
	{ "mmap.noreplace_free", "0-4:rw-", MMAP, P(5), PG(1), R,
	  AN | LINUX_MAP_FIXED_NOREPLACE, (long)P(5), "0-4:rw- 5-6:r--", NULL },
	{ "mmap.fixed_replaces", "0-4:rw-", MMAP, P(1), PG(1), R, ANF, (long)P(1),
	  "0-1:rw- 1-2:r-- 2-4:rw-", NULL },
	{ "mmap.fixed_replaces_locked", "0-4:rw-L", MMAP, P(1), PG(1), R, ANF, (long)P(1),
	  "0-1:rw-L 1-2:r-- 2-4:rw-L", NULL },
	{ "mmap.hint_free", "", MMAP, P(10), PG(2), R, AN, (long)P(10), "10-12:r--", NULL },
	{ "mmap.hint_unaligned", "", MMAP, P(10) + 123, PG(1), R, AN, (long)P(10), "10-11:r--",
	  NULL },
	{ "mmap.hint_taken", "10-11:r--", MMAP, P(10), PG(1), R, AN, (long)P(0),
	  "0-1:r-- 10-11:r--", "Linux took a free range top-down from mmap_base: we take the "
	  "lowest" },
	{ "mmap.hint_len_unaligned", "", MMAP, P(10), PG(1) + 1, R, AN, (long)P(10),
	  "10-12:r--", NULL },
	{ "mmap.hint_below_min", "", MMAP, PG(1), PG(1), R, AN, (long)P(0), "0-1:r--", NULL },
	{ "mmap.hint_past_end", "", MMAP, P(63), PG(2), R, AN, (long)P(0), "0-2:r--", NULL },
	{ "mmap.no_hint", "0-1:r--", MMAP, 0, PG(1), RW, AN, (long)P(1), "0-1:r-- 1-2:rw-",
	  NULL },
	{ "mmap.prot_unknown_ignored", "", MMAP, P(10), PG(1), 0x100, ANF, (long)P(10),
	  "10-11:---", NULL },
	{ "mmap.prot_sem", "", MMAP, P(10), PG(1), R | LINUX_PROT_SEM, ANF, (long)P(10),
	  "10-11:r--", NULL },
	{ "mmap.prot_none", "", MMAP, P(10), PG(1), LINUX_PROT_NONE, ANF, (long)P(10),
	  "10-11:---", NULL },
	{ "mmap.prot_exec", "", MMAP, P(10), PG(1), LINUX_PROT_EXEC, ANF, (long)P(10),
	  "10-11:--x", NULL },
	{ "mmap.shared", "", MMAP, P(10), PG(1), RW, LINUX_MAP_SHARED | LINUX_MAP_ANONYMOUS |
	  LINUX_MAP_FIXED, (long)P(10), "10-11:rw-s", NULL },
	{ "mmap.noreserve_populate", "", MMAP, P(10), PG(1), R, ANF | LINUX_MAP_NORESERVE |
	  LINUX_MAP_POPULATE, (long)P(10), "10-11:r--", NULL },
	{ "mmap.hints_accepted", "", MMAP, P(10), PG(1), R, ANF | LINUX_MAP_STACK |
	  LINUX_MAP_NONBLOCK | LINUX_MAP_DENYWRITE | LINUX_MAP_EXECUTABLE, (long)P(10),
	  "10-11:r--", NULL },
	{ "mmap.locked", "", MMAP, P(10), PG(1), RW, ANF | LINUX_MAP_LOCKED, (long)P(10),
	  "10-11:rw-L", NULL },
	{ "mmap.max_given", "", MMAP_MAX, P(10), PG(1), R, ANF | (R << 24), (long)P(10),
	  "10-11:r--m", NULL },

	/* ---- munmap */
	{ "munmap.unaligned", "0-6:rw-", MUNMAP, P(0) + 1, PG(1), 0, 0, -EINVAL, "0-6:rw-", NULL },
	{ "munmap.len0", "0-6:rw-", MUNMAP, P(0), 0, 0, 0, -EINVAL, "0-6:rw-", NULL },
	{ "munmap.unmapped", "0-6:rw-", MUNMAP, P(20), PG(4), 0, 0, 0, "0-6:rw-", NULL },
	{ "munmap.split_three", "0-6:rw-", MUNMAP, P(2), PG(2), 0, 0, 0, "0-2:rw- 4-6:rw-", NULL },
	{ "munmap.len_rounds_up", "0-6:rw-", MUNMAP, P(0), PG(1) + 1, 0, 0, 0, "2-6:rw-", NULL },
	{ "munmap.several", HOLES, MUNMAP, P(1), PG(8), 0, 0, 0, "0-1:r-- 9-10:r--", NULL },
	{ "munmap.below_min", "0-6:rw-", MUNMAP, 0, P(2), 0, 0, 0, "2-6:rw-", NULL },
	{ "munmap.beyond", "0-6:rw-", MUNMAP, MAXA - PG(1), PG(2), 0, 0, -EINVAL, "0-6:rw-",
	  NULL },
	{ "munmap.overflow", "0-6:rw-", MUNMAP, TOP - PG(1) + 1, PG(2), 0, 0, -EINVAL,
	  "0-6:rw-", NULL },
	{ "munmap.len_huge", "0-6:rw-", MUNMAP, P(0), TOP - 100, 0, 0, -EINVAL, "0-6:rw-", NULL },

	/* ---- mprotect */
	{ "mprotect.unaligned", HOLES, MPROTECT, P(0) + 1, PG(1), R, 0, -EINVAL, HOLES, NULL },
	{ "mprotect.len0_unmapped", HOLES, MPROTECT, P(20), 0, R, 0, 0, HOLES, NULL },
	{ "mprotect.len0_unaligned", HOLES, MPROTECT, P(0) + 1, 0, R, 0, -EINVAL, HOLES, NULL },
	{ "mprotect.unmapped", HOLES, MPROTECT, P(20), PG(1), R, 0, -ENOMEM, HOLES, NULL },
	{ "mprotect.overflow", HOLES, MPROTECT, TOP - PG(1) + 1, PG(2), R, 0, -ENOMEM, HOLES,
	  NULL },
	{ "mprotect.beyond", HOLES, MPROTECT, MAXA - PG(1), PG(2), R, 0, -ENOMEM, HOLES, NULL },
	{ "mprotect.below_min", HOLES, MPROTECT, P(0) - PG(1), PG(2), R, 0, -ENOMEM, HOLES,
	  NULL },
	{ "mprotect.bad_prot", HOLES, MPROTECT, P(0), PG(1), 0x100, 0, -EINVAL, HOLES, NULL },
	{ "mprotect.bad_prot_len0", HOLES, MPROTECT, P(0), 0, 0x100, 0, 0, HOLES, NULL },
	{ "mprotect.growsdown", HOLES, MPROTECT, P(0), PG(1), R | LINUX_PROT_GROWSDOWN, 0,
	  -EINVAL, HOLES, NULL },
	{ "mprotect.growsdown_unmapped", HOLES, MPROTECT, P(20), PG(1),
	  R | LINUX_PROT_GROWSDOWN, 0, -ENOMEM, HOLES, NULL },
	{ "mprotect.growsup", HOLES, MPROTECT, P(0), PG(1), R | LINUX_PROT_GROWSUP, 0,
	  -EINVAL, HOLES, NULL },
	{ "mprotect.grows_both", HOLES, MPROTECT, P(0), PG(1), R | LINUX_PROT_GROWSUP |
	  LINUX_PROT_GROWSDOWN, 0, -EINVAL, HOLES, NULL },
	{ "mprotect.sem", HOLES, MPROTECT, P(0), PG(1), R | LINUX_PROT_SEM, 0, 0, HOLES, NULL },
	{ "mprotect.several", HOLES, MPROTECT, P(1), PG(4), RW, 0, 0,
	  "0-1:r-- 1-5:rw- 5-6:--- 8-10:r--", NULL },
	{ "mprotect.hole_tail", HOLES, MPROTECT, P(4), PG(6), R, 0, -ENOMEM, HOLES,
	  "Linux made 4-6 r-- before failing at the hole: we change nothing" },
	{ "mprotect.hole_head", HOLES, MPROTECT, P(7), PG(2), LINUX_PROT_EXEC, 0, -ENOMEM,
	  HOLES, NULL },
	{ "mprotect.len_rounds_up", HOLES, MPROTECT, P(8), PG(1) + 1, LINUX_PROT_NONE, 0, 0,
	  "0-2:r-- 2-4:rw- 4-6:--- 8-10:---", NULL },
	{ "mprotect.beyond_max", "0-2:r--m", MPROTECT, P(0), PG(1), RW, 0, -EACCES, "0-2:r--m",
	  "observed on a read-only file mapped shared" },
	{ "mprotect.beyond_max_later", "0-2:rw- 2-4:r--m", MPROTECT, P(0), PG(4), RWX, 0,
	  -EACCES, "0-2:rw- 2-4:r--m", "Linux would have made 0-2 rwx first" },

	/* ---- madvise */
	{ "madvise.unknown", ADV, MADVISE, P(0), PG(1), 12345, 0, -EINVAL, ADV, NULL },
	{ "madvise.unknown_len0", ADV, MADVISE, P(0), 0, 12345, 0, -EINVAL, ADV, NULL },
	{ "madvise.unaligned", ADV, MADVISE, P(0) + 1, PG(1), 0, 0, -EINVAL, ADV, NULL },
	{ "madvise.len0", ADV, MADVISE, P(20), 0, 0, 0, 0, ADV, NULL },
	{ "madvise.overflow", ADV, MADVISE, TOP - PG(1) + 1, PG(2), 0, 0, -EINVAL, ADV, NULL },
	{ "madvise.len_wraps", ADV, MADVISE, P(0), TOP - 100, 0, 0, -EINVAL, ADV, NULL },
	{ "madvise.unmapped", ADV, MADVISE, P(20), PG(1), 0, 0, -ENOMEM, ADV, NULL },
	{ "madvise.beyond", ADV, MADVISE, MAXA - PG(1), PG(2), LINUX_MADV_DONTNEED, 0, -ENOMEM,
	  ADV, NULL },
	{ "madvise.below_min", ADV, MADVISE, P(0) - PG(2), PG(1), LINUX_MADV_RANDOM, 0,
	  -ENOMEM, ADV, NULL },
	{ "madvise.hole_applies", ADV, MADVISE, P(0), PG(8), LINUX_MADV_RANDOM, 0, -ENOMEM,
	  "0-4:rw-R 6-8:rw-R 8-10:rw-s", NULL },
	{ "madvise.tail_unmapped", ADV, MADVISE, P(8), PG(4), LINUX_MADV_SEQUENTIAL, 0, -ENOMEM,
	  "0-4:rw- 6-8:rw- 8-10:rw-sQ", NULL },
	{ "madvise.normal", "0-4:rw-R", MADVISE, P(0), PG(1), LINUX_MADV_NORMAL, 0, 0,
	  "0-1:rw- 1-4:rw-R", NULL },
	{ "madvise.random", ADV, MADVISE, P(0), PG(1), LINUX_MADV_RANDOM, 0, 0,
	  "0-1:rw-R 1-4:rw- 6-8:rw- 8-10:rw-s", NULL },
	{ "madvise.sequential", ADV, MADVISE, P(0), PG(1), LINUX_MADV_SEQUENTIAL, 0, 0,
	  "0-1:rw-Q 1-4:rw- 6-8:rw- 8-10:rw-s", NULL },
	{ "madvise.willneed", ADV, MADVISE, P(0), PG(1), LINUX_MADV_WILLNEED, 0, 0, ADV, NULL },
	{ "madvise.dontneed", ADV, MADVISE, P(0), PG(1), LINUX_MADV_DONTNEED, 0, 0, ADV, NULL },
	{ "madvise.free", ADV, MADVISE, P(0), PG(1), LINUX_MADV_FREE, 0, 0, ADV, NULL },
	{ "madvise.free_shared", ADV, MADVISE, P(8), PG(1), LINUX_MADV_FREE, 0, -EINVAL, ADV,
	  NULL },
	{ "madvise.dontneed_shared", ADV, MADVISE, P(8), PG(1), LINUX_MADV_DONTNEED, 0, 0, ADV,
	  NULL },
	{ "madvise.dontneed_locked", "0-4:rw-L", MADVISE, P(2), PG(1), LINUX_MADV_DONTNEED, 0,
	  -EINVAL, "0-4:rw-L", NULL },
	{ "madvise.free_locked", "0-4:rw-L", MADVISE, P(2), PG(1), LINUX_MADV_FREE, 0, -EINVAL,
	  "0-4:rw-L", NULL },
	{ "madvise.willneed_locked", "0-4:rw-L", MADVISE, P(2), PG(1), LINUX_MADV_WILLNEED, 0,
	  0, "0-4:rw-L", NULL },
	{ "madvise.dontfork", ADV, MADVISE, P(0), PG(1), LINUX_MADV_DONTFORK, 0, 0,
	  "0-1:rw-N 1-4:rw- 6-8:rw- 8-10:rw-s", NULL },
	{ "madvise.dofork", "0-4:rw-N", MADVISE, P(0), PG(1), LINUX_MADV_DOFORK, 0, 0,
	  "0-1:rw- 1-4:rw-N", NULL },
	{ "madvise.dofork_shared", "8-10:rw-sN", MADVISE, P(8), PG(2), LINUX_MADV_DOFORK, 0, 0,
	  "8-10:rw-s", NULL },
	{ "madvise.dofork_keeps_wipe", "0-4:rw-Z", MADVISE, P(0), PG(4), LINUX_MADV_DOFORK, 0,
	  0, "0-4:rw-Z", NULL },
	{ "madvise.wipeonfork", ADV, MADVISE, P(0), PG(1), LINUX_MADV_WIPEONFORK, 0, 0,
	  "0-1:rw-Z 1-4:rw- 6-8:rw- 8-10:rw-s", NULL },
	{ "madvise.keeponfork", "0-4:rw-Z", MADVISE, P(0), PG(4), LINUX_MADV_KEEPONFORK, 0, 0,
	  "0-4:rw-", NULL },
	{ "madvise.keeponfork_keeps_dontfork", "0-4:rw-N", MADVISE, P(0), PG(4),
	  LINUX_MADV_KEEPONFORK, 0, 0, "0-4:rw-N", NULL },
	{ "madvise.wipeonfork_shared", ADV, MADVISE, P(8), PG(1), LINUX_MADV_WIPEONFORK, 0,
	  -EINVAL, ADV, NULL },
	{ "madvise.dontfork_shared", ADV, MADVISE, P(8), PG(1), LINUX_MADV_DONTFORK, 0, 0,
	  "0-4:rw- 6-8:rw- 8-9:rw-sN 9-10:rw-s", NULL },
	{ "madvise.dontfork_hole", ADV, MADVISE, P(3), PG(4), LINUX_MADV_DONTFORK, 0, -ENOMEM,
	  "0-3:rw- 3-4:rw-N 6-7:rw-N 7-8:rw- 8-10:rw-s", NULL },

	/* ---- minherit (FreeBSD's values, madvise's checks) */
	{ "minherit.bad_value", ADV, MINHERIT, P(0), PG(1), 7, 0, -EINVAL, ADV, NULL },
	{ "minherit.unaligned", ADV, MINHERIT, P(0) + 1, PG(1), VM_INHERIT_NONE, 0, -EINVAL,
	  ADV, NULL },
	{ "minherit.none", ADV, MINHERIT, P(0), PG(2), VM_INHERIT_NONE, 0, 0,
	  "0-2:rw-N 2-4:rw- 6-8:rw- 8-10:rw-s", NULL },
	{ "minherit.share_private", ADV, MINHERIT, P(6), PG(2), VM_INHERIT_SHARE, 0, 0,
	  "0-4:rw- 6-8:rw-H 8-10:rw-s", NULL },
	{ "minherit.copy_shared", ADV, MINHERIT, P(8), PG(2), VM_INHERIT_COPY, 0, 0,
	  "0-4:rw- 6-8:rw- 8-10:rw-sC", NULL },
	{ "minherit.zero_shared", ADV, MINHERIT, P(8), PG(2), VM_INHERIT_ZERO, 0, -EINVAL, ADV,
	  NULL },
	{ "minherit.hole", ADV, MINHERIT, P(0), PG(8), VM_INHERIT_ZERO, 0, -ENOMEM,
	  "0-4:rw-Z 6-8:rw-Z 8-10:rw-s", NULL },

	/* ---- mlock, munlock */
	{ "mlock.unaligned_rounds", "0-4:rw- 6-8:---", MLOCK, P(0) + 1, PG(1), 0, 0, 0,
	  "0-2:rw-L 2-4:rw- 6-8:---", NULL },
	{ "mlock.len0", "0-4:rw-", MLOCK, P(20), 0, 0, 0, 0, "0-4:rw-", NULL },
	{ "mlock.unmapped", "0-4:rw-", MLOCK, P(20), PG(1), 0, 0, -ENOMEM, "0-4:rw-", NULL },
	{ "mlock.hole", "0-4:rw- 6-8:---", MLOCK, P(2), PG(4), 0, 0, -ENOMEM,
	  "0-4:rw- 6-8:---", "Linux locks 2-4 before failing at the hole: we lock nothing" },
	{ "mlock.overflow", "0-4:rw-", MLOCK, TOP - PG(1) + 1, PG(2), 0, 0, -EINVAL, "0-4:rw-",
	  NULL },
	{ "mlock.len_all_ones", "0-4:rw-", MLOCK, P(0), TOP, 0, 0, 0, "0-4:rw-", NULL },
	{ "mlock.below_min", "0-4:rw-", MLOCK, P(0) - PG(1), PG(2), 0, 0, -ENOMEM, "0-4:rw-",
	  NULL },
	{ "mlock.beyond", "0-4:rw-", MLOCK, MAXA - PG(1), PG(2), 0, 0, -ENOMEM, "0-4:rw-", NULL },
	{ "mlock.prot_none", "6-8:---", MLOCK, P(6), PG(2), 0, 0, 0, "6-8:---L",
	  "Linux: ENOMEM (locked, then faulting PROT_NONE in fails); waits for "
	  "vm_mmap_hook_wire_fault" },
	{ "munlock.len0", "0-4:rw-L", MUNLOCK, P(20), 0, 0, 0, 0, "0-4:rw-L", NULL },
	{ "munlock.hole", "0-4:rw-L 6-8:---", MUNLOCK, P(0), PG(8), 0, 0, -ENOMEM,
	  "0-4:rw-L 6-8:---", NULL },
	{ "munlock.not_locked", "0-4:rw-", MUNLOCK, P(0), PG(1), 0, 0, 0, "0-4:rw-", NULL },
	{ "munlock.unmapped", "0-4:rw-", MUNLOCK, P(20), PG(1), 0, 0, -ENOMEM, "0-4:rw-", NULL },
	{ "munlock.middle", "0-4:rw-L", MUNLOCK, P(1), PG(1), 0, 0, 0,
	  "0-1:rw-L 1-2:rw- 2-4:rw-L", NULL },
	{ "munlock.mixed", "0-2:rw-L 2-4:r--", MUNLOCK, P(0), PG(4), 0, 0, 0,
	  "0-2:rw- 2-4:r--", NULL },

	/* ---- brk: heap from page 32, limit page 48; len is the break before the call */
	{ "brk.zero", "", BRK, 0, P(32), 0, 0, (long)P(32), "", NULL },
	{ "brk.below_start", "32-34:rw-", BRK, P(31), P(34), 0, 0, (long)P(34), "32-34:rw-", NULL },
	{ "brk.up", "", BRK, P(35) + 5, P(32), 0, 0, (long)P(35) + 5, "32-36:rw-", NULL },
	{ "brk.up_joins_heap", "32-34:rw-", BRK, P(36), P(34), 0, 0, (long)P(36), "32-36:rw-",
	  NULL },
	{ "brk.up_after_mprotect", "32-34:r--", BRK, P(36), P(34), 0, 0, (long)P(36),
	  "32-34:r-- 34-36:rw-", NULL },
	{ "brk.same_page", "32-36:rw-", BRK, P(35) + 100, P(35) + 5, 0, 0, (long)P(35) + 100,
	  "32-36:rw-", NULL },
	{ "brk.down", "32-36:rw-", BRK, P(33), P(35) + 5, 0, 0, (long)P(33), "32-33:rw-", NULL },
	{ "brk.down_to_start", "32-34:rw-", BRK, P(32), P(34), 0, 0, (long)P(32), "", NULL },
	{ "brk.down_over_other", "32-34:rw- 34-36:r--", BRK, P(33), P(36), 0, 0, (long)P(33),
	  "32-33:rw-", NULL },
	{ "brk.down_unmapped_heap", "", BRK, P(33), P(35), 0, 0, (long)P(35), "", NULL },
	{ "brk.over_mapping", "32-33:rw- 38-39:r--", BRK, P(38), P(33), 0, 0, (long)P(33),
	  "32-33:rw- 38-39:r--", NULL },
	{ "brk.into_guard_page", "32-33:rw- 38-39:r--", BRK, P(37) + 1, P(33), 0, 0,
	  (long)P(33), "32-33:rw- 38-39:r--", NULL },
	{ "brk.up_to_guard_page", "32-33:rw- 38-39:r--", BRK, P(37), P(33), 0, 0, (long)P(37),
	  "32-37:rw- 38-39:r--", NULL },
	{ "brk.beyond_limit", "32-33:rw-", BRK, HEAP_LIMIT + 1, P(33), 0, 0, (long)P(33),
	  "32-33:rw-", NULL },
	{ "brk.at_limit", "", BRK, HEAP_LIMIT, P(32), 0, 0, (long)HEAP_LIMIT, "32-48:rw-", NULL },
};

static struct vm_map map;

/* Set the map up from a map string (the header's legend). */
static void mm_setup(const char *s)
{
	int a, b, n;
	char prot[4], extra[8];

	while (*s == ' ')
		s++;
	while (*s != '\0') {
		extra[0] = '\0';
		n = 0;
		ck_assert_int_ge(sscanf(s, "%d-%d:%3c%n%7[sLNZCHRQm]%n", &a, &b, prot, &n, extra,
		    &n), 3);
		s += n;
		while (*s == ' ')
			s++;
		vm_prot_t p = (prot[0] == 'r' ? VM_PROT_READ : 0) |
		    (prot[1] == 'w' ? VM_PROT_WRITE : 0) | (prot[2] == 'x' ? VM_PROT_EXECUTE : 0);
		bool shared = strchr(extra, 's') != NULL;
		struct vm_map_entry *e;
		vm_map_lock(&map);
		ck_assert_int_eq(vm_map_insert(&map, NULL, 0, P(a), P(b), p,
		    strchr(extra, 'm') != NULL ? p : RWX, shared ? VME_SHARED : 0), 0);
		ck_assert(vm_map_lookup_entry(&map, P(a), &e));
		e->vme_inheritance = shared ? VM_INHERIT_SHARE : VM_INHERIT_COPY;
		if (strchr(extra, 'N') != NULL)
			e->vme_inheritance = VM_INHERIT_NONE;
		if (strchr(extra, 'Z') != NULL)
			e->vme_inheritance = VM_INHERIT_ZERO;
		e->vme_user_wired = strchr(extra, 'L') != NULL;
		e->vme_advice = strchr(extra, 'R') != NULL ? VM_MADV_RANDOM : VM_MADV_NORMAL;
		vm_map_unlock(&map);
	}
}

/* The map as a map string; also checks its invariants. */
static void mm_render(char *buf, size_t size)
{
	char err[256];
	size_t off = 0;

	buf[0] = '\0';
	vm_map_lock(&map);
	const char *why = vm_map_verify(&map, err, sizeof(err));
	ck_assert_msg(why == NULL, "%s", why);
	for (struct vm_map_entry *e = vm_map_first(&map); e != &map.vmap_header;
	    e = e->vme_next) {
		bool shared = (e->vme_eflags & VME_SHARED) != 0;
		vm_inherit_t dflt = shared ? VM_INHERIT_SHARE : VM_INHERIT_COPY;
		off += (size_t)snprintf(buf + off, size - off, "%s%d-%d:%c%c%c%s%s%s%s%s",
		    off != 0 ? " " : "", (int)((e->vme_start - MINA) / PAGE_SIZE),
		    (int)((e->vme_end - MINA) / PAGE_SIZE),
		    (e->vme_protection & VM_PROT_READ) != 0 ? 'r' : '-',
		    (e->vme_protection & VM_PROT_WRITE) != 0 ? 'w' : '-',
		    (e->vme_protection & VM_PROT_EXECUTE) != 0 ? 'x' : '-',
		    shared ? "s" : "", e->vme_user_wired != 0 ? "L" : "",
		    e->vme_inheritance == dflt ? "" :
		    e->vme_inheritance == VM_INHERIT_NONE ? "N" :
		    e->vme_inheritance == VM_INHERIT_ZERO ? "Z" :
		    e->vme_inheritance == VM_INHERIT_COPY ? "C" : "H",
		    e->vme_advice == VM_MADV_RANDOM ? "R" :
		    e->vme_advice == VM_MADV_SEQUENTIAL ? "Q" : "",
		    e->vme_max_protection != RWX ? "m" : "");
		ck_assert_uint_lt(off, size);
	}
	vm_map_unlock(&map);
}

static long mm_call(const struct mm_case *c)
{
	struct vm_brk brk;

	switch (c->op) {
	case MMAP:
		return vm_mmap(&map, c->addr, c->len, c->arg, c->flags);
	case MMAP_MAX:
		return vm_mmap_max(&map, c->addr, c->len, c->arg, (c->flags >> 24) & RWX,
		    c->flags & 0xffffff);
	case MUNMAP:
		return vm_munmap(&map, c->addr, c->len);
	case MPROTECT:
		return vm_mprotect(&map, c->addr, c->len, c->arg);
	case MADVISE:
		return vm_madvise(&map, c->addr, c->len, c->arg);
	case MINHERIT:
		return vm_minherit(&map, c->addr, c->len, c->arg);
	case MLOCK:
		return vm_mlock(&map, c->addr, c->len);
	case MUNLOCK:
		return vm_munlock(&map, c->addr, c->len);
	case BRK:
		vm_brk_init(&brk, HEAP_START, HEAP_LIMIT);
		brk.vb_brk = c->len;
		long rv = (long)vm_brk(&map, &brk, c->addr);
		ck_assert_uint_eq(brk.vb_brk, (vm_offset_t)rv);
		return rv;
	}
	return 0;
}

static void setup(void)
{
	vm_host_boot_default();
	vm_host_set_cpu(0);
	vm_map_init(&map, NULL, MINA, MAXA);
}

static void teardown(void)
{
	vm_map_destroy(&map);
	ck_assert_int_eq(vm_map_entries_allocated(), 0);
}

/* Check hands the row's index as _i. */
START_TEST(mmap_case)
{
	const struct mm_case *c = &mm_cases[_i];
	char got[512];

	mm_setup(c->setup);
	long rv = mm_call(c);
	mm_render(got, sizeof(got));
	ck_assert_msg(rv == c->want, "%s: returned %ld (%#lx), want %ld (%#lx)", c->name, rv,
	    (unsigned long)rv, c->want, (unsigned long)c->want);
	ck_assert_msg(strcmp(got, c->after) == 0, "%s: map \"%s\", want \"%s\"", c->name, got,
	    c->after);
}
END_TEST

/* Every address vm_mmap hands out is a user address: never in [-4095, -1]. */
START_TEST(mmap_then_munmap_all)
{
	long a = vm_mmap(&map, 0, PG(64), RW, AN);
	ck_assert_int_eq(a, (long)P(0));
	ck_assert_int_eq(vm_mmap(&map, 0, PG(1), RW, AN), -ENOMEM);
	ck_assert_int_eq(vm_munmap(&map, (vm_offset_t)a, PG(64)), 0);
	ck_assert_int_eq(map.vmap_nentries, 0);
}
END_TEST

static Suite *vm_mmap_suite(void)
{
	Suite *s = suite_create("vm_mmap");
	TCase *tc = tcase_create("cases");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, mmap_case, 0, (int)(sizeof(mm_cases) / sizeof(mm_cases[0])));
	tcase_add_test(tc, mmap_then_munmap_all);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vm_mmap_suite);
