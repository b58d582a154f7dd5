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
 *
 * Requests are slowed, never refused.  Thread-safe.
 */
#ifndef SMELT_SERVE_BUDGET_H
#define SMELT_SERVE_BUDGET_H

#define BUDGET_BURST_MS 10    /* CPU time the server may spend at once when a run starts */
#define BUDGET_RECHECK_MS 10  /* a waiting request asks "still busy?" at least this often */

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

/* The request admitted by the last budget_admit() of this thread is answered: the next may go. */
void budget_done(struct budget *b);

#endif
