/* proc_owner: who runs a process; see proc_owner.h. */
#include "util/proc_owner.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Field 3 (state) and 22 (start time in clock ticks after boot) of /proc/<pid>/stat; -1 when unreadable. */
static int stat_of(long pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t got = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (got <= 0)
		return -1;
	buf[got] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
	                 state, start) != 2)
		return -1;
	return 0;
}

int proc_owner_self(struct proc_owner *o)
{
	/* One reading per thread and process (a run asks three times): nothing of it changes while the
	 * process lives, and a forked child has another pid, so it reads its own. */
	static _Thread_local struct proc_owner memo;
	long pid = (long)getpid();
	if (memo.pid == pid) {
		*o = memo;
		return SMELT_OK;
	}
	int rc = proc_owner_of(pid, o);
	if (rc == SMELT_OK)
		memo = *o;
	return rc;
}

int proc_owner_of(long pid, struct proc_owner *o)
{
	char boot[64] = "", ns[64] = "";
	memset(o, 0, sizeof *o);
	o->pid = pid;
	if (gethostname(o->host, sizeof o->host - 1) != 0)
		return SMELT_ERR;
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, boot, sizeof boot - 1) : -1;
	if (fd >= 0)
		close(fd);
	ssize_t nsl = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
	char state;
	if (got <= 0 || nsl <= 0 || stat_of(o->pid, &state, &o->start) != 0)
		return SMELT_ERR;
	boot[strcspn(boot, "\n")] = '\0';
	ns[nsl] = '\0';
	snprintf(o->host_key, sizeof o->host_key, "%s/%s", boot, ns);
	return SMELT_OK;
}

enum proc_liveness proc_owner_check(const struct proc_owner *o)
{
	struct proc_owner me;
	if (!o->host[0] || !o->host_key[0] || o->pid <= 0 || proc_owner_self(&me) != SMELT_OK)
		return PROC_UNKNOWN;
	/* Another host, another boot or another pid namespace: its pids mean nothing here. */
	if (strcmp(o->host, me.host) || strcmp(o->host_key, me.host_key))
		return PROC_UNKNOWN;
	char state;
	unsigned long long start;
	if (stat_of(o->pid, &state, &start) != 0)
		return errno == ENOENT ? PROC_GONE : PROC_UNKNOWN;
	if (start != o->start || state == 'Z' || state == 'X')
		return PROC_GONE; /* the pid now names another process, or a corpse */
	return PROC_ALIVE;
}
