/*
 * args: the command line every native connector takes, parsed once.
 *   tap-csv       --config F [--state F] [--catalog F | --properties F] | --discover
 *   target-*      --config F [--input F]
 *   all           --about [--format json|text] | --version | --help
 */
#ifndef SMELT_CONN_ARGS_H
#define SMELT_CONN_ARGS_H

#include <stddef.h>

enum conn_args_accept {
	CONN_ARGS_TAP = 1 << 0,   /* --state, --catalog, --properties, --discover */
	CONN_ARGS_INPUT = 1 << 1, /* --input FILE (targets) */
};

struct conn_args {
	const char *config;  /* --config; borrowed from argv */
	const char *state;   /* --state */
	const char *catalog; /* --catalog or --properties */
	const char *input;   /* --input */
	const char *format;  /* --format, default "text" */
	int discover;        /* --discover */
	int about;           /* --about */
};

/*
 * Parse argv.  Returns 0 to go on, 1 when the program should exit 0 now
 * (--version or --help printed), -1 on a usage error (err filled, usage
 * printed on stderr).  --about checks --format here.
 */
int conn_args_parse(int argc, char **argv, unsigned accept, const char *name, const char *version,
                    struct conn_args *out, char *err, size_t errlen);

#endif
