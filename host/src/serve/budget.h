/*
 * budget - the server's CPU while runs go: at most a share of one CPU.
 *
 * Scheduling priorities (--nice, --sched idle) lower the server below the
 * runs within the kernel's rules, but with autogroups (one scheduling
 * group per session, and runs are sessions of their own) the server's
 * group still gets its fair share beside the runs' groups.  So while runs
 * the server started are in progress, the requests are admitted one at a
 * time and wait so that the server's CPU time (all its threads, from
 * CLOCK_PROCESS_CPUTIME_ID) stays within share percent of one CPU over the
 * wall time (a token bucket holding at most BUDGET_BURST_MS of credit).
 * Requests are slowed, never refused; with no run going nothing waits.
 * Thread-safe.
 */
#ifndef SMELT_SERVE_BUDGET_H
#define SMELT_SERVE_BUDGET_H

#define BUDGET_BURST_MS 50   /* CPU time the server may spend at once after an idle spell */

struct budget;

/* A budget of share percent of one CPU (1-100; 100: no limit).  Never NULL. */
struct budget *budget_new(int share);
void budget_free(struct budget *b); /* accepts NULL */

/*
 * Called before a request is answered: when busy (runs are in progress),
 * waits until the server's CPU time is back within the budget.  Returns
 * the milliseconds waited.
 */
long budget_admit(struct budget *b, int busy);

#endif
