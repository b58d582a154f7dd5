/*
 * smelt - the DataOps control plane.  main() parses the global options,
 * then hands argv to one command family (cli/<name>.c).
 */
#include "build_config.h"
#include "cli/commands.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cli_command cli_commands[] = {
	{ "init", cmd_init, "create a project: smelt.yml, .env, tool folders, system database" },
	{ "add", cmd_add, "add a plugin from the Hub, the built-in catalog or --custom" },
	{ "remove", cmd_remove, "remove plugins: project entry, venv, lock file, stored settings" },
	{ "install", cmd_install, "install plugins into their virtualenvs (in parallel)" },
	{ "lock", cmd_lock, "write or update plugin lock files from the Hub" },
	{ "config", cmd_config, "list, print, set, unset or reset a plugin's settings" },
	{ "environment", cmd_environment, "add, list or remove environments" },
	{ "invoke", cmd_invoke, "run a plugin or one of its commands" },
	{ "run", cmd_run, "run blocks and jobs: extract/load, transform, check, sync" },
	{ "select", cmd_select, "choose the streams and properties an extractor emits" },
	{ "state", cmd_state, "list, get, set, merge, copy, move or clear saved state" },
	{ "job", cmd_job, "add, set, list or remove jobs (named lists of run blocks)" },
	{ "schedule", cmd_schedule, "add, set, list, remove or run schedules" },
	{ "test", cmd_test, "run the test commands of plugins" },
	{ "hub", cmd_hub, "search MeltanoHub or check that it answers" },
	{ "adapters", cmd_adapters, "list the adapters this smelt has loaded" },
	{ "runs", cmd_runs, "list, show or prune the run history" },
	{ "serve", cmd_serve, "serve the HTTP API (and the UI) of the project" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: smelt [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
	        "Smelt runs the tools of a data stack from one project file.\n\n"
	        "Commands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fprintf(out,
	        "\nGlobal options (before the command):\n"
	        "  --cwd DIR              run as if started in DIR\n"
	        "  --environment NAME     select an environment (also $SMELT_ENVIRONMENT)\n"
	        "  --no-environment       select no environment\n"
	        "  --env-file PATH        read settings from PATH instead of <project>/.env\n"
	        "  --log-level LEVEL      debug, info, warning, error, critical or disabled\n"
	        "  --log-format FORMAT    text or json (log lines on stderr)\n"
	        "  -q, --quiet            print only errors and a command's final line\n"
	        "  -v, --verbose          also print the tools' own log lines\n"
	        "  -V, --version          print the version\n"
	        "  -h, --help             this help; 'smelt help COMMAND' for a command\n"
	        "\nExit codes: 0 success, 1 failure, 2 usage error or not implemented yet,\n"
	        "3 the project requires another smelt.  'smelt invoke' returns the tool's code.\n");
}

static void cli_paths(struct cli *cli)
{
	cli->exe = exe_path();
	char *bindir = path_dirname(cli->exe ? cli->exe : "/usr/local/bin/smelt");
	char *adapters = path_join(bindir, SMELT_REL_ADAPTER_DIR);
	char *libexec = path_join(bindir, SMELT_REL_LIBEXEC_DIR);
	/* Canonical paths read better in listings; keep the joined form when a folder is missing. */
	cli->adapter_dir = realpath(adapters, NULL);
	cli->libexec_dir = realpath(libexec, NULL);
	if (!cli->adapter_dir)
		cli->adapter_dir = adapters;
	else
		free(adapters);
	if (!cli->libexec_dir)
		cli->libexec_dir = libexec;
	else
		free(libexec);
	free(bindir);
	/* Plugin definitions refer to files adapters ship (e.g. Airflow's constraints in a pip_url). */
	setenv("SMELT_ADAPTERS_DIR", cli->adapter_dir, 0);
}

static void cli_release(struct cli *cli)
{
	free(cli->exe);
	free(cli->adapter_dir);
	free(cli->libexec_dir);
}

/* cJSON's allocator: xmalloc, so that a cJSON call never returns NULL for lack of memory (a caller
 * that ignored it would silently drop a node from an edited file, issue 18).  Installed once, before
 * anything else; libcjson is shared by the whole process, adapters included (sdk/ABI.md). */
static void *cjson_xmalloc(size_t n)
{
	return xmalloc(n);
}

int main(int argc, char **argv)
{
	cJSON_Hooks hooks = { cjson_xmalloc, free };
	struct cli cli = { 0 };
	const char *v;
	int i;

	cJSON_InitHooks(&hooks);
	signal(SIGPIPE, SIG_IGN);
	cli.color = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
	log_set_color(cli.color);
	if ((v = getenv("SMELT_LOG_LEVEL")) && log_parse_level(v) >= 0)
		log_set_level(log_parse_level(v));
	if ((v = getenv("SMELT_LOG_FORMAT")) && !strcmp(v, "json"))
		log_set_format(LOG_FORMAT_JSON);

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		int r;
		if (cli_is_help(argv[i])) {
			usage(stdout);
			return EXIT_OK;
		}
		if (cli_opt_flag(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("smelt, version %s\n", SMELT_VERSION);
			return EXIT_OK;
		}
		if (cli_opt_flag(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
			log_set_verbosity(LOG_QUIET);
			continue;
		}
		if (cli_opt_flag(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
			log_set_verbosity(LOG_VERBOSE);
			continue;
		}
		if (cli_opt_flag(argv[i], "--no-environment")) {
			cli.no_environment = 1;
			continue;
		}
		if ((r = cli_opt_value(argc, argv, &i, "--log-level", &v)) != 0) {
			if (r < 0 || log_parse_level(v) < 0)
				return cli_usage(NULL, "unknown log level '%s' (debug, info, warning, error, critical, disabled)",
				                 r < 0 ? "" : v);
			log_set_level(log_parse_level(v));
			continue;
		}
		if ((r = cli_opt_value(argc, argv, &i, "--log-format", &v)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			if (!strcmp(v, "json"))
				log_set_format(LOG_FORMAT_JSON);
			else if (!strcmp(v, "text") || !strcmp(v, "plain") || !strcmp(v, "uncolored") ||
			         !strcmp(v, "colored"))
				log_set_format(LOG_FORMAT_TEXT), log_set_color(cli.color && !strcmp(v, "colored"));
			else
				return cli_usage(NULL, "unknown log format '%s' (text, json)", v);
			continue;
		}
		if ((r = cli_opt_value(argc, argv, &i, "--cwd", &cli.cwd)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		if ((r = cli_opt_value(argc, argv, &i, "--environment", &cli.environment)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		if ((r = cli_opt_value(argc, argv, &i, "--env-file", &cli.env_file)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		return cli_usage(NULL, "unknown global option '%s'\nsee 'smelt --help'", argv[i]);
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli.cwd && chdir(cli.cwd) != 0)
		return cli_fail("cannot change to '%s': %m", cli.cwd);

	const char *name = argv[i];
	char *help_argv[] = { NULL, "--help", NULL };
	if (!strcmp(name, "help")) { /* smelt help [COMMAND]: git's spelling of COMMAND --help */
		if (i + 1 >= argc) {
			usage(stdout);
			return EXIT_OK;
		}
		name = help_argv[0] = argv[i + 1];
		argv = help_argv;
		argc = 2;
		i = 0;
	}
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		if (strcmp(c->name, name))
			continue;
		cli_paths(&cli);
		cli.command = c->name;
		int rc = c->fn(&cli, argc - i, argv + i);
		if (rc == EXIT_OK && argc - i == 2 && cli_is_help(argv[i + 1])) /* smelt CMD --help, smelt help CMD */
			cli_print_examples(stdout, c->name);
		cli_release(&cli);
		return rc;
	}

	const char *names[64];
	size_t n = 0;
	for (const struct cli_command *c = cli_commands; c->name && n < 63; c++)
		names[n++] = c->name;
	names[n++] = "help";
	const char *guess = cli_suggest(name, names, n);
	fprintf(stderr, "smelt: error: '%s' is not a smelt command", name);
	if (guess)
		fprintf(stderr, "; did you mean '%s'?", guess);
	fprintf(stderr, "\nsee 'smelt --help'\n");
	return EXIT_USAGE;
}
