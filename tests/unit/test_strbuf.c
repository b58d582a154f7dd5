/* test_strbuf: the x* allocators' failure path (util/strbuf.c). */
#include "util/strbuf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn in a child with stderr captured; returns its wait status, fills msg. */
static int in_child(void (*fn)(void), char *msg, size_t len)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		fn();
		_exit(77); /* not reached when fn dies */
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < len && (r = read(fds[0], msg + n, len - 1 - n)) > 0)
		n += (size_t)r;
	msg[n] = '\0';
	close(fds[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void oom(void)
{
	(void)xnonnull(NULL);
}

static void oom_after_commit(void)
{
	xalloc_committed("the test's change was saved");
	(void)xnonnull(NULL);
}

/* issue 18: git's die(): a message and exit 128, not abort() with a core dump */
START_TEST(out_of_memory_exits_128_with_a_message)
{
	char msg[512];
	int st = in_child(oom, msg, sizeof msg);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 128);
	ck_assert_str_eq(msg, "smelt: fatal: out of memory\n");
}
END_TEST

/* past the commit point the change stands: exit 0 and a warning saying only the report is missing */
START_TEST(out_of_memory_after_commit_is_a_warning)
{
	char msg[512];
	int st = in_child(oom_after_commit, msg, sizeof msg);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_str_eq(msg, "smelt: warning: out of memory after the test's change was saved; only this report is "
	                      "missing\n");
}
END_TEST

START_TEST(xnonnull_returns_its_argument)
{
	int x;
	ck_assert_ptr_eq(xnonnull(&x), &x);
}
END_TEST

static Suite *strbuf_suite(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("xalloc");
	tcase_add_test(tc, out_of_memory_exits_128_with_a_message);
	tcase_add_test(tc, out_of_memory_after_commit_is_a_warning);
	tcase_add_test(tc, xnonnull_returns_its_argument);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(strbuf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
