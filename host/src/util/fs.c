/* fs: see fs.h. */
#include "util/fs.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, mode);
	free(p);
	return rc == 0 || errno == EEXIST ? 0 : -1;
}

int read_file(const char *path, struct strbuf *sb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		strbuf_grow(sb, 65536);
		ssize_t n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
	}
	close(fd);
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			free(tmp);
			errno = e;
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fchmod(fd, mode) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		errno = e;
		return -1;
	}
	free(tmp);
	return 0;
}

int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int dir_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *child = path_join(path, e->d_name);
		rc |= remove_tree(child);
		free(child);
	}
	closedir(d);
	return rmdir(path) | rc;
}

char *path_join(const char *a, const char *b)
{
	if (b[0] == '/' || !a || !a[0])
		return xstrdup(b);
	size_t la = strlen(a);
	return xasprintf("%s%s%s", a, la && a[la - 1] == '/' ? "" : "/", b);
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

char *exe_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

char *which(const char *name, const char *path_var)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	const char *path = path_var ? path_var : getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *colon = strchrnul(path, ':');
		char *dir = xstrndup(path, (size_t)(colon - path));
		char *full = path_join(*dir ? dir : ".", name);
		free(dir);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return full;
		free(full);
		path = *colon ? colon + 1 : colon;
	}
	return NULL;
}

/* ---- capped reading of regular files (see fs.h) -------------------------------- */

int read_regular_file(const char *path, size_t cap, struct strbuf *sb, char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	size_t start = sb->len;
	int e;
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		snprintf(err, errlen, "'%s' is not a regular file", path);
		goto out;
	}
	if ((uintmax_t)st.st_size > cap) {
		e = EFBIG;
		goto too_big;
	}
	for (;;) {
		/* read at most cap + 1 bytes: the file may grow while we read it */
		size_t got = sb->len - start;
		if (got > cap) {
			sb->len = start;
			sb->buf[sb->len] = '\0';
			e = EFBIG;
			goto too_big;
		}
		size_t want = cap + 1 - got;
		strbuf_grow(sb, want < 65536 ? want : 65536);
		size_t room = sb->alloc - sb->len - 1;
		ssize_t n = read(fd, sb->buf + sb->len, room < want ? room : want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			sb->len = start;
			sb->buf[sb->len] = '\0';
			snprintf(err, errlen, "cannot read '%s': %s", path, strerror(e));
			goto out;
		}
		if (n == 0)
			break;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
	}
	close(fd);
	return 0;
too_big:
	if (cap >= 1024 * 1024 && cap % (1024 * 1024) == 0)
		snprintf(err, errlen, "'%s' is larger than %zu MiB, the limit for this file", path,
		         cap / (1024 * 1024));
	else
		snprintf(err, errlen, "'%s' is larger than %zu bytes, the limit for this file", path, cap);
out:
	close(fd);
	errno = e;
	return -1;
}

int fs_tighten(const char *path, mode_t max)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!(st.st_mode & 07777 & ~max))
		return 0;
	/* never a shared folder (sticky, like /tmp) or someone else's file, even as root */
	if ((S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX)) || st.st_uid != geteuid())
		return 0;
	return chmod(path, st.st_mode & 07777 & max);
}

int mkdir_private(const char *path)
{
	if (mkdir_p(path, 0700) != 0)
		return -1;
	return fs_tighten(path, 0700);
}
