/*
 * settings/env_vars: the environment variables a plugin's settings and the
 * project's settings are written to, as Meltano writes them (its
 * `as_env`); see settings.h.
 */
#include "build_config.h"
#include "settings/settings.h"
#include "settings/internal.h"
#include "project/project.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

#define MAX_INHERIT_DEPTH 16

static void add_unique(char ***v, size_t *n, char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s)) {
			free(s);
			return;
		}
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = s;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Meltano's env_prefixes(for_writing=True): the plugin's name and
 * namespace, then its parent's (recursively; a plugin without a project
 * parent has its definition as parent, of the same name), then
 * meltano_<verb>.
 */
static void write_prefixes(struct project *p, struct plugin *pl, char ***out, size_t *n)
{
	int depth = 0;
	for (struct plugin *q = pl; q && depth++ < MAX_INHERIT_DEPTH; q = q->parent) {
		add_unique(out, n, xstrdup(q->name));
		add_unique(out, n, xstrdup(plugin_namespace(p, q)));
		if (!q->parent && q->inherit_from)
			add_unique(out, n, xstrdup(q->inherit_from));
	}
	add_unique(out, n, xasprintf("meltano_%s", plugin_type_verb(pl->type)));
}

/* The names setting `name` (definition def, may be NULL) is written to, given the prefixes. */
static void write_names(const struct setting_def *def, const char *name, char *const *prefixes, size_t nprefixes,
                        char ***out, size_t *n)
{
	if (def && def->env)
		add_unique(out, n, xstrdup(def->env));
	for (size_t k = 0; k < nprefixes; k++)
		add_unique(out, n, settings_env_name(prefixes[k], name));
	for (size_t k = 0; def && k < def->nenv_aliases; k++)
		if (def->env_aliases[k][0] != '!')
			add_unique(out, n, xstrdup(def->env_aliases[k]));
}

/* Whether Meltano also writes the leaves of this setting's object value (see settings.h). */
static int flattened(const struct resolved_setting *rs)
{
	if (!cJSON_IsObject(rs->value) || !rs->value->child)
		return 0;
	return rs->custom || rs->source == SOURCE_PROJECT || rs->source == SOURCE_ENVIRONMENT ||
	       rs->source == SOURCE_INHERITED || (rs->extra && rs->source == SOURCE_DEFAULT);
}

/* Each leaf of obj (a non-empty object descends, anything else is a leaf) as "<path>.<key>". */
static void leaves(const struct resolved_setting *rs, const cJSON *obj, const char *path, char *const *prefixes,
                   size_t nprefixes, settings_env_fn fn, void *arg)
{
	for (const cJSON *c = obj->child; c; c = c->next) {
		char *name = xasprintf("%s.%s", path, c->string);
		if (cJSON_IsObject(c) && c->child) {
			leaves(rs, c, name, prefixes, nprefixes, fn, arg);
		} else {
			char *v = settings_value_to_string(c);
			char **names = NULL;
			size_t n = 0;
			write_names(NULL, name, prefixes, nprefixes, &names, &n);
			for (size_t i = 0; v && i < n; i++)
				fn(arg, rs, names[i], v);
			strv_free(names, n);
			free(v);
		}
		free(name);
	}
}

void settings_each_env(struct project *p, struct plugin *pl, const struct settings *s, settings_env_fn fn, void *arg)
{
	char **prefixes = NULL;
	size_t nprefixes = 0;
	if (pl)
		write_prefixes(p, pl, &prefixes, &nprefixes);
	else
		add_unique(&prefixes, &nprefixes, xstrdup("meltano"));
	/* every setting under its names; a custom setting whose value is an object has only its leaves */
	for (size_t i = 0; i < s->n; i++) {
		const struct resolved_setting *rs = &s->items[i];
		char *v = settings_value_to_string(rs->value);
		if (!v || (rs->custom && flattened(rs))) {
			free(v);
			continue;
		}
		char **names = NULL;
		size_t n = 0;
		write_names(rs->def, rs->name, prefixes, nprefixes, &names, &n);
		for (size_t k = 0; k < n; k++)
			fn(arg, rs, names[k], v);
		strv_free(names, n);
		free(v);
	}
	/* then the leaves of object values, as the settings Meltano makes up for them */
	for (size_t i = 0; i < s->n; i++)
		if (flattened(&s->items[i]))
			leaves(&s->items[i], s->items[i].value, s->items[i].name, prefixes, nprefixes, fn, arg);
	strv_free(prefixes, nprefixes);
}

static void set_var(void *arg, const struct resolved_setting *rs, const char *name, const char *value)
{
	(void)rs;
	envlist_set(arg, name, value);
}

void settings_config_env(struct project *p, struct plugin *pl, const struct settings *s, struct envlist *env)
{
	settings_each_env(p, pl, s, set_var, env);
}

/* Project settings Meltano does not have: not given to plugins under MELTANO_*. */
static int smelt_only(const char *name)
{
	return !strcmp(name, "lineage.enabled");
}

void settings_project_env(struct project *p, struct envlist *env)
{
	struct settings ps = { 0 };
	char err[256];
	if (settings_resolve(p, NULL, NULL, SETTINGS_NO_DB, &ps, err, sizeof err) == 0) {
		for (size_t i = 0; i < ps.n; i++) {
			if (cJSON_IsNull(ps.items[i].value) || smelt_only(ps.items[i].name))
				continue;
			char *k = settings_env_name("meltano", ps.items[i].name);
			char *v = settings_value_to_string(ps.items[i].value);
			envlist_set(env, k, v);
			free(k);
			free(v);
		}
	}
	settings_release(&ps);
	/* Meltano's project env names its user agent; plugins that call APIs pass it on */
	envlist_set(env, "MELTANO_USER_AGENT", "Smelt/" SMELT_VERSION);
}
