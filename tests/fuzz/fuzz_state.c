/*
 * fuzz_state - the target's state lines as the host takes them: each line
 * is checked as JSON the way the singer adapter's on_state() does (a
 * static function in plugins/singer/singer.c, mirrored here), then saved
 * with store_state_put() into an in-memory system database and read back
 * with store_state_get().  A line starting with '~' is saved as a partial
 * state (merged, as Meltano does), any other as a complete one.
 * After a complete state, `state get` must answer that value exactly; after
 * anything, it must answer JSON.
 */
#include "store/store.h"
#include "util/log.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property failed: say which (the compiler merges abort() calls, so a backtrace cannot). */
#define FUZZ_FAIL(what) \
	do { \
		fprintf(stderr, "fuzz_state: %s\n", what); \
		abort(); \
	} while (0)

/* 1 when every number under v is finite (1e999 has no JSON spelling to compare). */
static int all_finite(const cJSON *v)
{
	const cJSON *c;
	if (cJSON_IsNumber(v))
		return isfinite(v->valuedouble);
	cJSON_ArrayForEach(c, v)
		if (!all_finite(c))
			return 0;
	return 1;
}

/* 1 when s[0..n) is UTF-8 (no overlongs, no surrogates): the store writes other bytes as U+FFFD. */
static int utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		unsigned long cp;

		if (!len || i + len > n)
			return 0;
		cp = len == 1 ? c : c & (0x7f >> len);
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store *st;
	const char *text = (const char *)data;
	char err[512];
	size_t start = 0;

	log_set_level(LOG_LEVEL_DISABLED);
	if (!st && store_open(":memory:", &st, err, sizeof err) != 0)
		FUZZ_FAIL(err);
	(void)store_state_clear(st, "dev:tap-to-target", err, sizeof err);
	while (start < size) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (text + start)) : size - start;
		int partial = len && text[start] == '~';
		const char *line = text + start + partial;
		size_t n = len - (size_t)partial;
		cJSON *v = cJSON_ParseWithLength(line, n);
		char *copy, *back = NULL;

		start += len + 1;
		if (!v)
			continue; /* on_state: "received state is invalid", not saved */
		copy = strndup(line, n);
		if (!copy || store_state_put(st, "dev:tap-to-target", copy, partial, err, sizeof err) != 0) {
			free(copy);
			cJSON_Delete(v);
			continue;
		}
		if (store_state_get(st, "dev:tap-to-target", &back, err, sizeof err) != 0 || !back)
			FUZZ_FAIL("a state just saved cannot be read back");
		cJSON *got = cJSON_Parse(back);
		if (!got)
			FUZZ_FAIL("state get answers text that is not JSON");
		/* the adapter saves the line as is: compare with what cJSON_Parse reads of it */
		cJSON *want = cJSON_Parse(copy);
		if (!partial && want && all_finite(want) && utf8_valid((const unsigned char *)copy, strlen(copy))) {
			char *a = cJSON_PrintUnformatted(got), *b = cJSON_PrintUnformatted(want);
			if (a && b && strcmp(a, b)) {
				fprintf(stderr, "saved:     %s\nread back: %s\n", b, a);
				FUZZ_FAIL("a complete state did not read back as saved");
			}
			free(a);
			free(b);
		}
		cJSON_Delete(want);
		cJSON_Delete(got);
		free(back);
		free(copy);
		cJSON_Delete(v);
	}
	return 0;
}
