/* state_config: the state backend's settings; see state_config.h. */
#include "settings/state_config.h"
#include "project/project.h"
#include "settings/settings.h"
#include "store/meltano_db.h"
#include "store/state_backend.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

/* The string value of project setting name, NULL when unset or empty (caller frees). */
static char *setting_str(const struct settings *s, const char *name)
{
	const struct resolved_setting *r = settings_find(s, name);
	if (!r || cJSON_IsNull(r->value))
		return NULL;
	if (cJSON_IsString(r->value))
		return *r->value->valuestring ? xstrdup(r->value->valuestring) : NULL;
	return settings_value_to_string(r->value);
}

static double setting_num(const struct settings *s, const char *name, double dflt)
{
	char *v = setting_str(s, name);
	double d = v ? strtod(v, NULL) : dflt;
	free(v);
	return d > 0 ? d : dflt;
}

int settings_state_backend_config(struct project *p, struct state_backend_config *c, char *err, size_t errlen)
{
	struct settings s = { 0 };
	memset(c, 0, sizeof *c);
	if (settings_resolve(p, NULL, NULL, 0, &s, err, errlen)) {
		settings_release(&s);
		return SMELT_ERR_CONFIG;
	}
	c->uri = setting_str(&s, "state_backend.uri");
	c->lock_timeout_s = setting_num(&s, "state_backend.lock_timeout_seconds", 10);
	c->lock_retry_s = setting_num(&s, "state_backend.lock_retry_seconds", 1);
	c->s3_endpoint = setting_str(&s, "state_backend.s3.endpoint_url");
	c->s3_key = setting_str(&s, "state_backend.s3.aws_access_key_id");
	c->s3_secret = setting_str(&s, "state_backend.s3.aws_secret_access_key");
	c->meltano_db = meltano_db_path(p->root);
	settings_release(&s);
	return SMELT_OK;
}

int settings_open_state_backend(struct project *p, struct store *store, struct state_backend **out, char *err,
                                size_t errlen)
{
	struct state_backend_config c;
	*out = NULL;
	int rc = settings_state_backend_config(p, &c, err, errlen);
	if (rc == SMELT_OK)
		rc = state_backend_open(&c, store, out, err, errlen);
	state_backend_config_release(&c);
	return rc;
}
