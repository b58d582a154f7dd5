/*
 * builtin - the built-in catalog: the plugin definitions the adapters ship
 * in their data folders (host/src/adapters/data.h), e.g. Smelt's native
 * connectors (variant "smelt": tap-csv, target-sqlite, target-jsonl, whose
 * executables ship in the libexec folder and need no pip_url) in the
 * Singer adapter's folder, and the definitions the Hub lacks or that Smelt
 * runs its own way (dbt-sqlite, gx, airflow, superset) in their adapters'
 * folders.  Each is JSON text in the Hub's definition format, so the same
 * lock writer locks it.  Nothing is compiled in: a definition dropped into
 * an adapter's folder is in the catalog of the next command.
 *
 * project_root (may be NULL) adds the definitions of the project's own
 * adapters (<project_root>/adapters).
 *
 * Threading: safe from any thread; entries are read-only and live until
 * the process exits.
 */
#ifndef SMELT_HUB_BUILTIN_H
#define SMELT_HUB_BUILTIN_H

#include "adapters/data.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define BUILTIN_VARIANT "smelt"

/*
 * The catalog entry for plugin name of plugin_type (plural; NULL: any
 * type) and variant (NULL, "" or "default": any).  Returns a borrowed
 * pointer or NULL.
 */
const struct adapter_definition *builtin_find(const char *project_root, const char *plugin_type, const char *name,
                                              const char *variant);

/*
 * The definition of the entry found as builtin_find() finds it, parsed
 * with lock_parse_json() (caller frees with cJSON_Delete); NULL when there
 * is none.
 */
cJSON *builtin_definition(const char *project_root, const char *plugin_type, const char *name,
                          const char *variant);

/* Every entry of the catalog (*n set to their count); borrowed. */
const struct adapter_definition *builtin_entries(const char *project_root, size_t *n);

/*
 * 1 when the entry names a program that needs no install (no pip_url, like
 * Smelt's native connectors): the Hub's default variant of the same name
 * wins over it, and it answers only when the Hub does not know the name.
 * An entry with a pip_url wins over the Hub for the default variant.
 */
int builtin_native(const struct adapter_definition *e);

/*
 * Where the executable of a native connector lives: <libexec_dir>/<executable>
 * for a definition whose variant is "smelt" and that has no pip_url; NULL
 * otherwise.  Caller frees.
 */
char *builtin_executable(const char *libexec_dir, const cJSON *def);

#endif
