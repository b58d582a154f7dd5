/*
 * smelt test [--all] [PLUGIN[:TEST]...]: run plugins' tests through their
 * adapters, as `meltano test` does: the tests of a plugin are its commands
 * named test* (or the one named, whatever its name); every selected test
 * runs, plugin after plugin in the project's order (by type, then as
 * written), each under a "=== plugin:test ===" line; then one report for
 * all of them and exit 1 when one failed.  An error that is not a failed
 * test (an unknown command, a missing tool) stops at once with exit 1 and
 * no report, as Meltano's does.
 */
#include "cli/commands.h"
#include "adapters/dispatch.h"
#include "project/project.h"
#include "run/execute.h"
#include "run/runtime.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* One line of the report. */
struct test_line {
	char *label;  /* "plugin:test" (owned) */
	int failed;
};

struct report {
	struct test_line *lines;
	size_t n;
};

static void report_add(struct report *r, char *label, int failed)
{
	r->lines = xrealloc(r->lines, (r->n + 1) * sizeof *r->lines);
	r->lines[r->n++] = (struct test_line){ .label = label, .failed = failed };
}

/* The terminal's width as Python's shutil.get_terminal_size() finds it: $COLUMNS, stdout's, else 80. */
static int terminal_width(void)
{
	const char *cols = getenv("COLUMNS");
	int n = cols ? atoi(cols) : 0;
	struct winsize ws;
	if (n <= 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		n = ws.ws_col;
	return n > 0 ? n : 80;
}

/* Meltano's separator line: "\n=== title ===" centred in the terminal's width. */
static void sep_line(const char *title)
{
	int width = terminal_width(), len = (int)strlen(title);
	int fill = (width - len - 2) / 2;
	if (fill < 1)
		fill = 1;
	putchar('\n');
	for (int i = 0; i < fill; i++)
		putchar('=');
	printf(" %s ", title);
	for (int i = 0; i < fill; i++)
		putchar('=');
	if (1 + 2 * fill + len + 2 + 1 <= width)
		putchar('=');
	putchar('\n');
}

/* Meltano's report: a blank line, "plugin:test" padded with dots to 52 columns (60 with the escapes of its
 * bold) and the outcome, then the totals in a separator line.  Returns the exit code: 1 when one failed. */
static int report_print(const struct report *r)
{
	int failed = 0;
	putchar('\n');
	for (size_t i = 0; i < r->n; i++) {
		int len = printf("%s", r->lines[i].label);
		for (int k = len; k < 52; k++)
			putchar('.');
		printf(" %s\n", r->lines[i].failed ? "failure" : "success");
		failed += r->lines[i].failed;
	}
	char summary[160];
	snprintf(summary, sizeof summary, "Testing completed %s. %d test(s) successful. %d test(s) failed.",
	         failed ? "with failures" : "successfully", (int)r->n - failed, failed);
	sep_line(summary);
	fflush(stdout);
	return failed ? EXIT_FAIL : EXIT_OK;
}

/* What is asked of one plugin: all its test* commands, and/or some tests by name. */
struct selection {
	struct plugin *pl;
	int all;
	char **named;   /* borrowed from argv copies (owned by the caller) */
	size_t nnamed;
};

static int is_test_command(const char *name)
{
	return !strncmp(name, "test", 4);
}

static int named_has(const struct selection *s, const char *name)
{
	for (size_t i = 0; i < s->nnamed; i++)
		if (!strcmp(s->named[i], name))
			return 1;
	return 0;
}

/*
 * Run one adapter test call (test NULL: the adapter's own tests) and add its
 * line to r.  Returns 0, or the exit code to stop with (an error that is no
 * failed test; the error is printed).
 */
static int run_test(struct runtime *rt, struct loaded_adapter *a, struct plugin *pl, const char *test,
                    struct report *r)
{
	char err[SMELT_ERRBUF_SIZE * 4] = "";
	if (test) { /* as Meltano's: the separator line, then the test's own output */
		char *label = xasprintf("%s:%s", pl->name, test);
		sep_line(label);
		free(label);
		fflush(stdout);
	}
	size_t before = rt->nevents;
	struct smelt_request req = dispatch_request(SMELT_REQ_TEST, &pl, 1);
	req.command = test;
	int rc = dispatch_call(a, &req, NULL, err, sizeof err);
	fflush(stdout);
	if (rc == SMELT_ERR_UNSUPPORTED)
		return cli_not_implemented(err[0] ? err : "test");
	if (rc != SMELT_OK && rc != SMELT_ERR_FAILED)
		return cli_fail("%s: %s", pl->name, err[0] ? err : smelt_strerror(rc));
	if (rc == SMELT_ERR_FAILED && err[0])
		log_error("%s: %s", pl->name, err);
	int reported = 0;
	for (size_t i = before; i < rt->nevents; i++)
		reported |= rt->events[i].kind == SMELT_EV_RESULT;
	/* the adapter's own tests: one line, unless it ran nothing (no result, no failure) */
	if (test || reported || rc != SMELT_OK)
		report_add(r, xasprintf("%s:%s", pl->name, test ? test : "test"), rc != SMELT_OK);
	return 0;
}

/*
 * A test command of a plugin whose adapter has no tests of its own (an
 * extractor's `test`): run as `smelt invoke PLUGIN:TEST` runs it, which is
 * how Meltano runs every plugin's tests; a non-zero exit is a failed test.
 * Returns as run_test().
 */
static int run_invoked_test(struct runtime *rt, struct loaded_adapter *a, struct plugin *pl, const char *test,
                            struct report *r)
{
	char err[SMELT_ERRBUF_SIZE * 4] = "";
	if (a && !dispatch_has_op(a, SMELT_REQ_INVOKE))
		return cli_not_implemented("test"); /* the adapter that claims it can neither test nor invoke it */
	char *label = xasprintf("%s:%s", pl->name, test);
	sep_line(label);
	fflush(stdout);
	int code = 0, rc;
	if (a) {
		struct smelt_request req = dispatch_request(SMELT_REQ_INVOKE, &pl, 1);
		req.command = test;
		rc = dispatch_call(a, &req, &code, err, sizeof err);
	} else {
		rc = execute_direct(rt, pl, test, NULL, 0, &code, err, sizeof err);
	}
	fflush(stdout);
	if (rc) {
		free(label);
		return cli_fail("%s: %s", pl->name, err[0] ? err : smelt_strerror(rc));
	}
	report_add(r, label, code != 0);
	return 0;
}

/* Run the tests sel selects, in Meltano's order: the test* commands as defined, then the others named, in the
 * order they were named. */
static int run_selection(struct runtime *rt, struct selection *sel, struct report *r)
{
	struct plugin *pl = sel->pl;
	char err[SMELT_ERRBUF_SIZE * 4] = "";
	const struct definition *d = project_plugin_def(rt->project, pl, err, sizeof err);
	if (!d)
		return cli_fail("%s", err);
	const char **tests = xcalloc(d->ncommands + sel->nnamed + 1, sizeof *tests);
	size_t n = 0, ntest_commands = 0;
	for (size_t i = 0; i < d->ncommands; i++) {
		const char *c = d->commands[i].name;
		ntest_commands += is_test_command(c);
		if (is_test_command(c) && (sel->all || named_has(sel, c)))
			tests[n++] = c;
	}
	for (size_t i = 0; i < sel->nnamed; i++) {
		int seen = 0;
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(tests[k], sel->named[i]);
		if (!seen)
			tests[n++] = sel->named[i];
	}
	/* an adapter with tests of its own (dbt test) runs them for a plugin that defines no test command */
	int own = sel->all && ntest_commands == 0;
	int rc = 0;
	struct loaded_adapter *a = n || own ? runtime_adapter_for(rt, pl, err, sizeof err) : NULL;
	if (a && dispatch_has_op(a, SMELT_REQ_TEST)) {
		if (runtime_prepare(rt, &pl, 1, 1, err, sizeof err)) /* installed on first use, as run and invoke */
			rc = cli_fail("%s", err);
		if (rc == 0 && !n)
			rc = run_test(rt, a, pl, NULL, r);
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = run_test(rt, a, pl, tests[i], r);
	} else if (n) {
		if (runtime_prepare(rt, &pl, 1, 1, err, sizeof err))
			rc = cli_fail("%s", err);
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = run_invoked_test(rt, a, pl, tests[i], r);
	} /* else: nothing to run, as Meltano's for a plugin without tests */
	free(tests);
	return rc;
}

enum test_opt { TEST_ALL };

static const struct cli_option test_options[] = {
	{ TEST_ALL, "--all", 0, NULL, "the tests of every plugin", 0, NULL },
	{ 0 },
};

const struct cli_spec test_spec = {
	.name = "test",
	.usage = "smelt test [--all] [PLUGIN[:TEST]...]",
	.text = "Runs plugins' tests, as `meltano test` does: a plugin's tests are its commands\n"
	        "named test* (PLUGIN:NAME runs the command NAME); dbt runs `dbt test` when the\n"
	        "plugin defines no test command.  One report for all of them; exit 1 when a\n"
	        "test failed.\n",
	.options = test_options,
	.examples = "  smelt test --all\n"
	            "  smelt test dbt-sqlite\n"
	            "  smelt test sqlfluff:test_lint\n",
};

int cmd_test(struct cli *cli, int argc, char **argv)
{
	int all = 0, first = 1;
	for (; first < argc && argv[first][0] == '-'; first++) {
		const char *v;
		switch (cli_opt_next(&test_spec, NULL, argc, argv, &first, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &test_spec);
			return EXIT_OK;
		case TEST_ALL:
			all = 1;
			break;
		default:
			return cli_opt_unknown(&test_spec, NULL, argv[first]);
		}
	}
	if (!all && first >= argc)
		return cli_usage("test", "name plugins to test, or --all");
	struct project *p;
	int rc = project_open_cli(cli, ENV_DEFAULT_OR_NONE, &p);
	if (rc)
		return rc;

	/* what each plugin is asked for; a name not in the project stops before anything runs */
	struct selection *sels = xcalloc(p->nplugins + 1, sizeof *sels);
	char **words = xcalloc((size_t)argc + 1, sizeof *words);
	for (size_t i = 0; i < p->nplugins; i++) {
		sels[i].pl = p->plugins[i];
		sels[i].all = all;
		sels[i].named = xcalloc((size_t)argc + 1, sizeof *sels[i].named);
	}
	for (int i = first; rc == 0 && i < argc; i++) {
		char *name = words[i] = xstrdup(argv[i]), *colon = strchr(name, ':');
		if (colon)
			*colon++ = '\0';
		struct plugin *pl = project_find_plugin(p, -1, name);
		size_t k = 0;
		while (pl && k < p->nplugins && p->plugins[k] != pl)
			k++;
		if (!pl || k == p->nplugins) {
			rc = cli_fail("plugin '%s' is not in %s%s", name, p->file_name, cli_plugin_hint(p, name));
			break;
		}
		if (!colon)
			sels[k].all = 1;
		else
			sels[k].named[sels[k].nnamed++] = colon;
	}

	struct report r = { 0 };
	if (rc == 0) {
		struct runtime rt;
		runtime_init(&rt, &cli->paths, p);
		for (int t = 0; rc == 0 && t < PLUGIN_TYPE_COUNT; t++)
			for (size_t i = 0; rc == 0 && i < p->nplugins; i++)
				if ((int)sels[i].pl->type == t && t != PLUGIN_FILES && (sels[i].all || sels[i].nnamed))
					rc = run_selection(&rt, &sels[i], &r);
		runtime_release(&rt);
		if (rc == 0)
			rc = report_print(&r);
	}
	for (size_t i = 0; i < r.n; i++)
		free(r.lines[i].label);
	free(r.lines);
	for (size_t i = 0; i < p->nplugins; i++)
		free(sels[i].named);
	for (int i = 0; i < argc; i++)
		free(words[i]);
	free(words);
	free(sels);
	project_free(p);
	return rc;
}
