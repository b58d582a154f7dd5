/*
 * definitions_seam - definitions_fetch() (definitions.h) for `smelt add`:
 * the built-in catalog or MeltanoHub (host/src/hub/resolve.h), the lock
 * file written in Meltano's format together with the lock files of the
 * plugins it requires.
 */
#include "hub/hub.h"
#include "hub/project_hub.h"
#include "hub/resolve.h"
#include "project/definitions.h"
#include "project/project.h"
#include "util/log.h"

#include <smelt/sdk.h>
#include <stdlib.h>

int definitions_fetch(struct project *p, const char *type, const char *name, const char *variant,
                      struct definition *def, char **lock_path, char *err, size_t errlen)
{
	struct hub hub;
	cJSON *json = NULL;
	if (lock_path)
		*lock_path = NULL;
	hub_init_project(&hub, p, "add");
	int rc = resolve_lock(&hub, p->root, type, name, variant, 0, &json, lock_path, err, errlen);
	hub_release(&hub);
	if (rc != 0) {
		/* A require that failed leaves the plugin's own lock: keep its path for the message. */
		cJSON_Delete(json);
		return SMELT_ERR_CONFIG;
	}
	rc = definition_from_json(def, json, plugin_type_parse(type), err, errlen);
	cJSON_Delete(json);
	return rc;
}
