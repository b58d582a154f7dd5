/*
 * Check suite for cli/options: the option tables parse argv (--opt=value,
 * --opt value, '_' for '-', short names, missing values), suggest options,
 * print --help and the man page sections (roff escaped), and the commands'
 * own tables are consistent.
 */
#include "cli/commands.h"
#include "cli/options.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { T_FORMAT, T_FORCE, T_TASKS, T_OLD, T_SETTING };

static const struct cli_option t_options[] = {
	{ T_FORMAT, "--format", 0, "text|json", "output format", 0, NULL },
	{ T_FORCE, "--force", 'f', NULL, "do it anyway", 0, NULL },
	{ T_TASKS, "--tasks", 0, "TASKS", "the tasks", 0, "add set" },
	{ T_OLD, "--old-flag", 0, NULL, "accepted, not shown", CLI_OPT_HIDDEN, NULL },
	{ T_SETTING, "--setting", 's', "NAME[:KIND]-with-a-long-argument-name", "a setting", CLI_OPT_REPEAT, NULL },
	{ 0 },
};

static const struct cli_spec t_spec = {
	.name = "demo",
	.usage = "smelt demo add NAME\nsmelt demo list [--format text|json]",
	.text = "Demo text.\n",
	.options = t_options,
	.notes = ".SH FAKE\n'quoted line\nback\\slash and a-dash\n",
	.examples = "  smelt demo add x   add x\n",
};

/* cli_opt_next over the words of a NULL-terminated list, at index *i. */
static int next(const char *sub, char **words, int *i, const char **value)
{
	int argc = 0;
	while (words[argc])
		argc++;
	return cli_opt_next(&t_spec, sub, argc, words, i, value);
}

/* What fn(arg) prints on stderr, as a string the caller frees. */
static char *stderr_of(int (*fn)(const void *), const void *arg, int *rc)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	*rc = fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	long n = ftell(tmp);
	char *text = calloc(1, (size_t)n + 1);
	rewind(tmp);
	ck_assert_int_eq((long)fread(text, 1, (size_t)n, tmp), n);
	fclose(tmp);
	return text;
}

/* What print(out, spec) writes, as a string the caller frees. */
static char *printed(void (*print)(FILE *, const struct cli_spec *), const struct cli_spec *spec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	print(out, spec);
	fclose(out);
	return buf;
}

START_TEST(values_in_both_forms)
{
	char *words[] = { "x", "--format=json", "--format", "text", "--old_flag", "--x", "-s", "a:int", "-s=b", NULL };
	const char *v;
	int i = 1;
	ck_assert_int_eq(next(NULL, words, &i, &v), T_FORMAT);
	ck_assert_str_eq(v, "json");
	ck_assert_int_eq(i, 1);
	i = 2;
	ck_assert_int_eq(next(NULL, words, &i, &v), T_FORMAT);
	ck_assert_str_eq(v, "text");
	ck_assert_int_eq(i, 3); /* moved past the value */
	i = 4;
	ck_assert_int_eq(next(NULL, words, &i, &v), T_OLD); /* '_' for '-', as Meltano accepts */
	i = 6;
	ck_assert_int_eq(next(NULL, words, &i, &v), T_SETTING);
	ck_assert_str_eq(v, "a:int");
	i = 8;
	ck_assert_int_eq(next(NULL, words, &i, &v), T_SETTING);
	ck_assert_str_eq(v, "b");
}
END_TEST

START_TEST(flags_words_help_and_unknown)
{
	char *words[] = { "x", "--force", "-f", "--force=1", "-", "name", "-h", "--help", "--forc", "--format-x",
	                  "--old-flag", "-qv", NULL };
	const char *v = "unset";
	int i = 1;
	ck_assert_int_eq(next(NULL, words, &i, &v), T_FORCE);
	ck_assert_ptr_null(v);
	i = 2;
	ck_assert_int_eq(next(NULL, words, &i, &v), T_FORCE);
	i = 3;
	ck_assert_int_eq(next(NULL, words, &i, &v), CLI_OPT_UNKNOWN); /* a flag takes no value */
	i = 4;
	ck_assert_int_eq(next(NULL, words, &i, &v), CLI_OPT_ARG); /* "-" alone is a word */
	i = 5;
	ck_assert_int_eq(next(NULL, words, &i, &v), CLI_OPT_ARG);
	i = 6;
	ck_assert_int_eq(next(NULL, words, &i, &v), CLI_OPT_HELP);
	i = 7;
	ck_assert_int_eq(next(NULL, words, &i, &v), CLI_OPT_HELP);
	i = 8;
	ck_assert_int_eq(next(NULL, words, &i, &v), CLI_OPT_UNKNOWN); /* no prefix matching */
	i = 9;
	ck_assert_int_eq(next(NULL, words, &i, &v), CLI_OPT_UNKNOWN);
	i = 10;
	ck_assert_int_eq(next(NULL, words, &i, &v), T_OLD); /* hidden, yet accepted */
	i = 11;
	ck_assert_int_eq(next(NULL, words, &i, &v), CLI_OPT_UNKNOWN); /* short names do not bundle */
	ck_assert_int_eq(i, 11);
}
END_TEST

static int missing_value(const void *arg)
{
	char *words[] = { "x", "--format", NULL };
	const char *v;
	int i = 1;
	(void)arg;
	return next(NULL, words, &i, &v);
}

START_TEST(missing_value_is_an_error)
{
	int rc;
	char *err = stderr_of(missing_value, NULL, &rc);
	ck_assert_int_eq(rc, CLI_OPT_ERROR);
	ck_assert_str_eq(err, "smelt: error: option '--format' needs a value\n");
	free(err);
}
END_TEST

START_TEST(options_of_one_subcommand)
{
	char *words[] = { "add", "--tasks", "a b", NULL };
	const char *v;
	int i = 1;
	ck_assert_int_eq(next("add", words, &i, &v), T_TASKS);
	i = 1;
	ck_assert_int_eq(next("set", words, &i, &v), T_TASKS);
	i = 1;
	ck_assert_int_eq(next("list", words, &i, &v), CLI_OPT_UNKNOWN);
	i = 1;
	ck_assert_int_eq(next("ad", words, &i, &v), CLI_OPT_UNKNOWN); /* whole subcommand names only */
	i = 1;
	ck_assert_int_eq(next(NULL, words, &i, &v), T_TASKS);
}
END_TEST

static int unknown_formt(const void *arg)
{
	return cli_opt_unknown(&t_spec, arg, "--formt=json");
}

static int unknown_old(const void *arg)
{
	(void)arg;
	return cli_opt_unknown(&t_spec, NULL, "--old-flagg");
}

static int unknown_task(const void *arg)
{
	return cli_opt_unknown(&t_spec, arg, "--task");
}

START_TEST(unknown_options_suggest_visible_ones)
{
	int rc;
	char *err = stderr_of(unknown_formt, NULL, &rc);
	ck_assert_int_eq(rc, EXIT_USAGE);
	ck_assert_str_eq(err, "smelt: error: unknown option '--formt=json'; did you mean '--format'?\n"
	                      "see 'smelt demo --help'\n");
	free(err);
	err = stderr_of(unknown_old, NULL, &rc); /* a hidden option is never suggested */
	ck_assert_str_eq(err, "smelt: error: unknown option '--old-flagg'\nsee 'smelt demo --help'\n");
	free(err);
	err = stderr_of(unknown_task, "add", &rc);
	ck_assert_ptr_nonnull(strstr(err, "did you mean '--tasks'?"));
	free(err);
	err = stderr_of(unknown_task, "list", &rc); /* --tasks does not go with list */
	ck_assert_ptr_null(strstr(err, "did you mean"));
	free(err);
}
END_TEST

START_TEST(help_lists_the_table)
{
	char *help = printed(cli_help_print, &t_spec);
	ck_assert_str_eq(help, "usage: smelt demo add NAME\n"
	                       "       smelt demo list [--format text|json]\n"
	                       "\n"
	                       "Demo text.\n"
	                       "\n"
	                       "Options:\n"
	                       "  --format text|json  output format\n"
	                       "  -f, --force         do it anyway\n"
	                       "  --tasks TASKS       the tasks\n"
	                       "  -s, --setting NAME[:KIND]-with-a-long-argument-name\n"
	                       "                      a setting (repeatable)\n"
	                       "  -h, --help          show this help\n"
	                       "\n"
	                       ".SH FAKE\n'quoted line\nback\\slash and a-dash\n"
	                       "\n"
	                       "Examples:\n"
	                       "  smelt demo add x   add x\n");
	free(help);
}
END_TEST

START_TEST(roff_is_escaped)
{
	char *roff = printed(cli_help_roff, &t_spec);
	/* a help line that starts with '.' or '\'' is text, not a request; '\' and '-' are escaped */
	ck_assert_ptr_nonnull(strstr(roff, "\n\\&.SH FAKE\n"));
	ck_assert_ptr_nonnull(strstr(roff, "\n\\&'quoted line\n"));
	ck_assert_ptr_nonnull(strstr(roff, "\nback\\eslash and a\\-dash\n"));
	ck_assert_ptr_null(strstr(roff, "\n.SH"));
	ck_assert_ptr_nonnull(strstr(roff, ".SS \"smelt demo\"\n.nf\n\\fBsmelt demo add NAME\\fR\n"));
	ck_assert_ptr_nonnull(strstr(roff, ".TP\n\\fB\\-f\\fR, \\fB\\-\\-force\\fR\ndo it anyway\n"));
	ck_assert_ptr_nonnull(strstr(roff, ".TP\n\\fB\\-\\-format\\fR \\fItext|json\\fR\noutput format\n"));
	ck_assert_ptr_null(strstr(roff, "old\\-flag"));
	ck_assert_ptr_nonnull(strstr(roff, ".TP\n\\fBsmelt demo add x\\fR\nadd x\n"));
	free(roff);
}
END_TEST

/* The commands' own tables: names unique, every option documented, synopses name the command. */
START_TEST(command_tables_are_consistent)
{
	const struct cli_spec *specs[] = { &init_spec, &add_spec, &remove_spec, &install_spec, &lock_spec,
	                                   &config_spec, &environment_spec, &invoke_spec, &run_spec,
	                                   &select_spec, &state_spec, &job_spec, &schedule_spec, &test_spec,
	                                   &hub_spec, &adapters_spec };
	for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
		const struct cli_spec *s = specs[k];
		char want[64];
		snprintf(want, sizeof want, "smelt %s", s->name);
		ck_assert_msg(!strncmp(s->usage, want, strlen(want)), "%s: usage '%s'", s->name, s->usage);
		ck_assert_ptr_nonnull(s->examples);
		char *help = printed(cli_help_print, s);
		for (const struct cli_option *a = s->options; a && a->name; a++) {
			ck_assert_msg(!strncmp(a->name, "--", 2) && a->help && *a->help, "%s %s", s->name, a->name);
			ck_assert_msg(a->id >= 0, "%s %s", s->name, a->name);
			ck_assert_msg((a->flags & CLI_OPT_HIDDEN) || strstr(help, a->name), "%s %s", s->name, a->name);
			ck_assert_msg(strcmp(a->name, "--help") && a->short_name != 'h', "%s %s", s->name, a->name);
			for (const struct cli_option *b = a + 1; b->name; b++) {
				ck_assert_msg(strcmp(a->name, b->name), "%s: %s twice", s->name, a->name);
				ck_assert_msg(!a->short_name || a->short_name != b->short_name, "%s: -%c twice", s->name,
				              a->short_name);
			}
		}
		free(help);
	}
}
END_TEST

static Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, values_in_both_forms);
	tcase_add_test(tc, flags_words_help_and_unknown);
	tcase_add_test(tc, missing_value_is_an_error);
	tcase_add_test(tc, options_of_one_subcommand);
	tcase_add_test(tc, unknown_options_suggest_visible_ones);
	suite_add_tcase(s, tc);
	tc = tcase_create("help");
	tcase_add_test(tc, help_lists_the_table);
	tcase_add_test(tc, roff_is_escaped);
	tcase_add_test(tc, command_tables_are_consistent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(options_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
