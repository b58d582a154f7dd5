/*
 * store_pg - the part of the system database that lives in PostgreSQL when
 * the project's database_uri names a PostgreSQL server (pg_uri.h), so that
 * several machines (Airflow or Dagster workers running one project) share
 * it: incremental state, the run records that are the run locks of state
 * ids, and their heartbeats.  store.c forwards its state and run functions
 * here once store_use_postgres() attached a server; their contracts are
 * store.h's.
 *
 * Tables (created on first use, in a transaction holding an advisory lock,
 * so two machines starting at once do not race; schema version 1 in
 * smelt.schema_version):
 *   smelt.state  (state_id PK, completed_state, partial_state, updated_at)
 *                payloads as in SQLite: {"singer_state": ...} JSON text.
 *   smelt.runs   (run_id UNIQUE, state_id, name, status RUNNING/SUCCESS/
 *                FAIL/STATE_EDIT, started_at, last_heartbeat_at, ended_at,
 *                error, payload, host, host_key, pid, pid_start).
 * Also (tables added later, created by the first smelt that needs them;
 * the version stays 1 as a smelt without them keeps working beside them):
 *   smelt.run_history, smelt.run_blocks  the run history (store/runs.h,
 *                through store/runs_pg.h), as in SQLite, plus a seq column
 *                for the order of runs that started in the same instant.
 *   smelt.plugin_settings (plugin, name, value JSON text): settings stored
 *                with `config set --store db`.
 * Everything is in the schema "smelt": nothing Meltano reads or migrates
 * (its tables are in "public") is touched.
 *
 * Run locks: store_run_begin() takes a transaction-scoped advisory lock
 * on the state id (pg_advisory_xact_lock), so two machines beginning a run
 * of one state id at the same moment are serialised; the second sees the
 * first's RUNNING row and is refused.  A RUNNING row stops counting when
 * its process is provably gone (same host and boot: proc_owner_check()) or
 * its heartbeat is older than 5 minutes (24 hours without any heartbeat),
 * measured by the server's clock, so machines' clocks need not agree.  A
 * Meltano run of the same state id that is RUNNING in Meltano's "runs"
 * table (and not stale by Meltano's own rule, the same 5 minutes / 24 h)
 * refuses the run too.
 *
 * Meltano read-through: when the database holds Meltano's "public.state"
 * table (Meltano ran with this database_uri; told by its columns), a state id's state is
 * Meltano's when its record is newer than Smelt's or Smelt has none, as
 * for Meltano's SQLite database (meltano_db.h); listings include
 * Meltano's ids; clearing an id Meltano still holds records an empty
 * state.  Meltano's tables are only read.
 *
 * Meltano's `--store db` settings (public.plugin_settings, pickled values)
 * are read too (store_pg_meltano_setting_get()), never written.
 *
 * Time limits: the connection has TCP keepalives (a dead server or network
 * is noticed within about a minute) and a 10 s connect timeout; every
 * statement has a statement_timeout (30 s; 2 min for listings and pruning,
 * 5 s for a heartbeat) and a lock_timeout (10 s; 5 s for a heartbeat), and
 * the session an idle_in_transaction_session_timeout (60 s) so that a
 * client that died inside a transaction never keeps its locks.  A limit
 * that is hit fails the command with a message naming the server and what
 * was waited for.
 *
 * The password of the URI never appears in a message: errors name
 * "PostgreSQL at host:port" and libpq's text, scrubbed of the password.
 * One connection per store, used by one thread at a time; a connection
 * lost between queries (server restart) is opened again once per query,
 * outside transactions.  Needs PostgreSQL 11 or newer
 * (hashtextextended()).
 */
#ifndef SMELT_STORE_PG_H
#define SMELT_STORE_PG_H

#include <stddef.h>

struct store_pg;
struct proc_owner;

/*
 * Load libpq (pq_lazy.h), connect to uri, and create the schema when
 * missing.  Returns SMELT_OK with *out set, SMELT_ERR_CONFIG for a URI
 * that does not parse, SMELT_ERR when libpq is missing or the server
 * cannot be reached or refuses.
 */
int store_pg_open(const char *uri, struct store_pg **out, char *err, size_t errlen);
void store_pg_close(struct store_pg *g); /* accepts NULL */
/* "PostgreSQL at host:port" (borrowed), for messages. */
const char *store_pg_label(const struct store_pg *g);

int store_pg_state_get(struct store_pg *g, const char *state_id, char **json, char *err, size_t errlen);
int store_pg_state_get_raw(struct store_pg *g, const char *state_id, char **completed, char **partial, char *err,
                           size_t errlen);
int store_pg_state_put(struct store_pg *g, const char *state_id, const char *json, int partial, char *err,
                       size_t errlen);
int store_pg_state_updated_at(struct store_pg *g, const char *state_id, char **updated_at);
int store_pg_state_clear(struct store_pg *g, const char *state_id, char *err, size_t errlen);
int store_pg_state_copy(struct store_pg *g, const char *src, const char *dst, int move, char *err, size_t errlen);
int store_pg_state_list(struct store_pg *g, const char *glob,
                        void (*fn)(void *arg, const char *state_id, const char *updated_at), void *arg, char *err,
                        size_t errlen);

int store_pg_run_begin(struct store_pg *g, const char *run_id, const char *state_id, const char *name, int force,
                       const struct proc_owner *owner, char *err, size_t errlen);
/*
 * Refresh the heartbeat of run_id.  SMELT_OK; SMELT_ERR_NOTFOUND when its
 * row is no longer RUNNING: another machine marked it stale and took the
 * lock of its state id over (or it was ended by hand); an error naming
 * who took it is logged, and from then on store_pg_state_put() of that
 * state id is refused, so the run that lost its lock never overwrites the
 * new owner's state.  SMELT_ERR when the server cannot be reached (logged
 * once; the run goes on).
 */
int store_pg_run_heartbeat(struct store_pg *g, const char *run_id);
/* status is run_status_name()'s text. */
int store_pg_run_end(struct store_pg *g, const char *run_id, const char *status, const char *error,
                     const char *payload_json, char *err, size_t errlen);
int store_pg_runs_json(struct store_pg *g, const char *state_id, int limit, char **json, char *err, size_t errlen);

/* Settings stored with `--store db` (store.h's store_setting_*); name NULL in unset: every setting of plugin. */
int store_pg_setting_get(struct store_pg *g, const char *plugin, const char *name, char **value, char *err,
                         size_t errlen);
int store_pg_setting_set(struct store_pg *g, const char *plugin, const char *name, const char *value, char *err,
                         size_t errlen);
int store_pg_setting_unset(struct store_pg *g, const char *plugin, const char *name, char *err, size_t errlen);
/*
 * A setting Meltano stored with `config set --store db` in this database
 * (public.plugin_settings; ns and the result as meltano_db_setting_get():
 * 1 found with *json set, 0 none or no such table, negative with err
 * naming the setting when its pickled value is not plain data).
 */
int store_pg_meltano_setting_get(struct store_pg *g, const char *ns, const char *name, char **json, char *err,
                                 size_t errlen);

/* ---- for the other PostgreSQL modules of store/ (runs_pg.c); libpq's types from util/pq_lazy.h ---- */
struct pq_api;
struct pg_result;
const struct pq_api *store_pg_api(const struct store_pg *g);
/* sql with n text parameters (NULL: SQL NULL): the result (clear it), or NULL with err filled. */
struct pg_result *store_pg_exec(struct store_pg *g, const char *sql, int n, const char *const *params, char *err,
                                size_t errlen, const char *what);
int store_pg_begin(struct store_pg *g, char *err, size_t errlen, const char *what);
/* COMMIT when rc is SMELT_OK (else ROLLBACK); the final status. */
int store_pg_commit(struct store_pg *g, int rc, char *err, size_t errlen);
/* slow 1: the next statements may take 2 minutes (listings, pruning); 0: back to 30 s. */
void store_pg_slow(struct store_pg *g, int slow);

#endif
