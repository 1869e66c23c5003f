/*
 * The formatter behind printf and snprintf. Output goes through a buffer (struct
 * pf_out) so a console line costs one msgbuf copy and one string OUT, not a call per
 * character: every guest kernel instruction is emulated here.
 */
#include "kern/printf.h"
#include "kern/console.h"
#include "kern/libkern.h"

static inline void pf_put(struct pf_out *o, char c)
{
	o->po_total++;
	if (o->po_len == o->po_cap) {
		if (o->po_flush == NULL)
			return;
		o->po_flush(o);
	}
	o->po_buf[o->po_len++] = c;
}

/* A run of n literal bytes: one copy per buffer-full instead of a put per byte. */
static void pf_write(struct pf_out *o, const char *s, size_t n)
{
	o->po_total += n;
	while (n > 0) {
		if (o->po_len == o->po_cap) {
			if (o->po_flush == NULL)
				return;
			o->po_flush(o);
		}
		size_t k = MIN(n, o->po_cap - o->po_len);
		memcpy(o->po_buf + o->po_len, s, k);
		o->po_len += k;
		s += k;
		n -= k;
	}
}

static void pf_pad(struct pf_out *o, char c, int n)
{
	while (n-- > 0)
		pf_put(o, c);
}

/* A number with its sign and width rules; digits are produced backwards into tmp. */
static void pf_number(struct pf_out *o, uint64_t v, bool neg, unsigned base, bool upper,
    int width, bool left, bool zero, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, plen = (int)strlen(prefix) + (neg ? 1 : 0);

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	width -= n + plen;
	if (!left && !zero)
		pf_pad(o, ' ', width);
	if (neg)
		pf_put(o, '-');
	while (*prefix != '\0')
		pf_put(o, *prefix++);
	if (!left && zero)
		pf_pad(o, '0', width);
	while (n > 0)
		pf_put(o, tmp[--n]);
	if (left)
		pf_pad(o, ' ', width);
}

int kvformat(struct pf_out *o, const char *fmt, va_list ap)
{
	size_t start = o->po_total;

	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			const char *lit = fmt;
			while (fmt[1] != '%' && fmt[1] != '\0')
				fmt++;
			pf_write(o, lit, (size_t)(fmt - lit) + 1);
			continue;
		}
		bool left = false, zero = false, alt = false;
		int width = 0, prec = -1, lng = 0;

		for (fmt++;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else if (*fmt == '#')
				alt = true;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		/* lng: 0 int, 1 long, 2 long long (size_t, intmax_t, ptrdiff_t are 64-bit),
		 * -1 short, -2 char. */
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'h')
				lng--;
			else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't')
				lng = 2;
			else
				break;
		}

		uint64_t u;
		int64_t s;
		switch (*fmt) {
		case 'd':
		case 'i':
			if (lng >= 1)
				s = lng == 1 ? va_arg(ap, long) : va_arg(ap, long long);
			else
				s = va_arg(ap, int);
			if (lng == -1)
				s = (short)s;
			else if (lng <= -2)
				s = (signed char)s;
			pf_number(o, s < 0 ? -(uint64_t)s : (uint64_t)s, s < 0, 10, false,
			    width, left, zero, "");
			break;
		case 'u':
		case 'x':
		case 'X':
			if (lng >= 1)
				u = lng == 1 ? va_arg(ap, unsigned long)
				    : va_arg(ap, unsigned long long);
			else
				u = va_arg(ap, unsigned int);
			if (lng == -1)
				u = (unsigned short)u;
			else if (lng <= -2)
				u = (unsigned char)u;
			pf_number(o, u, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, left,
			    zero, alt && u != 0 && *fmt != 'u' ? (*fmt == 'X' ? "0X" : "0x") : "");
			break;
		case 'p':
			u = (uint64_t)(uintptr_t)va_arg(ap, void *);
			pf_number(o, u, false, 16, false, width, left, zero, "0x");
			break;
		case 'c':
			if (!left)
				pf_pad(o, ' ', width - 1);
			pf_put(o, (char)va_arg(ap, int));
			if (left)
				pf_pad(o, ' ', width - 1);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (str == NULL)
				str = "(null)";
			int len = (int)(prec >= 0 ? strnlen(str, prec) : strlen(str));
			if (!left)
				pf_pad(o, ' ', width - len);
			pf_write(o, str, (size_t)len);
			if (left)
				pf_pad(o, ' ', width - len);
			break;
		}
		case '%':
			pf_put(o, '%');
			break;
		case '\0':
			fmt--;          /* a lone '%' at the end: stop at the NUL */
			break;
		default:                /* unknown conversion: show it as written */
			pf_put(o, '%');
			pf_put(o, *fmt);
			break;
		}
	}
	return (int)(o->po_total - start);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct pf_out o = { .po_buf = buf, .po_cap = size > 0 ? size - 1 : 0 };
	int n = kvformat(&o, fmt, ap);

	if (size > 0)
		buf[o.po_len] = '\0';
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	return console_vprintf(CONS_LOG, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = console_vprintf(CONS_LOG, fmt, ap);
	va_end(ap);
	return n;
}
