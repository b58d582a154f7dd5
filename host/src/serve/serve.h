/*
 * serve - `smelt serve`: the project's HTTP API (api/openapi.json is the
 * contract, under /api/v1) on libmicrohttpd, one thread per connection.
 * Runs started through it are `smelt run` child processes it supervises
 * (serve/children.h); everything else reads the system database or runs
 * this smelt's own commands (serve/subcmd.h), so the API follows the
 * CLI's rules.  Security: see serve/auth.h and SECURITY notes in README.
 * The threads answering requests run at nice opts->nice and, with
 * opts->idle, under SCHED_IDLE; the runs at the server's own priority and
 * policy (serve/server.c), so clients slow the server, not the runs.
 */
#ifndef SMELT_SERVE_H
#define SMELT_SERVE_H

#include <stddef.h>

/* What `smelt serve` was given; strings borrowed for serve_run()'s duration. */
struct serve_opts {
	const char *listen;       /* "HOST:PORT" or "[V6]:PORT"; NULL: 127.0.0.1:5000 */
	int allow_unsafe;         /* ?unsafe=true may show sensitive values */
	int insecure;             /* plain HTTP on a non-loopback address */
	const char *tls_cert;     /* PEM files: both or neither */
	const char *tls_key;
	const char *exe;          /* this smelt's absolute path (children run it) */
	const char *root;         /* the project root */
	const char *file;         /* its smelt.yml or meltano.yml (absolute) */
	const char *env_file;     /* --env-file given to smelt, NULL: <root>/.env */
	const char *sys_dir;      /* its .smelt folder */
	const char *database_uri; /* the PostgreSQL system database (database_uri), NULL: SQLite */
	const char *environment;  /* --environment given to smelt serve, NULL: none */
	int no_environment;       /* --no-environment given */
	const char *data_dir;     /* share/smelt of this install (openapi.json, ui/) */
	int nice;                 /* the request threads' nice value (0: not lowered); runs keep the server's */
	int idle;                 /* the request threads run under SCHED_IDLE; runs keep the server's policy */
	int busy_cpu;             /* while its runs go, requests take at most this % of one CPU (100: no limit) */
};

/*
 * Serve until SIGINT or SIGTERM.  Returns 0, or a negative status with err
 * filled (bad --listen, TLS files, port in use, ...).
 */
int serve_run(const struct serve_opts *o, char *err, size_t errlen);

#endif
