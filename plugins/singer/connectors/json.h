/*
 * json: what the native connectors need from JSON without building trees.
 *
 * - conn_json_escape() writes a JSON string literal (tap-csv's records).
 * - conn_json_parse() is a strict RFC 8259 tokenizer: it validates a whole
 *   text (grammar, escapes, control characters, UTF-8) and fills a flat
 *   token array, so a message line is read with no per-value allocation.
 * - conn_json_unescape() and conn_json_compact() turn token spans into
 *   values for binding or copying.
 *
 * Not thread-safe per struct conn_json; separate structs are independent.
 */
#ifndef SMELT_CONN_JSON_H
#define SMELT_CONN_JSON_H

#include <stddef.h>

#include "buf.h"

/* Append s[0..n) as a quoted JSON string: '"' and '\' escaped, control
 * characters as \b \f \n \r \t or \u00XX, other bytes (UTF-8) as they are.
 * Return 0, or -1 when s is not valid UTF-8 (the buffer then holds a
 * partial literal; the caller truncates it). */
int conn_json_escape(struct conn_buf *b, const char *s, size_t n);

/* 1 when s[0..n) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int conn_utf8_valid(const char *s, size_t n);

enum conn_jtype {
	CONN_J_NULL = 0,
	CONN_J_FALSE,
	CONN_J_TRUE,
	CONN_J_NUMBER,
	CONN_J_STRING,
	CONN_J_OBJECT,
	CONN_J_ARRAY,
};

enum conn_jflags {
	CONN_JF_ESCAPED = 1 << 0,  /* a string holding backslash escapes */
	CONN_JF_INTEGER = 1 << 1,  /* a number written without fraction or exponent */
};

#define CONN_JNONE ((size_t)-1)    /* "no such token" */
#define CONN_JSON_MAX_DEPTH 512    /* deeper nesting is rejected */

struct conn_jtok {
	unsigned char type;   /* enum conn_jtype */
	unsigned char flags;  /* enum conn_jflags */
	size_t start;         /* offset of the token's first byte (a string's opening quote) */
	size_t end;           /* offset just past its last byte (a string's closing quote) */
	size_t next;          /* index of the first token after this value's subtree */
	size_t count;         /* objects: members; arrays: elements */
};

/*
 * Tokens of one text.  An object's children are key, value, key, value...;
 * an array's are its elements; token 0 is the top-level value.
 */
struct conn_json {
	const char *text;        /* the parsed text, borrowed from the caller */
	size_t len;              /* its length */
	struct conn_jtok *tok;   /* tokens, owned */
	size_t ntok;             /* tokens in use */
	size_t cap;              /* tokens allocated */
	size_t err_pos;          /* byte offset of a syntax error */
	char err[96];            /* the syntax error, e.g. "unexpected character 'x'" */
};

/*
 * Tokenize text[0..len) (borrowed until the next parse or release).
 * Leading and trailing whitespace is allowed, anything else after the value
 * is an error.  Return 0, -1 on a syntax error (err, err_pos) or -2 on OOM.
 */
int conn_json_parse(struct conn_json *j, const char *text, size_t len);

/* 1 when a string token of j (a key or a value) holds a NUL character once
 * unescaped (\u0000): read as a C string it would be cut there, so callers
 * that turn strings into names or paths refuse such a text. */
int conn_json_has_nul(const struct conn_json *j);

/* Free the token array.  Accepts NULL. */
void conn_json_release(struct conn_json *j);

/* The value of member `key` of object token `obj`, or CONN_JNONE. */
size_t conn_json_get(const struct conn_json *j, size_t obj, const char *key);

/* 1 when string token t equals s[0..n) after unescaping. */
int conn_json_streq(const struct conn_json *j, size_t t, const char *s, size_t n);

/*
 * Decode the string token t into out, which must hold at least
 * (end - start) bytes; no NUL is added.  Returns the decoded length.
 * A lone surrogate escape becomes U+FFFD.
 */
size_t conn_json_unescape(const struct conn_json *j, size_t t, char *out);

/* Decode string token t into b (replacing its contents, NUL-terminated). */
void conn_json_string(const struct conn_json *j, size_t t, struct conn_buf *b);

/*
 * Copy token t's text into out (capacity at least end - start) without
 * insignificant whitespace; returns the length.  Strings keep their escapes.
 */
size_t conn_json_compact(const struct conn_json *j, size_t t, char *out);

/* Token t's value as a long long; 0 on success, -1 when not an integer in range. */
int conn_json_int(const struct conn_json *j, size_t t, long long *out);

/* Token t (a number) as a double. */
double conn_json_double(const struct conn_json *j, size_t t);

#endif
