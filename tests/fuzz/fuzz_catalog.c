/*
 * fuzz_catalog - Meltano's catalog rules (plugins/singer/catalog.c) the
 * way the singer adapter applies them: the first line of the input is the
 * tap's extras as the host hands them over ({"_select": [...],
 * "_metadata": {...}, "_schema": {...}, "_select_filter": [...]}, any
 * types), the rest is the catalog the tap wrote.  The rules must never
 * crash, and applying them twice must select the same streams (they
 * start by deselecting everything, so they are idempotent).  The indexed
 * look-ups (select --list's report, the lineage's fields) must tell what the
 * plain search of the metadata tells, duplicates of a property included.
 */
#include "catalog.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property failed: say which (the compiler merges abort() calls, so a backtrace cannot). */
#define FUZZ_FAIL(what) \
	do { \
		fprintf(stderr, "fuzz_catalog: %s\n", what); \
		abort(); \
	} while (0)

/* The report and catalog_field_selected() with an index agree with the searches without one. */
static void check_indexed(const cJSON *catalog)
{
	cJSON *report = catalog_selection_report(catalog, NULL);
	if (!report)
		return; /* out of memory */
	const cJSON *st, *prop, *rs = cJSON_GetObjectItemCaseSensitive(report, "streams")->child;
	cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(catalog, "streams"))
	{
		struct catalog_props ix = { 0 };
		const cJSON *rp = cJSON_GetObjectItemCaseSensitive(rs, "properties")->child;
		if (catalog_props_index(&ix, st))
			FUZZ_FAIL("out of memory");
		cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "schema"),
		                                                          "properties"))
		{
			if (!prop->string)
				continue; /* schema.properties as an array: nothing the report can name */
			const char *sel = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rp, "selection"));
			if (!sel)
				FUZZ_FAIL("the report lacks a property");
			if (strcmp(sel, catalog_selection(st, prop->string)))
				FUZZ_FAIL("the report's selection differs from catalog_selection()");
			if (catalog_field_selected(&ix, st, prop->string) != catalog_field_selected(NULL, st, prop->string))
				FUZZ_FAIL("catalog_field_selected() differs with the index");
			rp = rp->next;
		}
		catalog_props_release(&ix);
		rs = rs->next;
	}
	cJSON_Delete(report);
}

static void apply(cJSON *catalog, const cJSON *extras)
{
	catalog_apply_rules(catalog, cJSON_GetObjectItemCaseSensitive(extras, "_select"),
	                    cJSON_GetObjectItemCaseSensitive(extras, "_metadata"),
	                    cJSON_GetObjectItemCaseSensitive(extras, "_schema"),
	                    cJSON_GetObjectItemCaseSensitive(extras, "_select_filter"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nl = memchr(data, '\n', size);
	size_t head = nl ? (size_t)(nl - text) : size;
	cJSON *extras = cJSON_ParseWithLength(text, head);
	cJSON *catalog = nl ? cJSON_ParseWithLength(nl + 1, size - head - 1) : NULL;
	const cJSON *st;
	unsigned char first[64] = { 0 };
	size_t i = 0;

	/* singer.c only goes on with a catalog whose streams are an array */
	if (!catalog || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(catalog, "streams")))
		goto out;
	apply(catalog, extras);
	cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(catalog, "streams"))
		if (i < sizeof first)
			first[i++] = (unsigned char)catalog_stream_selected(st);
	apply(catalog, extras);
	i = 0;
	cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(catalog, "streams"))
		if (i < sizeof first && first[i++] != (unsigned char)catalog_stream_selected(st))
			FUZZ_FAIL("the same rules selected differently the second time");
	check_indexed(catalog);
	free(cJSON_PrintUnformatted(catalog));
out:
	cJSON_Delete(catalog);
	cJSON_Delete(extras);
	return 0;
}
