/*
 * profile.c - profiles.yml from a dbt plugin's settings.
 *
 * One profile (named as dbt_project.yml's `profile:`) with one output
 * (the active environment's name, or dev, or the --target asked for).
 * Settings become output keys; per warehouse an allow-list keeps out the
 * settings that are Smelt's or Meltano's (profiles_dir, project_dir...),
 * and the warehouse's defaults fill what is unset.  A sensitive setting
 * (kind password / sensitive in the definition, or a key dbt documents as
 * a secret) is written as {{ env_var('DBT_ENV_SECRET_<KEY>') }} and its
 * value handed to dbt in the environment only: dbt scrubs DBT_ENV_SECRET_*
 * values from its logs and never stores them for partial parsing.
 *
 * The YAML is written by hand: block mappings, every key and scalar as a
 * JSON string/number (a JSON scalar is a valid YAML flow scalar).
 */
#include "dbt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Keys that are never profile keys: they steer the tool or Meltano's dbt extension. */
static const char *const meta_keys[] = {
	"profiles_dir", "project_dir", "target_path", "log_path", "skip_pre_invoke", "type", "models", NULL,
};

/* Keys written through env_var() even when the definition forgot to mark them sensitive. */
static const char *const secret_keys[] = {
	"password", "pass", "private_key", "private_key_passphrase", "token", "oauth_client_secret",
	"client_secret", "keyfile_json", "refresh_token", NULL,
};

/* Output keys each warehouse accepts (dbt's docs for the adapter); NULL-terminated. */
static const char *const sqlite_keys[] = {
	"threads", "database", "schema", "schemas_and_paths", "schema_directory", "extensions", NULL,
};
static const char *const duckdb_keys[] = {
	"threads", "path", "database", "schema", "extensions", "settings", "attach", "external_root", "plugins",
	"module_paths", "filesystems", "secrets", "keep_open", "retries", "disable_transactions", "config_options",
	NULL,
};
static const char *const postgres_keys[] = {
	"threads", "host", "port", "user", "password", "dbname", "database", "schema", "keepalives_idle",
	"connect_timeout", "retries", "search_path", "role", "sslmode", "sslcert", "sslkey", "sslrootcert",
	"application_name", "autocommit", NULL,
};
static const char *const snowflake_keys[] = {
	"threads", "account", "user", "password", "authenticator", "private_key", "private_key_path",
	"private_key_passphrase", "role", "database", "warehouse", "schema", "client_session_keep_alive",
	"query_tag", "connect_retries", "connect_timeout", "retry_on_database_errors", "retry_all",
	"reuse_connections", "oauth_client_id", "oauth_client_secret", "token", "host", "port", "protocol",
	"insecure_mode", NULL,
};

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static const char *const *allowed_keys(enum dbt_kind kind)
{
	switch (kind) {
	case DBT_KIND_SQLITE: return sqlite_keys;
	case DBT_KIND_DUCKDB: return duckdb_keys;
	case DBT_KIND_POSTGRES: return postgres_keys;
	case DBT_KIND_SNOWFLAKE: return snowflake_keys;
	case DBT_KIND_OTHER: break;
	}
	return NULL;
}

static int add_var(struct dbt_profile *prof, const char *name, const char *value)
{
	struct dbt_envvar *v = realloc(prof->vars, (prof->nvars + 1) * sizeof *v);
	if (!v)
		return SMELT_ERR_NOMEM;
	prof->vars = v;
	v[prof->nvars].name = strdup(name);
	v[prof->nvars].value = strdup(value);
	if (!v[prof->nvars].name || !v[prof->nvars].value) {
		free(v[prof->nvars].name);
		free(v[prof->nvars].value);
		return SMELT_ERR_NOMEM;
	}
	prof->nvars++;
	return SMELT_OK;
}

/* PREFIX + key upper-cased, non-alphanumerics to '_'. */
static void env_name(char *buf, size_t n, const char *prefix, const char *key)
{
	size_t k = (size_t)snprintf(buf, n, "%s", prefix);
	for (const char *c = key; *c && k + 1 < n; c++)
		buf[k++] = isalnum((unsigned char)*c) ? (char)toupper((unsigned char)*c) : '_';
	buf[k < n ? k : n - 1] = '\0';
}

/* Replace out[key] by "{{ env_var('NAME') }}" and remember NAME=value. */
static int via_env(struct dbt_profile *prof, cJSON *out, const char *key, const char *prefix, const char *value)
{
	char name[128], ref[192];
	env_name(name, sizeof name, prefix, key);
	snprintf(ref, sizeof ref, "{{ env_var('%s') }}", name);
	cJSON *s = cJSON_CreateString(ref);
	if (!s)
		return SMELT_ERR_NOMEM;
	if (cJSON_GetObjectItemCaseSensitive(out, key))
		cJSON_ReplaceItemInObjectCaseSensitive(out, key, s);
	else
		cJSON_AddItemToObject(out, key, s);
	return add_var(prof, name, value);
}

static const char *str_of(const cJSON *out, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(out, key);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int set_str(cJSON *out, const char *key, const char *value)
{
	cJSON *s = cJSON_CreateString(value);
	if (!s)
		return SMELT_ERR_NOMEM;
	if (cJSON_GetObjectItemCaseSensitive(out, key))
		cJSON_ReplaceItemInObjectCaseSensitive(out, key, s);
	else
		cJSON_AddItemToObject(out, key, s);
	return SMELT_OK;
}

static int default_str(cJSON *out, const char *key, const char *value)
{
	return str_of(out, key) ? SMELT_OK : set_str(out, key, value);
}

static int default_num(cJSON *out, const char *key, double value)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(out, key);
	if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && !v->valuestring[0]))
		return SMELT_OK;
	cJSON_DeleteItemFromObjectCaseSensitive(out, key);
	return cJSON_AddNumberToObject(out, key, value) ? SMELT_OK : SMELT_ERR_NOMEM;
}

/* out[key] made absolute against root when it is a relative file path. */
static int abs_key(cJSON *out, const char *key, const char *root)
{
	const char *v = str_of(out, key);
	if (!v || v[0] == '/' || strstr(v, "{{") || strstr(v, "://") || !strcmp(v, ":memory:") || !strncmp(v, "md:", 3))
		return SMELT_OK;
	char *a = dbt_abs(root, v);
	int rc = a ? set_str(out, key, a) : SMELT_ERR_NOMEM;
	free(a);
	return rc;
}

/* Create the folder that will hold file `path`, so the warehouse can create the file. */
static void parent_dir(const char *path)
{
	if (!path || path[0] != '/')
		return;
	char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		kit_mkdirs(dir, 0755);
	}
	free(dir);
}

/* dbt-sqlite: `database` is the main schema's file; schemas_and_paths maps schemas to files. */
static int fix_sqlite(cJSON *out, const struct dbt_paths *paths)
{
	char *db = NULL, *dir = NULL;
	int rc = SMELT_ERR_NOMEM;
	const char *v = str_of(out, "database");
	if (!(db = v ? dbt_abs(paths->root, v) : kit_asprintf("%s/output/warehouse.db", paths->root)))
		goto out;
	cJSON *sap = cJSON_GetObjectItemCaseSensitive(out, "schemas_and_paths");
	if (!cJSON_IsObject(sap)) {
		cJSON_DeleteItemFromObjectCaseSensitive(out, "schemas_and_paths");
		if (!(sap = cJSON_AddObjectToObject(out, "schemas_and_paths")))
			goto out;
	}
	/* the other schemas' files, made absolute (in a copy: replacing items while walking frees them) */
	cJSON *fixed = cJSON_CreateObject();
	if (!fixed)
		goto out;
	for (const cJSON *e = sap->child; e; e = e->next) {
		char *a = cJSON_IsString(e) && strcmp(e->string, "main") ? dbt_abs(paths->root, e->valuestring) : NULL;
		if (a)
			cJSON_AddStringToObject(fixed, e->string, a);
		free(a);
	}
	if (!cJSON_AddStringToObject(fixed, "main", db)) {
		cJSON_Delete(fixed);
		goto out;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(out, "schemas_and_paths", fixed);
	sap = fixed;
	for (cJSON *e = sap->child; e; e = e->next)
		if (cJSON_IsString(e))
			parent_dir(e->valuestring);
	rc = SMELT_ERR_NOMEM;
	if (!(dir = strdup(db)))
		goto out;
	*strrchr(dir, '/') = '\0';
	if ((rc = default_str(out, "schema_directory", dir)) || (rc = abs_key(out, "schema_directory", paths->root)))
		goto out;
	kit_mkdirs(str_of(out, "schema_directory"), 0755);
	/* dbt-sqlite's `database` is only a name (its sample profile says 'database') */
	if ((rc = set_str(out, "database", "database")) || (rc = default_str(out, "schema", "main")))
		goto out;
	rc = default_num(out, "threads", 1);
out:
	free(db);
	free(dir);
	return rc;
}

static int fix_duckdb(cJSON *out, const struct dbt_paths *paths)
{
	int rc;
	if (!str_of(out, "path")) {
		char *p = kit_asprintf("%s/output/warehouse.duckdb", paths->root);
		rc = p ? set_str(out, "path", p) : SMELT_ERR_NOMEM;
		free(p);
		if (rc)
			return rc;
	}
	if ((rc = abs_key(out, "path", paths->root)))
		return rc;
	parent_dir(str_of(out, "path"));
	if ((rc = default_str(out, "schema", "main")))
		return rc;
	return default_num(out, "threads", 1);
}

static int fix_postgres(cJSON *out)
{
	int rc;
	/* the hub definition calls it dbname with alias database; dbt takes either, write one */
	const cJSON *db = cJSON_GetObjectItemCaseSensitive(out, "database");
	if (db && !cJSON_GetObjectItemCaseSensitive(out, "dbname"))
		cJSON_AddItemToObject(out, "dbname", cJSON_Duplicate(db, 1));
	cJSON_DeleteItemFromObjectCaseSensitive(out, "database");
	/* the hub declares sslmode as an array; dbt wants one string */
	cJSON *ssl = cJSON_GetObjectItemCaseSensitive(out, "sslmode");
	if (cJSON_IsArray(ssl)) {
		cJSON *first = cJSON_GetArrayItem(ssl, 0);
		if (cJSON_IsString(first)) {
			char *s = strdup(first->valuestring);
			rc = s ? set_str(out, "sslmode", s) : SMELT_ERR_NOMEM;
			free(s);
			if (rc)
				return rc;
		} else {
			cJSON_DeleteItemFromObjectCaseSensitive(out, "sslmode");
		}
	}
	if ((rc = default_str(out, "host", "localhost")) || (rc = default_num(out, "port", 5432)) ||
	    (rc = default_str(out, "schema", "public")) || (rc = default_num(out, "threads", 4)))
		return rc;
	/* dbt-postgres requires a password; an empty one lets trust/peer setups through */
	if (!cJSON_GetObjectItemCaseSensitive(out, "password"))
		return cJSON_AddStringToObject(out, "password", "") ? SMELT_OK : SMELT_ERR_NOMEM;
	return SMELT_OK;
}

static int fix_snowflake(cJSON *out, const struct dbt_paths *paths)
{
	int rc = abs_key(out, "private_key_path", paths->root);
	return rc ? rc : default_num(out, "threads", 4);
}

/* ---- YAML ---- */

struct buf {
	char *s;
	size_t len, cap;
	int oom;
};

static void put(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap + n + 1) * 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

static void indent(struct buf *b, int depth)
{
	for (int i = 0; i < depth; i++)
		put(b, "  ");
}

/* A scalar as JSON text (strings quoted), which YAML reads the same. */
static void put_scalar(struct buf *b, const cJSON *v)
{
	char *t = cJSON_PrintUnformatted(v);
	if (!t) {
		b->oom = 1;
		return;
	}
	put(b, t);
	free(t);
}

/* Plain YAML keys stay unquoted: [A-Za-z_][A-Za-z0-9_-]*, not a YAML 1.1 boolean or null. */
static int plain_key(const char *key)
{
	static const char *const special[] = { "y", "n", "yes", "no", "on", "off", "true", "false", "null", NULL };
	if (!(isalpha((unsigned char)key[0]) || key[0] == '_'))
		return 0;
	for (const char *c = key; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			return 0;
	for (size_t i = 0; special[i]; i++)
		if (!strcasecmp(key, special[i]))
			return 0;
	return 1;
}

static void put_key(struct buf *b, const char *key)
{
	if (plain_key(key)) {
		put(b, key);
		put(b, ":");
		return;
	}
	cJSON *k = cJSON_CreateString(key);
	if (!k) {
		b->oom = 1;
		return;
	}
	put_scalar(b, k);
	cJSON_Delete(k);
	put(b, ":");
}

static void put_node(struct buf *b, const cJSON *v, int depth);

/* A value after "key:" or "-": inline scalars, nested blocks on the next lines. */
static void put_value(struct buf *b, const cJSON *v, int depth)
{
	if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child) {
		put(b, "\n");
		put_node(b, v, depth);
	} else if (cJSON_IsObject(v)) {
		put(b, " {}\n");
	} else if (cJSON_IsArray(v)) {
		put(b, " []\n");
	} else {
		put(b, " ");
		put_scalar(b, v);
		put(b, "\n");
	}
}

static void put_node(struct buf *b, const cJSON *v, int depth)
{
	for (const cJSON *e = v->child; e; e = e->next) {
		indent(b, depth);
		if (cJSON_IsObject(v)) {
			put_key(b, e->string);
			put_value(b, e, depth + 1);
		} else {
			put(b, "-");
			put_value(b, e, depth + 1);
		}
	}
}

/* ---- the profile ---- */

char *dbt_profile_name(const char *project_dir)
{
	char *path = kit_asprintf("%s/dbt_project.yml", project_dir);
	char *text = path ? kit_read_file(path, NULL) : NULL, *name = NULL;
	free(path);
	for (char *line = text; line && *line && !name;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(line, "profile", 7)) {
			char *v = line + 7;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v == ':') {
				v++;
				while (*v == ' ' || *v == '\t')
					v++;
				char q = (*v == '"' || *v == '\'') ? *v++ : 0;
				char *end = q ? strchr(v, q) : v + strcspn(v, " \t#\r");
				if (end && end > v) {
					*end = '\0';
					name = strdup(v);
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return name ? name : strdup("smelt");
}

int dbt_profile_build(struct dbt *d, const struct smelt_plugin *p, const struct dbt_paths *paths, const char *name,
                      const char *target, struct dbt_profile *out, char *err, size_t errlen)
{
	char *json = NULL;
	cJSON *cfg = NULL, *o = NULL, *doc = NULL;
	const char *pname = dbt_attr(d, p, "name");
	memset(out, 0, sizeof *out);
	int rc = d->host->config_json(d->hctx, p, 0, &json, err, errlen);
	if (rc)
		return rc;
	cfg = cJSON_Parse(json);
	d->host->free(json);
	if (!cJSON_IsObject(cfg)) {
		cJSON_Delete(cfg);
		return kit_fail(err, errlen, SMELT_ERR, "cannot read the settings of '%s'", pname);
	}
	out->kind = dbt_kind_of(d, p, &out->type);
	rc = SMELT_ERR_NOMEM;
	if (!out->type || !(o = cJSON_CreateObject()) || !cJSON_AddStringToObject(o, "type", out->type))
		goto out;
	const char *const *allowed = allowed_keys(out->kind);
	for (const cJSON *e = cfg->child; e; e = e->next) {
		if (in_list(meta_keys, e->string) || cJSON_IsNull(e))
			continue;
		if (allowed && !in_list(allowed, e->string)) {
			DBT_LOG(d, SMELT_LOG_DEBUG, "'%s': setting '%s' is not a %s profile key: left out", pname, e->string,
			        out->type);
			continue;
		}
		char *sjson = NULL;
		int sensitive = 0;
		if (d->host->setting(d->hctx, p, e->string, &sjson, &sensitive, err, errlen) == SMELT_OK)
			d->host->free(sjson);
		sensitive = sensitive || in_list(secret_keys, e->string);
		if (sensitive || (cJSON_IsString(e) && (strstr(e->valuestring, "{{") || strstr(e->valuestring, "{%")))) {
			char *text = cJSON_IsString(e) ? strdup(e->valuestring)
			             : (cJSON_IsNumber(e) || cJSON_IsBool(e)) ? cJSON_PrintUnformatted(e) : NULL;
			if (!text && (cJSON_IsObject(e) || cJSON_IsArray(e))) {
				rc = kit_fail(err, errlen, SMELT_ERR_CONFIG,
				              "sensitive setting '%s' of '%s' must be a string: it cannot go in the profile",
				              e->string, pname);
				goto out;
			}
			rc = text ? via_env(out, o, e->string, sensitive ? "DBT_ENV_SECRET_" : "SMELT_DBT_", text)
			          : SMELT_ERR_NOMEM;
			free(text);
			if (rc)
				goto out;
			continue;
		}
		cJSON *copy = cJSON_Duplicate(e, 1);
		if (!copy)
			goto out;
		cJSON_AddItemToObject(o, e->string, copy);
	}
	switch (out->kind) {
	case DBT_KIND_SQLITE: rc = fix_sqlite(o, paths); break;
	case DBT_KIND_DUCKDB: rc = fix_duckdb(o, paths); break;
	case DBT_KIND_POSTGRES: rc = fix_postgres(o); break;
	case DBT_KIND_SNOWFLAKE: rc = fix_snowflake(o, paths); break;
	case DBT_KIND_OTHER: rc = default_num(o, "threads", 1); break;
	}
	if (rc)
		goto out;

	/* { name: { target: T, outputs: { T: o } } } */
	rc = SMELT_ERR_NOMEM;
	cJSON *prof, *outputs;
	if (!(doc = cJSON_CreateObject()) || !(prof = cJSON_AddObjectToObject(doc, name)) ||
	    !cJSON_AddStringToObject(prof, "target", target) || !(outputs = cJSON_AddObjectToObject(prof, "outputs")))
		goto out;
	cJSON_AddItemToObject(outputs, target, o);
	o = NULL;
	struct buf b = { 0 };
	const char *env = d->host->environment(d->hctx);
	char head[512];
	snprintf(head, sizeof head,
	         "# profiles.yml generated by smelt for '%s' (environment '%s'); do not edit, it is rewritten\n"
	         "# for every command from the plugin's settings.  Secrets are not in this file: dbt reads\n"
	         "# them with env_var() from the environment smelt gives it.\n",
	         pname, env ? env : "none");
	put(&b, head);
	put_node(&b, doc, 0);
	if (b.oom) {
		free(b.s);
		goto out;
	}
	out->yaml = b.s;
	rc = SMELT_OK;
out:
	cJSON_Delete(cfg);
	cJSON_Delete(o);
	cJSON_Delete(doc);
	if (rc)
		dbt_profile_release(out);
	if (rc == SMELT_ERR_NOMEM)
		kit_fail(err, errlen, rc, "out of memory");
	return rc;
}

void dbt_profile_release(struct dbt_profile *prof)
{
	if (!prof)
		return;
	for (size_t i = 0; i < prof->nvars; i++) {
		free(prof->vars[i].name);
		if (prof->vars[i].value) {
			/* wipe the secret before giving the memory back */
			volatile char *v = prof->vars[i].value;
			for (size_t k = 0; v[k]; k++)
				v[k] = 0;
		}
		free(prof->vars[i].value);
	}
	free(prof->vars);
	free(prof->type);
	free(prof->yaml);
	memset(prof, 0, sizeof *prof);
}
