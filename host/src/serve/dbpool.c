/* dbpool: the server's system database connections; see dbpool.h. */
#include "serve/dbpool.h"
#include "store/store.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <pthread.h>
#include <stdlib.h>

struct dbpool {
	char *path;
	char *pg_uri; /* NULL: SQLite only */
	pthread_mutex_t mu;   /* guards idle, nidle */
	struct store *idle[DBPOOL_IDLE];
	size_t nidle;
};

struct dbpool *dbpool_new(const char *path)
{
	struct dbpool *p = xcalloc(1, sizeof *p);
	p->path = xstrdup(path);
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

void dbpool_use_postgres(struct dbpool *p, const char *uri)
{
	free(p->pg_uri);
	p->pg_uri = uri ? xstrdup(uri) : NULL;
}

void dbpool_free(struct dbpool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nidle; i++)
		store_close(p->idle[i]);
	pthread_mutex_destroy(&p->mu);
	free(p->path);
	free(p->pg_uri);
	free(p);
}

struct store *dbpool_get(struct dbpool *p, char *err, size_t errlen)
{
	struct store *st = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->nidle)
		st = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->mu);
	if (!st && store_open(p->path, &st, err, errlen) != SMELT_OK)
		return NULL;
	if (p->pg_uri && !store_pg_of(st) && store_use_postgres(st, p->pg_uri, err, errlen) != SMELT_OK) {
		store_close(st);
		return NULL;
	}
	return st;
}

void dbpool_put(struct dbpool *p, struct store *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&p->mu);
	if (p->nidle < DBPOOL_IDLE) {
		p->idle[p->nidle++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	store_close(st);
}
