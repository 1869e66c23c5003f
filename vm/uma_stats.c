/*
 * The UMA statistics stream: a snapshot of every zone in the fixed little-endian layout
 * documented in vm/uma.h, for tools that read it from a dump or over the port. Written
 * byte by byte so the layout does not depend on the compiler's struct padding or the
 * machine's byte order.
 */
#include "vm/uma_int.h"

/* A cursor that counts every byte and stores those that fit. */
struct uma_stream_out {
	uint8_t *uso_buf;
	size_t uso_len;
	size_t uso_off;
};

static void uso_put(struct uma_stream_out *o, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++, o->uso_off++)
		if (o->uso_off < o->uso_len)
			o->uso_buf[o->uso_off] = (uint8_t)(v >> (8 * i));
}

static void uso_u16(struct uma_stream_out *o, uint64_t v) { uso_put(o, v, 2); }
static void uso_u32(struct uma_stream_out *o, uint64_t v) { uso_put(o, v, 4); }
static void uso_u64(struct uma_stream_out *o, uint64_t v) { uso_put(o, v, 8); }

static void uso_name(struct uma_stream_out *o, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < 32; i++)
		uso_put(o, i < n ? (uint8_t)name[i] : 0, 1);
}

static size_t uma_stats_stream_fill(void *buf, size_t len, bool wait)
{
	struct uma_stream_out o = { buf, len, 0 };
	struct uma_percpu_stat pcpu[MAXCPU];
	struct uma_zone_stat zs;
	int ncpus = uma_stats_ncpus();
	uint32_t nzones = 0;

	if (!uma_is_up())
		return 0;
	if (wait)
		uma_stats_lock();
	else if (!uma_stats_trylock())
		return 0;
	for (uma_zone_t z = uma_stats_first(); z != NULL; z = z->uz_link)
		nzones++;

	uso_u32(&o, UMA_STREAM_MAGIC);
	uso_u16(&o, UMA_STREAM_VERSION);
	uso_u16(&o, (uint64_t)ncpus);
	uso_u32(&o, nzones);
	uso_u16(&o, UMA_STREAM_ZONE_SIZE);
	uso_u16(&o, UMA_STREAM_PCPU_SIZE);
	uso_u64(&o, uma_pages_boot());
	size_t total_off = o.uso_off;
	uso_u64(&o, 0);                 /* total pages, patched below */

	uint64_t total = uma_pages_boot();
	for (uma_zone_t z = uma_stats_first(); z != NULL; z = z->uz_link) {
		if (wait)
			uma_zone_stats(z, &zs, pcpu, ncpus);
		else
			uma_zone_stats_nowait(z, &zs, pcpu, ncpus);
		/* Each keg's pages are counted once, with its primary zone. */
		if (!(z->uz_flags & UMA_ZONE_SECONDARY))
			total += zs.uzs_pages;
		size_t start = o.uso_off;
		uso_name(&o, zs.uzs_name);
		uso_u64(&o, zs.uzs_size);
		uso_u64(&o, zs.uzs_limit);
		uso_u64(&o, zs.uzs_pages);
		uso_u64(&o, zs.uzs_keg_free);
		uso_u64(&o, zs.uzs_zone_cached);
		uso_u64(&o, zs.uzs_items);
		uso_u64(&o, zs.uzs_allocs);
		uso_u64(&o, zs.uzs_frees);
		uso_u64(&o, zs.uzs_fails);
		uso_u64(&o, zs.uzs_sleeps);
		uso_u32(&o, zs.uzs_flags);
		uso_u32(&o, zs.uzs_ipers);
		uso_u32(&o, zs.uzs_ppera);
		uso_u32(&o, zs.uzs_bucket_size);
		KASSERT(o.uso_off - start == UMA_STREAM_ZONE_SIZE,
		    ("uma_stats_stream: zone header is %zu bytes", o.uso_off - start));
		(void)start;
		for (int cpu = 0; cpu < ncpus; cpu++) {
			uso_u64(&o, pcpu[cpu].ups_allocs);
			uso_u64(&o, pcpu[cpu].ups_frees);
			uso_u64(&o, pcpu[cpu].ups_fails);
			uso_u64(&o, pcpu[cpu].ups_cached);
		}
	}
	uma_stats_unlock();

	size_t end = o.uso_off;
	o.uso_off = total_off;
	uso_u64(&o, total);
	return end;
}

size_t uma_stats_stream(void *buf, size_t len)
{
	return uma_stats_stream_fill(buf, len, true);
}

size_t uma_stats_stream_nowait(void *buf, size_t len)
{
	return uma_stats_stream_fill(buf, len, false);
}

void uma_stats_print(void)
{
	struct uma_percpu_stat pcpu[MAXCPU];
	struct uma_zone_stat zs;
	int ncpus = uma_stats_ncpus();

	if (!uma_is_up())
		return;
	uma_stats_lock();
	for (uma_zone_t z = uma_stats_first(); z != NULL; z = z->uz_link) {
		uma_zone_stats(z, &zs, pcpu, ncpus);
		printf("uma: used=%llu requests=%llu fails=%llu zone=%s\n",
		    (unsigned long long)(zs.uzs_allocs - zs.uzs_frees),
		    (unsigned long long)zs.uzs_allocs, (unsigned long long)zs.uzs_fails,
		    zs.uzs_name);
	}
	uma_stats_unlock();
}
