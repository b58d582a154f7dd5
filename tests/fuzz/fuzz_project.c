/*
 * fuzz_project - the project-file loader (project_load_text), the YAML
 * node tree, settings resolution on what loaded, and the comment-
 * preserving editor (set / unset / append) on the same text.
 */
#include "project/project.h"
#include "project/yaml_doc.h"
#include "settings/settings.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
				cJSON_Delete(cfg);
			}
			settings_release(&s);
		}
		if (p->nenvironments)
			project_select_environment(p, p->environments[0].name, 0, ENV_IGNORE_DEFAULT, err, sizeof err);
		/* edits: a plugin's config key, a new list item, a removal */
		cJSON *v = cJSON_CreateString("v: #1");
		if (p->nplugins) {
			char *sel = xasprintf("[name=%s]", p->plugins[0]->name);
			const char *path[] = { "plugins", plugin_type_plural(p->plugins[0]->type), sel, "config", "k" };
			if (project_edit_set(p, p->files[0], path, 5, v, err, sizeof err) == 0)
				project_reload(p, err, sizeof err);
			if (project_edit_unset(p, p->files[0], path, 3, err, sizeof err) == 0)
				project_reload(p, err, sizeof err);
			free(sel);
		}
		const char *envs[] = { "environments" };
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", "fz");
		if (project_edit_append(p, p->files[0], envs, 1, e, err, sizeof err) == 0)
			project_reload(p, err, sizeof err);
		cJSON_Delete(e);
		cJSON_Delete(v);
		project_free(p);
	}
	/* the raw editor on any text (also text the loader rejects) */
	struct strbuf text = STRBUF_INIT;
	strbuf_add(&text, data, size);
	const char *path[] = { "a", "[name=b]", "c" };
	cJSON *v = cJSON_CreateNumber(1);
	yedit_set(&text, "t", path, 3, v, err, sizeof err);
	yedit_unset(&text, "t", path, 2, err, sizeof err);
	cJSON_Delete(v);
	strbuf_release(&text);
	return 0;
}
