/* respcache: cached JSON answers, valid until the system database changes; see respcache.h. */
#include "serve/respcache.h"
#include "serve/dbpool.h"
#include "store/store.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *key;                       /* NULL: a free slot */
	char *text;
	size_t len;
	long long gen;
	unsigned long long used;         /* c->tick when last served or stored */
	char etag[RESPCACHE_ETAG_SIZE];
};

struct respcache {
	struct dbpool *pool;             /* borrowed */
	pthread_mutex_t gen_mu;          /* guards st, version, last, gen */
	struct store *st;                /* the generation's own connection (never writes) */
	sqlite3_stmt *version;           /* PRAGMA data_version on it */
	long long last;                  /* the data_version seen last */
	long long gen;
	int off;                         /* the runs are on a PostgreSQL server: no generation, no caching */
	pthread_mutex_t mu;              /* guards the entries, bytes, tick */
	struct entry e[RESPCACHE_ENTRIES];
	size_t bytes;
	unsigned long long tick;
};

struct respcache *respcache_new(struct dbpool *pool)
{
	struct respcache *c = xcalloc(1, sizeof *c);
	c->pool = pool;
	c->last = -1;
	pthread_mutex_init(&c->gen_mu, NULL);
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void respcache_free(struct respcache *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->version);
	dbpool_put(c->pool, c->st);
	for (size_t i = 0; i < RESPCACHE_ENTRIES; i++) {
		free(c->e[i].key);
		free(c->e[i].text);
	}
	pthread_mutex_destroy(&c->gen_mu);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

long long respcache_generation(struct respcache *c)
{
	long long gen = -1;
	pthread_mutex_lock(&c->gen_mu);
	if (!c->st && !c->off) {
		char err[SMELT_ERRBUF_SIZE];
		c->st = dbpool_get(c->pool, err, sizeof err);
		/* runs kept on a PostgreSQL server change without SQLite's data_version knowing: never cached */
		if (c->st && store_pg_of(c->st)) {
			dbpool_put(c->pool, c->st);
			c->st = NULL;
			c->off = 1;
		}
		if (c->st && sqlite3_prepare_v2(store_db(c->st), "PRAGMA data_version", -1, &c->version, NULL) != SQLITE_OK) {
			sqlite3_finalize(c->version);
			c->version = NULL;
			dbpool_put(c->pool, c->st);
			c->st = NULL;
		}
	}
	if (c->version) {
		if (sqlite3_step(c->version) == SQLITE_ROW) {
			long long v = sqlite3_column_int64(c->version, 0);
			if (v != c->last) {
				c->last = v;
				c->gen++;
			}
			gen = c->gen;
		}
		sqlite3_reset(c->version);
	}
	pthread_mutex_unlock(&c->gen_mu);
	return gen;
}

static struct entry *find(struct respcache *c, const char *key)
{
	for (size_t i = 0; i < RESPCACHE_ENTRIES; i++)
		if (c->e[i].key && !strcmp(c->e[i].key, key))
			return &c->e[i];
	return NULL;
}

static void drop(struct respcache *c, struct entry *e)
{
	c->bytes -= e->len;
	free(e->key);
	free(e->text);
	memset(e, 0, sizeof *e);
}

int respcache_get(struct respcache *c, const char *key, long long gen, char **text, size_t *len,
                  char etag[RESPCACHE_ETAG_SIZE])
{
	if (gen < 0)
		return -1;
	int rc = -1;
	pthread_mutex_lock(&c->mu);
	struct entry *e = find(c, key);
	if (e && e->gen == gen) {
		*text = xmalloc(e->len + 1);
		memcpy(*text, e->text, e->len + 1);
		*len = e->len;
		memcpy(etag, e->etag, RESPCACHE_ETAG_SIZE);
		e->used = ++c->tick;
		rc = 0;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void respcache_put(struct respcache *c, const char *key, long long gen, const char *text, size_t len,
                   char etag[RESPCACHE_ETAG_SIZE])
{
	respcache_etag(text, len, etag);
	if (gen < 0 || len > RESPCACHE_BYTES / 4)
		return;
	pthread_mutex_lock(&c->mu);
	struct entry *e = find(c, key);
	if (e && e->gen > gen) { /* a newer answer is there already */
		pthread_mutex_unlock(&c->mu);
		return;
	}
	if (e)
		drop(c, e);
	for (;;) {
		struct entry *free_slot = NULL, *oldest = NULL;
		for (size_t i = 0; i < RESPCACHE_ENTRIES; i++) {
			struct entry *x = &c->e[i];
			if (!x->key)
				free_slot = free_slot ? free_slot : x;
			else if (!oldest || x->used < oldest->used)
				oldest = x;
		}
		if (free_slot && c->bytes + len <= RESPCACHE_BYTES) {
			e = free_slot;
			break;
		}
		drop(c, oldest); /* oldest is set: there is no free slot, or bytes are taken */
	}
	e->key = xstrdup(key);
	e->text = xmalloc(len + 1);
	memcpy(e->text, text, len);
	e->text[len] = 0;
	e->len = len;
	e->gen = gen;
	e->used = ++c->tick;
	memcpy(e->etag, etag, RESPCACHE_ETAG_SIZE);
	c->bytes += len;
	pthread_mutex_unlock(&c->mu);
}

void respcache_etag(const char *text, size_t len, char etag[RESPCACHE_ETAG_SIZE])
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 0x100000001b3ull;
	}
	h ^= (uint64_t)len;
	snprintf(etag, RESPCACHE_ETAG_SIZE, "\"%016llx\"", (unsigned long long)h);
}

int respcache_etag_matches(const char *if_none_match, const char *etag)
{
	if (!if_none_match)
		return 0;
	size_t el = strlen(etag);
	for (const char *p = if_none_match; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (*p != '"')
			return 0; /* not a list of entity tags: no match */
		const char *end = strchr(p + 1, '"');
		if (!end)
			return 0;
		if ((size_t)(end + 1 - p) == el && !memcmp(p, etag, el))
			return 1;
		p = end + 1;
	}
	return 0;
}
