/*
 * fuzz_lock: lock-file parsing (lock_parse_json with its float marks) and
 * serialising (lock_canonical + lock_dump).  A serialised lock must parse
 * again and serialise to the same bytes (the writer is idempotent).
 */
#include "hub/lock.h"
#include "util/strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	cJSON *v = lock_parse_json((const char *)data, size, err, sizeof err);
	if (!v)
		return 0;
	struct strbuf once = STRBUF_INIT, twice = STRBUF_INIT;
	/* Infinity/NaN (from 1e999) are written as Python writes them, which no JSON parser reads back. */
	if (lock_serialize(v, "extractors", &once, err, sizeof err) == 0 && !strstr(once.buf, "Infinity") &&
	    !strstr(once.buf, "NaN")) {
		cJSON *back = lock_parse_json(once.buf, once.len, err, sizeof err);
		if (!back)
			abort(); /* the writer produced JSON its own reader rejects */
		if (lock_serialize(back, NULL, &twice, err, sizeof err) != 0 || strcmp(once.buf, twice.buf))
			abort(); /* not idempotent */
		cJSON_Delete(back);
	}
	struct strbuf any = STRBUF_INIT;
	lock_dump(&any, v); /* any JSON value, not only definitions */
	strbuf_release(&any);
	strbuf_release(&once);
	strbuf_release(&twice);
	cJSON_Delete(v);
	return 0;
}
