/*
 * store - the system database (.smelt/smelt.db, SQLite in WAL mode):
 * schema migrations, runs with heartbeats, incremental state (complete
 * and partial payloads per state id, merged as Meltano does), and plugin
 * settings stored with `--store db`.  Every write is its own transaction.
 *
 * When the project's database_uri names PostgreSQL (settings/system_db.h
 * calls store_use_postgres()), the state functions, the run-lock
 * functions (store_run_*, store_runs_json), the run history (runs.h) and
 * `--store db` settings use that server instead (store_pg.h), so machines
 * sharing it share state, history and settings, and one run per state id
 * is enforced across them.  The SQLite file is then still opened (and
 * created) but holds nothing new.
 */
#ifndef SMELT_STORE_H
#define SMELT_STORE_H

#include <stddef.h>

struct store;
struct proc_owner;

#define STORE_SCHEMA_VERSION 3
#define STORE_STALE_HEARTBEAT_S 300      /* a RUNNING run without a heartbeat for 5 min is stale */
#define STORE_STALE_NO_HEARTBEAT_S 86400 /* ... or started 24 h ago without any heartbeat */

/*
 * Open (creating and migrating) the database at path.  The database file
 * and its -wal/-shm/-journal files are made 0600 (also when they exist with
 * wider modes); the caller creates the folder (mkdir_private()).
 */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
void store_close(struct store *st); /* accepts NULL */
/* The open SQLite handle (borrowed until store_close()), for store/runs.c. */
struct sqlite3 *store_db(struct store *st);
/*
 * Keep state and run locks in the PostgreSQL database uri names (a
 * postgresql:// or postgresql+<driver>:// URI) from now on: connects (libpq
 * is loaded now, never before) and creates Smelt's tables there when
 * missing.  SMELT_ERR_CONFIG for a URI that does not parse, SMELT_ERR
 * when the server cannot be used; err never holds the password.
 */
int store_use_postgres(struct store *st, const char *uri, char *err, size_t errlen);
/* The PostgreSQL part store_use_postgres() attached (borrowed), or NULL: everything is in SQLite. */
struct store_pg *store_pg_of(struct store *st);
/* "SQLite" or "PostgreSQL at host:port" (borrowed), for messages. */
const char *store_label(const struct store *st);

/* State: the Singer state value, partial merged over complete; *json NULL when none (free()). */
int store_state_get(struct store *st, const char *state_id, char **json, char *err, size_t errlen);
/* Both payloads as stored ({"completed": ..., "partial": ...}), for export (free()). */
int store_state_get_raw(struct store *st, const char *state_id, char **completed, char **partial, char *err,
                        size_t errlen);
/* Save a value: partial deep-merges into the partial payload; else it replaces both. */
int store_state_put(struct store *st, const char *state_id, const char *json, int partial, char *err,
                    size_t errlen);
/* When state_id was last written ("YYYY-MM-DDTHH:MM:SS.fffZ", UTC); *updated_at NULL when none (free()). */
int store_state_updated_at(struct store *st, const char *state_id, char **updated_at);
int store_state_clear(struct store *st, const char *state_id, char *err, size_t errlen);
/* Copy (or move, when move) the stored record of src to dst. */
int store_state_copy(struct store *st, const char *src, const char *dst, int move, char *err, size_t errlen);
/* Call fn for each state id matching the glob (NULL: all), sorted. */
int store_state_list(struct store *st, const char *glob, void (*fn)(void *arg, const char *state_id,
                     const char *updated_at), void *arg, char *err, size_t errlen);

enum run_status { RUN_RUNNING = 0, RUN_SUCCESS = 1, RUN_FAILED = 2, RUN_STATE_EDIT = 3 };
const char *run_status_name(enum run_status s);

/*
 * Start a run owned by the process owner (borrowed; NULL: not recorded).
 * First, RUNNING runs of the same state id are marked failed when their
 * recorded process is provably gone (proc_owner_check() says PROC_GONE:
 * this host, same boot, no such process or a reused pid), with a warning
 * in the log, or when they are stale (no heartbeat for 5 min, the rule
 * for runs of other hosts and of older smelts).  Then, unless force,
 * another RUNNING run of state_id is refused (SMELT_ERR, message naming
 * it and when it started).  state_id may be NULL (stateless run: no lock).
 */
int store_run_begin(struct store *st, const char *run_id, const char *state_id, const char *name, int force,
                    const struct proc_owner *owner, char *err, size_t errlen);
/*
 * The refusal of store_run_begin() (both system databases): "another
 * 'STATE_ID' pipeline is already running (run R[ on HOST], started at T)",
 * then, when owner runs here and alive, the process to wait for, else
 * until when it may go stale (stale_at).  Returns SMELT_ERR.
 */
int store_refuse_running(char *err, size_t errlen, const char *state_id, const char *run_id, const char *host,
                         const char *started, const char *stale_at, const struct proc_owner *owner);
/*
 * Refresh run_id's heartbeat.  With PostgreSQL, SMELT_ERR_NOTFOUND when the
 * run lost its lock to another machine (store_pg_run_heartbeat()): the
 * caller stops the run.
 */
int store_run_heartbeat(struct store *st, const char *run_id);
/* Finish a run with its status, error text (may be NULL) and a JSON payload of block results (may be NULL). */
int store_run_end(struct store *st, const char *run_id, enum run_status status, const char *error,
                  const char *payload_json, char *err, size_t errlen);
/* Runs, newest first, as a JSON array (free()); limit 0: all. */
int store_runs_json(struct store *st, const char *state_id, int limit, char **json, char *err, size_t errlen);

/* Plugin settings kept in the database (`config set --store db`). value is JSON text; *value NULL when unset (free()). */
int store_setting_get(struct store *st, const char *plugin, const char *name, char **value);
/*
 * A read transaction around many reads (the settings of a plugin): one
 * snapshot and one lock instead of one per statement.  Returns 1 when one
 * was begun (end it with store_read_end(st, 1)), 0 when none was (a
 * PostgreSQL store, or a transaction is already open): store_read_end(st, 0)
 * does nothing.
 */
int store_read_begin(struct store *st);
void store_read_end(struct store *st, int began);
int store_setting_set(struct store *st, const char *plugin, const char *name, const char *value, char *err,
                      size_t errlen);
int store_setting_unset(struct store *st, const char *plugin, const char *name, char *err, size_t errlen);
/* Remove every stored setting of a plugin (smelt remove, config reset). */
int store_settings_clear(struct store *st, const char *plugin, char *err, size_t errlen);

#endif
