/*
 * builtin_seam - builtin_catalog_json() (definition.h) over the hub
 * module's built-in catalog (host/src/hub/builtin.h): the definitions of
 * variant `smelt` that the adapters ship in their data folders.
 */
#include "hub/builtin.h"
#include "project/definition.h"

const char *builtin_catalog_json(const char *type, const char *name)
{
	const struct adapter_definition *e = builtin_find(NULL, type, name, BUILTIN_VARIANT);
	return e ? e->json : NULL;
}
