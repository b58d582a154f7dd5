/* required: see required.h. */
#include "settings/required.h"
#include "project/definition.h"
#include "project/project.h"
#include "settings/settings.h"
#include "util/strbuf.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int required_has(const struct definition *d, const char *name)
{
	const cJSON *group, *n;
	if (!d || !cJSON_IsArray(d->settings_group_validation))
		return 0;
	cJSON_ArrayForEach(group, d->settings_group_validation)
	cJSON_ArrayForEach(n, group)
	if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
		return 1;
	return 0;
}

static int is_set(const struct settings *s, const char *name)
{
	const struct resolved_setting *r = settings_find(s, name);
	return r && r->value && !cJSON_IsNull(r->value) && !(cJSON_IsString(r->value) && !*r->value->valuestring);
}

int required_missing(const struct definition *d, const struct settings *s, char **missing)
{
	const cJSON *group, *n;
	struct strbuf best = STRBUF_INIT;
	int best_n = -1;
	*missing = NULL;
	if (!d || !cJSON_IsArray(d->settings_group_validation) || !cJSON_GetArraySize(d->settings_group_validation))
		return 0;
	cJSON_ArrayForEach(group, d->settings_group_validation)
	{
		struct strbuf sb = STRBUF_INIT;
		int unset = 0;
		cJSON_ArrayForEach(n, group)
		if (cJSON_IsString(n) && !is_set(s, n->valuestring)) {
			strbuf_addf(&sb, "%s%s", unset ? ", " : "", n->valuestring);
			unset++;
		}
		if (!unset) {
			strbuf_release(&sb);
			strbuf_release(&best);
			return 0;
		}
		if (best_n < 0 || unset < best_n) {
			strbuf_release(&best);
			best = sb;
			best_n = unset;
		} else {
			strbuf_release(&sb);
		}
	}
	*missing = strbuf_detach(&best);
	return 1;
}

int required_check(struct project *p, struct plugin *pl, char **missing, char *err, size_t errlen)
{
	char derr[256];
	*missing = NULL;
	const struct definition *d = project_plugin_def(p, pl, derr, sizeof derr);
	if (!d || !d->settings_group_validation)
		return 0;
	struct settings s;
	int rc = settings_resolve(p, pl, NULL, 0, &s, err, errlen);
	if (rc == 0)
		rc = required_missing(d, &s, missing);
	settings_release(&s);
	return rc;
}
