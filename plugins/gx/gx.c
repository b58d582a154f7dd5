/*
 * The gx adapter: Great Expectations (GX Core 1.x) quality checks.
 *
 * GX 1.x has no CLI, so the adapter ships its own runner (gx_runner.py,
 * in the adapter data folder) and runs it with the python of the plugin's
 * venv.  Suites are files of the project (quality/<suite>.yml or .json,
 * see README.md), each naming a source plugin (a loader or transformer)
 * whose settings give the connection.
 *
 * gx:validate [SUITE...]:
 *   1. the suite files are listed (the arguments, else every file of the
 *      suites folder);
 *   2. `runner plan FILE...` reads them and prints which source each needs
 *      (a real YAML parser, no GX import: fast);
 *   3. each source plugin's connection is resolved from its settings
 *      (host->config_json) and written with the suites to a private
 *      request file (secrets never in argv or logs);
 *   4. `runner validate REQUEST` builds an ephemeral GX context, data
 *      sources, suites and one checkpoint per suite, and writes a result
 *      JSON (exit 0 passed, 1 failed, 2 error);
 *   5. the adapter reads it: one SMELT_EV_RESULT per expectation, a
 *      summary per suite on stdout (or the result as JSON with
 *      --format json), and the exit code.
 * gx:init [TABLE] [--source PLUGIN] writes an example suite for a table.
 */
#include "kit.h"

#include <smelt/sdk.h>

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GX_RUNNER "gx_runner.py"
#define GX_DEFAULT_SUITES_DIR "quality"
#define GX_DEFAULT_DOCS_DIR "output/quality"

struct gx {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;
	unsigned seq; /* makes generated file names unique within a command */
	int in_run;   /* a block of smelt run: results go only to events (the run's table shows them) */
};

/* The gx plugin's settings that the adapter reads. */
struct gx_settings {
	cJSON *json;               /* owns the strings below */
	const char *suites_dir;    /* "quality" */
	const char *source;        /* default source plugin, NULL when unset */
	int data_docs;             /* write Data Docs */
	const char *data_docs_dir; /* "output/quality" */
	const char *result_format; /* GX result format, "SUMMARY" */
};

/* Options of gx:validate / gx:init, from the invoke arguments. */
struct gx_opts {
	int json;            /* --format json */
	int force;           /* init: replace an existing suite file */
	int data_docs;       /* -1: the setting; 0/1: --no-data-docs / --data-docs */
	const char *source;  /* --source PLUGIN */
	const char *schema;  /* init: --schema NAME */
	const char **names;  /* suites (validate) or the table (init) */
	size_t nnames;
};

#define LOG(s, lvl, ...) (s)->host->log((s)->hctx, (lvl), __VA_ARGS__)



static const char *attr(struct gx *s, const struct smelt_plugin *p, const char *key)
{
	return s->host->plugin_attr(s->hctx, p, key);
}

static const char *root_dir(struct gx *s)
{
	return s->host->path(s->hctx, SMELT_PATH_PROJECT_ROOT);
}

/* path made absolute against the project root; caller frees. */
static char *abs_path(struct gx *s, const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	const char *root = root_dir(s);
	if (path[0] == '.' && path[1] == '/')
		path += 2;
	return kit_asprintf("%s/%s", root, path);
}

/* path relative to the project root when it lies under it (for messages); borrowed from path. */
static const char *shown_path(struct gx *s, const char *path)
{
	const char *root = root_dir(s);
	size_t n = strlen(root);
	if (!strncmp(path, root, n) && path[n] == '/')
		return path + n + 1;
	return path;
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}


static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static int is_suite_file(const char *name)
{
	return name[0] != '.' && (ends_with(name, ".yml") || ends_with(name, ".yaml") || ends_with(name, ".json"));
}

/* ---- settings ------------------------------------------------------------------ */

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int json_truthy(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsString(v)) {
		const char *t = v->valuestring;
		return !strcasecmp(t, "true") || !strcmp(t, "1") || !strcasecmp(t, "yes") || !strcasecmp(t, "on");
	}
	return 0;
}

static int load_settings(struct gx *s, const struct smelt_plugin *p, struct gx_settings *st, char *err,
                         size_t errlen)
{
	char *text = NULL;
	memset(st, 0, sizeof *st);
	int rc = s->host->config_json(s->hctx, p, 0, &text, err, errlen);
	if (rc)
		return rc;
	st->json = cJSON_Parse(text);
	s->host->free(text);
	if (!st->json)
		return kit_fail(err, errlen, SMELT_ERR, "cannot read the settings of '%s'", attr(s, p, "name"));
	st->suites_dir = json_str(st->json, "suites_dir");
	if (!st->suites_dir)
		st->suites_dir = GX_DEFAULT_SUITES_DIR;
	st->source = json_str(st->json, "source");
	st->data_docs = json_truthy(cJSON_GetObjectItemCaseSensitive(st->json, "data_docs"));
	st->data_docs_dir = json_str(st->json, "data_docs_dir");
	if (!st->data_docs_dir)
		st->data_docs_dir = GX_DEFAULT_DOCS_DIR;
	st->result_format = json_str(st->json, "result_format");
	if (!st->result_format)
		st->result_format = "SUMMARY";
	return SMELT_OK;
}

/* ---- arguments ------------------------------------------------------------------ */

static void opts_release(struct gx_opts *o)
{
	free(o->names);
	memset(o, 0, sizeof *o);
}

/* Parses the arguments of validate/init; the strings stay borrowed from args. */
static int parse_opts(const char *cmd, const char *const *args, size_t nargs, struct gx_opts *o, char *err,
                      size_t errlen)
{
	memset(o, 0, sizeof *o);
	o->data_docs = -1;
	o->names = calloc(nargs + 1, sizeof *o->names);
	if (!o->names)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	int init = !strcmp(cmd, "init");
	for (size_t i = 0; i < nargs; i++) {
		const char *a = args[i];
		const char *value = NULL;
		if (!strcmp(a, "--format") || !strcmp(a, "--source") || !strcmp(a, "--schema")) {
			if (i + 1 >= nargs)
				return kit_fail(err, errlen, SMELT_ERR_CONFIG, "gx:%s: option '%s' needs a value", cmd, a);
			value = args[++i];
		} else if (!strncmp(a, "--format=", 9) || !strncmp(a, "--source=", 9) || !strncmp(a, "--schema=", 9)) {
			value = a + 9;
		}
		if (!strncmp(a, "--format", 8)) {
			if (strcmp(value, "json") && strcmp(value, "text"))
				return kit_fail(err, errlen, SMELT_ERR_CONFIG, "gx:%s: --format takes 'json' or 'text', not '%s'",
				            cmd, value);
			o->json = !strcmp(value, "json");
		} else if (!strncmp(a, "--source", 8)) {
			o->source = value;
		} else if (!strncmp(a, "--schema", 8) && init) {
			o->schema = value;
		} else if (!strcmp(a, "--force") && init) {
			o->force = 1;
		} else if (!strcmp(a, "--data-docs") && !init) {
			o->data_docs = 1;
		} else if (!strcmp(a, "--no-data-docs") && !init) {
			o->data_docs = 0;
		} else if (a[0] == '-' && a[1]) {
			return kit_fail(err, errlen, SMELT_ERR_CONFIG,
			            init ? "gx:init: unknown option '%s' (usage: gx:init [TABLE] [--source PLUGIN] [--schema NAME] [--force])"
			                 : "gx:validate: unknown option '%s' (usage: gx:validate [SUITE...] [--format json] [--data-docs])",
			            a);
		} else {
			o->names[o->nnames++] = a;
		}
	}
	if (init && o->nnames > 1)
		return kit_fail(err, errlen, SMELT_ERR_CONFIG, "gx:init takes one table, not %zu", o->nnames);
	return SMELT_OK;
}

/* ---- processes ------------------------------------------------------------------ */

/* The venv's python (caller frees); NULL (with err) when the plugin is not installed. */
static char *venv_python(struct gx *s, const struct smelt_plugin *p, char *err, size_t errlen)
{
	const char *venv = s->host->plugin_path(s->hctx, p, SMELT_PPATH_VENV);
	if (!venv) {
		kit_fail(err, errlen, SMELT_ERR_CONFIG,
		     "plugin '%s' has no venv (no pip_url, or no definition yet): give it a pip_url with great-expectations "
		     "and run 'smelt install %s'",
		     attr(s, p, "name"), attr(s, p, "name"));
		return NULL;
	}
	char *py = kit_asprintf("%s/bin/python", venv);
	if (!py) {
		kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (access(py, X_OK) != 0) {
		kit_fail(err, errlen, SMELT_ERR_CONFIG, "plugin '%s' is not installed: run 'smelt install %s'", attr(s, p, "name"),
		     attr(s, p, "name"));
		free(py);
		return NULL;
	}
	return py;
}

static char *runner_path(struct gx *s, char *err, size_t errlen)
{
	const char *dir = s->host->path(s->hctx, SMELT_PATH_ADAPTER_DATA);
	char *path = dir ? kit_asprintf("%s/%s", dir, GX_RUNNER) : NULL;
	if (!path || !is_file(path)) {
		kit_fail(err, errlen, SMELT_ERR, "the gx runner '%s' is missing: reinstall smelt", path ? path : GX_RUNNER);
		free(path);
		return NULL;
	}
	return path;
}


/* Runs the runner: python gx_runner.py ARGS...; its stdout to out (or logged), stderr logged. */
static int run_runner(struct gx *s, const struct smelt_plugin *p, const char *const *args, struct kit_collect *out,
                      unsigned flags, int *code, char *err, size_t errlen)
{
	char *py = venv_python(s, p, err, errlen);
	if (!py)
		return SMELT_ERR_CONFIG;
	char *runner = runner_path(s, err, errlen);
	if (!runner) {
		free(py);
		return SMELT_ERR;
	}
	size_t n = 0;
	while (args[n])
		n++;
	const char **argv = calloc(n + 3, sizeof *argv);
	struct smelt_env *env = s->host->env_new(s->hctx, p);
	int rc = SMELT_OK;
	if (!argv || !env) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	argv[0] = py;
	argv[1] = runner;
	for (size_t i = 0; i < n; i++)
		argv[2 + i] = args[i];
	/* no phone-home, no progress bars in the log, output as it comes */
	s->host->env_set(env, "GX_ANALYTICS_ENABLED", "False");
	s->host->env_set(env, "DO_NOT_TRACK", "1");
	s->host->env_set(env, "TQDM_DISABLE", "1");
	s->host->env_set(env, "PYTHONUNBUFFERED", "1");
	struct smelt_spawn spec = { .struct_size = sizeof spec,
		                    .label = attr(s, p, "name"),
		                    .argv = argv,
		                    .env = env,
		                    .cwd = root_dir(s),
		                    .flags = flags | SMELT_SPAWN_STDIN_NULL,
		                    .on_line = out ? kit_collect_line : NULL,
		                    .arg = out };
	struct smelt_exit ex = { .struct_size = sizeof ex };
	rc = s->host->run(s->hctx, &spec, &ex, err, errlen);
	if (rc == SMELT_OK) {
		if (ex.not_started)
			rc = kit_fail(err, errlen, SMELT_ERR, "cannot run '%s'", py);
		else
			*code = ex.exited ? ex.exit_code : 128 + ex.term_signal;
	}
out:
	s->host->env_free(env);
	free(argv);
	free(runner);
	free(py);
	return rc;
}

/* A private file path under the gx plugin's run dir; caller frees. */
static char *run_file(struct gx *s, const struct smelt_plugin *p, const char *what)
{
	const char *dir = s->host->plugin_path(s->hctx, p, SMELT_PPATH_RUN_DIR);
	return kit_asprintf("%s/gx.%d-%u.%s.json", dir, (int)getpid(), ++s->seq, what);
}

/* ---- sources ------------------------------------------------------------------- */

static void lower_into(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* The first of the keys that holds a non-empty string or a number, as text in buf. */
static const char *first_value(const cJSON *cfg, const char *const *keys, char *buf, size_t cap)
{
	for (; *keys; keys++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, *keys);
		if (cJSON_IsString(v) && v->valuestring[0])
			return v->valuestring;
		if (cJSON_IsNumber(v)) {
			snprintf(buf, cap, "%.0f", v->valuedouble);
			return buf;
		}
	}
	return NULL;
}

static void add_str(cJSON *obj, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, key, value);
}

/* {"error": msg} for a source that cannot be used. */
static cJSON *source_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *source_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", msg);
	return o;
}

/*
 * The connection of a source plugin, from its settings: SQLite file
 * (target-sqlite's and dbt-sqlite's `database`), DuckDB file (`filepath`,
 * `path`, `database`), PostgreSQL (host/port/user/password/database or
 * dbname, or `sqlalchemy_url`).  Returns a new object: the connection, or
 * {"error": ...}; NULL on allocation failure.  The object holds secrets.
 */
static cJSON *resolve_source(struct gx *s, const char *name)
{
	const struct smelt_plugin *p = s->host->plugin_find(s->hctx, name);
	if (!p)
		return source_error("source '%s' is not a plugin of the project (name a loader or transformer, e.g. target-sqlite)",
		                    name);
	char err[SMELT_ERRBUF_SIZE] = "", *text = NULL;
	if (s->host->config_json(s->hctx, p, 0, &text, err, sizeof err))
		return source_error("cannot resolve the settings of source '%s': %s", name, err);
	cJSON *cfg = cJSON_Parse(text);
	s->host->free(text);
	if (!cfg)
		return source_error("cannot read the settings of source '%s'", name);

	char hay[1024], buf[64];
	const char *dialect = attr(s, p, "dialect");
	snprintf(hay, sizeof hay, "%s %s %s %s %s", dialect ? dialect : "", name, attr(s, p, "namespace") ? attr(s, p, "namespace") : "",
	         attr(s, p, "pip_url") ? attr(s, p, "pip_url") : "", attr(s, p, "executable") ? attr(s, p, "executable") : "");
	char low[1024];
	lower_into(low, sizeof low, hay);
	cJSON *conn = cJSON_CreateObject();
	if (!conn) {
		cJSON_Delete(cfg);
		return NULL;
	}
	cJSON_AddStringToObject(conn, "plugin", name);
	const char *url = json_str(cfg, "sqlalchemy_url");
	static const char *const file_keys_sqlite[] = { "database", "path", "filepath", "database_path", NULL };
	static const char *const file_keys_duckdb[] = { "filepath", "path", "database", NULL };
	static const char *const host_keys[] = { "host", "hostname", NULL };
	static const char *const port_keys[] = { "port", NULL };
	static const char *const user_keys[] = { "user", "username", NULL };
	static const char *const pw_keys[] = { "password", NULL };
	static const char *const db_keys[] = { "database", "dbname", "db", NULL };
	static const char *const schema_keys[] = { "default_target_schema", "schema", NULL };
	const char *schema = first_value(cfg, schema_keys, buf, sizeof buf);
	if (url && strncmp(url, "sqlite", 6) && strncmp(url, "duckdb", 6)) {
		cJSON_AddStringToObject(conn, "kind", strncmp(url, "postgres", 8) ? "sqlalchemy" : "postgres");
		cJSON_AddStringToObject(conn, "url", url);
		add_str(conn, "schema", schema);
	} else if (strstr(low, "duckdb")) {
		const char *f = first_value(cfg, file_keys_duckdb, buf, sizeof buf);
		if (!f) {
			cJSON_Delete(conn);
			cJSON_Delete(cfg);
			return source_error("source '%s' (DuckDB) has no 'filepath' or 'path' setting", name);
		}
		if (!strncmp(f, "duckdb:///", 10))
			f += 10;
		char *full = abs_path(s, f);
		cJSON_AddStringToObject(conn, "kind", "duckdb");
		add_str(conn, "path", full);
		free(full);
		add_str(conn, "schema", json_str(cfg, "default_target_schema"));
	} else if (strstr(low, "sqlite")) {
		const char *f = url ? url + (strncmp(url, "sqlite:///", 10) ? 6 : 10)
		                    : first_value(cfg, file_keys_sqlite, buf, sizeof buf);
		if (!f || !*f) {
			cJSON_Delete(conn);
			cJSON_Delete(cfg);
			return source_error("source '%s' (SQLite) has no 'database' setting", name);
		}
		char *full = abs_path(s, f);
		cJSON_AddStringToObject(conn, "kind", "sqlite");
		add_str(conn, "path", full);
		free(full);
		/* dbt-sqlite keeps other schemas in files of their own */
		const char *dir = json_str(cfg, "schema_directory");
		if (dir) {
			char *d = abs_path(s, dir);
			add_str(conn, "schema_directory", d);
			free(d);
		}
		const cJSON *sp = cJSON_GetObjectItemCaseSensitive(cfg, "schemas_and_paths");
		if (cJSON_IsObject(sp)) {
			cJSON *m = cJSON_AddObjectToObject(conn, "schemas_and_paths");
			const cJSON *e;
			cJSON_ArrayForEach(e, sp)
			{
				if (cJSON_IsString(e)) {
					char *d = abs_path(s, e->valuestring);
					add_str(m, e->string, d);
					free(d);
				}
			}
		}
	} else if (strstr(low, "postgres") || cJSON_GetObjectItemCaseSensitive(cfg, "host")) {
		char portbuf[32];
		const char *port = first_value(cfg, port_keys, portbuf, sizeof portbuf);
		cJSON_AddStringToObject(conn, "kind", "postgres");
		add_str(conn, "host", first_value(cfg, host_keys, buf, sizeof buf));
		add_str(conn, "port", port ? port : "5432");
		add_str(conn, "user", first_value(cfg, user_keys, buf, sizeof buf));
		add_str(conn, "password", first_value(cfg, pw_keys, buf, sizeof buf));
		add_str(conn, "database", first_value(cfg, db_keys, buf, sizeof buf));
		add_str(conn, "schema", schema);
	} else {
		cJSON_Delete(conn);
		cJSON_Delete(cfg);
		return source_error("cannot tell which database source '%s' writes to: gx reads SQLite, DuckDB and "
		                    "PostgreSQL sources (target-sqlite, dbt-sqlite, target-duckdb, target-postgres, ...)",
		                    name);
	}
	cJSON_Delete(cfg);
	return conn;
}

/* ---- suites -------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

/* The suite files to validate: the named ones, or every file of the suites folder. */
static int list_suites(struct gx *s, const char *suites_dir, const char *const *names, size_t nnames, char ***out,
                       size_t *nout, char *err, size_t errlen)
{
	char *dir = abs_path(s, suites_dir);
	char **files = NULL;
	size_t n = 0, cap = 0;
	int rc = SMELT_OK;
	if (!dir)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (nnames) {
		files = calloc(nnames, sizeof *files);
		for (size_t i = 0; files && i < nnames; i++) {
			const char *nm = names[i];
			char *found = NULL;
			if (strchr(nm, '/') || is_suite_file(nm)) {
				char *path = strchr(nm, '/') ? abs_path(s, nm) : kit_asprintf("%s/%s", dir, nm);
				if (path && is_file(path))
					found = path;
				else
					free(path);
			} else {
				static const char *const exts[] = { ".yml", ".yaml", ".json", NULL };
				for (int k = 0; exts[k] && !found; k++) {
					char *path = kit_asprintf("%s/%s%s", dir, nm, exts[k]);
					if (path && is_file(path))
						found = path;
					else
						free(path);
				}
			}
			if (!found) {
				rc = kit_fail(err, errlen, SMELT_ERR_NOTFOUND,
				          "no suite '%s' in %s/ (looked for %s.yml, %s.yaml and %s.json)", nm, suites_dir, nm, nm,
				          nm);
				break;
			}
			files[n++] = found;
		}
		if (!files)
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	} else {
		DIR *d = opendir(dir);
		if (!d) {
			rc = kit_fail(err, errlen, SMELT_ERR_NOTFOUND,
			          "no suites folder '%s/': write quality suites there (see the gx adapter's README) or run "
			          "'smelt invoke gx:init TABLE'",
			          suites_dir);
		} else {
			struct dirent *e;
			while ((e = readdir(d))) {
				if (!is_suite_file(e->d_name))
					continue;
				char *path = kit_asprintf("%s/%s", dir, e->d_name);
				if (!path || !is_file(path)) {
					free(path);
					continue;
				}
				if (n == cap) {
					cap = cap ? cap * 2 : 8;
					char **f = realloc(files, cap * sizeof *files);
					if (!f) {
						free(path);
						rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
						break;
					}
					files = f;
				}
				files[n++] = path;
			}
			closedir(d);
			if (!rc && !n)
				rc = kit_fail(err, errlen, SMELT_ERR_NOTFOUND,
				          "no suites in '%s/' (.yml, .yaml or .json files): write one or run 'smelt invoke gx:init TABLE'",
				          suites_dir);
			if (n > 1)
				qsort(files, n, sizeof *files, cmp_str);
		}
	}
	free(dir);
	if (rc) {
		free_list(files, n);
		return rc;
	}
	*out = files;
	*nout = n;
	return SMELT_OK;
}

/* ---- output -------------------------------------------------------------------- */

static const char *obj_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void emit(struct gx *s, enum smelt_event_kind kind, const char *item, const char *status, int64_t count,
                 const char *message, const char *detail)
{
	struct smelt_event ev = { .struct_size = sizeof ev,
		                  .kind = kind,
		                  .item = item,
		                  .status = status,
		                  .count = count,
		                  .seconds = -1,
		                  .message = message,
		                  .detail_json = detail };
	s->host->event(s->hctx, &ev);
}

/*
 * Lineage: the table a suite checked, as an input dataset of the block
 * (namespace smelt://<source plugin>, the convention of the in-tree
 * adapters, so it is the dataset the loader wrote), with each expectation
 * as an assertion: its type, its column, whether it passed.
 */
static void gx_report_dataset(struct gx *s, const char *source, const char *table, const cJSON *exps)
{
	if (!source || !table)
		return;
	cJSON *detail = cJSON_CreateObject();
	char *ns = kit_asprintf("smelt://%s", source);
	cJSON_AddStringToObject(detail, "namespace", ns ? ns : "smelt");
	cJSON *list = cJSON_AddArrayToObject(detail, "assertions");
	const cJSON *e;
	cJSON_ArrayForEach(e, exps)
	{
		const char *type = obj_str(e, "type");
		const char *column = obj_str(cJSON_GetObjectItemCaseSensitive(e, "kwargs"), "column");
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "assertion", type ? type : "expectation");
		cJSON_AddBoolToObject(a, "success", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "success")));
		if (column)
			cJSON_AddStringToObject(a, "column", column);
		cJSON_AddItemToArray(list, a);
	}
	char *json = cJSON_PrintUnformatted(detail);
	if (json)
		emit(s, SMELT_EV_DATASET, table, "input", -1, NULL, json);
	free(json);
	free(ns);
	cJSON_Delete(detail);
}

/* Tallies of a result file. */
struct gx_tally {
	int suites, evaluated, passed, failed, errors;
	char first_failure[1024];   /* "suite: label (observed)" of the first failed expectation */
	char first_error[768];     /* the first suite error */
};

/*
 * One line of the text report: on stdout for smelt invoke; in smelt run
 * a log line (the run log keeps it, --verbose shows it), since the run's
 * own table reports the checks and the host prints each failure.
 */
static void say(struct gx *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct gx *s, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (!s->in_run) {
		fputs(line, stdout);
		return;
	}
	char *nl;
	for (char *l = line; *l; l = nl + 1) {
		if (!(nl = strchr(l, '\n'))) {
			LOG(s, SMELT_LOG_INFO, "%s", l);
			break;
		}
		*nl = '\0';
		LOG(s, SMELT_LOG_INFO, "%s", l);
	}
}

/* Events for every expectation and suite, and the text summary (unless json). */
static void report(struct gx *s, const cJSON *res, int json_out, struct gx_tally *t)
{
	memset(t, 0, sizeof *t);
	const cJSON *suite;
	cJSON_ArrayForEach(suite, cJSON_GetObjectItemCaseSensitive(res, "suites"))
	{
		const char *name = obj_str(suite, "name"), *file = obj_str(suite, "file"), *error = obj_str(suite, "error");
		const char *source = obj_str(suite, "source"), *table = obj_str(suite, "table");
		name = name ? name : "?";
		t->suites++;
		if (error) {
			t->errors++;
			if (!t->first_error[0])
				snprintf(t->first_error, sizeof t->first_error, "suite '%s': %s", name, error);
			emit(s, SMELT_EV_RESULT, name, "error", -1, error, NULL);
			if (!json_out)
				say(s, "Suite %s (%s): ERROR\n  %s\n", name, file ? file : "?", error);
			continue;
		}
		const cJSON *exps = cJSON_GetObjectItemCaseSensitive(suite, "expectations");
		int total = cJSON_GetArraySize(exps), ok = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, exps)
		ok += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "success"));
		if (!json_out) {
			char where[512];
			int w = snprintf(where, sizeof where, "%s", file ? file : "?");
			if (source && w >= 0 && (size_t)w < sizeof where)
				w += snprintf(where + w, sizeof where - (size_t)w, ", %s", source);
			if (table && w >= 0 && (size_t)w < sizeof where)
				snprintf(where + w, sizeof where - (size_t)w, " table %s", table);
			say(s, "Suite %s (%s): %d of %d expectations passed\n", name, where, ok, total);
		}
		cJSON_ArrayForEach(e, exps)
		{
			const char *label = obj_str(e, "label"), *observed = obj_str(e, "observed");
			int pass = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "success"));
			const cJSON *uc = cJSON_GetObjectItemCaseSensitive(e, "unexpected_count");
			char item[600];
			snprintf(item, sizeof item, "%s: %s", name, label ? label : "?");
			char *detail = cJSON_PrintUnformatted(e);
			emit(s, SMELT_EV_RESULT, item, pass ? "pass" : "fail", cJSON_IsNumber(uc) ? (int64_t)uc->valuedouble : -1,
			     observed && *observed ? observed : NULL, detail);
			free(detail);
			t->evaluated++;
			if (pass) {
				t->passed++;
			} else {
				t->failed++;
				if (!t->first_failure[0])
					snprintf(t->first_failure, sizeof t->first_failure, "%s%s%s%s", item,
					         observed && *observed ? " (" : "", observed && *observed ? observed : "",
					         observed && *observed ? ")" : "");
			}
			if (!json_out) {
				if (pass)
					say(s, "  pass  %s\n", label ? label : "?");
				else
					say(s, "  FAIL  %s%s%s\n", label ? label : "?", observed && *observed ? ": " : "",
					       observed && *observed ? observed : "");
			}
		}
		char msg[128];
		snprintf(msg, sizeof msg, "%d of %d expectations passed", ok, total);
		emit(s, SMELT_EV_SUMMARY, name, ok == total ? "passed" : "failed", -1, msg, NULL);
		gx_report_dataset(s, source, table, exps);
	}
	if (json_out)
		return;
	if (t->errors)
		say(s, "Validation error: %d of %d suite%s could not run; %d of %d expectations passed\n", t->errors,
		       t->suites, t->suites == 1 ? "" : "s", t->passed, t->evaluated);
	else if (t->failed)
		say(s, "Validation failed: %d of %d expectations failed (%d suite%s)\n", t->failed, t->evaluated, t->suites,
		       t->suites == 1 ? "" : "s");
	else
		say(s, "Validation passed: all %d expectations met (%d suite%s)\n", t->evaluated, t->suites,
		       t->suites == 1 ? "" : "s");
	const char *docs = obj_str(res, "data_docs");
	if (docs)
		say(s, "Data Docs: %s\n", shown_path(s, docs));
	fflush(stdout);
}

/* ---- validate ------------------------------------------------------------------ */

/* Reads a result file the runner wrote; NULL (with err) when there is none. */
/*
 * One exchange with the runner: the request (which may hold passwords) goes
 * to a private file, `gx_runner.py VERB <request>` runs, and its result file
 * is parsed.  Returns the result (caller frees), or NULL with *rc and err
 * set; *code is the runner's exit code.
 */
static cJSON *runner_exchange(struct gx *s, const struct smelt_plugin *p, const char *verb, cJSON *req, int *code,
                              int *rc, char *err, size_t errlen)
{
	char *req_path = run_file(s, p, "request"), *res_path = run_file(s, p, "result"), *req_text = NULL;
	cJSON *res = NULL;
	*rc = SMELT_OK;
	if (req_path && res_path) {
		add_str(req, "output", res_path);
		req_text = cJSON_PrintUnformatted(req);
	}
	if (!req_text)
		*rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	/* the result is not secret, but written 0600 and removed at the end all the same */
	if (!*rc && !(*rc = s->host->write_private(s->hctx, req_path, req_text, strlen(req_text), err, errlen)) &&
	    !(*rc = s->host->write_private(s->hctx, res_path, "", 0, err, errlen))) {
		const char *args[] = { verb, req_path, NULL };
		*rc = run_runner(s, p, args, NULL, 0, code, err, errlen);
	}
	if (!*rc) {
		char *text = kit_read_file(res_path, NULL);
		res = text && *text ? cJSON_Parse(text) : NULL;
		free(text);
		if (!res) {
			*rc = kit_fail(err, errlen, SMELT_ERR_FAILED,
			               "the gx runner exited with code %d without a result (see its log lines above)", *code);
			LOG(s, SMELT_LOG_ERROR, "%s", err);
		}
	}
	if (req_text) {
		memset(req_text, 0, strlen(req_text)); /* it held passwords */
		free(req_text);
	}
	free(req_path);
	free(res_path);
	return res;
}

static int gx_validate(struct gx *s, const struct smelt_plugin *p, const struct gx_opts *o, int *code, char *err,
                       size_t errlen)
{
	struct gx_settings st;
	char **files = NULL, *docs_dir = NULL;
	size_t nfiles = 0;
	cJSON *plan = NULL, *req = NULL, *res = NULL;
	struct kit_collect out = { 0 };
	int rc = load_settings(s, p, &st, err, errlen);
	if (rc)
		return rc;
	if ((rc = list_suites(s, st.suites_dir, o->names, o->nnames, &files, &nfiles, err, errlen)))
		goto done;

	/* 1. which source each suite reads */
	const char **args = calloc(nfiles + 2, sizeof *args);
	if (!args) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto done;
	}
	args[0] = "plan";
	for (size_t i = 0; i < nfiles; i++)
		args[i + 1] = files[i];
	int pcode = 0;
	rc = run_runner(s, p, args, &out, SMELT_SPAWN_QUIET, &pcode, err, errlen);
	free(args);
	if (rc)
		goto done;
	plan = out.buf ? cJSON_Parse(out.buf) : NULL;
	if (!plan || pcode != 0) {
		rc = kit_fail(err, errlen, SMELT_ERR, "the gx runner could not read the suites (exit code %d)", pcode);
		goto done;
	}

	/* 2. the request: suites and the connections of their sources */
	req = cJSON_CreateObject();
	cJSON *suites = cJSON_AddArrayToObject(req, "suites"), *sources = cJSON_AddObjectToObject(req, "sources");
	const cJSON *ps;
	cJSON_ArrayForEach(ps, cJSON_GetObjectItemCaseSensitive(plan, "suites"))
	{
		const char *file = obj_str(ps, "file"), *source = obj_str(ps, "source"), *perr = obj_str(ps, "error");
		if (!file)
			continue;
		if (!source)
			source = o->source ? o->source : st.source;
		cJSON *one = cJSON_CreateObject();
		add_str(one, "file", file);
		add_str(one, "display_file", shown_path(s, file));
		add_str(one, "name", obj_str(ps, "name"));
		add_str(one, "source", source);
		add_str(one, "error", perr);
		cJSON_AddItemToArray(suites, one);
		if (source && !perr && !cJSON_GetObjectItemCaseSensitive(sources, source)) {
			cJSON *conn = resolve_source(s, source);
			if (!conn) {
				rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
				goto done;
			}
			cJSON_AddItemToObject(sources, source, conn);
		}
	}
	int docs = o->data_docs >= 0 ? o->data_docs : st.data_docs;
	if (docs) {
		docs_dir = abs_path(s, st.data_docs_dir);
		add_str(req, "data_docs_dir", docs_dir);
	}
	add_str(req, "result_format", st.result_format);
	int vcode = 0;
	if (!(res = runner_exchange(s, p, "validate", req, &vcode, &rc, err, errlen)))
		goto done;
	const char *crash = obj_str(res, "error");
	if (crash) {
		LOG(s, SMELT_LOG_ERROR, "%s", crash);
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "gx:validate: %s", crash);
		*code = 2;
		goto done;
	}
	struct gx_tally t;
	report(s, res, o->json, &t);
	if (o->json) {
		char *pretty = cJSON_Print(res);
		if (pretty)
			printf("%s\n", pretty);
		free(pretty);
		fflush(stdout);
	}
	*code = vcode;
	if (vcode != 0 && vcode != 1 && vcode != 2)
		*code = 2;
	if (t.errors)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "gx:validate: %s", t.first_error);
	else if (t.failed)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "gx:validate: %d of %d expectations failed, first: %s", t.failed,
		          t.evaluated, t.first_failure);
	else if (vcode != 0)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "gx:validate: the gx runner exited with code %d", vcode);
done:
	free(out.buf);
	cJSON_Delete(plan);
	cJSON_Delete(req);
	cJSON_Delete(res);
	free(docs_dir);
	free_list(files, nfiles);
	cJSON_Delete(st.json);
	return rc;
}

/* ---- init ---------------------------------------------------------------------- */

/* The source for gx:init: --source, the setting, else the first loader/transformer with a database. */
static cJSON *init_source(struct gx *s, const struct gx_opts *o, const struct gx_settings *st, char *err, size_t errlen)
{
	const char *name = o->source ? o->source : st->source;
	if (name)
		return resolve_source(s, name);
	const struct smelt_plugin *list[64];
	size_t n = s->host->plugin_list(s->hctx, SMELT_PT_LOADER | SMELT_PT_TRANSFORMER, list, 64);
	for (size_t i = 0; i < n && i < 64; i++) {
		cJSON *c = resolve_source(s, attr(s, list[i], "name"));
		if (c && !cJSON_GetObjectItemCaseSensitive(c, "error"))
			return c;
		cJSON_Delete(c);
	}
	kit_fail(err, errlen, SMELT_ERR_CONFIG,
	     "no loader or transformer with a SQLite, DuckDB or PostgreSQL database: pass --source PLUGIN");
	return NULL;
}

static int gx_init_suite(struct gx *s, const struct smelt_plugin *p, const struct gx_opts *o, int *code, char *err,
                         size_t errlen)
{
	struct gx_settings st;
	char *dir = NULL;
	cJSON *req = NULL, *res = NULL;
	int rc = load_settings(s, p, &st, err, errlen);
	if (rc)
		return rc;
	cJSON *conn = init_source(s, o, &st, err, errlen);
	if (!conn) {
		rc = SMELT_ERR_CONFIG;
		goto done;
	}
	req = cJSON_CreateObject();
	cJSON_AddItemToObject(req, "source", conn);
	if (o->nnames)
		add_str(req, "table", o->names[0]);
	add_str(req, "schema", o->schema);
	dir = abs_path(s, st.suites_dir);
	add_str(req, "suites_dir", dir);
	add_str(req, "display_dir", st.suites_dir);
	cJSON_AddBoolToObject(req, "force", o->force);
	if (!dir) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto done;
	}
	int icode = 0;
	if (!(res = runner_exchange(s, p, "init", req, &icode, &rc, err, errlen)))
		goto done;
	const char *e = obj_str(res, "error");
	if (e || icode != 0) {
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "gx:init: %s", e ? e : "the gx runner failed");
		LOG(s, SMELT_LOG_ERROR, "%s", err);
		*code = 2;
		goto done;
	}
	const char *file = obj_str(res, "file"), *table = obj_str(res, "table"), *source = obj_str(res, "source");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(res, "expectations");
	char stem[256] = "";
	if (table)
		snprintf(stem, sizeof stem, "%s", table);
	if (o->json) {
		char *pretty = cJSON_Print(res);
		if (pretty)
			printf("%s\n", pretty);
		free(pretty);
	} else {
		printf("Wrote %s: %d expectations for table %s of %s\n", file ? shown_path(s, file) : "?",
		       cJSON_IsNumber(n) ? (int)n->valuedouble : 0, table ? table : "?", source ? source : "?");
		printf("Review it, then check the data with: smelt invoke %s:validate %s\n", attr(s, p, "name"), stem);
	}
	fflush(stdout);
	emit(s, SMELT_EV_SUMMARY, file ? shown_path(s, file) : NULL, "written", cJSON_IsNumber(n) ? (int64_t)n->valuedouble : -1,
	     "example suite", NULL);
	*code = 0;
done:
	cJSON_Delete(req);
	cJSON_Delete(res);
	free(dir);
	cJSON_Delete(st.json);
	return rc;
}

/* ---- dispatch ------------------------------------------------------------------ */

/* Splits a command's args string at blanks (with '...' and "..." quotes); caller frees words and *buf. */
static const char **split_words(const char *text, char **buf, size_t *n)
{
	size_t len = strlen(text);
	char *b = malloc(len + 1);
	const char **w = calloc(len / 2 + 2, sizeof *w);
	*n = 0;
	*buf = b;
	if (!b || !w) {
		free(w);
		return NULL;
	}
	char *o = b;
	const char *c = text;
	while (*c) {
		while (*c == ' ' || *c == '\t' || *c == '\n')
			c++;
		if (!*c)
			break;
		w[(*n)++] = o;
		char q = 0;
		while (*c && (q || (*c != ' ' && *c != '\t' && *c != '\n'))) {
			if (!q && (*c == '\'' || *c == '"'))
				q = *c;
			else if (q && *c == q)
				q = 0;
			else
				*o++ = *c;
			c++;
		}
		*o++ = '\0';
	}
	return w;
}

static void print_help(struct gx *s, const struct smelt_plugin *p)
{
	const char *n = attr(s, p, "name");
	printf("Great Expectations (GX Core 1.x) through Smelt's runner. Commands:\n"
	       "  smelt invoke %s:validate [SUITE...] [--format json] [--data-docs]\n"
	       "      run the suites of quality/ (all, or the named ones)\n"
	       "  smelt invoke %s:init [TABLE] [--source PLUGIN] [--schema NAME] [--force]\n"
	       "      write quality/TABLE.yml, an example suite for a table of the warehouse\n"
	       "  smelt run ... %s:validate\n"
	       "      the same as a block of a run: the run fails when an expectation fails\n",
	       n, n, n);
}

/* Runs gx:<command> with args; *code is 0 passed, 1 failed, 2 error. */
static int gx_command(struct gx *s, const struct smelt_request *req, int *code, char *err, size_t errlen)
{
	const struct smelt_plugin *p = req->plugins[0];
	const char *cmd = req->command;
	const char *exe = NULL;
	const char *defined = cmd ? s->host->plugin_command(s->hctx, p, cmd, &exe) : NULL;
	char *buf = NULL;
	size_t nwords = 0;
	const char **words = NULL;
	if (defined && *defined) {
		if (!(words = split_words(defined, &buf, &nwords))) {
			free(buf);
			return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		}
		/* a project command `check-orders: {args: validate orders}` names the subcommand first */
		if (nwords && (!strcmp(words[0], "validate") || !strcmp(words[0], "init"))) {
			cmd = words[0];
			memmove(words, words + 1, (nwords - 1) * sizeof *words);
			nwords--;
		}
	}
	int rc;
	if (!cmd || (strcmp(cmd, "validate") && strcmp(cmd, "init"))) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOTFOUND, "plugin '%s' has no command '%s' (commands: validate, init)",
		          attr(s, p, "name"), cmd ? cmd : "");
		*code = 2;
		goto out;
	}
	const char **all = calloc(nwords + req->nargs + 1, sizeof *all);
	if (!all) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nwords; i++)
		all[i] = words[i];
	for (size_t i = 0; i < req->nargs; i++)
		all[nwords + i] = req->args[i];
	struct gx_opts o;
	rc = parse_opts(cmd, all, nwords + req->nargs, &o, err, errlen);
	if (!rc) {
		if (req->flags & SMELT_RQ_JSON)
			o.json = 1;
		rc = !strcmp(cmd, "validate") ? gx_validate(s, p, &o, code, err, errlen)
		                              : gx_init_suite(s, p, &o, code, err, errlen);
	}
	if (rc && !*code)
		*code = 2;
	opts_release(&o);
	free(all);
out:
	free(words);
	free(buf);
	return rc;
}

/* smelt invoke gx:validate|init ARGS; smelt invoke gx ARGS runs the venv's python with ARGS. */
static int gx_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct gx *s = state;
	const struct smelt_plugin *p = req->plugins[0];
	*exit_code = 0;
	if (req->kind == SMELT_REQ_DUMP) {
		if (strcmp(req->dump, "config"))
			return kit_fail(err, errlen, SMELT_ERR_CONFIG, "'%s' has no %s", attr(s, p, "name"), req->dump);
		char *json = NULL;
		int rc = s->host->config_json(s->hctx, p, SMELT_CFG_REDACT, &json, err, errlen);
		if (rc)
			return rc;
		cJSON *v = cJSON_Parse(json);
		char *pretty = v ? cJSON_Print(v) : NULL;
		printf("%s\n", pretty ? pretty : json);
		free(pretty);
		cJSON_Delete(v);
		s->host->free(json);
		return SMELT_OK;
	}
	if (!req->command) {
		if (!req->nargs) {
			print_help(s, p);
			return SMELT_OK;
		}
		/* the executable (python) with the user's args, like Meltano's invoke */
		char *py = venv_python(s, p, err, errlen);
		if (!py)
			return SMELT_ERR_CONFIG;
		const char **argv = calloc(req->nargs + 2, sizeof *argv);
		struct smelt_env *env = s->host->env_new(s->hctx, p);
		if (!argv || !env) {
			free(py);
			free(argv);
			s->host->env_free(env);
			return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		}
		argv[0] = py;
		for (size_t i = 0; i < req->nargs; i++)
			argv[i + 1] = req->args[i];
		s->host->env_set(env, "GX_ANALYTICS_ENABLED", "False");
		struct smelt_spawn spec = { .struct_size = sizeof spec, .label = attr(s, p, "name"), .argv = argv,
			                    .env = env, .flags = SMELT_SPAWN_INHERIT_STDIO };
		struct smelt_exit ex = { .struct_size = sizeof ex };
		int rc = s->host->run(s->hctx, &spec, &ex, err, errlen);
		s->host->env_free(env);
		free(argv);
		free(py);
		if (rc == SMELT_OK)
			*exit_code = ex.exited ? ex.exit_code : 128 + ex.term_signal;
		return rc;
	}
	int code = 0;
	int rc = gx_command(s, req, &code, err, errlen);
	if (rc == SMELT_ERR_FAILED) {
		/* the tool ran and said why (events, log): its verdict is the exit code */
		*exit_code = code ? code : 1;
		return SMELT_OK;
	}
	if (rc == SMELT_ERR_CONFIG || rc == SMELT_ERR_NOTFOUND) {
		/* a suite or option that cannot be used: "could not validate", exit 2 like the runner's errors */
		LOG(s, SMELT_LOG_ERROR, "%s", err);
		*exit_code = 2;
		return SMELT_OK;
	}
	*exit_code = code;
	return rc;
}

static int gx_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct gx *s = state;
	if (req->kind != SMELT_REQ_COMMAND)
		return kit_fail(err, errlen, SMELT_ERR_CONFIG, "'%s' is a utility: use it as '%s:validate' in a run",
		            attr(s, req->plugins[0], "name"), attr(s, req->plugins[0], "name"));
	int code = 0;
	s->in_run = 1;
	int rc = gx_command(s, req, &code, err, errlen);
	s->in_run = 0;
	return rc;
}

/*
 * After smelt install: great_expectations must be in the venv.  Its
 * dist-info is read, no Python started: importing GX costs 4-8 s on a
 * cold venv (Meltano checks nothing); a venv where it fails to import is
 * reported by the first gx:validate.
 */
static int gx_post_install(void *state, const struct smelt_plugin *p, char *err, size_t errlen)
{
	struct gx *s = state;
	const char *venv = s->host->plugin_path(s->hctx, p, SMELT_PPATH_VENV);
	char *pat = venv ? kit_asprintf("%s/lib/python*/site-packages/great_expectations-*.dist-info", venv) : NULL;
	glob_t g;
	int found = pat && glob(pat, 0, NULL, &g) == 0;
	free(pat);
	if (!found)
		return kit_fail(err, errlen, SMELT_ERR_FAILED,
		                "great_expectations is not installed in the venv of '%s': is great-expectations in its "
		                "pip_url?", attr(s, p, "name"));
	const char *base = strrchr(g.gl_pathv[0], '/') + 1 + strlen("great_expectations-");
	LOG(s, SMELT_LOG_INFO, "great_expectations %.*s", (int)(strlen(base) - strlen(".dist-info")), base);
	globfree(&g);
	return SMELT_OK;
}

static int gx_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct gx *s = calloc(1, sizeof *s);
	if (!s)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	s->host = host;
	s->hctx = hctx;
	*state = s;
	return SMELT_OK;
}

static void gx_destroy(void *state)
{
	free(state);
}

static const char *const gx_namespaces[] = { "great_expectations", "gx", NULL };

static const struct smelt_command gx_commands[] = {
	{ "validate", "Run the expectation suites of quality/ (all, or those named) and report each expectation" },
	{ "init", "Write quality/TABLE.yml, an example suite for a table of the warehouse" },
	{ NULL, NULL },
};

static const struct smelt_adapter gx_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.command_size = sizeof(struct smelt_command),
	.name = "gx",
	.version = "0.2.0",
	.description = "Great Expectations (GX Core 1.x) quality checks",
	.category = SMELT_CAT_QUALITY,
	.plugin_types = 0,
	.namespaces = gx_namespaces,
	.commands = gx_commands,
	.init = gx_init,
	.destroy = gx_destroy,
	.invoke = gx_invoke,
	.run_block = gx_run_block,
	.post_install = gx_post_install,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &gx_adapter;
}
