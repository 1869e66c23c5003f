/*
 * printenv [ARGS...]: print argc, every argv string and every environment string, one
 * line each, so a test can compare exactly what the program received. Bytes a line
 * cannot show plainly (control bytes, DEL, and '\' itself) are printed as \xHH.
 */
#include <string.h>
#include <unistd.h>

#include "guest/user/lib/wl.h"

const char wl_prog[] = "printenv";

/* s with the unprintable bytes escaped, cut (and ending "...") when it would not fit. */
static const char *printenv_show(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (n + 8 >= len) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		if (*p < ' ' || *p == 0x7f || *p == '\\') {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 15];
		} else {
			buf[n++] = (char)*p;
		}
	}
	buf[n] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	char buf[400];
	int envc = 0;

	wl_say("argc=%d", argc);
	for (int i = 0; i < argc; i++)
		wl_say("argv[%d]=%s", i, printenv_show(argv[i], buf, sizeof(buf)));
	for (char **e = environ; *e != NULL; e++, envc++)
		wl_say("env[%d]=%s", envc, printenv_show(*e, buf, sizeof(buf)));
	wl_say("envc=%d", envc);
	return 0;
}
