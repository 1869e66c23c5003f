/*
 * The disk's own speed, the reference the swap figures are printed beside: raw io_uring
 * on the file the guest swaps to, with nothing of the VMM in the way.
 *
 *   uring-ref seqwrite FILE MIB [direct]    128 KiB writes in file order, 8 in flight,
 *                                           then fdatasync: "uring.seqwrite MIB/s"
 *   uring-ref randread FILE COUNT [direct]  COUNT 4 KiB reads at random page offsets of
 *                                           the file (which must exist), one at a time
 *                                           (queue depth 1): "uring.randread.qd1 us" per
 *                                           read (median)
 * direct opens FILE O_DIRECT, as `vmm run --swap-direct` does: the figures are then the
 * device's, not the host page cache's.
 *
 * Prints one line: NAME VALUE. Exit 1 with a line on stderr on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEQ_CHUNK   (128u << 10)
#define SEQ_DEPTH   8
#define PAGE        4096u

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "uring-ref: %s: %s\n", what, strerror(err));
	exit(1);
}

/* Reap one completion; a short or failed transfer is fatal. */
static void reap(struct io_uring *ring, unsigned want)
{
	struct io_uring_cqe *cqe;
	int rv = io_uring_wait_cqe(ring, &cqe);

	if (rv < 0)
		die("io_uring_wait_cqe", -rv);
	if (cqe->res < 0)
		die("transfer", -cqe->res);
	if ((unsigned)cqe->res != want)
		die("short transfer", EIO);
	io_uring_cqe_seen(ring, cqe);
}

static int seqwrite(const char *path, unsigned long mib, int oflags)
{
	struct io_uring ring;
	int fd = open(path, O_WRONLY | O_CREAT | oflags, 0600);
	static uint8_t buf[SEQ_DEPTH][SEQ_CHUNK] __attribute__((aligned(PAGE)));
	uint64_t total = (uint64_t)mib << 20, off = 0;
	unsigned inflight = 0, slot = 0;

	if (fd < 0)
		die(path, errno);
	for (unsigned i = 0; i < SEQ_DEPTH; i++)
		memset(buf[i], 0x5a ^ i, SEQ_CHUNK);
	int rv = io_uring_queue_init(SEQ_DEPTH * 2, &ring, 0);
	if (rv < 0)
		die("io_uring_queue_init", -rv);
	double t0 = now_us();
	while (off < total || inflight > 0) {
		while (off < total && inflight < SEQ_DEPTH) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			io_uring_prep_write(sqe, fd, buf[slot], SEQ_CHUNK, off);
			slot = (slot + 1) % SEQ_DEPTH;
			off += SEQ_CHUNK;
			inflight++;
		}
		if ((rv = io_uring_submit(&ring)) < 0)
			die("io_uring_submit", -rv);
		reap(&ring, SEQ_CHUNK);
		inflight--;
	}
	if (fdatasync(fd) != 0)
		die("fdatasync", errno);
	double us = now_us() - t0;
	io_uring_queue_exit(&ring);
	close(fd);
	printf("uring.seqwrite %.1f\n", (double)mib / (us / 1e6));
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int randread(const char *path, unsigned long count, int oflags)
{
	struct io_uring ring;
	struct stat st;
	int fd = open(path, O_RDONLY | oflags);
	static uint8_t buf[PAGE] __attribute__((aligned(PAGE)));
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	if (fd < 0)
		die(path, errno);
	if (fstat(fd, &st) != 0)
		die("fstat", errno);
	uint64_t pages = (uint64_t)st.st_size / PAGE;
	if (pages == 0)
		die(path, EINVAL);
	double *lat = malloc(count * sizeof(*lat));
	if (lat == NULL)
		die("malloc", ENOMEM);
	int rv = io_uring_queue_init(4, &ring, 0);
	if (rv < 0)
		die("io_uring_queue_init", -rv);
	for (unsigned long i = 0; i < count; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read(sqe, fd, buf, PAGE, (seed % pages) * PAGE);
		double t0 = now_us();
		if ((rv = io_uring_submit(&ring)) < 0)
			die("io_uring_submit", -rv);
		reap(&ring, PAGE);
		lat[i] = now_us() - t0;
	}
	qsort(lat, count, sizeof(*lat), cmp_double);
	printf("uring.randread.qd1 %.3f\n", lat[count / 2]);
	io_uring_queue_exit(&ring);
	close(fd);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	int oflags = 0;

	if (argc == 5 && strcmp(argv[4], "direct") == 0)
		oflags = O_DIRECT;
	else if (argc != 4)
		goto usage;
	char *end;
	unsigned long n = strtoul(argv[3], &end, 10);
	if (*end != '\0' || n == 0 || n > (1ul << 20))
		goto usage;
	if (strcmp(argv[1], "seqwrite") == 0)
		return seqwrite(argv[2], n, oflags);
	if (strcmp(argv[1], "randread") == 0)
		return randread(argv[2], n, oflags);
usage:
	fprintf(stderr, "usage: uring-ref seqwrite FILE MIB [direct] | randread FILE COUNT [direct]\n");
	return 2;
}
