/*
 * dbt.h - internals of the dbt adapter, shared by its files (not SDK).
 *
 * dbt.c      the operations: invoke, run_block, test, post_install
 * profile.c  profiles.yml from the plugin's settings (secrets via env_var())
 * scaffold.c transform/ (dbt_project.yml, models/sources.yml) when missing
 * results.c  target/run_results.json -> run events and the error message
 *
 * Every function is file-local or prefixed dbt_; only smelt_adapter_entry
 * is exported (the adapter is built with -fvisibility=hidden).
 */
#ifndef SMELT_DBT_H
#define SMELT_DBT_H

#include "kit.h"

#include <smelt/sdk.h>

#include <cjson/cJSON.h>
#include <stddef.h>

struct dbt {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;                        /* the host's context for this adapter */
};

#define DBT_LOG(d, lvl, ...) (d)->host->log((d)->hctx, (lvl), __VA_ARGS__)

/* The warehouse adapter a dbt plugin drives; decides the profile's shape. */
enum dbt_kind {
	DBT_KIND_OTHER = 0, /* anything else (bigquery, redshift...): settings passed as they are */
	DBT_KIND_SQLITE,
	DBT_KIND_DUCKDB,
	DBT_KIND_POSTGRES,
	DBT_KIND_SNOWFLAKE,
};

/* One variable the generated profile reads with env_var(). */
struct dbt_envvar {
	char *name;  /* e.g. DBT_ENV_SECRET_PASSWORD */
	char *value; /* the setting's value; never written to a file */
};

/* A generated profile. */
struct dbt_profile {
	enum dbt_kind kind;
	char *type;               /* dbt's adapter type: "sqlite", "postgres", ... */
	char *yaml;               /* profiles.yml text: no secret values in it */
	struct dbt_envvar *vars;  /* what the yaml reads with env_var() */
	size_t nvars;
};

/* Where things are for one plugin (all absolute, malloc'd). */
struct dbt_paths {
	char *root;         /* the Smelt project root */
	char *project_dir;  /* the dbt project: setting project_dir, default <root>/transform */
	char *profiles_dir; /* <root>/.smelt/run/<plugin>: the generated profiles.yml */
	char *target_path;  /* setting target_path, default <project_dir>/target */
	char *log_path;     /* <project_dir>/logs (dbt's default, made explicit) */
};

/* ---- dbt.c: helpers (kit.h has the generic ones) ---- */
char *dbt_abs(const char *root, const char *path); /* path made absolute against root; malloc'd */
int dbt_exists(const char *path);
/* A string setting of p (malloc'd), NULL when unset, empty or not a string/number. */
char *dbt_setting_str(struct dbt *d, const struct smelt_plugin *p, const char *name);
const char *dbt_attr(struct dbt *d, const struct smelt_plugin *p, const char *key);
enum dbt_kind dbt_kind_of(struct dbt *d, const struct smelt_plugin *p, char **type);
const char *dbt_kind_name(enum dbt_kind kind);

/* ---- profile.c ---- */
/*
 * Build the profile of plugin p: profile `name`, one output `target`.
 * Fills *out (release with dbt_profile_release) or returns a negative
 * status with err filled.
 */
int dbt_profile_build(struct dbt *d, const struct smelt_plugin *p, const struct dbt_paths *paths, const char *name,
                      const char *target, struct dbt_profile *out, char *err, size_t errlen);
void dbt_profile_release(struct dbt_profile *prof);
/* The `profile:` of <project_dir>/dbt_project.yml (malloc'd), "smelt" when absent. */
char *dbt_profile_name(const char *project_dir);

/* ---- scaffold.c ---- */
/*
 * Create the dbt project in paths->project_dir when it has no
 * dbt_project.yml: dbt_project.yml, models/ (with sources.yml describing
 * the tables the project's extractors load, when they are known), seeds/,
 * macros/, tests/ and a .gitignore.  Existing files are never touched.
 * *created is set to 1 when a project was created.
 */
int dbt_scaffold(struct dbt *d, const struct smelt_plugin *p, const struct dbt_paths *paths, enum dbt_kind kind,
                 int *created, char *err, size_t errlen);

/* ---- results.c ---- */
/*
 * Read <target_path>/run_results.json: report each node with an
 * SMELT_EV_RESULT event and a summary event; when a node errored or a
 * test failed, name them in err and return SMELT_ERR_FAILED.  Returns
 * SMELT_ERR_NOTFOUND (err untouched) when the file is absent.
 */
int dbt_results_report(struct dbt *d, const char *label, const char *path, char *err, size_t errlen);

#endif /* SMELT_DBT_H */
