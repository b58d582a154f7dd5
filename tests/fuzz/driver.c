/*
 * A stand-in for libFuzzer's main: replays every file of the corpus
 * folders given on the command line, then a bounded number of cheap
 * mutations of each (bit flips, truncations, duplications), so every
 * harness gets a smoke run under ctest and the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long long rng = 0x9e3779b97f4a7c15ull;

static unsigned long long next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void mutate_and_run(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size * 2 + 16);
	if (!buf)
		return;
	for (int round = 0; round < 200; round++) {
		size_t n = size;
		memcpy(buf, data, size);
		switch (next_rand() % 4) {
		case 0: /* flip a few bytes */
			for (int i = 0; i < 4 && n; i++)
				buf[next_rand() % n] ^= (uint8_t)(1u << (next_rand() % 8));
			break;
		case 1: /* truncate */
			n = n ? next_rand() % n : 0;
			break;
		case 2: /* duplicate a slice */
			if (n) {
				size_t at = next_rand() % n, len = next_rand() % (n - at) + 1;
				memcpy(buf + n, buf + at, len);
				n += len;
			}
			break;
		default: /* insert an interesting byte */
			if (n) {
				static const uint8_t bytes[] = {'"', '\n', '\r', ',', '\\', '{', '}', ':', 0, 0xff};
				buf[next_rand() % n] = bytes[next_rand() % sizeof bytes];
			}
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	free(buf);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	uint8_t *data = malloc(len > 0 ? (size_t)len : 1);
	size_t n = data ? fread(data, 1, len > 0 ? (size_t)len : 0, f) : 0;
	fclose(f);
	if (!data)
		return -1;
	LLVMFuzzerTestOneInput(data, n);
	mutate_and_run(data, n);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz driver: cannot read '%s'\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			files += run_file(argv[i]) == 0;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
			files += run_file(path) == 0;
		}
		if (d)
			closedir(d);
	}
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	printf("fuzz driver: %d corpus files replayed with mutations\n", files);
	return files > 0 ? 0 : 1;
}
