/*
 * The ktest runner. Suites are found by name in two linker sets: set_ktests (KTEST) and
 * set_vmtests (VMTEST, tests/vmtests/vmtest.h; vmtest_fail/vmtest_log are in
 * ktest_vmtest.c). All output goes to COM1: it is what the user asked for.
 */
#include "amd64/trap.h"
#include "dev/hostcall.h"
#include "kern/console.h"
#include "kern/ktest.h"
#include "kern/systm.h"
#include "kern/vm_boot.h"
#include "tests/vmtests/vmtest.h"

extern const struct ktest *const __start_set_ktests[], *const __stop_set_ktests[];

/* The running test. */
static struct {
	const char *suite;
	const char *name;
	bool failed;
	char msg[200];
} kt_cur;

struct kt_counts {
	unsigned passed;
	unsigned failed;
};

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (kt_cur.failed)
		return;                 /* keep the first failure */
	kt_cur.failed = true;
	/* Only the file's base name: build paths are noise. */
	for (const char *p = file; *p != '\0'; p++) {
		if (*p == '/')
			file = p + 1;
	}
	n = snprintf(kt_cur.msg, sizeof(kt_cur.msg), "%s:%d: ", file, line);
	if (n >= (int)sizeof(kt_cur.msg))
		return;
	va_start(ap, fmt);
	vsnprintf(kt_cur.msg + n, sizeof(kt_cur.msg) - n, fmt, ap);
	va_end(ap);
}

void ktest_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vprintf(CONS_TTY, fmt, ap);
	va_end(ap);
}

static void kt_panic_hook(void)
{
	if (kt_cur.name != NULL)
		console_printf("ktest: panic in %s.%s\n", kt_cur.suite, kt_cur.name);
}

static void kt_run_one(const char *suite, const char *name, void (*fn)(void),
    struct kt_counts *c)
{
	kt_cur.suite = suite;
	kt_cur.name = name;
	kt_cur.failed = false;
	kt_cur.msg[0] = '\0';
	fn();
	trap_expect_done(NULL);         /* a failed test may leave one armed */
	if (kt_cur.failed) {
		c->failed++;
		console_printf("ktest: %s.%s ... FAILED (%s)\n", suite, name, kt_cur.msg);
	} else {
		c->passed++;
		console_printf("ktest: %s.%s ... ok\n", suite, name);
	}
	kt_cur.name = NULL;
}

static size_t kt_nvmtests(void)
{
	if (__start_set_vmtests == NULL)
		return 0;
	return (size_t)(__stop_set_vmtests - __start_set_vmtests);
}

/* Run every test of one suite, in set order; false when the suite has none. */
static bool kt_run_suite(const char *suite, struct kt_counts *total)
{
	struct kt_counts c = { 0, 0 };
	size_t nkt = (size_t)(__stop_set_ktests - __start_set_ktests);
	size_t nvt = kt_nvmtests();

	for (size_t i = 0; i < nkt; i++) {
		const struct ktest *t = __start_set_ktests[i];
		if (strcmp(t->kt_suite, suite) == 0)
			kt_run_one(t->kt_suite, t->kt_name, t->kt_fn, &c);
	}
	for (size_t i = 0; i < nvt; i++) {
		const struct vmtest *t = __start_set_vmtests[i];
		if (strcmp(t->suite, suite) != 0)
			continue;
		vm_boot();              /* VMTESTs run against an initialised VM core */
		kt_run_one(t->suite, t->name, t->fn, &c);
	}
	if (c.passed + c.failed == 0)
		return false;
	console_printf("ktest: suite %s: %u passed, %u failed\n", suite, c.passed, c.failed);
	total->passed += c.passed;
	total->failed += c.failed;
	return true;
}

/* Has a suite of this name appeared before position (set, index)? Suites run once, in
 * the order of their first test. */
static bool kt_seen_before(const char *suite, int set, size_t index)
{
	size_t nkt = (size_t)(__stop_set_ktests - __start_set_ktests);

	for (size_t i = 0; i < (set == 0 ? index : nkt); i++) {
		if (strcmp(__start_set_ktests[i]->kt_suite, suite) == 0)
			return true;
	}
	for (size_t i = 0; set == 1 && i < index; i++) {
		if (strcmp(__start_set_vmtests[i]->suite, suite) == 0)
			return true;
	}
	return false;
}

/* Run the one test suite.name; false when there is none of that name. */
static bool kt_run_test(const char *suite, const char *name, struct kt_counts *total)
{
	size_t nkt = (size_t)(__stop_set_ktests - __start_set_ktests);

	for (size_t i = 0; i < nkt; i++) {
		const struct ktest *t = __start_set_ktests[i];
		if (strcmp(t->kt_suite, suite) == 0 && strcmp(t->kt_name, name) == 0) {
			kt_run_one(t->kt_suite, t->kt_name, t->kt_fn, total);
			return true;
		}
	}
	for (size_t i = 0; i < kt_nvmtests(); i++) {
		const struct vmtest *t = __start_set_vmtests[i];
		if (strcmp(t->suite, suite) == 0 && strcmp(t->name, name) == 0) {
			vm_boot();
			kt_run_one(t->suite, t->name, t->fn, total);
			return true;
		}
	}
	return false;
}

/* Is there a suite of this name, or (name non-NULL) a test suite.name? */
static bool kt_exists(const char *suite, const char *name)
{
	size_t nkt = (size_t)(__stop_set_ktests - __start_set_ktests);

	for (size_t i = 0; i < nkt; i++) {
		const struct ktest *t = __start_set_ktests[i];
		if (strcmp(t->kt_suite, suite) == 0 && (name == NULL ||
		    strcmp(t->kt_name, name) == 0))
			return true;
	}
	for (size_t i = 0; i < kt_nvmtests(); i++) {
		const struct vmtest *t = __start_set_vmtests[i];
		if (strcmp(t->suite, suite) == 0 && (name == NULL || strcmp(t->name, name) == 0))
			return true;
	}
	return false;
}

/* Every suite's name, once each, comma-separated: for the message that refuses one. */
static void kt_suite_names(char *buf, size_t size)
{
	size_t nkt = (size_t)(__stop_set_ktests - __start_set_ktests), len = 0;

	buf[0] = '\0';
	for (int set = 0; set < 2; set++) {
		size_t n = set == 0 ? nkt : kt_nvmtests();
		for (size_t i = 0; i < n && len < size; i++) {
			const char *s = set == 0 ? __start_set_ktests[i]->kt_suite :
			    __start_set_vmtests[i]->suite;
			if (!kt_seen_before(s, set, i))
				len += (size_t)snprintf(buf + len, size - len, "%s%s",
				    len > 0 ? ", " : "", s);
		}
	}
}

/* The list's next name: [p, p + *len) up to a comma or the end, copied into name.
 * => false when it does not fit (no test has so long a name). */
static bool kt_next_name(const char *p, size_t *len, char *name, size_t size)
{
	size_t n = 0;

	while (p[n] != '\0' && p[n] != ',')
		n++;
	*len = n;
	if (n >= size)
		return false;
	memcpy(name, p, n);
	name[n] = '\0';
	return true;
}

/*
 * Refuse spec (through the VMM: exit 64) unless every name in it is a suite or a
 * suite.test, or it is "all" alone. Nothing runs before the whole list passed.
 */
static void kt_check_spec(const char *spec)
{
	char name[64], known[512];
	size_t len;
	bool alone = strchr(spec, ',') == NULL;

	for (const char *p = spec;; p += len + 1) {
		if (!kt_next_name(p, &len, name, sizeof(name)))
			break;          /* too long for any name: unknown */
		if (len == 0)
			hc_usage("ktest=%s: an empty name in the list; give all, none or "
			    "SUITE[.TEST],...", spec);
		if (strcmp(name, "all") == 0 || strcmp(name, "none") == 0) {
			if (!alone)
				hc_usage("ktest=%s: all and none must stand alone; give one of "
				    "them or a list of suites", spec);
		} else {
			char *dot = strchr(name, '.');
			if (dot != NULL)
				*dot = '\0';
			if (!kt_exists(name, dot != NULL ? dot + 1 : NULL)) {
				if (dot != NULL)
					*dot = '.';
				goto unknown;
			}
		}
		if (p[len] == '\0')
			return;
	}
	snprintf(name, sizeof(name), "%.*s...", (int)(sizeof(name) - 4), spec);
unknown:
	kt_suite_names(known, sizeof(known));
	hc_usage("ktest=%s: no suite or test '%s'; known suites: %s", spec, name, known);
}

/* Run what spec names (not "none"). Out of line so that ktest_run's "none" path does
 * not pay for this function's frame. */
static int __attribute__((noinline)) kt_run_spec(const char *spec)
{
	struct kt_counts total = { 0, 0 };

	kt_check_spec(spec);
	panic_hook = kt_panic_hook;
	if (strcmp(spec, "all") == 0) {
		size_t nkt = (size_t)(__stop_set_ktests - __start_set_ktests);
		for (size_t i = 0; i < nkt; i++) {
			const char *s = __start_set_ktests[i]->kt_suite;
			/* Benchmarks measure rather than check: only when named. */
			if (strncmp(s, "bench", 5) == 0)
				continue;
			if (!kt_seen_before(s, 0, i))
				kt_run_suite(s, &total);
		}
		for (size_t i = 0; i < kt_nvmtests(); i++) {
			const char *s = __start_set_vmtests[i]->suite;
			if (!kt_seen_before(s, 1, i))
				kt_run_suite(s, &total);
		}
	} else {
		char name[64];
		size_t len;
		for (const char *p = spec;; p += len + 1) {
			bool fits = kt_next_name(p, &len, name, sizeof(name));
			KASSERT(fits && len > 0, ("kt_run_spec: '%s' passed the check", spec));
			char *dot = strchr(name, '.');
			if (dot != NULL) {
				*dot = '\0';
				kt_run_test(name, dot + 1, &total);
			} else {
				kt_run_suite(name, &total);
			}
			if (p[len] == '\0')
				break;
		}
	}
	console_printf("%u passed, %u failed\n", total.passed, total.failed);
	panic_hook = NULL;
	return total.failed == 0 ? 0 : 1;
}

int ktest_run(const char *spec)
{
	/* The boot benchmark: not one byte of output. Compared by hand (strcmp is ~40
	 * emulated instructions). */
	if (spec[0] == 'n' && spec[1] == 'o' && spec[2] == 'n' && spec[3] == 'e' &&
	    spec[4] == '\0')
		return 0;
	return kt_run_spec(spec);
}
