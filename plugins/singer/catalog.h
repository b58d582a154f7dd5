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

#endif
