/* meltano_db: see meltano_db.h. */
#include "store/meltano_db.h"
#include "store/pickle.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

char *meltano_db_path(const char *project_root)
{
	const char *uri = getenv("MELTANO_DATABASE_URI");
	if (uri && *uri) {
		if (strncmp(uri, "sqlite:///", 10))
			return NULL;
		const char *p = uri + 10;
		return *p == '/' ? xstrdup(p) : path_join(project_root, p);
	}
	const char *sys = getenv("MELTANO_SYS_DIR_ROOT");
	char *dir = path_join(project_root, sys && *sys ? sys : ".meltano");
	char *path = path_join(dir, "meltano.db");
	free(dir);
	return path;
}

/* 0 opened, 1 no database file, negative on failure. */
static int open_ro(const char *path, sqlite3 **db, char *err, size_t errlen)
{
	*db = NULL;
	if (!path || !file_exists(path))
		return 1;
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		int rc = fail(err, errlen, SMELT_ERR, "cannot open Meltano's system database '%s': %s", path,
		              *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return rc;
	}
	sqlite3_busy_timeout(*db, 10000);
	return 0;
}

/* Prepare sql; 1 when the table does not exist (an empty or foreign database). */
static int prepare(sqlite3 *db, const char *path, const char *sql, sqlite3_stmt **q, char *err, size_t errlen)
{
	if (sqlite3_prepare_v2(db, sql, -1, q, NULL) == SQLITE_OK)
		return 0;
	if (strstr(sqlite3_errmsg(db), "no such table"))
		return 1;
	return fail(err, errlen, SMELT_ERR, "cannot read Meltano's system database '%s': %s", path, sqlite3_errmsg(db));
}

char *meltano_state_singer(const char *completed, const char *partial)
{
	cJSON *merged = json_parse_exact(completed ? completed : "{}"), *part = json_parse_exact(partial ? partial : "{}");
	if (!merged || !cJSON_IsObject(merged)) {
		cJSON_Delete(merged);
		merged = cJSON_CreateObject();
	}
	if (part && cJSON_IsObject(part))
		json_merge(merged, part);
	cJSON_Delete(part);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(merged, "singer_state");
	char *out = v ? json_print(v) : NULL;
	cJSON_Delete(merged);
	return out;
}

int meltano_db_state_get(const char *path, const char *state_id, char **json, char **updated_at, char *err,
                         size_t errlen)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	if (json)
		*json = NULL;
	if (updated_at)
		*updated_at = NULL;
	int rc = open_ro(path, &db, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	/* Meltano 4.4 leaves state.updated_at NULL: the last run of the state id tells when it was written */
	rc = prepare(db, path,
	             "SELECT completed_state, partial_state, COALESCE(updated_at, (SELECT MAX(COALESCE(ended_at, "
	             "last_heartbeat_at, started_at)) FROM runs WHERE job_name = state_id)) FROM state WHERE state_id = ?",
	             &q, err, errlen);
	if (rc > 0)
		rc = prepare(db, path, "SELECT completed_state, partial_state, updated_at FROM state WHERE state_id = ?",
		             &q, err, errlen);
	if (rc) {
		sqlite3_close(db);
		return rc > 0 ? 0 : rc;
	}
	sqlite3_bind_text(q, 1, state_id, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(q);
	rc = 0;
	if (step == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(q, 0), *p = (const char *)sqlite3_column_text(q, 1);
		const char *u = (const char *)sqlite3_column_text(q, 2);
		char *found = meltano_state_singer(c, p);
		if (found) {
			rc = 1;
			if (json)
				*json = found;
			else
				free(found);
			if (updated_at)
				*updated_at = xstrdup(u ? u : "");
		}
	} else if (step != SQLITE_DONE) {
		rc = fail(err, errlen, SMELT_ERR, "cannot read Meltano's system database '%s': %s", path,
		          sqlite3_errmsg(db));
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

int meltano_db_setting_get(const char *path, const char *ns, const char *name, char **json, char *err,
                           size_t errlen)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	*json = NULL;
	int rc = open_ro(path, &db, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	rc = prepare(db, path,
	             "SELECT value FROM plugin_settings WHERE namespace = ? AND name = ? AND enabled", &q, err,
	             errlen);
	if (rc) {
		sqlite3_close(db);
		return rc > 0 ? 0 : rc;
	}
	char *mns = strcmp(ns, "meltano") ? xasprintf("%s.default", ns) : xstrdup(ns);
	sqlite3_bind_text(q, 1, mns, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(q);
	rc = 0;
	if (step == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
		const unsigned char *b = sqlite3_column_blob(q, 0);
		size_t n = (size_t)sqlite3_column_bytes(q, 0);
		char why[160];
		if (pickle_to_json(b, n, json, why, sizeof why) == SMELT_OK)
			rc = 1;
		else
			rc = fail(err, errlen, SMELT_ERR, "setting '%s' of '%s' in Meltano's system database is not plain data: %s",
			          name, mns, why);
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = fail(err, errlen, SMELT_ERR, "cannot read Meltano's system database '%s': %s", path,
		          sqlite3_errmsg(db));
	}
	free(mns);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

int meltano_db_state_list(const char *path, void (*fn)(void *arg, const char *state_id, const char *updated_at),
                          void *arg, char *err, size_t errlen)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int rc = open_ro(path, &db, err, errlen);
	if (rc)
		return rc > 0 ? SMELT_OK : rc;
	rc = prepare(db, path,
	             "SELECT state_id, COALESCE(updated_at, (SELECT MAX(COALESCE(ended_at, last_heartbeat_at, "
	             "started_at)) FROM runs WHERE job_name = state_id)) FROM state",
	             &q, err, errlen);
	if (rc) {
		sqlite3_close(db);
		return rc > 0 ? SMELT_OK : rc;
	}
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *u = (const char *)sqlite3_column_text(q, 1);
		fn(arg, (const char *)sqlite3_column_text(q, 0), u ? u : "");
	}
	if (step != SQLITE_DONE)
		rc = fail(err, errlen, SMELT_ERR, "cannot read Meltano's system database '%s': %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}
