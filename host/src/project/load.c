/* project/load: finding, reading and checking smelt.yml / meltano.yml into the model; see project.h. */
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


/* ---- finding the root -------------------------------------------------------- */

static const char *const project_files[] = { "smelt.yml", "meltano.yml" };

static int find_file_in(const char *dir, char **file)
{
	for (size_t i = 0; i < 2; i++) {
		char *f = path_join(dir, project_files[i]);
		if (file_exists(f)) {
			*file = f;
			return 1;
		}
		free(f);
	}
	return 0;
}

int project_find_root(char **root, char **file, char *err, size_t errlen)
{
	char cwd[PATH_MAX];
	const char *env;
	*root = *file = NULL;
	if (!getcwd(cwd, sizeof cwd))
		return fail(err, errlen, SMELT_ERR, "cannot get the current folder: %s", strerror(errno));
	if (((env = getenv("SMELT_PROJECT_ROOT")) && *env) || ((env = getenv("MELTANO_PROJECT_ROOT")) && *env)) {
		char *abs = env[0] == '/' ? xstrdup(env) : path_join(cwd, env);
		if (!find_file_in(abs, file)) {
			int rc = fail(err, errlen, SMELT_ERR_CONFIG, "no smelt.yml or meltano.yml found in '%s'", abs);
			free(abs);
			return rc;
		}
		*root = abs;
		return 0;
	}
	char *dir = xstrdup(cwd);
	for (;;) {
		if (find_file_in(dir, file)) {
			*root = dir;
			return 0;
		}
		if (!strcmp(dir, "/"))
			break;
		char *up = path_dirname(dir);
		free(dir);
		dir = up;
	}
	free(dir);
	return fail(err, errlen, SMELT_ERR_CONFIG,
	            "no smelt.yml or meltano.yml found in '%s' or its parents; run 'smelt init'", cwd);
}

/* ---- model building ---------------------------------------------------------- */

struct loader {
	struct project *p;
	struct project_file *f;
	const struct ynode *root;
	char *err;
	size_t errlen;
};

static int at_fail(struct loader *l, const struct ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int at_fail(struct loader *l, const struct ynode *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n)
		return fail(l->err, l->errlen, SMELT_ERR_CONFIG, "%s:%d:%d: %s", l->f->rel, n->start.line, n->start.col,
		            msg);
	return fail(l->err, l->errlen, SMELT_ERR_CONFIG, "%s: %s", l->f->rel, msg);
}

static void at_warn(struct loader *l, const struct ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void at_warn(struct loader *l, const struct ynode *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_warn("%s:%d:%d: %s", l->f->rel, n ? n->start.line : 0, n ? n->start.col : 0, msg);
}

static struct src_pos pos_of(struct loader *l, const struct ynode *n)
{
	struct src_pos s = { l->f, n ? n->start.line : 0, n ? n->start.col : 0 };
	return s;
}

static const char *key_str(const struct ynode *k)
{
	k = ynode_deref(k);
	return k && k->type == YN_SCALAR ? k->value : "";
}

/* An extra whose kind is an object must be a mapping, an array a sequence (a string is cast later,
 * null is unset); `metadata` and `schema` hold one mapping per stream pattern.  A list there reached
 * the Singer adapter's catalog rules, which crashed on it (issue 18). */
static int check_extra(struct loader *l, enum plugin_type type, const char *key, const struct ynode *v)
{
	size_t n;
	const struct extra_def *x = plugin_type_extras(type, &n);
	v = ynode_deref(v);
	if (!v || ynode_is_null(v))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(x[i].name, key + (key[0] == '_')))
			continue;
		if (x[i].kind == KIND_OBJECT && v->type != YN_MAP && v->type != YN_SCALAR)
			return at_fail(l, v, "'%s' must be a mapping", key);
		if (x[i].kind == KIND_ARRAY && v->type != YN_SEQ && v->type != YN_SCALAR)
			return at_fail(l, v, "'%s' must be a list", key);
		if (v->type == YN_MAP && (!strcmp(x[i].name, "metadata") || !strcmp(x[i].name, "schema")))
			for (size_t k = 0; k < v->n; k++) {
				const struct ynode *rule = ynode_deref(v->items[2 * k + 1]);
				if (rule && !ynode_is_null(rule) && rule->type != YN_MAP)
					return at_fail(l, rule, "'%s' of stream pattern '%s' must be a mapping", key,
					               key_str(v->items[2 * k]));
			}
	}
	return 0;
}

static int in_list(const char *k, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(k, list[i]))
			return 1;
	return 0;
}

/* A mapping (or null -> NULL, *ok). */
static int want_map(struct loader *l, const struct ynode *n, const char *what, const struct ynode **out)
{
	*out = NULL;
	if (!n || ynode_is_null(n))
		return 0;
	const struct ynode *d = ynode_deref(n);
	if (d->type != YN_MAP)
		return at_fail(l, n, "'%s' must be a mapping", what);
	*out = d;
	return 0;
}

static int want_seq(struct loader *l, const struct ynode *n, const char *what, const struct ynode **out)
{
	*out = NULL;
	if (!n || ynode_is_null(n))
		return 0;
	const struct ynode *d = ynode_deref(n);
	if (d->type != YN_SEQ)
		return at_fail(l, n, "'%s' must be a list", what);
	*out = d;
	return 0;
}

/* A scalar as a string (numbers and booleans as written); NULL for null. */
static int want_str(struct loader *l, const struct ynode *n, const char *what, char **out)
{
	*out = NULL;
	if (!n || ynode_is_null(n))
		return 0;
	const struct ynode *d = ynode_deref(n);
	if (d->type != YN_SCALAR)
		return at_fail(l, n, "'%s' must be a string", what);
	*out = xstrdup(d->value);
	return 0;
}

/* A name that becomes a path (util/names.h), checked where it is read (m's key); NULL passes. */
static int want_name(struct loader *l, const struct ynode *m, const char *key, const char *what, const char *value)
{
	char msg[SMELT_ERRBUF_SIZE];
	if (!value || name_check(what, value, msg, sizeof msg) == 0)
		return 0;
	return at_fail(l, ynode_get(m, key, NULL), "%s", msg);
}

static cJSON *obj_or_empty(const struct ynode *n)
{
	cJSON *j = n ? ynode_to_json(n) : NULL;
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = cJSON_CreateObject();
	}
	return j;
}

static const char *const plugin_keys[] = {
	"name", "variant", "inherit_from", "namespace", "pip_url", "executable", "python", "config", "settings",
	"settings_group_validation", "capabilities", "commands", "env", "requires", "requires_meltano", "label",
	"description", "docs", "repo", "ext_repo", "logo_url", "annotations", "adapter", "hidden", "deprecated",
	"target_schema", "supported_python_versions", NULL,
};

static void plugin_free(struct plugin *pl)
{
	if (!pl)
		return;
	free(pl->name);
	free(pl->variant);
	free(pl->inherit_from);
	free(pl->namespace_);
	free(pl->pip_url);
	free(pl->executable);
	free(pl->python);
	free(pl->adapter);
	free(pl->label);
	cJSON_Delete(pl->config);
	cJSON_Delete(pl->extras);
	definition_release(&pl->entry);
	for (size_t i = 0; i < pl->nmappings; i++) {
		free(pl->mappings[i].name);
		cJSON_Delete(pl->mappings[i].config);
	}
	free(pl->mappings);
	cJSON_Delete(pl->raw);
	if (pl->merged) {
		definition_release(pl->merged);
		free(pl->merged);
	}
	free(pl);
}

static int load_plugin(struct loader *l, enum plugin_type type, const struct ynode *n, struct plugin **out)
{
	const struct ynode *m, *v, *k;
	char what[128];
	int rc;
	*out = NULL;
	snprintf(what, sizeof what, "plugins.%s[]", plugin_type_plural(type));
	if ((rc = want_map(l, n, what, &m)) < 0)
		return rc;
	if (!m)
		return at_fail(l, n, "a plugin entry in 'plugins.%s' must be a mapping with a 'name'",
		               plugin_type_plural(type));
	struct plugin *pl = xcalloc(1, sizeof *pl);
	*out = pl;
	pl->type = type;
	pl->pos = pos_of(l, m);
	definition_init(&pl->entry);
	pl->raw = ynode_to_json(m);
	pl->config = cJSON_CreateObject();
	pl->extras = cJSON_CreateObject();
	if ((rc = want_str(l, ynode_get(m, "name", NULL), "name", &pl->name)) < 0)
		return rc;
	if (!pl->name || !*pl->name)
		return at_fail(l, m, "a plugin in 'plugins.%s' has no 'name'", plugin_type_plural(type));
	if ((rc = want_str(l, ynode_get(m, "variant", NULL), "variant", &pl->variant)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "inherit_from", NULL), "inherit_from", &pl->inherit_from)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "namespace", NULL), "namespace", &pl->namespace_)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "pip_url", NULL), "pip_url", &pl->pip_url)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "executable", NULL), "executable", &pl->executable)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "python", NULL), "python", &pl->python)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "adapter", NULL), "adapter", &pl->adapter)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "label", NULL), "label", &pl->label)) < 0)
		return rc;
	if ((rc = want_name(l, m, "name", "plugin", pl->name)) < 0 ||
	    (rc = want_name(l, m, "inherit_from", "plugin", pl->inherit_from)) < 0 ||
	    (rc = want_name(l, m, "variant", "variant", pl->variant)) < 0)
		return rc;
	const struct ynode *cfg;
	if ((rc = want_map(l, ynode_get(m, "config", NULL), "config", &cfg)) < 0)
		return rc;
	if (cfg) {
		cJSON_Delete(pl->config);
		pl->config = ynode_to_json(cfg);
	}
	/* the entry's own definition: settings, capabilities, commands, env, requires, ... */
	const struct ynode *seq, *map;
	if ((rc = want_seq(l, ynode_get(m, "settings", NULL), "settings", &seq)) < 0)
		return rc;
	if (seq) {
		pl->entry.settings = xcalloc(seq->n + 1, sizeof *pl->entry.settings);
		for (size_t i = 0; i < seq->n; i++) {
			cJSON *sj = ynode_to_json(seq->items[i]);
			char sub[256];
			rc = setting_def_from_json(&pl->entry.settings[pl->entry.nsettings], sj, sub, sizeof sub);
			cJSON_Delete(sj);
			if (rc < 0) {
				setting_def_release(&pl->entry.settings[pl->entry.nsettings]);
				return at_fail(l, seq->items[i], "%s", sub);
			}
			pl->entry.nsettings++;
		}
	}
	if ((rc = want_seq(l, ynode_get(m, "capabilities", NULL), "capabilities", &seq)) < 0)
		return rc;
	if ((v = ynode_get(m, "capabilities", NULL)) && !ynode_is_null(v)) {
		pl->entry.has_capabilities = 1;
		pl->entry.capabilities = xcalloc(seq->n + 1, sizeof *pl->entry.capabilities);
		for (size_t i = 0; i < seq->n; i++) {
			const struct ynode *c = ynode_deref(seq->items[i]);
			if (c->type != YN_SCALAR)
				return at_fail(l, seq->items[i], "'capabilities' must be a list of strings");
			pl->entry.capabilities[pl->entry.ncapabilities++] = xstrdup(c->value);
		}
	}
	if ((rc = want_map(l, ynode_get(m, "commands", NULL), "commands", &map)) < 0)
		return rc;
	if (map) {
		pl->entry.commands = xcalloc(map->n + 1, sizeof *pl->entry.commands);
		for (size_t i = 0; i < map->n; i++) {
			cJSON *cj = ynode_to_json(map->items[2 * i + 1]);
			char sub[256];
			const char *cname = key_str(map->items[2 * i]);
			if (cJSON_IsNull(cj)) {
				cJSON_Delete(cj);
				cj = cJSON_CreateString("");
			}
			rc = plugin_command_from_json(&pl->entry.commands[pl->entry.ncommands], cname, cj, sub, sizeof sub);
			cJSON_Delete(cj);
			if (rc < 0) {
				plugin_command_release(&pl->entry.commands[pl->entry.ncommands]);
				return at_fail(l, map->items[2 * i + 1], "%s", sub);
			}
			pl->entry.ncommands++;
		}
	}
	if ((rc = want_map(l, ynode_get(m, "env", NULL), "env", &map)) < 0)
		return rc;
	if (map)
		pl->entry.env = ynode_to_json(map);
	if ((rc = want_map(l, ynode_get(m, "requires", NULL), "requires", &map)) < 0)
		return rc;
	if (map)
		pl->entry.requires = ynode_to_json(map);
	if ((rc = want_seq(l, ynode_get(m, "settings_group_validation", NULL), "settings_group_validation", &seq)) < 0)
		return rc;
	if (seq)
		pl->entry.settings_group_validation = ynode_to_json(seq);
	pl->entry.type = type;
	pl->entry.name = xstrdup(pl->name);
	pl->entry.namespace_ = pl->namespace_ ? xstrdup(pl->namespace_) : NULL;
	pl->entry.variant = pl->variant ? xstrdup(pl->variant) : NULL;
	pl->entry.pip_url = pl->pip_url ? xstrdup(pl->pip_url) : NULL;
	pl->entry.executable = pl->executable ? xstrdup(pl->executable) : NULL;
	pl->entry.python = pl->python ? xstrdup(pl->python) : NULL;
	pl->entry.label = pl->label ? xstrdup(pl->label) : NULL;
	(void)want_str(l, ynode_get(m, "description", NULL), "description", &pl->entry.description);

	/* extras and unknown keys */
	for (size_t i = 0; i < m->n; i++) {
		k = m->items[2 * i];
		const char *key = key_str(k);
		if (in_list(key, plugin_keys))
			continue;
		if (plugin_type_is_extra(type, key)) {
			if ((rc = check_extra(l, type, key, m->items[2 * i + 1])) < 0)
				return rc;
			cJSON_AddItemToObject(pl->extras, key, ynode_to_json(m->items[2 * i + 1]));
			continue;
		}
		at_warn(l, k, "unknown key '%s' in plugin '%s'", key, pl->name);
	}
	/* mappers: mappings */
	if (type == PLUGIN_MAPPERS && (v = ynode_get(m, "mappings", NULL))) {
		if ((rc = want_seq(l, v, "mappings", &seq)) < 0)
			return rc;
		if (seq) {
			pl->mappings = xcalloc(seq->n + 1, sizeof *pl->mappings);
			for (size_t i = 0; i < seq->n; i++) {
				const struct ynode *mm;
				if ((rc = want_map(l, seq->items[i], "mappings[]", &mm)) < 0)
					return rc;
				char *mname = NULL;
				if (!mm || (rc = want_str(l, ynode_get(mm, "name", NULL), "name", &mname)) < 0 || !mname)
					return rc < 0 ? rc : at_fail(l, seq->items[i], "a mapping of '%s' has no 'name'", pl->name);
				pl->mappings[pl->nmappings].name = mname;
				pl->mappings[pl->nmappings].config = obj_or_empty(ynode_get(mm, "config", NULL));
				pl->nmappings++;
			}
		}
	}
	pl->custom = pl->namespace_ && !pl->inherit_from;
	return 0;
}

static const char *const env_plugin_known[] = { "name", "config", "env", "annotations", NULL };

static void environment_release(struct environment *e)
{
	free(e->name);
	cJSON_Delete(e->env);
	free(e->state_id_suffix);
	for (size_t i = 0; i < e->nplugins; i++) {
		free(e->plugins[i].name);
		cJSON_Delete(e->plugins[i].config);
		cJSON_Delete(e->plugins[i].extras);
		cJSON_Delete(e->plugins[i].env);
	}
	free(e->plugins);
	cJSON_Delete(e->raw);
}

static int load_environment(struct loader *l, const struct ynode *n, struct environment *e)
{
	const struct ynode *m, *cfg, *plugins, *map;
	int rc;
	memset(e, 0, sizeof *e);
	e->env = cJSON_CreateObject();
	if ((rc = want_map(l, n, "environments[]", &m)) < 0)
		return rc;
	if (!m)
		return at_fail(l, n, "an environment must be a mapping with a 'name'");
	e->pos = pos_of(l, m);
	e->raw = ynode_to_json(m);
	if ((rc = want_str(l, ynode_get(m, "name", NULL), "name", &e->name)) < 0)
		return rc;
	if (!e->name || !*e->name)
		return at_fail(l, m, "an environment has no 'name'");
	if (strchr(e->name, ':'))
		return at_fail(l, ynode_get(m, "name", NULL), "environment name '%s' may not contain ':'", e->name);
	if ((rc = want_name(l, m, "name", "environment", e->name)) < 0)
		return rc;
	if ((rc = want_str(l, ynode_get(m, "state_id_suffix", NULL), "state_id_suffix", &e->state_id_suffix)) < 0)
		return rc;
	if ((rc = want_map(l, ynode_get(m, "env", NULL), "env", &map)) < 0)
		return rc;
	if (map) {
		cJSON_Delete(e->env);
		e->env = ynode_to_json(map);
	}
	for (size_t i = 0; i < m->n; i++) {
		const char *key = key_str(m->items[2 * i]);
		if (!in_list(key, (const char *const[]){ "name", "config", "env", "state_id_suffix", "annotations", NULL }))
			at_warn(l, m->items[2 * i], "unknown key '%s' in environment '%s'", key, e->name);
	}
	if ((rc = want_map(l, ynode_get(m, "config", NULL), "config", &cfg)) < 0)
		return rc;
	if (!cfg)
		return 0;
	for (size_t i = 0; i < cfg->n; i++) {
		const char *key = key_str(cfg->items[2 * i]);
		if (strcmp(key, "plugins"))
			at_warn(l, cfg->items[2 * i], "unknown key '%s' in the config of environment '%s'", key, e->name);
	}
	if ((rc = want_map(l, ynode_get(cfg, "plugins", NULL), "config.plugins", &plugins)) < 0)
		return rc;
	if (!plugins)
		return 0;
	size_t total = 0;
	for (size_t i = 0; i < plugins->n; i++) {
		const struct ynode *s = ynode_deref(plugins->items[2 * i + 1]);
		if (s && s->type == YN_SEQ)
			total += s->n;
	}
	e->plugins = xcalloc(total + 1, sizeof *e->plugins);
	for (size_t i = 0; i < plugins->n; i++) {
		const char *tname = key_str(plugins->items[2 * i]);
		int type = plugin_type_parse(tname);
		const struct ynode *seq;
		char what[128];
		if (type < 0 || strcmp(tname, plugin_type_plural(type))) {
			at_warn(l, plugins->items[2 * i], "unknown plugin type '%s' in environment '%s'", tname, e->name);
			continue;
		}
		snprintf(what, sizeof what, "config.plugins.%s", tname);
		if ((rc = want_seq(l, plugins->items[2 * i + 1], what, &seq)) < 0)
			return rc;
		for (size_t j = 0; seq && j < seq->n; j++) {
			const struct ynode *pm;
			struct env_plugin *ep = &e->plugins[e->nplugins];
			if ((rc = want_map(l, seq->items[j], what, &pm)) < 0)
				return rc;
			if (!pm)
				return at_fail(l, seq->items[j], "a plugin in environment '%s' must be a mapping", e->name);
			char *pname = NULL;
			if ((rc = want_str(l, ynode_get(pm, "name", NULL), "name", &pname)) < 0)
				return rc;
			if (!pname)
				return at_fail(l, pm, "a plugin in environment '%s' has no 'name'", e->name);
			ep->type = type;
			ep->name = pname;
			ep->pos = pos_of(l, pm);
			ep->config = obj_or_empty(ynode_get(pm, "config", NULL));
			ep->env = obj_or_empty(ynode_get(pm, "env", NULL));
			ep->extras = cJSON_CreateObject();
			e->nplugins++;
			const struct ynode *c = ynode_get(pm, "config", NULL);
			if (c && !ynode_is_null(c) && ynode_deref(c)->type != YN_MAP)
				return at_fail(l, c, "'config' must be a mapping");
			for (size_t k = 0; k < pm->n; k++) {
				const char *key = key_str(pm->items[2 * k]);
				if (in_list(key, env_plugin_known))
					continue;
				if (plugin_type_is_extra(type, key)) {
					int xrc = check_extra(l, type, key, pm->items[2 * k + 1]);
					if (xrc < 0)
						return xrc;
					cJSON_AddItemToObject(ep->extras, key, ynode_to_json(pm->items[2 * k + 1]));
				} else {
					at_warn(l, pm->items[2 * k], "unknown key '%s' in plugin '%s' of environment '%s'", key,
					        pname, e->name);
				}
			}
		}
	}
	return 0;
}

static void add_words(struct job *j, const char *s)
{
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		const char *b = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		j->args = xrealloc(j->args, (j->nargs + 2) * sizeof *j->args);
		j->args[j->nargs++] = xstrndup(b, (size_t)(p - b));
		j->args[j->nargs] = NULL;
	}
}

static int load_job(struct loader *l, const struct ynode *n, struct job *j)
{
	const struct ynode *m;
	int rc;
	memset(j, 0, sizeof *j);
	if ((rc = want_map(l, n, "jobs[]", &m)) < 0)
		return rc;
	if (!m)
		return at_fail(l, n, "a job must be a mapping with 'name' and 'tasks'");
	j->pos = pos_of(l, m);
	if ((rc = want_str(l, ynode_get(m, "name", NULL), "name", &j->name)) < 0)
		return rc;
	if (!j->name)
		return at_fail(l, m, "a job has no 'name'");
	if ((rc = want_name(l, m, "name", "job", j->name)) < 0)
		return rc;
	const struct ynode *t = ynode_get(m, "tasks", NULL);
	if (!t || ynode_is_null(t))
		return at_fail(l, m, "job '%s' has no 'tasks'", j->name);
	j->tasks = ynode_to_json(t);
	if (cJSON_IsString(j->tasks)) {
		add_words(j, j->tasks->valuestring);
	} else if (cJSON_IsArray(j->tasks)) {
		for (const cJSON *c = j->tasks->child; c; c = c->next) {
			if (cJSON_IsString(c)) {
				add_words(j, c->valuestring);
				continue;
			}
			if (!cJSON_IsArray(c))
				return at_fail(l, t, "the tasks of job '%s' must be strings or lists of strings", j->name);
			for (const cJSON *w = c->child; w; w = w->next) {
				if (!cJSON_IsString(w))
					return at_fail(l, t, "the tasks of job '%s' must be strings or lists of strings", j->name);
				add_words(j, w->valuestring);
			}
		}
	} else {
		return at_fail(l, t, "the tasks of job '%s' must be a string or a list", j->name);
	}
	for (size_t i = 0; i < m->n; i++) {
		const char *key = key_str(m->items[2 * i]);
		if (!in_list(key, (const char *const[]){ "name", "tasks", "annotations", NULL }))
			at_warn(l, m->items[2 * i], "unknown key '%s' in job '%s'", key, j->name);
	}
	return 0;
}

const char *schedule_cron_of(const char *interval)
{
	static const char *const presets[][2] = {
		{ "@hourly", "0 * * * *" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
		{ "@weekly", "0 0 * * 0" },  { "@monthly", "0 0 1 * *" },  { "@yearly", "0 0 1 1 *" },
		{ "@annually", "0 0 1 1 *" }, { "@once", NULL },          { "@manual", NULL },
		{ "@none", NULL },
	};
	if (!interval)
		return NULL;
	for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
		if (!strcmp(interval, presets[i][0]))
			return presets[i][1];
	return interval;
}

static int load_schedule(struct loader *l, const struct ynode *n, struct schedule *s)
{
	const struct ynode *m, *map;
	int rc;
	memset(s, 0, sizeof *s);
	s->env = cJSON_CreateObject();
	if ((rc = want_map(l, n, "schedules[]", &m)) < 0)
		return rc;
	if (!m)
		return at_fail(l, n, "a schedule must be a mapping with a 'name'");
	s->pos = pos_of(l, m);
	if ((rc = want_str(l, ynode_get(m, "name", NULL), "name", &s->name)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "interval", NULL), "interval", &s->interval)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "job", NULL), "job", &s->job)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "extractor", NULL), "extractor", &s->extractor)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "loader", NULL), "loader", &s->loader)) < 0 ||
	    (rc = want_str(l, ynode_get(m, "transform", NULL), "transform", &s->transform)) < 0)
		return rc;
	if (!s->name)
		return at_fail(l, m, "a schedule has no 'name'");
	if ((rc = want_name(l, m, "name", "schedule", s->name)) < 0)
		return rc;
	if (!s->job && !(s->extractor && s->loader))
		return at_fail(l, m, "schedule '%s' needs 'job', or 'extractor' and 'loader'", s->name);
	if (s->transform && strcmp(s->transform, "run") && strcmp(s->transform, "skip") && strcmp(s->transform, "only"))
		return at_fail(l, ynode_get(m, "transform", NULL), "schedule '%s': transform must be run, skip or only",
		               s->name);
	if ((rc = want_map(l, ynode_get(m, "env", NULL), "env", &map)) < 0)
		return rc;
	if (map) {
		cJSON_Delete(s->env);
		s->env = ynode_to_json(map);
	}
	const char *cron = schedule_cron_of(s->interval);
	s->cron = cron ? xstrdup(cron) : NULL;
	for (size_t i = 0; i < m->n; i++) {
		const char *key = key_str(m->items[2 * i]);
		if (!in_list(key, (const char *const[]){ "name", "interval", "job", "extractor", "loader", "transform",
		                                         "env", "annotations", "start_date", NULL }))
			at_warn(l, m->items[2 * i], "unknown key '%s' in schedule '%s'", key, s->name);
	}
	return 0;
}

static const char *const top_keys[] = {
	"version", "project_id", "default_environment", "requires_meltano", "send_anonymous_usage_stats",
	"disable_tracking", "database_uri", "database_max_retries", "database_retry_timeout", "project_readonly",
	"python", "auto_install", "venv", "hub_url", "hub_api_root", "hub_url_auth", "elt", "state_backend", "cli",
	"experimental", "ff", "snowplow", "env", "plugins", "environments", "jobs", "schedules", "include_paths",
	"annotations", "lineage", NULL, /* lineage: Smelt's own (run/lineage.h) */
};
static const char *const include_keys[] = { "plugins", "environments", "jobs", "schedules", "annotations", NULL };

/* Load the plugins, environments, jobs, schedules of one file's root mapping. */
static int load_sections(struct loader *l, const struct ynode *root)
{
	struct project *p = l->p;
	const struct ynode *plugins, *seq;
	int rc;

	for (size_t i = 0; i < root->n; i++) {
		const char *key = key_str(root->items[2 * i]);
		if (!in_list(key, l->f->is_main ? top_keys : include_keys))
			at_warn(l, root->items[2 * i], l->f->is_main ? "unknown key '%s'" : "key '%s' is ignored in an included file",
			        key);
	}
	if ((rc = want_map(l, ynode_get(root, "plugins", NULL), "plugins", &plugins)) < 0)
		return rc;
	for (size_t i = 0; plugins && i < plugins->n; i++) {
		const char *tname = key_str(plugins->items[2 * i]);
		int type = plugin_type_parse(tname);
		char what[64];
		if (type < 0 || strcmp(tname, plugin_type_plural(type))) {
			at_warn(l, plugins->items[2 * i], "unknown plugin type '%s'", tname);
			continue;
		}
		snprintf(what, sizeof what, "plugins.%s", tname);
		if ((rc = want_seq(l, plugins->items[2 * i + 1], what, &seq)) < 0)
			return rc;
		for (size_t j = 0; seq && j < seq->n; j++) {
			struct plugin *pl;
			rc = load_plugin(l, type, seq->items[j], &pl);
			if (rc < 0) {
				plugin_free(pl);
				return rc;
			}
			struct plugin *dup = project_find_plugin(p, type, pl->name);
			if (dup) {
				rc = at_fail(l, seq->items[j], "%s '%s' is defined twice (first at %s:%d)", plugin_type_singular(type),
				             pl->name, dup->pos.file->rel, dup->pos.line);
				plugin_free(pl);
				return rc;
			}
			p->plugins = xrealloc(p->plugins, (p->nplugins + 1) * sizeof *p->plugins);
			p->plugins[p->nplugins++] = pl;
		}
	}
	if ((rc = want_seq(l, ynode_get(root, "environments", NULL), "environments", &seq)) < 0)
		return rc;
	for (size_t j = 0; seq && j < seq->n; j++) {
		p->environments = xrealloc(p->environments, (p->nenvironments + 1) * sizeof *p->environments);
		rc = load_environment(l, seq->items[j], &p->environments[p->nenvironments]);
		p->nenvironments++;
		if (rc < 0)
			return rc;
		for (size_t k = 0; k + 1 < p->nenvironments; k++)
			if (!strcmp(p->environments[k].name, p->environments[p->nenvironments - 1].name))
				return at_fail(l, seq->items[j], "environment '%s' is defined twice", p->environments[k].name);
	}
	if ((rc = want_seq(l, ynode_get(root, "jobs", NULL), "jobs", &seq)) < 0)
		return rc;
	for (size_t j = 0; seq && j < seq->n; j++) {
		p->jobs = xrealloc(p->jobs, (p->njobs + 1) * sizeof *p->jobs);
		rc = load_job(l, seq->items[j], &p->jobs[p->njobs]);
		p->njobs++;
		if (rc < 0)
			return rc;
	}
	if ((rc = want_seq(l, ynode_get(root, "schedules", NULL), "schedules", &seq)) < 0)
		return rc;
	for (size_t j = 0; seq && j < seq->n; j++) {
		p->schedules = xrealloc(p->schedules, (p->nschedules + 1) * sizeof *p->schedules);
		rc = load_schedule(l, seq->items[j], &p->schedules[p->nschedules]);
		p->nschedules++;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void model_release(struct project *p)
{
	for (size_t i = 0; i < p->nplugins; i++)
		plugin_free(p->plugins[i]);
	free(p->plugins);
	for (size_t i = 0; i < p->nenvironments; i++)
		environment_release(&p->environments[i]);
	free(p->environments);
	for (size_t i = 0; i < p->njobs; i++) {
		free(p->jobs[i].name);
		cJSON_Delete(p->jobs[i].tasks);
		for (size_t k = 0; k < p->jobs[i].nargs; k++)
			free(p->jobs[i].args[k]);
		free(p->jobs[i].args);
	}
	free(p->jobs);
	for (size_t i = 0; i < p->nschedules; i++) {
		struct schedule *s = &p->schedules[i];
		free(s->name);
		free(s->interval);
		free(s->cron);
		free(s->job);
		free(s->extractor);
		free(s->loader);
		free(s->transform);
		cJSON_Delete(s->env);
	}
	free(p->schedules);
	cJSON_Delete(p->doc);
	cJSON_Delete(p->env);
	free(p->project_id);
	free(p->default_environment);
	p->plugins = NULL;
	p->nplugins = 0;
	p->environments = NULL;
	p->nenvironments = 0;
	p->jobs = NULL;
	p->njobs = 0;
	p->schedules = NULL;
	p->nschedules = 0;
	p->doc = p->env = NULL;
	p->project_id = p->default_environment = NULL;
	p->active = NULL;
}

static void file_free(struct project_file *f)
{
	if (!f)
		return;
	free(f->path);
	free(f->rel);
	if (f->text) {
		strbuf_release(f->text);
		free(f->text);
	}
	ydoc_free(f->doc);
	free(f);
}

static struct project_file *file_new(const char *path, const char *rel, int is_main)
{
	struct project_file *f = xcalloc(1, sizeof *f);
	f->path = xstrdup(path);
	f->rel = xstrdup(rel);
	f->text = xmalloc(sizeof *f->text);
	strbuf_init(f->text, 0);
	f->is_main = is_main;
	return f;
}

static void add_file(struct project *p, struct project_file *f)
{
	p->files = xrealloc(p->files, (p->nfiles + 1) * sizeof *p->files);
	p->files[p->nfiles++] = f;
}

/* Merge an included file's sections into the JSON doc. */
static void merge_doc(cJSON *doc, const cJSON *inc)
{
	static const char *const lists[] = { "environments", "jobs", "schedules" };
	for (size_t i = 0; i < 3; i++) {
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(inc, lists[i]);
		if (!cJSON_IsArray(src))
			continue;
		cJSON *dst = cJSON_GetObjectItemCaseSensitive(doc, lists[i]);
		if (!cJSON_IsArray(dst)) {
			cJSON_DeleteItemFromObjectCaseSensitive(doc, lists[i]);
			dst = cJSON_AddArrayToObject(doc, lists[i]);
		}
		for (const cJSON *c = src->child; c; c = c->next)
			cJSON_AddItemToArray(dst, cJSON_Duplicate(c, 1));
	}
	const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(inc, "plugins");
	if (!cJSON_IsObject(plugins))
		return;
	cJSON *dp = cJSON_GetObjectItemCaseSensitive(doc, "plugins");
	if (!cJSON_IsObject(dp)) {
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "plugins");
		dp = cJSON_AddObjectToObject(doc, "plugins");
	}
	for (const cJSON *t = plugins->child; t; t = t->next) {
		if (!cJSON_IsArray(t))
			continue;
		cJSON *dst = cJSON_GetObjectItemCaseSensitive(dp, t->string);
		if (!cJSON_IsArray(dst)) {
			cJSON_DeleteItemFromObjectCaseSensitive(dp, t->string);
			dst = cJSON_AddArrayToObject(dp, t->string);
		}
		for (const cJSON *c = t->child; c; c = c->next)
			cJSON_AddItemToArray(dst, cJSON_Duplicate(c, 1));
	}
}

/* Parse every file's text and build the model. */
static int build_model(struct project *p, char *err, size_t errlen)
{
	int rc = 0;
	for (size_t i = 0; i < p->nfiles; i++) {
		struct project_file *f = p->files[i];
		struct loader l = { p, f, NULL, err, errlen };
		ydoc_free(f->doc);
		f->doc = NULL;
		if ((rc = ydoc_parse(f->text->buf, f->text->len, f->rel, &f->doc, err, errlen)) < 0)
			goto out;
		const struct ynode *root = ynode_deref(f->doc->root);
		if (!root || ynode_is_null(root)) {
			if (f->is_main) {
				p->doc = cJSON_CreateObject();
				p->env = cJSON_CreateObject();
			}
			continue;
		}
		if (root->type != YN_MAP) {
			rc = at_fail(&l, root, "the file must hold a mapping");
			goto out;
		}
		if (f->is_main) {
			const struct ynode *map;
			p->doc = ynode_to_json(root);
			if ((rc = want_str(&l, ynode_get(root, "project_id", NULL), "project_id", &p->project_id)) < 0 ||
			    (rc = want_str(&l, ynode_get(root, "default_environment", NULL), "default_environment",
			                   &p->default_environment)) < 0 ||
			    (rc = want_map(&l, ynode_get(root, "env", NULL), "env", &map)) < 0)
				goto out;
			p->env = map ? ynode_to_json(map) : cJSON_CreateObject();
			const struct ynode *seq;
			if ((rc = want_seq(&l, ynode_get(root, "include_paths", NULL), "include_paths", &seq)) < 0)
				goto out;
			const struct ynode *v;
			if ((v = ynode_get(root, "venv", NULL)) && !ynode_is_null(v) && ynode_deref(v)->type != YN_MAP) {
				rc = at_fail(&l, v, "'venv' must be a mapping");
				goto out;
			}
			if ((v = ynode_get(root, "state_backend", NULL)) && !ynode_is_null(v) &&
			    ynode_deref(v)->type != YN_MAP) {
				rc = at_fail(&l, v, "'state_backend' must be a mapping");
				goto out;
			}
		} else {
			cJSON *inc = ynode_to_json(root);
			merge_doc(p->doc, inc);
			cJSON_Delete(inc);
		}
		if ((rc = load_sections(&l, root)) < 0)
			goto out;
	}
	/* resolve inherit_from to project plugins of the same type */
	for (size_t i = 0; i < p->nplugins; i++) {
		struct plugin *pl = p->plugins[i];
		if (!pl->inherit_from)
			continue;
		struct plugin *parent = project_find_plugin(p, (int)pl->type, pl->inherit_from);
		if (parent == pl) {
			struct loader l = { p, pl->pos.file, NULL, err, errlen };
			rc = fail(err, errlen, SMELT_ERR_CONFIG, "%s:%d:%d: plugin '%s' inherits from itself", l.f->rel,
			          pl->pos.line, pl->pos.col, pl->name);
			goto out;
		}
		pl->parent = parent;
	}
	/* cycles */
	for (size_t i = 0; i < p->nplugins; i++) {
		int depth = 0;
		for (struct plugin *q = p->plugins[i]; q; q = q->parent)
			if (++depth > MAX_INHERIT_DEPTH) {
				struct plugin *pl = p->plugins[i];
				rc = fail(err, errlen, SMELT_ERR_CONFIG, "%s:%d:%d: plugin '%s': inherit_from loops", pl->pos.file->rel,
				          pl->pos.line, pl->pos.col, pl->name);
				goto out;
			}
	}
out:
	for (size_t i = 0; i < p->nfiles; i++) {
		ydoc_free(p->files[i]->doc); /* the tree points into text that edits change */
		p->files[i]->doc = NULL;
	}
	if (!p->doc)
		p->doc = cJSON_CreateObject();
	if (!p->env)
		p->env = cJSON_CreateObject();
	return rc;
}

/* Add the include_paths files (globs relative to the root, not escaping it). */
static int load_includes(struct project *p, char *err, size_t errlen)
{
	const cJSON *inc = cJSON_GetObjectItemCaseSensitive(p->doc, "include_paths");
	char *rroot = realpath(p->root, NULL);
	int rc = 0;
	if (!cJSON_IsArray(inc) || !rroot) {
		free(rroot);
		return 0;
	}
	size_t rlen = strlen(rroot);
	for (const cJSON *g = inc->child; g; g = g->next) {
		if (!cJSON_IsString(g))
			continue;
		char *pattern = path_join(p->root, g->valuestring);
		glob_t gl;
		int grc = glob(pattern, 0, NULL, &gl);
		free(pattern);
		if (grc != 0) {
			if (grc != GLOB_NOMATCH)
				log_warn("include_paths: cannot expand '%s'", g->valuestring);
			globfree(&gl);
			continue;
		}
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			char *real = realpath(gl.gl_pathv[i], NULL);
			if (!real || strncmp(real, rroot, rlen) || (real[rlen] != '/' && real[rlen])) {
				log_warn("include_paths: '%s' is outside the project; ignored", gl.gl_pathv[i]);
				free(real);
				continue;
			}
			int seen = 0;
			for (size_t k = 0; k < p->nfiles; k++)
				if (!strcmp(p->files[k]->path, real))
					seen = 1;
			if (!seen) {
				struct project_file *f = file_new(real, real[rlen] ? real + rlen + 1 : real, 0);
				if (read_regular_file(real, FS_CAP_PROJECT, f->text, err, errlen) < 0) {
					rc = SMELT_ERR_CONFIG;
					file_free(f);
					free(real);
					break;
				}
				add_file(p, f);
			}
			free(real);
		}
		globfree(&gl);
		if (rc)
			break;
	}
	free(rroot);
	return rc;
}

static int set_paths(struct project *p, const char *env_file, char *err, size_t errlen)
{
	const char *sys = getenv("SMELT_SYS_DIR_ROOT");
	if (!sys || !*sys)
		sys = getenv("MELTANO_SYS_DIR_ROOT");
	p->sys_dir = sys && *sys ? path_join(p->root, sys) : path_join(p->root, ".smelt");
	p->dotenv_path = env_file ? path_join(p->root, env_file) : path_join(p->root, ".env");
	fs_tighten(p->sys_dir, 0700); /* a system folder an older smelt made 0755 */
	return dotenv_read(p->dotenv_path, &p->dotenv, err, errlen);
}

int project_load(const char *root, const char *file, const char *env_file, struct project **out, char *err,
                 size_t errlen)
{
	char *r = NULL, *f = NULL;
	int rc;
	*out = NULL;
	if (!root || !file) {
		if ((rc = project_find_root(&r, &f, err, errlen)) < 0)
			return rc;
	} else {
		r = xstrdup(root);
		f = xstrdup(file);
	}
	struct project *p = xcalloc(1, sizeof *p);
	p->root = r;
	p->file = f;
	const char *base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
	p->file_name = !strcmp(base, "meltano.yml") ? "meltano.yml" : "smelt.yml";
	struct project_file *main_file = file_new(f, base, 1);
	add_file(p, main_file);
	if (read_regular_file(f, FS_CAP_PROJECT, main_file->text, err, errlen) < 0 ||
	    set_paths(p, env_file, err, errlen) < 0) {
		project_free(p);
		return SMELT_ERR_CONFIG;
	}
	/* first pass on the main file alone to learn include_paths */
	struct ydoc *d = NULL;
	if ((rc = ydoc_parse(main_file->text->buf, main_file->text->len, main_file->rel, &d, err, errlen)) < 0) {
		project_free(p);
		return rc;
	}
	p->doc = d->root ? ynode_to_json(d->root) : cJSON_CreateObject();
	ydoc_free(d);
	rc = load_includes(p, err, errlen);
	cJSON_Delete(p->doc);
	p->doc = NULL;
	if (rc == 0)
		rc = build_model(p, err, errlen);
	if (rc < 0) {
		project_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int project_load_text(const char *name, const char *text, size_t len, struct project **out, char *err,
                      size_t errlen)
{
	struct project *p = xcalloc(1, sizeof *p);
	*out = NULL;
	p->root = xstrdup("/nonexistent");
	p->file = path_join(p->root, name);
	p->file_name = "smelt.yml";
	p->sys_dir = path_join(p->root, ".smelt");
	p->dotenv_path = path_join(p->root, ".env");
	p->dotenv = cJSON_CreateObject();
	struct project_file *f = file_new(p->file, name, 1);
	strbuf_add(f->text, text, len);
	add_file(p, f);
	int rc = build_model(p, err, errlen);
	if (rc < 0) {
		project_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void project_free(struct project *p)
{
	if (!p)
		return;
	model_release(p);
	for (size_t i = 0; i < p->nfiles; i++)
		file_free(p->files[i]);
	free(p->files);
	free(p->root);
	free(p->file);
	free(p->sys_dir);
	free(p->dotenv_path);
	cJSON_Delete(p->dotenv);
	if (p->settings_db && p->settings_db_free)
		p->settings_db_free(p->settings_db);
	if (p->settings_cache && p->settings_cache_free)
		p->settings_cache_free(p->settings_cache);
	free(p);
}

int project_reload(struct project *p, char *err, size_t errlen)
{
	char *active = p->active ? xstrdup(p->active->name) : NULL;
	int explicit_ = p->active_explicit;
	p->model_generation++; /* what was resolved from the old model is stale (settings' memo) */
	model_release(p);
	int rc = build_model(p, err, errlen);
	if (active) {
		p->active = project_find_environment(p, active);
		p->active_explicit = explicit_;
	}
	free(active);
	return rc;
}

/* ---- environments ------------------------------------------------------------ */

int project_select_environment(struct project *p, const char *explicit_name, int no_environment,
                               enum env_behavior behavior, char *err, size_t errlen)
{
	const char *name = NULL;
	int is_explicit = 1;
	p->active = NULL;
	p->active_explicit = 0;
	if (behavior == ENV_NONE)
		return 0;
	if (no_environment)
		return 0;
	if (explicit_name)
		name = explicit_name;
	else if (getenv("SMELT_ENVIRONMENT") && *getenv("SMELT_ENVIRONMENT"))
		name = getenv("SMELT_ENVIRONMENT");
	else if (getenv("MELTANO_ENVIRONMENT") && *getenv("MELTANO_ENVIRONMENT"))
		name = getenv("MELTANO_ENVIRONMENT");
	else {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->dotenv, "SMELT_ENVIRONMENT");
		if (!cJSON_IsString(v) || !*v->valuestring)
			v = cJSON_GetObjectItemCaseSensitive(p->dotenv, "MELTANO_ENVIRONMENT");
		if (cJSON_IsString(v) && *v->valuestring)
			name = v->valuestring;
	}
	if (!name) {
		is_explicit = 0;
		if (behavior == ENV_IGNORE_DEFAULT) {
			if (p->default_environment)
				log_debug("ignoring the default environment '%s' for this command", p->default_environment);
		} else {
			name = p->default_environment;
		}
	}
	if (name && !strcasecmp(name, "null"))
		name = NULL;
	if (!name) {
		if (behavior == ENV_REQUIRED)
			return fail(err, errlen, SMELT_ERR_CONFIG,
			            "an environment must be specified (--environment, $SMELT_ENVIRONMENT or default_environment)");
		return 0;
	}
	struct environment *e = project_find_environment(p, name);
	if (!e)
		return fail(err, errlen, SMELT_ERR_CONFIG, "environment '%s' is not defined in %s", name, p->file_name);
	p->active = e;
	p->active_explicit = is_explicit;
	return 0;
}

