/*
 * Check suite for host/src/run/history.c: what a run's blocks reported
 * (the adapters' events) lands in the run history, by kind only.
 */
#include "run/history.h"
#include "project/project.h"
#include "run/blocks.h"
#include "run/runtime.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/smelt-test-history-XXXXXX";
static struct project proj;
static struct runtime rt;

static void setup(void)
{
	strcpy(dir, "/tmp/smelt-test-history-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&proj, 0, sizeof proj);
	memset(&rt, 0, sizeof rt);
	proj.root = dir;
	proj.sys_dir = path_join(dir, ".smelt");
	rt.project = &proj;
	rt.run_id = strdup("h1");
	rt.run_log_dir = xasprintf("%s/.smelt/logs/h1", dir);
}

static void teardown(void)
{
	for (size_t i = 0; i < rt.nevents; i++) {
		free(rt.events[i].source);
		free(rt.events[i].item);
		free(rt.events[i].status);
		free(rt.events[i].message);
	}
	free(rt.events);
	store_close(rt.store);
	free(rt.run_id);
	free(rt.run_log_dir);
	free(proj.sys_dir);
	remove_tree(dir);
}

static void event(enum smelt_event_kind kind, size_t block, const char *item, const char *status, long long count)
{
	rt.events = realloc(rt.events, (rt.nevents + 1) * sizeof *rt.events);
	rt.events[rt.nevents++] = (struct rt_event){ .kind = kind, .source = strdup("x"), .item = item ? strdup(item) : NULL,
		                                     .status = status ? strdup(status) : NULL, .count = count,
		                                     .seconds = 0.25, .block = block };
}

START_TEST(blocks_streams_and_results_are_recorded)
{
	struct block items[2] = { { .kind = BLOCK_EL, .text = "tap-x target-y" },
		                  { .kind = BLOCK_COMMAND, .text = "tool:build" } };
	struct block_list bl = { items, 2 };
	char *args[] = { "tap-x", "target-y", "tool:build" };
	history_run_begin(&rt, args, 3, args, 3, &bl);
	history_block_begin(&rt, 0);
	event(SMELT_EV_COUNT, 1, "stream orders", NULL, 4);
	event(SMELT_EV_COUNT, 1, "stream users", NULL, 2);
	event(SMELT_EV_COUNT, 1, "tap-x", NULL, 999); /* bytes moved, not a stream */
	history_block_end(&rt, 0, 0, 1.0);
	history_block_begin(&rt, 1);
	event(SMELT_EV_RESULT, 2, "model.p.orders", "success", -1);
	event(SMELT_EV_RESULT, 2, "test.p.unique_id", "fail", 1);
	event(SMELT_EV_RESULT, 2, "orders_not_empty", "pass", -1);
	history_block_end(&rt, 1, SMELT_ERR_FAILED, 2.0);
	history_run_end(&rt, SMELT_ERR_FAILED, 1, "block 2/2 'tool:build' failed");

	cJSON *run;
	char err[SMELT_ERRBUF_SIZE];
	ck_assert_int_eq(runs_show(rt.store, "h1", &run, err, sizeof err), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(run, "status")->valuestring, "failed");
	ck_assert_str_eq(cJSON_GetObjectItem(run, "log_path")->valuestring, ".smelt/logs/h1/run.log");
	ck_assert_int_eq(cJSON_GetObjectItem(run, "rows")->valueint, 6);
	cJSON *b0 = cJSON_GetArrayItem(cJSON_GetObjectItem(run, "blocks"), 0);
	cJSON *b1 = cJSON_GetArrayItem(cJSON_GetObjectItem(run, "blocks"), 1);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(b0, "streams"), "orders")->valueint, 4);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(b0, "streams"), "users")->valueint, 2);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b0, "streams")), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(b0, "status")->valuestring, "success");
	ck_assert_str_eq(cJSON_GetObjectItem(b1, "status")->valuestring, "failed");
	cJSON *results = cJSON_GetObjectItem(b1, "results");
	ck_assert_int_eq(cJSON_GetArraySize(results), 3);
	cJSON *r1 = cJSON_GetArrayItem(results, 1), *r2 = cJSON_GetArrayItem(results, 2);
	ck_assert_str_eq(cJSON_GetObjectItem(r1, "item")->valuestring, "test.p.unique_id");
	ck_assert_str_eq(cJSON_GetObjectItem(r1, "kind")->valuestring, "test");
	ck_assert_str_eq(cJSON_GetObjectItem(r1, "status")->valuestring, "fail");
	ck_assert_int_eq(cJSON_GetObjectItem(r1, "count")->valueint, 1);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r2, "kind")));
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(b1, "summary")->valuestring, "1 failed"));
	cJSON_Delete(run);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("record");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, blocks_streams_and_results_are_recorded);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
