/* Check suite for util/suggest: edit distance and the "did you mean" choice. */
#include "util/suggest.h"

#include <check.h>
#include <stdlib.h>

START_TEST(distance_counts_edits)
{
	ck_assert_uint_eq(suggest_distance("", ""), 0);
	ck_assert_uint_eq(suggest_distance("abc", ""), 3);
	ck_assert_uint_eq(suggest_distance("tap-cvs", "tap-csv"), 2);  /* a swap is two edits */
	ck_assert_uint_eq(suggest_distance("extracter", "extractor"), 1);
	ck_assert_uint_eq(suggest_distance("instal", "install"), 1);
	ck_assert_uint_eq(suggest_distance("kitten", "sitting"), 3);
}
END_TEST

START_TEST(closest_is_chosen_when_close)
{
	static const char *const plugins[] = { "tap-csv", "target-sqlite", "dbt-sqlite", "gx" };
	static const char *const types[] = { "extractor", "extractors", "loader", "loaders", "utility" };
	ck_assert_str_eq(suggest_closest("tap-cvs", plugins, 4), "tap-csv");
	ck_assert_str_eq(suggest_closest("target-sqlit", plugins, 4), "target-sqlite");
	ck_assert_str_eq(suggest_closest("extracter", types, 5), "extractor");
	ck_assert_str_eq(suggest_closest("loder", types, 5), "loader");
}
END_TEST

START_TEST(nothing_far_or_equal_or_tiny)
{
	static const char *const plugins[] = { "tap-csv", "target-sqlite", NULL, "gx" };
	ck_assert_ptr_null(suggest_closest("airbyte", plugins, 4));   /* too far */
	ck_assert_ptr_null(suggest_closest("tap-csv", plugins, 4));   /* the name itself is no suggestion */
	ck_assert_ptr_null(suggest_closest("x", plugins, 4));         /* "gx" is 1 edit, but 1 edit is all of "x" */
	ck_assert_ptr_null(suggest_closest("tap", plugins, 0));
}
END_TEST

START_TEST(prefix_wins_a_tie)
{
	static const char *const opts[] = { "--force", "--format" }; /* the tie is not won by order */
	/* "--for" is 2 edits from "--force" and 3 from "--format"; "--form" ties at 2: the prefix match wins */
	ck_assert_str_eq(suggest_closest("--for", opts, 2), "--force");
	ck_assert_str_eq(suggest_closest("--form", opts, 2), "--format");
}
END_TEST

static Suite *suggest_suite(void)
{
	Suite *s = suite_create("suggest");
	TCase *tc = tcase_create("distance");
	tcase_add_test(tc, distance_counts_edits);
	suite_add_tcase(s, tc);
	tc = tcase_create("closest");
	tcase_add_test(tc, closest_is_chosen_when_close);
	tcase_add_test(tc, nothing_far_or_equal_or_tiny);
	tcase_add_test(tc, prefix_wins_a_tie);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suggest_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
