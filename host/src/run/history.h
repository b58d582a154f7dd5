/*
 * history - records a `smelt run` in the run history (store/runs.h) as it
 * goes: the run and its blocks at the start, each block's status,
 * duration, rows per stream and results (from the adapters' events, by
 * kind only: the host names no tool) at its end, the run's status, exit
 * code and error at the end.  A failure to record is a warning: it never
 * fails the run.  The trigger is $SMELT_RUN_TRIGGER ("api" for runs the
 * server starts, "schedule", ...), "cli" when unset.
 */
#ifndef SMELT_HISTORY_H
#define SMELT_HISTORY_H

#include <stddef.h>

struct runtime;
struct block_list;

/*
 * The run rt->run_id starts: args as given to smelt run, options included
 * (its record's "args"), words its blocks or job (the job when the only
 * word names one), blocks parsed.
 */
void history_run_begin(struct runtime *rt, char *const *args, size_t nargs, char *const *words, size_t nwords,
                       const struct block_list *bl);
/* Block index (0-based) starts. */
void history_block_begin(struct runtime *rt, size_t index);
/* Block index ended with rc (0: success) after secs; its events (rt->events of block index + 1) are kept. */
void history_block_end(struct runtime *rt, size_t index, int rc, double secs);
/* The run ended: rc of the failing block (0: success), the exit code, the error (NULL when none). */
void history_run_end(struct runtime *rt, int rc, int exit_code, const char *error);

#endif
