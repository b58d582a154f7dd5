/* args: see args.h. */
#include "args.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static void usage(const char *name, unsigned accept)
{
	if (accept & CONN_ARGS_TAP)
		fprintf(stderr, "usage: %s --config CONFIG [--state STATE] [--catalog CATALOG | --properties CATALOG]\n"
		                "       %s --config CONFIG --discover\n", name, name);
	else
		fprintf(stderr, "usage: %s --config CONFIG [--input FILE]\n", name);
	fprintf(stderr, "       %s --about [--format=json|text]\n       %s --version\n", name, name);
}

/* "--opt VALUE" or "--opt=VALUE": 1 and *value set, 0 when argv[*i] is not opt, -1 when the value is missing. */
static int value_of(int argc, char **argv, int *i, const char *opt, const char **value)
{
	size_t n = strlen(opt);
	if (strncmp(argv[*i], opt, n))
		return 0;
	if (argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n])
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

int conn_args_parse(int argc, char **argv, unsigned accept, const char *name, const char *version,
                    struct conn_args *out, char *err, size_t errlen)
{
	static const struct { const char *opt; unsigned need; size_t field; } opts[] = {
		{ "--config", 0, offsetof(struct conn_args, config) },
		{ "--format", 0, offsetof(struct conn_args, format) },
		{ "--state", CONN_ARGS_TAP, offsetof(struct conn_args, state) },
		{ "--catalog", CONN_ARGS_TAP, offsetof(struct conn_args, catalog) },
		{ "--properties", CONN_ARGS_TAP, offsetof(struct conn_args, catalog) },
		{ "--input", CONN_ARGS_INPUT, offsetof(struct conn_args, input) },
	};
	memset(out, 0, sizeof *out);
	out->format = "text";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int matched = 0;
		for (size_t k = 0; k < sizeof opts / sizeof opts[0] && !matched; k++) {
			if (opts[k].need && !(accept & opts[k].need))
				continue;
			const char **slot = (const char **)((char *)out + opts[k].field);
			int r = value_of(argc, argv, &i, opts[k].opt, slot);
			if (r < 0) {
				snprintf(err, errlen, "option '%s' needs a value", a);
				usage(name, accept);
				return -1;
			}
			matched = r;
		}
		if (matched)
			continue;
		if ((accept & CONN_ARGS_TAP) && !strcmp(a, "--discover")) {
			out->discover = 1;
		} else if (!strcmp(a, "--about")) {
			out->about = 1;
		} else if (!strcmp(a, "--version")) {
			printf("%s %s\n", name, version);
			return 1;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(name, accept);
			return 1;
		} else {
			snprintf(err, errlen, "unknown option '%s'", a);
			usage(name, accept);
			return -1;
		}
	}
	if (out->about && strcmp(out->format, "json") && strcmp(out->format, "text")) {
		snprintf(err, errlen, "unsupported --format '%s' (json or text)", out->format);
		return -1;
	}
	return 0;
}
