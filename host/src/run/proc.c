/* proc: the process supervisor; see proc.h. */
#include "run/proc.h"
#include "run/sdk_log.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define STDERR_LINE_MAX (64 * 1024) /* longer logged lines are cut in the log, never in the data */
#define GRACE_MS 10000              /* from SIGTERM to SIGKILL */
#define DRAIN_MS 2000               /* how long to read pipes a grandchild keeps open after the child exited */
/*
 * A read shorter than BATCH_MIN_BYTES means the writer sends little at a
 * time (a target flushing a state per record, a line of log per record):
 * that pipe is then left alone for BATCH_WAIT_MS, so that the next read
 * takes what was written meanwhile at once, instead of one poll() and one
 * read() per line.  The pipe holds PROC_PIPE_BYTES, so a writer fast
 * enough to fill it meanwhile gets full reads, never waits.  A paused pipe
 * is still polled for its end (POLLHUP), so the last writer closing it is
 * seen at once, not a millisecond later.
 */
#define BATCH_MIN_BYTES 4096
#define BATCH_WAIT_MS 1

#define PIPE_DEFAULT_BYTES 65536 /* what a new pipe holds: not grown up to this */

static _Atomic int pipe_growth_refused; /* the kernel said no once: the user is at its limit (proc.h) */

/* Grow a stdout pipe to bytes; where the kernel refuses, it keeps its size (see "Pipe size", proc.h). */
static void grow_pipe(int fd, size_t bytes)
{
	if (bytes <= PIPE_DEFAULT_BYTES || pipe_growth_refused)
		return;
	if (fcntl(fd, F_SETPIPE_SZ, (int)(bytes > INT_MAX ? INT_MAX : bytes)) < 0 && errno == EPERM)
		pipe_growth_refused = 1;
}

static int last_signal;
static int held;              /* nesting depth of proc_signals_hold() */
static sigset_t before_hold;  /* the mask before the outermost hold: what stages start with */
static int log_inherited_stderr; /* proc_log_inherited_stderr() */

void proc_log_inherited_stderr(int on)
{
	log_inherited_stderr = on;
}

int proc_last_signal(void)
{
	return last_signal;
}

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

const char *proc_signal_outcome(int sig)
{
	return sig == SIGINT ? "interrupted" : sig == SIGHUP ? "terminated (SIGHUP)" : "terminated";
}

void proc_signals_hold(void)
{
	sigset_t set;
	if (held++)
		return;
	stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &before_hold);
}

/* A pending (held) SIGINT, SIGTERM or SIGHUP, taken off the queue; 0 when none. */
static int pending_stop_signal(void)
{
	sigset_t set;
	struct timespec now = { 0, 0 };
	stop_signals(&set);
	int sig = sigtimedwait(&set, NULL, &now);
	return sig > 0 ? sig : 0;
}

int proc_signal_take(void)
{
	if (!held)
		return 0;
	int sig = pending_stop_signal();
	if (!sig)
		return 0;
	if (!last_signal)
		last_signal = sig;
	log_warn("received %s: stopping", signal_name(sig));
	return sig;
}

void proc_signals_release(void)
{
	if (!held)
		return;
	if (held == 1) {
		for (int sig; (sig = pending_stop_signal()) != 0;)
			log_debug("%s arrived as the run ended; nothing was left to stop", signal_name(sig));
		sigprocmask(SIG_SETMASK, &before_hold, NULL);
	}
	held--;
}

void proc_describe_exit(const struct smelt_exit *ex, char *buf, size_t len)
{
	if (ex->not_started)
		snprintf(buf, len, "could not be started");
	else if (ex->signaled)
		snprintf(buf, len, "was killed by signal %d (%s)", ex->term_signal, strsignal(ex->term_signal));
	else if (ex->exited)
		snprintf(buf, len, "exited with code %d", ex->exit_code);
	else
		snprintf(buf, len, "did not finish");
}

/* A pipe being read line by line. */
struct reader {
	int fd;                 /* -1 once at EOF */
	size_t stage;           /* which stage it belongs to */
	int is_stdout;          /* the last stage's stdout, else a stderr */
	struct strbuf line;     /* the partial line */
	unsigned long lineno;   /* lines seen */
	int truncated;          /* the current logged line exceeded STDERR_LINE_MAX */
	int overflow;           /* the current line exceeded the line cap: dropped up to its newline */
	size_t linelen;         /* bytes of the current line so far, kept or not */
	long long bytes;        /* bytes read */
	long long not_before;   /* monotonic ms before which the pipe is not read again (BATCH_WAIT_MS) */
};

struct child {
	pid_t pid;              /* 0 when not started or reaped */
	int running;
};

struct sup {
	const struct proc_stage *stages;
	size_t n;
	const struct proc_opts *opts;
	struct proc_result *res;
	struct child *kids;
	struct reader *readers;
	size_t nreaders;
	size_t line_max;        /* the line cap (proc_opts.line_max or PROC_LINE_MAX) */
	size_t pipe_bytes;      /* stdout pipes grow to this (proc_opts.pipe_bytes or PROC_PIPE_BYTES) */
	pid_t pgid;             /* the run's process group, 0 until the first stage started */
	int leader_held;        /* the group leader (pid pgid) is not reaped yet */
	int stop_status;        /* a callback's negative status, or the line cap's SMELT_ERR */
	char stop_err[SMELT_ERRBUF_SIZE]; /* why the supervisor stopped the run itself, "" otherwise */
	/* set up by sup_begin(), undone by sup_end() */
	int inherit;            /* one stage with smelt's own stdio (SMELT_SPAWN_INHERIT_STDIO) */
	int sfd;                /* signalfd of SIGCHLD, SIGINT, SIGTERM, SIGHUP; -1 when it could not be made */
	int term;               /* the terminal handed to the stages' group, -1: none */
	sigset_t oldmask;       /* the caller's signal mask, restored at the end */
	/* the supervision loop's clock: monotonic ms, 0 for a time not set */
	long long start, tick_ms, next_tick, next_progress, deadline;
	long long kill_at;      /* when SIGKILL follows the SIGTERM sent */
	long long drain_until;  /* how long pipes are still read after the last stage exited */
	int timed_out;          /* the timeout stopped the run */
	int downstream_done;    /* the last stage ended while upstream ran: upstream was stopped */
};

static const char *env_path(char *const *envp)
{
	for (char *const *e = envp ? envp : environ; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			return *e + 5;
	return NULL;
}

static void emit_line(struct sup *s, struct reader *r, const char *line, size_t len)
{
	const struct proc_stage *st = &s->stages[r->stage];
	r->lineno++;
	if (r->is_stdout && st->on_line) {
		int rc = st->on_line(st->arg, line, len, r->lineno);
		if (rc < 0 && !s->stop_status)
			s->stop_status = rc;
		return;
	}
	if (!r->is_stdout && s->opts && s->opts->on_stderr)
		s->opts->on_stderr(s->opts->stderr_arg, r->stage, line, len);
	enum smelt_log_level level = (st->flags & SMELT_SPAWN_QUIET) ? SMELT_LOG_DEBUG : SMELT_LOG_INFO;
	const char *label = st->label ? st->label : "plugin";
	/* a Singer SDK structured record (run/sdk_log.h) is logged with its own level and fields */
	if (!r->is_stdout && !r->truncated && sdk_log_emit(label, line, len, !!(st->flags & SMELT_SPAWN_QUIET)))
		return;
	/*
	 * "prog: level: message" (git style, the native connectors): the prefix is already in our
	 * line format.  A line that only starts with "prog: " is the tool's own text and kept whole.
	 */
	size_t ll = strlen(label);
	if (!r->is_stdout && len > ll + 2 && !strncmp(line, label, ll) && line[ll] == ':' && line[ll + 1] == ' ') {
		static const struct { const char *word; enum smelt_log_level level; } levels[] = {
			{ "info: ", SMELT_LOG_INFO }, { "warning: ", SMELT_LOG_WARN }, { "error: ", SMELT_LOG_ERROR },
			{ "debug: ", SMELT_LOG_DEBUG },
		};
		const char *rest = line + ll + 2;
		size_t rest_len = len - ll - 2;
		for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
			size_t wl = strlen(levels[i].word);
			if (rest_len >= wl && !strncmp(rest, levels[i].word, wl)) {
				line = rest + wl;
				len = rest_len - wl;
				if (!(st->flags & SMELT_SPAWN_QUIET) || levels[i].level > SMELT_LOG_INFO)
					level = levels[i].level;
				break;
			}
		}
	}
	/* Singer METRIC lines are parsed for the progress line (on_stderr); showing them is debug detail */
	if (!r->is_stdout && level == SMELT_LOG_INFO && memmem(line, len, "METRIC: ", 8))
		level = SMELT_LOG_DEBUG;
	log_plugin_msg(level, label, r->is_stdout ? "stdout" : "stderr", "%.*s%s", (int)len, line,
	               r->truncated ? " [...]" : "");
}

/* Read what is available; returns 0 at EOF (fd closed), 1 otherwise. */
static int reader_pump(struct sup *s, struct reader *r)
{
	char buf[65536];
	ssize_t got = read(r->fd, buf, sizeof buf);
	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (got <= 0) {
		if (r->line.len && !r->overflow)
			emit_line(s, r, r->line.buf, r->line.len);
		strbuf_reset(&r->line);
		close(r->fd);
		r->fd = -1;
		return 0;
	}
	r->bytes += got;
	if (got < BATCH_MIN_BYTES)
		r->not_before = mono_ms() + BATCH_WAIT_MS;
	const struct proc_stage *st = &s->stages[r->stage];
	int whole = r->is_stdout && st->on_line; /* a callback gets whole lines; a log gets their first 64 KiB */
	char *p = buf, *end = buf + got;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t chunk = (size_t)((nl ? nl : end) - p);
		r->linelen += chunk;
		if (r->linelen > s->line_max) {
			/* Over the cap: smelt's memory must not follow a runaway line, and the run fails. */
			if (!r->overflow && !s->stop_status) {
				s->stop_status = SMELT_ERR;
				snprintf(s->stop_err, sizeof s->stop_err,
				         "'%s': output line length limit exceeded (a line of its %s is longer than %zu bytes)",
				         st->label ? st->label : st->argv[0], r->is_stdout ? "stdout" : "stderr", s->line_max);
				log_error("%s", s->stop_err);
			}
			r->overflow = 1;
			strbuf_release(&r->line);
		} else if (nl && !r->line.len && !r->overflow && (whole || chunk <= STDERR_LINE_MAX)) {
			/* a whole line in buf (the common case): handed over from there, not copied */
			size_t len = chunk && p[chunk - 1] == '\r' ? chunk - 1 : chunk;
			p[len] = '\0';
			emit_line(s, r, p, len);
			r->truncated = 0;
			r->linelen = 0;
			p = nl + 1;
			continue;
		} else if (!whole && r->line.len + chunk > STDERR_LINE_MAX) {
			size_t room = STDERR_LINE_MAX > r->line.len ? STDERR_LINE_MAX - r->line.len : 0;
			strbuf_add(&r->line, p, room);
			r->truncated = 1;
		} else {
			strbuf_add(&r->line, p, chunk);
		}
		if (!nl)
			break;
		size_t len = r->line.len;
		if (len && r->line.buf[len - 1] == '\r')
			r->line.buf[--len] = '\0'; /* on_line's line ends with a NUL at len (sdk.h) */
		if (!r->overflow)
			emit_line(s, r, r->line.buf, len);
		strbuf_reset(&r->line);
		r->truncated = 0;
		r->overflow = 0;
		r->linelen = 0;
		p = nl + 1;
	}
	return 1;
}

static long long proc_io_wchar(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[128];
	long long v = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "wchar: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Bytes each stage wrote to stdout so far: its wchar minus the stderr bytes the host read. */
static void report_progress(struct sup *s, double seconds)
{
	long long *bytes = xcalloc(s->n, sizeof *bytes);
	for (size_t i = 0; i < s->n; i++) {
		bytes[i] = s->kids[i].running ? proc_io_wchar(s->kids[i].pid) : s->res[i].bytes_written;
		for (size_t r = 0; bytes[i] >= 0 && r < s->nreaders; r++)
			if (s->readers[r].stage == i && !s->readers[r].is_stdout)
				bytes[i] -= s->readers[r].bytes;
	}
	s->opts->progress(s->opts->progress_arg, bytes, s->n, seconds);
	free(bytes);
}

/*
 * Collect the stages that exited.  The first stage leads the process
 * group: it stays a zombie until the end of the call, so the group id
 * cannot be reused while the supervisor may still signal the group.
 */
static int reap(struct sup *s)
{
	int any = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct child *k = &s->kids[i];
		if (!k->running)
			continue;
		siginfo_t si = { 0 };
		/* WNOWAIT: the zombie stays, so /proc/<pid>/io can still be read */
		if (waitid(P_PID, (id_t)k->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
			continue;
		s->res[i].bytes_written = proc_io_wchar(k->pid);
		if (k->pid != s->pgid)
			while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
				;
		k->running = 0;
		any = 1;
		struct smelt_exit *ex = &s->res[i].exit;
		if (si.si_code == CLD_EXITED) {
			ex->exited = 1;
			ex->exit_code = si.si_status;
		} else if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
			ex->signaled = 1;
			ex->term_signal = si.si_status;
		}
	}
	return any;
}

static int any_running(struct sup *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->kids[i].running)
			return 1;
	return 0;
}

/*
 * Signal the run's whole process group, so what the stages started
 * (gunicorn workers, a shell's children) gets it too.  Only while the
 * group leader is unreaped: its pid holds the group id, which cannot be
 * reused then.
 */
static void signal_all(struct sup *s, int sig)
{
	if (s->pgid > 0 && s->leader_held)
		kill(-s->pgid, sig);
	for (size_t i = 0; i < s->n; i++) /* a stage whose setpgid() failed is signalled by itself */
		if (s->kids[i].running)
			kill(s->kids[i].pid, sig);
}

/* The first of stdin, stdout, stderr that is a terminal with smelt's group in its foreground, or -1. */
static int foreground_terminal(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (isatty(fd) && tcgetpgrp(fd) == getpgrp())
			return fd;
	return -1;
}

/*
 * The interactive tool stopped (^Z reached its group): give the terminal
 * back to smelt's group, stop smelt as the shell expects, and when smelt
 * is continued, continue the tool (in the foreground again if smelt is).
 */
static void proxy_stop(pid_t pgid, int term)
{
	tcsetpgrp(term, getpgrp());
	kill(getpid(), SIGTSTP);
	if (tcgetpgrp(term) == getpgrp())
		tcsetpgrp(term, pgid);
	kill(-pgid, SIGCONT);
}

/* In the child after fork: only async-signal-safe calls until exec. */
static _Noreturn void child_exec(const struct proc_stage *st, const char *file, int in, int out, int errfd,
                                 int report, pid_t pgid, int term, pid_t parent, const sigset_t *oldmask)
{
	/* Die with smelt, even by SIGKILL; the parent may be gone already (then getppid() changed). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127);
	setpgid(0, pgid); /* pgid 0: a new group led by this stage */
	if (term >= 0)    /* SIGTTOU is still blocked here, as in the parent */
		tcsetpgrp(term, getpid());
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/* SIGHUP keeps smelt's own disposition: default, or ignored under nohup */
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	if ((in >= 0 && dup2(in, 0) < 0) || (out >= 0 && dup2(out, 1) < 0) || (errfd >= 0 && dup2(errfd, 2) < 0))
		goto fail;
	if (st->cwd && chdir(st->cwd) != 0)
		goto fail;
	execve(file, st->argv, st->envp ? st->envp : environ);
fail:;
	int e = errno;
	ssize_t w = write(report, &e, sizeof e);
	(void)w;
	_exit(127);
}

/*
 * Start a stage: vfork() (the child borrows smelt's memory until its
 * execve, so no page tables are copied: half a millisecond less per stage
 * than fork()), then child_exec(), which makes only system calls (no
 * allocation, no lock; no handler of smelt's can run: the signals it
 * handles stay blocked until their dispositions are reset) and never
 * returns.  Its own
 * function, so that nothing of the caller's frame is live across vfork().
 */
static pid_t spawn_stage(const struct proc_stage *st, const char *file, int in, int out, int errfd, int report,
                         pid_t pgid, int term, pid_t parent, const sigset_t *oldmask)
{
	pid_t pid = vfork();
	if (pid == 0)
		child_exec(st, file, in, out, errfd, report, pgid, term, parent, oldmask);
	return pid;
}

/*
 * proc_pipeline() in steps: sup_begin() blocks the signals and sets up
 * the results; start_stage() forks each stage, wired to the previous
 * one; supervise() reads the pipes and signals until everything ended
 * (one poll_once() per turn, then enforce_stops() and the clock's
 * callbacks); sup_end() kills and reaps what is left and restores the
 * caller's signal mask and terminal; outcome() makes the status.
 */

/* Results cleared, children and readers allocated, signals blocked and read through a signalfd. */
static void sup_begin(struct sup *s)
{
	const struct proc_opts *opts = s->opts;
	sigset_t mask;
	s->inherit = s->n == 1 && (s->stages[0].flags & SMELT_SPAWN_INHERIT_STDIO);
	s->line_max = opts && opts->line_max ? opts->line_max : PROC_LINE_MAX;
	s->pipe_bytes = opts && opts->pipe_bytes ? opts->pipe_bytes : PROC_PIPE_BYTES;
	last_signal = 0;
	memset(s->res, 0, s->n * sizeof *s->res);
	for (size_t i = 0; i < s->n; i++)
		s->res[i].bytes_written = -1;
	s->kids = xcalloc(s->n, sizeof *s->kids);
	s->readers = xcalloc(s->n + 1, sizeof *s->readers);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigset_t block = mask; /* SIGTTOU too: smelt hands its terminal over and back from the background */
	sigaddset(&block, SIGTTOU);
	sigprocmask(SIG_BLOCK, &block, &s->oldmask);
	s->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	s->term = s->inherit ? foreground_terminal() : -1;
}

/* A reader for fd, a stderr or the last stage's stdout of stage i. */
static void add_reader(struct sup *s, int fd, size_t stage, int is_stdout)
{
	struct reader *r = &s->readers[s->nreaders++];
	r->fd = fd;
	r->stage = stage;
	r->is_stdout = is_stdout;
	strbuf_init(&r->line, 0);
}

/*
 * Start stage i: its stdin is *prev_read (the previous stage's stdout;
 * devnull for the first, or the terminal's when it inherits stdio), its
 * stdout goes to the next stage or to a reader, its stderr to a reader.
 * The child reports a failed exec through a pipe.  *prev_read is taken
 * (closed here) and replaced by this stage's stdout when a stage follows.
 */
static int start_stage(struct sup *s, size_t i, int *prev_read, int devnull, pid_t self, char *err, size_t errlen)
{
	const struct proc_stage *st = &s->stages[i];
	struct proc_result *res = s->res;
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rep[2] = { -1, -1 };
	int child_in = i == 0 ? (s->inherit ? -1 : devnull) : *prev_read; /* a pipeline reads no terminal */
	char *file = which(st->argv[0], env_path(st->envp));
	if (!file) {
		res[i].exit.not_started = 1;
		res[i].exit.exit_code = 127;
		return fail(err, errlen, SMELT_ERR, "cannot run '%s' for '%s': not found on PATH", st->argv[0],
		            st->label ? st->label : st->argv[0]);
	}
	if (!s->inherit || log_inherited_stderr) {
		if ((!s->inherit && pipe2(out, O_CLOEXEC) != 0) || pipe2(errp, O_CLOEXEC) != 0) {
			free(file);
			return fail(err, errlen, SMELT_ERR, "cannot create a pipe: %s", strerror(errno));
		}
		if (out[0] >= 0)
			grow_pipe(out[0], s->pipe_bytes);
	}
	if (pipe2(rep, O_CLOEXEC) != 0) {
		free(file);
		return fail(err, errlen, SMELT_ERR, "cannot create a pipe: %s", strerror(errno));
	}
	pid_t pid = spawn_stage(st, file, child_in, out[1], errp[1], rep[1], s->pgid, s->term, self,
	                        held ? &before_hold : &s->oldmask);
	free(file);
	close(rep[1]);
	if (out[1] >= 0)
		close(out[1]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (*prev_read >= 0)
		close(*prev_read);
	*prev_read = -1;
	if (pid < 0) {
		close(rep[0]);
		if (out[0] >= 0)
			close(out[0]);
		if (errp[0] >= 0)
			close(errp[0]);
		return fail(err, errlen, SMELT_ERR, "cannot start a process: %s", strerror(errno));
	}
	/* Both sides set the group (and hand the terminal over), so neither order of the race matters. */
	if (!s->pgid) {
		s->pgid = pid;
		s->leader_held = 1;
	}
	setpgid(pid, s->pgid);
	if (s->term >= 0)
		tcsetpgrp(s->term, s->pgid);
	s->kids[i].pid = pid;
	s->kids[i].running = 1;
	int child_errno = 0;
	ssize_t got;
	while ((got = read(rep[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
		;
	close(rep[0]);
	if (got == (ssize_t)sizeof child_errno) {
		res[i].exit.not_started = 1;
		if (out[0] >= 0)
			close(out[0]);
		if (errp[0] >= 0)
			close(errp[0]);
		return fail(err, errlen, SMELT_ERR, "cannot run '%s' for '%s': %s", st->argv[0],
		            st->label ? st->label : st->argv[0], strerror(child_errno));
	}
	if (errp[0] >= 0)
		add_reader(s, errp[0], i, 0);
	if (out[0] >= 0) {
		if (i + 1 < s->n)
			*prev_read = out[0];
		else
			add_reader(s, out[0], i, 1);
	}
	return SMELT_OK;
}

/* Start every stage in order; on a failure, what did start is sent SIGTERM (the pipeline is incomplete). */
static int start_stages(struct sup *s, char *err, size_t errlen)
{
	int rc = SMELT_OK, prev_read = -1, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t self = getpid();
	for (size_t i = 0; i < s->n && rc == SMELT_OK; i++)
		rc = start_stage(s, i, &prev_read, devnull, self, err, errlen);
	if (prev_read >= 0)
		close(prev_read);
	if (devnull >= 0)
		close(devnull);
	if (rc != SMELT_OK)
		signal_all(s, SIGTERM);
	return rc;
}

/* SIGINT, SIGTERM or SIGHUP read from the signalfd: stop the stages, or kill them at a second signal. */
static void handle_signals(struct sup *s)
{
	struct signalfd_siginfo si;
	while (read(s->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo != SIGINT && si.ssi_signo != SIGTERM && si.ssi_signo != SIGHUP)
			continue;
		if (!last_signal) {
			last_signal = (int)si.ssi_signo;
			log_warn("received %s: stopping", signal_name((int)si.ssi_signo));
			/* the stages' whole group, interactive or not; SIGHUP arrives as SIGTERM */
			signal_all(s, si.ssi_signo == SIGHUP ? SIGTERM : (int)si.ssi_signo);
			s->kill_at = mono_ms() + GRACE_MS;
		} else {
			signal_all(s, SIGKILL); /* a second signal: no more patience */
		}
	}
}

/*
 * One turn of the loop: wait (until the next of the tick, the deadline,
 * the SIGKILL and the drain's end) for pipe data or a signal, read it,
 * and hand the terminal back when an interactive stage stopped (^Z).
 * -1 when poll() failed.
 */
static int poll_once(struct sup *s)
{
	struct pollfd pfd[64];
	size_t map[64], np = 0;
	pfd[np].fd = s->sfd;
	pfd[np++].events = POLLIN;
	long long now = mono_ms();
	long long wait = s->next_tick - now;
	for (size_t i = 0; i < s->nreaders && np < 64; i++) {
		if (s->readers[i].fd < 0)
			continue;
		int paused = s->readers[i].not_before > now; /* batching: see BATCH_WAIT_MS */
		if (paused && s->readers[i].not_before - now < wait)
			wait = s->readers[i].not_before - now;
		/* a paused pipe is still watched for its end (POLLHUP needs no event): EOF is read at once */
		map[np] = i;
		pfd[np].fd = s->readers[i].fd;
		pfd[np++].events = paused ? 0 : POLLIN;
	}
	if (s->deadline && s->deadline - now < wait)
		wait = s->deadline - now;
	if (s->kill_at && s->kill_at - now < wait)
		wait = s->kill_at - now;
	if (s->drain_until && s->drain_until - now < wait)
		wait = s->drain_until - now;
	if (wait < 0)
		wait = 0;
	int pr = poll(pfd, np, (int)wait);
	if (pr < 0 && errno != EINTR)
		return -1;
	for (size_t j = 1; pr > 0 && j < np; j++)
		if (pfd[j].revents & (POLLIN | POLLHUP | POLLERR))
			reader_pump(s, &s->readers[map[j]]);
	if (pr > 0 && (pfd[0].revents & POLLIN))
		handle_signals(s);
	if (s->term >= 0 && s->kids[0].running) {
		siginfo_t si = { 0 };
		if (waitid(P_PID, (id_t)s->kids[0].pid, &si, WSTOPPED | WNOHANG) == 0 && si.si_pid &&
		    si.si_code == CLD_STOPPED)
			proxy_stop(s->pgid, s->term);
	}
	return 0;
}

/*
 * The reasons to stop the stages, at time now: a callback's stop or the
 * line cap, the last stage ending before upstream, the timeout; and
 * SIGKILL once the grace after a SIGTERM is over.
 */
static void enforce_stops(struct sup *s, long long now)
{
	if (s->stop_status && !s->kill_at) {
		signal_all(s, SIGTERM);
		s->kill_at = now + GRACE_MS;
	}
	/* The last stage ended while upstream still runs: nobody will read their output. */
	if (!s->downstream_done && s->n > 1 && !s->kids[s->n - 1].running && s->kids[s->n - 1].pid && any_running(s)) {
		s->downstream_done = 1;
		for (size_t i = 0; i + 1 < s->n; i++)
			if (s->kids[i].running)
				kill(s->kids[i].pid, SIGTERM);
		if (!s->kill_at)
			s->kill_at = now + GRACE_MS;
	}
	if (s->deadline && now >= s->deadline && !s->timed_out) {
		s->timed_out = 1;
		log_warn("run timed out after %d s: stopping", s->opts->timeout_s);
		signal_all(s, SIGTERM);
		s->kill_at = now + GRACE_MS;
	}
	if (s->kill_at && now >= s->kill_at) {
		signal_all(s, SIGKILL);
		s->kill_at = 0;
	}
}

/* The tick callback every tick_ms, the progress callback about once a second. */
static void run_clock(struct sup *s, long long now)
{
	const struct proc_opts *opts = s->opts;
	if (now >= s->next_tick) {
		s->next_tick = now + s->tick_ms;
		if (opts && opts->tick)
			opts->tick(opts->tick_arg);
	}
	if (now >= s->next_progress) {
		s->next_progress = now + 1000;
		if (opts && opts->progress)
			report_progress(s, (double)(now - s->start) / 1000.0);
	}
}

/*
 * Until every stage exited and every pipe is closed (or, after the last
 * stage exited, DRAIN_MS passed): read, reap, stop, tick.
 */
static void supervise(struct sup *s)
{
	const struct proc_opts *opts = s->opts;
	s->tick_ms = opts && opts->tick_ms > 0 ? opts->tick_ms : 1000;
	s->start = mono_ms();
	s->next_tick = s->start + s->tick_ms;
	s->next_progress = s->start + 1000;
	s->deadline = opts && opts->timeout_s > 0 ? s->start + (long long)opts->timeout_s * 1000 : 0;
	for (;;) {
		int open_readers = 0;
		for (size_t i = 0; i < s->nreaders; i++)
			open_readers += s->readers[i].fd >= 0;
		int running = any_running(s);
		if (!running && !open_readers)
			break;
		if (!running && !s->drain_until)
			s->drain_until = mono_ms() + DRAIN_MS;
		if (s->drain_until && mono_ms() >= s->drain_until)
			break;
		if (poll_once(s) < 0)
			break;
		reap(s);
		long long now = mono_ms();
		enforce_stops(s, now);
		run_clock(s, now);
	}
}

/*
 * Whatever still runs is killed and reaped: a stage (only after a poll
 * failure), or what the stages left in the group when the run was
 * stopped (workers that ignored SIGTERM after their master died) or
 * when it still holds the pipes after the drain.  Then the pipes are
 * closed, stderr bytes taken out of the byte counts, and the caller's
 * terminal and signal mask restored.
 */
static void sup_end(struct sup *s)
{
	int left_open = 0;
	for (size_t i = 0; i < s->nreaders; i++)
		left_open |= s->readers[i].fd >= 0;
	if (any_running(s) || s->kill_at || last_signal || s->timed_out || s->stop_status || left_open)
		signal_all(s, SIGKILL);
	for (size_t i = 0; i < s->n; i++)
		if (s->kids[i].running) {
			waitpid(s->kids[i].pid, NULL, 0);
			s->kids[i].running = 0;
		}
	if (s->leader_held) {
		waitpid(s->pgid, NULL, 0);
		s->leader_held = 0;
	}
	for (size_t i = 0; i < s->nreaders; i++) {
		struct reader *r = &s->readers[i];
		if (r->fd >= 0)
			close(r->fd);
		if (!r->is_stdout && s->res[r->stage].bytes_written >= 0)
			s->res[r->stage].bytes_written -= r->bytes; /* stderr is not data */
		strbuf_release(&r->line);
	}
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->term >= 0) /* the terminal is smelt's again (SIGTTOU still blocked) */
		tcsetpgrp(s->term, getpgrp());
	sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
	free(s->kids);
	free(s->readers);
}

/* The call's status: a start failure first, then a stop, the timeout, a signal (err says which). */
static int outcome(const struct sup *s, int rc, char *err, size_t errlen)
{
	if (rc == SMELT_OK && s->stop_status)
		rc = s->stop_err[0] ? fail(err, errlen, s->stop_status, "%s", s->stop_err) : s->stop_status;
	if (rc == SMELT_OK && s->timed_out)
		rc = fail(err, errlen, SMELT_ERR_INTERRUPTED, "run timed out after %d s", s->opts->timeout_s);
	if (rc == SMELT_OK && last_signal)
		rc = fail(err, errlen, SMELT_ERR_INTERRUPTED, "the process was %s", proc_signal_outcome(last_signal));
	return rc;
}

int proc_pipeline(const struct proc_stage *stages, size_t n, const struct proc_opts *opts,
                  struct proc_result *res, char *err, size_t errlen)
{
	struct sup s = { .stages = stages, .n = n, .opts = opts, .res = res };
	sup_begin(&s);
	int rc = start_stages(&s, err, errlen);
	supervise(&s);
	sup_end(&s);
	return outcome(&s, rc, err, errlen);
}

