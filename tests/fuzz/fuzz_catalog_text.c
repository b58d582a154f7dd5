/*
 * fuzz_catalog_text - the rules applied to a catalog's text
 * (plugins/singer/catalog_text.c) against the cJSON path (catalog.c), the
 * input as fuzz_catalog takes it: the first line the tap's extras
 * ({"_select": [...], "_metadata": {...}, "_schema": {...},
 * "_select_filter": [...]}, any types), the rest the catalog's text.
 * Whatever the text path takes, cJSON must take as a catalog too, and the
 * catalog it writes, the lineage's datasets and the select --list reply
 * must be what the cJSON path gives (tests/fuzz/catalog_diff.h); what it
 * does not take it must leave with no output.
 */
#include "catalog_diff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t head = nl ? (size_t)(nl - (const char *)data) : size;
	if (!nl)
		return 0;
	cJSON *extras = cJSON_ParseWithLength((const char *)data, head);
	size_t len = size - head - 1;
	char *text = malloc(len + 1); /* the text path reads a NUL-terminated text, as kit_read_file() gives */
	if (!text) {
		cJSON_Delete(extras);
		return 0;
	}
	memcpy(text, nl + 1, len);
	text[len] = '\0';
	int handled = 0;
	const char *why = catalog_diff(text, len, extras, &handled);
	if (why) {
		fprintf(stderr, "fuzz_catalog_text: %s\n", why);
		abort();
	}
	free(text);
	cJSON_Delete(extras);
	return 0;
}
