/* project/lookup: finding plugins, environments, jobs and schedules in the model, and plugin definitions; see project.h. */
#include "project/project.h"
#include "project/yaml_doc.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define MAX_INHERIT_DEPTH 16


/* ---- lookups ------------------------------------------------------------------- */

struct plugin *project_find_plugin(const struct project *p, int type, const char *name)
{
	for (size_t i = 0; i < p->nplugins; i++)
		if ((type < 0 || (int)p->plugins[i]->type == type) && !strcmp(p->plugins[i]->name, name))
			return p->plugins[i];
	return NULL;
}

struct plugin *project_find_mapping(const struct project *p, const char *name, const struct plugin_mapping **mapping)
{
	for (size_t i = 0; i < p->nplugins; i++)
		for (size_t k = 0; k < p->plugins[i]->nmappings; k++)
			if (!strcmp(p->plugins[i]->mappings[k].name, name)) {
				if (mapping)
					*mapping = &p->plugins[i]->mappings[k];
				return p->plugins[i];
			}
	return NULL;
}

struct environment *project_find_environment(const struct project *p, const char *name)
{
	for (size_t i = 0; i < p->nenvironments; i++)
		if (!strcmp(p->environments[i].name, name))
			return &p->environments[i];
	return NULL;
}

struct job *project_find_job(const struct project *p, const char *name)
{
	for (size_t i = 0; i < p->njobs; i++)
		if (!strcmp(p->jobs[i].name, name))
			return &p->jobs[i];
	return NULL;
}

struct schedule *project_find_schedule(const struct project *p, const char *name)
{
	for (size_t i = 0; i < p->nschedules; i++)
		if (!strcmp(p->schedules[i].name, name))
			return &p->schedules[i];
	return NULL;
}

const struct env_plugin *project_env_plugin(const struct project *p, const struct plugin *pl)
{
	if (!p->active || !pl)
		return NULL;
	for (size_t i = 0; i < p->active->nplugins; i++)
		if (p->active->plugins[i].type == pl->type && !strcmp(p->active->plugins[i].name, pl->name))
			return &p->active->plugins[i];
	return NULL;
}

const char *plugin_base_name(const struct plugin *pl)
{
	const struct plugin *q = pl;
	int depth = 0;
	while (q->parent && depth++ < MAX_INHERIT_DEPTH)
		q = q->parent;
	return q->inherit_from ? q->inherit_from : q->name;
}

static const char *plugin_variant_of(const struct plugin *pl)
{
	int depth = 0;
	for (const struct plugin *q = pl; q && depth++ < MAX_INHERIT_DEPTH; q = q->parent)
		if (q->variant)
			return q->variant;
	return NULL;
}

char *project_lock_path(const struct project *p, const struct plugin *pl)
{
	const char *variant = plugin_variant_of(pl);
	char *rel = variant ? xasprintf("plugins/%s/%s--%s.lock", plugin_type_plural(pl->type), plugin_base_name(pl), variant)
	                    : xasprintf("plugins/%s/%s.lock", plugin_type_plural(pl->type), plugin_base_name(pl));
	char *path = path_join(p->root, rel);
	free(rel);
	return path;
}

/* Find and parse the base definition: lock file or built-in catalog.  1 found, 0 none, <0 error. */
static int load_base(struct project *p, const struct plugin *pl, struct definition *d, char *err, size_t errlen)
{
	const char *variant = plugin_variant_of(pl);
	const char *base = plugin_base_name(pl);
	int rc;
	if (variant && !strcmp(variant, "smelt")) {
		const char *json = builtin_catalog_json(plugin_type_plural(pl->type), base);
		if (json) {
			cJSON *j = cJSON_Parse(json);
			rc = definition_from_json(d, j, (int)pl->type, err, errlen);
			cJSON_Delete(j);
			return rc < 0 ? rc : 1;
		}
	}
	char *path = project_lock_path(p, pl);
	if (!file_exists(path) && !variant) {
		/* no variant given: a single <name>--<variant>.lock will do */
		char *pattern = xasprintf("%s/plugins/%s/%s--*.lock", p->root, plugin_type_plural(pl->type), base);
		glob_t gl;
		if (glob(pattern, 0, NULL, &gl) == 0 && gl.gl_pathc == 1) {
			free(path);
			path = xstrdup(gl.gl_pathv[0]);
		}
		globfree(&gl);
		free(pattern);
	}
	if (!file_exists(path)) {
		free(path);
		return 0;
	}
	rc = definition_load_file(d, path, (int)pl->type, err, errlen);
	free(path);
	return rc < 0 ? rc : 1;
}

static void merge_definition(struct definition *m, const struct definition *e)
{
#define OVER(field)                          \
	if (e->field) {                          \
		free(m->field);                      \
		m->field = xstrdup(e->field);        \
	}
	OVER(name);
	OVER(namespace_);
	OVER(variant);
	OVER(label);
	OVER(description);
	OVER(pip_url);
	OVER(python);
	OVER(executable);
#undef OVER
	if (e->type >= 0)
		m->type = e->type;
	if (e->has_capabilities) {
		for (size_t i = 0; i < m->ncapabilities; i++)
			free(m->capabilities[i]);
		free(m->capabilities);
		m->capabilities = xcalloc(e->ncapabilities + 1, sizeof *m->capabilities);
		for (size_t i = 0; i < e->ncapabilities; i++)
			m->capabilities[i] = xstrdup(e->capabilities[i]);
		m->ncapabilities = e->ncapabilities;
		m->has_capabilities = 1;
	}
	for (size_t i = 0; i < e->nsettings; i++) {
		size_t k;
		for (k = 0; k < m->nsettings; k++)
			if (!strcmp(m->settings[k].name, e->settings[i].name))
				break;
		if (k == m->nsettings) {
			m->settings = xrealloc(m->settings, (m->nsettings + 1) * sizeof *m->settings);
			m->nsettings++;
		} else {
			setting_def_release(&m->settings[k]);
		}
		setting_def_copy(&m->settings[k], &e->settings[i]);
	}
	for (size_t i = 0; i < e->ncommands; i++) {
		size_t k;
		for (k = 0; k < m->ncommands; k++)
			if (!strcmp(m->commands[k].name, e->commands[i].name))
				break;
		if (k == m->ncommands) {
			m->commands = xrealloc(m->commands, (m->ncommands + 1) * sizeof *m->commands);
			m->ncommands++;
		} else {
			plugin_command_release(&m->commands[k]);
		}
		const struct plugin_command *c = &e->commands[i];
		struct plugin_command *d = &m->commands[k];
		d->name = xstrdup(c->name);
		d->args = c->args ? xstrdup(c->args) : NULL;
		d->description = c->description ? xstrdup(c->description) : NULL;
		d->executable = c->executable ? xstrdup(c->executable) : NULL;
		d->container_spec = c->container_spec ? cJSON_Duplicate(c->container_spec, 1) : NULL;
	}
	if (e->env) {
		if (!m->env)
			m->env = cJSON_CreateObject();
		json_merge(m->env, e->env);
	}
	if (e->requires) {
		cJSON_Delete(m->requires);
		m->requires = cJSON_Duplicate(e->requires, 1);
	}
	if (e->settings_group_validation) {
		cJSON_Delete(m->settings_group_validation);
		m->settings_group_validation = cJSON_Duplicate(e->settings_group_validation, 1);
	}
	if (e->extras) {
		if (!m->extras)
			m->extras = cJSON_CreateObject();
		json_merge(m->extras, e->extras);
	}
}

static const struct definition *plugin_def(struct project *p, struct plugin *pl, int depth, char *err, size_t errlen)
{
	if (pl->merged)
		return pl->merged;
	if (depth > MAX_INHERIT_DEPTH) {
		fail(err, errlen, SMELT_ERR_CONFIG, "plugin '%s': inherit_from loops", pl->name);
		return NULL;
	}
	struct definition *m = xcalloc(1, sizeof *m);
	definition_init(m);
	if (pl->parent) {
		const struct definition *pd = plugin_def(p, pl->parent, depth + 1, err, errlen);
		if (!pd) {
			free(m);
			return NULL;
		}
		merge_definition(m, pd);
		free(m->variant);
		m->variant = pd->variant ? xstrdup(pd->variant) : NULL;
	} else {
		struct definition base;
		definition_init(&base);
		int rc = load_base(p, pl, &base, err, errlen);
		if (rc < 0) {
			definition_release(&base);
			free(m);
			return NULL;
		}
		if (rc > 0) {
			merge_definition(m, &base);
			pl->custom = 0;
		}
		definition_release(&base);
	}
	merge_definition(m, &pl->entry);
	if (!m->namespace_) {
		m->namespace_ = xstrdup(pl->name);
		for (char *c = m->namespace_; *c; c++)
			if (*c == '-')
				*c = '_';
	}
	if (m->type < 0)
		m->type = (int)pl->type;
	pl->merged = m;
	return m;
}

const struct definition *project_plugin_def(struct project *p, struct plugin *pl, char *err, size_t errlen)
{
	if (pl->merged_failed) {
		fail(err, errlen, SMELT_ERR_CONFIG, "plugin '%s': its definition could not be loaded", pl->name);
		return NULL;
	}
	const struct definition *d = plugin_def(p, pl, 0, err, errlen);
	if (!d)
		pl->merged_failed = 1;
	return d;
}

const char *plugin_namespace(struct project *p, struct plugin *pl)
{
	char err[256];
	if (pl->namespace_)
		return pl->namespace_;
	/* a plugin that inherits (inherit_from) takes its own name, as in Meltano: its load schema,
	 * env prefix and MELTANO_<TYPE>_NAMESPACE are its own, not its parent's */
	const struct definition *d = pl->inherit_from ? NULL : project_plugin_def(p, pl, err, sizeof err);
	if (d && d->namespace_)
		return d->namespace_;
	/* fall back without the lock: keep a derived copy in the entry */
	if (!pl->entry.namespace_) {
		pl->entry.namespace_ = xstrdup(pl->name);
		for (char *c = pl->entry.namespace_; *c; c++)
			if (*c == '-')
				*c = '_';
	}
	return pl->entry.namespace_;
}

const char *plugin_claim_namespace(struct project *p, struct plugin *pl)
{
	char err[256];
	if (pl->namespace_ || !pl->inherit_from)
		return plugin_namespace(p, pl);
	const struct definition *d = project_plugin_def(p, pl, err, sizeof err);
	return d && d->namespace_ ? d->namespace_ : plugin_namespace(p, pl);
}
