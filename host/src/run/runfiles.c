/* runfiles: private files of live processes, the sweep of dead ones'; see runfiles.h. */
#include "run/runfiles.h"
#include "run/proc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OWNERS ".owners" /* a plugin name cannot start with '.', so no run folder of a plugin clashes */

static char *manifest;    /* this process's manifest path, NULL until the first file */
static char *run_prefix;  /* "<sys_dir>/run/" of that manifest */
static pid_t manifest_pid; /* who made it: a forked child inherits the pointers, not the manifest */

/* Forget (without removing) a manifest inherited through fork(). */
static void forget_inherited(void)
{
	if (manifest && manifest_pid != getpid()) {
		free(manifest);
		free(run_prefix);
		manifest = run_prefix = NULL;
	}
}

/* A relative path that stays beneath its folder: no '..' component, no empty one, no newline. */
static int safe_relative(const char *rel)
{
	if (!*rel || *rel == '/' || strchr(rel, '\n'))
		return 0;
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 2 && !strncmp(p, "..", 2)) || (n == 1 && *p == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

int runfiles_register(const char *sys_dir, const char *path)
{
	forget_inherited();
	char *prefix = xasprintf("%s/run/", sys_dir);
	size_t pl = strlen(prefix);
	if (strncmp(path, prefix, pl) || !safe_relative(path + pl)) {
		free(prefix);
		errno = EINVAL;
		return -1;
	}
	if (manifest && strcmp(prefix, run_prefix)) { /* another project in the same process: not expected */
		free(prefix);
		errno = EINVAL;
		return -1;
	}
	if (!manifest) {
		struct proc_owner me;
		if (proc_owner_self(&me) != SMELT_OK) {
			free(prefix);
			errno = ENOENT;
			return -1;
		}
		/* beneath the system folder, following no link: a linked run/ must not carry the manifest away */
		char *dir = xasprintf("%s%s", prefix, OWNERS);
		if (fs_mkdirs_under(sys_dir, dir, 0700) != 0) {
			free(dir);
			free(prefix);
			return -1;
		}
		char *m = xasprintf("%s/%ld-%llu", dir, me.pid, me.start);
		free(dir);
		int fd = fs_open_under(sys_dir, m, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char *head = xasprintf("%s\t%s\t%ld\t%llu\n", me.host, me.host_key, me.pid, me.start);
		ssize_t w = fd >= 0 ? write(fd, head, strlen(head)) : -1;
		int e = errno;
		free(head);
		if (fd >= 0)
			close(fd);
		if (w < 0) {
			free(m);
			free(prefix);
			errno = e;
			return -1;
		}
		manifest = m;
		manifest_pid = getpid();
		run_prefix = prefix;
		prefix = NULL;
	}
	free(prefix);
	int fd = fs_open_under(sys_dir, manifest, O_WRONLY | O_APPEND, 0);
	if (fd < 0)
		return -1;
	char *line = xasprintf("%s\n", path + strlen(run_prefix));
	ssize_t w = write(fd, line, strlen(line));
	int e = errno;
	free(line);
	close(fd);
	errno = e;
	return w < 0 ? -1 : 0;
}

void runfiles_release(void)
{
	forget_inherited();
	if (manifest)
		unlink(manifest);
	free(manifest);
	free(run_prefix);
	manifest = run_prefix = NULL;
}

/* Sweep one manifest (name in the owners folder); returns files removed, or -1 when the owner may live. */
static int sweep_one(int runfd, int ownfd, const char *name)
{
	int fd = openat(ownfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t got;
	while ((got = read(fd, buf, sizeof buf)) > 0 && sb.len < (1u << 20))
		strbuf_add(&sb, buf, (size_t)got);
	close(fd);
	struct proc_owner o = { 0 };
	char *nl = strchr(sb.buf, '\n');
	int fields = 0;
	if (nl) {
		*nl = '\0';
		char *host_end = strchr(sb.buf, '\t'), *key_end = host_end ? strchr(host_end + 1, '\t') : NULL;
		if (key_end && (size_t)(host_end - sb.buf) < sizeof o.host && (size_t)(key_end - host_end - 1) < sizeof o.host_key) {
			memcpy(o.host, sb.buf, (size_t)(host_end - sb.buf));
			memcpy(o.host_key, host_end + 1, (size_t)(key_end - host_end - 1));
			fields = sscanf(key_end + 1, "%ld\t%llu", &o.pid, &o.start);
		}
	}
	if (fields != 2 || proc_owner_check(&o) != PROC_GONE) {
		strbuf_release(&sb);
		return -1;
	}
	int removed = 0;
	for (char *line = nl + 1, *end; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			break; /* a line cut by the death of its writer: its file was not written yet */
		*end = '\0';
		if (!safe_relative(line) || !strncmp(line, OWNERS "/", sizeof OWNERS))
			continue;
		if (fs_unlink_beneath(runfd, line) == 0)
			removed++;
		/* XXX: the temporary name of write_file_atomic() (util/fs.c), left when killed mid-write */
		char *tmp = xasprintf("%s.tmp.%ld", line, o.pid);
		if (fs_unlink_beneath(runfd, tmp) == 0)
			removed++;
		free(tmp);
	}
	unlinkat(ownfd, name, 0);
	if (removed)
		log_info("removed %d file%s left in .smelt/run by smelt process %ld, which is gone", removed,
		         removed == 1 ? "" : "s", o.pid);
	strbuf_release(&sb);
	return removed;
}

int runfiles_sweep(const char *sys_dir)
{
	forget_inherited();
	char *run = xasprintf("%s/run", sys_dir);
	int runfd = open(run, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(run);
	if (runfd < 0)
		return 0;
	int ownfd = openat(runfd, OWNERS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = ownfd >= 0 ? fdopendir(ownfd) : NULL;
	int total = 0;
	if (!d) {
		if (ownfd >= 0)
			close(ownfd);
		close(runfd);
		return 0;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (manifest && !strcmp(strrchr(manifest, '/') + 1, e->d_name))
			continue; /* our own */
		int n = sweep_one(runfd, dirfd(d), e->d_name);
		if (n > 0)
			total += n;
	}
	closedir(d);
	close(runfd);
	return total;
}
