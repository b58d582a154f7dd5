/*
 * fuzz_dotenv - the .env reader (dotenv_parse) and writer (dotenv_set).
 * Any text must parse into an object of strings.  Then a value with every
 * awkward character is set in a copy of the text, and must read back
 * exactly: a value that does not round trip through the project's own
 * writer and reader is a bug (it would reach a plugin changed).
 */
#include "project/project.h"
#include "util/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property failed: say which (the compiler merges abort() calls, so a backtrace cannot). */
#define FUZZ_FAIL(what) \
	do { \
		fprintf(stderr, "fuzz_dotenv: %s\n", what); \
		abort(); \
	} while (0)

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)))
		*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

/* 1 when a line appended to data still reads as its own variable. */
static int reads_to_end(const uint8_t *data, size_t size)
{
	static const char probe[] = "\nFUZZ_PROBE=1\n";
	char *text = malloc(size + sizeof probe);
	cJSON *env;
	const cJSON *item;
	int ok;

	if (!text)
		return 0;
	memcpy(text, data, size);
	memcpy(text + size, probe, sizeof probe);
	env = dotenv_parse(text, size + sizeof probe - 1);
	item = cJSON_GetObjectItemCaseSensitive(env, "FUZZ_PROBE");
	ok = cJSON_IsString(item) && !strcmp(item->valuestring, "1");
	cJSON_Delete(env);
	free(text);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char value[] = "a'b\"c $HOME \\n #x=y";
	char path[64], err[512];
	const cJSON *item;
	cJSON *env;
	FILE *f;

	log_set_level(LOG_LEVEL_DISABLED);
	env = dotenv_parse((const char *)data, size);
	if (!cJSON_IsObject(env))
		FUZZ_FAIL("the reader always gives an object");
	cJSON_ArrayForEach(item, env)
		if (!cJSON_IsString(item) || !item->string)
			FUZZ_FAIL("of strings, each with its name");
	cJSON_Delete(env);

	/*
	 * The writer on the same text: set one name, read it back.  Only for
	 * text the reader reads to its end: when a line appended to it is
	 * swallowed (an unterminated quote, issue 18 #6), the text is itself
	 * misread, which is the reader's bug, not the writer's.
	 */
	if (!reads_to_end(data, size))
		return 0;
	snprintf(path, sizeof path, "/tmp/smelt-fuzz-dotenv.%ld", (long)getpid());
	f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (dotenv_set(NULL, path, "FUZZ_KEY", value, err, sizeof err) == 0) {
		size_t len;
		char *text = read_all(path, &len);
		env = text ? dotenv_parse(text, len) : NULL;
		item = cJSON_GetObjectItemCaseSensitive(env, "FUZZ_KEY");
		if (text && (!cJSON_IsString(item) || strcmp(item->valuestring, value))) {
			fprintf(stderr, "wrote %s\nread back %s\nfile:\n%s\n", value,
			        cJSON_IsString(item) ? item->valuestring : "(none)", text);
			FUZZ_FAIL("the value written does not read back");
		}
		cJSON_Delete(env);
		free(text);
	}
	unlink(path);
	return 0;
}
