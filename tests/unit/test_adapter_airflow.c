/*
 * Check suite for the airflow adapter (plugins/airflow) under the mock
 * host: the environment it gives Airflow (AIRFLOW_HOME, the DAGs folder,
 * the metadata database, the API server, settings as AIRFLOW__S__K, no
 * phone-home), the admin password through a private file only, the DAG
 * generator it puts in place, and the argv of invoke, initialize, ui,
 * run blocks and export_schedules.  No Airflow runs.
 */
#include "mock_host.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct mock_host *m;
static const struct smelt_adapter *ad;
static char err[SMELT_ERRBUF_SIZE];
static struct smelt_plugin *af;
static const char *venv;

static void setup(void)
{
	m = mock_host_new();
	ad = mock_adapter_load(m, "airflow");
	err[0] = '\0';
	af = mock_plugin_add(m, "orchestrators", "airflow");
	mock_plugin_attr(af, "pip_url", "apache-airflow==3.0.2");
	static const char *const progs[] = { "airflow", "python", NULL };
	venv = mock_plugin_venv(af, progs);
}

static void teardown(void)
{
	mock_host_free(m);
}

static int invoke(const char *command, const char *const *args, int *code)
{
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_INVOKE, command);
	mock_request_plugin(&r, af, NULL);
	for (size_t i = 0; args && args[i]; i++)
		mock_request_arg(&r, args[i]);
	return ad->invoke(mock_adapter_state(m), &r.req, code, err, sizeof err);
}

static const char *bin(const char *prog)
{
	return mock_path(m, ".smelt/orchestrators/airflow/venv/bin/%s", prog);
}

START_TEST(invoke_runs_airflow_with_its_environment)
{
	static const char *const args[] = { "dags", "list", NULL };
	int code = -1;
	mock_env_base(m, "PYTHONDONTWRITEBYTECODE", "1");
	ck_assert_int_eq(invoke(NULL, args, &code), SMELT_OK);
	ck_assert_int_eq(code, 0);
	ck_assert_uint_eq(mock_ncalls(m), 1);
	const struct mock_call *c = mock_call(m, 0);
	char want[1024];
	snprintf(want, sizeof want, "%s dags list", bin("airflow"));
	ck_assert_str_eq(c->joined, want);
	ck_assert_str_eq(c->cwd, mock_root(m));
	ck_assert_uint_eq(c->flags, SMELT_SPAWN_INHERIT_STDIO);
	const char *home = mock_path(m, ".smelt/orchestrators/airflow/home");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW_HOME"), home);
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__DAGS_FOLDER"), mock_path(m, "orchestrate/airflow/dags"));
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__PLUGINS_FOLDER"), mock_path(m, "orchestrate/airflow/plugins"));
	snprintf(want, sizeof want, "sqlite:///%s/airflow.db", home);
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"), want);
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__LOAD_EXAMPLES"), "False");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"), "False");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__EXECUTOR"), "LocalExecutor");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__API__HOST"), "127.0.0.1");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__API__PORT"), "8080");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__API__WORKERS"), "1");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"), "http://127.0.0.1:8080/execution/");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED"), "False");
	ck_assert_str_eq(mock_call_env(c, "SCARF_ANALYTICS"), "false");
	ck_assert_str_eq(mock_call_env(c, "DO_NOT_TRACK"), "1");
	ck_assert_ptr_null(mock_call_env(c, "PYTHONDONTWRITEBYTECODE"));
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"), "admin:admin");
	ck_assert_ptr_null(mock_call_env(c, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"));
	ck_assert_str_eq(mock_call_env(c, "SMELT_BIN"), mock_path(m, "bin/smelt"));
	ck_assert_str_eq(mock_call_env(c, "SMELT_PROJECT_ROOT"), mock_root(m));

	/* AIRFLOW_HOME is private; the DAG generator is a fresh copy of the adapter's */
	struct stat st;
	ck_assert_int_eq(stat(home, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	char path[1024];
	snprintf(path, sizeof path, "%s/airflow/smelt_dags.py", MOCK_ADAPTER_DIR);
	char *want_gen = mock_read_file(path), *have = mock_read_file(mock_path(m, "orchestrate/airflow/dags/smelt_dags.py"));
	ck_assert_ptr_nonnull(want_gen);
	ck_assert_ptr_nonnull(have);
	ck_assert_str_eq(have, want_gen);
	free(want_gen);
	free(have);
}
END_TEST

START_TEST(settings_become_airflow_config_and_user_variables_win)
{
	mock_plugin_setting(af, "core.parallelism", "8", 0);
	mock_plugin_setting(af, "webserver.expose_config", "true", 0);
	mock_plugin_setting(af, "api.host", "\"0.0.0.0\"", 0);
	mock_plugin_setting(af, "api.port", "9090", 0);
	mock_plugin_setting(af, "admin.email", "\"ops@example.com\"", 0); /* the admin section is not Airflow config */
	char dags[1024];
	snprintf(dags, sizeof dags, "\"%s\"", mock_path(m, "custom/dags"));
	mock_plugin_setting(af, "core.dags_folder", dags, 0);
	mock_env_base(m, "AIRFLOW__CORE__EXECUTOR", "CeleryExecutor");
	mock_env_base(m, "AIRFLOW__CORE__PARALLELISM", "2");
	int code = -1;
	ck_assert_int_eq(invoke(NULL, NULL, &code), SMELT_OK);
	const struct mock_call *c = mock_call(m, 0);
	ck_assert_str_eq(c->joined, bin("airflow"));
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__PARALLELISM"), "2");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__WEBSERVER__EXPOSE_CONFIG"), "True");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__API__HOST"), "0.0.0.0");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__API__PORT"), "9090");
	/* task runners reach a server bound to every address on loopback */
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"), "http://127.0.0.1:9090/execution/");
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__EXECUTOR"), "CeleryExecutor");
	ck_assert_ptr_null(mock_call_env(c, "AIRFLOW__ADMIN__EMAIL"));
	/* the generator goes where the DAGs folder is */
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__DAGS_FOLDER"), mock_path(m, "custom/dags"));
	char *gen = mock_read_file(mock_path(m, "custom/dags/smelt_dags.py"));
	ck_assert_ptr_nonnull(gen);
	free(gen);
}
END_TEST

START_TEST(the_admin_password_goes_to_a_private_file_only)
{
	mock_plugin_setting(af, "admin_username", "\"alice\"", 0);
	mock_plugin_setting(af, "admin_password", "\"af-s3cret\"", 1);
	int code = -1;
	ck_assert_int_eq(invoke("initialize", NULL, &code), SMELT_OK);
	const struct mock_call *c = mock_call(m, 0);
	ck_assert_str_eq(mock_call_env(c, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"), "alice:admin");
	const char *file = mock_call_env(c, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE");
	ck_assert_str_eq(file, mock_path(m, ".smelt/run/airflow/simple_auth_manager_passwords.json"));
	const struct mock_file *f = mock_file_find(m, "simple_auth_manager_passwords.json");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->data, "{\"alice\":\"af-s3cret\"}");
	struct stat st;
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	for (size_t i = 0; c->env[i]; i++)
		ck_assert_msg(!strstr(c->env[i], "af-s3cret"), "secret in env: %s", c->env[i]);
	mock_assert_no_leak(m, "af-s3cret");
}
END_TEST

START_TEST(initialize_migrates_the_database)
{
	int code = -1;
	ck_assert_int_eq(invoke("initialize", NULL, &code), SMELT_OK);
	ck_assert_int_eq(code, 0);
	const struct mock_call *c = mock_call(m, 0);
	char want[1024];
	snprintf(want, sizeof want, "%s db migrate", bin("airflow"));
	ck_assert_str_eq(c->joined, want);
	ck_assert_uint_eq(c->flags, SMELT_SPAWN_STDIN_NULL | SMELT_SPAWN_STDOUT_LOG);
	ck_assert_ptr_nonnull(mock_log_find(m, "Airflow is ready: DAGs in"));
	/* as a run block, a failing migration fails the block */
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_COMMAND, "initialize");
	mock_request_plugin(&r, af, NULL);
	mock_proc_exit(mock_expect(m), 3);
	ck_assert_int_eq(ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "airflow:initialize exited with code 3");
}
END_TEST

START_TEST(ui_migrates_then_starts_the_launcher)
{
	static const char *const args[] = { "--port", "8181", NULL };
	int code = -1;
	ck_assert_int_eq(invoke("ui", args, &code), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 2);
	ck_assert_str_eq(mock_call(m, 0)->argv[1], "db");
	const struct mock_call *c = mock_call(m, 1);
	char want[2048];
	snprintf(want, sizeof want, "%s %s/airflow/smelt_airflow_launcher.py api-server scheduler dag-processor -- --port 8181",
	         bin("python"), MOCK_ADAPTER_DIR);
	ck_assert_str_eq(c->joined, want);
	ck_assert_ptr_nonnull(mock_log_find(m, "Airflow UI on http://127.0.0.1:8080/"));
	/* scheduler: no api-server; a failed migration starts nothing */
	mock_proc_exit(mock_expect(m), 0);
	mock_proc_exit(mock_expect(m), 0);
	ck_assert_int_eq(invoke("scheduler", NULL, &code), SMELT_OK);
	snprintf(want, sizeof want, "%s %s/airflow/smelt_airflow_launcher.py scheduler dag-processor", bin("python"),
	         MOCK_ADAPTER_DIR);
	ck_assert_str_eq(mock_call(m, 3)->joined, want);
	mock_proc_exit(mock_expect(m), 1);
	ck_assert_int_eq(invoke("ui", NULL, &code), SMELT_OK);
	ck_assert_int_eq(code, 1);
	ck_assert_uint_eq(mock_ncalls(m), 5);
}
END_TEST

START_TEST(commands_of_the_definition_and_unknown_ones)
{
	mock_plugin_command(af, "list-dags", "dags list --output 'plain text'", NULL);
	static const char *const args[] = { "-v", NULL };
	int code = -1;
	mock_proc_exit(mock_expect(m), 4);
	ck_assert_int_eq(invoke("list-dags", args, &code), SMELT_OK);
	ck_assert_int_eq(code, 4);
	const struct mock_call *c = mock_call(m, 0);
	ck_assert_uint_eq(c->argc, 6);
	ck_assert_str_eq(c->argv[4], "plain text");
	ck_assert_str_eq(c->argv[5], "-v");
	ck_assert_int_eq(invoke("nope", NULL, &code), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "airflow has no command 'nope' (initialize, ui, scheduler, or a command of the plugin's "
	                      "definition)");
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_DUMP, NULL);
	mock_request_plugin(&r, af, NULL);
	r.req.dump = "config";
	ck_assert_int_eq(ad->invoke(mock_adapter_state(m), &r.req, &code, err, sizeof err), SMELT_ERR_UNSUPPORTED);
	ck_assert_str_eq(err, "airflow has no --dump");
	ck_assert_uint_eq(mock_ncalls(m), 1);
}
END_TEST

START_TEST(not_installed_not_started_interrupted)
{
	mock_plugin_path(af, SMELT_PPATH_VENV, mock_path(m, "novenv"));
	int code = -1;
	ck_assert_int_eq(invoke(NULL, NULL, &code), SMELT_ERR_NOTFOUND);
	char want[1024];
	snprintf(want, sizeof want, "'airflow' is not installed (no '%s/novenv/bin/airflow'): run 'smelt install airflow'",
	         mock_root(m));
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(mock_ncalls(m), 0);
	mock_plugin_path(af, SMELT_PPATH_VENV, venv);
	mock_proc_not_started(mock_expect(m));
	ck_assert_int_eq(invoke(NULL, NULL, &code), SMELT_ERR);
	snprintf(want, sizeof want, "cannot run '%s'", bin("airflow"));
	ck_assert_str_eq(err, want);
	/* Ctrl-C: the tool's own end is the answer */
	struct mock_proc *pr = mock_expect(m);
	mock_proc_signal(pr, 2);
	mock_proc_status(pr, SMELT_ERR_INTERRUPTED, "interrupted");
	ck_assert_int_eq(invoke(NULL, NULL, &code), SMELT_OK);
	ck_assert_int_eq(code, 130);
}
END_TEST

/* smelt schedule export: the DAG generator in place, without running (or even having) Airflow. */
START_TEST(export_schedules_writes_the_generator)
{
	ck_assert_ptr_nonnull(ad->export_schedules);
	unlink(bin("airflow")); /* not installed: only files are written */
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_EXPORT, NULL);
	mock_request_plugin(&r, af, NULL);
	r.req.schedules_json = "{\"jobs\": [], \"schedules\": {\"elt\": [{\"name\": \"daily-shop\"}],"
	                       " \"job\": [{\"name\": \"hourly-marts\"}]}}";
	ck_assert_int_eq(ad->export_schedules(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 0);
	char *gen = mock_read_file(mock_path(m, "orchestrate/airflow/dags/smelt_dags.py"));
	ck_assert_ptr_nonnull(gen);
	free(gen);
	char want[1024];
	snprintf(want, sizeof want, "DAG generator in '%s/orchestrate/airflow/dags/smelt_dags.py': one DAG per schedule "
	         "(2: daily-shop, hourly-marts)", mock_root(m));
	ck_assert_ptr_nonnull(mock_log_find(m, want));
	/* no schedule yet: a hint */
	r.req.schedules_json = "{\"jobs\": [], \"schedules\": {}}";
	ck_assert_int_eq(ad->export_schedules(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_OK);
	ck_assert_ptr_nonnull(mock_log_find(m, "one DAG per schedule (0; add one with 'smelt schedule add')"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adapter_airflow");
	TCase *tc = tcase_create("airflow");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, invoke_runs_airflow_with_its_environment);
	tcase_add_test(tc, settings_become_airflow_config_and_user_variables_win);
	tcase_add_test(tc, the_admin_password_goes_to_a_private_file_only);
	tcase_add_test(tc, initialize_migrates_the_database);
	tcase_add_test(tc, ui_migrates_then_starts_the_launcher);
	tcase_add_test(tc, commands_of_the_definition_and_unknown_ones);
	tcase_add_test(tc, not_installed_not_started_interrupted);
	tcase_add_test(tc, export_schedules_writes_the_generator);
	suite_add_tcase(s, tc);
	return mock_run_suite(s);
}
