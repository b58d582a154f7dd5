/*
 * definition - the plugin-definition model: what a lock file
 * (plugins/<type>/<name>--<variant>.lock, Meltano's format, MELTANO.md §9),
 * the built-in catalog or a project entry says about a plugin.
 *
 * The same struct is used for three things:
 *   - a definition parsed from a lock file or the built-in catalog
 *     (definition_load_file(), definition_from_json());
 *   - the settings a project entry declares itself (plugin->settings);
 *   - the merged view of a project plugin (lock, then parent, then the
 *     project entry), returned by project_plugin_def() in project.h.
 *
 * Threading: none of this is thread-safe; use one project per thread.
 */
#ifndef SMELT_PROJECT_DEFINITION_H
#define SMELT_PROJECT_DEFINITION_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The eight plugin types, in Meltano's order.  Append only. */
enum plugin_type {
	PLUGIN_EXTRACTORS = 0,
	PLUGIN_LOADERS = 1,
	PLUGIN_TRANSFORMS = 2,
	PLUGIN_ORCHESTRATORS = 3,
	PLUGIN_TRANSFORMERS = 4,
	PLUGIN_FILES = 5,
	PLUGIN_UTILITIES = 6,
	PLUGIN_MAPPERS = 7,
	PLUGIN_TYPE_COUNT = 8,
};

/* "extractors" ... (the key in smelt.yml and the lock-file folder). */
const char *plugin_type_plural(enum plugin_type t);
/* "extractor" ... (MELTANO_EXTRACTOR_NAME, messages). */
const char *plugin_type_singular(enum plugin_type t);
/* "extract", "load", "transform", "orchestrat", "fi", "utilize", "map" (MELTANO_<VERB>_<SETTING>). */
const char *plugin_type_verb(enum plugin_type t);
/* Parse a singular or plural type name (case-insensitive); -1 when unknown. */
int plugin_type_parse(const char *s);

/* Setting kinds (MELTANO.md §4).  Append only. */
enum setting_kind {
	KIND_STRING = 0,
	KIND_INTEGER,
	KIND_DECIMAL,
	KIND_BOOLEAN,
	KIND_DATE_ISO8601,
	KIND_EMAIL,
	KIND_OPTIONS,
	KIND_FILE,
	KIND_ARRAY,
	KIND_OBJECT,
	KIND_PASSWORD,
	KIND_OAUTH,
	KIND_HIDDEN,
};

/* "string", "integer", ... */
const char *setting_kind_name(enum setting_kind k);
/* Parse a kind name; unknown names (and NULL) give KIND_STRING. */
enum setting_kind setting_kind_parse(const char *s);

/* One setting definition (a lock file's settings[] item or a project entry's). */
struct setting_def {
	char *name;             /* "api_url", dotted "a.b" for nested; extras start with '_' */
	char **aliases;         /* other names of the setting (read in config and env) */
	size_t naliases;
	char *env;              /* custom env var name (`env:`), NULL when none */
	char **env_aliases;     /* deprecated extra env names; "!VAR" = negated boolean */
	size_t nenv_aliases;
	enum setting_kind kind; /* KIND_STRING when not given */
	cJSON *value;           /* the default, NULL when none (owned) */
	char *label;            /* may be NULL */
	char *description;      /* may be NULL */
	cJSON *options;         /* kind options: [{label, value}], NULL when none (owned) */
	int sensitive;          /* 1: redacted, stored in .env; set by password/oauth kinds too */
	int hidden;             /* 1: hidden (kind hidden or hidden: true) */
	int env_specific;       /* 1: `env_specific: true` (stored in .env by auto) */
	char *value_processor;  /* nest_object, upcase_string, stringify, parse_date; NULL */
	int custom;             /* 1: not declared anywhere, made up for a config key (Meltano `_custom`) */
	cJSON *raw;             /* the definition object as read, NULL for made-up ones (owned) */
};

/* One plugin command: `name: "args"` or `name: {args, description, executable, container_spec}`. */
struct plugin_command {
	char *name;            /* "run", "test", ... */
	char *args;            /* unexpanded argument string, may be NULL */
	char *description;     /* may be NULL */
	char *executable;      /* overrides the plugin's, NULL when not given */
	cJSON *container_spec; /* NULL when not given (owned) */
};

/* A plugin definition (see the top of this file for its three uses). */
struct definition {
	int type;                        /* enum plugin_type, -1 when unknown */
	char *name;                      /* plugin name */
	char *namespace_;                /* may be NULL (then name with '-' -> '_') */
	char *variant;                   /* may be NULL */
	char *label, *description, *docs, *repo; /* informational, may be NULL */
	char *pip_url;                   /* may be NULL */
	char *python;                    /* may be NULL */
	char *executable;                /* may be NULL (then the name) */
	char **capabilities;             /* e.g. "catalog", "discover", "state" */
	size_t ncapabilities;
	int has_capabilities;            /* 1: capabilities were given (even an empty list) */
	struct setting_def *settings;
	size_t nsettings;
	cJSON *settings_group_validation; /* [[names...]...], NULL when none (owned) */
	struct plugin_command *commands;
	size_t ncommands;
	cJSON *requires;                 /* {"files": [{name, variant}]}, NULL when none (owned) */
	cJSON *env;                      /* {NAME: value}, NULL when none (owned) */
	cJSON *extras;                   /* variant-level extras (select, metadata, dialect, ...) or NULL (owned) */
	cJSON *raw;                      /* the whole JSON as read, NULL for merged views (owned) */
};

/* Zero a definition (type = -1).  No allocation. */
void definition_init(struct definition *d);
/* Free the contents; d is definition_init()ed after.  Accepts a zeroed struct. */
void definition_release(struct definition *d);

/*
 * Fill d from a lock-file / Hub / built-in JSON object (borrowed; a deep
 * copy is kept in d->raw).  type_hint is used when the JSON has no
 * plugin_type (-1: none).  0 on success; SMELT_ERR_CONFIG with err filled
 * when the JSON is not a definition (no name, wrong types).
 */
int definition_from_json(struct definition *d, const cJSON *json, int type_hint, char *err, size_t errlen);
/* Read a lock file (with or without the trailing newline) into d.  0 or a negative status. */
int definition_load_file(struct definition *d, const char *path, int type_hint, char *err, size_t errlen);

/* Parse one settings[] item into s (definition_from_json uses it; so do project entries). */
int setting_def_from_json(struct setting_def *s, const cJSON *json, char *err, size_t errlen);
void setting_def_release(struct setting_def *s);
/* Deep copy (dst is overwritten, not released). */
void setting_def_copy(struct setting_def *dst, const struct setting_def *src);
/* Parse one commands entry (value is a string or an object) into c. */
int plugin_command_from_json(struct plugin_command *c, const char *name, const cJSON *value, char *err,
                             size_t errlen);
void plugin_command_release(struct plugin_command *c);

/* Find a setting by name or alias; NULL when none.  Borrowed from d. */
const struct setting_def *definition_find_setting(const struct definition *d, const char *name);
/* 1 when the definition lists capability cap. */
int definition_has_capability(const struct definition *d, const char *cap);
/* Find a command by name; NULL when none. */
const struct plugin_command *definition_find_command(const struct definition *d, const char *name);

/* One extra of a plugin type (MELTANO.md §2): `select`, `load_schema`, ... */
struct extra_def {
	const char *name;         /* without the '_' ("select") */
	enum setting_kind kind;
	const char *default_json; /* the default as JSON text, NULL when none */
};
/*
 * The extras of type t (*n set to their count; NULL when none): those the
 * adapters of the install and of $SMELT_ADAPTER_PATH declare for the type
 * in their plugin_types.json (host/src/adapters/data.h), in the order
 * declared, and the host's own for file bundles.  Lives until the process
 * exits; safe from any thread.
 */
const struct extra_def *plugin_type_extras(enum plugin_type t, size_t *n);
/* 1 when key is an extra of type t. */
int plugin_type_is_extra(enum plugin_type t, const char *key);

/*
 * The built-in catalog seam (variant `smelt`): the definition JSON text
 * of a built-in plugin, or NULL when there is none.  Lives until the
 * process exits.  type is the plural type name.  The catalog is the
 * definitions the adapters of the install and of $SMELT_ADAPTER_PATH ship
 * (host/src/adapters/data.h); a project's own adapters/ is not searched
 * here, so their plugins are read from the lock file `smelt add` wrote.
 * host/src/project/builtin_seam.c implements it over the hub module's
 * catalog.  project_plugin_def() consults it for a plugin whose variant
 * is "smelt" before looking for a lock file.
 */
const char *builtin_catalog_json(const char *type, const char *name);

#endif
