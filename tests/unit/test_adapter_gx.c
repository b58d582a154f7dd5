/*
 * Check suite for the gx adapter (plugins/gx) under the mock host: the
 * runner's argv and env, the private request it writes (suites and the
 * sources' connections, secrets there and nowhere else), the events,
 * summary lines and errors it draws from the runner's result JSON,
 * gx:init, post_install.  The runner never runs: each scripted process
 * answers as gx_runner.py would (a plan on stdout, a result file).
 */
#include "mock_host.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct mock_host *m;
static const struct smelt_adapter *ad;
static char err[SMELT_ERRBUF_SIZE];
static struct smelt_plugin *gx, *sqlite;
static cJSON *last_request; /* the request the validate/init runner read */

static void setup(void)
{
	m = mock_host_new();
	ad = mock_adapter_load(m, "gx");
	err[0] = '\0';
	gx = mock_plugin_add(m, "utilities", "gx");
	mock_plugin_attr(gx, "pip_url", "great-expectations==1.5");
	static const char *const progs[] = { "python", NULL };
	mock_plugin_venv(gx, progs);
	sqlite = mock_plugin_add(m, "loaders", "target-sqlite");
	mock_plugin_setting(sqlite, "database", "\"output/warehouse.db\"", 0);
	mock_write_file(m, "quality/orders.yml", "source: target-sqlite\ntable: orders\n");
	last_request = NULL;
}

static void teardown(void)
{
	cJSON_Delete(last_request);
	mock_host_free(m);
}

/* A runner answering `validate REQUEST` / `init REQUEST`: keeps the request, writes arg (a result) to its output. */
static int answer(struct mock_host *mh, const struct mock_call *c, void *arg)
{
	(void)mh;
	if (c->argc != 4)
		return -1;
	char *text = mock_read_file(c->argv[3]);
	cJSON_Delete(last_request);
	last_request = text ? cJSON_Parse(text) : NULL;
	free(text);
	const char *out = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last_request, "output"));
	if (!out)
		return -1;
	FILE *f = fopen(out, "w");
	if (!f)
		return -1;
	fputs(arg, f);
	return fclose(f);
}

/* The plan step: the runner reads the suite files and names their sources. */
static void expect_plan(const char *source)
{
	struct mock_proc *pr = mock_expect(m);
	char line[1024];
	snprintf(line, sizeof line, "{\"suites\": [{\"file\": \"%s\", \"name\": \"orders\"%s%s%s}]}",
	         mock_path(m, "quality/orders.yml"), source ? ", \"source\": \"" : "", source ? source : "",
	         source ? "\"" : "");
	mock_proc_stdout(pr, line);
}

static struct mock_proc *expect_result(const char *result, int code)
{
	struct mock_proc *pr = mock_expect(m);
	mock_proc_callback(pr, answer, (void *)result);
	mock_proc_exit(pr, code);
	return pr;
}

static const char result_one_failure[] =
	"{\"suites\": [{\"name\": \"orders\", \"file\": \"quality/orders.yml\", \"source\": \"target-sqlite\","
	" \"table\": \"orders\", \"expectations\": ["
	"  {\"label\": \"id is never null\", \"success\": true, \"unexpected_count\": 0},"
	"  {\"label\": \"total between 0 and 1000\", \"success\": false, \"unexpected_count\": 3,"
	"   \"observed\": \"3 unexpected values\"}"
	"]}]}";

static int block(const char *command, const char *const *args)
{
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_COMMAND, command);
	mock_request_plugin(&r, gx, NULL);
	for (size_t i = 0; args && args[i]; i++)
		mock_request_arg(&r, args[i]);
	return ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err);
}

static int invoke(const char *command, const char *const *args, unsigned flags, int *code)
{
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_INVOKE, command);
	mock_request_plugin(&r, gx, NULL);
	r.req.flags = flags;
	for (size_t i = 0; args && args[i]; i++)
		mock_request_arg(&r, args[i]);
	return ad->invoke(mock_adapter_state(m), &r.req, code, err, sizeof err);
}

START_TEST(validate_plans_then_validates_with_a_private_request)
{
	expect_plan("target-sqlite");
	expect_result(result_one_failure, 1);
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "gx:validate: 1 of 2 expectations failed, first: orders: total between 0 and 1000 "
	                      "(3 unexpected values)");
	ck_assert_uint_eq(mock_ncalls(m), 2);
	const struct mock_call *plan = mock_call(m, 0), *val = mock_call(m, 1);
	char want[2048];
	snprintf(want, sizeof want, "%s %s/gx/gx_runner.py plan %s", mock_path(m, ".smelt/utilities/gx/venv/bin/python"),
	         MOCK_ADAPTER_DIR, mock_path(m, "quality/orders.yml"));
	ck_assert_str_eq(plan->joined, want);
	ck_assert_uint_eq(plan->flags, SMELT_SPAWN_QUIET | SMELT_SPAWN_STDIN_NULL);
	ck_assert(plan->has_on_line);
	ck_assert_str_eq(plan->cwd, mock_root(m));
	ck_assert_str_eq(val->argv[2], "validate");
	ck_assert_uint_eq(val->flags, SMELT_SPAWN_STDIN_NULL);
	ck_assert_str_eq(mock_call_env(val, "GX_ANALYTICS_ENABLED"), "False");
	ck_assert_str_eq(mock_call_env(val, "DO_NOT_TRACK"), "1");
	ck_assert_str_eq(mock_call_env(val, "TQDM_DISABLE"), "1");
	ck_assert_str_eq(mock_call_env(val, "PYTHONUNBUFFERED"), "1");

	/* the request: a private file with the suite and the source's connection */
	const char *run_dir = mock_path(m, ".smelt/run/gx/");
	ck_assert(!strncmp(val->argv[3], run_dir, strlen(run_dir)));
	struct stat st;
	ck_assert_int_eq(stat(val->argv[3], &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_ptr_nonnull(last_request);
	const cJSON *suite = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(last_request, "suites"), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(suite, "display_file")), "quality/orders.yml");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(suite, "source")), "target-sqlite");
	char *conn = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(last_request, "sources"), "target-sqlite"));
	snprintf(want, sizeof want, "{\"plugin\":\"target-sqlite\",\"kind\":\"sqlite\",\"path\":\"%s/output/warehouse.db\"}",
	         mock_root(m));
	ck_assert_str_eq(conn, want);
	free(conn);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last_request, "result_format")), "SUMMARY");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(last_request, "data_docs_dir"));
}
END_TEST

START_TEST(results_become_events_and_log_lines_in_a_run)
{
	expect_plan("target-sqlite");
	expect_result(result_one_failure, 1);
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR_FAILED);
	ck_assert_uint_eq(mock_event_count(m, SMELT_EV_RESULT, NULL), 2);
	const struct mock_event *e = mock_event_find(m, SMELT_EV_RESULT, "orders: total between 0 and 1000");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->status, "fail");
	ck_assert_int_eq(e->count, 3);
	ck_assert_str_eq(e->message, "3 unexpected values");
	ck_assert_ptr_nonnull(strstr(e->detail_json, "\"unexpected_count\":3"));
	e = mock_event_find(m, SMELT_EV_RESULT, "orders: id is never null");
	ck_assert_str_eq(e->status, "pass");
	ck_assert_int_eq(e->count, 0);
	ck_assert_ptr_null(e->message);
	e = mock_event_find(m, SMELT_EV_SUMMARY, "orders");
	ck_assert_str_eq(e->status, "failed");
	ck_assert_str_eq(e->message, "1 of 2 expectations passed");
	/* in smelt run the text report goes to the log */
	ck_assert_ptr_nonnull(mock_log_find(m, "Suite orders (quality/orders.yml, target-sqlite table orders): 1 of 2 "
	                                       "expectations passed"));
	ck_assert_ptr_nonnull(mock_log_find(m, "  FAIL  total between 0 and 1000: 3 unexpected values"));
	ck_assert_ptr_nonnull(mock_log_find(m, "Validation failed: 1 of 2 expectations failed (1 suite)"));
}
END_TEST

START_TEST(invoke_prints_the_report_and_returns_the_verdict)
{
	expect_plan("target-sqlite");
	expect_result(result_one_failure, 1);
	int code = -1;
	mock_stdout_begin(m);
	int rc = invoke("validate", NULL, 0, &code);
	const char *out = mock_stdout_end(m);
	ck_assert_int_eq(rc, SMELT_OK);
	ck_assert_int_eq(code, 1);
	ck_assert_str_eq(out, "Suite orders (quality/orders.yml, target-sqlite table orders): 1 of 2 expectations passed\n"
	                      "  pass  id is never null\n"
	                      "  FAIL  total between 0 and 1000: 3 unexpected values\n"
	                      "Validation failed: 1 of 2 expectations failed (1 suite)\n");
	/* all passed: exit 0; --format json prints the result */
	expect_plan("target-sqlite");
	expect_result("{\"suites\": [{\"name\": \"orders\", \"expectations\": [{\"label\": \"a\", \"success\": true}]}]}", 0);
	static const char *const json[] = { "orders", "--format", "json", NULL };
	mock_stdout_begin(m);
	rc = invoke("validate", json, 0, &code);
	out = mock_stdout_end(m);
	ck_assert_int_eq(rc, SMELT_OK);
	ck_assert_int_eq(code, 0);
	cJSON *v = cJSON_Parse(out);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(v, "suites")), 1);
	cJSON_Delete(v);
}
END_TEST

START_TEST(runner_failures)
{
	/* the runner crashed before writing a result */
	expect_plan("target-sqlite");
	mock_proc_exit(mock_expect(m), 2);
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "the gx runner exited with code 2 without a result (see its log lines above)");
	/* a result that is not JSON */
	expect_plan("target-sqlite");
	expect_result("{\"suites\": [", 1);
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "the gx runner exited with code 1 without a result (see its log lines above)");
	/* the runner's own error */
	expect_plan("target-sqlite");
	expect_result("{\"error\": \"great_expectations is not importable\"}", 2);
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "gx:validate: great_expectations is not importable");
	/* a suite that could not run */
	expect_plan("target-sqlite");
	expect_result("{\"suites\": [{\"name\": \"orders\", \"error\": \"no table orders\"}]}", 2);
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "gx:validate: suite 'orders': no table orders");
	ck_assert_str_eq(mock_event_find(m, SMELT_EV_RESULT, "orders")->status, "error");
	/* a plan that is not JSON */
	struct mock_proc *pr = mock_expect(m);
	mock_proc_stdout(pr, "Traceback (most recent call last):");
	mock_proc_exit(pr, 1);
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR);
	ck_assert_str_eq(err, "the gx runner could not read the suites (exit code 1)");
	ck_assert_uint_eq(mock_ncalls(m), 9);
}
END_TEST

START_TEST(suites_and_options_that_cannot_be_used)
{
	static const char *const missing[] = { "nope", NULL };
	ck_assert_int_eq(block("validate", missing), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "no suite 'nope' in quality/ (looked for nope.yml, nope.yaml and nope.json)");
	static const char *const fmt[] = { "--format", "xml", NULL };
	ck_assert_int_eq(block("validate", fmt), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "gx:validate: --format takes 'json' or 'text', not 'xml'");
	static const char *const opt[] = { "--bogus", NULL };
	ck_assert_int_eq(block("validate", opt), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "gx:validate: unknown option '--bogus' (usage: gx:validate [SUITE...] [--format json] "
	                      "[--data-docs])");
	ck_assert_int_eq(block("check", NULL), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "plugin 'gx' has no command 'check' (commands: validate, init)");
	mock_plugin_setting(gx, "suites_dir", "\"checks\"", 0);
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "no suites folder 'checks/': write quality suites there (see the gx adapter's README) or run "
	                      "'smelt invoke gx:init TABLE'");
	/* invoke: "could not validate" is exit code 2, the message logged */
	int code = -1;
	ck_assert_int_eq(invoke("validate", NULL, 0, &code), SMELT_OK);
	ck_assert_int_eq(code, 2);
	ck_assert_ptr_nonnull(mock_log_find(m, "no suites folder 'checks/'"));
	ck_assert_uint_eq(mock_ncalls(m), 0);
}
END_TEST

START_TEST(a_postgres_password_stays_in_the_request_file)
{
	struct smelt_plugin *pg = mock_plugin_add(m, "loaders", "target-postgres");
	mock_plugin_setting(pg, "host", "\"db.internal\"", 0);
	mock_plugin_setting(pg, "port", "5433", 0);
	mock_plugin_setting(pg, "user", "\"loader\"", 0);
	mock_plugin_setting(pg, "password", "\"gx-s3cret\"", 1);
	mock_plugin_setting(pg, "database", "\"wh\"", 0);
	mock_plugin_setting(pg, "default_target_schema", "\"raw\"", 0);
	expect_plan("target-postgres");
	expect_result("{\"suites\": [{\"name\": \"orders\", \"expectations\": [{\"label\": \"a\", \"success\": true}]}]}", 0);
	ck_assert_int_eq(block("validate", NULL), SMELT_OK);
	char *conn = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(last_request, "sources"), "target-postgres"));
	ck_assert_str_eq(conn, "{\"plugin\":\"target-postgres\",\"kind\":\"postgres\",\"host\":\"db.internal\","
	                       "\"port\":\"5433\",\"user\":\"loader\",\"password\":\"gx-s3cret\",\"database\":\"wh\","
	                       "\"schema\":\"raw\"}");
	free(conn);
	mock_assert_no_leak(m, "gx-s3cret");
	for (size_t i = 0; mock_call(m, 1)->env[i]; i++)
		ck_assert_ptr_null(strstr(mock_call(m, 1)->env[i], "gx-s3cret"));
}
END_TEST

START_TEST(sources_the_adapter_cannot_read)
{
	struct smelt_plugin *csv = mock_plugin_add(m, "loaders", "target-csv");
	mock_plugin_setting(csv, "destination_path", "\"out\"", 0);
	expect_plan("target-csv");
	expect_result("{\"suites\": []}", 0);
	ck_assert_int_eq(block("validate", NULL), SMELT_OK);
	const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(last_request, "sources"), "target-csv"),
		"error"));
	ck_assert_str_eq(e, "cannot tell which database source 'target-csv' writes to: gx reads SQLite, DuckDB and "
	                    "PostgreSQL sources (target-sqlite, dbt-sqlite, target-duckdb, target-postgres, ...)");
	/* no source named: the --source option, else the setting */
	expect_plan(NULL);
	expect_result("{\"suites\": []}", 0);
	static const char *const src[] = { "--source", "nothere", NULL };
	ck_assert_int_eq(block("validate", src), SMELT_OK);
	e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(last_request, "sources"), "nothere"), "error"));
	ck_assert_str_eq(e, "source 'nothere' is not a plugin of the project (name a loader or transformer, e.g. "
	                    "target-sqlite)");
}
END_TEST

START_TEST(data_docs_on_request)
{
	expect_plan("target-sqlite");
	char result[1024];
	snprintf(result, sizeof result,
	         "{\"suites\": [{\"name\": \"orders\", \"expectations\": [{\"label\": \"a\", \"success\": true}]}],"
	         " \"data_docs\": \"%s\"}",
	         mock_path(m, "output/quality/index.html"));
	expect_result(result, 0);
	static const char *const docs[] = { "--data-docs", NULL };
	int code = -1;
	mock_stdout_begin(m);
	int rc = invoke("validate", docs, 0, &code);
	const char *out = mock_stdout_end(m);
	ck_assert_int_eq(rc, SMELT_OK);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last_request, "data_docs_dir")),
	                 mock_path(m, "output/quality"));
	ck_assert_ptr_nonnull(strstr(out, "Validation passed: all 1 expectations met (1 suite)\n"
	                                  "Data Docs: output/quality/index.html\n"));
}
END_TEST

START_TEST(init_writes_an_example_suite)
{
	char result[1024];
	snprintf(result, sizeof result,
	         "{\"file\": \"%s\", \"table\": \"customers\", \"source\": \"target-sqlite\", \"expectations\": 4}",
	         mock_path(m, "quality/customers.yml"));
	expect_result(result, 0);
	static const char *const args[] = { "customers", "--force", NULL };
	int code = -1;
	mock_stdout_begin(m);
	int rc = invoke("init", args, 0, &code);
	const char *out = mock_stdout_end(m);
	ck_assert_int_eq(rc, SMELT_OK);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(mock_call(m, 0)->argv[2], "init");
	ck_assert_str_eq(out, "Wrote quality/customers.yml: 4 expectations for table customers of target-sqlite\n"
	                      "Review it, then check the data with: smelt invoke gx:validate customers\n");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last_request, "table")), "customers");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last_request, "suites_dir")),
	                 mock_path(m, "quality"));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(last_request, "force")));
	/* the first loader with a database, when no source is named */
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
				 cJSON_GetObjectItemCaseSensitive(last_request, "source"), "plugin")),
	                 "target-sqlite");
	const struct mock_event *e = mock_event_find(m, SMELT_EV_SUMMARY, "quality/customers.yml");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->status, "written");
	ck_assert_int_eq(e->count, 4);
	/* the runner refuses: exit 2 and its message */
	expect_result("{\"error\": \"quality/customers.yml exists: pass --force\"}", 2);
	ck_assert_int_eq(invoke("init", args, 0, &code), SMELT_OK);
	ck_assert_int_eq(code, 2);
	ck_assert_ptr_nonnull(mock_log_find(m, "gx:init: quality/customers.yml exists: pass --force"));
	static const char *const two[] = { "a", "b", NULL };
	ck_assert_int_eq(block("init", two), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "gx:init takes one table, not 2");
}
END_TEST

START_TEST(not_installed_and_post_install)
{
	mock_plugin_path(gx, SMELT_PPATH_VENV, NULL);
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "plugin 'gx' has no venv (no pip_url, or no definition yet): give it a pip_url with "
	                      "great-expectations and run 'smelt install gx'");
	mock_plugin_path(gx, SMELT_PPATH_VENV, mock_path(m, "empty-venv"));
	ck_assert_int_eq(block("validate", NULL), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "plugin 'gx' is not installed: run 'smelt install gx'");
	ck_assert_uint_eq(mock_ncalls(m), 0);
	static const char *const progs[] = { "python", NULL };
	const char *venv = mock_plugin_venv(gx, progs);
	/* post_install reads the venv's dist-info: no Python starts */
	ck_assert_int_eq(ad->post_install(mock_adapter_state(m), gx, err, sizeof err), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "great_expectations is not installed in the venv of 'gx': is great-expectations in its "
	                      "pip_url?");
	char dist[1024];
	snprintf(dist, sizeof dist, "%s/lib/python3.11/site-packages/great_expectations-1.24.1.dist-info", venv);
	for (char *c = dist + strlen(venv) + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			mkdir(dist, 0755);
			*c = '/';
		}
	ck_assert_int_eq(mkdir(dist, 0755), 0);
	ck_assert_int_eq(ad->post_install(mock_adapter_state(m), gx, err, sizeof err), SMELT_OK);
	ck_assert_ptr_nonnull(mock_log_find(m, "great_expectations 1.24.1"));
	ck_assert_uint_eq(mock_ncalls(m), 0);
}
END_TEST

START_TEST(dump_config_redacts_secrets)
{
	mock_plugin_setting(gx, "suites_dir", "\"checks\"", 0);
	mock_plugin_setting(gx, "cloud_access_token", "\"gx-token-s3cret\"", 1);
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_DUMP, NULL);
	mock_request_plugin(&r, gx, NULL);
	r.req.dump = "config";
	int code = -1;
	mock_stdout_begin(m);
	int rc = ad->invoke(mock_adapter_state(m), &r.req, &code, err, sizeof err);
	const char *out = mock_stdout_end(m);
	ck_assert_int_eq(rc, SMELT_OK);
	ck_assert_str_eq(out, "{\n\t\"suites_dir\":\t\"checks\",\n\t\"cloud_access_token\":\t\"*****\"\n}\n");
	r.req.dump = "catalog";
	ck_assert_int_eq(ad->invoke(mock_adapter_state(m), &r.req, &code, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "'gx' has no catalog");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adapter_gx");
	TCase *tc = tcase_create("gx");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, validate_plans_then_validates_with_a_private_request);
	tcase_add_test(tc, results_become_events_and_log_lines_in_a_run);
	tcase_add_test(tc, invoke_prints_the_report_and_returns_the_verdict);
	tcase_add_test(tc, runner_failures);
	tcase_add_test(tc, suites_and_options_that_cannot_be_used);
	tcase_add_test(tc, a_postgres_password_stays_in_the_request_file);
	tcase_add_test(tc, sources_the_adapter_cannot_read);
	tcase_add_test(tc, data_docs_on_request);
	tcase_add_test(tc, init_writes_an_example_suite);
	tcase_add_test(tc, not_installed_and_post_install);
	tcase_add_test(tc, dump_config_redacts_secrets);
	suite_add_tcase(s, tc);
	return mock_run_suite(s);
}
