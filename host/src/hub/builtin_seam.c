/*
 * builtin_seam - builtin_catalog_json() (definition.h) over the hub
 * module's built-in catalog (host/src/hub/builtin.h): the definitions of
 * Smelt's native connectors and of the plugins the Hub lacks, all with
 * variant `smelt`.
 */
#include "hub/builtin.h"
#include "project/definition.h"

const char *builtin_catalog_json(const char *type, const char *name)
{
	const struct builtin_entry *e = builtin_find(type, name, BUILTIN_VARIANT);
	return e ? e->json : NULL;
}
