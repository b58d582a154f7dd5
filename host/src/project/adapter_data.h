/*
 * data - what adapters ship beside their .so for the host to read, found
 * without loading any adapter.  An adapter's data folder is
 * <adapter folder>/<adapter name>/ (SMELT_PATH_ADAPTER_DATA); in it the
 * host reads:
 *
 *   definitions/<plural type>--<name>--<variant>.json
 *       plugin definitions in MeltanoHub's format (no plugin_type key),
 *       e.g. singer/definitions/extractors--tap-csv--smelt.json: the
 *       catalog `smelt add` and `--variant smelt` draw from.
 *   plugin_types.json
 *       what the adapter knows about the plugin types it runs:
 *       {"<plural type>": {"name_prefixes": ["tap-"],
 *                          "extras": [{"name": "select", "kind": "array",
 *                                      "value": ["*.*"]}, ...]}, ...}
 *       name_prefixes: a plugin whose name starts so is of that type (the
 *       advice of "Block x not found"); extras: the type's extras
 *       (MELTANO.md section 2), in the order `smelt config list` shows them;
 *       print_as_python_str: names of plugins (or of the plugin they
 *       inherit from) whose `config print` shows every value as Python's
 *       str(), nested, as Meltano does for its Airflow plugin.
 *
 * The folders are the loader's (loader_discover()): the install's adapter
 * folder, each folder of $SMELT_ADAPTER_PATH, then <project root>/adapters.
 * A file that cannot be read or parsed is skipped with a warning naming it;
 * the first folder to provide a definition (type, name, variant) or an
 * extra (type, name) wins.  So adding a tool's definition is dropping a
 * JSON file into its adapter's folder: no host rebuild.
 *
 * Threading: adapter_data_get() may be called from any thread; what it
 * returns is read-only and lives until the process exits.
 */
#ifndef SMELT_ADAPTERS_DATA_H
#define SMELT_ADAPTERS_DATA_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* One definition file. */
struct adapter_definition {
	char *plugin_type; /* plural, from the file name ("extractors") */
	char *name;        /* from the file name ("tap-csv") */
	char *variant;     /* from the file name ("smelt") */
	char *adapter;     /* the data folder's name: the adapter that runs the plugin */
	char *path;        /* the file */
	char *json;        /* its text */
	int has_pip_url;   /* the definition installs with pip (a non-empty pip_url) */
};

/* What one adapter's plugin_types.json says about one plugin type. */
struct adapter_type_info {
	char *plugin_type;     /* plural */
	char *adapter;         /* the data folder's name */
	char **name_prefixes;  /* NULL-terminated, never NULL */
	const cJSON *extras;   /* the "extras" array, or NULL (borrowed from the parsed file) */
	const cJSON *print_as_python_str; /* the "print_as_python_str" array, or NULL (borrowed) */
};

struct adapter_data {
	struct adapter_definition *defs; /* in folder order, then file name order */
	size_t ndefs;
	struct adapter_type_info *types; /* in folder order */
	size_t ntypes;
	cJSON **docs;                    /* the parsed plugin_types.json files (owned) */
	size_t ndocs;
};

/*
 * The folders adapters are found in, in the loader's order: install_dir
 * (when not NULL), each non-empty folder of $SMELT_ADAPTER_PATH, then
 * <project_root>/adapters (when project_root is not NULL).  Returns a
 * NULL-terminated array (caller frees each string and the array).
 */
char **adapter_dirs(const char *install_dir, const char *project_root);

/*
 * The install's adapter folder: SMELT_REL_ADAPTER_DIR beside the running
 * executable, as main() finds it.  Caller frees; NULL when the
 * executable's path is unknown.
 */
char *adapter_install_dir(void);

/* Read the data folders of every adapter folder of dirs (NULL-terminated) into d. */
void adapter_data_scan(struct adapter_data *d, char *const *dirs);
/* Free what d holds; d is zeroed. */
void adapter_data_release(struct adapter_data *d);

/*
 * The adapter data of this process for project_root (NULL: no project):
 * the folders of adapter_dirs(adapter_install_dir(), project_root), read
 * on the first call for those folders and kept until exit.  Never NULL.
 */
const struct adapter_data *adapter_data_get(const char *project_root);

/*
 * adapter_data_get() for a caller that reads only types (plugin_types.json):
 * the definitions are not read until someone asks for them (a run of
 * plugins the project defines itself reads no definition file).  The same
 * struct adapter_data as adapter_data_get() returns for project_root;
 * defs/ndefs may still be empty here: use adapter_data_get() for them.
 */
const struct adapter_data *adapter_data_types(const char *project_root);

#endif
