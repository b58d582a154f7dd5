/*
 * builtin: the catalog compiled into smelt; see builtin.h.
 *
 * The definitions are JSON files in host/catalog/ (native connectors in
 * host/catalog/native/), compiled in at build time.  The settings of the
 * native connectors are the ones their programs read
 * (plugins/singer/connectors/): when a connector gains or renames a
 * setting, change its definition there too.
 */
#include "hub/builtin.h"
#include "hub/lock.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

/* builtin_catalog[] is generated from host/catalog/ (builtin_data.c, cmake/embed_catalog.cmake). */

const struct builtin_entry *builtin_find(const char *plugin_type, const char *name, const char *variant)
{
	int any_variant = !variant || !*variant || !strcmp(variant, "default");
	for (const struct builtin_entry *e = builtin_catalog; e->name; e++) {
		if (plugin_type && strcmp(plugin_type, e->plugin_type))
			continue;
		if (strcmp(name, e->name))
			continue;
		if (any_variant || !strcmp(variant, e->variant))
			return e;
	}
	return NULL;
}

cJSON *builtin_definition(const char *plugin_type, const char *name, const char *variant)
{
	const struct builtin_entry *e = builtin_find(plugin_type, name, variant);
	return e ? lock_parse_json(e->json, strlen(e->json), NULL, 0) : NULL;
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
