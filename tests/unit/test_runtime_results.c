/*
 * Check suite for the run table's results phrase (runtime_block_result in
 * host/src/run/runtime.c): results are counted by the kind the adapter
 * reports in detail_json and ordered by its kind_order, whatever the tool.
 */
#include "run/runtime.h"
#include "util/strbuf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static struct runtime rt;

static void result(size_t block, const char *item, const char *status, const char *detail)
{
	rt.events = xrealloc(rt.events, (rt.nevents + 1) * sizeof *rt.events);
	rt.events[rt.nevents++] = (struct rt_event){ .kind = SMELT_EV_RESULT, .item = (char *)item,
	                                             .status = (char *)status, .count = -1, .seconds = -1,
	                                             .block = block, .detail = (char *)detail };
}

static void setup(void)
{
	memset(&rt, 0, sizeof rt);
}

static void teardown(void)
{
	free(rt.events);
}

static char *phrase(size_t block)
{
	struct strbuf sb = STRBUF_INIT;
	runtime_block_result(&rt, block, &sb);
	return strbuf_detach(&sb);
}

START_TEST(kinds_from_detail_in_their_order)
{
	/* a build's results in DAG order: the table lists seeds, models, then tests */
	result(1, "orders_not_null", "pass", "{\"kind\": \"test\", \"kind_order\": 3}");
	result(1, "orders", "success", "{\"kind\": \"model\", \"kind_order\": 2}");
	result(1, "customers_unique", "fail", "{\"kind\": \"test\", \"kind_order\": 3}");
	result(1, "raw_customers", "success", "{\"kind\": \"seed\", \"kind_order\": 0}");
	result(1, "customers", "success", "{\"kind\": \"model\", \"kind_order\": 2}");
	result(1, "my_source", "pass", "{\"kind\": \"source\"}"); /* no order: last */
	result(2, "other", "pass", "{\"kind\": \"model\", \"kind_order\": 2}");
	char *got = phrase(1);
	ck_assert_str_eq(got, "1 seed, 2 models, 2 tests, 1 source: 5 passed, 1 failed");
	free(got);
}
END_TEST

START_TEST(without_detail_first_word_else_check)
{
	result(1, "dataset warehouse.orders", "ok", NULL);
	result(1, "dataset warehouse.customers", "ok", "{\"other\": 1}");
	result(1, "model.p.m", "success", NULL); /* a dotted id is no kind by itself */
	result(1, "suite: expect values", "fail", "not json");
	char *got = phrase(1);
	ck_assert_str_eq(got, "2 datasets, 2 checks: 3 passed, 1 failed");
	free(got);
	got = phrase(3);
	ck_assert_str_eq(got, "");
	free(got);
}
END_TEST

static Suite *results_suite(void)
{
	Suite *s = suite_create("runtime_results");
	TCase *tc = tcase_create("phrase");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kinds_from_detail_in_their_order);
	tcase_add_test(tc, without_detail_first_word_else_check);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(results_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
