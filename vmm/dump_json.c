/*
 * The JSON writer. Bytes of 0x80 and above are written as \u00XX (read as Latin-1):
 * a dump's strings are not promised to be UTF-8, and the document must stay valid.
 */
#include <inttypes.h>
#include <string.h>

#include "vmm/dump_json.h"
#include "vmm/vmm.h"

void json_init(struct json *j, FILE *f)
{
	j->j_f = f;
	j->j_depth = 0;
	j->j_first[0] = true;
}

static void json_raw_str(struct json *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	putc('"', j->j_f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", j->j_f); break;
		case '\\': fputs("\\\\", j->j_f); break;
		case '\n': fputs("\\n", j->j_f); break;
		case '\t': fputs("\\t", j->j_f); break;
		case '\r': fputs("\\r", j->j_f); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				fprintf(j->j_f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			else
				putc(c, j->j_f);
		}
	}
	putc('"', j->j_f);
}

/* The separator and the key before a value. */
static void json_member(struct json *j, const char *key)
{
	if (!j->j_first[j->j_depth])
		putc(',', j->j_f);
	j->j_first[j->j_depth] = false;
	if (key != NULL) {
		json_raw_str(j, key, strlen(key));
		putc(':', j->j_f);
	}
}

static void json_open(struct json *j, const char *key, char c)
{
	json_member(j, key);
	putc(c, j->j_f);
	KASSERT(j->j_depth + 1 < JSON_MAX_DEPTH, ("%s: nested too deep", __func__));
	j->j_first[++j->j_depth] = true;
}

void json_obj(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

void json_arr(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

void json_end_obj(struct json *j)
{
	KASSERT(j->j_depth > 0, ("%s: nothing open", __func__));
	j->j_depth--;
	putc('}', j->j_f);
}

void json_end_arr(struct json *j)
{
	KASSERT(j->j_depth > 0, ("%s: nothing open", __func__));
	j->j_depth--;
	putc(']', j->j_f);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_member(j, key);
	fprintf(j->j_f, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	json_member(j, key);
	fprintf(j->j_f, "%" PRId64, v);
}

void json_hex(struct json *j, const char *key, uint64_t v)
{
	json_member(j, key);
	fprintf(j->j_f, "\"0x%" PRIx64 "\"", v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_member(j, key);
	fputs(v ? "true" : "false", j->j_f);
}

void json_null(struct json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->j_f);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_strn(j, key, s, strlen(s));
}

void json_strn(struct json *j, const char *key, const char *s, size_t n)
{
	json_member(j, key);
	json_raw_str(j, s, n);
}

void json_done(struct json *j)
{
	KASSERT(j->j_depth == 0, ("%s: %u still open", __func__, j->j_depth));
	putc('\n', j->j_f);
}
