/*
 * Runs the calls of tests/unit/test_vm_mmap.c's case table against the real Linux kernel
 * (mmap, munmap, mprotect, madvise, mlock, munlock, brk on a reserved region) and prints
 * each return value or errno, and the region's mappings afterwards, so that the table's
 * expected values are observed rather than remembered. A host tool, not part of any build:
 *
 *   cc -O1 -o /tmp/mmap_errnos tests/linuxref/mmap_errnos.c && /tmp/mmap_errnos
 *
 * Addresses are printed in pages from the region's base ("p3" is base + 3 pages).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define P 4096ul
#define NPG 64
#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif
#define TASK_SIZE ((1ul << 47) - P)     /* x86-64, 4-level paging */

static char *B;

static void state(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	printf("   [");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long s, e;
		char perm[8];
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perm) != 3)
			continue;
		if (e <= (unsigned long)B || s >= (unsigned long)B + NPG * P)
			continue;
		printf(" p%ld-p%ld:%s", (long)(s - (unsigned long)B) / (long)P,
		    (long)(e - (unsigned long)B) / (long)P, perm);
	}
	printf(" ]\n");
	if (f != NULL)
		fclose(f);
}

static void reset(void)
{
	munlock(B, NPG * P);
	munmap(B, NPG * P);
}

static void map(int from, int to, int prot, int flags)
{
	void *p = mmap(B + from * P, (to - from) * P, prot, flags | MAP_FIXED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED) {
		perror("setup mmap");
		exit(1);
	}
}

static void show(const char *name, long rv)
{
	if (rv == -1)
		printf("%-36s -1 %s (%d)", name, strerrorname_np(errno), errno);
	else if ((unsigned long)rv >= (unsigned long)B && (unsigned long)rv < (unsigned long)B + NPG * P)
		printf("%-36s p%ld", name, (long)((unsigned long)rv - (unsigned long)B) / (long)P);
	else
		printf("%-36s %#lx", name, (unsigned long)rv);
	state();
}

#define MM(name, a, l, prot, fl) show(name, (long)mmap((void *)(a), (l), (prot), (fl), -1, 0))
#define AN (MAP_PRIVATE | MAP_ANONYMOUS)

int main(void)
{
	B = mmap(NULL, NPG * P, PROT_NONE, AN, -1, 0);
	reset();
	printf("base %p\n", (void *)B);

	/* mmap */
	MM("mmap.len0", 0, 0, PROT_READ, AN);
	MM("mmap.noanon", 0, P, PROT_READ, MAP_PRIVATE);
	MM("mmap.type0", 0, P, PROT_READ, MAP_ANONYMOUS);
	MM("mmap.type_validate", 0, P, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS);
	MM("mmap.type4", 0, P, PROT_READ, 0x4 | MAP_ANONYMOUS);
	MM("mmap.unknown_flag_0x200000", B + 20 * P, P, PROT_READ, AN | MAP_FIXED | 0x200000); reset();
	MM("mmap.len_huge", 0, 1ul << 50, PROT_READ, AN);
	MM("mmap.len_wraps", 0, ~0ul - 100, PROT_READ, AN);
	MM("mmap.fixed_unaligned", B + 1, P, PROT_READ, AN | MAP_FIXED);
	MM("mmap.fixed_beyond", TASK_SIZE - P, 2 * P, PROT_READ, AN | MAP_FIXED);
	MM("mmap.fixed_overflow", ~0ul - P + 1, 2 * P, PROT_READ, AN | MAP_FIXED);
	MM("mmap.fixed_unaligned_beyond", TASK_SIZE - P + 1, 2 * P, PROT_READ, AN | MAP_FIXED);
	MM("mmap.fixed_zero", 0, P, PROT_READ, AN | MAP_FIXED);
	map(0, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	MM("mmap.noreplace_over", B, P, PROT_READ, AN | MAP_FIXED_NOREPLACE);
	MM("mmap.noreplace_partial", B + 3 * P, 2 * P, PROT_READ, AN | MAP_FIXED_NOREPLACE);
	MM("mmap.noreplace_unaligned", B + 5 * P + 1, P, PROT_READ, AN | MAP_FIXED_NOREPLACE);
	MM("mmap.noreplace_free", B + 5 * P, P, PROT_READ, AN | MAP_FIXED_NOREPLACE);
	MM("mmap.fixed_replace", B + P, P, PROT_READ, AN | MAP_FIXED);
	reset();
	MM("mmap.hint_free", B + 10 * P, 2 * P, PROT_READ, AN); reset();
	MM("mmap.hint_unaligned", B + 10 * P + 123, P, PROT_READ, AN); reset();
	map(10, 11, PROT_READ, MAP_PRIVATE);
	MM("mmap.hint_taken(not p10)", B + 10 * P, P, PROT_READ, AN); reset();
	MM("mmap.hint_len_unaligned", B + 10 * P, P + 1, PROT_READ, AN); reset();
	MM("mmap.prot_0x100", B + 10 * P, P, 0x100, AN | MAP_FIXED); reset();
	MM("mmap.prot_sem", B + 10 * P, P, PROT_READ | PROT_SEM, AN | MAP_FIXED); reset();
	MM("mmap.prot_none", B + 10 * P, P, PROT_NONE, AN | MAP_FIXED); reset();
	MM("mmap.prot_exec", B + 10 * P, P, PROT_EXEC, AN | MAP_FIXED); reset();
	MM("mmap.shared", B + 10 * P, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED); reset();
	MM("mmap.noreserve_populate", B + 10 * P, P, PROT_READ, AN | MAP_FIXED | MAP_NORESERVE | MAP_POPULATE); reset();
	MM("mmap.growsdown", B + 10 * P, P, PROT_READ, AN | MAP_FIXED | MAP_GROWSDOWN); reset();
	MM("mmap.32bit(no fixed)", 0, P, PROT_READ, AN | MAP_32BIT);

	/* munmap */
	map(0, 6, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	show("munmap.unaligned", munmap(B + 1, P));
	show("munmap.len0", munmap(B, 0));
	show("munmap.unmapped", munmap(B + 20 * P, 4 * P));
	show("munmap.split_three", munmap(B + 2 * P, 2 * P));
	show("munmap.len_rounds_up", munmap(B, P + 1));
	show("munmap.beyond", munmap((void *)(TASK_SIZE - P), 2 * P));
	show("munmap.overflow", munmap((void *)(~0ul - P + 1), 2 * P));
	show("munmap.len_huge", munmap(B, ~0ul - 100));
	reset();

	/* mprotect */
	map(0, 2, PROT_READ, MAP_PRIVATE);
	map(2, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	map(4, 6, PROT_NONE, MAP_PRIVATE);
	map(8, 10, PROT_READ, MAP_PRIVATE);
	show("mprotect.unaligned", mprotect(B + 1, P, PROT_READ));
	show("mprotect.len0_unmapped", mprotect(B + 20 * P, 0, PROT_READ));
	show("mprotect.len0_unaligned", mprotect(B + 1, 0, PROT_READ));
	show("mprotect.unmapped", mprotect(B + 20 * P, P, PROT_READ));
	show("mprotect.overflow", mprotect((void *)(~0ul - P + 1), 2 * P, PROT_READ));
	show("mprotect.beyond", mprotect((void *)(TASK_SIZE - P), 2 * P, PROT_READ));
	show("mprotect.bad_prot", mprotect(B, P, 0x100));
	show("mprotect.bad_prot_len0", mprotect(B, 0, 0x100));
	show("mprotect.growsdown", mprotect(B, P, PROT_READ | PROT_GROWSDOWN));
	show("mprotect.sem", mprotect(B, P, PROT_READ | PROT_SEM));
	show("mprotect.several", mprotect(B + P, 4 * P, PROT_READ | PROT_WRITE));
	show("mprotect.hole_tail(partial)", mprotect(B + 4 * P, 6 * P, PROT_READ));
	show("mprotect.hole_head", mprotect(B + 7 * P, 2 * P, PROT_EXEC));
	show("mprotect.len_rounds_up", mprotect(B + 8 * P, P + 1, PROT_NONE));
	{
		int fd = open("/proc/self/exe", O_RDONLY);
		void *f = mmap(B + 30 * P, P, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
		show("mmap.file_ro_shared_write", (long)mmap(B + 31 * P, P, PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0));
		show("mprotect.beyond_max(EACCES)", f == MAP_FAILED ? -2 : mprotect(f, P, PROT_READ | PROT_WRITE));
		close(fd);
	}
	reset();

	/* madvise */
	map(0, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	map(6, 8, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	map(8, 10, PROT_READ | PROT_WRITE, MAP_SHARED);
	show("madvise.unknown", madvise(B, P, 12345));
	show("madvise.unknown_len0", madvise(B, 0, 12345));
	show("madvise.unaligned", madvise(B + 1, P, MADV_NORMAL));
	show("madvise.len0", madvise(B + 20 * P, 0, MADV_NORMAL));
	show("madvise.overflow", madvise((void *)(~0ul - P + 1), 2 * P, MADV_NORMAL));
	show("madvise.len_wraps", madvise(B, ~0ul - 100, MADV_NORMAL));
	show("madvise.unmapped", madvise(B + 20 * P, P, MADV_NORMAL));
	show("madvise.hole", madvise(B, 8 * P, MADV_RANDOM));
	show("madvise.tail_unmapped", madvise(B + 8 * P, 4 * P, MADV_NORMAL));
	show("madvise.normal", madvise(B, P, MADV_NORMAL));
	show("madvise.random", madvise(B, P, MADV_RANDOM));
	show("madvise.sequential", madvise(B, P, MADV_SEQUENTIAL));
	show("madvise.willneed", madvise(B, P, MADV_WILLNEED));
	show("madvise.dontneed", madvise(B, P, MADV_DONTNEED));
	show("madvise.free", madvise(B, P, MADV_FREE));
	show("madvise.free_shared", madvise(B + 8 * P, P, MADV_FREE));
	show("madvise.dontneed_shared", madvise(B + 8 * P, P, MADV_DONTNEED));
	show("madvise.dontfork", madvise(B, P, MADV_DONTFORK));
	show("madvise.dofork", madvise(B, P, MADV_DOFORK));
	show("madvise.wipeonfork", madvise(B, P, MADV_WIPEONFORK));
	show("madvise.keeponfork", madvise(B, P, MADV_KEEPONFORK));
	show("madvise.wipeonfork_shared", madvise(B + 8 * P, P, MADV_WIPEONFORK));
	show("madvise.dontfork_shared", madvise(B + 8 * P, P, MADV_DONTFORK));
	show("mlock.setup", mlock(B + 2 * P, P));
	show("madvise.dontneed_locked", madvise(B + 2 * P, P, MADV_DONTNEED));
	show("madvise.free_locked", madvise(B + 2 * P, P, MADV_FREE));
	show("madvise.willneed_locked", madvise(B + 2 * P, P, MADV_WILLNEED));
	show("madvise.dontneed_hole_then_locked", madvise(B + 3 * P, 4 * P, MADV_DONTNEED));
	show("madvise.dontfork_hole", madvise(B + 3 * P, 4 * P, MADV_DONTFORK));
	show("madvise.dontneed_beyond", madvise((void *)(TASK_SIZE - P), 2 * P, MADV_DONTNEED));
	reset();

	/* mlock / munlock */
	map(0, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	map(6, 8, PROT_NONE, MAP_PRIVATE);
	show("mlock.unaligned", mlock(B + 1, P));
	show("mlock.len0", mlock(B + 20 * P, 0));
	show("mlock.unmapped", mlock(B + 20 * P, P));
	show("mlock.hole(partial?)", mlock(B + 2 * P, 4 * P));
	show("mlock.overflow", mlock((void *)(~0ul - P + 1), 2 * P));
	show("mlock.len_all_ones", mlock(B, ~0ul));
	show("mlock.prot_none", mlock(B + 6 * P, 2 * P));
	show("munlock.unlocked", munlock(B + 20 * P, 0));
	show("munlock.hole", munlock(B, 8 * P));
	show("munlock.not_locked", munlock(B, P));
	show("munlock.unmapped", munlock(B + 20 * P, P));
	reset();

	/* brk: raw system calls, restored at the end (glibc's malloc caches the break). */
	{
		long r[8];
		unsigned long cur = (unsigned long)syscall(SYS_brk, 0);
		unsigned long top = (cur + P - 1) & ~(P - 1);
		r[0] = syscall(SYS_brk, 0) == (long)cur;
		r[1] = syscall(SYS_brk, cur + 3 * P + 5) == (long)(cur + 3 * P + 5);    /* up */
		r[2] = syscall(SYS_brk, cur + P) == (long)(cur + P);                    /* down */
		/* a mapping 2 pages above the page-rounded break + 4 pages */
		void *m = mmap((void *)(top + 6 * P), P, PROT_READ, AN | MAP_FIXED_NOREPLACE, -1, 0);
		r[3] = m != MAP_FAILED;
		r[4] = syscall(SYS_brk, top + 6 * P);           /* over the mapping */
		r[5] = syscall(SYS_brk, top + 5 * P);           /* up to its guard page */
		r[6] = syscall(SYS_brk, top + 5 * P - 1);       /* one page below it */
		r[7] = syscall(SYS_brk, cur - 100 * P);         /* below the start? (start unknown) */
		syscall(SYS_brk, cur);
		munmap(m, P);
		printf("brk.zero_returns_current %ld\nbrk.up %ld\nbrk.down %ld\nbrk.map_placed %ld\n",
		    r[0], r[1], r[2], r[3]);
		printf("brk.over_mapping returns %s\n", r[4] == (long)(cur + P) ? "current (cur+P)" : "something else");
		printf("brk.into_guard_page returns %s\n", r[5] == (long)(cur + P) ? "current" : "new");
		printf("brk.page_below_guard returns %s\n", r[6] == (long)(top + 5 * P - 1) ? "new" : "current");
		printf("brk.far_below returns %s\n", r[7] == (long)(cur + P) ? "current (or shrunk?)" : "other");
	}
	return 0;
}
