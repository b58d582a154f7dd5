/* fsutil: see fsutil.h. */

#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int conn_mkdirs(const char *path, char *failed, size_t len)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			int e = errno;
			if (failed)
				snprintf(failed, len, "%s", p);
			free(p);
			errno = e;
			return -1;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return 0;
}

int conn_mkdirs_parent(const char *file, char *failed, size_t len)
{
	const char *slash = strrchr(file, '/');
	if (!slash || slash == file)
		return 0;
	char *dir = strndup(file, (size_t)(slash - file));
	if (!dir)
		return -1;
	int rc = conn_mkdirs(dir, failed, len);
	free(dir);
	return rc;
}
