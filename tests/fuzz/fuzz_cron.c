/*
 * fuzz_cron - schedule intervals (cron_validate, cron_parse, cron_next).
 * An expression that parses must fire strictly after the start time, at a
 * minute its fields allow, and cron_next must be monotonic when walked.
 */
#include "run/cron.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property failed: say which (the compiler merges abort() calls, so a backtrace cannot). */
#define FUZZ_FAIL(what) \
	do { \
		fprintf(stderr, "fuzz_cron: %s\n", what); \
		abort(); \
	} while (0)

/* 1 when c allows t (UTC), with cron's OR rule for the two day fields. */
static int fires_at(const struct cron *c, time_t t)
{
	struct tm tm;
	int mday, wday;

	gmtime_r(&t, &tm);
	if (tm.tm_sec || !(c->minutes >> tm.tm_min & 1) || !(c->hours >> tm.tm_hour & 1) ||
	    !(c->months >> (tm.tm_mon + 1) & 1))
		return 0;
	mday = c->mdays >> tm.tm_mday & 1;
	wday = c->wdays >> tm.tm_wday & 1;
	if (c->mday_star || c->wday_star)
		return mday && wday;
	return mday || wday;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], when[32];
	struct cron c;
	time_t after = 1767225600, next; /* 2026-01-01T00:00:00Z */
	char *expr = malloc(size + 1);
	int rc;

	if (!expr)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	(void)cron_validate(expr, err, sizeof err);
	(void)cron_expression(expr);
	rc = cron_parse(expr, &c, err, sizeof err);
	if (rc == 0) {
		for (int i = 0; i < 4; i++) {
			if (cron_next(&c, after, &next) != 0)
				break;
			if (next <= after || !fires_at(&c, next))
				FUZZ_FAIL("not after the start, or at a time the fields exclude");
			cron_format_utc(next, when, sizeof when);
			after = next;
		}
	} else if (rc != 1 && !err[0]) {
		FUZZ_FAIL("a rejected expression without a message");
	}
	free(expr);
	return 0;
}
