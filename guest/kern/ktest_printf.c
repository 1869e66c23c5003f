/*
 * Suite "printf": the formatter and the C library subset.
 */
#include "kern/ktest.h"
#include "kern/systm.h"

#define KT_FMT(expect, ...) do {                                                   \
	char b_[96];                                                               \
	int n_ = snprintf(b_, sizeof(b_), __VA_ARGS__);                            \
	KT_ASSERT_MSG(strcmp(b_, expect) == 0, "got '%s', want '%s'", b_, expect); \
	KT_ASSERT_EQ(n_, strlen(expect));                                          \
} while (0)

KTEST(printf, integers)
{
	KT_FMT("42 -7 0", "%d %i %u", 42, -7, 0u);
	KT_FMT("ff FF 0x1f", "%x %X %p", 255u, 255u, (void *)0x1f);
	KT_FMT("-9223372036854775808", "%lld", (long long)(-9223372036854775807ll - 1));
	KT_FMT("18446744073709551615", "%llu", ~0ull);
	KT_FMT("ffffffffffffffff", "%lx", ~0ul);
	KT_FMT("123 456 789", "%zu %ju %ld", (size_t)123, (uintmax_t)456, 789l);
	KT_FMT("-1 255 65535", "%hhd %hhu %hu", -1, 255, 65535);
}

KTEST(printf, width_and_flags)
{
	KT_FMT("   42|42   |00042", "%5d|%-5d|%05d", 42, 42, 42);
	KT_FMT("-0042", "%05d", -42);
	KT_FMT("  abc|abc  |ab", "%5s|%-5s|%.2s", "abc", "abc", "abc");
	KT_FMT("    x|x", "%*c|%c", 5, 'x', 'x');
	KT_FMT("100%", "%d%%", 100);
	KT_FMT("0000000000001000", "%016lx", 0x1000ul);
	KT_FMT("0x1f 0X1F 0 0x0001f", "%#x %#X %#x %#07x", 31u, 31u, 0u, 31u);
	/* Through a volatile so the compiler cannot see (and reject) the NULL. */
	const char *volatile nul = NULL;
	KT_FMT("(null)", "%s", nul);
}

KTEST(printf, truncation)
{
	char b[8];
	int n = snprintf(b, sizeof(b), "%s", "0123456789");

	KT_ASSERT_EQ(n, 10);
	KT_ASSERT(strcmp(b, "0123456") == 0);
	n = snprintf(b, 0, "%d", 12345);
	KT_ASSERT_EQ(n, 5);
}

KTEST(printf, libkern)
{
	char a[40], b[40];

	memset(a, 'x', sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		KT_ASSERT_EQ(a[i], 'x');
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (char)i;
	memcpy(a, b, 19);
	KT_ASSERT(memcmp(a, b, 19) == 0);
	KT_ASSERT_EQ(a[19], 'x');
	memmove(b + 3, b, 20);          /* overlapping, upwards */
	for (int i = 0; i < 20; i++)
		KT_ASSERT_EQ(b[i + 3], i);
	memmove(b, b + 3, 20);          /* overlapping, downwards */
	for (int i = 0; i < 20; i++)
		KT_ASSERT_EQ(b[i], i);
	KT_ASSERT(strcmp("abc", "abd") < 0);
	KT_ASSERT(strncmp("abcX", "abcY", 3) == 0);
	KT_ASSERT_EQ(strlen("hello"), 5);
	KT_ASSERT_EQ(strtou64("0x1F", NULL, 0), 31);
	KT_ASSERT_EQ(strtou64("1234", NULL, 0), 1234);
}
