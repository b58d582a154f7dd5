/*
 * project - smelt.yml / meltano.yml: finding the root, loading the file
 * and its include_paths files into a model, selecting the active
 * environment, and comment-preserving edits written back to the file each
 * item came from.
 *
 * Typical use in a command:
 *
 *	struct project *p;
 *	if (project_load(NULL, NULL, NULL, &p, err, sizeof err) < 0 ||
 *	    project_select_environment(p, NULL, 0, ENV_IGNORE_DEFAULT, err, sizeof err) < 0)
 *		...                     (err says why; commands use project_open_cli(), cli.h)
 *	struct plugin *pl = project_find_plugin(p, -1, "tap-csv");
 *	...
 *	project_free(p);
 *
 * Ownership: everything reachable from struct project is owned by it and
 * lives until project_free() or project_reload() (which rebuilds the model
 * after edits: pointers into the old model are invalid afterwards).
 * Strings are NUL-terminated UTF-8.  Not thread-safe.
 *
 * Errors: functions return 0 on success or a negative SMELT_ERR_* status
 * with the caller's err buffer filled, git style, lowercase.  Errors about
 * the file name it with line and column: "smelt.yml:12:5: ...".  Unknown
 * keys only log a warning (log_warn, with file:line:col).
 */
#ifndef SMELT_PROJECT_H
#define SMELT_PROJECT_H

#include "project/definition.h"

#include <cjson/cJSON.h>
#include <stddef.h>

struct settings_db_ops;
struct strbuf;
struct ydoc;

/* One YAML file of the project: the main file or an include_paths file. */
struct project_file {
	char *path;          /* absolute path */
	char *rel;           /* path relative to the root, for messages ("smelt.yml", "sub/x.yml") */
	struct strbuf *text; /* current text (edits change it; project_save() writes it) */
	struct ydoc *doc;    /* internal (yaml_doc.h): only set while the model is being built, else NULL */
	int dirty;           /* 1: edited since load, not yet saved */
	int is_main;         /* 1: the main smelt.yml / meltano.yml */
};

/* A position in a project file, for messages. */
struct src_pos {
	struct project_file *file; /* borrowed from the project */
	int line, col;             /* 1-based; 0 when unknown */
};

/* One mapping of a mapper plugin (`mappings: [{name, config}]`). */
struct plugin_mapping {
	char *name;     /* the block name used in `smelt run` */
	cJSON *config;  /* the mapping's config object (unexpanded), never NULL */
};

/* One plugin entry of the project file (`plugins: <type>: - name: ...`). */
struct plugin {
	enum plugin_type type;
	char *name;             /* required */
	char *variant;          /* NULL when not given */
	char *inherit_from;     /* NULL when not given */
	char *namespace_;       /* as written, NULL when not given; see plugin_namespace() */
	char *pip_url;          /* as written (unexpanded), NULL when not given */
	char *executable;       /* NULL when not given */
	char *python;           /* NULL when not given */
	char *adapter;          /* Smelt extension `adapter:` (explicit adapter name), NULL when not given */
	char *label;            /* NULL when not given */
	cJSON *config;          /* `config:` values as written (unexpanded), never NULL (an object) */
	cJSON *extras;          /* extras beside config, without '_' (select, metadata, schema, catalog,
	                           state, load_schema, select_filter, use_cached_catalog, log_parser,
	                           dialect, package_name, vars, update, ...), never NULL (an object) */
	struct definition entry; /* what the entry itself declares: settings, capabilities (has_capabilities),
	                            commands, env, requires, settings_group_validation, pip_url, ... */
	struct plugin_mapping *mappings; /* mappers only */
	size_t nmappings;
	int custom;             /* 1: defined in the project (`namespace:` given and no lock/parent) */
	cJSON *raw;             /* the whole entry as JSON (owned) */
	struct src_pos pos;     /* where the entry starts */
	struct plugin *parent;  /* the project plugin named by inherit_from (same type), NULL when none */
	struct definition *merged; /* cache of project_plugin_def(), NULL until asked (owned) */
	int merged_failed;      /* 1: the merge failed once (error reported then) */
};

/* Plugin overrides inside an environment (`environments: - config: plugins: <type>: - name: ...`). */
struct env_plugin {
	enum plugin_type type;
	char *name;
	cJSON *config;  /* never NULL */
	cJSON *extras;  /* never NULL; keys without '_' */
	cJSON *env;     /* never NULL */
	struct src_pos pos;
};

/* One environment. */
struct environment {
	char *name;
	cJSON *env;               /* `env:` (unexpanded), never NULL */
	char *state_id_suffix;    /* NULL when not given (unexpanded) */
	struct env_plugin *plugins;
	size_t nplugins;
	cJSON *raw;               /* the whole entry (owned) */
	struct src_pos pos;
};

/* One job (`jobs: - name, tasks`). */
struct job {
	char *name;
	cJSON *tasks;   /* as written: a string, or a list of strings / lists of strings (owned) */
	char **args;    /* the tasks flattened into run-block words (each string split at blanks) */
	size_t nargs;
	struct src_pos pos;
};

/* One schedule. */
struct schedule {
	char *name;
	char *interval;   /* as written ("@daily", "0 * * * *"), may be NULL */
	char *cron;       /* the cron expression (presets expanded), NULL for @once/@manual/@none */
	char *job;        /* job form; NULL otherwise */
	char *extractor;  /* extractor/loader form; NULL otherwise */
	char *loader;
	char *transform;  /* "run", "skip" or "only"; NULL when not given */
	cJSON *env;       /* never NULL */
	struct src_pos pos;
};

struct project {
	char *root;               /* absolute path of the project folder */
	char *file;               /* absolute path of smelt.yml or meltano.yml */
	const char *file_name;    /* "smelt.yml" or "meltano.yml" (static) */
	char *sys_dir;            /* $SMELT_SYS_DIR_ROOT, $MELTANO_SYS_DIR_ROOT, else <root>/.smelt */
	char *dotenv_path;        /* --env-file or <root>/.env */
	cJSON *dotenv;            /* the .env file as {NAME: value} (empty object when absent) */
	struct project_file **files; /* [0] the main file, then include_paths files in glob order */
	size_t nfiles;
	cJSON *doc;               /* the merged document as JSON (main file + includes) */
	char *project_id;         /* NULL when not given */
	char *default_environment; /* NULL when not given */
	cJSON *env;               /* top-level `env:`, never NULL */
	struct plugin **plugins;  /* every plugin of every type, in file order */
	size_t nplugins;
	struct environment *environments;
	size_t nenvironments;
	struct job *jobs;
	size_t njobs;
	struct schedule *schedules;
	size_t nschedules;
	struct environment *active; /* the selected environment, NULL when none (project_select_environment) */
	int active_explicit;      /* 1: selected by flag or variable, 0: default or none */
	/* The system-database level of settings (settings.h: settings_db_attach()); NULL: none.
	 * Owned: project_free() releases it with settings_db_free. */
	struct settings_db_ops *settings_db;
	void (*settings_db_free)(struct settings_db_ops *db);
	/* The settings module's memo of the project's own settings (settings.h, settings_resolve()); owned,
	 * released by project_free() with settings_cache_free.  model_generation changes with every
	 * project_reload(), which the memo is keyed on. */
	void *settings_cache;
	void (*settings_cache_free)(void *cache);
	unsigned long model_generation;
};

/* ---- finding and loading ------------------------------------------------ */

/*
 * Find the project root: $SMELT_PROJECT_ROOT, $MELTANO_PROJECT_ROOT, then
 * the current folder and its parents, looking for smelt.yml then
 * meltano.yml.  On success *root and *file are allocated (caller frees).
 * Returns 0, or SMELT_ERR_CONFIG with err = "no smelt.yml or meltano.yml
 * found in '<cwd>' or its parents; run 'smelt init'".
 */
int project_find_root(char **root, char **file, char *err, size_t errlen);

/*
 * Load the project at root/file (from project_find_root(), or NULL, NULL
 * to find it), with env_file (NULL: <root>/.env).  No environment is
 * selected.  On success *out is the project (free with project_free()).
 * Fails (SMELT_ERR_CONFIG) on unreadable files, malformed YAML and schema
 * errors, with err naming file:line:col.
 */
int project_load(const char *root, const char *file, const char *env_file, struct project **out, char *err,
                 size_t errlen);
/* Parse one YAML text as a project main file without touching the disk (fuzzing, tests).  name = file name for messages. */
int project_load_text(const char *name, const char *text, size_t len, struct project **out, char *err,
                      size_t errlen);
void project_free(struct project *p); /* accepts NULL */

/* When a command applies environments (MELTANO.md §3, CliEnvironmentBehavior). */
enum env_behavior {
	ENV_REQUIRED = 0,        /* run: explicit or default; none is an error */
	ENV_DEFAULT_OR_NONE = 1, /* invoke, el, elt, test, hub: explicit or default, else none */
	ENV_IGNORE_DEFAULT = 2,  /* config, select, state, job, schedule: only an explicit one */
	ENV_NONE = 3,            /* init, add, remove, install, lock, environment: no environment */
};

/*
 * Select the active environment (sets p->active): explicit_name (the
 * --environment flag), else $SMELT_ENVIRONMENT, $MELTANO_ENVIRONMENT (shell,
 * then .env), else default_environment unless behavior says otherwise.
 * no_environment or a name "null" (any case) selects none.  An unknown name
 * is an error ("environment 'x' is not defined in smelt.yml").
 */
int project_select_environment(struct project *p, const char *explicit_name, int no_environment,
                               enum env_behavior behavior, char *err, size_t errlen);


/* ---- looking things up -------------------------------------------------- */

/* The plugin named name of type (or of any type when type < 0: the first in file order); NULL when none. */
struct plugin *project_find_plugin(const struct project *p, int type, const char *name);
/* The mapper plugin holding mapping `name` (*mapping set when not NULL); NULL when none. */
struct plugin *project_find_mapping(const struct project *p, const char *name, const struct plugin_mapping **mapping);
struct environment *project_find_environment(const struct project *p, const char *name);
struct job *project_find_job(const struct project *p, const char *name);
struct schedule *project_find_schedule(const struct project *p, const char *name);
/* The active environment's overrides for plugin pl, NULL when none. */
const struct env_plugin *project_env_plugin(const struct project *p, const struct plugin *pl);

/* The plugin's namespace: as written, else (not inheriting) the lock's, else name with '-' -> '_' (a plugin
 * with inherit_from gets its own, as in Meltano).  Borrowed. */
const char *plugin_namespace(struct project *p, struct plugin *pl);
/* The namespace adapters are chosen by: plugin_namespace(), except that a plugin with inherit_from and
 * no namespace of its own is claimed by its definition's (a child of dbt-postgres stays dbt's).  Borrowed. */
const char *plugin_claim_namespace(struct project *p, struct plugin *pl);
/* The name used for the lock file and the Hub: inherit_from's base, else name. */
const char *plugin_base_name(const struct plugin *pl);

/*
 * The merged definition of a plugin: the lock file
 * plugins/<type>/<base>--<variant>.lock (or <base>.lock, or the built-in
 * catalog for variant `smelt`), then the parent's (inherit_from) merged
 * definition, then the project entry: settings extend/override by name,
 * capabilities replace, commands merge by name, env merges, scalars
 * (namespace, pip_url, executable, variant, python) override.  A plugin
 * without lock file or parent is defined by its entry alone (custom).
 * Cached on pl; borrowed until project_free()/project_reload().  NULL with
 * err filled when a lock file exists but is invalid.
 */
const struct definition *project_plugin_def(struct project *p, struct plugin *pl, char *err, size_t errlen);
/* The lock file path the plugin would use (exists or not); caller frees. */
char *project_lock_path(const struct project *p, const struct plugin *pl);

/* Jobs expand into their args (project_find_job()->args); schedules' cron: schedule_cron_of(). */
/* The cron expression of an interval (preset or literal); NULL for @once/@manual/@none; static or borrowed. */
const char *schedule_cron_of(const char *interval);

/* ---- editing ------------------------------------------------------------ */

/*
 * Comment-preserving edits.  Each edit is a byte-range splice of one
 * file's text: the parts not changed (comments, key order, quoting, blank
 * lines) stay byte-identical.  A flow-style collection ({a: 1}, [x, y]) that
 * an edit must change inside is re-emitted in block style.  Each edit
 * re-parses its result and keeps it only when the file then holds exactly
 * the old tree plus the change (yaml_doc.h); otherwise it fails with the
 * file's text unchanged, so a failed edit never reaches the disk.
 *
 * A path is an array of segments from the document root:
 *   "key"          a mapping key;
 *   "[name=VALUE]" the item of a list whose `name:` is VALUE;
 *   "[N]"          the N-th item (0-based) of a list.
 * project_edit_set() creates missing mappings and missing "[name=...]"
 * items ({name: VALUE}) on the way.  The file is chosen by the caller:
 * project_file_of() gives the file an item came from; new top-level items
 * go to p->files[0].  After edits, project_save() writes the dirty files
 * and reloads the model.
 */
int project_edit_set(struct project *p, struct project_file *f, const char *const *path, size_t n,
                     const cJSON *value, char *err, size_t errlen);
/* Remove a key or list item.  0 when removed, 1 when it was not there, negative on error. */
int project_edit_unset(struct project *p, struct project_file *f, const char *const *path, size_t n, char *err,
                       size_t errlen);
/* Append value to the list at path (created when missing). */
int project_edit_append(struct project *p, struct project_file *f, const char *const *path, size_t n,
                        const cJSON *value, char *err, size_t errlen);
/* The file a plugin / environment / job / schedule position belongs to (pos.file; main file when NULL). */
struct project_file *project_file_of(struct project *p, const struct src_pos *pos);
/* Write every dirty file (atomically, keeping its mode), then rebuild the model (project_reload()). */
int project_save(struct project *p, char *err, size_t errlen);
/* Re-parse the files' current texts into a fresh model (keeps p->active by name). */
int project_reload(struct project *p, char *err, size_t errlen);

/* Higher-level edits (all then need project_save()). */
/* Append a plugin entry (an object with at least "name") under plugins.<type> of the main file. */
int project_add_plugin(struct project *p, enum plugin_type type, const cJSON *entry, char *err, size_t errlen);
/* Remove a plugin entry from the file it came from. */
int project_remove_plugin(struct project *p, struct plugin *pl, char *err, size_t errlen);

/* ---- .env --------------------------------------------------------------- */

/*
 * Parse dotenv text (KEY=value, export KEY=..., quotes, # comments) with
 * python-dotenv's rules into *out, an object of strings (caller frees with
 * cJSON_Delete).  Lines without a key or `=` are skipped as python-dotenv
 * skips them; a quoted value without its closing quote, or with text after
 * it, is SMELT_ERR_CONFIG with "name:line: ..." in err (name is the file
 * named in messages) and *out NULL.  Values never appear in messages.
 */
int dotenv_parse(const char *text, size_t len, const char *name, cJSON **out, char *err, size_t errlen);
/*
 * Read the .env file at path into *out (an empty object when the file does
 * not exist).  The file must be a regular file of at most FS_CAP_DOTENV
 * bytes (so /dev/zero or a FIFO fails at once); a file readable by other
 * users gets a warning naming the chmod to run (the file is not changed).
 * Return 0, or SMELT_ERR_CONFIG with err naming the file.
 */
int dotenv_read(const char *path, cJSON **out, char *err, size_t errlen);
/*
 * Append the .env line dotenv_set() writes for NAME=value to out:
 * NAME='value' with ' and \ escaped, or NAME=value unquoted for a value
 * ending in a backslash (which python-dotenv cannot read back in quotes).
 * Return 0, or -1 (nothing appended) for a value ending in a backslash that
 * cannot be written unquoted either (spaces at its ends, " #", "$", a quote
 * first, a line break).  dotenv_parse() reads the line back as value.
 */
int dotenv_format(struct strbuf *out, const char *name, const char *value);
/*
 * Set (value != NULL) or remove (value NULL) NAME in the .env file at
 * path, keeping every other statement byte for byte; writes the line of
 * dotenv_format() (mode 0600 when it creates the file).  A file dotenv_parse() rejects is
 * not changed (the error names its line).  Also updates p->dotenv when p
 * is not NULL.
 */
int dotenv_set(struct project *p, const char *path, const char *name, const char *value, char *err,
               size_t errlen);

#endif
