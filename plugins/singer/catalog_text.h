/*
 * catalog_text - Meltano's catalog rules (catalog.h) applied to a
 * catalog's text, without building its tree (issue 19: 1,000 streams x 50
 * properties, 6 MB, took 200 ms to parse into ~600k cJSON nodes, apply the
 * rules, print and free).
 *
 * The reader goes through the text once, stream by stream.  Of a stream it
 * keeps only what the rules read: its tap_stream_id and stream, the names
 * of its schema's properties and its metadata entries (breadcrumb, and the
 * members of each entry's metadata object); everything else, the
 * properties' schemas included, is checked as JSON and then copied as the
 * bytes it was.  An entry no rule touched is copied as it was too; one a
 * rule touched is written again from its members, with the keys the rules
 * set in place (or appended, as cJSON does).  The result is the catalog
 * catalog_apply_rules() makes, printed: the same members in the same
 * order with the same values, only the spacing of the copied parts and the
 * spelling of numbers and escapes differ (the copy keeps the tap's own:
 * 1.0 stays 1.0 and a 20-digit integer keeps its digits, where cJSON
 * prints 1 and a double).  tests/unit/test_catalog_text.c and
 * tests/fuzz/fuzz_catalog_text.c compare both on random catalogs.
 *
 * The reader takes a strict subset of what cJSON_Parse() takes (RFC 8259
 * JSON, nesting at most 512 deep, no \u0000, no lone surrogate, a number
 * of at most 63 characters that is finite as a double, nothing after the
 * value but spaces) and a subset of the catalogs' shapes: the streams an
 * array of objects, a stream's schema an object, its properties an
 * object, its metadata an array of objects whose breadcrumb, when present,
 * is an array.  Anything else is "not handled": the caller parses the text
 * with cJSON as before, which gives the same errors for a malformed
 * catalog as it always did.  Stateless and thread-safe.
 */
#ifndef SINGER_CATALOG_TEXT_H
#define SINGER_CATALOG_TEXT_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* catalog_text_prepare() could not take the text: parse it and use catalog.h. */
#define CATALOG_TEXT_UNHANDLED 1
/* catalog_text_prepare() could not write to its fd (errno tells why). */
#define CATALOG_TEXT_EWRITE (-2)

/*
 * Apply the rules (as catalog_apply_rules() takes them; select is also the
 * report's patterns) to the catalog raw, len bytes followed by a NUL.
 * Each output asked for is what the cJSON path gives:
 *   the catalog with the rules applied (cJSON_PrintUnformatted() of it, up
 *             to the spelling above): written to fd when fd >= 0 and text
 *             is NULL (as it is made, through a 256 KiB buffer: nothing
 *             the size of the catalog is held), else in *text when text
 *             is not NULL, NUL-terminated, its length in *text_len when
 *             text_len is not NULL; caller frees;
 *   *datasets catalog_datasets() of it; caller deletes;
 *   *listing  catalog_selection_report(catalog, select), printed with
 *             cJSON_PrintUnformatted(): the same bytes; caller frees.
 * Returns 0, CATALOG_TEXT_UNHANDLED (see above), -1 when out of memory, or
 * CATALOG_TEXT_EWRITE; the outputs are then NULL, and what was written to
 * fd is to be thrown away.
 */
int catalog_text_prepare(const char *raw, size_t len, const cJSON *select, const cJSON *metadata,
                         const cJSON *schema, const cJSON *select_filter, int fd, char **text, size_t *text_len,
                         cJSON **datasets, char **listing);

/*
 * The same, the catalog read from in (a file open for reading, at the
 * start of the catalog) as it is needed, through a window of 1 MiB that
 * grows only for a stream larger than half of it: no buffer the size of
 * the catalog is held.  CATALOG_TEXT_UNHANDLED also when in cannot be
 * read: the caller reads the file whole to parse it, and says why.
 */
int catalog_text_read(int in, const cJSON *select, const cJSON *metadata, const cJSON *schema,
                      const cJSON *select_filter, int fd, char **text, size_t *text_len, cJSON **datasets,
                      char **listing);

#endif
