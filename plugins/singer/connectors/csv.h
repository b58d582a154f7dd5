/*
 * csv: a streaming RFC 4180 reader and the value classifiers used by
 * tap-csv's type inference.
 *
 * The reader accepts quoted fields with embedded delimiters, doubled quotes
 * and embedded newlines (CR, LF and CRLF inside quotes are kept as they
 * are), CRLF/LF/CR line ends, a UTF-8 byte order mark at the start, a final
 * line without a newline and empty fields.  Completely empty lines are
 * skipped (as Python's csv module does).  A quote inside an unquoted field
 * is kept as a literal character.
 *
 * Errors (unterminated quoted field, text after a closing quote, a row whose
 * field count differs from `expect_fields`, a row of more than
 * CSV_MAX_FIELDS fields) leave the message in `err` and
 * the physical line number in `err_line`; the reader then continues with
 * the next row, so a caller can skip bad rows.
 *
 * The work per row is linear in its bytes and fields; fields past
 * CSV_MAX_FIELDS are counted but not kept, so a hostile row costs no more
 * memory than the limit.
 *
 * Not thread-safe; one parser per thread.
 */
#ifndef SMELT_CONN_CSV_H
#define SMELT_CONN_CSV_H

#include <stddef.h>

#include "buf.h"

#define CSV_MAX_FIELDS 100000  /* fields of one row (columns of a tap-csv stream) */

enum csv_status {
	CSV_ROW = 1,         /* a row is available through csv_field() */
	CSV_EOF = 0,         /* no more rows */
	CSV_ERR = -1,        /* malformed row; see err and err_line */
	CSV_ERR_NOMEM = -2,  /* out of memory; the parser is unusable */
	CSV_ERR_IO = -3,     /* read(2) failed; the parser is unusable */
};

struct csv_parser {
	char delim;               /* field separator, default ',' */
	char quote;               /* quote character, default '"' */
	size_t expect_fields;     /* 0, or the field count every row must have */
	int fd;                   /* input descriptor, -1 when reading memory */
	const char *in;           /* current input chunk (own buffer or caller memory) */
	size_t in_len;            /* bytes in the chunk */
	size_t in_pos;            /* read position in the chunk */
	char *own;                /* read buffer when reading a descriptor */
	size_t own_cap;           /* size of own */
	int eof;                  /* no more input after the current chunk */
	int started;              /* the BOM check has been done */
	int skip_lf;              /* the previous row ended with CR: drop one LF */
	unsigned long line;       /* physical line of the read position, 1-based */
	unsigned long row_line;   /* line where the last returned row starts */
	unsigned long err_line;   /* line of the last error */
	struct conn_buf data;     /* field bytes, each field NUL-terminated */
	size_t *off;              /* offset of field i in data */
	size_t *len;              /* length of field i */
	size_t nfields;           /* fields in the current row */
	size_t fields_cap;        /* allocated entries of off/len */
	size_t over;              /* fields of the current row past CSV_MAX_FIELDS */
	char err[160];            /* last error message, e.g. "unterminated quoted field" */
};

/*
 * Start reading the caller's memory (borrowed until csv_release) or a
 * descriptor (not closed by the parser).  delim/quote of 0 mean ',' and '"'.
 * Return 0, or CSV_ERR_NOMEM.
 */
int csv_init_mem(struct csv_parser *p, const char *data, size_t len, char delim, char quote);
int csv_init_fd(struct csv_parser *p, int fd, char delim, char quote);

/* Free the parser's buffers.  Accepts NULL. */
void csv_release(struct csv_parser *p);

/*
 * Read the next row: CSV_ROW, CSV_EOF or a negative csv_status.  After
 * CSV_ERR the next call continues after the bad row.
 */
int csv_next(struct csv_parser *p);

/* Field i of the current row (NUL-terminated, borrowed until the next csv_next). */
static inline const char *csv_field(const struct csv_parser *p, size_t i, size_t *len)
{
	if (len)
		*len = p->len[i];
	return p->data.data + p->off[i];
}

/* Types tap-csv can infer, from the most to the least specific. */
enum csv_type {
	CSV_T_STRING = 0,
	CSV_T_INTEGER,
	CSV_T_NUMBER,
	CSV_T_BOOLEAN,
	CSV_T_DATETIME,
	CSV_T_DATE,
};

/* JSON Schema name of a type ("integer", "number", "boolean", "string"). */
const char *csv_type_json(enum csv_type t);

/*
 * Value classifiers.  Each returns 1 when the n bytes at s (not empty) are
 * a value of that type, else 0:
 * integer  -?(0|[1-9][0-9]*) with at most 18 digits (no leading zeros, so
 *          "007" stays a string; always fits int64 and is a JSON number)
 * number   a JSON number (what the output copies verbatim)
 * boolean  true/false, any case
 * datetime YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|+hh:mm|-hh:mm|+hhmm]
 * date     YYYY-MM-DD
 */
int csv_is_integer(const char *s, size_t n);
int csv_is_number(const char *s, size_t n);
int csv_is_boolean(const char *s, size_t n);
int csv_is_datetime(const char *s, size_t n);
int csv_is_date(const char *s, size_t n);

/* 1 when a non-empty value fits type t (strings fit everything). */
int csv_value_fits(enum csv_type t, const char *s, size_t n);

/* Per-column inference state: feed sample values, then ask for the type. */
struct csv_infer {
	unsigned cand;        /* bit (1 << type) for each type still possible */
	size_t nonempty;      /* non-empty values seen */
};

void csv_infer_init(struct csv_infer *inf);
/* Feed one value; empty values are ignored (they become null). */
void csv_infer_add(struct csv_infer *inf, const char *s, size_t n);
/* The most specific type every non-empty value fits; string when none were seen. */
enum csv_type csv_infer_result(const struct csv_infer *inf);

#endif
