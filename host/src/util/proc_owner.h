/*
 * proc_owner - who runs a process, precisely enough that a dead process is
 * told from a live one even when its pid was reused.  Used by the process
 * supervisor (run/proc.h), run locks (store/store.h) and private-file
 * manifests (run/runfiles.h).  Reads /proc; its only state is
 * proc_owner_self()'s reading of the calling process, kept per thread.
 */
#ifndef SMELT_UTIL_PROC_OWNER_H
#define SMELT_UTIL_PROC_OWNER_H

/*
 * The host, the kernel's boot id and pid namespace, the pid and the start
 * time from /proc/<pid>/stat.
 */
struct proc_owner {
	char host[256];           /* gethostname() */
	char host_key[160];       /* "<boot_id>/pid:[<pid namespace inode>]": pids compare only when equal */
	long pid;
	unsigned long long start; /* field 22 of /proc/<pid>/stat: clock ticks after boot */
};

enum proc_liveness {
	PROC_ALIVE = 0,   /* the very process still runs */
	PROC_GONE = 1,    /* provably gone: same host, boot and namespace; no such pid, another start time, or a zombie */
	PROC_UNKNOWN = 2, /* another host, boot or namespace, or unreadable: cannot tell */
};

/* Fill o with the calling process; SMELT_ERR when /proc cannot be read (o then fails every check).
 * /proc is read once per thread and process: the host name is the one of that first call. */
int proc_owner_self(struct proc_owner *o);
/* Fill o with process pid of this host and pid namespace (a child just started); SMELT_ERR when unreadable. */
int proc_owner_of(long pid, struct proc_owner *o);
/* Whether the process o names is alive, provably gone, or out of sight. */
enum proc_liveness proc_owner_check(const struct proc_owner *o);

#endif
