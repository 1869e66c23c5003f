/*
 * The malloc statistics stream (vm/malloc.h): one record per registered malloc type,
 * the per-CPU counters summed, in the fixed little-endian layout host tools parse. Like
 * UMA's (vm/uma_stats.c) it is written byte by byte, so neither the compiler's padding
 * nor the byte order of the machine shows, and every byte is counted whether it fits
 * or not: the caller learns the whole size from a short buffer.
 */
#include "vm/malloc_int.h"

struct malloc_stream_out {
	uint8_t *mso_buf;
	size_t mso_len;
	size_t mso_off;
};

static void mso_put(struct malloc_stream_out *o, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++, o->mso_off++)
		if (o->mso_off < o->mso_len)
			o->mso_buf[o->mso_off] = (uint8_t)(v >> (8 * i));
}

static void mso_name(struct malloc_stream_out *o, const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	/* NUL-padded; a longer name is cut to 31 bytes so a reader always finds a NUL. */
	for (size_t i = 0; i < 32; i++)
		mso_put(o, i < n && i < 31 ? (uint8_t)name[i] : 0, 1);
}

static size_t malloc_stats_stream_locked(void *buf, size_t len)
{
	struct malloc_stream_out o = { buf, len, 0 };
	struct malloc_type_summary s;
	uint32_t ntypes = 0;

	for (struct malloc_type *t = malloc_types_first(); t != NULL; t = t->ks_next)
		ntypes++;
	mso_put(&o, MALLOC_STREAM_MAGIC, 4);
	mso_put(&o, MALLOC_STREAM_VERSION, 2);
	mso_put(&o, MALLOC_STREAM_REC_SIZE, 2);
	mso_put(&o, ntypes, 4);
	mso_put(&o, 0, 4);
	KASSERT(o.mso_off == MALLOC_STREAM_HDR_SIZE,
	    ("malloc_stats_stream: header is %zu bytes", o.mso_off));
	for (struct malloc_type *t = malloc_types_first(); t != NULL; t = t->ks_next) {
		size_t start = o.mso_off;

		malloc_type_summary(t, &s);
		mso_name(&o, t->ks_shortdesc);
		mso_put(&o, s.mtsu_inuse, 8);
		mso_put(&o, s.mtsu_inuse_bytes, 8);
		mso_put(&o, s.mtsu_numallocs, 8);
		mso_put(&o, s.mtsu_failures, 8);
		mso_put(&o, s.mtsu_size, 8);
		mso_put(&o, MALLOC_MIN_SIZE, 8);
		KASSERT(o.mso_off - start == MALLOC_STREAM_REC_SIZE,
		    ("malloc_stats_stream: record is %zu bytes", o.mso_off - start));
		(void)start;
	}
	return o.mso_off;
}

size_t malloc_stats_stream(void *buf, size_t len)
{
	size_t n;

	malloc_types_lock(true);
	n = malloc_stats_stream_locked(buf, len);
	malloc_types_unlock();
	return n;
}

size_t malloc_stats_stream_nowait(void *buf, size_t len)
{
	size_t n;

	if (!malloc_types_lock(false))
		return 0;
	n = malloc_stats_stream_locked(buf, len);
	malloc_types_unlock();
	return n;
}
