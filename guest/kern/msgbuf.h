/*
 * The kernel message buffer: every line the kernel prints, in a ring a host tool can
 * read from a dump (found through hc_dump_desc.msgbuf). Layout, little-endian:
 *
 *   offset 0   msg_magic   MSGBUF_MAGIC
 *          4   msg_size    bytes in the ring (a power of two)
 *          8   msg_wseq    bytes ever written; byte i lives at msg_buf[i % msg_size]
 *         16   msg_rseq    bytes a reader has consumed (the kernel only initialises it)
 *         24   msg_buf[msg_size]
 *
 * The live text is msg_buf[max(0, wseq - size) .. wseq) modulo the size. The header is
 * written with the first message: until then it is all zero (magic 0: nothing written).
 */
#ifndef KERN_MSGBUF_H
#define KERN_MSGBUF_H

#include <stddef.h>
#include <stdint.h>

#define MSGBUF_MAGIC    0x4247534du     /* "MSGB" little-endian */
#define MSGBUF_SIZE     16384u

struct msgbuf {
	uint32_t msg_magic;
	uint32_t msg_size;
	uint64_t msg_wseq;
	uint64_t msg_rseq;
	char msg_buf[MSGBUF_SIZE];
};

extern struct msgbuf msgbuf;

/* Append n bytes; the caller serialises writers (console.c does). */
void msgbuf_write(const char *s, size_t n);
/* Copy the last (at most n) bytes written into dst; returns how many. For tests. */
size_t msgbuf_tail(char *dst, size_t n);

#endif /* KERN_MSGBUF_H */
