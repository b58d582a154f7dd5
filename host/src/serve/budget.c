/* budget: the server's CPU share while runs go; see budget.h. */
#include "serve/budget.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

enum { GO_TURN = 1, GO_FREE = 2 };

/* A request waiting for its turn (on its own stack). */
struct waiter {
	pthread_cond_t cv;
	int go;                 /* 0: waiting; GO_TURN: its turn came; GO_FREE: no longer busy, go */
	struct waiter *next;
};

struct budget {
	int share;              /* percent of one CPU */
	pthread_mutex_t mu;     /* guards the rest */
	int turn_taken;         /* a request has the turn (admitted while busy, or handed it; not done yet) */
	struct waiter *head, *tail;
	long long wall, cpu;    /* when credit was last computed (ns) */
	long long credit;       /* CPU ns the server may still spend */
};

/* Whether this thread holds the turn (budget_done() hands it on only then). */
static _Thread_local int holds_turn;

static long long now_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A full bucket as of now: what the server did before is not counted (under mu). */
static void forgive(struct budget *b)
{
	b->wall = now_ns(CLOCK_MONOTONIC);
	b->cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	b->credit = BUDGET_BURST_MS * 1000000LL;
}

struct budget *budget_new(int share)
{
	struct budget *b = xcalloc(1, sizeof *b);
	b->share = share < 1 ? 1 : share > 100 ? 100 : share;
	pthread_mutex_init(&b->mu, NULL);
	forgive(b);
	return b;
}

void budget_free(struct budget *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->mu);
	free(b);
}

/* Bring the credit up to now (under mu). */
static void refill(struct budget *b)
{
	long long wall = now_ns(CLOCK_MONOTONIC), cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	b->credit += (wall - b->wall) * b->share / 100 - (cpu - b->cpu);
	if (b->credit > BUDGET_BURST_MS * 1000000LL)
		b->credit = BUDGET_BURST_MS * 1000000LL;
	long long floor = -(long long)BUDGET_MAX_WAIT_MS * 1000000LL * b->share / 100; /* see budget.h */
	if (b->credit < floor)
		b->credit = floor;
	b->wall = wall;
	b->cpu = cpu;
}

/* Wait on cv for at most ms milliseconds (under mu). */
static void wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

/* Wake every waiter without the turn: the server is no longer busy (under mu). */
static void release_all(struct budget *b)
{
	for (struct waiter *w = b->head; w; w = w->next) {
		w->go = GO_FREE;
		pthread_cond_signal(&w->cv);
	}
	b->head = b->tail = NULL;
}

long budget_admit(struct budget *b, int (*busy)(void *arg), void *arg)
{
	holds_turn = 0;
	if (b->share >= 100)
		return 0;
	long long t0 = now_ns(CLOCK_MONOTONIC);
	pthread_mutex_lock(&b->mu);
	if (!busy(arg)) {
		forgive(b);
		release_all(b);
		pthread_mutex_unlock(&b->mu);
		return 0;
	}
	struct waiter me = { .go = 0, .next = NULL };
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&me.cv, &ca);
	pthread_condattr_destroy(&ca);
	/* 1. the turn: at once when nobody has it, else after those who came before */
	if (!b->turn_taken) {
		b->turn_taken = 1;
		me.go = GO_TURN;
	} else {
		if (b->tail)
			b->tail->next = &me;
		else
			b->head = &me;
		b->tail = &me;
		while (!me.go) /* the request with the turn asks "still busy?" for all */
			pthread_cond_wait(&me.cv, &b->mu);
	}
	/* 2. with the turn, the credit: wait for the wall time that earns back the CPU spent */
	if (me.go == GO_TURN) {
		holds_turn = 1;
		refill(b);
		int still_busy = 1;
		long long deadline = now_ns(CLOCK_MONOTONIC) + BUDGET_MAX_WAIT_MS * 1000000LL;
		while (b->credit < 0 && now_ns(CLOCK_MONOTONIC) < deadline && (still_busy = busy(arg))) {
			long long ms = -b->credit * 100 / b->share / 1000000LL;
			wait_ms(&me.cv, &b->mu, ms < 1 ? 1 : ms > BUDGET_RECHECK_MS ? BUDGET_RECHECK_MS : ms);
			refill(b);
		}
		if (!still_busy) {
			forgive(b);
			release_all(b);
		}
	}
	pthread_mutex_unlock(&b->mu);
	pthread_cond_destroy(&me.cv);
	return (long)((now_ns(CLOCK_MONOTONIC) - t0) / 1000000LL);
}

void budget_done(struct budget *b)
{
	if (!holds_turn)
		return;
	holds_turn = 0;
	pthread_mutex_lock(&b->mu);
	struct waiter *w = b->head;
	if (w) { /* handed on: the turn stays taken */
		b->head = w->next;
		if (!b->head)
			b->tail = NULL;
		w->go = GO_TURN;
		pthread_cond_signal(&w->cv);
	} else {
		b->turn_taken = 0;
	}
	pthread_mutex_unlock(&b->mu);
}
