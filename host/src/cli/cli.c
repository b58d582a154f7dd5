/* cli: shared helpers of the commands; see cli.h. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("smelt: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "see 'smelt %s --help'\n", cmd);
	return EXIT_USAGE;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("smelt: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int cli_not_implemented(const char *what)
{
	fprintf(stderr, "smelt: error: %s: not implemented yet\n", what);
	return EXIT_USAGE;
}

int cli_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

/* Compare an option name allowing '_' for '-'. */
static int opt_eq(const char *arg, const char *name, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char a = arg[i] == '_' ? '-' : arg[i], b = name[i] == '_' ? '-' : name[i];
		if (a != b)
			return 0;
	}
	return 1;
}

int cli_opt_flag(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strlen(arg) == n && opt_eq(arg, name, n);
}

int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);
	if (!opt_eq(arg, name, n) || strlen(arg) < n)
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "smelt: error: option '%s' needs a value\n", name);
		return -1;
	}
	*value = argv[++*i];
	return 1;
}

int cli_parse_format(const char *value, unsigned allowed)
{
	static const char *const names[] = { "text", "json", "env" };
	for (int f = 0; f < 3; f++)
		if (!strcmp(value, names[f]) && (allowed & (1u << f)))
			return f;
	return -1;
}

static size_t distance(const char *a, const char *b)
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

const char *cli_suggest(const char *name, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(name, candidates[i]);
		if (d < best_d || (!strncmp(name, candidates[i], strlen(name)) && d <= best_d)) {
			best_d = d;
			best = candidates[i];
		}
	}
	size_t len = strlen(name);
	return best && best_d <= (len < 5 ? 2 : 3) ? best : NULL;
}
