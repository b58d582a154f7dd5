/*
 * runs_pg - the run history (store/runs.h) in PostgreSQL, for a project
 * whose database_uri names a server (store_pg.h): tables
 * smelt.run_history and smelt.run_blocks, the same rows as SQLite's, so
 * every working copy (machine) using the server lists one history.
 * store/runs.c forwards here when the store has a PostgreSQL part
 * (store_pg_of()); each function has the contract of its runs.h
 * namesake.  Times are the server's (now()), printed as runs.h prints
 * them ("YYYY-MM-DDTHH:MM:SS.fffZ", UTC).
 */
#ifndef SMELT_RUNS_PG_H
#define SMELT_RUNS_PG_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct store_pg;
struct proc_owner;
struct runs_start;
struct runs_query;

int runs_pg_begin(struct store_pg *g, const struct runs_start *r, char *err, size_t errlen);
int runs_pg_queue(struct store_pg *g, const char *run_id, const char *trigger, const char *job,
                  const char *const *args, size_t nargs, const struct proc_owner *owner, char *err, size_t errlen);
int runs_pg_queued_owner(struct store_pg *g, const char *run_id, const struct proc_owner *owner, char *err,
                         size_t errlen);
int runs_pg_block_begin(struct store_pg *g, const char *run_id, size_t idx, char *err, size_t errlen);
int runs_pg_block_end(struct store_pg *g, const char *run_id, size_t idx, const char *status, double seconds,
                      long long rows, const cJSON *detail, char *err, size_t errlen);
int runs_pg_end(struct store_pg *g, const char *run_id, const char *status, int exit_code, const char *error,
                char *err, size_t errlen);
/* since: runs_parse_since()'s output (NULL: none). */
int runs_pg_list(struct store_pg *g, const struct runs_query *q, const char *since, cJSON **out, char *err,
                 size_t errlen);
int runs_pg_show(struct store_pg *g, const char *run_id, cJSON **out, char *err, size_t errlen);
int runs_pg_status(struct store_pg *g, const char *run_id, char *status, size_t statuslen, struct proc_owner *owner,
                   char *err, size_t errlen);
void runs_pg_reap_dead(struct store_pg *g, int (*supervised)(void *arg, const char *run_id), void *arg);
/* before: runs_parse_since()'s output of older_than (NULL: none). */
int runs_pg_prune(struct store_pg *g, int keep, const char *before, void (*fn)(void *arg, const char *run_id),
                  void *arg, int *removed, char *err, size_t errlen);

#endif
