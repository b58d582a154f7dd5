/* Check suite for host/src/store/state_backend: copy, move, clear [--all] on a file:// backend (Meltano's layout). */
#include "store/state_backend.h"
#include "util/strbuf.h"

#include <check.h>
#include <smelt/sdk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/smelt-state-backend-XXXXXX";
static struct state_backend *b;

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char uri[128], err[SMELT_ERRBUF_SIZE];
	snprintf(uri, sizeof uri, "file://%s/state", dir);
	struct state_backend_config c = { .uri = uri };
	ck_assert_int_eq(state_backend_open(&c, NULL, &b, err, sizeof err), SMELT_OK);
}

static void teardown(void)
{
	state_backend_close(b);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/smelt-state-backend-XXXXXX");
}

/* The text of <dir>/state/<rel>, or NULL when it does not exist; caller frees. */
static char *stored(const char *rel)
{
	char path[256];
	snprintf(path, sizeof path, "%s/state/%s", dir, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 4096);
	size_t n = fread(buf, 1, 4095, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int exists(const char *rel)
{
	char path[256];
	struct stat st;
	snprintf(path, sizeof path, "%s/state/%s", dir, rel);
	return stat(path, &st) == 0;
}

START_TEST(copy_writes_the_merged_state_as_complete)
{
	char err[SMELT_ERRBUF_SIZE];
	ck_assert_int_eq(state_backend_put(b, "dev:a", "{\"x\":1}", 0, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(state_backend_put(b, "dev:a", "{\"y\":2}", 1, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(state_backend_copy(b, "dev:a", "dev:b", 0, err, sizeof err), SMELT_OK);
	char *text = stored("dev:b/state.json");
	ck_assert_str_eq(text, "{\"completed\": {\"singer_state\": {\"x\": 1, \"y\": 2}}, \"partial\": {}}");
	free(text);
	ck_assert(exists("dev:a/state.json")); /* a copy keeps the source */
	ck_assert(!exists("dev:b/lock"));
}
END_TEST

START_TEST(move_clears_the_source_and_its_folder)
{
	char err[SMELT_ERRBUF_SIZE];
	ck_assert_int_eq(state_backend_put(b, "dev:a", "{\"x\":1}", 0, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(state_backend_copy(b, "dev:a", "dev:d", 1, err, sizeof err), SMELT_OK);
	ck_assert(!exists("dev:a"));
	char *json = NULL;
	ck_assert_int_eq(state_backend_get(b, "dev:d", &json, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(json, "{\"x\":1}");
	free(json);
}
END_TEST

START_TEST(copy_of_an_unknown_id_writes_nothing)
{
	char err[SMELT_ERRBUF_SIZE];
	ck_assert_int_eq(state_backend_copy(b, "dev:none", "dev:c", 0, err, sizeof err), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "no state with id 'dev:none'");
	ck_assert(!exists("dev:c"));
}
END_TEST

START_TEST(clear_all_clears_every_id)
{
	char err[SMELT_ERRBUF_SIZE];
	const char *ids[] = { "dev:a", "dev:b", "other" };
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(state_backend_put(b, ids[i], "{\"n\":1}", 0, err, sizeof err), SMELT_OK);
	int count = -1;
	ck_assert_int_eq(state_backend_clear_all(b, &count, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(count, 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert(!exists(ids[i]));
	ck_assert_int_eq(state_backend_clear_all(b, &count, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(count, 0);
}
END_TEST

START_TEST(clear_says_whether_there_was_a_state)
{
	char err[SMELT_ERRBUF_SIZE];
	int found = -1;
	ck_assert_int_eq(state_backend_put(b, "dev:a", "{\"x\":1}", 0, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(state_backend_clear(b, "dev:a", &found, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(found, 1);
	ck_assert(!exists("dev:a"));
	found = -1;
	ck_assert_int_eq(state_backend_clear(b, "dev:a", &found, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(found, 0);
	ck_assert(!exists("dev:a")); /* nor a lock left behind */
	ck_assert_int_eq(state_backend_clear(b, "dev:none", NULL, err, sizeof err), SMELT_OK);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state_backend");
	TCase *tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, copy_writes_the_merged_state_as_complete);
	tcase_add_test(tc, move_clears_the_source_and_its_folder);
	tcase_add_test(tc, copy_of_an_unknown_id_writes_nothing);
	tcase_add_test(tc, clear_all_clears_every_id);
	tcase_add_test(tc, clear_says_whether_there_was_a_state);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
