/* Check suite for plugins/command under the mock host: run blocks, tests and invocations of a utility's commands. */
#include "mock_host.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static struct mock_host *m;
static const struct smelt_adapter *ad;
static struct smelt_plugin *tool;

static void setup(void)
{
	m = mock_host_new();
	ad = mock_adapter_load(m, "command");
	tool = mock_plugin_add(m, "utilities", "mytool");
	mock_plugin_attr(tool, "executable", "/opt/mytool");
	mock_plugin_attr(tool, "commands", "good\nbad\nother\ntest_one\ntest_two\n");
	mock_plugin_command(tool, "good", "ok 'one two'", NULL);
	mock_plugin_command(tool, "bad", "fail", NULL);
	mock_plugin_command(tool, "other", "x", "/bin/other");
	mock_plugin_command(tool, "test_one", "t1", NULL);
	mock_plugin_command(tool, "test_two", "t2", NULL);
	mock_plugin_env(tool, "GREETING", "hi");
}

static void teardown(void)
{
	mock_host_free(m);
}

static int call(enum smelt_request_kind kind, const char *command, const char *arg, int *code, char *err,
                size_t errlen)
{
	struct mock_request r;
	mock_request_init(&r, kind, command);
	mock_request_plugin(&r, tool, NULL);
	if (arg)
		mock_request_arg(&r, arg);
	void *st = mock_adapter_state(m);
	switch (kind) {
	case SMELT_REQ_INVOKE: return ad->invoke(st, &r.req, code, err, errlen);
	case SMELT_REQ_TEST: return ad->test(st, &r.req, err, errlen);
	default: return ad->run_block(st, &r.req, err, errlen);
	}
}

START_TEST(claims_utilities)
{
	ck_assert_str_eq(ad->name, "command");
	ck_assert_uint_eq(ad->plugin_types, SMELT_PT_UTILITY);
	ck_assert_ptr_null(ad->namespaces);
}
END_TEST

START_TEST(run_block_runs_the_command)
{
	char err[SMELT_ERRBUF_SIZE] = "";
	ck_assert_int_eq(call(SMELT_REQ_COMMAND, "good", NULL, NULL, err, sizeof err), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 1);
	const struct mock_call *c = mock_call(m, 0);
	ck_assert_uint_eq(c->argc, 3);
	ck_assert_str_eq(c->argv[0], "/opt/mytool");
	ck_assert_str_eq(c->argv[2], "one two");
	ck_assert_str_eq(mock_call_env(c, "GREETING"), "hi");
	ck_assert_uint_eq(c->flags, SMELT_SPAWN_STDIN_NULL | SMELT_SPAWN_STDOUT_LOG);
	/* a command's own executable */
	ck_assert_int_eq(call(SMELT_REQ_COMMAND, "other", NULL, NULL, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(mock_call(m, 1)->joined, "/bin/other x");
	/* no command: the executable alone */
	ck_assert_int_eq(call(SMELT_REQ_COMMAND, NULL, NULL, NULL, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(mock_call(m, 2)->joined, "/opt/mytool");
}
END_TEST

START_TEST(run_block_fails_with_meltanos_message)
{
	char err[SMELT_ERRBUF_SIZE] = "";
	mock_proc_exit(mock_expect(m), 3);
	ck_assert_int_eq(call(SMELT_REQ_COMMAND, "bad", NULL, NULL, err, sizeof err), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "`mytool bad` failed with exit code: 3");
	mock_proc_signal(mock_expect(m), 15);
	ck_assert_int_eq(call(SMELT_REQ_COMMAND, "good", NULL, NULL, err, sizeof err), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "`mytool good` failed with exit code: 143");
	ck_assert_int_eq(call(SMELT_REQ_COMMAND, "nope", NULL, NULL, err, sizeof err), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "plugin 'mytool' has no command 'nope' (see 'smelt invoke --list-commands mytool')");
	ck_assert_int_eq(call(SMELT_REQ_EL, NULL, NULL, NULL, err, sizeof err), SMELT_ERR_CONFIG);
}
END_TEST

START_TEST(test_runs_the_test_commands)
{
	char err[SMELT_ERRBUF_SIZE] = "";
	ck_assert_int_eq(call(SMELT_REQ_TEST, NULL, NULL, NULL, err, sizeof err), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 2);
	ck_assert_str_eq(mock_call(m, 0)->joined, "/opt/mytool t1");
	ck_assert_str_eq(mock_call(m, 1)->joined, "/opt/mytool t2");
	ck_assert_uint_eq(mock_call(m, 0)->flags, SMELT_SPAWN_INHERIT_STDIO);
	/* one failing: every test still runs, the request fails */
	mock_proc_exit(mock_expect(m), 1);
	ck_assert_int_eq(call(SMELT_REQ_TEST, NULL, NULL, NULL, err, sizeof err), SMELT_ERR_FAILED);
	ck_assert_uint_eq(mock_ncalls(m), 4);
	ck_assert_str_eq(err, "1 test(s) failed");
	/* one named: that command only, whatever its name */
	ck_assert_int_eq(call(SMELT_REQ_TEST, "good", NULL, NULL, err, sizeof err), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 5);
	ck_assert_str_eq(mock_call(m, 4)->joined, "/opt/mytool ok one two");
}
END_TEST

START_TEST(invoke_passes_arguments_and_the_exit_code)
{
	char err[SMELT_ERRBUF_SIZE] = "";
	int code = -1;
	mock_proc_exit(mock_expect(m), 7);
	ck_assert_int_eq(call(SMELT_REQ_INVOKE, "good", "--extra", &code, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(code, 7);
	ck_assert_str_eq(mock_call(m, 0)->joined, "/opt/mytool ok one two --extra");
	ck_assert_uint_eq(mock_call(m, 0)->flags, SMELT_SPAWN_INHERIT_STDIO);
	ck_assert_int_eq(call(SMELT_REQ_INVOKE, NULL, "-v", &code, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(mock_call(m, 1)->joined, "/opt/mytool -v");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adapter_command");
	TCase *tc = tcase_create("command");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, claims_utilities);
	tcase_add_test(tc, run_block_runs_the_command);
	tcase_add_test(tc, run_block_fails_with_meltanos_message);
	tcase_add_test(tc, test_runs_the_test_commands);
	tcase_add_test(tc, invoke_passes_arguments_and_the_exit_code);
	suite_add_tcase(s, tc);
	return mock_run_suite(s);
}
