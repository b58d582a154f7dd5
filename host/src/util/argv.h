/* argv - splitting a command string into words the way a POSIX shell would, without a shell. */
#ifndef SMELT_ARGV_H
#define SMELT_ARGV_H

#include <stddef.h>

/*
 * Split s at unquoted blanks; 'single' and "double" quotes group, a
 * backslash escapes the next character (not inside single quotes).
 * Appends to *words (NULL-terminated, realloc'ed) and *n.  Returns 0, or
 * -1 for an unterminated quote.
 */
int argv_split(const char *s, char ***words, size_t *n);
/* Append one word (copied). */
void argv_push(char ***words, size_t *n, const char *w);
void argv_free(char **words);
/* A NULL-terminated copy of the NULL-terminated v (NULL: an empty list); argv_free() frees it. */
char **argv_copy(const char *const *v);

#endif
