/*
 * Check suite for host/src/store/pickle, meltano_db and the file state
 * backend: the byte strings are what Python 3.11's pickle.dumps(v,
 * protocol=5) writes (the protocol Meltano 4.4 stores settings with).
 */
#include "store/meltano_db.h"
#include "store/pickle.h"

#include <smelt/sdk.h>
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[SMELT_ERRBUF_SIZE * 2];

static char *decode(const char *hex)
{
	unsigned char buf[512];
	size_t n = 0;
	for (const char *p = hex; p[0] && p[1] && n < sizeof buf; p += 2) {
		unsigned v;
		sscanf(p, "%2x", &v);
		buf[n++] = (unsigned char)v;
	}
	char *json = NULL;
	err[0] = 0;
	if (pickle_to_json(buf, n, &json, err, sizeof err) != SMELT_OK)
		return NULL;
	return json;
}

static void expect(const char *hex, const char *want)
{
	char *got = decode(hex);
	ck_assert_msg(got != NULL, "%s: %s", hex, err);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(primitives)
{
	expect("80059509000000000000008C0568656C6C6F942E", "\"hello\"");
	expect("80054B022E", "2");
	expect("80059504000000000000004D2C012E", "300");
	expect("80059506000000000000004A701101002E", "70000");
	expect("80059506000000000000004AFFFFFFFF2E", "-1");
	expect("80059509000000000000008A060000000000012E", "1099511627776");
	expect("8005950B000000000000008A08FFFFFFFFFFFFFF7F2E", "9223372036854775807");
	expect("8005882E", "true");
	expect("8005892E", "false");
	expect("80054E2E", "null");
	/* 1.5 and 0.1 as BINFLOAT (big-endian) */
	expect("8005950A00000000000000473FF80000000000002E", "1.5");
	expect("8005950A000000000000004740590000000000002E", "100"); /* 100.0: JSON has one number type */
	/* a str of 300 'x' uses BINUNICODE (u32 length) */
	char hex[2048] = "";
	strcat(hex, "800595330100000000000058");
	strcat(hex, "2C010000");
	for (int i = 0; i < 300; i++)
		strcat(hex, "78");
	strcat(hex, "942E");
	char *s = decode(hex);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), 302);
	free(s);
	/* UTF-8 text: 'Zoë' */
	expect("80059508000000000000008C045A6FC3AB942E", "\"Zoë\"");
}
END_TEST

START_TEST(containers)
{
	/* {'a': 1} and {'a': 1, 'b': [1, 'x']} */
	expect("8005950A000000000000007D948C0161944B01732E", "{\"a\":1}");
	expect("80059519000000000000007D94288C0161944B018C0162945D94284B018C01789465752E",
	       "{\"a\":1,\"b\":[1,\"x\"]}");
	/* values met twice are memo references (BINGET): {'a': x, 'b': x} and [l, l] */
	expect("80059518000000000000007D94288C0161948C06736861726564948C0162946802752E",
	       "{\"a\":\"shared\",\"b\":\"shared\"}");
	expect("8005950C000000000000005D94285D944B01616801652E", "[[1],[1]]");
	/* a key met twice: {'a': {'a': 1}} shares the key 'a' */
	expect("8005950F000000000000007D948C0161947D9468014B0173732E", "{\"a\":{\"a\":1}}");
	expect("80055D942E", "[]");
	expect("80059506000000000000005D944B01612E", "[1]");
}
END_TEST

START_TEST(refuses_what_is_not_plain_data)
{
	/* (1, 2): TUPLE2 */
	ck_assert_ptr_null(decode("80059507000000000000004B014B0286942E"));
	ck_assert_str_eq(err, "unsupported pickle opcode 0x86 at byte 15");
	/* a global (class reference) is never imported */
	ck_assert_ptr_null(decode("80059515000000000000008C086275696C74696E73948C046576616C9493942E"));
	ck_assert_msg(strstr(err, "unsupported pickle opcode 0x93") != NULL, "%s", err);
	/* truncated string, missing STOP, a dict key that is not a string, invalid UTF-8 */
	ck_assert_ptr_null(decode("80058C0568656C"));
	ck_assert_msg(strstr(err, "truncated") != NULL, "%s", err);
	ck_assert_ptr_null(decode("80054B02"));
	ck_assert_ptr_null(decode("80057D4B014B02732E"));
	ck_assert_str_eq(err, "pickled dict has a key that is not a string");
	ck_assert_ptr_null(decode("80058C02C3282E"));
	ck_assert_ptr_null(decode("8005732E"));
	ck_assert_ptr_null(decode("80054B014B022E"));
	ck_assert_ptr_null(decode(""));
	/* a list that appends copies of itself doubles each time: refused before it grows large */
	char laughs[512] = "80055D94";
	for (int i = 0; i < 40; i++)
		strcat(laughs, "680061");
	strcat(laughs, "2E");
	ck_assert_ptr_null(decode(laughs));
	ck_assert_str_eq(err, "pickle repeats values too often");
	ck_assert_ptr_null(decode("8005477FF00000000000002E"));
}
END_TEST

/* A database with Meltano 4.4's three tables (TOOLS-2.md §8 schema). */
static void make_meltano_db(const char *path)
{
	sqlite3 *db;
	unlink(path);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	const char *sql =
		"CREATE TABLE runs (id INTEGER NOT NULL, job_name VARCHAR, state VARCHAR(7), started_at DATETIME, "
		"ended_at DATETIME, payload VARCHAR, payload_flags INTEGER, run_id CHAR(32), \"trigger\" VARCHAR, "
		"last_heartbeat_at DATETIME, PRIMARY KEY (id));"
		"CREATE TABLE plugin_settings (label VARCHAR(255), description TEXT, name VARCHAR(255) NOT NULL, "
		"namespace VARCHAR(255), value BLOB, enabled BOOLEAN, PRIMARY KEY (name, namespace));"
		"CREATE TABLE state (state_id VARCHAR(900) NOT NULL, partial_state VARCHAR, completed_state VARCHAR, "
		"updated_at DATETIME, PRIMARY KEY (state_id), UNIQUE (state_id));"
		"INSERT INTO state VALUES ('dev:a-to-b', '{\"singer_state\": {\"bookmarks\": {\"s\": {\"v\": 9}}}}', "
		"'{\"singer_state\": {\"bookmarks\": {\"s\": {\"v\": 4}, \"t\": {\"v\": 1}}}}', NULL);"
		"INSERT INTO runs VALUES (1, 'dev:a-to-b', 'SUCCESS', '2026-12-02 02:13:21.000000', "
		"'2026-12-02 02:13:22.090803', '{}', 1, 'x', 'cli', NULL);"
		"INSERT INTO plugin_settings VALUES (NULL, NULL, 'greeting', 'extractors.tap-x.default', "
		"X'80059509000000000000008C0568656C6C6F942E', 1);"
		"INSERT INTO plugin_settings VALUES (NULL, NULL, 'off', 'extractors.tap-x.default', X'8005882E', 0);"
		"INSERT INTO plugin_settings VALUES (NULL, NULL, 'pair', 'extractors.tap-x.default', "
		"X'80059507000000000000004B014B0286942E', 1);"
		"INSERT INTO plugin_settings VALUES (NULL, NULL, 'state_backend.uri', 'meltano', "
		"X'8005950C000000000000008C0873797374656D6462942E', 1);";
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(reads_meltano_database)
{
	char path[128];
	snprintf(path, sizeof path, "/tmp/smelt-test-meltano-%d.db", (int)getpid());
	make_meltano_db(path);
	char *json = NULL, *at = NULL;
	ck_assert_int_eq(meltano_db_state_get(path, "dev:a-to-b", &json, &at, err, sizeof err), 1);
	/* partial deep-merged over completed */
	ck_assert_str_eq(json, "{\"bookmarks\":{\"s\":{\"v\":9},\"t\":{\"v\":1}}}");
	ck_assert_str_eq(at, "2026-12-02 02:13:22.090803"); /* from the run, as updated_at is NULL */
	free(json);
	free(at);
	ck_assert_int_eq(meltano_db_state_get(path, "dev:other", &json, &at, err, sizeof err), 0);
	ck_assert_ptr_null(json);

	ck_assert_int_eq(meltano_db_setting_get(path, "extractors.tap-x", "greeting", &json, err, sizeof err), 1);
	ck_assert_str_eq(json, "\"hello\"");
	free(json);
	ck_assert_int_eq(meltano_db_setting_get(path, "meltano", "state_backend.uri", &json, err, sizeof err), 1);
	ck_assert_str_eq(json, "\"systemdb\"");
	free(json);
	/* disabled rows are not values, as in Meltano */
	ck_assert_int_eq(meltano_db_setting_get(path, "extractors.tap-x", "off", &json, err, sizeof err), 0);
	ck_assert_int_lt(meltano_db_setting_get(path, "extractors.tap-x", "pair", &json, err, sizeof err), 0);
	ck_assert_str_eq(err, "setting 'pair' of 'extractors.tap-x.default' in Meltano's system database is not plain "
	                      "data: unsupported pickle opcode 0x86 at byte 15");
	/* a missing database is no value, not an error */
	ck_assert_int_eq(meltano_db_setting_get("/nonexistent/meltano.db", "meltano", "x", &json, err, sizeof err), 0);
	unlink(path);
}
END_TEST

START_TEST(meltano_database_path)
{
	unsetenv("MELTANO_DATABASE_URI");
	unsetenv("MELTANO_SYS_DIR_ROOT");
	char *p = meltano_db_path("/p");
	ck_assert_str_eq(p, "/p/.meltano/meltano.db");
	free(p);
	setenv("MELTANO_SYS_DIR_ROOT", "sys", 1);
	p = meltano_db_path("/p");
	ck_assert_str_eq(p, "/p/sys/meltano.db");
	free(p);
	setenv("MELTANO_DATABASE_URI", "sqlite:////abs/m.db", 1);
	p = meltano_db_path("/p");
	ck_assert_str_eq(p, "/abs/m.db");
	free(p);
	setenv("MELTANO_DATABASE_URI", "postgresql://u@h/db", 1);
	ck_assert_ptr_null(meltano_db_path("/p"));
	unsetenv("MELTANO_DATABASE_URI");
	unsetenv("MELTANO_SYS_DIR_ROOT");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pickle");
	TCase *tc = tcase_create("pickle");
	tcase_add_test(tc, primitives);
	tcase_add_test(tc, containers);
	tcase_add_test(tc, refuses_what_is_not_plain_data);
	suite_add_tcase(s, tc);
	tc = tcase_create("meltano_db");
	tcase_add_test(tc, reads_meltano_database);
	tcase_add_test(tc, meltano_database_path);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
