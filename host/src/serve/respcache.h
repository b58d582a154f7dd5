/*
 * respcache - the serialized JSON of the server's run listings, kept
 * until the system database changes.
 *
 * A crowd of clients polling GET /runs and GET /runs/{id} asks the same
 * questions again and again, and each answer is a few SQLite queries and
 * a JSON serialization.  The cache keeps each answer's text with the
 * database's generation at the time it was read; an answer is served from
 * the cache only while the generation is the same, that is while no
 * connection (a run, the CLI, this server) has committed anything to the
 * database since.  The generation is SQLite's "PRAGMA data_version" of a
 * connection the cache keeps for that alone: a few microseconds, no
 * interval, nothing stale.  With a PostgreSQL system database (runs on a
 * server other machines write to) there is no such generation: nothing is
 * cached, every answer still gets its ETag.  Each answer also gets an ETag (a hash of its
 * text), so a client that sends If-None-Match gets 304 without a body.
 *
 * Callers: read the generation (respcache_generation) BEFORE reading the
 * database for an answer, and store the answer with that generation: an
 * answer read after a later commit is then stored as older than it is
 * (dropped at the next look), never newer.  Thread-safe.
 */
#ifndef SMELT_SERVE_RESPCACHE_H
#define SMELT_SERVE_RESPCACHE_H

#include <stddef.h>

struct dbpool;
struct respcache;

#define RESPCACHE_ENTRIES 64            /* answers kept at most */
#define RESPCACHE_BYTES (16u << 20)     /* their text at most, together */
#define RESPCACHE_ETAG_SIZE 19          /* "\"%016llx\"" and its NUL */

/* A cache whose generation is read on its own connection from pool (borrowed; outlives it).  Never NULL. */
struct respcache *respcache_new(struct dbpool *pool);
/* Free the cache and give its connection back; accepts NULL. */
void respcache_free(struct respcache *c);

/*
 * The database's generation now: it grows whenever another connection
 * committed since the previous call.  -1 when it cannot be read (the
 * caller then neither gets nor puts).
 */
long long respcache_generation(struct respcache *c);

/*
 * The answer stored under key at generation gen: 0 with *text (a copy,
 * malloc()ed: the caller frees it), *len and etag filled; -1 when there is
 * none (or only an older one).
 */
int respcache_get(struct respcache *c, const char *key, long long gen, char **text, size_t *len,
                  char etag[RESPCACHE_ETAG_SIZE]);

/*
 * Store text (copied) as the answer to key read at generation gen, unless
 * a newer one is there or it is larger than a quarter of RESPCACHE_BYTES;
 * the least recently used answers make room.  etag is filled either way.
 */
void respcache_put(struct respcache *c, const char *key, long long gen, const char *text, size_t len,
                   char etag[RESPCACHE_ETAG_SIZE]);

/* The ETag of text: a strong entity tag, a hash of the bytes (same bytes, same tag, across restarts). */
void respcache_etag(const char *text, size_t len, char etag[RESPCACHE_ETAG_SIZE]);

/*
 * 1 when an If-None-Match header value (NULL: none) matches etag: "*", or
 * one of its comma-separated entity tags, weak (W/"...") or not.
 */
int respcache_etag_matches(const char *if_none_match, const char *etag);

#endif
