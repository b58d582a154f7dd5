/*
 * execute - smelt run's blocks, executed: the run id and its log folder,
 * the plugins prepared (locked, installed, required settings checked),
 * then each block dispatched to its adapter (adapters/dispatch.h) in
 * order, an EL block holding the lock of its state id in the system
 * database with a run record and a heartbeat, until the first failure.
 * What the blocks did is in the runtime's events (runtime_block_result());
 * printing it is the command line's business (cli/run.c).
 *
 *	struct run_opts o = { .strategy = "auto" };
 *	runtime_init(&rt, paths, p);
 *	if (execute_begin(&rt, &bl, &o, err, sizeof err) == 0) {
 *		rc = execute_blocks(&rt, &bl, &o, secs, &done, &total_s, err, sizeof err);
 *		... print ...
 *		execute_end(&rt);
 *	}
 *	runtime_release(&rt);
 *
 * Not thread-safe (like the runtime).
 */
#ifndef SMELT_RUN_EXECUTE_H
#define SMELT_RUN_EXECUTE_H

#include <stddef.h>

struct block_list;
struct runtime;

/* What `smelt run` was asked (its options, cli/run.c). */
struct run_opts {
	unsigned flags;           /* enum smelt_request_flags */
	const char *suffix;       /* --state-id-suffix */
	const char *state_id;     /* --state-id: the one EL block's state id as given (NULL: <env>:<tap>-to-<target>) */
	const char *strategy;     /* auto, merge, overwrite */
	int force;
	int timeout_s;
	const char *run_id;
	char *const *words;       /* the run's words as typed (blocks or a job), for its record and lineage job */
	size_t nwords;
	char *const *args;        /* everything after `run` as typed, options too (the record's args); NULL: words */
	size_t nargs;
};

/*
 * Start the run in rt: rt->run_id = o->run_id or a new UUID, the run's
 * deadline (o->timeout_s), and, unless o is a dry run,
 * <sys_dir>/logs/<run_id>/run.log opened as the run log (a reused run id
 * is refused: SMELT_ERR_CONFIG; so is o->state_id with more than one
 * extract/load block) and every plugin of bl prepared
 * (runtime_prepare(): lock, install unless SMELT_RQ_NO_INSTALL, required
 * settings).  0, or a negative status with err set (the run log is closed
 * again when preparing fails).
 */
int execute_begin(struct runtime *rt, const struct block_list *bl, const struct run_opts *o, char *err, size_t errlen);

/*
 * Run the blocks of bl in order until one fails: secs[i] (bl->n of them,
 * the caller's) gets each block's duration, *done the number that
 * succeeded, *total_s the time of them all.  0, or the failing block's
 * status with err = its message (SMELT_ERR_UNSUPPORTED when its adapter
 * lacks run_block, SMELT_ERR_INTERRUPTED after a signal).  A dry run only
 * logs what each block would run.
 */
int execute_blocks(struct runtime *rt, const struct block_list *bl, const struct run_opts *o, double *secs,
                   size_t *done, double *total_s, char *err, size_t errlen);

/*
 * The exit code of smelt run for rc (the failing block's status, 0 when
 * every block succeeded): 0, 1, 2 for an operation no adapter has, or
 * 128 + the signal that stopped the run (130 for Ctrl-C).
 */
int execute_exit_code(int rc);
/* 1 when rc is a run stopped by SIGTERM, SIGINT or SIGHUP (recorded and shown as cancelled, not failed). */
int execute_cancelled(int rc);

/* Record the run's end in the run history (not for --dry-run): rc, the exit code, err when rc != 0. */
void execute_record_end(struct runtime *rt, const struct run_opts *o, int rc, int exit_code, const char *err);

/* End the run started by execute_begin(): the run log is closed. */
void execute_end(struct runtime *rt);

struct plugin;

/*
 * smelt invoke of a plugin no adapter claims (a utility on PATH, ...): its
 * executable, or its command's executable and args (the definition's
 * `commands:`) when command is not NULL, then args[0..nargs), run with the
 * plugin's environment in the project root, stdio inherited.  0 with
 * *code = the tool's exit code (128 + the signal that ended it), or a
 * negative status with err set (no such command, an unterminated quote,
 * the spawn failed).
 */
int execute_direct(struct runtime *rt, struct plugin *pl, const char *command, char *const *args, size_t nargs,
                   int *code, char *err, size_t errlen);

#endif
