/* Check suite for host/src/store: state merge rules, run locks, stale heartbeats, settings. */
#include "store/store.h"
#include "run/proc.h"
#include "util/fs.h"

#include <smelt/sdk.h>
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char path[256];
static struct store *st;
static char err[SMELT_ERRBUF_SIZE * 2];

static void setup(void)
{
	snprintf(path, sizeof path, "/tmp/smelt-test-store-%d.db", (int)getpid());
	unlink(path);
	ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_OK);
}

static void teardown(void)
{
	store_close(st);
	char wal[300];
	unlink(path);
	snprintf(wal, sizeof wal, "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof wal, "%s-shm", path);
	unlink(wal);
}

static long long wal_size(void)
{
	char wal[300];
	struct stat sb;
	snprintf(wal, sizeof wal, "%s-wal", path);
	return stat(wal, &sb) == 0 ? (long long)sb.st_size : -1;
}

static char *get(const char *id);

/* n commits of one state each (one or two WAL frames each) */
static void put_many(struct store *s, int n)
{
	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof id, "s%d", i);
		ck_assert_int_eq(store_state_put(s, id, "{\"bookmarks\":{}}", 0, err, sizeof err), SMELT_OK);
	}
}

/* A large WAL is checkpointed and truncated at close; a small one is kept (no fsync for a small command). */
START_TEST(large_wal_is_truncated_at_close)
{
	put_many(st, 10);
	store_close(st);
	st = NULL;
	long long small = wal_size();
	ck_assert_msg(small > 0, "the WAL of 10 commits is kept: %lld", small);
	ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_OK);
	put_many(st, 200);
	ck_assert_int_gt(wal_size(), 128 * 4096);
	store_close(st);
	st = NULL;
	ck_assert_int_eq(wal_size(), 0);
	/* nothing lost: every state is in the database */
	ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_OK);
	char *j = get("s199");
	ck_assert_str_eq(j, "{\"bookmarks\":{}}");
	free(j);
}
END_TEST

/* A read transaction around many reads: one snapshot (a write from elsewhere is seen after it ends). */
START_TEST(read_transaction_is_one_snapshot)
{
	ck_assert_int_eq(store_setting_set(st, "meltano", "a", "1", err, sizeof err), SMELT_OK);
	int began = store_read_begin(st);
	ck_assert_int_eq(began, 1);
	ck_assert_int_eq(store_read_begin(st), 0); /* one is open: no second */
	char *v = NULL;
	ck_assert_int_eq(store_setting_get(st, "meltano", "a", &v), SMELT_OK);
	ck_assert_str_eq(v, "1");
	free(v);
	struct store *other;
	ck_assert_int_eq(store_open(path, &other, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(store_setting_set(other, "meltano", "a", "2", err, sizeof err), SMELT_OK);
	ck_assert_int_eq(store_setting_get(st, "meltano", "a", &v), SMELT_OK);
	ck_assert_str_eq(v, "1"); /* the snapshot */
	free(v);
	store_read_end(st, began);
	ck_assert_int_eq(store_setting_get(st, "meltano", "a", &v), SMELT_OK);
	ck_assert_str_eq(v, "2");
	free(v);
	store_read_end(st, 0); /* nothing */
	ck_assert_int_eq(store_setting_set(st, "meltano", "a", "3", err, sizeof err), SMELT_OK); /* not left in a transaction */
	store_close(other);
}
END_TEST

/* A reader in another connection: the close neither waits for it nor loses anything. */
START_TEST(checkpoint_at_close_never_waits)
{
	sqlite3 *reader;
	ck_assert_int_eq(sqlite3_open(path, &reader), SQLITE_OK);
	put_many(st, 200);
	ck_assert_int_eq(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM state;", NULL, NULL, NULL), SQLITE_OK);
	put_many(st, 5); /* written after the reader's snapshot: it cannot be truncated away */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	store_close(st);
	st = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 1.0, "store_close waited %.1f s for the reader", secs);
	ck_assert_int_gt(wal_size(), 0);
	sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(reader);
	ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_OK);
	char *j = get("s4");
	ck_assert_str_eq(j, "{\"bookmarks\":{}}");
	free(j);
}
END_TEST

static char *get(const char *id)
{
	char *json = NULL;
	ck_assert_int_eq(store_state_get(st, id, &json, err, sizeof err), SMELT_OK);
	return json;
}

/* A state that cannot be written (the database busy past the timeout) is an error, never a silent success. */
START_TEST(a_state_put_that_cannot_begin_fails)
{
	ck_assert_int_eq(store_state_put(st, "dev:a-to-b", "{\"bookmarks\":{\"v\":1}}", 0, err, sizeof err), SMELT_OK);
	sqlite3 *writer;
	ck_assert_int_eq(sqlite3_open(path, &writer), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(writer, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK); /* holds the write lock */
	sqlite3_busy_timeout(store_db(st), 50);
	err[0] = '\0';
	ck_assert_int_ne(store_state_put(st, "dev:a-to-b", "{\"bookmarks\":{\"v\":2}}", 0, err, sizeof err), SMELT_OK);
	ck_assert_msg(strstr(err, "locked") || strstr(err, "busy"), "got: %s", err);
	sqlite3_exec(writer, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(writer);
	char *j = get("dev:a-to-b");
	ck_assert_str_eq(j, "{\"bookmarks\":{\"v\":1}}"); /* the saved one stays */
	free(j);
	/* inside a transaction left open (a read that was never ended), the same: an error, nothing held back */
	int began = store_read_begin(st);
	ck_assert_int_eq(began, 1);
	ck_assert_int_ne(store_state_put(st, "dev:a-to-b", "{\"bookmarks\":{\"v\":3}}", 0, err, sizeof err), SMELT_OK);
	store_read_end(st, began);
	ck_assert_int_eq(store_state_put(st, "dev:a-to-b", "{\"bookmarks\":{\"v\":4}}", 0, err, sizeof err), SMELT_OK);
	j = get("dev:a-to-b");
	ck_assert_str_eq(j, "{\"bookmarks\":{\"v\":4}}");
	free(j);
}
END_TEST

START_TEST(complete_write_replaces)
{
	ck_assert_ptr_null(get("dev:a-to-b"));
	ck_assert_int_eq(store_state_put(st, "dev:a-to-b", "{\"bookmarks\":{\"s\":{\"v\":1}}}", 0, err, sizeof err), 0);
	ck_assert_int_eq(store_state_put(st, "dev:a-to-b", "{\"bookmarks\":{\"t\":{\"v\":2}}}", 0, err, sizeof err), 0);
	char *j = get("dev:a-to-b");
	ck_assert_str_eq(j, "{\"bookmarks\":{\"t\":{\"v\":2}}}");
	free(j);
}
END_TEST

START_TEST(partial_merges_over_complete)
{
	store_state_put(st, "x", "{\"bookmarks\":{\"s\":{\"v\":1},\"t\":{\"v\":1}}}", 0, err, sizeof err);
	store_state_put(st, "x", "{\"bookmarks\":{\"t\":{\"v\":5}}}", 1, err, sizeof err);
	store_state_put(st, "x", "{\"bookmarks\":{\"u\":[1,2]}}", 1, err, sizeof err);
	char *j = get("x");
	ck_assert_str_eq(j, "{\"bookmarks\":{\"s\":{\"v\":1},\"t\":{\"v\":5},\"u\":[1,2]}}");
	free(j);
	/* a complete write drops the partial payload */
	store_state_put(st, "x", "{\"z\":1}", 0, err, sizeof err);
	j = get("x");
	ck_assert_str_eq(j, "{\"z\":1}");
	free(j);
}
END_TEST

START_TEST(rejects_invalid_json)
{
	ck_assert_int_eq(store_state_put(st, "x", "{nope", 0, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "not valid JSON"));
	ck_assert_ptr_null(get("x"));
}
END_TEST

START_TEST(copy_move_clear)
{
	store_state_put(st, "a", "{\"v\":1}", 0, err, sizeof err);
	ck_assert_int_eq(store_state_copy(st, "a", "b", 0, err, sizeof err), 0);
	ck_assert_int_eq(store_state_copy(st, "b", "c", 1, err, sizeof err), 0);
	char *a = get("a"), *b = get("b"), *c = get("c");
	ck_assert_str_eq(a, "{\"v\":1}");
	ck_assert_ptr_null(b);
	ck_assert_str_eq(c, "{\"v\":1}");
	free(a);
	free(c);
	ck_assert_int_eq(store_state_copy(st, "missing", "d", 0, err, sizeof err), SMELT_ERR_NOTFOUND);
	store_state_clear(st, "a", err, sizeof err);
	ck_assert_ptr_null(get("a"));
}
END_TEST

START_TEST(one_running_run_per_state_id)
{
	ck_assert_int_eq(store_run_begin(st, "r1", "dev:t-to-s", "t s", 0, NULL, err, sizeof err), 0);
	ck_assert_int_eq(store_run_begin(st, "r2", "dev:t-to-s", "t s", 0, NULL, err, sizeof err), SMELT_ERR);
	ck_assert_msg(strstr(err, "already running") && strstr(err, "r1") && strstr(err, "--force"), "got %s", err);
	ck_assert_int_eq(store_run_begin(st, "r3", "dev:t-to-s", "t s", 1, NULL, err, sizeof err), 0);
	ck_assert_int_eq(store_run_begin(st, "r4", "dev:other", "t s", 0, NULL, err, sizeof err), 0);
	ck_assert_int_eq(store_run_end(st, "r1", RUN_SUCCESS, NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(store_run_end(st, "r3", RUN_FAILED, "boom", NULL, err, sizeof err), 0);
	ck_assert_int_eq(store_run_begin(st, "r5", "dev:t-to-s", "t s", 0, NULL, err, sizeof err), 0);
}
END_TEST

START_TEST(stale_run_does_not_block)
{
	ck_assert_int_eq(store_run_begin(st, "r1", "s", NULL, 0, NULL, err, sizeof err), 0);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "UPDATE runs SET last_heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ','now','-10 minutes')", 0, 0, 0);
	sqlite3_close(db);
	ck_assert_int_eq(store_run_begin(st, "r2", "s", NULL, 0, NULL, err, sizeof err), 0);
	char *json;
	ck_assert_int_eq(store_runs_json(st, "s", 0, &json, err, sizeof err), 0);
	ck_assert_msg(strstr(json, "\"run_id\":\"r1\"") && strstr(json, "No heartbeat recorded for 5 minutes"), "%s", json);
	free(json);
}
END_TEST

START_TEST(heartbeat_keeps_run_fresh)
{
	ck_assert_int_eq(store_run_begin(st, "r1", "s", NULL, 0, NULL, err, sizeof err), 0);
	ck_assert_int_eq(store_run_heartbeat(st, "r1"), 0);
	ck_assert_int_eq(store_run_begin(st, "r2", "s", NULL, 0, NULL, err, sizeof err), SMELT_ERR);
}
END_TEST

START_TEST(settings_roundtrip)
{
	char *v;
	ck_assert_int_eq(store_setting_set(st, "extractors.tap-x", "user", "\"me\"", err, sizeof err), 0);
	store_setting_get(st, "extractors.tap-x", "user", &v);
	ck_assert_str_eq(v, "\"me\"");
	free(v);
	store_settings_clear(st, "extractors.tap-x", err, sizeof err);
	store_setting_get(st, "extractors.tap-x", "user", &v);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(reopen_keeps_data_and_schema)
{
	store_state_put(st, "keep", "{\"v\":7}", 0, err, sizeof err);
	store_close(st);
	ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_OK);
	char *j = get("keep");
	ck_assert_str_eq(j, "{\"v\":7}");
	free(j);
}
END_TEST

START_TEST(refuses_newer_schema)
{
	store_close(st);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA user_version=99", 0, 0, 0);
	sqlite3_close(db);
	ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_ERR);
	ck_assert_ptr_nonnull(strstr(err, "schema version 99"));
	ck_assert_int_eq(store_open("/tmp", &st, err, sizeof err) == SMELT_OK, 0);
	st = NULL;
}
END_TEST

/* The identity of a process that ran on this host and is gone (a child, exited and reaped). */
static struct proc_owner dead_owner(void)
{
	struct proc_owner o;
	ck_assert_int_eq(proc_owner_self(&o), SMELT_OK);
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	o.pid = c;
	return o;
}

START_TEST(dead_owner_releases_the_lock_at_once)
{
	struct proc_owner dead = dead_owner();
	ck_assert_int_eq(store_run_begin(st, "r1", "s", NULL, 0, &dead, err, sizeof err), 0);
	/* its heartbeat is fresh, but its process is provably gone: no 5-minute wait */
	ck_assert_int_eq(store_run_begin(st, "r2", "s", NULL, 0, NULL, err, sizeof err), 0);
	char *json;
	ck_assert_int_eq(store_runs_json(st, "s", 0, &json, err, sizeof err), 0);
	ck_assert_msg(strstr(json, "\"run_id\":\"r1\",\"state_id\":\"s\",\"name\":null,\"status\":\"FAIL\"") &&
	              strstr(json, "is gone"), "%s", json);
	free(json);
}
END_TEST

START_TEST(reused_pid_is_not_life)
{
	struct proc_owner o;
	ck_assert_int_eq(proc_owner_self(&o), SMELT_OK);
	o.start -= 1; /* this pid, but another process started it earlier */
	ck_assert_int_eq(store_run_begin(st, "r1", "s", NULL, 0, &o, err, sizeof err), 0);
	ck_assert_int_eq(store_run_begin(st, "r2", "s", NULL, 0, NULL, err, sizeof err), 0);
}
END_TEST

START_TEST(live_owner_keeps_the_lock)
{
	struct proc_owner me;
	ck_assert_int_eq(proc_owner_self(&me), SMELT_OK);
	ck_assert_int_eq(store_run_begin(st, "r1", "s", NULL, 0, &me, err, sizeof err), 0);
	ck_assert_int_eq(store_run_begin(st, "r2", "s", NULL, 0, &me, err, sizeof err), SMELT_ERR);
	ck_assert_msg(strstr(err, "already running") && strstr(err, "r1"), "got %s", err);
}
END_TEST

START_TEST(other_host_keeps_the_heartbeat_rule)
{
	struct proc_owner far = dead_owner();
	snprintf(far.host, sizeof far.host, "%s", "elsewhere.invalid");
	ck_assert_int_eq(store_run_begin(st, "r1", "s", NULL, 0, &far, err, sizeof err), 0);
	ck_assert_int_eq(store_run_begin(st, "r2", "s", NULL, 0, NULL, err, sizeof err), SMELT_ERR);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "UPDATE runs SET last_heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ','now','-10 minutes')", 0, 0, 0);
	sqlite3_close(db);
	ck_assert_int_eq(store_run_begin(st, "r2", "s", NULL, 0, NULL, err, sizeof err), 0);
}
END_TEST

START_TEST(migrates_a_version_1_database)
{
	/* a database of the first schema, with a RUNNING run of an older smelt (no owner recorded) */
	store_close(st);
	st = NULL;
	unlink(path);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
	                              "CREATE TABLE runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, state_id TEXT,"
	                              " name TEXT, status TEXT NOT NULL, started_at TEXT NOT NULL DEFAULT"
	                              " (strftime('%Y-%m-%dT%H:%M:%fZ','now')), last_heartbeat_at TEXT, ended_at TEXT,"
	                              " error TEXT, payload TEXT);"
	                              "CREATE INDEX runs_state ON runs(state_id, status);"
	                              "CREATE TABLE state (state_id TEXT PRIMARY KEY, completed_state TEXT NOT NULL DEFAULT"
	                              " '{}', partial_state TEXT NOT NULL DEFAULT '{}', updated_at TEXT NOT NULL DEFAULT"
	                              " (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
	                              "CREATE TABLE plugin_settings (plugin TEXT NOT NULL, name TEXT NOT NULL, value TEXT,"
	                              " PRIMARY KEY (plugin, name));"
	                              "INSERT INTO runs(run_id, state_id, status, last_heartbeat_at) VALUES"
	                              " ('old', 's', 'RUNNING', strftime('%Y-%m-%dT%H:%M:%fZ','now'));"
	                              "INSERT INTO state(state_id, completed_state) VALUES ('s', '{\"singer_state\":{\"v\":1}}');"
	                              "PRAGMA user_version=1;",
	                              0, 0, 0),
	                 SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_OK);
	char *j = get("s");
	ck_assert_str_eq(j, "{\"v\":1}");
	free(j);
	/* the old run has no owner: the heartbeat rule holds it */
	ck_assert_int_eq(store_run_begin(st, "new", "s", NULL, 0, NULL, err, sizeof err), SMELT_ERR);
	sqlite3_open(path, &db);
	sqlite3_stmt *q;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(q, 0), STORE_SCHEMA_VERSION);
	sqlite3_finalize(q);
	ck_assert_int_eq(sqlite3_exec(db, "SELECT host, host_key, pid, pid_start FROM runs", 0, 0, 0), SQLITE_OK);
	sqlite3_close(db);
}
END_TEST

/* issue 17: a database of schema 2 gets the run history tables, its rows kept */
START_TEST(migrates_a_version_2_database)
{
	store_close(st);
	st = NULL;
	unlink(path);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
	                              "CREATE TABLE runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, state_id TEXT,"
	                              " name TEXT, status TEXT NOT NULL, started_at TEXT NOT NULL DEFAULT"
	                              " (strftime('%Y-%m-%dT%H:%M:%fZ','now')), last_heartbeat_at TEXT, ended_at TEXT,"
	                              " error TEXT, payload TEXT, host TEXT, host_key TEXT, pid INTEGER, pid_start INTEGER);"
	                              "CREATE TABLE state (state_id TEXT PRIMARY KEY, completed_state TEXT NOT NULL DEFAULT"
	                              " '{}', partial_state TEXT NOT NULL DEFAULT '{}', updated_at TEXT NOT NULL DEFAULT"
	                              " (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
	                              "CREATE TABLE plugin_settings (plugin TEXT NOT NULL, name TEXT NOT NULL, value TEXT,"
	                              " PRIMARY KEY (plugin, name));"
	                              "INSERT INTO runs(run_id, state_id, status) VALUES ('r:1', 's', 'SUCCESS');"
	                              "PRAGMA user_version=2;",
	                              0, 0, 0),
	                 SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_OK);
	sqlite3_open(path, &db);
	sqlite3_stmt *q;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM runs), user_version, "
	                                        "(SELECT count(*) FROM run_history), (SELECT count(*) FROM run_blocks) "
	                                        "FROM pragma_user_version",
	                                    -1, &q, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(q, 0), 1);
	ck_assert_int_eq(sqlite3_column_int(q, 1), 3);
	ck_assert_int_eq(sqlite3_column_int(q, 2), 0);
	ck_assert_int_eq(sqlite3_column_int(q, 3), 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	ck_assert_int_eq(STORE_SCHEMA_VERSION, 3);
}
END_TEST

/* two processes opening a new database at once both succeed: neither applies a migration twice */
START_TEST(concurrent_first_open)
{
	for (int round = 0; round < 20; round++) {
		store_close(st);
		st = NULL;
		teardown();
		pid_t kids[3];
		for (int k = 0; k < 3; k++) {
			kids[k] = fork();
			if (kids[k] == 0) {
				struct store *mine;
				char e[SMELT_ERRBUF_SIZE];
				int rc = store_open(path, &mine, e, sizeof e);
				if (rc)
					fprintf(stderr, "%s\n", e);
				store_close(rc ? NULL : mine);
				_exit(rc ? 1 : 0);
			}
		}
		for (int k = 0; k < 3; k++) {
			int status;
			ck_assert_int_eq(waitpid(kids[k], &status, 0), kids[k]);
			ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_OK);
	}
}
END_TEST

/* issue 18 item 8: the database and its WAL/SHM files are 0600, also when they were 0644 */
START_TEST(database_files_are_private)
{
	char dir[] = "/tmp/smelt-test-store-modes-XXXXXX", db[128], f[160];
	struct stat sb;
	struct store *s2 = NULL;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	mode_t old = umask(022);
	snprintf(db, sizeof db, "%s/smelt.db", dir);
	ck_assert_int_eq(store_open(db, &s2, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(store_state_put(s2, "x", "{}", 0, err, sizeof err), 0);
	ck_assert_int_eq(stat(db, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	snprintf(f, sizeof f, "%s-wal", db);
	ck_assert_int_eq(stat(f, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	snprintf(f, sizeof f, "%s-shm", db);
	ck_assert_int_eq(stat(f, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	store_close(s2);
	/* a database an older smelt left 0644 is tightened when opened */
	ck_assert_int_eq(chmod(db, 0644), 0);
	ck_assert_int_eq(store_open(db, &s2, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(stat(db, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	store_close(s2);
	/* and the folder: mkdir_private makes 0700 and tightens a 0755 one */
	snprintf(f, sizeof f, "%s/sys", dir);
	ck_assert_int_eq(mkdir_private(f), 0);
	ck_assert_int_eq(stat(f, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(chmod(f, 0755), 0);
	ck_assert_int_eq(mkdir_private(f), 0);
	ck_assert_int_eq(stat(f, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	umask(old);
	remove_tree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("state");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, complete_write_replaces);
	tcase_add_test(tc, a_state_put_that_cannot_begin_fails);
	tcase_add_test(tc, partial_merges_over_complete);
	tcase_add_test(tc, rejects_invalid_json);
	tcase_add_test(tc, copy_move_clear);
	tcase_add_test(tc, reopen_keeps_data_and_schema);
	tcase_add_test(tc, refuses_newer_schema);
	suite_add_tcase(s, tc);
	tc = tcase_create("runs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, one_running_run_per_state_id);
	tcase_add_test(tc, stale_run_does_not_block);
	tcase_add_test(tc, heartbeat_keeps_run_fresh);
	tcase_add_test(tc, settings_roundtrip);
	tcase_add_test(tc, database_files_are_private);
	tcase_add_test(tc, large_wal_is_truncated_at_close);
	tcase_add_test(tc, read_transaction_is_one_snapshot);
	tcase_add_test(tc, checkpoint_at_close_never_waits);
	suite_add_tcase(s, tc);
	tc = tcase_create("run owners");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dead_owner_releases_the_lock_at_once);
	tcase_add_test(tc, reused_pid_is_not_life);
	tcase_add_test(tc, live_owner_keeps_the_lock);
	tcase_add_test(tc, other_host_keeps_the_heartbeat_rule);
	tcase_add_test(tc, migrates_a_version_1_database);
	tcase_add_test(tc, migrates_a_version_2_database);
	tcase_add_test(tc, concurrent_first_open);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
