/* install: virtualenvs, pip/uv, fingerprints, parallel installs; see install.h. */
#include "install/install.h"
#include "install/pins.h"
#include "util/argv.h"
#include "util/sha256.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TAIL_LINES 20
#define FINGERPRINT_FILE ".smelt_plugin_fingerprint"
#define LOG_FILE "install.log"

/* ---- words, fingerprints ---- */

static void free_words(char **w)
{
	for (size_t i = 0; w && w[i]; i++)
		free(w[i]);
	free(w);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *install_fingerprint(const char *pip_url, const char *python)
{
	size_t n = 0;
	char **w = NULL;
	if (argv_split(pip_url ? pip_url : "", &w, &n) != 0) {
		argv_free(w);
		w = NULL;
	}
	struct strbuf text = STRBUF_INIT;
	char hex[65];
	if (!w) /* unterminated quote: fingerprint the raw text, the install fails anyway */
		strbuf_addstr(&text, pip_url ? pip_url : "");
	else {
		qsort(w, n, sizeof *w, cmpstr);
		for (size_t i = 0; i < n; i++) {
			if (i && !strcmp(w[i], w[i - 1]))
				continue;
			strbuf_addf(&text, "%s%s", text.len ? " " : "", w[i]);
		}
	}
	/* Meltano hashes only the arguments; a non-default interpreter is part of the key too. */
	if (python && *python)
		strbuf_addf(&text, " python:%s", python);
	sha256_hex(text.buf, text.len, hex);
	strbuf_release(&text);
	free_words(w);
	return xstrdup(hex);
}

const char *install_python(const struct install_item *item)
{
	const char *v;
	if (item->python && *item->python)
		return item->python;
	if ((v = getenv("SMELT_PYTHON")) && *v)
		return v;
	return "python3";
}

/* The interpreter that goes into the fingerprint: NULL for the default. */
static const char *fingerprint_python(const struct install_item *item)
{
	const char *py = install_python(item);
	return strcmp(py, "python3") ? py : NULL;
}

static int blank(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/*
 * File operations on an item's folders: beneath its base_dir when it has
 * one (no '..', no symbolic link followed; install.h), else by plain path.
 */
static int item_remove_tree(const struct install_item *it, const char *path)
{
	return it->base_dir ? fs_remove_tree_under(it->base_dir, path) : remove_tree(path);
}

static int item_mkdirs(const struct install_item *it, const char *path)
{
	if (!it->base_dir)
		return mkdir_p(path, 0755);
	return mkdir_p(it->base_dir, 0755) == 0 ? fs_mkdirs_under(it->base_dir, path, 0755) : -1;
}

static int item_unlink(const struct install_item *it, const char *path)
{
	return it->base_dir ? fs_unlink_under(it->base_dir, path) : unlink(path);
}

static int item_open_log(const struct install_item *it, const char *path)
{
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	return it->base_dir ? fs_open_under(it->base_dir, path, flags, 0644) : open(path, flags, 0644);
}

static int item_write(const struct install_item *it, const char *path, const char *text)
{
	return it->base_dir ? fs_write_under(it->base_dir, path, text, strlen(text), 0644, 0755)
	                    : write_file_atomic(path, text, strlen(text), 0644);
}

static char *plugin_dir(const struct install_item *item)
{
	return path_dirname(item->venv_dir);
}

int install_needed(const struct install_item *item)
{
	if (blank(item->pip_url))
		return 0;
	char *dir = plugin_dir(item);
	char *fp_path = path_join(dir, FINGERPRINT_FILE);
	char *py = path_join(item->venv_dir, "bin/python");
	struct strbuf have = STRBUF_INIT;
	int needed = 1;
	if (read_file(fp_path, &have) == 0 && access(py, X_OK) == 0) {
		char *want = install_fingerprint(item->pip_url, fingerprint_python(item));
		strbuf_trim(&have);
		needed = strcmp(have.buf, want) != 0;
		free(want);
	}
	strbuf_release(&have);
	free(py);
	free(fp_path);
	free(dir);
	return needed;
}

void install_item_release(struct install_item *item)
{
	free(item->error);
	item->error = NULL;
}

/* ---- running the tools ---- */

struct job {
	struct install_item *item;
	char status[160];       /* what the display shows (under lock) */
	char *tail[TAIL_LINES]; /* ring of the last output lines */
	size_t ntail;           /* lines seen in all */
	int done;
};

struct pool {
	struct job *jobs;
	size_t n, next;
	unsigned flags;
	char *uv;               /* path of uv, NULL: pip */
	char **env;             /* environment for the tools */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int running;
	char *outer_pip_python; /* the interpreter base_pip_installs_elsewhere() last asked (under lock) */
	int outer_pip;          /* and its answer */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_status(struct pool *pool, struct job *job, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_status(struct pool *pool, struct job *job, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&pool->lock);
	va_start(ap, fmt);
	vsnprintf(job->status, sizeof job->status, fmt, ap);
	va_end(ap);
	pthread_cond_broadcast(&pool->changed);
	pthread_mutex_unlock(&pool->lock);
}

static void tail_add(struct pool *pool, struct job *job, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (!len)
		return;
	pthread_mutex_lock(&pool->lock);
	size_t at = job->ntail % TAIL_LINES;
	free(job->tail[at]);
	job->tail[at] = xstrndup(line, len);
	job->ntail++;
	pthread_mutex_unlock(&pool->lock);
}

/*
 * Run argv (no shell), its stdout and stderr to the log file and the
 * tail ring.  Returns the exit status (128 + signal when killed), or -1
 * when it could not start (err filled).
 */
static int run_tool(struct pool *pool, struct job *job, char *const argv[], int logfd, char *err,
                    size_t errlen)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return fail(err, errlen, -1, "cannot create a pipe: %s", strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, pool->env);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return fail(err, errlen, -1, "cannot run '%s': %s", argv[0], strerror(rc));
	}
	if (logfd >= 0) {
		struct strbuf cmd = STRBUF_INIT;
		strbuf_addstr(&cmd, "$");
		for (size_t i = 0; argv[i]; i++)
			strbuf_addf(&cmd, " %s", argv[i]);
		strbuf_addch(&cmd, '\n');
		if (write(logfd, cmd.buf, cmd.len) < 0) {
			/* the log is a convenience: go on without it */
		}
		strbuf_release(&cmd);
	}
	struct strbuf line = STRBUF_INIT;
	char buf[8192];
	ssize_t got;
	while ((got = read(fds[0], buf, sizeof buf)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (logfd >= 0 && write(logfd, buf, (size_t)got) < 0) {
			/* as above */
		}
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] == '\n' || buf[i] == '\r') {
				tail_add(pool, job, line.buf, line.len);
				strbuf_reset(&line);
			} else if (line.len < 4096) {
				strbuf_addch(&line, buf[i]);
			}
		}
	}
	tail_add(pool, job, line.buf, line.len);
	strbuf_release(&line);
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return fail(err, errlen, -1, "cannot wait for '%s': %s", argv[0], strerror(errno));
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/*
 * 1 when python's own pip can install into another interpreter's venv
 * (`pip --python`, pip >= 22.3), so that a venv need not get a pip of its
 * own (ensurepip: about 4 s per venv); 0 otherwise.  Output discarded.
 * Asked once per interpreter of a pool (plugins mostly share one).
 */
static int ask_base_pip(struct pool *pool, const char *python);

static int base_pip_installs_elsewhere(struct pool *pool, const char *python)
{
	pthread_mutex_lock(&pool->lock);
	int known = pool->outer_pip_python && !strcmp(pool->outer_pip_python, python), yes = pool->outer_pip;
	pthread_mutex_unlock(&pool->lock);
	if (known)
		return yes;
	yes = ask_base_pip(pool, python);
	pthread_mutex_lock(&pool->lock);
	free(pool->outer_pip_python);
	pool->outer_pip_python = xstrdup(python);
	pool->outer_pip = yes;
	pthread_mutex_unlock(&pool->lock);
	return yes;
}

static int ask_base_pip(struct pool *pool, const char *python)
{
	char *const argv[] = { (char *)python, "-c",
		               "import sys, pip\n"
		               "v = tuple(int(x) for x in pip.__version__.split('.')[:2] if x.isdigit())\n"
		               "sys.exit(0 if v >= (22, 3) else 1)\n",
		               NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, python, &fa, NULL, argv, pool->env);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return 0;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/*
 * The start of a pip command (verb: install, check) into the venv whose
 * interpreter is venv_py: uv's pip, python's own pip pointed at the venv
 * (outer_pip), or the venv's pip.  Returns the count of words put in argv.
 */
static size_t pip_argv(const struct pool *pool, int outer_pip, const char *python, char *venv_py, char *verb,
                       char **argv)
{
	size_t a = 0;
	if (pool->uv) {
		argv[a++] = pool->uv, argv[a++] = "pip", argv[a++] = verb, argv[a++] = "--python", argv[a++] = venv_py;
	} else if (outer_pip) {
		argv[a++] = (char *)python, argv[a++] = "-m", argv[a++] = "pip", argv[a++] = "--python";
		argv[a++] = venv_py, argv[a++] = verb;
	} else {
		argv[a++] = venv_py, argv[a++] = "-m", argv[a++] = "pip", argv[a++] = verb;
	}
	return a;
}

static void failed(struct pool *pool, struct job *job, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void failed(struct pool *pool, struct job *job, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&pool->lock);
	size_t n = job->ntail < TAIL_LINES ? job->ntail : TAIL_LINES;
	if (n)
		strbuf_addf(&sb, "\n%s: last %zu lines of output:", job->item->name, n);
	for (size_t i = job->ntail - n; i < job->ntail; i++)
		strbuf_addf(&sb, "\n    %s", job->tail[i % TAIL_LINES]);
	job->item->result = INSTALL_FAILED;
	job->item->error = strbuf_detach(&sb);
	pthread_mutex_unlock(&pool->lock);
}

static void install_one(struct pool *pool, struct job *job)
{
	struct install_item *it = job->item;
	char err[512];
	double t0 = now();
	char *dir = plugin_dir(it);
	char *fp_path = path_join(dir, FINGERPRINT_FILE);
	char *log_path = path_join(dir, LOG_FILE);
	char *venv_py = path_join(it->venv_dir, "bin/python");
	const char *python = install_python(it);
	size_t nargs = 0;
	char **args = NULL;
	int logfd = -1;

	if (blank(it->pip_url)) {
		it->result = INSTALL_NOTHING;
		set_status(pool, job, "nothing to install");
		goto out;
	}
	if (!(pool->flags & INSTALL_CLEAN) && !install_needed(it)) {
		it->result = INSTALL_UP_TO_DATE;
		set_status(pool, job, "already installed");
		goto out;
	}
	int split = argv_split(it->pip_url, &args, &nargs);
	if (split != 0 || !nargs) {
		failed(pool, job, "%s: cannot install: pip_url '%s' %s", it->name, it->pip_url,
		       split ? "has an unterminated quote" : "has no package");
		goto out;
	}
	/* Whatever happens next, the old fingerprint no longer describes the venv. */
	item_unlink(it, fp_path);
	if (item_remove_tree(it, it->venv_dir) != 0 || item_mkdirs(it, dir) != 0) {
		failed(pool, job, "%s: cannot prepare '%s': %s", it->name, it->venv_dir, fs_beneath_strerror(errno));
		goto out;
	}
	logfd = item_open_log(it, log_path);

	set_status(pool, job, "creating virtualenv");
	char **argv = xcalloc(nargs + 12, sizeof *argv);
	size_t a = 0;
	/* without uv: the interpreter's own pip installs into a venv that has none (as uv's venvs) */
	int outer_pip = !pool->uv && base_pip_installs_elsewhere(pool, python);
	if (pool->uv) {
		argv[a++] = pool->uv, argv[a++] = "venv", argv[a++] = "--quiet", argv[a++] = "--python";
		argv[a++] = (char *)python, argv[a++] = (char *)it->venv_dir;
	} else {
		argv[a++] = (char *)python, argv[a++] = "-m", argv[a++] = "venv";
		if (outer_pip)
			argv[a++] = "--without-pip";
		argv[a++] = (char *)it->venv_dir;
	}
	argv[a] = NULL;
	int rc = run_tool(pool, job, argv, logfd, err, sizeof err);
	if (rc != 0) {
		free(argv);
		if (rc < 0)
			failed(pool, job, "%s: cannot create virtualenv '%s': %s", it->name, it->venv_dir, err);
		else
			failed(pool, job, "%s: cannot create virtualenv '%s': '%s' exited with %d", it->name,
			       it->venv_dir, pool->uv ? "uv venv" : "python -m venv", rc);
		goto cleanup;
	}
	/* every requirement pinned exactly: install them as they are, without resolving (pins.h) */
	int pinned = install_pins_exact(args, nargs);
	set_status(pool, job, "installing %s%s", it->pip_url, pinned ? " (pinned)" : "");
	for (int attempt = 0;; attempt++) {
		int no_deps = pinned && attempt == 0;
		a = pip_argv(pool, outer_pip, python, venv_py, "install", argv);
		if (pool->uv && it->compile_bytecode)
			argv[a++] = "--compile-bytecode";
		else if (!pool->uv && !it->compile_bytecode) /* pip compiles unless told not to */
			argv[a++] = "--no-compile";
		if (no_deps)
			argv[a++] = "--no-deps";
		for (size_t i = 0; i < nargs; i++)
			argv[a++] = args[i];
		argv[a] = NULL;
		rc = run_tool(pool, job, argv, logfd, err, sizeof err);
		if (rc != 0 || !no_deps)
			break;
		/* the pins are a lock only when complete: check that every dependency is there */
		a = pip_argv(pool, outer_pip, python, venv_py, "check", argv);
		argv[a] = NULL;
		if (run_tool(pool, job, argv, logfd, err, sizeof err) == 0)
			break;
		log_debug("%s: the pins of its pip_url miss dependencies: resolving them", it->name);
		set_status(pool, job, "installing %s (resolving)", it->pip_url);
	}
	free(argv);
	if (rc != 0) {
		if (rc < 0)
			failed(pool, job, "%s: cannot install '%s': %s", it->name, it->pip_url, err);
		else
			failed(pool, job, "%s: cannot install '%s': '%s' exited with %d", it->name, it->pip_url,
			       pool->uv ? "uv pip install" : "pip install", rc);
		goto cleanup;
	}
	char *fp = install_fingerprint(it->pip_url, fingerprint_python(it));
	if (item_write(it, fp_path, fp) != 0) {
		failed(pool, job, "%s: cannot write '%s': %s", it->name, fp_path, fs_beneath_strerror(errno));
		free(fp);
		goto cleanup;
	}
	free(fp);
	it->result = INSTALL_DONE;
	set_status(pool, job, "installed");
	goto out;
cleanup:
	/* A failed install leaves nothing that looks installed. */
	item_remove_tree(it, it->venv_dir);
	item_unlink(it, fp_path);
out:
	if (logfd >= 0)
		close(logfd);
	it->seconds = now() - t0;
	free_words(args);
	free(venv_py);
	free(log_path);
	free(fp_path);
	free(dir);
}

static void report(const struct install_item *it, unsigned flags)
{
	switch (it->result) {
	case INSTALL_DONE:
		log_info("%s: installed (%.1fs)", it->name, it->seconds);
		break;
	case INSTALL_UP_TO_DATE:
		if (!(flags & INSTALL_QUIET))
			log_info("%s: already installed", it->name);
		break;
	case INSTALL_NOTHING:
		if (!(flags & INSTALL_QUIET))
			log_info("%s: nothing to install", it->name);
		break;
	case INSTALL_FAILED:
		log_error("%s", it->error ? it->error : "installation failed");
		break;
	default:
		break;
	}
}

static void *worker(void *arg)
{
	struct pool *pool = arg;
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		if (pool->next >= pool->n) {
			pool->running--;
			pthread_cond_broadcast(&pool->changed);
			pthread_mutex_unlock(&pool->lock);
			return NULL;
		}
		struct job *job = &pool->jobs[pool->next++];
		snprintf(job->status, sizeof job->status, "starting");
		pthread_mutex_unlock(&pool->lock);
		if (!(pool->flags & INSTALL_PROGRESS) && !blank(job->item->pip_url) &&
		    ((pool->flags & INSTALL_CLEAN) || install_needed(job->item)))
			log_info("%s: installing %s", job->item->name, job->item->pip_url);
		install_one(pool, job);
		pthread_mutex_lock(&pool->lock);
		job->done = 1;
		pthread_cond_broadcast(&pool->changed);
		pthread_mutex_unlock(&pool->lock);
		if (!(pool->flags & INSTALL_PROGRESS))
			report(job->item, pool->flags);
	}
}

/* Redraw one line per plugin (called with the lock held). */
static void draw(struct pool *pool, int first, double t0)
{
	static const char spin[] = "|/-\\";
	struct strbuf sb = STRBUF_INIT;
	if (!first)
		strbuf_addf(&sb, "\033[%zuA", pool->n);
	size_t width = 0;
	for (size_t i = 0; i < pool->n; i++)
		if (strlen(pool->jobs[i].item->name) > width)
			width = strlen(pool->jobs[i].item->name);
	int tick = (int)((now() - t0) * 8);
	for (size_t i = 0; i < pool->n; i++) {
		struct job *j = &pool->jobs[i];
		const char *mark = j->done ? (j->item->result == INSTALL_FAILED ? "x" : "+")
		                   : j->status[0] ? (char[]){ spin[tick % 4], 0 } : ".";
		const char *status = j->done && j->item->result == INSTALL_FAILED ? "failed"
		                     : j->status[0] ? j->status : "waiting";
		char line[256];
		snprintf(line, sizeof line, "%s %-*s  %s", mark, (int)width, j->item->name, status);
		if (j->done && j->item->result == INSTALL_DONE)
			snprintf(line + strlen(line), sizeof line - strlen(line), " (%.1fs)", j->item->seconds);
		line[78] = '\0';
		strbuf_addf(&sb, "\r\033[2K%s\n", line);
	}
	fputs(sb.buf, stderr);
	fflush(stderr);
	strbuf_release(&sb);
}

static char **tool_env(void)
{
	static const char *const drop[] = { "VIRTUAL_ENV=", "PYTHONPATH=", "PYTHONHOME=", "PIP_REQUIRE_VIRTUALENV=",
		                            NULL };
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **env = xcalloc(n + 4, sizeof *env);
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		int skip = 0;
		for (const char *const *d = drop; *d; d++)
			if (!strncmp(*e, *d, strlen(*d)))
				skip = 1;
		if (!skip)
			env[k++] = xstrdup(*e);
	}
	env[k++] = xstrdup("PIP_DISABLE_PIP_VERSION_CHECK=1");
	env[k++] = xstrdup("PIP_NO_INPUT=1");
	env[k] = NULL;
	return env;
}

int install_plugins(struct install_item *items, size_t n, int parallelism, unsigned flags)
{
	struct pool pool = { 0 };
	const char *v;
	if (n == 0)
		return 0;
	if (parallelism <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		parallelism = cpus > 0 ? (int)cpus : 1;
	}
	if ((size_t)parallelism > n)
		parallelism = (int)n;
	pool.jobs = xcalloc(n, sizeof *pool.jobs);
	pool.n = n;
	pool.flags = flags;
	pool.env = tool_env();
	if (!((v = getenv("SMELT_NO_UV")) && *v && strcmp(v, "0")))
		pool.uv = which("uv", NULL);
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.changed, NULL);
	for (size_t i = 0; i < n; i++) {
		items[i].result = INSTALL_PENDING;
		items[i].error = NULL;
		pool.jobs[i].item = &items[i];
	}
	log_debug("installing %zu plugin(s), %d at a time, with %s", n, parallelism, pool.uv ? pool.uv : "pip");

	pthread_t *threads = xcalloc((size_t)parallelism, sizeof *threads);
	int started = 0;
	pool.running = parallelism;
	for (int i = 0; i < parallelism; i++) {
		if (pthread_create(&threads[i], NULL, worker, &pool) != 0)
			break;
		started++;
	}
	pthread_mutex_lock(&pool.lock);
	pool.running -= parallelism - started;
	if (started == 0) {
		/* no thread: do the work here */
		pool.running = 1;
		pthread_mutex_unlock(&pool.lock);
		worker(&pool);
		pthread_mutex_lock(&pool.lock);
	}
	double t0 = now();
	int first = 1;
	while (pool.running > 0) {
		if (flags & INSTALL_PROGRESS) {
			draw(&pool, first, t0);
			first = 0;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 125000000;
			if (ts.tv_nsec >= 1000000000)
				ts.tv_sec++, ts.tv_nsec -= 1000000000;
			pthread_cond_timedwait(&pool.changed, &pool.lock, &ts);
		} else {
			pthread_cond_wait(&pool.changed, &pool.lock);
		}
	}
	if (flags & INSTALL_PROGRESS)
		draw(&pool, first, t0);
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);

	int nfailed = 0;
	for (size_t i = 0; i < n; i++) {
		if (flags & INSTALL_PROGRESS && items[i].result == INSTALL_FAILED)
			report(&items[i], flags);
		nfailed += items[i].result == INSTALL_FAILED;
		for (size_t t = 0; t < TAIL_LINES; t++)
			free(pool.jobs[i].tail[t]);
	}
	pthread_mutex_destroy(&pool.lock);
	pthread_cond_destroy(&pool.changed);
	free_words(pool.env);
	free(pool.uv);
	free(pool.outer_pip_python);
	free(pool.jobs);
	return nfailed ? -1 : 0;
}

char *install_python_version(const char *python)
{
	int fds[2];
	char *const argv[] = { (char *)python, "-c",
		               "import sys; print('%d.%d' % sys.version_info[:2])", NULL };
	if (pipe2(fds, O_CLOEXEC) != 0)
		return NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	pid_t pid;
	int rc = posix_spawnp(&pid, python, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	char buf[64];
	ssize_t n = 0, got;
	while (rc == 0 && n < (ssize_t)sizeof buf - 1 &&
	       (got = read(fds[0], buf + n, sizeof buf - 1 - (size_t)n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		n += got;
	}
	close(fds[0]);
	int st = 0;
	if (rc == 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	if (rc != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}
