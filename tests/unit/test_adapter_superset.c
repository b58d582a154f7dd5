/*
 * Check suite for the superset adapter (plugins/superset) under the mock
 * host: the generated superset_config.py and environment, the warehouses
 * it finds (SQLite, DuckDB, PostgreSQL URIs with encoded credentials), the
 * secret key (setting, or generated once into .env), the helper's jobs and
 * its "@smelt" lines turned into events, the gunicorn command of ui, and
 * the error texts.  Superset never runs.
 */
#include "mock_host.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct mock_host *m;
static const struct smelt_adapter *ad;
static char err[SMELT_ERRBUF_SIZE];
static struct smelt_plugin *ss;

static void setup(void)
{
	m = mock_host_new();
	ad = mock_adapter_load(m, "superset");
	err[0] = '\0';
	ss = mock_plugin_add(m, "utilities", "superset");
	mock_plugin_attr(ss, "pip_url", "apache-superset==4.1.2");
	static const char *const progs[] = { "python", "superset", "gunicorn", NULL };
	mock_plugin_venv(ss, progs);
	mock_plugin_setting(ss, "secret_key", "\"ss-key-s3cret\"", 1);
}

static void teardown(void)
{
	mock_host_free(m);
}

static int block(const char *command)
{
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_COMMAND, command);
	mock_request_plugin(&r, ss, NULL);
	return ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err);
}

static int invoke(const char *command, const char *const *args, int *code)
{
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_INVOKE, command);
	mock_request_plugin(&r, ss, NULL);
	for (size_t i = 0; args && args[i]; i++)
		mock_request_arg(&r, args[i]);
	return ad->invoke(mock_adapter_state(m), &r.req, code, err, sizeof err);
}

static const char *venv_bin(const char *prog)
{
	return mock_path(m, ".smelt/utilities/superset/venv/bin/%s", prog);
}

/* The job the helper was given in process i (parsed; caller deletes). */
static cJSON *job_of(size_t i)
{
	const struct mock_call *c = mock_call(m, i);
	const struct mock_file *f = mock_file_find(m, c->argv[3]);
	ck_assert_ptr_nonnull(f);
	cJSON *v = cJSON_Parse(f->data);
	ck_assert_ptr_nonnull(v);
	return v;
}

/* Three warehouses: a SQLite file that exists, a DuckDB file that exists, a PostgreSQL server. */
static void add_warehouses(void)
{
	mock_write_file(m, "output/warehouse.db", "");
	mock_write_file(m, "output/lake.duckdb", "");
	struct smelt_plugin *p = mock_plugin_add(m, "loaders", "target-sqlite");
	mock_plugin_setting(p, "database", "\"output/warehouse\"", 0); /* Meltano's target-sqlite adds .db */
	p = mock_plugin_add(m, "loaders", "target-duckdb");
	mock_plugin_setting(p, "filepath", "\"output/lake.duckdb\"", 0);
	p = mock_plugin_add(m, "loaders", "target-postgres");
	mock_plugin_setting(p, "host", "\"db.internal\"", 0);
	mock_plugin_setting(p, "port", "5433", 0);
	mock_plugin_setting(p, "user", "\"loader\"", 0);
	mock_plugin_setting(p, "password", "\"pg:s3cret/x\"", 1);
	mock_plugin_setting(p, "database", "\"wh\"", 0);
	p = mock_plugin_add(m, "extractors", "tap-csv"); /* not a warehouse */
	mock_plugin_setting(p, "database", "\"output/other.db\"", 0);
}

START_TEST(sync_initializes_once_then_registers_the_warehouses)
{
	add_warehouses();
	struct mock_proc *init = mock_expect(m);
	mock_proc_stdout(init, "@smelt {\"item\": \"roles\", \"status\": \"updated\"}");
	struct mock_proc *sync = mock_expect(m);
	mock_proc_stdout(sync, "@smelt {\"item\": \"database warehouse\", \"status\": \"created\", \"seconds\": 0.5}");
	mock_proc_stdout(sync, "Loaded your LOCAL configuration"); /* Superset's own chatter: debug log */
	mock_proc_stdout(sync, "@smelt {\"item\": \"dataset main.orders\", \"status\": \"created\"}");
	mock_proc_stdout(sync, "@smelt {\"item\": \"dataset main.customers\", \"status\": \"unchanged\"}");
	ck_assert_int_eq(block("sync"), SMELT_OK);

	ck_assert_uint_eq(mock_ncalls(m), 2);
	const struct mock_call *c0 = mock_call(m, 0), *c1 = mock_call(m, 1);
	char want[2048];
	snprintf(want, sizeof want, "%s %s/superset/superset_helper.py initialize ", venv_bin("python"), MOCK_ADAPTER_DIR);
	ck_assert_msg(!strncmp(c0->joined, want, strlen(want)), "%s", c0->joined);
	ck_assert_str_eq(c1->argv[2], "sync");
	ck_assert_uint_eq(c1->flags, SMELT_SPAWN_QUIET | SMELT_SPAWN_STDIN_NULL);
	ck_assert(c1->has_on_line);
	ck_assert_ptr_nonnull(mock_log_find(m, "'superset' has no admin.password setting: no admin user was created"));

	/* the environment */
	ck_assert_str_eq(mock_call_env(c1, "SUPERSET_SECRET_KEY"), "ss-key-s3cret");
	ck_assert_str_eq(mock_call_env(c1, "SUPERSET_HOME"), mock_path(m, ".smelt/utilities/superset"));
	ck_assert_str_eq(mock_call_env(c1, "FLASK_APP"), "superset");
	ck_assert_str_eq(mock_call_env(c1, "SCARF_ANALYTICS"), "false");
	ck_assert_str_eq(mock_call_env(c1, "DO_NOT_TRACK"), "1");
	ck_assert_str_eq(mock_call_env(c1, "PYTHONUNBUFFERED"), "1");

	/* the config: metadata DB under .smelt, SQLite allowed because a warehouse is SQLite, no secret */
	const char *cfg_path = mock_call_env(c1, "SUPERSET_CONFIG_PATH");
	ck_assert_ptr_nonnull(cfg_path);
	const char *run_dir = mock_path(m, ".smelt/run/superset/superset_config.");
	ck_assert(!strncmp(cfg_path, run_dir, strlen(run_dir)));
	const struct mock_file *cfg = mock_file_find(m, cfg_path);
	ck_assert_ptr_nonnull(cfg);
	snprintf(want, sizeof want,
	         "import json as _smelt_json\n\n"
	         "SQLALCHEMY_DATABASE_URI = 'sqlite:///%s/.smelt/utilities/superset/superset.db?check_same_thread=false'\n"
	         "# The project's warehouse is SQLite, which Superset refuses by default.\n"
	         "PREVENT_UNSAFE_DB_CONNECTIONS = False\n",
	         mock_root(m));
	ck_assert_msg(strstr(cfg->data, want), "%s", cfg->data);
	ck_assert_ptr_null(strstr(cfg->data, "ss-key-s3cret"));

	/* the sync job: every warehouse once, credentials URL-encoded */
	cJSON *job = job_of(1);
	char *dbs = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(job, "databases"));
	snprintf(want, sizeof want,
	         "[{\"name\":\"warehouse\",\"uri\":\"sqlite:///%s/output/warehouse.db\",\"extra\":{},"
	         "\"source\":\"written by target-sqlite\"},"
	         "{\"name\":\"lake\",\"uri\":\"duckdb:///%s/output/lake.duckdb\","
	         "\"extra\":{\"engine_params\":{\"connect_args\":{\"read_only\":true}}},\"source\":\"written by target-duckdb\"},"
	         "{\"name\":\"wh\",\"uri\":\"postgresql+psycopg2://loader:pg%%3As3cret%%2Fx@db.internal:5433/wh\",\"extra\":{},"
	         "\"source\":\"written by target-postgres\"}]",
	         mock_root(m), mock_root(m));
	ck_assert_str_eq(dbs, want);
	free(dbs);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "owner")), "admin");
	cJSON_Delete(job);

	/* the helper's lines as events, and a summary */
	ck_assert_uint_eq(mock_event_count(m, SMELT_EV_RESULT, NULL), 4);
	const struct mock_event *e = mock_event_find(m, SMELT_EV_RESULT, "database warehouse");
	ck_assert_str_eq(e->status, "created");
	ck_assert_double_eq(e->seconds, 0.5);
	e = mock_event_find(m, SMELT_EV_SUMMARY, "sync");
	ck_assert_str_eq(e->message, "1 database(s), 2 dataset(s): 2 created, 0 updated, 1 unchanged");
	ck_assert_ptr_nonnull(mock_log_find(m, "Loaded your LOCAL configuration"));

	/* secrets: in the env and the private job only */
	mock_assert_no_leak(m, "ss-key-s3cret");
	mock_assert_no_leak(m, "s3cret");

	/* initialized once: the next sync goes straight to it */
	ck_assert_int_eq(block("sync"), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 3);
	ck_assert_str_eq(mock_call(m, 2)->argv[2], "sync");
}
END_TEST

START_TEST(a_missing_secret_key_is_generated_once_into_dotenv)
{
	mock_plugin_setting(ss, "secret_key", "null", 1);
	mock_write_file(m, ".env", "OTHER=1"); /* no final newline: kept, and a line break added */
	ck_assert_ptr_nonnull(ad->post_install);
	ck_assert_int_eq(ad->post_install(mock_adapter_state(m), ss, err, sizeof err), SMELT_OK);
	char *env = mock_read_file(mock_path(m, ".env"));
	ck_assert_ptr_nonnull(env);
	ck_assert(!strncmp(env, "OTHER=1\nSUPERSET_SECRET_KEY='", 29));
	const char *key = env + 29;
	size_t klen = strcspn(key, "'");
	ck_assert_uint_eq(klen, 56); /* 42 random bytes in base64 */
	ck_assert_str_eq(key + klen, "'\n");
	struct stat st;
	ck_assert_int_eq(stat(mock_path(m, ".env"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_ptr_nonnull(mock_log_find(m, "generated a secret key for 'superset' and saved it to .env as "
	                                       "SUPERSET_SECRET_KEY"));
	char secret[64];
	snprintf(secret, sizeof secret, "%.*s", (int)klen, key);
	mock_assert_no_leak(m, secret);
	free(env);
}
END_TEST

START_TEST(initialize_creates_the_admin_of_the_settings)
{
	ck_assert_int_eq(block("initialize"), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "'superset' has no admin password: set it with 'smelt config superset set admin.password "
	                      "...' (kept in .env), then run 'smelt invoke superset:initialize' again");
	ck_assert_uint_eq(mock_ncalls(m), 0);
	mock_plugin_setting(ss, "admin.username", "\"root\"", 0);
	mock_plugin_setting(ss, "admin.password", "\"admin-s3cret\"", 1);
	mock_plugin_setting(ss, "admin.email", "\"root@example.com\"", 0);
	ck_assert_int_eq(block("initialize"), SMELT_OK);
	cJSON *job = job_of(0);
	char *admin = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(job, "admin"));
	ck_assert_str_eq(admin, "{\"username\":\"root\",\"password\":\"admin-s3cret\",\"email\":\"root@example.com\","
	                        "\"first_name\":\"Superset\",\"last_name\":\"Admin\"}");
	free(admin);
	cJSON_Delete(job);
	struct stat st;
	ck_assert_int_eq(stat(mock_call(m, 0)->argv[3], &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	mock_assert_no_leak(m, "admin-s3cret");
	/* marked: a later sync does not initialize again */
	ck_assert_int_eq(block("sync"), SMELT_OK); /* no warehouse: nothing to run */
	ck_assert_uint_eq(mock_ncalls(m), 1);
	ck_assert_ptr_nonnull(mock_log_find(m, "no warehouse found"));
}
END_TEST

START_TEST(helper_failures)
{
	add_warehouses();
	mock_expect(m); /* initialize */
	struct mock_proc *pr = mock_expect(m);
	mock_proc_stdout(pr, "@smelt {\"item\": \"dataset main.orders\", \"status\": \"error\", \"message\": \"no such table\"}");
	mock_proc_stdout(pr, "@smelt {\"status\": \"created\"}");
	mock_proc_exit(pr, 1);
	ck_assert_int_eq(block("sync"), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "superset sync: 1 item(s) failed");
	ck_assert_str_eq(mock_event_find(m, SMELT_EV_RESULT, "dataset main.orders")->message, "no such table");
	ck_assert_ptr_nonnull(mock_log_find(m, "superset helper: unexpected line: @smelt {\"status\": \"created\"}"));
	ck_assert_ptr_nonnull(strstr(mock_event_find(m, SMELT_EV_SUMMARY, "sync")->message, ", with errors"));
	/* exit without an item named */
	mock_proc_exit(mock_expect(m), 3);
	ck_assert_int_eq(block("sync"), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "superset sync exited with code 3 (run with --log-level debug for Superset's output)");
	mock_proc_signal(mock_expect(m), 9);
	ck_assert_int_eq(block("sync"), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "superset sync was killed by signal 9");
	/* invoke: the tool's failure is an exit code, logged */
	mock_proc_exit(mock_expect(m), 3);
	int code = -1;
	ck_assert_int_eq(invoke("sync", NULL, &code), SMELT_OK);
	ck_assert_int_eq(code, 1);
	ck_assert_str_eq(err, "");
	const struct mock_log *l = mock_log_find(m, "superset sync exited with code 3");
	ck_assert_int_eq(l->level, SMELT_LOG_ERROR);
}
END_TEST

START_TEST(config_and_databases_settings)
{
	mock_plugin_setting(ss, "config", "{\"ROW_LIMIT\": 5000, \"FEATURE_FLAGS\": {\"ALERT_REPORTS\": true}}", 0);
	mock_plugin_setting(ss, "sqlalchemy_database_uri", "\"postgresql://meta@localhost/superset\"", 0);
	mock_plugin_setting(ss, "databases", "[{\"name\": \"bi\", \"sqlalchemy_uri\": \"postgresql://bi@h/bi\","
	                                     " \"schemas\": [\"marts\"]}]", 0);
	mock_expect(m);
	ck_assert_int_eq(block("sync"), SMELT_OK);
	const struct mock_file *cfg = mock_file_find(m, "superset_config.");
	ck_assert_ptr_nonnull(strstr(cfg->data, "SQLALCHEMY_DATABASE_URI = 'postgresql://meta@localhost/superset'\n"));
	ck_assert_ptr_null(strstr(cfg->data, "PREVENT_UNSAFE_DB_CONNECTIONS"));
	ck_assert_ptr_nonnull(strstr(cfg->data, "globals().update(_smelt_json.loads('{\"ROW_LIMIT\":5000,"
	                                        "\"FEATURE_FLAGS\":{\"ALERT_REPORTS\":true}}'))\n"));
	cJSON *job = job_of(1);
	char *dbs = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(job, "databases"));
	ck_assert_str_eq(dbs, "[{\"name\":\"bi\",\"uri\":\"postgresql://bi@h/bi\",\"extra\":{},"
	                      "\"source\":\"setting 'databases'\",\"schemas\":[\"marts\"]}]");
	free(dbs);
	cJSON_Delete(job);

	mock_plugin_setting(ss, "config", "[1]", 0);
	ck_assert_int_eq(block("sync"), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "setting 'config' of 'superset' must be an object of Superset settings");
	mock_plugin_setting(ss, "config", "null", 0);
	mock_plugin_setting(ss, "databases", "[{\"name\": \"bi\"}]", 0);
	ck_assert_int_eq(block("sync"), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "setting 'databases' of 'superset': every entry needs 'name' and 'sqlalchemy_uri'");
}
END_TEST

START_TEST(ui_runs_gunicorn_on_loopback)
{
	mock_write_file(m, ".smelt/utilities/superset/venv/lib/python3.11/site-packages/gunicorn-27.0.1.dist-info/METADATA",
	                "");
	mock_expect(m); /* initialize on first use */
	static const char *const args[] = { "--reload", NULL };
	int code = -1;
	ck_assert_int_eq(invoke("ui", args, &code), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 2);
	const struct mock_call *c = mock_call(m, 1);
	char want[2048];
	snprintf(want, sizeof want,
	         "%s --workers 2 --bind 127.0.0.1:8088 --timeout 120 --limit-request-line 0 --limit-request-field_size 0 "
	         "--no-control-socket --reload superset.app:create_app()",
	         venv_bin("gunicorn"));
	ck_assert_str_eq(c->joined, want);
	ck_assert_uint_eq(c->flags, SMELT_SPAWN_INHERIT_STDIO);
	ck_assert_ptr_nonnull(mock_log_find(m, "Superset on http://127.0.0.1:8088/"));
	mock_plugin_setting(ss, "ui.host", "\"::1\"", 0);
	mock_plugin_setting(ss, "ui.port", "\"9000\"", 0);
	mock_plugin_setting(ss, "ui.workers", "4", 0);
	ck_assert_int_eq(invoke("ui", NULL, &code), SMELT_OK);
	ck_assert_str_eq(mock_call_arg_after(mock_call(m, 2), "--bind"), "[::1]:9000");
	ck_assert_str_eq(mock_call_arg_after(mock_call(m, 2), "--workers"), "4");
	ck_assert_int_eq(block("ui"), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "'superset:ui' starts a web server and never ends: use 'smelt invoke superset:ui' instead");
	unlink(venv_bin("gunicorn"));
	ck_assert_int_eq(invoke("ui", NULL, &code), SMELT_ERR_NOTFOUND);
	snprintf(want, sizeof want, "'superset' is not installed (no %s): run 'smelt install superset'", venv_bin("gunicorn"));
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(cli_passthrough_and_refusals)
{
	static const char *const args[] = { "fab", "list-users", NULL };
	int code = -1;
	mock_proc_exit(mock_expect(m), 5);
	ck_assert_int_eq(invoke(NULL, args, &code), SMELT_OK);
	ck_assert_int_eq(code, 5);
	char want[1024];
	snprintf(want, sizeof want, "%s fab list-users", venv_bin("superset"));
	ck_assert_str_eq(mock_call(m, 0)->joined, want);
	ck_assert_uint_eq(mock_call(m, 0)->flags, SMELT_SPAWN_INHERIT_STDIO);
	ck_assert_str_eq(mock_call_env(mock_call(m, 0), "SUPERSET_SECRET_KEY"), "ss-key-s3cret");
	/* a command of the definition, as a run block */
	mock_plugin_command(ss, "export", "export-dashboards -f 'out dir/d.zip'", NULL);
	mock_proc_exit(mock_expect(m), 2);
	ck_assert_int_eq(block("export"), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "'superset:export' exited with code 2");
	ck_assert_str_eq(mock_call(m, 1)->argv[3], "out dir/d.zip");
	ck_assert_uint_eq(mock_call(m, 1)->flags, SMELT_SPAWN_STDIN_NULL);
	ck_assert_int_eq(block("nope"), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "plugin 'superset' has no command 'nope' (it has initialize, sync and ui, and 'smelt invoke "
	                      "superset ARGS' runs the superset CLI)");
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_EL, NULL);
	mock_request_plugin(&r, ss, NULL);
	ck_assert_int_eq(ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "'superset' is a utility: use it in smelt run as a command block ('superset:sync')");
	mock_plugin_path(ss, SMELT_PPATH_VENV, NULL);
	ck_assert_int_eq(block("sync"), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "plugin 'superset' has no pip_url: it cannot have a virtualenv");
	ck_assert_uint_eq(mock_ncalls(m), 2);
	mock_assert_no_leak(m, "ss-key-s3cret");
}
END_TEST

/* The metadata database is initialized once per install and per URI. */
START_TEST(a_new_install_or_metadata_database_initializes_again)
{
	mock_write_file(m, "output/warehouse.db", "");
	struct smelt_plugin *p = mock_plugin_add(m, "loaders", "target-sqlite");
	mock_plugin_setting(p, "database", "\"output/warehouse.db\"", 0);
	ck_assert_int_eq(block("sync"), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 2); /* initialize, sync */
	ck_assert_int_eq(block("sync"), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 3); /* sync */
	ck_assert_int_eq(ad->post_install(mock_adapter_state(m), ss, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(block("sync"), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 5);
	ck_assert_str_eq(mock_call(m, 3)->argv[2], "initialize");
	mock_plugin_setting(ss, "sqlalchemy_database_uri", "\"postgresql://meta@localhost/superset\"", 0);
	ck_assert_int_eq(block("sync"), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 7);
	ck_assert_str_eq(mock_call(m, 5)->argv[2], "initialize");
	/* a failed initialize is not remembered */
	mock_plugin_setting(ss, "sqlalchemy_database_uri", "\"postgresql://meta@localhost/other\"", 0);
	mock_proc_exit(mock_expect(m), 1);
	mock_expect(m);
	ck_assert_int_eq(block("sync"), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "superset initialize exited with code 1 (run with --log-level debug for Superset's output)");
	ck_assert_int_eq(block("sync"), SMELT_OK);
	ck_assert_str_eq(mock_call(m, 8)->argv[2], "initialize");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adapter_superset");
	TCase *tc = tcase_create("superset");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sync_initializes_once_then_registers_the_warehouses);
	tcase_add_test(tc, a_missing_secret_key_is_generated_once_into_dotenv);
	tcase_add_test(tc, initialize_creates_the_admin_of_the_settings);
	tcase_add_test(tc, helper_failures);
	tcase_add_test(tc, config_and_databases_settings);
	tcase_add_test(tc, ui_runs_gunicorn_on_loopback);
	tcase_add_test(tc, cli_passthrough_and_refusals);
	tcase_add_test(tc, a_new_install_or_metadata_database_initializes_again);
	suite_add_tcase(s, tc);
	return mock_run_suite(s);
}
