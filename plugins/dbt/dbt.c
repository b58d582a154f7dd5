/*
 * The dbt adapter: dbt Core 1.x with its warehouse adapters (sqlite,
 * duckdb, postgres, snowflake; others with their settings as they are).
 *
 * Every command runs the plugin's own `dbt` (its venv) as
 *   dbt <command words> --project-dir <project_dir> --profiles-dir <run dir> [args...]
 * with a profiles.yml generated for the command (profile.c) in
 * .smelt/run/<plugin>/ (0600, removed when the command ends), secrets
 * passed in the environment only, and no phone-home
 * (DBT_SEND_ANONYMOUS_USAGE_STATS=false, DBT_VERSION_CHECK=false).
 * Outputs go where dbt puts them by default, made explicit:
 * <project_dir>/target (setting target_path overrides) and
 * <project_dir>/logs.  A missing dbt project is created first
 * (scaffold.c).  In `smelt run` and `smelt test` the adapter reads
 * target/run_results.json and reports every model, seed and test
 * (results.c); a failing one fails the block and is named in the error.
 *
 * Commands: the plugin definition's (`commands:`), else a built-in table
 * of dbt's own (run, test, build, seed, compile, docs-generate, deps,
 * debug, parse, ...), plus `profile`, which prints the generated
 * profiles.yml.  `smelt invoke dbt-x ARGS...` passes ARGS to dbt.
 */
#include "dbt.h"

#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers (dbt.h) ---- */



char *dbt_abs(const char *root, const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return kit_asprintf("%s/%s", root, path);
}



int dbt_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

const char *dbt_attr(struct dbt *d, const struct smelt_plugin *p, const char *key)
{
	return d->host->plugin_attr(d->hctx, p, key);
}

char *dbt_setting_str(struct dbt *d, const struct smelt_plugin *p, const char *name)
{
	char *json = NULL, err[SMELT_ERRBUF_SIZE];
	if (d->host->setting(d->hctx, p, name, &json, NULL, err, sizeof err) || !json)
		return NULL;
	cJSON *v = cJSON_Parse(json);
	d->host->free(json);
	char *s = NULL;
	if (cJSON_IsString(v) && v->valuestring[0])
		s = strdup(v->valuestring);
	else if (cJSON_IsNumber(v))
		s = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	return s;
}

static const struct {
	const char *name;
	enum dbt_kind kind;
} kinds[] = {
	{ "sqlite", DBT_KIND_SQLITE },
	{ "duckdb", DBT_KIND_DUCKDB },
	{ "postgres", DBT_KIND_POSTGRES },
	{ "snowflake", DBT_KIND_SNOWFLAKE },
};

const char *dbt_kind_name(enum dbt_kind kind)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return NULL;
}

static enum dbt_kind kind_named(const char *type)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(kinds[i].name, type))
			return kinds[i].kind;
	return DBT_KIND_OTHER;
}

/* The word after "dbt-"/"dbt_" in s, up to a non-identifier character; malloc'd or NULL. */
static char *type_after_dbt(const char *s)
{
	for (const char *p = s ? strstr(s, "dbt") : NULL; p; p = strstr(p + 1, "dbt")) {
		if ((p[3] != '-' && p[3] != '_') || !strncmp(p + 4, "core", 4) || !strncmp(p + 4, "labs", 4) ||
		    (p > s && p[-1] != ' ' && p[-1] != '/'))
			continue;
		size_t n = strspn(p + 4, "abcdefghijklmnopqrstuvwxyz0123456789");
		if (n)
			return strndup(p + 4, n);
	}
	return NULL;
}

enum dbt_kind dbt_kind_of(struct dbt *d, const struct smelt_plugin *p, char **type)
{
	/* the `type` setting (Meltano's dbt utilities: DBT_EXT_TYPE), the namespace, the name, the pip_url */
	char *t = dbt_setting_str(d, p, "type");
	if (!t)
		t = type_after_dbt(dbt_attr(d, p, "namespace"));
	if (!t)
		t = type_after_dbt(dbt_attr(d, p, "name"));
	if (!t)
		t = type_after_dbt(dbt_attr(d, p, "pip_url"));
	if (!t)
		t = strdup("sqlite"); /* the embedded warehouse */
	*type = t;
	return t ? kind_named(t) : DBT_KIND_OTHER;
}

/* ---- commands ---- */

/* dbt's own commands, for plugins whose definition lacks them. */
static const struct {
	const char *name, *args;
} builtin_commands[] = {
	{ "run", "run" },
	{ "test", "test" },
	{ "build", "build" },
	{ "seed", "seed" },
	{ "snapshot", "snapshot" },
	{ "compile", "compile" },
	{ "parse", "parse" },
	{ "docs-generate", "docs generate" },
	{ "docs-serve", "docs serve" },
	{ "deps", "deps" },
	{ "debug", "debug" },
	{ "clean", "clean" },
	{ "freshness", "source freshness" },
	{ "list", "list" },
	{ "ls", "ls" },
	{ "show", "show" },
	{ "retry", "retry" },
	{ "clone", "clone" },
	{ "run-operation", "run-operation" },
};

/* Subcommands that take --project-dir and --profiles-dir ("docs"/"source" take a second word). */
static const char *const dir_subcommands[] = {
	"build", "clean", "clone", "compile", "debug", "deps", "docs", "list", "ls", "parse", "retry", "run",
	"run-operation", "seed", "show", "snapshot", "source", "test", NULL,
};

/* Subcommands that take --full-refresh (smelt run --full-refresh). */
static const char *const refresh_subcommands[] = { "build", "run", "seed", NULL };

static int listed(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static const struct smelt_command dbt_commands[] = {
	{ "profile", "print the profiles.yml smelt generates for dbt (secrets as env_var() references)" },
	{ "parse", "dbt parse: check the project and the profile without the warehouse" },
	{ "freshness", "dbt source freshness" },
	{ NULL, NULL },
};

/* Split a command's args string into words (blanks; '...' and "..." quote); NULL-terminated, malloc'd. */
static char **split_words(const char *s, size_t *n)
{
	size_t len = strlen(s);
	char **v = calloc(len / 2 + 2, sizeof *v);
	char *buf = malloc(len + 1);
	*n = 0;
	if (!v || !buf) {
		free(v);
		free(buf);
		return NULL;
	}
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		size_t k = 0;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			if (*p == '\'' || *p == '"') {
				char q = *p++;
				while (*p && *p != q)
					buf[k++] = *p++;
				if (*p)
					p++;
			} else {
				buf[k++] = *p++;
			}
		}
		buf[k] = '\0';
		if (!(v[*n] = strdup(buf))) {
			for (size_t i = 0; i < *n; i++)
				free(v[i]);
			free(v);
			free(buf);
			return NULL;
		}
		(*n)++;
	}
	free(buf);
	return v;
}

static void free_words(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- one dbt invocation ---- */

enum dbt_mode {
	DBT_INTERACTIVE = 1, /* smelt invoke: stdio inherited, the tool's exit code returned */
	DBT_BLOCK = 2,       /* smelt run / smelt test: output logged, run_results reported */
};

static void paths_release(struct dbt_paths *ps)
{
	free(ps->root);
	free(ps->project_dir);
	free(ps->profiles_dir);
	free(ps->target_path);
	free(ps->log_path);
	memset(ps, 0, sizeof *ps);
}

static int paths_of(struct dbt *d, const struct smelt_plugin *p, struct dbt_paths *ps, char *err, size_t errlen)
{
	memset(ps, 0, sizeof *ps);
	const char *root = d->host->path(d->hctx, SMELT_PATH_PROJECT_ROOT);
	const char *run = d->host->plugin_path(d->hctx, p, SMELT_PPATH_RUN_DIR);
	if (!root || !run)
		return kit_fail(err, errlen, SMELT_ERR, "no project root for '%s'", dbt_attr(d, p, "name"));
	char *pd = dbt_setting_str(d, p, "project_dir"), *tp = dbt_setting_str(d, p, "target_path");
	ps->root = strdup(root);
	ps->project_dir = pd ? dbt_abs(root, pd) : kit_asprintf("%s/transform", root);
	ps->profiles_dir = strdup(run);
	ps->target_path = tp ? dbt_abs(root, tp) : ps->project_dir ? kit_asprintf("%s/target", ps->project_dir) : NULL;
	ps->log_path = ps->project_dir ? kit_asprintf("%s/logs", ps->project_dir) : NULL;
	free(pd);
	free(tp);
	if (!ps->root || !ps->project_dir || !ps->profiles_dir || !ps->target_path || !ps->log_path) {
		paths_release(ps);
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	return SMELT_OK;
}

/* The output name: --target/-t in args, else DBT_TARGET in the plugin's env, else the environment, else dev. */
static const char *target_name(struct dbt *d, const struct smelt_env *env, char *const *argv, size_t argc)
{
	for (size_t i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "--target") || !strcmp(argv[i], "-t")) && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--target=", 9))
			return argv[i] + 9;
	}
	const char *t = env ? d->host->env_get(env, "DBT_TARGET") : NULL;
	if (t && *t)
		return t;
	t = d->host->environment(d->hctx);
	return t && *t ? t : "dev";
}

/* Set a dbt variable, dropping the DBT_ENGINE_ twin that dbt 1.11+ would read first. */
static void set_dbt_env(struct dbt *d, struct smelt_env *env, const char *name, const char *value)
{
	char twin[128];
	d->host->env_set(env, name, value);
	if (!strncmp(name, "DBT_", 4)) {
		snprintf(twin, sizeof twin, "DBT_ENGINE_%s", name + 4);
		d->host->env_set(env, twin, NULL);
	}
}

/* Scaffold when needed, then write profiles.yml; fills *prof (caller releases). */
static int prepare(struct dbt *d, const struct smelt_plugin *p, const struct dbt_paths *ps, const char *target,
                   int write, struct dbt_profile *prof, char *err, size_t errlen)
{
	char *type = NULL;
	int created = 0;
	enum dbt_kind kind = dbt_kind_of(d, p, &type);
	free(type);
	int rc = dbt_scaffold(d, p, ps, kind, &created, err, errlen);
	if (rc)
		return rc;
	char *name = dbt_profile_name(ps->project_dir);
	if (!name)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	rc = dbt_profile_build(d, p, ps, name, target, prof, err, errlen);
	free(name);
	if (rc || !write)
		return rc;
	char *path = kit_asprintf("%s/profiles.yml", ps->profiles_dir);
	rc = path ? d->host->write_private(d->hctx, path, prof->yaml, strlen(prof->yaml), err, errlen)
	          : kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	free(path);
	if (rc)
		dbt_profile_release(prof);
	return rc;
}

/*
 * Run dbt for plugin p: `command` (a plugin command name, or NULL for
 * args as they are) with extra args.  DBT_BLOCK reports run_results.json
 * and fails on a failing node or a non-zero exit; DBT_INTERACTIVE hands
 * the exit code back in *exit_code.
 */
static int dbt_exec(struct dbt *d, const struct smelt_plugin *p, const char *command, const char *const *args,
                    size_t nargs, unsigned flags, enum dbt_mode mode, int *exit_code, char *err, size_t errlen)
{
	const char *pname = dbt_attr(d, p, "name");
	struct dbt_paths ps;
	struct dbt_profile prof = { 0 };
	struct smelt_env *env = NULL;
	char **words = NULL, **argv = NULL, *results = NULL, label[160];
	size_t nwords = 0, argc = 0;
	int rc;
	*exit_code = 0;
	if ((rc = paths_of(d, p, &ps, err, errlen)))
		return rc;
	const char *exe = d->host->plugin_path(d->hctx, p, SMELT_PPATH_EXECUTABLE);
	if (command) {
		const char *cmd_exe = NULL, *cargs = d->host->plugin_command(d->hctx, p, command, &cmd_exe);
		for (size_t i = 0; !cargs && i < sizeof builtin_commands / sizeof builtin_commands[0]; i++)
			if (!strcmp(builtin_commands[i].name, command))
				cargs = builtin_commands[i].args;
		if (!cargs) {
			rc = kit_fail(err, errlen, SMELT_ERR_NOTFOUND, "plugin '%s' has no command '%s'", pname, command);
			goto out;
		}
		if (cmd_exe)
			exe = cmd_exe;
		if (!(words = split_words(cargs, &nwords))) {
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	snprintf(label, sizeof label, "%s%s%s", pname, command ? ":" : "", command ? command : "");

	/* argv: exe, command words, user args; then the dirs after the subcommand */
	if (!(argv = calloc(nwords + nargs + 8, sizeof *argv))) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	argv[argc++] = (char *)exe;
	for (size_t i = 0; i < nwords; i++)
		argv[argc++] = words[i];
	for (size_t i = 0; i < nargs; i++)
		argv[argc++] = (char *)args[i];
	size_t sub = 1;
	while (sub < argc && argv[sub][0] == '-')
		sub++;
	int has_dirs = 0, has_refresh = 0;
	for (size_t i = 1; i < argc; i++) {
		has_dirs |= !strncmp(argv[i], "--project-dir", 13) || !strncmp(argv[i], "--profiles-dir", 14);
		has_refresh |= !strcmp(argv[i], "--full-refresh");
	}
	if (sub < argc && listed(dir_subcommands, argv[sub])) {
		size_t at = sub + 1;
		if ((!strcmp(argv[sub], "docs") || !strcmp(argv[sub], "source")) && at < argc && argv[at][0] != '-')
			at++;
		const char *extra[5];
		size_t nextra = 0;
		if (!has_dirs) {
			extra[nextra++] = "--project-dir";
			extra[nextra++] = ps.project_dir;
			extra[nextra++] = "--profiles-dir";
			extra[nextra++] = ps.profiles_dir;
		}
		if ((flags & SMELT_RQ_FULL_REFRESH) && !has_refresh && listed(refresh_subcommands, argv[sub]))
			extra[nextra++] = "--full-refresh";
		memmove(argv + at + nextra, argv + at, (argc - at) * sizeof *argv);
		for (size_t i = 0; i < nextra; i++)
			argv[at + i] = (char *)extra[i];
		argc += nextra;
	}
	argv[argc] = NULL;

	if (!(env = d->host->env_new(d->hctx, p))) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = prepare(d, p, &ps, target_name(d, env, argv, argc), 1, &prof, err, errlen)))
		goto out;
	set_dbt_env(d, env, "DBT_PROJECT_DIR", ps.project_dir);
	set_dbt_env(d, env, "DBT_PROFILES_DIR", ps.profiles_dir);
	set_dbt_env(d, env, "DBT_TARGET_PATH", ps.target_path);
	set_dbt_env(d, env, "DBT_LOG_PATH", ps.log_path);
	set_dbt_env(d, env, "DBT_PROFILE", NULL);
	set_dbt_env(d, env, "DBT_SEND_ANONYMOUS_USAGE_STATS", "false");
	set_dbt_env(d, env, "DBT_VERSION_CHECK", "false");
	d->host->env_set(env, "DO_NOT_TRACK", "1");
	if (mode == DBT_BLOCK || !isatty(STDOUT_FILENO))
		set_dbt_env(d, env, "DBT_USE_COLORS", "false");
	for (size_t i = 0; i < prof.nvars; i++)
		d->host->env_set(env, prof.vars[i].name, prof.vars[i].value);

	if (mode == DBT_BLOCK) {
		/* a stale file would report the previous command's results */
		if (!(results = kit_asprintf("%s/run_results.json", ps.target_path))) {
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (unlink(results) && errno != ENOENT)
			DBT_LOG(d, SMELT_LOG_WARN, "cannot remove '%s': %s", results, strerror(errno));
	}
	struct smelt_spawn spec = {
		.struct_size = sizeof spec,
		.label = pname,
		.argv = (const char *const *)argv,
		.env = env,
		.cwd = ps.project_dir,
		.flags = mode == DBT_INTERACTIVE ? SMELT_SPAWN_INHERIT_STDIO : SMELT_SPAWN_STDIN_NULL,
	};
	struct smelt_exit ex = { .struct_size = sizeof ex };
	if ((rc = d->host->run(d->hctx, &spec, &ex, err, errlen)))
		goto out;
	*exit_code = ex.exited ? ex.exit_code : 128 + ex.term_signal;
	if (mode != DBT_BLOCK)
		goto out;
	if (ex.not_started) {
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "cannot run '%s' for '%s': is it installed? (smelt install %s)",
		              exe, pname, pname);
		goto out;
	}
	char ferr[1024];
	int rr = dbt_results_report(d, label, results, ferr, sizeof ferr);
	if (rr == SMELT_ERR_FAILED) {
		rc = kit_fail(err, errlen, rr, "%s", ferr);
	} else if (*exit_code) {
		rc = ex.signaled ? kit_fail(err, errlen, SMELT_ERR_FAILED, "dbt was killed by signal %d", ex.term_signal)
		                 : kit_fail(err, errlen, SMELT_ERR_FAILED, "dbt exited with code %d (%s; see its log above)",
		                            *exit_code,
		                            *exit_code == 1 ? "a node or a check failed" : "an error before or outside the nodes");
	}
out:
	if (env)
		d->host->env_free(env);
	dbt_profile_release(&prof);
	paths_release(&ps);
	free_words(words, nwords);
	free(argv);
	free(results);
	return rc;
}

/* Print the generated profiles.yml (no secret values in it). */
static int dbt_print_profile(struct dbt *d, const struct smelt_plugin *p, const char *const *args, size_t nargs,
                             char *err, size_t errlen)
{
	struct dbt_paths ps;
	struct dbt_profile prof = { 0 };
	int rc = paths_of(d, p, &ps, err, errlen);
	if (rc)
		return rc;
	struct smelt_env *env = d->host->env_new(d->hctx, p);
	char **argv = calloc(nargs + 2, sizeof *argv);
	if (!argv || !env) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	argv[0] = "dbt";
	for (size_t i = 0; i < nargs; i++)
		argv[i + 1] = (char *)args[i];
	if ((rc = prepare(d, p, &ps, target_name(d, env, argv, nargs + 1), 0, &prof, err, errlen)))
		goto out;
	fputs(prof.yaml, stdout);
	fflush(stdout);
out:
	free(argv);
	if (env)
		d->host->env_free(env);
	dbt_profile_release(&prof);
	paths_release(&ps);
	return rc;
}

/* ---- operations ---- */

static int dbt_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct dbt *d = state;
	const struct smelt_plugin *p = req->plugins[0];
	*exit_code = 0;
	if (req->kind == SMELT_REQ_DUMP) {
		if (req->dump && !strcmp(req->dump, "config"))
			return dbt_print_profile(d, p, req->args, req->nargs, err, errlen);
		return kit_fail(err, errlen, SMELT_ERR_UNSUPPORTED, "'%s' has no %s to dump: dbt plugins dump 'config'",
		                dbt_attr(d, p, "name"), req->dump ? req->dump : "(nothing)");
	}
	if (req->command && !strcmp(req->command, "profile"))
		return dbt_print_profile(d, p, req->args, req->nargs, err, errlen);
	return dbt_exec(d, p, req->command, req->args, req->nargs, req->flags, DBT_INTERACTIVE, exit_code, err, errlen);
}

static int dbt_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct dbt *d = state;
	const struct smelt_plugin *p = req->plugins[0];
	int code = 0;
	if (req->command && !strcmp(req->command, "profile"))
		return dbt_print_profile(d, p, req->args, req->nargs, err, errlen);
	return dbt_exec(d, p, req->command ? req->command : "run", req->args, req->nargs, req->flags, DBT_BLOCK, &code,
	                err, errlen);
}

/* smelt test dbt-x: `dbt test` (smelt test dbt-x:NAME runs the plugin's command NAME instead). */
static int dbt_test(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct dbt *d = state;
	int code = 0;
	return dbt_exec(d, req->plugins[0], req->command ? req->command : "test", req->args, req->nargs, req->flags,
	                DBT_BLOCK, &code, err, errlen);
}

/*
 * The dbt distributions in a venv, from their dist-info folders (not
 * `dbt --version`, which asks the package index for the latest release):
 * *core gets dbt-core's version, *v2 the version of the PyPI package
 * `dbt` (the 2.x line).  Empty when absent.
 */
static void venv_versions(const char *venv, char *core, char *v2, size_t n)
{
	core[0] = v2[0] = '\0';
	char *pat = venv ? kit_asprintf("%s/lib/python*/site-packages/dbt*.dist-info", venv) : NULL;
	glob_t g;
	if (!pat || glob(pat, 0, NULL, &g)) {
		free(pat);
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		size_t vlen = strlen(base) - strlen(".dist-info");
		if (!strncmp(base, "dbt_core-", 9))
			snprintf(core, n, "%.*s", (int)(vlen - 9), base + 9);
		else if (!strncmp(base, "dbt-", 4) && base[4] >= '0' && base[4] <= '9')
			snprintf(v2, n, "%.*s", (int)(vlen - 4), base + 4);
	}
	globfree(&g);
	free(pat);
}

/*
 * After smelt install: warn when the venv holds dbt 2.x (the PyPI name
 * `dbt` is the v2 line; Smelt drives dbt Core 1.x) or no dbt Core, and
 * create the dbt project when it is missing.
 */
static int dbt_post_install(void *state, const struct smelt_plugin *p, char *err, size_t errlen)
{
	struct dbt *d = state;
	const char *pname = dbt_attr(d, p, "name");
	char core[64], v2[64];
	venv_versions(d->host->plugin_path(d->hctx, p, SMELT_PPATH_VENV), core, v2, sizeof core);
	if (v2[0] || atoi(core) >= 2)
		DBT_LOG(d, SMELT_LOG_WARN,
		        "'%s' installed dbt %s: Smelt drives dbt Core 1.x; pin \"dbt-core<2\" in its pip_url (the PyPI "
		        "name 'dbt' is the 2.x line)",
		        pname, v2[0] ? v2 : core);
	else if (!core[0])
		DBT_LOG(d, SMELT_LOG_WARN, "'%s' has no dbt-core in its venv: is dbt-core in its pip_url?", pname);
	else
		DBT_LOG(d, SMELT_LOG_DEBUG, "'%s' has dbt Core %s", pname, core);
	/* transform/ is scaffolded on first use, when the loaders' tables are more likely known */
	(void)err;
	(void)errlen;
	return SMELT_OK;
}

static int dbt_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct dbt *d = calloc(1, sizeof *d);
	if (!d)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	d->host = host;
	d->hctx = hctx;
	*state = d;
	return SMELT_OK;
}

static void dbt_destroy(void *state)
{
	free(state);
}

static const char *const dbt_namespaces[] = { "dbt", "dbt_*", NULL };

static const struct smelt_adapter dbt_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.command_size = sizeof(struct smelt_command),
	.name = "dbt",
	.version = "0.2.0",
	.description = "dbt Core with its warehouse adapters (sqlite, duckdb, postgres, snowflake)",
	.category = SMELT_CAT_TRANSFORM,
	.plugin_types = SMELT_PT_TRANSFORMER,
	.namespaces = dbt_namespaces,
	.commands = dbt_commands,
	.init = dbt_init,
	.destroy = dbt_destroy,
	.invoke = dbt_invoke,
	.run_block = dbt_run_block,
	.test = dbt_test,
	.post_install = dbt_post_install,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &dbt_adapter;
}
