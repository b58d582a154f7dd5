/* children: the runs smelt serve starts and supervises; see children.h. */
#include "serve/children.h"
#include "serve/spawn.h"
#include "serve/ctx.h"
#include "serve/dbpool.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include "util/proc_owner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct child {
	char *run_id;        /* owned */
	pid_t pid;           /* also its process group and session id */
	int pidfd;           /* readable once it exits; -1: none (the reaper then looks every 200 ms) */
	int cancelled;       /* cancel asked: an unfinished run becomes "cancelled" */
	struct child *next;
};

/* A child to start, handed to the reaper thread (which keeps the server's normal priority). */
struct spawn_job {
	const char *exe;
	char *const *argv, *const *env;
	const posix_spawn_file_actions_t *fa;
	const posix_spawnattr_t *at;
	const char *run_id;
	int done, rc;        /* rc: posix_spawn's */
	pid_t pid;
	struct spawn_job *next;
};

struct children {
	const struct serve_ctx *sv;  /* borrowed */
	pthread_mutex_t mu;          /* guards list, jobs, subs */
	pthread_cond_t spawned;      /* a job is done */
	struct child *list;
	struct spawn_job *jobs;
	int wake;                    /* eventfd: a job, or stop */
	int *subs;                   /* eventfds of children_subscribe() */
	size_t nsubs;
	pthread_t reaper;
	atomic_int stop;
};

static void poke(int fd)
{
	uint64_t one = 1;
	ssize_t w = write(fd, &one, sizeof one);
	(void)w;
}

void children_notify(struct children *kids)
{
	pthread_mutex_lock(&kids->mu);
	for (size_t i = 0; i < kids->nsubs; i++)
		poke(kids->subs[i]);
	pthread_mutex_unlock(&kids->mu);
}

int children_subscribe(struct children *kids)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&kids->mu);
	kids->subs = xrealloc(kids->subs, (kids->nsubs + 1) * sizeof *kids->subs);
	kids->subs[kids->nsubs++] = fd;
	pthread_mutex_unlock(&kids->mu);
	return fd;
}

void children_unsubscribe(struct children *kids, int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&kids->mu);
	for (size_t i = 0; i < kids->nsubs; i++)
		if (kids->subs[i] == fd) {
			kids->subs[i] = kids->subs[--kids->nsubs];
			break;
		}
	pthread_mutex_unlock(&kids->mu);
	close(fd);
}

static struct store *open_store(const struct serve_ctx *sv, char *err, size_t errlen)
{
	char ebuf[SMELT_ERRBUF_SIZE];
	return dbpool_get(sv->db, err ? err : ebuf, err ? errlen : sizeof ebuf);
}

static void close_store(const struct serve_ctx *sv, struct store *st)
{
	dbpool_put(sv->db, st);
}

/* The last "smelt: error: " message of the child's stderr file; NULL when none (free()). */
static char *last_error(const char *sys_dir, const char *rel)
{
	int fd = fs_open_under(sys_dir, rel, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	off_t size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > 65536 ? size - 65536 : 0, SEEK_SET);
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	char *found = NULL;
	static const char tag[] = "smelt: error: ";
	for (char *l = sb.buf; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(l, tag, sizeof tag - 1)) {
			free(found);
			found = xstrdup(l + sizeof tag - 1);
		}
		l = nl ? nl + 1 : NULL;
	}
	strbuf_release(&sb);
	return found;
}

static void finish(struct children *kids, struct child *c, int status)
{
	char err[SMELT_ERRBUF_SIZE];
	char *rel = xasprintf("serve/%s.err", c->run_id);
	struct store *st = open_store(kids->sv, err, sizeof err);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (st) {
		char *why = last_error(kids->sv->o->sys_dir, rel);
		if (!why)
			why = WIFSIGNALED(status) ? xasprintf("smelt run was killed by signal %d", WTERMSIG(status))
			                          : xasprintf("smelt run exited with code %d", code);
		const char *verdict = c->cancelled ? "cancelled" : code == 0 ? "success" : "failed";
		runs_end(st, c->run_id, verdict, code, code ? why : NULL, err, sizeof err);
		free(why);
		close_store(kids->sv, st);
	}
	fs_unlink_under(kids->sv->o->sys_dir, rel);
	free(rel);
}

/* Start the queued jobs (under kids->mu): the reaper's thread, so children get its priority. */
static void run_jobs(struct children *kids)
{
	for (struct spawn_job *j; (j = kids->jobs) != NULL;) {
		kids->jobs = j->next;
		j->rc = posix_spawn(&j->pid, j->exe, j->fa, j->at, j->argv, j->env);
		if (j->rc == 0) {
			struct child *c = xcalloc(1, sizeof *c);
			c->run_id = xstrdup(j->run_id);
			c->pid = j->pid;
			c->pidfd = pidfd_open(j->pid, 0);
			if (c->pidfd >= 0)
				fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
			c->next = kids->list;
			kids->list = c;
		}
		j->done = 1;
	}
	pthread_cond_broadcast(&kids->spawned);
}

/*
 * The reaper: sleeps in poll() until a child exits (its pidfd), a child
 * is to be started or the server stops (kids->wake); no interval, except
 * for a child without a pidfd (200 ms).
 */
static void *reaper(void *arg)
{
	struct children *kids = arg;
	struct pollfd *fds = NULL;
	size_t cap = 0;
	while (!atomic_load(&kids->stop)) {
		pthread_mutex_lock(&kids->mu);
		size_t n = 0;
		int timeout = -1;
		for (struct child *c = kids->list; c; c = c->next)
			n++;
		if (n + 1 > cap) {
			cap = n + 8;
			fds = xrealloc(fds, cap * sizeof *fds);
		}
		fds[0] = (struct pollfd){ .fd = kids->wake, .events = POLLIN };
		n = 1;
		for (struct child *c = kids->list; c; c = c->next) {
			if (c->pidfd >= 0)
				fds[n++] = (struct pollfd){ .fd = c->pidfd, .events = POLLIN };
			else
				timeout = 200;
		}
		pthread_mutex_unlock(&kids->mu);
		if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN) {
			uint64_t v;
			ssize_t r = read(kids->wake, &v, sizeof v);
			(void)r;
		}
		int finished = 0;
		pthread_mutex_lock(&kids->mu);
		run_jobs(kids);
		for (struct child **pp = &kids->list; *pp;) {
			struct child *c = *pp;
			int status;
			pid_t r = waitpid(c->pid, &status, WNOHANG);
			if (r == c->pid || (r < 0 && errno == ECHILD)) {
				if (r == c->pid)
					finish(kids, c, status);
				*pp = c->next;
				if (c->pidfd >= 0)
					close(c->pidfd);
				free(c->run_id);
				free(c);
				finished = 1;
				continue;
			}
			pp = &c->next;
		}
		pthread_mutex_unlock(&kids->mu);
		if (finished)
			children_notify(kids);
	}
	free(fds);
	return NULL;
}

/* A server that stopped left the stderr files of its runs: those of runs that are over go. */
static void clean_stale(const struct serve_ctx *sv)
{
	char *dir = path_join(sv->o->sys_dir, "serve");
	DIR *d = opendir(dir);
	free(dir);
	if (!d)
		return;
	char err[SMELT_ERRBUF_SIZE];
	struct store *st = open_store(sv, err, sizeof err);
	struct dirent *e;
	while (st && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".err"))
			continue;
		char *id = xstrndup(e->d_name, n - 4), status[32];
		if (runs_status(st, id, status, sizeof status, NULL, err, sizeof err) != 0 ||
		    (strcmp(status, "running") && strcmp(status, "queued"))) {
			char *rel = xasprintf("serve/%s", e->d_name);
			fs_unlink_under(sv->o->sys_dir, rel);
			free(rel);
		}
		free(id);
	}
	close_store(sv, st);
	closedir(d);
}

struct children *children_new(const struct serve_ctx *sv)
{
	clean_stale(sv);
	struct children *kids = xcalloc(1, sizeof *kids);
	kids->sv = sv;
	kids->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&kids->mu, NULL);
	pthread_cond_init(&kids->spawned, NULL);
	if (kids->wake < 0 || pthread_create(&kids->reaper, NULL, reaper, kids) != 0) {
		if (kids->wake >= 0)
			close(kids->wake);
		pthread_cond_destroy(&kids->spawned);
		pthread_mutex_destroy(&kids->mu);
		free(kids);
		return NULL;
	}
	return kids;
}

void children_free(struct children *kids)
{
	if (!kids)
		return;
	atomic_store(&kids->stop, 1);
	poke(kids->wake);
	pthread_join(kids->reaper, NULL);
	for (struct child *c = kids->list, *next; c; c = next) {
		next = c->next;
		log_info("run %s (pid %ld) goes on without the server; it records its own end", c->run_id, (long)c->pid);
		if (c->pidfd >= 0)
			close(c->pidfd);
		free(c->run_id);
		free(c);
	}
	for (size_t i = 0; i < kids->nsubs; i++)
		close(kids->subs[i]);
	free(kids->subs);
	close(kids->wake);
	pthread_cond_destroy(&kids->spawned);
	pthread_mutex_destroy(&kids->mu);
	free(kids);
}

int children_start(struct children *kids, const char *run_id, const char *job, const char *const *args, size_t nargs,
                   int full_refresh, char *err, size_t errlen)
{
	const struct serve_opts *o = kids->sv->o;
	struct store *st = open_store(kids->sv, err, errlen);
	if (!st)
		return SMELT_ERR;
	/* answerable for the queued run: this server until the child is started, then the child */
	struct proc_owner me;
	int rc = runs_queue(st, run_id, "api", job, args, nargs, proc_owner_self(&me) == 0 ? &me : NULL, err, errlen);
	close_store(kids->sv, st);
	if (rc)
		return rc;
	char *rel = xasprintf("serve/%s.err", run_id);
	int efd = -1;
	if (fs_mkdirs_under(o->sys_dir, "serve", 0700) == 0)
		efd = fs_open_under(o->sys_dir, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	free(rel);
	if (efd < 0) {
		int e = errno;
		rc = fail(err, errlen, SMELT_ERR, "cannot create '%s/serve': %s", o->sys_dir, fs_beneath_strerror(e));
		goto failed;
	}
	const char **argv = xcalloc(nargs + 16, sizeof *argv);
	size_t n = 0;
	argv[n++] = o->exe;
	argv[n++] = "--cwd";
	argv[n++] = o->root;
	if (o->environment) {
		argv[n++] = "--environment";
		argv[n++] = o->environment;
	} else if (o->no_environment) {
		argv[n++] = "--no-environment";
	}
	argv[n++] = "run";
	argv[n++] = "--run-id";
	argv[n++] = run_id;
	if (full_refresh)
		argv[n++] = "--full-refresh";
	for (size_t i = 0; i < nargs; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	size_t ne = 0, k = 0;
	while (environ[ne])
		ne++;
	char **env = xcalloc(ne + 4, sizeof *env);
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], "SMELT_SERVE_TOKEN=", 18) && strncmp(environ[i], "SMELT_RUN_TRIGGER=", 18) &&
		    strncmp(environ[i], "NO_COLOR=", 9))
			env[k++] = environ[i];
	env[k++] = (char *)"SMELT_RUN_TRIGGER=api";
	env[k++] = (char *)"NO_COLOR=1";
	env[k] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	spawn_attr_init(&at, POSIX_SPAWN_SETSID);
	/* started by the reaper's thread: this one may run at the server's lower priority (serve/server.c) */
	struct spawn_job job_ = { .exe = o->exe, .argv = (char *const *)argv, .env = env, .fa = &fa, .at = &at,
		                  .run_id = run_id };
	pthread_mutex_lock(&kids->mu);
	job_.next = kids->jobs;
	kids->jobs = &job_;
	poke(kids->wake);
	while (!job_.done)
		pthread_cond_wait(&kids->spawned, &kids->mu);
	pthread_mutex_unlock(&kids->mu);
	int sp = job_.rc;
	if (sp == 0) {
		struct proc_owner child;
		if (proc_owner_of(job_.pid, &child) == 0 && (st = open_store(kids->sv, err, errlen)) != NULL) {
			char oerr[SMELT_ERRBUF_SIZE];
			runs_queued_owner(st, run_id, &child, oerr, sizeof oerr);
			close_store(kids->sv, st);
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(efd);
	free(env);
	free(argv);
	if (sp != 0) {
		rc = fail(err, errlen, SMELT_ERR, "cannot start '%s': %s", o->exe, strerror(sp));
		goto failed;
	}
	return SMELT_OK;
failed:
	if ((st = open_store(kids->sv, NULL, 0)) != NULL) {
		char derr[SMELT_ERRBUF_SIZE];
		runs_end(st, run_id, "failed", -1, err, derr, sizeof derr);
		close_store(kids->sv, st);
	}
	return rc;
}

int children_cancel(struct children *kids, const char *run_id)
{
	int sent = 0;
	pthread_mutex_lock(&kids->mu);
	for (struct child *c = kids->list; c; c = c->next)
		if (!strcmp(c->run_id, run_id)) {
			c->cancelled = 1;
			sent = kill(-c->pid, SIGTERM) == 0;
			break;
		}
	pthread_mutex_unlock(&kids->mu);
	return sent;
}

int children_running(struct children *kids)
{
	int n = 0;
	pthread_mutex_lock(&kids->mu);
	for (const struct child *c = kids->list; c; c = c->next)
		n++;
	pthread_mutex_unlock(&kids->mu);
	return n;
}

int children_supervised(void *arg, const char *run_id)
{
	struct children *kids = arg;
	if (!kids)
		return 0;
	pthread_mutex_lock(&kids->mu);
	int found = 0;
	for (const struct child *c = kids->list; c && !found; c = c->next)
		found = !strcmp(c->run_id, run_id);
	pthread_mutex_unlock(&kids->mu);
	return found;
}
