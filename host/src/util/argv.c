/* argv: see argv.h. */
#include "util/argv.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

void argv_push(char ***words, size_t *n, const char *w)
{
	*words = xrealloc(*words, (*n + 2) * sizeof **words);
	(*words)[(*n)++] = xstrdup(w);
	(*words)[*n] = NULL;
}

int argv_split(const char *s, char ***words, size_t *n)
{
	struct strbuf w = STRBUF_INIT;
	int in_word = 0;
	char quote = 0;
	if (!*words) {
		*words = xcalloc(1, sizeof **words);
		*n = 0;
	}
	for (const char *p = s;; p++) {
		char c = *p;
		if (!c) {
			if (quote) {
				strbuf_release(&w);
				return -1;
			}
			if (in_word)
				argv_push(words, n, w.buf);
			break;
		}
		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			else
				strbuf_addch(&w, c);
			continue;
		}
		if (c == '\\' && p[1] && (quote != '"' || strchr("\"\\$`\n", p[1]))) {
			strbuf_addch(&w, *++p);
			in_word = 1;
			continue;
		}
		if (quote == '"') {
			if (c == '"')
				quote = 0;
			else
				strbuf_addch(&w, c);
			continue;
		}
		if (c == '\'' || c == '"') {
			quote = c;
			in_word = 1;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word)
				argv_push(words, n, w.buf);
			strbuf_reset(&w);
			in_word = 0;
			continue;
		}
		strbuf_addch(&w, c);
		in_word = 1;
	}
	strbuf_release(&w);
	return 0;
}

void argv_free(char **words)
{
	for (char **w = words; w && *w; w++)
		free(*w);
	free(words);
}

char **argv_copy(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}
