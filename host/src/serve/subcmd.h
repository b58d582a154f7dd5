/*
 * subcmd - run one of this smelt's own commands for the server (config,
 * state, job, schedule, adapters), so the API follows exactly the CLI's
 * rules: argv only (no shell), the project's root as --cwd, stdin from
 * a buffer (values never go on a command line), stdout and stderr
 * captured (each capped), a time limit.  The calling request hands the
 * server's turn on (budget_done(), serve/budget.h) before it waits for the
 * child.  Thread-safe.
 */
#ifndef SMELT_SUBCMD_H
#define SMELT_SUBCMD_H

#include <stddef.h>

struct serve_ctx;

struct subcmd_result {
	int exit_code;   /* the command's exit code; -1 when it could not run or was killed */
	char *out;       /* stdout (NUL-terminated; free()) */
	char *errtext;   /* stderr, "smelt: error: " lines' messages only, joined by "; " (free()) */
};

/*
 * Run `smelt [--cwd ROOT] [--environment E] args...` with input on its
 * stdin (NULL: /dev/null).  Returns 0 when it ran (whatever its exit
 * code), a negative status when it could not be started.
 */
int subcmd_run(const struct serve_ctx *sv, const char *const *args, const char *input, size_t inlen,
               struct subcmd_result *res);
void subcmd_result_release(struct subcmd_result *res);

#endif
