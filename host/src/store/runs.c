/* runs: the run history; see runs.h. */
#include "store/runs.h"
#include "store/runs_pg.h"
#include "store/store.h"
#include "util/proc_owner.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

static int db_fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
	return fail(err, errlen, SMELT_ERR, "system database: %s: %s", what, sqlite3_errmsg(db));
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, char *err, size_t errlen, const char *what)
{
	if (sqlite3_prepare_v2(db, sql, -1, q, NULL) != SQLITE_OK)
		return db_fail(db, err, errlen, what);
	return SMELT_OK;
}

static void bind_opt(sqlite3_stmt *q, int col, const char *s)
{
	if (s)
		sqlite3_bind_text(q, col, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, col);
}

static void bind_owner(sqlite3_stmt *q, int col, const struct proc_owner *o)
{
	if (o && o->pid > 0) {
		sqlite3_bind_text(q, col, o->host, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, col + 1, o->host_key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, col + 2, o->pid);
		sqlite3_bind_int64(q, col + 3, (sqlite3_int64)o->start);
	}
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? SMELT_OK : SMELT_ERR;
}

int runs_begin(struct store *st, const struct runs_start *r, char *err, size_t errlen)
{
	if (store_pg_of(st))
		return runs_pg_begin(store_pg_of(st), r, err, errlen);
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q = NULL;
	cJSON *args = cJSON_CreateArray();
	for (size_t i = 0; i < r->nargs; i++)
		cJSON_AddItemToArray(args, cJSON_CreateString(r->args[i]));
	char *args_text = cJSON_PrintUnformatted(args);
	cJSON_Delete(args);
	int rc = exec(db, "BEGIN IMMEDIATE") ? db_fail(db, err, errlen, "record run") : SMELT_OK;
	if (!rc && !prepare(db, "SELECT status FROM run_history WHERE run_id = ?", &q, err, errlen, "record run")) {
		sqlite3_bind_text(q, 1, r->run_id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(q, 0), "queued"))
			rc = fail(err, errlen, SMELT_ERR_CONFIG, "run id '%s' was used before; give a new one", r->run_id);
		sqlite3_finalize(q);
		q = NULL;
	} else if (!rc) {
		rc = SMELT_ERR;
	}
	/* a queued row (the server's) keeps its trigger */
	if (!rc && !prepare(db,
	                    "INSERT INTO run_history(run_id, job, trigger, args, status, log_path, host, host_key, pid, "
	                    "pid_start) VALUES(?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8, ?9) "
	                    "ON CONFLICT(run_id) DO UPDATE SET job = ?2, args = ?4, status = 'running', "
	                    "started_at = " NOW ", log_path = ?5, host = ?6, host_key = ?7, pid = ?8, pid_start = ?9",
	                    &q, err, errlen, "record run")) {
		sqlite3_bind_text(q, 1, r->run_id, -1, SQLITE_TRANSIENT);
		bind_opt(q, 2, r->job);
		sqlite3_bind_text(q, 3, r->trigger ? r->trigger : "cli", -1, SQLITE_TRANSIENT);
		bind_opt(q, 4, args_text);
		bind_opt(q, 5, r->log_path);
		bind_owner(q, 6, r->owner);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = db_fail(db, err, errlen, "record run");
		sqlite3_finalize(q);
		q = NULL;
	} else if (!rc) {
		rc = SMELT_ERR;
	}
	if (!rc && !prepare(db, "DELETE FROM run_blocks WHERE run_id = ?", &q, err, errlen, "record run")) {
		sqlite3_bind_text(q, 1, r->run_id, -1, SQLITE_TRANSIENT);
		sqlite3_step(q);
		sqlite3_finalize(q);
		q = NULL;
	}
	if (!rc && !prepare(db, "INSERT INTO run_blocks(run_id, idx, block, kind, status) VALUES(?, ?, ?, ?, 'pending')",
	                    &q, err, errlen, "record run")) {
		for (size_t i = 0; !rc && i < r->nblocks; i++) {
			sqlite3_reset(q);
			sqlite3_bind_text(q, 1, r->run_id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(q, 2, (sqlite3_int64)i);
			sqlite3_bind_text(q, 3, r->blocks[i], -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(q, 4, r->kinds ? r->kinds[i] : "el", -1, SQLITE_TRANSIENT);
			if (sqlite3_step(q) != SQLITE_DONE)
				rc = db_fail(db, err, errlen, "record run");
		}
		sqlite3_finalize(q);
	}
	free(args_text);
	if (!rc && exec(db, "COMMIT"))
		rc = db_fail(db, err, errlen, "record run");
	if (rc)
		exec(db, "ROLLBACK");
	return rc;
}

int runs_queue(struct store *st, const char *run_id, const char *trigger, const char *job,
               const char *const *args, size_t nargs, const struct proc_owner *owner, char *err, size_t errlen)
{
	if (store_pg_of(st))
		return runs_pg_queue(store_pg_of(st), run_id, trigger, job, args, nargs, owner, err, errlen);
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < nargs; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(args[i]));
	char *text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	int rc = prepare(db,
	                 "INSERT INTO run_history(run_id, job, trigger, args, status, host, host_key, pid, pid_start) "
	                 "VALUES(?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, ?8)",
	                 &q, err, errlen, "record run");
	if (!rc) {
		sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
		bind_opt(q, 2, job);
		sqlite3_bind_text(q, 3, trigger, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 4, text, -1, SQLITE_TRANSIENT);
		bind_owner(q, 5, owner);
		int s = sqlite3_step(q);
		if (s == SQLITE_CONSTRAINT)
			rc = fail(err, errlen, SMELT_ERR_CONFIG, "run id '%s' was used before; give a new one", run_id);
		else if (s != SQLITE_DONE)
			rc = db_fail(db, err, errlen, "record run");
		sqlite3_finalize(q);
	}
	free(text);
	return rc;
}

int runs_queued_owner(struct store *st, const char *run_id, const struct proc_owner *owner, char *err, size_t errlen)
{
	if (store_pg_of(st))
		return runs_pg_queued_owner(store_pg_of(st), run_id, owner, err, errlen);
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	if (prepare(db,
	            "UPDATE run_history SET host = ?2, host_key = ?3, pid = ?4, pid_start = ?5 "
	            "WHERE run_id = ?1 AND status = 'queued'",
	            &q, err, errlen, "record run"))
		return SMELT_ERR;
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
	bind_owner(q, 2, owner);
	int rc = sqlite3_step(q) == SQLITE_DONE ? SMELT_OK : db_fail(db, err, errlen, "record run");
	sqlite3_finalize(q);
	return rc;
}

int runs_block_begin(struct store *st, const char *run_id, size_t idx, char *err, size_t errlen)
{
	if (store_pg_of(st))
		return runs_pg_block_begin(store_pg_of(st), run_id, idx, err, errlen);
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	if (prepare(db, "UPDATE run_blocks SET status = 'running', started_at = " NOW " WHERE run_id = ? AND idx = ?", &q,
	            err, errlen, "record block"))
		return SMELT_ERR;
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)idx);
	int rc = sqlite3_step(q) == SQLITE_DONE ? SMELT_OK : db_fail(db, err, errlen, "record block");
	sqlite3_finalize(q);
	return rc;
}

int runs_block_end(struct store *st, const char *run_id, size_t idx, const char *status, double seconds,
                   long long rows, const cJSON *detail, char *err, size_t errlen)
{
	if (store_pg_of(st))
		return runs_pg_block_end(store_pg_of(st), run_id, idx, status, seconds, rows, detail, err, errlen);
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	if (prepare(db,
	            "UPDATE run_blocks SET status = ?3, duration_s = ?4, rows = ?5, detail = ?6, "
	            "started_at = coalesce(started_at, " NOW ") WHERE run_id = ?1 AND idx = ?2",
	            &q, err, errlen, "record block"))
		return SMELT_ERR;
	char *d = detail ? cJSON_PrintUnformatted(detail) : NULL;
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)idx);
	sqlite3_bind_text(q, 3, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(q, 4, seconds);
	if (rows >= 0)
		sqlite3_bind_int64(q, 5, rows);
	bind_opt(q, 6, d);
	int rc = sqlite3_step(q) == SQLITE_DONE ? SMELT_OK : db_fail(db, err, errlen, "record block");
	sqlite3_finalize(q);
	free(d);
	return rc;
}

int runs_end(struct store *st, const char *run_id, const char *status, int exit_code, const char *error, char *err,
             size_t errlen)
{
	if (store_pg_of(st))
		return runs_pg_end(store_pg_of(st), run_id, status, exit_code, error, err, errlen);
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	if (exec(db, "BEGIN IMMEDIATE"))
		return db_fail(db, err, errlen, "finish run");
	int rc = prepare(db,
	                 "UPDATE run_history SET status = ?2, exit_code = ?3, error = ?4, ended_at = " NOW ", "
	                 "duration_s = round((julianday('now') - julianday(started_at)) * 86400.0, 3) "
	                 "WHERE run_id = ?1 AND status IN ('running', 'queued')",
	                 &q, err, errlen, "finish run");
	int changed = 0;
	if (!rc) {
		sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, status, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(q, 3, exit_code);
		bind_opt(q, 4, error);
		rc = sqlite3_step(q) == SQLITE_DONE ? SMELT_OK : db_fail(db, err, errlen, "finish run");
		changed = sqlite3_changes(db);
		sqlite3_finalize(q);
	}
	if (!rc && changed &&
	    !(rc = prepare(db,
	                   "UPDATE run_blocks SET status = CASE status WHEN 'pending' THEN 'skipped' ELSE ?2 END, "
	                   "duration_s = coalesce(duration_s, round((julianday('now') - julianday(started_at)) * "
	                   "86400.0, 3)) WHERE run_id = ?1 AND status IN ('pending', 'running')",
	                   &q, err, errlen, "finish run"))) {
		sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, status, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(q) == SQLITE_DONE ? SMELT_OK : db_fail(db, err, errlen, "finish run");
		sqlite3_finalize(q);
	}
	if (!rc && exec(db, "COMMIT"))
		rc = db_fail(db, err, errlen, "finish run");
	if (rc)
		exec(db, "ROLLBACK");
	return rc;
}

int runs_parse_since(const char *text, char *buf, size_t len, char *err, size_t errlen)
{
	char *end;
	if (!text || !*text)
		return fail(err, errlen, SMELT_ERR_CONFIG, "a time is empty");
	if (isdigit((unsigned char)text[0])) {
		long long n = strtoll(text, &end, 10);
		long long unit = !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600
		                 : !strcmp(end, "d") ? 86400 : !strcmp(end, "w") ? 604800 : 0;
		if (unit && n >= 0 && n < 100000LL * 365) {
			time_t t = time(NULL) - (time_t)(n * unit);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(buf, len, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
			return SMELT_OK;
		}
	}
	/* ISO 8601: YYYY-MM-DD, optionally [T ]HH:MM[:SS[.fff]][Z] (UTC) */
	int y, mo, d, h = 0, mi = 0, s = 0, used = 0;
	size_t tl = strlen(text);
	if (tl >= 10 && sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && used == 10 && mo >= 1 && mo <= 12 &&
	    d >= 1 && d <= 31) {
		const char *rest = text + 10;
		int ok = !*rest;
		if (!ok && (*rest == 'T' || *rest == ' ')) {
			int u2 = 0;
			if (sscanf(rest + 1, "%2d:%2d%n", &h, &mi, &u2) == 2 && u2 == 5) {
				const char *r = rest + 1 + u2;
				if (*r == ':' && sscanf(r + 1, "%2d%n", &s, &u2) == 1 && u2 == 2) {
					r += 3;
					if (*r == '.')
						for (r++; isdigit((unsigned char)*r); r++)
							;
				}
				if (*r == 'Z')
					r++;
				ok = !*r && h < 24 && mi < 60 && s < 61;
			}
		}
		if (ok) {
			snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", y, mo, d, h, mi, s);
			return SMELT_OK;
		}
	}
	char shown[80];
	snprintf(shown, sizeof shown, "%.64s", text);
	for (char *c = shown; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = '?';
	return fail(err, errlen, SMELT_ERR_CONFIG,
	            "'%s' is not a time: give a duration back from now (7d, 12h, 30m) or an ISO date (2026-12-01)",
	            shown);
}

static void add_text(cJSON *o, const char *key, sqlite3_stmt *q, int col)
{
	const char *t = (const char *)sqlite3_column_text(q, col);
	if (t)
		cJSON_AddStringToObject(o, key, t);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_number(cJSON *o, const char *key, sqlite3_stmt *q, int col)
{
	if (sqlite3_column_type(q, col) == SQLITE_NULL)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, sqlite3_column_double(q, col));
}

#define RUN_COLUMNS                                                                                                 \
	"h.run_id, h.job, h.trigger, h.args, h.status, h.started_at, h.ended_at, h.duration_s, h.exit_code, h.error, " \
	"h.log_path, (SELECT count(*) FROM run_blocks b WHERE b.run_id = h.run_id), "                                  \
	"(SELECT sum(rows) FROM run_blocks b WHERE b.run_id = h.run_id), h.pid"

static cJSON *run_row(sqlite3_stmt *q)
{
	cJSON *o = cJSON_CreateObject();
	add_text(o, "run_id", q, 0);
	add_text(o, "job", q, 1);
	add_text(o, "trigger", q, 2);
	const char *args = (const char *)sqlite3_column_text(q, 3);
	cJSON *a = args ? cJSON_Parse(args) : NULL;
	cJSON_AddItemToObject(o, "args", a ? a : cJSON_CreateArray());
	add_text(o, "status", q, 4);
	add_text(o, "started_at", q, 5);
	add_text(o, "ended_at", q, 6);
	add_number(o, "duration_s", q, 7);
	add_number(o, "exit_code", q, 8);
	add_text(o, "error", q, 9);
	add_text(o, "log_path", q, 10);
	cJSON_AddNumberToObject(o, "blocks_total", sqlite3_column_double(q, 11));
	add_number(o, "rows", q, 12);
	return o;
}

static const char list_where[] = "WHERE (?1 IS NULL OR h.job = ?1) AND (?2 IS NULL OR h.status = ?2) AND "
                                 "(?3 IS NULL OR h.started_at >= ?3)";

int runs_list(struct store *st, const struct runs_query *rq, cJSON **out, char *err, size_t errlen)
{
	sqlite3 *db = store_db(st);
	char since[40];
	*out = NULL;
	if (rq->since && runs_parse_since(rq->since, since, sizeof since, err, errlen))
		return SMELT_ERR_CONFIG;
	if (store_pg_of(st))
		return runs_pg_list(store_pg_of(st), rq, rq->since ? since : NULL, out, err, errlen);
	char *sql = xasprintf("SELECT " RUN_COLUMNS " FROM run_history h %s ORDER BY h.started_at DESC, h.rowid DESC "
	                      "LIMIT ?4 OFFSET ?5",
	                      list_where);
	char *count_sql = xasprintf("SELECT count(*) FROM run_history h %s", list_where);
	sqlite3_stmt *q = NULL, *c = NULL;
	int rc = prepare(db, sql, &q, err, errlen, "list runs");
	if (!rc)
		rc = prepare(db, count_sql, &c, err, errlen, "list runs");
	free(sql);
	free(count_sql);
	if (rc) {
		sqlite3_finalize(q);
		return rc;
	}
	sqlite3_stmt *both[] = { q, c };
	for (int i = 0; i < 2; i++) {
		bind_opt(both[i], 1, rq->job);
		bind_opt(both[i], 2, rq->status);
		bind_opt(both[i], 3, rq->since ? since : NULL);
	}
	sqlite3_bind_int(q, 4, rq->limit > 0 ? rq->limit : -1);
	sqlite3_bind_int(q, 5, rq->offset > 0 ? rq->offset : 0);
	cJSON *res = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(res, "runs");
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, run_row(q));
	double total = sqlite3_step(c) == SQLITE_ROW ? sqlite3_column_double(c, 0) : 0;
	cJSON_AddNumberToObject(res, "total", total);
	sqlite3_finalize(q);
	sqlite3_finalize(c);
	if (step != SQLITE_DONE) {
		cJSON_Delete(res);
		return db_fail(db, err, errlen, "list runs");
	}
	*out = res;
	return SMELT_OK;
}

int runs_show(struct store *st, const char *run_id, cJSON **out, char *err, size_t errlen)
{
	if (store_pg_of(st))
		return runs_pg_show(store_pg_of(st), run_id, out, err, errlen);
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	*out = NULL;
	if (prepare(db, "SELECT " RUN_COLUMNS " FROM run_history h WHERE h.run_id = ?", &q, err, errlen, "read run"))
		return SMELT_ERR;
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "no run with id '%s'", run_id);
	}
	cJSON *run = run_row(q);
	sqlite3_finalize(q);
	/* the lock rows of its EL blocks ("<run id>:<n>") name their state ids */
	if (prepare(db,
	            "SELECT b.idx, b.block, b.kind, b.status, b.started_at, b.duration_s, b.rows, b.detail, "
	            "(SELECT r.state_id FROM runs r WHERE r.run_id = b.run_id || ':' || (b.idx + 1)) "
	            "FROM run_blocks b WHERE b.run_id = ? ORDER BY b.idx",
	            &q, err, errlen, "read run")) {
		cJSON_Delete(run);
		return SMELT_ERR;
	}
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
	cJSON *blocks = cJSON_AddArrayToObject(run, "blocks");
	while (sqlite3_step(q) == SQLITE_ROW) {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddNumberToObject(b, "index", sqlite3_column_double(q, 0) + 1);
		add_text(b, "block", q, 1);
		add_text(b, "kind", q, 2);
		add_text(b, "status", q, 3);
		add_text(b, "started_at", q, 4);
		add_number(b, "duration_s", q, 5);
		add_number(b, "rows", q, 6);
		add_text(b, "state_id", q, 8);
		const char *d = (const char *)sqlite3_column_text(q, 7);
		cJSON *detail = d ? cJSON_Parse(d) : NULL;
		cJSON *streams = detail ? cJSON_DetachItemFromObjectCaseSensitive(detail, "streams") : NULL;
		cJSON *results = detail ? cJSON_DetachItemFromObjectCaseSensitive(detail, "results") : NULL;
		cJSON *summary = detail ? cJSON_DetachItemFromObjectCaseSensitive(detail, "summary") : NULL;
		cJSON_AddItemToObject(b, "streams", streams ? streams : cJSON_CreateObject());
		cJSON_AddItemToObject(b, "results", results ? results : cJSON_CreateArray());
		cJSON_AddItemToObject(b, "summary", summary ? summary : cJSON_CreateString(""));
		cJSON_Delete(detail);
		cJSON_AddItemToArray(blocks, b);
	}
	sqlite3_finalize(q);
	*out = run;
	return SMELT_OK;
}

int runs_status(struct store *st, const char *run_id, char *status, size_t statuslen, struct proc_owner *owner,
                char *err, size_t errlen)
{
	if (store_pg_of(st))
		return runs_pg_status(store_pg_of(st), run_id, status, statuslen, owner, err, errlen);
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	if (prepare(db, "SELECT status, host, host_key, pid, pid_start FROM run_history WHERE run_id = ?", &q, err, errlen,
	            "read run"))
		return SMELT_ERR;
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "no run with id '%s'", run_id);
	}
	snprintf(status, statuslen, "%s", (const char *)sqlite3_column_text(q, 0));
	if (owner) {
		memset(owner, 0, sizeof *owner);
		const char *h = (const char *)sqlite3_column_text(q, 1), *k = (const char *)sqlite3_column_text(q, 2);
		snprintf(owner->host, sizeof owner->host, "%s", h ? h : "");
		snprintf(owner->host_key, sizeof owner->host_key, "%s", k ? k : "");
		owner->pid = (long)sqlite3_column_int64(q, 3);
		owner->start = (unsigned long long)sqlite3_column_int64(q, 4);
	}
	sqlite3_finalize(q);
	return SMELT_OK;
}

void runs_reap_dead(struct store *st, int (*supervised)(void *arg, const char *run_id), void *arg)
{
	if (store_pg_of(st)) {
		runs_pg_reap_dead(store_pg_of(st), supervised, arg);
		return;
	}
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db,
	                       "SELECT run_id, host, host_key, pid, pid_start, status FROM run_history "
	                       "WHERE status IN ('running', 'queued') AND pid IS NOT NULL",
	                       -1, &q, NULL) != SQLITE_OK)
		return;
	char **gone = NULL;
	int *queued = NULL;
	size_t n = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct proc_owner o = { .pid = (long)sqlite3_column_int64(q, 3),
		                        .start = (unsigned long long)sqlite3_column_int64(q, 4) };
		const char *h = (const char *)sqlite3_column_text(q, 1), *k = (const char *)sqlite3_column_text(q, 2);
		snprintf(o.host, sizeof o.host, "%s", h ? h : "");
		snprintf(o.host_key, sizeof o.host_key, "%s", k ? k : "");
		const char *id = (const char *)sqlite3_column_text(q, 0);
		if (!(supervised && supervised(arg, id)) && proc_owner_check(&o) == PROC_GONE) {
			gone = xrealloc(gone, (n + 1) * sizeof *gone);
			queued = xrealloc(queued, (n + 1) * sizeof *queued);
			queued[n] = !strcmp((const char *)sqlite3_column_text(q, 5), "queued");
			gone[n++] = xstrdup(id);
		}
	}
	sqlite3_finalize(q);
	for (size_t i = 0; i < n; i++) {
		char err[SMELT_ERRBUF_SIZE];
		runs_end(st, gone[i], "failed", -1,
		         queued[i] ? "the process that was to run it is gone before the run began; it was likely killed"
		                   : "the process running it is gone; it was likely killed",
		         err, sizeof err);
		free(gone[i]);
	}
	free(gone);
	free(queued);
}

int runs_prune(struct store *st, int keep, const char *older_than, void (*fn)(void *arg, const char *run_id),
               void *arg, int *removed, char *err, size_t errlen)
{
	sqlite3 *db = store_db(st);
	char before[40];
	*removed = 0;
	if (older_than && runs_parse_since(older_than, before, sizeof before, err, errlen))
		return SMELT_ERR_CONFIG;
	if (store_pg_of(st))
		return runs_pg_prune(store_pg_of(st), keep, older_than ? before : NULL, fn, arg, removed, err, errlen);
	sqlite3_stmt *q;
	if (prepare(db,
	            "SELECT run_id FROM run_history WHERE status NOT IN ('running', 'queued') AND ("
	            " (?1 >= 0 AND run_id NOT IN (SELECT run_id FROM run_history ORDER BY started_at DESC, rowid DESC "
	            "  LIMIT ?1)) OR (?2 IS NOT NULL AND started_at < ?2))",
	            &q, err, errlen, "prune runs"))
		return SMELT_ERR;
	sqlite3_bind_int(q, 1, keep);
	bind_opt(q, 2, older_than ? before : NULL);
	char **ids = NULL;
	size_t n = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		ids = xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = xstrdup((const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	int rc = exec(db, "BEGIN IMMEDIATE") ? db_fail(db, err, errlen, "prune runs") : SMELT_OK;
	sqlite3_stmt *d = NULL, *l = NULL;
	if (!rc && (prepare(db, "DELETE FROM run_history WHERE run_id = ?", &d, err, errlen, "prune runs") ||
	            prepare(db, "DELETE FROM runs WHERE run_id >= ?1 || ':' AND run_id < ?1 || ';'", &l, err, errlen,
	                    "prune runs")))
		rc = SMELT_ERR;
	for (size_t i = 0; !rc && i < n; i++) {
		sqlite3_reset(d);
		sqlite3_reset(l);
		sqlite3_bind_text(d, 1, ids[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(l, 1, ids[i], -1, SQLITE_TRANSIENT);
		if (sqlite3_step(d) != SQLITE_DONE || sqlite3_step(l) != SQLITE_DONE)
			rc = db_fail(db, err, errlen, "prune runs");
	}
	sqlite3_finalize(d);
	sqlite3_finalize(l);
	if (!rc && exec(db, "COMMIT"))
		rc = db_fail(db, err, errlen, "prune runs");
	if (rc)
		exec(db, "ROLLBACK");
	for (size_t i = 0; i < n; i++) {
		if (!rc && fn)
			fn(arg, ids[i]);
		free(ids[i]);
	}
	free(ids);
	if (!rc)
		*removed = (int)n;
	return rc;
}
