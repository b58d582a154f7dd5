/*
 * libFuzzer harness for the Singer SDK's structured log lines (host/src/
 * run/sdk_log.c): any line either is not a record (then nothing was
 * allocated and the caller logs it as text) or parses into a message and
 * an object of fields that holds none of the members lifted out of the
 * record (unless its extra has them); logging it (scrubbing a registered secret from every string of
 * the fields) and looking for its metric never crash.
 */
#include "run/sdk_log.h"
#include "util/log.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	if (!once) {
		once = 1;
		log_set_level(LOG_LEVEL_DISABLED); /* parse, scrub and format, but print nothing */
		log_add_secret("secret");
		sdk_log_use("tap-x", 1);
	}
	const char *line = (const char *)data;
	struct sdk_record r;
	int parsed = sdk_log_parse(line, size, &r);
	if (parsed) {
		if (!r.message || !cJSON_IsObject(r.fields))
			abort();
		static const char *const lifted[] = { "level", "logger_name", "ts", "message", "exception", "extra" };
		/* the record's own members are lifted out; extra's members (added after) may use the same names */
		cJSON *rec = cJSON_ParseWithLength(line, size);
		const cJSON *extra = cJSON_GetObjectItemCaseSensitive(rec, "extra");
		for (size_t i = 0; i < sizeof lifted / sizeof lifted[0]; i++)
			if (cJSON_GetObjectItemCaseSensitive(r.fields, lifted[i]) &&
			    !cJSON_GetObjectItemCaseSensitive(extra, lifted[i]))
				abort();
		cJSON_Delete(rec);
		for (const cJSON *f = r.fields->child; f; f = f->next)
			if (cJSON_IsNull(f))
				abort();
		if (r.level != SMELT_LOG_DEBUG && r.level != SMELT_LOG_INFO && r.level != SMELT_LOG_WARN &&
		    r.level != SMELT_LOG_ERROR)
			abort();
	} else if (r.message || r.fields) {
		abort();
	}
	sdk_record_release(&r);
	if (sdk_log_emit("tap-x", line, size, (int)(size & 1)) != parsed)
		abort();
	cJSON *m = sdk_log_metric(line, size);
	if (m && !parsed)
		abort();
	cJSON_Delete(m);
	return 0;
}
