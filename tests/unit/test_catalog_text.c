/*
 * Check suite for plugins/singer/catalog_text: the rules applied to a
 * catalog's text must give what the cJSON path gives (the catalog the tap
 * reads, the lineage's datasets, the reply of select --list), on the
 * benchmark's catalog and on thousands of random catalogs and rules
 * written with random spacing, escapes, duplicate keys and odd shapes;
 * what it does not take (malformed JSON, shapes it leaves to cJSON) it
 * says so, and the caller's cJSON path takes over.
 */
#include "../fuzz/catalog_diff.h"

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- a random writer of JSON text */

struct w {
	char *p;
	size_t n, cap;
	uint64_t rng;
};

static uint64_t rnd(struct w *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

/* 1 in n */
static int one_in(struct w *w, unsigned n)
{
	return rnd(w) % n == 0;
}

static const char *pick(struct w *w, const char *const *list, size_t n)
{
	return list[rnd(w) % n];
}

#define PICK(w, list) pick((w), (list), sizeof(list) / sizeof *(list))

static void w_raw(struct w *w, const char *s)
{
	size_t n = strlen(s);
	if (w->n + n + 1 > w->cap) {
		w->cap = (w->n + n + 1) * 2;
		w->p = realloc(w->p, w->cap);
		ck_assert_ptr_nonnull(w->p);
	}
	memcpy(w->p + w->n, s, n + 1);
	w->n += n;
}

/* Some spacing, now and then. */
static void w_ws(struct w *w)
{
	static const char *const spaces[] = { " ", "\n", "\t", "\r\n", "  " };
	while (one_in(w, 4))
		w_raw(w, PICK(w, spaces));
}

/* s as a JSON string, some characters escaped (\uXXXX, \/) at random. */
static void w_str(struct w *w, const char *s)
{
	char esc[8];
	w_raw(w, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			snprintf(esc, sizeof esc, "\\%c", *p);
		else if (*p < 32 || (*p < 128 && one_in(w, 12)))
			snprintf(esc, sizeof esc, one_in(w, 2) ? "\\u%04x" : "\\u%04X", *p);
		else if (*p == '/' && one_in(w, 2))
			snprintf(esc, sizeof esc, "\\/");
		else
			snprintf(esc, sizeof esc, "%c", *p);
		w_raw(w, esc);
	}
	w_raw(w, "\"");
}

static void w_key(struct w *w, int *n, const char *key)
{
	if ((*n)++) {
		w_ws(w);
		w_raw(w, ",");
	}
	w_ws(w);
	w_str(w, key);
	w_ws(w);
	w_raw(w, ":");
	w_ws(w);
}

static void w_sep(struct w *w, int *n)
{
	if ((*n)++) {
		w_ws(w);
		w_raw(w, ",");
	}
	w_ws(w);
}

/* ---------------------------------------------------------------- random catalogs */

static const char *const stream_ids[] = { "s0", "s1", "s2", "s.x", "t7", "s17", "\xc3\xa9", "s/1" };
static const char *const prop_names[] = { "a", "b", "c", "d", "a.b", "x y", "p1", "p10", "p4", "\xc3\xa9", "q\"r", "t\tab" };
static const char *const prop_schemas[] = {
	"{\"type\": [\"null\", \"string\"]}",
	"{\"type\": \"string\", \"format\": \"date-time\"}",
	"{\"type\": {\"x\": \"integer\", \"y\": \"null\"}}",
	"{}",
	"true",
	"{\"type\": \"number\", \"maximum\": 1.5e3, \"minimum\": -0, \"multipleOf\": 0.25}",
	"{\"format\": 5, \"type\": \"integer\"}",
	"{\"type\": [\"null\"]}",
	"{\"type\": [\"null\", \"integer\", \"string\", 7], \"description\": \"x\\u00e9\\ud83d\\ude00\"}",
	"{\"type\": \"object\", \"properties\": {\"inner\": {\"type\": \"string\"}}, \"type\": \"array\"}",
	"{\"type\": \"integer\", \"default\": 12345678901234567890, \"examples\": [1.0, 2E-2, null, false]}",
};

static void w_entry_md(struct w *w)
{
	static const char *const incl[] = { "\"available\"", "\"automatic\"", "\"unsupported\"", "5", "null" };
	static const char *const sel[] = { "true", "false", "\"yes\"", "null" };
	int n = 0;
	w_raw(w, "{");
	if (!one_in(w, 4)) {
		w_key(w, &n, "inclusion");
		w_raw(w, PICK(w, incl));
	}
	if (one_in(w, 3)) {
		w_key(w, &n, "selected");
		w_raw(w, PICK(w, sel));
	}
	if (one_in(w, 5)) {
		w_key(w, &n, "replication-method");
		w_raw(w, "\"FULL_TABLE\"");
	}
	if (one_in(w, 6)) {
		w_key(w, &n, "replication-key");
		w_raw(w, "\"updated\"");
	}
	if (one_in(w, 4)) {
		w_key(w, &n, "table-key-properties");
		w_raw(w, "[\"a\"]");
	}
	if (one_in(w, 8)) {
		w_key(w, &n, "selected-by-default");
		w_raw(w, "true");
	}
	if (one_in(w, 15)) { /* a duplicate key: the first is the one the rules read and set */
		w_key(w, &n, one_in(w, 2) ? "inclusion" : "selected");
		w_raw(w, one_in(w, 2) ? "\"unsupported\"" : "false");
	}
	w_ws(w);
	w_raw(w, "}");
}

/* An entry of the metadata; prop NULL: the stream's. */
static void w_entry(struct w *w, const char *prop, int *n)
{
	int m = 0;
	w_sep(w, n);
	w_raw(w, "{");
	if (one_in(w, 10)) {
		w_key(w, &m, "foo");
		w_raw(w, "1");
	}
	if (prop || !one_in(w, 8)) { /* a stream entry without a breadcrumb counts as one with [] */
		w_key(w, &m, "breadcrumb");
		w_raw(w, "[");
		if (prop) {
			int k = 0;
			w_sep(w, &k);
			w_str(w, one_in(w, 20) ? "x" : "properties");
			w_sep(w, &k);
			w_str(w, prop);
			if (one_in(w, 20)) {
				w_sep(w, &k);
				w_str(w, "deeper");
			}
		}
		w_ws(w);
		w_raw(w, "]");
	}
	if (!one_in(w, 10)) {
		w_key(w, &m, "metadata");
		if (one_in(w, 20))
			w_raw(w, one_in(w, 2) ? "\"x\"" : "[1]");
		else
			w_entry_md(w);
	}
	if (one_in(w, 25)) {
		w_key(w, &m, "metadata");
		w_raw(w, "{\"inclusion\": \"unsupported\"}");
	}
	w_ws(w);
	w_raw(w, "}");
}

static void w_stream(struct w *w, int *ns)
{
	const char *props[8];
	int nprops = (int)(rnd(w) % 7), n = 0;
	for (int i = 0; i < nprops; i++)
		props[i] = PICK(w, prop_names);
	w_sep(w, ns);
	w_raw(w, "{");
	/* the members in a random order */
	int order[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	for (int i = 7; i > 0; i--) {
		int j = (int)(rnd(w) % (uint64_t)(i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int o = 0; o < 8; o++) {
		switch (order[o]) {
		case 0:
			if (one_in(w, 10))
				break;
			w_key(w, &n, "tap_stream_id");
			if (one_in(w, 12))
				w_raw(w, "42");
			else
				w_str(w, PICK(w, stream_ids));
			break;
		case 1:
			if (one_in(w, 3))
				break;
			w_key(w, &n, "stream");
			w_str(w, PICK(w, stream_ids));
			break;
		case 2: {
			if (one_in(w, 10))
				break;
			int m = 0;
			w_key(w, &n, "schema");
			w_raw(w, "{");
			if (!one_in(w, 4)) {
				w_key(w, &m, "type");
				w_raw(w, "\"object\"");
			}
			if (!one_in(w, 10)) {
				int k = 0;
				w_key(w, &m, "properties");
				w_raw(w, "{");
				for (int i = 0; i < nprops; i++) {
					w_key(w, &k, props[i]);
					w_raw(w, PICK(w, prop_schemas));
				}
				w_ws(w);
				w_raw(w, "}");
			}
			w_ws(w);
			w_raw(w, "}");
			break;
		}
		case 3: {
			if (one_in(w, 10))
				break;
			int k = 0;
			w_key(w, &n, "metadata");
			w_raw(w, "[");
			if (!one_in(w, 4))
				w_entry(w, NULL, &k);
			for (int i = 0; i < nprops; i++) {
				if (!one_in(w, 4))
					w_entry(w, props[i], &k);
				if (one_in(w, 10))
					w_entry(w, props[i], &k); /* a duplicate entry */
			}
			if (one_in(w, 5))
				w_entry(w, "zz", &k); /* a property the schema lacks */
			if (one_in(w, 10))
				w_entry(w, NULL, &k); /* a second stream entry */
			w_ws(w);
			w_raw(w, "]");
			break;
		}
		case 4:
			if (!one_in(w, 6))
				break;
			w_key(w, &n, "selected");
			w_raw(w, one_in(w, 2) ? "true" : "false");
			break;
		case 5:
			if (!one_in(w, 6))
				break;
			w_key(w, &n, "replication_method");
			w_raw(w, "\"INCREMENTAL\"");
			break;
		case 6:
			if (!one_in(w, 3))
				break;
			w_key(w, &n, "key_properties");
			w_raw(w, "[\"a\", 1.0, {\"x\": [true, null]}]");
			break;
		default:
			if (!one_in(w, 12))
				break;
			/* a later duplicate of a key the rules read: copied as it is */
			w_key(w, &n, one_in(w, 2) ? "metadata" : one_in(w, 2) ? "schema" : "tap_stream_id");
			w_raw(w, one_in(w, 2) ? "[]" : "\"dup\"");
		}
	}
	w_ws(w);
	w_raw(w, "}");
}

static void w_catalog(struct w *w)
{
	int n = 0, ns = 0, streams = (int)(rnd(w) % 6);
	w_ws(w);
	w_raw(w, "{");
	if (one_in(w, 4)) {
		w_key(w, &n, "version");
		w_raw(w, "1");
	}
	w_key(w, &n, "streams");
	w_raw(w, "[");
	for (int i = 0; i < streams; i++)
		w_stream(w, &ns);
	w_ws(w);
	w_raw(w, "]");
	if (one_in(w, 4)) {
		w_key(w, &n, one_in(w, 3) ? "streams" : "extra");
		w_raw(w, "{\"a\": [1, 2.5, \"\\u00e9\"]}");
	}
	w_ws(w);
	w_raw(w, "}");
	w_ws(w);
}

/* Random rules, as the adapter's extras. */
static cJSON *random_extras(struct w *w)
{
	static const char *const pats[] = { "\"*.*\"", "\"s*.a\"", "\"!s1.*\"", "\"s2.b*\"", "\"!*.c\"", "\"s\\\\.x.*\"",
		                            "\"*\"", "\"s0\"", "\"s1.a.b\"", "\"*.p1*\"", "\"!s17.p4*\"", "\"\xc3\xa9.*\"",
		                            "\"!*\"", "\"!s*.*\"", "\"*.x y\"", "5" };
	static const char *const md_rules[] = {
		"\"s*\": {\"replication-method\": \"FULL_TABLE\", \"a\": {\"inclusion\": \"unsupported\"}}",
		"\"s1\": {\"selected\": true, \"*\": {\"selected\": true}}",
		"\"*\": {\"b*\": {\"inclusion\": \"automatic\", \"custom\": [1, 2]}, \"replication-key\": \"ts\"}",
		"\"t7\": {\"selected\": false, \"inclusion\": \"available\", \"p1\": {\"selected\": false, \"inclusion\": 3}}",
		"\"s2\": 5",
		"\"*\": {\"x y\": {\"selected\": \"no\"}, \"custom-\\u00e9\": {\"k\": null}}",
	};
	static const char *const schema_rules[] = {
		"\"s1\": {\"newp\": {\"type\": \"integer\"}, \"a\": {\"type\": \"string\", \"format\": \"date-time\"}}",
		"\"*\": {}",
		"\"t7\": {\"c\": true, \"z\\\"q\": {\"type\": [\"null\", \"boolean\"]}}",
		"\"s*\": {\"a\": {\"type\": \"number\"}}",
		"\"s0\": 7",
	};
	static const char *const filters[] = { "\"s1\"", "\"!s2\"", "\"s*\"", "\"!t7\"", "5" };
	struct w t = { .rng = rnd(w) };
	int n = 0;
	w_raw(&t, "{");
	if (!one_in(w, 5)) {
		int k = 0;
		w_key(&t, &n, "_select");
		if (one_in(w, 20)) {
			w_raw(&t, "\"s1.*\"");
		} else {
			w_raw(&t, "[");
			for (int i = (int)(rnd(w) % 4); i >= 0; i--) {
				w_sep(&t, &k);
				w_raw(&t, PICK(w, pats));
			}
			w_raw(&t, "]");
		}
	}
	if (one_in(w, 2)) {
		int k = 0;
		w_key(&t, &n, "_metadata");
		w_raw(&t, "{");
		for (int i = (int)(rnd(w) % 3); i >= 0; i--) {
			w_sep(&t, &k);
			w_raw(&t, PICK(w, md_rules));
		}
		w_raw(&t, "}");
	}
	if (one_in(w, 3)) {
		int k = 0;
		w_key(&t, &n, "_schema");
		w_raw(&t, "{");
		for (int i = (int)(rnd(w) % 2); i >= 0; i--) {
			w_sep(&t, &k);
			w_raw(&t, PICK(w, schema_rules));
		}
		w_raw(&t, "}");
	}
	if (one_in(w, 3)) {
		int k = 0;
		w_key(&t, &n, "_select_filter");
		w_raw(&t, "[");
		for (int i = (int)(rnd(w) % 3); i >= 0; i--) {
			w_sep(&t, &k);
			w_raw(&t, PICK(w, filters));
		}
		w_raw(&t, "]");
	}
	w_raw(&t, "}");
	cJSON *extras = cJSON_Parse(t.p);
	ck_assert_msg(extras != NULL, "bad extras: %s", t.p);
	free(t.p);
	return extras;
}

/* ---------------------------------------------------------------- tests */

/* The rules of text with extras (JSON) applied both ways agree; returns whether the text path took it. */
static int agree(const char *text, const char *extras_json)
{
	cJSON *extras = cJSON_Parse(extras_json);
	int handled = 0;
	const char *why = catalog_diff(text, strlen(text), extras, &handled);
	ck_assert_msg(!why, "%s\nrules: %s\ncatalog: %s", why, extras_json, text);
	ck_assert_int_ge(handled, 0);
	cJSON_Delete(extras);
	return handled;
}

/* The benchmark's catalog (bench/peers.py catalog(), as json.dumps writes it) and its select rules. */
static char *bench_catalog(int streams, int props)
{
	struct w w = { 0 };
	char part[256];
	w_raw(&w, "{\"streams\": [");
	for (int s = 0; s < streams; s++) {
		snprintf(part, sizeof part,
		         "%s{\"tap_stream_id\": \"stream_%d\", \"stream\": \"stream_%d\", \"schema\": {\"type\": \"object\", "
		         "\"properties\": {",
		         s ? ", " : "", s, s);
		w_raw(&w, part);
		for (int p = 0; p < props; p++) {
			snprintf(part, sizeof part, "%s\"p%d\": {\"type\": [\"null\", \"string\"]}", p ? ", " : "", p);
			w_raw(&w, part);
		}
		w_raw(&w, "}}, \"metadata\": [{\"breadcrumb\": [], \"metadata\": {\"inclusion\": \"available\", "
		          "\"table-key-properties\": [\"p0\"]}}");
		for (int p = 0; p < props; p++) {
			snprintf(part, sizeof part,
			         ", {\"breadcrumb\": [\"properties\", \"p%d\"], \"metadata\": {\"inclusion\": \"available\"}}", p);
			w_raw(&w, part);
		}
		w_raw(&w, "]}");
	}
	w_raw(&w, "]}");
	return w.p;
}

static const char bench_rules[] = "{\"_select\": [\"stream_*7.*\", \"!stream_*7.p4*\", \"stream_*3.p1\"]}";

START_TEST(the_benchmark_catalog_is_prepared_as_the_parse_does)
{
	char *text = bench_catalog(40, 12);
	ck_assert_int_eq(agree(text, bench_rules), 1);
	ck_assert_int_eq(agree(text, "{}"), 1);
	/* and what the tap reads: stream_7 selected with p0-p3 and p5-p11, p4 not; stream_3 not, its p1 is */
	cJSON *extras = cJSON_Parse(bench_rules), *ds = NULL;
	char *out = NULL, *listing = NULL;
	ck_assert_int_eq(catalog_text_prepare(text, strlen(text), cJSON_GetObjectItem(extras, "_select"), NULL, NULL,
	                                      NULL, -1, &out, NULL, &ds, &listing),
	                 0);
	cJSON *cat = cJSON_Parse(out), *st7 = cJSON_GetArrayItem(cJSON_GetObjectItem(cat, "streams"), 7);
	ck_assert_str_eq(cJSON_GetObjectItem(st7, "tap_stream_id")->valuestring, "stream_7");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(st7, "selected")));
	cJSON *md = cJSON_GetObjectItem(st7, "metadata");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(md, 1), "metadata"), "selected")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(md, 5), "metadata"), "selected")));
	ck_assert_int_eq(cJSON_GetArraySize(ds), 8); /* stream_3, 7, 13, 17, 23, 27, 33, 37 */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(ds, 0), "fields")), 1);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(ds, 1), "fields")), 11);
	ck_assert_ptr_nonnull(strstr(listing, "{\"stream\":\"stream_3\",\"selection\":\"selected\",\"properties\":[{\"name\":"
	                                      "\"p0\",\"selection\":\"excluded\"},{\"name\":\"p1\",\"selection\":\"selected\"}"));
	cJSON_Delete(cat);
	cJSON_Delete(ds);
	cJSON_Delete(extras);
	free(out);
	free(listing);
	free(text);
}
END_TEST

START_TEST(random_catalogs_and_rules_agree_with_the_parse)
{
	int handled = 0, runs = 4000;
	for (int i = 0; i < runs; i++) {
		struct w w = { .rng = 0x9e3779b97f4a7c15ull + (uint64_t)i * 7919 };
		w_catalog(&w);
		cJSON *extras = random_extras(&w);
		char *rules = cJSON_PrintUnformatted(extras);
		handled += agree(w.p, rules);
		free(rules);
		cJSON_Delete(extras);
		free(w.p);
	}
	/* most random catalogs are plain ones: the text path must take them, not leave them all to cJSON */
	ck_assert_msg(handled > runs * 6 / 10, "only %d of %d taken", handled, runs);
}
END_TEST

/* Texts cJSON reads differently from JSON (or not at all), and shapes left to the parse: not taken. */
START_TEST(what_it_does_not_take_is_left_to_the_parse)
{
	static const char *const texts[] = {
		"{\"streams\": []} trailing",                                   /* cJSON ignores what follows */
		"\xef\xbb\xbf{\"streams\": []}",                                /* a BOM cJSON skips */
		"{\"streams\": [{\"tap_stream_id\": \"a\\u0000b\"}]}",          /* cJSON cuts the string */
		"{\"streams\": [{\"tap_stream_id\": \"a\\udc00\"}]}",           /* a lone surrogate */
		"{\"streams\": [{\"tap_stream_id\": \"a\\ud800x\"}]}",
		"{\"streams\": [{\"tap_stream_id\": \"a\\uZZZZ\"}]}",           /* cJSON reads it as \u0000 */
		"{\"streams\": [{\"tap_stream_id\": \"a\tb\"}]}",               /* a raw control character */
		"{\"streams\": [{\"x\": 1e999}]}",                              /* inf: cJSON prints null */
		"{\"streams\": [{\"x\": 1234567890123456789012345678901234567890123456789012345678901234}]}",
		"{\"streams\": [{\"x\": 01}]}",
		"{\"streams\": {}}",
		"[{\"streams\": []}]",
		"{\"streams\": [1]}",
		"{\"streams\": [{\"metadata\": [1]}]}",
		"{\"streams\": [{\"metadata\": {}}]}",
		"{\"streams\": [{\"metadata\": [{\"breadcrumb\": \"properties\"}]}]}",
		"{\"streams\": [{\"schema\": {\"properties\": [{\"type\": \"string\"}]}}]}",
		"{\"streams\": [{\"schema\": \"x\"}]}",
		"{\"nostreams\": []}",
		"{\"streams\": [],}",
		"{\"streams\": [}",
		"{'streams': []}",
		"{\"streams\": [{\"a\": tru}]}",
		"",
		"   ",
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		char *out = (char *)1, *listing = (char *)1;
		cJSON *ds = (cJSON *)1;
		int rc = catalog_text_prepare(texts[i], strlen(texts[i]), NULL, NULL, NULL, NULL, -1, &out, NULL, &ds, &listing);
		ck_assert_msg(rc == CATALOG_TEXT_UNHANDLED, "taken: %s", texts[i]);
		ck_assert_ptr_null(out);
		ck_assert_ptr_null(ds);
		ck_assert_ptr_null(listing);
		ck_assert_int_eq(agree(texts[i], "{\"_select\": [\"*.*\"]}"), 0);
	}
	/* nested 600 deep: cJSON takes it (its limit is 1000), the text path leaves it */
	char deep[2000] = "{\"streams\": [{\"x\": ";
	for (int i = 0; i < 600; i++)
		strcat(deep, "[");
	for (int i = 0; i < 600; i++)
		strcat(deep, "]");
	strcat(deep, "}]}");
	ck_assert_int_eq(agree(deep, "{}"), 0);
	/* a NUL inside the text: cJSON stops there */
	static const char nul[] = "{\"streams\": []}\0garbage";
	ck_assert_int_eq(catalog_text_prepare(nul, sizeof nul - 1, NULL, NULL, NULL, NULL, -1, NULL, NULL, NULL, NULL),
	                 CATALOG_TEXT_UNHANDLED);
}
END_TEST

/* What the text path copies keeps the tap's own spelling: cJSON would print 1 and a rounded double. */
START_TEST(copied_values_keep_their_spelling)
{
	static const char text[] =
		"{\"streams\": [{\"tap_stream_id\": \"s\", \"schema\": {\"properties\": {\"a\": {\"type\": \"number\", "
		"\"maximum\": 1.0, \"default\": 12345678901234567890, \"description\": \"caf\\u00e9\"}}}}]}";
	char *out = NULL;
	ck_assert_int_eq(catalog_text_prepare(text, strlen(text), NULL, NULL, NULL, NULL, -1, &out, NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "{\"a\": {\"type\": \"number\", \"maximum\": 1.0, \"default\": 12345678901234567890, "
	                                  "\"description\": \"caf\\u00e9\"}}"));
	ck_assert_ptr_nonnull(strstr(out, "\"metadata\":[{\"breadcrumb\":[],\"metadata\":{\"inclusion\":\"automatic\","
	                                  "\"selected\":true}},{\"breadcrumb\":[\"properties\",\"a\"],\"metadata\":{"
	                                  "\"inclusion\":\"automatic\",\"selected\":true}}]"));
	ck_assert_ptr_nonnull(strstr(out, ",\"selected\":true}]}"));
	free(out);
	ck_assert_int_eq(agree(text, "{}"), 1);
}
END_TEST

/* Only the outputs asked for are made, and each is the same alone. */
START_TEST(each_output_alone)
{
	char *text = bench_catalog(12, 5), *listing = NULL, *all = NULL, *out = NULL;
	cJSON *extras = cJSON_Parse(bench_rules), *ds = NULL;
	const cJSON *sel = cJSON_GetObjectItem(extras, "_select");
	size_t len = 0;
	ck_assert_int_eq(catalog_text_prepare(text, strlen(text), sel, NULL, NULL, NULL, -1, NULL, NULL, NULL, &listing), 0);
	ck_assert_int_eq(catalog_text_prepare(text, strlen(text), sel, NULL, NULL, NULL, -1, &out, &len, &ds, &all), 0);
	ck_assert_str_eq(listing, all);
	ck_assert_uint_eq(len, strlen(out));
	free(listing);
	free(all);
	free(out);
	cJSON_Delete(ds);
	ck_assert_int_eq(catalog_text_prepare(text, strlen(text), sel, NULL, NULL, NULL, -1, &out, NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(out);
	free(out);
	cJSON_Delete(extras);
	free(text);
}
END_TEST

/*
 * The cJSON path (catalog.c): a property without a metadata entry gets one
 * when the stream has other entries.  It used to take the stream's first
 * entry for it, so "!s.b" deselected the whole stream.
 */
START_TEST(a_property_without_an_entry_gets_its_own)
{
	static const char text[] =
		"{\"streams\": [{\"tap_stream_id\": \"s\", \"schema\": {\"properties\": {\"a\": {}, \"b\": {}}}, "
		"\"metadata\": [{\"breadcrumb\": [], \"metadata\": {\"inclusion\": \"available\"}}, "
		"{\"breadcrumb\": [\"properties\", \"a\"], \"metadata\": {\"inclusion\": \"available\"}}]}]}";
	cJSON *catalog = cJSON_Parse(text), *select = cJSON_Parse("[\"s.*\", \"!s.b\"]");
	catalog_apply_rules(catalog, select, NULL, NULL, NULL);
	const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItem(catalog, "streams"), 0);
	ck_assert_int_eq(catalog_stream_selected(st), 1);
	ck_assert_str_eq(catalog_selection(st, NULL), "selected");
	ck_assert_str_eq(catalog_selection(st, "a"), "selected");
	ck_assert_str_eq(catalog_selection(st, "b"), "automatic"); /* made as Meltano makes it, then not selectable away */
	const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "metadata"), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "breadcrumb"), 1)->valuestring, "b");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "metadata"), "selected")));
	ck_assert_int_eq(agree(text, "{\"_select\": [\"s.*\", \"!s.b\"]}"), 1);
	cJSON_Delete(select);
	cJSON_Delete(catalog);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("catalog_text");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_benchmark_catalog_is_prepared_as_the_parse_does);
	tcase_add_test(tc, random_catalogs_and_rules_agree_with_the_parse);
	tcase_add_test(tc, what_it_does_not_take_is_left_to_the_parse);
	tcase_add_test(tc, copied_values_keep_their_spelling);
	tcase_add_test(tc, each_output_alone);
	tcase_add_test(tc, a_property_without_an_entry_gets_its_own);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
