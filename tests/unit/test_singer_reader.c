/*
 * Check suite for the native targets' message reader: the JSON tokenizer
 * (plugins/singer/connectors/json.c) and Singer message validation
 * (singer_reader.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "singer_reader.h"

static struct conn_reader reader;
static char err[512];

static void setup(void)
{
	conn_reader_init(&reader);
	err[0] = '\0';
}

static void teardown(void)
{
	conn_reader_release(&reader);
}

static int feed(const char *line, struct conn_msg *m)
{
	return conn_reader_feed(&reader, line, strlen(line), m, err, sizeof(err));
}

START_TEST(json_valid_texts)
{
	struct conn_json j = {0};
	const char *ok[] = {"{}", "[]", " 1 ", "-0.5e+3", "\"\\u00e9\\ud83d\\ude00\"", "null",
	                    "{\"a\":[1,{\"b\":null}],\"c\":true}", "[\"\xC3\xA9\"]"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(conn_json_parse(&j, ok[i], strlen(ok[i])) == 0, "%s: %s", ok[i], j.err);
	conn_json_release(&j);
}
END_TEST

START_TEST(json_invalid_texts)
{
	struct conn_json j = {0};
	const char *bad[] = {"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "01", "1.", "-", "tru",
	                     "\"\\x\"", "\"\\u12\"", "\"a\nb\"", "{} {}", "\"\xff\"", "{'a':1}",
	                     "[1 2]", "\"unterminated"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(conn_json_parse(&j, bad[i], strlen(bad[i])) == -1, "accepted: %s", bad[i]);
	conn_json_release(&j);
}
END_TEST

START_TEST(json_depth_limit)
{
	struct conn_json j = {0};
	size_t n = CONN_JSON_MAX_DEPTH + 10;
	char *deep = malloc(2 * n + 1);

	for (size_t i = 0; i < n; i++) {
		deep[i] = '[';
		deep[n + i] = ']';
	}
	deep[2 * n] = '\0';
	ck_assert_int_eq(conn_json_parse(&j, deep, 2 * n), -1);
	ck_assert_str_eq(j.err, "nesting too deep");
	free(deep);
	conn_json_release(&j);
}
END_TEST

START_TEST(json_unescape_and_compact)
{
	struct conn_json j = {0};
	struct conn_buf b = CONN_BUF_INIT;
	const char *t = "{ \"s\" : \"a\\\"\\n\\u00e9\\ud83d\\ude00\\ud800x\" , \"o\" : { \"k\" : [ 1 , \" x \" ] } }";
	size_t v;
	char out[128];

	ck_assert_int_eq(conn_json_parse(&j, t, strlen(t)), 0);
	v = conn_json_get(&j, 0, "s");
	conn_json_string(&j, v, &b);
	ck_assert_str_eq(b.data, "a\"\n\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBDx");
	v = conn_json_get(&j, 0, "o");
	out[conn_json_compact(&j, v, out)] = '\0';
	ck_assert_str_eq(out, "{\"k\":[1,\" x \"]}");
	ck_assert_uint_eq(conn_json_get(&j, 0, "missing"), CONN_JNONE);
	conn_buf_release(&b);
	conn_json_release(&j);
}
END_TEST

START_TEST(json_numbers)
{
	struct conn_json j = {0};
	long long v;

	ck_assert_int_eq(conn_json_parse(&j, "[9007199254740993,1.0,1.5,1e2,99999999999999999999]", 51), 0);
	ck_assert_int_eq(conn_json_int(&j, 1, &v), 0);
	ck_assert(v == 9007199254740993LL);
	ck_assert_int_eq(conn_json_int(&j, 2, &v), 0);
	ck_assert(v == 1);
	ck_assert_int_eq(conn_json_int(&j, 3, &v), -1);
	ck_assert_int_eq(conn_json_int(&j, 4, &v), 0);
	ck_assert(v == 100);
	ck_assert_int_eq(conn_json_int(&j, 5, &v), -1);
	ck_assert(conn_json_double(&j, 3) == 1.5);
	conn_json_release(&j);
	ck_assert_int_eq(conn_json_parse(&j, "[0.1,-2.675,123456.789012]", 26), 0);
	ck_assert(conn_json_double(&j, 1) == 0.1);
	ck_assert(conn_json_double(&j, 2) == -2.675);
	ck_assert(conn_json_double(&j, 3) == 123456.789012);
	conn_json_release(&j);
}
END_TEST

#define SCHEMA_USERS \
	"{\"type\":\"SCHEMA\",\"stream\":\"users\",\"key_properties\":[\"id\"]," \
	"\"schema\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}," \
	"\"name\":{\"type\":[\"string\",\"null\"]},\"score\":{\"type\":\"number\"}," \
	"\"ok\":{\"type\":\"boolean\"},\"tags\":{\"anyOf\":[{\"type\":\"array\"},{\"type\":\"null\"}]}," \
	"\"any\":{}}}}"

START_TEST(reader_schema_then_records)
{
	struct conn_msg m;
	struct conn_stream *s;

	ck_assert_int_eq(feed(SCHEMA_USERS, &m), 0);
	ck_assert_int_eq(m.type, CONN_MSG_SCHEMA);
	s = m.stream;
	ck_assert_str_eq(s->name, "users");
	ck_assert_uint_eq(s->ncols, 6);
	ck_assert_uint_eq(s->nkeys, 1);
	ck_assert_int_eq(s->cols[0].is_key, 1);
	ck_assert_uint_eq(s->cols[0].types, CONN_TY_INTEGER);
	ck_assert_uint_eq(s->cols[4].types, CONN_TY_ARRAY | CONN_TY_NULL);
	ck_assert_uint_eq(s->cols[5].types, CONN_TY_ANY);
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":1.0,\"name\":null,"
	                      "\"score\":2,\"ok\":true,\"tags\":[1],\"any\":{},\"extra\":1},"
	                      "\"version\":7,\"time_extracted\":\"2024-01-01T00:00:00Z\"}", &m), 0);
	ck_assert_int_eq(m.type, CONN_MSG_RECORD);
	ck_assert_uint_eq(s->records, 1);
	ck_assert_uint_eq(s->unknown, 1);
	ck_assert_int_eq(m.has_version, 1);
	ck_assert_int_eq(m.version, 7);
	ck_assert_uint_ne(m.time_extracted, CONN_JNONE);
	ck_assert_uint_ne(s->slot[0], CONN_JNONE);
	ck_assert_int_eq(reader.json.tok[s->slot[2]].type, CONN_J_NUMBER);
	/* missing fields map to no token */
	ck_assert_int_eq(feed("{\"type\":\"record\",\"stream\":\"users\",\"record\":{\"id\":2}}", &m), 0);
	ck_assert_uint_eq(s->slot[1], CONN_JNONE);
	ck_assert_uint_eq(s->records, 2);
}
END_TEST

START_TEST(reader_type_mismatch_names_stream_record_field)
{
	struct conn_msg m;

	ck_assert_int_eq(feed(SCHEMA_USERS, &m), 0);
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":1}}", &m), 0);
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":2}}", &m), 0);
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":\"abc\"}}", &m), -1);
	ck_assert_str_eq(err, "stream 'users': record 3: field 'id': expected integer, got string \"abc\"");
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":1.5}}", &m), -1);
	ck_assert_ptr_nonnull(strstr(err, "record 4: field 'id'"));
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"ok\":1}}", &m), -1);
	ck_assert_ptr_nonnull(strstr(err, "field 'ok': expected boolean"));
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"name\":5}}", &m), -1);
	ck_assert_ptr_nonnull(strstr(err, "field 'name': expected string|null, got number"));
}
END_TEST

START_TEST(reader_record_errors)
{
	struct conn_msg m;

	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"ghost\",\"record\":{}}", &m), -1);
	ck_assert_str_eq(err, "stream 'ghost': record 1: RECORD before any SCHEMA for the stream");
	ck_assert_int_eq(feed(SCHEMA_USERS, &m), 0);
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":[1]}", &m), -1);
	ck_assert_str_eq(err, "stream 'users': record 1: 'record' is not an object (got array)");
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"record\":{}}", &m), -1);
	ck_assert_ptr_nonnull(strstr(err, "has no 'stream'"));
}
END_TEST

START_TEST(reader_bad_lines)
{
	struct conn_msg m;

	ck_assert_int_eq(feed("", &m), 0);
	ck_assert_int_eq(m.type, CONN_MSG_BLANK);
	ck_assert_int_eq(feed("{\"type\":", &m), -1);
	ck_assert_ptr_nonnull(strstr(err, "line 2: invalid JSON"));
	ck_assert_int_eq(feed("[1]", &m), -1);
	ck_assert_str_eq(err, "line 3: message is not a JSON object");
	ck_assert_int_eq(feed("{\"stream\":\"x\"}", &m), -1);
	ck_assert_str_eq(err, "line 4: message has no 'type'");
	ck_assert_int_eq(feed("{\"type\":\"BATCH\",\"stream\":\"x\"}", &m), 0);
	ck_assert_int_eq(m.type, CONN_MSG_UNKNOWN);
	ck_assert_int_eq(feed("{\"type\":\"STATE\",\"value\":{\"a\":1}}", &m), 0);
	ck_assert_int_eq(m.type, CONN_MSG_STATE);
	ck_assert_int_eq(feed("{\"type\":\"STATE\"}", &m), -1);
}
END_TEST

START_TEST(reader_schema_errors_and_evolution)
{
	struct conn_msg m;
	struct conn_stream *s;

	ck_assert_int_eq(feed("{\"type\":\"SCHEMA\",\"stream\":\"a\",\"schema\":{}}", &m), -1);
	ck_assert_ptr_nonnull(strstr(err, "no 'schema.properties'"));
	ck_assert_int_eq(feed("{\"type\":\"SCHEMA\",\"stream\":\"a\",\"key_properties\":[\"nope\"],"
	                      "\"schema\":{\"properties\":{\"x\":{}}}}", &m), -1);
	ck_assert_ptr_nonnull(strstr(err, "key property 'nope' is not in the schema"));
	ck_assert_int_eq(feed("{\"type\":\"SCHEMA\",\"stream\":\"a\",\"key_properties\":[],"
	                      "\"schema\":{\"properties\":{\"x\":{\"type\":\"integer\"}}}}", &m), 0);
	s = m.stream;
	ck_assert_int_eq(feed("{\"type\":\"SCHEMA\",\"stream\":\"a\",\"key_properties\":[],"
	                      "\"schema\":{\"properties\":{\"x\":{\"type\":\"integer\"},\"y\":{\"type\":\"string\"}}}}", &m), 0);
	ck_assert_ptr_eq(m.stream, s);
	ck_assert_uint_eq(s->ncols, 2);
	ck_assert_uint_eq(s->schemas, 2);
	ck_assert_int_eq(feed("{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"a\",\"version\":3}", &m), 0);
	ck_assert_int_eq(m.type, CONN_MSG_ACTIVATE_VERSION);
	ck_assert_int_eq(m.version, 3);
}
END_TEST

/* issue 18 item 14: a RECORD without one of its stream's key properties is refused */
START_TEST(reader_missing_or_null_key_property)
{
	struct conn_msg m;

	ck_assert_int_eq(feed(SCHEMA_USERS, &m), 0);
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"name\":\"a\"}}", &m), -1);
	ck_assert_str_eq(err, "line 2: stream 'users': record 1: key property 'id' is missing");
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":null,\"name\":\"a\"}}", &m), -1);
	ck_assert_str_eq(err, "line 3: stream 'users': record 2: key property 'id' is null");
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":0}}", &m), 0);
	/* a composite key: each part is needed */
	ck_assert_int_eq(feed("{\"type\":\"SCHEMA\",\"stream\":\"c\",\"key_properties\":[\"a\",\"b\"],"
	                      "\"schema\":{\"properties\":{\"a\":{},\"b\":{},\"v\":{}}}}", &m), 0);
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"c\",\"record\":{\"a\":1,\"v\":2}}", &m), -1);
	ck_assert_str_eq(err, "line 6: stream 'c': record 1: key property 'b' is missing");
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"c\",\"record\":{\"a\":\"\",\"b\":false}}", &m), 0);
	/* without key properties nothing is required */
	ck_assert_int_eq(feed("{\"type\":\"SCHEMA\",\"stream\":\"n\",\"key_properties\":[],"
	                      "\"schema\":{\"properties\":{\"a\":{}}}}", &m), 0);
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"n\",\"record\":{}}", &m), 0);
}
END_TEST

/* A SCHEMA of n properties with each name twice: linear work, first occurrence wins, then the cap */
static char *wide_schema(size_t n, int twice)
{
	struct conn_buf b = CONN_BUF_INIT;

	conn_buf_adds(&b, "{\"type\":\"SCHEMA\",\"stream\":\"w\",\"key_properties\":[\"c0\"],"
	                  "\"schema\":{\"properties\":{");
	for (size_t i = 0; i < n; i++)
		for (int t = 0; t <= twice; t++)
			conn_buf_addf(&b, "%s\"c%zu\":{\"type\":\"%s\"}", i || t ? "," : "", i,
			              t ? "string" : "integer");
	conn_buf_adds(&b, "}}}");
	return b.data;
}

START_TEST(reader_wide_schema)
{
	struct conn_msg m;
	char *line = wide_schema(100000, 1);

	ck_assert_int_eq(feed(line, &m), 0);
	ck_assert_uint_eq(m.stream->ncols, 100000);
	ck_assert_uint_eq(m.stream->cols[99999].types, CONN_TY_INTEGER);
	ck_assert_int_eq(feed("{\"type\":\"RECORD\",\"stream\":\"w\",\"record\":{\"c0\":1,\"c99999\":2}}", &m), 0);
	free(line);
	line = wide_schema(CONN_MAX_COLUMNS + 1, 0);
	ck_assert_int_eq(feed(line, &m), -1);
	ck_assert_str_eq(err, "line 3: SCHEMA for stream 'w' has 200001 properties, more than the limit of 200000");
	free(line);
}
END_TEST

static Suite *reader_suite(void)
{
	Suite *s = suite_create("singer_reader");
	struct { const char *name; const TTest *fn; } cases[] = {
		{"json_valid_texts", json_valid_texts},
		{"json_invalid_texts", json_invalid_texts},
		{"json_depth_limit", json_depth_limit},
		{"json_unescape_and_compact", json_unescape_and_compact},
		{"json_numbers", json_numbers},
		{"schema_then_records", reader_schema_then_records},
		{"type_mismatch", reader_type_mismatch_names_stream_record_field},
		{"record_errors", reader_record_errors},
		{"bad_lines", reader_bad_lines},
		{"schema_errors_and_evolution", reader_schema_errors_and_evolution},
		{"missing_or_null_key_property", reader_missing_or_null_key_property},
		{"wide_schema", reader_wide_schema},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reader_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
