/*
 * definitions - the seam between `smelt add` (project module) and the hub
 * module (host/src/hub): fetching a plugin definition from MeltanoHub or the
 * built-in catalog and writing its lock file.
 *
 * Declared here, defined by the layer above (host/src/hub/definitions_seam.c),
 * so the project module depends on no hub code.
 */
#ifndef SMELT_PROJECT_DEFINITIONS_H
#define SMELT_PROJECT_DEFINITIONS_H

#include "project/definition.h"

#include <stddef.h>

struct project;

/*
 * Fetch the definition of plugin `name` of plural type `type` (e.g.
 * "extractors") and variant `variant` (NULL: the Hub's default variant;
 * "smelt": the built-in catalog), fill *def (definition_init()ed by the
 * caller; definition_release() it after, also on failure) with it, and
 * write the lock file plugins/<type>/<name>--<variant>.lock under p->root
 * in Meltano's format (MELTANO.md §9).  *lock_path gets the written path
 * (caller frees) when lock_path is not NULL.
 * Returns 0, or a negative SMELT_ERR_* status with err filled.
 */
int definitions_fetch(struct project *p, const char *type, const char *name, const char *variant,
                      struct definition *def, char **lock_path, char *err, size_t errlen);

#endif
