/*
 * The message buffer ring. It lives in .bss: only the pages the kernel writes to are
 * ever touched (a first touch costs ~5 us here), and its header is written by the first
 * message, so a boot that prints nothing touches none of it.
 */
#include "kern/msgbuf.h"
#include "kern/libkern.h"

struct msgbuf msgbuf __attribute__((aligned(64)));

static void msgbuf_init(void)
{
	msgbuf.msg_size = MSGBUF_SIZE;
	msgbuf.msg_wseq = 0;
	msgbuf.msg_rseq = 0;
	msgbuf.msg_magic = MSGBUF_MAGIC;
}

void msgbuf_write(const char *s, size_t n)
{
	if (__builtin_expect(msgbuf.msg_magic != MSGBUF_MAGIC, 0))
		msgbuf_init();
	if (n > MSGBUF_SIZE) {          /* only the tail survives anyway */
		s += n - MSGBUF_SIZE;
		msgbuf.msg_wseq += n - MSGBUF_SIZE;
		n = MSGBUF_SIZE;
	}
	size_t pos = msgbuf.msg_wseq & (MSGBUF_SIZE - 1);
	size_t first = MIN(n, MSGBUF_SIZE - pos);

	memcpy(&msgbuf.msg_buf[pos], s, first);
	if (first < n)
		memcpy(&msgbuf.msg_buf[0], s + first, n - first);
	msgbuf.msg_wseq += n;
}

size_t msgbuf_tail(char *dst, size_t n)
{
	uint64_t w = msgbuf.msg_wseq;

	n = MIN(n, MIN(w, (uint64_t)MSGBUF_SIZE));
	for (size_t i = 0; i < n; i++)
		dst[i] = msgbuf.msg_buf[(w - n + i) & (MSGBUF_SIZE - 1)];
	return n;
}
