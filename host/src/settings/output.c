/*
 * settings/output: post-processing of resolved values (value_post_processor,
 * relative dates of date_iso8601 settings) and `config print`'s JSON in the
 * shape Meltano prints it for each kind of plugin; see settings.h.
 */
#include "settings/settings.h"
#include "project/adapter_data.h"
#include "project/project.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Meltano's REGEX_ISO8601: YYYY-MM-DD, optional [ T]hh:mm:ss(.f), optional Z or +-hh:(00|30). */
static int is_iso8601(const char *s)
{
	int v[3];
	if (strlen(s) < 10 || sscanf(s, "%4d-%2d-%2d", &v[0], &v[1], &v[2]) != 3)
		return 0;
	for (int i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return 0;
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31)
		return 0;
	s += 10;
	if (*s == ' ' || *s == 'T') {
		s++;
		for (int i = 0; i < 8; i++)
			if ((i == 2 || i == 5) ? s[i] != ':' : !isdigit((unsigned char)s[i]))
				return 0;
		if (atoi(s) > 23 || atoi(s + 3) > 59 || atoi(s + 6) > 59)
			return 0;
		s += 8;
		if (*s == '.') {
			if (!isdigit((unsigned char)*++s))
				return 0;
			while (isdigit((unsigned char)*s))
				s++;
		}
	}
	if (*s == 'Z')
		return s[1] == '\0';
	if (*s == '+' || *s == '-') {
		if (!isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) || s[3] != ':' ||
		    atoi(s + 1) > 12 || (strcmp(s + 4, "00") && strcmp(s + 4, "30")))
			return 0;
		return 1;
	}
	return *s == '\0';
}

static const struct {
	const char *name;
	long seconds; /* 0: months (months counts) */
	int months;
} units[] = {
	{ "second", 1, 0 }, { "sec", 1, 0 }, { "minute", 60, 0 }, { "min", 60, 0 }, { "hour", 3600, 0 },
	{ "day", 86400, 0 }, { "week", 604800, 0 }, { "fortnight", 1209600, 0 }, { "month", 0, 1 },
	{ "year", 0, 12 },
};

/* Add months to a broken-down UTC time, clamping the day to the month's length (as dateutil does). */
static void add_months(struct tm *tm, long months)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long m = (long)tm->tm_year * 12 + tm->tm_mon + months;
	tm->tm_year = (int)(m / 12);
	tm->tm_mon = (int)(m % 12);
	int y = tm->tm_year + 1900;
	int len = mdays[tm->tm_mon] + (tm->tm_mon == 1 && ((y % 4 == 0 && y % 100) || y % 400 == 0));
	if (tm->tm_mday > len)
		tm->tm_mday = len;
}

char *settings_parse_date(const char *s, const struct timespec *now)
{
	if (!s)
		return NULL;
	if (is_iso8601(s))
		return xstrdup(s);
	char word[32] = "", unit[32] = "", tail[32] = "";
	long n = 1;
	long seconds = 0, months = 0;
	char low[96];
	size_t len = strlen(s);
	if (len >= sizeof low)
		return xstrdup(s);
	for (size_t i = 0; i <= len; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	int matched = 0;
	if (!strcmp(low, "now") || !strcmp(low, "today")) {
		matched = 1;
	} else if (!strcmp(low, "yesterday")) {
		seconds = -86400;
		matched = 1;
	} else if (!strcmp(low, "tomorrow")) {
		seconds = 86400;
		matched = 1;
	} else {
		int got = sscanf(low, "%ld %31s %31s %31s", &n, unit, tail, word);
		if (got < 2) { /* "a month ago", "an hour ago" */
			got = sscanf(low, "%31s %31s %31s", word, unit, tail);
			if (got >= 2 && (!strcmp(word, "a") || !strcmp(word, "an")))
				n = 1, got = 3 - (got == 2);
			else
				got = 0;
			word[0] = '\0';
		}
		if (got >= 2 && !word[0] && (!tail[0] || !strcmp(tail, "ago"))) {
			size_t ul = strlen(unit);
			if (ul > 1 && unit[ul - 1] == 's')
				unit[ul - 1] = '\0';
			for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
				if (!strcmp(unit, units[i].name)) {
					/* "N units" alone is in the past too, as dateparser reads it */
					seconds = -n * units[i].seconds;
					months = -n * units[i].months;
					matched = 1;
				}
		}
	}
	if (!matched)
		return xstrdup(s);
	time_t t = now->tv_sec + seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	if (months)
		add_months(&tm, months);
	long usec = now->tv_nsec / 1000;
	if (usec)
		return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06ld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		                 tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	                 tm.tm_min, tm.tm_sec);
}

cJSON *settings_post_process(const struct resolved_setting *rs, const cJSON *v)
{
	const cJSON *proc = rs->def ? cJSON_GetObjectItemCaseSensitive(rs->def->raw, "value_post_processor") : NULL;
	const char *name = cJSON_GetStringValue(proc);
	if (!v || cJSON_IsNull(v))
		return cJSON_CreateNull();
	if (name && !strcmp(name, "stringify")) {
		if (cJSON_IsString(v))
			return cJSON_Duplicate(v, 1);
		struct strbuf sb = STRBUF_INIT;
		json_dump(&sb, v, -1);
		cJSON *out = cJSON_CreateString(sb.buf);
		strbuf_release(&sb);
		return out;
	}
	if (name && !strcmp(name, "upcase_string") && cJSON_IsString(v)) {
		cJSON *out = cJSON_CreateString(v->valuestring);
		for (char *c = out->valuestring; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		return out;
	}
	if (((name && !strcmp(name, "parse_date")) || (!name && rs->kind == KIND_DATE_ISO8601)) && cJSON_IsString(v)) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		char *d = settings_parse_date(v->valuestring, &now);
		cJSON *out = cJSON_CreateString(d);
		free(d);
		return out;
	}
	return cJSON_Duplicate(v, 1);
}

enum settings_style settings_style_of(const struct project *p, const struct plugin *pl)
{
	if (!pl)
		return SETTINGS_STYLE_FLAT;
	if (pl->type == PLUGIN_EXTRACTORS || pl->type == PLUGIN_LOADERS || pl->type == PLUGIN_MAPPERS)
		return SETTINGS_STYLE_SINGER;
	const struct plugin *root = pl;
	for (int depth = 0; root->parent && depth < 16; depth++)
		root = root->parent;
	const char *base = root->inherit_from ? root->inherit_from : root->name;
	/* the adapters say which plugins print as Python's str() (adapter_data.h, print_as_python_str) */
	const struct adapter_data *d = adapter_data_types(p ? p->root : NULL); /* types only */
	for (size_t i = 0; i < d->ntypes; i++) {
		const cJSON *n;
		if (plugin_type_parse(d->types[i].plugin_type) != (int)pl->type)
			continue;
		cJSON_ArrayForEach(n, d->types[i].print_as_python_str)
			if (cJSON_IsString(n) && !strcmp(n->valuestring, base))
				return SETTINGS_STYLE_PYTHON_STR;
	}
	return SETTINGS_STYLE_FLAT;
}

/* Python's str() of a JSON value, as Meltano's Airflow plugin writes every value. */
static cJSON *python_str(const cJSON *v)
{
	if (cJSON_IsString(v))
		return cJSON_CreateString(v->valuestring);
	if (cJSON_IsNull(v))
		return cJSON_CreateString("None");
	if (cJSON_IsBool(v))
		return cJSON_CreateString(cJSON_IsTrue(v) ? "True" : "False");
	struct strbuf sb = STRBUF_INIT;
	json_dump(&sb, v, -1);
	cJSON *out = cJSON_CreateString(sb.buf);
	strbuf_release(&sb);
	return out;
}

/* dst[path] = v unless the path is taken (Meltano's nest(): the first value wins); v is consumed. */
static void nest_first(cJSON *dst, const char *name, cJSON *v)
{
	const char *dot = strchr(name, '.');
	if (!dot) {
		if (cJSON_GetObjectItemCaseSensitive(dst, name))
			cJSON_Delete(v);
		else
			cJSON_AddItemToObject(dst, name, v);
		return;
	}
	char *head = xstrndup(name, (size_t)(dot - name));
	cJSON *sub = cJSON_GetObjectItemCaseSensitive(dst, head);
	if (!sub)
		sub = cJSON_AddObjectToObject(dst, head);
	free(head);
	if (!cJSON_IsObject(sub)) {
		cJSON_Delete(v);
		return;
	}
	nest_first(sub, dot + 1, v);
}

/* Truthy as Python sees it: Meltano redacts only values that are. */
static int truthy_value(const cJSON *v)
{
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return v->child != NULL;
	return 0;
}

int settings_redacts(const struct resolved_setting *rs, const cJSON *v)
{
	return rs->sensitive && truthy_value(v);
}

/* Add "<prefix>.<key>" for every leaf of obj (a value that is no object, or an empty one), as Meltano's flatten. */
static void add_flat_leaves(cJSON *o, const char *prefix, const cJSON *obj)
{
	for (const cJSON *c = obj->child; c; c = c->next) {
		char *key = xasprintf("%s.%s", prefix, c->string);
		if (cJSON_IsObject(c) && c->child)
			add_flat_leaves(o, key, c);
		else if (!cJSON_GetObjectItemCaseSensitive(o, key))
			cJSON_AddItemToObject(o, key, xnonnull(cJSON_Duplicate(c, 1)));
		free(key);
	}
}

cJSON *settings_print_json(const struct settings *s, enum settings_style style, unsigned flags)
{
	cJSON *o = cJSON_CreateObject();
	int extras = (flags & SETTINGS_EXTRAS) != 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct resolved_setting *rs = &s->items[i];
		if (rs->extra != extras) /* hidden settings too: Meltano's config print shows them */
			continue;
		/* extras print as resolved (Meltano does not post-process them) */
		cJSON *v = extras ? cJSON_Duplicate(rs->value, 1) : settings_post_process(rs, rs->value);
		if ((flags & SETTINGS_REDACT) && settings_redacts(rs, v)) {
			cJSON_Delete(v);
			v = cJSON_CreateString("*****");
		}
		if (extras || style == SETTINGS_STYLE_FLAT) {
			cJSON_DeleteItemFromObjectCaseSensitive(o, rs->name);
			cJSON_AddItemToObject(o, rs->name, v);
		} else if (style == SETTINGS_STYLE_PYTHON_STR) {
			nest_first(o, rs->name, python_str(v));
			cJSON_Delete(v);
		} else if (cJSON_IsNull(v)) {
			cJSON_Delete(v);
		} else {
			nest_first(o, rs->name, v);
		}
	}
	/* as Meltano's: an object extra set in the project (or a definition's default, such as a Hub
	 * transform's vars) prints its leaves too, flattened ("_vars.schema"), after the extras */
	for (size_t i = 0; extras && i < s->n; i++) {
		const struct resolved_setting *rs = &s->items[i];
		if (rs->extra && cJSON_IsObject(rs->value) && !rs->sensitive &&
		    (rs->source == SOURCE_PROJECT || rs->source == SOURCE_ENVIRONMENT || rs->source == SOURCE_DEFAULT))
			add_flat_leaves(o, rs->name, rs->value);
	}
	return o;
}
