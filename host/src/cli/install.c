/*
 * smelt install [NAME...] [--plugin-type T] [--clean] [-p N|--parallelism N]
 *
 * Auto-locks plugins without a lock file, then installs each plugin's
 * pip_url into <sys dir>/<type>/<name>/venv, in parallel (install/install.h).
 * Plugins without pip_url (native connectors, tools on PATH) need nothing.
 * Exit 1 when any install failed; the others stay installed.
 */
#include "cli/commands.h"
#include "hub/project_hub.h"
#include "install/install.h"
#include "project/project.h"
#include "settings/settings.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void install_usage(FILE *out)
{
	fprintf(out, "usage: smelt install [NAME...] [--plugin-type TYPE] [--clean] [-p N|--parallelism N]\n\n"
	             "Install plugins (all without NAME) into their virtualenvs, N at a time\n"
	             "(default: the number of CPUs).  Installed plugins whose pip_url and Python\n"
	             "are unchanged are skipped; --clean rebuilds their virtualenvs.\n");
}

/* Owned strings behind one install item. */
struct item_strings {
	char *pip_url, *python, *venv_dir;
};

/* pip_url with $VAR expanded in the plugin's environment (MELTANO.md section 5). */
static char *expand_pip_url(struct project *p, struct plugin *pl, const char *pip_url, const char *python,
                            char *err, size_t errlen)
{
	struct envlist env = ENVLIST_INIT;
	char serr[512];
	int empty = 0;
	if (!strchr(pip_url, '$'))
		return xstrdup(pip_url);
	envlist_from_environ(&env);
	if (settings_plugin_env(p, pl, NULL, &env, serr, sizeof serr) != 0)
		log_debug("%s: plugin environment: %s (expanding pip_url with the process environment)", pl->name,
		          serr);
	if (strstr(pip_url, "MELTANO__PYTHON_VERSION") && !envlist_get(&env, "MELTANO__PYTHON_VERSION")) {
		char *ver = install_python_version(python);
		if (ver)
			envlist_set(&env, "MELTANO__PYTHON_VERSION", ver);
		free(ver);
	}
	char *res = settings_expand(pip_url, &env, 0, &empty, err, errlen);
	envlist_release(&env);
	return res;
}

int cmd_install(struct cli *cli, int argc, char **argv)
{
	int type = -1, parallelism = 0, failed = 0;
	unsigned flags = 0;
	const char *v;
	const char **names = xcalloc((size_t)argc + 1, sizeof *names);
	size_t nnames = 0;
	for (int i = 1; i < argc; i++) {
		int r;
		if (cli_is_help(argv[i])) {
			install_usage(stdout);
			free(names);
			return EXIT_OK;
		}
		if (cli_opt_flag(argv[i], "--clean")) {
			flags |= INSTALL_CLEAN;
		} else if ((r = cli_opt_value(argc, argv, &i, "--plugin-type", &v)) != 0) {
			if (r < 0 || (type = plugin_type_parse(v)) < 0) {
				free(names);
				return r < 0 ? EXIT_USAGE : cli_usage("install", "unknown plugin type '%s'", v);
			}
		} else if ((r = cli_opt_value(argc, argv, &i, "--parallelism", &v)) != 0 ||
		           (r = cli_opt_value(argc, argv, &i, "-p", &v)) != 0) {
			char *end;
			long n = r > 0 ? strtol(v, &end, 10) : 0;
			if (r < 0 || *end || n < 1) {
				free(names);
				return r < 0 ? EXIT_USAGE : cli_usage("install", "--parallelism needs a number >= 1, not '%s'", v);
			}
			parallelism = (int)n;
		} else if (argv[i][0] == '-') {
			free(names);
			return cli_usage("install", "unknown option '%s'", argv[i]);
		} else {
			names[nnames++] = argv[i];
		}
	}

	struct project *p;
	int rc = project_open_cli(cli, ENV_NONE, &p);
	if (rc) {
		free(names);
		return rc;
	}
	struct plugin **sel = xcalloc(p->nplugins + nnames + 1, sizeof *sel);
	size_t nsel = 0;
	for (size_t i = 0; i < nnames; i++) {
		struct plugin *pl = project_find_plugin(p, type, names[i]);
		if (!pl) {
			free(sel);
			free(names);
			rc = cli_fail("%s '%s' is not in %s", type >= 0 ? plugin_type_singular(type) : "plugin",
			              names[i], p->file_name);
			project_free(p);
			return rc;
		}
		sel[nsel++] = pl;
	}
	if (!nnames)
		for (size_t i = 0; i < p->nplugins; i++)
			if (type < 0 || (int)p->plugins[i]->type == type)
				sel[nsel++] = p->plugins[i];
	free(names);

	char err[1024];
	/* Lock what has no lock file (and the parents of inherited plugins). */
	struct plugin **lock_sel = xcalloc(nsel * 2 + 1, sizeof *lock_sel);
	size_t nlock = 0;
	for (size_t i = 0; i < nsel; i++) {
		lock_sel[nlock++] = sel[i];
		if (sel[i]->parent)
			lock_sel[nlock++] = sel[i]->parent;
	}
	rc = hub_autolock(p, lock_sel, nlock, err, sizeof err);
	free(lock_sel);
	if (rc < 0) {
		free(sel);
		project_free(p);
		return cli_fail("%s", err);
	}
	/* project_plugin_def() reads lock files when first asked: the new ones are seen. */

	struct install_item *items = xcalloc(nsel + 1, sizeof *items);
	struct item_strings *strs = xcalloc(nsel + 1, sizeof *strs);
	size_t n = 0;
	for (size_t i = 0; i < nsel; i++) {
		struct plugin *pl = sel[i];
		const struct definition *def = project_plugin_def(p, pl, err, sizeof err);
		if (!def) {
			log_error("%s: %s", pl->name, err);
			failed++;
			continue;
		}
		/* An inherited plugin with its parent's pip_url shares the parent's venv (Meltano's venv_name). */
		const char *venv_name = pl->name;
		if (pl->parent) {
			const struct definition *pdef = project_plugin_def(p, pl->parent, err, sizeof err);
			if (pdef && def->pip_url && pdef->pip_url && !strcmp(def->pip_url, pdef->pip_url))
				venv_name = pl->parent->name;
		}
		struct item_strings *s = &strs[n];
		const char *python = def->python ? def->python : NULL;
		struct install_item probe = { .python = python };
		if (def->pip_url && *def->pip_url) {
			s->pip_url = expand_pip_url(p, pl, def->pip_url, install_python(&probe), err, sizeof err);
			if (!s->pip_url) {
				log_error("%s: pip_url: %s", pl->name, err);
				failed++;
				continue;
			}
		}
		s->python = python ? xstrdup(python) : NULL;
		s->venv_dir = xasprintf("%s/%s/%s/venv", p->sys_dir, plugin_type_plural(pl->type), venv_name);
		/* Two plugins sharing a venv install once. */
		int dup = 0;
		for (size_t j = 0; j < n; j++)
			if (!strcmp(items[j].venv_dir, s->venv_dir))
				dup = 1;
		if (dup) {
			free(s->pip_url);
			free(s->python);
			free(s->venv_dir);
			memset(s, 0, sizeof *s);
			continue;
		}
		items[n].plugin_type = plugin_type_plural(pl->type);
		items[n].name = pl->name;
		items[n].pip_url = s->pip_url;
		items[n].python = s->python;
		items[n].venv_dir = s->venv_dir;
		n++;
	}

	if (isatty(STDERR_FILENO) && log_get_format() == LOG_FORMAT_TEXT && getenv("TERM") &&
	    strcmp(getenv("TERM"), "dumb") && log_enabled(SMELT_LOG_INFO))
		flags |= INSTALL_PROGRESS;
	if (n)
		install_plugins(items, n, parallelism, flags);
	else if (!failed)
		log_info("no plugins to install");

	int done = 0, up = 0, nothing = 0;
	for (size_t i = 0; i < n; i++) {
		done += items[i].result == INSTALL_DONE;
		up += items[i].result == INSTALL_UP_TO_DATE;
		nothing += items[i].result == INSTALL_NOTHING;
		failed += items[i].result == INSTALL_FAILED;
		install_item_release(&items[i]);
		free(strs[i].pip_url);
		free(strs[i].python);
		free(strs[i].venv_dir);
	}
	free(items);
	free(strs);
	free(sel);
	project_free(p);
	if (n)
		log_info("installed %d, already installed %d, nothing to install %d, failed %d", done, up, nothing,
		         failed);
	if (failed)
		return cli_fail("%d plugin(s) failed to install", failed);
	return EXIT_OK;
}
