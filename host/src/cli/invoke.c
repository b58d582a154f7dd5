/*
 * smelt invoke PLUGIN[:COMMAND] [ARGS...]: run a plugin (or one of its
 * commands) with its settings in the environment and its venv on PATH,
 * and return the tool's own exit code.  The adapter that claims the
 * plugin does the work; a plugin no adapter claims (a utility on PATH,
 * sqlfluff, ...) is run by the host directly.
 */
#include "cli/commands.h"
#include "project/project.h"
#include "run/proc.h"
#include "run/runtime.h"
#include "util/argv.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char invoke_usage[] =
	"usage: smelt invoke [OPTIONS] PLUGIN[:COMMAND] [ARGS...]\n\n"
	"Options:\n"
	"  --dump config|catalog   print the plugin's generated config or catalog instead\n"
	"  --list-commands         list the plugin's commands (--format text|json)\n"
	"  --plugin-type TYPE      when several plugins share the name\n"
	"  --no-install            do not install a missing plugin first\n\n"
	"The exit code is the tool's own.\n";

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

/* A plugin no adapter claims: its executable (or the command's) with the args, stdio inherited. */
static int invoke_direct(struct runtime *rt, struct plugin *pl, const char *command, char **args, size_t nargs)
{
	char err[SMELT_ERRBUF_SIZE * 2];
	const struct definition *d = project_plugin_def(rt->project, pl, err, sizeof err);
	if (!d)
		return cli_fail("%s", err);
	char **argv = NULL;
	size_t n = 0;
	const char *exe = runtime_plugin_path(rt, pl, SMELT_PPATH_EXECUTABLE);
	argv_push(&argv, &n, exe);
	if (command) {
		const struct plugin_command *c = definition_find_command(d, command);
		if (!c) {
			argv_free(argv);
			return cli_fail("plugin '%s' has no command '%s' (see 'smelt invoke --list-commands %s')", pl->name,
			                command, pl->name);
		}
		if (c->executable) {
			free(argv[0]);
			argv[0] = xstrdup(c->executable);
		}
		if (c->args && argv_split(c->args, &argv, &n) != 0) {
			argv_free(argv);
			return cli_fail("command '%s' of '%s' has an unterminated quote", command, pl->name);
		}
	}
	for (size_t i = 0; i < nargs; i++)
		argv_push(&argv, &n, args[i]);
	struct smelt_env *env = runtime_env_new(rt, pl);
	struct proc_stage st = { .label = pl->name, .argv = argv, .envp = runtime_env_vars(env),
	                         .cwd = rt->project->root, .flags = SMELT_SPAWN_INHERIT_STDIO };
	struct proc_result res;
	int rc = proc_pipeline(&st, 1, NULL, &res, err, sizeof err);
	runtime_env_free(env);
	argv_free(argv);
	if (rc == SMELT_ERR)
		return cli_fail("%s", err);
	if (res.exit.signaled)
		return 128 + res.exit.term_signal;
	return res.exit.exit_code;
}

int cmd_invoke(struct cli *cli, int argc, char **argv)
{
	const char *dump = NULL, *type_name = NULL, *format = NULL;
	int list = 0, no_install = 0, i, r;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (cli_is_help(argv[i])) {
			fputs(invoke_usage, stdout);
			return EXIT_OK;
		}
		if (cli_opt_flag(argv[i], "--list-commands"))
			list = 1;
		else if (cli_opt_flag(argv[i], "--no-install"))
			no_install = 1;
		else if (cli_opt_flag(argv[i], "--install"))
			no_install = 0;
		else if ((r = cli_opt_value(argc, argv, &i, "--dump", &dump)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			if (strcmp(dump, "config") && strcmp(dump, "catalog"))
				return cli_usage("invoke", "--dump takes 'config' or 'catalog', not '%s'", dump);
		} else if ((r = cli_opt_value(argc, argv, &i, "--plugin-type", &type_name)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
		} else if ((r = cli_opt_value(argc, argv, &i, "--format", &format)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
		} else {
			return cli_unknown_option("invoke", argv[i]);
		}
	}
	if (i >= argc)
		return cli_usage("invoke", "which plugin? 'smelt invoke PLUGIN[:COMMAND] [ARGS...]'");
	/* a listing takes its options after the plugin name too (nothing is passed to a tool) */
	for (int k = i + 1; list && k < argc; k++)
		if ((r = cli_opt_value(argc, argv, &k, "--format", &format)) < 0)
			return EXIT_USAGE;
		else if (!r)
			return cli_usage("invoke", "--list-commands takes no argument '%s'", argv[k]);
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
	runtime_init(&rt, cli, p);
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
		exit_code = invoke_direct(&rt, pl, command, argv + i + 1, (size_t)(argc - i - 1));
		goto out;
	}
	if (!a->desc->invoke) {
		exit_code = cli_not_implemented(dump ? "invoke --dump" : "invoke");
		fprintf(stderr, "(adapter '%s' has no invoke operation yet)\n", a->desc->name);
		goto out;
	}
	const struct smelt_plugin *plugins[1] = { (const struct smelt_plugin *)pl };
	struct smelt_request req = {
		.struct_size = sizeof req,
		.kind = dump ? SMELT_REQ_DUMP : SMELT_REQ_INVOKE,
		.plugins = plugins,
		.nplugins = 1,
		.command = command,
		.args = (const char *const *)argv + i + 1,
		.nargs = (size_t)(argc - i - 1),
		.dump = dump,
		.flags = (isatty(0) && isatty(1) ? SMELT_RQ_INTERACTIVE : 0) | (no_install ? SMELT_RQ_NO_INSTALL : 0),
	};
	int tool_code = 0;
	rc = a->desc->invoke(a->state, &req, &tool_code, err, sizeof err);
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
