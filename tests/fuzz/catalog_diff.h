/*
 * catalog_diff - the rules applied to a catalog's text by catalog_text.c
 * against the cJSON path of catalog.c (parse, catalog_apply_rules(),
 * catalog_datasets(), catalog_selection_report(), print), for
 * tests/unit/test_catalog_text.c and tests/fuzz/fuzz_catalog_text.c.
 * Header-only: both include it.
 */
#ifndef TESTS_CATALOG_DIFF_H
#define TESTS_CATALOG_DIFF_H

#include "catalog.h"
#include "catalog_text.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* a and b are the same JSON: same types, keys and values in the same order (numbers as doubles). */
static int catalog_diff_same(const cJSON *a, const cJSON *b)
{
	if (!a || !b)
		return a == b;
	if ((a->type & 0xFF) != (b->type & 0xFF))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	const cJSON *x = a->child, *y = b->child;
	for (; x && y; x = x->next, y = y->next) {
		if ((x->string || y->string) && (!x->string || !y->string || strcmp(x->string, y->string)))
			return 0;
		if (!catalog_diff_same(x, y))
			return 0;
	}
	return !x && !y;
}

/*
 * Apply the rules of extras (the adapter's {"_select": ..., "_metadata":
 * ..., "_schema": ..., "_select_filter": ...}) to the catalog text (len
 * bytes, then a NUL) both ways.  NULL when they agree, else what differs.
 * *handled: whether catalog_text_prepare() took the text (1), did not (0),
 * or ran out of memory (-1: nothing compared).
 */
static const char *catalog_diff(const char *text, size_t len, const cJSON *extras, int *handled)
{
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(extras, "_select");
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(extras, "_metadata");
	const cJSON *sch = cJSON_GetObjectItemCaseSensitive(extras, "_schema");
	const cJSON *filt = cJSON_GetObjectItemCaseSensitive(extras, "_select_filter");
	char *out = NULL, *listing = NULL, *old_out = NULL, *old_listing = NULL;
	size_t out_len = 0;
	cJSON *ds = NULL, *old_ds = NULL, *old_report = NULL, *a = NULL, *b = NULL;
	const char *why = NULL;
	int rc = catalog_text_prepare(text, len, sel, md, sch, filt, -1, &out, &out_len, &ds, &listing);
	/* the same read from a file (through a window of CATALOG_TEXT_WINDOW bytes in the tests), and written to one */
	char *fout = NULL, *flisting = NULL;
	cJSON *fds = NULL;
	int in = memfd_create("catalog", 0), sink = memfd_create("prepared", 0), frc = -3;
	if (in >= 0 && sink >= 0 && write(in, text, len) == (ssize_t)len && lseek(in, 0, SEEK_SET) == 0) {
		frc = catalog_text_read(in, sel, md, sch, filt, sink, NULL, NULL, &fds, &flisting);
		off_t n = lseek(sink, 0, SEEK_END);
		if (frc == 0 && n >= 0 && (fout = calloc(1, (size_t)n + 1)) && pread(sink, fout, (size_t)n, 0) != n) {
			free(fout);
			fout = NULL;
		}
	}
	if (in >= 0)
		close(in);
	if (sink >= 0)
		close(sink);
	if (frc != -3 && frc != -1 && rc != -1 &&
	    (frc != rc || (rc == 0 && (!fout || strcmp(fout, out) || strcmp(flisting, listing) ||
	                               !catalog_diff_same(fds, ds))))) {
		free(fout);
		free(flisting);
		cJSON_Delete(fds);
		*handled = rc == 0 ? 1 : 0;
		why = "catalog_text_read() through a file differs from catalog_text_prepare()";
		free(out);
		free(listing);
		cJSON_Delete(ds);
		return why;
	}
	free(fout);
	free(flisting);
	cJSON_Delete(fds);
	cJSON *catalog = cJSON_Parse(text);
	int valid = catalog && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(catalog, "streams"));
	*handled = rc == 0 ? 1 : rc < 0 ? -1 : 0;
	if (rc != 0) {
		if (out || listing || ds)
			why = "catalog_text_prepare() left an output behind when it gave up";
		goto done;
	}
	if (!valid) {
		why = "catalog_text_prepare() took a text cJSON refuses as a catalog";
		goto done;
	}
	if (!out || !listing || !ds || out_len != strlen(out)) {
		why = "catalog_text_prepare() lacks an output, or its length is wrong";
		goto done;
	}
	catalog_apply_rules(catalog, sel, md, sch, filt);
	old_ds = catalog_datasets(catalog);
	old_out = cJSON_PrintUnformatted(catalog);
	old_report = catalog_selection_report(catalog, sel);
	old_listing = old_report ? cJSON_PrintUnformatted(old_report) : NULL;
	if (!old_ds || !old_out || !old_listing) {
		*handled = -1; /* out of memory on the cJSON side */
		goto done;
	}
	a = cJSON_Parse(old_out);
	b = cJSON_Parse(out);
	if (!b)
		why = "catalog_text_prepare() wrote a catalog that is not JSON";
	else if (!catalog_diff_same(a, b))
		why = "the catalogs differ";
	else if (!catalog_diff_same(old_ds, ds))
		why = "the datasets differ";
	else if (strcmp(old_listing, listing))
		why = "the select --list replies differ";
done:
	free(out);
	free(listing);
	free(old_out);
	free(old_listing);
	cJSON_Delete(ds);
	cJSON_Delete(old_ds);
	cJSON_Delete(old_report);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(catalog);
	return why;
}

#endif
