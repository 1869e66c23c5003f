/*
 * The virtqueue parser (devices/virtq.c) against chains a hostile or broken driver could
 * build: buffers outside guest RAM, address + length wrapping 2^64, loops, chains longer
 * than the queue, next or head indices out of range, the directions in the wrong order,
 * zero-length buffers, indirect descriptors (never offered); and the EVENT_IDX words.
 * The rings sit in a small guest RAM; nothing else is touched (ASan watches).
 */
#include <string.h>

#include "tests/unit/unit.h"
#include "devices/virtq.h"
#include "vmm/guest_mem.h"

#define TQ_RAM      (1u << 20)
#define TQ_NUM      8
#define TQ_DESC     0x1000u
#define TQ_AVAIL    0x2000u
#define TQ_USED     0x3000u
#define TQ_BUF      0x10000u

static struct guest_mem tq_gm;
static struct virtq tq_vq;
static struct virtq_chain tq_chain;

static struct virtq_desc *tq_desc(void)
{
	return guest_mem_ptr(&tq_gm, TQ_DESC, VIRTQ_DESC_BYTES(TQ_NUM));
}

static struct virtq_avail *tq_avail(void)
{
	return guest_mem_ptr(&tq_gm, TQ_AVAIL, VIRTQ_AVAIL_BYTES(TQ_NUM));
}

static struct virtq_used *tq_used(void)
{
	return guest_mem_ptr(&tq_gm, TQ_USED, VIRTQ_USED_BYTES(TQ_NUM));
}

static void tq_setup(void)
{
	ck_assert_int_eq(guest_mem_init(&tq_gm, TQ_RAM), 0);
	ck_assert_ptr_null(virtq_setup(&tq_vq, &tq_gm, TQ_NUM, TQ_DESC, TQ_AVAIL, TQ_USED,
	    true));
}

/* Fresh rings, same RAM. */
static void tq_reset(void)
{
	memset(guest_mem_ptr(&tq_gm, TQ_DESC, 0x3000), 0, 0x3000);
	ck_assert_ptr_null(virtq_setup(&tq_vq, &tq_gm, TQ_NUM, TQ_DESC, TQ_AVAIL, TQ_USED,
	    true));
}

static void tq_teardown(void)
{
	guest_mem_destroy(&tq_gm);
}

static void tq_set(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	tq_desc()[i] = (struct virtq_desc){ addr, len, flags, next };
}

/* Make head available. */
static void tq_offer(uint16_t head)
{
	struct virtq_avail *a = tq_avail();

	a->ring[a->idx % TQ_NUM] = head;
	a->idx++;
}

static enum virtq_pop_result tq_pop(const char **why)
{
	return virtq_pop(&tq_vq, &tq_chain, why);
}

START_TEST(virtq_good_chain)
{
	const char *why;

	tq_set(0, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	tq_set(1, TQ_BUF + 0x1000, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	tq_set(2, TQ_BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_EMPTY);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
	ck_assert_uint_eq(tq_chain.vc_head, 0);
	ck_assert_uint_eq(tq_chain.vc_nseg, 3);
	ck_assert_uint_eq(tq_chain.vc_nread, 1);
	ck_assert_int_eq(tq_chain.vc_err, VIRTQ_CHAIN_OK);
	ck_assert_uint_eq(tq_chain.vc_read_bytes, 16);
	ck_assert_uint_eq(tq_chain.vc_write_bytes, 4097);
	ck_assert_ptr_eq(tq_chain.vc_seg[1].vs_host, guest_mem_ptr(&tq_gm, TQ_BUF + 0x1000, 1));
	/* The chain is a copy: the guest rewriting its table changes nothing. */
	tq_set(1, 0xdead0000, 7, 0, 0);
	ck_assert_uint_eq(tq_chain.vc_seg[1].vs_len, 4096);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_EMPTY);
	/* Back on the used ring: invisible until published. */
	virtq_push(&tq_vq, 0, 4097);
	ck_assert_uint_eq(tq_used()->idx, 0);
	virtq_publish(&tq_vq);
	ck_assert_uint_eq(tq_used()->idx, 1);
	ck_assert_uint_eq(tq_used()->ring[0].id, 0);
	ck_assert_uint_eq(tq_used()->ring[0].len, 4097);
}
END_TEST

/*
 * A ring that keeps filling while the device takes from it, with nothing published in
 * between (a hostile driver, or a used ring laid over the available one so that the
 * device's own writes move the available index): at most a queue's worth of chains
 * before the used ring is published, since no honest driver can offer more than that
 * without seeing any back; then the device stops (the fuzzer found a device thread
 * that never did).
 */
START_TEST(virtq_self_feeding)
{
	const char *why;

	tq_set(0, TQ_BUF, 16, 0, 0);
	for (unsigned n = 0; n < TQ_NUM; n++) {
		tq_offer(0);
		ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
		virtq_push(&tq_vq, 0, 0);
	}
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_EMPTY);
	virtq_publish(&tq_vq);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
}
END_TEST

START_TEST(virtq_out_of_ram)
{
	const char *why;

	tq_set(0, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	tq_set(1, TQ_RAM - 100, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	tq_set(2, TQ_BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
	ck_assert_int_eq(tq_chain.vc_err, VIRTQ_CHAIN_ERANGE);
	ck_assert_ptr_null(tq_chain.vc_seg[1].vs_host);
	/* The status buffer after it is still found. */
	ck_assert_ptr_nonnull(tq_chain.vc_seg[2].vs_host);
	/* In the PCI hole / far above RAM. */
	tq_set(1, 0xfec00000ull, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
	ck_assert_int_eq(tq_chain.vc_err, VIRTQ_CHAIN_ERANGE);
}
END_TEST

START_TEST(virtq_addr_len_overflow)
{
	const char *why;

	tq_set(0, UINT64_MAX - 15, 0x100, VIRTQ_DESC_F_NEXT, 1);
	tq_set(1, TQ_BUF, 1, VIRTQ_DESC_F_WRITE, 0);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
	ck_assert_int_eq(tq_chain.vc_err, VIRTQ_CHAIN_ERANGE);
	/* A length that wraps from an address inside RAM. */
	tq_set(0, TQ_BUF, UINT32_MAX, VIRTQ_DESC_F_NEXT, 1);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
	ck_assert_int_eq(tq_chain.vc_err, VIRTQ_CHAIN_ERANGE);
}
END_TEST

START_TEST(virtq_loop)
{
	const char *why;

	tq_set(0, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	tq_set(1, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "loop"));
	/* Nothing was taken: the ring stays where it was. */
	ck_assert_uint_eq(tq_vq.vq_last_avail, 0);
	/* A descriptor that is its own next. */
	tq_set(0, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_BROKEN);
}
END_TEST

START_TEST(virtq_too_long)
{
	const char *why;

	/* Every descriptor of the table in one chain is allowed... */
	for (unsigned i = 0; i < TQ_NUM; i++)
		tq_set(i, TQ_BUF + i * 16, 16, i + 1 < TQ_NUM ? VIRTQ_DESC_F_NEXT : 0,
		    (uint16_t)(i + 1));
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
	ck_assert_uint_eq(tq_chain.vc_nseg, TQ_NUM);
	/* ...one more cannot be without visiting one twice. */
	tq_set(TQ_NUM - 1, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, 3);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_BROKEN);
}
END_TEST

START_TEST(virtq_index_out_of_range)
{
	const char *why;

	tq_set(0, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, TQ_NUM);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "next"));

	tq_reset();
	tq_offer(TQ_NUM + 3);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "available entry"));

	/* The available index ran more than a queue ahead. */
	tq_reset();
	tq_avail()->idx = TQ_NUM + 1;
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_BROKEN);
}
END_TEST

START_TEST(virtq_wrong_direction)
{
	const char *why;

	tq_set(0, TQ_BUF, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	tq_set(1, TQ_BUF + 16, 16, 0, 0);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
	ck_assert_int_eq(tq_chain.vc_err, VIRTQ_CHAIN_EORDER);
	ck_assert_uint_eq(tq_chain.vc_nread, 0);
}
END_TEST

START_TEST(virtq_zero_length)
{
	const char *why;

	tq_set(0, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	tq_set(1, TQ_BUF + 16, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	tq_set(2, TQ_BUF + 32, 1, VIRTQ_DESC_F_WRITE, 0);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
	ck_assert_int_eq(tq_chain.vc_err, VIRTQ_CHAIN_EZERO);
}
END_TEST

START_TEST(virtq_indirect_not_negotiated)
{
	const char *why;

	tq_set(0, TQ_BUF, 32, VIRTQ_DESC_F_INDIRECT, 0);
	tq_offer(0);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "indirect"));
}
END_TEST

START_TEST(virtq_setup_checks)
{
	struct virtq vq;

	ck_assert_ptr_nonnull(virtq_setup(&vq, &tq_gm, 0, TQ_DESC, TQ_AVAIL, TQ_USED, false));
	ck_assert_ptr_nonnull(virtq_setup(&vq, &tq_gm, 6, TQ_DESC, TQ_AVAIL, TQ_USED, false));
	ck_assert_ptr_nonnull(virtq_setup(&vq, &tq_gm, 512, TQ_DESC, TQ_AVAIL, TQ_USED, false));
	ck_assert_ptr_nonnull(virtq_setup(&vq, &tq_gm, 8, TQ_DESC + 8, TQ_AVAIL, TQ_USED, false));
	ck_assert_ptr_nonnull(virtq_setup(&vq, &tq_gm, 8, TQ_DESC, TQ_AVAIL + 1, TQ_USED, false));
	ck_assert_ptr_nonnull(virtq_setup(&vq, &tq_gm, 8, TQ_DESC, TQ_AVAIL, TQ_USED + 2, false));
	/* A used ring whose last bytes (avail_event) leave RAM. */
	ck_assert_ptr_nonnull(virtq_setup(&vq, &tq_gm, 8, TQ_DESC, TQ_AVAIL,
	    TQ_RAM - 72 + 4, false));
	ck_assert_ptr_nonnull(virtq_setup(&vq, &tq_gm, 8, UINT64_MAX & ~15ull, TQ_AVAIL,
	    TQ_USED, false));
	ck_assert_uint_eq(vq.vq_num, 0);
	ck_assert_ptr_null(virtq_setup(&vq, &tq_gm, 8, TQ_DESC, TQ_AVAIL,
	    TQ_RAM - 72, false));   /* 70 bytes, 4-aligned */
}
END_TEST

START_TEST(virtq_event_idx)
{
	const char *why;
	uint16_t *used_event = &tq_avail()->ring[TQ_NUM];
	uint16_t *avail_event = (uint16_t *)((uint8_t *)tq_used() + VIRTQ_USED_BYTES(TQ_NUM) - 2);

	tq_set(0, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	tq_set(1, TQ_BUF + 16, 1, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 3; i++)
		tq_offer(0);
	/* The driver wants to hear when used->idx passes 2 (used_event = 2). */
	*used_event = 2;
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
		virtq_push(&tq_vq, 0, 1);
		virtq_publish(&tq_vq);
		ck_assert_int_eq(virtq_need_interrupt(&tq_vq), i == 2);
	}
	/* Nothing new published: no interrupt. */
	ck_assert(!virtq_need_interrupt(&tq_vq));
	/* Going to sleep: avail_event names the next entry; nothing more came. */
	ck_assert(!virtq_enable_notify(&tq_vq));
	ck_assert_uint_eq(*avail_event, 3);
	tq_offer(0);
	ck_assert(virtq_enable_notify(&tq_vq));
}
END_TEST

START_TEST(virtq_no_event_idx_flags)
{
	const char *why;

	ck_assert_ptr_null(virtq_setup(&tq_vq, &tq_gm, TQ_NUM, TQ_DESC, TQ_AVAIL, TQ_USED,
	    false));
	tq_set(0, TQ_BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	tq_set(1, TQ_BUF + 16, 1, VIRTQ_DESC_F_WRITE, 0);
	tq_offer(0);
	virtq_disable_notify(&tq_vq);
	ck_assert_uint_eq(tq_used()->flags, VIRTQ_USED_F_NO_NOTIFY);
	ck_assert_int_eq(tq_pop(&why), VIRTQ_POP_CHAIN);
	virtq_push(&tq_vq, 0, 1);
	virtq_publish(&tq_vq);
	tq_avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	ck_assert(!virtq_need_interrupt(&tq_vq));
	ck_assert(!virtq_enable_notify(&tq_vq));
	ck_assert_uint_eq(tq_used()->flags, 0);
}
END_TEST

static Suite *virtq_suite(void)
{
	Suite *s = suite_create("virtq");
	TCase *tc = tcase_create("parser");

	tcase_add_checked_fixture(tc, tq_setup, tq_teardown);
	tcase_add_test(tc, virtq_good_chain);
	tcase_add_test(tc, virtq_self_feeding);
	tcase_add_test(tc, virtq_out_of_ram);
	tcase_add_test(tc, virtq_addr_len_overflow);
	tcase_add_test(tc, virtq_loop);
	tcase_add_test(tc, virtq_too_long);
	tcase_add_test(tc, virtq_index_out_of_range);
	tcase_add_test(tc, virtq_wrong_direction);
	tcase_add_test(tc, virtq_zero_length);
	tcase_add_test(tc, virtq_indirect_not_negotiated);
	tcase_add_test(tc, virtq_setup_checks);
	tcase_add_test(tc, virtq_event_idx);
	tcase_add_test(tc, virtq_no_event_idx_flags);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(virtq_suite);
