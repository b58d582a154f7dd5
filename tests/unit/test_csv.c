/*
 * Check suite for the native connectors' CSV reader (RFC 4180 corner
 * cases), the JSON string escaper and tap-csv's type inference
 * (plugins/singer/connectors/csv.c, json.c).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "json.h"

/* Parse all of text; rows joined as "a|b|c\n" into out.  Returns the last status. */
static int parse_all(const char *text, size_t len, char delim, char quote, size_t expect,
                     struct conn_buf *out, unsigned long *lines)
{
	struct csv_parser p;
	int rc, nrow = 0;

	ck_assert_int_eq(csv_init_mem(&p, text, len, delim, quote), 0);
	p.expect_fields = expect;
	while ((rc = csv_next(&p)) == CSV_ROW) {
		for (size_t i = 0; i < p.nfields; i++) {
			size_t n;
			const char *f = csv_field(&p, i, &n);

			if (i)
				conn_buf_addc(out, '|');
			conn_buf_add(out, f, n);
		}
		conn_buf_addc(out, '\n');
		if (lines)
			lines[nrow++] = p.row_line;
	}
	if (rc == CSV_ERR && lines)
		lines[nrow] = p.err_line;
	csv_release(&p);
	return rc;
}

#define CHECK_CSV(text, want)                                                               \
	do {                                                                                \
		struct conn_buf out_ = CONN_BUF_INIT;                                       \
		ck_assert_int_eq(parse_all(text, sizeof(text) - 1, 0, 0, 0, &out_, NULL), CSV_EOF); \
		ck_assert_str_eq(out_.data ? out_.data : "", want);                         \
		conn_buf_release(&out_);                                                    \
	} while (0)

START_TEST(csv_simple_rows)
{
	CHECK_CSV("a,b,c\n1,2,3\n", "a|b|c\n1|2|3\n");
}
END_TEST

START_TEST(csv_quoted_delimiters)
{
	CHECK_CSV("\"a,b\",c\n", "a,b|c\n");
	CHECK_CSV("x,\"1,2,3\"\n", "x|1,2,3\n");
}
END_TEST

START_TEST(csv_doubled_quotes)
{
	CHECK_CSV("\"say \"\"hi\"\"\",\"\"\"\"\n", "say \"hi\"|\"\n");
}
END_TEST

START_TEST(csv_embedded_newlines)
{
	struct conn_buf out = CONN_BUF_INIT;
	unsigned long lines[8];
	const char text[] = "id,t\n1,\"a\nb\"\n2,\"c\r\nd\"\n3,\"e\rf\"\n4,x\n";

	ck_assert_int_eq(parse_all(text, sizeof(text) - 1, 0, 0, 0, &out, lines), CSV_EOF);
	ck_assert_str_eq(out.data, "id|t\n1|a\nb\n2|c\r\nd\n3|e\rf\n4|x\n");
	/* rows start on physical lines 1, 2, 4, 6, 8 */
	ck_assert_uint_eq(lines[1], 2);
	ck_assert_uint_eq(lines[2], 4);
	ck_assert_uint_eq(lines[3], 6);
	ck_assert_uint_eq(lines[4], 8);
	conn_buf_release(&out);
}
END_TEST

START_TEST(csv_crlf_line_ends)
{
	CHECK_CSV("a,b\r\n1,2\r\n", "a|b\n1|2\n");
	CHECK_CSV("a,b\r1,2\r", "a|b\n1|2\n");	/* old Mac line ends */
}
END_TEST

START_TEST(csv_bom_skipped)
{
	CHECK_CSV("\xEF\xBB\xBFid,name\n1,x\n", "id|name\n1|x\n");
	CHECK_CSV("\xEF\xBB\xBF", "");
}
END_TEST

START_TEST(csv_last_line_without_newline)
{
	CHECK_CSV("a,b\n1,2", "a|b\n1|2\n");
	CHECK_CSV("a,b\n1,\"2\"", "a|b\n1|2\n");
	CHECK_CSV("a,b\n1,", "a|b\n1|\n");
}
END_TEST

START_TEST(csv_empty_fields)
{
	CHECK_CSV("a,,c\n,,\n\"\",x,\"\"\n", "a||c\n||\n|x|\n");
}
END_TEST

START_TEST(csv_blank_lines_skipped)
{
	CHECK_CSV("a\n\n1\r\n\r\n2\n\n", "a\n1\n2\n");
	CHECK_CSV("", "");
}
END_TEST

START_TEST(csv_custom_delimiter_and_quote)
{
	struct conn_buf out = CONN_BUF_INIT;
	const char text[] = "a;'b;c';'it''s'\n";

	ck_assert_int_eq(parse_all(text, sizeof(text) - 1, ';', '\'', 0, &out, NULL), CSV_EOF);
	ck_assert_str_eq(out.data, "a|b;c|it's\n");
	conn_buf_release(&out);
}
END_TEST

START_TEST(csv_unterminated_quote)
{
	struct csv_parser p;
	const char text[] = "a,b\n1,2\n3,\"open\nstill open\n";

	csv_init_mem(&p, text, sizeof(text) - 1, 0, 0);
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_int_eq(csv_next(&p), CSV_ERR);
	ck_assert_str_eq(p.err, "unterminated quoted field");
	ck_assert_uint_eq(p.err_line, 3);
	ck_assert_int_eq(csv_next(&p), CSV_EOF);
	csv_release(&p);
}
END_TEST

START_TEST(csv_text_after_closing_quote)
{
	struct csv_parser p;
	const char text[] = "a,b\n\"x\"y,2\n3,4\n";

	csv_init_mem(&p, text, sizeof(text) - 1, 0, 0);
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_int_eq(csv_next(&p), CSV_ERR);
	ck_assert_str_eq(p.err, "text after closing quote");
	ck_assert_uint_eq(p.err_line, 2);
	/* the reader goes on with the next row */
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_str_eq(csv_field(&p, 0, NULL), "3");
	ck_assert_uint_eq(p.row_line, 3);
	ck_assert_int_eq(csv_next(&p), CSV_EOF);
	csv_release(&p);
}
END_TEST

START_TEST(csv_field_count_mismatch)
{
	struct csv_parser p;
	const char text[] = "a,b\n1,2\n1,2,3\n4\n5,6\n";

	csv_init_mem(&p, text, sizeof(text) - 1, 0, 0);
	p.expect_fields = 2;
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_int_eq(csv_next(&p), CSV_ERR);
	ck_assert_str_eq(p.err, "expected 2 fields, found 3");
	ck_assert_uint_eq(p.err_line, 3);
	ck_assert_int_eq(csv_next(&p), CSV_ERR);
	ck_assert_uint_eq(p.err_line, 4);
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_str_eq(csv_field(&p, 1, NULL), "6");
	csv_release(&p);
}
END_TEST

/* A descriptor input where fields and CRLFs straddle the read buffer. */
START_TEST(csv_fd_large_fields)
{
	char path[] = "/tmp/test_csv_XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct csv_parser p;
	size_t big = 700000, n;
	char *val = malloc(big + 1);
	const char *got;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	for (size_t i = 0; i < big; i++)
		val[i] = (char)('a' + i % 26);
	val[big] = '\0';
	fprintf(f, "\xEF\xBB\xBFk,v\r\n");
	for (int r = 0; r < 3; r++)
		fprintf(f, "%d,\"%s\"\"x\r\ny\"\r\n", r, val);
	fprintf(f, "9,%s", val);
	fflush(f);
	fd = open(path, 0);
	ck_assert_int_eq(csv_init_fd(&p, fd, 0, 0), 0);
	p.expect_fields = 2;
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_str_eq(csv_field(&p, 0, NULL), "k");
	for (int r = 0; r < 3; r++) {
		ck_assert_int_eq(csv_next(&p), CSV_ROW);
		ck_assert_uint_eq(p.row_line, 2 + 2 * (unsigned long)r);
		got = csv_field(&p, 1, &n);
		ck_assert_uint_eq(n, big + 5);
		ck_assert_int_eq(memcmp(got, val, big), 0);
		ck_assert_int_eq(memcmp(got + big, "\"x\r\ny", 5), 0);
	}
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	got = csv_field(&p, 1, &n);
	ck_assert_uint_eq(n, big);
	ck_assert_int_eq(csv_next(&p), CSV_EOF);
	csv_release(&p);
	close(fd);
	fclose(f);
	unlink(path);
	free(val);
}
END_TEST

static char *escape(const char *s, size_t n, int *rc)
{
	static struct conn_buf b;

	conn_buf_reset(&b);
	*rc = conn_json_escape(&b, s, n);
	return b.data;
}

START_TEST(json_escape_specials)
{
	int rc;

	ck_assert_str_eq(escape("plain", 5, &rc), "\"plain\"");
	ck_assert_str_eq(escape("a\"b\\c", 5, &rc), "\"a\\\"b\\\\c\"");
	ck_assert_str_eq(escape("\n\r\t\b\f", 5, &rc), "\"\\n\\r\\t\\b\\f\"");
	ck_assert_str_eq(escape("\x01\x1f", 2, &rc), "\"\\u0001\\u001f\"");
	ck_assert_str_eq(escape("a\0b", 3, &rc), "\"a\\u0000b\"");
	ck_assert_str_eq(escape("", 0, &rc), "\"\"");
	ck_assert_str_eq(escape("/", 1, &rc), "\"/\"");
	ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(json_escape_utf8)
{
	int rc;

	ck_assert_str_eq(escape("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", 15, &rc),
	                 "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\"");
	ck_assert_int_eq(rc, 0);
	escape("\xC3", 1, &rc);             /* truncated */
	ck_assert_int_eq(rc, -1);
	escape("\xC0\xAF", 2, &rc);         /* overlong */
	ck_assert_int_eq(rc, -1);
	escape("\xED\xA0\x80", 3, &rc);     /* surrogate */
	ck_assert_int_eq(rc, -1);
	escape("\xF4\x90\x80\x80", 4, &rc); /* above U+10FFFF */
	ck_assert_int_eq(rc, -1);
	escape("\xFF", 1, &rc);
	ck_assert_int_eq(rc, -1);
}
END_TEST

/* The escaper's output is what the tokenizer reads back unchanged. */
START_TEST(json_escape_round_trip)
{
	struct conn_json j = {0};
	struct conn_buf back = CONN_BUF_INIT;
	const char in[] = "q\"b\\s\x01\n\xC3\xA9\x7f";
	int rc;
	char *lit = escape(in, sizeof(in) - 1, &rc);

	ck_assert_int_eq(conn_json_parse(&j, lit, strlen(lit)), 0);
	conn_json_string(&j, 0, &back);
	ck_assert_uint_eq(back.len, sizeof(in) - 1);
	ck_assert_int_eq(memcmp(back.data, in, back.len), 0);
	conn_buf_release(&back);
	conn_json_release(&j);
}
END_TEST

START_TEST(infer_classifiers)
{
	ck_assert(csv_is_integer("0", 1));
	ck_assert(csv_is_integer("-42", 3));
	ck_assert(!csv_is_integer("007", 3));
	ck_assert(!csv_is_integer("1.0", 3));
	ck_assert(!csv_is_integer("-", 1));
	ck_assert(!csv_is_integer("+1", 2));
	ck_assert(!csv_is_integer("1234567890123456789", 19));
	ck_assert(csv_is_number("1.5", 3));
	ck_assert(csv_is_number("-0.5e-3", 7));
	ck_assert(!csv_is_number(".5", 2));
	ck_assert(!csv_is_number("1.", 2));
	ck_assert(!csv_is_number("NaN", 3));
	ck_assert(csv_is_boolean("TRUE", 4));
	ck_assert(csv_is_boolean("false", 5));
	ck_assert(!csv_is_boolean("yes", 3));
	ck_assert(csv_is_datetime("2024-01-31T23:59:59Z", 20));
	ck_assert(csv_is_datetime("2024-01-31 23:59:59.123+02:00", 29));
	ck_assert(csv_is_datetime("2024-01-31T23:59:59", 19));
	ck_assert(!csv_is_datetime("2024-13-01T00:00:00Z", 20));
	ck_assert(!csv_is_datetime("2024-01-01T00:00Z", 17));
	ck_assert(csv_is_date("2024-02-29", 10));
	ck_assert(!csv_is_date("2024-2-29", 9));
}
END_TEST

static enum csv_type infer(const char *const *vals)
{
	struct csv_infer inf;

	csv_infer_init(&inf);
	for (; *vals; vals++)
		csv_infer_add(&inf, *vals, strlen(*vals));
	return csv_infer_result(&inf);
}

START_TEST(infer_column_types)
{
	const char *ints[] = {"1", "", "-3", NULL};
	const char *nums[] = {"1", "2.5", "", NULL};
	const char *bools[] = {"true", "False", NULL};
	const char *dts[] = {"2024-01-01T00:00:00Z", "", "2024-01-02 10:00:00", NULL};
	const char *dates[] = {"2024-01-01", "2024-12-31", NULL};
	const char *strs[] = {"1", "x", NULL};
	const char *zips[] = {"01234", "12345", NULL};
	const char *empty[] = {"", "", NULL};

	ck_assert_int_eq(infer(ints), CSV_T_INTEGER);
	ck_assert_int_eq(infer(nums), CSV_T_NUMBER);
	ck_assert_int_eq(infer(bools), CSV_T_BOOLEAN);
	ck_assert_int_eq(infer(dts), CSV_T_DATETIME);
	ck_assert_int_eq(infer(dates), CSV_T_DATE);
	ck_assert_int_eq(infer(strs), CSV_T_STRING);
	ck_assert_int_eq(infer(zips), CSV_T_STRING);
	ck_assert_int_eq(infer(empty), CSV_T_STRING);
	ck_assert_str_eq(csv_type_json(CSV_T_DATETIME), "string");
	ck_assert_str_eq(csv_type_json(CSV_T_INTEGER), "integer");
	ck_assert(csv_value_fits(CSV_T_INTEGER, "12", 2));
	ck_assert(!csv_value_fits(CSV_T_INTEGER, "abc", 3));
	ck_assert(csv_value_fits(CSV_T_STRING, "abc", 3));
}
END_TEST

/* issue 18 item 5: a row of CSV_MAX_FIELDS fields is read; one more is an error for that row only */
START_TEST(csv_field_cap)
{
	struct conn_buf b = CONN_BUF_INIT;
	struct csv_parser p;

	for (int row = 0; row < 2; row++) {
		size_t n = CSV_MAX_FIELDS + (size_t)row;

		for (size_t i = 0; i < n; i++)
			conn_buf_adds(&b, i ? ",\"q\"" : "x");
		conn_buf_addc(&b, '\n');
	}
	conn_buf_adds(&b, "a,b\n");
	ck_assert_int_eq(csv_init_mem(&p, b.data, b.len, 0, 0), 0);
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_uint_eq(p.nfields, CSV_MAX_FIELDS);
	ck_assert_str_eq(csv_field(&p, CSV_MAX_FIELDS - 1, NULL), "q");
	ck_assert_int_eq(csv_next(&p), CSV_ERR);
	ck_assert_str_eq(p.err, "row has more than 100000 fields (the limit)");
	ck_assert_uint_eq(p.err_line, 2);
	ck_assert_uint_le(p.fields_cap, 2 * CSV_MAX_FIELDS);	/* the extra field was not kept */
	ck_assert_int_eq(csv_next(&p), CSV_ROW);
	ck_assert_uint_eq(p.nfields, 2);
	ck_assert_uint_eq(p.row_line, 3);
	ck_assert_int_eq(csv_next(&p), CSV_EOF);
	csv_release(&p);
	conn_buf_release(&b);
}
END_TEST

static Suite *csv_suite(void)
{
	Suite *s = suite_create("csv");
	struct { const char *name; const TTest *fn; } cases[] = {
		{"simple_rows", csv_simple_rows},
		{"quoted_delimiters", csv_quoted_delimiters},
		{"doubled_quotes", csv_doubled_quotes},
		{"embedded_newlines", csv_embedded_newlines},
		{"crlf_line_ends", csv_crlf_line_ends},
		{"bom_skipped", csv_bom_skipped},
		{"last_line_without_newline", csv_last_line_without_newline},
		{"empty_fields", csv_empty_fields},
		{"blank_lines_skipped", csv_blank_lines_skipped},
		{"custom_delimiter_and_quote", csv_custom_delimiter_and_quote},
		{"unterminated_quote", csv_unterminated_quote},
		{"text_after_closing_quote", csv_text_after_closing_quote},
		{"field_count_mismatch", csv_field_count_mismatch},
		{"fd_large_fields", csv_fd_large_fields},
		{"field_cap", csv_field_cap},
		{"json_escape_specials", json_escape_specials},
		{"json_escape_utf8", json_escape_utf8},
		{"json_escape_round_trip", json_escape_round_trip},
		{"infer_classifiers", infer_classifiers},
		{"infer_column_types", infer_column_types},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(csv_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
