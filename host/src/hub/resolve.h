/*
 * resolve - where a plugin definition comes from, and locking it:
 * the built-in catalog (variant "smelt", and names the Hub lacks such as
 * dbt-sqlite and gx) first, else MeltanoHub; the result is written as the
 * plugin's lock file together with the lock files of what it `requires`
 * (e.g. utility airflow -> files-airflow), recursively.
 *
 * This is what `smelt add`, `smelt lock` and auto-lock use; every other
 * path reads lock files only.  Threading: like struct hub.
 */
#ifndef SMELT_HUB_RESOLVE_H
#define SMELT_HUB_RESOLVE_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct hub;

enum resolve_flags {
	RESOLVE_UPDATE_REQUIRES = 1 << 0, /* rewrite the lock files of required plugins that exist */
	RESOLVE_NO_WRITE = 1 << 1,        /* fetch only: write no lock file (requires are not followed) */
};

/*
 * The definition of plugin name of plural plugin_type and variant (NULL:
 * the default) from the built-in catalog (hub/builtin.h: the definitions
 * adapters ship, those of root's adapters/ included; root may be NULL) or
 * the Hub (hub: a client set up with hub_init(); it makes no request when
 * the catalog answers).
 * Returns 0 with *def (caller frees with cJSON_Delete) and *from set to
 * "built-in catalog" or the Hub's API root (borrowed from hub), or a
 * negative hub_status with err filled (Meltano's wording).
 */
int resolve_definition(struct hub *hub, const char *root, const char *plugin_type, const char *name,
                       const char *variant, cJSON **def, const char **from, char *err, size_t errlen);

/*
 * resolve_definition(), then write the lock file under root (always
 * overwritten) and the lock files of its requires (kept when they exist,
 * unless RESOLVE_UPDATE_REQUIRES).  *def_out (may be NULL) gets the locked
 * definition in canonical form (caller frees); *path_out (may be NULL) the
 * lock file path (caller frees).  Nothing is written when the plugin
 * itself cannot be fetched.  A failing require is an error after the
 * plugin's own lock was written (err names the require).
 * Returns 0 or a negative status with err filled.
 */
int resolve_lock(struct hub *hub, const char *root, const char *plugin_type, const char *name,
                 const char *variant, unsigned flags, cJSON **def_out, char **path_out, char *err,
                 size_t errlen);

#endif
