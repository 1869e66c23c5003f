/*
 * The virtio-blk model (virtio_blk.h): what a chain asks for, checked, and how a request
 * is answered. No I/O here (blk_uring.c does it) and no threads of its own; everything
 * here runs on the device thread except init.
 *
 * What a request must look like (section 5.2.6), whatever the descriptor layout (the
 * device makes no assumption about how bytes are split into buffers, as the spec asks):
 * the first 16 device-readable bytes are the header; the last device-writable byte is the
 * status; between them:
 *   IN            no more readable bytes; writable data, a multiple of 512 bytes
 *   OUT           readable data, a multiple of 512 bytes; nothing writable but the status
 *   FLUSH         nothing
 *   GET_ID        writable data (the first 20 bytes of it get the id)
 *   DISCARD,
 *   WRITE_ZEROES  one 16-byte segment readable; nothing writable but the status
 * and sector ranges within the capacity, checked without overflow.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_blk.h"
#include "vmm/guest_mem.h"

#define SECTOR                  VIRTIO_BLK_SECTOR_SIZE
#define BLK_REQ_MAX_BYTES       (256ull << 20)   /* one request's data; io_uring's res is 32 bits */
#define BLK_DIRECT_ALIGN        512u

static const char *const blk_bad_names[BLK_BAD_MAX] = {
	[BLK_BAD_RING] = "broken ring",
	[BLK_BAD_CHAIN] = "bad buffer",
	[BLK_BAD_LAYOUT] = "bad layout",
	[BLK_BAD_RANGE] = "beyond capacity",
	[BLK_BAD_RO] = "write to read-only",
	[BLK_BAD_TYPE] = "unknown type",
	[BLK_BAD_IO] = "host I/O error",
	[BLK_BAD_INJECTED] = "injected",
};

void virtio_blk_bad(struct virtio_blk *b, enum blk_bad k, const char *fmt, ...)
{
	b->vb_stats.bs_bad[k]++;
	if (b->vb_warned[k] || b->vb_quiet || k == BLK_BAD_INJECTED)
		return;
	b->vb_warned[k] = true;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vmm: virtio-blk: %s (said once; every one is counted in -v)\n", msg);
}

unsigned virtio_blk_lat_bucket(uint64_t ns)
{
	unsigned i = ns < 2 ? 0 : 63u - (unsigned)__builtin_clzll(ns);

	return i < BLK_LAT_BUCKETS ? i : BLK_LAT_BUCKETS - 1;
}

void virtio_blk_lat_record(struct virtio_blk *b, const struct blk_req *r, uint64_t ns)
{
	enum blk_lat_kind k = r->br_op == BLK_OP_READ ? BLK_LAT_READ :
	    r->br_op == BLK_OP_WRITE ? BLK_LAT_WRITE : BLK_LAT_OTHER;
	struct blk_stats *s = &b->vb_stats;

	s->bs_lat[k][virtio_blk_lat_bucket(ns)]++;
	if (ns > s->bs_lat_max_ns[k])
		s->bs_lat_max_ns[k] = ns;
}

void virtio_blk_broken(struct virtio_blk *b, const char *why)
{
	virtio_blk_bad(b, BLK_BAD_RING, "the guest's ring is broken: %s; the device needs a "
	    "reset", why);
	virtio_mmio_needs_reset(&b->vb_tr);
}

/* Copy len bytes from byte offset skip of the readable buffers. => 0, or -1 if short. */
static int blk_gather(const struct virtq_chain *c, uint64_t skip, void *dst, uint64_t len)
{
	uint8_t *d = dst;

	for (unsigned i = 0; i < c->vc_nread && len > 0; i++) {
		const struct virtq_seg *s = &c->vc_seg[i];
		if (skip >= s->vs_len) {
			skip -= s->vs_len;
			continue;
		}
		uint64_t n = s->vs_len - skip < len ? s->vs_len - skip : len;
		memcpy(d, s->vs_host + skip, (size_t)n);
		d += n;
		len -= n;
		skip = 0;
	}
	return len == 0 ? 0 : -1;
}

/*
 * The iovecs of len bytes from byte offset skip of buffers [from, to). Notes in
 * r->br_direct whether every one is 512-aligned.
 */
static void blk_iov(struct blk_req *r, const struct virtq_chain *c, unsigned from,
    unsigned to, uint64_t skip, uint64_t len)
{
	r->br_niov = 0;
	r->br_direct = true;
	for (unsigned i = from; i < to && len > 0; i++) {
		const struct virtq_seg *s = &c->vc_seg[i];
		if (skip >= s->vs_len) {
			skip -= s->vs_len;
			continue;
		}
		uint64_t n = s->vs_len - skip < len ? s->vs_len - skip : len;
		struct iovec *v = &r->br_iov[r->br_niov++];
		v->iov_base = s->vs_host + skip;
		v->iov_len = (size_t)n;
		if ((uintptr_t)v->iov_base % BLK_DIRECT_ALIGN != 0 || n % BLK_DIRECT_ALIGN != 0)
			r->br_direct = false;
		len -= n;
		skip = 0;
	}
}

/* [sector, sector + bytes / 512) within the capacity, without overflow. */
static bool blk_in_range(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t n = bytes / SECTOR;

	return sector <= b->vb_capacity && n <= b->vb_capacity - sector;
}

/* Should this read or write fail on purpose (VMM_BLK_FAIL_EVERY)? */
static bool blk_inject(struct virtio_blk *b, enum blk_op op)
{
	if (b->vb_fail_every == 0 || (b->vb_fail_op != 0 && b->vb_fail_op != (int)op))
		return false;
	return ++b->vb_fail_count % b->vb_fail_every == 0;
}

static void blk_parse_rw(struct virtio_blk *b, const struct virtq_chain *c,
    struct blk_req *r, uint64_t sector, uint64_t data_in, uint64_t data_out)
{
	bool in = r->br_type == VIRTIO_BLK_T_IN;
	uint64_t len = in ? data_out : data_in;

	if ((in && data_in != 0) || (!in && data_out != 0)) {
		virtio_blk_bad(b, BLK_BAD_LAYOUT, "a %s request has data buffers of the wrong "
		    "direction", in ? "read" : "write");
		return;
	}
	if (len % SECTOR != 0 || len > BLK_REQ_MAX_BYTES) {
		virtio_blk_bad(b, BLK_BAD_LAYOUT, "a %s of %llu bytes (not whole sectors, or "
		    "more than %llu MiB)", in ? "read" : "write", (unsigned long long)len,
		    BLK_REQ_MAX_BYTES >> 20);
		return;
	}
	if (!blk_in_range(b, sector, len)) {
		virtio_blk_bad(b, BLK_BAD_RANGE, "a %s of sectors %llu+%llu beyond the capacity "
		    "of %llu", in ? "read" : "write", (unsigned long long)sector,
		    (unsigned long long)(len / SECTOR), (unsigned long long)b->vb_capacity);
		return;
	}
	if (!in && b->vb_ro) {
		virtio_blk_bad(b, BLK_BAD_RO, "a write to the read-only device");
		return;
	}
	if (len == 0) {
		r->br_status = VIRTIO_BLK_S_OK;
		return;
	}
	r->br_op = in ? BLK_OP_READ : BLK_OP_WRITE;
	if (blk_inject(b, r->br_op)) {
		virtio_blk_bad(b, BLK_BAD_INJECTED, "injected");
		r->br_op = BLK_OP_NONE;
		return;
	}
	r->br_off = sector * SECTOR;
	r->br_len = len;
	if (in) {
		blk_iov(r, c, c->vc_nread, c->vc_nseg, 0, len);
		r->br_written = (uint32_t)len;
	} else {
		blk_iov(r, c, 0, c->vc_nread, sizeof(struct virtio_blk_outhdr), len);
	}
}

static void blk_parse_discard(struct virtio_blk *b, const struct virtq_chain *c,
    struct blk_req *r, uint64_t data_in, uint64_t data_out)
{
	bool wz = r->br_type == VIRTIO_BLK_T_WRITE_ZEROES;
	struct virtio_blk_discard_write_zeroes seg;

	/* One segment: max_discard_seg and max_write_zeroes_seg are 1. */
	if (data_in != sizeof(seg) || data_out != 0 ||
	    blk_gather(c, sizeof(struct virtio_blk_outhdr), &seg, sizeof(seg)) != 0) {
		virtio_blk_bad(b, BLK_BAD_LAYOUT, "a %s request is not one 16-byte segment",
		    wz ? "write-zeroes" : "discard");
		return;
	}
	if (seg.flags & ~(wz ? VIRTIO_BLK_WZ_F_UNMAP : 0u)) {
		r->br_status = VIRTIO_BLK_S_UNSUPP;
		virtio_blk_bad(b, BLK_BAD_LAYOUT, "a %s segment with flags 0x%x",
		    wz ? "write-zeroes" : "discard", seg.flags);
		return;
	}
	if (seg.num_sectors > VIRTIO_BLK_DISCARD_MAX ||
	    !blk_in_range(b, seg.sector, (uint64_t)seg.num_sectors * SECTOR)) {
		virtio_blk_bad(b, BLK_BAD_RANGE, "a %s of sectors %llu+%u beyond the capacity "
		    "of %llu or the most in one request", wz ? "write-zeroes" : "discard",
		    (unsigned long long)seg.sector, seg.num_sectors,
		    (unsigned long long)b->vb_capacity);
		return;
	}
	if (b->vb_ro) {
		virtio_blk_bad(b, BLK_BAD_RO, "a %s on the read-only device",
		    wz ? "write-zeroes" : "discard");
		return;
	}
	if (seg.num_sectors == 0) {
		r->br_status = VIRTIO_BLK_S_OK;
		return;
	}
	r->br_op = wz ? BLK_OP_WRITE_ZEROES : BLK_OP_DISCARD;
	r->br_off = seg.sector * SECTOR;
	r->br_len = (uint64_t)seg.num_sectors * SECTOR;
	r->br_fl_mode = FALLOC_FL_KEEP_SIZE |
	    (wz && !(seg.flags & VIRTIO_BLK_WZ_F_UNMAP) ? FALLOC_FL_ZERO_RANGE :
	    FALLOC_FL_PUNCH_HOLE);
}

/* GET_ID: the id into the writable data, as much of it as fits. */
static void blk_get_id(struct virtio_blk *b, const struct virtq_chain *c, struct blk_req *r,
    uint64_t data_in, uint64_t data_out)
{
	char id[VIRTIO_BLK_ID_BYTES] = { 0 };
	uint64_t left = data_out < sizeof(id) ? data_out : sizeof(id);
	const char *p = id;

	if (data_in != 0) {
		virtio_blk_bad(b, BLK_BAD_LAYOUT, "a get-id request with readable data");
		return;
	}
	memcpy(id, VIRTIO_BLK_ID, sizeof(VIRTIO_BLK_ID) - 1);
	r->br_written = (uint32_t)left;
	for (unsigned i = c->vc_nread; i < c->vc_nseg && left > 0; i++) {
		const struct virtq_seg *s = &c->vc_seg[i];
		uint64_t n = s->vs_len < left ? s->vs_len : left;
		memcpy(s->vs_host, p, (size_t)n);
		p += n;
		left -= n;
	}
	r->br_status = VIRTIO_BLK_S_OK;
}

void virtio_blk_parse(struct virtio_blk *b, const struct virtq_chain *c, struct blk_req *r)
{
	struct virtio_blk_outhdr h;

	r->br_head = c->vc_head;
	r->br_type = ~0u;
	r->br_op = BLK_OP_NONE;
	r->br_status = VIRTIO_BLK_S_IOERR;
	r->br_status_host = NULL;
	r->br_written = 0;
	r->br_niov = 0;
	r->br_off = r->br_len = 0;

	const struct virtq_seg *last = &c->vc_seg[c->vc_nseg - 1];
	if (last->vs_write && last->vs_host != NULL && last->vs_len >= 1)
		r->br_status_host = last->vs_host + last->vs_len - 1;
	if (c->vc_err != VIRTQ_CHAIN_OK) {
		virtio_blk_bad(b, BLK_BAD_CHAIN, "a request names %s",
		    c->vc_err == VIRTQ_CHAIN_ERANGE ? "a buffer outside guest RAM" :
		    c->vc_err == VIRTQ_CHAIN_EZERO ? "a zero-length buffer" :
		    "a device-readable buffer after a device-writable one");
		return;
	}
	if (r->br_status_host == NULL) {
		virtio_blk_bad(b, BLK_BAD_LAYOUT, "a request without a device-writable status "
		    "byte at its end");
		return;
	}
	if (blk_gather(c, 0, &h, sizeof(h)) != 0) {
		virtio_blk_bad(b, BLK_BAD_LAYOUT, "a request shorter than its 16-byte header");
		return;
	}
	r->br_type = h.type;
	uint64_t data_in = c->vc_read_bytes - sizeof(h), data_out = c->vc_write_bytes - 1;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		blk_parse_rw(b, c, r, h.sector, data_in, data_out);
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (data_in != 0 || data_out != 0) {
			virtio_blk_bad(b, BLK_BAD_LAYOUT, "a flush request with data");
			break;
		}
		r->br_op = BLK_OP_FLUSH;
		break;
	case VIRTIO_BLK_T_GET_ID:
		blk_get_id(b, c, r, data_in, data_out);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		blk_parse_discard(b, c, r, data_in, data_out);
		break;
	default:
		r->br_status = VIRTIO_BLK_S_UNSUPP;
		virtio_blk_bad(b, BLK_BAD_TYPE, "a request of unknown type %u", h.type);
		break;
	}
}

void virtio_blk_io_done(struct virtio_blk *b, struct blk_req *r, int64_t res)
{
	bool ok;

	switch (r->br_op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		ok = res >= 0 && (uint64_t)res == r->br_len;
		break;
	case BLK_OP_DISCARD:
		/* Advisory: a file system that cannot punch holes keeps the data. */
		ok = res == 0 || res == -EOPNOTSUPP;
		break;
	default:
		ok = res == 0;
		break;
	}
	r->br_status = ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	if (ok)
		return;
	const char *what = r->br_op == BLK_OP_READ ? "read" : r->br_op == BLK_OP_WRITE ?
	    "write" : r->br_op == BLK_OP_FLUSH ? "flush" : "fallocate";
	if (res < 0)
		virtio_blk_bad(b, BLK_BAD_IO, "host %s of %llu bytes at offset %llu failed: %s",
		    what, (unsigned long long)r->br_len, (unsigned long long)r->br_off,
		    strerror((int)-res));
	else
		virtio_blk_bad(b, BLK_BAD_IO, "host %s of %llu bytes at offset %llu was short "
		    "(%lld bytes)", what, (unsigned long long)r->br_len,
		    (unsigned long long)r->br_off, (long long)res);
}

void virtio_blk_complete(struct virtio_blk *b, struct virtq *vq, struct blk_req *r)
{
	struct blk_stats *s = &b->vb_stats;
	uint32_t len = 0;

	if (r->br_status_host != NULL) {
		*(volatile uint8_t *)r->br_status_host = r->br_status;
		len = (r->br_status == VIRTIO_BLK_S_OK ? r->br_written : 0) + 1;
	}
	virtq_push(vq, r->br_head, len);
	s->bs_requests++;
	if (r->br_status != VIRTIO_BLK_S_OK || r->br_status_host == NULL) {
		s->bs_errors++;
		return;
	}
	switch (r->br_type) {
	case VIRTIO_BLK_T_IN:
		s->bs_reads++;
		s->bs_bytes_read += r->br_len;
		break;
	case VIRTIO_BLK_T_OUT:
		s->bs_writes++;
		s->bs_bytes_written += r->br_len;
		break;
	case VIRTIO_BLK_T_FLUSH:
		s->bs_flushes++;
		break;
	case VIRTIO_BLK_T_GET_ID:
		s->bs_get_ids++;
		break;
	case VIRTIO_BLK_T_DISCARD:
		s->bs_discards++;
		break;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		s->bs_write_zeroes++;
		break;
	default:
		break;
	}
}

/* VMM_BLK_FAIL_EVERY=N and VMM_BLK_FAIL_OP=read|write; bad values are refused. */
static int blk_fault_env(struct virtio_blk *b, char *err, size_t errlen)
{
	const char *every = getenv("VMM_BLK_FAIL_EVERY"), *op = getenv("VMM_BLK_FAIL_OP");

	if (every != NULL && *every != '\0') {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(every, &end, 10);
		if (errno != 0 || *end != '\0' || n == 0 || every[0] == '-') {
			snprintf(err, errlen, "VMM_BLK_FAIL_EVERY=%s: give a whole number of "
			    "requests from 1 up", every);
			return -1;
		}
		b->vb_fail_every = n;
	}
	if (op != NULL && *op != '\0') {
		if (strcmp(op, "read") == 0) {
			b->vb_fail_op = BLK_OP_READ;
		} else if (strcmp(op, "write") == 0) {
			b->vb_fail_op = BLK_OP_WRITE;
		} else {
			snprintf(err, errlen, "VMM_BLK_FAIL_OP=%s: give read or write", op);
			return -1;
		}
	}
	return 0;
}

int virtio_blk_init(struct virtio_blk *b, const struct guest_mem *gm, int fd, int direct_fd,
    uint64_t size, bool ro, void (*irq)(void *ctx), void *irq_ctx, char *err,
    size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->vb_poll_ns = VIRTIO_BLK_POLL_NS;
	b->vb_gm = gm;
	b->vb_fd = fd;
	b->vb_direct_fd = direct_fd;
	b->vb_kick_fd = -1;
	/* Whole blocks of VIRTIO_BLK_BLK_SIZE_VALUE: a tail shorter than one is unused. */
	b->vb_capacity = size / VIRTIO_BLK_BLK_SIZE_VALUE * (VIRTIO_BLK_BLK_SIZE_VALUE / SECTOR);
	b->vb_ro = ro;
	if (blk_fault_env(b, err, errlen) != 0)
		return -1;

	struct virtio_blk_config *cf = &b->vb_config;
	cf->capacity = b->vb_capacity;
	cf->size_max = VIRTIO_BLK_SIZE_MAX_VALUE;
	cf->seg_max = VIRTIO_BLK_SEG_MAX_VALUE;
	cf->blk_size = VIRTIO_BLK_BLK_SIZE_VALUE;
	cf->num_queues = 1;
	cf->max_discard_sectors = VIRTIO_BLK_DISCARD_MAX;
	cf->max_discard_seg = 1;
	cf->discard_sector_alignment = VIRTIO_BLK_BLK_SIZE_VALUE / SECTOR;
	cf->max_write_zeroes_sectors = VIRTIO_BLK_DISCARD_MAX;
	cf->max_write_zeroes_seg = 1;
	cf->write_zeroes_may_unmap = 1;
	uint64_t features = 1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_BLK_F_SEG_MAX |
	    1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
	    1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_DISCARD |
	    1ull << VIRTIO_BLK_F_WRITE_ZEROES | (ro ? 1ull << VIRTIO_BLK_F_RO : 0);
	virtio_mmio_init(&b->vb_tr, gm, &virtio_blk_ops, b, features, cf, sizeof(*cf), irq,
	    irq_ctx);
	pthread_mutex_init(&b->vb_lock, NULL);
	pthread_cond_init(&b->vb_cond, NULL);
	if (blk_uring_create(b, err, errlen) != 0) {
		virtio_blk_destroy(b);
		return -1;
	}
	return 0;
}

int virtio_blk_kick_fd(const struct virtio_blk *b)
{
	return b->vb_kick_fd;
}

void virtio_blk_summary(const struct virtio_blk *b, char *buf, size_t buflen)
{
	const struct blk_stats *s = &b->vb_stats;
	int n = snprintf(buf, buflen, "virtio-blk: %llu requests (%llu reads, %llu writes, "
	    "%llu flushes, %llu discards, %llu write-zeroes), %.1f MiB read, %.1f MiB "
	    "written, %llu errors, %.2f requests per submit, %llu wake-ups, %llu found by "
	    "polling, %llu interrupts",
	    (unsigned long long)s->bs_requests, (unsigned long long)s->bs_reads,
	    (unsigned long long)s->bs_writes, (unsigned long long)s->bs_flushes,
	    (unsigned long long)s->bs_discards, (unsigned long long)s->bs_write_zeroes,
	    (double)s->bs_bytes_read / (1 << 20), (double)s->bs_bytes_written / (1 << 20),
	    (unsigned long long)s->bs_errors,
	    s->bs_submits ? (double)s->bs_sqes / (double)s->bs_submits : 0.0,
	    (unsigned long long)s->bs_notifies, (unsigned long long)s->bs_polled,
	    (unsigned long long)s->bs_interrupts);
	for (unsigned k = 0; k < BLK_BAD_MAX && n > 0 && (size_t)n < buflen; k++) {
		if (s->bs_bad[k] != 0)
			n += snprintf(buf + n, buflen - (size_t)n, "; %s %llu", blk_bad_names[k],
			    (unsigned long long)s->bs_bad[k]);
	}
	if (s->bs_unaligned != 0 && n > 0 && (size_t)n < buflen)
		snprintf(buf + n, buflen - (size_t)n, "; %llu unaligned for O_DIRECT",
		    (unsigned long long)s->bs_unaligned);
}
