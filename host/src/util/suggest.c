/* suggest: see suggest.h. */
#include "util/suggest.h"

#include <stdlib.h>
#include <string.h>

size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = calloc(lb + 1, sizeof *row);
	if (!row)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

const char *suggest_closest(const char *name, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(name);
	for (size_t i = 0; i < n; i++) {
		if (!candidates[i] || !strcmp(name, candidates[i]))
			continue;
		size_t d = suggest_distance(name, candidates[i]);
		if (d < best_d || (!strncmp(name, candidates[i], len) && d <= best_d)) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best && best_d <= (len < 5 ? 2 : 3) && best_d < len ? best : NULL;
}
