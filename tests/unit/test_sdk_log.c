/* Check suite for host/src/run/sdk_log: the Singer SDK's structured log lines, read as Meltano reads them. */
#include "run/sdk_log.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A line the SDK's StructuredFormatter writes (singer_sdk/logging.py), with extra fields. */
#define WARNING_LINE \
	"{\"level\":\"warning\",\"pid\":4242,\"logger_name\":\"tap-x.things\",\"ts\":1765000000.5," \
	"\"thread_name\":\"MainThread\",\"app_name\":\"singer-sdk\",\"stream_name\":\"things\"," \
	"\"message\":\"slow source\",\"extra\":{\"rows_per_s\":12,\"region\":\"eu\"}}"
#define METRIC_LINE \
	"{\"level\":\"info\",\"pid\":1,\"logger_name\":\"singer_sdk.metrics\",\"ts\":1.5,\"thread_name\":\"MainThread\"," \
	"\"app_name\":\"singer-sdk\",\"stream_name\":null,\"message\":\"METRIC\",\"metric_info\":{\"type\":\"counter\"," \
	"\"metric\":\"record_count\",\"value\":3,\"tags\":{\"stream\":\"things\"}},\"extra\":{}}"

static void teardown(void)
{
	sdk_log_reset();
	log_set_format(LOG_FORMAT_TEXT);
}

START_TEST(parses_a_record_as_meltano)
{
	struct sdk_record r;
	ck_assert_int_eq(sdk_log_parse(WARNING_LINE, strlen(WARNING_LINE), &r), 1);
	ck_assert_int_eq(r.level, SMELT_LOG_WARN);
	ck_assert_str_eq(r.message, "slow source");
	ck_assert(!r.metric);
	/* Meltano's fields: what is left of the record, extra's members, then the renamed ones */
	char *fields = json_print(r.fields);
	ck_assert_str_eq(fields, "{\"pid\":4242,\"thread_name\":\"MainThread\",\"app_name\":\"singer-sdk\","
	                         "\"rows_per_s\":12,\"region\":\"eu\",\"plugin_logger\":\"tap-x.things\","
	                         "\"stream_name\":\"things\"}");
	free(fields);
	sdk_record_release(&r);
}
END_TEST

START_TEST(levels_and_exceptions)
{
	static const struct { const char *level; enum smelt_log_level want; } cases[] = {
		{ "debug", SMELT_LOG_DEBUG }, { "INFO", SMELT_LOG_INFO }, { "warning", SMELT_LOG_WARN },
		{ "error", SMELT_LOG_ERROR }, { "critical", SMELT_LOG_ERROR }, { "whatever", SMELT_LOG_INFO },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *line = xasprintf("{\"level\":\"%s\",\"pid\":1,\"logger_name\":\"x\",\"ts\":1,\"thread_name\":\"t\","
		                       "\"app_name\":\"a\",\"message\":\"m\",\"exception\":{\"type\":\"ValueError\","
		                       "\"message\":\"boom\"}}", cases[i].level);
		struct sdk_record r;
		ck_assert_int_eq(sdk_log_parse(line, strlen(line), &r), 1);
		ck_assert_int_eq(r.level, cases[i].want);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(r.fields, "plugin_exception");
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type")), "ValueError");
		ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r.fields, "exception"));
		sdk_record_release(&r);
		free(line);
	}
}
END_TEST

START_TEST(what_is_not_a_record_is_text)
{
	static const char *const lines[] = {
		"plain text",
		"{\"level\": \"error\", \"message\": \"broken json",                /* cut */
		"{\"level\":\"info\",\"message\":\"m\"}",                              /* fields missing */
		"[1, 2]",
		"{\"level\":5,\"pid\":1,\"logger_name\":\"x\",\"ts\":1,\"thread_name\":\"t\",\"app_name\":\"a\",\"message\":\"m\"}",
		"{\"level\":\"info\",\"pid\":1,\"logger_name\":\"x\",\"ts\":1,\"thread_name\":\"t\",\"app_name\":\"a\","
		"\"message\":\"m\",\"extra\":[1]}",                                     /* Meltano's {**data, **extra} fails */
		"{\"level\":\"info\",\"pid\":1,\"logger_name\":\"x\",\"ts\":1,\"thread_name\":\"t\",\"app_name\":\"a\","
		"\"message\":\"a\\u0000b\"}",                                           /* cJSON would cut the message */
		"{}", "{", "}", "",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		struct sdk_record r;
		ck_assert_msg(sdk_log_parse(lines[i], strlen(lines[i]), &r) == 0, "parsed: %s", lines[i]);
		ck_assert_ptr_null(r.message);
		ck_assert_ptr_null(r.fields);
	}
	/* surrounding blanks are stripped, as Python's str.strip() */
	char *padded = xasprintf("  %s \r", WARNING_LINE);
	struct sdk_record r;
	ck_assert_int_eq(sdk_log_parse(padded, strlen(padded), &r), 1);
	sdk_record_release(&r);
	free(padded);
}
END_TEST

START_TEST(metric_info_is_found)
{
	cJSON *m = sdk_log_metric(METRIC_LINE, strlen(METRIC_LINE));
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "metric")), "record_count");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(m, "value")->valueint, 3);
	cJSON_Delete(m);
	ck_assert_ptr_null(sdk_log_metric(WARNING_LINE, strlen(WARNING_LINE)));
	ck_assert_ptr_null(sdk_log_metric("METRIC: {}", 10));
}
END_TEST

START_TEST(labels_are_registered)
{
	ck_assert(!sdk_log_used("tap-x"));
	sdk_log_use("tap-x", 1);
	sdk_log_use("tap-x", 1);
	sdk_log_use("target-y", 1);
	ck_assert(sdk_log_used("tap-x") && sdk_log_used("target-y"));
	sdk_log_use("tap-x", 0);
	ck_assert(!sdk_log_used("tap-x") && sdk_log_used("target-y"));
	ck_assert(!sdk_log_used(NULL));
}
END_TEST

/* What sdk_log_emit() writes on stderr (read back through a file), and its return value in *rc. */
static char *emitted(const char *label, const char *line, int quiet, int *rc)
{
	char path[] = "/tmp/smelt-test-sdk-log-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	int saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	*rc = sdk_log_emit(label, line, strlen(line), quiet);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	unlink(path);
	return strbuf_detach(&sb);
}

START_TEST(emits_json_lines_with_the_records_fields_scrubbed)
{
	sdk_log_use("tap-x", 1);
	log_set_format(LOG_FORMAT_JSON);
	log_add_secret("hunter22-secret");
	const char *line = "{\"level\":\"error\",\"pid\":9,\"logger_name\":\"tap-x\",\"ts\":1,\"thread_name\":\"Main\","
	                   "\"app_name\":\"singer-sdk\",\"message\":\"login as hunter22-secret failed\","
	                   "\"extra\":{\"dsn\":\"db://u:hunter22-secret@h\",\"hunter22-secret\":1,\"event\":\"spoof\","
	                   "\"level\":\"debug\",\"nested\":{\"k\":[\"hunter22-secret\"]}}}";
	int rc;
	char *out = emitted("tap-x", line, 0, &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(!strstr(out, "hunter22"), "%s", out);
	cJSON *v = cJSON_Parse(out);
	ck_assert_msg(v != NULL, "%s", out);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "event")), "login as ***** failed");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "level")), "error");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "name")), "tap-x");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "stdio")), "stderr");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "dsn")), "db://u:*****@h");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(v, "pid")->valueint, 9);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "plugin_logger")), "tap-x");
	/* a field never shadows the line's own keys: one "event", one "level" */
	ck_assert_int_eq((int)(strstr(out, "\"event\"") - out), 1);
	ck_assert_ptr_null(strstr(strstr(out, "\"level\"") + 1, "\"level\""));
	cJSON_Delete(v);
	free(out);

	/* not a record, or a plugin without structured logging: the caller logs the line as text */
	out = emitted("tap-x", "{\"level\": \"error\", \"message\": \"broken", 0, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
	free(out);
	out = emitted("tap-other", WARNING_LINE, 0, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

START_TEST(text_format_shows_the_message_at_its_level)
{
	sdk_log_use("tap-x", 1);
	int rc;
	char *out = emitted("tap-x", WARNING_LINE, 0, &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(out, "tap-x warning: slow source\n");
	free(out);
	/* a METRIC record is debug detail in text, as the SDK's plain METRIC lines are */
	out = emitted("tap-x", METRIC_LINE, 0, &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(out, "");
	free(out);
	log_set_level(SMELT_LOG_DEBUG);
	out = emitted("tap-x", METRIC_LINE, 0, &rc);
	ck_assert_str_eq(out, "tap-x debug: METRIC: {\"type\":\"counter\",\"metric\":\"record_count\",\"value\":3,"
	                      "\"tags\":{\"stream\":\"things\"}}\n");
	free(out);
	log_set_level(SMELT_LOG_INFO);
	/* a quiet stage's info lines are debug lines; its warnings stay warnings */
	const char *info = "{\"level\":\"info\",\"pid\":1,\"logger_name\":\"x\",\"ts\":1,\"thread_name\":\"t\","
	                   "\"app_name\":\"a\",\"message\":\"hello\"}";
	out = emitted("tap-x", info, 1, &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(out, "");
	free(out);
	out = emitted("tap-x", WARNING_LINE, 1, &rc);
	ck_assert_str_eq(out, "tap-x warning: slow source\n");
	free(out);
}
END_TEST

START_TEST(text_format_prints_a_records_exception_as_python)
{
	sdk_log_use("tap-x", 1);
	const char *line = "{\"level\":\"error\",\"pid\":1,\"logger_name\":\"tap-x\",\"ts\":1,\"thread_name\":\"t\","
	                   "\"app_name\":\"singer-sdk\",\"message\":\"sync failed\",\"exception\":{\"type\":\"ValueError\","
	                   "\"module\":\"builtins\",\"message\":\"bad row\",\"traceback\":[{\"filename\":\"/t/tap.py\","
	                   "\"function\":\"get_records\",\"lineno\":12,\"line\":\"        raise ValueError('bad row')\\n\"}],"
	                   "\"cause\":{\"type\":\"KeyError\",\"module\":\"builtins\",\"message\":\"'id'\"}}}";
	int rc;
	char *out = emitted("tap-x", line, 0, &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(out, "tap-x error: sync failed\n"
	                      "tap-x error: KeyError: 'id'\n"
	                      "tap-x error: The above exception was the direct cause of the following exception:\n"
	                      "tap-x error: Traceback (most recent call last):\n"
	                      "tap-x error:   File \"/t/tap.py\", line 12, in get_records\n"
	                      "tap-x error:     raise ValueError('bad row')\n"
	                      "tap-x error: ValueError: bad row\n");
	free(out);
	/* JSON: one line, the exception a field */
	log_set_format(LOG_FORMAT_JSON);
	out = emitted("tap-x", line, 0, &rc);
	ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "%s", out); /* one line */
	cJSON *v = cJSON_Parse(out);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, "plugin_exception");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type")), "ValueError");
	cJSON_Delete(v);
	free(out);
}
END_TEST

START_TEST(key_value_format_carries_the_fields)
{
	sdk_log_use("tap-x", 1);
	log_set_format(LOG_FORMAT_KV);
	int rc;
	char *out = emitted("tap-x", WARNING_LINE, 0, &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(!strncmp(out, "event='slow source' name='tap-x' stdio='stderr' pid=4242 thread_name='MainThread' "
	                            "app_name='singer-sdk' rows_per_s=12 region='eu' plugin_logger='tap-x.things' "
	                            "stream_name='things' level='warning' timestamp=", 160), "%s", out);
	free(out);
	/* other values as Python's repr() of them, as structlog writes them */
	out = emitted("tap-x", METRIC_LINE, 0, &rc);
	ck_assert_msg(strstr(out, " metric_info={'type': 'counter', 'metric': 'record_count', 'value': 3, "
	                          "'tags': {'stream': 'things'}} "), "%s", out);
	free(out);
	const char *line = "{\"level\":\"info\",\"pid\":1,\"logger_name\":\"x\",\"ts\":1,\"thread_name\":\"t\","
	                   "\"app_name\":\"a\",\"message\":\"m\",\"extra\":{\"ok\":true,\"no\":false,"
	                   "\"list\":[1,\"it's\",null,2.5]}}";
	out = emitted("tap-x", line, 0, &rc);
	ck_assert_msg(strstr(out, " ok=True no=False list=[1, \"it's\", None, 2.5] "), "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sdk_log");
	TCase *tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, parses_a_record_as_meltano);
	tcase_add_test(tc, levels_and_exceptions);
	tcase_add_test(tc, what_is_not_a_record_is_text);
	tcase_add_test(tc, metric_info_is_found);
	tcase_add_test(tc, labels_are_registered);
	suite_add_tcase(s, tc);
	tc = tcase_create("emit");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, emits_json_lines_with_the_records_fields_scrubbed);
	tcase_add_test(tc, text_format_shows_the_message_at_its_level);
	tcase_add_test(tc, text_format_prints_a_records_exception_as_python);
	tcase_add_test(tc, key_value_format_carries_the_fields);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
