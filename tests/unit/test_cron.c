/* Check suite for run/cron: validating intervals and computing next run times (UTC). */
#include "run/cron.h"

#include <check.h>
#include <smelt/sdk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds since the epoch of a UTC date-time. */
static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { 0 };
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi;
	return timegm(&tm);
}

/* The next run of expr after the given time, formatted; "never" or "invalid: <err>". */
static const char *next_of(const char *expr, time_t after)
{
	static char buf[512];
	struct cron c;
	char err[SMELT_ERRBUF_SIZE];
	time_t t;
	int rc = cron_parse(expr, &c, err, sizeof err);
	if (rc < 0) {
		snprintf(buf, sizeof buf, "invalid: %s", err);
		return buf;
	}
	if (rc == 1 || cron_next(&c, after, &t) != 0)
		return "never";
	cron_format_utc(t, buf, sizeof buf);
	return buf;
}

static const char *error_of(const char *expr)
{
	static char err[SMELT_ERRBUF_SIZE];
	err[0] = '\0';
	if (cron_validate(expr, err, sizeof err) == 0)
		return NULL;
	return err;
}

START_TEST(presets_expand)
{
	ck_assert_str_eq(cron_expression("@hourly"), "0 * * * *");
	ck_assert_str_eq(cron_expression("@daily"), "0 0 * * *");
	ck_assert_str_eq(cron_expression("@midnight"), "0 0 * * *");
	ck_assert_str_eq(cron_expression("@weekly"), "0 0 * * 0");
	ck_assert_str_eq(cron_expression("@monthly"), "0 0 1 * *");
	ck_assert_str_eq(cron_expression("@yearly"), "0 0 1 1 *");
	ck_assert_str_eq(cron_expression("@annually"), "0 0 1 1 *");
	ck_assert_ptr_null(cron_expression("@once"));
	ck_assert_ptr_null(cron_expression("@manual"));
	ck_assert_ptr_null(cron_expression("@none"));
	ck_assert_str_eq(cron_expression("5 4 * * *"), "5 4 * * *");
}
END_TEST

START_TEST(once_is_valid_and_never_fires)
{
	struct cron c;
	char err[SMELT_ERRBUF_SIZE];
	ck_assert_int_eq(cron_parse("@once", &c, err, sizeof err), 1);
	ck_assert_ptr_null(error_of("@once"));
	ck_assert_str_eq(next_of("@once", utc(2026, 1, 1, 0, 0)), "never");
}
END_TEST

START_TEST(valid_expressions)
{
	const char *ok[] = { "* * * * *", "0 0 * * *", "*/15 * * * *", "0 9-17 * * 1-5", "0 0 1,15 * *",
		             "0 0 * JAN-MAR *", "0 0 * * sun", "0 0 * * SAT,Sun", "5 4 * * 7", "0-59/20 0 * * *",
		             "10/20 * * * *", "0 0 29 2 *", "0 0 31 * *", "  0   0  *  *  *  ", "0\t0\t*\t*\t*",
		             "@hourly", "@daily", "@weekly", "@monthly", "@yearly", NULL };
	for (int i = 0; ok[i]; i++)
		ck_assert_msg(error_of(ok[i]) == NULL, "'%s' rejected: %s", ok[i], error_of(ok[i]));
}
END_TEST

START_TEST(field_count_is_checked)
{
	ck_assert_ptr_nonnull(strstr(error_of("* * * *"), "has 4 fields; want 5"));
	ck_assert_ptr_nonnull(strstr(error_of("0 * * * * *"), "has 6 fields; want 5"));
	ck_assert_ptr_nonnull(strstr(error_of("daily"), "has 1 field; want 5"));
	ck_assert_ptr_nonnull(strstr(error_of(""), "empty interval"));
	ck_assert_ptr_nonnull(strstr(error_of("@fortnightly"), "unknown interval '@fortnightly'"));
}
END_TEST

START_TEST(ranges_are_checked)
{
	ck_assert_str_eq(error_of("60 * * * *"), "cron expression '60 * * * *': minute 60 is out of range 0-59");
	ck_assert_ptr_nonnull(strstr(error_of("0 24 * * *"), "hour 24 is out of range 0-23"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 0 * *"), "day of month 0 is out of range 1-31"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 32 * *"), "day of month 32 is out of range 1-31"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 * 13 *"), "month 13 is out of range 1-12"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 * * 8"), "day of week 8 is out of range 0-7"));
	ck_assert_ptr_nonnull(strstr(error_of("0 17-9 * * *"), "hour range 17-9 runs backwards"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 30 2 *"), "never fires"));
}
END_TEST

START_TEST(syntax_is_checked)
{
	ck_assert_ptr_nonnull(strstr(error_of("*/0 * * * *"), "minute step 0 is out of range"));
	ck_assert_ptr_nonnull(strstr(error_of("*/ * * * *"), "minute step needs a number"));
	ck_assert_ptr_nonnull(strstr(error_of("1,,2 * * * *"), "empty item in the minute field"));
	ck_assert_ptr_nonnull(strstr(error_of("1, * * * *"), "empty item"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 * FOO *"), "unknown month name 'FOO'"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 * * funday"), "unknown day of week name 'funday'"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 L * *"), "day of month"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 ? * *"), "unexpected '?'"));
	ck_assert_ptr_nonnull(strstr(error_of("0 0 * * 1#2"), "unexpected '#2'"));
	ck_assert_ptr_nonnull(strstr(error_of("x * * * *"), "minute"));
	ck_assert_ptr_nonnull(strstr(error_of("0 MON * * *"), "hour"));  /* names only for month and weekday */
	ck_assert_ptr_nonnull(strstr(error_of("1- * * * *"), "minute value is missing"));
}
END_TEST

START_TEST(next_run_simple)
{
	time_t t0 = utc(2026, 5, 9, 10, 30);
	ck_assert_str_eq(next_of("* * * * *", t0), "2026-05-09T10:31:00Z");
	ck_assert_str_eq(next_of("@hourly", t0), "2026-05-09T11:00:00Z");
	ck_assert_str_eq(next_of("@daily", t0), "2026-05-10T00:00:00Z");
	ck_assert_str_eq(next_of("@weekly", t0), "2026-05-10T00:00:00Z"); /* 2026-05-09 is a Saturday */
	ck_assert_str_eq(next_of("@monthly", t0), "2026-06-01T00:00:00Z");
	ck_assert_str_eq(next_of("@yearly", t0), "2027-01-01T00:00:00Z");
	ck_assert_str_eq(next_of("*/15 * * * *", t0), "2026-05-09T10:45:00Z");
	ck_assert_str_eq(next_of("30 10 * * *", t0), "2026-05-10T10:30:00Z"); /* strictly after */
	ck_assert_str_eq(next_of("31 10 * * *", t0), "2026-05-09T10:31:00Z");
	/* seconds inside the minute do not count */
	ck_assert_str_eq(next_of("31 10 * * *", t0 + 59), "2026-05-09T10:31:00Z");
}
END_TEST

START_TEST(next_run_steps_lists_names)
{
	time_t t0 = utc(2026, 5, 9, 10, 30); /* Saturday */
	ck_assert_str_eq(next_of("0 9-17/4 * * *", t0), "2026-05-09T13:00:00Z");
	ck_assert_str_eq(next_of("10/20 * * * *", t0), "2026-05-09T10:50:00Z");
	ck_assert_str_eq(next_of("0 8,12,18 * * *", t0), "2026-05-09T12:00:00Z");
	ck_assert_str_eq(next_of("0 9 * * MON-FRI", t0), "2026-05-11T09:00:00Z");
	ck_assert_str_eq(next_of("0 9 * * 7", t0), "2026-05-10T09:00:00Z");
	ck_assert_str_eq(next_of("0 0 1 jan,jul *", t0), "2026-07-01T00:00:00Z");
	ck_assert_str_eq(next_of("0 0 * DEC *", t0), "2026-12-01T00:00:00Z");
}
END_TEST

START_TEST(next_run_calendar_edges)
{
	/* leap day: next Feb 29 after 2026 is in 2028 */
	ck_assert_str_eq(next_of("0 0 29 2 *", utc(2026, 3, 1, 0, 0)), "2028-02-29T00:00:00Z");
	/* 31st skips short months */
	ck_assert_str_eq(next_of("0 0 31 * *", utc(2026, 4, 1, 0, 0)), "2026-05-31T00:00:00Z");
	/* year rollover */
	ck_assert_str_eq(next_of("59 23 31 12 *", utc(2026, 12, 31, 23, 59)), "2027-12-31T23:59:00Z");
	ck_assert_str_eq(next_of("0 0 * * *", utc(2026, 12, 31, 23, 59)), "2027-01-01T00:00:00Z");
}
END_TEST

START_TEST(day_fields_or_rule)
{
	time_t t0 = utc(2026, 5, 9, 10, 30); /* Saturday the 9th */
	/* both restricted: the 15th OR a Monday, whichever comes first */
	ck_assert_str_eq(next_of("0 0 15 * MON", t0), "2026-05-11T00:00:00Z");
	ck_assert_str_eq(next_of("0 0 10 * MON", t0), "2026-05-10T00:00:00Z");
	/* one unrestricted: both must hold */
	ck_assert_str_eq(next_of("0 0 * * MON", t0), "2026-05-11T00:00:00Z");
	ck_assert_str_eq(next_of("0 0 15 * *", t0), "2026-05-15T00:00:00Z");
	/* a step over the whole range still restricts (croniter's reading) */
	ck_assert_str_eq(next_of("0 0 */10 * MON", t0), "2026-05-11T00:00:00Z");
}
END_TEST

START_TEST(format_utc)
{
	char buf[32];
	cron_format_utc(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
}
END_TEST

static Suite *cron_suite(void)
{
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, presets_expand);
	tcase_add_test(tc, once_is_valid_and_never_fires);
	tcase_add_test(tc, valid_expressions);
	tcase_add_test(tc, field_count_is_checked);
	tcase_add_test(tc, ranges_are_checked);
	tcase_add_test(tc, syntax_is_checked);
	suite_add_tcase(s, tc);
	tc = tcase_create("next");
	tcase_add_test(tc, next_run_simple);
	tcase_add_test(tc, next_run_steps_lists_names);
	tcase_add_test(tc, next_run_calendar_edges);
	tcase_add_test(tc, day_fields_or_rule);
	tcase_add_test(tc, format_utc);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cron_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
