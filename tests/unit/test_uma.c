/*
 * UMA on the host only: what needs threads on several simulated CPUs, sleeping on
 * limits, or a machine small enough to run out of memory. The checks that hold on any
 * VM core are in tests/vmtests/uma_tests.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "tests/support/vm_host.h"
#include "tests/vmtests/vmtest.h"
#include "vm/uma_int.h"
#include "vm/vm_lowmem.h"
#include "vm/vm_page.h"

#define NTHREADS 4

static void boot4(void)
{
	vm_host_boot_default();         /* 64 MiB, 4 CPUs */
}

static void boot_small(void)
{
	struct vm_host_config cfg = { .ram_bytes = 8ull << 20, .ncpus = 4 };

	vm_host_boot(&cfg);
}

static struct uma_zone_stat zstat(uma_zone_t z, struct uma_percpu_stat *pcpu)
{
	struct uma_zone_stat zs;

	uma_zone_stats(z, &zs, pcpu, pcpu != NULL ? vm_ncpus() : 0);
	return zs;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- per-CPU caches under 4 threads ---------------------------------------------- */

struct stress_arg {
	uma_zone_t zone;
	int cpu;
	int ops;
	uint64_t allocs, frees;
	int bad;                        /* stamps found overwritten */
};

#define STRESS_SIZE 128
#define STRESS_HOLD 300

static void stamp(uint64_t *p, uint64_t v)
{
	for (int i = 0; i < STRESS_SIZE / 8; i++)
		p[i] = v + (uint64_t)i;
}

static bool stamp_ok(const uint64_t *p, uint64_t v)
{
	for (int i = 0; i < STRESS_SIZE / 8; i++)
		if (p[i] != v + (uint64_t)i)
			return false;
	return true;
}

/*
 * Each thread keeps up to STRESS_HOLD items, each stamped with (cpu, sequence) over its
 * whole length, and checks the stamp when it frees the item: an item handed to two
 * threads at once gets one thread's stamp overwritten by the other.
 */
static void *stress_thread(void *vp)
{
	struct stress_arg *a = vp;
	uint64_t *held[STRESS_HOLD], tag[STRESS_HOLD];
	int n = 0;
	unsigned seed = (unsigned)a->cpu * 7919u + 1;

	vm_host_set_cpu(a->cpu);
	for (int op = 0; op < a->ops; op++) {
		bool do_alloc = n == 0 || (n < STRESS_HOLD && (rand_r(&seed) % 100) < 52);
		if (op % 5000 == 4999 && a->cpu == 1)
			uma_zone_reclaim(a->zone, UMA_RECLAIM_DRAIN_CPU);
		if (do_alloc) {
			uint64_t *p = uma_zalloc(a->zone, (op & 1) ? M_NOWAIT : M_WAITOK);
			if (p == NULL)
				continue;
			tag[n] = ((uint64_t)a->cpu << 48) | (uint64_t)op << 8;
			stamp(p, tag[n]);
			held[n++] = p;
			a->allocs++;
		} else {
			int i = (int)(rand_r(&seed) % (unsigned)n);
			if (!stamp_ok(held[i], tag[i]))
				a->bad++;
			memset(held[i], 0xdd, STRESS_SIZE);
			uma_zfree(a->zone, held[i]);
			held[i] = held[--n];
			tag[i] = tag[n];
			a->frees++;
		}
	}
	while (n > 0) {
		n--;
		if (!stamp_ok(held[n], tag[n]))
			a->bad++;
		uma_zfree(a->zone, held[n]);
		a->frees++;
	}
	return NULL;
}

START_TEST(percpu_caches_never_hand_out_twice)
{
	uma_zone_t z = uma_zcreate("stress", STRESS_SIZE, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	struct stress_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	struct uma_percpu_stat pcpu[MAXCPU];

	for (int i = 0; i < NTHREADS; i++) {
		args[i] = (struct stress_arg){ .zone = z, .cpu = i, .ops = 200000 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, stress_thread, &args[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);

	struct uma_zone_stat zs = zstat(z, pcpu);
	uint64_t allocs = 0, frees = 0;
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_msg(args[i].bad == 0, "cpu %d found %d overwritten items", i,
		    args[i].bad);
		/* Each thread ran on its own CPU: its per-CPU record is its own count. */
		ck_assert_uint_eq(pcpu[i].ups_allocs, args[i].allocs);
		ck_assert_uint_eq(pcpu[i].ups_frees, args[i].frees);
		allocs += args[i].allocs;
		frees += args[i].frees;
	}
	ck_assert_uint_eq(zs.uzs_allocs, allocs);
	ck_assert_uint_eq(zs.uzs_frees, frees);
	ck_assert_uint_eq(allocs, frees);
	ck_assert_int_eq(uma_zone_get_cur(z), 0);
	ck_assert_uint_eq(zs.uzs_items, zs.uzs_cpu_cached + zs.uzs_zone_cached);
	ck_assert_uint_eq(zs.uzs_items + zs.uzs_keg_free,
	    zs.uzs_pages / zs.uzs_ppera * zs.uzs_ipers);
	uma_zdestroy(z);
}
END_TEST

/* ---- drain requests to other CPUs --------------------------------------------------- */

struct cpu_job {
	uma_zone_t zone;
	int cpu;
	int nalloc, nfree;
	void *items[64];
};

static void *cpu_job_thread(void *vp)
{
	struct cpu_job *j = vp;

	vm_host_set_cpu(j->cpu);
	for (int i = 0; i < j->nalloc; i++)
		j->items[i] = uma_zalloc(j->zone, M_WAITOK);
	for (int i = 0; i < j->nfree; i++)
		uma_zfree(j->zone, j->items[i]);
	return NULL;
}

static void run_on_cpu(struct cpu_job *j)
{
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, cpu_job_thread, j), 0);
	pthread_join(t, NULL);
}

START_TEST(remote_drain_honoured_at_next_operation)
{
	uma_zone_t z = uma_zcreate("remote", 256, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	struct uma_percpu_stat pcpu[MAXCPU];
	struct cpu_job j = { .zone = z, .cpu = 2, .nalloc = 50, .nfree = 50 };

	run_on_cpu(&j);
	zstat(z, pcpu);
	ck_assert_uint_gt(pcpu[2].ups_cached, 0);
	/* CPU 0 cannot touch CPU 2's cache: it posts a request. */
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN_CPU);
	zstat(z, pcpu);
	ck_assert_uint_gt(pcpu[2].ups_cached, 0);
	ck_assert_uint_ne(z->uz_cpu[2].uc_drain_req, 0);
	ck_assert(z->uz_fast & UZ_FAST_DRAIN);
	/* CPU 2's next allocation (fast path or not) empties its cache. */
	struct cpu_job k = { .zone = z, .cpu = 2, .nalloc = 1, .nfree = 0 };
	run_on_cpu(&k);
	zstat(z, pcpu);
	ck_assert_uint_eq(pcpu[2].ups_cached, 0);
	ck_assert_uint_eq(z->uz_cpu[2].uc_drain_req, 0);
	ck_assert(!(z->uz_fast & UZ_FAST_DRAIN));
	uma_zfree(z, k.items[0]);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN_CPU);
	ck_assert_uint_eq(zstat(z, NULL).uzs_pages, 0);
	uma_zdestroy(z);
}
END_TEST

START_TEST(remote_drain_honoured_by_free)
{
	uma_zone_t z = uma_zcreate("remote2", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	struct uma_percpu_stat pcpu[MAXCPU];
	struct cpu_job j = { .zone = z, .cpu = 3, .nalloc = 40, .nfree = 39 };

	run_on_cpu(&j);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN_CPU);
	zstat(z, pcpu);
	ck_assert_uint_ge(pcpu[3].ups_cached, 39);     /* the 39 frees + what the refill brought */
	/* A free on CPU 3 leaves the fast path while the request is pending. */
	struct cpu_job k = { .zone = z, .cpu = 3, .nalloc = 0, .nfree = 1 };
	k.items[0] = j.items[39];
	run_on_cpu(&k);
	zstat(z, pcpu);
	ck_assert_uint_le(pcpu[3].ups_cached, 1);
	ck_assert_uint_eq(z->uz_cpu[3].uc_drain_req, 0);
	uma_zdestroy(z);
}
END_TEST

/* A request to a CPU that never comes back lapses: the zone's fast paths recover. */
START_TEST(remote_drain_request_lapses)
{
	uma_zone_t z = uma_zcreate("remote3", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	struct cpu_job j = { .zone = z, .cpu = 2, .nalloc = 10, .nfree = 10 };

	run_on_cpu(&j);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN_CPU);
	ck_assert(z->uz_fast & UZ_FAST_DRAIN);
	void *p = uma_zalloc(z, M_WAITOK);         /* CPU 0: not its request */
	uma_zfree(z, p);
	ck_assert(z->uz_fast & UZ_FAST_DRAIN);
	usleep(1100 * 1000);
	p = uma_zalloc(z, M_WAITOK);
	ck_assert(!(z->uz_fast & UZ_FAST_DRAIN));
	ck_assert_uint_eq(z->uz_cpu[2].uc_drain_req, 0);
	ck_assert_uint_eq(z->uz_drain_pending, 0);
	uma_zfree(z, p);
	uma_zdestroy(z);
}
END_TEST

/* ---- limits with sleepers -------------------------------------------------------------- */

struct waiter {
	uma_zone_t zone;
	int cpu;
	void *item;
	int done;
};

static void *waiter_thread(void *vp)
{
	struct waiter *w = vp;

	vm_host_set_cpu(w->cpu);
	w->item = uma_zalloc(w->zone, M_WAITOK);
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

START_TEST(limit_waitok_sleeps_until_a_free)
{
	uma_zone_t z = uma_zcreate("limit-wait", 128, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	void *held[4];
	pthread_t t;

	uma_zone_set_max(z, 4);
	for (int i = 0; i < 4; i++)
		held[i] = uma_zalloc(z, M_WAITOK);
	ck_assert_ptr_null(uma_zalloc(z, M_NOWAIT));

	struct waiter w = { .zone = z, .cpu = 1 };
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_thread, &w), 0);
	usleep(100 * 1000);
	ck_assert_int_eq(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST), 0);
	ck_assert_uint_ge(zstat(z, NULL).uzs_sleeps, 1);
	uint64_t t0 = now_ms();
	uma_zfree(z, held[2]);
	pthread_join(t, NULL);
	/* Woken by the free (not by polling a long timeout), and never NULL. */
	ck_assert_uint_lt(now_ms() - t0, 1000);
	ck_assert_ptr_eq(w.item, held[2]);
	ck_assert_int_eq(uma_zone_get_cur(z), 4);
	held[2] = w.item;
	for (int i = 0; i < 4; i++)
		uma_zfree(z, held[i]);
	uma_zdestroy(z);
}
END_TEST

struct limit_arg {
	uma_zone_t zone;
	int cpu;
	uint64_t over;      /* times the zone was seen above its limit */
	int bad;
};

#define LIMIT_MAX 1000
#define LIMIT_EACH 200

static void *limit_thread(void *vp)
{
	struct limit_arg *a = vp;
	uint64_t *held[LIMIT_EACH];

	vm_host_set_cpu(a->cpu);
	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < LIMIT_EACH; i++) {
			held[i] = uma_zalloc(a->zone, M_WAITOK);
			if (held[i] == NULL) {
				a->bad++;
				return NULL;
			}
			held[i][0] = (uint64_t)a->cpu << 32 | (uint64_t)i;
			if (i % 50 == 0 &&
			    __atomic_load_n(&a->zone->uz_items, __ATOMIC_SEQ_CST) > LIMIT_MAX)
				a->over++;
		}
		for (int i = 0; i < LIMIT_EACH; i++) {
			if (held[i][0] != ((uint64_t)a->cpu << 32 | (uint64_t)i))
				a->bad++;
			uma_zfree(a->zone, held[i]);
		}
	}
	return NULL;
}

/* 4 x 200 items in use at most under a limit of 1000, caches on: threads may have to
 * sleep for items others cache, but all finish and the limit is never passed. */
START_TEST(limit_holds_under_contention)
{
	uma_zone_t z = uma_zcreate("limit-many", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	struct limit_arg args[NTHREADS];
	pthread_t th[NTHREADS];

	uma_zone_set_max(z, LIMIT_MAX);
	ck_assert_uint_gt(zstat(z, NULL).uzs_bucket_size, 0);
	for (int i = 0; i < NTHREADS; i++) {
		args[i] = (struct limit_arg){ .zone = z, .cpu = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, limit_thread, &args[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(args[i].bad, 0);
		ck_assert_uint_eq(args[i].over, 0);
	}
	struct uma_zone_stat zs = zstat(z, NULL);
	ck_assert_uint_le(zs.uzs_items, LIMIT_MAX);
	ck_assert_uint_eq(zs.uzs_allocs, (uint64_t)NTHREADS * 40 * LIMIT_EACH);
	ck_assert_uint_eq(zs.uzs_fails, 0);
	uma_zdestroy(z);
}
END_TEST

/* ---- memory pressure --------------------------------------------------------------- */

/* Pages UMA caches go back when vm_page runs short: the lowmem hook. */
START_TEST(lowmem_returns_cached_pages)
{
	uma_zone_t z = uma_zcreate("pressure", 1024, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	static void *items[8192];
	int n = 0;

	/* Fill about 4 MiB of the 8 MiB machine, then free it all into the caches. */
	while (n < 4096 && (items[n] = uma_zalloc(z, M_NOWAIT)) != NULL)
		n++;
	ck_assert_int_eq(n, 4096);
	for (int i = 0; i < n; i++)
		uma_zfree(z, items[i]);
	uint64_t cached_pages = zstat(z, NULL).uzs_pages;
	ck_assert_uint_ge(cached_pages, 1000);
	uint64_t fired = vm_lowmem_fired();

	/* Now take every page vm_page will give: it must get UMA's cached pages too. */
	static vm_page_t pages[4096];
	int np = 0;
	while (np < 4096 && (pages[np] = vm_page_alloc_noobj(VM_ALLOC_SYSTEM |
	    VM_ALLOC_NOWAIT)) != NULL)
		np++;
	ck_assert_uint_gt(vm_lowmem_fired(), fired);
	ck_assert_uint_lt(zstat(z, NULL).uzs_pages, cached_pages / 4);
	ck_assert_int_ge(np, (int)cached_pages);
	for (int i = 0; i < np; i++)
		vm_page_free(pages[i]);
	uma_zdestroy(z);
}
END_TEST

struct waitok_arg {
	uma_zone_t zone;
	void *item;
	int done;
};

static void *waitok_thread(void *vp)
{
	struct waitok_arg *a = vp;

	vm_host_set_cpu(1);
	a->item = uma_zalloc(a->zone, M_WAITOK);
	__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Out of memory: M_NOWAIT fails (counted), M_WAITOK sleeps until pages come back. */
START_TEST(out_of_memory_nowait_fails_waitok_waits)
{
	uma_zone_t hog = uma_zcreate("hog", 4096, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_NOBUCKET);
	uma_zone_t other = uma_zcreate("other", 2000, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_NOBUCKET);
	static void *items[4096];
	int n = 0;
	pthread_t t;

	while (n < 4096 && (items[n] = uma_zalloc(hog, M_NOWAIT)) != NULL)
		n++;
	ck_assert_int_lt(n, 4096);
	ck_assert_uint_eq(zstat(hog, NULL).uzs_fails, 1);
	ck_assert_ptr_null(uma_zalloc(other, M_NOWAIT));
	ck_assert_uint_eq(zstat(other, NULL).uzs_fails, 1);

	struct waitok_arg a = { .zone = other };
	ck_assert_int_eq(pthread_create(&t, NULL, waitok_thread, &a), 0);
	usleep(100 * 1000);
	ck_assert_int_eq(__atomic_load_n(&a.done, __ATOMIC_SEQ_CST), 0);
	for (int i = 0; i < n; i++)
		uma_zfree(hog, items[i]);
	uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
	pthread_join(t, NULL);
	ck_assert_ptr_nonnull(a.item);
	uma_zfree(other, a.item);
	uma_zdestroy(other);
	uma_zdestroy(hog);
}
END_TEST

/* ---- statistics across CPUs -------------------------------------------------------- */

START_TEST(stream_has_per_cpu_records)
{
	static uint8_t buf[128 * 1024];
	uma_zone_t z = uma_zcreate("stream-cpus", 512, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	struct cpu_job jobs[NTHREADS];

	for (int i = 0; i < NTHREADS; i++) {
		jobs[i] = (struct cpu_job){ .zone = z, .cpu = i, .nalloc = 10 + i * 5,
		    .nfree = i };
		run_on_cpu(&jobs[i]);
	}
	size_t len = uma_stats_stream(buf, sizeof(buf));
	ck_assert_uint_le(len, sizeof(buf));
	uint32_t nzones;
	uint16_t ncpus, zsz, psz;
	memcpy(&ncpus, buf + 6, 2);     /* the host is little-endian like the stream */
	memcpy(&nzones, buf + 8, 4);
	memcpy(&zsz, buf + 12, 2);
	memcpy(&psz, buf + 14, 2);
	ck_assert_uint_eq(ncpus, NTHREADS);
	const uint8_t *p = buf + UMA_STREAM_HDR_SIZE;
	bool found = false;
	for (uint32_t zi = 0; zi < nzones; zi++, p += zsz + (size_t)ncpus * psz) {
		if (strcmp((const char *)p, "stream-cpus") != 0)
			continue;
		found = true;
		for (int c = 0; c < NTHREADS; c++) {
			uint64_t rec[4];
			memcpy(rec, p + zsz + (size_t)c * psz, sizeof(rec));
			ck_assert_uint_eq(rec[0], (uint64_t)(10 + c * 5));     /* allocs */
			ck_assert_uint_eq(rec[1], (uint64_t)c);                /* frees */
			ck_assert_uint_eq(rec[2], 0);                          /* fails */
			ck_assert_uint_le(rec[3], (uint64_t)(10 + c * 5));     /* cached */
		}
		uint64_t items;
		memcpy(&items, p + 72, 8);
		ck_assert_uint_ge(items, 10 + 15 + 20 + 25 - 6);
	}
	ck_assert(found);
	for (int i = 0; i < NTHREADS; i++)
		for (int k = jobs[i].nfree; k < jobs[i].nalloc; k++)
			uma_zfree(z, jobs[i].items[k]);
	uma_zdestroy(z);
}
END_TEST

/* Boot makes no zone; the first zone brings UMA's own two, whose bootstrap pages are
 * tagged as UMA's and counted. */
START_TEST(boot_pages_tagged)
{
	uma_zone_t it = NULL;

	ck_assert(!uma_zone_iter(&it));
	ck_assert_uint_eq(uma_pages_boot(), 0);
	ck_assert_uint_eq(uma_pages_total(), 0);
	uint64_t free0 = vm_page_free_count();
	uma_zone_t z = uma_zcreate("first", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);

	it = NULL;
	ck_assert(uma_zone_iter(&it));
	ck_assert_str_eq(uma_zone_get_name(it), "UMA Zones");
	uintptr_t owner = uma_kmem_owner(it);
	ck_assert(owner & KMEM_OWNER_TAGGED);
	ck_assert_uint_eq(KMEM_OWNER_KIND(owner), KMEM_KIND_UMA_BOOT);
	ck_assert_uint_ge(uma_pages_boot(), 1);
	ck_assert_uint_eq(KMEM_OWNER_NPAGES(owner), uma_pages_boot());
	ck_assert(uma_zone_iter(&it));
	ck_assert_str_eq(uma_zone_get_name(it), "UMA Kegs");
	ck_assert(uma_zone_iter(&it));
	ck_assert_ptr_eq(it, z);
	ck_assert(!uma_zone_iter(&it));
	/* The pages left the free count; they and the new zone's are UMA's. */
	ck_assert_uint_ge(free0 - vm_page_free_count(), uma_pages_boot());
	ck_assert_uint_ge(uma_pages_total(), uma_pages_boot());
	uma_zdestroy(z);
}
END_TEST

/*
 * UMA's lazily made zones under racing first users: every thread on its own CPU makes
 * its first allocation from fresh zones at once (bucket zones, off-page slab headers,
 * UMA's own zones via the first uma_zcreate of each thread). Exactly one zone of each
 * name may result, and every item must be usable.
 */
struct race_arg {
	int cpu;
	uma_zone_t zone;
	void *item;
};

static pthread_barrier_t race_barrier;

static void *race_thread(void *p)
{
	struct race_arg *a = p;

	vm_host_set_cpu(a->cpu);
	pthread_barrier_wait(&race_barrier);
	a->zone = uma_zcreate("race", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZONE_OFFPAGE);
	a->item = uma_zalloc(a->zone, M_WAITOK);
	return NULL;
}

START_TEST(lazy_zones_made_once_under_races)
{
	pthread_t td[NTHREADS];
	struct race_arg args[NTHREADS];

	pthread_barrier_init(&race_barrier, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		args[i] = (struct race_arg){ .cpu = i };
		pthread_create(&td[i], NULL, race_thread, &args[i]);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(td[i], NULL);
	pthread_barrier_destroy(&race_barrier);
	int nzones = 0, nkegs = 0, nslabs = 0, nbuckets = 0, nrace = 0;
	for (uma_zone_t it = NULL; uma_zone_iter(&it);) {
		const char *n = uma_zone_get_name(it);
		nzones += strcmp(n, "UMA Zones") == 0;
		nkegs += strcmp(n, "UMA Kegs") == 0;
		nslabs += strcmp(n, "UMA Slabs") == 0;
		nbuckets += strcmp(n, "UMA Buckets 126") == 0;
		nrace += strcmp(n, "race") == 0;
	}
	ck_assert_int_eq(nzones, 1);
	ck_assert_int_eq(nkegs, 1);
	ck_assert_int_eq(nslabs, 1);
	ck_assert_int_eq(nbuckets, 1);
	ck_assert_int_eq(nrace, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_ptr_nonnull(args[i].item);
		memset(args[i].item, i, 64);
	}
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_uint_eq(((uint8_t *)args[i].item)[63], (uint8_t)i);
		uma_zfree(args[i].zone, args[i].item);
		uma_zdestroy(args[i].zone);
	}
}
END_TEST

/*
 * The shared UMA checks (tests/vmtests/uma_tests.c) on machines shaped unlike the
 * default 4-CPU one: 1 CPU, as the guest boots, and 3. Per-CPU cache sizes under a limit
 * depend on the CPU count, so a check that holds on 4 CPUs may not on 1.
 */
static int uma_vmt_index[64];
static int uma_vmt_count;

START_TEST(vmtests_on_other_cpu_counts)
{
	struct vm_host_config cfg = { .ram_bytes = 64ull << 20,
	    .ncpus = _i < uma_vmt_count ? 1 : 3 };

	vm_host_boot(&cfg);
	__start_set_vmtests[uma_vmt_index[_i % uma_vmt_count]]->fn();
}
END_TEST

static Suite *uma_suite(void)
{
	Suite *s = suite_create("uma");
	TCase *tc = tcase_create("threads");
	size_t nvmt = (size_t)(__stop_set_vmtests - __start_set_vmtests);

	for (size_t i = 0; i < nvmt; i++)
		if (strcmp(__start_set_vmtests[i]->suite, "uma") == 0) {
			if (uma_vmt_count == (int)nitems(uma_vmt_index))
				abort();
			uma_vmt_index[uma_vmt_count++] = (int)i;
		}
	if (uma_vmt_count == 0)
		abort();        /* the shared UMA checks must be linked in */

	tcase_add_checked_fixture(tc, boot4, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, percpu_caches_never_hand_out_twice);
	tcase_add_test(tc, remote_drain_honoured_at_next_operation);
	tcase_add_test(tc, remote_drain_honoured_by_free);
	tcase_add_test(tc, remote_drain_request_lapses);
	tcase_add_test(tc, limit_waitok_sleeps_until_a_free);
	tcase_add_test(tc, limit_holds_under_contention);
	tcase_add_test(tc, stream_has_per_cpu_records);
	tcase_add_test(tc, boot_pages_tagged);
	tcase_add_test(tc, lazy_zones_made_once_under_races);
	suite_add_tcase(s, tc);

	tc = tcase_create("cpus");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, vmtests_on_other_cpu_counts, 0, 2 * uma_vmt_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("pressure");
	tcase_add_checked_fixture(tc, boot_small, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lowmem_returns_cached_pages);
	tcase_add_test(tc, out_of_memory_nowait_fails_waitok_waits);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(uma_suite);
