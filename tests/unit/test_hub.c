/*
 * test_hub: the MeltanoHub client (hub/hub.c) and definition resolving
 * (hub/resolve.c) against the loopback Hub server tests/e2e/hubserver.py,
 * which this suite starts itself (python3 with PyYAML; $SMELT_TEST_PYTHON
 * picks the interpreter).
 */
#include "hub/builtin.h"
#include "hub/hub.h"
#include "hub/lock.h"
#include "hub/resolve.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static pid_t server_pid;
static int server_port;
static char api_root[128];
static char tmpdir[256];

static void server_start(void)
{
	const char *py = getenv("SMELT_TEST_PYTHON") ? getenv("SMELT_TEST_PYTHON") : "python3";
	char script[512];
	int fds[2];
	snprintf(script, sizeof script, "%s/tests/e2e/hubserver.py", SOURCE_DIR);
	char *const argv[] = { (char *)py, script, "--port", "0", "--print-port", "--root", HUB_FIXTURES, NULL };
	ck_assert_int_eq(pipe(fds), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	ck_assert_int_eq(posix_spawnp(&server_pid, py, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	char buf[32] = "";
	ssize_t n = 0, got;
	while (n < (ssize_t)sizeof buf - 1 && (got = read(fds[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0) {
		n += got;
		if (memchr(buf, '\n', (size_t)n))
			break;
	}
	close(fds[0]);
	ck_assert_msg(n > 0, "hubserver.py did not start (python3 with PyYAML needed)");
	buf[n] = '\0';
	server_port = atoi(buf);
	ck_assert_int_gt(server_port, 0);
	snprintf(api_root, sizeof api_root, "http://127.0.0.1:%d/meltano/api/v1", server_port);
	setenv("SMELT_HUB_RETRY_DELAY", "0.05", 1);
	unsetenv("SMELT_HUB_URL");
	unsetenv("MELTANO_HUB_API_ROOT");
	unsetenv("MELTANO_HUB_URL");
	snprintf(tmpdir, sizeof tmpdir, "/tmp/smelt-test-hub-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = 0;
	}
	remove_tree(tmpdir);
}

/* GET a test hook of the server (through the client itself). */
static void hook(const char *fmt, const char *arg)
{
	struct hub hub;
	char url[512], path[256], err[512];
	snprintf(path, sizeof path, fmt, arg);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/_test/%s", server_port, path);
	cJSON *out = NULL;
	hub_init(&hub, api_root);
	ck_assert_msg(hub_get_json(&hub, url, &out, NULL, err, sizeof err) == 0, "%s", err);
	cJSON_Delete(out);
	hub_release(&hub);
}

START_TEST(hub_api_root_precedence)
{
	char *r;
	setenv("MELTANO_HUB_URL", "https://example.invalid/", 1);
	r = hub_api_root(NULL, NULL);
	ck_assert_str_eq(r, "https://example.invalid/meltano/api/v1");
	free(r);
	r = hub_api_root(NULL, "https://hub.example.invalid");
	ck_assert_str_eq(r, "https://hub.example.invalid/meltano/api/v1");
	free(r);
	r = hub_api_root("https://api.example.invalid/v1/", "https://hub.example.invalid");
	ck_assert_str_eq(r, "https://api.example.invalid/v1");
	free(r);
	setenv("MELTANO_HUB_API_ROOT", "http://b.invalid/api", 1);
	r = hub_api_root("https://api.example.invalid/v1", NULL);
	ck_assert_str_eq(r, "http://b.invalid/api");
	free(r);
	setenv("SMELT_HUB_URL", "http://a.invalid/x/", 1);
	r = hub_api_root("https://api.example.invalid/v1", NULL);
	ck_assert_str_eq(r, "http://a.invalid/x");
	free(r);
	unsetenv("SMELT_HUB_URL");
	unsetenv("MELTANO_HUB_API_ROOT");
	unsetenv("MELTANO_HUB_URL");
	r = hub_api_root(NULL, NULL);
	ck_assert_str_eq(r, HUB_DEFAULT_API_ROOT);
	free(r);
}
END_TEST

START_TEST(hub_fetches_default_and_named_variant)
{
	struct hub hub;
	char err[1024];
	cJSON *def = NULL;
	hub_init(&hub, api_root);
	ck_assert_msg(hub_fetch_definition(&hub, "loaders", "target-jsonl", NULL, &def, err, sizeof err) == HUB_OK,
	              "%s", err);
	ck_assert_str_eq(cJSON_GetObjectItem(def, "variant")->valuestring, "andyh1203");
	ck_assert_str_eq(cJSON_GetObjectItem(def, "pip_url")->valuestring, "target-jsonl");
	ck_assert_ptr_null(cJSON_GetObjectItem(def, "keywords"));
	ck_assert_int_eq(hub.requests, 2);
	cJSON_Delete(def);
	ck_assert_int_eq(hub_fetch_definition(&hub, "loaders", "target-sqlite", "meltano", &def, err, sizeof err),
	                 HUB_OK);
	ck_assert_str_eq(cJSON_GetObjectItem(def, "variant")->valuestring, "meltano");
	cJSON_Delete(def);
	hub_release(&hub);
}
END_TEST

START_TEST(hub_unknown_plugin_variant_type)
{
	struct hub hub;
	char err[1024];
	cJSON *def = NULL;
	hub_init(&hub, api_root);
	ck_assert_int_eq(hub_fetch_definition(&hub, "extractors", "tap-no-such-thing", NULL, &def, err, sizeof err),
	                 HUB_UNKNOWN_PLUGIN);
	ck_assert_str_eq(err, "Extractor 'tap-no-such-thing' is not known to Meltano Hub");
	ck_assert_int_eq(hub_fetch_definition(&hub, "loaders", "target-sqlite", "nope", &def, err, sizeof err),
	                 HUB_UNKNOWN_VARIANT);
	ck_assert_str_eq(err, "Loader 'target-sqlite' variant 'nope' is not known to Meltano. "
	                      "Variants: ['meltanolabs (default)', 'meltano']");
	ck_assert_ptr_null(def);
	ck_assert_int_eq(hub_fetch_definition(&hub, "widgets", "x", NULL, &def, err, sizeof err), HUB_ERR);
	ck_assert_msg(strstr(err, "is not supported in Meltano Hub") && strstr(err, "Available plugin types: ['extractors'"),
	              "%s", err);
	hub_release(&hub);
}
END_TEST

START_TEST(hub_unreachable_names_url_and_cause)
{
	struct hub hub;
	char err[1024];
	cJSON *def = NULL;
	hub_init(&hub, "http://127.0.0.1:1");
	ck_assert_int_eq(hub_fetch_definition(&hub, "extractors", "tap-csv", NULL, &def, err, sizeof err), HUB_ERR);
	ck_assert_str_eq(err, "cannot reach the Hub at 'http://127.0.0.1:1/plugins/extractors/index': "
	                      "Couldn't connect to server");
	ck_assert_int_eq(hub.requests, 1); /* no retry on a refused connection */
	hub_release(&hub);
}
END_TEST

START_TEST(hub_retries_503_then_succeeds)
{
	struct hub hub;
	char err[1024];
	cJSON *idx = NULL;
	hook("fail?path=/meltano/api/v1/plugins/mappers/index&count=%s&code=503", "2");
	hub_init(&hub, api_root);
	ck_assert_msg(hub_type_index(&hub, "mappers", &idx, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(hub.requests, 3);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(idx, "meltano-map-transformer"));
	cJSON_Delete(idx);
	/* more failures than retries: the last status is the error */
	hook("fail?path=/meltano/api/v1/plugins/mappers/index&count=%s&code=503", "9");
	hub.requests = 0;
	ck_assert_int_eq(hub_type_index(&hub, "mappers", &idx, err, sizeof err), -1);
	ck_assert_int_eq(hub.requests, 4);
	ck_assert_msg(strstr(err, "Service Unavailable (503): can not retrieve plugins of type 'mapper'"), "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "/plugins/mappers/index"));
	hook("reset%s", "");
	/* 404 on a definition is not retried */
	hook("fail?path=/meltano/api/v1/plugins/loaders/target-jsonl--andyh1203&count=%s&code=404", "5");
	hub.requests = 0;
	cJSON *def = NULL;
	ck_assert_int_eq(hub_fetch_definition(&hub, "loaders", "target-jsonl", NULL, &def, err, sizeof err), HUB_ERR);
	ck_assert_int_eq(hub.requests, 2);
	ck_assert_msg(strstr(err, "Not Found (404): can not retrieve plugin loader 'target-jsonl'"), "%s", err);
	hook("reset%s", "");
	hub_release(&hub);
}
END_TEST

START_TEST(hub_follows_redirect_to_other_port)
{
	struct hub hub;
	char err[1024];
	cJSON *def = NULL;
	hook("redirect?on=%s", "1");
	hub_init(&hub, api_root);
	ck_assert_msg(hub_fetch_definition(&hub, "loaders", "target-jsonl", NULL, &def, err, sizeof err) == HUB_OK,
	              "%s", err);
	ck_assert_str_eq(cJSON_GetObjectItem(def, "name")->valuestring, "target-jsonl");
	cJSON_Delete(def);
	hook("reset%s", "");
	hub_release(&hub);
}
END_TEST

START_TEST(hub_timeout_env)
{
	struct hub hub;
	setenv("SMELT_HUB_TIMEOUT", "3", 1);
	hub_init(&hub, api_root);
	ck_assert_int_eq(hub.timeout, 3);
	ck_assert_int_eq(hub.connect_timeout, 3);
	hub_release(&hub);
	unsetenv("SMELT_HUB_TIMEOUT");
	hub_init(&hub, NULL);
	ck_assert_int_eq(hub.timeout, 60);
	ck_assert_int_eq(hub.connect_timeout, 10);
	ck_assert_int_eq(hub.retries, 3);
	hub_release(&hub);
}
END_TEST

START_TEST(resolve_locks_with_requires)
{
	struct hub hub;
	char err[1024];
	char *path = NULL;
	cJSON *def = NULL;
	hub_init(&hub, api_root);
	ck_assert_msg(resolve_lock(&hub, tmpdir, "orchestrators", "airflow", "apache", 0, &def, &path, err, sizeof err) == 0,
	              "%s", err);
	ck_assert_ptr_nonnull(strstr(path, "/plugins/orchestrators/airflow--apache.lock"));
	ck_assert(file_exists(path));
	char *files = xasprintf("%s/plugins/files/files-airflow--meltano.lock", tmpdir);
	ck_assert(file_exists(files));
	cJSON *f = lock_read(files, err, sizeof err);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "plugin_type")->valuestring, "files");
	cJSON_Delete(f);
	/* an existing require is kept (no request for it) */
	int before = hub.requests;
	free(path);
	cJSON_Delete(def);
	ck_assert_int_eq(resolve_lock(&hub, tmpdir, "orchestrators", "airflow", "apache", 0, &def, &path, err, sizeof err), 0);
	ck_assert_int_eq(hub.requests - before, 2);
	free(files);
	free(path);
	cJSON_Delete(def);
	hub_release(&hub);
}
END_TEST

START_TEST(resolve_builtin_without_network)
{
	struct hub hub;
	char err[1024];
	cJSON *def = NULL;
	const char *from = NULL;
	hub_init(&hub, "http://127.0.0.1:1");
	ck_assert_int_eq(resolve_definition(&hub, NULL, "extractors", "tap-csv", "smelt", &def, &from, err, sizeof err), 0);
	ck_assert_str_eq(from, "built-in catalog");
	ck_assert_str_eq(cJSON_GetObjectItem(def, "variant")->valuestring, "smelt");
	cJSON_Delete(def);
	ck_assert_int_eq(resolve_definition(&hub, NULL, "transformers", "dbt-sqlite", NULL, &def, &from, err, sizeof err), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(def, "namespace")->valuestring, "dbt_sqlite");
	cJSON_Delete(def);
	ck_assert_int_eq(resolve_definition(&hub, NULL, "utilities", "gx", NULL, &def, &from, err, sizeof err), 0);
	cJSON_Delete(def);
	ck_assert_int_eq(hub.requests, 0);
	ck_assert_int_lt(resolve_definition(&hub, NULL, "loaders", "target-postgres", "smelt", &def, &from, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "variant 'smelt'"));
	ck_assert_int_eq(hub.requests, 0);
	hub_release(&hub);
	/* the Hub has tap-csv: without a variant it wins */
	hub_init(&hub, api_root);
	ck_assert_int_eq(resolve_definition(&hub, NULL, "extractors", "tap-csv", NULL, &def, &from, err, sizeof err), 0);
	ck_assert_str_ne(cJSON_GetObjectItem(def, "variant")->valuestring, "smelt");
	ck_assert_str_eq(from, api_root);
	cJSON_Delete(def);
	hub_release(&hub);
}
END_TEST

START_TEST(resolve_writes_nothing_when_offline)
{
	struct hub hub;
	char err[1024];
	hub_init(&hub, "http://127.0.0.1:1");
	ck_assert_int_lt(resolve_lock(&hub, tmpdir, "loaders", "target-jsonl", NULL, 0, NULL, NULL, err, sizeof err), 0);
	char *dir = xasprintf("%s/plugins", tmpdir);
	ck_assert(!dir_exists(dir));
	free(dir);
	hub_release(&hub);
}
END_TEST

static Suite *hub_suite(void)
{
	Suite *s = suite_create("hub");
	TCase *tc = tcase_create("env");
	tcase_add_test(tc, hub_api_root_precedence);
	tcase_add_test(tc, hub_timeout_env);
	suite_add_tcase(s, tc);
	tc = tcase_create("client");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, server_start, server_stop);
	tcase_add_test(tc, hub_fetches_default_and_named_variant);
	tcase_add_test(tc, hub_unknown_plugin_variant_type);
	tcase_add_test(tc, hub_unreachable_names_url_and_cause);
	tcase_add_test(tc, hub_retries_503_then_succeeds);
	tcase_add_test(tc, hub_follows_redirect_to_other_port);
	suite_add_tcase(s, tc);
	tc = tcase_create("resolve");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, server_start, server_stop);
	tcase_add_test(tc, resolve_locks_with_requires);
	tcase_add_test(tc, resolve_builtin_without_network);
	tcase_add_test(tc, resolve_writes_nothing_when_offline);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hub_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
