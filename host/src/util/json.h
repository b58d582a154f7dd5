/* json - small JSON helpers over cJSON: quoting, files, deep merge, canonical output. */
#ifndef SMELT_JSON_H
#define SMELT_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct strbuf;

/* Append s as a JSON string literal (quotes, escapes; UTF-8 kept). */
void json_quote(struct strbuf *sb, const char *s);
void json_quote_len(struct strbuf *sb, const char *s, size_t len);
/* Append s as a JSON string with non-ASCII as \uXXXX (surrogate pairs), as Python's ensure_ascii. */
void json_quote_ascii(struct strbuf *sb, const char *s);

/* The offset of the first byte of s that is not valid UTF-8, (size_t)-1 when all is valid. */
size_t json_utf8_invalid(const char *s, size_t len);

/*
 * Serialise like Python's json.dumps(v, indent=indent, ensure_ascii=True)
 * (indent < 0: compact with ", " and ": " separators like json.dumps's
 * default; indent == -2: minimal separators).  Numbers keep cJSON's
 * double unless they are integral.
 */
void json_dump(struct strbuf *sb, const cJSON *v, int indent);

/* Parse a file; NULL with err filled on failure (names the path and position). */
cJSON *json_read_file(const char *path, char *err, size_t errlen);
/* Deep merge src into dst: objects merge recursively, anything else replaces. */
void json_merge(cJSON *dst, const cJSON *src);

#endif
