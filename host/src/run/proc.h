/*
 * proc - the process supervisor.  Spawns one process or a pipeline of
 * them (stage i's stdout wired to stage i+1's stdin by a kernel pipe the
 * host never reads), logs every stderr line with the stage's label,
 * hands the last stage's stdout lines to a callback, honours a timeout
 * and SIGINT/SIGTERM/SIGHUP, and reaps every child before it returns: no
 * zombie or orphan outlives a call.  No shell is involved anywhere (argv
 * only).
 *
 * Process groups and signals:
 * - The stages of one call share a new process group (led by the first
 *   stage), also with SMELT_SPAWN_INHERIT_STDIO.  Every signal the
 *   supervisor sends (a forwarded one, the timeout's SIGTERM, the
 *   SIGKILL after GRACE_MS = 10 s) goes to that whole group, so what a
 *   stage started itself (gunicorn workers, a shell's children) stops too.
 *   When the call was stopped (signal, timeout, callback, line cap), or
 *   something still holds the pipes after the stages ended, the group gets
 *   SIGKILL before the call returns: workers that ignored SIGTERM do not
 *   outlive their master.  The first stage leads the group and is reaped
 *   last, so the group id cannot be reused while it is signalled.
 * - SIGINT, SIGTERM and SIGHUP that reach smelt during a call are
 *   forwarded to the group: SIGINT as SIGINT, SIGTERM and SIGHUP as
 *   SIGTERM (smelt treats a hangup as "stop"; a tool could take SIGHUP
 *   for "reload" and keep running).  A second signal sends SIGKILL.
 * - Each stage gets PR_SET_PDEATHSIG = SIGKILL before exec (checked
 *   against a parent that died before the prctl), so kill -9 of smelt
 *   takes its children with it.  The signal fires when the calling
 *   thread exits: call proc_pipeline() from a thread that outlives it.
 *   A stage starts with SIGINT, SIGTERM and SIGPIPE at their defaults and
 *   SIGHUP as smelt had it (ignored under nohup stays ignored).
 * - Terminal sharing (SMELT_SPAWN_INHERIT_STDIO with smelt in the
 *   foreground of its terminal): the stage's group is made the
 *   terminal's foreground group, as a shell does, so ^C and ^Z reach the
 *   tool and a hangup reaches it from the kernel; when the tool stops
 *   (^Z), smelt takes the terminal back and stops itself, and continues
 *   the tool when it is continued.  The terminal is smelt's again when
 *   the call returns.
 *
 * Line cap: a line smelt buffers (the last stage's stdout lines handed
 * to on_line, any stderr line) may be at most proc_opts.line_max bytes,
 * by default PROC_LINE_MAX = 50 MiB, Meltano's elt.buffer_size / 2 (the
 * runtime sets it from $SMELT_ELT_BUFFER_SIZE / $MELTANO_ELT_BUFFER_SIZE).  A
 * longer line is dropped, the call stops the stages (SIGTERM, then
 * SIGKILL) and returns SMELT_ERR with err "'<label>': output line length
 * limit exceeded ...": smelt's memory never follows a runaway line, and
 * what on_line already took (saved state) stays.  Logged lines keep at
 * most their first 64 KiB in the log (" [...]" marks the cut).
 *
 * Batching: a pipe whose last read gave less than 4 KiB is read again
 * only 1 ms later, so a stage that writes a line at a time (a target
 * flushing a state per record) costs one read per millisecond, not one
 * poll() and one read() per line.  Lines therefore reach on_line and the
 * log up to 1 ms after they were written, in order, none lost (the end of
 * a pipe, its last writer gone, is seen at once); a writer
 * that fills the pipe meanwhile gets full reads and never waits.
 *
 * Starting: each stage is started with vfork() and execve() (no page
 * tables copied; the child makes only system calls until its execve), one
 * after the other, each wired to the previous one's stdout.
 *
 * Pipe size: each stage's stdout pipe (stage to stage, and the last
 * stage's to smelt) is grown to proc_opts.pipe_bytes, by default
 * PROC_PIPE_BYTES = 1 MiB, with F_SETPIPE_SZ, where the kernel allows it
 * (else it keeps the default 64 KiB: slower, never an error).  A tap and
 * a target then switch far less often (the tap writes ahead up to 1 MiB
 * instead of 64 KiB) and a target that flushes a state per record never
 * waits for smelt during the 1 ms batching pause.  Stderr pipes keep the
 * default size.  The cost: the kernel counts a grown pipe's 256 pages
 * against the user's /proc/sys/fs/pipe-user-pages-soft (16384 pages by
 * default, about 32 two-stage pipelines at once; root is not limited).
 * Growing is refused once it would take an unprivileged user past that
 * limit, and once the user is past it the kernel makes every new pipe of
 * the user 2 pages (8 KiB), smelt's or not.  So after the first refusal
 * this process grows no more pipes, and a user who runs many pipelines at
 * once (smelt serve under a service account) sets pipe_bytes lower (the
 * runtime reads $SMELT_PIPE_BYTES; 65536 or less: pipes are not grown).
  */
#ifndef SMELT_PROC_H
#define SMELT_PROC_H

#include "util/proc_owner.h"

#include <smelt/sdk.h>
#include <stddef.h>

#define PROC_LINE_MAX ((size_t)50 * 1024 * 1024) /* default line cap: Meltano's elt.buffer_size / 2 */
#define PROC_PIPE_BYTES (1024 * 1024)                /* stdout pipes grow to this (see "Pipe size") */

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
	void (*tick)(void *arg);                  /* called every tick_ms while running */
	int tick_ms;                              /* 0: 1000 (a second) */
	void *tick_arg;
	/* every stderr line before it is logged (metrics parsing); may be NULL */
	void (*on_stderr)(void *arg, size_t stage, const char *line, size_t len);
	void *stderr_arg;
	/* about once a second: bytes each stage has written to stdout so far (-1 when unknown) */
	void (*progress)(void *arg, const long long *bytes, size_t n, double seconds);
	void *progress_arg;
	size_t line_max;                          /* the line cap in bytes; 0: PROC_LINE_MAX */
	size_t pipe_bytes;                        /* stdout pipes grow to this; 0: PROC_PIPE_BYTES ("Pipe size") */
};

/*
 * Run n stages as a pipeline and wait for all.  Returns SMELT_OK when
 * every stage was started and the run was not interrupted (look at
 * res[i].exit for the outcomes), SMELT_ERR_INTERRUPTED after SIGINT,
 * SIGTERM, SIGHUP or the timeout (err says which), a callback's negative
 * status, SMELT_ERR when a line exceeded the line cap (err names the
 * stage), or SMELT_ERR when a stage could not be started
 * (res[i].exit.not_started).  When the last stage exits while earlier
 * ones still run, they are sent SIGTERM (then SIGKILL after a grace
 * period).  SIGINT, SIGTERM, SIGHUP, SIGCHLD and SIGTTOU are blocked
 * during the call (read through a signalfd) and the mask is restored.
 */
int proc_pipeline(const struct proc_stage *stages, size_t n, const struct proc_opts *opts,
                  struct proc_result *res, char *err, size_t errlen);

/*
 * on 1: from now on, a stage with SMELT_SPAWN_INHERIT_STDIO gets smelt's
 * stdin and stdout (and the terminal's foreground) but its stderr is read
 * and logged line by line like any stage's (scrubbed, in the log format),
 * as Meltano's invoke does; 0 (the default): all three are smelt's.
 */
void proc_log_inherited_stderr(int on);

/* The signal that interrupted the last proc_pipeline() call (SIGINT, SIGTERM, SIGHUP), or 0. */
int proc_last_signal(void);

/*
 * A run-wide hold on SIGINT, SIGTERM and SIGHUP, for the work between
 * pipelines (recording the run, preparing plugins, between blocks), where
 * no supervisor reads them and their default action would end smelt with
 * the run half recorded.  proc_signals_hold() blocks them, so one that
 * arrives stays pending: a proc_pipeline() call then reads it at once
 * (stopping its stages as usual), and proc_signal_take() takes it between
 * pipelines.  Stages never inherit the hold: they start with the mask
 * smelt had before it.  proc_signals_release() restores that mask; a stop
 * signal still pending then is taken first (the run it would have stopped
 * is over) and only logged.  Holds nest; not thread-safe (the CLI's main
 * thread only).
 */
void proc_signals_hold(void);

/*
 * Take a pending SIGINT, SIGTERM or SIGHUP (only while held): returns it,
 * logged and made proc_last_signal(), or 0 when none is pending.
 */
int proc_signal_take(void);

/* End the hold of proc_signals_hold(); see there. */
void proc_signals_release(void);

/* How a stop signal ended the work, for messages: "interrupted" (SIGINT), "terminated", ... */
const char *proc_signal_outcome(int sig);

/* struct proc_owner, proc_owner_self(), proc_owner_check(): util/proc_owner.h (included above). */

/* Describe an exit for messages: "exited with code 3", "was killed by SIGKILL", ... */
void proc_describe_exit(const struct smelt_exit *ex, char *buf, size_t len);

#endif
