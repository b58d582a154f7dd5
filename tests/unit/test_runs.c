/* Check suite for host/src/store/runs.c: the run history (issue 17). */
#include "store/runs.h"
#include "store/store.h"
#include "run/proc.h"

#include <smelt/sdk.h>
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[256];
static struct store *st;
static char err[SMELT_ERRBUF_SIZE];

static void setup(void)
{
	snprintf(path, sizeof path, "/tmp/smelt-test-runs-%d.db", (int)getpid());
	unlink(path);
	ck_assert_int_eq(store_open(path, &st, err, sizeof err), SMELT_OK);
}

static void teardown(void)
{
	store_close(st);
	char f[300];
	unlink(path);
	snprintf(f, sizeof f, "%s-wal", path);
	unlink(f);
	snprintf(f, sizeof f, "%s-shm", path);
	unlink(f);
}

static void begin(const char *id, const char *job)
{
	const char *args[] = { job ? job : "tap", "target" };
	const char *blocks[] = { "tap target", "dbt:run" }, *kinds[] = { "el", "command" };
	struct runs_start r = { .run_id = id, .job = job, .args = args, .nargs = job ? 1 : 2, .blocks = blocks,
		                .kinds = kinds, .nblocks = 2, .log_path = "logs/x/run.log" };
	ck_assert_int_eq(runs_begin(st, &r, err, sizeof err), SMELT_OK);
}

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

START_TEST(records_blocks_results_and_end)
{
	begin("r1", NULL);
	ck_assert_int_eq(runs_block_begin(st, "r1", 0, err, sizeof err), 0);
	cJSON *d = cJSON_Parse("{\"streams\":{\"orders\":3},\"results\":[],\"summary\":\"orders 3 rows\"}");
	ck_assert_int_eq(runs_block_end(st, "r1", 0, "success", 1.5, 3, d, err, sizeof err), 0);
	cJSON_Delete(d);
	d = cJSON_Parse("{\"streams\":{},\"results\":[{\"item\":\"model.p.m\",\"kind\":\"model\",\"status\":\"success\"}]}");
	ck_assert_int_eq(runs_block_end(st, "r1", 1, "failed", 0.5, -1, d, err, sizeof err), 0);
	cJSON_Delete(d);
	ck_assert_int_eq(runs_end(st, "r1", "failed", 1, "block 2 failed", err, sizeof err), 0);
	/* the first verdict stays: a later writer (the server's reaper) changes nothing */
	ck_assert_int_eq(runs_end(st, "r1", "cancelled", 143, "x", err, sizeof err), 0);
	cJSON *run;
	ck_assert_int_eq(runs_show(st, "r1", &run, err, sizeof err), 0);
	ck_assert_str_eq(get(run, "status")->valuestring, "failed");
	ck_assert_int_eq(get(run, "exit_code")->valueint, 1);
	ck_assert_str_eq(get(run, "error")->valuestring, "block 2 failed");
	ck_assert_int_eq(get(run, "rows")->valueint, 3);
	ck_assert_str_eq(get(run, "trigger")->valuestring, "cli");
	const cJSON *blocks = get(run, "blocks");
	ck_assert_int_eq(cJSON_GetArraySize(blocks), 2);
	const cJSON *b0 = cJSON_GetArrayItem(blocks, 0), *b1 = cJSON_GetArrayItem(blocks, 1);
	ck_assert_int_eq(get(get(b0, "streams"), "orders")->valueint, 3);
	ck_assert_str_eq(get(b0, "summary")->valuestring, "orders 3 rows");
	ck_assert_str_eq(get(b1, "kind")->valuestring, "command");
	ck_assert(cJSON_IsNull(get(b1, "rows")));
	ck_assert_str_eq(get(cJSON_GetArrayItem(get(b1, "results"), 0), "item")->valuestring, "model.p.m");
	cJSON_Delete(run);
	ck_assert_int_eq(runs_show(st, "nope", &run, err, sizeof err), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "no run with id 'nope'");
}
END_TEST

START_TEST(unfinished_blocks_are_skipped_or_take_the_run_status)
{
	begin("r2", "job1");
	runs_block_begin(st, "r2", 0, err, sizeof err);
	ck_assert_int_eq(runs_end(st, "r2", "cancelled", 143, NULL, err, sizeof err), 0);
	cJSON *run;
	ck_assert_int_eq(runs_show(st, "r2", &run, err, sizeof err), 0);
	const cJSON *blocks = get(run, "blocks");
	ck_assert_str_eq(get(cJSON_GetArrayItem(blocks, 0), "status")->valuestring, "cancelled");
	ck_assert_str_eq(get(cJSON_GetArrayItem(blocks, 1), "status")->valuestring, "skipped");
	ck_assert_str_eq(get(run, "job")->valuestring, "job1");
	cJSON_Delete(run);
}
END_TEST

START_TEST(queued_run_is_taken_over_and_ids_are_not_reused)
{
	const char *args[] = { "tap", "target" };
	ck_assert_int_eq(runs_queue(st, "q1", "api", NULL, args, 2, NULL, err, sizeof err), 0);
	ck_assert_int_eq(runs_queue(st, "q1", "api", NULL, args, 2, NULL, err, sizeof err), SMELT_ERR_CONFIG);
	begin("q1", NULL);
	cJSON *run;
	ck_assert_int_eq(runs_show(st, "q1", &run, err, sizeof err), 0);
	ck_assert_str_eq(get(run, "status")->valuestring, "running");
	ck_assert_str_eq(get(run, "trigger")->valuestring, "api");
	cJSON_Delete(run);
	runs_end(st, "q1", "success", 0, NULL, err, sizeof err);
	const char *b[] = { "x" };
	struct runs_start again = { .run_id = "q1", .args = b, .nargs = 1, .blocks = b, .nblocks = 1 };
	ck_assert_int_eq(runs_begin(st, &again, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "was used before"));
}
END_TEST

static int total(const struct runs_query *q)
{
	cJSON *res;
	ck_assert_int_eq(runs_list(st, q, &res, err, sizeof err), 0);
	int n = get(res, "total")->valueint;
	cJSON_Delete(res);
	return n;
}

START_TEST(list_filters_and_pages)
{
	begin("a", "load");
	runs_end(st, "a", "success", 0, NULL, err, sizeof err);
	begin("b", NULL);
	runs_end(st, "b", "failed", 1, "x", err, sizeof err);
	begin("c", "load");
	ck_assert_int_eq(total(&(struct runs_query){ 0 }), 3);
	ck_assert_int_eq(total(&(struct runs_query){ .job = "load" }), 2);
	ck_assert_int_eq(total(&(struct runs_query){ .status = "failed" }), 1);
	ck_assert_int_eq(total(&(struct runs_query){ .status = "running" }), 1);
	ck_assert_int_eq(total(&(struct runs_query){ .since = "1h" }), 3);
	ck_assert_int_eq(total(&(struct runs_query){ .since = "2999-01-01" }), 0);
	cJSON *res;
	ck_assert_int_eq(runs_list(st, &(struct runs_query){ .limit = 1, .offset = 1 }, &res, err, sizeof err), 0);
	ck_assert_int_eq(get(res, "total")->valueint, 3);
	ck_assert_int_eq(cJSON_GetArraySize(get(res, "runs")), 1);
	ck_assert_str_eq(get(cJSON_GetArrayItem(get(res, "runs"), 0), "run_id")->valuestring, "b");
	cJSON_Delete(res);
	ck_assert_int_eq(runs_list(st, &(struct runs_query){ .since = "soon" }, &res, err, sizeof err),
	                 SMELT_ERR_CONFIG);
}
END_TEST

static int pruned;
static void count_pruned(void *arg, const char *id)
{
	(void)arg;
	(void)id;
	pruned++;
}

START_TEST(prune_keeps_newest_and_running)
{
	begin("a", NULL);
	runs_end(st, "a", "success", 0, NULL, err, sizeof err);
	begin("b", NULL);
	runs_end(st, "b", "success", 0, NULL, err, sizeof err);
	begin("c", NULL); /* running */
	sqlite3_exec(store_db(st), "UPDATE run_history SET started_at = '2020-01-0' || rowid || 'T00:00:00.000Z'", 0, 0, 0);
	int removed = -1;
	pruned = 0;
	ck_assert_int_eq(runs_prune(st, 0, NULL, count_pruned, NULL, &removed, err, sizeof err), 0);
	ck_assert_int_eq(removed, 2);
	ck_assert_int_eq(pruned, 2);
	ck_assert_int_eq(total(&(struct runs_query){ 0 }), 1);
	runs_end(st, "c", "success", 0, NULL, err, sizeof err);
	ck_assert_int_eq(runs_prune(st, -1, "2019-12-31", NULL, NULL, &removed, err, sizeof err), 0);
	ck_assert_int_eq(removed, 0);
	ck_assert_int_eq(runs_prune(st, -1, "2020-01-04", NULL, NULL, &removed, err, sizeof err), 0);
	ck_assert_int_eq(removed, 1);
}
END_TEST

START_TEST(parse_since)
{
	char buf[40];
	ck_assert_int_eq(runs_parse_since("2026-12-01", buf, sizeof buf, err, sizeof err), 0);
	ck_assert_str_eq(buf, "2026-12-01T00:00:00.000Z");
	ck_assert_int_eq(runs_parse_since("2026-12-01T10:20:30.5Z", buf, sizeof buf, err, sizeof err), 0);
	ck_assert_str_eq(buf, "2026-12-01T10:20:30.000Z");
	ck_assert_int_eq(runs_parse_since("2026-12-01 10:20", buf, sizeof buf, err, sizeof err), 0);
	ck_assert_str_eq(buf, "2026-12-01T10:20:00.000Z");
	ck_assert_int_eq(runs_parse_since("7d", buf, sizeof buf, err, sizeof err), 0);
	ck_assert_int_eq(runs_parse_since("12h", buf, sizeof buf, err, sizeof err), 0);
	static const char *const bad[] = { "", "7", "7x", "-1d", "2026-13-01", "2026-12-01T25:00", "2026-12-01junk",
		                           "d", "1e9d", "2026-12-01T10:20:30+02:00" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_int_eq(runs_parse_since(bad[i], buf, sizeof buf, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "is not a time"));
}
END_TEST

START_TEST(dead_owner_is_failed)
{
	struct proc_owner me;
	ck_assert_int_eq(proc_owner_self(&me), 0);
	me.start += 12345; /* the same pid with another start time: a reused pid, so gone */
	const char *b[] = { "x" };
	struct runs_start r = { .run_id = "d", .args = b, .nargs = 1, .blocks = b, .nblocks = 1, .owner = &me };
	ck_assert_int_eq(runs_begin(st, &r, err, sizeof err), 0);
	runs_reap_dead(st, NULL, NULL);
	char status[32];
	ck_assert_int_eq(runs_status(st, "d", status, sizeof status, NULL, err, sizeof err), 0);
	ck_assert_str_eq(status, "failed");
	ck_assert_int_eq(proc_owner_self(&me), 0); /* and a live one stays running */
	struct runs_start live = { .run_id = "e", .args = b, .nargs = 1, .blocks = b, .nblocks = 1, .owner = &me };
	ck_assert_int_eq(runs_begin(st, &live, err, sizeof err), 0);
	runs_reap_dead(st, NULL, NULL);
	ck_assert_int_eq(runs_status(st, "e", status, sizeof status, NULL, err, sizeof err), 0);
	ck_assert_str_eq(status, "running");
}
END_TEST

START_TEST(queued_run_of_a_gone_process_is_failed)
{
	/* the server queued it, started its child, and the child died before the run began */
	struct proc_owner me, gone;
	const char *args[] = { "tap", "target" };
	ck_assert_int_eq(proc_owner_self(&me), 0);
	gone = me;
	gone.start += 12345;
	ck_assert_int_eq(runs_queue(st, "qa", "api", NULL, args, 2, &me, err, sizeof err), 0);
	ck_assert_int_eq(runs_queue(st, "qb", "api", NULL, args, 2, &me, err, sizeof err), 0);
	ck_assert_int_eq(runs_queued_owner(st, "qb", &gone, err, sizeof err), 0);
	runs_reap_dead(st, NULL, NULL);
	char status[32];
	ck_assert_int_eq(runs_status(st, "qa", status, sizeof status, NULL, err, sizeof err), 0);
	ck_assert_str_eq(status, "queued"); /* its process lives: it stays queued */
	ck_assert_int_eq(runs_status(st, "qb", status, sizeof status, NULL, err, sizeof err), 0);
	ck_assert_str_eq(status, "failed");
	cJSON *run;
	ck_assert_int_eq(runs_show(st, "qb", &run, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(get(run, "error")->valuestring, "gone before the run began"));
	cJSON_Delete(run);
	/* a run that began is not touched by runs_queued_owner */
	begin("qa", NULL);
	ck_assert_int_eq(runs_queued_owner(st, "qa", &gone, err, sizeof err), 0);
	runs_reap_dead(st, NULL, NULL);
	ck_assert_int_eq(runs_status(st, "qa", status, sizeof status, NULL, err, sizeof err), 0);
	ck_assert_str_eq(status, "running");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runs");
	TCase *tc = tcase_create("history");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, records_blocks_results_and_end);
	tcase_add_test(tc, unfinished_blocks_are_skipped_or_take_the_run_status);
	tcase_add_test(tc, queued_run_is_taken_over_and_ids_are_not_reused);
	tcase_add_test(tc, list_filters_and_pages);
	tcase_add_test(tc, prune_keeps_newest_and_running);
	tcase_add_test(tc, parse_since);
	tcase_add_test(tc, dead_owner_is_failed);
	tcase_add_test(tc, queued_run_of_a_gone_process_is_failed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
