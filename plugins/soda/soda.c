/*
 * The soda adapter: Soda Core 4.x data contracts as Smelt's second quality
 * tool.  Built out of tree: this file includes only the installed SDK header
 * (<smelt/sdk.h>, found through smelt-sdk.pc) and cJSON; nothing of host/ and
 * nothing of plugins/kit (the few helpers it needs are below).
 *
 * soda:verify [CONTRACT...] [--format json]:
 *   1. the contract files are listed (the arguments, else every .yml/.yaml
 *      file of the contracts folder, quality/soda by default);
 *   2. the warehouse is resolved from the settings of the source plugin (the
 *      `source` setting, else the first loader with a SQLite, DuckDB or
 *      PostgreSQL database) and handed to the runner in the environment
 *      only (SMELT_SODA_*; the password as SMELT_SODA_PASSWORD);
 *   3. `python soda_runner.py verify FILE...` (the venv's python; the runner
 *      ships in the adapter's data folder) verifies each contract and prints
 *      one JSON result on stdout;
 *   4. one SMELT_EV_RESULT per check (item "<contract>: <check name>",
 *      message the observed values), a summary per contract, the text report
 *      (or the JSON with --format json), exit code 0 passed, 1 failed, 2 error.
 */
#include <smelt/sdk.h>

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SODA_RUNNER "soda_runner.py"
#define SODA_DEFAULT_DIR "quality/soda"
#define SODA_MAX_FILES 256

struct soda {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;
	int in_run; /* a block of smelt run: the text report goes to the log */
};

#define LOG(s, lvl, ...) (s)->host->log((s)->hctx, (lvl), __VA_ARGS__)

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

/* Lines of a child's stdout gathered into one malloc'ed buffer. */
struct collect {
	char *buf;
	size_t len, cap;
};

static int collect_line(void *arg, const char *line, size_t len, unsigned long lineno)
{
	struct collect *c = arg;
	if (c->len + len + 2 > c->cap) {
		size_t cap = (c->cap ? c->cap * 2 : 4096) + len + 2;
		char *b = realloc(c->buf, cap);
		if (!b)
			return -1;
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, line, len);
	c->len += len;
	c->buf[c->len++] = '\n';
	c->buf[c->len] = '\0';
	return 0;
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

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* ---- host shortcuts --------------------------------------------------------------- */

static const char *attr(struct soda *s, const struct smelt_plugin *p, const char *key)
{
	const char *v = s->host->plugin_attr(s->hctx, p, key);
	return v ? v : "";
}

static const char *root_dir(struct soda *s)
{
	return s->host->path(s->hctx, SMELT_PATH_PROJECT_ROOT);
}

/* path made absolute against the project root; caller frees. */
static char *abs_path(struct soda *s, const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	if (path[0] == '.' && path[1] == '/')
		path += 2;
	return fmt_alloc("%s/%s", root_dir(s), path);
}

/* path relative to the project root when under it (for messages); borrowed from path. */
static const char *shown_path(struct soda *s, const char *path)
{
	const char *root = root_dir(s);
	size_t n = strlen(root);
	return !strncmp(path, root, n) && path[n] == '/' ? path + n + 1 : path;
}

/* A plugin's resolved settings as JSON (caller deletes); NULL with err. */
static cJSON *settings_of(struct soda *s, const struct smelt_plugin *p, char *err, size_t errlen)
{
	char *text = NULL;
	if (s->host->config_json(s->hctx, p, 0, &text, err, errlen))
		return NULL;
	cJSON *j = cJSON_Parse(text);
	s->host->free(text);
	if (!j)
		fail(err, errlen, SMELT_ERR, "cannot read the settings of '%s'", attr(s, p, "name"));
	return j;
}

/* ---- the warehouse ---------------------------------------------------------------- */

/* The first of keys holding a non-empty string or a number, as text in buf. */
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

/*
 * Sets SMELT_SODA_* in env from the settings of the source plugin p: the kind
 * (sqlite, duckdb, postgres) and its connection.  The password goes only into
 * env.  0, or SMELT_ERR_CONFIG with err when the warehouse cannot be told.
 */
static int source_env(struct soda *s, const struct smelt_plugin *p, struct smelt_env *env, char *err, size_t errlen)
{
	const char *name = attr(s, p, "name");
	cJSON *cfg = settings_of(s, p, err, errlen);
	if (!cfg)
		return SMELT_ERR_CONFIG;
	char hay[1024], buf[64], port[32];
	snprintf(hay, sizeof hay, "%s %s %s %s", attr(s, p, "dialect"), name, attr(s, p, "namespace"), attr(s, p, "pip_url"));
	for (char *c = hay; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	static const char *const duck_keys[] = { "filepath", "path", "database", NULL };
	static const char *const sqlite_keys[] = { "database", "path", "filepath", "database_path", NULL };
	static const char *const schema_keys[] = { "default_target_schema", "schema", NULL };
	static const char *const host_keys[] = { "host", "hostname", NULL };
	static const char *const port_keys[] = { "port", NULL };
	static const char *const user_keys[] = { "user", "username", NULL };
	static const char *const pw_keys[] = { "password", NULL };
	static const char *const db_keys[] = { "database", "dbname", "db", NULL };
	int rc = SMELT_OK;
	const char *kind = strstr(hay, "duckdb") ? "duckdb" : strstr(hay, "sqlite") ? "sqlite"
	                 : (strstr(hay, "postgres") || cJSON_GetObjectItemCaseSensitive(cfg, "host")) ? "postgres" : NULL;
	if (!kind) {
		rc = fail(err, errlen, SMELT_ERR_CONFIG,
		          "cannot tell which database source '%s' writes to: soda reads SQLite, DuckDB and PostgreSQL "
		          "warehouses (target-sqlite, target-duckdb, target-postgres, ...)", name);
	} else if (strcmp(kind, "postgres")) {
		const char *f = first_value(cfg, strcmp(kind, "duckdb") ? sqlite_keys : duck_keys, buf, sizeof buf);
		if (f && !strncmp(f, "duckdb:///", 10))
			f += 10;
		char *full = f && *f ? abs_path(s, f) : NULL;
		/* target-sqlite appends .db to a database name without a suffix */
		if (full && !strcmp(kind, "sqlite") && !strchr(strrchr(full, '/') ? strrchr(full, '/') : full, '.')) {
			char *db = fmt_alloc("%s.db", full);
			free(full);
			full = db;
		}
		if (!full)
			rc = fail(err, errlen, SMELT_ERR_CONFIG, "source '%s' has no database file setting", name);
		else {
			s->host->env_set(env, "SMELT_SODA_PATH", full);
			const char *schema = strcmp(kind, "duckdb") ? NULL : first_value(cfg, schema_keys, buf, sizeof buf);
			if (schema)
				s->host->env_set(env, "SMELT_SODA_SCHEMA", schema);
		}
		free(full);
	} else {
		const char *v;
		if ((v = first_value(cfg, host_keys, buf, sizeof buf)))
			s->host->env_set(env, "SMELT_SODA_HOST", v);
		if ((v = first_value(cfg, port_keys, port, sizeof port)))
			s->host->env_set(env, "SMELT_SODA_PORT", v);
		if ((v = first_value(cfg, user_keys, buf, sizeof buf)))
			s->host->env_set(env, "SMELT_SODA_USER", v);
		if ((v = first_value(cfg, pw_keys, buf, sizeof buf)))
			s->host->env_set(env, "SMELT_SODA_PASSWORD", v);
		if ((v = first_value(cfg, db_keys, buf, sizeof buf)))
			s->host->env_set(env, "SMELT_SODA_DATABASE", v);
		if ((v = first_value(cfg, schema_keys, buf, sizeof buf)))
			s->host->env_set(env, "SMELT_SODA_SCHEMA", v);
	}
	if (!rc)
		s->host->env_set(env, "SMELT_SODA_KIND", kind);
	cJSON_Delete(cfg);
	return rc;
}

/* The source plugin: the setting, else the first loader whose warehouse soda reads. */
static const struct smelt_plugin *find_source(struct soda *s, const char *name, char *err, size_t errlen)
{
	if (name) {
		const struct smelt_plugin *p = s->host->plugin_find(s->hctx, name);
		if (!p)
			fail(err, errlen, SMELT_ERR_CONFIG, "source '%s' is not a plugin of the project (name a loader, e.g. target-sqlite)",
			     name);
		return p;
	}
	const struct smelt_plugin *list[64];
	size_t n = s->host->plugin_list(s->hctx, SMELT_PT_LOADER, list, 64);
	for (size_t i = 0; i < n && i < 64; i++) {
		const char *nm = attr(s, list[i], "name");
		if (strstr(nm, "sqlite") || strstr(nm, "duckdb") || strstr(nm, "postgres"))
			return list[i];
	}
	fail(err, errlen, SMELT_ERR_CONFIG,
	     "no loader with a SQLite, DuckDB or PostgreSQL warehouse: set the soda plugin's 'source' setting");
	return NULL;
}

/* ---- contracts ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_contract(const char *name)
{
	return name[0] != '.' && (ends_with(name, ".yml") || ends_with(name, ".yaml"));
}

/* The contract files (absolute, malloc'ed) into files[], their count in *n. */
static int list_contracts(struct soda *s, const char *dir_setting, const char *const *names, size_t nnames,
                          char **files, size_t *n, char *err, size_t errlen)
{
	char *dir = abs_path(s, dir_setting);
	int rc = SMELT_OK;
	*n = 0;
	if (!dir)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < nnames && i < SODA_MAX_FILES && !rc; i++) {
		const char *nm = names[i];
		char *found = NULL;
		static const char *const exts[] = { "", ".yml", ".yaml", NULL };
		for (int k = 0; exts[k] && !found; k++) {
			char *path = strchr(nm, '/') ? (k ? NULL : abs_path(s, nm)) : fmt_alloc("%s/%s%s", dir, nm, exts[k]);
			if (path && is_file(path))
				found = path;
			else
				free(path);
		}
		if (!found)
			rc = fail(err, errlen, SMELT_ERR_NOTFOUND, "no contract '%s' in %s/ (looked for %s.yml and %s.yaml)", nm,
			          dir_setting, nm, nm);
		else
			files[(*n)++] = found;
	}
	if (!nnames) {
		DIR *d = opendir(dir);
		struct dirent *e;
		if (!d)
			rc = fail(err, errlen, SMELT_ERR_NOTFOUND,
			          "no contracts folder '%s/': write Soda contracts there (see the soda adapter's README)", dir_setting);
		while (d && (e = readdir(d)) && *n < SODA_MAX_FILES) {
			char *path = is_contract(e->d_name) ? fmt_alloc("%s/%s", dir, e->d_name) : NULL;
			if (path && is_file(path))
				files[(*n)++] = path;
			else
				free(path);
		}
		if (d)
			closedir(d);
		if (!rc && !*n)
			rc = fail(err, errlen, SMELT_ERR_NOTFOUND, "no contracts in '%s/' (.yml or .yaml files)", dir_setting);
		qsort(files, *n, sizeof *files, cmp_str);
	}
	free(dir);
	return rc;
}

/* ---- report --------------------------------------------------------------------- */

/* A line of the text report: stdout for invoke, the log inside smelt run. */
static void say(struct soda *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct soda *s, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (s->in_run)
		LOG(s, SMELT_LOG_INFO, "%s", line);
	else
		printf("%s\n", line);
}

static void emit(struct soda *s, enum smelt_event_kind kind, const char *item, const char *status, int64_t count,
                 const char *message, const char *detail)
{
	struct smelt_event ev = { .struct_size = sizeof ev, .kind = kind, .item = item, .status = status,
		                  .count = count, .seconds = -1, .message = message, .detail_json = detail };
	s->host->event(s->hctx, &ev);
}

struct tally {
	int checks, failed, errors;
	char first_failure[1024];
	char first_error[768];
};

/* The stem of a contract file (orders for quality/soda/orders.yml) in buf. */
static const char *stem_of(const char *file, char *buf, size_t cap)
{
	const char *b = strrchr(file, '/');
	snprintf(buf, cap, "%s", b ? b + 1 : file);
	char *dot = strrchr(buf, '.');
	if (dot && dot != buf)
		*dot = '\0';
	return buf;
}

static void report(struct soda *s, const cJSON *res, int json_out, struct tally *t)
{
	memset(t, 0, sizeof *t);
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(res, "contracts"))
	{
		char stem[256];
		const char *file = json_str(c, "file"), *error = json_str(c, "error");
		const char *name = stem_of(file ? file : "?", stem, sizeof stem);
		if (error) {
			t->errors++;
			if (!t->first_error[0])
				snprintf(t->first_error, sizeof t->first_error, "contract '%s': %s", name, error);
			emit(s, SMELT_EV_RESULT, name, "error", -1, error, NULL);
			if (!json_out)
				say(s, "Contract %s (%s): ERROR %s", name, file ? shown_path(s, file) : "?", error);
			continue;
		}
		const cJSON *checks = cJSON_GetObjectItemCaseSensitive(c, "checks"), *k;
		int total = cJSON_GetArraySize(checks), ok = 0;
		cJSON_ArrayForEach(k, checks)
		ok += !strcmp(json_str(k, "outcome") ? json_str(k, "outcome") : "", "passed");
		if (!json_out)
			say(s, "Contract %s (%s, dataset %s): %d of %d checks passed", name, file ? shown_path(s, file) : "?",
			    json_str(c, "dataset") ? json_str(c, "dataset") : "?", ok, total);
		cJSON_ArrayForEach(k, checks)
		{
			const char *check = json_str(k, "name"), *outcome = json_str(k, "outcome"), *obs = json_str(k, "observed");
			const char *col = json_str(k, "column");
			int pass = outcome && !strcmp(outcome, "passed");
			int failed = outcome && !strcmp(outcome, "failed");
			char item[600];
			(void)col; /* in detail_json */
			snprintf(item, sizeof item, "%s: %s", name, check ? check : "?");
			char *detail = cJSON_PrintUnformatted(k);
			emit(s, SMELT_EV_RESULT, item, pass ? "pass" : failed ? "fail" : outcome ? outcome : "?", -1, obs, detail);
			free(detail);
			t->checks++;
			if (failed) {
				t->failed++;
				if (!t->first_failure[0])
					snprintf(t->first_failure, sizeof t->first_failure, "%s%s%s%s", item, obs ? " (" : "",
					         obs ? obs : "", obs ? ")" : "");
			}
			if (!json_out)
				say(s, "  %-5s %s%s%s", pass ? "pass" : failed ? "FAIL" : outcome ? outcome : "?", item,
				    obs && !pass ? ": " : "", obs && !pass ? obs : "");
		}
		char msg[128];
		snprintf(msg, sizeof msg, "%d of %d checks passed", ok, total);
		emit(s, SMELT_EV_SUMMARY, name, ok == total ? "passed" : "failed", -1, msg, NULL);
	}
	if (json_out)
		return;
	if (t->errors)
		say(s, "Verification error: %d contract%s could not be verified", t->errors, t->errors == 1 ? "" : "s");
	else if (t->failed)
		say(s, "Verification failed: %d of %d checks failed", t->failed, t->checks);
	else
		say(s, "Verification passed: all %d checks passed", t->checks);
	fflush(stdout);
}

/* ---- verify --------------------------------------------------------------------- */

static void set_quiet_env(struct soda *s, struct smelt_env *env)
{
	/* no phone-home (Soda's telemetry would retry a network call), output as it comes */
	s->host->env_set(env, "SODA_CORE_TELEMETRY_ENABLED", "false");
	s->host->env_set(env, "DO_NOT_TRACK", "1");
	s->host->env_set(env, "PYTHONUNBUFFERED", "1");
}

/* The venv's python of p (caller frees); NULL with err when not installed. */
static char *venv_python(struct soda *s, const struct smelt_plugin *p, char *err, size_t errlen)
{
	const char *venv = s->host->plugin_path(s->hctx, p, SMELT_PPATH_VENV);
	char *py = venv ? fmt_alloc("%s/bin/python", venv) : NULL;
	if (!py || access(py, X_OK) != 0) {
		fail(err, errlen, SMELT_ERR_CONFIG, "plugin '%s' is not installed: run 'smelt install %s'", attr(s, p, "name"),
		     attr(s, p, "name"));
		free(py);
		return NULL;
	}
	return py;
}

/* Runs python soda_runner.py ARGS with env; stdout into out (when given); *code its exit code. */
static int run_runner(struct soda *s, const struct smelt_plugin *p, const char **args, size_t nargs,
                      struct smelt_env *env, struct collect *out, int *code, char *err, size_t errlen)
{
	const char *dir = s->host->path(s->hctx, SMELT_PATH_ADAPTER_DATA);
	char *runner = dir ? fmt_alloc("%s/%s", dir, SODA_RUNNER) : NULL;
	char *py = venv_python(s, p, err, errlen);
	const char **argv = calloc(nargs + 3, sizeof *argv);
	int rc = SMELT_OK;
	if (!py)
		rc = SMELT_ERR_CONFIG;
	else if (!runner || !is_file(runner))
		rc = fail(err, errlen, SMELT_ERR, "the soda runner '%s' is missing: reinstall the soda adapter",
		          runner ? runner : SODA_RUNNER);
	else if (!argv)
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!rc) {
		argv[0] = py;
		argv[1] = runner;
		for (size_t i = 0; i < nargs; i++)
			argv[2 + i] = args[i];
		set_quiet_env(s, env);
		struct smelt_spawn spec = { .struct_size = sizeof spec, .label = attr(s, p, "name"), .argv = argv,
			                    .env = env, .cwd = root_dir(s),
			                    .flags = SMELT_SPAWN_STDIN_NULL | (out ? SMELT_SPAWN_QUIET : 0),
			                    .on_line = out ? collect_line : NULL, .arg = out };
		struct smelt_exit ex = { .struct_size = sizeof ex };
		rc = s->host->run(s->hctx, &spec, &ex, err, errlen);
		if (!rc && ex.not_started)
			rc = fail(err, errlen, SMELT_ERR, "cannot run '%s'", py);
		else if (!rc)
			*code = ex.exited ? ex.exit_code : 128 + ex.term_signal;
	}
	free(argv);
	free(py);
	free(runner);
	return rc;
}

static int soda_verify(struct soda *s, const struct smelt_plugin *p, const char *const *names, size_t nnames,
                       int json_out, int *code, char *err, size_t errlen)
{
	char *files[SODA_MAX_FILES];
	size_t nfiles = 0;
	struct collect out = { 0 };
	struct smelt_env *env = NULL;
	cJSON *res = NULL;
	cJSON *st = settings_of(s, p, err, errlen);
	if (!st)
		return SMELT_ERR_CONFIG;
	const char *dir = json_str(st, "contracts_dir") ? json_str(st, "contracts_dir") : SODA_DEFAULT_DIR;
	int rc = list_contracts(s, dir, names, nnames, files, &nfiles, err, errlen);
	const struct smelt_plugin *src = rc ? NULL : find_source(s, json_str(st, "source"), err, errlen);
	if (!rc && !src)
		rc = SMELT_ERR_CONFIG;
	if (!rc && !(env = s->host->env_new(s->hctx, p)))
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = source_env(s, src, env, err, errlen);
	int vcode = 0;
	if (!rc) {
		const char *args[SODA_MAX_FILES + 1];
		args[0] = "verify";
		for (size_t i = 0; i < nfiles; i++)
			args[i + 1] = files[i];
		rc = run_runner(s, p, args, nfiles + 1, env, &out, &vcode, err, errlen);
	}
	if (!rc) {
		/* the result is the last line of stdout */
		char *last = out.buf ? out.buf : NULL;
		for (char *c = out.buf; c && *c; c++)
			if (c[0] == '\n' && c[1])
				last = c + 1;
		res = last ? cJSON_Parse(last) : NULL;
		if (!res) {
			rc = fail(err, errlen, SMELT_ERR_FAILED, "soda:verify: the soda runner exited with code %d without a result "
			          "(see its log lines)", vcode);
			*code = 2;
		}
	}
	if (res) {
		struct tally t;
		report(s, res, json_out, &t);
		if (json_out) {
			char *pretty = cJSON_Print(res);
			if (pretty)
				printf("%s\n", pretty);
			free(pretty);
			fflush(stdout);
		}
		*code = t.errors ? 2 : t.failed ? 1 : vcode ? 2 : 0;
		if (t.errors)
			rc = fail(err, errlen, SMELT_ERR_FAILED, "soda:verify: %s", t.first_error);
		else if (t.failed)
			rc = fail(err, errlen, SMELT_ERR_FAILED, "soda:verify: %d of %d checks failed, first: %s", t.failed,
			          t.checks, t.first_failure);
		else if (vcode)
			rc = fail(err, errlen, SMELT_ERR_FAILED, "soda:verify: the soda runner exited with code %d", vcode);
	}
	cJSON_Delete(res);
	free(out.buf);
	if (env)
		s->host->env_free(env);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	cJSON_Delete(st);
	return rc;
}

/* soda:verify with the invoke's arguments (and a project command's args first). */
static int soda_command(struct soda *s, const struct smelt_request *req, int *code, char *err, size_t errlen)
{
	const struct smelt_plugin *p = req->plugins[0];
	const char *cmd = req->command ? req->command : "";
	if (strcmp(cmd, "verify")) {
		*code = 2;
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "plugin '%s' has no command '%s' (commands: verify)",
		            attr(s, p, "name"), cmd);
	}
	const char **names = calloc(req->nargs + 1, sizeof *names);
	size_t n = 0;
	int json_out = (req->flags & SMELT_RQ_JSON) != 0;
	if (!names)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	int rc = SMELT_OK;
	for (size_t i = 0; i < req->nargs && !rc; i++) {
		const char *a = req->args[i];
		if (!strcmp(a, "--format") && i + 1 < req->nargs && !strcmp(req->args[i + 1], "json")) {
			json_out = 1;
			i++;
		} else if (!strcmp(a, "--format=json")) {
			json_out = 1;
		} else if (a[0] == '-') {
			*code = 2;
			rc = fail(err, errlen, SMELT_ERR_CONFIG,
			          "soda:verify: unknown option '%s' (usage: soda:verify [CONTRACT...] [--format json])", a);
		} else {
			names[n++] = a;
		}
	}
	if (!rc)
		rc = soda_verify(s, p, names, n, json_out, code, err, errlen);
	free(names);
	return rc;
}

static int soda_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct soda *s = state;
	const struct smelt_plugin *p = req->plugins[0];
	*exit_code = 0;
	if (req->kind == SMELT_REQ_DUMP) {
		if (strcmp(req->dump, "config"))
			return fail(err, errlen, SMELT_ERR_CONFIG, "'%s' has no %s", attr(s, p, "name"), req->dump);
		char *json = NULL;
		int rc = s->host->config_json(s->hctx, p, SMELT_CFG_REDACT, &json, err, errlen);
		if (!rc) {
			printf("%s\n", json);
			s->host->free(json);
		}
		return rc;
	}
	if (!req->command) {
		printf("Soda Core 4.x data contracts through Smelt's runner. Commands:\n"
		       "  smelt invoke %s:verify [CONTRACT...] [--format json]\n"
		       "      verify the contracts of quality/soda/ (all, or the named ones)\n"
		       "  smelt run ... %s:verify\n"
		       "      the same as a block of a run: the run fails when a check fails\n",
		       attr(s, p, "name"), attr(s, p, "name"));
		return SMELT_OK;
	}
	int code = 0;
	int rc = soda_command(s, req, &code, err, errlen);
	if (rc == SMELT_ERR_FAILED || rc == SMELT_ERR_CONFIG || rc == SMELT_ERR_NOTFOUND) {
		/* Soda ran and said why, or a contract/option cannot be used: the verdict is the exit code */
		LOG(s, rc == SMELT_ERR_FAILED && code == 1 ? SMELT_LOG_WARN : SMELT_LOG_ERROR, "%s", err);
		*exit_code = code ? code : (rc == SMELT_ERR_FAILED ? 1 : 2);
		return SMELT_OK;
	}
	*exit_code = code;
	return rc;
}

static int soda_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct soda *s = state;
	if (req->kind != SMELT_REQ_COMMAND)
		return fail(err, errlen, SMELT_ERR_CONFIG, "'%s' is a utility: use it as '%s:verify' in a run",
		            attr(s, req->plugins[0], "name"), attr(s, req->plugins[0], "name"));
	int code = 0;
	s->in_run = 1;
	int rc = soda_command(s, req, &code, err, errlen);
	s->in_run = 0;
	return rc;
}

/* After install: import Soda once (checks the install). */
static int soda_post_install(void *state, const struct smelt_plugin *p, char *err, size_t errlen)
{
	struct soda *s = state;
	struct smelt_env *env = s->host->env_new(s->hctx, p);
	if (!env)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	const char *args[] = { "check" };
	int code = 0;
	int rc = run_runner(s, p, args, 1, env, NULL, &code, err, errlen);
	s->host->env_free(env);
	if (!rc && code)
		rc = fail(err, errlen, SMELT_ERR_FAILED, "soda_core does not import in the venv of '%s' (see the log above)",
		          attr(s, p, "name"));
	return rc;
}

static int soda_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct soda *s = calloc(1, sizeof *s);
	if (!s)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	s->host = host;
	s->hctx = hctx;
	*state = s;
	return SMELT_OK;
}

static void soda_destroy(void *state)
{
	free(state);
}

static const char *const soda_namespaces[] = { "soda", NULL };

static const struct smelt_command soda_commands[] = {
	{ "verify", "Verify the Soda contracts of quality/soda/ (all, or those named) and report each check" },
	{ NULL, NULL },
};

static const struct smelt_adapter soda_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.command_size = sizeof(struct smelt_command),
	.name = "soda",
	.version = "0.1.0",
	.description = "Soda Core 4.x data contracts (built out of tree)",
	.category = SMELT_CAT_QUALITY,
	.plugin_types = 0,
	.namespaces = soda_namespaces,
	.commands = soda_commands,
	.init = soda_init,
	.destroy = soda_destroy,
	.invoke = soda_invoke,
	.run_block = soda_run_block,
	.post_install = soda_post_install,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &soda_adapter;
}
