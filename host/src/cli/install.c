/*
 * smelt install [NAME...] [--plugin-type T] [--clean] [-p N|--parallelism N]
 *
 * Auto-locks plugins without a lock file, then installs each plugin's
 * pip_url into <sys dir>/<type>/<name>/venv, in parallel
 * (install/project_install.h, install/install.h).
 * Plugins without pip_url (native connectors, tools on PATH) need nothing.
 * Exit 1 when any install failed; the others stay installed.
 */
#include "cli/commands.h"
#include "install/project_install.h"
#include "project/project.h"
#include "run/jobs.h"
#include "run/runtime.h"
#include "util/argv.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum install_opt { INSTALL_OPT_TYPE, INSTALL_OPT_SCHEDULE, INSTALL_OPT_CLEAN, INSTALL_OPT_PARALLELISM };

static const struct cli_option install_options[] = {
	{ INSTALL_OPT_TYPE, "--plugin-type", 0, "TYPE", "only plugins of this type", 0, NULL },
	{ INSTALL_OPT_SCHEDULE, "--schedule", 's', "NAME", "only what the schedule's job needs", 0, NULL },
	{ INSTALL_OPT_CLEAN, "--clean", 0, NULL, "rebuild the virtualenvs", 0, NULL },
	{ INSTALL_OPT_PARALLELISM, "--parallelism", 'p', "N", "N installs at a time (default: the number of CPUs)", 0,
	  NULL },
	{ 0 },
};

const struct cli_spec install_spec = {
	.name = "install",
	.usage = "smelt install [NAME...] [--plugin-type TYPE] [--schedule NAME] [--clean] [-p N|--parallelism N]",
	.text = "Install plugins (all without NAME) into their virtualenvs, N at a time\n"
	        "(default: the number of CPUs).  Installed plugins whose pip_url and Python\n"
	        "are unchanged are skipped; --clean rebuilds their virtualenvs.  --schedule\n"
	        "installs only what the schedule's job needs.\n",
	.options = install_options,
	.examples = "  smelt install                          every plugin of the project\n"
	            "  smelt install dbt-sqlite gx\n"
	            "  smelt install --clean tap-github       rebuild its virtualenv\n",
};

int cmd_install(struct cli *cli, int argc, char **argv)
{
	int type = -1, parallelism = 0, failed = 0;
	const char *schedule = NULL;
	unsigned flags = 0;
	const char *v;
	const char **names = xcalloc((size_t)argc + 1, sizeof *names);
	size_t nnames = 0;
	for (int i = 1; i < argc; i++) {
		char *end;
		long n;
		switch (cli_opt_next(&install_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &install_spec);
			free(names);
			return EXIT_OK;
		case INSTALL_OPT_CLEAN:
			flags |= INSTALL_CLEAN;
			break;
		case INSTALL_OPT_SCHEDULE:
			schedule = v;
			break;
		case INSTALL_OPT_TYPE:
			if ((type = plugin_type_parse(v)) < 0) {
				free(names);
				return cli_usage("install", "unknown plugin type '%s'", v);
			}
			break;
		case INSTALL_OPT_PARALLELISM:
			n = strtol(v, &end, 10);
			if (*end || n < 1) {
				free(names);
				return cli_usage("install", "--parallelism needs a number >= 1, not '%s'", v);
			}
			parallelism = (int)n;
			break;
		case CLI_OPT_ARG:
			names[nnames++] = argv[i];
			break;
		case CLI_OPT_ERROR:
			free(names);
			return EXIT_USAGE;
		default:
			free(names);
			return cli_opt_unknown(&install_spec, NULL, argv[i]);
		}
	}

	struct project *p;
	int rc = project_open_cli(cli, ENV_NONE, &p);
	if (rc) {
		free(names);
		return rc;
	}
	char **sched_names = NULL;
	size_t nsched = 0;
	if (schedule) {
		char serr[1024];
		if (nnames) {
			free(names);
			project_free(p);
			return cli_usage("install", "--schedule and plugin names do not go together");
		}
		if (schedule_plugins(p, schedule, &sched_names, &nsched, serr, sizeof serr) != 0) {
			free(names);
			project_free(p);
			return cli_fail("%s", serr);
		}
		names = xrealloc(names, (nsched + 1) * sizeof *names);
		for (size_t i = 0; i < nsched; i++)
			names[nnames++] = sched_names[i];
	}
	struct plugin **sel = xcalloc(p->nplugins + nnames + 1, sizeof *sel);
	size_t nsel = 0;
	for (size_t i = 0; i < nnames; i++) {
		struct plugin *pl = project_find_plugin(p, type, names[i]);
		if (!pl) {
			rc = cli_fail("%s '%s' is not in %s%s", type >= 0 ? plugin_type_singular(type) : "plugin",
			              names[i], p->file_name, cli_plugin_hint(p, names[i]));
			free(sel);
			free(names);
			argv_free(sched_names);
			project_free(p);
			return rc;
		}
		sel[nsel++] = pl;
	}
	if (!nnames && !schedule)
		for (size_t i = 0; i < p->nplugins; i++)
			if (type < 0 || (int)p->plugins[i]->type == type)
				sel[nsel++] = p->plugins[i];
	free(names);
	argv_free(sched_names);

	char err[1024];
	struct plugin_installs pi;
	rc = plugin_installs_prepare(p, sel, nsel, &pi, err, sizeof err);
	if (rc < 0) {
		free(sel);
		project_free(p);
		return cli_fail("%s", err);
	}
	failed = pi.failed;
	struct install_item *items = pi.items;
	size_t n = pi.n;

	if (log_interactive() && getenv("TERM"))
		flags |= INSTALL_PROGRESS;
	if (n) {
		install_plugins(items, n, parallelism, flags);
		struct runtime rt;
		runtime_init(&rt, &cli->paths, p);
		runtime_post_install(&rt, items, n);
		runtime_release(&rt);
	}
	else if (!failed)
		log_info("no plugins to install");

	int done = 0, up = 0, nothing = 0;
	for (size_t i = 0; i < n; i++) {
		done += items[i].result == INSTALL_DONE;
		up += items[i].result == INSTALL_UP_TO_DATE;
		nothing += items[i].result == INSTALL_NOTHING;
		failed += items[i].result == INSTALL_FAILED;
	}
	plugin_installs_release(&pi);
	free(sel);
	project_free(p);
	if (n) /* the command's final line, shown with --quiet too */
		log_say_final("installed %d, already installed %d, nothing to install %d, failed %d", done, up, nothing,
		              failed);
	if (failed)
		return cli_fail("%d plugin(s) failed to install", failed);
	return EXIT_OK;
}
