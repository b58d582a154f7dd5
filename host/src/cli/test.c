/*
 * smelt test [--all] [PLUGIN[:TEST]...]: run plugins' tests through their
 * adapters (dbt test, ...).  Exit 1 when any test fails.
 */
#include "cli/commands.h"
#include "adapters/dispatch.h"
#include "project/project.h"
#include "run/runtime.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

static int test_one(struct runtime *rt, struct plugin *pl, const char *test)
{
	char err[SMELT_ERRBUF_SIZE * 4] = "";
	struct loaded_adapter *a = runtime_adapter_for(rt, pl, err, sizeof err);
	if (!a)
		return cli_fail("%s", err);
	if (!dispatch_has_op(a, SMELT_REQ_TEST))
		return cli_not_implemented("test");
	struct smelt_request req = dispatch_request(SMELT_REQ_TEST, &pl, 1);
	req.command = test;
	int rc = dispatch_call(a, &req, NULL, err, sizeof err);
	if (rc == SMELT_ERR_UNSUPPORTED)
		return cli_not_implemented(err[0] ? err : "test");
	if (rc)
		return cli_fail("%s: %s", pl->name, err[0] ? err : smelt_strerror(rc));
	log_info("%s: tests passed", pl->name);
	return EXIT_OK;
}

enum test_opt { TEST_ALL };

static const struct cli_option test_options[] = {
	{ TEST_ALL, "--all", 0, NULL, "the tests of every plugin whose adapter has some", 0, NULL },
	{ 0 },
};

const struct cli_spec test_spec = {
	.name = "test",
	.usage = "smelt test [--all] [PLUGIN[:TEST]...]",
	.text = "Runs the tests of plugins through their adapters (dbt: dbt test).\n",
	.options = test_options,
	.examples = "  smelt test --all\n"
	            "  smelt test dbt-sqlite\n",
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
	struct runtime rt;
	runtime_init(&rt, &cli->paths, p);
	int exit_code = EXIT_OK;
	if (all) {
		for (size_t i = 0; i < p->nplugins; i++) {
			char err[SMELT_ERRBUF_SIZE];
			struct loaded_adapter *a = runtime_adapter_for(&rt, p->plugins[i], err, sizeof err);
			if (a && dispatch_has_op(a, SMELT_REQ_TEST)) {
				int r = test_one(&rt, p->plugins[i], NULL);
				if (r && !exit_code)
					exit_code = r;
			}
		}
	}
	for (int i = first; i < argc; i++) {
		char *name = xstrdup(argv[i]), *colon = strchr(name, ':');
		if (colon)
			*colon++ = '\0';
		struct plugin *pl = project_find_plugin(p, -1, name);
		int r = pl ? test_one(&rt, pl, colon) : cli_fail("plugin '%s' is not in %s%s", name, p->file_name,
		                                                          cli_plugin_hint(p, name));
		if (r && !exit_code)
			exit_code = r;
		free(name);
	}
	runtime_release(&rt);
	project_free(p);
	return exit_code;
}
