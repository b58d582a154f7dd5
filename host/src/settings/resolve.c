/* settings/resolve: resolving a plugin's settings by precedence and building process environments; see settings.h. */
#include "settings/settings.h"
#include "build_config.h"
#include "project/project.h"
#include "settings/internal.h"
#include "store/pg_uri.h"
#include "util/clock.h"
#include "util/fnv.h"
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
#include <time.h>

extern char **environ;

#define MAX_INHERIT_DEPTH 16

/* process-wide, atomic: threads of one process (smelt serve) may resolve settings at once */
static _Atomic unsigned long db_read_failures; /* reads of the system-database level that failed, ever */
static _Atomic unsigned long db_writes;        /* settings written in this process, ever (settings_note_write()) */

void settings_note_write(void)
{
	db_writes++;
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

/*
 * Expand every string inside v (objects, arrays) in place; *all_empty when
 * v was a string that became "".  A string member of an object that
 * expands to nothing becomes null, as in Meltano, where each leaf of nested
 * config is a setting of its own (a string inside an array stays "").
 */
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
	for (cJSON *c = v ? v->child : NULL; c; c = c->next) {
		int empty = 0;
		if (expand_json(c, env, strict, &empty, err, errlen) < 0)
			return SMELT_ERR_CONFIG;
		if (empty && cJSON_IsObject(v)) { /* the member keeps its key, its value becomes null */
			cJSON_free(c->valuestring);
			c->valuestring = NULL;
			c->type = cJSON_NULL;
		}
	}
	return 0;
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
const cJSON *settings_config_lookup(const cJSON *cfg, const char *name)
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
			const cJSON *x = settings_config_lookup(sub, dot + 1);
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
		const cJSON *v = settings_config_lookup(cfg, nm);
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

/*
 * An object extra (`vars`, `metadata`, `schema`) given in the project file
 * or the active environment, merged as Meltano merges it: leaf by leaf over
 * the definition's default (a Hub transform's `vars`), then the project's,
 * then the environment's.  Takes value (the level that won), returns the
 * merged object.
 */
static cJSON *merge_object_extra(const struct resolver *r, const char *extra, enum setting_source src,
                                 cJSON *value)
{
	const cJSON *levels[3] = {
		r->def && r->def->extras ? cJSON_GetObjectItemCaseSensitive(r->def->extras, extra) : NULL,
		src == SOURCE_ENVIRONMENT && r->pl ? cJSON_GetObjectItemCaseSensitive(r->pl->extras, extra) : NULL,
		value,
	};
	if (!cJSON_IsObject(levels[0]) && !cJSON_IsObject(levels[1]))
		return value;
	cJSON *merged = xnonnull(cJSON_CreateObject());
	for (int i = 0; i < 3; i++)
		if (cJSON_IsObject(levels[i]))
			json_merge(merged, levels[i]);
	cJSON_Delete(value);
	return merged;
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
			v = settings_config_lookup(r->p->doc, s->name);
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
		const struct settings_db_ops *ops = settings_db_of(r->p);
		char dberr[256];
		rc = ops->get(ops->ctx, ns, s->name, &json, dberr, sizeof dberr);
		free(ns);
		if (rc < 0) {
			db_read_failures++; /* such a resolution is not memoised: the next one tries (and warns) again */
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
	if (extra && (src == SOURCE_ENVIRONMENT || src == SOURCE_PROJECT) && cJSON_IsObject(value))
		value = merge_object_extra(r, extra, src, value);
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
	if (!strcmp(rs->name, "database_uri") && pg_uri_has_password(cJSON_GetStringValue(value)))
		rs->sensitive = 1; /* a PostgreSQL URI with a password is a secret: redacted, scrubbed from logs */
	if (rs->sensitive && !cJSON_IsNull(value)) {
		char *txt = settings_value_to_string(value);
		log_add_secret(txt);
		free(txt);
	}
	return 0;
}

static struct resolved_setting *add_item(struct settings *out, const struct setting_def *def, int own)
{
	if (out->n >= out->cap) { /* doubled: a project of many settings costs linear time */
		out->cap = out->n < 8 ? 16 : 2 * out->n;
		out->items = xrealloc(out->items, out->cap * sizeof *out->items);
		for (size_t i = 0; i < out->n; i++) /* the array moved: re-point the owned definitions */
			if (out->items[i].own_def.name)
				out->items[i].def = &out->items[i].own_def;
	}
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

/*
 * Config keys no definition declares become custom settings, one per leaf
 * of nested config (Meltano's SettingDefinition.from_missing over the
 * dot-flattened config): {a: {b: 1, c: 2}} gives "a.b" and "a.c", also
 * when "a" itself is a defined object setting (the leaves are then merged
 * into it when the config is nested, so a child's and a parent's nested
 * keys both count).  Arrays and empty objects are leaves.
 */
static void add_custom(struct settings *out, const cJSON *cfg, const char *prefix)
{
	for (const cJSON *c = cfg ? cfg->child : NULL; c; c = c->next) {
		char *name = prefix ? xasprintf("%s.%s", prefix, c->string) : xstrdup(c->string);
		int is_prefix;
		if (cJSON_IsObject(c) && c->child) {
			add_custom(out, c, name);
			free(name);
			continue;
		}
		if (covered(out, name, &is_prefix)) {
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
	/* "" when none is active, as in Meltano */
	envlist_set(e, "MELTANO_ENVIRONMENT", p->active ? p->active->name : "");
	if (p->active)
		envlist_set(e, "SMELT_ENVIRONMENT", p->active->name);
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
	/* Meltano's project env names the tool in MELTANO_USER_AGENT (definitions use it as a default) */
	if (!envlist_get(e, "MELTANO_USER_AGENT"))
		envlist_set(e, "MELTANO_USER_AGENT", "Smelt/" SMELT_VERSION);
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
			d.env_specific = !strcmp(d.name, "database_uri"); /* as Meltano's settings.yml: `config set` writes .env */
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
	const struct settings_db_ops *ops = settings_db_of(p);
	int began = !(flags & SETTINGS_NO_DB) && ops->read_begin ? ops->read_begin(ops->ctx) : 0;
	for (size_t i = 0; i < out->n; i++) {
		struct resolved_setting *rs = &out->items[i];
		read_env_names(&r, rs->def, &rs->env, &rs->nenv);
		if ((rc = resolve_one(&r, rs)) < 0) {
			for (size_t k = i; k < out->n; k++)
				if (!out->items[k].value)
					out->items[k].value = cJSON_CreateNull();
			break;
		}
	}
	if (ops->read_end)
		ops->read_end(ops->ctx, began);
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

/* ---- the memo of resolutions ----------------------------------------------------------------
 *
 * A command resolves the project's settings (database_uri, lineage, the
 * state backend, MELTANO_* for each plugin's environment) and each of its
 * plugins' (its context for the next plugin, its config file, its
 * environment) several times, each a hundred microseconds or more (every
 * setting looked up in the environment, .env, smelt.yml and the system
 * database).  Without overrides, the result depends only on the plugin
 * (whose definition is loaded once per model), the flags, the process
 * environment, the project model, the active environment and the system
 * database; a resolution is kept
 * with a key of all of them and handed out again (as a copy) while the key
 * holds: the environment by a hash of every variable, the model by its
 * generation (project_reload()), .env and the database by the count of
 * settings this process wrote, or a plugin it ran may have written
 * (settings_note_write()).  What another process
 * writes to the system database is not part of the key: a kept resolution
 * is handed out for MEMO_MS at most, so a long-lived process sees such a
 * value a second later at most, and a command (a tiny run takes 10 ms) reads
 * each plugin's settings from the database about once.  A resolution that
 * failed, or read the system database with an error, is not kept.
 */
#define MEMO_SLOTS 8
#define MEMO_MS 1000

struct memo_entry {
	int used;
	const struct plugin *pl; /* NULL: the project's own settings */
	unsigned flags;
	unsigned long long env_hash;
	unsigned long model_generation, db_writes;
	const struct environment *active;
	const struct settings_db_ops *db;
	long long at_ms; /* when it was resolved (coarse_ms()) */
	struct settings s;
};

struct memo {
	struct memo_entry e[MEMO_SLOTS];
	size_t next; /* the slot replaced next */
};

static void memo_free(void *arg)
{
	struct memo *m = arg;
	for (size_t i = 0; i < MEMO_SLOTS; i++)
		if (m->e[i].used)
			settings_release(&m->e[i].s);
	free(m);
}

/* FNV-1a over every NAME=VALUE of the process environment, in order. */
static uint64_t environ_hash(void)
{
	uint64_t h = FNV1A_INIT;
	for (char **v = environ; v && *v; v++)
		h = fnv1a_sep(fnv1a(h, *v, strlen(*v)));
	return h;
}

static char **copy_strv(char *const *v, size_t n)
{
	char **out = n ? xcalloc(n + 1, sizeof *out) : NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* A deep copy of src into dst (settings_release() frees it as any resolution). */
static void settings_copy(struct settings *dst, const struct settings *src)
{
	memset(dst, 0, sizeof *dst);
	dst->plugin_name = src->plugin_name ? xstrdup(src->plugin_name) : NULL;
	dst->n = dst->cap = src->n;
	dst->items = xcalloc(src->n ? src->n : 1, sizeof *dst->items);
	for (size_t i = 0; i < src->n; i++) {
		const struct resolved_setting *a = &src->items[i];
		struct resolved_setting *b = &dst->items[i];
		*b = *a;
		b->name = xstrdup(a->name);
		b->value = xnonnull(cJSON_Duplicate(a->value, 1));
		b->unexpanded = a->unexpanded ? xnonnull(cJSON_Duplicate(a->unexpanded, 1)) : NULL;
		b->env = copy_strv(a->env, a->nenv);
		memset(&b->own_def, 0, sizeof b->own_def);
		if (a->own_def.name) { /* an owned definition: copied, and pointed at in the copy */
			setting_def_copy(&b->own_def, &a->own_def);
			b->def = &b->own_def;
		}
	}
}

static int resolve_memo(struct project *p, struct plugin *pl, unsigned flags, struct settings *out, char *err,
                        size_t errlen)
{
	struct memo *m = p->settings_cache;
	if (!m) {
		m = xcalloc(1, sizeof *m);
		p->settings_cache = m;
		p->settings_cache_free = memo_free;
	}
	unsigned long long h = environ_hash();
	const struct settings_db_ops *db = settings_db_of(p);
	long long now = coarse_ms();
	for (size_t i = 0; i < MEMO_SLOTS; i++) {
		struct memo_entry *e = &m->e[i];
		if (e->used && e->pl == pl && e->flags == flags && e->env_hash == h &&
		    e->model_generation == p->model_generation &&
		    e->db_writes == db_writes && e->active == p->active && e->db == db && now - e->at_ms < MEMO_MS) {
			settings_copy(out, &e->s);
			return SMELT_OK;
		}
	}
	unsigned long failures = db_read_failures;
	int rc = resolve(p, pl, NULL, flags, out, 0, err, errlen);
	if (rc != SMELT_OK || failures != db_read_failures)
		return rc;
	struct memo_entry *e = &m->e[m->next];
	m->next = (m->next + 1) % MEMO_SLOTS;
	if (e->used)
		settings_release(&e->s);
	*e = (struct memo_entry){ .used = 1, .pl = pl, .flags = flags, .env_hash = h, .model_generation = p->model_generation,
	                          .db_writes = db_writes, .active = p->active, .db = db, .at_ms = now };
	settings_copy(&e->s, out);
	return SMELT_OK;
}

int settings_resolve(struct project *p, struct plugin *pl, const cJSON *overrides, unsigned flags,
                     struct settings *out, char *err, size_t errlen)
{
	if (p && !overrides) /* see the memo above */
		return resolve_memo(p, pl, flags, out, err, errlen);
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
		cJSON *v = rs->extra ? cJSON_Duplicate(rs->value, 1) : settings_post_process(rs, rs->value);
		if ((flags & SETTINGS_REDACT) && settings_redacts(rs, v)) {
			cJSON_Delete(v);
			v = cJSON_CreateString("*****");
		}
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

	/* project settings as MELTANO_* (defaults too, as Meltano gives them) */
	if (pl)
		settings_project_env(p, env);

	/* settings under every written name, and the leaves of object values */
	if (pl)
		settings_config_env(p, pl, s, env);
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
