/* Check suite for host/src/run/proc: pipelines, callbacks, failures, early exits, timeouts. */
#include "run/proc.h"
#include "util/strbuf.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

static char err[SMELT_ERRBUF_SIZE];

struct lines {
	struct strbuf all;
	unsigned long count;
};

static int collect(void *arg, const char *line, size_t len, unsigned long lineno)
{
	struct lines *l = arg;
	l->count = lineno;
	strbuf_add(&l->all, line, len);
	strbuf_addch(&l->all, '|');
	return 0;
}

static int stop_at_two(void *arg, const char *line, size_t len, unsigned long lineno)
{
	(void)arg; (void)line; (void)len;
	return lineno >= 2 ? SMELT_ERR_CONFIG : 0;
}

static void no_zombies(void)
{
	/* every child was reaped: waitpid has nothing left */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
}

START_TEST(pipeline_wires_stdout_to_stdin)
{
	char *a[] = { "sh", "-c", "printf 'one\\ntwo\\nthree'", NULL };
	char *b[] = { "tr", "a-z", "A-Z", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b, .on_line = collect, .arg = &l } };
	struct proc_result res[2];
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(l.all.buf, "ONE|TWO|THREE|");
	ck_assert_uint_eq(l.count, 3);
	ck_assert(res[0].exit.exited && res[0].exit.exit_code == 0);
	ck_assert(res[1].exit.exited && res[1].exit.exit_code == 0);
	ck_assert_int_eq(res[0].bytes_written, 13);
	strbuf_release(&l.all);
	no_zombies();
}
END_TEST

START_TEST(reports_exit_codes)
{
	char *a[] = { "sh", "-c", "echo x; exit 3", NULL };
	char *b[] = { "cat", NULL };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b } };
	struct proc_result res[2];
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(res[0].exit.exit_code, 3);
	ck_assert_int_eq(res[1].exit.exit_code, 0);
	no_zombies();
}
END_TEST

START_TEST(missing_executable_is_an_error)
{
	char *a[] = { "smelt-no-such-program", NULL };
	char *b[] = { "cat", NULL };
	struct proc_stage st[2] = { { .label = "tap-x", .argv = a }, { .label = "b", .argv = b } };
	struct proc_result res[2];
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_ERR);
	ck_assert_msg(strstr(err, "smelt-no-such-program") && strstr(err, "tap-x"), "got: %s", err);
	ck_assert(res[0].exit.not_started);
	no_zombies();
}
END_TEST

START_TEST(downstream_exit_stops_upstream)
{
	char *a[] = { "sh", "-c", "trap '' PIPE; while :; do echo y || sleep 1; done", NULL };
	char *b[] = { "head", "-n", "1", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b, .on_line = collect, .arg = &l } };
	struct proc_result res[2];
	time_t t0 = time(NULL);
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert(time(NULL) - t0 < 8);
	ck_assert(res[0].exit.signaled && res[0].exit.term_signal == SIGTERM);
	ck_assert_str_eq(l.all.buf, "y|");
	strbuf_release(&l.all);
	no_zombies();
}
END_TEST

START_TEST(timeout_interrupts)
{
	char *a[] = { "sleep", "30", NULL };
	struct proc_stage st[1] = { { .label = "sleeper", .argv = a } };
	struct proc_result res[1];
	struct proc_opts o = { .timeout_s = 1 };
	ck_assert_int_eq(proc_pipeline(st, 1, &o, res, err, sizeof err), SMELT_ERR_INTERRUPTED);
	ck_assert_msg(strstr(err, "timed out"), "got: %s", err);
	ck_assert(res[0].exit.signaled);
	no_zombies();
}
END_TEST

START_TEST(callback_can_stop)
{
	char *a[] = { "sh", "-c", "while :; do echo s; sleep 0.05; done", NULL };
	struct proc_stage st[1] = { { .label = "a", .argv = a, .on_line = stop_at_two } };
	struct proc_result res[1];
	ck_assert_int_eq(proc_pipeline(st, 1, NULL, res, err, sizeof err), SMELT_ERR_CONFIG);
	no_zombies();
}
END_TEST

START_TEST(long_line_has_no_limit)
{
	/* a 5 MB line through two stages and into the callback */
	char *a[] = { "sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x; echo", NULL };
	char *b[] = { "cat", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b, .on_line = collect, .arg = &l } };
	struct proc_result res[2];
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert_uint_eq(l.all.len, 5000001);
	strbuf_release(&l.all);
}
END_TEST

START_TEST(env_and_cwd_are_the_childs)
{
	char *a[] = { "sh", "-c", "echo \"$FOO:$(pwd)\"", NULL };
	char *envp[] = { "FOO=bar", "PATH=/usr/bin:/bin", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[1] = { { .label = "a", .argv = a, .envp = envp, .cwd = "/tmp", .on_line = collect, .arg = &l } };
	struct proc_result res[1];
	ck_assert_int_eq(proc_pipeline(st, 1, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(l.all.buf, "bar:/tmp|");
	strbuf_release(&l.all);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("pipeline");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pipeline_wires_stdout_to_stdin);
	tcase_add_test(tc, reports_exit_codes);
	tcase_add_test(tc, missing_executable_is_an_error);
	tcase_add_test(tc, downstream_exit_stops_upstream);
	tcase_add_test(tc, timeout_interrupts);
	tcase_add_test(tc, callback_can_stop);
	tcase_add_test(tc, long_line_has_no_limit);
	tcase_add_test(tc, env_and_cwd_are_the_childs);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
