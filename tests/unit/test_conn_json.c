/* test_conn_json: the native connectors' strict JSON reader and config loader (connectors/json.c, log.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "log.h"

static int has_nul(const char *text)
{
	struct conn_json j = { 0 };
	ck_assert_int_eq(conn_json_parse(&j, text, strlen(text)), 0);
	int r = conn_json_has_nul(&j);
	conn_json_release(&j);
	return r;
}

/* issue 18: "\u0000" in a string would cut an entity name (a C string) short */
START_TEST(nul_escape_is_found_in_keys_and_values)
{
	ck_assert_int_eq(has_nul("{\"files\": [{\"entity\": \"a\\u0000b\"}]}"), 1);
	ck_assert_int_eq(has_nul("{\"a\\u0000\": 1}"), 1);
	ck_assert_int_eq(has_nul("{\"entity\": \"a\\\\u0000b\"}"), 0); /* an escaped backslash, then text */
	ck_assert_int_eq(has_nul("{\"entity\": \"a\\u00001\\n\"}"), 1);
	ck_assert_int_eq(has_nul("{\"entity\": \"\\u0001 \\u1000 \\\\\"}"), 0);
}
END_TEST

/* Loads text as a config file in a child; returns its wait status and stderr. */
static int load_in_child(const char *text, char *msg, size_t len)
{
	char path[] = "/tmp/smelt-test-conn-json-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		cJSON *j = conn_load_json_object(path, "config");
		cJSON_Delete(j);
		_exit(0);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < len && (r = read(fds[0], msg + n, len - 1 - n)) > 0)
		n += (size_t)r;
	msg[n] = '\0';
	close(fds[0]);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	unlink(path);
	return st;
}

START_TEST(config_loader_refuses_nul_and_trailing_text)
{
	char msg[1024];
	int st = load_in_child("{\"files\": [{\"entity\": \"a\\u0000b\", \"path\": \"x.csv\"}]}", msg, sizeof msg);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_ptr_nonnull(strstr(msg, "\\u0000 (a NUL character), which is not allowed"));
	st = load_in_child("{\"a\": 1} xyz", msg, sizeof msg);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_ptr_nonnull(strstr(msg, "is not valid JSON"));
	st = load_in_child("{\"files\": [{\"entity\": \"a\\u0001b\"}]}\n", msg, sizeof msg);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

static Suite *conn_json_suite(void)
{
	Suite *s = suite_create("conn_json");
	TCase *tc = tcase_create("strict");
	tcase_add_test(tc, nul_escape_is_found_in_keys_and_values);
	tcase_add_test(tc, config_loader_refuses_nul_and_trailing_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conn_json_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
