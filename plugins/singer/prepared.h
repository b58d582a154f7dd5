/*
 * prepared - a tap's catalog with the rules applied, kept between runs.
 *
 * A run hands the tap its catalog with the select, metadata and schema
 * rules applied.  Reading a large catalog, applying the rules and writing
 * it again costs CPU time in proportion to its size (issue 19, W8: 6 MB for
 * 1,000 streams x 50 properties; catalog_text.h), and the result changes
 * only when the catalog or the rules do.  So
 * it is kept in the tap's run folder as tap.prepared.<key>.json, with the
 * datasets it selects (catalog_datasets(), for lineage) beside it in
 * tap.prepared.<key>.datasets.json (and the reply of `smelt select --list`
 * in tap.prepared.<key>.select.json).  The key hashes the catalog's
 * identity (the file it was read from: device, inode, size, modification
 * time) and the rules.
 *
 * Each file is written once under its key (a temporary file, then
 * rename()) and never changed, so concurrent runs share it and the tap
 * reads it directly.  The catalog is not secret (a discovered catalog is
 * kept in the same folder); the files are 0600 like everything under the
 * system folder.  A file no run used for a day is removed when a new one
 * is kept.  Nothing here is fatal: a file that cannot be read or written
 * only means the caller prepares the catalog again.
 */
#ifndef SINGER_PREPARED_H
#define SINGER_PREPARED_H

#include <cjson/cJSON.h>

/*
 * The key of the catalog read from the file src with the rules (the
 * printed select, metadata, schema and select_filter extras; any may be
 * NULL): 16 hex digits in key.  -1 when src cannot be stat()ed (nothing
 * is then kept for it).
 */
int prepared_key(const char *src, const char *const rules[4], char key[17]);

/*
 * The prepared catalog kept in dir under key: its path (caller frees),
 * with its datasets parsed into *datasets (caller deletes) when datasets
 * is not NULL.  NULL when none is kept or it cannot be read.  A hit
 * refreshes the files' modification time, so a used catalog is never
 * swept.
 */
char *prepared_find(const char *dir, const char *key, cJSON **datasets);

/*
 * Keep text (the prepared catalog) and datasets under key in dir, then
 * sweep files no run used for a day.  Returns the kept catalog's path
 * (caller frees), or NULL when it cannot be written.
 */
char *prepared_keep(const char *dir, const char *key, const char *text, const cJSON *datasets);

/*
 * The same, the catalog written to a file as it is made (catalog_text.h):
 * prepared_open() makes a temporary file in dir (0600) and returns its
 * descriptor (its path in *tmp, caller frees), or -1 when it cannot.
 * prepared_commit() closes fd and keeps what was written as the catalog
 * under key, with datasets, as prepared_keep() does: the kept catalog's
 * path (caller frees), or NULL when it cannot be kept (tmp, if it was not
 * renamed yet, is left for the caller to read back).  prepared_abort()
 * closes fd (if >= 0) and removes tmp (if not NULL).
 */
int prepared_open(const char *dir, char **tmp);
char *prepared_commit(const char *dir, const char *key, int fd, const char *tmp, const cJSON *datasets);
void prepared_abort(int fd, const char *tmp);

/*
 * Another product of the catalog under key, kept beside it in
 * tap.prepared.<key><suffix> (suffix: ".select.json", the reply of
 * `smelt select --list`): prepared_read() returns its text (caller frees;
 * NULL when none is kept, and then refreshes its modification time),
 * prepared_add() keeps text (written once; 0, or -1 when it cannot be).
 */
char *prepared_read(const char *dir, const char *key, const char *suffix);
int prepared_add(const char *dir, const char *key, const char *suffix, const char *text);

#endif
