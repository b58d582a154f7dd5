/* test_lock: lock files byte-compatible with Meltano's (hub/lock.c). */
#include "hub/builtin.h"
#include "hub/lock.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOCKS_DIR HUB_FIXTURES "/examples/locks"

static char tmpdir[256];

static void setup_tmp(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/smelt-test-lock-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_tmp(void)
{
	remove_tree(tmpdir);
}

static char *serialize_str(const char *json, const char *type)
{
	char err[256];
	cJSON *v = lock_parse_json(json, strlen(json), err, sizeof err);
	ck_assert_msg(v != NULL, "parse: %s", err);
	struct strbuf sb = STRBUF_INIT;
	ck_assert_int_eq(lock_serialize(v, type, &sb, err, sizeof err), 0);
	cJSON_Delete(v);
	return strbuf_detach(&sb);
}

/* Every real lock file reads and writes back byte for byte (with the newline added). */
START_TEST(lock_roundtrip_examples)
{
	const char *types[] = { "extractors", "loaders", "mappers", "utilities" };
	int files = 0;
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		char *dir = xasprintf("%s/%s", LOCKS_DIR, types[t]);
		DIR *d = opendir(dir);
		ck_assert_msg(d != NULL, "cannot open %s", dir);
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char *path = xasprintf("%s/%s", dir, e->d_name);
			char err[256];
			struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
			ck_assert_int_eq(read_file(path, &want), 0);
			if (want.len && want.buf[want.len - 1] != '\n')
				strbuf_addch(&want, '\n');
			cJSON *def = lock_read(path, err, sizeof err);
			ck_assert_msg(def != NULL, "%s", err);
			ck_assert_int_eq(lock_serialize(def, NULL, &got, err, sizeof err), 0);
			if (strcmp(want.buf, got.buf)) {
				size_t i = 0;
				while (want.buf[i] && want.buf[i] == got.buf[i])
					i++;
				ck_abort_msg("%s differs at byte %zu: ...%.60s... vs ...%.60s...", path, i,
				             want.buf + (i > 20 ? i - 20 : 0), got.buf + (i > 20 ? i - 20 : 0));
			}
			/* and through lock_write: the same bytes at the same file name */
			const cJSON *ty = cJSON_GetObjectItem(def, "plugin_type");
			char *written = NULL;
			ck_assert_int_eq(lock_write(tmpdir, ty->valuestring, def, &written, err, sizeof err), 0);
			ck_assert_ptr_nonnull(strstr(written, e->d_name));
			struct strbuf again = STRBUF_INIT;
			ck_assert_int_eq(read_file(written, &again), 0);
			ck_assert_str_eq(again.buf, want.buf);
			strbuf_release(&again);
			free(written);
			cJSON_Delete(def);
			strbuf_release(&want);
			strbuf_release(&got);
			free(path);
			files++;
		}
		closedir(d);
		free(dir);
	}
	ck_assert_int_ge(files, 12);
}
END_TEST

/* Run the loopback Hub server's converter: the definition exactly as it serves it. */
static char *served_definition(const char *spec)
{
	const char *py = getenv("SMELT_TEST_PYTHON") ? getenv("SMELT_TEST_PYTHON") : "python3";
	char *cmd = xasprintf("'%s' '%s/tests/e2e/hubserver.py' --dump '%s'", py,
	                      SOURCE_DIR, spec);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, p)) > 0)
		strbuf_add(&sb, buf, n);
	int st = pclose(p);
	ck_assert_msg(st == 0 && sb.len > 0, "'%s' failed (status %d): is PyYAML installed?", cmd, st);
	free(cmd);
	return strbuf_detach(&sb);
}

/* A Hub definition locks to exactly the lock Meltano wrote for it. */
START_TEST(lock_from_hub_definition_matches_meltano)
{
	char *json = served_definition("loaders/target-jsonl/andyh1203");
	char *got = serialize_str(json, "loaders");
	struct strbuf want = STRBUF_INIT;
	ck_assert_int_eq(read_file(LOCKS_DIR "/loaders/target-jsonl--andyh1203.lock", &want), 0);
	strbuf_addch(&want, '\n');
	ck_assert_str_eq(got, want.buf);
	strbuf_release(&want);
	free(got);
	free(json);
}
END_TEST

static int index_of(const char *text, const char *key)
{
	char *pat = xasprintf("\n  \"%s\":", key);
	const char *p = strstr(text, pat);
	free(pat);
	return p ? (int)(p - text) : -1;
}

/* A big Hub definition (YAML keys come alphabetically) locks in Meltano's key order. */
START_TEST(lock_key_order_from_hub)
{
	static const char *const order[] = {
		"plugin_type", "name", "namespace", "variant", "label", "docs", "repo", "pip_url",
		"executable", "description", "logo_url", "capabilities", "settings_group_validation",
		"settings", "select",
	};
	char *json = served_definition("extractors/tap-github/meltanolabs");
	char *got = serialize_str(json, "extractors");
	int last = -1;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		int at = index_of(got, order[i]);
		if (at < 0)
			continue;
		ck_assert_msg(at > last, "key '%s' out of order", order[i]);
		last = at;
	}
	ck_assert_int_ge(index_of(got, "settings"), 0);
	ck_assert_int_ge(index_of(got, "capabilities"), 0);
	ck_assert_ptr_null(strstr(got, "\"keywords\""));
	ck_assert_ptr_null(strstr(got, "\"maintenance_status\""));
	ck_assert_ptr_null(strstr(got, "\"kind\": \"password\""));
	/* the setting keys too: name, ..., kind, value, label, ..., description, ..., sensitive */
	const char *s = strstr(got, "\"name\": \"auth_token\"");
	ck_assert_ptr_nonnull(s);
	const char *k = strstr(s, "\"kind\""), *l = strstr(s, "\"label\""), *d = strstr(s, "\"description\""),
		   *se = strstr(s, "\"sensitive\": true");
	ck_assert(k && l && d && se && k < l && l < d && d < se);
	ck_assert_str_eq(got + strlen(got) - 2, "}\n");
	free(got);
	free(json);
}
END_TEST

START_TEST(lock_omission_rules)
{
	char *got = serialize_str(
		"{\"name\": \"tap-x\", \"variant\": \"v\", \"hidden\": false, \"is_default_variant\": true,"
		" \"pip_url\": \"\", \"capabilities\": [], \"python\": null, \"description\": \"caf\\u00e9 \xe2\x82\xac\","
		" \"zz_extra\": {}, \"keep_false\": false, \"zero\": 0, \"ratio\": 10.0, \"small\": 0.1,"
		" \"settings\": [{\"value\": \"\", \"name\": \"a\", \"label\": \"\", \"kind\": \"password\"},"
		"  {\"name\": \"b\", \"kind\": \"integer\", \"value\": 0, \"sensitive\": false, \"extra\": 1},"
		"  {\"name\": \"c\", \"kind\": \"oauth\", \"sensitive\": true, \"value\": null, \"options\": []},"
		"  {\"name\": \"d\", \"kind\": \"hidden\", \"value\": false}],"
		" \"commands\": {\"run\": {\"args\": \"run\"}, \"doc\": {\"description\": \"d\", \"args\": \"docs\"},"
		"  \"plain\": \"x y\", \"empty\": {}}}",
		"extractors");
	const char *want =
		"{\n"
		"  \"plugin_type\": \"extractors\",\n"
		"  \"name\": \"tap-x\",\n"
		"  \"namespace\": \"tap_x\",\n"
		"  \"variant\": \"v\",\n"
		"  \"label\": \"tap-x\",\n"
		"  \"description\": \"caf\\u00e9 \\u20ac\",\n"
		"  \"settings\": [\n"
		"    {\n"
		"      \"name\": \"a\",\n"
		"      \"kind\": \"password\",\n"
		"      \"value\": \"\",\n"
		"      \"sensitive\": true\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"b\",\n"
		"      \"kind\": \"integer\",\n"
		"      \"value\": 0,\n"
		"      \"sensitive\": false,\n"
		"      \"extra\": 1\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"c\",\n"
		"      \"kind\": \"string\",\n"
		"      \"sensitive\": true\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"d\",\n"
		"      \"kind\": \"hidden\",\n"
		"      \"value\": false,\n"
		"      \"hidden\": true\n"
		"    }\n"
		"  ],\n"
		"  \"commands\": {\n"
		"    \"run\": \"run\",\n"
		"    \"doc\": {\n"
		"      \"args\": \"docs\",\n"
		"      \"description\": \"d\"\n"
		"    },\n"
		"    \"plain\": \"x y\"\n"
		"  },\n"
		"  \"keep_false\": false,\n"
		"  \"ratio\": 10.0,\n"
		"  \"small\": 0.1\n"
		"}\n";
	ck_assert_str_eq(got, want);
	free(got);
}
END_TEST

START_TEST(lock_nested_empty_containers_kept)
{
	char *got = serialize_str("{\"name\": \"n\", \"namespace\": \"n\", \"metadata\": {\"s\": {}, \"t\": []}}",
	                          "extractors");
	ck_assert_ptr_nonnull(strstr(got, "\"s\": {},\n    \"t\": []\n"));
	free(got);
}
END_TEST

START_TEST(lock_rejects_nameless)
{
	char err[256] = "";
	struct strbuf sb = STRBUF_INIT;
	cJSON *v = cJSON_Parse("{\"variant\": \"x\"}");
	ck_assert_int_eq(lock_serialize(v, "loaders", &sb, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "name"));
	cJSON_Delete(v);
	v = cJSON_Parse("[1]");
	ck_assert_int_eq(lock_serialize(v, "loaders", &sb, err, sizeof err), -1);
	cJSON_Delete(v);
	strbuf_release(&sb);
}
END_TEST

/* issue 18 (fuzz_hub findings): what is read is what is locked, or it is refused up front */
START_TEST(lock_refuses_non_string_variant_and_setting_name)
{
	char err[256] = "";
	struct strbuf sb = STRBUF_INIT;
	cJSON *v = cJSON_Parse("{\"name\": \"tap-x\", \"variant\": 0, \"settings\": []}");
	ck_assert_int_eq(lock_serialize(v, "extractors", &sb, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "'variant' is not a string"));
	ck_assert_uint_eq(sb.len, 0);
	cJSON_Delete(v);
	v = cJSON_Parse("{\"name\": \"tap-x\", \"settings\": [{\"name\": \"ok\"}, {\"name\": 0}]}");
	ck_assert_int_eq(lock_serialize(v, "extractors", &sb, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "setting whose 'name' is not a string"));
	cJSON_Delete(v);
	/* a string variant and names still lock */
	v = cJSON_Parse("{\"name\": \"tap-x\", \"variant\": \"0\", \"settings\": [{\"name\": \"ok\"}]}");
	ck_assert_int_eq(lock_serialize(v, "extractors", &sb, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"variant\": \"0\""));
	cJSON_Delete(v);
	strbuf_release(&sb);
}
END_TEST

START_TEST(lock_paths_and_find)
{
	char *p = lock_path("/r", "loaders", "target-x", "v1");
	ck_assert_str_eq(p, "/r/plugins/loaders/target-x--v1.lock");
	free(p);
	p = lock_path("/r", "utilities", "awscli", NULL);
	ck_assert_str_eq(p, "/r/plugins/utilities/awscli.lock");
	free(p);

	ck_assert_ptr_null(lock_find(tmpdir, "loaders", "target-x", NULL));
	char err[256];
	cJSON *def = cJSON_Parse("{\"name\": \"target-x\", \"variant\": \"b\"}");
	ck_assert_int_eq(lock_write(tmpdir, "loaders", def, NULL, err, sizeof err), 0);
	cJSON_Delete(def);
	def = cJSON_Parse("{\"name\": \"target-x-y\", \"variant\": \"a\"}");
	ck_assert_int_eq(lock_write(tmpdir, "loaders", def, NULL, err, sizeof err), 0);
	cJSON_Delete(def);
	p = lock_find(tmpdir, "loaders", "target-x", NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(strstr(p, "/plugins/loaders/target-x--b.lock"));
	free(p);
	ck_assert_ptr_null(lock_find(tmpdir, "loaders", "target-x", "c"));
	p = lock_find(tmpdir, "loaders", "target-x", "b");
	ck_assert_ptr_nonnull(p);
	cJSON *back = lock_read(p, err, sizeof err);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(cJSON_GetObjectItem(back, "plugin_type")->valuestring, "loaders");
	cJSON_Delete(back);
	free(p);
}
END_TEST

START_TEST(lock_read_errors)
{
	char err[256] = "";
	char *path = xasprintf("%s/bad.lock", tmpdir);
	ck_assert_ptr_null(lock_read(path, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "cannot read lock file"));
	ck_assert_int_eq(write_file_atomic(path, "{\"name\": ", 9, 0644), 0);
	ck_assert_ptr_null(lock_read(path, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "invalid JSON"));
	ck_assert_int_eq(write_file_atomic(path, "[]", 2, 0644), 0);
	ck_assert_ptr_null(lock_read(path, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "no plugin definition"));
	free(path);
}
END_TEST

/* Every built-in definition parses and locks; the natives have no pip_url and resolve to libexec. */
static int count_json(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		n += len > 5 && !strcmp(e->d_name + len - 5, ".json");
	}
	if (d)
		closedir(d);
	return n;
}

START_TEST(builtin_catalog_locks)
{
	size_t n;
	const struct adapter_definition *all = builtin_entries(NULL, &n);
	for (size_t i = 0; i < n; i++) {
		const struct adapter_definition *e = &all[i];
		cJSON *def = builtin_definition(NULL, e->plugin_type, e->name, e->variant);
		ck_assert_msg(def != NULL, "%s does not parse", e->name);
		struct strbuf sb = STRBUF_INIT;
		char err[256];
		ck_assert_int_eq(lock_serialize(def, e->plugin_type, &sb, err, sizeof err), 0);
		ck_assert_ptr_nonnull(strstr(sb.buf, "\"variant\": \"smelt\""));
		char *exe = builtin_executable("/opt/smelt/libexec/smelt", def);
		if (builtin_native(e)) {
			ck_assert_ptr_null(cJSON_GetObjectItem(def, "pip_url"));
			ck_assert_ptr_nonnull(exe);
			ck_assert_str_eq(exe + strlen("/opt/smelt/libexec/smelt/"), e->name);
		} else {
			ck_assert_ptr_null(exe);
		}
		free(exe);
		strbuf_release(&sb);
		cJSON_Delete(def);
	}
	/* one entry per JSON file of the adapters' definitions/ folders (in tree and built out of tree) */
	int files = 0;
	char *plugins = xasprintf("%s/plugins", SOURCE_DIR);
	DIR *pd = opendir(plugins);
	struct dirent *pe;
	while (pd && (pe = readdir(pd))) {
		if (pe->d_name[0] == '.')
			continue;
		char *dir = xasprintf("%s/%s/definitions", plugins, pe->d_name);
		files += count_json(dir);
		free(dir);
	}
	if (pd)
		closedir(pd);
	free(plugins);
	ck_assert_int_eq((int)n, files);
	ck_assert_int_ge(files, 7);
	ck_assert_ptr_nonnull(builtin_find(NULL, "loaders", "target-sqlite", "smelt"));
	ck_assert_str_eq(builtin_find(NULL, "loaders", "target-sqlite", "smelt")->adapter, "singer");
	ck_assert_ptr_nonnull(builtin_find(NULL, NULL, "dbt-sqlite", NULL));
	ck_assert_ptr_null(builtin_find(NULL, "loaders", "target-sqlite", "meltanolabs"));
	ck_assert_ptr_null(builtin_find(NULL, "extractors", "target-sqlite", NULL));
	cJSON *dbt = builtin_definition(NULL, "transformers", "dbt-sqlite", NULL);
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(dbt, "pip_url")->valuestring, "dbt-sqlite"));
	ck_assert_str_eq(cJSON_GetObjectItem(dbt, "namespace")->valuestring, "dbt_sqlite");
	cJSON_Delete(dbt);
	cJSON *gx = builtin_definition(NULL, "utilities", "gx", "smelt");
	ck_assert_str_eq(cJSON_GetObjectItem(gx, "namespace")->valuestring, "great_expectations");
	cJSON_Delete(gx);
}
END_TEST

static Suite *lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("examples");
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_test(tc, lock_roundtrip_examples);
	suite_add_tcase(s, tc);
	tc = tcase_create("hub");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lock_from_hub_definition_matches_meltano);
	tcase_add_test(tc, lock_key_order_from_hub);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_test(tc, lock_omission_rules);
	tcase_add_test(tc, lock_nested_empty_containers_kept);
	tcase_add_test(tc, lock_rejects_nameless);
	tcase_add_test(tc, lock_refuses_non_string_variant_and_setting_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_test(tc, lock_paths_and_find);
	tcase_add_test(tc, lock_read_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("builtin");
	tcase_add_test(tc, builtin_catalog_locks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lock_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
