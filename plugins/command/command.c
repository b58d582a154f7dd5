/*
 * The command adapter: plugins that are nothing but an executable and the
 * `commands:` of their definition (utilities such as sqlfluff, a project's
 * own scripts), run as Meltano runs them.  It claims the utility plugin type
 * as a whole; an adapter that claims a utility's namespace (gx, soda,
 * superset) is more specific and wins.
 *
 *   smelt run PLUGIN:CMD   the command's executable (the plugin's unless the
 *                          command names its own) with its args ($VAR
 *                          expanded by the host), the plugin's environment,
 *                          output logged under the plugin's name; a non-zero
 *                          exit fails the block with Meltano's message
 *                          "`PLUGIN CMD` failed with exit code: N".
 *   smelt test PLUGIN[:T]  the plugin's commands whose name starts with
 *                          "test" (or T only), each with the terminal's
 *                          stdio, a result event per test; any failure
 *                          fails the request.  The host prints Meltano's
 *                          separator lines and report.
 *   smelt invoke PLUGIN[:CMD] ARGS...  the executable (or the command), stdio
 *                          inherited; the tool's exit code is smelt's.
 *
 * It keeps no state beyond the host table; every operation is one or more
 * host->run() calls.
 */
#include "kit.h"

#include <smelt/sdk.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command_adapter {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;
};

static const char *attr(struct command_adapter *c, const struct smelt_plugin *p, const char *key)
{
	const char *v = c->host->plugin_attr(c->hctx, p, key);
	return v ? v : "";
}

/* 1 when command is one of p's command names (the host's "commands" attribute: one per line). */
static int has_command(struct command_adapter *c, const struct smelt_plugin *p, const char *command)
{
	size_t n = strlen(command);
	for (const char *at = attr(c, p, "commands"); *at;) {
		size_t len = strcspn(at, "\n");
		if (len == n && !strncmp(at, command, n))
			return 1;
		at += len + (at[len] == '\n');
	}
	return 0;
}

/*
 * argv of plugin p's command (NULL: the plugin's executable alone) followed
 * by extra[0..nextra): *argv and *words are malloc'ed (free both).  0, or a
 * status with err set (no such command, an unterminated quote).
 */
static int command_argv(struct command_adapter *c, const struct smelt_plugin *p, const char *command,
                        const char *const *extra, size_t nextra, const char ***argv, char **words, char *err,
                        size_t errlen)
{
	const char *exe = c->host->plugin_path(c->hctx, p, SMELT_PPATH_EXECUTABLE);
	const char *args = "", *cmd_exe = NULL;
	*argv = NULL;
	*words = NULL;
	if (command && !(args = c->host->plugin_command(c->hctx, p, command, &cmd_exe)))
		return has_command(c, p, command)
		               ? kit_fail(err, errlen, SMELT_ERR_CONFIG, "command '%s' of '%s' cannot be run (see above)",
		                          command, attr(c, p, "name"))
		               : kit_fail(err, errlen, SMELT_ERR_NOTFOUND,
		                          "plugin '%s' has no command '%s' (see 'smelt invoke --list-commands %s')",
		                          attr(c, p, "name"), command, attr(c, p, "name"));
	size_t max = strlen(args) / 2 + 2;
	*argv = calloc(max + nextra + 2, sizeof **argv);
	*words = malloc(strlen(args) + 1);
	if (!*argv || !*words)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	size_t k = 0;
	(*argv)[k++] = cmd_exe ? cmd_exe : exe ? exe : attr(c, p, "executable");
	if (kit_split_args(args, *words, *argv, &k, max + 1) != 0)
		return kit_fail(err, errlen, SMELT_ERR_CONFIG, "command '%s' of '%s' has an unterminated quote", command,
		                attr(c, p, "name"));
	for (size_t i = 0; i < nextra; i++)
		(*argv)[k++] = extra[i];
	(*argv)[k] = NULL;
	return SMELT_OK;
}

/* Run one command of p (NULL: the executable) with flags; *code its exit code (128 + signal). */
static int run_command(struct command_adapter *c, const struct smelt_plugin *p, const char *command,
                       const char *const *extra, size_t nextra, unsigned flags, int *code, char *err, size_t errlen)
{
	const char **argv;
	char *words;
	*code = 0;
	int rc = command_argv(c, p, command, extra, nextra, &argv, &words, err, errlen);
	if (rc == SMELT_OK) {
		struct smelt_env *env = c->host->env_new(c->hctx, p);
		struct smelt_spawn spec = { .struct_size = sizeof spec, .label = attr(c, p, "name"), .argv = argv,
			                    .env = env, .flags = flags };
		struct smelt_exit ex = { .struct_size = sizeof ex };
		rc = env ? c->host->run(c->hctx, &spec, &ex, err, errlen)
		         : kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		c->host->env_free(env);
		if (rc == SMELT_OK)
			*code = ex.signaled ? 128 + ex.term_signal : ex.exit_code;
	}
	free(argv);
	free(words);
	return rc;
}

static int command_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct command_adapter *c = state;
	if (req->kind == SMELT_REQ_DUMP)
		return kit_fail(err, errlen, SMELT_ERR_UNSUPPORTED, "'%s' has nothing to dump ('%s')",
		                attr(c, req->plugins[0], "name"), req->dump ? req->dump : "");
	return run_command(c, req->plugins[0], req->command, req->args, req->nargs, SMELT_SPAWN_INHERIT_STDIO, exit_code,
	                   err, errlen);
}

static int command_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct command_adapter *c = state;
	const struct smelt_plugin *p = req->plugins[0];
	const char *name = attr(c, p, "name");
	if (req->kind != SMELT_REQ_COMMAND)
		return kit_fail(err, errlen, SMELT_ERR_CONFIG, "'%s' cannot be an extract/load block", name);
	/* as Meltano's `run`: a bare plugin name runs its executable without arguments */
	int code = 0;
	int rc = run_command(c, p, req->command, req->args, req->nargs, SMELT_SPAWN_STDIN_NULL | SMELT_SPAWN_STDOUT_LOG,
	                     &code, err, errlen);
	if (rc == SMELT_OK && code != 0)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "`%s%s%s` failed with exit code: %d", name,
		              req->command ? " " : "", req->command ? req->command : "", code);
	return rc;
}

/* The plugin's command names (the host's "commands" attribute: one per line), in order; *n of them.  Caller frees. */
static char **command_names(struct command_adapter *c, const struct smelt_plugin *p, size_t *n, char **buf)
{
	*n = 0;
	*buf = strdup(attr(c, p, "commands"));
	char **names = *buf ? calloc(strlen(*buf) / 2 + 2, sizeof *names) : NULL;
	if (!names)
		return NULL;
	char *save = NULL;
	for (char *w = strtok_r(*buf, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
		names[(*n)++] = w;
	return names;
}

struct test_result {
	const char *name;
	int code;
};

static int command_test(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct command_adapter *c = state;
	const struct smelt_plugin *p = req->plugins[0];
	const char *name = attr(c, p, "name");
	size_t n = 0;
	char *buf = NULL;
	char **names = command_names(c, p, &n, &buf);
	struct test_result *res = names ? calloc(n + 1, sizeof *res) : NULL;
	if (!res) {
		free(names);
		free(buf);
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	/* As `meltano test`: the commands named test*, or the one named (whatever its name).  The host
	 * (`smelt test`) prints Meltano's separator lines and one report for every plugin tested. */
	size_t nres = 0;
	if (req->command)
		res[nres++].name = req->command;
	for (size_t i = 0; !req->command && i < n; i++)
		if (!strncmp(names[i], "test", 4))
			res[nres++].name = names[i];
	int rc = SMELT_OK, failed = 0;
	for (size_t i = 0; rc == SMELT_OK && i < nres; i++) {
		char label[512];
		snprintf(label, sizeof label, "%s:%s", name, res[i].name);
		rc = run_command(c, p, res[i].name, NULL, 0, SMELT_SPAWN_INHERIT_STDIO, &res[i].code, err, errlen);
		if (rc == SMELT_OK) {
			struct smelt_event ev = { .struct_size = sizeof ev, .kind = SMELT_EV_RESULT, .item = label,
				                  .status = res[i].code ? "fail" : "pass", .count = -1, .seconds = -1 };
			c->host->event(c->hctx, &ev);
			failed += res[i].code != 0;
		}
	}
	fflush(stdout);
	if (rc == SMELT_OK && failed)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "%d test(s) failed", failed);
	free(res);
	free(names);
	free(buf);
	return rc;
}

static int command_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct command_adapter *c = calloc(1, sizeof *c);
	if (!c)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	c->host = host;
	c->hctx = hctx;
	*state = c;
	return SMELT_OK;
}

static void command_destroy(void *state)
{
	free(state);
}

static const struct smelt_adapter command_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.command_size = sizeof(struct smelt_command),
	.name = "command",
	.version = "0.1.0",
	.description = "Utilities: a plugin's commands as run blocks, tests and invocations",
	.category = SMELT_CAT_OTHER,
	.plugin_types = SMELT_PT_UTILITY,
	.init = command_init,
	.destroy = command_destroy,
	.invoke = command_invoke,
	.run_block = command_run_block,
	.test = command_test,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &command_adapter;
}
