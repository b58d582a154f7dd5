/*
 * children - the runs `smelt serve` starts: `smelt run --run-id ID ...`
 * child processes (argv, never a shell), each the leader of its own
 * session and process group, with SMELT_RUN_TRIGGER=api.  They use the
 * same system database, run locks and logs as runs from the CLI.
 *
 * A reaper thread starts them (so they get its normal scheduling
 * priority, not the lowered one of the threads answering requests) and
 * waits for them, woken by their pidfds; a child that ended without
 * finishing its run in the history (killed, or failed before it recorded
 * anything) gets its run finished there: "cancelled" when it was
 * cancelled, else "failed", with its exit code and last error line.
 * Then every subscriber (children_subscribe()) is woken.
 *
 * A queued run names its process in the history: the server, then the
 * child once started, so a later `smelt runs` or server fails a run whose
 * child died before it began while no server watched (runs_reap_dead()).
 *
 * Server stop: children are not killed.  They run on, detached (their own
 * session), and finish their run themselves: state is saved as the target
 * emits it and the history row is completed by the run.  A later server
 * (or `smelt runs`) sees them in the database; cancel then signals the
 * recorded process.  Thread-safe.
 */
#ifndef SMELT_CHILDREN_H
#define SMELT_CHILDREN_H

#include <stddef.h>

struct children;
struct serve_ctx;

/* Start the reaper; sv borrowed for the object's lifetime.  NULL when no thread can be made. */
struct children *children_new(const struct serve_ctx *sv);
/* Stop the reaper (children keep running); accepts NULL. */
void children_free(struct children *kids);

/*
 * Start `smelt run --run-id run_id [--full-refresh] args...`.  The run is
 * recorded "queued" first (trigger "api"), so its id is listed from now.
 * Returns 0 or a negative status with err filled.
 */
int children_start(struct children *kids, const char *run_id, const char *job, const char *const *args, size_t nargs,
                   int full_refresh, char *err, size_t errlen);

/*
 * An eventfd (EFD_NONBLOCK) that becomes readable each time the reaper
 * finished a run or children_notify() is called; -1 when none can be
 * made.  Give it back with children_unsubscribe() (which closes it).
 */
int children_subscribe(struct children *kids);
void children_unsubscribe(struct children *kids, int fd);
/* Wake every subscriber (the reaper finished a run; the server stops). */
void children_notify(struct children *kids);

/* SIGTERM to the group of run_id's child: 1 sent, 0 not a live child of this server. */
int children_cancel(struct children *kids, const char *run_id);

/*
 * 1 when run_id is a run of kids not yet finished by its reaper (which
 * records its real exit status), else 0.  kids is a struct children *;
 * the shape fits runs_reap_dead()'s callback.
 */
int children_supervised(void *kids, const char *run_id);

/* How many runs this server started are in progress (started, not yet reaped). */
int children_running(struct children *kids);

#endif
