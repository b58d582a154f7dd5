/*
 * test_settings - settings resolution (settings/settings.h): every
 * precedence level beating the next, env var names, $VAR expansion (and
 * which sources are expanded), kinds and casting, redaction and secret
 * scrubbing, the plugin process environment, writing to each store.
 */
#include "project/project.h"
#include "settings/settings.h"
#include "settings/system_db.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <check.h>
#include <sqlite3.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tmp[PATH_MAX];

static const char *const base_yml =
	"default_environment: dev\n"
	"env:\n"
	"  PROJ: proj-value\n"
	"plugins:\n"
	"  extractors:\n"
	"  - name: tap-p\n"
	"    namespace: tap_ns\n"
	"    settings:\n"
	"    - {name: port, kind: integer, value: 1}\n"
	"    - {name: secret, kind: password}\n"
	"    - {name: flag, kind: boolean}\n"
	"    - {name: obj, kind: object}\n"
	"    - {name: list, kind: array}\n"
	"    - {name: custom, env: MY_CUSTOM}\n"
	"    - {name: a.b}\n"
	"    - {name: user, aliases: [username]}\n"
	"    - {name: mode, kind: options, options: [{label: X, value: x}, {label: Y, value: y}]}\n"
	"    - {name: up, value_processor: upcase_string}\n"
	"    - {name: dflt, value: '$MELTANO_EXTRACTOR_NAMESPACE-${PROJ}'}\n"
	"    env:\n"
	"      PLUGIN_ENV: p-$PROJ\n"
	"%s"
	"  - name: tap-c\n"
	"%s"
	"    inherit_from: tap-p\n"
	"environments:\n"
	"- name: dev\n"
	"  env:\n"
	"    ENVIRONMENT_ENV: e\n"
	"%s";

/* One in-memory system database for the whole test (setup/teardown); each project gets a copy of it. */
static struct settings_db_ops *shared_db;

static void free_copy(struct settings_db_ops *self)
{
	free(self);
}

static struct project *load(const char *p_extra, const char *c_extra, const char *env_extra, const char *dotenv)
{
	char err[512];
	struct strbuf yml = STRBUF_INIT;
	strbuf_addf(&yml, base_yml, p_extra, c_extra, env_extra);
	char *f = path_join(tmp, "smelt.yml");
	char *e = path_join(tmp, ".env");
	write_file_atomic(f, yml.buf, yml.len, 0644);
	write_file_atomic(e, dotenv, strlen(dotenv), 0600);
	struct project *p = NULL;
	int rc = project_load(tmp, f, NULL, &p, err, sizeof err);
	ck_assert_msg(rc == 0, "load: %s", err);
	/* the SOURCE_DB level: a copy of shared_db, so a value stored for one project is seen by the next */
	struct settings_db_ops *db = xmalloc(sizeof *db);
	*db = *shared_db;
	db->close = free_copy;
	settings_db_attach(p, db);
	free(f);
	free(e);
	strbuf_release(&yml);
	return p;
}

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/smelt-test-settings-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	static const char *const vars[] = { "TAP_C_PORT", "TAP_NS_PORT", "TAP_P_PORT", "TAP_P_SECRET", "MY_CUSTOM",
		                            "TAP_P_FLAG", "TAP_P_OBJ", "TAP_P_LIST", "SMELT_ENVIRONMENT",
		                            "MELTANO_ENVIRONMENT", "TAP_P_USER", "TAP_P_USERNAME", NULL };
	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	log_set_level(LOG_LEVEL_DISABLED);
	shared_db = settings_memory_db_new();
}

static void teardown(void)
{
	shared_db->close(shared_db);
	remove_tree(tmp);
}

/* Resolve `name` of plugin `plugin` and check value (JSON text) and source. */
static void expect(struct project *p, const char *plugin, const cJSON *overrides, const char *name, const char *json,
                   enum setting_source src)
{
	char err[512];
	struct settings s;
	struct plugin *pl = project_find_plugin(p, -1, plugin);
	ck_assert_ptr_nonnull(pl);
	int rc = settings_resolve(p, pl, overrides, 0, &s, err, sizeof err);
	ck_assert_msg(rc == 0, "resolve: %s", err);
	const struct resolved_setting *rs = settings_find(&s, name);
	ck_assert_msg(rs != NULL, "no setting %s", name);
	cJSON *want = cJSON_Parse(json);
	char *got = cJSON_PrintUnformatted(rs->value);
	ck_assert_msg(cJSON_Compare(want, rs->value, 1), "%s.%s = %s, want %s", plugin, name, got, json);
	ck_assert_msg(rs->source == src, "%s.%s from %s, want %s", plugin, name, setting_source_name(rs->source),
	              setting_source_name(src));
	free(got);
	cJSON_Delete(want);
	settings_release(&s);
}

START_TEST(precedence_each_level_beats_the_next)
{
	char err[256];
	struct project *p;
	/* 8: the default */
	p = load("", "", "", "");
	expect(p, "tap-c", NULL, "port", "1", SOURCE_DEFAULT);
	project_free(p);
	/* 7: the parent beats the default */
	p = load("    config: {port: 6}\n", "", "", "");
	expect(p, "tap-c", NULL, "port", "6", SOURCE_INHERITED);
	/* 6: the system database beats the parent */
	const struct settings_db_ops *db = settings_db_of(p);
	ck_assert_int_eq(db->set(db->ctx, "extractors.tap-c", "port", "7", err, sizeof err), 0);
	expect(p, "tap-c", NULL, "port", "7", SOURCE_DB);
	project_free(p);
	/* 5: smelt.yml beats the database */
	p = load("    config: {port: 6}\n", "    config: {port: '8'}\n", "", "");
	expect(p, "tap-c", NULL, "port", "8", SOURCE_PROJECT);
	project_free(p);
	/* 4: the active environment beats smelt.yml (only when selected) */
	p = load("    config: {port: 6}\n", "    config: {port: '8'}\n",
	         "  config:\n    plugins:\n      extractors:\n      - name: tap-c\n        config:\n          port: 9\n", "");
	expect(p, "tap-c", NULL, "port", "8", SOURCE_PROJECT);
	ck_assert_int_eq(project_select_environment(p, "dev", 0, ENV_IGNORE_DEFAULT, err, sizeof err), 0);
	expect(p, "tap-c", NULL, "port", "9", SOURCE_ENVIRONMENT);
	project_free(p);
	/* 3: .env beats the environment */
	p = load("    config: {port: 6}\n", "    config: {port: '8'}\n",
	         "  config:\n    plugins:\n      extractors:\n      - name: tap-c\n        config:\n          port: 9\n",
	         "TAP_C_PORT=10\n");
	ck_assert_int_eq(project_select_environment(p, "dev", 0, ENV_IGNORE_DEFAULT, err, sizeof err), 0);
	expect(p, "tap-c", NULL, "port", "10", SOURCE_DOTENV);
	/* the parent's namespace prefix is not the child's: a plugin with inherit_from has its own
	 * namespace, its name (as in Meltano) */
	setenv("TAP_NS_PORT", "11", 1);
	expect(p, "tap-c", NULL, "port", "10", SOURCE_DOTENV);
	/* 2: the process environment beats .env */
	setenv("TAP_C_PORT", "11", 1);
	expect(p, "tap-c", NULL, "port", "11", SOURCE_ENV);
	/* 1: an override beats everything */
	cJSON *ov = cJSON_Parse("{\"port\": 12}");
	expect(p, "tap-c", ov, "port", "12", SOURCE_CLI);
	cJSON_Delete(ov);
	/* the name prefix is read before the namespace prefix */
	setenv("TAP_P_PORT", "13", 1);
	expect(p, "tap-p", NULL, "port", "13", SOURCE_ENV);
	project_free(p);
	shared_db->reset(shared_db->ctx, "extractors.tap-c", err, sizeof err);
}
END_TEST

START_TEST(env_var_names)
{
	char err[256];
	struct project *p = load("", "", "", "");
	struct settings s;
	ck_assert_int_eq(settings_resolve(p, project_find_plugin(p, -1, "tap-p"), NULL, 0, &s, err, sizeof err), 0);
	const struct resolved_setting *rs = settings_find(&s, "port");
	ck_assert_uint_eq(rs->nenv, 2);
	ck_assert_str_eq(rs->env[0], "TAP_P_PORT");
	ck_assert_str_eq(rs->env[1], "TAP_NS_PORT");
	rs = settings_find(&s, "custom");
	ck_assert_str_eq(rs->env[0], "MY_CUSTOM");
	rs = settings_find(&s, "a.b");
	ck_assert_str_eq(rs->env[0], "TAP_P_A_B");
	rs = settings_find(&s, "_select");
	ck_assert_str_eq(rs->env[0], "TAP_P__SELECT");
	ck_assert_str_eq(rs->env[1], "TAP_NS__SELECT");
	rs = settings_find(&s, "user");
	ck_assert_uint_eq(rs->nenv, 4);
	ck_assert_str_eq(rs->env[2], "TAP_P_USERNAME");
	ck_assert_ptr_eq(settings_find(&s, "username"), rs);
	settings_release(&s);
	char *n = settings_env_name("tap-gitlab", "api_url");
	ck_assert_str_eq(n, "TAP_GITLAB_API_URL");
	free(n);
	n = settings_env_name("meltano_extract", "_load_schema");
	ck_assert_str_eq(n, "MELTANO_EXTRACT__LOAD_SCHEMA");
	free(n);
	project_free(p);
}
END_TEST

START_TEST(expansion_rules)
{
	struct envlist e = ENVLIST_INIT;
	int empty;
	char *x;
	envlist_set(&e, "A", "1");
	envlist_set(&e, "B_2", "two");
	envlist_set(&e, "lower", "low");
	x = settings_expand("${A}-$B_2-\\$A-\\${A}-$lower-${lower}-$-${missing}-$9", &e, 0, &empty, NULL, 0);
	ck_assert_str_eq(x, "1-two-$A-${A}-$lower-low-$--$9");
	ck_assert_int_eq(empty, 0);
	free(x);
	x = settings_expand("${missing}$NOPE", &e, 0, &empty, NULL, 0);
	ck_assert_str_eq(x, "");
	ck_assert_int_eq(empty, 1);
	free(x);
	char err[128];
	ck_assert_ptr_null(settings_expand("$NOPE", &e, 1, &empty, err, sizeof err));
	ck_assert_str_eq(err, "environment variable 'NOPE' is not set");
	envlist_release(&e);

	/* smelt.yml and defaults expand; env vars and .env do not */
	struct project *p = load("    config:\n      user: ${PROJ}\n      up: '$MISSING_X'\n", "", "",
	                         "TAP_P_CUSTOM='$PROJ'\n");
	setenv("TAP_P_FLAG", "$PROJ", 1);
	expect(p, "tap-p", NULL, "user", "\"proj-value\"", SOURCE_PROJECT);
	expect(p, "tap-p", NULL, "custom", "\"$PROJ\"", SOURCE_DOTENV);
	expect(p, "tap-p", NULL, "dflt", "\"tap_ns-proj-value\"", SOURCE_DEFAULT);
	expect(p, "tap-p", NULL, "up", "null", SOURCE_PROJECT); /* the whole value expanded to nothing */
	expect(p, "tap-p", NULL, "_load_schema", "\"tap_ns\"", SOURCE_DEFAULT);
	unsetenv("TAP_P_FLAG");
	project_free(p);
}
END_TEST

START_TEST(kinds_and_casting)
{
	char err[256];
	struct setting_def d = { 0 };
	d.name = "x";
	struct { const char *in; enum setting_kind k; const char *out; } ok[] = {
		{ "\"YES\"", KIND_BOOLEAN, "true" },   { "\"on\"", KIND_BOOLEAN, "true" },
		{ "\"1\"", KIND_BOOLEAN, "true" },     { "\"off\"", KIND_BOOLEAN, "false" },
		{ "\"nah\"", KIND_BOOLEAN, "false" },  { "0", KIND_BOOLEAN, "false" },
		{ "\" 42 \"", KIND_INTEGER, "42" },    { "\"-1.5\"", KIND_DECIMAL, "-1.5" },
		{ "\"{\\\"a\\\": 1}\"", KIND_OBJECT, "{\"a\": 1}" },
		{ "\"{'a': True, 'b': None}\"", KIND_OBJECT, "{\"a\": true, \"b\": null}" },
		{ "\"[1, 'x']\"", KIND_ARRAY, "[1, \"x\"]" }, { "\"s\"", KIND_STRING, "\"s\"" },
		{ "5", KIND_INTEGER, "5" },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		cJSON *in = cJSON_Parse(ok[i].in), *want = cJSON_Parse(ok[i].out);
		cJSON *got = settings_cast(in, ok[i].k, &d, err, sizeof err);
		ck_assert_msg(got && cJSON_Compare(got, want, 1), "cast %s as %s", ok[i].in, setting_kind_name(ok[i].k));
		cJSON_Delete(in);
		cJSON_Delete(want);
		cJSON_Delete(got);
	}
	cJSON *bad = cJSON_CreateString("4x");
	ck_assert_ptr_null(settings_cast(bad, KIND_INTEGER, &d, err, sizeof err));
	ck_assert_str_eq(err, "'x' must be an integer, not '4x'");
	ck_assert_ptr_null(settings_cast(bad, KIND_OBJECT, &d, err, sizeof err));
	cJSON_Delete(bad);

	struct project *p = load("    config:\n      mode: x\n      up: abc\n      username: bob\n", "", "", "");
	setenv("TAP_P_FLAG", "TRUE", 1);
	setenv("TAP_P_OBJ", "{\"k\": [1]}", 1);
	setenv("TAP_P_LIST", "[\"a\"]", 1);
	expect(p, "tap-p", NULL, "flag", "true", SOURCE_ENV);
	expect(p, "tap-p", NULL, "obj", "{\"k\": [1]}", SOURCE_ENV);
	expect(p, "tap-p", NULL, "list", "[\"a\"]", SOURCE_ENV);
	expect(p, "tap-p", NULL, "mode", "\"x\"", SOURCE_PROJECT);
	expect(p, "tap-p", NULL, "up", "\"ABC\"", SOURCE_PROJECT);
	expect(p, "tap-p", NULL, "user", "\"bob\"", SOURCE_PROJECT); /* through its alias */
	setenv("TAP_P_PORT", "nope", 1);
	struct settings s;
	ck_assert_int_lt(settings_resolve(p, project_find_plugin(p, -1, "tap-p"), NULL, 0, &s, err, sizeof err), 0);
	ck_assert_str_eq(err, "'port' must be an integer, not 'nope' (from the environment)");
	settings_release(&s);
	unsetenv("TAP_P_PORT");
	unsetenv("TAP_P_FLAG");
	unsetenv("TAP_P_OBJ");
	unsetenv("TAP_P_LIST");
	project_free(p);

	p = load("    config:\n      mode: z\n", "", "", "");
	ck_assert_int_lt(settings_resolve(p, project_find_plugin(p, -1, "tap-p"), NULL, 0, &s, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "'mode' must be one of its options, not 'z'"));
	settings_release(&s);
	project_free(p);
	p = load("    config:\n      user: a\n      username: b\n", "", "", "");
	ck_assert_int_lt(settings_resolve(p, project_find_plugin(p, -1, "tap-p"), NULL, 0, &s, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "conflicting values for 'user' and 'username'"));
	settings_release(&s);
	project_free(p);
}
END_TEST

START_TEST(redaction_and_scrubbing)
{
	char err[256];
	struct project *p = load("    config:\n      a.b: 1\n      extra_thing: {x: 1}\n", "", "", "TAP_P_SECRET=hunter2-secret\n");
	struct settings s;
	ck_assert_int_eq(settings_resolve(p, project_find_plugin(p, -1, "tap-p"), NULL, 0, &s, err, sizeof err), 0);
	const struct resolved_setting *rs = settings_find(&s, "secret");
	ck_assert_int_eq(rs->sensitive, 1);
	cJSON *cfg = settings_config_json(&s, SETTINGS_REDACT);
	ck_assert_str_eq(cJSON_GetObjectItem(cfg, "secret")->valuestring, "*****");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "a"), "b")->valueint, 1);
	ck_assert_ptr_null(cJSON_GetObjectItem(cfg, "_select"));
	ck_assert_ptr_null(cJSON_GetObjectItem(cfg, "dflt") ? NULL : (void *)1); /* defaults are in */
	cJSON_Delete(cfg);
	cfg = settings_config_json(&s, SETTINGS_EXTRAS | SETTINGS_FLAT);
	ck_assert_str_eq(cJSON_GetObjectItem(cfg, "secret")->valuestring, "hunter2-secret");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cfg, "a.b"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cfg, "_select"));
	cJSON_Delete(cfg);
	/* a made-up config key is a custom setting, one per leaf of nested config (Meltano's from_missing) */
	ck_assert_ptr_null(settings_find(&s, "extra_thing"));
	rs = settings_find(&s, "extra_thing.x");
	ck_assert_int_eq(rs->custom, 1);
	ck_assert_int_eq(rs->kind, KIND_INTEGER);
	/* the resolved secret is scrubbed from log lines */
	char *scrubbed = log_scrub("token=hunter2-secret;");
	ck_assert_str_eq(scrubbed, "token=*****;");
	free(scrubbed);
	settings_release(&s);
	project_free(p);
}
END_TEST

START_TEST(plugin_environment)
{
	char err[256];
	struct project *p = load("    config:\n      port: 3\n", "", "", "");
	ck_assert_int_eq(project_select_environment(p, "dev", 0, ENV_DEFAULT_OR_NONE, err, sizeof err), 0);
	struct envlist e = ENVLIST_INIT;
	ck_assert_int_eq(settings_plugin_env(p, project_find_plugin(p, -1, "tap-c"), NULL, &e, err, sizeof err), 0);
	ck_assert_str_eq(envlist_get(&e, "TAP_C_PORT"), "3");
	ck_assert_str_eq(envlist_get(&e, "TAP_NS_PORT"), "3");
	ck_assert_str_eq(envlist_get(&e, "TAP_P_PORT"), "3"); /* the parent's prefix */
	ck_assert_str_eq(envlist_get(&e, "MELTANO_EXTRACT_PORT"), "3");
	ck_assert_str_eq(envlist_get(&e, "MELTANO_EXTRACT__LOAD_SCHEMA"), "tap_c"); /* its own namespace */
	ck_assert_str_eq(envlist_get(&e, "TAP_C__SELECT"), "[\"*.*\"]");
	ck_assert_str_eq(envlist_get(&e, "MELTANO_EXTRACTOR_NAME"), "tap-c");
	ck_assert_str_eq(envlist_get(&e, "SMELT_EXTRACTOR_NAMESPACE"), "tap_c");
	ck_assert_str_eq(envlist_get(&e, "MELTANO_PROJECT_ROOT"), tmp);
	ck_assert_str_eq(envlist_get(&e, "MELTANO_ENVIRONMENT"), "dev");
	ck_assert_str_eq(envlist_get(&e, "PROJ"), "proj-value");
	ck_assert_str_eq(envlist_get(&e, "PLUGIN_ENV"), "p-proj-value");
	ck_assert_str_eq(envlist_get(&e, "ENVIRONMENT_ENV"), "e");
	ck_assert_ptr_null(envlist_get(&e, "TAP_C_SECRET"));
	envlist_release(&e);
	project_free(p);
}
END_TEST

/* Meltano's as_env: the leaves of object values, project settings with their defaults (settings/env_vars.c). */
START_TEST(plugin_environment_leaves_and_project_settings)
{
	char err[256];
	struct project *p = load("", "    config:\n      made_up:\n        inner: 1\n        deep: {x: true}\n"
	                         "    metadata:\n      s:\n        replication-key: id\n", "", "");
	struct envlist e = ENVLIST_INIT;
	ck_assert_int_eq(settings_plugin_env(p, project_find_plugin(p, -1, "tap-c"), NULL, &e, err, sizeof err), 0);
	ck_assert_str_eq(envlist_get(&e, "TAP_C__METADATA"), "{\"s\": {\"replication-key\": \"id\"}}");
	ck_assert_str_eq(envlist_get(&e, "TAP_C__METADATA_S_REPLICATION_KEY"), "id");
	ck_assert_str_eq(envlist_get(&e, "MELTANO_EXTRACT__METADATA_S_REPLICATION_KEY"), "id");
	/* an undeclared object: only its leaves */
	ck_assert_str_eq(envlist_get(&e, "TAP_C_MADE_UP_INNER"), "1");
	ck_assert_str_eq(envlist_get(&e, "TAP_NS_MADE_UP_DEEP_X"), "true");
	ck_assert_ptr_null(envlist_get(&e, "TAP_C_MADE_UP"));
	/* an empty object default is a leaf of its own */
	ck_assert_str_eq(envlist_get(&e, "TAP_C__SCHEMA"), "{}");
	ck_assert_str_eq(envlist_get(&e, "TAP_C__LOG_PARSER"), "singer-sdk");
	/* project settings, defaults too, but not smelt's own */
	ck_assert_str_eq(envlist_get(&e, "MELTANO_STATE_BACKEND_URI"), "systemdb");
	ck_assert_str_eq(envlist_get(&e, "MELTANO_ELT_BUFFER_SIZE"), "104857600");
	ck_assert_ptr_null(envlist_get(&e, "MELTANO_LINEAGE_ENABLED"));
	ck_assert_int_eq(strncmp(envlist_get(&e, "MELTANO_USER_AGENT"), "Smelt/", 6), 0);
	/* no environment active: MELTANO_ENVIRONMENT is empty, as Meltano's */
	ck_assert_str_eq(envlist_get(&e, "MELTANO_ENVIRONMENT"), "");
	envlist_release(&e);
	project_free(p);
}
END_TEST

START_TEST(writing_to_stores)
{
	char err[256];
	const char *where;
	struct project *p = load("    # a comment to keep\n    config:\n      port: 3\n", "", "", "");
	cJSON *v = cJSON_CreateString("42");
	ck_assert_int_eq(settings_set(p, project_find_plugin(p, -1, "tap-p"), "port", v, STORE_AUTO, &where, err,
	                              sizeof err), 0);
	ck_assert_str_eq(where, "`smelt.yml`");
	expect(p, "tap-p", NULL, "port", "42", SOURCE_PROJECT);
	cJSON_SetValuestring(v, "s3cr3t-value");
	ck_assert_int_eq(settings_set(p, project_find_plugin(p, -1, "tap-p"), "secret", v, STORE_AUTO, &where, err,
	                              sizeof err), 0);
	ck_assert_str_eq(where, "`.env`");
	expect(p, "tap-p", NULL, "secret", "\"s3cr3t-value\"", SOURCE_DOTENV);
	cJSON_SetValuestring(v, "deep");
	ck_assert_int_eq(settings_set(p, project_find_plugin(p, -1, "tap-p"), "a.b", v, STORE_YML, &where, err,
	                              sizeof err), 0);
	cJSON_SetValuestring(v, "[\"s.*\"]");
	ck_assert_int_eq(settings_set(p, project_find_plugin(p, -1, "tap-p"), "_select", v, STORE_AUTO, &where, err,
	                              sizeof err), 0);
	ck_assert_int_eq(project_select_environment(p, "dev", 0, ENV_IGNORE_DEFAULT, err, sizeof err), 0);
	cJSON_SetValuestring(v, "77");
	ck_assert_int_eq(settings_set(p, project_find_plugin(p, -1, "tap-c"), "port", v, STORE_AUTO, &where, err,
	                              sizeof err), 0);
	ck_assert_str_eq(where, "the active environment in `smelt.yml`");
	cJSON_SetValuestring(v, "yes");
	ck_assert_int_eq(settings_set(p, project_find_plugin(p, -1, "tap-c"), "flag", v, STORE_DB, &where, err,
	                              sizeof err), 0);
	expect(p, "tap-c", NULL, "flag", "true", SOURCE_DB);
	cJSON_SetValuestring(v, "notanumber");
	ck_assert_int_lt(settings_set(p, project_find_plugin(p, -1, "tap-c"), "port", v, STORE_AUTO, &where, err,
	                              sizeof err), 0);
	cJSON_Delete(v);

	struct strbuf sb = STRBUF_INIT;
	char *f = path_join(tmp, "smelt.yml");
	read_file(f, &sb);
	ck_assert_ptr_nonnull(strstr(sb.buf, "    # a comment to keep\n    config:\n      port: 42\n      a:\n        b: deep\n"
	                                     "    select:\n    - s.*\n"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "- name: dev\n  env:\n    ENVIRONMENT_ENV: e\n  config:\n    plugins:\n"
	                                     "      extractors:\n      - name: tap-c\n        config:\n          port: 77\n"));
	strbuf_reset(&sb);
	char *e = path_join(tmp, ".env");
	read_file(e, &sb);
	ck_assert_str_eq(sb.buf, "TAP_P_SECRET='s3cr3t-value'\n");

	/* unset from every store, then reset */
	ck_assert_int_eq(settings_unset(p, project_find_plugin(p, -1, "tap-p"), "a.b", STORE_AUTO, err, sizeof err), 0);
	ck_assert_int_eq(settings_unset(p, project_find_plugin(p, -1, "tap-p"), "secret", STORE_AUTO, err, sizeof err), 0);
	ck_assert_int_eq(settings_reset(p, project_find_plugin(p, -1, "tap-c"), STORE_AUTO, err, sizeof err), 0);
	expect(p, "tap-c", NULL, "flag", "null", SOURCE_DEFAULT);
	strbuf_reset(&sb);
	read_file(f, &sb);
	ck_assert_ptr_null(strstr(sb.buf, "a:\n"));
	ck_assert_ptr_null(strstr(sb.buf, "port: 77"));
	strbuf_reset(&sb);
	read_file(e, &sb);
	ck_assert_str_eq(sb.buf, "");
	strbuf_release(&sb);
	free(f);
	free(e);
	project_free(p);
}
END_TEST

START_TEST(project_settings)
{
	char err[256];
	struct project *p = load("", "", "", "MELTANO_ELT_BUFFER_SIZE=99\n");
	struct settings s;
	ck_assert_int_eq(settings_resolve(p, NULL, NULL, 0, &s, err, sizeof err), 0);
	const struct resolved_setting *rs = settings_find(&s, "elt.buffer_size");
	ck_assert_int_eq(rs->value->valueint, 99);
	ck_assert_int_eq(rs->source, SOURCE_DOTENV);
	ck_assert_str_eq(rs->env[0], "SMELT_ELT_BUFFER_SIZE");
	ck_assert_str_eq(rs->env[1], "MELTANO_ELT_BUFFER_SIZE");
	rs = settings_find(&s, "default_environment");
	ck_assert_str_eq(rs->value->valuestring, "dev");
	ck_assert_int_eq(rs->source, SOURCE_PROJECT);
	rs = settings_find(&s, "state_backend.uri");
	ck_assert_str_eq(rs->value->valuestring, "systemdb");
	settings_release(&s);
	project_free(p);
}
END_TEST

/* An envlist of many variables (indexed by name): order kept, replaced in place, removals keep the rest found. */
START_TEST(envlist_many_variables)
{
	struct envlist e = ENVLIST_INIT;
	char name[32], value[32];
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "V%d", i);
		snprintf(value, sizeof value, "%d", i);
		envlist_set(&e, name, value);
	}
	ck_assert_uint_eq(e.n, 300);
	ck_assert_ptr_null(e.vars[300]);
	envlist_set(&e, "V7", "seven"); /* replaced where it was */
	ck_assert_str_eq(e.vars[7], "V7=seven");
	for (int i = 0; i < 300; i += 3) {
		snprintf(name, sizeof name, "V%d", i);
		envlist_set(&e, name, NULL);
	}
	ck_assert_uint_eq(e.n, 200);
	ck_assert_str_eq(e.vars[0], "V1=1"); /* in the order they were set */
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "V%d", i);
		snprintf(value, sizeof value, "%d", i);
		const char *v = envlist_get(&e, name);
		if (i % 3 == 0)
			ck_assert_ptr_null(v);
		else
			ck_assert_str_eq(v, i == 7 ? "seven" : value);
	}
	ck_assert_ptr_null(envlist_get(&e, "V")); /* a prefix of names is none of them */
	ck_assert_ptr_null(envlist_get(&e, "V10="));
	envlist_set(&e, "V0", "back");
	ck_assert_str_eq(e.vars[200], "V0=back");
	ck_assert_str_eq(envlist_get(&e, "V0"), "back");
	envlist_release(&e);
	ck_assert_ptr_null(envlist_get(&e, "V1"));
	envlist_set(&e, "A", "1"); /* usable again after a release */
	ck_assert_str_eq(envlist_get(&e, "A"), "1");
	envlist_release(&e);
}
END_TEST

/* Meltano's database is read through when smelt.db lacks a value; a missing one is looked for once a second. */
START_TEST(meltano_db_appearing_later_is_read)
{
	char err[512];
	struct project *p = load("", "", "", "");
	settings_db_attach(p, settings_project_db_new(p));
	expect(p, "tap-p", NULL, "user", "null", SOURCE_DEFAULT); /* no .meltano/meltano.db */
	char *dir = path_join(tmp, ".meltano"), *path = path_join(dir, "meltano.db");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
	                              "CREATE TABLE plugin_settings (label VARCHAR(255), description TEXT, name VARCHAR(255) "
	                              "NOT NULL, namespace VARCHAR(255), value BLOB, enabled BOOLEAN, PRIMARY KEY (name, "
	                              "namespace));",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	static const unsigned char v42[] = { 128, 4, 149, 7, 0, 0, 0, 0, 0, 0, 0, 140, 3, 118, 52, 50, 148, 46 }; /* 'v42' */
	sqlite3_stmt *q;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO plugin_settings(name, namespace, value, enabled) "
	                                        "VALUES('user', 'extractors.tap-p.default', ?, 1)", -1, &q, NULL),
	                 SQLITE_OK);
	sqlite3_bind_blob(q, 1, v42, sizeof v42, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	sqlite3_close(db);
	struct timespec pause = { 1, 100 * 1000000L }; /* past the second a missing file is not looked for */
	nanosleep(&pause, NULL);
	expect(p, "tap-p", NULL, "user", "\"v42\"", SOURCE_DB);
	(void)err;
	free(path);
	free(dir);
	project_free(p);
}
END_TEST

/* The project's settings, resolved once per command (the memo in resolve.c): never stale after a change. */
static long long buffer_size(struct project *p, unsigned flags, enum setting_source *src)
{
	char err[256];
	struct settings s;
	ck_assert_int_eq(settings_resolve(p, NULL, NULL, flags, &s, err, sizeof err), 0);
	const struct resolved_setting *rs = settings_find(&s, "elt.buffer_size");
	long long v = (long long)rs->value->valuedouble;
	*src = rs->source;
	/* a copy: what the caller does with it never reaches the next caller */
	cJSON_SetNumberHelper(rs->value, -1);
	settings_release(&s);
	return v;
}

START_TEST(project_settings_memo_follows_every_change)
{
	char err[256];
	enum setting_source src;
	struct project *p = load("", "", "", "");
	ck_assert_int_eq(buffer_size(p, 0, &src), 104857600);
	ck_assert_int_eq(buffer_size(p, 0, &src), 104857600); /* the copy's -1 stayed with it */
	ck_assert_int_eq(src, SOURCE_DEFAULT);
	/* the process environment */
	setenv("MELTANO_ELT_BUFFER_SIZE", "7", 1);
	ck_assert_int_eq(buffer_size(p, 0, &src), 7);
	ck_assert_int_eq(src, SOURCE_ENV);
	unsetenv("MELTANO_ELT_BUFFER_SIZE");
	ck_assert_int_eq(buffer_size(p, SETTINGS_NO_DB, &src), 104857600);
	/* a write to the system database, through settings_set() and through the backend itself */
	cJSON *v = cJSON_CreateNumber(8);
	ck_assert_int_eq(settings_set(p, NULL, "elt.buffer_size", v, STORE_DB, NULL, err, sizeof err), 0);
	ck_assert_int_eq(buffer_size(p, 0, &src), 8);
	ck_assert_int_eq(src, SOURCE_DB);
	ck_assert_int_eq(buffer_size(p, SETTINGS_NO_DB, &src), 104857600); /* the flags are part of the key */
	const struct settings_db_ops *ops = settings_db_of(p);
	ck_assert_int_eq(ops->set(ops->ctx, "meltano", "elt.buffer_size", "9", err, sizeof err), 0);
	ck_assert_int_eq(buffer_size(p, 0, &src), 9);
	ck_assert_int_eq(ops->unset(ops->ctx, "meltano", "elt.buffer_size", err, sizeof err), 0);
	ck_assert_int_eq(buffer_size(p, 0, &src), 104857600);
	/* .env (written by settings_set) and smelt.yml (edited, then the model reloaded) */
	cJSON_SetNumberHelper(v, 10);
	ck_assert_int_eq(settings_set(p, NULL, "elt.buffer_size", v, STORE_DOTENV, NULL, err, sizeof err), 0);
	ck_assert_int_eq(buffer_size(p, 0, &src), 10);
	ck_assert_int_eq(src, SOURCE_DOTENV);
	ck_assert_int_eq(settings_unset(p, NULL, "elt.buffer_size", STORE_DOTENV, err, sizeof err), 0);
	cJSON_SetNumberHelper(v, 11);
	ck_assert_int_eq(settings_set(p, NULL, "elt.buffer_size", v, STORE_YML, NULL, err, sizeof err), 0);
	ck_assert_int_eq(buffer_size(p, 0, &src), 11);
	ck_assert_int_eq(src, SOURCE_PROJECT);
	/* a plugin's settings, kept the same way: a write is seen at once */
	expect(p, "tap-p", NULL, "port", "1", SOURCE_DEFAULT);
	cJSON_SetNumberHelper(v, 12);
	ck_assert_int_eq(settings_set(p, project_find_plugin(p, -1, "tap-p"), "port", v, STORE_DB, NULL, err, sizeof err),
	                 0);
	expect(p, "tap-p", NULL, "port", "12", SOURCE_DB);
	setenv("TAP_P_PORT", "13", 1);
	expect(p, "tap-p", NULL, "port", "13", SOURCE_ENV);
	unsetenv("TAP_P_PORT");
	expect(p, "tap-p", NULL, "port", "12", SOURCE_DB);
	/* a write this process did not make (another process's): the memory backend's values edited behind its
	 * back, without settings_note_write(), are seen a second later at most */
	cJSON *ns = cJSON_GetObjectItemCaseSensitive(settings_db_of(p)->ctx, "extractors.tap-p");
	ck_assert_ptr_nonnull(ns);
	cJSON_ReplaceItemInObjectCaseSensitive(ns, "port", cJSON_CreateString("14"));
	struct timespec pause = { 1, 100 * 1000000L };
	nanosleep(&pause, NULL);
	expect(p, "tap-p", NULL, "port", "14", SOURCE_DB);
	cJSON_Delete(v);
	project_free(p);
}
END_TEST

/* issue 18 item 3: an integer above 2^53 reaches the config file, the env and the stores with its digits */
/* The system-database level is the project's own (settings_db_attach), not a process global. */
START_TEST(db_level_belongs_to_the_project)
{
	char err[256];
	struct project *a = load("", "", "", ""), *b = load("", "", "", "");
	settings_db_attach(a, settings_memory_db_new());
	settings_db_attach(b, settings_memory_db_new());
	cJSON *v = cJSON_CreateNumber(21);
	ck_assert_int_eq(settings_set(a, project_find_plugin(a, -1, "tap-c"), "port", v, STORE_DB, NULL, err, sizeof err),
	                 0);
	expect(a, "tap-c", NULL, "port", "21", SOURCE_DB);
	expect(b, "tap-c", NULL, "port", "1", SOURCE_DEFAULT);
	/* none attached: nothing to read, and a write says why it cannot be stored */
	settings_db_attach(b, NULL);
	ck_assert_ptr_null(b->settings_db);
	expect(b, "tap-c", NULL, "port", "1", SOURCE_DEFAULT);
	ck_assert_int_lt(settings_set(b, project_find_plugin(b, -1, "tap-c"), "port", v, STORE_DB, NULL, err, sizeof err),
	                 0);
	ck_assert_str_eq(err, "cannot store setting 'port': no system database is open");
	cJSON_Delete(v);
	project_free(a);
	project_free(b);
}
END_TEST

START_TEST(long_integers_stay_exact)
{
	char err[512];
	struct project *p = load("    config: {acct: 9007199254740993, port: 9007199254740995}\n", "", "", "");
	struct plugin *pl = project_find_plugin(p, -1, "tap-p");
	struct settings s;
	ck_assert_msg(settings_resolve(p, pl, NULL, 0, &s, err, sizeof err) == 0, "%s", err);
	cJSON *cfg = settings_config_json(&s, 0);
	char *txt = json_print(cfg);
	ck_assert_msg(strstr(txt, "\"acct\":9007199254740993") && strstr(txt, "\"port\":9007199254740995"), "%s", txt);
	free(txt);
	cJSON_Delete(cfg);
	struct envlist e = ENVLIST_INIT;
	ck_assert_int_eq(settings_plugin_env(p, pl, &s, &e, err, sizeof err), 0);
	ck_assert_str_eq(envlist_get(&e, "TAP_P_ACCT"), "9007199254740993");
	ck_assert_str_eq(envlist_get(&e, "TAP_P_PORT"), "9007199254740995");
	envlist_release(&e);
	settings_release(&s);
	/* from the environment, as an integer setting */
	setenv("TAP_P_PORT", "9007199254740997", 1);
	expect(p, "tap-p", NULL, "port", "9007199254740997", SOURCE_ENV);
	ck_assert_msg(settings_resolve(p, pl, NULL, 0, &s, err, sizeof err) == 0, "%s", err);
	char *v = settings_value_to_string(settings_find(&s, "port")->value);
	ck_assert_str_eq(v, "9007199254740997");
	free(v);
	settings_release(&s);
	unsetenv("TAP_P_PORT");
	/* through the system database */
	cJSON *big = json_parse_exact("9007199254740999");
	ck_assert_int_eq(settings_set(p, project_find_plugin(p, -1, "tap-c"), "port", big, STORE_DB, NULL, err,
	                              sizeof err), 0);
	expect(p, "tap-c", NULL, "port", "9007199254740999", SOURCE_DB);
	cJSON_Delete(big);
	const struct settings_db_ops *db = settings_db_of(p);
	db->reset(db->ctx, "extractors.tap-c", err, sizeof err);
	/* written back into smelt.yml by an edit */
	big = cJSON_CreateString("9007199254741001");
	ck_assert_int_eq(settings_set(p, project_find_plugin(p, -1, "tap-p"), "port", big, STORE_YML, NULL, err,
	                              sizeof err), 0);
	cJSON_Delete(big);
	struct strbuf text = STRBUF_INIT;
	char *f = path_join(tmp, "smelt.yml");
	ck_assert_int_eq(read_file(f, &text), 0);
	ck_assert_msg(strstr(text.buf, "acct: 9007199254740993") && strstr(text.buf, "port: 9007199254741001"), "%s",
	              text.buf);
	strbuf_release(&text);
	free(f);
	project_free(p);
}
END_TEST

/* issue 18 item 4: resolving a deeply nested config is linear (it doubled per level: a 28-deep one took 6 s) */
START_TEST(deep_config_resolves_quickly)
{
	char err[512];
	struct strbuf cfg = STRBUF_INIT;
	strbuf_addstr(&cfg, "    config:\n      deep: ");
	for (int i = 0; i < 90; i++)
		strbuf_addf(&cfg, "{k%d: ", i);
	strbuf_addstr(&cfg, "leaf"); /* nothing to expand: the compare of before and after walks it all */
	for (int i = 0; i < 90; i++)
		strbuf_addstr(&cfg, "}");
	strbuf_addstr(&cfg, "\n");
	struct project *p = load(cfg.buf, "", "", "");
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct settings s;
	ck_assert_msg(settings_resolve(p, project_find_plugin(p, -1, "tap-c"), NULL, 0, &s, err, sizeof err) == 0, "%s",
	              err);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	/* a hang guard, not a speed assertion: the old exponential compare never ended at 90 levels */
	ck_assert_msg(secs < 30.0, "took %.2f s", secs);
	/* the leaf is a custom setting of its own, named by its dotted path */
	struct strbuf path = STRBUF_INIT;
	strbuf_addstr(&path, "deep");
	for (int i = 0; i < 90; i++)
		strbuf_addf(&path, ".k%d", i);
	const struct resolved_setting *rs = settings_find(&s, path.buf);
	strbuf_release(&path);
	ck_assert_ptr_nonnull(rs);
	const cJSON *leaf = rs->value;
	ck_assert_msg(cJSON_IsString(leaf) && !strcmp(leaf->valuestring, "leaf"), "leaf not found");
	/* and the plugin's config nests it back */
	cJSON *nested = settings_config_json(&s, 0);
	leaf = cJSON_GetObjectItemCaseSensitive(nested, "deep");
	for (int i = 0; i < 90 && leaf; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%d", i);
		leaf = cJSON_GetObjectItemCaseSensitive(leaf, k);
	}
	ck_assert_msg(cJSON_IsString(leaf) && !strcmp(leaf->valuestring, "leaf"), "nested leaf not found");
	cJSON_Delete(nested);
	settings_release(&s);
	project_free(p);
	strbuf_release(&cfg);
}
END_TEST

/* issue 18 item 7: a sensitive setting's invalid value never appears in an error */
START_TEST(sensitive_values_stay_out_of_errors)
{
	char err[512];
	const char *secret = "s3cr3t-9x";
	struct project *p = load("", "    settings:\n    - {name: pin, kind: integer, sensitive: true}\n"
	                             "    - {name: rate, kind: decimal, sensitive: true}\n"
	                             "    - {name: tier, kind: options, sensitive: true, options: [{label: A, value: a}]}\n",
	                         "", "TAP_C_PIN=s3cr3t-9x\n");
	struct settings s;
	ck_assert_int_lt(settings_resolve(p, project_find_plugin(p, -1, "tap-c"), NULL, 0, &s, err, sizeof err), 0);
	ck_assert_str_eq(err, "'pin' must be an integer; the value is not shown as the setting is sensitive (from `.env`)");
	settings_release(&s);
	project_free(p);
	p = load("", "    settings:\n    - {name: rate, kind: decimal, sensitive: true}\n"
	             "    - {name: tier, kind: options, sensitive: true, options: [{label: A, value: a}]}\n"
	             "    config:\n      tier: s3cr3t-9x\n",
	         "", "");
	ck_assert_int_lt(settings_resolve(p, project_find_plugin(p, -1, "tap-c"), NULL, 0, &s, err, sizeof err), 0);
	ck_assert_ptr_null(strstr(err, secret));
	ck_assert_ptr_nonnull(strstr(err, "'tier' must be one of its options"));
	settings_release(&s);
	/* settings_set checks the value before storing it */
	cJSON *v = cJSON_CreateString(secret);
	ck_assert_int_lt(settings_set(p, project_find_plugin(p, -1, "tap-c"), "rate", v, STORE_AUTO, NULL, err,
	                              sizeof err), 0);
	ck_assert_str_eq(err, "'rate' must be a number; the value is not shown as the setting is sensitive");
	cJSON_Delete(v);
	/* a password setting cast as an integer (kind from the caller) is hidden too */
	struct setting_def d = { .name = "secret", .kind = KIND_PASSWORD };
	v = cJSON_CreateString(secret);
	ck_assert_ptr_null(settings_cast(v, KIND_INTEGER, &d, err, sizeof err));
	ck_assert_ptr_null(strstr(err, secret));
	cJSON_Delete(v);
	project_free(p);
}
END_TEST

/* issue 16: Meltano's parse_date for date_iso8601 settings */
START_TEST(relative_dates)
{
	struct timespec now = { 1796612400, 52697000 }; /* 2026-12-07T03:00:00.052697 UTC */
	static const struct { const char *in, *out; } cases[] = {
		{ "2021-10-01", "2021-10-01" },
		{ "2021-10-01T00:00:00Z", "2021-10-01T00:00:00Z" },
		{ "2021-10-01 08:30:00+02:00", "2021-10-01 08:30:00+02:00" },
		{ "1 month ago", "2026-11-07T03:00:00.052697" },
		{ "2 days ago", "2026-12-05T03:00:00.052697" },
		{ "an hour ago", "2026-12-07T02:00:00.052697" },
		{ "3 Weeks ago", "2026-11-16T03:00:00.052697" },
		{ "1 year ago", "2025-12-07T03:00:00.052697" },
		{ "yesterday", "2026-12-06T03:00:00.052697" },
		{ "now", "2026-12-07T03:00:00.052697" },
		{ "not a date", "not a date" },
		{ "2021-13-01", "2021-13-01" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = settings_parse_date(cases[i].in, &now);
		ck_assert_msg(!strcmp(got, cases[i].out), "%s: %s", cases[i].in, got);
		free(got);
	}
	/* the end of a longer month clamps: 31 March less one month is 28 February */
	struct timespec march = { 1806462000, 0 }; /* 2027-03-31T03:00:00 UTC */
	char *got = settings_parse_date("1 month ago", &march);
	ck_assert_str_eq(got, "2027-02-28T03:00:00");
	free(got);
	ck_assert_ptr_null(settings_parse_date(NULL, &now));
}
END_TEST

/* issue 16: config print's shapes (Singer nested without nulls, others flat with nulls), empty secrets */
START_TEST(print_styles)
{
	char err[256];
	struct project *p = load("    config:\n      a.b: 1\n      nested: {x: $NOT_SET_ANYWHERE_Q, y: [$NOT_SET_ANYWHERE_Q]}\n",
	                         "", "", "TAP_P_SECRET=\n");
	struct settings s;
	ck_assert_int_eq(settings_resolve(p, project_find_plugin(p, -1, "tap-p"), NULL, 0, &s, err, sizeof err), 0);
	cJSON *singer = settings_print_json(&s, SETTINGS_STYLE_SINGER, SETTINGS_REDACT);
	cJSON *flat = settings_print_json(&s, SETTINGS_STYLE_FLAT, SETTINGS_REDACT);
	cJSON *airflow = settings_print_json(&s, SETTINGS_STYLE_PYTHON_STR, SETTINGS_REDACT);
	/* an empty secret has nothing to hide */
	ck_assert_str_eq(cJSON_GetObjectItem(singer, "secret")->valuestring, "");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(singer, "a"), "b")->valueint, 1);
	ck_assert_ptr_null(cJSON_GetObjectItem(singer, "flag")); /* no value: left out */
	ck_assert_ptr_null(cJSON_GetObjectItem(singer, "a.b"));
	/* an unset $VAR inside an object is null (left out), inside an array "" */
	const cJSON *nested = cJSON_GetObjectItem(singer, "nested");
	ck_assert_ptr_null(cJSON_GetObjectItem(nested, "x"));
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(nested, "y"), 0)->valuestring, "");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(flat, "flag")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(flat, "nested.x")));
	ck_assert_int_eq(cJSON_GetObjectItem(flat, "a.b")->valueint, 1);
	ck_assert_ptr_null(cJSON_GetObjectItem(flat, "_select"));
	ck_assert_str_eq(cJSON_GetObjectItem(airflow, "flag")->valuestring, "None");
	ck_assert_str_eq(cJSON_GetObjectItem(airflow, "port")->valuestring, "1");
	cJSON_Delete(singer);
	cJSON_Delete(flat);
	cJSON_Delete(airflow);
	cJSON *extras = settings_print_json(&s, SETTINGS_STYLE_SINGER, SETTINGS_EXTRAS);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(extras, "_select"));
	ck_assert_ptr_null(cJSON_GetObjectItem(extras, "port"));
	cJSON_Delete(extras);
	settings_release(&s);
	project_free(p);
}
END_TEST

/* settings_project_store(): the connection the project's settings are read through, lent, not a second one. */
START_TEST(project_store_is_the_settings_connection)
{
	struct project *p = load("", "", "", "");
	char err[512];
	/* the CLI's backend: <sys_dir>/smelt.db, opened once and lent to whoever records runs and state */
	settings_db_attach(p, settings_project_db_new(p));
	struct store *a = NULL, *b = NULL;
	int owned = -1;
	ck_assert_int_eq(settings_project_store(p, &a, &owned, err, sizeof err), 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(owned, 0);
	ck_assert_int_eq(settings_project_store(p, &b, &owned, err, sizeof err), 0);
	ck_assert_ptr_eq(a, b);
	/* a value written through the lent store is what the settings read (one connection, no stale reads) */
	ck_assert_int_eq(store_setting_set(a, "extractors.tap-p", "port", "7", err, sizeof err), 0);
	struct settings s;
	ck_assert_int_eq(settings_resolve(p, project_find_plugin(p, PLUGIN_EXTRACTORS, "tap-p"), NULL, 0, &s, err,
	                                  sizeof err), 0);
	ck_assert_int_eq(settings_find(&s, "port")->value->valueint, 7);
	ck_assert_int_eq(settings_find(&s, "port")->source, SOURCE_DB);
	settings_release(&s);
	project_free(p); /* closes the store it lent */
	/* another backend (tests, an in-memory one): a store of its own, the caller's to close */
	p = load("", "", "", "");
	ck_assert_int_eq(settings_project_store(p, &a, &owned, err, sizeof err), 0);
	ck_assert_int_eq(owned, 1);
	store_close(a);
	/* a database_uri that cannot be used is refused as settings_open_store() refuses it */
	project_free(p);
	p = load("", "", "", "");
	settings_db_attach(p, settings_project_db_new(p));
	setenv("MELTANO_DATABASE_URI", "mysql://h/db", 1);
	ck_assert_int_eq(settings_project_store(p, &a, &owned, err, sizeof err), SMELT_ERR_CONFIG);
	unsetenv("MELTANO_DATABASE_URI");
	ck_assert_msg(strstr(err, "'mysql' databases are not supported"), "got: %s", err);
	ck_assert_ptr_null(a);
	project_free(p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("settings");
	struct { const char *name; const TTest *t; } cases[] = {
		{ "precedence", precedence_each_level_beats_the_next },
		{ "env_names", env_var_names },
		{ "expansion", expansion_rules },
		{ "kinds", kinds_and_casting },
		{ "redaction", redaction_and_scrubbing },
		{ "plugin_env", plugin_environment },
		{ "plugin_env_leaves", plugin_environment_leaves_and_project_settings },
		{ "stores", writing_to_stores },
		{ "project", project_settings },
		{ "long_integers", long_integers_stay_exact },
		{ "deep_config", deep_config_resolves_quickly },
		{ "sensitive_errors", sensitive_values_stay_out_of_errors },
		{ "db_level", db_level_belongs_to_the_project },
		{ "relative_dates", relative_dates },
		{ "print_styles", print_styles },
		{ "project_store", project_store_is_the_settings_connection },
		{ "project_memo", project_settings_memo_follows_every_change },
		{ "meltano_db_later", meltano_db_appearing_later_is_read },
		{ "envlist_many", envlist_many_variables },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *t = tcase_create(cases[i].name);
		tcase_add_checked_fixture(t, setup, teardown);
		_tcase_add_test(t, cases[i].t, 0, 0, 0, 1);
		suite_add_tcase(s, t);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
