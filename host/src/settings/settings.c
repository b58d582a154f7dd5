/* settings: resolution, expansion, casting, env building; see settings.h. */
#include "settings/settings.h"
#include "project/project.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

#define MAX_INHERIT_DEPTH 16

/* ---- names and labels ---------------------------------------------------------- */

const char *setting_source_name(enum setting_source s)
{
	static const char *const n[] = { "config_override", "env", "dotenv", "meltano_environment",
		                         "meltano_yml", "db", "inherited", "default" };
	return (unsigned)s < 8 ? n[s] : "default";
}

const char *setting_source_label(enum setting_source s, const struct project *p)
{
	int smelt = !p || !p->file_name || !strcmp(p->file_name, "smelt.yml");
	switch (s) {
	case SOURCE_CLI: return "a command line flag";
	case SOURCE_ENV: return "the environment";
	case SOURCE_DOTENV: return "`.env`";
	case SOURCE_ENVIRONMENT:
		return smelt ? "the active environment in `smelt.yml`" : "the active environment in `meltano.yml`";
	case SOURCE_PROJECT: return smelt ? "`smelt.yml`" : "`meltano.yml`";
	case SOURCE_DB: return "the system database";
	case SOURCE_INHERITED: return "inherited";
	default: return "the default";
	}
}

char *settings_env_name(const char *prefix, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	const char *parts[2] = { prefix, name };
	for (int i = 0; i < 2; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		if (sb.len)
			strbuf_addch(&sb, '_');
		for (const char *c = parts[i]; *c; c++)
			strbuf_addch(&sb, isalnum((unsigned char)*c) ? toupper((unsigned char)*c) : '_');
	}
	return strbuf_detach(&sb);
}

/* ---- envlist ----------------------------------------------------------------------- */

static long envlist_index(const struct envlist *e, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < e->n; i++)
		if (!strncmp(e->vars[i], name, n) && e->vars[i][n] == '=')
			return (long)i;
	return -1;
}

void envlist_set(struct envlist *e, const char *name, const char *value)
{
	long i = envlist_index(e, name);
	if (!value) {
		if (i >= 0) {
			free(e->vars[i]);
			memmove(&e->vars[i], &e->vars[i + 1], (e->n - (size_t)i) * sizeof *e->vars);
			e->n--;
		}
		return;
	}
	char *kv = xasprintf("%s=%s", name, value);
	if (i >= 0) {
		free(e->vars[i]);
		e->vars[i] = kv;
		return;
	}
	if (e->n + 2 > e->alloc) {
		e->alloc = e->alloc ? e->alloc * 2 : 32;
		e->vars = xrealloc(e->vars, e->alloc * sizeof *e->vars);
	}
	e->vars[e->n++] = kv;
	e->vars[e->n] = NULL;
}

const char *envlist_get(const struct envlist *e, const char *name)
{
	long i = envlist_index(e, name);
	return i >= 0 ? e->vars[i] + strlen(name) + 1 : NULL;
}

void envlist_from_environ(struct envlist *e)
{
	for (char **v = environ; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		if (!eq)
			continue;
		char *name = xstrndup(*v, (size_t)(eq - *v));
		envlist_set(e, name, eq + 1);
		free(name);
	}
}

void envlist_release(struct envlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->vars[i]);
	free(e->vars);
	e->vars = NULL;
	e->n = e->alloc = 0;
}

/* ---- expansion ------------------------------------------------------------------------ */

char *settings_expand(const char *s, const struct envlist *env, int strict, int *empty, char *err, size_t errlen)
{
	struct strbuf out = STRBUF_INIT;
	int refs = 0;
	if (empty)
		*empty = 0;
	for (const char *p = s; *p;) {
		if (p[0] == '\\' && p[1] == '$') {
			strbuf_addch(&out, '$');
			p += 2;
			continue;
		}
		if (p[0] != '$') {
			strbuf_addch(&out, *p++);
			continue;
		}
		const char *nb = NULL;
		size_t nl = 0;
		const char *after = NULL;
		if (p[1] == '{') {
			const char *q = p + 2;
			while (isalnum((unsigned char)*q) || *q == '_')
				q++;
			if (*q == '}' && q > p + 2) {
				nb = p + 2;
				nl = (size_t)(q - nb);
				after = q + 1;
			}
		} else if (p[1] >= 'A' && p[1] <= 'Z') {
			const char *q = p + 1;
			while ((*q >= 'A' && *q <= 'Z') || isdigit((unsigned char)*q) || *q == '_')
				q++;
			nb = p + 1;
			nl = (size_t)(q - nb);
			after = q;
		}
		if (!nb) {
			strbuf_addch(&out, *p++);
			continue;
		}
		char *name = xstrndup(nb, nl);
		const char *val = env ? envlist_get(env, name) : NULL;
		if (!val && strict) {
			fail(err, errlen, SMELT_ERR_CONFIG, "environment variable '%s' is not set", name);
			free(name);
			strbuf_release(&out);
			return NULL;
		}
		free(name);
		strbuf_addstr(&out, val ? val : "");
		refs++;
		p = after;
	}
	if (empty && refs && out.len == 0)
		*empty = 1;
	return strbuf_detach(&out);
}

/* Expand every string inside v (objects, arrays) in place; *all_empty when v was a string that became "". */
static int expand_json(cJSON *v, const struct envlist *env, int strict, int *all_empty, char *err, size_t errlen)
{
	if (all_empty)
		*all_empty = 0;
	if (cJSON_IsString(v)) {
		if (!strchr(v->valuestring, '$'))
			return 0;
		int empty = 0;
		char *x = settings_expand(v->valuestring, env, strict, &empty, err, errlen);
		if (!x)
			return SMELT_ERR_CONFIG;
		cJSON_SetValuestring(v, x);
		free(x);
		if (all_empty)
			*all_empty = empty;
		return 0;
	}
	for (cJSON *c = v ? v->child : NULL; c; c = c->next)
		if (expand_json(c, env, strict, NULL, err, errlen) < 0)
			return SMELT_ERR_CONFIG;
	return 0;
}

/* ---- casting --------------------------------------------------------------------------- */

/* Python-literal fallback for object/array strings: 'x' -> "x", True/False/None. */
static cJSON *parse_pyliteral(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			strbuf_addch(&sb, '"');
			for (p++; *p && *p != '\''; p++) {
				if (*p == '"')
					strbuf_addch(&sb, '\\');
				if (*p == '\\' && p[1]) {
					strbuf_addch(&sb, *p++);
				}
				strbuf_addch(&sb, *p);
			}
			strbuf_addch(&sb, '"');
			if (!*p)
				break;
			continue;
		}
		if (!strncmp(p, "True", 4) && !isalnum((unsigned char)p[4])) {
			strbuf_addstr(&sb, "true");
			p += 3;
		} else if (!strncmp(p, "False", 5) && !isalnum((unsigned char)p[5])) {
			strbuf_addstr(&sb, "false");
			p += 4;
		} else if (!strncmp(p, "None", 4) && !isalnum((unsigned char)p[4])) {
			strbuf_addstr(&sb, "null");
			p += 3;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	cJSON *j = json_parse_exact(sb.buf);
	strbuf_release(&sb);
	return j;
}

/*
 * The value as shown in a cast error: quoted for ordinary settings, never
 * for a sensitive one (or an unknown definition), whose value would
 * otherwise reach the terminal, run.log and the runs table (issue 18).
 */
static const char *cast_shown(const struct setting_def *def, const char *txt, char *buf, size_t buflen)
{
	if (!def || def->sensitive || def->kind == KIND_PASSWORD || def->kind == KIND_OAUTH)
		return "; the value is not shown as the setting is sensitive";
	snprintf(buf, buflen, ", not '%.64s%s'", txt, strlen(txt) > 64 ? "..." : "");
	return buf;
}

cJSON *settings_cast(const cJSON *v, enum setting_kind kind, const struct setting_def *def, char *err, size_t errlen)
{
	const char *name = def && def->name ? def->name : "setting";
	char shown[96];
	if (!v)
		return cJSON_CreateNull();
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		switch (kind) {
		case KIND_BOOLEAN: {
			char low[8] = { 0 };
			size_t n = strlen(s);
			for (size_t i = 0; i < n && i < sizeof low - 1; i++)
				low[i] = (char)tolower((unsigned char)s[i]);
			int t = n < sizeof low &&
			        (!strcmp(low, "true") || !strcmp(low, "1") || !strcmp(low, "yes") || !strcmp(low, "on"));
			return cJSON_CreateBool(t);
		}
		case KIND_INTEGER: {
			char *end;
			errno = 0;
			const char *b = s;
			while (isspace((unsigned char)*b))
				b++;
			long long x = strtoll(b, &end, 10);
			while (isspace((unsigned char)*end))
				end++;
			if (!*b || *end || errno) {
				fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be an integer%s", name,
				     cast_shown(def, s, shown, sizeof shown));
				return NULL;
			}
			/* the digits as written (an integer above 2^53 does not fit a double) */
			char digits[32];
			snprintf(digits, sizeof digits, "%lld", x);
			return json_number_from_text(digits, strlen(digits));
		}
		case KIND_DECIMAL: {
			char *end;
			const char *b = s;
			while (isspace((unsigned char)*b))
				b++;
			double x = strtod(b, &end);
			const char *num_end = end;
			while (isspace((unsigned char)*end))
				end++;
			if (!*b || *end || !isfinite(x)) {
				fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be a number%s", name,
				     cast_shown(def, s, shown, sizeof shown));
				return NULL;
			}
			cJSON *exact = json_number_from_text(b, (size_t)(num_end - b)); /* keeps long numbers' text */
			return exact ? exact : cJSON_CreateNumber(x);
		}
		case KIND_ARRAY:
		case KIND_OBJECT: {
			cJSON *j = json_parse_exact(s);
			if (!j)
				j = parse_pyliteral(s);
			if (!j || (kind == KIND_ARRAY ? !cJSON_IsArray(j) : !cJSON_IsObject(j))) {
				cJSON_Delete(j);
				fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be a JSON %s", name,
				     kind == KIND_ARRAY ? "array" : "object");
				return NULL;
			}
			return j;
		}
		default:
			break;
		}
	} else if (kind == KIND_BOOLEAN && cJSON_IsNumber(v)) {
		return cJSON_CreateBool(v->valuedouble != 0);
	}
	if (kind == KIND_OPTIONS && def && cJSON_IsArray(def->options) && !cJSON_IsNull(v)) {
		int ok = 0;
		for (const cJSON *o = def->options->child; o; o = o->next) {
			const cJSON *ov = cJSON_GetObjectItemCaseSensitive(o, "value");
			if (ov && json_equal(ov, v))
				ok = 1;
		}
		if (!ok) {
			char *txt = settings_value_to_string(v);
			fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be one of its options%s", name,
			     cast_shown(def, txt ? txt : "", shown, sizeof shown));
			free(txt);
			return NULL;
		}
	}
	return cJSON_Duplicate(v, 1);
}

char *settings_value_to_string(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (cJSON_IsTrue(v))
		return xstrdup("true");
	if (cJSON_IsFalse(v))
		return xstrdup("false");
	struct strbuf sb = STRBUF_INIT;
	json_dump(&sb, v, -1);
	return strbuf_detach(&sb);
}

/* nest_object: {"a.b": 1} -> {"a": {"b": 1}}. */
static void nest_into(cJSON *dst, const char *name, const cJSON *v)
{
	const char *dot = strchr(name, '.');
	if (!dot) {
		if (cJSON_GetObjectItemCaseSensitive(dst, name))
			cJSON_ReplaceItemInObjectCaseSensitive(dst, name, cJSON_Duplicate(v, 1));
		else
			cJSON_AddItemToObject(dst, name, cJSON_Duplicate(v, 1));
		return;
	}
	char *head = xstrndup(name, (size_t)(dot - name));
	cJSON *sub = cJSON_GetObjectItemCaseSensitive(dst, head);
	if (!cJSON_IsObject(sub)) {
		cJSON_DeleteItemFromObjectCaseSensitive(dst, head);
		sub = cJSON_AddObjectToObject(dst, head);
	}
	nest_into(sub, dot + 1, v);
	free(head);
}

static cJSON *process_value(cJSON *v, const char *proc)
{
	if (!proc || !v)
		return v;
	if (!strcmp(proc, "upcase_string") && cJSON_IsString(v)) {
		for (char *c = v->valuestring; *c; c++)
			*c = (char)toupper((unsigned char)*c);
	} else if (!strcmp(proc, "stringify") && !cJSON_IsString(v) && !cJSON_IsNull(v)) {
		struct strbuf sb = STRBUF_INIT;
		json_dump(&sb, v, -1);
		cJSON *s = cJSON_CreateString(sb.buf);
		strbuf_release(&sb);
		cJSON_Delete(v);
		return s;
	} else if (!strcmp(proc, "nest_object") && cJSON_IsObject(v)) {
		cJSON *n = cJSON_CreateObject();
		for (const cJSON *c = v->child; c; c = c->next)
			nest_into(n, c->string, c);
		cJSON_Delete(v);
		return n;
	}
	return v;
}

/* ---- project settings (`smelt config meltano`) ------------------------------------------- */

struct project_setting {
	const char *name;
	enum setting_kind kind;
	const char *default_json;
	int sensitive;
};

static const struct project_setting project_settings[] = {
	{ "send_anonymous_usage_stats", KIND_BOOLEAN, "true", 0 },
	{ "project_id", KIND_STRING, NULL, 0 },
	{ "default_environment", KIND_STRING, NULL, 0 },
	{ "database_uri", KIND_STRING, "\"sqlite:///$MELTANO_SYS_DIR_ROOT/smelt.db\"", 0 },
	{ "database_max_retries", KIND_INTEGER, "3", 0 },
	{ "database_retry_timeout", KIND_INTEGER, "5", 0 },
	{ "project_readonly", KIND_BOOLEAN, "false", 0 },
	{ "python", KIND_STRING, NULL, 0 },
	{ "auto_install", KIND_BOOLEAN, "true", 0 },
	{ "venv.backend", KIND_STRING, "\"uv\"", 0 },
	{ "hub_url", KIND_STRING, "\"https://hub.meltano.com\"", 0 },
	{ "hub_api_root", KIND_STRING, NULL, 0 },
	{ "hub_url_auth", KIND_STRING, NULL, 1 },
	{ "elt.buffer_size", KIND_INTEGER, "104857600", 0 },
	{ "state_backend.uri", KIND_STRING, "\"systemdb\"", 0 },
	{ "state_backend.lock_timeout_seconds", KIND_INTEGER, "10", 0 },
	{ "state_backend.lock_retry_seconds", KIND_INTEGER, "1", 0 },
	{ "state_backend.s3.aws_access_key_id", KIND_STRING, NULL, 1 },
	{ "state_backend.s3.aws_secret_access_key", KIND_STRING, NULL, 1 },
	{ "state_backend.s3.endpoint_url", KIND_STRING, NULL, 0 },
	{ "cli.log_level", KIND_STRING, "\"info\"", 0 },
	{ "cli.log_format", KIND_STRING, "\"colored\"", 0 },
	{ "cli.log_config", KIND_STRING, "\"logging.yaml\"", 0 },
	{ "cli.disable_version_check", KIND_BOOLEAN, "false", 0 },
	{ "experimental", KIND_BOOLEAN, "false", 0 },
	{ "lineage.enabled", KIND_BOOLEAN, "true", 0 }, /* OpenLineage events of smelt run (run/lineage.h) */
	{ "disable_tracking", KIND_BOOLEAN, "false", 0 },
	{ "ff.strict_env_var_mode", KIND_BOOLEAN, "false", 0 },
	{ "ff.plugin_locks_required", KIND_BOOLEAN, "false", 0 },
	{ "snowplow.collector_endpoints", KIND_ARRAY, "[\"https://sp.meltano.com\"]", 0 },
};

/* ---- the system-database seam ----------------------------------------------------------- */

/* Default: an in-memory table for the life of the process (nothing persists). */
static cJSON *mem_db;

static int mem_get(void *ctx, const char *ns, const char *name, char **json_out, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	const cJSON *o = mem_db ? cJSON_GetObjectItemCaseSensitive(mem_db, ns) : NULL;
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
	if (!cJSON_IsString(v))
		return 0;
	*json_out = xstrdup(v->valuestring);
	return 1;
}

static int mem_set(void *ctx, const char *ns, const char *name, const char *json, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	if (!mem_db)
		mem_db = cJSON_CreateObject();
	cJSON *o = cJSON_GetObjectItemCaseSensitive(mem_db, ns);
	if (!o)
		o = cJSON_AddObjectToObject(mem_db, ns);
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	cJSON_AddStringToObject(o, name, json);
	return 0;
}

static int mem_unset(void *ctx, const char *ns, const char *name, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	cJSON *o = mem_db ? cJSON_GetObjectItemCaseSensitive(mem_db, ns) : NULL;
	if (o)
		cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	return 0;
}

static int mem_reset(void *ctx, const char *ns, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	if (mem_db)
		cJSON_DeleteItemFromObjectCaseSensitive(mem_db, ns);
	if (mem_db && !mem_db->child) {
		cJSON_Delete(mem_db);
		mem_db = NULL;
	}
	return 0;
}

static const struct settings_db_ops mem_ops = { NULL, mem_get, mem_set, mem_unset, mem_reset };
static struct settings_db_ops cur_ops;
static int have_ops;

void settings_set_db(const struct settings_db_ops *ops)
{
	if (ops) {
		cur_ops = *ops;
		have_ops = 1;
	} else {
		have_ops = 0;
	}
}

const struct settings_db_ops *settings_get_db(void)
{
	return have_ops ? &cur_ops : &mem_ops;
}

char *settings_db_namespace(const struct plugin *pl)
{
	return pl ? xasprintf("%s.%s", plugin_type_plural(pl->type), pl->name) : xstrdup("meltano");
}

/* ---- resolution --------------------------------------------------------------------------- */

struct resolver {
	struct project *p;
	struct plugin *pl;
	const struct definition *def;
	const struct env_plugin *ep;
	const cJSON *overrides;
	unsigned flags;
	char **read_prefixes;   /* name, namespace (or smelt, meltano) */
	size_t nread_prefixes;
	struct envlist expand_env; /* variables for $VAR in smelt.yml values */
	struct envlist env_override; /* project, plugin, environment `env:` blocks (expanded) */
	int strict;
	struct settings *parent; /* the inherit_from parent's settings, NULL when none */
	int depth;
	char *err;
	size_t errlen;
};

static void add_unique(char ***v, size_t *n, char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s)) {
			free(s);
			return;
		}
	*v = xrealloc(*v, (*n + 2) * sizeof **v);
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Read names for s: custom env, <prefix>_<name> for each prefix, aliases, env_aliases. */
static void read_env_names(const struct resolver *r, const struct setting_def *s, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (s->env)
		add_unique(out, n, xstrdup(s->env));
	for (size_t i = 0; i < r->nread_prefixes; i++)
		add_unique(out, n, settings_env_name(r->read_prefixes[i], s->name));
	for (size_t a = 0; a < s->naliases; a++)
		for (size_t i = 0; i < r->nread_prefixes; i++)
			add_unique(out, n, settings_env_name(r->read_prefixes[i], s->aliases[a]));
	for (size_t a = 0; a < s->nenv_aliases; a++)
		add_unique(out, n, xstrdup(s->env_aliases[a]));
}

/* A (possibly dotted) name in a config object: flat key first, then nested. */
static const cJSON *config_lookup(const cJSON *cfg, const char *name)
{
	if (!cJSON_IsObject(cfg))
		return NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, name);
	if (v)
		return v;
	const char *dot = strchr(name, '.');
	while (dot) {
		char *head = xstrndup(name, (size_t)(dot - name));
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(cfg, head);
		free(head);
		if (cJSON_IsObject(sub)) {
			const cJSON *x = config_lookup(sub, dot + 1);
			if (x)
				return x;
		}
		dot = strchr(dot + 1, '.');
	}
	return NULL;
}

/* Look a setting up in a config object by name and aliases; conflicting aliases are an error. */
static int lookup_names(struct resolver *r, const cJSON *cfg, const struct setting_def *s, const char *store,
                        const cJSON **out)
{
	const cJSON *found = NULL;
	const char *found_name = NULL;
	*out = NULL;
	for (size_t i = 0; i <= s->naliases; i++) {
		const char *nm = i == 0 ? s->name : s->aliases[i - 1];
		const cJSON *v = config_lookup(cfg, nm);
		if (!v)
			continue;
		if (found && !json_equal(found, v))
			return fail(r->err, r->errlen, SMELT_ERR_CONFIG, "conflicting values for '%s' and '%s' in %s",
			            found_name, nm, store);
		if (!found) {
			found = v;
			found_name = nm;
		}
	}
	*out = found;
	return 0;
}

static const char *env_lookup(const struct resolver *r, const char *name, int dotenv)
{
	if (dotenv) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->p->dotenv, name);
		return cJSON_IsString(v) ? v->valuestring : NULL;
	}
	/* Meltano's settings env: the process environment under the project's, the plugin's
	 * and the environment's `env:` blocks (they win) */
	const char *v = envlist_get(&r->env_override, name);
	return v ? v : getenv(name);
}

/* Resolve one setting into rs. */
static int resolve_one(struct resolver *r, struct resolved_setting *rs)
{
	const struct setting_def *s = rs->def;
	const char *extra = rs->extra ? s->name + 1 : NULL;
	cJSON *value = NULL;
	int expandable = 0, from_string_env = 0, rc;
	enum setting_source src = SOURCE_DEFAULT;

	/* 1: overrides */
	if (r->overrides) {
		const cJSON *v = NULL;
		if ((rc = lookup_names(r, r->overrides, s, "the overrides", &v)) < 0)
			return rc;
		if (v) {
			value = xnonnull(cJSON_Duplicate(v, 1));
			src = SOURCE_CLI;
		}
	}
	/* 2, 3: process environment, .env */
	for (int dotenv = 0; dotenv < 2 && !value; dotenv++) {
		for (size_t i = 0; i < rs->nenv && !value; i++) {
			const char *v = env_lookup(r, rs->env[i], dotenv);
			if (!v)
				continue;
			int negate = 0;
			for (size_t a = 0; a < s->nenv_aliases; a++)
				if (s->env_aliases[a][0] == '!' && !strcmp(s->env_aliases[a] + 1, rs->env[i]))
					negate = 1;
			value = xnonnull(cJSON_CreateString(v));
			if (negate) {
				cJSON *b = settings_cast(value, KIND_BOOLEAN, s, r->err, r->errlen);
				cJSON_Delete(value);
				value = xnonnull(cJSON_CreateBool(!cJSON_IsTrue(b)));
				cJSON_Delete(b);
			}
			src = dotenv ? SOURCE_DOTENV : SOURCE_ENV;
			from_string_env = 1;
		}
	}
	/* negated env aliases ("!VAR") are read under their bare name */
	for (int dotenv = 0; dotenv < 2 && !value; dotenv++) {
		for (size_t a = 0; a < s->nenv_aliases && !value; a++) {
			if (s->env_aliases[a][0] != '!')
				continue;
			const char *v = env_lookup(r, s->env_aliases[a] + 1, dotenv);
			if (!v)
				continue;
			cJSON *str = xnonnull(cJSON_CreateString(v));
			cJSON *b = settings_cast(str, KIND_BOOLEAN, s, r->err, r->errlen);
			value = xnonnull(cJSON_CreateBool(!cJSON_IsTrue(b)));
			cJSON_Delete(str);
			cJSON_Delete(b);
			src = dotenv ? SOURCE_DOTENV : SOURCE_ENV;
		}
	}
	/* 4: the active environment */
	if (!value && r->ep) {
		const cJSON *v = NULL;
		if (extra)
			v = cJSON_GetObjectItemCaseSensitive(r->ep->extras, extra);
		else if ((rc = lookup_names(r, r->ep->config, s, "the active environment", &v)) < 0)
			return rc;
		if (v) {
			value = xnonnull(cJSON_Duplicate(v, 1));
			src = SOURCE_ENVIRONMENT;
			expandable = 1;
		}
	}
	/* 5: smelt.yml */
	if (!value) {
		const cJSON *v = NULL;
		if (!r->pl)
			v = config_lookup(r->p->doc, s->name);
		else if (extra)
			v = cJSON_GetObjectItemCaseSensitive(r->pl->extras, extra);
		else if ((rc = lookup_names(r, r->pl->config, s, r->p->file_name, &v)) < 0)
			return rc;
		if (v) {
			value = xnonnull(cJSON_Duplicate(v, 1));
			src = SOURCE_PROJECT;
			expandable = 1;
		}
	}
	/* 6: the system database */
	if (!value && !(r->flags & SETTINGS_NO_DB)) {
		char *ns = settings_db_namespace(r->pl), *json = NULL;
		const struct settings_db_ops *ops = settings_get_db();
		char dberr[256];
		rc = ops->get(ops->ctx, ns, s->name, &json, dberr, sizeof dberr);
		free(ns);
		if (rc < 0) {
			log_warn("cannot read setting '%s' from the system database: %s", s->name, dberr);
		} else if (rc > 0 && json) {
			value = json_parse_exact(json);
			if (value)
				src = SOURCE_DB;
		}
		free(json);
	}
	/* 7: the parent */
	if (!value && r->parent) {
		const struct resolved_setting *ps = settings_find(r->parent, s->name);
		if (ps && ps->source != SOURCE_DEFAULT && !cJSON_IsNull(ps->value)) {
			value = xnonnull(cJSON_Duplicate(ps->value, 1));
			src = SOURCE_INHERITED;
		}
	}
	/* 8: the default */
	if (!value) {
		const cJSON *d = s->value;
		if (extra && r->def && r->def->extras && cJSON_GetObjectItemCaseSensitive(r->def->extras, extra))
			d = cJSON_GetObjectItemCaseSensitive(r->def->extras, extra);
		value = d ? cJSON_Duplicate(d, 1) : cJSON_CreateNull();
		src = SOURCE_DEFAULT;
		expandable = 1;
	}
	(void)from_string_env;
	if (expandable) {
		cJSON *before = xnonnull(cJSON_Duplicate(value, 1));
		int empty = 0;
		if ((rc = expand_json(value, &r->expand_env, r->strict, &empty, r->err, r->errlen)) < 0) {
			cJSON_Delete(before);
			cJSON_Delete(value);
			return rc;
		}
		if (empty) {
			cJSON_Delete(value);
			value = cJSON_CreateNull();
		}
		if (!json_equal(before, value)) /* not cJSON_Compare: exponential in the depth */
			rs->unexpanded = before;
		else
			cJSON_Delete(before);
	}
	if (!cJSON_IsNull(value)) {
		char sub[256];
		cJSON *cast = settings_cast(value, rs->kind, s, sub, sizeof sub);
		if (!cast) {
			cJSON_Delete(value);
			return fail(r->err, r->errlen, SMELT_ERR_CONFIG, "%s (from %s)", sub, setting_source_label(src, r->p));
		}
		cJSON_Delete(value);
		value = process_value(cast, s->value_processor);
	}
	rs->value = value;
	rs->source = src;
	if (rs->sensitive && !cJSON_IsNull(value)) {
		char *txt = settings_value_to_string(value);
		log_add_secret(txt);
		free(txt);
	}
	return 0;
}

static struct resolved_setting *add_item(struct settings *out, const struct setting_def *def, int own)
{
	out->items = xrealloc(out->items, (out->n + 1) * sizeof *out->items);
	for (size_t i = 0; i < out->n; i++) /* the array moved: re-point the owned definitions */
		if (out->items[i].own_def.name)
			out->items[i].def = &out->items[i].own_def;
	struct resolved_setting *rs = &out->items[out->n++];
	memset(rs, 0, sizeof *rs);
	if (own) {
		setting_def_copy(&rs->own_def, def);
		rs->def = &rs->own_def;
	} else {
		rs->def = def;
	}
	rs->name = xstrdup(def->name);
	rs->kind = def->kind;
	rs->sensitive = def->sensitive || def->kind == KIND_PASSWORD || def->kind == KIND_OAUTH;
	rs->hidden = def->hidden;
	rs->extra = def->name[0] == '_';
	rs->custom = def->custom;
	return rs;
}

/* 1 when name is a setting, or a prefix of one ("a" for "a.b"). */
static int covered(const struct settings *out, const char *name, int *is_prefix)
{
	size_t n = strlen(name);
	*is_prefix = 0;
	for (size_t i = 0; i < out->n; i++) {
		const struct setting_def *d = out->items[i].def;
		if (!strcmp(d->name, name))
			return 1;
		for (size_t a = 0; a < d->naliases; a++)
			if (!strcmp(d->aliases[a], name))
				return 1;
		if (!strncmp(d->name, name, n) && d->name[n] == '.')
			*is_prefix = 1;
	}
	return 0;
}

static enum setting_kind kind_of_value(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return KIND_BOOLEAN;
	if (cJSON_IsNumber(v))
		return v->valuedouble == floor(v->valuedouble) ? KIND_INTEGER : KIND_DECIMAL;
	if (cJSON_IsObject(v))
		return KIND_OBJECT;
	if (cJSON_IsArray(v))
		return KIND_ARRAY;
	return KIND_STRING;
}

/* Config keys no definition declares become custom settings. */
static void add_custom(struct settings *out, const cJSON *cfg, const char *prefix)
{
	for (const cJSON *c = cfg ? cfg->child : NULL; c; c = c->next) {
		char *name = prefix ? xasprintf("%s.%s", prefix, c->string) : xstrdup(c->string);
		int is_prefix;
		if (covered(out, name, &is_prefix)) {
			free(name);
			continue;
		}
		if (is_prefix && cJSON_IsObject(c)) {
			add_custom(out, c, name);
			free(name);
			continue;
		}
		struct setting_def d = { 0 };
		d.name = name;
		d.kind = kind_of_value(c);
		d.custom = 1;
		add_item(out, &d, 1);
		free(name);
	}
}

static void info_vars(struct project *p, struct plugin *pl, struct envlist *e)
{
	envlist_set(e, "MELTANO_PROJECT_ROOT", p->root);
	envlist_set(e, "SMELT_PROJECT_ROOT", p->root);
	envlist_set(e, "MELTANO_SYS_DIR_ROOT", p->sys_dir);
	envlist_set(e, "SMELT_SYS_DIR_ROOT", p->sys_dir);
	if (p->active) {
		envlist_set(e, "MELTANO_ENVIRONMENT", p->active->name);
		envlist_set(e, "SMELT_ENVIRONMENT", p->active->name);
	}
	if (!pl)
		return;
	char *up = settings_env_name(NULL, plugin_type_singular(pl->type));
	char *k;
	const char *variant = NULL;
	char err[256];
	const struct definition *d = project_plugin_def(p, pl, err, sizeof err);
	variant = pl->variant ? pl->variant : d ? d->variant : NULL;
	const char *vals[3] = { pl->name, plugin_namespace(p, pl), variant };
	const char *keys[3] = { "NAME", "NAMESPACE", "VARIANT" };
	for (int i = 0; i < 3; i++) {
		if (!vals[i])
			continue;
		k = xasprintf("MELTANO_%s_%s", up, keys[i]);
		envlist_set(e, k, vals[i]);
		free(k);
		k = xasprintf("SMELT_%s_%s", up, keys[i]);
		envlist_set(e, k, vals[i]);
		free(k);
	}
	free(up);
}

/* Add the strings of an env object, expanded with e itself (later entries see earlier ones). */
static void add_env_object(struct envlist *e, const cJSON *obj)
{
	for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next) {
		char *raw = settings_value_to_string(c);
		if (!raw)
			continue;
		char *x = settings_expand(raw, e, 0, NULL, NULL, 0);
		envlist_set(e, c->string, x ? x : raw);
		free(x);
		free(raw);
	}
}

static void add_dotenv(struct envlist *e, const struct project *p)
{
	for (const cJSON *c = p->dotenv ? p->dotenv->child : NULL; c; c = c->next)
		if (cJSON_IsString(c))
			envlist_set(e, c->string, c->valuestring);
}

/* The variables $VAR in smelt.yml values of pl see (MELTANO.md §5). */
static void build_expand_env(struct project *p, struct plugin *pl, const struct definition *def,
                             const struct env_plugin *ep, struct envlist *e)
{
	add_dotenv(e, p);
	envlist_from_environ(e);
	add_env_object(e, p->env);
	info_vars(p, pl, e);
	if (def && def->env)
		add_env_object(e, def->env);
	if (p->active)
		add_env_object(e, p->active->env);
	if (ep)
		add_env_object(e, ep->env);
}

static int resolve(struct project *p, struct plugin *pl, const cJSON *overrides, unsigned flags, struct settings *out,
                   int depth, char *err, size_t errlen);

static int strict_mode(struct project *p)
{
	const char *v = getenv("MELTANO_FF_STRICT_ENV_VAR_MODE");
	if (v)
		return !strcasecmp(v, "true") || !strcmp(v, "1");
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->doc, "ff"),
	                                                  "strict_env_var_mode");
	return cJSON_IsTrue(j);
}

static int resolve(struct project *p, struct plugin *pl, const cJSON *overrides, unsigned flags, struct settings *out,
                   int depth, char *err, size_t errlen)
{
	struct resolver r = { 0 };
	int rc = 0;
	memset(out, 0, sizeof *out);
	out->plugin_name = xstrdup(pl ? pl->name : "meltano");
	r.p = p;
	r.pl = pl;
	r.overrides = cJSON_IsObject(overrides) ? overrides : NULL;
	r.flags = flags;
	r.err = err;
	r.errlen = errlen;
	r.depth = depth;
	r.strict = strict_mode(p);
	if (depth > MAX_INHERIT_DEPTH)
		return fail(err, errlen, SMELT_ERR_CONFIG, "plugin '%s': inherit_from loops", pl ? pl->name : "");

	if (pl) {
		r.def = project_plugin_def(p, pl, err, errlen);
		if (!r.def)
			return SMELT_ERR_CONFIG;
		r.ep = project_env_plugin(p, pl);
		add_unique(&r.read_prefixes, &r.nread_prefixes, xstrdup(pl->name));
		add_unique(&r.read_prefixes, &r.nread_prefixes, xstrdup(plugin_namespace(p, pl)));
		for (size_t i = 0; i < r.def->nsettings; i++)
			add_item(out, &r.def->settings[i], 0);
		size_t nx;
		const struct extra_def *xs = plugin_type_extras(pl->type, &nx);
		for (size_t i = 0; i < nx; i++) {
			struct setting_def d = { 0 };
			d.name = xasprintf("_%s", xs[i].name);
			d.kind = xs[i].kind;
			d.value = xs[i].default_json ? cJSON_Parse(xs[i].default_json) : NULL;
			/* a definition may declare an extra as a setting: keep that one */
			int dup = 0;
			for (size_t k = 0; k < out->n; k++)
				if (!strcmp(out->items[k].name, d.name))
					dup = 1;
			if (!dup)
				add_item(out, &d, 1);
			free(d.name);
			cJSON_Delete(d.value);
		}
		add_custom(out, pl->config, NULL);
		if (r.ep)
			add_custom(out, r.ep->config, NULL);
		if (pl->parent) {
			r.parent = xcalloc(1, sizeof *r.parent);
			if ((rc = resolve(p, pl->parent, NULL, flags, r.parent, depth + 1, err, errlen)) < 0)
				goto out;
			/* settings the parent's project entry made up are inherited too */
			for (size_t i = 0; i < r.parent->n; i++)
				if (r.parent->items[i].custom) {
					int is_prefix;
					if (!covered(out, r.parent->items[i].name, &is_prefix))
						add_item(out, r.parent->items[i].def, 1);
				}
		}
	} else {
		add_unique(&r.read_prefixes, &r.nread_prefixes, xstrdup("smelt"));
		add_unique(&r.read_prefixes, &r.nread_prefixes, xstrdup("meltano"));
		for (size_t i = 0; i < sizeof project_settings / sizeof project_settings[0]; i++) {
			struct setting_def d = { 0 };
			d.name = (char *)project_settings[i].name;
			d.kind = project_settings[i].kind;
			d.sensitive = project_settings[i].sensitive;
			d.value = project_settings[i].default_json ? cJSON_Parse(project_settings[i].default_json) : NULL;
			add_item(out, &d, 1);
			cJSON_Delete(d.value);
		}
	}
	build_expand_env(p, pl, r.def, r.ep, &r.expand_env);
	{
		/* the env blocks, expanded against the expansion env */
		const cJSON *blocks[4] = { p->env, r.def ? r.def->env : NULL, p->active ? p->active->env : NULL,
			                   r.ep ? r.ep->env : NULL };
		for (int b = 0; b < 4; b++)
			for (const cJSON *c = blocks[b] ? blocks[b]->child : NULL; c; c = c->next) {
				char *raw = settings_value_to_string(c);
				if (!raw)
					continue;
				char *x = settings_expand(raw, &r.expand_env, 0, NULL, NULL, 0);
				envlist_set(&r.env_override, c->string, x ? x : raw);
				free(x);
				free(raw);
			}
	}
	for (size_t i = 0; i < out->n; i++) {
		struct resolved_setting *rs = &out->items[i];
		read_env_names(&r, rs->def, &rs->env, &rs->nenv);
		if ((rc = resolve_one(&r, rs)) < 0) {
			for (size_t k = i; k < out->n; k++)
				if (!out->items[k].value)
					out->items[k].value = cJSON_CreateNull();
			goto out;
		}
	}
out:
	free_strv(r.read_prefixes, r.nread_prefixes);
	envlist_release(&r.expand_env);
	envlist_release(&r.env_override);
	if (r.parent) {
		settings_release(r.parent);
		free(r.parent);
	}
	return rc;
}

int settings_resolve(struct project *p, struct plugin *pl, const cJSON *overrides, unsigned flags,
                     struct settings *out, char *err, size_t errlen)
{
	return resolve(p, pl, overrides, flags, out, 0, err, errlen);
}

void settings_release(struct settings *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct resolved_setting *rs = &s->items[i];
		free(rs->name);
		cJSON_Delete(rs->value);
		cJSON_Delete(rs->unexpanded);
		free_strv(rs->env, rs->nenv);
		setting_def_release(&rs->own_def);
	}
	free(s->items);
	free(s->plugin_name);
	memset(s, 0, sizeof *s);
}

const struct resolved_setting *settings_find(const struct settings *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->items[i].name, name))
			return &s->items[i];
	for (size_t i = 0; i < s->n; i++)
		for (size_t a = 0; a < s->items[i].def->naliases; a++)
			if (!strcmp(s->items[i].def->aliases[a], name))
				return &s->items[i];
	return NULL;
}

cJSON *settings_config_json(const struct settings *s, unsigned flags)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < s->n; i++) {
		const struct resolved_setting *rs = &s->items[i];
		if (cJSON_IsNull(rs->value))
			continue;
		if (rs->extra && !(flags & SETTINGS_EXTRAS))
			continue;
		cJSON *v = (flags & SETTINGS_REDACT) && rs->sensitive ? cJSON_CreateString("*****")
		                                                        : cJSON_Duplicate(rs->value, 1);
		if ((flags & SETTINGS_FLAT) || rs->extra) {
			cJSON_DeleteItemFromObjectCaseSensitive(o, rs->name);
			cJSON_AddItemToObject(o, rs->name, v);
		} else {
			nest_into(o, rs->name, v);
			cJSON_Delete(v);
		}
	}
	return o;
}

/* ---- environments for processes ------------------------------------------------------------ */

/*
 * Each NAME: value of an `env:` block, expanded against scratch (what the
 * process has plus what was built so far), into env and scratch both.
 */
static void add_expanded(struct envlist *env, struct envlist *scratch, const cJSON *block)
{
	for (const cJSON *c = block ? block->child : NULL; c; c = c->next) {
		char *raw = settings_value_to_string(c);
		if (!raw)
			continue;
		char *x = settings_expand(raw, scratch, 0, NULL, NULL, 0);
		envlist_set(env, c->string, x);
		envlist_set(scratch, c->string, x);
		free(x);
		free(raw);
	}
}

int settings_plugin_env(struct project *p, struct plugin *pl, const struct settings *s, struct envlist *env,
                        char *err, size_t errlen)
{
	struct settings own = { 0 };
	int rc;
	if (!s) {
		if ((rc = settings_resolve(p, pl, NULL, 0, &own, err, errlen)) < 0) {
			settings_release(&own);
			return rc;
		}
		s = &own;
	}
	/* expansion sees the process environment and what is built so far */
	struct envlist scratch = ENVLIST_INIT;
	envlist_from_environ(&scratch);
	add_dotenv(&scratch, p);
	add_expanded(env, &scratch, p->env);
	add_dotenv(env, p);
	info_vars(p, pl, env);
	info_vars(p, pl, &scratch);

	/* project settings as MELTANO_* (only those set somewhere) */
	if (pl) {
		struct settings ps = { 0 };
		char perr[256];
		if (settings_resolve(p, NULL, NULL, SETTINGS_NO_DB, &ps, perr, sizeof perr) == 0) {
			for (size_t i = 0; i < ps.n; i++) {
				if (ps.items[i].source == SOURCE_DEFAULT || cJSON_IsNull(ps.items[i].value))
					continue;
				char *k = settings_env_name("meltano", ps.items[i].name);
				char *v = settings_value_to_string(ps.items[i].value);
				envlist_set(env, k, v);
				free(k);
				free(v);
			}
		}
		settings_release(&ps);
	}

	/* settings under every written name */
	char **prefixes = NULL;
	size_t nprefixes = 0;
	if (pl) {
		int depth = 0;
		for (struct plugin *q = pl; q && depth++ < MAX_INHERIT_DEPTH; q = q->parent) {
			add_unique(&prefixes, &nprefixes, xstrdup(q->name));
			add_unique(&prefixes, &nprefixes, xstrdup(plugin_namespace(p, q)));
			if (!q->parent && q->inherit_from)
				add_unique(&prefixes, &nprefixes, xstrdup(q->inherit_from));
		}
		add_unique(&prefixes, &nprefixes, xasprintf("meltano_%s", plugin_type_verb(pl->type)));
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct resolved_setting *rs = &s->items[i];
		char *v = settings_value_to_string(rs->value);
		if (!v)
			continue;
		if (rs->def->env)
			envlist_set(env, rs->def->env, v);
		for (size_t k = 0; k < nprefixes; k++) {
			char *name = settings_env_name(prefixes[k], rs->name);
			envlist_set(env, name, v);
			free(name);
		}
		free(v);
	}
	free_strv(prefixes, nprefixes);
	for (size_t i = 0; i < env->n; i++) {
		const char *eq = strchr(env->vars[i], '=');
		char *name = xstrndup(env->vars[i], (size_t)(eq - env->vars[i]));
		envlist_set(&scratch, name, eq + 1);
		free(name);
	}

	/* the plugin's env, the environment's env, the environment's plugin env */
	const struct definition *def = pl ? project_plugin_def(p, pl, err, errlen) : NULL;
	const struct env_plugin *ep = pl ? project_env_plugin(p, pl) : NULL;
	const cJSON *blocks[3] = { def ? def->env : NULL, p->active ? p->active->env : NULL, ep ? ep->env : NULL };
	for (int b = 0; b < 3; b++) {
		add_expanded(env, &scratch, blocks[b]);
	}
	envlist_release(&scratch);
	settings_release(&own);
	return 0;
}

/* ---- writing ------------------------------------------------------------------------------ */

int settings_store_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "auto"))
		return STORE_AUTO;
	if (!strcmp(s, "yml") || !strcmp(s, "meltano_yml") || !strcmp(s, "smelt_yml"))
		return STORE_YML;
	if (!strcmp(s, "dotenv"))
		return STORE_DOTENV;
	if (!strcmp(s, "db"))
		return STORE_DB;
	return -1;
}

const char *settings_store_label(enum settings_store st, const struct project *p, int in_environment)
{
	switch (st) {
	case STORE_YML:
		return setting_source_label(in_environment ? SOURCE_ENVIRONMENT : SOURCE_PROJECT, p);
	case STORE_DOTENV: return "`.env`";
	case STORE_DB: return "the system database";
	default: return "auto";
	}
}

/* The definition of name for pl (copied into *d, release it), a made-up one when unknown. */
static void def_for(struct project *p, struct plugin *pl, const char *name, struct setting_def *d)
{
	struct settings s = { 0 };
	char err[256];
	memset(d, 0, sizeof *d);
	if (settings_resolve(p, pl, NULL, SETTINGS_NO_DB, &s, err, sizeof err) == 0 || s.n) {
		const struct resolved_setting *rs = settings_find(&s, name);
		if (rs) {
			setting_def_copy(d, rs->def);
			d->kind = rs->kind;
			d->sensitive = rs->sensitive;
			settings_release(&s);
			return;
		}
	}
	settings_release(&s);
	d->name = xstrdup(name);
	d->kind = KIND_STRING;
	d->custom = 1;
}

/* Path segments of a setting inside smelt.yml; caller frees segs[i] from first_owned on. */
struct ypath {
	const char *segs[64];
	char *owned[64];
	size_t n, nowned;
	struct project_file *file;
};

static void ypath_push(struct ypath *y, const char *s)
{
	if (y->n < 64)
		y->segs[y->n++] = s;
}

static void ypath_push_owned(struct ypath *y, char *s)
{
	if (y->nowned < 64)
		y->owned[y->nowned++] = s;
	ypath_push(y, s);
}

static void ypath_release(struct ypath *y)
{
	for (size_t i = 0; i < y->nowned; i++)
		free(y->owned[i]);
}

/* The path of pl's entry (in_env: inside the active environment), without the setting part. */
static void ypath_entry(struct project *p, struct plugin *pl, int in_env, struct ypath *y)
{
	memset(y, 0, sizeof *y);
	if (in_env) {
		y->file = project_file_of(p, &p->active->pos);
		ypath_push(y, "environments");
		ypath_push_owned(y, xasprintf("[name=%s]", p->active->name));
		ypath_push(y, "config");
		ypath_push(y, "plugins");
		ypath_push(y, plugin_type_plural(pl->type));
		ypath_push_owned(y, xasprintf("[name=%s]", pl->name));
	} else {
		y->file = project_file_of(p, &pl->pos);
		ypath_push(y, "plugins");
		ypath_push(y, plugin_type_plural(pl->type));
		ypath_push_owned(y, xasprintf("[name=%s]", pl->name));
	}
}

/* Append the setting part: extras beside config, dotted names nested under config. */
static void ypath_setting(struct ypath *y, const struct plugin *pl, const char *name, int flat)
{
	if (!pl) {
		const char *b = name;
		for (const char *d = strchr(b, '.'); d; b = d + 1, d = strchr(b, '.'))
			ypath_push_owned(y, xstrndup(b, (size_t)(d - b)));
		ypath_push_owned(y, xstrdup(b));
		return;
	}
	if (name[0] == '_') {
		ypath_push_owned(y, xstrdup(name + 1));
		return;
	}
	ypath_push(y, "config");
	if (flat) {
		ypath_push_owned(y, xstrdup(name));
		return;
	}
	const char *b = name;
	for (const char *d = strchr(b, '.'); d; b = d + 1, d = strchr(b, '.'))
		ypath_push_owned(y, xstrndup(b, (size_t)(d - b)));
	ypath_push_owned(y, xstrdup(b));
}

static int readonly_project(struct project *p)
{
	const char *v = getenv("MELTANO_PROJECT_READONLY");
	if (!v)
		v = getenv("SMELT_PROJECT_READONLY");
	if (v)
		return !strcasecmp(v, "true") || !strcmp(v, "1");
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p->doc, "project_readonly"));
}

/* The env var written to .env for a setting: its custom env, else <NAME>_<SETTING>. */
static char *dotenv_name(struct plugin *pl, const struct setting_def *d)
{
	if (d->env)
		return xstrdup(d->env);
	return settings_env_name(pl ? pl->name : "meltano", d->name);
}

/* Does the entry's config hold the dotted name flat? */
static int config_has_flat(const struct plugin *pl, const struct env_plugin *ep, const char *name)
{
	const cJSON *cfg = ep ? ep->config : pl ? pl->config : NULL;
	return cfg && cJSON_GetObjectItemCaseSensitive(cfg, name) != NULL;
}

int settings_set(struct project *p, struct plugin *pl, const char *name, const cJSON *value,
                 enum settings_store store, const char **where, char *err, size_t errlen)
{
	struct setting_def d;
	int rc = 0;
	def_for(p, pl, name, &d);
	cJSON *v = NULL;
	if (cJSON_IsString(value) && !strchr(value->valuestring, '$')) {
		char sub[256];
		v = settings_cast(value, d.kind, &d, sub, sizeof sub);
		if (!v) {
			setting_def_release(&d);
			return fail(err, errlen, SMELT_ERR_CONFIG, "%s", sub);
		}
	} else {
		v = cJSON_Duplicate(value, 1);
	}
	int in_env = 0;
	if (store == STORE_AUTO) {
		if (readonly_project(p))
			store = STORE_DB;
		else if (d.sensitive || d.env_specific)
			store = STORE_DOTENV;
		else
			store = STORE_YML;
		in_env = store == STORE_YML && p->active && pl;
	} else if (store == STORE_YML) {
		in_env = p->active && p->active_explicit && pl;
	}
	if (store == STORE_YML && readonly_project(p)) {
		rc = fail(err, errlen, SMELT_ERR_CONFIG, "the project is read-only (project_readonly)");
		goto out;
	}
	if (where)
		*where = settings_store_label(store, p, in_env);
	if (store == STORE_YML) {
		struct ypath y;
		if (pl) {
			ypath_entry(p, pl, in_env, &y);
		} else {
			memset(&y, 0, sizeof y);
			y.file = p->files[0];
		}
		ypath_setting(&y, pl, name, pl && config_has_flat(pl, in_env ? project_env_plugin(p, pl) : NULL, name));
		rc = project_edit_set(p, y.file, y.segs, y.n, v, err, errlen);
		ypath_release(&y);
		if (rc == 0)
			rc = project_save(p, err, errlen);
	} else if (store == STORE_DOTENV) {
		char *k = dotenv_name(pl, &d);
		char *s = settings_value_to_string(v);
		rc = dotenv_set(p, p->dotenv_path, k, s ? s : "", err, errlen);
		free(k);
		free(s);
	} else {
		const struct settings_db_ops *ops = settings_get_db();
		char *ns = settings_db_namespace(pl);
		struct strbuf sb = STRBUF_INIT;
		json_dump(&sb, v, -2);
		rc = ops->set(ops->ctx, ns, name, sb.buf, err, errlen);
		strbuf_release(&sb);
		free(ns);
	}
out:
	cJSON_Delete(v);
	setting_def_release(&d);
	return rc;
}

static int unset_yml(struct project *p, struct plugin *pl, const char *name, int in_env, int *removed, char *err,
                     size_t errlen)
{
	struct ypath y;
	int rc;
	if (pl) {
		ypath_entry(p, pl, in_env, &y);
	} else {
		memset(&y, 0, sizeof y);
		y.file = p->files[0];
	}
	/* try the flat spelling, then the nested one */
	struct ypath y2 = y;
	memset(y2.owned, 0, sizeof y2.owned);
	y2.nowned = 0;
	ypath_setting(&y, pl, name, 1);
	rc = project_edit_unset(p, y.file, y.segs, y.n, err, errlen);
	if (rc == 1 && strchr(name, '.')) {
		ypath_setting(&y2, pl, name, 0);
		rc = project_edit_unset(p, y2.file, y2.segs, y2.n, err, errlen);
	}
	ypath_release(&y);
	ypath_release(&y2);
	if (rc == 0)
		*removed = 1;
	return rc < 0 ? rc : 0;
}

static int unset_dotenv(struct project *p, struct plugin *pl, const char *name, char *err, size_t errlen)
{
	struct settings s = { 0 };
	char sub[256];
	int rc = 0;
	settings_resolve(p, pl, NULL, SETTINGS_NO_DB, &s, sub, sizeof sub);
	const struct resolved_setting *rs = settings_find(&s, name);
	if (rs) {
		for (size_t i = 0; i < rs->nenv && rc == 0; i++)
			if (cJSON_GetObjectItemCaseSensitive(p->dotenv, rs->env[i]))
				rc = dotenv_set(p, p->dotenv_path, rs->env[i], NULL, err, errlen);
	} else {
		struct setting_def d = { 0 };
		d.name = (char *)name;
		char *k = dotenv_name(pl, &d);
		if (cJSON_GetObjectItemCaseSensitive(p->dotenv, k))
			rc = dotenv_set(p, p->dotenv_path, k, NULL, err, errlen);
		free(k);
	}
	settings_release(&s);
	return rc;
}

int settings_unset(struct project *p, struct plugin *pl, const char *name, enum settings_store store,
                   char *err, size_t errlen)
{
	int rc = 0, removed = 0;
	char *plname = pl ? xstrdup(pl->name) : NULL;
	int type = pl ? (int)pl->type : -1;
	if (store == STORE_AUTO || store == STORE_DB) {
		const struct settings_db_ops *ops = settings_get_db();
		char *ns = settings_db_namespace(pl);
		rc = ops->unset(ops->ctx, ns, name, err, errlen);
		free(ns);
	}
	if (rc == 0 && (store == STORE_AUTO || store == STORE_DOTENV))
		rc = unset_dotenv(p, pl, name, err, errlen);
	if (rc == 0 && (store == STORE_AUTO || store == STORE_YML)) {
		int env_too = p->active && pl && (store == STORE_AUTO || p->active_explicit);
		if (env_too && project_env_plugin(p, pl))
			rc = unset_yml(p, pl, name, 1, &removed, err, errlen);
		if (rc == 0 && (store == STORE_AUTO || !env_too))
			rc = unset_yml(p, pl, name, 0, &removed, err, errlen);
		if (rc == 0 && removed)
			rc = project_save(p, err, errlen);
		/* a nested name leaves its parents behind as {}: prune the empty ones */
		char *parent = xstrdup(name);
		for (char *dot = strrchr(parent, '.'); rc == 0 && dot; dot = strrchr(parent, '.')) {
			*dot = '\0';
			struct plugin *q = plname ? project_find_plugin(p, type, plname) : NULL;
			if (plname && !q)
				break;
			int pruned = 0;
			for (int in_env = 0; in_env < 2 && rc == 0; in_env++) {
				const struct env_plugin *ep = q ? project_env_plugin(p, q) : NULL;
				if (in_env && !ep)
					continue;
				const cJSON *cfg = !q ? p->doc : in_env ? ep->config : q->config;
				const cJSON *v = config_lookup(cfg, parent);
				if (cJSON_IsObject(v) && !v->child) {
					struct ypath y;
					if (q) {
						ypath_entry(p, q, in_env, &y);
					} else {
						memset(&y, 0, sizeof y);
						y.file = p->files[0];
					}
					ypath_setting(&y, q, parent, 0);
					if (project_edit_unset(p, y.file, y.segs, y.n, err, errlen) == 0)
						pruned = 1;
					ypath_release(&y);
				}
			}
			if (!pruned)
				break;
			rc = project_save(p, err, errlen);
		}
		free(parent);
	}
	free(plname);
	return rc;
}

int settings_reset(struct project *p, struct plugin *pl, enum settings_store store, char *err, size_t errlen)
{
	struct settings s = { 0 };
	char sub[256];
	int rc = 0;
	if (store == STORE_AUTO || store == STORE_DB) {
		const struct settings_db_ops *ops = settings_get_db();
		char *ns = settings_db_namespace(pl);
		rc = ops->reset(ops->ctx, ns, err, errlen);
		free(ns);
	}
	settings_resolve(p, pl, NULL, SETTINGS_NO_DB, &s, sub, sizeof sub);
	if (rc == 0 && (store == STORE_AUTO || store == STORE_DOTENV)) {
		for (size_t i = 0; i < s.n && rc == 0; i++)
			for (size_t k = 0; k < s.items[i].nenv && rc == 0; k++)
				if (cJSON_GetObjectItemCaseSensitive(p->dotenv, s.items[i].env[k]))
					rc = dotenv_set(p, p->dotenv_path, s.items[i].env[k], NULL, err, errlen);
	}
	if (rc == 0 && (store == STORE_AUTO || store == STORE_YML) && pl) {
		int removed = 0;
		for (int in_env = 0; in_env < 2 && rc == 0; in_env++) {
			if (in_env && !(p->active && project_env_plugin(p, pl)))
				continue;
			struct ypath y;
			ypath_entry(p, pl, in_env, &y);
			ypath_push(&y, "config");
			int r1 = project_edit_unset(p, y.file, y.segs, y.n, err, errlen);
			if (r1 < 0)
				rc = r1;
			else if (r1 == 0)
				removed = 1;
			y.n--;
			size_t nx;
			const struct extra_def *xs = plugin_type_extras(pl->type, &nx);
			for (size_t i = 0; i < nx && rc == 0; i++) {
				ypath_push(&y, xs[i].name);
				r1 = project_edit_unset(p, y.file, y.segs, y.n, err, errlen);
				if (r1 < 0)
					rc = r1;
				else if (r1 == 0)
					removed = 1;
				y.n--;
			}
			ypath_release(&y);
		}
		if (rc == 0 && removed)
			rc = project_save(p, err, errlen);
	}
	settings_release(&s);
	return rc;
}
