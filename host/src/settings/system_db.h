/*
 * system_db - opens a project's system database as its database_uri says
 * (the project setting, or MELTANO_DATABASE_URI / .env as settings.h
 * resolves it):
 *
 *   unset, sqlite:///...   <sys_dir>/smelt.db (SQLite; Smelt never writes
 *                          to the file a sqlite:/// URI names, which is
 *                          Meltano's: store/meltano_db.h reads it)
 *   postgresql://..., postgres://..., postgresql+psycopg://... (any
 *                          "+driver")  <sys_dir>/smelt.db for the run
 *                          history and `--store db` settings, state and
 *                          run locks with heartbeats in that PostgreSQL
 *                          database (store/store_pg.h)
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

#endif
