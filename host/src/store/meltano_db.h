/*
 * meltano_db - read-only access to Meltano's own system database
 * (`.meltano/meltano.db`, SQLite, Meltano 4.4's schema: MELTANO.md §12),
 * so a project that switches from Meltano keeps its incremental state and
 * its `config set --store db` settings.
 *
 * Smelt reads through: it never writes to Meltano's database (opened with
 * SQLITE_OPEN_READONLY), so Meltano 4.4 keeps working on the same project.
 * Smelt's own writes go to its own system database (or the configured
 * state backend); store/state_backend.c picks whichever state is newer.
 */
#ifndef SMELT_MELTANO_DB_H
#define SMELT_MELTANO_DB_H

#include <stddef.h>

/*
 * The path of Meltano's database for a project: the sqlite:/// path in
 * MELTANO_DATABASE_URI when that is set, else
 * <root>/<MELTANO_SYS_DIR_ROOT or .meltano>/meltano.db.  NULL when
 * database_uri names another engine (PostgreSQL: store_pg.h reads Meltano's
 * state there).  Caller frees.
 */
char *meltano_db_path(const char *project_root);

/*
 * The state a row of Meltano's `state` table holds (in SQLite or in
 * PostgreSQL): partial_state deep-merged over completed_state (either
 * NULL: none), and of that the "singer_state" value as compact JSON
 * (malloc()ed; the caller frees it).  NULL when there is none.
 */
char *meltano_state_singer(const char *completed, const char *partial);

/*
 * The Singer state Meltano stored for state_id (its partial payload
 * deep-merged over the completed one, the "singer_state" value, compact
 * JSON) and when it was written (updated_at as "YYYY-MM-DD HH:MM:SS.ffffff",
 * UTC).  Returns 1 found, 0 none (no database, no row, no singer_state),
 * negative with err filled when the database cannot be read.  Caller
 * frees *json and *updated_at (either may be passed as NULL).
 */
int meltano_db_state_get(const char *path, const char *state_id, char **json, char **updated_at, char *err,
                         size_t errlen);

/*
 * Call fn for each state id Meltano's database holds (with its
 * updated_at as meltano_db_state_get() gives it), in the database's
 * order.  Returns SMELT_OK (also when there is no database), negative
 * with err filled when it cannot be read.
 */
int meltano_db_state_list(const char *path, void (*fn)(void *arg, const char *state_id, const char *updated_at),
                          void *arg, char *err, size_t errlen);

/*
 * A setting Meltano stored with `config set --store db`: ns is Smelt's
 * namespace (settings_db_namespace(): "extractors.tap-x" or "meltano"),
 * mapped to Meltano's ("extractors.tap-x.default", "meltano").  The
 * pickled value is decoded to JSON text (store/pickle.h).  Returns 1
 * found, 0 none, negative with err naming the setting when the database
 * cannot be read or the value is not plain data.  Caller frees *json.
 */
int meltano_db_setting_get(const char *path, const char *ns, const char *name, char **json, char *err,
                           size_t errlen);

#endif
