/* subcmd: this smelt's own commands run for the server; see subcmd.h. */
#include "serve/subcmd.h"
#include "serve/budget.h"
#include "serve/ctx.h"
#include "serve/spawn.h"
#include "util/clock.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SUBCMD_OUT_CAP (16u << 20)  /* stdout kept */
#define SUBCMD_ERR_CAP (64u << 10)  /* stderr kept */
#define SUBCMD_TIMEOUT_MS 120000    /* adapters check may start tools */

extern char **environ;

/* The server's environment minus its token, plus NO_COLOR; caller frees the array (strings borrowed). */
static char **child_env(const char *const *extra)
{
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	char **env = xcalloc(n + 8, sizeof *env);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SMELT_SERVE_TOKEN=", 18) && strncmp(environ[i], "NO_COLOR=", 9) &&
		    strncmp(environ[i], "SMELT_RUN_TRIGGER=", 18))
			env[k++] = environ[i];
	env[k++] = (char *)"NO_COLOR=1";
	for (size_t i = 0; extra && extra[i]; i++)
		env[k++] = (char *)extra[i];
	env[k] = NULL;
	return env;
}

/* "smelt: error: X" lines of stderr, as "X; Y"; the rest (warnings, hints) dropped. */
static char *error_lines(const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		static const char tag[] = "smelt: error: ";
		if (len > sizeof tag - 1 && !strncmp(l, tag, sizeof tag - 1)) {
			if (sb.len)
				strbuf_addstr(&sb, "; ");
			strbuf_add(&sb, l + sizeof tag - 1, len - (sizeof tag - 1));
		}
		l = nl ? nl + 1 : NULL;
	}
	return strbuf_detach(&sb);
}

int subcmd_run(const struct serve_ctx *sv, const char *const *args, const char *input, size_t inlen,
               struct subcmd_result *res)
{
	const struct serve_opts *o = sv->o;
	memset(res, 0, sizeof *res);
	res->exit_code = -1;
	const char **argv = xcalloc(16 + 64, sizeof *argv);
	size_t n = 0, nargs = 0;
	while (args[nargs])
		nargs++;
	if (nargs > 64) {
		free(argv);
		return SMELT_ERR;
	}
	argv[n++] = o->exe;
	argv[n++] = "--cwd";
	argv[n++] = o->root;
	if (o->environment) {
		argv[n++] = "--environment";
		argv[n++] = o->environment;
	} else if (o->no_environment) {
		argv[n++] = "--no-environment";
	}
	for (size_t i = 0; i < nargs; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	budget_done(sv->budget); /* the child's CPU is not the server's: the next request need not wait for it */

	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(er, O_CLOEXEC)) {
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0) close(in[i]);
			if (out[i] >= 0) close(out[i]);
			if (er[i] >= 0) close(er[i]);
		}
		free(argv);
		return SMELT_ERR;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, er[1], 2);
	spawn_attr_init(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	char **env = child_env(NULL);
	pid_t pid;
	int sp = posix_spawn(&pid, o->exe, &fa, &at, (char *const *)argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(env);
	free(argv);
	close(in[0]);
	close(out[1]);
	close(er[1]);
	if (sp != 0) {
		close(in[1]);
		close(out[0]);
		close(er[0]);
		return SMELT_ERR;
	}
	if (!input || !inlen) {
		close(in[1]);
		in[1] = -1;
	} else {
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	struct strbuf so = STRBUF_INIT, se = STRBUF_INIT;
	size_t written = 0;
	long long deadline = mono_ms() + SUBCMD_TIMEOUT_MS;
	int killed = 0;
	while (out[0] >= 0 || er[0] >= 0) {
		struct pollfd p[3];
		int np = 0, io = -1, ie = -1, ii = -1;
		if (out[0] >= 0) { io = np; p[np++] = (struct pollfd){ .fd = out[0], .events = POLLIN }; }
		if (er[0] >= 0) { ie = np; p[np++] = (struct pollfd){ .fd = er[0], .events = POLLIN }; }
		if (in[1] >= 0) { ii = np; p[np++] = (struct pollfd){ .fd = in[1], .events = POLLOUT }; }
		long long left = deadline - mono_ms();
		if (left <= 0) {
			kill(-pid, SIGKILL);
			killed = 1;
			break;
		}
		int pr = poll(p, (nfds_t)np, (int)(left > 1000 ? 1000 : left));
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;
		if (ii >= 0 && p[ii].revents) {
			ssize_t w = write(in[1], input + written, inlen - written);
			if (w > 0)
				written += (size_t)w;
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				written = inlen;
			if (written >= inlen) {
				close(in[1]);
				in[1] = -1;
			}
		}
		int *fds[2] = { &out[0], &er[0] };
		struct strbuf *bufs[2] = { &so, &se };
		int idx[2] = { io, ie };
		size_t caps[2] = { SUBCMD_OUT_CAP, SUBCMD_ERR_CAP };
		for (int k = 0; k < 2; k++) {
			if (idx[k] < 0 || !p[idx[k]].revents)
				continue;
			char buf[8192];
			ssize_t r = read(*fds[k], buf, sizeof buf);
			if (r > 0 && bufs[k]->len < caps[k])
				strbuf_add(bufs[k], buf, (size_t)r);
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				close(*fds[k]);
				*fds[k] = -1;
			}
		}
	}
	if (in[1] >= 0) close(in[1]);
	if (out[0] >= 0) close(out[0]);
	if (er[0] >= 0) close(er[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	res->exit_code = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	res->out = strbuf_detach(&so);
	res->errtext = error_lines(se.buf);
	if (killed && !*res->errtext) {
		free(res->errtext);
		res->errtext = xstrdup("the command took too long and was stopped");
	}
	strbuf_release(&se);
	return SMELT_OK;
}

void subcmd_result_release(struct subcmd_result *res)
{
	free(res->out);
	free(res->errtext);
	res->out = res->errtext = NULL;
}
