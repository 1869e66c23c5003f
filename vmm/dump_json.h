/*
 * A small streaming JSON writer for `vmm dump --json`: objects, arrays, numbers and
 * strings, with every string escaped so that any bytes a dump holds (control bytes,
 * invalid UTF-8) make a valid document. Addresses go out as "0x..." strings.
 */
#ifndef VMM_DUMP_JSON_H
#define VMM_DUMP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH  16

struct json {
	FILE *j_f;
	unsigned j_depth;
	bool j_first[JSON_MAX_DEPTH];   /* no member written yet at this depth */
};

void json_init(struct json *j, FILE *f);
/* key: the member's name inside an object; NULL inside an array or at the top. */
void json_obj(struct json *j, const char *key);
void json_arr(struct json *j, const char *key);
void json_end_obj(struct json *j);
void json_end_arr(struct json *j);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_hex(struct json *j, const char *key, uint64_t v);     /* "0x..." */
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
void json_str(struct json *j, const char *key, const char *s);
void json_strn(struct json *j, const char *key, const char *s, size_t n);
/* Ends the document with a newline. */
void json_done(struct json *j);

#endif /* VMM_DUMP_JSON_H */
