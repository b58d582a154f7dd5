/*
 * ctx - what every part of the server shares for its lifetime: the
 * options, the token, the child runs.  Read-only after start, except
 * where a field says how it is guarded.
 */
#ifndef SMELT_SERVE_CTX_H
#define SMELT_SERVE_CTX_H

#include "serve/auth.h"
#include "serve/serve.h"

#include <pthread.h>
#include <stdatomic.h>

struct budget;
struct children;
struct dbpool;
struct respcache;

struct serve_ctx {
	const struct serve_opts *o;          /* borrowed from serve_run() */
	char token[AUTH_TOKEN_MAX + 1];      /* the bearer token */
	struct children *kids;               /* runs started through the API (children.h) */
	struct dbpool *db;                   /* system database connections (dbpool.h) */
	struct budget *budget;               /* the CPU requests may take while runs go (budget.h) */
	struct respcache *cache;             /* answers of the run listings (respcache.h) */
	pthread_mutex_t project_lock;        /* loading the project model (not thread-safe) */
	atomic_int stopping;                 /* 1 once SIGINT/SIGTERM arrived: streams end */
};

#endif
