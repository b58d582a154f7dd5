/*
 * dbpool - the server's connections to the system database, kept open
 * between requests: opening one costs more than most requests (SQLite
 * reads and parses the schema of every new connection).  A connection is
 * used by one thread at a time (taken, then given back); at most
 * DBPOOL_IDLE stay open idle.  Thread-safe.
 */
#ifndef SMELT_SERVE_DBPOOL_H
#define SMELT_SERVE_DBPOOL_H

#include <stddef.h>

struct dbpool;
struct store;

#define DBPOOL_IDLE 16

/* A pool of connections to the database at path (copied).  Never NULL. */
struct dbpool *dbpool_new(const char *path);
/*
 * Connections from now on also keep state, run locks, the run history and
 * settings in the PostgreSQL database uri names (store_use_postgres();
 * copied; NULL: SQLite only).  Call before the first dbpool_get().
 */
void dbpool_use_postgres(struct dbpool *p, const char *uri);
/* Close every idle connection and free the pool (none may be out); accepts NULL. */
void dbpool_free(struct dbpool *p);
/* An open connection (the caller's until dbpool_put), or NULL with err filled. */
struct store *dbpool_get(struct dbpool *p, char *err, size_t errlen);
/* Give st back (kept, or closed when DBPOOL_IDLE are idle already); accepts NULL. */
void dbpool_put(struct dbpool *p, struct store *st);

#endif
