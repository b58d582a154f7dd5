/*
 * Check suite for tests/support/mock_host itself: the host services it
 * answers the way the real host does (settings nested, flat, with extras,
 * redacted; environments; plugin paths and lists) and the scripts and
 * records the adapter suites rely on.  A mock that lied would let an
 * adapter test pass for the wrong reason.
 */
#include "mock_host.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static struct mock_host *m;
static const struct smelt_host_api *h;
static char err[SMELT_ERRBUF_SIZE];

static void setup(void)
{
	m = mock_host_new();
	h = mock_host_api(m);
	err[0] = '\0';
}

static void teardown(void)
{
	mock_host_free(m);
}

static char *config(const struct smelt_plugin *p, unsigned flags)
{
	char *json = NULL;
	ck_assert_int_eq(h->config_json(mock_host_ctx(m), p, flags, &json, err, sizeof err), SMELT_OK);
	return json;
}

START_TEST(settings_as_the_host_resolves_them)
{
	struct smelt_plugin *p = mock_plugin_add(m, "utilities", "superset");
	mock_plugin_setting(p, "admin.username", "\"root\"", 0);
	mock_plugin_setting(p, "admin.password", "\"pw\"", 1);
	mock_plugin_setting(p, "ui.port", "8088", 0);
	mock_plugin_setting(p, "unset", "null", 0);
	mock_plugin_setting(p, "_select", "[\"a.*\"]", 0);
	char *s = config(p, 0);
	ck_assert_str_eq(s, "{\"admin\":{\"username\":\"root\",\"password\":\"pw\"},\"ui\":{\"port\":8088}}");
	h->free(s);
	s = config(p, SMELT_CFG_FLAT | SMELT_CFG_REDACT);
	ck_assert_str_eq(s, "{\"admin.username\":\"root\",\"admin.password\":\"*****\",\"ui.port\":8088}");
	h->free(s);
	s = config(p, SMELT_CFG_EXTRAS);
	ck_assert_ptr_nonnull(strstr(s, ",\"_select\":[\"a.*\"]}"));
	h->free(s);
	char *one = NULL;
	int sensitive = -1;
	ck_assert_int_eq(h->setting(mock_host_ctx(m), p, "admin.password", &one, &sensitive, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(one, "\"pw\"");
	ck_assert_int_eq(sensitive, 1);
	h->free(one);
	ck_assert_int_eq(h->setting(mock_host_ctx(m), p, "unset", &one, &sensitive, err, sizeof err), SMELT_OK);
	ck_assert_ptr_null(one);
	ck_assert_int_eq(sensitive, 0);
	mock_plugin_config_error(p, "bad setting");
	ck_assert_int_eq(h->config_json(mock_host_ctx(m), p, 0, &one, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "bad setting");
}
END_TEST

START_TEST(plugins_paths_and_environments)
{
	struct smelt_plugin *a = mock_plugin_add(m, "loaders", "target-a");
	struct smelt_plugin *b = mock_plugin_add(m, "transformers", "dbt-b");
	mock_plugin_add(m, "extractors", "tap-c");
	const struct smelt_plugin *list[4];
	ck_assert_uint_eq(h->plugin_list(mock_host_ctx(m), SMELT_PT_LOADER | SMELT_PT_TRANSFORMER, list, 1), 2);
	ck_assert_ptr_eq(list[0], a);
	ck_assert_ptr_eq(h->plugin_find(mock_host_ctx(m), "dbt-b"), b);
	ck_assert_ptr_null(h->plugin_find(mock_host_ctx(m), "nope"));
	ck_assert_ptr_null(h->plugin_path(mock_host_ctx(m), a, SMELT_PPATH_VENV)); /* no pip_url */
	mock_plugin_attr(a, "pip_url", "target-a==1");
	ck_assert_str_eq(h->plugin_path(mock_host_ctx(m), a, SMELT_PPATH_VENV), mock_path(m, ".smelt/loaders/target-a/venv"));
	ck_assert_str_eq(h->plugin_path(mock_host_ctx(m), a, SMELT_PPATH_RUN_DIR), mock_path(m, ".smelt/run/target-a"));
	ck_assert_str_eq(h->plugin_path(mock_host_ctx(m), a, SMELT_PPATH_EXECUTABLE), "target-a");

	mock_env_base(m, "BASE", "1");
	mock_plugin_env(a, "OWN", "2");
	struct smelt_env *env = h->env_new(mock_host_ctx(m), a);
	ck_assert_str_eq(h->env_get(env, "BASE"), "1");
	ck_assert_str_eq(h->env_get(env, "OWN"), "2");
	h->env_set(env, "BASE", NULL);
	h->env_set(env, "OWN", "3");
	ck_assert_ptr_null(h->env_get(env, "BASE"));
	ck_assert_str_eq(h->env_get(env, "OWN"), "3");
	ck_assert_ptr_null(h->env_get(env, "PATH")); /* the test's own environment stays out */
	h->env_free(env);
}
END_TEST

static int on_line(void *arg, const char *line, size_t len, unsigned long lineno)
{
	size_t *n = arg;
	(void)lineno;
	(*n)++;
	return len == 4 && !memcmp(line, "stop", 4) ? SMELT_ERR_FAILED : 0;
}

START_TEST(processes_follow_their_scripts_and_are_recorded)
{
	struct smelt_plugin *p = mock_plugin_add(m, "extractors", "tap-x");
	struct smelt_env *env = h->env_new(mock_host_ctx(m), p);
	h->env_set(env, "SECRET", "s3cret");
	const char *argv[] = { "tap-x", "--config", "c.json", NULL };
	size_t lines = 0;
	struct smelt_spawn spec = { .struct_size = sizeof spec, .label = "tap-x", .argv = argv, .env = env,
		                    .on_line = on_line, .arg = &lines };
	struct smelt_exit ex = { .struct_size = sizeof ex };
	/* unscripted: exit 0 */
	ck_assert_int_eq(h->run(mock_host_ctx(m), &spec, &ex, err, sizeof err), SMELT_OK);
	ck_assert(ex.exited && ex.exit_code == 0);
	struct mock_proc *pr = mock_expect(m);
	mock_proc_stdout(pr, "one");
	mock_proc_stdout(pr, "stop");
	mock_proc_stdout(pr, "never");
	mock_proc_exit(pr, 3);
	ck_assert_int_eq(h->run(mock_host_ctx(m), &spec, &ex, err, sizeof err), SMELT_ERR_FAILED);
	ck_assert_uint_eq(lines, 2);
	ck_assert(ex.signaled);
	h->env_set(env, "SECRET", "changed after the call");
	const struct mock_call *c = mock_call(m, 1);
	ck_assert_str_eq(c->joined, "tap-x --config c.json");
	ck_assert_str_eq(mock_call_env(c, "SECRET"), "s3cret");
	ck_assert_str_eq(mock_call_arg_after(c, "--config"), "c.json");

	/* a pipeline: one script per stage, the last stage's stdout to on_line */
	mock_proc_stdout(mock_expect(m), "tap output is piped, not read");
	pr = mock_expect(m);
	mock_proc_stdout(pr, "state");
	mock_proc_exit(pr, 1);
	struct smelt_spawn stages[2] = { spec, spec };
	stages[0].on_line = NULL;
	struct smelt_exit exs[2] = { { .struct_size = sizeof exs[0] }, { .struct_size = sizeof exs[1] } };
	lines = 0;
	ck_assert_int_eq(h->pipeline(mock_host_ctx(m), stages, 2, exs, err, sizeof err), SMELT_OK);
	ck_assert_uint_eq(lines, 1);
	ck_assert(exs[0].exited && exs[0].exit_code == 0);
	ck_assert(exs[1].exited && exs[1].exit_code == 1);
	ck_assert_int_eq(mock_call(m, 3)->pipeline, 1);
	ck_assert_uint_eq(mock_call(m, 3)->stage, 1);
	ck_assert_ptr_null(mock_log_find(m, "piped"));
	h->env_free(env);

	/* secrets: argv and logs are searched, env is not */
	ck_assert_ptr_null(mock_secret_leak(m, "s3cret"));
	h->log(mock_host_ctx(m), SMELT_LOG_DEBUG, "token=%s", "s3cret");
	ck_assert_str_eq(mock_secret_leak(m, "s3cret"), "log line 0: token=s3cret");
}
END_TEST

/* The contract the host enforces, enforced by the mock: a test whose adapter breaks it dies. */
START_TEST(an_exit_without_struct_size_is_refused)
{
	const char *argv[] = { "x", NULL };
	struct smelt_spawn spec = { .struct_size = sizeof spec, .argv = argv };
	struct smelt_exit ex = { 0 }; /* a 1.2 adapter must set struct_size */
	h->run(mock_host_ctx(m), &spec, &ex, err, sizeof err);
}
END_TEST

START_TEST(pipeline_stages_of_different_sizes_are_refused)
{
	const char *argv[] = { "x", NULL };
	struct smelt_spawn stages[2] = { { .struct_size = sizeof stages[0], .argv = argv },
		                         { .struct_size = SMELT_SPAWN_V1_0_SIZE - 8, .argv = argv } };
	struct smelt_exit ex[2] = { { .struct_size = sizeof ex[0] }, { .struct_size = sizeof ex[1] } };
	h->pipeline(mock_host_ctx(m), stages, 2, ex, err, sizeof err);
}
END_TEST

START_TEST(a_spawn_in_the_1_0_layout_is_read_by_its_size)
{
	/* what an adapter built against 1.0/1.1 hands in: no field past `arg` */
	const char *argv[] = { "old-tool", "--x", NULL };
	struct smelt_spawn spec = { .struct_size = SMELT_SPAWN_V1_0_SIZE, .label = "old", .argv = argv };
	struct smelt_exit ex = { .struct_size = sizeof ex };
	mock_proc_exit(mock_expect(m), 4);
	ck_assert_int_eq(h->run(mock_host_ctx(m), &spec, &ex, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(ex.exit_code, 4);
	ck_assert_str_eq(mock_call(m, 0)->joined, "old-tool --x");
}
END_TEST

/* An adapter built against the frozen 1.1 header: its 20-byte smelt_exit must be written in that layout. */
START_TEST(a_1_1_adapter_gets_the_1_1_exit_layout)
{
	const struct smelt_adapter *ad = mock_adapter_load(m, ADAPTER_DIR "/compat/legacy11.so");
	ck_assert_uint_eq(SMELT_ABI_MINOR_OF(ad->abi_version), 1);
	mock_expect(m);
	mock_proc_exit(mock_expect(m), 1);
	struct mock_proc *last = mock_expect(m);
	mock_proc_stdout(last, "got ONE");
	mock_proc_stdout(last, "got TWO");
	mock_proc_signal(last, 13);
	mock_proc_exit(mock_expect(m), 3);
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_COMMAND, "pipe");
	ck_assert_int_eq(ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_OK);
	char *out = mock_read_file(mock_path(m, "legacy11.out"));
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "got ONE\ngot TWO\n"
	                      "stage 0: exited 1 code 0 signaled 0 not_started 0\n"
	                      "stage 1: exited 1 code 1 signaled 0 not_started 0\n"
	                      "stage 2: exited 0 code 0 signaled 1 not_started 0\n"
	                      "run: exited 1 code 3 signaled 0 not_started 0\n"
	                      "canaries: intact intact\n");
	free(out);
	ck_assert_str_eq(mock_call(m, 2)->joined, "sed s/^/got /");
	ck_assert_uint_eq(mock_event_count(m, SMELT_EV_RESULT, "pass"), 2);
	ck_assert_int_eq(mock_event_find(m, SMELT_EV_COUNT, "stream lines")->count, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mock_host");
	TCase *tc = tcase_create("mock_host");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, settings_as_the_host_resolves_them);
	tcase_add_test(tc, plugins_paths_and_environments);
	tcase_add_test(tc, processes_follow_their_scripts_and_are_recorded);
	tcase_add_test_raise_signal(tc, an_exit_without_struct_size_is_refused, SIGABRT);
	tcase_add_test_raise_signal(tc, pipeline_stages_of_different_sizes_are_refused, SIGABRT);
	tcase_add_test(tc, a_spawn_in_the_1_0_layout_is_read_by_its_size);
	tcase_add_test(tc, a_1_1_adapter_gets_the_1_1_exit_layout);
	suite_add_tcase(s, tc);
	return mock_run_suite(s);
}
