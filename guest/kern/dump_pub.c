/*
 * Publishing statistics for the host (kern/dump_pub.h). Each buffer follows the
 * seqlock of devices/hostcall.h: pub_seq odd while it is rewritten, even again after,
 * with release fences between (x86 keeps stores in order; the fences keep the compiler
 * from moving them). One writer at a time: dump_pub_mtx, which panic only tries.
 *
 * A stream (UMA's, malloc's) is written straight into its buffer; when it did not fit
 * (a zone or type appeared) the snapshot is left torn, a buffer a quarter bigger than
 * the whole stream is allocated, the stream written there, and only then does the
 * descriptor point at it: a reader never sees a truncated stream as whole, nor a new
 * buffer before it holds a snapshot. The buffer left behind is marked torn and freed
 * (the one in the image stays). The panic path never allocates: a stream that no longer
 * fits keeps its last snapshot.
 */
#include "kern/systm.h"
#include "amd64/kva.h"
#include "amd64/tsc.h"
#include "dev/hostcall.h"
#include "kern/bootinfo.h"
#include "kern/dump_pub.h"
#include "kern/thread.h"

#include "vm/malloc.h"
#include "vm/uma.h"
#include "vm/vm_dump.h"

MALLOC_DEFINE(M_DUMPPUB, "dumppub");

struct dump_pub_vmmeter_buf dump_pub_vmmeter __attribute__((aligned(64))) = {
	.h = { .pub_magic = HC_PUB_MAGIC, .pub_cap = sizeof(struct vmmeter) },
};
struct dump_pub_uma_buf dump_pub_uma_boot __attribute__((aligned(64))) = {
	.h = { .pub_magic = HC_PUB_MAGIC, .pub_cap = DUMP_PUB_UMA_BOOT },
};
struct dump_pub_malloc_buf dump_pub_malloc_boot __attribute__((aligned(64))) = {
	.h = { .pub_magic = HC_PUB_MAGIC, .pub_cap = DUMP_PUB_MALLOC_BOOT },
};

/* A published stream: its writer (waiting and panic-path versions), its buffer now and
 * the descriptor field that names it. */
struct dump_pub_stream {
	size_t (*ps_write)(void *buf, size_t len);
	size_t (*ps_write_nowait)(void *buf, size_t len);
	struct hc_pub *ps_pub;          /* (dump_pub_mtx) */
	uint64_t *ps_desc;              /* hc_dump_desc's field */
	uint64_t ps_bytes;              /* (dump_pub_mtx) bytes of ps_pub when allocated,
	                                   0 for the image's buffer */
};

static struct dump_pub_stream dump_pub_streams[2] = {
	{ uma_stats_stream, uma_stats_stream_nowait, &dump_pub_uma_boot.h,
	  &hc_dump_desc.uma_zones, 0 },
	{ malloc_stats_stream, malloc_stats_stream_nowait, &dump_pub_malloc_boot.h,
	  &hc_dump_desc.malloc_types, 0 },
};

static struct mtx dump_pub_mtx;         /* one writer at a time */

/* ---- the seqlock's writer side ----------------------------------------------------- */

static uint64_t dump_pub_begin(struct hc_pub *h)
{
	uint64_t seq = (__atomic_load_n(&h->pub_seq, __ATOMIC_RELAXED) + 1) | 1;

	__atomic_store_n(&h->pub_seq, seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return seq;
}

static uint64_t dump_pub_now;           /* (dump_pub_mtx) this refresh's time */

static void dump_pub_end(struct hc_pub *h, uint64_t seq, uint64_t len)
{
	h->pub_len = len;
	h->pub_time_ns = dump_pub_now;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&h->pub_seq, seq + 1, __ATOMIC_RELAXED);
}

static inline void *dump_pub_data(struct hc_pub *h)
{
	return h + 1;
}

/* ---- streams ----------------------------------------------------------------------- */

/* A bigger buffer for ps (need bytes of data and room to grow); not yet published.
 * => NULL when no memory. */
static struct hc_pub *dump_pub_alloc(size_t need, uint64_t *bytesp)
{
	uint64_t bytes = round_page(sizeof(struct hc_pub) + need + need / 4);
	struct hc_pub *h;

	if (bytes - sizeof(struct hc_pub) > UINT32_MAX)
		return NULL;
	h = contigmalloc(bytes, M_DUMPPUB, M_WAITOK, 0, ~(vm_paddr_t)0, PAGE_SIZE, 0);
	if (h == NULL)
		return NULL;
	/* The host finds it by its physical address, and a dump must carry it. */
	dump_add_pages(vm_dmap_to_phys(h), atop(bytes));
	h->pub_magic = HC_PUB_MAGIC;
	h->pub_cap = (uint32_t)(bytes - sizeof(struct hc_pub));
	h->pub_seq = 0;
	h->pub_len = 0;
	h->pub_time_ns = 0;
	*bytesp = bytes;
	return h;
}

/* Point the descriptor at ps's new buffer h (which holds a snapshot), retire the old. */
static void dump_pub_switch(struct dump_pub_stream *ps, struct hc_pub *h, uint64_t bytes)
{
	struct hc_pub *old = ps->ps_pub;
	uint64_t old_bytes = ps->ps_bytes;

	__atomic_store_n(ps->ps_desc, vm_dmap_to_phys(h), __ATOMIC_RELEASE);
	ps->ps_pub = h;
	ps->ps_bytes = bytes;
	/* A reader that took the old address finds it torn, then not a snapshot at all. */
	__atomic_store_n(&old->pub_seq, old->pub_seq | 1, __ATOMIC_RELAXED);
	if (old_bytes == 0)
		return;     /* the image's buffer */
	__atomic_store_n(&old->pub_magic, 0, __ATOMIC_RELAXED);
	dump_drop_pages(vm_dmap_to_phys(old), atop(old_bytes));
	contigfree(old, old_bytes, M_DUMPPUB);
}

static void dump_pub_stream(struct dump_pub_stream *ps, bool panicking)
{
	struct hc_pub *h = ps->ps_pub;
	uint64_t seq, bytes = 0;
	size_t n;

	if (panicking) {
		/* Size first: a failed write would leave the last snapshot torn. */
		n = ps->ps_write_nowait(NULL, 0);
		if (n == 0 || n > h->pub_cap)
			return;
		seq = dump_pub_begin(h);
		n = ps->ps_write_nowait(dump_pub_data(h), h->pub_cap);
		if (n != 0 && n <= h->pub_cap)
			dump_pub_end(h, seq, n);
		return;
	}
	/* Straight in; rarely (a new zone or type) it did not fit: bigger, until it does. */
	for (int tries = 0; tries < 8; tries++) {
		seq = dump_pub_begin(h);
		n = ps->ps_write(dump_pub_data(h), h->pub_cap);
		if (n == 0)
			return;     /* UMA not up yet: nothing to say */
		if (n <= h->pub_cap) {
			dump_pub_end(h, seq, n);
			if (h != ps->ps_pub)
				dump_pub_switch(ps, h, bytes);
			return;
		}
		if (h != ps->ps_pub) {
			/* Outgrown before it was even published. */
			dump_drop_pages(vm_dmap_to_phys(h), atop(bytes));
			contigfree(h, bytes, M_DUMPPUB);
		}
		if ((h = dump_pub_alloc(n, &bytes)) == NULL) {
			printf("dump_pub: no memory for a %zu-byte statistics buffer\n", n);
			return;
		}
	}
}

/* ---- refreshes --------------------------------------------------------------------- */

static void dump_pub_vmmeter_refresh(void)
{
	struct hc_pub *h = &dump_pub_vmmeter.h;
	uint64_t seq = dump_pub_begin(h);

	vm_meter_snapshot(&dump_pub_vmmeter.vm);
	dump_pub_end(h, seq, sizeof(struct vmmeter));
}

void dump_pub_refresh(bool panicking)
{
	if (panicking) {
		/* The panicking thread may be a writer itself, or hold any lock: only a free
		 * writer's lock will do (released as it was taken, no wakeup to make). */
		if (!mtx_trylock_unowned(&dump_pub_mtx))
			return;
	} else {
		mtx_lock(&dump_pub_mtx);
	}
	/* The first question for the TSC's frequency prints (and may measure for 10 ms,
	 * or panic): not on the panic path, which then says "time unknown", 0. */
	dump_pub_now = !panicking || tsc_freq_known() ? vm_nanotime() : 0;
	dump_pub_vmmeter_refresh();
	for (size_t i = 0; i < nitems(dump_pub_streams); i++)
		dump_pub_stream(&dump_pub_streams[i], panicking);
	mtx_unlock(&dump_pub_mtx);
}

/* ---- the periodic refresher -------------------------------------------------------- */

static struct mtx dump_pub_thr_mtx;
static struct thread *dump_pub_td;      /* (dump_pub_thr_mtx) */
static uint64_t dump_pub_ns;            /* (dump_pub_thr_mtx) the interval, 0: stopped */
static bool dump_pub_stopping;          /* (dump_pub_thr_mtx) */
static uint64_t dump_pub_nperiodic;     /* refreshes by the thread (atomic) */

uint32_t dump_pub_parse_ms(const char *s)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > DUMP_PUB_MS_MAX)
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	return v >= DUMP_PUB_MS_MIN && v <= DUMP_PUB_MS_MAX ? (uint32_t)v : 0;
}

static void dump_pub_main(void *arg)
{
	(void)arg;
	mtx_lock(&dump_pub_thr_mtx);
	while (!dump_pub_stopping) {
		/* Each period costs one timer wake-up: the deadline of this sleep. */
		(void)vm_sleep(&dump_pub_ns, &dump_pub_thr_mtx, "statspub", dump_pub_ns);
		if (dump_pub_stopping)
			break;
		mtx_unlock(&dump_pub_thr_mtx);
		dump_pub_refresh(false);
		__atomic_fetch_add(&dump_pub_nperiodic, 1, __ATOMIC_RELAXED);
		mtx_lock(&dump_pub_thr_mtx);
	}
	mtx_unlock(&dump_pub_thr_mtx);
}

void dump_pub_start(uint32_t ms)
{
	if (ms == 0) {
		const char *v = bootinfo_arg("vm.stats_ms");
		ms = v != NULL ? dump_pub_parse_ms(v) : DUMP_PUB_MS_DEFAULT;
		KASSERT(ms != 0, ("dump_pub_start: vm.stats_ms=%s passed bootinfo's check", v));
	}
	mtx_lock(&dump_pub_thr_mtx);
	if (dump_pub_ns != 0) {     /* started already (or starting) */
		mtx_unlock(&dump_pub_thr_mtx);
		return;
	}
	dump_pub_ns = (uint64_t)ms * 1000000ull;
	dump_pub_stopping = false;
	mtx_unlock(&dump_pub_thr_mtx);
	/* A first snapshot now: the host's first look finds one. */
	dump_pub_refresh(false);
	struct thread *td = thread_create("statspub", PRI_KERN, dump_pub_main, NULL, true,
	    M_WAITOK);
	mtx_lock(&dump_pub_thr_mtx);
	dump_pub_td = td;
	mtx_unlock(&dump_pub_thr_mtx);
}

void dump_pub_stop(void)
{
	struct thread *td;

	mtx_lock(&dump_pub_thr_mtx);
	td = dump_pub_td;
	dump_pub_stopping = true;
	vm_wakeup(&dump_pub_ns);
	mtx_unlock(&dump_pub_thr_mtx);
	if (td == NULL)
		return;
	(void)thread_join(td);
	mtx_lock(&dump_pub_thr_mtx);
	dump_pub_td = NULL;
	dump_pub_ns = 0;
	mtx_unlock(&dump_pub_thr_mtx);
}

uint64_t dump_pub_interval_ns(void)
{
	return __atomic_load_n(&dump_pub_ns, __ATOMIC_RELAXED);
}

uint64_t dump_pub_periodic_count(void)
{
	return __atomic_load_n(&dump_pub_nperiodic, __ATOMIC_RELAXED);
}
