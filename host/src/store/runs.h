/*
 * runs - the run history in the system database (tables run_history and
 * run_blocks, schema version 3): one row per `smelt run` whoever started
 * it (the CLI, the API server, a schedule, an orchestrator), with its
 * blocks, their status, duration, rows per stream and results, the exit
 * code, the error and where its log is.  run/history.c writes it during a
 * run; `smelt runs` and `smelt serve` read it.
 *
 * Statuses: "queued" (the server recorded it, its process has not begun),
 * "running", "success", "failed", "cancelled"; a block is also
 * "pending" (not started) or "skipped" (the run stopped before it).
 *
 * With a PostgreSQL database_uri (store_use_postgres()), every function
 * works on the server's smelt.run_history and smelt.run_blocks instead
 * (store/runs_pg.h), so working copies on several machines share one
 * history; the contracts are the same.
 *
 * Every function takes a borrowed store and is safe to call from several
 * threads as long as each thread uses its own store (one SQLite
 * connection per thread).  Negative status with err filled on failure.
 */
#ifndef SMELT_RUNS_H
#define SMELT_RUNS_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct store;
struct proc_owner;

/* What a run is when it starts; every field borrowed for the call. */
struct runs_start {
	const char *run_id;              /* required */
	const char *job;                 /* the job it runs, NULL: blocks given directly */
	const char *trigger;             /* "cli", "api", "schedule", ...; NULL: "cli" */
	const char *const *args;         /* the run's arguments as given (blocks or a job) */
	size_t nargs;
	const char *const *blocks;       /* the parsed blocks' text, in order */
	const char *const *kinds;        /* parallel: "el" or "command" */
	size_t nblocks;
	const char *log_path;            /* the run log, relative to the project root when beneath it */
	const struct proc_owner *owner;  /* the process running it, NULL: unknown */
};

/*
 * Record a run as "running", with its blocks "pending".  An existing row
 * of the same id that is not running yet (the server records the runs it
 * starts before the child does) is replaced; a finished one is refused.
 */
int runs_begin(struct store *st, const struct runs_start *r, char *err, size_t errlen);
/*
 * Record a run the server is about to start as "queued" (trigger "api"),
 * so it is listed from the moment its id is known; runs_begin() in the
 * child takes it over.  A used id is refused.  owner (borrowed, may be
 * NULL) is the process answerable for it until then: the server, then
 * the child once started (runs_queued_owner()); when that process is
 * provably gone and the run is still queued, runs_reap_dead() fails it.
 */
int runs_queue(struct store *st, const char *run_id, const char *trigger, const char *job,
               const char *const *args, size_t nargs, const struct proc_owner *owner, char *err, size_t errlen);
/* The process of a run still "queued" is now owner (borrowed); a run that began already is left as is. */
int runs_queued_owner(struct store *st, const char *run_id, const struct proc_owner *owner, char *err, size_t errlen);
/* Mark block idx (0-based) of run_id "running" from now. */
int runs_block_begin(struct store *st, const char *run_id, size_t idx, char *err, size_t errlen);
/*
 * Finish block idx with status, seconds, rows (-1: none reported) and
 * detail, a JSON object ({"streams": {...}, "results": [...], ...};
 * borrowed, may be NULL).
 */
int runs_block_end(struct store *st, const char *run_id, size_t idx, const char *status, double seconds,
                   long long rows, const cJSON *detail, char *err, size_t errlen);
/*
 * Finish a run: status, exit code, error (may be NULL).  Blocks still
 * pending become "skipped", a block still running takes the run's status.
 * Only a run that is still "running" (or "queued") changes: the first
 * writer wins, so the supervising server's verdict never overwrites the
 * run's own.
 */
int runs_end(struct store *st, const char *run_id, const char *status, int exit_code, const char *error, char *err,
             size_t errlen);

/* Filters and paging of runs_list(); NULL / 0 fields are unset. */
struct runs_query {
	const char *job;
	const char *status;
	const char *since;   /* ISO date or date-time (UTC), or a duration back from now: "7d", "12h", "30m" */
	int limit;           /* 0: all */
	int offset;
};

/*
 * Runs matching q, newest first, as {"runs": [...], "total": N} (total
 * ignores paging).  *out is the caller's (cJSON_Delete).  A bad since is
 * SMELT_ERR_CONFIG.
 */
int runs_list(struct store *st, const struct runs_query *q, cJSON **out, char *err, size_t errlen);
/*
 * One run in full (its blocks with their results), or SMELT_ERR_NOTFOUND.
 * *out is the caller's (cJSON_Delete).
 */
int runs_show(struct store *st, const char *run_id, cJSON **out, char *err, size_t errlen);
/* The run's status and owner pid (0 when unknown); SMELT_ERR_NOTFOUND when no such run. */
int runs_status(struct store *st, const char *run_id, char *status, size_t statuslen, struct proc_owner *owner,
                char *err, size_t errlen);

/*
 * Delete finished runs: all but the newest keep (keep >= 0), or those that
 * started before older_than (NULL: no such rule; same syntax as since).
 * fn is called with each deleted run id (to remove its logs), then
 * *removed is their number.  Running runs are never deleted.
 */
int runs_prune(struct store *st, int keep, const char *older_than, void (*fn)(void *arg, const char *run_id),
               void *arg, int *removed, char *err, size_t errlen);

/*
 * Runs left "running" (or "queued") by a process that is provably gone
 * (proc_owner_check()) become "failed" ("the process ... is gone").
 * Called before listings.
 * supervised (may be NULL) names runs whose process a supervisor waits for
 * and finishes with its real exit status (a server's own children, which
 * look gone while they are zombies): those are left to it.
 */
void runs_reap_dead(struct store *st, int (*supervised)(void *arg, const char *run_id), void *arg);

/*
 * Parse since/older-than text into an SQLite-comparable UTC timestamp
 * ("YYYY-MM-DDTHH:MM:SS.000Z") in buf; SMELT_ERR_CONFIG with err when it is
 * neither a duration (N followed by s, m, h, d or w) nor an ISO date.
 */
int runs_parse_since(const char *text, char *buf, size_t len, char *err, size_t errlen);

#endif
