/*
 * singer_reader: parse and validate one Singer message line, as the native
 * targets (target-sqlite, target-jsonl) read them.
 *
 * The reader keeps one struct conn_stream per stream that sent a SCHEMA:
 * its columns (top-level properties with their JSON types), key properties
 * and the count of RECORD messages seen.  For a RECORD it checks that a
 * SCHEMA came first, that `record` is an object and that every value fits
 * its property's type, and maps each column to the value's token.
 *
 * Type rules: a property's types come from `type` (a string or an array),
 * or from the union of `anyOf`/`oneOf` members; no type means any value.
 * `null` is accepted for every property.  An integer column accepts JSON
 * numbers with an integral value (1 and 1.0); a number column accepts any
 * number.  Record fields that are not properties of the schema are
 * counted (and ignored by the targets).  Every key property of the
 * stream must be present and not null in each RECORD (as the Singer SDK's
 * targets require); otherwise the record is an error naming the line, the
 * stream and the key, and the target fails without writing it.
 *
 * A SCHEMA may have at most CONN_MAX_COLUMNS properties; reading one costs
 * O(properties) and a RECORD O(fields), whatever the number of columns.
 *
 * Not thread-safe; one reader per input.
 */
#ifndef SMELT_CONN_SINGER_READER_H
#define SMELT_CONN_SINGER_READER_H

#include <stddef.h>

#include "buf.h"
#include "json.h"

#define CONN_MAX_COLUMNS 200000   /* properties of one SCHEMA: twice tap-csv's CSV_MAX_FIELDS */

enum conn_msg_type {
	CONN_MSG_BLANK = 0,        /* an empty line; nothing to do */
	CONN_MSG_UNKNOWN,          /* a type the targets ignore (BATCH included) */
	CONN_MSG_RECORD,
	CONN_MSG_SCHEMA,
	CONN_MSG_STATE,
	CONN_MSG_ACTIVATE_VERSION,
};

/* JSON types a property allows, as a bit set. */
enum conn_types {
	CONN_TY_NULL = 1 << 0,
	CONN_TY_BOOLEAN = 1 << 1,
	CONN_TY_INTEGER = 1 << 2,
	CONN_TY_NUMBER = 1 << 3,
	CONN_TY_STRING = 1 << 4,
	CONN_TY_OBJECT = 1 << 5,
	CONN_TY_ARRAY = 1 << 6,
	CONN_TY_ANY = (1 << 7) - 1,
};

struct conn_column {
	char *name;         /* property name (decoded, NUL-terminated) */
	size_t name_len;    /* its length (names may hold NUL bytes) */
	unsigned types;     /* enum conn_types bits */
	int is_key;         /* 1 when listed in key_properties */
};

struct conn_stream {
	char *name;                 /* stream name, decoded */
	struct conn_column *cols;   /* properties in schema order */
	size_t ncols;               /* number of properties */
	char **keys;                /* key_properties, in order */
	size_t nkeys;               /* number of keys */
	unsigned long records;      /* RECORD messages of this stream so far */
	unsigned long schemas;      /* SCHEMA messages of this stream so far */
	unsigned long unknown;      /* record fields not in the schema so far */
	size_t *slot;               /* per column: value token of the current record, or CONN_JNONE */
	size_t *hash;               /* open-addressing table of column indexes (+1; 0 = empty) */
	size_t hash_cap;            /* entries of hash, a power of two */
	void *user;                 /* the caller's per-stream data; never touched by the reader */
};

/* What conn_reader_feed() found on one line.  Token indexes refer to reader->json. */
struct conn_msg {
	enum conn_msg_type type;     /* what the line is */
	struct conn_stream *stream;  /* RECORD, SCHEMA, ACTIVATE_VERSION: the stream */
	size_t record;               /* RECORD: the record object token */
	size_t time_extracted;       /* RECORD: time_extracted token, or CONN_JNONE */
	size_t value;                /* STATE: the value token */
	int has_version;             /* RECORD: a `version` was given; always 1 for ACTIVATE_VERSION */
	long long version;           /* RECORD, ACTIVATE_VERSION: the version */
};

struct conn_reader {
	struct conn_json json;          /* tokens of the last line */
	struct conn_stream **streams;   /* streams with a SCHEMA, owned */
	size_t nstreams;                /* number of streams */
	size_t streams_cap;             /* allocated entries */
	unsigned long line;             /* lines fed so far (the current line's number) */
	struct conn_buf tmp;            /* scratch for decoding names */
};

/* Set up an empty reader (no allocation). */
void conn_reader_init(struct conn_reader *r);

/* Free everything, including streams; their `user` pointers are the caller's. */
void conn_reader_release(struct conn_reader *r);

/*
 * Parse and validate one line (without its newline; borrowed until the next
 * feed).  Return 0 with *m filled, or a negative status with a message in
 * err such as "line 7: invalid JSON: unexpected 'x' at offset 3" or
 * "stream 'users': record 3: field 'age': expected integer, got string".
 * -2 means out of memory.
 */
int conn_reader_feed(struct conn_reader *r, const char *line, size_t len, struct conn_msg *m,
                     char *err, size_t errlen);

/* The stream called name, or NULL. */
struct conn_stream *conn_reader_stream(struct conn_reader *r, const char *name);

/* "integer", "string|null", ... for messages; returns buf. */
const char *conn_types_str(unsigned types, char *buf, size_t buflen);

#endif
