/*
 * builtin: the catalog the adapters ship; see builtin.h.
 *
 * The definitions are JSON files in plugins/<adapter>/definitions/,
 * installed into the adapter's data folder.  The settings of the native
 * connectors are the ones their programs read (plugins/singer/connectors/):
 * when a connector gains or renames a setting, change its definition too.
 */
#include "hub/builtin.h"
#include "hub/lock.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

const struct adapter_definition *builtin_find(const char *project_root, const char *plugin_type, const char *name,
                                              const char *variant)
{
	int any_variant = !variant || !*variant || !strcmp(variant, "default");
	const struct adapter_data *d = adapter_data_get(project_root);
	for (size_t i = 0; i < d->ndefs; i++) {
		const struct adapter_definition *e = &d->defs[i];
		if (plugin_type && strcmp(plugin_type, e->plugin_type))
			continue;
		if (strcmp(name, e->name))
			continue;
		if (any_variant || !strcmp(variant, e->variant))
			return e;
	}
	return NULL;
}

cJSON *builtin_definition(const char *project_root, const char *plugin_type, const char *name,
                          const char *variant)
{
	const struct adapter_definition *e = builtin_find(project_root, plugin_type, name, variant);
	return e ? lock_parse_json(e->json, strlen(e->json), NULL, 0) : NULL;
}

const struct adapter_definition *builtin_entries(const char *project_root, size_t *n)
{
	const struct adapter_data *d = adapter_data_get(project_root);
	*n = d->ndefs;
	return d->defs;
}

int builtin_native(const struct adapter_definition *e)
{
	return !e->has_pip_url;
}

char *builtin_executable(const char *libexec_dir, const cJSON *def)
{
	const cJSON *variant = cJSON_GetObjectItemCaseSensitive(def, "variant");
	const cJSON *pip = cJSON_GetObjectItemCaseSensitive(def, "pip_url");
	const cJSON *exe = cJSON_GetObjectItemCaseSensitive(def, "executable");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(def, "name");
	if (!libexec_dir || !cJSON_IsString(variant) || strcmp(variant->valuestring, BUILTIN_VARIANT))
		return NULL;
	if (cJSON_IsString(pip) && *pip->valuestring)
		return NULL;
	const char *prog = cJSON_IsString(exe) && *exe->valuestring ? exe->valuestring
	                   : cJSON_IsString(name) ? name->valuestring : NULL;
	return prog ? path_join(libexec_dir, prog) : NULL;
}
