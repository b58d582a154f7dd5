/*
 * conn_buf: a growable byte buffer with a sticky out-of-memory flag, shared
 * by the native Singer connectors.  Appends after a failed allocation are
 * no-ops, so hot paths append freely and check `oom` once per message.
 */
#ifndef SMELT_CONN_BUF_H
#define SMELT_CONN_BUF_H

#include <stddef.h>
#include <string.h>

struct conn_buf {
	char *data;   /* heap bytes, NUL-terminated when cap > 0; owned by the buffer */
	size_t len;   /* bytes in use, not counting the NUL */
	size_t cap;   /* bytes allocated */
	int oom;      /* set once an allocation failed; later appends do nothing */
};

#define CONN_BUF_INIT { NULL, 0, 0, 0 }

/* Make room for `extra` more bytes (plus a NUL).  0 on success, -1 on OOM. */
int conn_buf_grow(struct conn_buf *b, size_t extra);

/* Release the memory; the buffer is left empty and reusable.  Accepts NULL. */
void conn_buf_release(struct conn_buf *b);

/* Append bytes, a NUL-terminated string or printf-formatted text. */
static inline void conn_buf_add(struct conn_buf *b, const void *p, size_t n)
{
	if (b->cap - b->len <= n && conn_buf_grow(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void conn_buf_addc(struct conn_buf *b, char c)
{
	if (b->cap - b->len <= 1 && conn_buf_grow(b, 1) < 0)
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

static inline void conn_buf_adds(struct conn_buf *b, const char *s)
{
	conn_buf_add(b, s, strlen(s));
}

void conn_buf_addf(struct conn_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Empty the buffer without freeing it. */
static inline void conn_buf_reset(struct conn_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}


/*
 * conn_lines: read a descriptor line by line with no length limit.  Lines
 * are returned in place (without the newline, NUL-terminated) and stay
 * valid until the next call.
 */
struct conn_lines {
	int fd;          /* input, not closed here */
	char *buf;       /* read buffer, owned */
	size_t cap;      /* its size */
	size_t start;    /* first unread byte */
	size_t end;      /* end of the data read */
	int eof;         /* read(2) returned 0 */
};

/* Set up reading fd.  0, or -1 on OOM. */
int conn_lines_init(struct conn_lines *lr, int fd);

/* The next line: 1 with line and len set, 0 at end of input, -1 on a read error (errno). */
int conn_lines_next(struct conn_lines *lr, char **line, size_t *len);

/* Free the buffer.  Accepts NULL. */
void conn_lines_release(struct conn_lines *lr);

#endif
