/*
 * kit - small helpers the in-tree adapters share (a static library linked
 * into each adapter's .so; it never links the host).  Out-of-tree adapters
 * need nothing from here: it is convenience, not ABI.
 */
#ifndef SMELT_ADAPTER_KIT_H
#define SMELT_ADAPTER_KIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Fill the caller's error buffer (may be NULL) and return status, for `return kit_fail(...)`. */
int kit_fail(char *err, size_t errlen, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A formatted, malloc'ed string; NULL when out of memory.  Caller frees. */
char *kit_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* mkdir -p with mode for the folders it creates.  0, or -1 with errno set. */
int kit_mkdirs(const char *path, mode_t mode);

/* A whole file, NUL-terminated, its size in *len (may be NULL); NULL when unreadable.  Caller frees. */
char *kit_read_file(const char *path, size_t *len);

/* Lines of a child's stdout gathered into one buffer ("\n" after each line). */
struct kit_collect {
	char *buf;       /* NUL-terminated once a line arrived; caller frees */
	size_t len, cap;
};

/* A struct smelt_spawn on_line callback appending to the struct kit_collect in arg. */
int kit_collect_line(void *arg, const char *line, size_t len, unsigned long lineno);

/*
 * Split a command's args string at blanks, honouring '...' and "..." quotes
 * (no shell).  Words are written into buf (at least strlen(s) + 1 bytes) and
 * appended to argv[*k...] (at most max words in all).  0, or -1 for an
 * unterminated quote or too many words.
 */
int kit_split_args(const char *s, char *buf, const char **argv, size_t *k, size_t max);

/* 64-bit FNV-1a of s, continuing from h (start with KIT_FNV_INIT); NULL s adds nothing. */
#define KIT_FNV_INIT 1469598103934665603ull
uint64_t kit_fnv1a(uint64_t h, const char *s);

#endif
