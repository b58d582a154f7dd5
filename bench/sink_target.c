/*
 * bench-sink-target: a fast Singer target for benchmarks.  Reads the stream
 * in large blocks, counts lines, and prints the value of every STATE message
 * (as a target would after committing), so the runner's state path is
 * exercised.  --slow-us N sleeps N microseconds per 64 KiB block read (a
 * target that reads slowly).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char state_prefix[] = "{\"type\":\"STATE\",\"value\":";

int main(int argc, char **argv)
{
	long slow_us = 0;
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--slow-us"))
			slow_us = atol(argv[++i]);
	size_t cap = 1 << 20, len = 0;
	char *line = malloc(cap);
	static char buf[1 << 16];
	long lines = 0;
	ssize_t n;
	while ((n = read(0, buf, slow_us ? 65536 : sizeof buf)) > 0) {
		const char *p = buf, *end = buf + n;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t chunk = (size_t)((nl ? nl : end) - p);
			/* keep only the head of a line: enough to recognise and print a STATE */
			size_t keep = len < 4096 ? (chunk < 4096 - len ? chunk : 4096 - len) : 0;
			if (len + keep + 1 > cap)
				line = realloc(line, cap *= 2);
			memcpy(line + len, p, keep);
			len += keep;
			if (!nl)
				break;
			lines++;
			line[len] = '\0';
			if (!strncmp(line, state_prefix, sizeof state_prefix - 1) && len > sizeof state_prefix) {
				fwrite(line + sizeof state_prefix - 1, 1, len - sizeof state_prefix, stdout);
				fputc('\n', stdout);
				fflush(stdout);
			}
			len = 0;
			p = nl + 1;
		}
		if (slow_us)
			usleep((useconds_t)slow_us);
	}
	fprintf(stderr, "bench-sink-target: %ld lines\n", lines);
	free(line);
	return 0;
}
