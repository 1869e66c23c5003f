/*
 * The guest-memory accessor's bounds (every slot edge, the PCI hole, wraparound, empty
 * and huge lengths), discard, and the page walker that reads through it.
 */
#include <errno.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "devices/pvh.h"
#include "vmm/guest_mem.h"
#include "vmm/gva.h"
#include "vmm/pvh_loader.h"

#define TG_MB   (1ull << 20)
#define TG_GB   (1ull << 30)

static struct guest_mem tg_gm;

static void tg_teardown(void)
{
	guest_mem_destroy(&tg_gm);
}

START_TEST(init_rejects)
{
	ck_assert_int_eq(guest_mem_init(&tg_gm, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(guest_mem_init(&tg_gm, 2 * TG_MB + 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(tg_gm.gm_base);
}
END_TEST

START_TEST(one_slot_edges)
{
	const uint64_t ram = 2 * TG_MB;

	ck_assert_int_eq(guest_mem_init(&tg_gm, ram), 0);
	ck_assert_uint_eq(tg_gm.gm_nslots, 1);
	uint8_t *b = tg_gm.gm_base;
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, 0, ram), b);
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, 0, 0), b);
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, ram - 1, 1), b + ram - 1);
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, ram, 0), b + ram);  /* empty, at the end */
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, 0x1234, 0x10), b + 0x1234);
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, 0, ram + 1));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, ram - 1, 2));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, ram, 1));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, ram + 1, 0));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, PVH_HIGHMEM_START, 1));
	ck_assert_uint_eq(guest_mem_low_end(&tg_gm), ram);
}
END_TEST

/* Sums that wrap must never look like small ranges. */
START_TEST(wraparound_and_huge)
{
	ck_assert_int_eq(guest_mem_init(&tg_gm, 4 * TG_MB), 0);
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, UINT64_MAX, 1));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, UINT64_MAX, 2));          /* wraps to 0 */
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, UINT64_MAX, 0));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, 1, UINT64_MAX));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, 0x1000, UINT64_MAX - 0xfff)); /* sum = 0 */
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, 0, UINT64_MAX));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, 0x100000, 1ull << 63));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, 1ull << 63, 0x1000));
}
END_TEST

/* 3 GiB + 8 MiB: RAM below the hole, the hole, RAM from 4 GiB. */
START_TEST(hole_edges)
{
	const uint64_t low = PVH_PCI_HOLE_START, high = PVH_HIGHMEM_START;

	ck_assert_int_eq(guest_mem_init(&tg_gm, low + 8 * TG_MB), 0);
	ck_assert_uint_eq(tg_gm.gm_nslots, 2);
	uint8_t *b = tg_gm.gm_base;
	ck_assert_uint_eq(guest_mem_low_end(&tg_gm), low);
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, low - 4096, 4096), b + low - 4096);
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, low, 0), b + low);
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, low - 4096, 8192));   /* into the hole */
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, low, 1));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, 0xd0000000, 4));       /* virtio windows */
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, high - 1, 1));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, high - 1, 2));         /* hole into high */
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, low - 1, high - low + 2)); /* straddles */
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, high, 8 * TG_MB), b + low);
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, high + 8 * TG_MB - 1, 1), b + low + 8 * TG_MB - 1);
	ck_assert_ptr_eq(guest_mem_ptr(&tg_gm, high + 8 * TG_MB, 0), b + low + 8 * TG_MB);
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, high, 8 * TG_MB + 1));
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, high + 8 * TG_MB, 1));

	/* The same bytes through the accessor and the helpers, on both sides. */
	uint32_t v = 0xdeadbeef, r = 0;
	ck_assert_int_eq(guest_mem_write(&tg_gm, high + 64, &v, sizeof(v)), 0);
	ck_assert_int_eq(guest_mem_read(&tg_gm, high + 64, &r, sizeof(r)), 0);
	ck_assert_uint_eq(r, v);
	ck_assert_int_eq(memcmp(b + low + 64, &v, 4), 0);
	ck_assert_int_eq(guest_mem_write(&tg_gm, low - 2, &v, sizeof(v)), -1);
	ck_assert_uint_eq(b[low - 2], 0);       /* a failed write touches nothing */

	/* The memory map the guest gets describes exactly the slots. */
	struct hvm_memmap_table_entry map[PVH_MAX_MEMMAP];
	unsigned n = pvh_build_memmap(&tg_gm, map, PVH_MAX_MEMMAP);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(map[2].addr, PVH_KERNEL_MIN_PADDR);
	ck_assert_uint_eq(map[2].addr + map[2].size, low);
	ck_assert_uint_eq(map[3].addr, high);
	ck_assert_uint_eq(map[3].size, 8 * TG_MB);
	ck_assert_uint_eq(map[3].type, E820_RAM);
}
END_TEST

/* Exactly 3 GiB needs no high slot. */
START_TEST(exactly_low)
{
	ck_assert_int_eq(guest_mem_init(&tg_gm, PVH_PCI_HOLE_START), 0);
	ck_assert_uint_eq(tg_gm.gm_nslots, 1);
	ck_assert_ptr_null(guest_mem_ptr(&tg_gm, PVH_HIGHMEM_START, 0));
}
END_TEST

START_TEST(read_failure_leaves_dst)
{
	uint8_t buf[8];

	ck_assert_int_eq(guest_mem_init(&tg_gm, 2 * TG_MB), 0);
	memset(buf, 0x77, sizeof(buf));
	ck_assert_int_eq(guest_mem_read(&tg_gm, 2 * TG_MB - 4, buf, sizeof(buf)), -1);
	ck_assert_uint_eq(buf[0], 0x77);
	ck_assert_int_eq(guest_mem_read(&tg_gm, 2 * TG_MB - 8, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_int_eq(guest_mem_read(&tg_gm, 2 * TG_MB, buf, 0), 0);
}
END_TEST

START_TEST(discard)
{
	ck_assert_int_eq(guest_mem_init(&tg_gm, 2 * TG_MB), 0);
	uint8_t *b = tg_gm.gm_base;
	memset(b, 0xaa, 4 * 4096);
	ck_assert_int_eq(guest_mem_discard(&tg_gm, 4096, 2 * 4096), 0);
	ck_assert_uint_eq(b[4095], 0xaa);
	ck_assert_uint_eq(b[4096], 0);
	ck_assert_uint_eq(b[3 * 4096 - 1], 0);
	ck_assert_uint_eq(b[3 * 4096], 0xaa);
	ck_assert_int_eq(guest_mem_discard(&tg_gm, 100, 4096), -1);
	ck_assert_int_eq(guest_mem_discard(&tg_gm, 0, 100), -1);
	ck_assert_int_eq(guest_mem_discard(&tg_gm, 2 * TG_MB - 4096, 8192), -1);
	ck_assert_uint_eq(b[0], 0xaa);
}
END_TEST

/* Populating is a hint that never changes contents, and only ever for RAM. */
START_TEST(populate)
{
	ck_assert_int_eq(guest_mem_init(&tg_gm, 2 * TG_MB), 0);
	uint8_t *b = tg_gm.gm_base;
	memset(b + 4096, 0x5a, 100);
	ck_assert_int_eq(guest_mem_populate(&tg_gm, 4096 + 10, 3 * 4096), 0);
	ck_assert_uint_eq(b[4096], 0x5a);
	ck_assert_uint_eq(b[4096 + 99], 0x5a);
	ck_assert_uint_eq(b[4096 + 100], 0);
	ck_assert_uint_eq(b[5 * 4096 - 1], 0);
	ck_assert_int_eq(guest_mem_populate(&tg_gm, 2 * TG_MB - 4096, 4096), 0);
	ck_assert_int_eq(guest_mem_populate(&tg_gm, 0, 0), 0);
	ck_assert_int_eq(guest_mem_populate(&tg_gm, 2 * TG_MB - 100, 101), -1);
	ck_assert_int_eq(guest_mem_populate(&tg_gm, 4 * TG_MB, 4096), -1);
	ck_assert_int_eq(guest_mem_populate(&tg_gm, UINT64_MAX - 10, 100), -1);
}
END_TEST

/* Long-mode page tables built by hand in guest RAM, walked through the accessor. */
#define TG_PML4 0x10000ull
#define TG_PDPT 0x11000ull
#define TG_PD   0x12000ull
#define TG_PT   0x13000ull

static void tg_pte(uint64_t table, unsigned idx, uint64_t val)
{
	ck_assert_int_eq(guest_mem_write(&tg_gm, table + idx * 8, &val, 8), 0);
}

START_TEST(gva_translate_walks)
{
	const struct gva_paging pg = {
		.gp_cr0 = 0x80000011, .gp_cr3 = TG_PML4, .gp_cr4 = 0x20, .gp_efer = 0x500,
	};
	const uint64_t va = 0xffffffff80000000ull; /* PML4 511, PDPT 510, PD 0, PT 0 */
	uint64_t gpa;

	ck_assert_int_eq(guest_mem_init(&tg_gm, 8 * TG_MB), 0);
	tg_pte(TG_PML4, 511, TG_PDPT | 3);
	tg_pte(TG_PDPT, 510, TG_PD | 3);
	tg_pte(TG_PD, 0, TG_PT | 3);
	tg_pte(TG_PT, 0, 0x200000 | 3);             /* 4 KiB page */
	tg_pte(TG_PD, 1, 0x400000 | 0x83);          /* 2 MiB page */
	tg_pte(TG_PML4, 0, TG_PDPT | 3);
	tg_pte(TG_PDPT, 0, 0x40000000 | 0x83);      /* 1 GiB page: 0 -> 1 GiB */

	ck_assert_int_eq(gva_translate(&tg_gm, &pg, va + 0x123, &gpa), 0);
	ck_assert_uint_eq(gpa, 0x200123);
	ck_assert_int_eq(gva_translate(&tg_gm, &pg, va + 0x200000 + 0x12345, &gpa), 0);
	ck_assert_uint_eq(gpa, 0x412345);
	ck_assert_int_eq(gva_translate(&tg_gm, &pg, 0x1234567, &gpa), 0);
	ck_assert_uint_eq(gpa, 0x41234567);
	ck_assert_int_eq(gva_translate(&tg_gm, &pg, va + 0x1000, &gpa), -1);   /* PT 1 */
	ck_assert_int_eq(gva_translate(&tg_gm, &pg, 0x0000700000000000ull, &gpa), -1);

	/* A non-canonical address faults on the CPU; the walk must not alias it to the
	 * canonical one with the same index bits (here PML4 0 -> 0x41234567). */
	ck_assert_int_eq(gva_translate(&tg_gm, &pg, 0x0001000001234567ull, &gpa), -1);
	ck_assert_int_eq(gva_translate(&tg_gm, &pg, 0xffff000001234567ull, &gpa), -1);

	/* A table pointer outside RAM fails instead of reading wild memory. */
	tg_pte(TG_PD, 2, 0x7ff0000000ull | 3);
	ck_assert_int_eq(gva_translate(&tg_gm, &pg, va + 0x400000, &gpa), -1);

	/* A read that crosses into an unmapped page stops at the boundary. */
	uint8_t buf[16];
	ck_assert_int_eq(guest_mem_write(&tg_gm, 0x200ff8, "ABCDEFGH", 8), 0);
	ck_assert_uint_eq(gva_read(&tg_gm, &pg, va + 0xff8, buf, sizeof(buf)), 8);
	ck_assert_int_eq(memcmp(buf, "ABCDEFGH", 8), 0);

	/* Paging off: physical, truncated to 32 bits outside long mode. */
	const struct gva_paging off = { .gp_cr0 = 0x11 };
	ck_assert_int_eq(gva_translate(&tg_gm, &off, 0x100000123ull, &gpa), 0);
	ck_assert_uint_eq(gpa, 0x123);
	/* 32-bit paging and 5-level paging are not walked. */
	const struct gva_paging legacy = { .gp_cr0 = 0x80000011, .gp_cr3 = TG_PML4 };
	ck_assert_int_eq(gva_translate(&tg_gm, &legacy, 0x1000, &gpa), -1);
	struct gva_paging la57 = pg;
	la57.gp_cr4 |= 1u << 12;
	ck_assert_int_eq(gva_translate(&tg_gm, &la57, va, &gpa), -1);
}
END_TEST

static Suite *guest_mem_suite(void)
{
	Suite *s = suite_create("vmm.guest_mem");
	TCase *tc = tcase_create("guest_mem");

	tcase_add_checked_fixture(tc, NULL, tg_teardown);
	tcase_add_test(tc, init_rejects);
	tcase_add_test(tc, one_slot_edges);
	tcase_add_test(tc, wraparound_and_huge);
	tcase_add_test(tc, hole_edges);
	tcase_add_test(tc, exactly_low);
	tcase_add_test(tc, read_failure_leaves_dst);
	tcase_add_test(tc, discard);
	tcase_add_test(tc, populate);
	tcase_add_test(tc, gva_translate_walks);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(guest_mem_suite);
