/* budget: the server's CPU share while runs go; see budget.h. */
#include "serve/budget.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct budget {
	int share;               /* percent of one CPU */
	pthread_mutex_t gate;    /* one request admitted at a time; guards the rest */
	long long wall, cpu;     /* when credit was last computed (ns) */
	long long credit;        /* CPU ns the server may still spend */
};

static long long now_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct budget *budget_new(int share)
{
	struct budget *b = xcalloc(1, sizeof *b);
	b->share = share < 1 ? 1 : share > 100 ? 100 : share;
	pthread_mutex_init(&b->gate, NULL);
	b->wall = now_ns(CLOCK_MONOTONIC);
	b->cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	b->credit = BUDGET_BURST_MS * 1000000LL;
	return b;
}

void budget_free(struct budget *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->gate);
	free(b);
}

/* Bring the credit up to now (under the gate). */
static void refill(struct budget *b)
{
	long long wall = now_ns(CLOCK_MONOTONIC), cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	b->credit += (wall - b->wall) * b->share / 100 - (cpu - b->cpu);
	if (b->credit > BUDGET_BURST_MS * 1000000LL)
		b->credit = BUDGET_BURST_MS * 1000000LL;
	b->wall = wall;
	b->cpu = cpu;
}

long budget_admit(struct budget *b, int busy)
{
	if (b->share >= 100)
		return 0;
	long waited = 0;
	pthread_mutex_lock(&b->gate);
	refill(b);
	while (busy && b->credit < 0) {
		/* the wall time that earns the missing credit back (at least 1 ms, at most 1 s per sleep) */
		long long ns = -b->credit * 100 / b->share;
		if (ns < 1000000LL)
			ns = 1000000LL;
		if (ns > 1000000000LL)
			ns = 1000000000LL;
		struct timespec ts = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
		nanosleep(&ts, NULL);
		waited += (long)(ns / 1000000LL);
		refill(b);
	}
	pthread_mutex_unlock(&b->gate);
	return waited;
}
