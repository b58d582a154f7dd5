/* Check suite for host/src/store: state merge rules, run locks, stale heartbeats, settings. */
#include "store/store.h"
#include "util/fs.h"

#include <smelt/sdk.h>
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static char *get(const char *id)
{
	char *json = NULL;
	ck_assert_int_eq(store_state_get(st, id, &json, err, sizeof err), SMELT_OK);
	return json;
}

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
	ck_assert_int_eq(store_run_begin(st, "r1", "dev:t-to-s", "t s", 0, err, sizeof err), 0);
	ck_assert_int_eq(store_run_begin(st, "r2", "dev:t-to-s", "t s", 0, err, sizeof err), SMELT_ERR);
	ck_assert_msg(strstr(err, "already running") && strstr(err, "r1") && strstr(err, "--force"), "got %s", err);
	ck_assert_int_eq(store_run_begin(st, "r3", "dev:t-to-s", "t s", 1, err, sizeof err), 0);
	ck_assert_int_eq(store_run_begin(st, "r4", "dev:other", "t s", 0, err, sizeof err), 0);
	ck_assert_int_eq(store_run_end(st, "r1", RUN_SUCCESS, NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(store_run_end(st, "r3", RUN_FAILED, "boom", NULL, err, sizeof err), 0);
	ck_assert_int_eq(store_run_begin(st, "r5", "dev:t-to-s", "t s", 0, err, sizeof err), 0);
}
END_TEST

START_TEST(stale_run_does_not_block)
{
	ck_assert_int_eq(store_run_begin(st, "r1", "s", NULL, 0, err, sizeof err), 0);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "UPDATE runs SET last_heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ','now','-10 minutes')", 0, 0, 0);
	sqlite3_close(db);
	ck_assert_int_eq(store_run_begin(st, "r2", "s", NULL, 0, err, sizeof err), 0);
	char *json;
	ck_assert_int_eq(store_runs_json(st, "s", 0, &json, err, sizeof err), 0);
	ck_assert_msg(strstr(json, "\"run_id\":\"r1\"") && strstr(json, "No heartbeat recorded for 5 minutes"), "%s", json);
	free(json);
}
END_TEST

START_TEST(heartbeat_keeps_run_fresh)
{
	ck_assert_int_eq(store_run_begin(st, "r1", "s", NULL, 0, err, sizeof err), 0);
	ck_assert_int_eq(store_run_heartbeat(st, "r1"), 0);
	ck_assert_int_eq(store_run_begin(st, "r2", "s", NULL, 0, err, sizeof err), SMELT_ERR);
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
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
