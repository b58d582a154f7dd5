/*
 * bench-gen-tap: a fast Singer tap for benchmarks.  Emits N records of a
 * 10-field stream (about 280 bytes a line) with a STATE every K records.
 *   bench-gen-tap [--config FILE] [--records N] [--state-every K] [--line-mb M] [--streams S]
 * Config keys (a flat JSON object, read naively): records, state_every,
 * line_mb (one record whose text field is M MB instead), streams (S > 1:
 * streams events_0 .. events_<S-1>, the records dealt round-robin, each
 * state bookmarks every stream).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long config_long(const char *text, const char *key, long def)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\"", key);
	const char *p = text ? strstr(text, pat) : NULL;
	if (!p)
		return def;
	p = strchr(p + strlen(pat), ':');
	return p ? strtol(p + 1, NULL, 10) : def;
}

/* The --streams S > 1 variant: the same records dealt over S streams. */
static int many_streams(long records, long every, long streams)
{
	for (long k = 0; k < streams; k++)
		printf("{\"type\":\"SCHEMA\",\"stream\":\"events_%ld\",\"key_properties\":[\"id\"],\"schema\":{\"type\":"
		       "\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"string\"},"
		       "\"note\":{\"type\":\"string\"}}}}\n", k);
	for (long i = 1; i <= records; i++) {
		printf("{\"type\":\"RECORD\",\"stream\":\"events_%ld\",\"record\":{\"id\":%ld,\"name\":\"User number %ld\","
		       "\"note\":\"a benchmark row with some text in it\"}}\n", i % streams, i, i % 100000);
		if (i % every == 0) {
			fputs("{\"type\":\"STATE\",\"value\":{\"bookmarks\":{", stdout);
			for (long k = 0; k < streams; k++)
				printf("%s\"events_%ld\":{\"id\":%ld}", k ? "," : "", k, i);
			fputs("}}}\n", stdout);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	long records = 1000000, every = 10000, line_mb = 0, streams = 1;
	char *config = NULL;
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--config")) {
			FILE *f = fopen(argv[++i], "r");
			if (f) {
				config = calloc(1, 65536);
				fread(config, 1, 65535, f);
				fclose(f);
			}
		} else if (!strcmp(argv[i], "--records")) {
			records = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--state-every")) {
			every = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--streams")) {
			streams = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--line-mb")) {
			line_mb = atol(argv[++i]);
		}
	}
	records = config_long(config, "records", records);
	every = config_long(config, "state_every", every);
	line_mb = config_long(config, "line_mb", line_mb);
	streams = config_long(config, "streams", streams);
	free(config);
	static char buf[1 << 20];
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	if (streams > 1)
		return many_streams(records, every, streams);
	fputs("{\"type\":\"SCHEMA\",\"stream\":\"events\",\"key_properties\":[\"id\"],\"schema\":{\"type\":\"object\","
	      "\"properties\":{\"id\":{\"type\":\"integer\"},\"user_id\":{\"type\":\"integer\"},\"kind\":{\"type\":\"string\"},"
	      "\"name\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"},\"amount\":{\"type\":\"number\"},"
	      "\"ok\":{\"type\":\"boolean\"},\"country\":{\"type\":\"string\"},\"note\":{\"type\":\"string\"},"
	      "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"}}}}\n",
	      stdout);
	if (line_mb > 0) {
		fputs("{\"type\":\"RECORD\",\"stream\":\"events\",\"record\":{\"id\":1,\"note\":\"", stdout);
		for (long i = 0; i < line_mb * 1024 * 1024; i += 64)
			fputs("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", stdout);
		fputs("\"}}\n{\"type\":\"STATE\",\"value\":{\"bookmarks\":{\"events\":{\"id\":1}}}}\n", stdout);
		return 0;
	}
	for (long i = 1; i <= records; i++) {
		printf("{\"type\":\"RECORD\",\"stream\":\"events\",\"record\":{\"id\":%ld,\"user_id\":%ld,\"kind\":\"purchase\","
		       "\"name\":\"User number %ld\",\"email\":\"user%ld@example.com\",\"amount\":%ld.%02ld,\"ok\":%s,"
		       "\"country\":\"NL\",\"note\":\"a benchmark row with some text in it\","
		       "\"created_at\":\"2024-05-01T12:%02ld:%02ldZ\"}}\n",
		       i, i % 9973, i % 100000, i, i % 1000, i % 100, i % 3 ? "true" : "false", (i / 60) % 60, i % 60);
		if (i % every == 0)
			printf("{\"type\":\"STATE\",\"value\":{\"bookmarks\":{\"events\":{\"id\":%ld}}}}\n", i);
	}
	return 0;
}
