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
 * The offset of the first thing in JSON text that cJSON would read into a
 * different string than the text says: a raw control character (U+0000 to
 * U+001F, which RFC 8259 forbids in strings and Python's json refuses) or a
 * \u0000 escape (cJSON's C strings end there).  (size_t)-1 when there is none.
 * Only strings are looked at; call it on text before cJSON parses it.
 */
size_t json_string_trouble(const char *s, size_t len);

/*
 * Serialise like Python's json.dumps(v, indent=indent, ensure_ascii=True)
 * (indent < 0: compact with ", " and ": " separators like json.dumps's
 * default; indent == -2: minimal separators).  Numbers keep cJSON's
 * double unless they are integral.
 */
void json_dump(struct strbuf *sb, const cJSON *v, int indent);

/*
 * Compact JSON (minimal separators, UTF-8 kept) with numbers' exact text:
 * use it instead of cJSON_PrintUnformatted() for values that came from
 * the project (see below).  Caller frees with free().
 */
char *json_print(const cJSON *v);

/* Parse a file; NULL with err filled on failure (names the path and position). */
cJSON *json_read_file(const char *path, char *err, size_t errlen);
/* Deep merge src into dst: objects merge recursively, anything else replaces. */
void json_merge(cJSON *dst, const cJSON *src);


/*
 * Numbers keep their exact text: a cJSON number whose valuestring is set
 * (cJSON_Duplicate copies it and cJSON_Delete frees it) is written with
 * that text by json_dump() and the YAML writer, and compared by it in
 * json_equal().  Only numbers a double cannot hold as written get a text:
 * integers beyond 2^53 and fractions of more than 15 significant digits.
 * cJSON's own printers ignore the text: use json_dump() for output.
 */
/* A number from a literal ("+" allowed in front, else JSON syntax); NULL when it is not one.  Caller frees. */
cJSON *json_number_from_text(const char *text, size_t len);
/* The text of number v: its exact text, else its double printed into buf; NULL when v is not a number. */
const char *json_number_text(const cJSON *v, char *buf, size_t buflen);
/* cJSON_Parse() that keeps the exact text of long numbers (see above); NULL when invalid.  Caller frees. */
cJSON *json_parse_exact(const char *text);

/*
 * Deep equality in linear time (cJSON_Compare is exponential in the
 * depth of nested objects): numbers by exact text when one has it, else
 * by value; object keys in any order (keys must be unique).
 */
int json_equal(const cJSON *a, const cJSON *b);
/*
 * Link item into container after prev (NULL: as the first child).  Never
 * fails, unlike cJSON_InsertItemInArray() in some libcjson versions
 * (Debian 12's 1.7.15 refuses positions after the first).  item must not
 * be in a list; ownership passes to container.
 */
void json_link_after(cJSON *container, cJSON *prev, cJSON *item);

#endif
