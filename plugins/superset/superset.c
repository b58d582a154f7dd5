/*
 * The superset adapter: Apache Superset, with the project's warehouse
 * registered as a Superset database and its tables and dbt models as
 * datasets.
 *
 * Every command materialises the same things first (superset_prepare):
 *   - the secret key: the `secret_key` setting, or, when it is unset, a
 *     new random key appended once to the project's .env as
 *     SUPERSET_SECRET_KEY='...' (the setting's env name; mode 0600); it
 *     reaches Superset through the environment (SUPERSET_SECRET_KEY), never
 *     through a file or a log line;
 *   - the warehouses: the SQLite / DuckDB / PostgreSQL databases the
 *     project's loaders and transformers write to (target-sqlite's
 *     `database`, dbt-sqlite's, target-duckdb's `filepath`, postgres
 *     host/port/user/password/database), plus the `databases` setting;
 *   - a generated superset_config.py under .smelt/run/<plugin>/ (private,
 *     removed when the command ends): the metadata database (SQLite under
 *     .smelt/ unless `sqlalchemy_database_uri` says otherwise),
 *     PREVENT_UNSAFE_DB_CONNECTIONS = False only when a warehouse is
 *     SQLite, and the `config` setting's keys.
 *
 * Commands: `initialize` (metadata migrations, roles, the admin user of
 * the settings), `sync` (databases and datasets, idempotent; also the
 * adapter's sync op and a command block of smelt run), `ui` (gunicorn on
 * ui.host:ui.port, 127.0.0.1:8088 by default), and anything else is passed
 * to the `superset` CLI.  initialize and sync run superset_helper.py (this
 * adapter's data folder) in the plugin's venv, inside Superset's own app
 * context; it reports each object as a line "@smelt {json}", which become
 * run events.
 */
#include "kit.h"

#include <smelt/sdk.h>

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUPERSET_HELPER "superset_helper.py"
#define SUPERSET_MARKER ".smelt-initialized" /* in the install dir: the metadata DB this venv migrated */
#define SUPERSET_KEY_BYTES 42

struct superset {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;
	unsigned seq;                      /* makes generated file names unique within a command */
};

/* One command's materialised state; superset_release() frees it. */
struct ss_ctx {
	struct superset *s;
	const struct smelt_plugin *p;
	const char *name;        /* the plugin's name (borrowed) */
	const char *install_dir; /* .smelt/<type>/<name> (borrowed) */
	const char *run_dir;     /* .smelt/run/<name> (borrowed) */
	const char *venv;        /* (borrowed) */
	cJSON *cfg;              /* the plugin's settings, flat */
	cJSON *warehouses;       /* [{name, uri, extra, schemas, source}] */
	char *metadata_uri;
	char *config_path;       /* the generated superset_config.py */
	struct smelt_env *env;
	int has_sqlite;          /* a warehouse is SQLite: the config allows it */
};

#define LOG(s, lvl, ...) (s)->host->log((s)->hctx, (lvl), __VA_ARGS__)

static const char *const superset_namespaces[] = { "superset", NULL };

static const struct smelt_command superset_commands[] = {
	{ "initialize", "Migrate the metadata database, create the roles and the admin user of the settings" },
	{ "sync", "Register the project's warehouse as a database and its tables and models as datasets" },
	{ "ui", "Start the Superset web server on ui.host:ui.port (127.0.0.1:8088 by default)" },
	{ NULL, NULL },
};


/* ---- small strings ------------------------------------------------------ */

struct sbuf {
	char *buf;
	size_t len, cap;
	int oom; /* an allocation failed: buf holds what fit */
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap + n + 1) * 2;
		char *nb = realloc(b->buf, cap);
		if (!nb) {
			b->oom = 1;
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_fmt(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		sb_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_add(b, big, (size_t)n);
	free(big);
}

/* A Python string literal ('...') of s: quotes, backslashes and control characters escaped. */
static void sb_pystr(struct sbuf *b, const char *s)
{
	sb_str(b, "'");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '\\' || *c == '\'')
			sb_fmt(b, "\\%c", *c);
		else if (*c == '\n')
			sb_str(b, "\\n");
		else if (*c < 0x20 || *c == 0x7f)
			sb_fmt(b, "\\x%02x", *c);
		else
			sb_add(b, (const char *)c, 1);
	}
	sb_str(b, "'");
}

/* Percent-encode the userinfo / path parts of a URL. */
static void sb_urlpart(struct sbuf *b, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (isalnum(*c) || *c == '-' || *c == '.' || *c == '_' || *c == '~')
			sb_add(b, (const char *)c, 1);
		else
			sb_fmt(b, "%%%02X", *c);
	}
}


/* ---- settings ----------------------------------------------------------- */

static const cJSON *cfg_get(const struct ss_ctx *c, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(c->cfg, key);
}

/* A string setting, NULL when unset or empty.  Borrowed from c->cfg. */
static const char *cfg_str(const struct ss_ctx *c, const char *key)
{
	const char *v = cJSON_GetStringValue(cfg_get(c, key));
	return v && *v ? v : NULL;
}

static long cfg_int(const struct ss_ctx *c, const char *key, long def)
{
	const cJSON *v = cfg_get(c, key);
	if (cJSON_IsNumber(v))
		return (long)v->valuedouble;
	if (cJSON_IsString(v) && *v->valuestring) {
		char *end;
		long n = strtol(v->valuestring, &end, 10);
		if (!*end)
			return n;
	}
	return def;
}

/* A string from a plugin's flat config: the first of keys that is set. */
static const char *conf_first(const cJSON *conf, const char *const *keys)
{
	for (; *keys; keys++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, *keys);
		if (cJSON_IsString(v) && *v->valuestring)
			return v->valuestring;
	}
	return NULL;
}

/* The settings env-var name of setting `name` of plugin `plugin` (host/src/settings: settings_env_name). */
static char *env_name(const char *plugin, const char *name)
{
	size_t n = strlen(plugin) + strlen(name) + 2;
	char *out = malloc(n);
	if (!out)
		return NULL;
	snprintf(out, n, "%s_%s", plugin, name);
	for (char *c = out; *c; c++)
		*c = isalnum((unsigned char)*c) ? (char)toupper((unsigned char)*c) : '_';
	return out;
}

/* ---- the secret key ----------------------------------------------------- */

static void base64(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Append "NAME='value'\n" to the project's .env (created 0600; the rest is kept). */
static int dotenv_append(struct superset *s, const char *name, const char *value, char *err, size_t errlen)
{
	const char *root = s->host->path(s->hctx, SMELT_PATH_PROJECT_ROOT);
	char path[4096];
	snprintf(path, sizeof path, "%s/.env", root);
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return kit_fail(err, errlen, SMELT_ERR, "cannot open '%s': %s", path, strerror(errno));
	struct stat st;
	int need_nl = 0;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		char last = '\n';
		if (pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
			need_nl = 1;
	}
	if (fchmod(fd, 0600) != 0)
		LOG(s, SMELT_LOG_WARN, "cannot make '%s' private: %s", path, strerror(errno));
	struct sbuf line = { 0 };
	sb_fmt(&line, "%s%s='%s'\n", need_nl ? "\n" : "", name, value);
	int rc = SMELT_OK;
	if (line.oom)
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	else if (write(fd, line.buf, line.len) != (ssize_t)line.len)
		rc = kit_fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", path, strerror(errno));
	if (close(fd) != 0 && rc == SMELT_OK)
		rc = kit_fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", path, strerror(errno));
	if (line.buf) {
		memset(line.buf, 0, line.len);
		free(line.buf);
	}
	return rc;
}

/*
 * The secret key in *key (caller frees): the `secret_key` setting, or a
 * new random key saved to .env when it is unset.  Never logged.
 */
static int superset_secret(struct superset *s, const struct smelt_plugin *p, char **key, char *err, size_t errlen)
{
	char *json = NULL;
	*key = NULL;
	int rc = s->host->setting(s->hctx, p, "secret_key", &json, NULL, err, errlen);
	if (rc)
		return rc;
	if (json) {
		cJSON *v = cJSON_Parse(json);
		const char *str = cJSON_GetStringValue(v);
		if (str && *str)
			*key = strdup(str);
		cJSON_Delete(v);
		memset(json, 0, strlen(json));
		s->host->free(json);
		if (*key)
			return SMELT_OK;
	}
	unsigned char raw[SUPERSET_KEY_BYTES];
	char text[SUPERSET_KEY_BYTES / 3 * 4 + 8];
	size_t got = 0;
	while (got < sizeof raw) {
		ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
		if (n < 0 && errno != EINTR)
			return kit_fail(err, errlen, SMELT_ERR, "cannot generate a secret key: %s", strerror(errno));
		if (n > 0)
			got += (size_t)n;
	}
	base64(raw, sizeof raw, text);
	memset(raw, 0, sizeof raw);
	const char *name = s->host->plugin_attr(s->hctx, p, "name");
	char *var = env_name(name, "secret_key");
	if (!var)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	rc = dotenv_append(s, var, text, err, errlen);
	if (rc == SMELT_OK) {
		LOG(s, SMELT_LOG_INFO, "generated a secret key for '%s' and saved it to .env as %s", name, var);
		*key = strdup(text);
		if (!*key)
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	memset(text, 0, sizeof text);
	free(var);
	return rc;
}

/* ---- warehouses --------------------------------------------------------- */

enum wh_kind { WH_NONE, WH_SQLITE, WH_DUCKDB, WH_POSTGRES };

static int contains_ci(const char *hay, const char *needle)
{
	if (!hay)
		return 0;
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return 1;
	return 0;
}

static enum wh_kind wh_kind_of(const char *name, const char *ns, const char *url)
{
	if (url) {
		if (!strncmp(url, "sqlite", 6))
			return WH_SQLITE;
		if (!strncmp(url, "duckdb", 6))
			return WH_DUCKDB;
		if (!strncmp(url, "postgres", 8))
			return WH_POSTGRES;
	}
	if (contains_ci(name, "sqlite") || contains_ci(ns, "sqlite"))
		return WH_SQLITE;
	if (contains_ci(name, "duckdb") || contains_ci(ns, "duckdb"))
		return WH_DUCKDB;
	if (contains_ci(name, "postgres") || contains_ci(ns, "postgres"))
		return WH_POSTGRES;
	return WH_NONE;
}

/* An absolute path of a database file: relative ones are under the project root; caller frees. */
static char *abs_file(struct ss_ctx *c, const char *file, int try_db_suffix)
{
	struct sbuf b = { 0 };
	if (file[0] == '/')
		sb_str(&b, file);
	else
		sb_fmt(&b, "%s/%s", c->s->host->path(c->s->hctx, SMELT_PATH_PROJECT_ROOT), file);
	if (b.oom) {
		free(b.buf);
		return NULL;
	}
	/* Meltano's target-sqlite appends ".db" to a `database` without an extension. */
	const char *base = strrchr(b.buf, '/');
	if (try_db_suffix && access(b.buf, F_OK) != 0 && !strchr(base ? base : b.buf, '.')) {
		sb_str(&b, ".db");
		if (access(b.buf, F_OK) != 0)
			b.buf[b.len - 3] = '\0';
	}
	char *real = realpath(b.buf, NULL);
	if (real) {
		free(b.buf);
		return real;
	}
	return b.buf;
}

/* The stem of a file path ("/a/b/warehouse.db" -> "warehouse"); caller frees. */
static char *file_stem(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *stem = strdup(base);
	char *dot = stem ? strrchr(stem, '.') : NULL;
	if (dot && dot != stem)
		*dot = '\0';
	return stem;
}

/* Add a warehouse unless its URI is already known (the first one keeps its name). */
static int wh_add(struct ss_ctx *c, const char *want_name, const char *uri, cJSON *extra, const cJSON *schemas,
                  const char *source, int is_sqlite)
{
	const cJSON *w;
	cJSON_ArrayForEach(w, c->warehouses)
	{
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "uri")), uri)) {
			cJSON_Delete(extra);
			return SMELT_OK;
		}
	}
	/* Names are unique: a second warehouse with a taken name gets "-2", "-3"... */
	char name[256];
	snprintf(name, sizeof name, "%s", want_name && *want_name ? want_name : "warehouse");
	for (int k = 2;; k++) {
		int taken = 0;
		cJSON_ArrayForEach(w, c->warehouses)
		{
			if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "name")), name))
				taken = 1;
		}
		if (!taken)
			break;
		snprintf(name, sizeof name, "%s-%d", want_name && *want_name ? want_name : "warehouse", k);
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "name", name) || !cJSON_AddStringToObject(o, "uri", uri) ||
	    !cJSON_AddItemToObject(o, "extra", extra ? extra : cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(o, "source", source) ||
	    (schemas && !cJSON_AddItemToObject(o, "schemas", cJSON_Duplicate(schemas, 1)))) {
		cJSON_Delete(o);
		return SMELT_ERR_NOMEM;
	}
	cJSON_AddItemToArray(c->warehouses, o);
	if (is_sqlite)
		c->has_sqlite = 1;
	return SMELT_OK;
}

/* The warehouse one loader or transformer writes to, if it is one we know. */
static int wh_from_plugin(struct ss_ctx *c, const struct smelt_plugin *p, char *err, size_t errlen)
{
	struct superset *s = c->s;
	const char *name = s->host->plugin_attr(s->hctx, p, "name");
	const char *ns = s->host->plugin_attr(s->hctx, p, "namespace");
	char *json = NULL;
	int rc = s->host->config_json(s->hctx, p, SMELT_CFG_FLAT, &json, err, errlen);
	if (rc) {
		LOG(s, SMELT_LOG_WARN, "cannot read the settings of '%s': %s", name, err);
		err[0] = '\0';
		return SMELT_OK;
	}
	cJSON *conf = cJSON_Parse(json);
	s->host->free(json);
	static const char *const url_keys[] = { "sqlalchemy_url", NULL };
	const char *url = conf_first(conf, url_keys);
	enum wh_kind kind = wh_kind_of(name, ns, url);
	char source[512];
	snprintf(source, sizeof source, "written by %s", name);
	struct sbuf uri = { 0 };
	char *want = NULL;
	cJSON *extra = NULL;
	rc = SMELT_OK;
	if (kind == WH_NONE)
		goto out;
	if (url) {
		sb_str(&uri, url);
		want = strdup(kind == WH_POSTGRES ? "postgres" : "warehouse");
	} else if (kind == WH_SQLITE || kind == WH_DUCKDB) {
		static const char *const sqlite_keys[] = { "database", "path", "filepath", "db_path", NULL };
		static const char *const duckdb_keys[] = { "filepath", "path", "database", NULL };
		const char *file = conf_first(conf, kind == WH_SQLITE ? sqlite_keys : duckdb_keys);
		if (!file || !strcmp(file, ":memory:"))
			goto out;
		char *abs = abs_file(c, file, kind == WH_SQLITE);
		if (!abs) {
			rc = SMELT_ERR_NOMEM;
			goto out;
		}
		if (access(abs, F_OK) != 0) {
			LOG(s, SMELT_LOG_INFO, "%s: '%s' does not exist yet: not registered", name, abs);
			free(abs);
			goto out;
		}
		sb_fmt(&uri, "%s:///%s", kind == WH_SQLITE ? "sqlite" : "duckdb", abs);
		want = file_stem(abs);
		free(abs);
		if (kind == WH_DUCKDB) /* never hold the writer lock the loaders and dbt need */
			extra = cJSON_Parse("{\"engine_params\": {\"connect_args\": {\"read_only\": true}}}");
	} else {
		static const char *const host_keys[] = { "host", "hostname", NULL };
		static const char *const user_keys[] = { "user", "username", NULL };
		static const char *const pass_keys[] = { "password", "pass", NULL };
		static const char *const db_keys[] = { "database", "dbname", NULL };
		const char *host = conf_first(conf, host_keys), *user = conf_first(conf, user_keys);
		const char *pass = conf_first(conf, pass_keys), *db = conf_first(conf, db_keys);
		if (!host && !db)
			goto out;
		const cJSON *port = cJSON_GetObjectItemCaseSensitive(conf, "port");
		sb_str(&uri, "postgresql+psycopg2://");
		if (user) {
			sb_urlpart(&uri, user);
			if (pass) {
				sb_str(&uri, ":");
				sb_urlpart(&uri, pass);
			}
			sb_str(&uri, "@");
		}
		sb_str(&uri, host ? host : "localhost");
		if (cJSON_IsNumber(port))
			sb_fmt(&uri, ":%d", (int)port->valuedouble);
		else if (cJSON_IsString(port) && *port->valuestring)
			sb_fmt(&uri, ":%s", port->valuestring);
		sb_str(&uri, "/");
		sb_urlpart(&uri, db ? db : "postgres");
		want = strdup(db ? db : "postgres");
	}
	if (uri.oom || !want)
		rc = SMELT_ERR_NOMEM;
	else {
		rc = wh_add(c, want, uri.buf, extra, NULL, source, kind == WH_SQLITE);
		extra = NULL;
	}
out:
	cJSON_Delete(extra);
	free(want);
	if (uri.buf) {
		memset(uri.buf, 0, uri.len);
		free(uri.buf);
	}
	cJSON_Delete(conf);
	if (rc == SMELT_ERR_NOMEM)
		return kit_fail(err, errlen, rc, "out of memory");
	return rc;
}

/* Every warehouse: the `databases` setting first, then the loaders' and transformers'. */
static int wh_discover(struct ss_ctx *c, char *err, size_t errlen)
{
	struct superset *s = c->s;
	int rc;
	c->warehouses = cJSON_CreateArray();
	if (!c->warehouses)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	const cJSON *list = cfg_get(c, "databases"), *d;
	if (!cJSON_IsArray(list))
		list = NULL;
	cJSON_ArrayForEach(d, list)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "name"));
		const char *uri = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "sqlalchemy_uri"));
		if (!uri)
			uri = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "uri"));
		if (!name || !uri)
			return kit_fail(err, errlen, SMELT_ERR_CONFIG,
			            "setting 'databases' of '%s': every entry needs 'name' and 'sqlalchemy_uri'", c->name);
		const cJSON *extra = cJSON_GetObjectItemCaseSensitive(d, "extra");
		const cJSON *schemas = cJSON_GetObjectItemCaseSensitive(d, "schemas");
		if ((rc = wh_add(c, name, uri, cJSON_IsObject(extra) ? cJSON_Duplicate(extra, 1) : NULL,
		                 cJSON_IsArray(schemas) ? schemas : NULL, "setting 'databases'", !strncmp(uri, "sqlite", 6))))
			return kit_fail(err, errlen, rc, "out of memory");
	}
	const struct smelt_plugin *plugins[64];
	size_t n = s->host->plugin_list(s->hctx, SMELT_PT_LOADER | SMELT_PT_TRANSFORMER, plugins, 64);
	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++)
		if ((rc = wh_from_plugin(c, plugins[i], err, errlen)))
			return rc;
	return SMELT_OK;
}

/* ---- the generated config and environment ------------------------------- */

static int superset_write_config(struct ss_ctx *c, char *err, size_t errlen)
{
	struct superset *s = c->s;
	struct sbuf b = { 0 };
	sb_fmt(&b, "# Generated by smelt from the settings of plugin '%s' for one command; do not edit.\n", c->name);
	sb_str(&b, "# SECRET_KEY comes from the environment (SUPERSET_SECRET_KEY), never from this file.\n");
	sb_str(&b, "import json as _smelt_json\n\n");
	sb_str(&b, "SQLALCHEMY_DATABASE_URI = ");
	sb_pystr(&b, c->metadata_uri);
	sb_str(&b, "\n");
	if (c->has_sqlite)
		sb_str(&b, "# The project's warehouse is SQLite, which Superset refuses by default.\n"
		           "PREVENT_UNSAFE_DB_CONNECTIONS = False\n");
	const cJSON *extra = cfg_get(c, "config");
	if (cJSON_IsObject(extra) && extra->child) {
		char *text = cJSON_PrintUnformatted(extra);
		if (!text) {
			free(b.buf);
			return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		}
		sb_str(&b, "\n# The `config` setting.\nglobals().update(_smelt_json.loads(");
		sb_pystr(&b, text);
		sb_str(&b, "))\n");
		free(text);
	} else if (extra && !cJSON_IsNull(extra) && !cJSON_IsObject(extra)) {
		free(b.buf);
		return kit_fail(err, errlen, SMELT_ERR_CONFIG, "setting 'config' of '%s' must be an object of Superset settings",
		            c->name);
	}
	char name[64];
	snprintf(name, sizeof name, "superset_config.%d-%u.py", (int)getpid(), ++s->seq);
	struct sbuf path = { 0 };
	sb_fmt(&path, "%s/%s", c->run_dir, name);
	int rc;
	if (b.oom || path.oom)
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	else
		rc = s->host->write_private(s->hctx, path.buf, b.buf, b.len, err, errlen);
	if (b.buf) {
		memset(b.buf, 0, b.len);
		free(b.buf);
	}
	if (rc == SMELT_OK)
		c->config_path = path.buf;
	else
		free(path.buf);
	return rc;
}

static void superset_release(struct ss_ctx *c)
{
	if (c->env)
		c->s->host->env_free(c->env);
	cJSON_Delete(c->cfg);
	cJSON_Delete(c->warehouses);
	free(c->metadata_uri);
	free(c->config_path);
	memset(c, 0, sizeof *c);
}

/* Settings, secret key, warehouses, config file and environment of one command. */
static int superset_prepare(struct superset *s, const struct smelt_plugin *p, struct ss_ctx *c, char *err,
                            size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->s = s;
	c->p = p;
	c->name = s->host->plugin_attr(s->hctx, p, "name");
	c->install_dir = s->host->plugin_path(s->hctx, p, SMELT_PPATH_INSTALL_DIR);
	c->run_dir = s->host->plugin_path(s->hctx, p, SMELT_PPATH_RUN_DIR);
	c->venv = s->host->plugin_path(s->hctx, p, SMELT_PPATH_VENV);
	char *json = NULL, *key = NULL;
	int rc = s->host->config_json(s->hctx, p, SMELT_CFG_FLAT, &json, err, errlen);
	if (rc)
		return rc;
	c->cfg = cJSON_Parse(json);
	memset(json, 0, strlen(json));
	s->host->free(json);
	if (!c->cfg)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!c->venv || !c->install_dir || !c->run_dir)
		return kit_fail(err, errlen, SMELT_ERR_CONFIG, "plugin '%s' has no pip_url: it cannot have a virtualenv", c->name);
	const char *meta = cfg_str(c, "sqlalchemy_database_uri");
	if (meta)
		c->metadata_uri = strdup(meta);
	else {
		struct sbuf b = { 0 };
		sb_fmt(&b, "sqlite:///%s/superset.db?check_same_thread=false", c->install_dir);
		c->metadata_uri = b.buf;
		if (b.oom) {
			free(b.buf);
			c->metadata_uri = NULL;
		}
	}
	if (!c->metadata_uri)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if ((rc = wh_discover(c, err, errlen)) || (rc = superset_write_config(c, err, errlen)) ||
	    (rc = superset_secret(s, p, &key, err, errlen)))
		return rc;
	c->env = s->host->env_new(s->hctx, p);
	if (!c->env) {
		free(key);
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	s->host->env_set(c->env, "SUPERSET_SECRET_KEY", key);
	s->host->env_set(c->env, "SUPERSET_CONFIG_PATH", c->config_path);
	s->host->env_set(c->env, "SUPERSET_HOME", c->install_dir);
	s->host->env_set(c->env, "FLASK_APP", "superset");
	s->host->env_set(c->env, "SCARF_ANALYTICS", "false");
	s->host->env_set(c->env, "DO_NOT_TRACK", "1");
	s->host->env_set(c->env, "PYTHONUNBUFFERED", "1");
	memset(key, 0, strlen(key));
	free(key);
	return SMELT_OK;
}

/* A program of the venv; caller frees.  Fails when the venv was never built. */
static char *venv_program(struct ss_ctx *c, const char *prog, char *err, size_t errlen)
{
	struct sbuf b = { 0 };
	sb_fmt(&b, "%s/bin/%s", c->venv, prog);
	if (b.oom) {
		free(b.buf);
		kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (access(b.buf, X_OK) != 0) {
		kit_fail(err, errlen, SMELT_ERR_NOTFOUND, "'%s' is not installed (no %s): run 'smelt install %s'", c->name, b.buf,
		     c->name);
		free(b.buf);
		return NULL;
	}
	return b.buf;
}

/* ---- the helper: initialize and sync ------------------------------------ */

struct tally {
	struct ss_ctx *c;
	int created, updated, unchanged, errors, databases, datasets;
};

static int helper_line(void *arg, const char *line, size_t len, unsigned long lineno)
{
	struct tally *t = arg;
	struct superset *s = t->c->s;
	(void)lineno;
	if (len < 7 || strncmp(line, "@smelt ", 7)) {
		LOG(s, SMELT_LOG_DEBUG, "%s", line);
		return 0;
	}
	cJSON *v = cJSON_ParseWithLength(line + 7, len - 7);
	const char *item = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "item"));
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "status"));
	if (!item || !status) {
		LOG(s, SMELT_LOG_WARN, "superset helper: unexpected line: %s", line);
		cJSON_Delete(v);
		return 0;
	}
	const cJSON *secs = cJSON_GetObjectItemCaseSensitive(v, "seconds");
	struct smelt_event ev = {
		.struct_size = sizeof ev,
		.kind = SMELT_EV_RESULT,
		.item = item,
		.status = status,
		.count = -1,
		.seconds = cJSON_IsNumber(secs) ? secs->valuedouble : -1,
		.message = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "message")),
	};
	s->host->event(s->hctx, &ev);
	t->created += !strcmp(status, "created");
	t->updated += !strcmp(status, "updated");
	t->unchanged += !strcmp(status, "unchanged");
	t->errors += !strcmp(status, "error");
	t->databases += !strncmp(item, "database ", 9) && strcmp(status, "error");
	t->datasets += !strncmp(item, "dataset ", 8) && strcmp(status, "error");
	cJSON_Delete(v);
	return 0;
}

/* Run superset_helper.py COMMAND with job (its file is private and removed at the end). */
static int run_helper(struct ss_ctx *c, const char *command, const cJSON *job, struct tally *t, char *err,
                      size_t errlen)
{
	struct superset *s = c->s;
	const char *data = s->host->path(s->hctx, SMELT_PATH_ADAPTER_DATA);
	char *python = venv_program(c, "python", err, errlen);
	if (!python)
		return SMELT_ERR_NOTFOUND;
	struct sbuf helper = { 0 }, job_path = { 0 };
	sb_fmt(&helper, "%s/%s", data ? data : ".", SUPERSET_HELPER);
	sb_fmt(&job_path, "%s/%s.%d-%u.job.json", c->run_dir, command, (int)getpid(), ++s->seq);
	char *text = cJSON_PrintUnformatted(job);
	int rc;
	if (helper.oom || job_path.oom || !text) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (access(helper.buf, R_OK) != 0) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOTFOUND, "the adapter's helper '%s' is missing", helper.buf);
		goto out;
	}
	if ((rc = s->host->write_private(s->hctx, job_path.buf, text, strlen(text), err, errlen)))
		goto out;
	const char *argv[] = { python, helper.buf, command, job_path.buf, NULL };
	struct smelt_spawn spec = { .struct_size = sizeof spec, .label = c->name, .argv = argv, .env = c->env,
	                            .flags = SMELT_SPAWN_QUIET | SMELT_SPAWN_STDIN_NULL, .on_line = helper_line,
	                            .arg = t };
	struct smelt_exit ex = { .struct_size = sizeof ex };
	if ((rc = s->host->run(s->hctx, &spec, &ex, err, errlen)))
		goto out;
	if (!ex.exited || ex.exit_code != 0) {
		if (ex.signaled)
			rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "superset %s was killed by signal %d", command, ex.term_signal);
		else if (t->errors)
			rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "superset %s: %d item(s) failed", command, t->errors);
		else
			rc = kit_fail(err, errlen, SMELT_ERR_FAILED,
			          "superset %s exited with code %d (run with --log-level debug for Superset's output)", command,
			          ex.exit_code);
	}
out:
	if (text) {
		memset(text, 0, strlen(text));
		free(text);
	}
	free(python);
	free(helper.buf);
	free(job_path.buf);
	return rc;
}

static char *marker_path(struct ss_ctx *c)
{
	struct sbuf b = { 0 };
	sb_fmt(&b, "%s/%s", c->install_dir, SUPERSET_MARKER);
	if (b.oom) {
		free(b.buf);
		return NULL;
	}
	return b.buf;
}

/* Has this metadata database been initialized by this install? */
static int is_initialized(struct ss_ctx *c)
{
	char *path = marker_path(c), want[32], have[32] = "";
	if (!path)
		return 0;
	snprintf(want, sizeof want, "%016llx", (unsigned long long)kit_fnv1a(KIT_FNV_INIT, c->metadata_uri));
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(have, sizeof have, f))
			have[0] = '\0';
		fclose(f);
	}
	free(path);
	have[strcspn(have, "\n")] = '\0';
	return !strcmp(have, want);
}

static void mark_initialized(struct ss_ctx *c)
{
	/* The default metadata database holds password hashes and encrypted credentials. */
	if (!cfg_str(c, "sqlalchemy_database_uri")) {
		struct sbuf db = { 0 };
		sb_fmt(&db, "%s/superset.db", c->install_dir);
		if (!db.oom && chmod(db.buf, 0600) != 0)
			LOG(c->s, SMELT_LOG_WARN, "cannot make '%s' private: %s", db.buf, strerror(errno));
		free(db.buf);
	}
	char *path = marker_path(c);
	FILE *f = path ? fopen(path, "w") : NULL;
	if (f) {
		fprintf(f, "%016llx\n", (unsigned long long)kit_fnv1a(KIT_FNV_INIT, c->metadata_uri));
		fclose(f);
	}
	free(path);
}

/*
 * initialize: migrations, roles and permissions, the admin user.  explicit:
 * the user asked for it (admin.password is then required); otherwise it is
 * the first use and a missing password only skips the admin user.
 */
static int superset_initialize(struct ss_ctx *c, int explicit, char *err, size_t errlen)
{
	struct superset *s = c->s;
	const char *user = cfg_str(c, "admin.username"), *pass = cfg_str(c, "admin.password");
	cJSON *job = cJSON_CreateObject();
	if (!job)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (pass) {
		cJSON *admin = cJSON_AddObjectToObject(job, "admin");
		const char *email = cfg_str(c, "admin.email");
		if (!admin || !cJSON_AddStringToObject(admin, "username", user ? user : "admin") ||
		    !cJSON_AddStringToObject(admin, "password", pass) ||
		    !cJSON_AddStringToObject(admin, "email", email ? email : "admin@localhost") ||
		    !cJSON_AddStringToObject(admin, "first_name", cfg_str(c, "admin.first_name") ? cfg_str(c, "admin.first_name") : "Superset") ||
		    !cJSON_AddStringToObject(admin, "last_name", cfg_str(c, "admin.last_name") ? cfg_str(c, "admin.last_name") : "Admin")) {
			cJSON_Delete(job);
			return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		}
	} else if (explicit) {
		cJSON_Delete(job);
		return kit_fail(err, errlen, SMELT_ERR_CONFIG,
		            "'%s' has no admin password: set it with 'smelt config %s set admin.password ...' "
		            "(kept in .env), then run 'smelt invoke %s:initialize' again",
		            c->name, c->name, c->name);
	} else {
		LOG(s, SMELT_LOG_WARN, "'%s' has no admin.password setting: no admin user was created", c->name);
	}
	LOG(s, SMELT_LOG_INFO, "initializing Superset's metadata database (the first time takes a few minutes)");
	struct tally t = { .c = c };
	int rc = run_helper(c, "initialize", job, &t, err, errlen);
	cJSON_Delete(job);
	if (rc == SMELT_OK)
		mark_initialized(c);
	return rc;
}

static int superset_sync_all(struct ss_ctx *c, char *err, size_t errlen)
{
	struct superset *s = c->s;
	int rc;
	if (!is_initialized(c) && (rc = superset_initialize(c, 0, err, errlen)))
		return rc;
	if (!cJSON_GetArraySize(c->warehouses)) {
		LOG(s, SMELT_LOG_WARN, "no warehouse found: no loader or transformer writes to SQLite, DuckDB or "
		                       "PostgreSQL, and the 'databases' setting is empty");
		return SMELT_OK;
	}
	cJSON *job = cJSON_CreateObject();
	if (!job || !cJSON_AddItemReferenceToObject(job, "databases", c->warehouses) ||
	    !cJSON_AddStringToObject(job, "owner", cfg_str(c, "admin.username") ? cfg_str(c, "admin.username") : "admin")) {
		cJSON_Delete(job);
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	struct tally t = { .c = c };
	rc = run_helper(c, "sync", job, &t, err, errlen);
	cJSON_Delete(job);
	char line[256];
	snprintf(line, sizeof line, "%d database(s), %d dataset(s): %d created, %d updated, %d unchanged%s",
	         t.databases, t.datasets, t.created, t.updated, t.unchanged, t.errors ? ", with errors" : "");
	struct smelt_event ev = { .struct_size = sizeof ev, .kind = SMELT_EV_SUMMARY, .item = "sync", .count = -1,
	                          .seconds = -1, .message = line };
	s->host->event(s->hctx, &ev);
	return rc;
}

/* ---- running Superset itself -------------------------------------------- */

static int spawn(struct ss_ctx *c, const char *const *argv, unsigned flags, int *exit_code, char *err, size_t errlen)
{
	struct smelt_spawn spec = { .struct_size = sizeof spec, .label = c->name, .argv = argv, .env = c->env,
	                            .flags = flags };
	struct smelt_exit ex = { .struct_size = sizeof ex };
	int rc = c->s->host->run(c->s->hctx, &spec, &ex, err, errlen);
	*exit_code = ex.exited ? ex.exit_code : ex.signaled ? 128 + ex.term_signal : 127;
	return rc;
}


/* The major version of the venv's gunicorn, 0 when unknown. */
static int gunicorn_major(struct ss_ctx *c)
{
	struct sbuf pat = { 0 };
	glob_t g;
	int major = 0;
	sb_fmt(&pat, "%s/lib/python*/site-packages/gunicorn-*.dist-info", c->venv);
	if (!pat.oom && glob(pat.buf, 0, NULL, &g) == 0) {
		const char *v = strrchr(g.gl_pathv[0], '/');
		v = v ? strchr(v, '-') : NULL;
		major = v ? atoi(v + 1) : 0;
		globfree(&g);
	}
	free(pat.buf);
	return major;
}

static int superset_ui(struct ss_ctx *c, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct superset *s = c->s;
	int rc;
	if (!is_initialized(c) && (rc = superset_initialize(c, 0, err, errlen)))
		return rc;
	char *gunicorn = venv_program(c, "gunicorn", err, errlen);
	if (!gunicorn)
		return SMELT_ERR_NOTFOUND;
	const char *host = cfg_str(c, "ui.host") ? cfg_str(c, "ui.host") : "127.0.0.1";
	char bind[300], workers[32], timeout[32];
	snprintf(bind, sizeof bind, strchr(host, ':') ? "[%s]:%ld" : "%s:%ld", host, cfg_int(c, "ui.port", 8088));
	snprintf(workers, sizeof workers, "%ld", cfg_int(c, "ui.workers", 2));
	snprintf(timeout, sizeof timeout, "%ld", cfg_int(c, "ui.timeout", 120));
	const char **argv = calloc(req->nargs + 16, sizeof *argv);
	if (!argv) {
		free(gunicorn);
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	size_t k = 0;
	argv[k++] = gunicorn;
	argv[k++] = "--workers";
	argv[k++] = workers;
	argv[k++] = "--bind";
	argv[k++] = bind;
	argv[k++] = "--timeout";
	argv[k++] = timeout;
	argv[k++] = "--limit-request-line";
	argv[k++] = "0";
	argv[k++] = "--limit-request-field_size";
	argv[k++] = "0";
	/* gunicorn 27 opens a control socket in ~/.gunicorn, shared by every server of the user: not needed. */
	if (gunicorn_major(c) >= 27)
		argv[k++] = "--no-control-socket";
	for (size_t i = 0; i < req->nargs; i++)
		argv[k++] = req->args[i];
	argv[k++] = "superset.app:create_app()";
	argv[k] = NULL;
	LOG(s, SMELT_LOG_INFO, "Superset on http://%s/ (stop with Ctrl-C)", bind);
	rc = spawn(c, argv, req->kind == SMELT_REQ_INVOKE ? SMELT_SPAWN_INHERIT_STDIO : 0, exit_code, err, errlen);
	free(argv);
	free(gunicorn);
	return rc;
}

/* `superset ARGS...`, or a command of the plugin definition, with the generated config. */
static int superset_cli(struct ss_ctx *c, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct superset *s = c->s;
	const char *cmd_exe = NULL, *args = NULL;
	if (req->command) {
		args = s->host->plugin_command(s->hctx, c->p, req->command, &cmd_exe);
		if (!args)
			return kit_fail(err, errlen, SMELT_ERR_NOTFOUND,
			            "plugin '%s' has no command '%s' (it has initialize, sync and ui, and 'smelt invoke %s ARGS' "
			            "runs the superset CLI)",
			            c->name, req->command, c->name);
	}
	char *exe = venv_program(c, cmd_exe ? cmd_exe : "superset", err, errlen);
	if (!exe)
		return SMELT_ERR_NOTFOUND;
	size_t max = req->nargs + (args ? strlen(args) / 2 + 2 : 0) + 2;
	const char **argv = calloc(max + 1, sizeof *argv);
	char *buf = args ? malloc(strlen(args) + 1) : NULL;
	if (!argv || (args && !buf)) {
		free(argv);
		free(buf);
		free(exe);
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	size_t k = 0;
	argv[k++] = exe;
	int rc = SMELT_OK;
	if (args && kit_split_args(args, buf, argv, &k, max) != 0)
		rc = kit_fail(err, errlen, SMELT_ERR_CONFIG, "command '%s' of '%s' has an unterminated quote", req->command,
		          c->name);
	for (size_t i = 0; rc == SMELT_OK && i < req->nargs; i++)
		argv[k++] = req->args[i];
	argv[k] = NULL;
	if (rc == SMELT_OK)
		rc = spawn(c, argv, req->kind == SMELT_REQ_INVOKE ? SMELT_SPAWN_INHERIT_STDIO : SMELT_SPAWN_STDIN_NULL,
		           exit_code, err, errlen);
	free(argv);
	free(buf);
	free(exe);
	return rc;
}

/* ---- operations --------------------------------------------------------- */

static int superset_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct superset *s = state;
	struct ss_ctx c;
	*exit_code = 0;
	if (req->kind == SMELT_REQ_DUMP)
		return kit_fail(err, errlen, SMELT_ERR_UNSUPPORTED, "superset has no '%s' to dump", req->dump ? req->dump : "");
	int rc = superset_prepare(s, req->plugins[0], &c, err, errlen);
	if (rc == SMELT_OK) {
		if (req->command && !strcmp(req->command, "initialize"))
			rc = superset_initialize(&c, 1, err, errlen);
		else if (req->command && !strcmp(req->command, "sync"))
			rc = superset_sync_all(&c, err, errlen);
		else if (req->command && !strcmp(req->command, "ui"))
			rc = superset_ui(&c, req, exit_code, err, errlen);
		else
			rc = superset_cli(&c, req, exit_code, err, errlen);
	}
	superset_release(&c);
	/* The tool's own failures are its exit code; ours are errors the host prints. */
	if (rc == SMELT_ERR_FAILED) {
		LOG(s, SMELT_LOG_ERROR, "%s", err);
		err[0] = '\0';
		*exit_code = 1;
		rc = SMELT_OK;
	}
	return rc;
}

static int superset_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct superset *s = state;
	struct ss_ctx c;
	const char *name = s->host->plugin_attr(s->hctx, req->plugins[0], "name");
	if (req->kind != SMELT_REQ_COMMAND || !req->command)
		return kit_fail(err, errlen, SMELT_ERR_CONFIG,
		            "'%s' is a utility: use it in smelt run as a command block ('%s:sync')", name, name);
	if (!strcmp(req->command, "ui"))
		return kit_fail(err, errlen, SMELT_ERR_CONFIG,
		            "'%s:ui' starts a web server and never ends: use 'smelt invoke %s:ui' instead", name, name);
	int rc = superset_prepare(s, req->plugins[0], &c, err, errlen), code = 0;
	if (rc == SMELT_OK) {
		if (!strcmp(req->command, "initialize"))
			rc = superset_initialize(&c, 1, err, errlen);
		else if (!strcmp(req->command, "sync"))
			rc = superset_sync_all(&c, err, errlen);
		else if ((rc = superset_cli(&c, req, &code, err, errlen)) == SMELT_OK && code != 0)
			rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "'%s:%s' exited with code %d", name, req->command, code);
	}
	superset_release(&c);
	return rc;
}

/* After smelt install: the secret key exists from the start, and the new venv migrates the metadata DB once. */
static int superset_post_install(void *state, const struct smelt_plugin *p, char *err, size_t errlen)
{
	struct superset *s = state;
	char *key = NULL;
	int rc = superset_secret(s, p, &key, err, errlen);
	if (key) {
		memset(key, 0, strlen(key));
		free(key);
	}
	const char *dir = s->host->plugin_path(s->hctx, p, SMELT_PPATH_INSTALL_DIR);
	if (dir) {
		size_t n = strlen(dir) + sizeof SUPERSET_MARKER + 2;
		char *marker = malloc(n);
		if (marker) {
			snprintf(marker, n, "%s/%s", dir, SUPERSET_MARKER);
			unlink(marker);
			free(marker);
		}
	}
	return rc;
}

static int superset_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct superset *s = calloc(1, sizeof *s);
	if (!s)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	s->host = host;
	s->hctx = hctx;
	*state = s;
	return SMELT_OK;
}

static void superset_destroy(void *state)
{
	free(state);
}

static const struct smelt_adapter superset_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.command_size = sizeof(struct smelt_command),
	.name = "superset",
	.version = "0.2.0",
	.description = "Apache Superset: the warehouse's tables and models as datasets",
	.category = SMELT_CAT_ANALYSIS,
	.plugin_types = 0,
	.namespaces = superset_namespaces,
	.commands = superset_commands,
	.init = superset_init,
	.destroy = superset_destroy,
	.invoke = superset_invoke,
	.run_block = superset_run_block,
	.post_install = superset_post_install,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &superset_adapter;
}
