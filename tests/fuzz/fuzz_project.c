/*
 * fuzz_project - the project-file loader (project_load_text), the YAML
 * node tree, settings resolution on what loaded, and the comment-
 * preserving editor (set / unset / append) on the same text, as a round
 * trip: load, edit, re-parse.  Every edit must either leave the text
 * byte-identical (it failed) or produce text that parses, loads again and
 * holds the value written at its path; anything else aborts.
 */
#include "project/project.h"
#include "project/yaml_doc.h"
#include "settings/settings.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The value at path (keys and [name=X] only) in the tree of text; NULL when absent or unparsable. */
static cJSON *value_at(const struct strbuf *text, const char *const *path, size_t n, cJSON **root)
{
	char err[256];
	struct ydoc *d = NULL;
	*root = NULL;
	if (ydoc_parse(text->buf, text->len, "t", &d, err, sizeof err) < 0)
		abort(); /* an edit that succeeded left text that does not parse */
	*root = d->root ? ynode_to_json(d->root) : NULL;
	ydoc_free(d);
	cJSON *cur = *root;
	for (size_t i = 0; i < n && cur; i++) {
		if (!strncmp(path[i], "[name=", 6)) {
			size_t len = strlen(path[i]) - 7;
			cJSON *found = NULL;
			for (cJSON *c = cJSON_IsArray(cur) ? cur->child : NULL; c; c = c->next) {
				cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
				if (cJSON_IsString(nm) && strlen(nm->valuestring) == len && !strncmp(nm->valuestring, path[i] + 6, len))
					found = c;
			}
			cur = found;
		} else {
			cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, path[i]) : NULL;
		}
	}
	return cur;
}

/* One raw edit with its check. */
static void checked_edit(struct strbuf *text, int op, const char *const *path, size_t n, const cJSON *v)
{
	char err[512];
	struct strbuf before = STRBUF_INIT;
	strbuf_add(&before, text->buf, text->len);
	int rc = op == 0 ? yedit_set(text, "t", path, n, v, err, sizeof err)
	       : op == 1 ? yedit_unset(text, "t", path, n, err, sizeof err)
	                 : yedit_append(text, "t", path, n, v, err, sizeof err);
	if (rc != 0) {
		if (text->len != before.len || memcmp(text->buf, before.buf, text->len))
			abort(); /* a failed (or no-op) edit changed the text */
	} else {
		cJSON *root, *got = value_at(text, path, n, &root);
		if (op == 0 && (!got || !json_equal(got, v)))
			abort(); /* set: the value is not there */
		if (op == 1 && got && n && strncmp(path[n - 1], "[name=", 6))
			abort(); /* unset of a key: still there */
		if (op == 2) {
			cJSON *last = cJSON_IsArray(got) ? cJSON_GetArrayItem(got, cJSON_GetArraySize(got) - 1) : NULL;
			if (!last || !json_equal(last, v))
				abort(); /* append: not the last item */
		}
		cJSON_Delete(root);
	}
	strbuf_release(&before);
}

/*
 * Reload after a project edit: 1 when the model is back.  The text must
 * parse (abort otherwise); the loader may still refuse it (an edit can
 * break a rule such as inherit_from), then 0.
 */
static int reload_checked(struct project *p)
{
	char err[512];
	if (project_reload(p, err, sizeof err) == 0)
		return 1;
	struct ydoc *d = NULL;
	if (ydoc_parse(p->files[0]->text->buf, p->files[0]->text->len, "t", &d, err, sizeof err) < 0)
		abort();
	ydoc_free(d);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct project *p = NULL;
	log_set_level(LOG_LEVEL_DISABLED);
	if (project_load_text("smelt.yml", (const char *)data, size, &p, err, sizeof err) == 0) {
		for (size_t i = 0; i < p->nplugins && i < 8; i++) {
			struct settings s;
			if (settings_resolve(p, p->plugins[i], NULL, SETTINGS_NO_DB, &s, err, sizeof err) == 0) {
				cJSON *cfg = settings_config_json(&s, SETTINGS_EXTRAS | SETTINGS_REDACT);
				char *txt = json_print(cfg);
				free(txt);
				cJSON_Delete(cfg);
			}
			settings_release(&s);
		}
		if (p->nenvironments)
			project_select_environment(p, p->environments[0].name, 0, ENV_IGNORE_DEFAULT, err, sizeof err);
		/* edits through the project: a plugin's config key, a new list item, a removal; after each
		 * successful one the model reloads from the new text */
		cJSON *v = cJSON_CreateString("v: #1");
		int live = 1;
		if (p->nplugins) {
			char *sel = xasprintf("[name=%s]", p->plugins[0]->name);
			const char *path[] = { "plugins", plugin_type_plural(p->plugins[0]->type), sel, "config", "k" };
			if (project_edit_set(p, p->files[0], path, 5, v, err, sizeof err) == 0)
				live = reload_checked(p);
			free(sel);
			if (live && p->nplugins) {
				sel = xasprintf("[name=%s]", p->plugins[0]->name);
				const char *rm[] = { "plugins", plugin_type_plural(p->plugins[0]->type), sel };
				if (project_edit_unset(p, p->files[0], rm, 3, err, sizeof err) == 0)
					live = reload_checked(p);
				free(sel);
			}
		}
		const char *envs[] = { "environments" };
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", "fz");
		if (live && project_edit_append(p, p->files[0], envs, 1, e, err, sizeof err) == 0)
			reload_checked(p);
		cJSON_Delete(e);
		cJSON_Delete(v);
		project_free(p);
	}
	/* the raw editor on any text (also text the loader rejects), each edit checked */
	struct strbuf text = STRBUF_INIT;
	strbuf_add(&text, data, size);
	const char *path[] = { "a", "[name=b]", "c" };
	const char *deep[] = { "plugins", "extractors", "[name=tap-x]", "config", "acct" };
	cJSON *one = cJSON_CreateNumber(1), *big = json_parse_exact("9007199254740993"), *obj = cJSON_Parse("{\"x\":[1]}");
	checked_edit(&text, 0, path, 3, one);
	checked_edit(&text, 0, deep, 5, big);
	checked_edit(&text, 2, deep, 4, obj);
	checked_edit(&text, 1, path, 2, NULL);
	checked_edit(&text, 1, deep, 5, NULL);
	cJSON_Delete(one);
	cJSON_Delete(big);
	cJSON_Delete(obj);
	strbuf_release(&text);
	return 0;
}
