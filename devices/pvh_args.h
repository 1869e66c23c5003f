/*
 * The program's argv and envp in module 0's command line: the one encoding the VMM
 * writes (vmm/cli.c) and the guest reads (guest/kern/kern_exec.c). Header-only and
 * freestanding so both sides, and the host unit tests, compile the same code.
 *
 * A PVH module command line is one NUL-terminated string, so each string travels as a
 * word and the words are separated by single spaces. Inside a word every byte that
 * would end it (a blank or control byte), DEL (so the line stays printable) and '%'
 * (or it would read as an escape) is written %XX, two upper-case hex digits; any other
 * byte, UTF-8 included, is itself. A string without those bytes is its own encoding,
 * so a plain "PROGRAM ARGS" line from another loader reads as it always did.
 *
 * The word "%" alone (no encoded string can be that: its '%' would start an escape)
 * ends argv; the words after it are envp's "NAME=VALUE" strings. Without it, envp is
 * empty.
 *
 * An empty string has no word and so cannot be sent; the VMM refuses one.
 */
#ifndef DEVICES_PVH_ARGS_H
#define DEVICES_PVH_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* argv and envp strings together that the guest takes: the VMM refuses more, the guest
 * refuses a longer list from another loader rather than drop strings. */
#define PVH_ARGS_MAX        128u
#define PVH_ARGS_ENV_SEP    "%"

static inline bool pvh_args_escaped(unsigned char c)
{
	return c <= ' ' || c == 0x7f || c == '%';
}

static inline int pvh_args_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Append s to the line buf (*len bytes used of buflen, NUL included) as one word, a
 * space before it unless it is the first. raw: s is written as it is (the separator).
 * => 0, or -1 with buf unchanged when it does not fit.
 */
static inline int pvh_args_put_word(char *buf, size_t buflen, size_t *len, const char *s,
    bool raw)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need = *len > 0 ? 1 : 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		need += !raw && pvh_args_escaped(*p) ? 3 : 1;
	if (need >= buflen - *len)
		return -1;
	char *d = buf + *len;
	if (*len > 0)
		*d++ = ' ';
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (!raw && pvh_args_escaped(*p)) {
			*d++ = '%';
			*d++ = hex[*p >> 4];
			*d++ = hex[*p & 15];
		} else {
			*d++ = (char)*p;
		}
	}
	*d = '\0';
	*len += need;
	return 0;
}

/* Append one argv or envp string. => 0, or -1 (buf unchanged) when it does not fit. */
static inline int pvh_args_put(char *buf, size_t buflen, size_t *len, const char *s)
{
	return pvh_args_put_word(buf, buflen, len, s, false);
}

/* Append the word that ends argv. => 0, or -1 (buf unchanged) when it does not fit. */
static inline int pvh_args_put_env_sep(char *buf, size_t buflen, size_t *len)
{
	return pvh_args_put_word(buf, buflen, len, PVH_ARGS_ENV_SEP, true);
}

/*
 * Split line in place into its strings, decoded: strs[] receives argv's then envp's,
 * *nargv how many are argv's. Words are split at any blank or control byte, as the
 * kernel command line is. A '%' not followed by two hex digits naming a byte other
 * than NUL is kept as it is: a line from another loader loses nothing. => the number
 * of strings, or -1 when there are more than max.
 */
static inline int pvh_args_split(char *line, char **strs, unsigned max, unsigned *nargv)
{
	unsigned char *s = (unsigned char *)line, *d = s;
	unsigned n = 0;
	bool env = false;

	*nargv = 0;
	for (;;) {
		while (*s != '\0' && *s <= ' ')
			s++;
		if (*s == '\0')
			break;
		if (!env && s[0] == '%' && s[1] <= ' ') {
			env = true;
			*nargv = n;
			s++;
			continue;
		}
		if (n == max)
			return -1;
		strs[n++] = (char *)d;
		/* Decoding only shrinks a word, so d never passes s. */
		while (*s > ' ') {
			int hi, lo;
			if (*s == '%' && (hi = pvh_args_hexval(s[1])) >= 0 &&
			    (lo = pvh_args_hexval(s[2])) >= 0 && (hi | lo) != 0) {
				*d++ = (unsigned char)(hi << 4 | lo);
				s += 3;
			} else {
				*d++ = *s++;
			}
		}
		/* The byte that ended the word was read: a NUL may take its place. */
		bool end = *s == '\0';
		*d++ = '\0';
		if (end)
			break;
		s++;
	}
	if (!env)
		*nargv = n;
	return (int)n;
}

#endif /* DEVICES_PVH_ARGS_H */
