/* settings/values: env names, environment lists, $VAR expansion and casting of values; see settings.h. */
#include "settings/settings.h"
#include "project/project.h"
#include "util/fnv.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;


/* ---- names and labels ---------------------------------------------------------- */

const char *setting_source_name(enum setting_source s)
{
	static const char *const n[] = { "config_override", "env", "dotenv", "meltano_environment",
		                         "meltano_yml", "db", "inherited", "default" };
	return (unsigned)s < 8 ? n[s] : "default";
}

const char *setting_source_label(enum setting_source s, const struct project *p)
{
	int smelt = !p || !p->file_name || !strcmp(p->file_name, "smelt.yml");
	switch (s) {
	case SOURCE_CLI: return "a command line flag";
	case SOURCE_ENV: return "the environment";
	case SOURCE_DOTENV: return "`.env`";
	case SOURCE_ENVIRONMENT:
		return smelt ? "the active environment in `smelt.yml`" : "the active environment in `meltano.yml`";
	case SOURCE_PROJECT: return smelt ? "`smelt.yml`" : "`meltano.yml`";
	case SOURCE_DB: return "the system database";
	case SOURCE_INHERITED: return "inherited";
	default: return "the default";
	}
}

char *settings_env_name(const char *prefix, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	const char *parts[2] = { prefix, name };
	for (int i = 0; i < 2; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		if (sb.len)
			strbuf_addch(&sb, '_');
		for (const char *c = parts[i]; *c; c++)
			strbuf_addch(&sb, isalnum((unsigned char)*c) ? toupper((unsigned char)*c) : '_');
	}
	return strbuf_detach(&sb);
}

/* ---- envlist ----------------------------------------------------------------------- */

/*
 * Lookups by name: a plugin's environment holds a hundred variables or
 * more and is built by setting each, so a list of 8 or more keeps an
 * open-addressing index (slot: the variable's index + 1, 0 empty; at most
 * half full), rebuilt when it grows or a variable is removed.
 */
#define ENVLIST_INDEX_FROM 8

static size_t name_hash(const char *s, size_t n)
{
	return (size_t)fnv1a(FNV1A_INIT, s, n);
}

static void index_insert(struct envlist *e, size_t i)
{
	const char *eq = strchr(e->vars[i], '=');
	size_t mask = e->nslots - 1, h = name_hash(e->vars[i], (size_t)(eq - e->vars[i])) & mask;
	while (e->slots[h])
		h = (h + 1) & mask;
	e->slots[h] = i + 1;
}

static void index_rebuild(struct envlist *e)
{
	free(e->slots);
	e->slots = NULL;
	e->nslots = 0;
	if (e->n < ENVLIST_INDEX_FROM)
		return;
	e->nslots = 32;
	while (e->nslots < 4 * e->n)
		e->nslots *= 2;
	e->slots = xcalloc(e->nslots, sizeof *e->slots);
	for (size_t i = 0; i < e->n; i++)
		index_insert(e, i);
}

static long envlist_index(const struct envlist *e, const char *name)
{
	size_t n = strlen(name);
	if (!e->slots) {
		for (size_t i = 0; i < e->n; i++)
			if (!strncmp(e->vars[i], name, n) && e->vars[i][n] == '=')
				return (long)i;
		return -1;
	}
	size_t mask = e->nslots - 1;
	for (size_t h = name_hash(name, n) & mask; e->slots[h]; h = (h + 1) & mask) {
		size_t i = e->slots[h] - 1;
		if (!strncmp(e->vars[i], name, n) && e->vars[i][n] == '=')
			return (long)i;
	}
	return -1;
}

void envlist_set(struct envlist *e, const char *name, const char *value)
{
	long i = envlist_index(e, name);
	if (!value) {
		if (i >= 0) {
			free(e->vars[i]);
			memmove(&e->vars[i], &e->vars[i + 1], (e->n - (size_t)i) * sizeof *e->vars);
			e->n--;
			index_rebuild(e); /* the indexes after i moved */
		}
		return;
	}
	char *kv = xasprintf("%s=%s", name, value);
	if (i >= 0) {
		free(e->vars[i]);
		e->vars[i] = kv; /* the same name: its slot stands */
		return;
	}
	if (e->n + 2 > e->alloc) {
		e->alloc = e->alloc ? e->alloc * 2 : 32;
		e->vars = xrealloc(e->vars, e->alloc * sizeof *e->vars);
	}
	e->vars[e->n++] = kv;
	e->vars[e->n] = NULL;
	if (!e->slots || 2 * e->n > e->nslots)
		index_rebuild(e);
	else
		index_insert(e, e->n - 1);
}

const char *envlist_get(const struct envlist *e, const char *name)
{
	long i = envlist_index(e, name);
	return i >= 0 ? e->vars[i] + strlen(name) + 1 : NULL;
}

void envlist_from_environ(struct envlist *e)
{
	for (char **v = environ; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		if (!eq)
			continue;
		char *name = xstrndup(*v, (size_t)(eq - *v));
		envlist_set(e, name, eq + 1);
		free(name);
	}
}

void envlist_release(struct envlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->vars[i]);
	free(e->vars);
	free(e->slots);
	e->vars = NULL;
	e->slots = NULL;
	e->n = e->alloc = e->nslots = 0;
}

/* ---- expansion ------------------------------------------------------------------------ */

char *settings_expand(const char *s, const struct envlist *env, int strict, int *empty, char *err, size_t errlen)
{
	struct strbuf out = STRBUF_INIT;
	int refs = 0;
	if (empty)
		*empty = 0;
	for (const char *p = s; *p;) {
		if (p[0] == '\\' && p[1] == '$') {
			strbuf_addch(&out, '$');
			p += 2;
			continue;
		}
		if (p[0] != '$') {
			strbuf_addch(&out, *p++);
			continue;
		}
		const char *nb = NULL;
		size_t nl = 0;
		const char *after = NULL;
		if (p[1] == '{') {
			const char *q = p + 2;
			while (isalnum((unsigned char)*q) || *q == '_')
				q++;
			if (*q == '}' && q > p + 2) {
				nb = p + 2;
				nl = (size_t)(q - nb);
				after = q + 1;
			}
		} else if (p[1] >= 'A' && p[1] <= 'Z') {
			const char *q = p + 1;
			while ((*q >= 'A' && *q <= 'Z') || isdigit((unsigned char)*q) || *q == '_')
				q++;
			nb = p + 1;
			nl = (size_t)(q - nb);
			after = q;
		}
		if (!nb) {
			strbuf_addch(&out, *p++);
			continue;
		}
		char *name = xstrndup(nb, nl);
		const char *val = env ? envlist_get(env, name) : NULL;
		if (!val && strict) {
			fail(err, errlen, SMELT_ERR_CONFIG, "environment variable '%s' is not set", name);
			free(name);
			strbuf_release(&out);
			return NULL;
		}
		free(name);
		strbuf_addstr(&out, val ? val : "");
		refs++;
		p = after;
	}
	if (empty && refs && out.len == 0)
		*empty = 1;
	return strbuf_detach(&out);
}

/* ---- casting --------------------------------------------------------------------------- */

/* Python-literal fallback for object/array strings: 'x' -> "x", True/False/None. */
static cJSON *parse_pyliteral(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			strbuf_addch(&sb, '"');
			for (p++; *p && *p != '\''; p++) {
				if (*p == '"')
					strbuf_addch(&sb, '\\');
				if (*p == '\\' && p[1]) {
					strbuf_addch(&sb, *p++);
				}
				strbuf_addch(&sb, *p);
			}
			strbuf_addch(&sb, '"');
			if (!*p)
				break;
			continue;
		}
		if (!strncmp(p, "True", 4) && !isalnum((unsigned char)p[4])) {
			strbuf_addstr(&sb, "true");
			p += 3;
		} else if (!strncmp(p, "False", 5) && !isalnum((unsigned char)p[5])) {
			strbuf_addstr(&sb, "false");
			p += 4;
		} else if (!strncmp(p, "None", 4) && !isalnum((unsigned char)p[4])) {
			strbuf_addstr(&sb, "null");
			p += 3;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	cJSON *j = json_parse_exact(sb.buf);
	strbuf_release(&sb);
	return j;
}

/*
 * The value as shown in a cast error: quoted for ordinary settings, never
 * for a sensitive one (or an unknown definition), whose value would
 * otherwise reach the terminal, run.log and the runs table (issue 18).
 */
static const char *cast_shown(const struct setting_def *def, const char *txt, char *buf, size_t buflen)
{
	if (!def || def->sensitive || def->kind == KIND_PASSWORD || def->kind == KIND_OAUTH)
		return "; the value is not shown as the setting is sensitive";
	snprintf(buf, buflen, ", not '%.64s%s'", txt, strlen(txt) > 64 ? "..." : "");
	return buf;
}

cJSON *settings_cast(const cJSON *v, enum setting_kind kind, const struct setting_def *def, char *err, size_t errlen)
{
	const char *name = def && def->name ? def->name : "setting";
	char shown[96];
	if (!v)
		return cJSON_CreateNull();
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		switch (kind) {
		case KIND_BOOLEAN: {
			char low[8] = { 0 };
			size_t n = strlen(s);
			for (size_t i = 0; i < n && i < sizeof low - 1; i++)
				low[i] = (char)tolower((unsigned char)s[i]);
			int t = n < sizeof low &&
			        (!strcmp(low, "true") || !strcmp(low, "1") || !strcmp(low, "yes") || !strcmp(low, "on"));
			return cJSON_CreateBool(t);
		}
		case KIND_INTEGER: {
			char *end;
			errno = 0;
			const char *b = s;
			while (isspace((unsigned char)*b))
				b++;
			long long x = strtoll(b, &end, 10);
			while (isspace((unsigned char)*end))
				end++;
			if (!*b || *end || errno) {
				fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be an integer%s", name,
				     cast_shown(def, s, shown, sizeof shown));
				return NULL;
			}
			/* the digits as written (an integer above 2^53 does not fit a double) */
			char digits[32];
			snprintf(digits, sizeof digits, "%lld", x);
			return json_number_from_text(digits, strlen(digits));
		}
		case KIND_DECIMAL: {
			char *end;
			const char *b = s;
			while (isspace((unsigned char)*b))
				b++;
			double x = strtod(b, &end);
			const char *num_end = end;
			while (isspace((unsigned char)*end))
				end++;
			if (!*b || *end || !isfinite(x)) {
				fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be a number%s", name,
				     cast_shown(def, s, shown, sizeof shown));
				return NULL;
			}
			cJSON *exact = json_number_from_text(b, (size_t)(num_end - b)); /* keeps long numbers' text */
			return exact ? exact : cJSON_CreateNumber(x);
		}
		case KIND_ARRAY:
		case KIND_OBJECT: {
			cJSON *j = json_parse_exact(s);
			if (!j)
				j = parse_pyliteral(s);
			if (!j || (kind == KIND_ARRAY ? !cJSON_IsArray(j) : !cJSON_IsObject(j))) {
				cJSON_Delete(j);
				fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be a JSON %s", name,
				     kind == KIND_ARRAY ? "array" : "object");
				return NULL;
			}
			return j;
		}
		default:
			break;
		}
	} else if (kind == KIND_BOOLEAN && cJSON_IsNumber(v)) {
		return cJSON_CreateBool(v->valuedouble != 0);
	}
	if (kind == KIND_OPTIONS && def && cJSON_IsArray(def->options) && !cJSON_IsNull(v)) {
		int ok = 0;
		for (const cJSON *o = def->options->child; o; o = o->next) {
			const cJSON *ov = cJSON_GetObjectItemCaseSensitive(o, "value");
			if (ov && json_equal(ov, v))
				ok = 1;
		}
		if (!ok) {
			char *txt = settings_value_to_string(v);
			fail(err, errlen, SMELT_ERR_CONFIG, "'%s' must be one of its options%s", name,
			     cast_shown(def, txt ? txt : "", shown, sizeof shown));
			free(txt);
			return NULL;
		}
	}
	return cJSON_Duplicate(v, 1);
}

char *settings_value_to_string(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (cJSON_IsTrue(v))
		return xstrdup("true");
	if (cJSON_IsFalse(v))
		return xstrdup("false");
	struct strbuf sb = STRBUF_INIT;
	json_dump(&sb, v, -1);
	return strbuf_detach(&sb);
}
