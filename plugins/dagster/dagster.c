/*
 * The dagster adapter: Dagster 1.x runs the project's jobs and schedules.
 * Smelt's second orchestrator, beside airflow.  Built out of tree: this file
 * includes only the installed SDK header (<smelt/sdk.h>, found through
 * smelt-sdk.pc) and cJSON; nothing of host/ and nothing of plugins/kit (the
 * few helpers it needs are below).
 *
 * The code location: smelt_dagster.py, shipped in this adapter's data
 * folder, is copied (when it changed) to <code_location>/definitions.py in
 * the project (orchestrate/dagster/ by default) by every invocation and by
 * `smelt schedule export dagster`.  It reads `smelt job list` and `smelt
 * schedule list` each time Dagster loads it, so a job or schedule added to
 * smelt.yml shows after a reload, with nothing to regenerate.
 *
 * Every Dagster process gets:
 *   DAGSTER_HOME            <root>/.smelt/orchestrators/<name>/home (absolute,
 *                           created; its dagster.yaml, written when missing,
 *                           turns telemetry off)
 *   SMELT_BIN               this smelt, for the code location and its ops
 *   SMELT_PROJECT_ROOT      the project
 *   SMELT_DAGSTER_EXECUTOR  in_process (setting `executor`)
 *
 * Commands: `smelt invoke dagster ARGS...` runs `dagster ARGS...` in the
 * project; dagster:ui runs `dagster dev` (webserver and daemon) on
 * 127.0.0.1:3000 (settings host, port); dagster:validate, dagster:jobs,
 * dagster:schedules, dagster:execute JOB and dagster:graphql QUERY run the
 * matching Dagster CLI on the code location.
 */
#include <smelt/sdk.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DG_GENERATOR "smelt_dagster.py"
#define DG_DEFS "definitions.py"
#define DG_DEFAULT_LOCATION "orchestrate/dagster"
#define DG_INSTANCE_YAML "# Written by Smelt's dagster adapter (kept when you edit it).\ntelemetry:\n  enabled: false\n"

struct dagster {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;
	int in_run; /* a block of smelt run: the tool's output goes to the run's log */
};

#define LOG(d, lvl, ...) (d)->host->log((d)->hctx, (lvl), __VA_ARGS__)

/* ---- small helpers (what in-tree adapters take from plugins/kit) -------------- */

/* Fills err (may be NULL) and returns status. */
static int fail(char *err, size_t errlen, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

/* A formatted malloc'ed string (caller frees); NULL when out of memory. */
static char *fmt_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_alloc(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *out = NULL;
	int n = vasprintf(&out, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : out;
}

/* mkdir -p; 0 or -1 with errno. */
static int mkdirs(const char *path, mode_t mode)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*c = '/';
	}
	int rc = mkdir(p, mode) != 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

/* The whole file (NUL-terminated, caller frees) and its size in *n; NULL with errno. */
static char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		len += fread(buf + len, 1, cap - len - 1, f);
		if (len < cap - 1)
			break;
		char *nb = realloc(buf, cap *= 2);
		if (!nb) {
			free(buf);
			buf = NULL;
		} else {
			buf = nb;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf || bad) {
		free(buf);
		errno = bad ? EIO : ENOMEM;
		return NULL;
	}
	buf[len] = '\0';
	*n = len;
	return buf;
}

/* Writes data to path (mode 0644) through a temporary file and rename. */
static int write_file(const char *path, const char *data, size_t n, char *err, size_t errlen)
{
	char *tmp = fmt_alloc("%s.tmp%d", path, (int)getpid());
	if (!tmp)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	FILE *f = fopen(tmp, "wb");
	int ok = f && fwrite(data, 1, n, f) == n;
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok || chmod(tmp, 0644) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		return fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", path, strerror(e));
	}
	free(tmp);
	return SMELT_OK;
}

/* Copies src to dst unless dst already holds the same bytes. */
static int copy_if_changed(const char *src, const char *dst, char *err, size_t errlen)
{
	size_t ns = 0, nd = 0;
	char *s = read_file(src, &ns);
	if (!s)
		return fail(err, errlen, SMELT_ERR, "cannot read '%s': %s (reinstall the dagster adapter)", src,
		            strerror(errno));
	char *d = read_file(dst, &nd);
	int rc = d && nd == ns && !memcmp(s, d, ns) ? SMELT_OK : write_file(dst, s, ns, err, errlen);
	free(s);
	free(d);
	return rc;
}

/* ---- the Dagster environment ---------------------------------------------------- */

/* Everything a Dagster process of plugin p needs. */
struct dg_ctx {
	const struct smelt_plugin *p;
	const char *name;   /* the plugin's name (borrowed) */
	const char *root;   /* project root (borrowed) */
	struct smelt_env *env;
	char *venv_bin;     /* <venv>/bin/, or "" when the plugin has no venv */
	char *dagster;      /* <venv>/bin/dagster */
	char *defs;         /* <root>/<code_location>/definitions.py */
	char *home;         /* DAGSTER_HOME */
};

static void dg_release(struct dagster *d, struct dg_ctx *c)
{
	if (c->env)
		d->host->env_free(c->env);
	free(c->venv_bin);
	free(c->dagster);
	free(c->defs);
	free(c->home);
	memset(c, 0, sizeof *c);
}

/* Set name in env unless a setting or smelt's environment already did. */
static void dg_default(struct dagster *d, struct smelt_env *env, const char *name, const char *value)
{
	const char *cur = d->host->env_get(env, name);
	if (!cur || !*cur)
		d->host->env_set(env, name, value);
}

/*
 * Everything a Dagster process of p needs, and the code location in place
 * (definitions.py copied when it changed, DAGSTER_HOME with its
 * dagster.yaml).  tool: Dagster must be installed (to run it); 0 when only
 * the files are wanted (schedule export).
 */
static int dg_prepare(struct dagster *d, const struct smelt_plugin *p, struct dg_ctx *c, int tool, char *err,
                      size_t errlen)
{
	const struct smelt_host_api *h = d->host;
	memset(c, 0, sizeof *c);
	c->p = p;
	c->name = h->plugin_attr(d->hctx, p, "name");
	c->root = h->path(d->hctx, SMELT_PATH_PROJECT_ROOT);
	if (!c->name)
		c->name = "dagster";
	const char *venv = h->plugin_path(d->hctx, p, SMELT_PPATH_VENV);
	const char *install = h->plugin_path(d->hctx, p, SMELT_PPATH_INSTALL_DIR);
	const char *data = h->path(d->hctx, SMELT_PATH_ADAPTER_DATA);
	if (!c->root || !install)
		return fail(err, errlen, SMELT_ERR, "no project folder for '%s'", c->name);
	if (!data)
		return fail(err, errlen, SMELT_ERR, "the dagster adapter's data folder is unknown (reinstall the adapter)");
	c->venv_bin = venv ? fmt_alloc("%s/bin/", venv) : strdup("");
	c->dagster = venv ? fmt_alloc("%s/bin/dagster", venv) : strdup("dagster");
	if (!c->venv_bin || !c->dagster)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (tool && venv && access(c->dagster, X_OK) != 0)
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "'%s' is not installed (no '%s'): run 'smelt install %s'",
		            c->name, c->dagster, c->name);
	if (!(c->env = h->env_new(d->hctx, p)))
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");

	/* Dagster's instance: always under .smelt, never ~/.dagster or a temporary one. */
	c->home = install[0] == '/' ? fmt_alloc("%s/home", install) : fmt_alloc("%s/%s/home", c->root, install);
	if (!c->home)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (mkdirs(c->home, 0700) != 0)
		return fail(err, errlen, SMELT_ERR, "cannot create '%s': %s", c->home, strerror(errno));
	h->env_set(c->env, "DAGSTER_HOME", c->home);
	char *yaml = fmt_alloc("%s/dagster.yaml", c->home);
	if (!yaml)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	int rc = access(yaml, F_OK) == 0 ? SMELT_OK
	                                 : write_file(yaml, DG_INSTANCE_YAML, strlen(DG_INSTANCE_YAML), err, errlen);
	free(yaml);
	if (rc)
		return rc;

	/* What the code location needs: this smelt, the project, the executor. */
	const char *exe = h->path(d->hctx, SMELT_PATH_SMELT_EXE);
	if (exe)
		h->env_set(c->env, "SMELT_BIN", exe);
	h->env_set(c->env, "SMELT_PROJECT_ROOT", c->root);
	dg_default(d, c->env, "SMELT_DAGSTER_EXECUTOR", "in_process");
	dg_default(d, c->env, "SMELT_DAGSTER_HOST", "127.0.0.1");
	dg_default(d, c->env, "SMELT_DAGSTER_PORT", "3000");
	dg_default(d, c->env, "SMELT_DAGSTER_CODE_LOCATION", DG_DEFAULT_LOCATION);
	/* Nothing phones home; Dagster's import takes seconds: let its venv keep bytecode. */
	h->env_set(c->env, "DO_NOT_TRACK", "1");
	h->env_set(c->env, "PYTHONDONTWRITEBYTECODE", NULL);
	h->env_set(c->env, "PYTHONUNBUFFERED", "1");

	/* The code location, fresh from this adapter's data folder. */
	const char *loc = h->env_get(c->env, "SMELT_DAGSTER_CODE_LOCATION");
	char *dir = loc[0] == '/' ? strdup(loc) : fmt_alloc("%s/%s", c->root, loc);
	char *src = fmt_alloc("%s/%s", data, DG_GENERATOR);
	c->defs = dir ? fmt_alloc("%s/%s", dir, DG_DEFS) : NULL;
	if (!dir || !src || !c->defs)
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	else if (mkdirs(dir, 0755) != 0)
		rc = fail(err, errlen, SMELT_ERR, "cannot create the code location folder '%s': %s", dir, strerror(errno));
	else
		rc = copy_if_changed(src, c->defs, err, errlen);
	free(dir);
	free(src);
	return rc;
}

/* Runs argv under the host's supervisor; *code its exit code (128+signal when killed). */
static int dg_spawn(struct dagster *d, struct dg_ctx *c, const char *const *argv, unsigned flags, int *code,
                    char *err, size_t errlen)
{
	struct smelt_spawn spec = {
		.struct_size = sizeof spec,
		.label = c->name,
		.argv = argv,
		.env = c->env,
		.cwd = c->root,
		.flags = flags,
	};
	struct smelt_exit ex = { .struct_size = sizeof ex };
	int rc = d->host->run(d->hctx, &spec, &ex, err, errlen);
	if (ex.not_started)
		return fail(err, errlen, SMELT_ERR, "cannot run '%s'", argv[0]);
	*code = ex.signaled ? 128 + ex.term_signal : ex.exit_code;
	if (rc == SMELT_ERR_INTERRUPTED)
		return SMELT_OK; /* the user stopped it: report the tool's code */
	return rc;
}

/* Splits a command's args string at blanks ('...' and "..." group); NULL-terminated, caller frees. */
static char **split_words(const char *s, size_t *n)
{
	size_t cap = 8, len = strlen(s);
	char **out = calloc(cap, sizeof *out);
	char *w = malloc(len + 1);
	*n = 0;
	if (!out || !w) {
		free(out);
		free(w);
		return NULL;
	}
	for (const char *p = s; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t k = 0;
		char q = 0;
		for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
			if (!q && (*p == '\'' || *p == '"'))
				q = *p;
			else if (q && *p == q)
				q = 0;
			else
				w[k++] = *p;
		}
		w[k] = '\0';
		if (*n + 2 > cap) {
			char **no = realloc(out, (cap *= 2) * sizeof *out);
			if (!no)
				break;
			out = no;
		}
		if (!(out[*n] = strdup(w)))
			break;
		out[++*n] = NULL;
	}
	free(w);
	return out;
}

static void free_words(char **words)
{
	for (size_t i = 0; words && words[i]; i++)
		free(words[i]);
	free(words);
}

/* ---- commands --------------------------------------------------------------------- */

static const char *const dagster_namespaces[] = { "dagster", NULL };

static const struct smelt_command dagster_commands[] = {
	{ "ui", "run the webserver and the daemon (dagster dev) on 127.0.0.1" },
	{ "validate", "load the project's code location and check its definitions" },
	{ "jobs", "list the Dagster jobs of the project (one per Smelt job)" },
	{ "schedules", "list the Dagster schedules of the project (one per Smelt schedule)" },
	{ "execute", "run a Dagster job now, in-process: dagster:execute JOB" },
	{ "graphql", "answer a GraphQL query on the code location: dagster:graphql QUERY" },
	{ NULL, NULL },
};

/*
 * The argv of a built-in command (its words first, then the user's args),
 * in argv[] (cap entries); 0, or SMELT_ERR_NOTFOUND when cmd is none of
 * them.  Strings are borrowed from c, req and bufs.
 */
static int dg_builtin(struct dg_ctx *c, const char *cmd, char *graphql_exe, const char **argv, size_t cap,
                      size_t *k)
{
	*k = 0;
	if (!strcmp(cmd, "ui")) {
		const char *words[] = { c->dagster, "dev", "-f", c->defs, "-h", NULL, "-p", NULL };
		for (size_t i = 0; i < sizeof words / sizeof *words && *k < cap; i++)
			argv[(*k)++] = words[i];
		return SMELT_OK;
	}
	const char *sub[3] = { NULL, NULL, NULL };
	if (!strcmp(cmd, "validate")) {
		sub[0] = "definitions";
		sub[1] = "validate";
	} else if (!strcmp(cmd, "jobs")) {
		sub[0] = "job";
		sub[1] = "list";
	} else if (!strcmp(cmd, "schedules")) {
		sub[0] = "schedule";
		sub[1] = "list";
	} else if (!strcmp(cmd, "execute")) {
		sub[0] = "job";
		sub[1] = "execute";
	} else if (!strcmp(cmd, "graphql")) {
		argv[(*k)++] = graphql_exe;
		argv[(*k)++] = "-f";
		argv[(*k)++] = c->defs;
		argv[(*k)++] = "-t";
		return SMELT_OK;
	} else {
		return SMELT_ERR_NOTFOUND;
	}
	argv[(*k)++] = c->dagster;
	for (size_t i = 0; sub[i]; i++)
		argv[(*k)++] = sub[i];
	argv[(*k)++] = "-f";
	argv[(*k)++] = c->defs;
	if (!strcmp(cmd, "execute"))
		argv[(*k)++] = "-j"; /* the job's name comes next, from the user */
	return SMELT_OK;
}

static int dagster_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct dagster *d = state;
	struct dg_ctx c;
	*exit_code = 0;
	if (req->nplugins < 1)
		return fail(err, errlen, SMELT_ERR, "no plugin to invoke");
	if (req->kind == SMELT_REQ_DUMP) {
		if (!req->dump || strcmp(req->dump, "config"))
			return fail(err, errlen, SMELT_ERR_UNSUPPORTED, "dagster has no --dump=%s", req->dump ? req->dump : "");
		char *json = NULL;
		int rc = d->host->config_json(d->hctx, req->plugins[0], SMELT_CFG_REDACT, &json, err, errlen);
		if (!rc) {
			printf("%s\n", json);
			fflush(stdout);
			d->host->free(json);
		}
		return rc;
	}
	int rc = dg_prepare(d, req->plugins[0], &c, 1, err, errlen);
	if (rc) {
		dg_release(d, &c);
		return rc;
	}
	const char *cmd = req->command;
	size_t n = req->nargs, extra = 0, k = 0;
	char **cmd_words = NULL;
	char *graphql = fmt_alloc("%sdagster-graphql", c.venv_bin);
	const char **argv = calloc(n + 64, sizeof *argv);
	unsigned flags = d->in_run ? SMELT_SPAWN_STDIN_NULL | SMELT_SPAWN_STDOUT_LOG : SMELT_SPAWN_INHERIT_STDIO;
	if (!graphql || !argv) {
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (cmd && dg_builtin(&c, cmd, graphql, argv, 16, &k) == SMELT_OK) {
		if (!strcmp(cmd, "ui")) {
			argv[5] = d->host->env_get(c.env, "SMELT_DAGSTER_HOST");
			argv[7] = d->host->env_get(c.env, "SMELT_DAGSTER_PORT");
			flags = SMELT_SPAWN_STDIN_NULL | SMELT_SPAWN_STDOUT_LOG;
			LOG(d, SMELT_LOG_INFO, "Dagster UI on http://%s:%s/ (code location %s)", argv[5], argv[7], c.defs);
		} else if ((!strcmp(cmd, "execute") || !strcmp(cmd, "graphql")) && n < 1) {
			rc = fail(err, errlen, SMELT_ERR_CONFIG, "%s:%s needs %s (usage: smelt invoke %s:%s %s)", c.name, cmd,
			          !strcmp(cmd, "execute") ? "a job name" : "a query", c.name, cmd,
			          !strcmp(cmd, "execute") ? "JOB [DAGSTER OPTIONS]" : "QUERY");
			*exit_code = 2;
			goto out;
		}
	} else if (cmd) {
		const char *exe = NULL;
		const char *args = d->host->plugin_command(d->hctx, c.p, cmd, &exe);
		if (!args) {
			rc = fail(err, errlen, SMELT_ERR_NOTFOUND,
			          "%s has no command '%s' (ui, validate, jobs, schedules, execute, graphql, or a command of the "
			          "plugin's definition)", c.name, cmd);
			goto out;
		}
		if (!(cmd_words = split_words(args, &extra))) {
			rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
		const char **grown = realloc(argv, (n + extra + 64) * sizeof *argv);
		if (!grown) {
			rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
		argv = grown;
		argv[k++] = c.dagster;
		for (size_t i = 0; i < extra; i++)
			argv[k++] = cmd_words[i];
	} else {
		argv[k++] = c.dagster;
	}
	for (size_t i = 0; i < n; i++)
		argv[k++] = req->args[i];
	argv[k] = NULL;
	rc = dg_spawn(d, &c, argv, flags, exit_code, err, errlen);
out:
	free_words(cmd_words);
	free(argv);
	free(graphql);
	dg_release(d, &c);
	return rc;
}

/* smelt run dagster:CMD: the same commands, but a non-zero exit fails the block. */
static int dagster_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct dagster *d = state;
	int code = 0;
	d->in_run = 1;
	int rc = dagster_invoke(state, req, &code, err, errlen);
	d->in_run = 0;
	if (rc)
		return rc;
	if (code)
		return fail(err, errlen, SMELT_ERR_FAILED, "dagster%s%s exited with code %d", req->command ? ":" : "",
		            req->command ? req->command : "", code);
	return SMELT_OK;
}

/* How many members the array key of obj has (0 when absent). */
static int count_of(const cJSON *obj, const char *key)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/*
 * smelt schedule export: the code location written (or refreshed) into the
 * project, where Dagster finds one job per Smelt job and one schedule per
 * Smelt schedule at its next load.  Only files are written: Dagster need
 * not be installed.  The jobs and schedules handed over
 * (req->schedules_json) are counted in the log; the code location reads
 * them itself each time Dagster loads it.
 */
static int dagster_export(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct dagster *d = state;
	struct dg_ctx c;
	if (req->nplugins < 1)
		return fail(err, errlen, SMELT_ERR, "no plugin to export to");
	int rc = dg_prepare(d, req->plugins[0], &c, 0, err, errlen);
	if (rc == SMELT_OK) {
		const char *json = SMELT_HAS(req, struct smelt_request, schedules_json) ? req->schedules_json : NULL;
		cJSON *o = json ? cJSON_Parse(json) : NULL;
		const cJSON *sc = cJSON_GetObjectItemCaseSensitive(o, "schedules");
		int jobs = count_of(o, "jobs"), job_sc = count_of(sc, "job"), elt_sc = count_of(sc, "elt");
		cJSON_Delete(o);
		LOG(d, SMELT_LOG_INFO,
		    "Dagster code location in '%s': %d job%s, %d schedule%s (%d of jobs, %d of extractor/loader pairs); "
		    "Dagster reads them at each load (reload the code location in the UI)",
		    c.defs, jobs + elt_sc, jobs + elt_sc == 1 ? "" : "s", job_sc + elt_sc, job_sc + elt_sc == 1 ? "" : "s",
		    job_sc, elt_sc);
	}
	dg_release(d, &c);
	return rc;
}

static int dagster_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct dagster *d = calloc(1, sizeof *d);
	if (!d)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	d->host = host;
	d->hctx = hctx;
	*state = d;
	return SMELT_OK;
}

static void dagster_destroy(void *state)
{
	free(state);
}

static const struct smelt_adapter dagster_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.command_size = sizeof(struct smelt_command),
	.name = "dagster",
	.version = "0.1.0",
	.description = "Dagster 1.x: the project's jobs and schedules as a code location (built out of tree)",
	.category = SMELT_CAT_ORCHESTRATE,
	.plugin_types = 0, /* claims by namespace only: airflow keeps the orchestrators no namespace claims */
	.namespaces = dagster_namespaces,
	.commands = dagster_commands,
	.init = dagster_init,
	.destroy = dagster_destroy,
	.invoke = dagster_invoke,
	.run_block = dagster_run_block,
	.export_schedules = dagster_export,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &dagster_adapter;
}
