/* proc: the process supervisor; see proc.h. */
#include "run/proc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
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

static int last_signal;

int proc_last_signal(void)
{
	return last_signal;
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

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	pid_t pgid;             /* the run's process group, 0 until the first stage started */
	int leader_held;        /* the group leader (pid pgid) is not reaped yet */
	int stop_status;        /* a callback's negative status, or the line cap's SMELT_ERR */
	char stop_err[SMELT_ERRBUF_SIZE]; /* why the supervisor stopped the run itself, "" otherwise */
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
	/* "prog: level: message" (git style, the native connectors): the prefix is already in our line format */
	size_t ll = strlen(label);
	if (!r->is_stdout && len > ll + 2 && !strncmp(line, label, ll) && line[ll] == ':' && line[ll + 1] == ' ') {
		static const struct { const char *word; enum smelt_log_level level; } levels[] = {
			{ "info: ", SMELT_LOG_INFO }, { "warning: ", SMELT_LOG_WARN }, { "error: ", SMELT_LOG_ERROR },
			{ "debug: ", SMELT_LOG_DEBUG },
		};
		line += ll + 2;
		len -= ll + 2;
		for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
			size_t wl = strlen(levels[i].word);
			if (len >= wl && !strncmp(line, levels[i].word, wl)) {
				line += wl;
				len -= wl;
				if (!(st->flags & SMELT_SPAWN_QUIET) || levels[i].level > SMELT_LOG_INFO)
					level = levels[i].level;
				break;
			}
		}
	}
	/* Singer METRIC lines are parsed for the progress line (on_stderr); showing them is debug detail */
	if (!r->is_stdout && level == SMELT_LOG_INFO && memmem(line, len, "METRIC: ", 8))
		level = SMELT_LOG_DEBUG;
	log_msg(level, label, "%.*s%s", (int)len, line, r->truncated ? " [...]" : "");
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
	const struct proc_stage *st = &s->stages[r->stage];
	int whole = r->is_stdout && st->on_line; /* a callback gets whole lines; a log gets their first 64 KiB */
	const char *p = buf, *end = buf + got;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
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
			len--;
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
static void child_exec(const struct proc_stage *st, const char *file, int in, int out, int errfd, int report,
                       pid_t pgid, int term, pid_t parent, const sigset_t *oldmask)
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

int proc_pipeline(const struct proc_stage *stages, size_t n, const struct proc_opts *opts,
                  struct proc_result *res, char *err, size_t errlen)
{
	struct sup s = { .stages = stages, .n = n, .opts = opts, .res = res };
	sigset_t mask, oldmask;
	int rc = SMELT_OK, inherit = n == 1 && (stages[0].flags & SMELT_SPAWN_INHERIT_STDIO);
	int prev_read = -1, devnull = -1;
	pid_t self = getpid();

	s.line_max = opts && opts->line_max ? opts->line_max : PROC_LINE_MAX;

	last_signal = 0;
	memset(res, 0, n * sizeof *res);
	for (size_t i = 0; i < n; i++)
		res[i].bytes_written = -1;
	s.kids = xcalloc(n, sizeof *s.kids);
	s.readers = xcalloc(n + 1, sizeof *s.readers);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigset_t block = mask; /* SIGTTOU too: smelt hands its terminal over and back from the background */
	sigaddset(&block, SIGTTOU);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	int term = inherit ? foreground_terminal() : -1;

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < n; i++) {
		const struct proc_stage *st = &stages[i];
		int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rep[2] = { -1, -1 };
		int child_in = i == 0 ? (inherit ? -1 : devnull) : prev_read; /* a pipeline reads no terminal */
		char *file = which(st->argv[0], env_path(st->envp));
		if (!file) {
			res[i].exit.not_started = 1;
			res[i].exit.exit_code = 127;
			rc = fail(err, errlen, SMELT_ERR, "cannot run '%s' for '%s': not found on PATH", st->argv[0],
			          st->label ? st->label : st->argv[0]);
			break;
		}
		if (!inherit) {
			if (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
				free(file);
				rc = fail(err, errlen, SMELT_ERR, "cannot create a pipe: %s", strerror(errno));
				break;
			}
		}
		if (pipe2(rep, O_CLOEXEC) != 0) {
			free(file);
			rc = fail(err, errlen, SMELT_ERR, "cannot create a pipe: %s", strerror(errno));
			break;
		}
		pid_t pid = fork();
		if (pid == 0)
			child_exec(st, file, child_in, out[1], errp[1], rep[1], s.pgid, term, self, &oldmask);
		free(file);
		close(rep[1]);
		if (out[1] >= 0)
			close(out[1]);
		if (errp[1] >= 0)
			close(errp[1]);
		if (prev_read >= 0)
			close(prev_read);
		prev_read = -1;
		if (pid < 0) {
			close(rep[0]);
			if (out[0] >= 0)
				close(out[0]);
			if (errp[0] >= 0)
				close(errp[0]);
			rc = fail(err, errlen, SMELT_ERR, "cannot fork: %s", strerror(errno));
			break;
		}
		/* Both sides set the group (and hand the terminal over), so neither order of the race matters. */
		if (!s.pgid) {
			s.pgid = pid;
			s.leader_held = 1;
		}
		setpgid(pid, s.pgid);
		if (term >= 0)
			tcsetpgrp(term, s.pgid);
		s.kids[i].pid = pid;
		s.kids[i].running = 1;
		int child_errno = 0;
		ssize_t got;
		while ((got = read(rep[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
			;
		close(rep[0]);
		if (got == (ssize_t)sizeof child_errno) {
			res[i].exit.not_started = 1;
			rc = fail(err, errlen, SMELT_ERR, "cannot run '%s' for '%s': %s", st->argv[0],
			          st->label ? st->label : st->argv[0], strerror(child_errno));
			if (out[0] >= 0)
				close(out[0]);
			if (errp[0] >= 0)
				close(errp[0]);
			break;
		}
		if (errp[0] >= 0) {
			struct reader *r = &s.readers[s.nreaders++];
			r->fd = errp[0];
			r->stage = i;
			strbuf_init(&r->line, 0);
		}
		if (out[0] >= 0) {
			if (i + 1 < n) {
				prev_read = out[0];
			} else {
				struct reader *r = &s.readers[s.nreaders++];
				r->fd = out[0];
				r->stage = i;
				r->is_stdout = 1;
				strbuf_init(&r->line, 0);
			}
		}
	}
	if (prev_read >= 0)
		close(prev_read);
	if (devnull >= 0)
		close(devnull);
	if (rc != SMELT_OK) /* stop what did start: the pipeline is incomplete */
		signal_all(&s, SIGTERM);

	long long tick_ms = opts && opts->tick_ms > 0 ? opts->tick_ms : 1000;
	long long start = now_ms(), next_tick = start + tick_ms, next_progress = start + 1000, kill_at = 0, drain_until = 0;
	long long deadline = opts && opts->timeout_s > 0 ? start + (long long)opts->timeout_s * 1000 : 0;
	int timed_out = 0, downstream_done = 0;
	for (;;) {
		int open_readers = 0;
		for (size_t i = 0; i < s.nreaders; i++)
			open_readers += s.readers[i].fd >= 0;
		int running = any_running(&s);
		if (!running && !open_readers)
			break;
		if (!running && !drain_until)
			drain_until = now_ms() + DRAIN_MS;
		if (drain_until && now_ms() >= drain_until)
			break;

		struct pollfd pfd[64];
		size_t map[64], np = 0;
		pfd[np].fd = sfd;
		pfd[np++].events = POLLIN;
		for (size_t i = 0; i < s.nreaders && np < 64; i++) {
			if (s.readers[i].fd < 0)
				continue;
			map[np] = i;
			pfd[np].fd = s.readers[i].fd;
			pfd[np++].events = POLLIN;
		}
		long long now = now_ms();
		long long wait = next_tick - now;
		if (deadline && deadline - now < wait)
			wait = deadline - now;
		if (kill_at && kill_at - now < wait)
			wait = kill_at - now;
		if (drain_until && drain_until - now < wait)
			wait = drain_until - now;
		if (wait < 0)
			wait = 0;
		int pr = poll(pfd, np, (int)wait);
		if (pr < 0 && errno != EINTR)
			break;
		for (size_t j = 1; pr > 0 && j < np; j++)
			if (pfd[j].revents & (POLLIN | POLLHUP | POLLERR))
				reader_pump(&s, &s.readers[map[j]]);
		if (pr > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP) {
					if (!last_signal) {
						last_signal = (int)si.ssi_signo;
						log_warn("received %s: stopping", si.ssi_signo == SIGINT   ? "SIGINT"
						                                  : si.ssi_signo == SIGTERM ? "SIGTERM"
						                                                            : "SIGHUP");
						/* the stages' whole group, interactive or not; SIGHUP arrives as SIGTERM */
						signal_all(&s, si.ssi_signo == SIGHUP ? SIGTERM : (int)si.ssi_signo);
						kill_at = now_ms() + GRACE_MS;
					} else {
						signal_all(&s, SIGKILL); /* a second signal: no more patience */
					}
				}
			}
		}
		if (term >= 0 && s.kids[0].running) {
			siginfo_t si = { 0 };
			if (waitid(P_PID, (id_t)s.kids[0].pid, &si, WSTOPPED | WNOHANG) == 0 && si.si_pid &&
			    si.si_code == CLD_STOPPED)
				proxy_stop(s.pgid, term);
		}
		reap(&s);
		now = now_ms();
		if (s.stop_status && !kill_at) {
			signal_all(&s, SIGTERM);
			kill_at = now + GRACE_MS;
		}
		/* The last stage ended while upstream still runs: nobody will read their output. */
		if (!downstream_done && n > 1 && !s.kids[n - 1].running && s.kids[n - 1].pid && any_running(&s)) {
			downstream_done = 1;
			for (size_t i = 0; i + 1 < n; i++)
				if (s.kids[i].running)
					kill(s.kids[i].pid, SIGTERM);
			if (!kill_at)
				kill_at = now + GRACE_MS;
		}
		if (deadline && now >= deadline && !timed_out) {
			timed_out = 1;
			log_warn("run timed out after %d s: stopping", opts->timeout_s);
			signal_all(&s, SIGTERM);
			kill_at = now + GRACE_MS;
		}
		if (kill_at && now >= kill_at) {
			signal_all(&s, SIGKILL);
			kill_at = 0;
		}
		if (now >= next_tick) {
			next_tick = now + tick_ms;
			if (opts && opts->tick)
				opts->tick(opts->tick_arg);
		}
		if (now >= next_progress) {
			next_progress = now + 1000;
			if (opts && opts->progress)
				report_progress(&s, (double)(now - start) / 1000.0);
		}
	}
	/*
	 * Whatever still runs is killed and reaped: a stage (only after a poll
	 * failure), or what the stages left in the group when the run was
	 * stopped (workers that ignored SIGTERM after their master died) or
	 * when it still holds the pipes after the drain.
	 */
	int left_open = 0;
	for (size_t i = 0; i < s.nreaders; i++)
		left_open |= s.readers[i].fd >= 0;
	if (any_running(&s) || kill_at || last_signal || timed_out || s.stop_status || left_open)
		signal_all(&s, SIGKILL);
	for (size_t i = 0; i < n; i++)
		if (s.kids[i].running) {
			waitpid(s.kids[i].pid, NULL, 0);
			s.kids[i].running = 0;
		}
	if (s.leader_held) {
		waitpid(s.pgid, NULL, 0);
		s.leader_held = 0;
	}
	for (size_t i = 0; i < s.nreaders; i++) {
		struct reader *r = &s.readers[i];
		if (r->fd >= 0)
			close(r->fd);
		if (!r->is_stdout && res[r->stage].bytes_written >= 0)
			res[r->stage].bytes_written -= r->bytes; /* stderr is not data */
		strbuf_release(&r->line);
	}
	if (sfd >= 0)
		close(sfd);
	if (term >= 0) /* the terminal is smelt's again (SIGTTOU still blocked) */
		tcsetpgrp(term, getpgrp());
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	free(s.kids);
	free(s.readers);

	if (rc == SMELT_OK && s.stop_status)
		rc = s.stop_err[0] ? fail(err, errlen, s.stop_status, "%s", s.stop_err) : s.stop_status;
	if (rc == SMELT_OK && timed_out)
		rc = fail(err, errlen, SMELT_ERR_INTERRUPTED, "run timed out after %d s", opts->timeout_s);
	if (rc == SMELT_OK && last_signal)
		rc = fail(err, errlen, SMELT_ERR_INTERRUPTED, "the process was %s",
		          last_signal == SIGINT ? "interrupted" : last_signal == SIGHUP ? "terminated (SIGHUP)" : "terminated");
	return rc;
}
