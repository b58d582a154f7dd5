/* fs: see fs.h. */
#include "util/fs.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int mkdir_p(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST) /* the common case: its parents are there */
		return 0;
	if (errno != ENOENT || !*path) /* "" is ENOENT too, and has no parents to make */
		return -1;
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
	/* allocated now: after the rename nothing may fail for lack of memory (the file is written) */
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	/*
	 * O_EXCL|O_NOFOLLOW: never write through a file or link planted at the temporary
	 * name; one left by a crashed process of the same pid is removed (the link itself).
	 */
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(tmp, flags, mode);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, flags, mode);
	if (fd < 0) {
		free(tmp);
		free(dir);
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
			free(dir);
			errno = e;
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	/* fsync before rename: after a crash the file is the old one or the new one, never a torn one */
	int synced = fchmod(fd, mode) == 0 && fsync(fd) == 0;
	int e = errno;
	if (close(fd) != 0 && synced) {
		synced = 0;
		e = errno;
	}
	if (synced && rename(tmp, path) != 0) {
		synced = 0;
		e = errno;
	}
	if (!synced) {
		unlink(tmp);
		free(tmp);
		free(dir);
		errno = e;
		return -1;
	}
	free(tmp);
	/* and the folder, so the rename itself survives a crash (best effort: some filesystems refuse) */
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dir);
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

/* ---- paths that cannot leave a folder ------------------------------------ */

static int force_fallback; /* tests: skip openat2 */

void fs_beneath_force_fallback(int on)
{
	force_fallback = on;
}

const char *fs_beneath_strerror(int errnum)
{
	if (errnum == EXDEV)
		return "the path leads outside its folder";
	if (errnum == ELOOP)
		return "a symbolic link is in the way (links are not followed here)";
	return strerror(errnum);
}

/* EXDEV for an absolute rel or a '..' component: nothing may climb, even back in. */
static int check_rel(const char *rel)
{
	if (rel[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	for (const char *p = rel; *p;) {
		const char *e = strchrnul(p, '/');
		if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			errno = EXDEV;
			return -1;
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}

/* A component that is a symbolic link reports ELOOP, whatever open() said (ENOTDIR with O_DIRECTORY). */
static int fix_link_errno(int dirfd, const char *name)
{
	int e = errno;
	struct stat st;
	if (e == ENOTDIR && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		e = ELOOP;
	errno = e;
	return -1;
}

/* Open one component (no '/') of dirfd without following a link. */
static int open_component(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	return fd >= 0 ? fd : fix_link_errno(dirfd, name);
}

/* The fallback: one component at a time, each opened with O_NOFOLLOW. */
static int walk_open(int dirfd, const char *rel, int flags, mode_t mode)
{
	char *copy = xstrdup(rel), *save = NULL;
	char **comps = xcalloc(strlen(rel) / 2 + 2, sizeof *comps);
	size_t n = 0;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (strcmp(c, "."))
			comps[n++] = c;
	int cur = dirfd, fd = -1;
	if (!n)
		fd = openat(dirfd, ".", flags | O_CLOEXEC, mode);
	for (size_t i = 0; i < n; i++) {
		int last = i + 1 == n;
		fd = open_component(cur, comps[i], last ? flags : O_PATH | O_DIRECTORY, last ? mode : 0);
		if (cur != dirfd) {
			int e = errno;
			close(cur);
			errno = e;
		}
		if (fd < 0)
			break;
		cur = fd;
	}
	int e = errno;
	free(comps);
	free(copy);
	errno = e;
	return fd;
}

int fs_open_beneath(int dirfd, const char *rel, int flags, mode_t mode)
{
	if (check_rel(rel) < 0)
		return -1;
#ifdef SYS_openat2
	if (!force_fallback) {
		struct open_how how = {
			.flags = (uint64_t)(unsigned)(flags | O_NOFOLLOW | O_CLOEXEC),
			.mode = (flags & O_CREAT) ? mode : 0,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
		};
		long fd = syscall(SYS_openat2, dirfd, *rel ? rel : ".", &how, sizeof how);
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS && errno != EPERM) /* EPERM: a seccomp filter that does not know openat2 */
			return errno == ENOTDIR ? fix_link_errno(dirfd, rel) : -1;
	}
#endif
	return walk_open(dirfd, rel, flags, mode);
}

int fs_mkdirs_beneath(int dirfd, const char *rel, mode_t mode)
{
	if (check_rel(rel) < 0)
		return -1;
	int cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char *copy = xstrdup(rel), *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c && cur >= 0; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		int next = -1;
		if (mkdirat(cur, c, mode) == 0 || errno == EEXIST)
			next = fs_open_beneath(cur, c, O_PATH | O_DIRECTORY, 0);
		int e = errno;
		close(cur);
		errno = e;
		cur = next;
	}
	int e = errno;
	free(copy);
	errno = e;
	return cur;
}

/* Split rel into its folder part (owned copy) and last component; -1 (EINVAL) when it names no entry. */
static int split_last(const char *rel, char **dir, const char **last)
{
	if (check_rel(rel) < 0)
		return -1;
	size_t n = strlen(rel);
	while (n && rel[n - 1] == '/')
		n--;
	size_t s = n;
	while (s && rel[s - 1] != '/')
		s--;
	if (s == n || (n - s == 1 && rel[s] == '.')) {
		errno = EINVAL;
		return -1;
	}
	*dir = xstrndup(rel, s);
	*last = rel + s; /* NUL-terminated only when rel had no trailing '/' */
	if (rel[n]) {
		errno = EINVAL; /* "a/b/": callers pass file names */
		free(*dir);
		return -1;
	}
	return 0;
}

static int close_keep_errno(int fd, int rc)
{
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return rc;
}

int fs_write_beneath(int dirfd, const char *rel, const void *data, size_t len, mode_t mode, mode_t dir_mode)
{
	char *dir;
	const char *last;
	if (split_last(rel, &dir, &last) < 0)
		return -1;
	int pfd = fs_mkdirs_beneath(dirfd, dir, dir_mode);
	free(dir);
	if (pfd < 0)
		return -1;
	char *tmp = xasprintf("%s.tmp.%ld", last, (long)getpid());
	unlinkat(pfd, tmp, 0); /* a leftover of this pid's crash */
	int fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int rc = fd < 0 ? -1 : 0;
	for (const char *p = data; rc == 0 && len;) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			rc = -1;
		else
			p += w, len -= (size_t)w;
	}
	if (rc == 0 && fchmod(fd, mode) != 0)
		rc = -1;
	if (fd >= 0 && close(fd) != 0)
		rc = -1;
	if (rc == 0 && renameat(pfd, tmp, pfd, last) != 0)
		rc = -1;
	if (rc < 0 && fd >= 0) {
		int e = errno;
		unlinkat(pfd, tmp, 0);
		errno = e;
	}
	free(tmp);
	return close_keep_errno(pfd, rc);
}

int fs_unlink_beneath(int dirfd, const char *rel)
{
	char *dir;
	const char *last;
	if (split_last(rel, &dir, &last) < 0)
		return -1;
	int pfd = fs_open_beneath(dirfd, dir, O_PATH | O_DIRECTORY, 0);
	free(dir);
	if (pfd < 0)
		return -1;
	return close_keep_errno(pfd, unlinkat(pfd, last, 0));
}

/* Remove name in the folder pfd, recursively, following no link. */
static int remove_at(int pfd, const char *name)
{
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(pfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	int fd = open_component(pfd, name, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d)
		return close_keep_errno(fd, -1);
	int rc = 0, first_errno = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (remove_at(dirfd(d), e->d_name) != 0 && !rc) {
			rc = -1;
			first_errno = errno;
		}
	}
	closedir(d);
	if (unlinkat(pfd, name, AT_REMOVEDIR) != 0 && !rc) {
		rc = -1;
		first_errno = errno;
	}
	if (rc)
		errno = first_errno;
	return rc;
}

int fs_remove_tree_beneath(int dirfd, const char *rel)
{
	char *dir;
	const char *last;
	if (split_last(rel, &dir, &last) < 0)
		return -1;
	int pfd = fs_open_beneath(dirfd, dir, O_PATH | O_DIRECTORY, 0);
	free(dir);
	if (pfd < 0)
		return errno == ENOENT ? 0 : -1;
	return close_keep_errno(pfd, remove_at(pfd, last));
}

const char *path_beneath(const char *base, const char *path)
{
	if (path[0] != '/')
		return path;
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	if (strncmp(path, base, n) || (path[n] && path[n] != '/'))
		return NULL;
	path += n;
	while (*path == '/')
		path++;
	return path;
}

/* Open base and the relative part of path; -1 (EXDEV) when path is outside base. */
static int open_base(const char *base, const char *path, const char **rel)
{
	if (!(*rel = path_beneath(base, path))) {
		errno = EXDEV;
		return -1;
	}
	return open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int fs_open_under(const char *base, const char *path, int flags, mode_t mode)
{
	const char *rel;
	int dfd = open_base(base, path, &rel);
	return dfd < 0 ? -1 : close_keep_errno(dfd, fs_open_beneath(dfd, rel, flags, mode));
}

int fs_mkdirs_under(const char *base, const char *path, mode_t mode)
{
	const char *rel;
	int dfd = open_base(base, path, &rel);
	int fd = dfd < 0 ? -1 : close_keep_errno(dfd, fs_mkdirs_beneath(dfd, rel, mode));
	return fd < 0 ? -1 : close_keep_errno(fd, 0);
}

int fs_write_under(const char *base, const char *path, const void *data, size_t len, mode_t mode, mode_t dir_mode)
{
	const char *rel;
	int dfd = open_base(base, path, &rel);
	return dfd < 0 ? -1 : close_keep_errno(dfd, fs_write_beneath(dfd, rel, data, len, mode, dir_mode));
}

int fs_unlink_under(const char *base, const char *path)
{
	const char *rel;
	int dfd = open_base(base, path, &rel);
	return dfd < 0 ? -1 : close_keep_errno(dfd, fs_unlink_beneath(dfd, rel));
}

int fs_remove_tree_under(const char *base, const char *path)
{
	const char *rel;
	int dfd = open_base(base, path, &rel);
	if (dfd < 0)
		return errno == ENOENT && rel ? 0 : -1;
	return close_keep_errno(dfd, fs_remove_tree_beneath(dfd, rel));
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
