/* definition: see definition.h. */
#include "project/definition.h"
#include "project/adapter_data.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const type_plural[PLUGIN_TYPE_COUNT] = {
	"extractors", "loaders", "transforms", "orchestrators", "transformers", "files", "utilities", "mappers",
};
static const char *const type_singular[PLUGIN_TYPE_COUNT] = {
	"extractor", "loader", "transform", "orchestrator", "transformer", "file", "utility", "mapper",
};
/* Meltano's PluginType.verb: the type name minus its last 3 characters for orchestrators and files. */
static const char *const type_verb[PLUGIN_TYPE_COUNT] = {
	"extract", "load", "transform", "orchestrat", "transform", "fi", "utilize", "map",
};

const char *plugin_type_plural(enum plugin_type t)
{
	return (unsigned)t < PLUGIN_TYPE_COUNT ? type_plural[t] : "unknown";
}

const char *plugin_type_singular(enum plugin_type t)
{
	return (unsigned)t < PLUGIN_TYPE_COUNT ? type_singular[t] : "unknown";
}

const char *plugin_type_verb(enum plugin_type t)
{
	return (unsigned)t < PLUGIN_TYPE_COUNT ? type_verb[t] : "unknown";
}

int plugin_type_parse(const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; i < PLUGIN_TYPE_COUNT; i++)
		if (!strcasecmp(s, type_plural[i]) || !strcasecmp(s, type_singular[i]))
			return i;
	return -1;
}

/*
 * Extras and their defaults (MELTANO.md section 2; Meltano's EXTRA_SETTINGS
 * of each plugin class) come from the adapter that runs the plugin type:
 * the "extras" of its plugin_types.json (host/src/project/adapter_data.h), e.g.
 * select, metadata, load_schema for extractors from the Singer adapter.
 * File bundles are written by no adapter: their one extra is the host's.
 */
static const struct extra_def extras_files[] = {
	{ "update", KIND_OBJECT, "{}" },
};

/* The extras of every plugin type, built from one scan of the adapters' data; kept until exit. */
struct extras_table {
	const struct adapter_data *from;
	struct extra_def *items[PLUGIN_TYPE_COUNT];
	size_t n[PLUGIN_TYPE_COUNT];
	struct extras_table *next;
};

static pthread_mutex_t extras_lock = PTHREAD_MUTEX_INITIALIZER;
static struct extras_table *extras_tables;

static void extras_add(struct extras_table *t, int type, const char *name, enum setting_kind kind,
                       const char *default_json)
{
	for (size_t i = 0; i < t->n[type]; i++)
		if (!strcmp(t->items[type][i].name, name))
			return; /* the first adapter folder to declare it wins */
	t->items[type] = xrealloc(t->items[type], (t->n[type] + 1) * sizeof *t->items[type]);
	t->items[type][t->n[type]++] = (struct extra_def){ .name = xstrdup(name), .kind = kind,
	                                                   .default_json = default_json ? xstrdup(default_json) : NULL };
}

static struct extras_table *extras_build(const struct adapter_data *d)
{
	struct extras_table *t = xcalloc(1, sizeof *t);
	t->from = d;
	for (size_t i = 0; i < d->ntypes; i++) {
		int type = plugin_type_parse(d->types[i].plugin_type);
		const cJSON *x;
		if (type < 0)
			continue;
		cJSON_ArrayForEach(x, d->types[i].extras) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(x, "name");
			const cJSON *kind = cJSON_GetObjectItemCaseSensitive(x, "kind");
			const cJSON *value = cJSON_GetObjectItemCaseSensitive(x, "value");
			if (!cJSON_IsString(name) || !*name->valuestring || name->valuestring[0] == '_') {
				log_warn("adapter '%s': an extra of %s has no name: skipped", d->types[i].adapter,
				         d->types[i].plugin_type);
				continue;
			}
			char *json = value && !cJSON_IsNull(value) ? cJSON_PrintUnformatted(value) : NULL;
			extras_add(t, type, name->valuestring, setting_kind_parse(cJSON_GetStringValue(kind)), json);
			free(json);
		}
	}
	for (size_t i = 0; i < sizeof extras_files / sizeof extras_files[0]; i++)
		extras_add(t, PLUGIN_FILES, extras_files[i].name, extras_files[i].kind, extras_files[i].default_json);
	return t;
}

const struct extra_def *plugin_type_extras(enum plugin_type t, size_t *n)
{
	*n = 0;
	if ((unsigned)t >= PLUGIN_TYPE_COUNT)
		return NULL;
	const struct adapter_data *d = adapter_data_types(NULL); /* extras only: no definition file is read */
	pthread_mutex_lock(&extras_lock);
	struct extras_table *x = extras_tables;
	while (x && x->from != d)
		x = x->next;
	if (!x) {
		x = extras_build(d);
		x->next = extras_tables;
		extras_tables = x;
	}
	pthread_mutex_unlock(&extras_lock);
	*n = x->n[t];
	return x->items[t];
}

int plugin_type_is_extra(enum plugin_type t, const char *key)
{
	size_t n;
	const struct extra_def *e = plugin_type_extras(t, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(e[i].name, key))
			return 1;
	return 0;
}

static const char *const kind_names[] = {
	"string", "integer", "decimal", "boolean", "date_iso8601", "email", "options",
	"file", "array", "object", "password", "oauth", "hidden",
};

const char *setting_kind_name(enum setting_kind k)
{
	return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "string";
}

enum setting_kind setting_kind_parse(const char *s)
{
	if (!s)
		return KIND_STRING;
	for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
		if (!strcmp(s, kind_names[i]))
			return (enum setting_kind)i;
	return KIND_STRING;
}

void definition_init(struct definition *d)
{
	memset(d, 0, sizeof *d);
	d->type = -1;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void setting_def_release(struct setting_def *s)
{
	if (!s)
		return;
	free(s->name);
	free_strv(s->aliases, s->naliases);
	free(s->env);
	free_strv(s->env_aliases, s->nenv_aliases);
	cJSON_Delete(s->value);
	free(s->label);
	free(s->description);
	cJSON_Delete(s->options);
	free(s->value_processor);
	cJSON_Delete(s->raw);
	memset(s, 0, sizeof *s);
}

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static char **dup_strv(char *const *v, size_t n)
{
	if (!n)
		return NULL;
	char **r = xcalloc(n, sizeof *r);
	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

static cJSON *dupj(const cJSON *j)
{
	return j ? cJSON_Duplicate(j, 1) : NULL;
}

void setting_def_copy(struct setting_def *dst, const struct setting_def *src)
{
	dst->name = dupn(src->name);
	dst->aliases = dup_strv(src->aliases, src->naliases);
	dst->naliases = src->naliases;
	dst->env = dupn(src->env);
	dst->env_aliases = dup_strv(src->env_aliases, src->nenv_aliases);
	dst->nenv_aliases = src->nenv_aliases;
	dst->kind = src->kind;
	dst->value = dupj(src->value);
	dst->label = dupn(src->label);
	dst->description = dupn(src->description);
	dst->options = dupj(src->options);
	dst->sensitive = src->sensitive;
	dst->hidden = src->hidden;
	dst->env_specific = src->env_specific;
	dst->value_processor = dupn(src->value_processor);
	dst->custom = src->custom;
	dst->raw = dupj(src->raw);
}

void plugin_command_release(struct plugin_command *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->args);
	free(c->description);
	free(c->executable);
	cJSON_Delete(c->container_spec);
	memset(c, 0, sizeof *c);
}

void definition_release(struct definition *d)
{
	if (!d)
		return;
	free(d->name);
	free(d->namespace_);
	free(d->variant);
	free(d->label);
	free(d->description);
	free(d->docs);
	free(d->repo);
	free(d->pip_url);
	free(d->python);
	free(d->executable);
	free_strv(d->capabilities, d->ncapabilities);
	for (size_t i = 0; i < d->nsettings; i++)
		setting_def_release(&d->settings[i]);
	free(d->settings);
	cJSON_Delete(d->settings_group_validation);
	for (size_t i = 0; i < d->ncommands; i++)
		plugin_command_release(&d->commands[i]);
	free(d->commands);
	cJSON_Delete(d->requires);
	cJSON_Delete(d->env);
	cJSON_Delete(d->extras);
	cJSON_Delete(d->raw);
	definition_init(d);
}

/* A string member, or NULL; a non-string non-null member is an error. */
static int get_str(const cJSON *o, const char *key, char **out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v)) {
		*out = xstrdup(v->valuestring);
		return 0;
	}
	if (cJSON_IsNumber(v)) { /* e.g. `variant: 2` */
		char *s = cJSON_PrintUnformatted(v);
		*out = xstrdup(s);
		free(s);
		return 0;
	}
	return fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be a string", key);
}

static int get_strv(const cJSON *o, const char *key, char ***out, size_t *n, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	*n = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v)) { /* a single name */
		*out = xcalloc(1, sizeof **out);
		(*out)[(*n)++] = xstrdup(v->valuestring);
		return 0;
	}
	if (!cJSON_IsArray(v))
		return fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be a list of strings", key);
	*out = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof **out);
	for (const cJSON *c = v->child; c; c = c->next) {
		if (!cJSON_IsString(c))
			return fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be a list of strings", key);
		(*out)[(*n)++] = xstrdup(c->valuestring);
	}
	return 0;
}

static int truthy(const cJSON *v)
{
	return cJSON_IsTrue(v) || (cJSON_IsString(v) && (!strcasecmp(v->valuestring, "true")));
}

int setting_def_from_json(struct setting_def *s, const cJSON *json, char *err, size_t errlen)
{
	char *kind = NULL;
	int rc;
	memset(s, 0, sizeof *s);
	if (!cJSON_IsObject(json))
		return fail(err, errlen, SMELT_ERR_CONFIG, "a setting must be a mapping");
	/* a name is a string: a number would be read as its text but locked as nothing (issue 18) */
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(json, "name");
	if (nm && !cJSON_IsString(nm) && !cJSON_IsNull(nm))
		return fail(err, errlen, SMELT_ERR_CONFIG, "a setting's 'name' must be a string");
	if ((rc = get_str(json, "name", &s->name, err, errlen)) < 0)
		return rc;
	if (!s->name || !*s->name)
		return fail(err, errlen, SMELT_ERR_CONFIG, "a setting has no name");
	if ((rc = get_strv(json, "aliases", &s->aliases, &s->naliases, err, errlen)) < 0 ||
	    (rc = get_str(json, "env", &s->env, err, errlen)) < 0 ||
	    (rc = get_strv(json, "env_aliases", &s->env_aliases, &s->nenv_aliases, err, errlen)) < 0 ||
	    (rc = get_str(json, "kind", &kind, err, errlen)) < 0 ||
	    (rc = get_str(json, "label", &s->label, err, errlen)) < 0 ||
	    (rc = get_str(json, "description", &s->description, err, errlen)) < 0 ||
	    (rc = get_str(json, "value_processor", &s->value_processor, err, errlen)) < 0) {
		free(kind);
		return rc;
	}
	s->kind = setting_kind_parse(kind);
	free(kind);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "value");
	if (v && !cJSON_IsNull(v))
		s->value = cJSON_Duplicate(v, 1);
	v = cJSON_GetObjectItemCaseSensitive(json, "options");
	if (cJSON_IsArray(v))
		s->options = cJSON_Duplicate(v, 1);
	s->sensitive = truthy(cJSON_GetObjectItemCaseSensitive(json, "sensitive"));
	s->hidden = truthy(cJSON_GetObjectItemCaseSensitive(json, "hidden"));
	s->env_specific = truthy(cJSON_GetObjectItemCaseSensitive(json, "env_specific"));
	/* password/oauth imply sensitive; hidden kind implies hidden (Meltano SettingDefinition) */
	if (s->kind == KIND_PASSWORD || s->kind == KIND_OAUTH)
		s->sensitive = 1;
	if (s->kind == KIND_HIDDEN)
		s->hidden = 1;
	s->raw = cJSON_Duplicate(json, 1);
	return 0;
}

int plugin_command_from_json(struct plugin_command *c, const char *name, const cJSON *value, char *err,
                             size_t errlen)
{
	int rc;
	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	if (cJSON_IsString(value)) {
		c->args = xstrdup(value->valuestring);
		return 0;
	}
	if (!cJSON_IsObject(value))
		return fail(err, errlen, SMELT_ERR_CONFIG, "command '%s' must be a string or a mapping", name);
	if ((rc = get_str(value, "args", &c->args, err, errlen)) < 0 ||
	    (rc = get_str(value, "description", &c->description, err, errlen)) < 0 ||
	    (rc = get_str(value, "executable", &c->executable, err, errlen)) < 0)
		return rc;
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(value, "container_spec");
	if (cs && !cJSON_IsNull(cs))
		c->container_spec = cJSON_Duplicate(cs, 1);
	return 0;
}

/* Keys a definition knows; anything else at the top level is kept in extras. */
static const char *const known_keys[] = {
	"plugin_type", "name", "namespace", "variant", "label", "docs", "repo", "pip_url", "python",
	"executable", "description", "logo_url", "capabilities", "settings_group_validation", "settings",
	"commands", "requires", "requires_meltano", "env", "supported_python_versions", "hidden",
	"deprecated", "is_default_variant", "keywords", "maintenance_status", "domain_url", "ext_repo",
	"quality", "definition", "next_page", NULL,
};

static int known_key(const char *k)
{
	for (int i = 0; known_keys[i]; i++)
		if (!strcmp(k, known_keys[i]))
			return 1;
	return 0;
}

int definition_from_json(struct definition *d, const cJSON *json, int type_hint, char *err, size_t errlen)
{
	char *type = NULL;
	int rc;
	definition_init(d);
	if (!cJSON_IsObject(json))
		return fail(err, errlen, SMELT_ERR_CONFIG, "a plugin definition must be a JSON object");
	if ((rc = get_str(json, "plugin_type", &type, err, errlen)) < 0)
		return rc;
	d->type = type ? plugin_type_parse(type) : type_hint;
	free(type);
	if ((rc = get_str(json, "name", &d->name, err, errlen)) < 0 ||
	    (rc = get_str(json, "namespace", &d->namespace_, err, errlen)) < 0 ||
	    (rc = get_str(json, "variant", &d->variant, err, errlen)) < 0 ||
	    (rc = get_str(json, "label", &d->label, err, errlen)) < 0 ||
	    (rc = get_str(json, "description", &d->description, err, errlen)) < 0 ||
	    (rc = get_str(json, "docs", &d->docs, err, errlen)) < 0 ||
	    (rc = get_str(json, "repo", &d->repo, err, errlen)) < 0 ||
	    (rc = get_str(json, "pip_url", &d->pip_url, err, errlen)) < 0 ||
	    (rc = get_str(json, "python", &d->python, err, errlen)) < 0 ||
	    (rc = get_str(json, "executable", &d->executable, err, errlen)) < 0)
		return rc;
	if (!d->name || !*d->name)
		return fail(err, errlen, SMELT_ERR_CONFIG, "plugin definition has no name");
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(json, "capabilities");
	if (caps && !cJSON_IsNull(caps)) {
		if ((rc = get_strv(json, "capabilities", &d->capabilities, &d->ncapabilities, err, errlen)) < 0)
			return rc;
		d->has_capabilities = 1;
	}
	const cJSON *settings = cJSON_GetObjectItemCaseSensitive(json, "settings");
	if (settings && !cJSON_IsNull(settings)) {
		if (!cJSON_IsArray(settings))
			return fail(err, errlen, SMELT_ERR_CONFIG, "'settings' must be a list");
		d->settings = xcalloc((size_t)cJSON_GetArraySize(settings) + 1, sizeof *d->settings);
		for (const cJSON *s = settings->child; s; s = s->next) {
			if ((rc = setting_def_from_json(&d->settings[d->nsettings], s, err, errlen)) < 0) {
				setting_def_release(&d->settings[d->nsettings]);
				return rc;
			}
			d->nsettings++;
		}
	}
	const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(json, "commands");
	if (cmds && !cJSON_IsNull(cmds)) {
		if (!cJSON_IsObject(cmds))
			return fail(err, errlen, SMELT_ERR_CONFIG, "'commands' must be a mapping");
		d->commands = xcalloc((size_t)cJSON_GetArraySize(cmds) + 1, sizeof *d->commands);
		for (const cJSON *c = cmds->child; c; c = c->next) {
			if ((rc = plugin_command_from_json(&d->commands[d->ncommands], c->string, c, err, errlen)) < 0) {
				plugin_command_release(&d->commands[d->ncommands]);
				return rc;
			}
			d->ncommands++;
		}
	}
	const cJSON *v;
	if ((v = cJSON_GetObjectItemCaseSensitive(json, "settings_group_validation")) && cJSON_IsArray(v))
		d->settings_group_validation = cJSON_Duplicate(v, 1);
	if ((v = cJSON_GetObjectItemCaseSensitive(json, "requires")) && cJSON_IsObject(v))
		d->requires = cJSON_Duplicate(v, 1);
	if ((v = cJSON_GetObjectItemCaseSensitive(json, "env")) && cJSON_IsObject(v))
		d->env = cJSON_Duplicate(v, 1);
	for (const cJSON *c = json->child; c; c = c->next) {
		if (known_key(c->string))
			continue;
		if (!d->extras)
			d->extras = cJSON_CreateObject();
		cJSON_AddItemToObject(d->extras, c->string, cJSON_Duplicate(c, 1));
	}
	d->raw = cJSON_Duplicate(json, 1);
	return 0;
}

int definition_load_file(struct definition *d, const char *path, int type_hint, char *err, size_t errlen)
{
	char sub[256];
	definition_init(d);
	cJSON *j = json_read_file(path, err, errlen);
	if (!j)
		return SMELT_ERR_CONFIG;
	int rc = definition_from_json(d, j, type_hint, sub, sizeof sub);
	cJSON_Delete(j);
	if (rc < 0) {
		definition_release(d);
		return fail(err, errlen, rc, "%s: %s", path, sub);
	}
	return 0;
}

const struct setting_def *definition_find_setting(const struct definition *d, const char *name)
{
	for (size_t i = 0; i < d->nsettings; i++)
		if (!strcmp(d->settings[i].name, name))
			return &d->settings[i];
	for (size_t i = 0; i < d->nsettings; i++)
		for (size_t a = 0; a < d->settings[i].naliases; a++)
			if (!strcmp(d->settings[i].aliases[a], name))
				return &d->settings[i];
	return NULL;
}

int definition_has_capability(const struct definition *d, const char *cap)
{
	for (size_t i = 0; i < d->ncapabilities; i++)
		if (!strcmp(d->capabilities[i], cap))
			return 1;
	return 0;
}

const struct plugin_command *definition_find_command(const struct definition *d, const char *name)
{
	for (size_t i = 0; i < d->ncommands; i++)
		if (!strcmp(d->commands[i].name, name))
			return &d->commands[i];
	return NULL;
}
