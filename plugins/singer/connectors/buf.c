#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int conn_buf_grow(struct conn_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -1;
	if (extra > (size_t)-1 / 2 - b->len) {
		b->oom = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void conn_buf_release(struct conn_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

void conn_buf_addf(struct conn_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || conn_buf_grow(b, (size_t)n + 1) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

#include <errno.h>
#include <unistd.h>

#define CONN_LINES_CHUNK (4 << 20)

int conn_lines_init(struct conn_lines *lr, int fd)
{
	memset(lr, 0, sizeof(*lr));
	lr->fd = fd;
	lr->cap = CONN_LINES_CHUNK;
	lr->buf = malloc(lr->cap + 1);
	return lr->buf ? 0 : -1;
}

int conn_lines_next(struct conn_lines *lr, char **line, size_t *len)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = memchr(lr->buf + lr->start + scanned, '\n', lr->end - lr->start - scanned);
		ssize_t n;

		if (nl) {
			*line = lr->buf + lr->start;
			*len = (size_t)(nl - *line);
			*nl = '\0';
			lr->start += *len + 1;
			return 1;
		}
		scanned = lr->end - lr->start;
		if (lr->eof) {
			if (!scanned)
				return 0;
			*line = lr->buf + lr->start;
			*len = scanned;
			(*line)[scanned] = '\0';
			lr->start = lr->end;
			return 1;
		}
		/* make room: move the partial line to the front, grow when full */
		if (lr->start) {
			memmove(lr->buf, lr->buf + lr->start, scanned);
			lr->end = scanned;
			lr->start = 0;
		}
		if (lr->end == lr->cap) {
			char *p = realloc(lr->buf, lr->cap * 2 + 1);

			if (!p) {
				errno = ENOMEM;
				return -1;
			}
			lr->buf = p;
			lr->cap *= 2;
		}
		do
			n = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -1;
		if (n == 0)
			lr->eof = 1;
		lr->end += (size_t)n;
	}
}

void conn_lines_release(struct conn_lines *lr)
{
	if (!lr)
		return;
	free(lr->buf);
	lr->buf = NULL;
}
