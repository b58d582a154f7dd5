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
#include <strings.h>
#include <unistd.h>

const struct cli_command cli_commands[] = {
	{ "init", cmd_init, "create a project: smelt.yml, .env, tool folders, system database", &init_spec },
	{ "add", cmd_add, "add a plugin from the Hub, the built-in catalog or --custom", &add_spec },
	{ "remove", cmd_remove, "remove plugins: project entry, venv, lock file, stored settings", &remove_spec },
	{ "install", cmd_install, "install plugins into their virtualenvs (in parallel)", &install_spec },
	{ "lock", cmd_lock, "write or update plugin lock files from the Hub", &lock_spec },
	{ "config", cmd_config, "list, print, set, unset or reset a plugin's settings", &config_spec },
	{ "environment", cmd_environment, "add, list or remove environments", &environment_spec },
	{ "invoke", cmd_invoke, "run a plugin or one of its commands", &invoke_spec },
	{ "run", cmd_run, "run blocks and jobs: extract/load, transform, check, sync", &run_spec },
	{ "select", cmd_select, "choose the streams and properties an extractor emits", &select_spec },
	{ "state", cmd_state, "list, get, set, merge, copy, move or clear saved state", &state_spec },
	{ "job", cmd_job, "add, set, list or remove jobs (named lists of run blocks)", &job_spec },
	{ "schedule", cmd_schedule, "add, set, list, remove or run schedules", &schedule_spec },
	{ "test", cmd_test, "run the test commands of plugins", &test_spec },
	{ "hub", cmd_hub, "search MeltanoHub or check that it answers", &hub_spec },
	{ "adapters", cmd_adapters, "list the adapters this smelt has loaded", &adapters_spec },
	{ "runs", cmd_runs, "list, show or prune the run history", &runs_spec },
	{ "serve", cmd_serve, "serve the HTTP API (and the UI) of the project", &serve_spec },
	{ NULL, NULL, NULL, NULL },
};

/* smelt's global options: the parser below and `smelt --help` read this table. */
enum global_opt { G_VERSION, G_QUIET, G_VERBOSE, G_NO_ENV, G_LOG_LEVEL, G_LOG_FORMAT, G_CWD, G_ENV, G_ENV_FILE };

static const struct cli_option global_options[] = {
	{ G_CWD, "--cwd", 0, "DIR", "run as if started in DIR", 0, NULL },
	{ G_ENV, "--environment", 0, "NAME", "select an environment (also $SMELT_ENVIRONMENT)", 0, NULL },
	{ G_NO_ENV, "--no-environment", 0, NULL, "select no environment", 0, NULL },
	{ G_ENV_FILE, "--env-file", 0, "PATH", "read settings from PATH instead of <project>/.env", 0, NULL },
	{ G_LOG_LEVEL, "--log-level", 0, "LEVEL", "debug, info, warning, error, critical or disabled", 0, NULL },
	{ G_LOG_FORMAT, "--log-format", 0, "FORMAT", "text or json (log lines on stderr; also key-value, as Meltano's)", 0, NULL },
	{ G_QUIET, "--quiet", 'q', NULL, "print only errors and a command's final line", 0, NULL },
	{ G_VERBOSE, "--verbose", 'v', NULL, "also print the tools' own log lines", 0, NULL },
	{ G_VERSION, "--version", 'V', NULL, "print the version", 0, NULL },
	{ 0 },
};

static const struct cli_spec global_spec = {
	.name = NULL,
	.usage = "smelt [GLOBAL OPTIONS] COMMAND [ARGS]",
	.text = "Smelt runs the tools of a data stack from one project file.\n",
	.options = global_options,
	.notes = "Exit codes: 0 success, 1 failure, 2 usage error or not implemented yet,\n"
	         "3 the project requires another smelt.  'smelt invoke' returns the tool's code.\n"
	         "'smelt help COMMAND' (or 'smelt COMMAND --help') shows a command's options.\n",
};

static void usage(FILE *out)
{
	cli_help_top(out, &global_spec, cli_commands);
}

static void cli_paths(struct cli *cli)
{
	cli->paths.exe = exe_path();
	char *bindir = path_dirname(cli->paths.exe ? cli->paths.exe : "/usr/local/bin/smelt");
	char *adapters = path_join(bindir, SMELT_REL_ADAPTER_DIR);
	char *libexec = path_join(bindir, SMELT_REL_LIBEXEC_DIR);
	/* Canonical paths read better in listings; keep the joined form when a folder is missing. */
	cli->paths.adapter_dir = realpath(adapters, NULL);
	cli->paths.libexec_dir = realpath(libexec, NULL);
	if (!cli->paths.adapter_dir)
		cli->paths.adapter_dir = adapters;
	else
		free(adapters);
	if (!cli->paths.libexec_dir)
		cli->paths.libexec_dir = libexec;
	else
		free(libexec);
	free(bindir);
	/* Plugin definitions refer to files adapters ship (e.g. Airflow's constraints in a pip_url). */
	setenv("SMELT_ADAPTERS_DIR", cli->paths.adapter_dir, 0);
}

static void cli_release(struct cli *cli)
{
	free(cli->paths.exe);
	free(cli->paths.adapter_dir);
	free(cli->paths.libexec_dir);
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
	else if (v && (!strcmp(v, "key-value") || !strcmp(v, "key_value")))
		log_set_format(LOG_FORMAT_KV);

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		switch (cli_opt_next(&global_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			usage(stdout);
			return EXIT_OK;
		case G_VERSION:
			printf("smelt, version %s\n", SMELT_VERSION);
			return EXIT_OK;
		case G_QUIET:
			log_set_verbosity(LOG_QUIET);
			break;
		case G_VERBOSE:
			log_set_verbosity(LOG_VERBOSE);
			break;
		case G_NO_ENV:
			cli.no_environment = 1;
			break;
		case G_LOG_LEVEL:
			if (log_parse_level(v) < 0)
				return cli_usage(NULL, "unknown log level '%s' (debug, info, warning, error, critical, disabled)", v);
			log_set_level(log_parse_level(v));
			/* Meltano's CLI override of cli.log_level, seen by plugins (in Meltano's spelling) */
			setenv("MELTANO_CLI_LOG_LEVEL", strcasecmp(v, "warn") ? v : "warning", 1);
			break;
		case G_LOG_FORMAT:
			if (!strcmp(v, "json"))
				log_set_format(LOG_FORMAT_JSON);
			else if (!strcmp(v, "key-value") || !strcmp(v, "key_value"))
				log_set_format(LOG_FORMAT_KV);
			else if (!strcmp(v, "text") || !strcmp(v, "plain") || !strcmp(v, "uncolored") ||
			         !strcmp(v, "colored"))
				log_set_format(LOG_FORMAT_TEXT), log_set_color(cli.color && !strcmp(v, "colored"));
			else
				return cli_usage(NULL, "unknown log format '%s' (text, json, key-value)", v);
			if (strcmp(v, "text")) /* Meltano's CLI override of cli.log_format, seen by plugins (its values) */
				setenv("MELTANO_CLI_LOG_FORMAT", strcmp(v, "key-value") ? v : "key_value", 1);
			break;
		case G_CWD:
			cli.cwd = v;
			break;
		case G_ENV:
			cli.environment = v;
			break;
		case G_ENV_FILE:
			cli.env_file = v;
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default:
			return cli_opt_unknown(&global_spec, NULL, argv[i]);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli.cwd && chdir(cli.cwd) != 0)
		return cli_fail("cannot change to '%s': %m", cli.cwd);

	const char *name = argv[i];
	if (!strcmp(name, "help")) { /* smelt help [COMMAND]: git's spelling of COMMAND --help */
		if (i + 1 >= argc) {
			usage(stdout);
			return EXIT_OK;
		}
		name = argv[i + 1];
		if (!strcmp(name, "--man")) { /* the body of smelt(1), for scripts/manpage.sh */
			cli_man_page(stdout, "run the tools of a data stack from one project file", &global_spec, cli_commands);
			return EXIT_OK;
		}
		if (!strcmp(name, "--options")) { /* every option, one a line, for the shell completions */
			cli_help_options(stdout, &global_spec);
			for (const struct cli_command *c = cli_commands; c->name; c++)
				if (c->spec)
					cli_help_options(stdout, c->spec);
			return EXIT_OK;
		}
	}
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		if (strcmp(c->name, name))
			continue;
		if (argv[i] != name || (argc - i == 2 && cli_opt_is_help(argv[i + 1]))) {
			/* smelt help CMD, smelt CMD --help */
			cli_help_print(stdout, c->spec);
			return EXIT_OK;
		}
		cli_paths(&cli);
		cli.command = c->name;
		int rc = c->fn(&cli, argc - i, argv + i);
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
