/* resolve: built-in catalog or Hub, then lock files; see resolve.h. */
#include "hub/resolve.h"
#include "hub/builtin.h"
#include "hub/hub.h"
#include "hub/lock.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REQUIRES_DEPTH 8

static int default_variant(const char *v)
{
	return !v || !*v || !strcmp(v, "default") || !strcmp(v, "original");
}

int resolve_definition(struct hub *hub, const char *root, const char *plugin_type, const char *name,
                       const char *variant, cJSON **def, const char **from, char *err, size_t errlen)
{
	const struct adapter_definition *e;
	char cap[32];
	*def = NULL;
	if (from)
		*from = "built-in catalog";
	if (!hub_type_valid(plugin_type))
		return fail(err, errlen, HUB_ERR, "'%s' is not a plugin type", plugin_type ? plugin_type : "");
	/* Variant smelt (any variant the adapters ship), and the names the Hub lacks, come from the catalog without a request. */
	if (!default_variant(variant) && (e = builtin_find(root, plugin_type, name, variant))) {
		*def = builtin_definition(root, plugin_type, name, e->variant);
		return 0;
	}
	if (variant && !strcmp(variant, BUILTIN_VARIANT)) {
		snprintf(cap, sizeof cap, "%s", hub_type_descriptor(plugin_type));
		cap[0] = (char)toupper((unsigned char)cap[0]);
		return fail(err, errlen, HUB_UNKNOWN_VARIANT, "%s '%s' variant 'smelt' is not in smelt's built-in catalog",
		            cap, name);
	}
	if (default_variant(variant) && (e = builtin_find(root, plugin_type, name, NULL)) && !builtin_native(e)) {
		*def = builtin_definition(root, plugin_type, name, e->variant);
		return 0;
	}
	enum hub_status st = hub_fetch_definition(hub, plugin_type, name, variant, def, err, errlen);
	if (st == HUB_UNKNOWN_PLUGIN && default_variant(variant) && (e = builtin_find(root, plugin_type, name, NULL))) {
		*def = builtin_definition(root, plugin_type, name, e->variant);
		return 0;
	}
	if (st == HUB_OK && from)
		*from = hub->api_root;
	return st;
}

struct seen {
	char **keys;
	size_t n;
};

static int seen_add(struct seen *s, const char *type, const char *name)
{
	char *k = xasprintf("%s/%s", type, name);
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->keys[i], k)) {
			free(k);
			return 0;
		}
	s->keys = xrealloc(s->keys, (s->n + 1) * sizeof *s->keys);
	s->keys[s->n++] = k;
	return 1;
}

static int lock_requires(struct hub *hub, const char *root, const cJSON *def, unsigned flags,
                         struct seen *seen, int depth, char *err, size_t errlen)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(def, "requires");
	const cJSON *type;
	if (!cJSON_IsObject(req))
		return 0;
	if (depth > MAX_REQUIRES_DEPTH)
		return fail(err, errlen, -1, "requires nest deeper than %d levels", MAX_REQUIRES_DEPTH);
	cJSON_ArrayForEach(type, req) {
		const cJSON *item;
		if (!type->string || !hub_type_valid(type->string))
			continue;
		cJSON_ArrayForEach(item, type) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(item, "name");
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, "variant");
			const char *variant = cJSON_IsString(v) ? v->valuestring : NULL;
			if (!cJSON_IsString(n) || !seen_add(seen, type->string, n->valuestring))
				continue;
			char *existing = lock_find(root, type->string, n->valuestring, variant);
			if (existing && !(flags & RESOLVE_UPDATE_REQUIRES)) {
				log_debug("%s: lock file '%s' kept", n->valuestring, existing);
				free(existing);
				continue;
			}
			free(existing);
			cJSON *rdef = NULL;
			char *path = NULL;
			char rerr[512];
			int rc = resolve_definition(hub, root, type->string, n->valuestring, variant, &rdef, NULL, rerr,
			                            sizeof rerr);
			if (rc == 0)
				rc = lock_write(root, type->string, rdef, &path, rerr, sizeof rerr);
			if (rc == 0) {
				log_info("locked %s '%s' (required) in %s", hub_type_descriptor(type->string),
				         n->valuestring, path);
				rc = lock_requires(hub, root, rdef, flags, seen, depth + 1, rerr, sizeof rerr);
			}
			free(path);
			cJSON_Delete(rdef);
			if (rc != 0)
				return fail(err, errlen, rc, "required %s '%s': %s", hub_type_descriptor(type->string),
				            n->valuestring, rerr);
		}
	}
	return 0;
}

int resolve_lock(struct hub *hub, const char *root, const char *plugin_type, const char *name,
                 const char *variant, unsigned flags, cJSON **def_out, char **path_out, char *err,
                 size_t errlen)
{
	cJSON *def = NULL;
	const char *from = NULL;
	char *path = NULL;
	if (def_out)
		*def_out = NULL;
	if (path_out)
		*path_out = NULL;
	int rc = resolve_definition(hub, root, plugin_type, name, variant, &def, &from, err, errlen);
	if (rc != 0)
		return rc;
	if (!(flags & RESOLVE_NO_WRITE)) {
		if (lock_write(root, plugin_type, def, &path, err, errlen) != 0) {
			cJSON_Delete(def);
			return -1;
		}
		log_debug("%s: locked from %s in %s", name, from, path);
		struct seen seen = { NULL, 0 };
		seen_add(&seen, plugin_type, name);
		rc = lock_requires(hub, root, def, flags, &seen, 1, err, errlen);
		for (size_t i = 0; i < seen.n; i++)
			free(seen.keys[i]);
		free(seen.keys);
	}
	if (def_out)
		*def_out = lock_canonical(def, plugin_type);
	if (path_out)
		*path_out = path;
	else
		free(path);
	cJSON_Delete(def);
	return rc;
}
