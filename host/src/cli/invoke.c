/*
 * smelt invoke PLUGIN[:COMMAND] [ARGS...]: run a plugin (or one of its
 * commands) with its settings in the environment and its venv on PATH,
 * and return the tool's own exit code.  Where logs are collected (stderr
 * not a terminal, --log-format json or key-value) the tool's stderr is
 * logged line by line, as Meltano's invoke does; stdin and stdout are
 * always the tool's.  The adapter that claims the
 * plugin does the work; a plugin no adapter claims (a utility on PATH,
 * sqlfluff, ...) is run by the host directly.
 */
#include "cli/commands.h"
#include "adapters/dispatch.h"
#include "project/project.h"
#include "run/execute.h"
#include "run/proc.h"
#include "run/runtime.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum invoke_opt { INVOKE_DUMP, INVOKE_LIST, INVOKE_TYPE, INVOKE_NO_INSTALL, INVOKE_INSTALL, INVOKE_FORMAT };

static const struct cli_option invoke_options[] = {
	{ INVOKE_DUMP, "--dump", 0, "config|catalog", "print the plugin's generated config or catalog instead", 0, NULL },
	{ INVOKE_LIST, "--list-commands", 0, NULL, "list the plugin's commands (--format text|json)", 0, NULL },
	{ INVOKE_FORMAT, "--format", 0, "text|json", "--list-commands: output format (default text)", 0, NULL },
	{ INVOKE_TYPE, "--plugin-type", 0, "TYPE", "when several plugins share the name", 0, NULL },
	{ INVOKE_NO_INSTALL, "--no-install", 0, NULL, "do not install a missing plugin first", 0, NULL },
	{ INVOKE_INSTALL, "--install", 0, NULL, "install a missing plugin first (the default)", 0, NULL },
	{ 0 },
};

const struct cli_spec invoke_spec = {
	.name = "invoke",
	.usage = "smelt invoke [OPTIONS] PLUGIN[:COMMAND] [ARGS...]",
	.text = "Options go before PLUGIN: the words after it are the tool's.\n",
	.options = invoke_options,
	.notes = "The exit code is the tool's own.  On a terminal the tool has it; where logs are collected\n"
	         "(stderr not a terminal, --log-format json or key-value) its stderr lines are logged, as\n"
	         "Meltano's invoke logs them, with secrets scrubbed.\n",
	.examples = "  smelt invoke tap-csv --discover        run the plugin's executable\n"
	            "  smelt invoke dbt-sqlite:run            one of its commands\n"
	            "  smelt invoke --list-commands dbt-sqlite --format json\n",
};

static void list_one(cJSON *arr, const char *plugin, const char *name, const char *description)
{
	if (!arr) {
		printf("  %s:%-16s %s\n", plugin, name, description);
		return;
	}
	cJSON *it = cJSON_CreateObject();
	char *full = xasprintf("%s:%s", plugin, name);
	cJSON_AddStringToObject(it, "name", full);
	cJSON_AddStringToObject(it, "description", description);
	cJSON_AddItemToArray(arr, it);
	free(full);
}

/* The plugin's commands (its definition's, then its adapter's); json: {"plugin":..,"commands":[{name,description}]}. */
static void list_commands(struct runtime *rt, struct plugin *pl, int json)
{
	char err[SMELT_ERRBUF_SIZE];
	const struct definition *d = project_plugin_def(rt->project, pl, err, sizeof err);
	cJSON *doc = json ? cJSON_CreateObject() : NULL, *arr = NULL;
	if (doc) {
		cJSON_AddStringToObject(doc, "plugin", pl->name);
		arr = cJSON_AddArrayToObject(doc, "commands");
	} else {
		printf("Commands of %s:\n", pl->name);
	}
	for (size_t i = 0; d && i < d->ncommands; i++)
		list_one(arr, pl->name, d->commands[i].name,
		         d->commands[i].description ? d->commands[i].description : (d->commands[i].args ? d->commands[i].args : ""));
	struct loaded_adapter *a = runtime_adapter_for(rt, pl, err, sizeof err);
	const struct smelt_command *c;
	for (size_t k = 0; a && (c = loader_command(a, k)); k++)
		if (!d || !definition_find_command(d, c->name))
			list_one(arr, pl->name, c->name, c->description ? c->description : "");
	if (doc) {
		struct strbuf sb = STRBUF_INIT;
		json_dump(&sb, doc, -2);
		printf("%s\n", sb.buf);
		strbuf_release(&sb);
		cJSON_Delete(doc);
	}
	fflush(stdout);
}

int cmd_invoke(struct cli *cli, int argc, char **argv)
{
	const char *dump = NULL, *type_name = NULL, *format = NULL;
	int list = 0, no_install = 0, i;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *v;
		switch (cli_opt_next(&invoke_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &invoke_spec);
			return EXIT_OK;
		case INVOKE_LIST:
			list = 1;
			break;
		case INVOKE_NO_INSTALL:
			no_install = 1;
			break;
		case INVOKE_INSTALL:
			no_install = 0;
			break;
		case INVOKE_DUMP:
			dump = v;
			if (strcmp(dump, "config") && strcmp(dump, "catalog"))
				return cli_usage("invoke", "--dump takes 'config' or 'catalog', not '%s'", dump);
			break;
		case INVOKE_TYPE:
			type_name = v;
			break;
		case INVOKE_FORMAT:
			format = v;
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default: /* "-" alone is no plugin either */
			return cli_opt_unknown(&invoke_spec, NULL, argv[i]);
		}
	}
	if (i >= argc)
		return cli_usage("invoke", "which plugin? 'smelt invoke PLUGIN[:COMMAND] [ARGS...]'");
	/* a listing takes its options after the plugin name too (nothing is passed to a tool) */
	for (int k = i + 1; list && k < argc; k++) {
		const char *v, *word = argv[k];
		int id = cli_opt_next(&invoke_spec, NULL, argc, argv, &k, &v);
		if (id == CLI_OPT_ERROR)
			return EXIT_USAGE;
		if (id != INVOKE_FORMAT)
			return cli_usage("invoke", "--list-commands takes no argument '%s'", word);
		format = v;
	}
	if (format && (!list || cli_parse_format(format, 1u << FORMAT_TEXT | 1u << FORMAT_JSON) < 0))
		return cli_usage("invoke", list ? "--format takes text or json, not '%s'"
		                                : "--format '%s' goes with --list-commands", format);

	struct project *p;
	int rc = project_open_cli(cli, ENV_DEFAULT_OR_NONE, &p);
	if (rc)
		return rc;
	char *name = xstrdup(argv[i]);
	char *command = strchr(name, ':');
	if (command)
		*command++ = '\0';
	int type = type_name ? plugin_type_parse(type_name) : -1;
	if (type_name && type < 0) {
		free(name);
		project_free(p);
		return cli_usage("invoke", "unknown plugin type '%s'", type_name);
	}
	struct plugin *pl = project_find_plugin(p, type, name);
	if (!pl) {
		const char *hint = cli_plugin_hint(p, name);
		int code = cli_fail("plugin '%s' is not in %s%s", name, p->file_name, *hint ? hint : "; see 'smelt add'");
		free(name);
		project_free(p);
		return code;
	}

	struct runtime rt;
	runtime_init(&rt, &cli->paths, p);
	/*
	 * Meltano's invoke logs the tool's stderr line by line (stdio=stderr,
	 * cmd_type=command); smelt does where logs are collected: a JSON or
	 * key-value log, or stderr not a terminal (unless the log level or
	 * --quiet would hide the lines: then the tool's stderr is left alone
	 * rather than lost).  On a terminal with the text format the tool has
	 * the terminal (a REPL's prompt on stderr works).
	 */
	if (log_get_format() != LOG_FORMAT_TEXT ||
	    (!isatty(STDERR_FILENO) && log_level() <= SMELT_LOG_INFO && log_get_verbosity() != LOG_QUIET)) {
		proc_log_inherited_stderr(1);
		log_context_set(1, "cmd_type", "command");
	}
	char err[SMELT_ERRBUF_SIZE * 4] = "";
	int exit_code = EXIT_OK;
	if (list) {
		list_commands(&rt, pl, format && !strcmp(format, "json"));
		goto out;
	}
	if (runtime_prepare(&rt, &pl, 1, !no_install, err, sizeof err)) {
		exit_code = cli_fail("%s", err);
		goto out;
	}
	struct loaded_adapter *a = runtime_adapter_for(&rt, pl, err, sizeof err);
	if (!a) {
		if (dump) {
			exit_code = cli_fail("%s", err);
			goto out;
		}
		log_debug("%s; running it directly", err);
		int code = 0;
		rc = execute_direct(&rt, pl, command, argv + i + 1, (size_t)(argc - i - 1), &code, err, sizeof err);
		exit_code = rc ? cli_fail("%s", err) : code;
		goto out;
	}
	struct smelt_request req = dispatch_request(dump ? SMELT_REQ_DUMP : SMELT_REQ_INVOKE, &pl, 1);
	if (!dispatch_has_op(a, req.kind)) {
		exit_code = cli_not_implemented(dump ? "invoke --dump" : "invoke");
		fprintf(stderr, "(adapter '%s' has no invoke operation yet)\n", a->desc->name);
		goto out;
	}
	req.command = command;
	req.args = (const char *const *)argv + i + 1;
	req.nargs = (size_t)(argc - i - 1);
	req.dump = dump;
	req.flags = (isatty(0) && isatty(1) ? SMELT_RQ_INTERACTIVE : 0) | (no_install ? SMELT_RQ_NO_INSTALL : 0);
	int tool_code = 0;
	rc = dispatch_call(a, &req, &tool_code, err, sizeof err);
	if (rc == SMELT_ERR_UNSUPPORTED)
		exit_code = cli_not_implemented(err[0] ? err : "invoke");
	else if (rc)
		exit_code = cli_fail("%s", err[0] ? err : smelt_strerror(rc));
	else
		exit_code = tool_code;
out:
	runtime_release(&rt);
	free(name);
	project_free(p);
	return exit_code;
}
