/*
 * settings - resolving a plugin's (or the project's) settings the way
 * Meltano does (MELTANO.md §4-§5, DESIGN.md §6), env-var naming, $VAR
 * expansion, kinds and casting, redaction, writing values to a store, and
 * building a plugin's process environment.
 *
 * Precedence, first hit wins:
 *   SOURCE_CLI (overrides passed by the caller) > SOURCE_ENV (process
 *   environment) > SOURCE_DOTENV (.env) > SOURCE_ENVIRONMENT (the active
 *   environment's config) > SOURCE_PROJECT (root config in smelt.yml and
 *   include files) > SOURCE_DB (system database, via struct
 *   settings_db_ops) > SOURCE_INHERITED (the inherit_from parent) >
 *   SOURCE_DEFAULT (the definition's value).
 *
 * Every sensitive value that is resolved is registered with
 * log_add_secret(), so it is scrubbed from log lines.
 *
 * Ownership: results are owned by the struct settings they sit in and
 * live until settings_release().  The project and plugin are borrowed for
 * the call.  Not thread-safe.
 */
#ifndef SMELT_SETTINGS_H
#define SMELT_SETTINGS_H

#include "project/definition.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <time.h>

struct project;
struct plugin;

/* Where a value came from.  The order is the precedence (lower wins). */
enum setting_source {
	SOURCE_CLI = 0,         /* "config_override": a command-line override */
	SOURCE_ENV = 1,         /* "env": the process environment, under the `env:` blocks of the project,
	                           the plugin, the active environment and its plugin entry (those win) */
	SOURCE_DOTENV = 2,      /* "dotenv": the project's .env */
	SOURCE_ENVIRONMENT = 3, /* "meltano_environment": the active environment in smelt.yml */
	SOURCE_PROJECT = 4,     /* "meltano_yml": smelt.yml / meltano.yml (root config) */
	SOURCE_DB = 5,          /* "db": the system database */
	SOURCE_INHERITED = 6,   /* "inherited": the inherit_from parent */
	SOURCE_DEFAULT = 7,     /* "default": the definition's default, or unset */
};

/* Stable machine name (JSON output): "config_override", "env", "dotenv", "meltano_environment",
 * "meltano_yml", "db", "inherited", "default". */
const char *setting_source_name(enum setting_source s);
/* Human label as Meltano prints it: "the environment", "`.env`", "`smelt.yml`"... (project may be NULL). */
const char *setting_source_label(enum setting_source s, const struct project *p);

/* One resolved setting. */
struct resolved_setting {
	char *name;            /* "api_url", "a.b"; extras carry their '_' ("_select") */
	cJSON *value;          /* expanded and cast; a cJSON null when unset (owned, never NULL) */
	cJSON *unexpanded;     /* the value before $VAR expansion when it differed, else NULL (owned) */
	enum setting_source source;
	char **env;            /* env var names that are read for it, preferred first (owned) */
	size_t nenv;
	enum setting_kind kind;
	int sensitive;         /* 1: redact in output (kind password/oauth or sensitive: true) */
	int hidden;
	int extra;             /* 1: an extra (name starts with '_') */
	int custom;            /* 1: not in any definition (a config key the project made up) */
	const struct setting_def *def; /* borrowed from the plugin's merged definition or the settings */
	struct setting_def own_def;    /* storage for made-up definitions (custom, extras) */
};

/* All settings of one plugin (or of the project). */
struct settings {
	struct resolved_setting *items; /* definition order, then extras, then custom */
	size_t n;
	char *plugin_name;              /* "tap-x", or "meltano" for the project */
	size_t cap;                     /* items allocated (at least n once items grow; 0: unknown) */
};

/* Flags of settings_resolve() and settings_config_json(). */
enum settings_flags {
	SETTINGS_EXTRAS = 1 << 0, /* include extras (_select, ...) (resolve: always resolved; here: output) */
	SETTINGS_REDACT = 1 << 1, /* replace sensitive values by "*****" (config_json) */
	SETTINGS_FLAT = 1 << 2,   /* keep dotted names flat instead of nesting them (config_json) */
	SETTINGS_NO_DB = 1 << 3,  /* skip the system-database level */
};

/*
 * Resolve every setting of pl (NULL: the project's own settings, i.e.
 * `smelt config meltano`) in project p with p->active as the environment.
 * overrides: {setting name: value} at SOURCE_CLI, may be NULL.
 * out is filled (settings_release() it, also after a failure).
 * Returns 0, or SMELT_ERR_CONFIG with err filled (e.g. two aliases with
 * different values in one store, an options value that is not an option).
 */
int settings_resolve(struct project *p, struct plugin *pl, const cJSON *overrides, unsigned flags,
                     struct settings *out, char *err, size_t errlen);
/*
 * A resolution without overrides is kept and handed out again (a copy)
 * while nothing it depends on changed: the plugin, the flags, the process
 * environment, the project model (project_reload()), the active
 * environment, and the settings this process wrote (to .env, smelt.yml or
 * the system database: settings_note_write()); for a second at most, so
 * what another process writes to the system database is seen a second
 * later at most.  See resolve.c, "the memo".  settings_set(),
 * settings_unset(), settings_reset() and every backend's set, unset and
 * reset call settings_note_write(), and so does the runtime after every
 * plugin process it ran (a block that calls `smelt config set` or writes
 * .env is seen by the next block at once).
 */
void settings_note_write(void);
void settings_release(struct settings *s);
/* A setting by name (or alias); NULL when none.  Borrowed from s. */
const struct resolved_setting *settings_find(const struct settings *s, const char *name);

/*
 * The resolved config as a JSON object: non-null values, dotted names
 * nested (unless SETTINGS_FLAT), extras under their '_' names only with
 * SETTINGS_EXTRAS, sensitive values "*****" with SETTINGS_REDACT.  This is
 * what a plugin's config file holds.  Caller frees with cJSON_Delete().
 */
cJSON *settings_config_json(const struct settings *s, unsigned flags);

/*
 * A resolved value as the plugin gets it (Meltano's post_process_value):
 * the definition's value_post_processor (stringify, upcase_string,
 * parse_date), else a date_iso8601 setting's relative date ("1 month ago")
 * made an ISO timestamp.  Returns a new value (caller frees); null for
 * NULL/null.
 */
cJSON *settings_post_process(const struct resolved_setting *rs, const cJSON *v);

/*
 * Meltano's parse_date: an ISO 8601 date or timestamp is returned as is; a
 * relative date ("now", "today", "yesterday", "N units ago", "a month ago",
 * "N units"; seconds to years) becomes the UTC timestamp it names relative
 * to now, as "YYYY-MM-DDThh:mm:ss.ffffff"; anything else is returned as is.
 * NULL for NULL.  Caller frees.
 */
char *settings_parse_date(const char *s, const struct timespec *now);

/* 1 when v of rs is redacted in output: a sensitive setting with a value Python calls truthy
 * (an empty string, 0 or false has nothing to hide and prints as it is, as in Meltano). */
int settings_redacts(const struct resolved_setting *rs, const cJSON *v);

/* How `config print --format json` shapes a plugin's settings (Meltano's process_config). */
enum settings_style {
	SETTINGS_STYLE_SINGER = 0,  /* extractors, loaders, mappers: no nulls, dotted names nested */
	SETTINGS_STYLE_FLAT = 1,    /* other plugins: every setting by its (dotted) name, null when unset */
	SETTINGS_STYLE_PYTHON_STR = 2, /* nested, every value as Python's str() (Meltano's Airflow; adapter data) */
};
/* The style of pl (NULL: the project's settings: flat). */
enum settings_style settings_style_of(const struct project *p, const struct plugin *pl);

/*
 * `config print --format json` as Meltano prints it: the settings (or with
 * SETTINGS_EXTRAS only the extras, flat and unprocessed) of s, post-processed
 * and shaped by style; SETTINGS_REDACT replaces truthy sensitive values by
 * "*****".  Caller frees with cJSON_Delete().
 */
cJSON *settings_print_json(const struct settings *s, enum settings_style style, unsigned flags);

/* A value as an env-var string: strings as is, true/false, numbers, JSON for objects/arrays; NULL for null.  Caller frees. */
char *settings_value_to_string(const cJSON *v);

/* ---- environments for processes ---------------------------------------- */

/* A list of NAME=VALUE strings; setting a NAME again replaces it in place. */
struct envlist {
	char **vars; /* "NAME=VALUE" strings, NULL-terminated (owned) */
	size_t n;
	size_t alloc;
	size_t *slots; /* a hash index of vars by name (values.c; owned), NULL while the list is short */
	size_t nslots;
};
#define ENVLIST_INIT { NULL, 0, 0, NULL, 0 }
void envlist_set(struct envlist *e, const char *name, const char *value); /* value NULL removes */
const char *envlist_get(const struct envlist *e, const char *name);      /* borrowed; NULL when unset */
void envlist_from_environ(struct envlist *e);                             /* copy the process environment */
void envlist_release(struct envlist *e);

/*
 * Fill env (appending/replacing; later wins) with what plugin pl (NULL:
 * project only) sees, in Meltano's order (MELTANO.md §5): the project's
 * `env` (expanded) and .env, the information variables
 * (MELTANO_PROJECT_ROOT, MELTANO_SYS_DIR_ROOT, MELTANO_ENVIRONMENT,
 * MELTANO_<SINGULAR>_NAME/_NAMESPACE/_VARIANT and SMELT_* twins), every
 * non-null setting under all its written env names (custom `env:`,
 * <NAME>_<SETTING>, <NAMESPACE>_<SETTING>, the parent's prefixes,
 * MELTANO_<VERB>_<SETTING>; extras with a double underscore, e.g.
 * TAP_X__SELECT, MELTANO_EXTRACT__LOAD_SCHEMA), the plugin's `env`, the
 * active environment's `env` and the environment's plugin `env`.  s may be
 * NULL (then resolved here).  The caller starts env from
 * envlist_from_environ() when the process environment should be inherited.
 * Venv/PATH handling is the caller's.  Returns 0 or a negative status.
 */
int settings_plugin_env(struct project *p, struct plugin *pl, const struct settings *s, struct envlist *env,
                        char *err, size_t errlen);

/*
 * The variables Meltano writes the settings s of pl (NULL: the project,
 * prefix MELTANO) to (its as_env, settings/env_vars.c): every non-null
 * value under each written name, in order: the definition's `env:`,
 * <NAME>_<SETTING>, <NAMESPACE>_<SETTING>, the parent's prefixes,
 * MELTANO_<VERB>_<SETTING> (extras with a double underscore), then the
 * `env_aliases` that are not negated.  Then, as the settings Meltano makes
 * up for them, the leaves of object values written in the project file,
 * an environment, a parent or (extras) the definition: `_metadata:
 * {s: {replication-key: id}}` also gives TAP_X__METADATA_S_REPLICATION_KEY=id.
 * A custom (undeclared) setting with an object value has only its leaves.
 * fn gets each (the setting, for a leaf the one it belongs to; name;
 * value); all borrowed for the call.
 */
typedef void (*settings_env_fn)(void *arg, const struct resolved_setting *rs, const char *name, const char *value);
void settings_each_env(struct project *p, struct plugin *pl, const struct settings *s, settings_env_fn fn, void *arg);
/* settings_each_env() into env (later names replace earlier ones). */
void settings_config_env(struct project *p, struct plugin *pl, const struct settings *s, struct envlist *env);
/*
 * Every project setting with a value (defaults too) as MELTANO_<SETTING>,
 * as Meltano gives them to plugins (smelt-only settings left out), and
 * MELTANO_USER_AGENT ("smelt/<version>").
 */
void settings_project_env(struct project *p, struct envlist *env);

/* Env var name: parts joined with '_', upper-cased, non-[A-Za-z0-9] -> '_' (Meltano to_env_var). Caller frees. */
char *settings_env_name(const char *prefix, const char *name);

/*
 * Expand $VAR / ${VAR} in s with variables from env (then nothing else):
 * ${NAME} for \w+, $NAME for [A-Z][A-Z0-9_]*, \$ escapes, missing -> "".
 * *empty is set to 1 when s had references and expanded to "" (Meltano
 * then uses null).  Caller frees.  strict: an unknown variable is an
 * error (NULL returned, err filled).
 */
char *settings_expand(const char *s, const struct envlist *env, int strict, int *empty, char *err, size_t errlen);

/* Cast a value to kind (strings from env/.env: "true"/"1"/"yes"/"on", integers, decimals, JSON).
 * Returns a new value (caller frees) or NULL with err filled when it cannot be cast. */
cJSON *settings_cast(const cJSON *v, enum setting_kind kind, const struct setting_def *def, char *err, size_t errlen);

/* ---- writing ----------------------------------------------------------- */

enum settings_store {
	STORE_AUTO = 0,     /* MELTANO.md §4 auto rules */
	STORE_YML = 1,      /* smelt.yml / meltano.yml (the active environment's block when one was explicitly selected) */
	STORE_DOTENV = 2,   /* .env */
	STORE_DB = 3,       /* system database */
};
/* "auto", "yml", "meltano_yml", "dotenv", "db" -> store; -1 when unknown. */
int settings_store_parse(const char *s);
/* Label for messages: "`smelt.yml`", "`.env`", "the system database", "the active environment in `smelt.yml`". */
const char *settings_store_label(enum settings_store st, const struct project *p, int in_environment);

/*
 * Set setting `name` (dotted or extra "_x"; an unknown name is a custom
 * setting) of pl (NULL: project settings) to value (borrowed; a string is
 * cast by the setting's kind first) in store (STORE_AUTO: Meltano's auto
 * rules).  Edits are saved (smelt.yml, .env) before returning.  *where gets
 * the label of the store written (static or borrowed from p) when not
 * NULL.  Returns 0 or a negative status with err filled.
 * NOTE: writing smelt.yml reloads the project model (project_save()), so
 * pl and every other pointer into p's model are invalid afterwards: look
 * the plugin up again (project_find_plugin()).  The same holds for
 * settings_unset() and settings_reset().
 */
int settings_set(struct project *p, struct plugin *pl, const char *name, const cJSON *value,
                 enum settings_store store, const char **where, char *err, size_t errlen);
/* Remove a setting from store (STORE_AUTO: from every writable store).  Saved before returning. */
int settings_unset(struct project *p, struct plugin *pl, const char *name, enum settings_store store,
                   char *err, size_t errlen);
/* Remove every setting and extra of pl from store (STORE_AUTO: every writable store). */
int settings_reset(struct project *p, struct plugin *pl, enum settings_store store, char *err, size_t errlen);

/* ---- system database seam ------------------------------------------------ */

/*
 * The system-database level (SOURCE_DB) of a project: a backend attached
 * to the project (settings_db_attach()), passed along with it to every
 * function here; nothing global.  A project without one has an empty
 * level: reads find nothing and writes fail.  ns is "<plural
 * type>.<plugin name>" for a plugin or "meltano" for project settings;
 * name is the setting name; values are JSON text.  Every function returns
 * 0 on success and a negative status on failure; get returns 1 when found
 * (*json_out allocated with malloc, caller frees), 0 when not.
 */
struct settings_db_ops {
	void *ctx;
	int (*get)(void *ctx, const char *ns, const char *name, char **json_out, char *err, size_t errlen);
	int (*set)(void *ctx, const char *ns, const char *name, const char *json, char *err, size_t errlen);
	int (*unset)(void *ctx, const char *ns, const char *name, char *err, size_t errlen);
	int (*reset)(void *ctx, const char *ns, char *err, size_t errlen); /* every setting of ns */
	void (*close)(struct settings_db_ops *self); /* frees ctx and self; NULL: nothing to free */
	/* optional (NULL: none): around the reads of one resolution, so they cost one snapshot, not one each;
	 * read_begin returns what read_end gets back */
	int (*read_begin)(void *ctx);
	void (*read_end)(void *ctx, int began);
};
/* The SOURCE_DB backend of p (borrowed; never NULL: an empty one when none is attached). */
const struct settings_db_ops *settings_db_of(const struct project *p);
/*
 * Attach db as the SOURCE_DB level of p; p owns it from then on
 * (project_free() closes it).  A backend attached before is closed.  db
 * NULL: none.
 */
void settings_db_attach(struct project *p, struct settings_db_ops *db);
/*
 * A backend over the system database <sys_dir>/smelt.db (host/src/store):
 * opened on first use (reads never create it), closed with the backend.
 * A value smelt.db lacks is read from Meltano's database of project_root
 * (store/meltano_db.h; never written), when project_root is not NULL.
 * The CLI attaches one to every project it opens (p->sys_dir, p->root).
 */
struct settings_db_ops *settings_system_db_new(const char *sys_dir, const char *project_root);
/* A backend in memory (nothing persists), for tests. */
struct settings_db_ops *settings_memory_db_new(void);
/* The DB namespace of a plugin ("extractors.tap-x"; "meltano" for NULL); caller frees. */
char *settings_db_namespace(const struct plugin *pl);

#endif
