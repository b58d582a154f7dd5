/* cron: five-field cron expressions and their next run time; see cron.h. */
#include "run/cron.h"
#include "util/log.h"

#include <smelt/sdk.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct field_spec {
	const char *name;          /* "minute", ... for messages */
	int lo, hi;                /* accepted values */
	const char *const *names;  /* 3-letter names for lo.. (NULL: none) */
	int names_base;            /* value of names[0] */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
	                                   "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct field_spec fields[5] = {
	{ "minute", 0, 59, NULL, 0 },
	{ "hour", 0, 23, NULL, 0 },
	{ "day of month", 1, 31, NULL, 0 },
	{ "month", 1, 12, month_names, 1 },
	{ "day of week", 0, 7, day_names, 0 },
};

static const char *const presets[][2] = {
	{ "@hourly", "0 * * * *" },   { "@daily", "0 0 * * *" },   { "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },   { "@monthly", "0 0 1 * *" }, { "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" }, { "@once", NULL },          { "@manual", NULL },
	{ "@none", NULL },
};

const char *cron_expression(const char *interval)
{
	if (!interval)
		return NULL;
	for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
		if (!strcmp(interval, presets[i][0]))
			return presets[i][1];
	return interval;
}

/* One value of a field: a number or (months, days) a 3-letter name.  Advances *s. */
static int parse_value(const char **s, const struct field_spec *f, int *v, const char *expr, char *err,
                       size_t errlen)
{
	const char *p = *s;
	if (isdigit((unsigned char)*p)) {
		long n = 0;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p++ - '0');
			if (n > 1000)
				break;
		}
		if (n < f->lo || n > f->hi)
			return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s': %s %ld is out of range %d-%d",
			            expr, f->name, n, f->lo, f->hi);
		*v = (int)n;
		*s = p;
		return 0;
	}
	if (f->names && isalpha((unsigned char)*p)) {
		size_t len = 0;
		while (isalpha((unsigned char)p[len]))
			len++;
		for (int i = 0; f->names[i]; i++)
			if (len == 3 && !strncasecmp(p, f->names[i], 3)) {
				*v = f->names_base + i;
				*s = p + 3;
				return 0;
			}
		return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s': unknown %s name '%.*s'", expr, f->name,
		            (int)len, p);
	}
	if (!*p || *p == ',' || *p == '-' || *p == '/')
		return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s': a %s value is missing", expr, f->name);
	return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s': unexpected '%c' in the %s field", expr, *p,
	            f->name);
}

/* One field (text [s, end)) into a bit set. */
static int parse_field(const char *s, const char *end, const struct field_spec *f, uint64_t *bits,
                       const char *expr, char *err, size_t errlen)
{
	char buf[128];
	size_t len = (size_t)(end - s);
	if (len >= sizeof buf)
		return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s': the %s field is too long", expr,
		            f->name);
	memcpy(buf, s, len);
	buf[len] = '\0';
	*bits = 0;
	char *save = NULL;
	if (buf[0] == ',' || (len && buf[len - 1] == ',') || strstr(buf, ",,"))
		return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s': empty item in the %s field", expr,
		            f->name);
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		const char *p = item;
		int a, b, step = 1, rc, ranged = 0;
		if (*p == '*') {
			a = f->lo, b = f->hi, ranged = 1;
			p++;
		} else {
			if ((rc = parse_value(&p, f, &a, expr, err, errlen)) != 0)
				return rc;
			b = a;
			if (*p == '-') {
				p++;
				if ((rc = parse_value(&p, f, &b, expr, err, errlen)) != 0)
					return rc;
				if (b < a)
					return fail(err, errlen, SMELT_ERR_CONFIG,
					            "cron expression '%s': the %s range %d-%d runs backwards", expr, f->name, a, b);
				ranged = 1;
			}
		}
		if (*p == '/') {
			p++;
			if (!isdigit((unsigned char)*p))
				return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s': the %s step needs a number",
				            expr, f->name);
			long n = 0;
			while (isdigit((unsigned char)*p) && n <= 1000)
				n = n * 10 + (*p++ - '0');
			if (n < 1 || n > f->hi)
				return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s': %s step %ld is out of range 1-%d",
				            expr, f->name, n, f->hi);
			step = (int)n;
			if (!ranged)
				b = f->hi; /* "a/n": from a to the end, as croniter and Vixie cron read it */
		}
		if (*p)
			return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s': unexpected '%s' in the %s field",
			            expr, p, f->name);
		for (int v = a; v <= b; v += step)
			*bits |= (uint64_t)1 << v;
	}
	return 0;
}

int cron_parse(const char *expr, struct cron *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!expr || !*expr)
		return fail(err, errlen, SMELT_ERR_CONFIG, "empty interval: want a cron expression or @hourly, @daily, "
		            "@weekly, @monthly, @yearly, @once");
	if (expr[0] == '@') {
		for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
			if (!strcmp(expr, presets[i][0])) {
				if (!presets[i][1])
					return 1;
				return cron_parse(presets[i][1], out, err, errlen);
			}
		return fail(err, errlen, SMELT_ERR_CONFIG, "unknown interval '%s': want a cron expression or @hourly, "
		            "@daily, @weekly, @monthly, @yearly, @once", expr);
	}
	const char *start[6], *end[6];
	int n = 0;
	for (const char *p = expr; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n < 6)
			start[n] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (n < 6)
			end[n] = p;
		n++;
	}
	if (n != 5)
		return fail(err, errlen, SMELT_ERR_CONFIG,
		            "cron expression '%s' has %d field%s; want 5: minute hour day-of-month month day-of-week", expr, n,
		            n == 1 ? "" : "s");
	uint64_t bits[5];
	for (int i = 0; i < 5; i++) {
		int rc = parse_field(start[i], end[i], &fields[i], &bits[i], expr, err, errlen);
		if (rc)
			return rc;
	}
	out->minutes = bits[0];
	out->hours = (uint32_t)bits[1];
	out->mdays = (uint32_t)bits[2];
	out->months = (uint16_t)bits[3];
	if (bits[4] & (1u << 7))
		bits[4] = (bits[4] | 1u) & 0x7f; /* 7 is Sunday too */
	out->wdays = (uint8_t)bits[4];
	out->mday_star = out->mdays == 0xfffffffeu;
	out->wday_star = out->wdays == 0x7f;
	return 0;
}

int cron_validate(const char *interval, char *err, size_t errlen)
{
	struct cron c;
	int rc = cron_parse(interval, &c, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		time_t next;
		if (cron_next(&c, time(NULL), &next) != 0)
			return fail(err, errlen, SMELT_ERR_CONFIG, "cron expression '%s' never fires (no such day)", interval);
	}
	return 0;
}

static int day_matches(const struct cron *c, const struct tm *tm)
{
	int md = (c->mdays >> tm->tm_mday) & 1, wd = (c->wdays >> tm->tm_wday) & 1;
	if (c->mday_star || c->wday_star)
		return md && wd;
	return md || wd;
}

int cron_next(const struct cron *c, time_t after, time_t *next)
{
	/* Minute resolution: start at the next whole minute. */
	time_t t = after - (((after % 60) + 60) % 60) + 60;
	time_t limit = after + (time_t)28 * 366 * 86400;
	struct tm tm;
	if (!c->minutes || !c->hours || !c->mdays || !c->months || !c->wdays)
		return SMELT_ERR_NOTFOUND;
	while (t <= limit) {
		if (!gmtime_r(&t, &tm))
			return SMELT_ERR_NOTFOUND;
		if (!((c->months >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++, tm.tm_mday = 1, tm.tm_hour = 0, tm.tm_min = 0, tm.tm_sec = 0;
			t = timegm(&tm);
			continue;
		}
		if (!day_matches(c, &tm)) {
			tm.tm_mday++, tm.tm_hour = 0, tm.tm_min = 0, tm.tm_sec = 0;
			t = timegm(&tm);
			continue;
		}
		if (!((c->hours >> tm.tm_hour) & 1)) {
			tm.tm_hour++, tm.tm_min = 0, tm.tm_sec = 0;
			t = timegm(&tm);
			continue;
		}
		if (!((c->minutes >> tm.tm_min) & 1)) {
			t += 60;
			continue;
		}
		*next = t;
		return 0;
	}
	return SMELT_ERR_NOTFOUND;
}

void cron_format_utc(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		if (len)
			buf[0] = '\0';
	}
}
