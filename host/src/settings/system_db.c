/* system_db: the system database a project's database_uri names; see system_db.h. */
#include "settings/system_db.h"
#include "project/project.h"
#include "settings/settings.h"
#include "store/pg_uri.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* p's database_uri as resolved (caller frees); NULL when unset or empty.  SMELT_ERR_CONFIG in *rc on failure. */
static char *database_uri(struct project *p, int *rc, char *err, size_t errlen)
{
	struct settings s = { 0 };
	char *uri = NULL;
	*rc = SMELT_OK;
	/* never from the system database itself (which it names): that level is skipped */
	if (settings_resolve(p, NULL, NULL, SETTINGS_NO_DB, &s, err, errlen)) {
		*rc = SMELT_ERR_CONFIG;
	} else {
		const struct resolved_setting *r = settings_find(&s, "database_uri");
		if (r && cJSON_IsString(r->value) && *r->value->valuestring)
			uri = xstrdup(r->value->valuestring);
	}
	settings_release(&s);
	return uri;
}

int settings_system_db_uri(struct project *p, char **uri, char *err, size_t errlen)
{
	int rc;
	*uri = database_uri(p, &rc, err, errlen);
	if (rc)
		return rc;
	if (*uri && !pg_uri_is_pg(*uri) && strncasecmp(*uri, "sqlite:", 7)) {
		size_t n = strcspn(*uri, ":");
		rc = fail(err, errlen, SMELT_ERR_CONFIG,
		          "database_uri: '%.*s' databases are not supported; use sqlite:/// (a file in the project) or "
		          "postgresql:// (shared by machines)",
		          (int)(n < 40 ? n : 40), *uri);
		free(*uri);
		*uri = NULL;
		return rc;
	}
	if (*uri && !pg_uri_is_pg(*uri)) {
		free(*uri);
		*uri = NULL;
	}
	return SMELT_OK;
}

int settings_open_store(struct project *p, struct store **out, char *err, size_t errlen)
{
	int rc;
	*out = NULL;
	char *uri = database_uri(p, &rc, err, errlen);
	if (rc)
		return rc;
	if (uri && !pg_uri_is_pg(uri) && strncasecmp(uri, "sqlite:", 7)) {
		size_t n = strcspn(uri, ":");
		rc = fail(err, errlen, SMELT_ERR_CONFIG,
		          "database_uri: '%.*s' databases are not supported; use sqlite:/// (a file in the project) or "
		          "postgresql:// (shared by machines)",
		          (int)(n < 40 ? n : 40), uri);
		free(uri);
		return rc;
	}
	if (mkdir_private(p->sys_dir) != 0) { /* 0700: it holds secrets */
		free(uri);
		return fail(err, errlen, SMELT_ERR, "cannot create '%s': %s", p->sys_dir, strerror(errno));
	}
	char *path = path_join(p->sys_dir, "smelt.db");
	rc = store_open(path, out, err, errlen);
	free(path);
	if (!rc && uri && pg_uri_is_pg(uri) && (rc = store_use_postgres(*out, uri, err, errlen))) {
		store_close(*out);
		*out = NULL;
	}
	free(uri);
	return rc;
}
