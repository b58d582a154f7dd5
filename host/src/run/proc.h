/*
 * proc - the process supervisor.  Spawns one process or a pipeline of
 * them (stage i's stdout wired to stage i+1's stdin by a kernel pipe the
 * host never reads), logs every stderr line with the stage's label,
 * hands the last stage's stdout lines to a callback, honours a timeout
 * and SIGINT/SIGTERM, and reaps every child before it returns: no zombie
 * or orphan outlives a call.  No shell is involved anywhere (argv only).
 */
#ifndef SMELT_PROC_H
#define SMELT_PROC_H

#include <smelt/sdk.h>
#include <stddef.h>

struct proc_stage {
	const char *label;        /* log source, e.g. "tap-csv" */
	char *const *argv;        /* NULL-terminated; argv[0] searched on the PATH of envp */
	char *const *envp;        /* NULL: the host's environ */
	const char *cwd;          /* NULL: the current folder */
	unsigned flags;           /* enum smelt_spawn_flags */
	/* stdout lines of the last stage (NULL: logged); negative return stops the pipeline */
	int (*on_line)(void *arg, const char *line, size_t len, unsigned long lineno);
	void *arg;
};

struct proc_result {
	struct smelt_exit exit;   /* how the stage ended */
	long long bytes_written;  /* bytes the stage wrote (from /proc/<pid>/io), -1 when unknown */
};

struct proc_opts {
	int timeout_s;                            /* 0: none */
	void (*tick)(void *arg);                  /* called about once a second while running */
	void *tick_arg;
	/* every stderr line before it is logged (metrics parsing); may be NULL */
	void (*on_stderr)(void *arg, size_t stage, const char *line, size_t len);
	void *stderr_arg;
	/* about once a second: bytes each stage has written to stdout so far (-1 when unknown) */
	void (*progress)(void *arg, const long long *bytes, size_t n, double seconds);
	void *progress_arg;
};

/*
 * Run n stages as a pipeline and wait for all.  Returns SMELT_OK when
 * every stage was started and the run was not interrupted (look at
 * res[i].exit for the outcomes), SMELT_ERR_INTERRUPTED after SIGINT,
 * SIGTERM or the timeout (err says which), a callback's negative status,
 * or SMELT_ERR when a stage could not be started (res[i].exit.not_started).
 * When the last stage exits while earlier ones still run, they are sent
 * SIGTERM (then SIGKILL after a grace period).
 */
int proc_pipeline(const struct proc_stage *stages, size_t n, const struct proc_opts *opts,
                  struct proc_result *res, char *err, size_t errlen);

/* The signal that interrupted the last proc_pipeline() call (SIGINT/SIGTERM), or 0. */
int proc_last_signal(void);

/* Describe an exit for messages: "exited with code 3", "was killed by SIGKILL", ... */
void proc_describe_exit(const struct smelt_exit *ex, char *buf, size_t len);

#endif
