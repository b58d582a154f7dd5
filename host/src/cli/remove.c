/*
 * smelt remove [TYPE] NAME...: drop plugins from the project: the entry
 * (from the file it came from), .smelt/<type>/<name>, the lock files
 * plugins/<type>/<name>*.lock and the settings stored in the system database.
 * Files are removed through fs.h's *_under() helpers: nothing outside the
 * system folder or the project is touched, and no symbolic link is
 * followed (a link is removed, never what it points to).
 */
#include "cli/commands.h"
#include "project/project.h"
#include "settings/settings.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* name with glob(3)'s special characters escaped, so "x*" removes only x*.lock files; caller frees. */
static char *glob_escape(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *c = name; *c; c++) {
		if (strchr("*?[]\\", *c))
			strbuf_addch(&sb, '\\');
		strbuf_addch(&sb, *c);
	}
	return strbuf_detach(&sb);
}


/* Whether a task of job names the plugin (NAME or NAME:COMMAND). */
static int job_names(const struct job *job, const char *name)
{
	size_t n = strlen(name);
	for (size_t a = 0; a < job->nargs; a++) {
		const char *w = job->args[a];
		if (!strncmp(w, name, n) && (w[n] == 0 || w[n] == ':'))
			return 1;
	}
	return 0;
}

/* Jobs whose tasks still name the removed plugin: they would fail to run. */
static void warn_jobs_naming(const struct project *p, const char *name)
{
	for (size_t j = 0; j < p->njobs; j++)
		if (job_names(&p->jobs[j], name))
			log_warn("job '%s' still names '%s': 'smelt run %s' fails until the job is changed "
			         "('smelt job set %s ...')",
			         p->jobs[j].name, name, p->jobs[j].name, p->jobs[j].name);
}

/*
 * Schedules that would fail on their next run: an extract/load schedule
 * whose extractor or loader was the plugin (of that type: a loader of the
 * same name does not make `extractor:` fail), or one whose job names it.
 * Like jobs, they are the user's and left as they are.
 */
static void warn_schedules_naming(const struct project *p, enum plugin_type t, const char *name)
{
	for (size_t i = 0; i < p->nschedules; i++) {
		const struct schedule *s = &p->schedules[i];
		const char *el = t == PLUGIN_EXTRACTORS ? s->extractor : t == PLUGIN_LOADERS ? s->loader : NULL;
		const struct job *job = s->job ? project_find_job(p, s->job) : NULL;
		if (el && !strcmp(el, name))
			log_warn("schedule '%s' still names '%s' as its %s: 'smelt schedule run %s' fails until the "
			         "schedule is changed ('smelt schedule set %s ...')",
			         s->name, name, plugin_type_singular(t), s->name, s->name);
		else if (job && job_names(job, name))
			log_warn("schedule '%s' runs job '%s', which still names '%s': 'smelt schedule run %s' fails until "
			         "the job is changed",
			         s->name, job->name, name, s->name);
	}
}

/*
 * .env is the user's file: remove leaves it alone, as Meltano's does, but
 * names the variables in it that belonged to the plugin (<NAME>_*,
 * <NAMESPACE>_*), so that no secret stays there unnoticed.  Names only.
 */
static void warn_dotenv_left(const struct project *p, const char *name, char *const prefixes[2])
{
	struct strbuf left = STRBUF_INIT;
	for (const cJSON *c = p->dotenv ? p->dotenv->child : NULL; c; c = c->next) {
		int mine = 0;
		for (int k = 0; k < 2 && !mine; k++) {
			size_t n = prefixes[k] ? strlen(prefixes[k]) : 0;
			mine = n && !strncmp(c->string, prefixes[k], n) && c->string[n] == '_';
		}
		if (mine)
			strbuf_addf(&left, "%s%s", left.len ? ", " : "", c->string);
	}
	if (left.len)
		log_warn("'%s' left in .env (remove does not edit .env): %s", name, left.buf);
	strbuf_release(&left);
}
static int remove_one(struct project *p, int type, const char *name)
{
	char err[1024];
	struct plugin *pl = NULL;
	int count = 0;
	for (size_t i = 0; i < p->nplugins; i++)
		if ((type < 0 || (int)p->plugins[i]->type == type) && !strcmp(p->plugins[i]->name, name)) {
			pl = pl ? pl : p->plugins[i];
			count++;
		}
	if (!pl)
		return cli_fail("plugin '%s' is not in %s%s", name, p->file_name, cli_plugin_hint(p, name));
	if (count > 1)
		return cli_fail("'%s' names plugins of several types; use --plugin-type", name);
	enum plugin_type t = pl->type;
	char *ns = settings_db_namespace(pl);
	char *env_prefixes[2] = { settings_env_name(NULL, pl->name), NULL };
	const char *pns = plugin_namespace(p, pl);
	if (pns && strcmp(pns, pl->name))
		env_prefixes[1] = settings_env_name(NULL, pns);
	if (project_remove_plugin(p, pl, err, sizeof err) < 0 || project_save(p, err, sizeof err) < 0) {
		free(ns);
		free(env_prefixes[0]);
		free(env_prefixes[1]);
		return cli_fail("%s", err);
	}
	printf("Removed %s '%s' from %s\n", plugin_type_singular(t), name, p->file_name);
	int rc = EXIT_OK;
	/* the install folder, beneath the system folder */
	char *rel = xasprintf("%s/%s", plugin_type_plural(t), name);
	int fd = fs_open_under(p->sys_dir, rel, O_PATH, 0);
	if (fd >= 0 || errno != ENOENT) {
		if (fd >= 0)
			close(fd);
		if (fs_remove_tree_under(p->sys_dir, rel) < 0) {
			log_error("cannot remove '%s' in '%s': %s", rel, p->sys_dir, fs_beneath_strerror(errno));
			rc = EXIT_FAIL;
		} else {
			printf("Removed %s '%s' from .smelt/%s\n", plugin_type_singular(t), name, plugin_type_plural(t));
		}
	}
	free(rel);
	/* lock files: a prefix glob, as Meltano's, each removed beneath the project */
	char *escaped = glob_escape(name);
	char *pattern = xasprintf("%s/plugins/%s/%s*.lock", p->root, plugin_type_plural(t), escaped);
	free(escaped);
	glob_t gl;
	if (glob(pattern, 0, NULL, &gl) == 0) {
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			const char *lrel = path_beneath(p->root, gl.gl_pathv[i]);
			if (fs_unlink_under(p->root, gl.gl_pathv[i]) == 0) {
				printf("Removed lock file %s\n", lrel);
			} else {
				log_error("cannot remove lock file '%s': %s", lrel ? lrel : gl.gl_pathv[i],
				          fs_beneath_strerror(errno));
				rc = EXIT_FAIL;
			}
		}
	}
	globfree(&gl);
	free(pattern);
	/* settings in the system database */
	const struct settings_db_ops *ops = settings_db_of(p);
	if (ops->reset(ops->ctx, ns, err, sizeof err) < 0)
		log_warn("cannot remove the stored settings of '%s': %s", name, err);
	free(ns);
	warn_dotenv_left(p, name, env_prefixes);
	warn_jobs_naming(p, name);
	warn_schedules_naming(p, t, name);
	free(env_prefixes[0]);
	free(env_prefixes[1]);
	return rc;
}

enum remove_opt { REMOVE_TYPE };

static const struct cli_option remove_options[] = {
	{ REMOVE_TYPE, "--plugin-type", 0, "TYPE", "only the plugin of this type", 0, NULL },
	{ 0 },
};

const struct cli_spec remove_spec = {
	.name = "remove",
	.usage = "smelt remove [TYPE] NAME... [--plugin-type TYPE]",
	.text = "Remove plugins: their entry, install folder, lock files and the settings stored\n"
	        "in the system database.  .env is left alone, as Meltano does; the plugin's\n"
	        "variables still in it are named in a warning (never their values).\n",
	.options = remove_options,
	.examples = "  smelt remove tap-csv\n"
	            "  smelt remove --plugin-type loader target-sqlite\n",
};

int cmd_remove(struct cli *cli, int argc, char **argv)
{
	const char **names = calloc((size_t)argc + 1, sizeof *names);
	size_t n = 0;
	int type = -1, rc = EXIT_OK;
	const char *v;
	if (!names)
		return cli_fail("out of memory");
	for (int i = 1; i < argc; i++) {
		switch (cli_opt_next(&remove_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &remove_spec);
			free(names);
			return EXIT_OK;
		case REMOVE_TYPE:
			if ((type = plugin_type_parse(v)) < 0) {
				free(names);
				return cli_usage("remove", "unknown plugin type '%s'", v);
			}
			break;
		case CLI_OPT_ARG:
			names[n++] = argv[i];
			break;
		case CLI_OPT_ERROR:
			free(names);
			return EXIT_USAGE;
		default:
			free(names);
			return cli_opt_unknown(&remove_spec, NULL, argv[i]);
		}
	}
	if (n >= 2 && plugin_type_parse(names[0]) >= 0 && (type < 0 || type == plugin_type_parse(names[0]))) {
		type = plugin_type_parse(names[0]);
		memmove(names, names + 1, n * sizeof *names);
		n--;
	}
	if (!n) {
		free(names);
		return cli_usage("remove", "remove needs a plugin name");
	}
	struct project *p;
	if ((rc = project_open_cli(cli, ENV_NONE, &p)) != 0) {
		free(names);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		int one = remove_one(p, type, names[i]);
		if (one != EXIT_OK)
			rc = one;
	}
	project_free(p);
	free(names);
	return rc;
}
