/*
 * virtio-blk driven as a guest driver would, without a guest: a small guest RAM with
 * rings built here, the registers written through the transport, the real device thread
 * and real io_uring on a temporary file. Write then read back, flush, discard and
 * write-zeroes, get-id, sectors beyond the capacity, bad layouts, a read-only file, a
 * broken ring and the reset after it, many requests in one notification, and the fault
 * injection switch (VMM_BLK_FAIL_EVERY, VMM_BLK_FAIL_OP; docs/virtio.md).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "devices/pvh.h"
#include "devices/virtio_blk.h"
#include "vmm/cli.h"
#include "vmm/guest_mem.h"
#include "vmm/vmm.h"

#define TB_RAM      (8u << 20)
#define TB_NUM      128
#define TB_DESC     0x10000u
#define TB_AVAIL    0x11000u
#define TB_USED     0x12000u
#define TB_HDR      0x20000u        /* 32 bytes a request slot */
#define TB_STATUS   0x30000u        /* 1 byte a request slot */
#define TB_DATA     0x100000u       /* 64 KiB a request slot */
#define TB_FILE     (1u << 20)      /* 2048 sectors */

static struct guest_mem tb_gm;
static struct virtio_blk tb_blk;
static char tb_path[64];
static int tb_fd = -1;
static atomic_uint tb_irqs;
static uint16_t tb_next_desc, tb_used_seen;

static void tb_irq(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&tb_irqs, 1);
}

static void *tb_ptr(uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(&tb_gm, gpa, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

static uint32_t tb_rd(uint64_t off)
{
	return (uint32_t)virtio_mmio_read(&tb_blk.vb_tr, off, 4);
}

static void tb_wr(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&tb_blk.vb_tr, off, 4, v);
}

static struct virtq_avail *tb_avail(void)
{
	return tb_ptr(TB_AVAIL, VIRTQ_AVAIL_BYTES(TB_NUM));
}

static struct virtq_used *tb_used(void)
{
	return tb_ptr(TB_USED, VIRTQ_USED_BYTES(TB_NUM));
}

/* The driver's side of initialisation (section 3.1.1), accepting want & offered. */
static void tb_driver_init(uint64_t want)
{
	/* The reset first: it returns once the device has let go of the rings. */
	tb_wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_STATUS), 0);
	memset(tb_ptr(TB_DESC, 0x3000), 0, 0x3000);
	tb_next_desc = tb_used_seen = 0;
	tb_wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	tb_wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	tb_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t f = tb_rd(VIRTIO_MMIO_DEVICE_FEATURES);
	tb_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f |= (uint64_t)tb_rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	f &= want;
	tb_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	tb_wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	tb_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	tb_wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	    VIRTIO_STATUS_FEATURES_OK;
	tb_wr(VIRTIO_MMIO_STATUS, st);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_STATUS), st);
	tb_wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_ge(tb_rd(VIRTIO_MMIO_QUEUE_NUM_MAX), TB_NUM);
	tb_wr(VIRTIO_MMIO_QUEUE_NUM, TB_NUM);
	tb_wr(VIRTIO_MMIO_QUEUE_DESC_LOW, TB_DESC);
	tb_wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	tb_wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, TB_AVAIL);
	tb_wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	tb_wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, TB_USED);
	tb_wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	tb_wr(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_QUEUE_READY), 1);
	tb_wr(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
}

#define TB_WANT_ALL (~0ull)

/* A device on a fresh TB_FILE-byte file (read-only if ro). */
static void tb_start(bool ro)
{
	char err[256];

	ck_assert_int_eq(guest_mem_init(&tb_gm, TB_RAM), 0);
	const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(tb_path, sizeof(tb_path), "%.40s/vblk-XXXXXX", dir);
	tb_fd = mkstemp(tb_path);
	ck_assert_int_ge(tb_fd, 0);
	ck_assert_int_eq(ftruncate(tb_fd, TB_FILE), 0);
	if (ro) {
		close(tb_fd);
		tb_fd = open(tb_path, O_RDONLY);
		ck_assert_int_ge(tb_fd, 0);
	}
	atomic_store(&tb_irqs, 0);
	int rc = virtio_blk_init(&tb_blk, &tb_gm, tb_fd, -1, TB_FILE, ro, tb_irq, NULL, err,
	    sizeof(err));
	ck_assert_msg(rc == 0, "virtio_blk_init: %s", err);
	tb_blk.vb_quiet = true;
	ck_assert_int_eq(virtio_blk_start(&tb_blk, err, sizeof(err)), 0);
	tb_driver_init(TB_WANT_ALL);
}

/* Restart the device with the thread polling for poll_ns before it sleeps. */
static void tb_restart_polling(uint64_t poll_ns)
{
	char err[256];

	virtio_blk_destroy(&tb_blk);
	memset(tb_ptr(TB_DESC, 4096), 0, 4096);
	ck_assert_int_eq(virtio_blk_init(&tb_blk, &tb_gm, tb_fd, -1, TB_FILE, false, tb_irq,
	    NULL, err, sizeof(err)), 0);
	tb_blk.vb_quiet = true;
	tb_blk.vb_poll_ns = poll_ns;
	ck_assert_int_eq(virtio_blk_start(&tb_blk, err, sizeof(err)), 0);
	tb_next_desc = tb_used_seen = 0;
	tb_driver_init(TB_WANT_ALL);
}

static void tb_setup(void)
{
	unsetenv("VMM_BLK_FAIL_EVERY");
	unsetenv("VMM_BLK_FAIL_OP");
	tb_start(false);
}

static void tb_teardown(void)
{
	virtio_blk_destroy(&tb_blk);
	close(tb_fd);
	unlink(tb_path);
	guest_mem_destroy(&tb_gm);
	unsetenv("VMM_BLK_FAIL_EVERY");
	unsetenv("VMM_BLK_FAIL_OP");
}

static uint16_t tb_desc(uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t i = tb_next_desc++ % TB_NUM;
	struct virtq_desc *d = tb_ptr(TB_DESC + 16ull * i, 16);

	*d = (struct virtq_desc){ addr, len, flags, 0 };
	return i;
}

static void tb_link(uint16_t from, uint16_t to)
{
	struct virtq_desc *d = tb_ptr(TB_DESC + 16ull * from, 16);

	d->flags |= VIRTQ_DESC_F_NEXT;
	d->next = to;
}

static void tb_offer(uint16_t head)
{
	struct virtq_avail *a = tb_avail();

	a->ring[a->idx % TB_NUM] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	a->idx++;
}

/*
 * Queue a request in slot s: header, optional data (len bytes at the slot's data area,
 * device-writable for IN and GET_ID), status. => the head.
 */
static uint16_t tb_req(unsigned s, uint32_t type, uint64_t sector, uint32_t len)
{
	struct virtio_blk_outhdr *h = tb_ptr(TB_HDR + 32ull * s, sizeof(*h));
	uint8_t *status = tb_ptr(TB_STATUS + s, 1);

	*h = (struct virtio_blk_outhdr){ type, 0, sector };
	*status = 0xee;
	uint16_t head = tb_desc(TB_HDR + 32ull * s, sizeof(*h), 0), prev = head;
	if (len != 0) {
		bool w = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
		uint16_t d = tb_desc(TB_DATA + 65536ull * s, len, w ? VIRTQ_DESC_F_WRITE : 0);
		tb_link(prev, d);
		prev = d;
	}
	uint16_t st = tb_desc(TB_STATUS + s, 1, VIRTQ_DESC_F_WRITE);
	tb_link(prev, st);
	tb_offer(head);
	return head;
}

static void tb_kick(void)
{
	tb_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* Wait until n more used entries are published (5 s at most). */
static void tb_wait_used(unsigned n)
{
	uint16_t want = (uint16_t)(tb_used_seen + n);
	struct timespec d = { 0, 200000 };

	for (unsigned i = 0; i < 25000; i++) {
		uint16_t idx = __atomic_load_n(&tb_used()->idx, __ATOMIC_ACQUIRE);
		if (idx == want) {
			tb_used_seen = want;
			return;
		}
		nanosleep(&d, NULL);
	}
	ck_abort_msg("the device published %u of %u used entries",
	    (unsigned)(uint16_t)(tb_used()->idx - tb_used_seen), n);
}

/* Let an interrupt raised just after a publish land before counting. */
static void tb_settle(void)
{
	usleep(20000);
}

static uint8_t tb_status(unsigned s)
{
	return *(uint8_t *)tb_ptr(TB_STATUS + s, 1);
}

static uint8_t *tb_data(unsigned s)
{
	return tb_ptr(TB_DATA + 65536ull * s, 65536);
}

/* One request, waited for. => its status. */
static uint8_t tb_do(unsigned s, uint32_t type, uint64_t sector, uint32_t len)
{
	tb_req(s, type, sector, len);
	tb_kick();
	tb_wait_used(1);
	return tb_status(s);
}

START_TEST(blk_config_and_features)
{
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	uint64_t cap = virtio_mmio_read(&tb_blk.vb_tr, VIRTIO_MMIO_CONFIG, 8);
	ck_assert_uint_eq(cap, TB_FILE / 512);
	/* As Linux reads it: two halves. */
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_CONFIG), TB_FILE / 512);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_CONFIG + 4), 0);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config,
	    seg_max)), VIRTIO_BLK_SEG_MAX_VALUE);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config,
	    blk_size)), 4096);
	tb_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = tb_rd(VIRTIO_MMIO_DEVICE_FEATURES);
	ck_assert(lo & (1u << VIRTIO_F_EVENT_IDX));
	ck_assert(lo & (1u << VIRTIO_BLK_F_FLUSH));
	ck_assert(lo & (1u << VIRTIO_BLK_F_DISCARD));
	ck_assert(lo & (1u << VIRTIO_BLK_F_WRITE_ZEROES));
	ck_assert(lo & (1u << VIRTIO_BLK_F_SEG_MAX));
	ck_assert(lo & (1u << VIRTIO_BLK_F_SIZE_MAX));
	ck_assert(!(lo & (1u << VIRTIO_BLK_F_RO)));
	ck_assert(!(lo & (1u << VIRTIO_F_INDIRECT_DESC)));
	tb_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_DEVICE_FEATURES), 1);     /* VERSION_1 */
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
}
END_TEST

START_TEST(blk_write_read_back)
{
	uint8_t *d = tb_data(0);

	for (unsigned i = 0; i < 8192; i++)
		d[i] = (uint8_t)(i * 7 + 3);
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_OUT, 100, 8192), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_used()->ring[0].len, 1);
	/* On the file at sector 100. */
	uint8_t f[8192];
	ck_assert_int_eq(pread(tb_fd, f, sizeof(f), 100 * 512), (ssize_t)sizeof(f));
	ck_assert_mem_eq(f, d, sizeof(f));
	/* And back through the device into another buffer. */
	memset(tb_data(1), 0, 8192);
	ck_assert_uint_eq(tb_do(1, VIRTIO_BLK_T_IN, 100, 8192), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(tb_data(1), d, 8192);
	ck_assert_uint_eq(tb_used()->ring[1].len, 8193);
	/* The last sector is readable, the one after it is not. */
	ck_assert_uint_eq(tb_do(2, VIRTIO_BLK_T_IN, TB_FILE / 512 - 1, 512), VIRTIO_BLK_S_OK);
	ck_assert_int_gt(atomic_load(&tb_irqs), 0);
}
END_TEST

START_TEST(blk_beyond_capacity)
{
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, TB_FILE / 512, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(1, VIRTIO_BLK_T_IN, TB_FILE / 512 - 1, 1024),
	    VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(2, VIRTIO_BLK_T_OUT, UINT64_MAX, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(3, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512),
	    VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_used()->ring[3].len, 1);
	ck_assert_uint_eq(tb_blk.vb_stats.bs_bad[BLK_BAD_RANGE], 4);
	/* The device goes on. */
	ck_assert_uint_eq(tb_do(4, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(blk_bad_layouts)
{
	/* Not whole sectors. */
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 100), VIRTIO_BLK_S_IOERR);
	/* Unknown type. */
	ck_assert_uint_eq(tb_do(1, 77, 0, 0), VIRTIO_BLK_S_UNSUPP);
	/* Flush with data. */
	ck_assert_uint_eq(tb_do(2, VIRTIO_BLK_T_FLUSH, 0, 512), VIRTIO_BLK_S_IOERR);
	/* A data buffer outside guest RAM. */
	struct virtio_blk_outhdr *h = tb_ptr(TB_HDR, sizeof(*h));
	*h = (struct virtio_blk_outhdr){ VIRTIO_BLK_T_IN, 0, 0 };
	*(uint8_t *)tb_ptr(TB_STATUS, 1) = 0xee;
	uint16_t a = tb_desc(TB_HDR, 16, 0), b = tb_desc(TB_RAM - 512, 4096,
	    VIRTQ_DESC_F_WRITE), c = tb_desc(TB_STATUS, 1, VIRTQ_DESC_F_WRITE);
	tb_link(a, b);
	tb_link(b, c);
	tb_offer(a);
	tb_kick();
	tb_wait_used(1);
	ck_assert_uint_eq(tb_status(0), VIRTIO_BLK_S_IOERR);
	/* No writable status byte: back with nothing written, the status left alone. */
	*(uint8_t *)tb_ptr(TB_STATUS, 1) = 0xee;
	a = tb_desc(TB_HDR, 16, 0);
	b = tb_desc(TB_STATUS, 1, 0);
	tb_link(a, b);
	tb_offer(a);
	tb_kick();
	tb_wait_used(1);
	ck_assert_uint_eq(tb_status(0), 0xee);
	ck_assert_uint_eq(tb_used()->ring[(tb_used_seen - 1) % TB_NUM].len, 0);
	/* A header split over two buffers is fine (no framing assumed). */
	*h = (struct virtio_blk_outhdr){ VIRTIO_BLK_T_IN, 0, 3 };
	a = tb_desc(TB_HDR, 5, 0);
	b = tb_desc(TB_HDR + 5, 11, 0);
	c = tb_desc(TB_DATA, 512, VIRTQ_DESC_F_WRITE);
	uint16_t d = tb_desc(TB_STATUS, 1, VIRTQ_DESC_F_WRITE);
	tb_link(a, b);
	tb_link(b, c);
	tb_link(c, d);
	tb_offer(a);
	tb_kick();
	tb_wait_used(1);
	ck_assert_uint_eq(tb_status(0), VIRTIO_BLK_S_OK);
	ck_assert_uint_ge(tb_blk.vb_stats.bs_errors, 5);
}
END_TEST

START_TEST(blk_flush_get_id)
{
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
	memset(tb_data(1), 0xaa, 64);
	ck_assert_uint_eq(tb_do(1, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES),
	    VIRTIO_BLK_S_OK);
	ck_assert_str_eq((char *)tb_data(1), VIRTIO_BLK_ID);
	ck_assert_uint_eq(tb_data(1)[VIRTIO_BLK_ID_BYTES], 0xaa);
	ck_assert_uint_eq(tb_used()->ring[1].len, VIRTIO_BLK_ID_BYTES + 1);
	ck_assert_uint_eq(tb_blk.vb_stats.bs_flushes, 1);
	ck_assert_uint_eq(tb_blk.vb_stats.bs_get_ids, 1);
}
END_TEST

/* DISCARD or WRITE_ZEROES of sectors [sector, sector + n) in slot s. */
static uint8_t tb_discard(unsigned s, uint32_t type, uint64_t sector, uint32_t n,
    uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes *seg = (void *)tb_data(s);

	*seg = (struct virtio_blk_discard_write_zeroes){ sector, n, flags };
	return tb_do(s, type, 0, sizeof(*seg));
}

START_TEST(blk_discard_write_zeroes)
{
	memset(tb_data(0), 0x5a, 65536);
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_OUT, 0, 65536), VIRTIO_BLK_S_OK);
	struct stat st;
	ck_assert_int_eq(fstat(tb_fd, &st), 0);
	blkcnt_t before = st.st_blocks;
	/* Discard the first 32 KiB: reads back as zeroes, and the blocks are gone. */
	ck_assert_uint_eq(tb_discard(1, VIRTIO_BLK_T_DISCARD, 0, 64, 0), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(fstat(tb_fd, &st), 0);
	ck_assert_int_lt(st.st_blocks, before);
	ck_assert_uint_eq(tb_do(2, VIRTIO_BLK_T_IN, 0, 65536), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 65536; i++)
		ck_assert_uint_eq(tb_data(2)[i], i < 32768 ? 0 : 0x5a);
	/* Write zeroes over the next 16 KiB, without and with unmap. */
	ck_assert_uint_eq(tb_discard(3, VIRTIO_BLK_T_WRITE_ZEROES, 64, 16, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_discard(4, VIRTIO_BLK_T_WRITE_ZEROES, 80, 16,
	    VIRTIO_BLK_WZ_F_UNMAP), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(5, VIRTIO_BLK_T_IN, 0, 65536), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 65536; i++)
		ck_assert_uint_eq(tb_data(5)[i], i < 49152 ? 0 : 0x5a);
	/* Beyond the capacity, and a discard with flags. */
	ck_assert_uint_eq(tb_discard(6, VIRTIO_BLK_T_DISCARD, TB_FILE / 512 - 1, 2, 0),
	    VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_discard(7, VIRTIO_BLK_T_DISCARD, 0, 8, 1), VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(tb_blk.vb_stats.bs_discards, 1);
	ck_assert_uint_eq(tb_blk.vb_stats.bs_write_zeroes, 2);
}
END_TEST

START_TEST(blk_many_in_flight)
{
	/* A thread that sleeps until the notification (no poll: a polling one takes each
	 * request as it is published, one at a time, which is what it is for). */
	tb_restart_polling(0);
	/* 32 writes, one notification; then 32 reads. */
	for (unsigned s = 0; s < 32; s++) {
		memset(tb_data(s), (int)s + 1, 4096);
		tb_req(s, VIRTIO_BLK_T_OUT, s * 8, 4096);
	}
	tb_kick();
	tb_wait_used(32);
	for (unsigned s = 0; s < 32; s++) {
		ck_assert_uint_eq(tb_status(s), VIRTIO_BLK_S_OK);
		memset(tb_data(s), 0, 4096);
		tb_req(s, VIRTIO_BLK_T_IN, s * 8, 4096);
	}
	tb_kick();
	tb_wait_used(32);
	for (unsigned s = 0; s < 32; s++) {
		ck_assert_uint_eq(tb_status(s), VIRTIO_BLK_S_OK);
		ck_assert_uint_eq(tb_data(s)[0], s + 1);
		ck_assert_uint_eq(tb_data(s)[4095], s + 1);
	}
	virtio_blk_destroy(&tb_blk);
	/* Batched: far fewer submits than requests. */
	ck_assert_uint_eq(tb_blk.vb_stats.bs_requests, 64);
	ck_assert_uint_le(tb_blk.vb_stats.bs_submits, 16);
	ck_assert_uint_eq(tb_blk.vb_stats.bs_bytes_written, 32 * 4096);
	char line[512];
	virtio_blk_summary(&tb_blk, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "64 requests"));
	/* The teardown destroys it again: let it find a device to destroy. */
	char err[128];
	ck_assert_int_eq(virtio_blk_init(&tb_blk, &tb_gm, tb_fd, -1, TB_FILE, false, tb_irq,
	    NULL, err, sizeof(err)), 0);
}
END_TEST

START_TEST(blk_event_idx_suppresses)
{
	/* The driver asks to hear only when used->idx passes 1000. */
	tb_avail()->ring[TB_NUM] = 1000;
	unsigned before = atomic_load(&tb_irqs);
	for (unsigned s = 0; s < 4; s++)
		ck_assert_uint_eq(tb_do(s, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	tb_settle();
	ck_assert_uint_eq(atomic_load(&tb_irqs), before);
	/* Now at the next one. */
	tb_avail()->ring[TB_NUM] = tb_used_seen;
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	tb_settle();
	ck_assert_uint_eq(atomic_load(&tb_irqs), before + 1);
	ck_assert(virtio_mmio_irq_pending(&tb_blk.vb_tr));
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	tb_wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(tb_rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}
END_TEST

/*
 * A device thread that polls before it sleeps takes a request offered without a
 * notification, and meanwhile does not ask for one (avail_event stays behind what the
 * driver published); one that does not poll waits for the notification.
 */
START_TEST(blk_poll_takes_without_notify)
{
	tb_restart_polling(10ull * 1000000000ull);
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	uint16_t old = tb_avail()->idx;
	tb_req(1, VIRTIO_BLK_T_IN, 8, 512);
	uint16_t event = __atomic_load_n((uint16_t *)&tb_used()->ring[TB_NUM],
	    __ATOMIC_ACQUIRE);
	ck_assert_msg((uint16_t)(tb_avail()->idx - event - 1) >= (uint16_t)(tb_avail()->idx - old),
	    "the polling device asked for a notification (avail_event %u, idx %u -> %u)",
	    event, old, tb_avail()->idx);
	tb_wait_used(1);
	ck_assert_uint_eq(tb_status(1), VIRTIO_BLK_S_OK);

	tb_restart_polling(0);
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	tb_req(1, VIRTIO_BLK_T_IN, 8, 512);
	tb_settle();
	ck_assert_uint_eq(__atomic_load_n(&tb_used()->idx, __ATOMIC_ACQUIRE), tb_used_seen);
	tb_kick();
	tb_wait_used(1);
	ck_assert_uint_eq(tb_status(1), VIRTIO_BLK_S_OK);
}
END_TEST

/* A control change (here the end) reaches a thread that polls at once, not when its
 * poll runs out. */
START_TEST(blk_destroy_while_polling)
{
	struct timespec t0, t1;

	tb_restart_polling(60ull * 1000000000ull);
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	virtio_blk_destroy(&tb_blk);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 2, "the end waited %ld s for the poll",
	    (long)(t1.tv_sec - t0.tv_sec));
	/* The fixture's teardown ends it again: a device ended is ended. */
	char err[256];
	ck_assert_int_eq(virtio_blk_init(&tb_blk, &tb_gm, tb_fd, -1, TB_FILE, false, tb_irq,
	    NULL, err, sizeof(err)), 0);
}
END_TEST

START_TEST(blk_broken_ring_then_reset)
{
	/* A loop: the device marks itself NEEDS_RESET and answers nothing. */
	uint16_t a = tb_desc(TB_HDR, 16, 0), b = tb_desc(TB_STATUS, 1, VIRTQ_DESC_F_WRITE);
	tb_link(a, b);
	tb_link(b, a);
	tb_offer(a);
	tb_kick();
	for (unsigned i = 0; i < 5000 && !(tb_rd(VIRTIO_MMIO_STATUS) &
	    VIRTIO_STATUS_NEEDS_RESET); i++)
		usleep(1000);
	ck_assert(tb_rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert(tb_rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(tb_used()->idx, 0);
	/* A reset brings it back. */
	tb_driver_init(TB_WANT_ALL);
	ck_assert(!(tb_rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET));
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_blk.vb_stats.bs_bad[BLK_BAD_RING], 1);
}
END_TEST

START_TEST(blk_reset_with_io_in_flight)
{
	for (int round = 0; round < 20; round++) {
		for (unsigned s = 0; s < 16; s++)
			tb_req(s, s % 2 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT, s * 128, 65536);
		tb_kick();
		/* The reset returns only once the device has let the queue go. */
		tb_driver_init(TB_WANT_ALL);
	}
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(blk_without_event_idx)
{
	tb_driver_init(~(1ull << VIRTIO_F_EVENT_IDX));
	for (unsigned s = 0; s < 3; s++)
		ck_assert_uint_eq(tb_do(s, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	tb_settle();
	ck_assert_uint_ge(atomic_load(&tb_irqs), 3);
	/* NO_INTERRUPT is honoured. */
	unsigned before = atomic_load(&tb_irqs);
	tb_avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	tb_settle();
	ck_assert_uint_eq(atomic_load(&tb_irqs), before);
}
END_TEST

/* Fault injection: every 2nd read or write fails with IOERR and does nothing. */
START_TEST(blk_fault_injection)
{
	tb_teardown();
	setenv("VMM_BLK_FAIL_EVERY", "2", 1);
	tb_start(false);
	uint8_t st[6];
	for (unsigned s = 0; s < 6; s++)
		st[s] = tb_do(s, s < 3 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 0, 512);
	ck_assert_uint_eq(st[0], VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(st[1], VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(st[2], VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(st[3], VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(st[4], VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(st[5], VIRTIO_BLK_S_IOERR);
	/* Flushes are not counted. */
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_blk.vb_stats.bs_bad[BLK_BAD_INJECTED], 3);

	/* Only writes: reads never fail. */
	tb_teardown();
	setenv("VMM_BLK_FAIL_EVERY", "1", 1);
	setenv("VMM_BLK_FAIL_OP", "write", 1);
	tb_start(false);
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(1, VIRTIO_BLK_T_OUT, 0, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(2, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);

	/* Bad values are refused at init. */
	struct virtio_blk b;
	char err[256];
	setenv("VMM_BLK_FAIL_OP", "sideways", 1);
	ck_assert_int_eq(virtio_blk_init(&b, &tb_gm, tb_fd, -1, TB_FILE, false, tb_irq, NULL,
	    err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "VMM_BLK_FAIL_OP"));
	unsetenv("VMM_BLK_FAIL_OP");
	setenv("VMM_BLK_FAIL_EVERY", "0", 1);
	ck_assert_int_eq(virtio_blk_init(&b, &tb_gm, tb_fd, -1, TB_FILE, false, tb_irq, NULL,
	    err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "VMM_BLK_FAIL_EVERY"));
}
END_TEST

START_TEST(blk_read_only)
{
	tb_teardown();
	tb_start(true);
	tb_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert(tb_rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(1, VIRTIO_BLK_T_OUT, 0, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_discard(2, VIRTIO_BLK_T_DISCARD, 0, 8, 0), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_blk.vb_stats.bs_bad[BLK_BAD_RO], 2);
}
END_TEST

/* ---- the counters --stats reports (vmm/stats.c) ---- */

/* Entries in kind k's latency histogram. */
static uint64_t tb_lat_count(enum blk_lat_kind k)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < BLK_LAT_BUCKETS; i++)
		n += tb_blk.vb_stats.bs_lat[k][i];
	return n;
}

START_TEST(blk_lat_buckets)
{
	ck_assert_uint_eq(virtio_blk_lat_bucket(0), 0);
	ck_assert_uint_eq(virtio_blk_lat_bucket(1), 0);
	ck_assert_uint_eq(virtio_blk_lat_bucket(2), 1);
	ck_assert_uint_eq(virtio_blk_lat_bucket(3), 1);
	ck_assert_uint_eq(virtio_blk_lat_bucket(4), 2);
	ck_assert_uint_eq(virtio_blk_lat_bucket(1023), 9);
	ck_assert_uint_eq(virtio_blk_lat_bucket(1024), 10);
	ck_assert_uint_eq(virtio_blk_lat_bucket(1ull << (BLK_LAT_BUCKETS - 2)),
	    BLK_LAT_BUCKETS - 2);
	ck_assert_uint_eq(virtio_blk_lat_bucket(1ull << (BLK_LAT_BUCKETS - 1)),
	    BLK_LAT_BUCKETS - 1);
	ck_assert_uint_eq(virtio_blk_lat_bucket(UINT64_MAX), BLK_LAT_BUCKETS - 1);
}
END_TEST

/* Requests and bytes by kind, one latency entry per request the host did, none for one
 * answered at parse time, and the submits they went in. */
START_TEST(blk_counters)
{
	const struct blk_stats *s = &tb_blk.vb_stats;

	memset(tb_data(0), 0x11, 8192);
	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_OUT, 8, 8192), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(1, VIRTIO_BLK_T_OUT, 64, 4096), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(2, VIRTIO_BLK_T_IN, 8, 512), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(3, VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(s->bs_requests, 4);
	ck_assert_uint_eq(s->bs_writes, 2);
	ck_assert_uint_eq(s->bs_reads, 1);
	ck_assert_uint_eq(s->bs_flushes, 1);
	ck_assert_uint_eq(s->bs_bytes_written, 8192 + 4096);
	ck_assert_uint_eq(s->bs_bytes_read, 512);
	ck_assert_uint_eq(s->bs_errors, 0);
	ck_assert_uint_eq(tb_lat_count(BLK_LAT_WRITE), 2);
	ck_assert_uint_eq(tb_lat_count(BLK_LAT_READ), 1);
	ck_assert_uint_eq(tb_lat_count(BLK_LAT_OTHER), 1);
	/* A request takes time: the largest is not 0, and lies in the last bucket used. */
	for (unsigned k = 0; k < BLK_LAT_KINDS; k++) {
		uint64_t max = s->bs_lat_max_ns[k];
		ck_assert_uint_gt(max, 0);
		ck_assert_uint_gt(s->bs_lat[k][virtio_blk_lat_bucket(max)], 0);
		for (unsigned i = virtio_blk_lat_bucket(max) + 1; i < BLK_LAT_BUCKETS; i++)
			ck_assert_uint_eq(s->bs_lat[k][i], 0);
	}
	ck_assert_uint_eq(s->bs_sqes, 4);
	ck_assert_uint_ge(s->bs_submits, 1);
	ck_assert_uint_le(s->bs_submits, 4);
	/* Beyond the capacity: answered at parse time, an error without a latency. */
	ck_assert_uint_eq(tb_do(4, VIRTIO_BLK_T_IN, TB_FILE / 512, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(s->bs_requests, 5);
	ck_assert_uint_eq(s->bs_errors, 1);
	ck_assert_uint_eq(s->bs_reads, 1);
	ck_assert_uint_eq(tb_lat_count(BLK_LAT_READ), 1);
	ck_assert_uint_eq(s->bs_sqes, 4);
}
END_TEST

/* A backend whose writes fail (the file is open read-only behind a device that thinks it
 * may write): each failed write is an error, and still one latency entry, as it went to
 * the host and came back. */
START_TEST(blk_counters_failing_backend)
{
	char err[256];
	const struct blk_stats *s = &tb_blk.vb_stats;

	virtio_blk_destroy(&tb_blk);
	close(tb_fd);
	tb_fd = open(tb_path, O_RDONLY);
	ck_assert_int_ge(tb_fd, 0);
	memset(tb_ptr(TB_DESC, 4096), 0, 4096);
	ck_assert_int_eq(virtio_blk_init(&tb_blk, &tb_gm, tb_fd, -1, TB_FILE, false, tb_irq,
	    NULL, err, sizeof(err)), 0);
	tb_blk.vb_quiet = true;
	ck_assert_int_eq(virtio_blk_start(&tb_blk, err, sizeof(err)), 0);
	tb_next_desc = tb_used_seen = 0;
	tb_driver_init(TB_WANT_ALL);

	ck_assert_uint_eq(tb_do(0, VIRTIO_BLK_T_OUT, 0, 4096), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(1, VIRTIO_BLK_T_OUT, 8, 4096), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(2, VIRTIO_BLK_T_IN, 0, 4096), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(s->bs_requests, 3);
	ck_assert_uint_eq(s->bs_errors, 2);
	ck_assert_uint_eq(s->bs_bad[BLK_BAD_IO], 2);
	ck_assert_uint_eq(s->bs_writes, 0);
	ck_assert_uint_eq(s->bs_bytes_written, 0);
	ck_assert_uint_eq(s->bs_reads, 1);
	ck_assert_uint_eq(tb_lat_count(BLK_LAT_WRITE), 2);
	ck_assert_uint_eq(tb_lat_count(BLK_LAT_READ), 1);
}
END_TEST

/* ---- the command line of the swap disk (vmm/cli.c) ---- */

static int tb_cli(struct cli_opts *o, char *err, size_t errlen, int argc, char **argv)
{
	int rc = cli_parse(argc, argv, o, err, errlen);

	if (rc != 0)
		ck_assert_ptr_null(strchr(err, '\n'));
	return rc;
}

START_TEST(cli_swap_options)
{
	static struct cli_opts o;
	char err[CLI_ERR_MAX], line[PVH_CMDLINE_MAX];
	char *a1[] = { "vmm", "run", "-m", "32M", "-s", "/x/swap", "--ktest=none", NULL };
	ck_assert_int_eq(tb_cli(&o, err, sizeof(err), 7, a1), 0);
	ck_assert_str_eq(o.co_swap, "/x/swap");
	ck_assert_uint_eq(o.co_swap_size, 0);
	ck_assert(!o.co_swap_direct);
	/* The device is announced on the guest's command line, Linux's way. */
	ck_assert_int_eq(cli_guest_cmdline(&o, line, sizeof(line), err, sizeof(err)), 0);
	ck_assert_str_eq(line, "ktest=none virtio_mmio.device=4K@0xd0000000:5");

	char *a2[] = { "vmm", "run", "--swap=/y", "--swap-size", "2G", "--swap-direct",
		"--ktest", NULL };
	ck_assert_int_eq(tb_cli(&o, err, sizeof(err), 7, a2), 0);
	ck_assert_str_eq(o.co_swap, "/y");
	ck_assert_uint_eq(o.co_swap_size, 2ull << 30);
	ck_assert(o.co_swap_direct);

	/* Without -s: nothing on the guest's command line. */
	char *a3[] = { "vmm", "run", "--ktest=none", NULL };
	ck_assert_int_eq(tb_cli(&o, err, sizeof(err), 3, a3), 0);
	ck_assert_int_eq(cli_guest_cmdline(&o, line, sizeof(line), err, sizeof(err)), 0);
	ck_assert_str_eq(line, "ktest=none");

	char *a4[] = { "vmm", "run", "--swap-size", "1M", "--ktest", NULL };
	ck_assert_int_eq(tb_cli(&o, err, sizeof(err), 5, a4), VMM_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, "-s FILE"));
}
END_TEST

START_TEST(cli_swap_sizes)
{
	char err[CLI_ERR_MAX];
	uint64_t v;

	ck_assert_int_eq(cli_parse_swap_size("4096", &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(cli_parse_swap_size("4K", &v, err, sizeof(err)), 0);
	ck_assert_int_eq(cli_parse_swap_size("3m", &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 3ull << 20);
	ck_assert_int_eq(cli_parse_swap_size("16T", &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 16ull << 40);
	ck_assert_int_eq(cli_parse_swap_size("17T", &v, err, sizeof(err)), VMM_EXIT_USAGE);
	ck_assert_int_eq(cli_parse_swap_size("99999999999999999999", &v, err, sizeof(err)),
	    VMM_EXIT_USAGE);
	ck_assert_int_eq(cli_parse_swap_size("18446744073709551615K", &v, err, sizeof(err)),
	    VMM_EXIT_USAGE);
	ck_assert_int_eq(cli_parse_swap_size("4095", &v, err, sizeof(err)), VMM_EXIT_USAGE);
	ck_assert_int_eq(cli_parse_swap_size("5000", &v, err, sizeof(err)), VMM_EXIT_USAGE);
	ck_assert_int_eq(cli_parse_swap_size("", &v, err, sizeof(err)), VMM_EXIT_USAGE);
	ck_assert_int_eq(cli_parse_swap_size("1Mb", &v, err, sizeof(err)), VMM_EXIT_USAGE);
	ck_assert_int_eq(cli_parse_swap_size("-1", &v, err, sizeof(err)), VMM_EXIT_USAGE);
}
END_TEST

static Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("device");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, tb_setup, tb_teardown);
	tcase_add_test(tc, blk_config_and_features);
	tcase_add_test(tc, blk_write_read_back);
	tcase_add_test(tc, blk_beyond_capacity);
	tcase_add_test(tc, blk_bad_layouts);
	tcase_add_test(tc, blk_flush_get_id);
	tcase_add_test(tc, blk_discard_write_zeroes);
	tcase_add_test(tc, blk_many_in_flight);
	tcase_add_test(tc, blk_event_idx_suppresses);
	tcase_add_test(tc, blk_poll_takes_without_notify);
	tcase_add_test(tc, blk_destroy_while_polling);
	tcase_add_test(tc, blk_broken_ring_then_reset);
	tcase_add_test(tc, blk_reset_with_io_in_flight);
	tcase_add_test(tc, blk_without_event_idx);
	tcase_add_test(tc, blk_fault_injection);
	tcase_add_test(tc, blk_read_only);
	tcase_add_test(tc, blk_lat_buckets);
	tcase_add_test(tc, blk_counters);
	tcase_add_test(tc, blk_counters_failing_backend);
	suite_add_tcase(s, tc);
	TCase *cli = tcase_create("cli");
	tcase_add_test(cli, cli_swap_options);
	tcase_add_test(cli, cli_swap_sizes);
	suite_add_tcase(s, cli);
	return s;
}

UNIT_SUITE(virtio_blk_suite);
