/*
 * fuzz_hub - plugin definitions as the Hub serves them (GET <ref>): parsed
 * with lock_parse_json(), read with definition_from_json() for a plugin
 * type, then written as a lock file (lock_serialize) and read back.  A
 * definition the host accepted must lock, and the lock file must read as
 * the same definition (name, type, variant, settings count).
 *
 * Not covered here: the walk of a type index (default_variant, variants,
 * ref) inside hub_fetch_definition(), which is inline with the HTTP GET
 * (http and https only), so it has no entry point without a server.
 */
#include "hub/lock.h"
#include "project/definition.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property failed: say which (the compiler merges abort() calls, so a backtrace cannot). */
#define FUZZ_FAIL(what) \
	do { \
		fprintf(stderr, "fuzz_hub: %s\n", what); \
		abort(); \
	} while (0)

/* Equal strings; "" and NULL are the same (a lock leaves an empty variant out). */
static int same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct definition d, back;
	struct strbuf lock = STRBUF_INIT;
	cJSON *v, *again;
	int hint;

	log_set_level(LOG_LEVEL_DISABLED);
	if (!size)
		return 0;
	/* the first byte picks the type the Hub was asked for */
	hint = data[0] % PLUGIN_TYPE_COUNT;
	v = lock_parse_json((const char *)data + 1, size - 1, err, sizeof err);
	if (!v)
		return 0;
	definition_init(&d);
	definition_init(&back);
	if (definition_from_json(&d, v, hint, err, sizeof err) != 0)
		goto out;
	if (lock_serialize(v, plugin_type_plural(d.type >= 0 ? d.type : hint), &lock, err, sizeof err) != 0)
		goto out; /* e.g. a name that is not a string: reported, not locked */
	again = lock_parse_json(lock.buf, lock.len, err, sizeof err);
	if (!again)
		FUZZ_FAIL("the lock writer produced JSON its reader rejects");
	if (definition_from_json(&back, again, hint, err, sizeof err) != 0) {
		fprintf(stderr, "%s\nlock file:\n%s", err, lock.buf);
		FUZZ_FAIL("a locked definition no longer reads");
	}
	if (!same(d.name, back.name) || (d.type >= 0 && d.type != back.type) || !same(d.variant, back.variant) ||
	    d.nsettings != back.nsettings) {
		fprintf(stderr, "%s/%d/%s/%zu became %s/%d/%s/%zu\n", d.name, d.type, d.variant ? d.variant : "-",
		        d.nsettings, back.name, back.type, back.variant ? back.variant : "-", back.nsettings);
		FUZZ_FAIL("locking changed the definition");
	}
	cJSON_Delete(again);
out:
	definition_release(&d);
	definition_release(&back);
	strbuf_release(&lock);
	cJSON_Delete(v);
	return 0;
}
