/*
 * lock - plugin lock files in Meltano's format (MELTANO.md section 9).
 *
 * A lock file is a plugin definition as JSON: indent 2, non-ASCII escaped,
 * keys in Meltano's canonical order, empty values left out, then one "\n".
 * It lives at <root>/plugins/<plural type>/<name>--<variant>.lock (or
 * <name>.lock when the definition has no variant).  Every command except
 * `add`, `lock` and auto-lock reads definitions only from these files.
 *
 * Threading: no global state; every function may run on any thread.
 */
#ifndef SMELT_HUB_LOCK_H
#define SMELT_HUB_LOCK_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct strbuf;

/*
 * Parse JSON text like cJSON_ParseWithLength, and also remember which
 * numbers were written as floats ("10.0", "1e3"), so a lock writes them
 * back as Python would ("10.0") instead of as integers.  The mark is a
 * bit in cJSON's type field above the type byte; cJSON_Duplicate keeps
 * it and every cJSON_Is* test ignores it.  Returns NULL on a syntax
 * error (err names the position).  Caller frees with cJSON_Delete().
 */
cJSON *lock_parse_json(const char *text, size_t len, char *err, size_t errlen);

/* The float mark lock_parse_json() sets on number nodes. */
#define LOCK_JSON_FLOAT (1 << 14)

/*
 * The canonical form of a definition (a Hub definition, a built-in one or
 * a lock file read back) as a new cJSON object: Meltano's key order,
 * omission rules, setting kinds (password/oauth imply sensitive) and
 * collapsed commands.  plugin_type is the plural type ("extractors");
 * NULL keeps the definition's own "plugin_type".  Returns NULL when def
 * is not an object or has no name.  Caller frees with cJSON_Delete().
 */
cJSON *lock_canonical(const cJSON *def, const char *plugin_type);

/*
 * Append the lock file text of def (canonicalised first) to out: indent 2,
 * ensure_ascii, Python's number forms, one trailing newline.  Returns 0,
 * or -1 with err filled when def cannot be locked (not an object, no name,
 * a variant that is not a string, a setting whose name is not a string).
 */
int lock_serialize(const cJSON *def, const char *plugin_type, struct strbuf *out, char *err,
                   size_t errlen);

/* Write v as Python's json.dumps(v, indent=2) would (no trailing newline). */
void lock_dump(struct strbuf *out, const cJSON *v);

/*
 * <root>/plugins/<type>/<name>--<variant>.lock, or <name>.lock when variant
 * is NULL or "".  Caller frees.
 */
char *lock_path(const char *root, const char *plugin_type, const char *name, const char *variant);

/*
 * Find the lock file of a plugin.  With variant, only that file; without,
 * <name>.lock, else the one <name>--*.lock (several: the first in sorted
 * order).  Returns the path (caller frees) or NULL when there is none.
 */
char *lock_find(const char *root, const char *plugin_type, const char *name, const char *variant);

/*
 * Read a lock file (with or without its trailing newline).  Returns the
 * definition (caller frees with cJSON_Delete) or NULL with err filled.
 */
cJSON *lock_read(const char *path, char *err, size_t errlen);

/*
 * Write def as the lock file of a plugin of plugin_type under root,
 * creating plugins/<type>/ as needed; the write is atomic (temp + rename).
 * When path_out is not NULL it receives the path written (caller frees).
 * Returns 0, or -1 with err filled.
 */
int lock_write(const char *root, const char *plugin_type, const cJSON *def, char **path_out,
               char *err, size_t errlen);

#endif
