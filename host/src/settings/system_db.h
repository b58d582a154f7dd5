/*
 * system_db - opens a project's system database as its database_uri says
 * (the project setting, or MELTANO_DATABASE_URI / .env as settings.h
 * resolves it):
 *
 *   unset, sqlite:///...   <sys_dir>/smelt.db (SQLite; Smelt never writes
 *                          to the file a sqlite:/// URI names, which is
 *                          Meltano's: store/meltano_db.h reads it)
 *   postgresql://..., postgres://..., postgresql+psycopg://... (any
 *                          "+driver")  state, run locks with heartbeats,
 *                          the run history and `--store db` settings in
 *                          that PostgreSQL database (store/store_pg.h);
 *                          <sys_dir>/smelt.db is still opened, unused
 *   any other scheme       refused (SMELT_ERR_CONFIG naming the scheme),
 *                          never silently replaced by a local file
 */
#ifndef SMELT_SETTINGS_SYSTEM_DB_H
#define SMELT_SETTINGS_SYSTEM_DB_H

#include <stddef.h>

struct project;
struct store;

/*
 * Open p's system database into *out (creating p->sys_dir 0700 first).
 * Returns SMELT_OK, SMELT_ERR_CONFIG when database_uri cannot be used
 * (bad scheme, bad URI, settings that do not resolve), SMELT_ERR when a
 * database cannot be opened or reached; err never holds a password.
 */
int settings_open_store(struct project *p, struct store **out, char *err, size_t errlen);

/*
 * settings_open_store(), with one connection for the whole command: when
 * p's SOURCE_DB level is the backend settings_project_db_new() made for p
 * (what the CLI attaches), its database is opened (created) and lent:
 * *out borrowed, *owned 0, closed by project_free() (after every user of
 * *out is done).  Otherwise (another backend, or its server could not be
 * reached before) a new store as settings_open_store() opens it, *owned 1
 * (caller closes).  The same checks, errors and statuses as
 * settings_open_store().
 */
int settings_project_store(struct project *p, struct store **out, int *owned, char *err, size_t errlen);

/*
 * The PostgreSQL URI p's database_uri names (*uri, caller frees), or *uri
 * NULL when the system database is SQLite.  SMELT_ERR_CONFIG as
 * settings_open_store() for a scheme that is not supported.  Resolved
 * without the system-database level of settings (never read from itself).
 */
int settings_system_db_uri(struct project *p, char **uri, char *err, size_t errlen);

/*
 * The SOURCE_DB settings backend of p (settings.h's settings_db_ops): the
 * system database settings_open_store() opens, on first use (reads never
 * create a SQLite file): with a PostgreSQL database_uri, settings stored
 * with `--store db` are on the server (shared by every working copy),
 * else in <sys_dir>/smelt.db.  A value Smelt has not stored is read from
 * Meltano's (never written): its public.plugin_settings on the same
 * PostgreSQL server, else its SQLite .meltano/meltano.db.  p is borrowed
 * and must outlive the backend (project_free() closes it first).
 */
struct settings_db_ops *settings_project_db_new(struct project *p);

#endif
