/* about: `--about [--format=json|text]` of the native connectors, shaped like Meltano SDK taps' (SINGER.md §9). */
#ifndef SMELT_CONN_ABOUT_H
#define SMELT_CONN_ABOUT_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct conn_about {
	const char *name;          /* "tap-csv" */
	const char *version;
	const char *description;
	const char *const *caps;   /* capability names */
	size_t ncaps;
};

/*
 * Print the about text or JSON on stdout.  settings is the JSON Schema
 * object of the config (ownership passes; may be NULL).  0, or -1 when out
 * of memory.
 */
int conn_about_print(const struct conn_about *about, cJSON *settings, int as_json);

#endif
