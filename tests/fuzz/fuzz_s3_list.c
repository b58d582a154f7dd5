/*
 * fuzz_s3_list - one page of an S3 ListObjectsV2 reply as the s3://
 * state backend reads it (state_s3_parse_list): any bytes from a server
 * must never crash it; every key reported starts after the prefix and is
 * not empty, and "more pages" always comes with a continuation token.
 */
#include "store/state_backend.h"
#include "util/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FAIL(what) \
	do { \
		fprintf(stderr, "fuzz_s3_list: %s\n", what); \
		abort(); \
	} while (0)

static void seen(void *arg, const char *rel, const char *updated_at)
{
	(void)updated_at;
	if (!*rel)
		FUZZ_FAIL("an empty key was reported");
	++*(size_t *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size + 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	size_t n = 0;
	struct strbuf token = STRBUF_INIT;
	int more = state_s3_parse_list(body, "team/state/", seen, &n, &token);
	if (more && !token.len)
		FUZZ_FAIL("more pages without a continuation token");
	strbuf_release(&token);
	more = state_s3_parse_list(body, "", seen, &n, &token);
	if (more && !token.len)
		FUZZ_FAIL("more pages without a continuation token (no prefix)");
	strbuf_release(&token);
	free(body);
	return 0;
}
