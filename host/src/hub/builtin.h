/*
 * builtin - the catalog compiled into smelt: Smelt's native connectors
 * (variant "smelt": tap-csv, target-sqlite, target-jsonl, whose
 * executables ship in the libexec folder and need no pip_url) and the
 * definitions the Hub lacks that Smelt supports (transformer dbt-sqlite,
 * utility gx).  Each is JSON text in the Hub's definition format, so the
 * same lock writer locks it.
 *
 * Threading: read-only data; safe from any thread.
 */
#ifndef SMELT_HUB_BUILTIN_H
#define SMELT_HUB_BUILTIN_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define BUILTIN_VARIANT "smelt"

struct builtin_entry {
	const char *plugin_type; /* plural, e.g. "extractors" */
	const char *name;        /* e.g. "tap-csv" */
	const char *variant;     /* "smelt" */
	int native;              /* 1: the executable ships in smelt's libexec folder */
	const char *json;        /* the definition, Hub format (no plugin_type) */
};

/* The catalog, terminated by an entry whose name is NULL. */
extern const struct builtin_entry builtin_catalog[];

/*
 * The catalog entry for plugin name of plugin_type (NULL: any type) and
 * variant (NULL, "" or "default": any).  Returns a borrowed pointer or NULL.
 */
const struct builtin_entry *builtin_find(const char *plugin_type, const char *name, const char *variant);

/*
 * The definition of the entry found as builtin_find() finds it, parsed
 * (caller frees with cJSON_Delete); NULL when there is none.
 */
cJSON *builtin_definition(const char *plugin_type, const char *name, const char *variant);

/*
 * Where the executable of a native connector lives: <libexec_dir>/<executable>
 * for a definition whose variant is "smelt" and that has no pip_url; NULL
 * otherwise.  Caller frees.
 */
char *builtin_executable(const char *libexec_dir, const cJSON *def);

#endif
