/*
 * budget - the server's CPU while runs go: at most a share of one CPU.
 *
 * Scheduling priorities (--nice, --sched idle) lower the server below the
 * runs within the kernel's rules, but with autogroups (one scheduling
 * group per session, and runs are sessions of their own) the server's
 * group still gets its fair share beside the runs' groups.  So while runs
 * the server started are in progress ("busy"), the server's CPU time (all
 * its threads, CLOCK_PROCESS_CPUTIME_ID) is held within share percent of
 * one CPU over the wall time, a token bucket holding at most
 * BUDGET_BURST_MS of credit:
 *
 * - While busy, requests are answered one at a time, in the order they
 *   arrived (a FIFO of waiters, not a lock that the last to come may win),
 *   and the next one starts only when the credit is back to zero or more.
 *   The CPU a request took is known before the next is admitted, so a
 *   crowd arriving at once cannot be let in on the same credit.
 * - The request with the turn asks whether the server is still busy at
 *   least every BUDGET_RECHECK_MS while it waits for credit (the others
 *   sleep until they are woken: 200 waiting requests cost nothing): when
 *   the last run ends, all waiting requests go at once.
 * - While not busy nothing waits and CPU is not counted: the credit is
 *   full when a run starts, whatever the server did before (no debt from
 *   an idle spell is paid by the requests of a busy one).
 * - The request with the turn waits for credit at most BUDGET_MAX_WAIT_MS,
 *   and the debt is capped at what that much wall time earns back: CPU no
 *   request was admitted for (a followed log, TLS, the reaper) slows
 *   requests to one a BUDGET_MAX_WAIT_MS at worst, never holds them until
 *   the runs end.
 * - A request that goes on to wait for something other than the server's
 *   CPU (a subcommand, serve/subcmd.h) hands the turn on first with
 *   budget_done(): its child's CPU is not the server's, and a request
 *   behind it (a cancel) must not wait for it.
 *
 * Requests are slowed, never refused.  Thread-safe.
 */
#ifndef SMELT_SERVE_BUDGET_H
#define SMELT_SERVE_BUDGET_H

#define BUDGET_BURST_MS 10    /* CPU time the server may spend at once when a run starts */
#define BUDGET_RECHECK_MS 10  /* a waiting request asks "still busy?" at least this often */
#define BUDGET_MAX_WAIT_MS 1000 /* the longest the request with the turn waits for credit */

struct budget;

/* A budget of share percent of one CPU (1-100; 100: no limit).  Never NULL. */
struct budget *budget_new(int share);
void budget_free(struct budget *b); /* accepts NULL */

/*
 * Called before a request is answered.  When busy(arg) is true, waits for
 * the request's turn and for the server's CPU time to be back within the
 * budget; the request then holds the turn until budget_done().  Returns
 * the milliseconds waited (0 when not busy or no limit); the caller must
 * call budget_done() with the same b after the request was answered,
 * whatever was returned.
 */
long budget_admit(struct budget *b, int (*busy)(void *arg), void *arg);

/*
 * The request admitted by the last budget_admit() of this thread is
 * answered, or is about to wait for something other than the server's CPU:
 * the next may go.  A no-op when this thread does not hold the turn, so
 * it may be called more than once for one request.
 */
void budget_done(struct budget *b);

#endif
