/* settings/storage: where settings are stored: the system-database seam and writing (set, unset, reset); see settings.h. */
#include "settings/settings.h"
#include "settings/internal.h"
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


/* ---- the system-database seam ----------------------------------------------------------- */

/* In memory: one {ns: {name: json}} table per backend; nothing persists. */
static int mem_get(void *ctx, const char *ns, const char *name, char **json_out, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(ctx, ns);
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
	if (!cJSON_IsString(v))
		return 0;
	*json_out = xstrdup(v->valuestring);
	return 1;
}

static int mem_set(void *ctx, const char *ns, const char *name, const char *json, char *err, size_t errlen)
{
	settings_note_write();
	(void)err;
	(void)errlen;
	cJSON *o = cJSON_GetObjectItemCaseSensitive(ctx, ns);
	if (!o)
		o = cJSON_AddObjectToObject(ctx, ns);
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	cJSON_AddStringToObject(o, name, json);
	return 0;
}

static int mem_unset(void *ctx, const char *ns, const char *name, char *err, size_t errlen)
{
	settings_note_write();
	(void)err;
	(void)errlen;
	cJSON *o = cJSON_GetObjectItemCaseSensitive(ctx, ns);
	if (o)
		cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	return 0;
}

static int mem_reset(void *ctx, const char *ns, char *err, size_t errlen)
{
	settings_note_write();
	(void)err;
	(void)errlen;
	cJSON_DeleteItemFromObjectCaseSensitive(ctx, ns);
	return 0;
}

static void mem_close(struct settings_db_ops *self)
{
	cJSON_Delete(self->ctx);
	free(self);
}

struct settings_db_ops *settings_memory_db_new(void)
{
	struct settings_db_ops *db = xcalloc(1, sizeof *db);
	*db = (struct settings_db_ops){ xnonnull(cJSON_CreateObject()), mem_get, mem_set, mem_unset, mem_reset,
		                        mem_close, NULL, NULL };
	return db;
}

/* No backend attached: nothing to read, nowhere to write. */
static int none_get(void *ctx, const char *ns, const char *name, char **json_out, char *err, size_t errlen)
{
	(void)ctx, (void)ns, (void)name, (void)json_out, (void)err, (void)errlen;
	return 0;
}

static int none_set(void *ctx, const char *ns, const char *name, const char *json, char *err, size_t errlen)
{
	(void)ctx, (void)ns, (void)json;
	return fail(err, errlen, SMELT_ERR, "cannot store setting '%s': no system database is open", name);
}

static int none_unset(void *ctx, const char *ns, const char *name, char *err, size_t errlen)
{
	(void)ctx, (void)ns, (void)name, (void)err, (void)errlen;
	return 0;
}

static int none_reset(void *ctx, const char *ns, char *err, size_t errlen)
{
	(void)ctx, (void)ns, (void)err, (void)errlen;
	return 0;
}

static const struct settings_db_ops none_ops = { NULL, none_get, none_set, none_unset, none_reset, NULL, NULL, NULL };

const struct settings_db_ops *settings_db_of(const struct project *p)
{
	return p && p->settings_db ? p->settings_db : &none_ops;
}

static void db_close(struct settings_db_ops *db)
{
	if (db && db->close)
		db->close(db);
}

void settings_db_attach(struct project *p, struct settings_db_ops *db)
{
	if (p->settings_db && p->settings_db_free)
		p->settings_db_free(p->settings_db);
	p->settings_db = db;
	p->settings_db_free = db ? db_close : NULL;
}

char *settings_db_namespace(const struct plugin *pl)
{
	return pl ? xasprintf("%s.%s", plugin_type_plural(pl->type), pl->name) : xstrdup("meltano");
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

static int set_impl(struct project *p, struct plugin *pl, const char *name, const cJSON *value,
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
		const struct settings_db_ops *ops = settings_db_of(p);
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

static int unset_impl(struct project *p, struct plugin *pl, const char *name, enum settings_store store,
                      char *err, size_t errlen)
{
	int rc = 0, removed = 0;
	char *plname = pl ? xstrdup(pl->name) : NULL;
	int type = pl ? (int)pl->type : -1;
	if (store == STORE_AUTO || store == STORE_DB) {
		const struct settings_db_ops *ops = settings_db_of(p);
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
				const cJSON *v = settings_config_lookup(cfg, parent);
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

static int reset_impl(struct project *p, struct plugin *pl, enum settings_store store, char *err, size_t errlen)
{
	struct settings s = { 0 };
	char sub[256];
	int rc = 0;
	if (store == STORE_AUTO || store == STORE_DB) {
		const struct settings_db_ops *ops = settings_db_of(p);
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

/* The writes, then what was resolved before them is stale (settings_note_write()): also after a failure,
 * which may have written part of what it was asked to. */
int settings_set(struct project *p, struct plugin *pl, const char *name, const cJSON *value,
                 enum settings_store store, const char **where, char *err, size_t errlen)
{
	int rc = set_impl(p, pl, name, value, store, where, err, errlen);
	settings_note_write();
	return rc;
}

int settings_unset(struct project *p, struct plugin *pl, const char *name, enum settings_store store,
                   char *err, size_t errlen)
{
	int rc = unset_impl(p, pl, name, store, err, errlen);
	settings_note_write();
	return rc;
}

int settings_reset(struct project *p, struct plugin *pl, enum settings_store store, char *err, size_t errlen)
{
	int rc = reset_impl(p, pl, store, err, errlen);
	settings_note_write();
	return rc;
}
