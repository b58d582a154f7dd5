/*
 * suggest - "did you mean": the closest of some candidate names to a
 * mistyped one, by edit distance (insert, delete, substitute).  One helper
 * for commands, plugin names, plugin types, setting names and options.
 *
 * Threading: no shared state.
 */
#ifndef SMELT_SUGGEST_H
#define SMELT_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance between a and b; (size_t)-1 when out of memory. */
size_t suggest_distance(const char *a, const char *b);

/*
 * The candidate closest to name when it is close enough to be a typo (at
 * most 2 edits for names shorter than 5 bytes, 3 otherwise, and fewer
 * edits than name has bytes), else NULL.  A candidate that name is a
 * prefix of wins a tie.  Returns a borrowed pointer into candidates (NULL
 * entries are skipped).
 */
const char *suggest_closest(const char *name, const char *const *candidates, size_t n);

#endif
