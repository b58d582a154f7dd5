/*
 * The RFC 4180 reader and value classifiers declared in csv.h.
 */
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CSV_READ_SIZE (256 * 1024)
#define CSV_EOF_CHAR (-1)

static void csv_common_init(struct csv_parser *p, char delim, char quote)
{
	memset(p, 0, sizeof(*p));
	p->delim = delim ? delim : ',';
	p->quote = quote ? quote : '"';
	p->fd = -1;
	p->line = 1;
}

int csv_init_mem(struct csv_parser *p, const char *data, size_t len, char delim, char quote)
{
	csv_common_init(p, delim, quote);
	p->in = data;
	p->in_len = len;
	p->eof = 1;
	return 0;
}

int csv_init_fd(struct csv_parser *p, int fd, char delim, char quote)
{
	csv_common_init(p, delim, quote);
	p->fd = fd;
	p->own = malloc(CSV_READ_SIZE);
	if (!p->own)
		return CSV_ERR_NOMEM;
	p->own_cap = CSV_READ_SIZE;
	p->in = p->own;
	return 0;
}

void csv_release(struct csv_parser *p)
{
	if (!p)
		return;
	free(p->own);
	free(p->off);
	free(p->len);
	conn_buf_release(&p->data);
	p->own = NULL;
	p->off = p->len = NULL;
	p->fields_cap = p->nfields = 0;
}

/*
 * Replace the consumed chunk with fresh input (keeping `keep` unread bytes
 * at its end).  1 when bytes are available, 0 at end of input, or a
 * negative csv_status.
 */
static int csv_refill(struct csv_parser *p)
{
	size_t keep;
	ssize_t n;

	if (p->eof || p->fd < 0) {
		p->eof = 1;
		return p->in_pos < p->in_len;
	}
	keep = p->in_len - p->in_pos;
	if (keep)
		memmove(p->own, p->in + p->in_pos, keep);
	p->in = p->own;
	p->in_len = keep;
	p->in_pos = 0;
	do
		n = read(p->fd, p->own + keep, p->own_cap - keep);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(p->err, sizeof(p->err), "read error: %s", strerror(errno));
		return CSV_ERR_IO;
	}
	if (n == 0)
		p->eof = 1;
	p->in_len += (size_t)n;
	return p->in_len > 0;
}

/* The next byte, CSV_EOF_CHAR, or a negative csv_status below it. */
static inline int csv_peek(struct csv_parser *p)
{
	int r;

	if (p->in_pos < p->in_len)
		return (unsigned char)p->in[p->in_pos];
	r = csv_refill(p);
	if (r < 0)
		return r;
	if (r == 0)
		return CSV_EOF_CHAR;
	return (unsigned char)p->in[p->in_pos];
}

static int csv_end_field(struct csv_parser *p, size_t start)
{
	if (p->nfields >= CSV_MAX_FIELDS) {
		/* count, but keep neither the field nor its bytes: memory stays bounded */
		p->over++;
		p->data.len = start;
		return 0;
	}
	if (p->nfields == p->fields_cap) {
		size_t cap = p->fields_cap ? p->fields_cap * 2 : 16;
		size_t *off = realloc(p->off, cap * sizeof(*off));
		size_t *len;

		if (!off)
			return CSV_ERR_NOMEM;
		p->off = off;
		len = realloc(p->len, cap * sizeof(*len));
		if (!len)
			return CSV_ERR_NOMEM;
		p->len = len;
		p->fields_cap = cap;
	}
	p->off[p->nfields] = start;
	p->len[p->nfields] = p->data.len - start;
	p->nfields++;
	conn_buf_addc(&p->data, '\0');
	return p->data.oom ? CSV_ERR_NOMEM : 0;
}

static int csv_end_row(struct csv_parser *p)
{
	if (p->data.oom)
		return CSV_ERR_NOMEM;
	if (p->over) {
		snprintf(p->err, sizeof(p->err), "row has more than %d fields (the limit)", CSV_MAX_FIELDS);
		p->err_line = p->row_line;
		return CSV_ERR;
	}
	if (p->expect_fields && p->nfields != p->expect_fields) {
		snprintf(p->err, sizeof(p->err), "expected %zu fields, found %zu",
		         p->expect_fields, p->nfields);
		p->err_line = p->row_line;
		return CSV_ERR;
	}
	return CSV_ROW;
}

/* Drop input up to and including the next line end (used after an error). */
static int csv_skip_line(struct csv_parser *p)
{
	for (;;) {
		int c = csv_peek(p);

		if (c < CSV_EOF_CHAR)
			return c;
		if (c == CSV_EOF_CHAR)
			return 0;
		p->in_pos++;
		if (c == '\n') {
			p->line++;
			return 0;
		}
		if (c == '\r') {
			p->line++;
			p->skip_lf = 1;
			return 0;
		}
	}
}

static int csv_skip_bom(struct csv_parser *p)
{
	/* make sure the first three bytes are in the chunk when there are three */
	while (p->in_len - p->in_pos < 3 && !p->eof) {
		int r = csv_refill(p);

		if (r < 0)
			return r;
	}
	if (p->in_len - p->in_pos >= 3 && !memcmp(p->in + p->in_pos, "\xEF\xBB\xBF", 3))
		p->in_pos += 3;
	return 0;
}

/* Line counting inside quoted fields: CRLF, CR and LF each end one line. */
static void csv_count_lines(struct csv_parser *p, const char *s, size_t n, int *last_cr)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			if (!*last_cr)
				p->line++;
			*last_cr = 0;
		} else if (s[i] == '\r') {
			p->line++;
			*last_cr = 1;
		} else {
			*last_cr = 0;
		}
	}
}

int csv_next(struct csv_parser *p)
{
	int c, r;
	const char delim = p->delim, quote = p->quote;

	if (!p->started) {
		p->started = 1;
		r = csv_skip_bom(p);
		if (r < 0)
			return r;
	}
	for (;;) {		/* skip empty lines */
		c = csv_peek(p);
		if (c < CSV_EOF_CHAR)
			return c;
		if (p->skip_lf) {
			p->skip_lf = 0;
			if (c == '\n') {
				p->in_pos++;
				continue;
			}
		}
		if (c == CSV_EOF_CHAR)
			return CSV_EOF;
		if (c == '\n' || c == '\r') {
			p->in_pos++;
			p->line++;
			p->skip_lf = c == '\r';
			continue;
		}
		break;
	}
	conn_buf_reset(&p->data);
	p->nfields = 0;
	p->over = 0;
	p->row_line = p->line;

	for (;;) {		/* one field per iteration */
		size_t start = p->data.len;

		c = csv_peek(p);
		if (c < CSV_EOF_CHAR)
			return c;
		if (c == (unsigned char)quote) {
			unsigned long quote_line = p->line;
			int last_cr = 0;

			p->in_pos++;
			for (;;) {
				const char *s, *q;
				size_t n;

				if (p->in_pos == p->in_len) {
					r = csv_refill(p);
					if (r < 0)
						return r;
					if (r == 0) {
						snprintf(p->err, sizeof(p->err), "unterminated quoted field");
						p->err_line = quote_line;
						return CSV_ERR;
					}
				}
				s = p->in + p->in_pos;
				n = p->in_len - p->in_pos;
				q = memchr(s, quote, n);
				if (q)
					n = (size_t)(q - s);
				csv_count_lines(p, s, n, &last_cr);
				conn_buf_add(&p->data, s, n);
				p->in_pos += n;
				if (!q)
					continue;
				p->in_pos++;	/* the quote */
				last_cr = 0;
				c = csv_peek(p);
				if (c < CSV_EOF_CHAR)
					return c;
				if (c == (unsigned char)quote) {
					conn_buf_addc(&p->data, quote);
					p->in_pos++;
					continue;
				}
				break;
			}
			/* after the closing quote */
			if (c == (unsigned char)delim) {
				p->in_pos++;
				if ((r = csv_end_field(p, start)) < 0)
					return r;
				continue;
			}
			if (c == '\n' || c == '\r' || c == CSV_EOF_CHAR) {
				if (c != CSV_EOF_CHAR) {
					p->in_pos++;
					p->line++;
					p->skip_lf = c == '\r';
				}
				if ((r = csv_end_field(p, start)) < 0)
					return r;
				return csv_end_row(p);
			}
			snprintf(p->err, sizeof(p->err), "text after closing quote");
			p->err_line = p->line;
			r = csv_skip_line(p);
			return r < 0 ? r : CSV_ERR;
		}

		for (;;) {	/* unquoted field */
			const char *s, *e, *t;

			if (p->in_pos == p->in_len) {
				r = csv_refill(p);
				if (r < 0)
					return r;
				if (r == 0) {
					if ((r = csv_end_field(p, start)) < 0)
						return r;
					return csv_end_row(p);
				}
			}
			s = p->in + p->in_pos;
			e = p->in + p->in_len;
			for (t = s; t < e; t++)
				if (*t == delim || *t == '\n' || *t == '\r')
					break;
			conn_buf_add(&p->data, s, (size_t)(t - s));
			p->in_pos += (size_t)(t - s);
			if (t == e)
				continue;
			p->in_pos++;
			if ((r = csv_end_field(p, start)) < 0)
				return r;
			if (*t == delim)
				break;
			p->line++;
			p->skip_lf = *t == '\r';
			return csv_end_row(p);
		}
	}
}

const char *csv_type_json(enum csv_type t)
{
	switch (t) {
	case CSV_T_INTEGER: return "integer";
	case CSV_T_NUMBER: return "number";
	case CSV_T_BOOLEAN: return "boolean";
	default: return "string";
	}
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int csv_is_integer(const char *s, size_t n)
{
	size_t i = 0;

	if (n && s[0] == '-')
		i++;
	if (i == n || n - i > 18)
		return 0;
	if (s[i] == '0' && n - i > 1)
		return 0;
	for (; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

int csv_is_number(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i == n || !is_digit(s[i]))
		return 0;
	if (s[i] == '0')
		i++;
	else
		while (i < n && is_digit(s[i]))
			i++;
	if (i < n && s[i] == '.') {
		i++;
		if (i == n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	return i == n;
}

int csv_is_boolean(const char *s, size_t n)
{
	return (n == 4 && !strncasecmp(s, "true", 4)) || (n == 5 && !strncasecmp(s, "false", 5));
}

/* Two digits at s in [lo, hi]. */
static int two_digits(const char *s, int lo, int hi)
{
	int v;

	if (!is_digit(s[0]) || !is_digit(s[1]))
		return 0;
	v = (s[0] - '0') * 10 + (s[1] - '0');
	return v >= lo && v <= hi;
}

int csv_is_date(const char *s, size_t n)
{
	return n == 10 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
	       s[4] == '-' && two_digits(s + 5, 1, 12) && s[7] == '-' && two_digits(s + 8, 1, 31);
}

int csv_is_datetime(const char *s, size_t n)
{
	size_t i;

	if (n < 19 || !csv_is_date(s, 10) || (s[10] != 'T' && s[10] != ' '))
		return 0;
	if (!two_digits(s + 11, 0, 23) || s[13] != ':' || !two_digits(s + 14, 0, 59) ||
	    s[16] != ':' || !two_digits(s + 17, 0, 60))
		return 0;
	i = 19;
	if (i < n && s[i] == '.') {
		i++;
		if (i == n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i == n)
		return 1;
	if (s[i] == 'Z' || s[i] == 'z')
		return i + 1 == n;
	if (s[i] != '+' && s[i] != '-')
		return 0;
	i++;
	if (n - i == 5)
		return two_digits(s + i, 0, 23) && s[i + 2] == ':' && two_digits(s + i + 3, 0, 59);
	if (n - i == 4)
		return two_digits(s + i, 0, 23) && two_digits(s + i + 2, 0, 59);
	return 0;
}

int csv_value_fits(enum csv_type t, const char *s, size_t n)
{
	switch (t) {
	case CSV_T_INTEGER: return csv_is_integer(s, n);
	case CSV_T_NUMBER: return csv_is_number(s, n);
	case CSV_T_BOOLEAN: return csv_is_boolean(s, n);
	case CSV_T_DATETIME: return csv_is_datetime(s, n);
	case CSV_T_DATE: return csv_is_date(s, n);
	default: return 1;
	}
}

void csv_infer_init(struct csv_infer *inf)
{
	inf->cand = (1u << CSV_T_INTEGER) | (1u << CSV_T_NUMBER) | (1u << CSV_T_BOOLEAN) |
	            (1u << CSV_T_DATETIME) | (1u << CSV_T_DATE);
	inf->nonempty = 0;
}

void csv_infer_add(struct csv_infer *inf, const char *s, size_t n)
{
	if (!n)
		return;
	inf->nonempty++;
	for (int t = CSV_T_INTEGER; t <= CSV_T_DATE; t++)
		if ((inf->cand & (1u << t)) && !csv_value_fits((enum csv_type)t, s, n))
			inf->cand &= ~(1u << t);
}

enum csv_type csv_infer_result(const struct csv_infer *inf)
{
	if (!inf->nonempty)
		return CSV_T_STRING;
	for (int t = CSV_T_INTEGER; t <= CSV_T_DATE; t++)
		if (inf->cand & (1u << t))
			return (enum csv_type)t;
	return CSV_T_STRING;
}
