/* Check suite for host/src/serve/budget.c: smelt serve's CPU share while runs go. */
#include "serve/budget.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Burn ms milliseconds of this thread's CPU. */
static void spin_ms(double ms)
{
	double end = clock_s(CLOCK_THREAD_CPUTIME_ID) + ms / 1000;
	while (clock_s(CLOCK_THREAD_CPUTIME_ID) < end)
		;
}

static atomic_int busy_flag;

static int is_busy(void *arg)
{
	(void)arg;
	return atomic_load(&busy_flag);
}

START_TEST(cpu_spent_while_idle_is_no_debt)
{
	struct budget *b = budget_new(10);
	atomic_store(&busy_flag, 0);
	spin_ms(100); /* idle: no run goes */
	ck_assert_int_eq(budget_admit(b, is_busy, NULL), 0);
	budget_done(b);
	atomic_store(&busy_flag, 1); /* a run starts: the first request goes at once (it would owe 900 ms) */
	ck_assert_int_lt(budget_admit(b, is_busy, NULL), 50);
	budget_done(b);
	budget_free(b);
}
END_TEST

START_TEST(a_busy_server_keeps_to_its_share)
{
	struct budget *b = budget_new(20);
	atomic_store(&busy_flag, 1);
	double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	int n = 0;
	while (clock_s(CLOCK_MONOTONIC) - w0 < 1.0) {
		budget_admit(b, is_busy, NULL);
		spin_ms(5); /* a request */
		budget_done(b);
		n++;
	}
	double wall = clock_s(CLOCK_MONOTONIC) - w0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	/* 20% of the wall, plus the 10 ms burst and the one request admitted on the last credit */
	ck_assert_msg(cpu <= 0.20 * wall + 0.010 + 0.010, "%.3f s of CPU in %.3f s (%d requests)", cpu, wall, n);
	ck_assert_int_gt(n, 1);
	budget_free(b);
}
END_TEST

struct crowd {
	struct budget *b;
	int me;
	atomic_int *next_order, *in_flight, *max_in_flight;
	int order;
};

static void *crowd_member(void *arg)
{
	struct crowd *c = arg;
	budget_admit(c->b, is_busy, NULL);
	int now = atomic_fetch_add(c->in_flight, 1) + 1;
	int seen = atomic_load(c->max_in_flight);
	while (now > seen && !atomic_compare_exchange_weak(c->max_in_flight, &seen, now))
		;
	c->order = atomic_fetch_add(c->next_order, 1);
	spin_ms(2);
	atomic_fetch_sub(c->in_flight, 1);
	budget_done(c->b);
	return NULL;
}

START_TEST(a_crowd_goes_one_at_a_time_in_the_order_it_came)
{
	enum { N = 8 };
	struct budget *b = budget_new(50);
	atomic_store(&busy_flag, 1);
	atomic_int next_order = 0, in_flight = 0, max_in_flight = 0;
	budget_admit(b, is_busy, NULL); /* the turn is taken: all of the crowd waits */
	pthread_t t[N];
	struct crowd c[N];
	for (int i = 0; i < N; i++) {
		c[i] = (struct crowd){ b, i, &next_order, &in_flight, &max_in_flight, -1 };
		pthread_create(&t[i], NULL, crowd_member, &c[i]);
		usleep(30000); /* member i is queued before member i + 1 comes */
	}
	budget_done(b);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(c[i].order, i);
	ck_assert_int_eq(atomic_load(&max_in_flight), 1);
	budget_free(b);
}
END_TEST

static void *one_request(void *arg)
{
	long *waited = arg;
	*waited = budget_admit(*(struct budget **)(waited + 1), is_busy, NULL);
	budget_done(*(struct budget **)(waited + 1));
	return NULL;
}

START_TEST(waiters_go_when_the_last_run_ends)
{
	struct budget *b = budget_new(1);
	atomic_store(&busy_flag, 1);
	budget_admit(b, is_busy, NULL);
	spin_ms(60); /* 50 ms over the burst: at 1% of a CPU, 5 s of wall time to earn back */
	budget_done(b);
	long slot[2] = { -1, 0 };
	*(struct budget **)(slot + 1) = b;
	pthread_t t;
	pthread_create(&t, NULL, one_request, slot);
	usleep(100000);
	atomic_store(&busy_flag, 0); /* the run ends */
	pthread_join(t, NULL);
	ck_assert_int_ge(slot[0], 50);
	ck_assert_int_lt(slot[0], 1000);
	budget_free(b);
}
END_TEST

START_TEST(no_limit_never_waits)
{
	struct budget *b = budget_new(100);
	atomic_store(&busy_flag, 1);
	budget_admit(b, is_busy, NULL);
	spin_ms(50);
	budget_done(b);
	ck_assert_int_eq(budget_admit(b, is_busy, NULL), 0);
	budget_done(b);
	budget_free(b);
}
END_TEST

static atomic_int burner_stop;

/* CPU no request was admitted for (a followed log, say), until told to stop. */
static void *burner(void *arg)
{
	(void)arg;
	while (!atomic_load(&burner_stop))
		spin_ms(1);
	return NULL;
}

START_TEST(cpu_nobody_was_admitted_for_delays_a_request_at_most_the_max_wait)
{
	struct budget *b = budget_new(5);
	atomic_store(&busy_flag, 1);
	atomic_store(&burner_stop, 0);
	budget_admit(b, is_busy, NULL); /* a run is going: the bucket is counted from here */
	budget_done(b);
	pthread_t t;
	pthread_create(&t, NULL, burner, NULL); /* a whole CPU, against a 5% share: the credit never comes back */
	usleep(300000);
	double w0 = clock_s(CLOCK_MONOTONIC);
	long waited = budget_admit(b, is_busy, NULL);
	double took = (clock_s(CLOCK_MONOTONIC) - w0) * 1000;
	budget_done(b);
	atomic_store(&burner_stop, 1);
	pthread_join(t, NULL);
	ck_assert_msg(waited >= BUDGET_MAX_WAIT_MS / 2, "waited only %ld ms: the debt was not charged", waited);
	ck_assert_msg(took < BUDGET_MAX_WAIT_MS + 400, "waited %.0f ms, over the %d ms cap", took, BUDGET_MAX_WAIT_MS);
	budget_free(b);
}
END_TEST

struct holder {
	struct budget *b;
	int hold_ms;
	long waited;
};

static void *hold_turn(void *arg)
{
	struct holder *h = arg;
	h->waited = budget_admit(h->b, is_busy, NULL);
	usleep((useconds_t)h->hold_ms * 1000);
	budget_done(h->b);
	return NULL;
}

START_TEST(a_request_that_hands_the_turn_on_lets_the_next_go_and_only_once)
{
	struct budget *b = budget_new(50);
	atomic_store(&busy_flag, 1);
	budget_admit(b, is_busy, NULL); /* request A has the turn ... */
	struct holder hb = { b, 300, -1 }, hc = { b, 0, -1 };
	pthread_t tb, tc;
	pthread_create(&tb, NULL, hold_turn, &hb); /* ... B waits behind it */
	usleep(50000);
	budget_done(b); /* A goes on to wait for a child: B's turn */
	usleep(50000);
	budget_done(b); /* A answered: a no-op, B keeps the turn */
	pthread_create(&tc, NULL, hold_turn, &hc);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);
	ck_assert_int_lt(hb.waited, 150);      /* B went when A handed on, not when A answered */
	ck_assert_int_ge(hc.waited, 150);      /* C waited for B: A's second done did not free the turn */
	budget_free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("budget");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, cpu_spent_while_idle_is_no_debt);
	tcase_add_test(tc, a_busy_server_keeps_to_its_share);
	tcase_add_test(tc, a_crowd_goes_one_at_a_time_in_the_order_it_came);
	tcase_add_test(tc, waiters_go_when_the_last_run_ends);
	tcase_add_test(tc, no_limit_never_waits);
	tcase_add_test(tc, cpu_nobody_was_admitted_for_delays_a_request_at_most_the_max_wait);
	tcase_add_test(tc, a_request_that_hands_the_turn_on_lets_the_next_go_and_only_once);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
