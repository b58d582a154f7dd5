/*
 * scaffold.c - the dbt project a dbt plugin works in, created on first use.
 *
 * When <project_dir>/dbt_project.yml is missing (project_dir: the
 * plugin's setting, default transform/), the adapter writes a minimal dbt
 * project before the first command runs (and after `smelt install` when
 * the host calls post_install): dbt_project.yml with `profile: smelt`,
 * models/, seeds/, macros/, tests/, a .gitignore for dbt's outputs, and
 * models/sources.yml when the project's extractors say which tables land
 * in this warehouse (tap-csv's `files[].entity`, or the streams of
 * `select` rules without wildcards).  Nothing that exists is overwritten.
 */
#include "dbt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write a file unless it exists; 0 when written or present, -1 on error. */
static int write_new(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	size_t n = strlen(text), off = 0;
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return close(fd);
}

/* A dbt project name from the folder name: [a-z0-9_], starting with a letter. */
static void project_name(const char *root, char *buf, size_t n)
{
	const char *base = strrchr(root, '/');
	base = base ? base + 1 : root;
	size_t k = 0;
	for (const char *c = base; *c && k + 1 < n; c++) {
		char ch = (char)tolower((unsigned char)*c);
		buf[k++] = isalnum((unsigned char)ch) ? ch : '_';
	}
	buf[k] = '\0';
	if (!k || !isalpha((unsigned char)buf[0]) || k > 60)
		snprintf(buf, n, "smelt_project");
}

/* ---- sources ---- */

struct names {
	char **v;
	size_t n;
};

static int names_add(struct names *ns, const char *s, size_t len)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strlen(ns->v[i]) == len && !strncmp(ns->v[i], s, len))
			return 0;
	char **v = realloc(ns->v, (ns->n + 1) * sizeof *v);
	if (!v)
		return -1;
	ns->v = v;
	if (!(v[ns->n] = strndup(s, len)))
		return -1;
	ns->n++;
	return 0;
}

static void names_release(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = 0;
}

/* The tables an extractor loads, when its settings name them. */
static int extractor_tables(struct dbt *d, const struct smelt_plugin *ex, struct names *out)
{
	char *json = NULL, err[SMELT_ERRBUF_SIZE];
	if (d->host->config_json(d->hctx, ex, SMELT_CFG_EXTRAS, &json, err, sizeof err))
		return 0;
	cJSON *cfg = cJSON_Parse(json);
	d->host->free(json);
	int rc = 0;
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(cfg, "files");
	const cJSON *e;
	cJSON_ArrayForEach(e, files)
	{
		const cJSON *entity = cJSON_GetObjectItemCaseSensitive(e, "entity");
		if (cJSON_IsString(entity) && entity->valuestring[0])
			rc |= names_add(out, entity->valuestring, strlen(entity->valuestring));
	}
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(cfg, "_select");
	cJSON_ArrayForEach(e, sel)
	{
		if (!cJSON_IsString(e) || e->valuestring[0] == '!')
			continue;
		const char *s = e->valuestring;
		size_t len = strcspn(s, ".");
		if (len && strcspn(s, "*?[") >= len)
			rc |= names_add(out, s, len);
	}
	cJSON_Delete(cfg);
	return rc;
}

/* A plain schema name from a setting, NULL when unset or not resolved ($VAR left). */
static char *plain_setting(struct dbt *d, const struct smelt_plugin *p, const char *name)
{
	char *v = dbt_setting_str(d, p, name);
	if (v && strchr(v, '$')) {
		free(v);
		v = NULL;
	}
	return v;
}

/* The loader of the project that writes to this kind of warehouse, NULL when none. */
static const struct smelt_plugin *warehouse_loader(struct dbt *d, enum dbt_kind kind)
{
	const struct smelt_plugin *list[64];
	size_t n = d->host->plugin_list(d->hctx, SMELT_PT_LOADER, list, 64);
	const char *want = dbt_kind_name(kind);
	if (!want)
		return NULL;
	for (size_t i = 0; i < n && i < 64; i++) {
		const char *name = dbt_attr(d, list[i], "name"), *ns = dbt_attr(d, list[i], "namespace");
		if ((name && strstr(name, want)) || (ns && strstr(ns, want)))
			return list[i];
	}
	return NULL;
}

/* models/sources.yml text, NULL when no table is known. */
static char *sources_yaml(struct dbt *d, enum dbt_kind kind)
{
	const struct smelt_plugin *loader = warehouse_loader(d, kind);
	if (!loader)
		return NULL;
	const struct smelt_plugin *ex[64];
	size_t n = d->host->plugin_list(d->hctx, SMELT_PT_EXTRACTOR, ex, 64);
	char *text = NULL, *loader_schema = kind == DBT_KIND_SQLITE ? NULL : plain_setting(d, loader, "default_target_schema");
	size_t len = 0, cap = 0;
	int any = 0;
	for (size_t i = 0; i < n && i < 64; i++) {
		struct names tables = { 0 };
		if (extractor_tables(d, ex[i], &tables) || !tables.n) {
			names_release(&tables);
			continue;
		}
		const char *ns = dbt_attr(d, ex[i], "namespace");
		const char *name = ns ? ns : dbt_attr(d, ex[i], "name");
		/* where the loader puts them: its default_target_schema, else the extractor's load schema */
		char *schema = kind == DBT_KIND_SQLITE ? strdup("main")
		               : loader_schema ? strdup(loader_schema)
		                               : plain_setting(d, ex[i], "_load_schema");
		if (!schema)
			schema = strdup(name);
		char *part = kit_asprintf("  - name: %s\n    description: \"Tables %s loads with %s\"\n    schema: %s\n"
		                        "    tables:\n",
		                        name, dbt_attr(d, ex[i], "name"), dbt_attr(d, loader, "name"),
		                        schema ? schema : name);
		free(schema);
		for (size_t t = 0; part && t < tables.n; t++) {
			char *more = kit_asprintf("%s      - name: %s\n", part, tables.v[t]);
			free(part);
			part = more;
		}
		names_release(&tables);
		if (!part)
			break;
		size_t pl = strlen(part);
		if (len + pl + 1 > cap) {
			cap = (len + pl + 1) * 2;
			char *b = realloc(text, cap);
			if (!b) {
				free(part);
				break;
			}
			text = b;
		}
		memcpy(text + len, part, pl + 1);
		len += pl;
		free(part);
		any = 1;
	}
	free(loader_schema);
	if (!any) {
		free(text);
		return NULL;
	}
	char *doc = kit_asprintf("# The tables the project's extractors load into the warehouse, written by smelt\n"
	                       "# when it created this dbt project.  Use them as {{ source('<name>', '<table>') }}.\n"
	                       "version: 2\n\nsources:\n%s",
	                       text);
	free(text);
	return doc;
}

int dbt_scaffold(struct dbt *d, const struct smelt_plugin *p, const struct dbt_paths *paths, enum dbt_kind kind,
                 int *created, char *err, size_t errlen)
{
	*created = 0;
	char *proj = kit_asprintf("%s/dbt_project.yml", paths->project_dir);
	if (!proj)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (dbt_exists(proj)) {
		free(proj);
		return SMELT_OK;
	}
	static const char *const dirs[] = { "models", "seeds", "macros", "tests", NULL };
	int rc = SMELT_OK;
	char name[64], *text = NULL, *path = NULL, *sources = NULL;
	if (kit_mkdirs(paths->project_dir, 0755)) {
		rc = kit_fail(err, errlen, SMELT_ERR, "cannot create '%s': %s", paths->project_dir, strerror(errno));
		goto out;
	}
	for (size_t i = 0; dirs[i]; i++) {
		char *dir = kit_asprintf("%s/%s", paths->project_dir, dirs[i]);
		int bad = !dir || kit_mkdirs(dir, 0755);
		free(dir);
		if (bad) {
			rc = kit_fail(err, errlen, SMELT_ERR, "cannot create '%s/%s'", paths->project_dir, dirs[i]);
			goto out;
		}
	}
	project_name(paths->root, name, sizeof name);
	text = kit_asprintf("# The dbt project of this Smelt project, created by smelt for '%s'.\n"
	                  "# smelt writes the profile 'smelt' (profiles.yml) from the plugin's settings\n"
	                  "# for every command: see `smelt invoke %s:profile`.\n"
	                  "name: %s\n"
	                  "version: \"1.0.0\"\n"
	                  "config-version: 2\n"
	                  "profile: smelt\n"
	                  "\n"
	                  "model-paths: [\"models\"]\n"
	                  "seed-paths: [\"seeds\"]\n"
	                  "macro-paths: [\"macros\"]\n"
	                  "test-paths: [\"tests\"]\n"
	                  "clean-targets: [\"target\", \"dbt_packages\"]\n"
	                  "\n"
	                  "flags:\n"
	                  "  send_anonymous_usage_stats: false\n"
	                  "  version_check: false\n"
	                  "\n"
	                  "models:\n"
	                  "  %s:\n"
	                  "    +materialized: table\n",
	                  dbt_attr(d, p, "name"), dbt_attr(d, p, "name"), name, name);
	if (!text || !(path = kit_asprintf("%s/.gitignore", paths->project_dir))) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (write_new(path, "target/\nlogs/\ndbt_packages/\n")) {
		rc = kit_fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	free(path);
	path = NULL;
	if ((sources = sources_yaml(d, kind))) {
		if (!(path = kit_asprintf("%s/models/sources.yml", paths->project_dir)) || write_new(path, sources)) {
			rc = kit_fail(err, errlen, SMELT_ERR, "cannot write '%s/models/sources.yml'", paths->project_dir);
			goto out;
		}
	}
	/* dbt_project.yml last: its presence means "the project exists" */
	if (write_new(proj, text)) {
		rc = kit_fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", proj, strerror(errno));
		goto out;
	}
	*created = 1;
	DBT_LOG(d, SMELT_LOG_INFO, "created the dbt project of '%s' in '%s'%s", dbt_attr(d, p, "name"),
	        paths->project_dir, sources ? " with models/sources.yml" : "");
out:
	free(proj);
	free(text);
	free(path);
	free(sources);
	return rc;
}
