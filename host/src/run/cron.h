/*
 * cron - the schedule intervals of smelt.yml: validating a five-field
 * cron expression (or a preset such as @daily) and computing the next
 * time it fires, in UTC.
 *
 * Syntax (Vixie cron, as Airflow's croniter reads it):
 *
 *	minute hour day-of-month month day-of-week
 *
 * Each field is `*`, a number, a range `a-b`, any of those with a step
 * `/n` (`*` + `/15`, `a-b/n`, `a/n` = from a to the field's end), or a
 * comma-separated list of them.  Months may be named JAN..DEC and days of
 * the week SUN..SAT (any case); day of week 7 is Sunday like 0.  When
 * both day fields are restricted a day matches either (cron's OR rule);
 * a field counts as unrestricted when it covers its whole range (as
 * croniter, which Airflow uses, decides: `*` + `/2` is restricted).
 *
 * Presets: @hourly @daily @midnight @weekly @monthly @yearly @annually
 * expand to their expressions; @once @manual @none mean "never on a
 * timer" (no cron).  Seconds fields, L, W, # and ? are not supported.
 *
 * Thread-safe: no global state.
 */
#ifndef SMELT_CRON_H
#define SMELT_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cron {
	uint64_t minutes;  /* bit m: minute m (0-59) */
	uint32_t hours;    /* bit h: hour h (0-23) */
	uint32_t mdays;    /* bit d: day of month d (1-31) */
	uint16_t months;   /* bit m: month m (1-12) */
	uint8_t wdays;     /* bit d: day of week d (0 = Sunday .. 6) */
	int mday_star;     /* 1: the day-of-month field covers 1-31 */
	int wday_star;     /* 1: the day-of-week field covers every day */
};

/*
 * Parse expr (a five-field expression or a preset) into *out.  Returns 0;
 * 1 when expr is a "never" preset (@once, @manual, @none: *out is
 * zeroed); SMELT_ERR_CONFIG with err naming the field and the problem
 * ("cron expression '0 25 * * *': hour 25 is out of range 0-23").
 */
int cron_parse(const char *expr, struct cron *out, char *err, size_t errlen);

/*
 * Validate an interval as smelt.yml holds it.  0 when valid (also the
 * never presets), SMELT_ERR_CONFIG with err set otherwise.
 */
int cron_validate(const char *interval, char *err, size_t errlen);

/*
 * The expression a preset stands for ("@daily" -> "0 0 * * *"), NULL for
 * the never presets, interval itself for anything else.  Borrowed/static.
 */
const char *cron_expression(const char *interval);

/*
 * The first time strictly after `after` (seconds since the epoch) at which
 * c fires, in UTC, in *next.  0, or SMELT_ERR_NOTFOUND when it never fires
 * within the next 28 years (e.g. "0 0 30 2 *").
 */
int cron_next(const struct cron *c, time_t after, time_t *next);

/* Format t as ISO-8601 UTC ("2026-05-01T00:00:00Z") into buf (at least 21 bytes). */
void cron_format_utc(time_t t, char *buf, size_t len);

#endif
