/* prepared: a tap's catalog with the rules applied, kept between runs; see prepared.h. */
#include "prepared.h"
#include "kit.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREPARED_PREFIX "tap.prepared."
#define PREPARED_MAX_AGE_S (24 * 3600)
/* Bump when catalog_apply_rules() or catalog_datasets() change what they produce. */
#define PREPARED_FORMAT "2" /* 2: a property without a metadata entry gets one */

int prepared_key(const char *src, const char *const rules[4], char key[17])
{
	struct stat sb;
	if (stat(src, &sb) != 0)
		return -1;
	char ident[256];
	snprintf(ident, sizeof ident, "%s:%llu:%llu:%lld:%lld.%09ld", PREPARED_FORMAT, (unsigned long long)sb.st_dev,
	         (unsigned long long)sb.st_ino, (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
	         sb.st_mtim.tv_nsec);
	uint64_t h = kit_fnv1a(kit_fnv1a(KIT_FNV_INIT, ident), src);
	for (int i = 0; i < 4; i++) /* a separator, so that moving text from one rule to the next is another key */
		h = kit_fnv1a(kit_fnv1a(h, "\x1f"), rules[i]);
	snprintf(key, 17, "%016llx", (unsigned long long)h);
	return 0;
}

static char *file_of(const char *dir, const char *key, const char *suffix)
{
	return kit_asprintf("%s/" PREPARED_PREFIX "%s%s", dir, key, suffix);
}

char *prepared_find(const char *dir, const char *key, cJSON **datasets)
{
	char *path = file_of(dir, key, ".json"), *dpath = file_of(dir, key, ".datasets.json");
	char *text = NULL;
	struct stat sb;
	if (datasets)
		*datasets = NULL;
	/* the datasets are written last: with them present the catalog is complete */
	if (!path || !dpath || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (datasets && !(text = kit_read_file(dpath, NULL))) || (!datasets && access(dpath, R_OK) != 0))
		goto miss;
	if (datasets && !cJSON_IsArray(*datasets = cJSON_Parse(text))) {
		cJSON_Delete(*datasets);
		*datasets = NULL;
		goto miss;
	}
	free(text);
	utimensat(AT_FDCWD, path, NULL, 0); /* used now: not swept */
	utimensat(AT_FDCWD, dpath, NULL, 0);
	free(dpath);
	return path;
miss:
	free(text);
	free(path);
	free(dpath);
	return NULL;
}

/* Write all of text to fd; 0 or -1. */
static int write_all(int fd, const char *text)
{
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Write text to path through a temporary file and rename(); 0 or -1. */
static int write_once(const char *path, const char *text)
{
	char *tmp = kit_asprintf("%s.tmp.%d", path, (int)getpid());
	if (!tmp)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ok = fd >= 0 && write_all(fd, text) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Remove kept files of dir that no run used for PREPARED_MAX_AGE_S. */
static void sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);
	while (d && (e = readdir(d))) {
		struct stat sb;
		if (strncmp(e->d_name, PREPARED_PREFIX, strlen(PREPARED_PREFIX)) ||
		    fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (now - sb.st_mtim.tv_sec > PREPARED_MAX_AGE_S)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
}


int prepared_open(const char *dir, char **tmp)
{
	static unsigned seq; /* with the pid: a name of its own per call (threads of smelt serve included) */
	unsigned n = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
	int fd = -1;
	*tmp = kit_asprintf("%s/" PREPARED_PREFIX "%d-%u.tmp", dir, (int)getpid(), n);
	if (*tmp && (fd = open(*tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

char *prepared_commit(const char *dir, const char *key, int fd, const char *tmp, const cJSON *datasets)
{
	char *path = file_of(dir, key, ".json"), *dpath = file_of(dir, key, ".datasets.json");
	char *dtext = datasets ? cJSON_PrintUnformatted(datasets) : NULL;
	int ok = close(fd) == 0 && path && dpath && dtext && rename(tmp, path) == 0;
	if (ok && write_once(dpath, dtext) != 0) {
		rename(path, tmp); /* back where the caller reads it: without its datasets it is not kept */
		ok = 0;
	}
	if (!ok) {
		free(path);
		path = NULL;
	}
	free(dpath);
	free(dtext);
	sweep(dir);
	return path;
}

char *prepared_keep(const char *dir, const char *key, const char *text, const cJSON *datasets)
{
	char *tmp = NULL, *path = NULL;
	int fd = prepared_open(dir, &tmp); /* the same way as a catalog written as it is made */
	if (fd >= 0 && write_all(fd, text) == 0)
		path = prepared_commit(dir, key, fd, tmp, datasets); /* closes fd */
	else if (fd >= 0)
		close(fd);
	if (!path)
		prepared_abort(-1, tmp);
	free(tmp);
	return path;
}

void prepared_abort(int fd, const char *tmp)
{
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
}

char *prepared_read(const char *dir, const char *key, const char *suffix)
{
	char *path = file_of(dir, key, suffix);
	char *text = path ? kit_read_file(path, NULL) : NULL;
	if (text)
		utimensat(AT_FDCWD, path, NULL, 0); /* used now: not swept */
	free(path);
	return text;
}

int prepared_add(const char *dir, const char *key, const char *suffix, const char *text)
{
	char *path = file_of(dir, key, suffix);
	int rc = path ? write_once(path, text) : -1;
	free(path);
	return rc;
}
