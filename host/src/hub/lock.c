/* lock: Meltano-compatible lock files; see lock.h. */
#include "hub/lock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Meltano's canonical orders (meltano/meltano: src/meltano/core/plugin/base.py,
 * setting_definition.py).  Keep them in step with MELTANO.md section 9.
 */
static const char *const top_order[] = {
	"plugin_type", "name", "namespace", "variant", "label", "docs", "repo", "pip_url", "python",
	"executable", "description", "logo_url", "capabilities", "settings_group_validation",
	"settings", "commands", "requires", "requires_meltano", "env", "supported_python_versions",
	NULL,
};
static const char *const never_written[] = { "hidden", "deprecated", "is_default_variant", NULL };
static const char *const setting_order[] = {
	"name", "aliases", "env", "env_aliases", "kind", "value", "label", "documentation",
	"description", "tooltip", "options", "oauth", "placeholder", "env_specific", "hidden",
	"sensitive", "value_processor", "value_post_processor", NULL,
};
static const char *const command_order[] = { "args", "description", "executable", "container_spec",
	                                      NULL };

static int in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (!strcmp(*list, key))
			return 1;
	return 0;
}

/* ---- parsing with float marks ---- */

struct numscan {
	const char *p, *end;
};

/* The next number token of the text (outside strings): 1 when it was written as a float, -1 at the end. */
static int next_number(struct numscan *s)
{
	while (s->p < s->end) {
		char c = *s->p;
		if (c == '"') {
			for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
				if (*s->p == '\\' && s->p + 1 < s->end)
					s->p++;
			s->p++;
			continue;
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			int isfloat = 0;
			while (s->p < s->end && strchr("0123456789+-.eE", *s->p) && *s->p) {
				if (*s->p == '.' || *s->p == 'e' || *s->p == 'E')
					isfloat = 1;
				s->p++;
			}
			return isfloat;
		}
		s->p++;
	}
	return -1;
}

/* Pre-order walk: cJSON keeps document order, so the n-th number node is the n-th number token. */
static void mark_floats(cJSON *v, struct numscan *s)
{
	for (; v; v = v->next) {
		if (cJSON_IsNumber(v)) {
			if (next_number(s) == 1)
				v->type |= LOCK_JSON_FLOAT;
		} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
			mark_floats(v->child, s);
		}
	}
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The first key that stands twice in one object of v, or NULL.  JSON readers
 * disagree on which one wins (cJSON keeps both, Python the last), so a lock or
 * definition with one would not read back as it was written: it is refused.
 * Sorting keeps this linear-logarithmic in the size of an object.
 */
static const char *duplicate_key(const cJSON *v)
{
	for (; v; v = v->next) {
		if (cJSON_IsObject(v) && v->child) {
			size_t n = 0, i = 0;
			for (const cJSON *c = v->child; c; c = c->next)
				n++;
			const char **keys = xcalloc(n, sizeof *keys);
			for (const cJSON *c = v->child; c; c = c->next)
				keys[i++] = c->string ? c->string : "";
			qsort(keys, n, sizeof *keys, key_cmp);
			const char *dup = NULL;
			for (i = 1; i < n && !dup; i++)
				if (!strcmp(keys[i - 1], keys[i]))
					dup = keys[i];
			free(keys);
			if (dup)
				return dup;
		}
		if ((cJSON_IsObject(v) || cJSON_IsArray(v))) {
			const char *dup = duplicate_key(v->child);
			if (dup)
				return dup;
		}
	}
	return NULL;
}

/* 1 when v holds a number that is not finite (1e999 reads as infinity): no JSON reader reads it back. */
static int has_nonfinite(const cJSON *v)
{
	for (; v; v = v->next) {
		if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
			return 1;
		if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && has_nonfinite(v->child))
			return 1;
	}
	return 0;
}

cJSON *lock_parse_json(const char *text, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	/* JSON is UTF-8 (RFC 8259): a byte that is not would be replaced when written, and two keys could collide */
	size_t bad = json_utf8_invalid(text, len);
	if (bad != (size_t)-1) {
		fail(err, errlen, -1, "invalid UTF-8 at byte %zu", bad);
		return NULL;
	}
	/* a NUL (raw or \u0000) would cut a name short, so the file would not read back as written */
	if ((bad = json_string_trouble(text, len)) != (size_t)-1) {
		size_t line = 1, col = 1;
		for (size_t i = 0; i < bad; i++, col++)
			if (text[i] == '\n')
				line++, col = 0;
		fail(err, errlen, -1, "invalid JSON at line %zu, column %zu: a control character or \\u0000 in a string",
		     line, col);
		return NULL;
	}
	cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!v) {
		size_t off = end ? (size_t)(end - text) : 0, line = 1, col = 1;
		for (size_t i = 0; i < off && i < len; i++, col++)
			if (text[i] == '\n')
				line++, col = 0;
		fail(err, errlen, -1, "invalid JSON at line %zu, column %zu", line, col);
		return NULL;
	}
	const char *dup = duplicate_key(v);
	if (dup) {
		fail(err, errlen, -1, "invalid JSON: the key '%s' stands twice in one object", dup);
		cJSON_Delete(v);
		return NULL;
	}
	struct numscan s = { text, end && end <= text + len ? end : text + len };
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		mark_floats(v->child, &s);
	else if (cJSON_IsNumber(v) && next_number(&s) == 1)
		v->type |= LOCK_JSON_FLOAT;
	return v;
}

/* ---- canonical form ---- */

/* Meltano drops falsy values: null, "", [], {}, 0 -- but not boolean false. */
static int falsy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return 1;
	if (cJSON_IsString(v))
		return !v->valuestring || !*v->valuestring;
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return v->child == NULL;
	if (cJSON_IsNumber(v))
		return v->valuedouble == 0;
	return 0;
}

static void add_copy(cJSON *obj, const char *key, const cJSON *v)
{
	cJSON_AddItemToObject(obj, key, cJSON_Duplicate(v, 1));
}

static const char *str_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *canonical_setting(const cJSON *s)
{
	if (!cJSON_IsObject(s))
		return cJSON_Duplicate(s, 1);
	cJSON *out = cJSON_CreateObject();
	const char *kind = str_of(s, "kind");
	const cJSON *sens = cJSON_GetObjectItemCaseSensitive(s, "sensitive");
	int secret_kind = kind && (!strcmp(kind, "password") || !strcmp(kind, "oauth"));
	/*
	 * Meltano's SettingDefinition: a password/oauth kind implies
	 * sensitive; when sensitive was already true, the kind becomes string.
	 */
	const char *out_kind = secret_kind && cJSON_IsTrue(sens) ? "string" : kind;
	int add_sensitive = secret_kind;
	int add_hidden = kind && !strcmp(kind, "hidden");

	for (const char *const *k = setting_order; *k; k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, *k);
		if (!strcmp(*k, "kind")) {
			if (out_kind && *out_kind)
				cJSON_AddStringToObject(out, "kind", out_kind);
		} else if (!strcmp(*k, "value")) {
			if (v && !cJSON_IsNull(v))
				add_copy(out, *k, v);
		} else if (!strcmp(*k, "sensitive") && add_sensitive) {
			cJSON_AddTrueToObject(out, "sensitive");
		} else if (!strcmp(*k, "hidden") && add_hidden) {
			cJSON_AddTrueToObject(out, "hidden");
		} else if (!falsy(v)) {
			add_copy(out, *k, v);
		}
	}
	for (const cJSON *c = s->child; c; c = c->next)
		if (c->string && !in_list(setting_order, c->string) && !falsy(c) &&
		    !cJSON_GetObjectItemCaseSensitive(out, c->string))
			add_copy(out, c->string, c);
	return out;
}

static cJSON *canonical_command(const cJSON *cmd)
{
	if (!cJSON_IsObject(cmd))
		return cJSON_Duplicate(cmd, 1);
	cJSON *out = cJSON_CreateObject();
	for (const char *const *k = command_order; *k; k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cmd, *k);
		if (!falsy(v))
			add_copy(out, *k, v);
	}
	for (const cJSON *c = cmd->child; c; c = c->next)
		if (c->string && !in_list(command_order, c->string) && !falsy(c))
			add_copy(out, c->string, c);
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(out, "args");
	if (out->child && !out->child->next && out->child == args && cJSON_IsString(args)) {
		cJSON *s = cJSON_CreateString(args->valuestring);
		cJSON_Delete(out);
		return s;
	}
	return out;
}

cJSON *lock_canonical(const cJSON *def, const char *plugin_type)
{
	if (!cJSON_IsObject(def))
		return NULL;
	const char *name = str_of(def, "name");
	if (!name || !*name)
		return NULL;
	cJSON *out = cJSON_CreateObject();
	for (const char *const *k = top_order; *k; k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(def, *k);
		if (!strcmp(*k, "plugin_type") && plugin_type) {
			cJSON_AddStringToObject(out, *k, plugin_type);
		} else if (!strcmp(*k, "namespace") && falsy(v)) {
			/* Meltano's default namespace: the name with '-' as '_'. */
			char *ns = xstrdup(name);
			for (char *p = ns; *p; p++)
				if (*p == '-')
					*p = '_';
			cJSON_AddStringToObject(out, *k, ns);
			free(ns);
		} else if (!strcmp(*k, "label") && falsy(v)) {
			cJSON_AddStringToObject(out, *k, name);
		} else if (!strcmp(*k, "settings") && cJSON_IsArray(v) && v->child) {
			cJSON *arr = cJSON_AddArrayToObject(out, *k);
			for (const cJSON *s = v->child; s; s = s->next)
				cJSON_AddItemToArray(arr, canonical_setting(s));
		} else if (!strcmp(*k, "commands") && cJSON_IsObject(v) && v->child) {
			cJSON *obj = cJSON_CreateObject();
			for (const cJSON *c = v->child; c; c = c->next) {
				cJSON *cc = canonical_command(c);
				if (falsy(cc))
					cJSON_Delete(cc);
				else
					cJSON_AddItemToObject(obj, c->string, cc);
			}
			if (falsy(obj))
				cJSON_Delete(obj);
			else
				cJSON_AddItemToObject(out, *k, obj);
		} else if (!falsy(v)) {
			add_copy(out, *k, v);
		}
	}
	for (const cJSON *c = def->child; c; c = c->next)
		if (c->string && !in_list(top_order, c->string) && !in_list(never_written, c->string) &&
		    !falsy(c) && !cJSON_GetObjectItemCaseSensitive(out, c->string))
			add_copy(out, c->string, c);
	return out;
}

/* ---- output ---- */

/* Python's repr of a float/int as json.dumps writes it. */
static void add_number(struct strbuf *sb, const cJSON *v)
{
	double d = v->valuedouble;
	char buf[64];
	if (isnan(d) || isinf(d)) {
		strbuf_addstr(sb, isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	int isfloat = (v->type & LOCK_JSON_FLOAT) != 0;
	if (d == floor(d) && fabs(d) < 1e16) {
		snprintf(buf, sizeof buf, isfloat ? "%.1f" : "%.0f", d);
		strbuf_addstr(sb, buf);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* Python writes 1e+16 as "1e+16" and 1.5e-07 as "1.5e-07": %g agrees. */
	strbuf_addstr(sb, buf);
}

static void newline(struct strbuf *sb, int depth)
{
	strbuf_addch(sb, '\n');
	for (int i = 0; i < depth * 2; i++)
		strbuf_addch(sb, ' ');
}

static void dump(struct strbuf *sb, const cJSON *v, int depth)
{
	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		int obj = cJSON_IsObject(v);
		strbuf_addch(sb, obj ? '{' : '[');
		if (!v->child) {
			strbuf_addch(sb, obj ? '}' : ']');
			return;
		}
		for (const cJSON *c = v->child; c; c = c->next) {
			newline(sb, depth + 1);
			if (obj) {
				json_quote_ascii(sb, c->string ? c->string : "");
				strbuf_addstr(sb, ": ");
			}
			dump(sb, c, depth + 1);
			if (c->next)
				strbuf_addch(sb, ',');
		}
		newline(sb, depth);
		strbuf_addch(sb, obj ? '}' : ']');
	} else if (cJSON_IsString(v)) {
		json_quote_ascii(sb, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		add_number(sb, v);
	} else if (cJSON_IsTrue(v)) {
		strbuf_addstr(sb, "true");
	} else if (cJSON_IsFalse(v)) {
		strbuf_addstr(sb, "false");
	} else if (cJSON_IsRaw(v)) {
		strbuf_addstr(sb, v->valuestring);
	} else {
		strbuf_addstr(sb, "null");
	}
}

void lock_dump(struct strbuf *out, const cJSON *v)
{
	dump(out, v, 0);
}

int lock_serialize(const cJSON *def, const char *plugin_type, struct strbuf *out, char *err,
                   size_t errlen)
{
	/* a lock names its variant by a string (the file name holds it): a number such as 0 would be
	 * read as "0" but left out of the lock, so it is refused, as is a setting without a string name */
	if (has_nonfinite(def))
		return fail(err, errlen, -1, "cannot lock a definition with a number too large for JSON");
	const cJSON *variant = cJSON_GetObjectItemCaseSensitive(def, "variant");
	if (variant && !cJSON_IsString(variant) && !cJSON_IsNull(variant))
		return fail(err, errlen, -1, "cannot lock a definition whose 'variant' is not a string");
	const cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(def, "settings")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
		if (!cJSON_IsString(name))
			return fail(err, errlen, -1, "cannot lock a definition with a setting whose 'name' is not a string");
		/* an empty name is dropped as falsy when written, so the lock would not read back */
		if (!*name->valuestring)
			return fail(err, errlen, -1, "cannot lock a definition with a setting whose 'name' is empty");
	}
	cJSON *c = lock_canonical(def, plugin_type);
	if (!c)
		return fail(err, errlen, -1, "cannot lock a definition without a name");
	dump(out, c, 0);
	strbuf_addch(out, '\n');
	cJSON_Delete(c);
	return 0;
}

/* ---- files ---- */

char *lock_path(const char *root, const char *plugin_type, const char *name, const char *variant)
{
	if (variant && *variant)
		return xasprintf("%s/plugins/%s/%s--%s.lock", root, plugin_type, name, variant);
	return xasprintf("%s/plugins/%s/%s.lock", root, plugin_type, name);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *lock_find(const char *root, const char *plugin_type, const char *name, const char *variant)
{
	char *path = lock_path(root, plugin_type, name, variant);
	if (file_exists(path) || (variant && *variant)) {
		if (file_exists(path))
			return path;
		free(path);
		return NULL;
	}
	free(path);
	char *dir = xasprintf("%s/plugins/%s", root, plugin_type);
	DIR *d = opendir(dir);
	char *best = NULL;
	size_t nlen = strlen(name);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > nlen + 7 && !strncmp(e->d_name, name, nlen) && !strncmp(e->d_name + nlen, "--", 2) &&
		    !strcmp(e->d_name + len - 5, ".lock")) {
			char *cand = e->d_name;
			if (!best || cmpstr(&cand, &best) < 0) {
				free(best);
				best = xstrdup(cand);
			}
		}
	}
	if (d)
		closedir(d);
	char *res = best ? xasprintf("%s/%s", dir, best) : NULL;
	free(best);
	free(dir);
	return res;
}

cJSON *lock_read(const char *path, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	char perr[128];
	char rerr[SMELT_ERRBUF_SIZE];
	if (read_regular_file(path, FS_CAP_JSON, &sb, rerr, sizeof rerr) != 0) { /* regular files under a cap only */
		fail(err, errlen, -1, "cannot read lock file: %s", rerr);
		strbuf_release(&sb);
		return NULL;
	}
	cJSON *v = lock_parse_json(sb.buf, sb.len, perr, sizeof perr);
	strbuf_release(&sb);
	if (!v) {
		fail(err, errlen, -1, "cannot read lock file '%s': %s", path, perr);
		return NULL;
	}
	if (!cJSON_IsObject(v) || !str_of(v, "name")) {
		cJSON_Delete(v);
		fail(err, errlen, -1, "lock file '%s' holds no plugin definition", path);
		return NULL;
	}
	return v;
}

int lock_write(const char *root, const char *plugin_type, const cJSON *def, char **path_out,
               char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	if (lock_serialize(def, plugin_type, &sb, err, errlen) != 0)
		return -1;
	const char *variant = str_of(def, "variant");
	char nerr[SMELT_ERRBUF_SIZE];
	/* the name and variant come from the Hub: they must stay one path component, beneath root */
	if (name_check("plugin", str_of(def, "name"), nerr, sizeof nerr) ||
	    (variant && name_check("variant", variant, nerr, sizeof nerr))) {
		strbuf_release(&sb);
		return fail(err, errlen, -1, "cannot write a lock file: %s", nerr);
	}
	char *path = lock_path(root, plugin_type, str_of(def, "name"), variant);
	int rc = 0;
	if (fs_write_under(root, path, sb.buf, sb.len, 0644, 0755) != 0)
		rc = fail(err, errlen, -1, "cannot write lock file '%s': %s", path, fs_beneath_strerror(errno));
	strbuf_release(&sb);
	if (rc == 0 && path_out)
		*path_out = path;
	else
		free(path);
	return rc;
}
