/*
 * fuzz_dotenv - the .env parser (dotenv_parse, python-dotenv's rules).  Every
 * input either parses or fails with a "name:line: ..." message; every value it
 * yields, written back the way dotenv_set() writes it (dotenv_format) and
 * followed by another quoted line, parses again to the same value.
 */
#include "project/project.h"
#include "util/strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	cJSON *o = NULL;
	if (dotenv_parse((const char *)data, size, ".env", &o, err, sizeof err) != 0) {
		if (strncmp(err, ".env:", 5) != 0)
			abort(); /* every error names the file and line */
		return 0;
	}
	for (const cJSON *kv = o->child; kv; kv = kv->next) {
		struct strbuf line = STRBUF_INIT;
		cJSON *back = NULL;
		if (strpbrk(kv->string, "=#' \t\r\n\f\v") || !kv->string[0])
			continue; /* not a key dotenv_set would write unquoted */
		if (dotenv_format(&line, kv->string, kv->valuestring) < 0)
			continue; /* refused with an error by dotenv_set */
		strbuf_addstr(&line, "Z='a quote after it'\n"); /* nothing may swallow the next line */
		if (dotenv_parse(line.buf, line.len, ".env", &back, err, sizeof err) != 0)
			abort();
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(back, kv->string);
		const cJSON *z = cJSON_GetObjectItemCaseSensitive(back, "Z");
		if (!cJSON_IsString(v) || (strcmp(kv->string, "Z") && strcmp(v->valuestring, kv->valuestring)) ||
		    !cJSON_IsString(z) || strcmp(z->valuestring, "a quote after it"))
			abort(); /* the value does not survive a write and a read */
		cJSON_Delete(back);
		strbuf_release(&line);
	}
	cJSON_Delete(o);
	return 0;
}
