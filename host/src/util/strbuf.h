/*
 * strbuf - a growable, always NUL-terminated byte buffer (git's model).
 *
 * struct strbuf sb = STRBUF_INIT;  strbuf_addf(&sb, "%d", 1);  strbuf_release(&sb);
 * Allocation failure ends the process with "smelt: fatal: out of memory" and
 * exit status 128 (git's die()): the host's buffers are small, and an
 * out-of-memory host cannot report anything more useful.  main() installs
 * xmalloc as cJSON's allocator too, so no cJSON call in the process (the
 * adapters share the one libcjson) ever returns NULL for lack of memory.
 */
#ifndef SMELT_STRBUF_H
#define SMELT_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;    /* NUL-terminated contents; never NULL after init */
	size_t len;   /* bytes used, without the NUL */
	size_t alloc; /* bytes allocated; 0 while buf points at the shared empty string */
};

extern char strbuf_empty[];
#define STRBUF_INIT { strbuf_empty, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);          /* frees the contents; sb is STRBUF_INIT after */
char *strbuf_detach(struct strbuf *sb);          /* you now own the string (free()); sb is reset */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);            /* len = 0, keeps the allocation */
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_trim(struct strbuf *sb);             /* strips leading and trailing whitespace */

/* xmalloc family: never return NULL; on allocation failure print a message and exit(128). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Marks the command's commit point: what (e.g. "the setting was saved", borrowed, static storage)
 * is done and on disk.  From then on an allocation failure ends the process with exit status 0
 * and "smelt: warning: out of memory after <what>; only this report is missing": the change
 * stands, and a failure status would tell a script to redo it.  Call it right after the last
 * write of a command, before its report.
 */
void xalloc_committed(const char *what);
/* Returns p; when p is NULL (a library call that returns NULL only when it runs out of memory,
 * such as cJSON_CreateObject()), dies like xmalloc: "out of memory", exit(128). */
void *xnonnull(void *p);

#endif
