/* project_hub: Hub client from a project, auto-lock; see project_hub.h. */
#include "hub/project_hub.h"
#include "hub/hub.h"
#include "hub/lock.h"
#include "hub/resolve.h"
#include "project/project.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

static const char *doc_str(const cJSON *doc, const char *key)
{
	const cJSON *v = doc ? cJSON_GetObjectItemCaseSensitive(doc, key) : NULL;
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

void hub_init_project(struct hub *hub, const struct project *p, const char *command)
{
	const char *api = NULL, *url = NULL, *auth = NULL;
	char *root;
	if (p) {
		/* .env stands below the process environment, above smelt.yml. */
		if (!getenv("SMELT_HUB_URL") && !getenv("MELTANO_HUB_API_ROOT"))
			api = doc_str(p->dotenv, "SMELT_HUB_URL") ? doc_str(p->dotenv, "SMELT_HUB_URL")
			                                         : doc_str(p->dotenv, "MELTANO_HUB_API_ROOT");
		if (!api)
			api = doc_str(p->doc, "hub_api_root");
		url = doc_str(p->dotenv, "MELTANO_HUB_URL") ? doc_str(p->dotenv, "MELTANO_HUB_URL")
		                                           : doc_str(p->doc, "hub_url");
		auth = doc_str(p->doc, "hub_url_auth");
	}
	root = hub_api_root(api, url); /* the process environment still comes first */
	hub_init(hub, root);
	free(root);
	if (auth && !hub->auth)
		hub->auth = xstrdup(auth);
	if (command)
		hub->command = xstrdup(command);
}

int hub_plugin_lockable(const struct plugin *pl)
{
	return pl && !pl->inherit_from && !pl->custom;
}

int hub_autolock(struct project *p, struct plugin *const *pls, size_t n, char *err, size_t errlen)
{
	struct hub hub;
	int hub_ready = 0, written = 0, rc = 0;
	if (!pls) {
		pls = p->plugins;
		n = p->nplugins;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct plugin *pl = pls[i];
		const char *type = plugin_type_plural(pl->type);
		if (!hub_plugin_lockable(pl))
			continue;
		char *have = lock_find(p->root, type, pl->name, pl->variant);
		if (have) {
			free(have);
			continue;
		}
		if (!hub_ready) {
			hub_init_project(&hub, p, "auto-lock");
			hub_ready = 1;
		}
		char *path = NULL;
		char perr[1024];
		int lrc = resolve_lock(&hub, p->root, type, pl->name, pl->variant, 0, NULL, &path, perr, sizeof perr);
		if (lrc != 0) {
			/* HUB_UNKNOWN_VARIANT stays itself: the Hub answered, the project names a variant it has not */
			rc = fail(err, errlen, lrc == HUB_UNKNOWN_VARIANT ? HUB_UNKNOWN_VARIANT : -1, "cannot lock %s '%s': %s",
			          plugin_type_singular(pl->type), pl->name, perr);
		} else {
			log_info("%s: no lock file, locked the definition in %s", pl->name, path);
			written++;
		}
		free(path);
	}
	if (hub_ready)
		hub_release(&hub);
	return rc ? rc : written;
}
