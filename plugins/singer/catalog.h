/*
 * catalog - Meltano's catalog rules for Singer taps (MELTANO.md §8,
 * SINGER.md §5): schema overrides, then deselect everything, then the
 * `select` patterns (includes, then `!` excludes), the `metadata` extra,
 * and `select_filter` last.  Works on a parsed catalog in place.
 */
#ifndef SINGER_CATALOG_H
#define SINGER_CATALOG_H

#include <cjson/cJSON.h>

/*
 * Apply the rules.  select and select_filter are arrays of pattern
 * strings (NULL: select defaults to ["*.*"], select_filter to none);
 * metadata and schema are the extras' objects (may be NULL; anything but an
 * object, and any rule in them that is not an object, is ignored: the host
 * refuses them when it reads the project).  A metadata entry of the catalog
 * that has no `metadata` object gets an empty one when a rule applies to it.
 */
void catalog_apply_rules(cJSON *catalog, const cJSON *select, const cJSON *metadata, const cJSON *schema,
                         const cJSON *select_filter);

/* 1 when a stream entry ends up selected (stream-level metadata). */
int catalog_stream_selected(const cJSON *stream);

/*
 * The selection of a stream entry (prop NULL) or of one of its properties,
 * as `smelt select --list` shows it: "automatic" or "unsupported" by the
 * entry's inclusion, else "selected" or "excluded" by its `selected`; an
 * entry without metadata is "selected" (SINGER.md §5, rule 1).  Static.
 */
const char *catalog_selection(const cJSON *stream, const char *prop);

/*
 * An index of one stream's property metadata entries (breadcrumb
 * ["properties", name]), so that asking about every property of a stream
 * costs linear time, not quadratic (issue 19: 1,000 streams x 50
 * properties).  Valid while the stream's metadata array is not changed.
 * Zero-initialise, fill with catalog_props_index(), free with
 * catalog_props_release().
 */
struct catalog_props {
	const cJSON *md; /* the metadata array indexed, or NULL */
	cJSON **slot;    /* open addressing: first entry of each name; NULL = empty */
	size_t cap;      /* a power of two, more than twice n; 0: not built */
	size_t n;        /* names in the index */
	int dups;        /* some name has more than one entry */
};

/* Index stream's metadata: 0, or -1 out of memory (ix is then empty). */
int catalog_props_index(struct catalog_props *ix, const cJSON *stream);

/* Free the index's table and empty it; ix itself belongs to the caller. */
void catalog_props_release(struct catalog_props *ix);

/*
 * 0 when some metadata entry of property name of stream leaves it out
 * (inclusion "unsupported", or selected: false unless "automatic"), else 1.
 * ix: stream's index, or NULL (then the metadata is searched).
 */
int catalog_field_selected(const struct catalog_props *ix, const cJSON *stream, const char *name);

/*
 * The reply of the adapter's select operation (sdk.h): every stream of
 * catalog (rules applied) and each of its schema's properties with its
 * selection (nameless entries of a schema.properties given as an array are
 * left out), and the enabled patterns (patterns, or ["*.*"] when NULL).
 * NULL when out of memory.  Caller frees with cJSON_Delete().
 */
cJSON *catalog_selection_report(const cJSON *catalog, const cJSON *patterns);

/*
 * The datasets a run of catalog (rules applied) reads: for each selected
 * stream, {"stream": name, "fields": [{"name": n, "type": t}, ...]} with
 * its selected properties, t being the property's JSON Schema format when
 * it has one ("date-time"), else its type(s) other than "null" joined by
 * '|' (left out when there is none).  A stream is named by tap_stream_id,
 * else stream; a stream with neither is left out.  NULL when out of
 * memory.  Caller frees with cJSON_Delete().
 */
cJSON *catalog_datasets(const cJSON *catalog);

/*
 * A select pattern "stream.prop" split at its first unescaped '.' ("\\."
 * is a literal dot): the stream's glob (malloc'd, caller frees; NULL when
 * out of memory), and in *prop the rest after the dot (inside pat; NULL
 * when there is no dot).
 */
char *catalog_pattern_split(const char *pat, const char **prop);

/* The glob of the top-level property a property pattern names ("a.b": "a"); malloc'd, NULL when out of memory. */
char *catalog_pattern_prop(const char *prop);

/*
 * The type catalog_datasets() gives a field whose JSON Schema is prop, in
 * type[size] ("" when it has none; cut at size - 1 bytes).
 */
void catalog_field_type(const cJSON *prop, char *type, size_t size);

#endif
