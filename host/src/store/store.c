/* store: the system database; see store.h. */
#include "store/store.h"
#include "store/store_pg.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/proc_owner.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * The WAL is kept between commands (see store_open()), but every command's
 * first connection rebuilds SQLite's index of it by reading all of it (the
 * unix VFS truncates the -shm file when it is the only user), so a large
 * WAL slows every command that follows: about 2.5 us per 4 KiB frame, 1.6
 * ms at SQLite's autocheckpoint size of 1000 frames.  A connection that
 * committed while the WAL held at least STORE_WAL_CLOSE_FRAMES frames
 * checkpoints it into the database and truncates it when it closes
 * (never waiting for another connection: when one is busy, what can be
 * copied is, and the rest waits for a later close).  A tiny `smelt run`
 * adds about 15 frames, so this is about one close in eight, and the WAL
 * a command starts with stays under about 0.5 MiB.
 */
#define STORE_WAL_CLOSE_FRAMES 128
#define STORE_WAL_AUTOCHECKPOINT 1000 /* SQLite's default, which a WAL hook of our own replaces */

struct store {
	sqlite3 *db;
	int wal_frames; /* frames in the WAL after this connection's last commit (0: it committed nothing) */
	sqlite3_stmt *setting_get; /* prepared on first use and kept: a run reads a hundred settings */
	struct store_pg *pg; /* state and run locks in PostgreSQL (store_use_postgres()); NULL: SQLite */
};

/* Forward migrations: entry i brings the schema from version i to i + 1.  Append only. */
static const char *const migrations[] = {
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id TEXT NOT NULL UNIQUE,"
	"  state_id TEXT,"
	"  name TEXT,"
	"  status TEXT NOT NULL,"
	"  started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
	"  last_heartbeat_at TEXT,"
	"  ended_at TEXT,"
	"  error TEXT,"
	"  payload TEXT);"
	"CREATE INDEX runs_state ON runs(state_id, status);"
	"CREATE TABLE state ("
	"  state_id TEXT PRIMARY KEY,"
	"  completed_state TEXT NOT NULL DEFAULT '{}',"
	"  partial_state TEXT NOT NULL DEFAULT '{}',"
	"  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
	"CREATE TABLE plugin_settings ("
	"  plugin TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  value TEXT,"
	"  PRIMARY KEY (plugin, name));",
	/* 2: who runs a RUNNING run (struct proc_owner), so a dead owner's lock goes at once */
	"ALTER TABLE runs ADD COLUMN host TEXT;"
	"ALTER TABLE runs ADD COLUMN host_key TEXT;"
	"ALTER TABLE runs ADD COLUMN pid INTEGER;"
	"ALTER TABLE runs ADD COLUMN pid_start INTEGER;",
	/*
	 * 3: run history (store/runs.h): one row per `smelt run` (the runs table
	 * above keeps one row per EL block, as the lock of its state id), and
	 * its blocks with their status, duration, rows and results.
	 */
	"CREATE TABLE run_history ("
	"  run_id TEXT PRIMARY KEY,"
	"  job TEXT,"
	"  trigger TEXT NOT NULL DEFAULT 'cli',"
	"  args TEXT,"
	"  status TEXT NOT NULL,"
	"  started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
	"  ended_at TEXT,"
	"  duration_s REAL,"
	"  exit_code INTEGER,"
	"  error TEXT,"
	"  log_path TEXT,"
	"  host TEXT, host_key TEXT, pid INTEGER, pid_start INTEGER);"
	"CREATE INDEX run_history_started ON run_history(started_at);"
	"CREATE TABLE run_blocks ("
	"  run_id TEXT NOT NULL REFERENCES run_history(run_id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL,"
	"  block TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  started_at TEXT,"
	"  duration_s REAL,"
	"  rows INTEGER,"
	"  detail TEXT,"
	"  PRIMARY KEY (run_id, idx));",
};

static int db_fail(struct store *st, char *err, size_t errlen, const char *what)
{
	return fail(err, errlen, SMELT_ERR, "system database: %s: %s", what, sqlite3_errmsg(st->db));
}

static int exec(struct store *st, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fail(err, errlen, SMELT_ERR, "system database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return SMELT_ERR;
	}
	return SMELT_OK;
}

/*
 * The database holds errors and, with --store db, secrets: it is 0600 before
 * SQLite opens it, so the -wal and -shm files SQLite creates get 0600 too
 * (it copies the database's mode), and files an older smelt left 0644 are
 * tightened.  Failures are left to sqlite3_open_v2 to report.
 */
static void store_private_files(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	if (path[0] == ':' || !path[0])
		return;
	/*
	 * Created here only when it does not exist yet: closing a descriptor of
	 * a database file that another connection of this process has open
	 * drops that connection's POSIX locks (SQLite's "how to corrupt", 2.2),
	 * which let a server's reaper overwrite a run's recorded end.
	 */
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char *f = xasprintf("%s%s", path, suffixes[i]);
		struct stat sb;
		if (lstat(f, &sb) == 0 && S_ISREG(sb.st_mode)) /* never a folder given by mistake */
			fs_tighten(f, 0600);
		free(f);
	}
}

/* sqlite3_wal_hook(): what SQLite's autocheckpoint does, and the WAL's size noted for store_close(). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;
	st->wal_frames = frames;
	if (frames >= STORE_WAL_AUTOCHECKPOINT)
		sqlite3_wal_checkpoint(db, name); /* passive, as SQLite's own hook */
	return SQLITE_OK;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *st = xcalloc(1, sizeof *st);
	*out = NULL;
	store_private_files(path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		int rc = fail(err, errlen, SMELT_ERR, "cannot open the system database '%s': %s", path,
		              st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(st);
		return rc;
	}
	sqlite3_busy_timeout(st->db, 10000);
	/*
	 * Switching a new database to WAL needs it alone, and SQLite answers
	 * SQLITE_BUSY at once (no busy handler) when another process opens it
	 * at the same moment: try again for up to 10 s.
	 */
	for (int tries = 0;; tries++) {
		int rc = sqlite3_exec(st->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			break;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries >= 200) {
			int r = db_fail(st, err, errlen, "journal mode");
			store_close(st);
			return r;
		}
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	/*
	 * Keep the WAL between commands: no checkpoint when a connection closes
	 * (SQLite checkpoints when the WAL reaches 1000 pages instead) and the
	 * -wal file is not deleted.  A checkpoint and the re-creation of the WAL
	 * cost five fdatasync()s (WAL, database, folder) per command, most of
	 * the fixed cost of a tiny run; durability is unchanged (synchronous=
	 * NORMAL in WAL mode: a commit survives any crash of smelt or its
	 * plugins, and the newest commits are lost only with the machine).
	 */
	int persist = 1;
	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	sqlite3_wal_hook(st->db, wal_hook, st); /* a large WAL is checkpointed at close: STORE_WAL_CLOSE_FRAMES */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (exec(st, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err, errlen)) {
		store_close(st);
		return SMELT_ERR;
	}
	/*
	 * The version is read inside the write transaction of each step, so two
	 * processes opening a new database at once (a run and `smelt runs list`)
	 * never both apply the same migration.
	 */
	int nmig = (int)(sizeof migrations / sizeof migrations[0]);
	/* up to date (the common case): no write transaction, so readers never queue behind a run's writes */
	sqlite3_stmt *vq;
	int current = -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &vq, NULL) == SQLITE_OK) {
		if (sqlite3_step(vq) == SQLITE_ROW)
			current = sqlite3_column_int(vq, 0);
		sqlite3_finalize(vq);
	}
	for (; current != nmig;) {
		sqlite3_stmt *q;
		int version = -1;
		if (exec(st, "BEGIN IMMEDIATE", err, errlen)) {
			store_close(st);
			return SMELT_ERR;
		}
		if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK) {
			if (sqlite3_step(q) == SQLITE_ROW)
				version = sqlite3_column_int(q, 0);
			sqlite3_finalize(q);
		}
		if (version < 0 || version >= nmig) {
			exec(st, "COMMIT", NULL, 0);
			if (version > nmig) {
				store_close(st);
				return fail(err, errlen, SMELT_ERR,
				            "the system database '%s' has schema version %d, this smelt knows up to %d; upgrade smelt",
				            path, version, nmig);
			}
			if (version < 0) {
				int rc = db_fail(st, err, errlen, "read the schema version");
				store_close(st);
				return rc;
			}
			break;
		}
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version=%d;", version + 1);
		if (exec(st, migrations[version], err, errlen) || exec(st, sql, err, errlen) ||
		    exec(st, "COMMIT", err, errlen)) {
			exec(st, "ROLLBACK", NULL, 0);
			store_close(st);
			return SMELT_ERR;
		}
	}
	*out = st;
	return SMELT_OK;
}

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

int store_use_postgres(struct store *st, const char *uri, char *err, size_t errlen)
{
	struct store_pg *g;
	int rc = store_pg_open(uri, &g, err, errlen);
	if (rc)
		return rc;
	store_pg_close(st->pg);
	st->pg = g;
	return SMELT_OK;
}

struct store_pg *store_pg_of(struct store *st)
{
	return st->pg;
}

const char *store_label(const struct store *st)
{
	return st->pg ? store_pg_label(st->pg) : "SQLite";
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->setting_get);
	if (st->db && st->wal_frames >= STORE_WAL_CLOSE_FRAMES) { /* see STORE_WAL_CLOSE_FRAMES */
		sqlite3_busy_timeout(st->db, 0);
		int rc = sqlite3_wal_checkpoint_v2(st->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		if (rc != SQLITE_OK)
			log_debug("system database: checkpoint at close: %s", sqlite3_errstr(rc));
	}
	store_pg_close(st->pg);
	sqlite3_close(st->db);
	free(st);
}

static char *column_dup(sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	return t ? xstrdup((const char *)t) : NULL;
}

int store_state_get_raw(struct store *st, const char *state_id, char **completed, char **partial, char *err,
                        size_t errlen)
{
	if (st->pg)
		return store_pg_state_get_raw(st->pg, state_id, completed, partial, err, errlen);
	sqlite3_stmt *q;
	*completed = *partial = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT completed_state, partial_state FROM state WHERE state_id = ?", -1, &q,
	                       NULL) != SQLITE_OK)
		return db_fail(st, err, errlen, "read state");
	sqlite3_bind_text(q, 1, state_id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*completed = column_dup(q, 0);
		*partial = column_dup(q, 1);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SMELT_OK : db_fail(st, err, errlen, "read state");
}

/* The stored payloads are {"singer_state": value} objects, as Meltano keeps them. */
int store_state_get(struct store *st, const char *state_id, char **json, char *err, size_t errlen)
{
	if (st->pg)
		return store_pg_state_get(st->pg, state_id, json, err, errlen);
	char *c, *p;
	*json = NULL;
	if (store_state_get_raw(st, state_id, &c, &p, err, errlen))
		return SMELT_ERR;
	if (!c && !p)
		return SMELT_OK;
	cJSON *merged = cJSON_Parse(c ? c : "{}"), *part = cJSON_Parse(p ? p : "{}");
	free(c);
	free(p);
	if (!merged)
		merged = cJSON_CreateObject();
	if (part && cJSON_IsObject(part) && cJSON_IsObject(merged))
		json_merge(merged, part);
	cJSON_Delete(part);
	cJSON *value = cJSON_GetObjectItemCaseSensitive(merged, "singer_state");
	if (value) {
		struct strbuf sb = STRBUF_INIT;
		json_dump(&sb, value, -2);
		*json = strbuf_detach(&sb);
	}
	cJSON_Delete(merged);
	return SMELT_OK;
}

int store_state_put(struct store *st, const char *state_id, const char *json, int partial, char *err,
                    size_t errlen)
{
	if (st->pg)
		return store_pg_state_put(st->pg, state_id, json, partial, err, errlen);
	cJSON *value = cJSON_Parse(json);
	if (!value)
		return fail(err, errlen, SMELT_ERR_CONFIG, "state for '%s' is not valid JSON", state_id);
	cJSON *wrapped = cJSON_CreateObject();
	cJSON_AddItemToObject(wrapped, "singer_state", value);
	struct strbuf sb = STRBUF_INIT;
	int rc = SMELT_OK;

	if ((rc = exec(st, "BEGIN IMMEDIATE", err, errlen)) != SMELT_OK)
		goto out_nocommit; /* busy past the timeout, or in a transaction: the state is not saved, and says so */
	if (partial) {
		char *c = NULL, *p = NULL;
		if (store_state_get_raw(st, state_id, &c, &p, err, errlen)) {
			rc = SMELT_ERR;
			goto out;
		}
		cJSON *old = cJSON_Parse(p ? p : "{}");
		if (!old || !cJSON_IsObject(old)) {
			cJSON_Delete(old);
			old = cJSON_CreateObject();
		}
		json_merge(old, wrapped);
		json_dump(&sb, old, -2);
		cJSON_Delete(old);
		sqlite3_stmt *q;
		const char *sql = "INSERT INTO state(state_id, partial_state) VALUES(?1, ?2) "
		                  "ON CONFLICT(state_id) DO UPDATE SET partial_state = ?2, "
		                  "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')";
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
			free(c);
			free(p);
			rc = db_fail(st, err, errlen, "save state");
			goto out;
		}
		sqlite3_bind_text(q, 1, state_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, sb.buf, (int)sb.len, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = db_fail(st, err, errlen, "save state");
		sqlite3_finalize(q);
		free(c);
		free(p);
	} else {
		json_dump(&sb, wrapped, -2);
		sqlite3_stmt *q;
		const char *sql = "INSERT INTO state(state_id, completed_state, partial_state) VALUES(?1, ?2, '{}') "
		                  "ON CONFLICT(state_id) DO UPDATE SET completed_state = ?2, partial_state = '{}', "
		                  "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')";
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
			rc = db_fail(st, err, errlen, "save state");
			goto out;
		}
		sqlite3_bind_text(q, 1, state_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, sb.buf, (int)sb.len, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = db_fail(st, err, errlen, "save state");
		sqlite3_finalize(q);
	}
out:
	if (rc == SMELT_OK)
		rc = exec(st, "COMMIT", err, errlen);
	if (rc != SMELT_OK)
		exec(st, "ROLLBACK", NULL, 0);
out_nocommit:
	strbuf_release(&sb);
	cJSON_Delete(wrapped);
	return rc;
}

static int simple(struct store *st, const char *sql, const char *a, const char *b, char *err, size_t errlen,
                  const char *what)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, err, errlen, what);
	if (a)
		sqlite3_bind_text(q, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(q, 2, b, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SMELT_OK : db_fail(st, err, errlen, what);
}

int store_state_clear(struct store *st, const char *state_id, char *err, size_t errlen)
{
	if (st->pg)
		return store_pg_state_clear(st->pg, state_id, err, errlen);
	return simple(st, "DELETE FROM state WHERE state_id = ?", state_id, NULL, err, errlen, "clear state");
}

int store_state_copy(struct store *st, const char *src, const char *dst, int move, char *err, size_t errlen)
{
	if (st->pg)
		return store_pg_state_copy(st->pg, src, dst, move, err, errlen);
	char *c, *p;
	if (store_state_get_raw(st, src, &c, &p, err, errlen))
		return SMELT_ERR;
	if (!c && !p)
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "no state with id '%s'", src);
	int rc = exec(st, "BEGIN IMMEDIATE", err, errlen);
	sqlite3_stmt *q = NULL;
	if (!rc && sqlite3_prepare_v2(st->db,
	                              "INSERT INTO state(state_id, completed_state, partial_state) VALUES(?1, ?2, ?3) "
	                              "ON CONFLICT(state_id) DO UPDATE SET completed_state = ?2, partial_state = ?3, "
	                              "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
	                              -1, &q, NULL) != SQLITE_OK)
		rc = db_fail(st, err, errlen, "copy state");
	if (!rc) {
		sqlite3_bind_text(q, 1, dst, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, c ? c : "{}", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 3, p ? p : "{}", -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = db_fail(st, err, errlen, "copy state");
	}
	sqlite3_finalize(q);
	if (!rc && move)
		rc = store_state_clear(st, src, err, errlen);
	rc = rc ? rc : exec(st, "COMMIT", err, errlen);
	if (rc)
		exec(st, "ROLLBACK", NULL, 0);
	free(c);
	free(p);
	return rc;
}

int store_state_list(struct store *st, const char *glob,
                     void (*fn)(void *arg, const char *state_id, const char *updated_at), void *arg, char *err,
                     size_t errlen)
{
	if (st->pg)
		return store_pg_state_list(st->pg, glob, fn, arg, err, errlen);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "SELECT state_id, updated_at FROM state ORDER BY state_id", -1, &q, NULL) !=
	    SQLITE_OK)
		return db_fail(st, err, errlen, "list state");
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 0);
		if (!glob || fnmatch(glob, id, 0) == 0)
			fn(arg, id, (const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_finalize(q);
	return SMELT_OK;
}

const char *run_status_name(enum run_status s)
{
	static const char *const names[] = { "RUNNING", "SUCCESS", "FAIL", "STATE_EDIT" };
	return (unsigned)s < 4 ? names[s] : "UNKNOWN";
}

static void fail_stale(struct store *st, const char *state_id)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
	         "UPDATE runs SET status = 'FAIL', ended_at = strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now'), error = "
	         "CASE WHEN last_heartbeat_at IS NOT NULL THEN 'No heartbeat recorded for 5 minutes. The process was "
	         "likely killed unceremoniously.' ELSE 'Still running after 24 hours. The process was likely killed "
	         "unceremoniously.' END "
	         "WHERE status = 'RUNNING' AND state_id = ?1 AND ("
	         " (last_heartbeat_at IS NOT NULL AND julianday('now') - julianday(last_heartbeat_at) > %d / 86400.0) OR"
	         " (last_heartbeat_at IS NULL AND julianday('now') - julianday(started_at) > %d / 86400.0))",
	         STORE_STALE_HEARTBEAT_S, STORE_STALE_NO_HEARTBEAT_S);
	simple(st, sql, state_id, NULL, NULL, 0, "fail stale runs");
}

/* RUNNING runs of state_id whose process is provably gone (this host, same boot) are marked failed at once. */
/* The owner a runs row records in its columns col..col+3: host, host_key, pid, pid_start. */
static void owner_of_row(sqlite3_stmt *q, int col, struct proc_owner *o)
{
	const char *host = (const char *)sqlite3_column_text(q, col), *key = (const char *)sqlite3_column_text(q, col + 1);
	memset(o, 0, sizeof *o);
	snprintf(o->host, sizeof o->host, "%s", host ? host : "");
	snprintf(o->host_key, sizeof o->host_key, "%s", key ? key : "");
	o->pid = (long)sqlite3_column_int64(q, col + 2);
	o->start = (unsigned long long)sqlite3_column_int64(q, col + 3);
}

static void fail_dead(struct store *st, const char *state_id)
{
	sqlite3_stmt *q, *u;
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT run_id, host, host_key, pid, pid_start FROM runs "
	                       "WHERE status = 'RUNNING' AND state_id = ? AND pid IS NOT NULL",
	                       -1, &q, NULL) != SQLITE_OK)
		return;
	if (sqlite3_prepare_v2(st->db,
	                       "UPDATE runs SET status = 'FAIL', ended_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), "
	                       "error = ?2 WHERE run_id = ?1 AND status = 'RUNNING'",
	                       -1, &u, NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return;
	}
	sqlite3_bind_text(q, 1, state_id, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct proc_owner o;
		owner_of_row(q, 1, &o);
		const char *run_id = (const char *)sqlite3_column_text(q, 0);
		if (!run_id || proc_owner_check(&o) != PROC_GONE)
			continue;
		char *why = xasprintf("The process (pid %ld on %s) is gone. It was likely killed unceremoniously.", o.pid,
		                      o.host);
		sqlite3_reset(u);
		sqlite3_bind_text(u, 1, run_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(u, 2, why, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(u) == SQLITE_DONE && sqlite3_changes(st->db) > 0)
			log_warn("run %s of '%s' was left running by smelt process %ld, which is gone: marked failed, its "
			         "lock released",
			         run_id, state_id, o.pid);
		free(why);
	}
	sqlite3_finalize(u);
	sqlite3_finalize(q);
}

int store_refuse_running(char *err, size_t errlen, const char *state_id, const char *run_id, const char *host,
                         const char *started, const char *stale_at, const struct proc_owner *owner)
{
	char where[300] = "";
	if (host)
		snprintf(where, sizeof where, " on %s", host);
	if (owner && proc_owner_check(owner) == PROC_ALIVE) /* here and alive: it will not go stale, it will end */
		return fail(err, errlen, SMELT_ERR,
		            "another '%s' pipeline is already running (run %s%s, started at %s, smelt process %ld on "
		            "this machine); wait for it to end, or ignore this check with '--force'",
		            state_id, run_id, where, started, owner->pid);
	return fail(err, errlen, SMELT_ERR,
	            "another '%s' pipeline is already running (run %s%s, started at %s); wait until %s, when it is "
	            "marked failed if stale, or ignore this check with '--force'",
	            state_id, run_id, where, started, stale_at);
}

int store_run_begin(struct store *st, const char *run_id, const char *state_id, const char *name, int force,
                    const struct proc_owner *owner, char *err, size_t errlen)
{
	if (st->pg)
		return store_pg_run_begin(st->pg, run_id, state_id, name, force, owner, err, errlen);
	int rc = exec(st, "BEGIN IMMEDIATE", err, errlen);
	if (rc)
		return rc;
	if (state_id) {
		fail_dead(st, state_id);
		fail_stale(st, state_id);
		sqlite3_stmt *q;
		if (!force && sqlite3_prepare_v2(st->db,
		                                 "SELECT run_id, started_at, "
		                                 "strftime('%Y-%m-%dT%H:%M:%SZ', coalesce(last_heartbeat_at, started_at), '+5 minutes'), "
		                                 "host, host_key, pid, pid_start "
		                                 "FROM runs WHERE state_id = ? AND status = 'RUNNING' LIMIT 1",
		                                 -1, &q, NULL) == SQLITE_OK) {
			sqlite3_bind_text(q, 1, state_id, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(q) == SQLITE_ROW) {
				struct proc_owner o;
				owner_of_row(q, 3, &o);
				rc = store_refuse_running(err, errlen, state_id, (const char *)sqlite3_column_text(q, 0), NULL,
				                          (const char *)sqlite3_column_text(q, 1),
				                          (const char *)sqlite3_column_text(q, 2), &o);
			}
			sqlite3_finalize(q);
		}
	}
	if (!rc) {
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(st->db,
		                       "INSERT INTO runs(run_id, state_id, name, status, last_heartbeat_at, host, host_key, "
		                       "pid, pid_start) "
		                       "VALUES(?, ?, ?, 'RUNNING', strftime('%Y-%m-%dT%H:%M:%fZ','now'), ?, ?, ?, ?)",
		                       -1, &q, NULL) != SQLITE_OK) {
			rc = db_fail(st, err, errlen, "record run");
		} else {
			sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
			if (state_id)
				sqlite3_bind_text(q, 2, state_id, -1, SQLITE_TRANSIENT);
			if (name)
				sqlite3_bind_text(q, 3, name, -1, SQLITE_TRANSIENT);
			if (owner && owner->pid > 0 && owner->host[0] && owner->host_key[0]) {
				sqlite3_bind_text(q, 4, owner->host, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(q, 5, owner->host_key, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(q, 6, owner->pid);
				sqlite3_bind_int64(q, 7, (sqlite3_int64)owner->start);
			}
			if (sqlite3_step(q) != SQLITE_DONE)
				rc = db_fail(st, err, errlen, "record run");
			sqlite3_finalize(q);
		}
	}
	if (!rc)
		return exec(st, "COMMIT", err, errlen);
	exec(st, "ROLLBACK", NULL, 0);
	return rc;
}

int store_run_heartbeat(struct store *st, const char *run_id)
{
	if (st->pg)
		return store_pg_run_heartbeat(st->pg, run_id);
	return simple(st,
	              "UPDATE runs SET last_heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE run_id = ? "
	              "AND status = 'RUNNING'",
	              run_id, NULL, NULL, 0, "heartbeat");
}

int store_run_end(struct store *st, const char *run_id, enum run_status status, const char *error,
                  const char *payload_json, char *err, size_t errlen)
{
	if (st->pg)
		return store_pg_run_end(st->pg, run_id, run_status_name(status), error, payload_json, err, errlen);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db,
	                       "UPDATE runs SET status = ?2, error = ?3, payload = ?4, "
	                       "ended_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE run_id = ?1",
	                       -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, err, errlen, "finish run");
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, run_status_name(status), -1, SQLITE_STATIC);
	if (error)
		sqlite3_bind_text(q, 3, error, -1, SQLITE_TRANSIENT);
	if (payload_json)
		sqlite3_bind_text(q, 4, payload_json, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q) == SQLITE_DONE ? SMELT_OK : db_fail(st, err, errlen, "finish run");
	sqlite3_finalize(q);
	return rc;
}

int store_runs_json(struct store *st, const char *state_id, int limit, char **json, char *err, size_t errlen)
{
	if (st->pg)
		return store_pg_runs_json(st->pg, state_id, limit, json, err, errlen);
	sqlite3_stmt *q;
	*json = NULL;
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT run_id, state_id, name, status, started_at, last_heartbeat_at, ended_at, error, "
	                       "payload FROM runs WHERE (?1 IS NULL OR state_id = ?1) ORDER BY id DESC LIMIT ?2",
	                       -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, err, errlen, "list runs");
	if (state_id)
		sqlite3_bind_text(q, 1, state_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, limit > 0 ? limit : -1);
	static const char *const keys[] = { "run_id", "state_id", "name", "status", "started_at",
	                                    "last_heartbeat_at", "ended_at", "error" };
	struct strbuf sb = STRBUF_INIT;
	strbuf_addch(&sb, '[');
	for (int row = 0; sqlite3_step(q) == SQLITE_ROW; row++) {
		strbuf_addstr(&sb, row ? ",{" : "{");
		for (int c = 0; c < 8; c++) {
			strbuf_addf(&sb, "%s\"%s\":", c ? "," : "", keys[c]);
			const char *t = (const char *)sqlite3_column_text(q, c);
			if (t)
				json_quote(&sb, t);
			else
				strbuf_addstr(&sb, "null");
		}
		const char *payload = (const char *)sqlite3_column_text(q, 8);
		strbuf_addf(&sb, ",\"payload\":%s}", payload ? payload : "null");
	}
	strbuf_addch(&sb, ']');
	sqlite3_finalize(q);
	*json = strbuf_detach(&sb);
	return SMELT_OK;
}

int store_setting_get(struct store *st, const char *plugin, const char *name, char **value)
{
	*value = NULL;
	if (st->pg) {
		char err[SMELT_ERRBUF_SIZE];
		if (store_pg_setting_get(st->pg, plugin, name, value, err, sizeof err)) {
			log_warn("%s", err);
			return SMELT_ERR;
		}
		return SMELT_OK;
	}
	if (!st->setting_get &&
	    sqlite3_prepare_v3(st->db, "SELECT value FROM plugin_settings WHERE plugin = ? AND name = ?", -1,
	                       SQLITE_PREPARE_PERSISTENT, &st->setting_get, NULL) != SQLITE_OK)
		return SMELT_ERR;
	sqlite3_stmt *q = st->setting_get;
	sqlite3_bind_text(q, 1, plugin, -1, SQLITE_STATIC); /* unbound by the reset below */
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		*value = column_dup(q, 0);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return SMELT_OK;
}

int store_read_begin(struct store *st)
{
	if (!st || st->pg || !sqlite3_get_autocommit(st->db))
		return 0;
	return sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
}

void store_read_end(struct store *st, int began)
{
	/*
	 * Nothing was written: the read lock is let go.  COMMIT fails only when
	 * SQLite cannot allocate its statement; a read transaction left open
	 * would hold every later write of this connection uncommitted (and make
	 * each BEGIN fail), so it is ended whatever it takes: COMMIT again, then
	 * ROLLBACK, a few times.
	 */
	for (int tries = 0; began && tries < 4 && !sqlite3_get_autocommit(st->db); tries++)
		if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_setting_set(struct store *st, const char *plugin, const char *name, const char *value, char *err,
                      size_t errlen)
{
	if (st->pg)
		return store_pg_setting_set(st->pg, plugin, name, value, err, errlen);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db,
	                       "INSERT INTO plugin_settings(plugin, name, value) VALUES(?1, ?2, ?3) "
	                       "ON CONFLICT(plugin, name) DO UPDATE SET value = ?3",
	                       -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, err, errlen, "save setting");
	sqlite3_bind_text(q, 1, plugin, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, value, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q) == SQLITE_DONE ? SMELT_OK : db_fail(st, err, errlen, "save setting");
	sqlite3_finalize(q);
	return rc;
}

int store_setting_unset(struct store *st, const char *plugin, const char *name, char *err, size_t errlen)
{
	if (st->pg)
		return store_pg_setting_unset(st->pg, plugin, name, err, errlen);
	return simple(st, "DELETE FROM plugin_settings WHERE plugin = ? AND name = ?", plugin, name, err, errlen,
	              "unset setting");
}

int store_settings_clear(struct store *st, const char *plugin, char *err, size_t errlen)
{
	if (st->pg)
		return store_pg_setting_unset(st->pg, plugin, NULL, err, errlen);
	return simple(st, "DELETE FROM plugin_settings WHERE plugin = ?", plugin, NULL, err, errlen,
	              "clear settings");
}

int store_state_updated_at(struct store *st, const char *state_id, char **updated_at)
{
	if (st->pg)
		return store_pg_state_updated_at(st->pg, state_id, updated_at);
	sqlite3_stmt *q;
	*updated_at = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT updated_at FROM state WHERE state_id = ?", -1, &q, NULL) != SQLITE_OK)
		return SMELT_ERR;
	sqlite3_bind_text(q, 1, state_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW)
		*updated_at = column_dup(q, 0);
	sqlite3_finalize(q);
	return SMELT_OK;
}
